//! PyRadiomics' provenance columns (`diagnostics_*`): what was read and with which settings,
//! archived beside each row of features.

use std::collections::BTreeMap;
use std::path::Path;

use adamss_io::{read_header, ReadOptions, Volume};
use sha1::{Digest, Sha1};

use crate::error::Result;
use crate::params::{ExtractionPlan, ImageTypeSelection};
use crate::pixel::PixelType;
use crate::resample::ResampledImage;
use crate::roi::{bounding_box, label_absent};

/// PyRadiomics' `diagnostics_*` entries for an original image and its mask
/// ([`ExtractionPlan::diagnostics_files`]), as `(name, value)` pairs in PyRadiomics' order,
/// values as JSON: the versions, the settings and image types, then for the image its SHA-1
/// (SimpleITK's `sitk.Hash`: of the voxels in their stored type), dimensionality, spacing,
/// size, mean, minimum and maximum, and for the mask its SHA-1 (of the mask as 32-bit
/// integers, as PyRadiomics holds it), spacing, size, the label's bounding box (lower x, y, z
/// then sizes), voxel count, number of 26-connected components, centre of mass as a
/// continuous index and as a physical point (LPS, as SimpleITK gives it). Then, as PyRadiomics
/// adds them: `Image-interpolated_*` and `Mask-interpolated_*` (with the image's mean, minimum
/// and maximum inside the ROI) after `resampledPixelSpacing` — the resampled pair, or the crop
/// to the ROI's box + `padDistance` when the spacing is the image's own; `Mask-corrected_*`
/// after `correctMask` took the mask onto the image's grid; `Mask-resegmented_*` after
/// `resegmentRange`.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostics {
    /// The entries, named as PyRadiomics names them.
    pub entries: Vec<(String, serde_json::Value)>,
}

impl Diagnostics {
    /// The entry named `name` (`"diagnostics_Image-original_Mean"`, …).
    pub fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The entries as one JSON object.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::Value::Object(self.entries.iter().cloned().collect())
    }
}

