//! Where the network looks: the decoder's attention α and the encoder's fusion-gate weight w
//! summed over regions of the crop — the reference GTVp and GTVn, the unlabelled findings of a
//! `beyond-labels` cohort (when its finding maps are there), the rest of the body and the air —
//! and figures of a patient's CT, PET and attention.
//!
//! Each map is brought to the crop grid (trilinear, per decoder or encoder level, the gate's
//! channels averaged first) and averaged over levels, so a value is in [0, 1] per voxel. A
//! region's *mean* says how strongly the network attends there; its *share* is the fraction of
//! the crop's whole mass that falls in it.

use std::path::Path;

use adamss_model::tch::{Kind, Tensor};
use ndarray::{Array3, Axis, Zip};
use serde::{Deserialize, Serialize};

use crate::data::{tensor_to_arrays, PreparedCase};
use crate::error::{Error, Result};

/// The regions, in the order of [`RegionSums`]' arrays. A voxel belongs to the first that
/// holds it: the GTVp label, the GTVn label, an unlabelled finding, the body (CT above
/// [`BODY_HU`] or the window's lower end), the air.
pub const REGIONS: [&str; 5] = ["GTVp", "GTVn", "findings", "rest of body", "air"];

/// Index of the unlabelled findings in [`REGIONS`].
pub const FINDINGS: usize = 2;

/// Index of the rest of the body in [`REGIONS`].
pub const REST: usize = 3;

/// CT threshold of the body, HU.
pub const BODY_HU: f32 = -500.0;

/// A map summed over the regions of one patient's crop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RegionSums {
    /// Σ of the map over each region's voxels.
    pub sum: [f64; 5],
    /// Voxels of each region.
    pub voxels: [u64; 5],
}

impl RegionSums {
    /// Sums `map` over the regions of `regions` (values indexes into [`REGIONS`]).
    pub fn of(map: &Array3<f32>, regions: &Array3<u8>) -> Self {
        let mut s = Self {
            sum: [0.0; 5],
            voxels: [0; 5],
        };
        Zip::from(map).and(regions).for_each(|&v, &r| {
            let r = usize::from(r).min(4);
            s.sum[r] += f64::from(v);
            s.voxels[r] += 1;
        });
        s
    }

    /// The map's mean over a region (None when the region is empty).
    pub fn mean(&self, region: usize) -> Option<f64> {
        (self.voxels[region] > 0).then(|| self.sum[region] / self.voxels[region] as f64)
    }

    /// The map's mean inside the unlabelled findings over its mean in the rest of the body
    /// (None without a finding or with a zero rest).
    pub fn findings_over_rest(&self) -> Option<f64> {
        Some(self.mean(FINDINGS)? / self.mean(REST).filter(|&v| v > 0.0)?)
    }

    /// The region's share of the crop's whole mass (None when the region is empty or the map
    /// is zero everywhere).
    pub fn share(&self, region: usize) -> Option<f64> {
        let total: f64 = self.sum.iter().sum();
        (self.voxels[region] > 0 && total > 0.0).then(|| self.sum[region] / total)
    }
}

/// Where one patient's network looked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Looks {
    /// The decoder's attention α (networks with attention gates).
    pub attention: Option<RegionSums>,
    /// The encoder's fusion-gate weight w: near 1 the fused branch, near 0 the separate
    /// PET/CT path (gated fusion only).
    pub gate: Option<RegionSums>,
}

