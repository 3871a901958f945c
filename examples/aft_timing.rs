//! Times a Weibull AFT fit on a CSV of `time,event,x0,x1,…` rows (header first): reads the
//! file, then fits `reps` times and prints each fit's seconds and the first coefficient.
//! Used by `tools/ab_aft.py`, which alternates it with lifelines' `WeibullAFTFitter` on the
//! same data; file reading is outside the timed region on both sides.
//!
//! ```text
//! cargo run --release --example aft_timing -- DATA.csv [REPS]
//! ```
//! Threads: OpenBLAS's (`OPENBLAS_NUM_THREADS=1` for one core).

use std::time::Instant;

use adamss::survival::prelude::ParamGuard;
use adamss::survival::{surv_from, Aft, AftDistribution};

#[path = "support/design_csv.rs"]
mod design_csv;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: aft_timing DATA.csv [REPS]")?;
    let reps: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let (time, event, x) = design_csv::read_design(&path)?;
    let y = surv_from(&time, &event)?;
    let y = y.as_slice().ok_or("contiguous")?;
    let params = Aft::params()
        .distribution(AftDistribution::Weibull)
        .check()?;
    for _ in 0..reps {
        let t0 = Instant::now();
        let fit = params.fit_arrays(x.view(), y)?;
        println!(
            "{:.6} {:.15e} {:.15e}",
            t0.elapsed().as_secs_f64(),
            fit.location[0],
            fit.log_likelihood
        );
    }
    Ok(())
}
