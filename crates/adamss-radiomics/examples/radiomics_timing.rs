//! Times PyRadiomics-style extraction from files, as `execute(image, mask)` does it: each
//! repetition reads the parameter file, the image and the mask and extracts every feature, and
//! prints `<seconds> <features>`. With several `IMAGE MASK` pairs (a cohort), one repetition
//! extracts all of them on rayon's threads and prints the whole cohort's seconds.
//! Used by `tools/ab_radiomics.py`, which alternates it with PyRadiomics on the same files.
//! With `VOXEL_BASED=1`, voxel-based extraction instead ([`ExtractionPlan::run_voxel_based_files`],
//! the maps kept in memory as PyRadiomics' `execute(..., voxelBased=True)` keeps them), counting
//! maps (`tools/ab_voxel_radiomics.py`).
//!
//! ```text
//! cargo run --release -p adamss-radiomics --example radiomics_timing -- PARAMS.json REPS IMAGE MASK [IMAGE MASK ...]
//! ```
//! Threads: rayon's (`RAYON_NUM_THREADS=1` for one core).

use std::path::{Path, PathBuf};
use std::time::Instant;

use adamss_radiomics::ExtractionPlan;
use anyhow::{bail, Context, Result};
use rayon::prelude::*;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [params, reps, files @ ..] = args.as_slice() else {
        bail!("usage: radiomics_timing PARAMS.json REPS IMAGE MASK [IMAGE MASK ...]");
    };
    if files.is_empty() || files.len() % 2 != 0 {
        bail!("give IMAGE MASK pairs");
    }
    let reps: usize = reps.parse().context("REPS")?;
    let voxel_based = std::env::var("VOXEL_BASED").is_ok_and(|v| v == "1");
    let pairs: Vec<(PathBuf, PathBuf)> = files
        .chunks_exact(2)
        .map(|p| (PathBuf::from(&p[0]), PathBuf::from(&p[1])))
        .collect();
    for _ in 0..reps {
        let t0 = Instant::now();
        let counts: Vec<usize> = pairs
            .par_iter()
            .map(|(image, mask)| -> Result<usize> {
                let plan = ExtractionPlan::from_file(Path::new(params))?;
                let n = if voxel_based {
                    plan.run_voxel_based_files(image, mask)
                        .with_context(|| format!("{}", image.display()))?
                        .maps
                        .len()
                } else {
                    plan.run_files(image, mask)
                        .with_context(|| format!("{}", image.display()))?
                        .len()
                };
                Ok(n)
            })
            .collect::<Result<_>>()?;
        println!(
            "{:.6} {}",
            t0.elapsed().as_secs_f64(),
            counts.iter().sum::<usize>()
        );
    }
    Ok(())
}
