//! Times Uno's C and the cumulative/dynamic AUC(t) on CSVs of `time,event,risk` rows (header
//! first): a training file (for the censoring distribution) and a test file. Reads both, then
//! `reps` times computes Uno's C (no truncation) and AUC at the evaluation times (one per
//! line of TIMES, a file of numbers), printing `uno_seconds auc_seconds uno_c mean_auc` per
//! repetition. Used by `tools/ab_ipcw.py`, which alternates it with scikit-survival's
//! `concordance_index_ipcw` and `cumulative_dynamic_auc` on the same data; file reading is
//! outside the timed region on both sides.
//!
//! ```text
//! cargo run --release --example ipcw_timing -- TRAIN.csv TEST.csv TIMES.txt [REPS]
//! ```
//! Threads: one (these kernels are serial).

use std::time::Instant;

use adamss::survival::{cumulative_dynamic_auc, surv_from, uno_c, Surv};

#[path = "support/survival_csv.rs"]
mod survival_csv;

fn read(path: &str) -> Result<(Vec<Surv>, Vec<f64>), Box<dyn std::error::Error>> {
    let (time, event, risk) = survival_csv::read(path)?;
    Ok((surv_from(&time, &event)?.to_vec(), risk))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: ipcw_timing TRAIN.csv TEST.csv TIMES.txt [REPS]";
    let (train, test, times) = match args.as_slice() {
        [a, b, c, ..] => (a, b, c),
        _ => return Err(usage.into()),
    };
    let reps: usize = args.get(3).map_or(Ok(3), |r| r.parse())?;
    let (train, _) = read(train)?;
    let (test, risk) = read(test)?;
    let times: Vec<f64> = std::fs::read_to_string(times)?
        .split_whitespace()
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let column = ndarray::Array2::from_shape_vec((risk.len(), 1), risk.clone())?;
    for _ in 0..reps {
        let t0 = Instant::now();
        let c = uno_c(&train, &test, &risk, None, 1e-8)?;
        let uno = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let (_, mean_auc) = cumulative_dynamic_auc(&train, &test, column.view(), &times, 1e-8)?;
        let auc = t1.elapsed().as_secs_f64();
        println!("{uno:.6} {auc:.6} {:.15} {mean_auc:.15}", c.c_index);
    }
    Ok(())
}