/// Each crop voxel's region (an index into [`REGIONS`]) from the reference labels, the finding
/// map and the CT. Errors when the case has no labels.
pub fn regions_of(case: &PreparedCase, ct_window: [f32; 2]) -> Result<Array3<u8>> {
    let labels = case.label()?.data();
    let hu = case.pre.ct_hu(ct_window);
    let body = BODY_HU.max(ct_window[0]);
    let mut r = Array3::<u8>::from_elem(labels.raw_dim(), 4);
    Zip::from(&mut r)
        .and(labels)
        .and(hu.data())
        .for_each(|r, &l, &h| {
            *r = match l {
                1 => 0,
                2 => 1,
                _ if h > body => 3,
                _ => 4,
            }
        });
    if let Some(f) = &case.findings {
        if f.raw_dim() != r.raw_dim() {
            return Err(Error::Cohort(format!(
                "patient {}: finding map {:?} is not on the crop {:?}",
                case.id,
                f.shape(),
                r.shape()
            )));
        }
        Zip::from(&mut r).and(f).for_each(|r, &f| {
            if f > 0 && *r >= 3 {
                *r = FINDINGS as u8;
            }
        });
    }
    Ok(r)
}

/// The maps of patient `k` of a batch brought to the crop `shape` and averaged: over channels
/// first (the gates), then over levels. None when there are no maps.
pub fn on_crop(maps: &[Tensor], k: i64, shape: [usize; 3]) -> Result<Option<Array3<f32>>> {
    if maps.is_empty() {
        return Ok(None);
    }
    let size = shape.map(|s| s as i64);
    let mut acc: Option<Tensor> = None;
    for m in maps {
        let one = m
            .f_get(k)?
            .f_to_kind(Kind::Float)?
            .f_mean_dim(Some([0i64].as_slice()), true, None::<Kind>)?
            .f_unsqueeze(0)?;
        let up = one.f_upsample_trilinear3d(size, false, None, None, None)?;
        acc = Some(match acc {
            None => up,
            Some(a) => a.f_add(&up)?,
        });
    }
    let mean = acc
        .expect("maps is not empty")
        .f_div_scalar(maps.len() as f64)?
        .f_squeeze_dim(0)?;
    Ok(tensor_to_arrays(&mean)?.into_iter().next())
}

/// A figure of one patient for a clinician: rows are axial slices through the GTVp's centre
/// and, when the patient has one, through the largest unlabelled finding's centre; columns the
/// CT, the PET and the CT with the attention overlaid (red, opacity α), the reference GTVp,
/// GTVn and finding outlined. PNG.
pub fn figure(
    path: &Path,
    title: &str,
    case: &PreparedCase,
    regions: &Array3<u8>,
    attention: &Array3<f32>,
) -> Result<()> {
    let mut rows = Vec::new();
    if let Some(z) = centre_slice(regions, 0) {
        rows.push(("through the GTVp", z));
    }
    if let Some(z) = centre_slice(regions, FINDINGS as u8) {
        rows.push(("through the unlabelled finding", z));
    }
    if rows.is_empty() {
        rows.push(("centre", regions.len_of(Axis(2)) / 2));
    }
    crate::plot::slices_png(
        path,
        title,
        case.pre.ct.data(),
        case.pre.pet.data(),
        regions,
        attention,
        &rows,
    )
}

/// Up to `n` test patients to draw: those with an unlabelled finding first (all but one
/// place when some have none), then the others, each group in index order.
pub fn figure_patients(cases: &[PreparedCase], test: &[usize], n: usize) -> Vec<usize> {
    let has = |i: usize| {
        cases[i]
            .findings
            .as_ref()
            .is_some_and(|f| f.iter().any(|&v| v > 0))
    };
    let (with, without): (Vec<usize>, Vec<usize>) = test.iter().partition(|&&i| has(i));
    let take_with = if without.is_empty() {
        n
    } else {
        n.saturating_sub(1)
    };
    let mut out: Vec<usize> = with.into_iter().take(take_with).collect();
    out.extend(without.into_iter().take(n - out.len()));
    out
}

