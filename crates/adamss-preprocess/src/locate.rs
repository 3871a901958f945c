//! Finding the head-and-neck region without labels, the same way for training and for new
//! patients (so the crop never depends on the answer).
//!
//! The rule (in the spirit of the HECKTOR 2021 baseline's box, not a copy of it):
//!
//! 1. Resample CT and PET onto a coarse axis-aligned grid (`coarse_mm`, default 4 mm)
//!    covering the CT.
//! 2. Body: CT above `body_hu` (−400 HU). Its superior–inferior extent is taken from the
//!    axial slices that contain body.
//! 3. Brain: in the upper half of the body, voxels with PET ≥ `brain_fraction` (0.5) × the
//!    98th percentile of PET there. If they make at least `min_brain_ml` (150 ml) the brain
//!    centre is their centroid; otherwise (brain not in the field of view) the "brain" is the
//!    centroid of the body's top `fallback_slab_mm` (40 mm).
//! 4. Crop centre: the brain centre moved `below_brain_mm` (70 mm) towards the feet
//!    (RAS+ −z), clamped so the centre stays inside the body's z-extent.

use adamss_io::{Geometry, Volume};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::resample::resample_linear;

/// Settings of the head-and-neck locator (see the module docs for the rule).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocatorConfig {
    /// Coarse grid spacing, mm.
    pub coarse_mm: f64,
    /// CT threshold of the body, HU.
    pub body_hu: f64,
    /// Brain threshold as a fraction of the upper body's 98th PET percentile.
    pub brain_fraction: f64,
    /// Smallest brain volume accepted, ml.
    pub min_brain_ml: f64,
    /// Top-of-body slab used when no brain is found, mm.
    pub fallback_slab_mm: f64,
    /// Distance from the brain centre down to the crop centre, mm.
    pub below_brain_mm: f64,
}

impl Default for LocatorConfig {
    fn default() -> Self {
        Self {
            coarse_mm: 4.0,
            body_hu: -400.0,
            brain_fraction: 0.5,
            min_brain_ml: 150.0,
            fallback_slab_mm: 40.0,
            below_brain_mm: 70.0,
        }
    }
}

impl LocatorConfig {
    /// The defaults (set for real heads, whose phantom-equivalent field of view is 160 mm)
    /// with volumes and distances scaled to a smaller or larger field of view, e.g. the
    /// synthetic cohorts' presets.
    pub fn scaled_to_field_of_view(fov_mm: f64) -> Self {
        let s = fov_mm / 160.0;
        let d = Self::default();
        Self {
            min_brain_ml: d.min_brain_ml * s.powi(3),
            below_brain_mm: d.below_brain_mm * s,
            fallback_slab_mm: d.fallback_slab_mm * s,
            ..d
        }
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        let ok = self.coarse_mm > 0.0
            && self.coarse_mm.is_finite()
            && self.body_hu.is_finite()
            && self.brain_fraction > 0.0
            && self.brain_fraction <= 1.0
            && self.min_brain_ml >= 0.0
            && self.fallback_slab_mm > 0.0
            && self.below_brain_mm.is_finite();
        if ok {
            Ok(())
        } else {
            Err(Error::Config(format!("invalid locator settings {self:?}")))
        }
    }
}

/// Where the locator put the crop, and why.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Located {
    /// Crop centre, RAS+ mm.
    pub centre: [f64; 3],
    /// Brain centre, RAS+ mm (the fallback point when no brain was found).
    pub brain: [f64; 3],
    /// Whether a brain was found in the PET.
    pub brain_found: bool,
    /// Brain volume found, ml.
    pub brain_ml: f64,
}

/// Locates the head-and-neck crop centre from CT and PET alone.
pub fn locate_head_neck(
    ct: &Volume<f32>,
    pet: &Volume<f32>,
    config: &LocatorConfig,
) -> Result<Located> {
    config.validate()?;
    let coarse = Grid::common_for(ct, config.coarse_mm)?;
    let ct_c = resample_linear(ct, &coarse, -1024.0)?;
    let pet_c = resample_linear(pet, &coarse, 0.0)?;
    let [n0, n1, n2] = coarse.shape;
    let body = |i: usize, j: usize, k: usize| f64::from(ct_c.data()[[i, j, k]]) > config.body_hu;
    let slices: Vec<usize> = (0..n2)
        .filter(|&k| (0..n1).any(|j| (0..n0).any(|i| body(i, j, k))))
        .collect();
    let (Some(&k_lo), Some(&k_hi)) = (slices.first(), slices.last()) else {
        return Err(Error::Config(format!(
            "no body found: no CT voxel above {} HU",
            config.body_hu
        )));
    };
    // Upper half of the body: the coarse grid is RAS+ axis-aligned, so larger k is superior.
    let k_mid = (k_lo + k_hi).div_ceil(2);
    let mut upper: Vec<f32> = Vec::new();
    for k in k_mid..=k_hi {
        for j in 0..n1 {
            for i in 0..n0 {
                if body(i, j, k) {
                    upper.push(pet_c.data()[[i, j, k]]);
                }
            }
        }
    }
    upper.sort_by(f32::total_cmp);
    let p98 = upper
        .get(((upper.len() as f64 - 1.0) * 0.98).round() as usize)
        .copied()
        .unwrap_or(0.0);
    let threshold = f64::from(p98) * config.brain_fraction;
    let voxel_ml = config.coarse_mm.powi(3) / 1000.0;
    let centroid = |pick: &dyn Fn(usize, usize, usize) -> bool,
                    ks: std::ops::RangeInclusive<usize>| {
        let (mut s, mut n) = ([0.0f64; 3], 0usize);
        for k in ks {
            for j in 0..n1 {
                for i in 0..n0 {
                    if pick(i, j, k) {
                        s[0] += i as f64;
                        s[1] += j as f64;
                        s[2] += k as f64;
                        n += 1;
                    }
                }
            }
        }
        (s.map(|v| v / n.max(1) as f64), n)
    };
    let hot = |i: usize, j: usize, k: usize| {
        body(i, j, k) && p98 > 0.0 && f64::from(pet_c.data()[[i, j, k]]) >= threshold
    };
    let (brain_idx, n_brain) = centroid(&hot, k_mid..=k_hi);
    let brain_ml = n_brain as f64 * voxel_ml;
    let brain_found = brain_ml >= config.min_brain_ml;
    let brain_idx = if brain_found {
        brain_idx
    } else {
        let slab = ((config.fallback_slab_mm / config.coarse_mm).ceil() as usize).max(1);
        let from = k_hi.saturating_sub(slab - 1).max(k_lo);
        centroid(&body, from..=k_hi).0
    };
    let brain = coarse.geometry.index_to_world(brain_idx);
    let geom: &Geometry = &coarse.geometry;
    let z_lo = geom.index_to_world([0.0, 0.0, k_lo as f64])[2];
    let z_hi = geom.index_to_world([0.0, 0.0, k_hi as f64])[2];
    let centre = [
        brain[0],
        brain[1],
        (brain[2] - config.below_brain_mm).clamp(z_lo, z_hi),
    ];
    Ok(Located {
        centre,
        brain,
        brain_found,
        brain_ml,
    })
}
