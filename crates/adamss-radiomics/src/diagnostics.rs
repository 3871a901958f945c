//! PyRadiomics' provenance columns (`diagnostics_*`): what was read and with which settings,
//! archived beside each row of features.

use std::collections::BTreeMap;
use std::path::Path;

use adamss_io::{read_header, ReadOptions, Volume};
use sha1::{Digest, Sha1};

use crate::error::Result;
use crate::params::{ExtractionPlan, ImageTypeSelection};
use crate::pixel::PixelType;
use crate::roi::{bounding_box, label_absent};

/// PyRadiomics' `diagnostics_*` entries for an original image and its mask
/// ([`ExtractionPlan::diagnostics_files`]), as `(name, value)` pairs in PyRadiomics' order,
/// values as JSON: the versions, the settings and image types, then for the image its SHA-1
/// (SimpleITK's `sitk.Hash`: of the voxels in their stored type), dimensionality, spacing,
/// size, mean, minimum and maximum, and for the mask its SHA-1 (of the mask as 32-bit
/// integers, as PyRadiomics holds it), spacing, size, the label's bounding box (lower x, y, z
/// then sizes), voxel count, number of 26-connected components, centre of mass as a
/// continuous index and as a physical point (LPS, as SimpleITK gives it).
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
    /// (its top-level `label`).
    pub fn diagnostics_files(&self, image: &Path, mask: &Path) -> Result<Diagnostics> {
        use serde_json::{json, Value};
        let info = read_header(image)?;
        let stored = PixelType::from_nifti(&info).unwrap_or(PixelType::Float32);
        let read = ReadOptions {
            finite_only: false,
            ..ReadOptions::default()
        };
        let img = Volume::<f64>::read_with(image, &read)?;
        let msk = Volume::<u8>::read(mask)?;
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
                    ImageTypeSelection::Filtered(k) => format!("{k:?}"),
                };
                (name, json!({}))
            })
            .collect();
        put("Configuration_EnabledImageTypes", json!(types));
        let data = img.data();
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
        put("Image-original_Dimensionality", json!("3D"));
        put("Image-original_Spacing", json!(img.geometry().spacing));
        put("Image-original_Size", json!(img.shape()));
        let n = data.len() as f64;
        put("Image-original_Mean", json!(data.sum() / n));
        put(
            "Image-original_Minimum",
            json!(data.iter().copied().fold(f64::INFINITY, f64::min)),
        );
        put(
            "Image-original_Maximum",
            json!(data.iter().copied().fold(f64::NEG_INFINITY, f64::max)),
        );
        let m = msk.data();
        put(
            "Mask-original_Hash",
            json!(sha1_of(m, |v, b| b.extend(u32::from(v).to_le_bytes()))),
        );
        put("Mask-original_Spacing", json!(msk.geometry().spacing));
        put("Mask-original_Size", json!(msk.shape()));
        let label = self.settings.label;
        let (lo, hi, count) = bounding_box(m, label);
        if count == 0 {
            return Err(label_absent(m, label));
        }
        let size = [0, 1, 2].map(|a| hi[a] + 1 - lo[a]);
        put(
            "Mask-original_BoundingBox",
            json!([lo[0], lo[1], lo[2], size[0], size[1], size[2]]),
        );
        put("Mask-original_VoxelNum", json!(count));
        put("Mask-original_VolumeNum", json!(components(m, label)));
        let mut sum = [0.0f64; 3];
        for ((i, j, k), &v) in m.indexed_iter() {
            if v == label {
                sum[0] += i as f64;
                sum[1] += j as f64;
                sum[2] += k as f64;
            }
        }
        let centre = sum.map(|s| s / count as f64);
        put("Mask-original_CenterOfMassIndex", json!(centre));
        let world = msk.geometry().index_to_world(centre);
        put(
            "Mask-original_CenterOfMass",
            json!([-world[0], -world[1], world[2]]),
        );
        Ok(Diagnostics { entries: e })
    }
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
