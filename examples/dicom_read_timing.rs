//! Times reading a folder's DICOM series `reps` times as float32 (`Volume<f32>`: the files
//! found, ordered along the slice normal, decoded where compressed, rescaled), printing
//! `float32 <seconds> <first voxel>` per read. Used by `tools/ab_dicom_read.py`, which
//! alternates it with SimpleITK's `ImageSeriesReader` on the same folders (one thread each).
//!
//! ```text
//! cargo run --release --example dicom_read_timing -- SERIES_DIR [REPS]
//! ```

use std::time::Instant;

use adamss::io::Volume;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args
        .next()
        .ok_or("usage: dicom_read_timing SERIES_DIR [REPS]")?;
    let reps: usize = args.next().map_or(Ok(2), |r| r.parse())?;
    for _ in 0..reps {
        let t0 = Instant::now();
        let v = Volume::<f32>::read(&dir)?;
        println!(
            "float32 {:.6} {}",
            t0.elapsed().as_secs_f64(),
            v.data()[[0, 0, 0]]
        );
    }
    Ok(())
}