/// Runs the network on patient `i` alone and draws its [`figure`] with the attention (or,
/// without attention gates, the fusion gate). Nothing is drawn for a network with neither.
pub fn draw_patient(
    net: &adamss_model::AdaMss,
    cases: &[PreparedCase],
    i: usize,
    extras: &[Vec<f64>],
    ct_window: [f32; 2],
    path: &Path,
    title: &str,
) -> Result<bool> {
    use crate::data::{batch_of, extras_tensor, sample_of};
    let device = net.device();
    let sample = sample_of(&cases[i], None, 0)?;
    let b = batch_of(std::slice::from_ref(&sample), device)?;
    let extra = extras_tensor(extras, &[i], device)?;
    let o = adamss_model::tch::no_grad(|| net.forward_t(&b.pet, &b.ct, extra.as_ref(), false))?;
    let regions = regions_of(&cases[i], ct_window)?;
    let shape = [regions.shape()[0], regions.shape()[1], regions.shape()[2]];
    let (maps, what) = if o.attention.is_empty() {
        (&o.gates, "fusion gate")
    } else {
        (&o.attention, "attention")
    };
    let Some(map) = on_crop(maps, 0, shape)? else {
        return Ok(false);
    };
    figure(
        path,
        &format!("{title}: {} ({what})", cases[i].id),
        &cases[i],
        &regions,
        &map,
    )?;
    Ok(true)
}

/// The axial index (last axis) through the centre of the voxels of `region`.
fn centre_slice(regions: &Array3<u8>, region: u8) -> Option<usize> {
    let (mut n, mut sum) = (0usize, 0usize);
    for ((_, _, k), &r) in regions.indexed_iter() {
        if r == region {
            n += 1;
            sum += k;
        }
    }
    (n > 0).then(|| (sum + n / 2) / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_means_and_shares_by_hand() {
        let mut regions = Array3::<u8>::from_elem((2, 2, 1), 4);
        regions[[0, 0, 0]] = 0;
        regions[[0, 1, 0]] = 3;
        regions[[1, 0, 0]] = 3;
        let map = Array3::from_shape_vec((2, 2, 1), vec![0.8, 0.2, 0.4, 0.6]).unwrap();
        let s = RegionSums::of(&map, &regions);
        assert_eq!(s.voxels, [1, 0, 0, 2, 1]);
        assert!((s.mean(0).unwrap() - 0.8).abs() < 1e-6);
        assert!((s.mean(3).unwrap() - 0.3).abs() < 1e-6);
        assert_eq!(s.mean(1), None);
        assert!((s.share(0).unwrap() - 0.4).abs() < 1e-6);
        assert!((s.share(4).unwrap() - 0.3).abs() < 1e-6);
        assert_eq!(s.share(2), None);
    }

    #[test]
    fn centre_slice_is_the_mean_axial_index() {
        let mut regions = Array3::<u8>::from_elem((3, 3, 9), 4);
        regions[[1, 1, 2]] = 2;
        regions[[1, 1, 6]] = 2;
        assert_eq!(centre_slice(&regions, 2), Some(4));
        assert_eq!(centre_slice(&regions, 0), None);
    }

    #[test]
    fn maps_are_averaged_over_channels_and_levels_on_the_crop() {
        // Level 0: 2 channels at half resolution, constant 0.2 and 0.6 (mean 0.4); level 1:
        // one channel at full resolution, constant 1.0. Mean over levels: 0.7 everywhere.
        let coarse = Tensor::cat(
            &[
                Tensor::full(
                    [1, 1, 2, 2, 2],
                    0.2,
                    (Kind::Float, adamss_model::tch::Device::Cpu),
                ),
                Tensor::full(
                    [1, 1, 2, 2, 2],
                    0.6,
                    (Kind::Float, adamss_model::tch::Device::Cpu),
                ),
            ],
            1,
        );
        let fine = Tensor::ones(
            [1, 1, 4, 4, 4],
            (Kind::Float, adamss_model::tch::Device::Cpu),
        );
        let m = on_crop(&[coarse, fine], 0, [4, 4, 4]).unwrap().unwrap();
        assert_eq!(m.shape(), &[4, 4, 4]);
        assert!(m.iter().all(|&v| (v - 0.7).abs() < 1e-6));
        assert!(on_crop(&[], 0, [4, 4, 4]).unwrap().is_none());
    }
}
