//! Intensity normalisation of the network inputs (spec §1).

use adamss_io::Volume;

use crate::error::{Error, Result};

/// CT: clip to `[lo, hi]` HU, then scale linearly to `[-1, 1]` (spec: `[-1024, 1024]`).
pub fn ct_to_unit(ct: &mut Volume<f32>, lo: f32, hi: f32) -> Result<()> {
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(Error::Config(format!(
            "CT window must be finite with lo < hi, got [{lo}, {hi}]"
        )));
    }
    let (mid, half) = ((lo + hi) / 2.0, (hi - lo) / 2.0);
    ct.data_mut()
        .mapv_inplace(|v| (v.clamp(lo, hi) - mid) / half);
    Ok(())
}

/// Mean and (population) standard deviation of a PET normalisation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ZScore {
    /// Mean SUV over the voxels used.
    pub mean: f64,
    /// Standard deviation (population, ddof 0) over the voxels used.
    pub sd: f64,
    /// Number of voxels used.
    pub voxels: usize,
}

/// PET: Z-score per patient, `(v − mean) / sd`, with mean and sd taken over the voxels where
/// `use_voxel` is true (the pipeline passes "inside the PET's field of view", so padding does
/// not bias the statistics). All voxels are transformed.
///
/// Errors when no voxel is used or the used voxels are constant.
pub fn zscore(pet: &mut Volume<f32>, use_voxel: impl Fn([usize; 3]) -> bool) -> Result<ZScore> {
    let mut n = 0usize;
    let mut mean = 0.0f64;
    let mut m2 = 0.0f64;
    for (idx, &v) in pet.data().indexed_iter() {
        if use_voxel([idx.0, idx.1, idx.2]) {
            // Welford: stable for 4 M voxels in f64.
            n += 1;
            let d = f64::from(v) - mean;
            mean += d / n as f64;
            m2 += d * (f64::from(v) - mean);
        }
    }
    if n == 0 {
        return Err(Error::Config(
            "PET Z-score: no voxel inside the PET field of view".into(),
        ));
    }
    let sd = (m2 / n as f64).sqrt();
    if sd.is_nan() || sd <= 0.0 {
        return Err(Error::Config(format!(
            "PET Z-score: constant PET over {n} voxels (sd 0)"
        )));
    }
    let (m, s) = (mean as f32, sd as f32);
    pet.data_mut().mapv_inplace(|v| (v - m) / s);
    Ok(ZScore {
        mean,
        sd,
        voxels: n,
    })
}
