//! Times adamss-preprocess's segmentation metrics on a predicted and a reference label map
//! read from NIfTI, for `tools/ab_segmetrics.py`, which alternates them with MONAI's and
//! SimpleITK's on the same files. Reading is outside the timed region.
//!
//! ```text
//! cargo run --release --example segmetrics_timing -- PRED.nii.gz REF.nii.gz values   # values
//! cargo run --release --example segmetrics_timing -- PRED.nii.gz REF.nii.gz [REPS]   # timings
//! ```
//!
//! Cases, each for labels 1 and 2: `overlap` (`label_overlap`: Dice and the other SimpleITK
//! overlap measures), `hd95` (`surface_distances` + the 95th-percentile Hausdorff distance,
//! MONAI's `compute_hausdorff_distance(percentile=95)`), `hausdorff` (the all-voxel
//! `hausdorff_distance`, SimpleITK's `HausdorffDistanceImageFilter`). Each timing line is
//! `<case> <seconds>`; `values` prints `<case> <label> <value>` lines instead. Single-threaded.

use std::time::Instant;

use adamss::io::Volume;
use adamss::preprocess::{hausdorff_distance, label_overlap, surface_distances};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: segmetrics_timing PRED.nii.gz REF.nii.gz [values | REPS]";
    let pred = Volume::<u8>::read(args.next().ok_or(usage)?)?;
    let reference = Volume::<u8>::read(args.next().ok_or(usage)?)?;
    let mode = args.next().unwrap_or_else(|| "2".into());
    let values = mode == "values";
    let reps: usize = if values { 1 } else { mode.parse()? };
    for _ in 0..reps {
        let t0 = Instant::now();
        let mut dice = [0.0; 2];
        for (k, label) in [1u8, 2].into_iter().enumerate() {
            dice[k] = label_overlap(&pred, &reference, label)?
                .dice()
                .unwrap_or(f64::NAN);
        }
        let overlap = t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        let mut hd95 = [0.0; 2];
        for (k, label) in [1u8, 2].into_iter().enumerate() {
            hd95[k] = surface_distances(&pred, &reference, label)?
                .hausdorff(Some(95.0))?
                .unwrap_or(f64::NAN);
        }
        let surface = t0.elapsed().as_secs_f64();
        let t0 = Instant::now();
        let mut hd = [0.0; 2];
        for (k, label) in [1u8, 2].into_iter().enumerate() {
            hd[k] = hausdorff_distance(&pred, &reference, label)?.hausdorff;
        }
        let all_voxel = t0.elapsed().as_secs_f64();
        if values {
            for k in 0..2 {
                println!("dice {} {}", k + 1, dice[k]);
                println!("hd95 {} {}", k + 1, hd95[k]);
                println!("hausdorff {} {}", k + 1, hd[k]);
            }
        } else {
            println!("overlap {overlap}");
            println!("hd95 {surface}");
            println!("hausdorff {all_voxel}");
        }
    }
    Ok(())
}
