//! Times reading a NIfTI file `reps` times as stored (`Volume<i16>`) and as float32
//! (`Volume<f32>`), printing `<kind> <seconds>` per read. Used by `tools/ab_nifti_read.py`,
//! which alternates it with nibabel and SimpleITK on the same file (one thread each).
//!
//! ```text
//! cargo run --release --example nifti_read_timing -- CT.nii.gz [REPS]
//! ```

use std::time::Instant;

use adamss::io::Volume;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .ok_or("usage: nifti_read_timing FILE.nii.gz [REPS]")?;
    let reps: usize = args.next().map_or(Ok(2), |r| r.parse())?;
    for _ in 0..reps {
        let t0 = Instant::now();
        let v = Volume::<i16>::read(&path)?;
        println!(
            "int16 {:.6} {}",
            t0.elapsed().as_secs_f64(),
            v.data()[[0, 0, 0]]
        );
        let t0 = Instant::now();
        let v = Volume::<f32>::read(&path)?;
        println!(
            "float32 {:.6} {}",
            t0.elapsed().as_secs_f64(),
            v.data()[[0, 0, 0]]
        );
    }
    Ok(())
}
