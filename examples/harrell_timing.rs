//! Times Harrell's C on a CSV of `time,event,risk` rows (header first): reads the file, then
//! computes the C-index `reps` times and prints each computation's seconds and the C. Used by
//! `tools/ab_harrell.py`, which alternates it with lifelines' `concordance_index` on the same
//! data; the file reading is outside the timed region on both sides.
//!
//! ```text
//! cargo run --release --example harrell_timing -- DATA.csv [REPS]
//! ```
//! Threads: rayon's (`RAYON_NUM_THREADS=1` for one core).

use std::time::Instant;

use adamss::survival::{harrell, surv_from};

#[path = "support/survival_csv.rs"]
mod survival_csv;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: harrell_timing DATA.csv [REPS]")?;
    let reps: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let (time, event, risk) = survival_csv::read(&path)?;
    let y = surv_from(&time, &event)?;
    let y = y.as_slice().ok_or("contiguous")?;
    for _ in 0..reps {
        let t0 = Instant::now();
        let c = harrell(y, &risk, 1e-8)?;
        println!("{:.6} {:.15}", t0.elapsed().as_secs_f64(), c.c_index);
    }
    Ok(())
}
