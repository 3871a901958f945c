//! Times the LASSO-Cox path on a CSV of `time,event,x0,x1,…` rows (header first) at the
//! penalties of ALPHAS (one per line, decreasing: scikit-survival's, so both fit the same
//! path) and tolerance TOL: reads the data, fits `reps` times, prints each fit's seconds and
//! the number of penalties solved, and writes the last fit's coefficients (one row per penalty)
//! to OUT. Used by `tools/ab_coxnet.py`, which alternates it with scikit-survival's
//! `CoxnetSurvivalAnalysis` and compares both paths' objectives; file reading is outside the
//! timed region on both sides. No early end of the path (glmnet's `fdev`/`devmax` rules off),
//! so both solve every penalty.
//!
//! ```text
//! cargo run --release --example coxnet_timing -- DATA.csv ALPHAS.txt TOL OUT.csv [REPS]
//! ```
//! Threads: one for OpenBLAS (`OPENBLAS_NUM_THREADS=1`); the solver itself is serial.

use std::io::Write;
use std::time::Instant;

use adamss::survival::{surv_from, Coxnet};
use linfa::ParamGuard;

#[path = "support/design_csv.rs"]
mod design_csv;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [data, alphas, tol, out, rest @ ..] = args.as_slice() else {
        return Err("usage: coxnet_timing DATA.csv ALPHAS.txt TOL OUT.csv [REPS]".into());
    };
    let reps: usize = rest.first().map_or(Ok(2), |r| r.parse())?;
    let (time, event, x) = design_csv::read_design(data)?;
    let y = surv_from(&time, &event)?.to_vec();
    let alphas: Vec<f64> = std::fs::read_to_string(alphas)?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let params = Coxnet::params()
        .l1_ratio(1.0)
        .alphas(alphas)
        .standardize(false)
        .tol(tol.parse()?)
        .fdev(0.0)
        .devmax(1.0)
        .check()?;
    let mut fit = None;
    for _ in 0..reps {
        let t0 = Instant::now();
        let f = params.fit_arrays(x.view(), &y)?;
        println!("{:.6} {}", t0.elapsed().as_secs_f64(), f.coef.nrows());
        fit = Some(f);
    }
    let fit = fit.ok_or("REPS must be at least 1")?;
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    for row in fit.coef.rows() {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.17e}")).collect();
        writeln!(w, "{}", cells.join(","))?;
    }
    Ok(())
}
