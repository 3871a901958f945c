//! Times a Cox PH fit (Efron ties) on a CSV of `time,event,x0,x1,…` rows (header first): reads
//! the file, then fits `reps` times and prints each fit's seconds and the coefficients (the
//! first, or with a penalizer all of them). A third column named `entry` holds delayed-entry
//! times (`CoxData::entry`). Used by `tools/ab_coxph.py`, `tools/ab_coxph_penalized.py` and
//! `tools/ab_coxph_entry.py`, which alternate it with lifelines (and scikit-survival) on the
//! same data; file reading is outside the timed region on every side.
//!
//! ```text
//! cargo run --release --example coxph_timing -- DATA.csv [REPS [PENALIZER [L1_RATIO]]]
//! ```
//! Threads: OpenBLAS's and rayon's (`OPENBLAS_NUM_THREADS=1 RAYON_NUM_THREADS=1` for one core).

use std::time::Instant;

use adamss::survival::prelude::ParamGuard;
use adamss::survival::{surv_from, CoxData, CoxPh, Ties};

#[path = "support/design_csv.rs"]
mod design_csv;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: coxph_timing DATA.csv [REPS]")?;
    let reps: usize = args.next().map_or(Ok(3), |r| r.parse())?;
    let penalizer: Option<f64> = args.next().map(|w| w.parse()).transpose()?;
    let l1_ratio: f64 = args.next().map_or(Ok(0.0), |r| r.parse())?;
    let (time, event, mut x) = design_csv::read_design(&path)?;
    let has_entry = csv::Reader::from_path(&path)?.headers()?.get(2) == Some("entry");
    let entry: Option<Vec<f64>> = has_entry.then(|| x.column(0).to_vec());
    if has_entry {
        x = x.slice(ndarray::s![.., 1..]).to_owned();
    }
    let y = surv_from(&time, &event)?;
    let y = y.as_slice().ok_or("contiguous")?;
    let params = CoxPh::params()
        .ties(Ties::Efron)
        .penalizer(penalizer.unwrap_or(0.0))
        .l1_ratio(l1_ratio)
        .check()?;
    for _ in 0..reps {
        let t0 = Instant::now();
        let fit = match &entry {
            None => params.fit_arrays(x.view(), y)?,
            Some(e) => params.fit_data(&CoxData::new(x.view(), y).entry(e))?,
        };
        let seconds = t0.elapsed().as_secs_f64();
        match penalizer {
            None => println!("{seconds:.6} {:.15e}", fit.coef[0]),
            Some(_) => {
                let coef: Vec<String> = fit.coef.iter().map(|c| format!("{c:.15e}")).collect();
                println!("{seconds:.6} {}", coef.join(" "));
            }
        }
    }
    Ok(())
}