/// SHA-1 of the voxels, x fastest (numpy's C order of the (z, y, x) array).
fn sha1_of<T: Copy>(data: &ndarray::Array3<T>, bytes: impl Fn(T, &mut Vec<u8>)) -> String {
    let (nx, ny, nz) = data.dim();
    let mut buf = Vec::with_capacity(nx * ny * nz * 4);
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                bytes(data[[i, j, k]], &mut buf);
            }
        }
    }
    Sha1::digest(&buf)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl ExtractionPlan {
    /// PyRadiomics' `diagnostics_*` for `image` and `mask` files with this plan's settings
    /// (its top-level `label`). A 2-D pair ([`ExtractionPlan::for_2d_image`]) reports
    /// `Dimensionality` 2D, its sizes and spacings with the unit third axis it is held with.
    pub fn diagnostics_files(&self, image: &Path, mask: &Path) -> Result<Diagnostics> {
        let info = read_header(image)?;
        if crate::params::two_d_pair(image, &info, mask)? {
            return self.for_2d_image().diagnostics_of(image, mask, info, true);
        }
        self.diagnostics_of(image, mask, info, false)
    }

    fn diagnostics_of(
        &self,
        image: &Path,
        mask: &Path,
        info: adamss_io::NiftiInfo,
        two_d: bool,
    ) -> Result<Diagnostics> {
        use serde_json::{json, Value};
        let stored = PixelType::from_nifti(&info).unwrap_or(PixelType::Float32);
        let read = ReadOptions {
            finite_only: false,
            ..ReadOptions::default()
        };
        let mut img = Volume::<f64>::read_with(image, &read)?;
        let mut msk = adamss_io::read_mask_label(mask, image, self.settings.label)?;
        if two_d {
            img = crate::params::unit_depth(img)?;
            msk = crate::params::unit_depth(msk)?;
        }
        let mut e: Vec<(String, Value)> = Vec::new();
        let mut put = |k: &str, v: Value| e.push((format!("diagnostics_{k}"), v));
        put(
            "Versions_adamss-radiomics",
            json!(env!("CARGO_PKG_VERSION")),
        );
        put("Versions_PyRadiomics-compatible", json!("3.1.4"));
        put(
            "Configuration_Settings",
            serde_json::to_value(&self.settings).unwrap_or(Value::Null),
        );
        let types: BTreeMap<String, Value> = (self.image_types.iter())
            .map(|(t, _)| {
                let name = match t {
                    ImageTypeSelection::Original => "Original".to_string(),
                    ImageTypeSelection::LoG => "LoG".to_string(),
                    ImageTypeSelection::Filtered(k) => k.config_name().to_string(),
                };
                (name, json!({}))
            })
            .collect();
        put("Configuration_EnabledImageTypes", json!(types));
        // SimpleITK 2.5.7 reads NaN and ±Inf in a NIfTI file as 0, so the original image's
        // hash and statistics are of those zeros (the extraction refuses non-finite values
        // wherever the features would read them).
        let zeroed;
        let data = if img.data().iter().all(|v| v.is_finite()) {
            img.data()
        } else {
            zeroed = img.data().mapv(|v| if v.is_finite() { v } else { 0.0 });
            &zeroed
        };
        let hash = match stored {
            PixelType::UInt8 => sha1_of(data, |v, b| b.push(v as u8)),
            PixelType::Int8 => sha1_of(data, |v, b| b.extend((v as i8).to_le_bytes())),
            PixelType::UInt16 => sha1_of(data, |v, b| b.extend((v as u16).to_le_bytes())),
            PixelType::Int16 => sha1_of(data, |v, b| b.extend((v as i16).to_le_bytes())),
            PixelType::UInt32 => sha1_of(data, |v, b| b.extend((v as u32).to_le_bytes())),
            PixelType::Int32 => sha1_of(data, |v, b| b.extend((v as i32).to_le_bytes())),
            PixelType::Float32 => sha1_of(data, |v, b| b.extend((v as f32).to_le_bytes())),
            PixelType::Float64 => sha1_of(data, |v, b| b.extend(v.to_le_bytes())),
        };
        put("Image-original_Hash", json!(hash));
        put(
            "Image-original_Dimensionality",
            json!(if two_d { "2D" } else { "3D" }),
        );
        image_elements(&mut put, "original", data, &img.geometry().spacing);
        let m = msk.data();
        put(
            "Mask-original_Hash",
            json!(sha1_of(m, |v, b| b.extend(u32::from(v).to_le_bytes()))),
        );
        let label = self.settings.label;
        mask_elements(&mut put, "original", None, &msk, label)?;
        // PyRadiomics' loadImage and checkMask, as `ExtractionPlan::run_stored` follows them:
        // the resampled image and mask under the prefix "interpolated"; with a spacing equal
        // to the image's, the crop to the ROI's box + padDistance instead (after taking a mask
        // on another grid onto the image's); without resampling, a mask correctMask took onto
        // the image's grid, under "corrected".
        let settings = &self.settings;
        let resampling = settings.resampled_pixel_spacing.is_some();
        // The image and mask the extraction then works on.
        let (values, current) = if let Some(r) =
            crate::resample::resample(&img, &msk, settings, stored)?
        {
            let values = match r.image {
                ResampledImage::Single(v) => v.into_parts().0.mapv(f64::from),
                ResampledImage::Double(v) => v.into_parts().0,
            };
            image_elements(
                &mut put,
                "interpolated",
                &values,
                &r.mask.geometry().spacing,
            );
            mask_elements(&mut put, "interpolated", Some(&values), &r.mask, label)?;
            (values, r.mask)
        } else {
            let mask_used = crate::roi::mask_on_image_grid(&img, &msk, settings)?;
            let corrected = matches!(mask_used, std::borrow::Cow::Owned(_));
            let mask_used = mask_used.into_owned();
            let values = crate::roi::image_values(&img, settings)?;
            match crate::roi::crop_window(&img, &mask_used, settings)?.filter(|_| resampling) {
                Some((lo, hi)) => {
                    let dims = (hi[0] - lo[0] + 1, hi[1] - lo[1] + 1, hi[2] - lo[2] + 1);
                    let at = |(i, j, k): (usize, usize, usize)| [i + lo[0], j + lo[1], k + lo[2]];
                    let cut = ndarray::Array3::from_shape_fn(dims, |p| values[at(p)]);
                    let cut_mask =
                        ndarray::Array3::from_shape_fn(dims, |p| mask_used.data()[at(p)]);
                    let mut geometry = *mask_used.geometry();
                    geometry.origin = geometry.index_to_world(lo.map(|v| v as f64));
                    let cut_mask = Volume::new(cut_mask, geometry)?;
                    image_elements(&mut put, "interpolated", &cut, &geometry.spacing);
                    mask_elements(&mut put, "interpolated", Some(&cut), &cut_mask, label)?;
                    (cut, cut_mask)
                }
                None => {
                    if corrected {
                        mask_elements(&mut put, "corrected", Some(&values), &mask_used, label)?;
                    }
                    (values, mask_used)
                }
            }
        };
        if let Some(m) = crate::roi::resegment_values(&values, &current, settings)? {
            mask_elements(&mut put, "resegmented", Some(&values), &m, label)?;
        }
        Ok(Diagnostics { entries: e })
    }
}

