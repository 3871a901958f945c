//! Times adamss-preprocess's resampler on a CT and a PET read from NIfTI, for
//! `tools/ab_resample.py`, which alternates it with `sitk.Resample` on the same volumes and
//! grids (issue #22). Reading is outside the timed region on both sides.
//!
//! ```text
//! cargo run --release --example resample_timing -- CT.nii.gz PET.nii.gz grids   # JSON: grids
//! cargo run --release --example resample_timing -- CT.nii.gz PET.nii.gz write DIR  # outputs
//! cargo run --release --example resample_timing -- CT.nii.gz PET.nii.gz [REPS]  # timings
//! ```
//!
//! The grids: the CT's covering 1 mm grid (the project's common grid) and the 160³ crop at its
//! centre. Cases: CT (int16) and PET (float32) onto each grid, linear; the CT onto the crop,
//! cubic B-spline (what a radiomics `resampledPixelSpacing` runs). Each timing line is
//! `<case> <seconds>`; `write DIR` writes each case's output as `DIR/<case>.nii`, so the caller
//! can check that both tools computed the same voxels. Threads: rayon's (`RAYON_NUM_THREADS`).

use std::time::Instant;

use adamss::io::{Geometry, Volume};
use adamss::preprocess::{resample, Grid, Interpolation};

/// One timed case: a resampling run.
type Case<'a> = dyn Fn() -> Result<Volume<f32>, adamss::preprocess::Error> + 'a;

fn grid_json(name: &str, shape: [usize; 3], g: &Geometry) -> String {
    let d = g.direction_lps();
    format!(
        "\"{name}\": {{\"size\": {shape:?}, \"spacing\": {:?}, \"origin_lps\": {:?}, \
         \"direction_lps\": {:?}}}",
        g.spacing,
        g.origin_lps(),
        [d[0], d[1], d[2]].concat()
    )
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: resample_timing CT.nii.gz PET.nii.gz [grids | write DIR | REPS]";
    let ct_path = args.next().ok_or(usage)?;
    let pet_path = args.next().ok_or(usage)?;
    let mode = args.next().unwrap_or_else(|| "2".into());
    let ct = Volume::<i16>::read(&ct_path)?;
    let pet = Volume::<f32>::read(&pet_path)?;
    let whole = Grid::common_for(&ct, 1.0)?;
    let crop = whole.crop_around(whole.centre(), [160, 160, 160])?;
    if mode == "grids" {
        println!(
            "{{{}, {}, {}, {}}}",
            grid_json("ct", ct.shape(), ct.geometry()),
            grid_json("pet", pet.shape(), pet.geometry()),
            grid_json("whole", whole.shape, &whole.geometry),
            grid_json("crop", crop.shape, &crop.geometry)
        );
        return Ok(());
    }
    let (reps, write) = if mode == "write" {
        (1, Some(std::path::PathBuf::from(args.next().ok_or(usage)?)))
    } else {
        (mode.parse()?, None)
    };
    for _ in 0..reps {
        let cases: [(&str, &Case); 5] = [
            ("ct_whole_linear", &|| {
                resample(&ct, &whole, Interpolation::Linear, -1024.0)
            }),
            ("ct_crop_linear", &|| {
                resample(&ct, &crop, Interpolation::Linear, -1024.0)
            }),
            ("pet_whole_linear", &|| {
                resample(&pet, &whole, Interpolation::Linear, 0.0)
            }),
            ("pet_crop_linear", &|| {
                resample(&pet, &crop, Interpolation::Linear, 0.0)
            }),
            ("ct_crop_bspline", &|| {
                resample(&ct, &crop, Interpolation::BSpline, -1024.0)
            }),
        ];
        for (name, run) in cases {
            let t0 = Instant::now();
            let out = run()?;
            let secs = t0.elapsed().as_secs_f64();
            match &write {
                Some(dir) => out.write(dir.join(format!("{name}.nii")))?,
                None => println!("{name} {secs:.6}"),
            }
        }
    }
    Ok(())
}