/// PyRadiomics' `addImageElements`: spacing, size, mean, minimum and maximum of `data`.
fn image_elements(
    put: &mut impl FnMut(&str, serde_json::Value),
    prefix: &str,
    data: &ndarray::Array3<f64>,
    spacing: &[f64; 3],
) {
    use serde_json::json;
    put(&format!("Image-{prefix}_Spacing"), json!(spacing));
    put(&format!("Image-{prefix}_Size"), json!(data.shape()));
    let n = data.len() as f64;
    put(&format!("Image-{prefix}_Mean"), json!(data.sum() / n));
    put(
        &format!("Image-{prefix}_Minimum"),
        json!(data.iter().copied().fold(f64::INFINITY, f64::min)),
    );
    put(
        &format!("Image-{prefix}_Maximum"),
        json!(data.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
    );
}

/// PyRadiomics' `addMaskElements`: spacing, size, the label's bounding box (lower x, y, z then
/// sizes), voxel count, 26-connected components, centre of mass (continuous index, and LPS
/// point), and — given the image on the mask's grid — the mean, minimum and maximum inside.
fn mask_elements(
    put: &mut impl FnMut(&str, serde_json::Value),
    prefix: &str,
    image: Option<&ndarray::Array3<f64>>,
    mask: &Volume<u8>,
    label: u8,
) -> Result<()> {
    use serde_json::json;
    let m = mask.data();
    put(
        &format!("Mask-{prefix}_Spacing"),
        json!(mask.geometry().spacing),
    );
    put(&format!("Mask-{prefix}_Size"), json!(mask.shape()));
    let (lo, hi, count) = bounding_box(m, label);
    if count == 0 {
        return Err(label_absent(m, label));
    }
    let size = [0, 1, 2].map(|a| hi[a] + 1 - lo[a]);
    put(
        &format!("Mask-{prefix}_BoundingBox"),
        json!([lo[0], lo[1], lo[2], size[0], size[1], size[2]]),
    );
    put(&format!("Mask-{prefix}_VoxelNum"), json!(count));
    put(
        &format!("Mask-{prefix}_VolumeNum"),
        json!(components(m, label)),
    );
    let mut sum = [0.0f64; 3];
    let (mut total, mut min, mut max) = (0.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for ((i, j, k), &v) in m.indexed_iter() {
        if v == label {
            sum[0] += i as f64;
            sum[1] += j as f64;
            sum[2] += k as f64;
            if let Some(img) = image {
                let x = img[[i, j, k]];
                total += x;
                min = min.min(x);
                max = max.max(x);
            }
        }
    }
    let centre = sum.map(|s| s / count as f64);
    put(&format!("Mask-{prefix}_CenterOfMassIndex"), json!(centre));
    let world = mask.geometry().index_to_world(centre);
    put(
        &format!("Mask-{prefix}_CenterOfMass"),
        json!([-world[0], -world[1], world[2]]),
    );
    if image.is_some() {
        put(&format!("Mask-{prefix}_Mean"), json!(total / count as f64));
        put(&format!("Mask-{prefix}_Minimum"), json!(min));
        put(&format!("Mask-{prefix}_Maximum"), json!(max));
    }
    Ok(())
}

/// Connected components of `label`, 26-connected (SimpleITK's `FullyConnectedOn`).
fn components(m: &ndarray::Array3<u8>, label: u8) -> usize {
    let (nx, ny, nz) = m.dim();
    let mut seen = ndarray::Array3::from_elem((nx, ny, nz), false);
    let mut count = 0;
    let mut stack = Vec::new();
    for ((i, j, k), &v) in m.indexed_iter() {
        if v != label || seen[[i, j, k]] {
            continue;
        }
        count += 1;
        seen[[i, j, k]] = true;
        stack.push([i, j, k]);
        while let Some(p) = stack.pop() {
            for d in 0..27usize {
                let off = [d % 3, d / 3 % 3, d / 9].map(|o| o as i64 - 1);
                let q = [0, 1, 2].map(|a| p[a] as i64 + off[a]);
                if q.iter()
                    .zip([nx, ny, nz])
                    .any(|(&c, n)| c < 0 || c >= n as i64)
                {
                    continue;
                }
                let q = q.map(|c| c as usize);
                if m[q] == label && !seen[q] {
                    seen[q] = true;
                    stack.push(q);
                }
            }
        }
    }
    count
}
