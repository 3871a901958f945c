//! Survival analysis hot paths, on data shared with `tools/bench_survival.py` (written once
//! as CSV under `target/bench-data/survival/`):
//!
//! - Harrell's C at n = 10⁶ (vs `lifelines.utils.concordance_index`);
//! - Cox PH, Efron ties, 10 000 × 50 (vs lifelines `CoxPHFitter`, scikit-survival);
//! - a 100-penalty LASSO-Cox path on 1 000 × 1 456 correlated features (vs scikit-survival's
//!   `CoxnetSurvivalAnalysis`); our coefficients are written beside the data so the script
//!   can compare them; the same path on a p ≫ n radiomics-like design, 100 × 1 700, as the
//!   training fits it;
//! - Uno's C and the cumulative/dynamic AUC at 10 times, n = 10⁵ (vs scikit-survival's
//!   `concordance_index_ipcw` and `cumulative_dynamic_auc`: `tools/ab_ipcw.py` alternates them
//!   with `examples/ipcw_timing`).
//!
//! ```text
//! cargo bench --bench survival
//! .venv/bin/python tools/bench_survival.py
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use adamss::survival::{
    cumulative_dynamic_auc, harrell, surv_from, uno_c, CoxPh, Coxnet, Surv, Ties,
};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use linfa::ParamGuard;
use ndarray::{Array1, Array2};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/survival");
    std::fs::create_dir_all(&d).expect("bench-data dir");
    d
}

/// Correlated covariates (10 latent factors), Cox times with effects on the first 10
/// columns, uniform censoring; times rounded to 0.1 so some tie.
fn make(n: usize, p: usize, seed: u64) -> (Array2<f64>, Vec<Surv>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut normal = || -> f64 { StandardNormal.sample(&mut rng) };
    let latent = Array2::from_shape_fn((n, 10), |_| normal());
    let load = Array2::from_shape_fn((10, p), |_| normal() * 0.5);
    let noise = Array2::from_shape_fn((n, p), |_| normal());
    let x = latent.dot(&load) + noise;
    let beta = Array1::from_shape_fn(p, |k| {
        if k < 10 {
            0.3 * if k % 2 == 0 { 1.0 } else { -1.0 }
        } else {
            0.0
        }
    });
    let eta = x.dot(&beta);
    let mut rng = ChaCha8Rng::seed_from_u64(seed + 1);
    let (mut time, mut event) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for &e in &eta {
        let t = -rng.gen_range(f64::EPSILON..1.0f64).ln() / e.exp() * 100.0;
        let c = rng.gen_range(0.0..300.0);
        time.push(((t.min(c) * 10.0).round() / 10.0).max(0.1));
        event.push(t <= c);
    }
    (x, surv_from(&time, &event).expect("valid").to_vec())
}

fn write_csv(path: &Path, x: &Array2<f64>, y: &[Surv]) {
    if path.is_file() {
        return;
    }
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).expect("create"));
    let header: Vec<String> = (0..x.ncols()).map(|k| format!("x{k}")).collect();
    writeln!(f, "time,event,{}", header.join(",")).expect("write");
    for (row, s) in x.rows().into_iter().zip(y) {
        let cells: Vec<String> = row.iter().map(|v| format!("{v:.17e}")).collect();
        writeln!(
            f,
            "{},{},{}",
            s.time(),
            u8::from(s.event()),
            cells.join(",")
        )
        .expect("write");
    }
}

fn survival(c: &mut Criterion) {
    let mut g = c.benchmark_group("survival");
    g.sample_size(10).measurement_time(Duration::from_secs(10));

    let n = 1_000_000;
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let time: Vec<f64> = (0..n)
        .map(|_| (rng.gen_range(0.0..1000.0f64) * 10.0).round() / 10.0)
        .collect();
    let event: Vec<bool> = (0..n).map(|_| rng.gen_bool(0.6)).collect();
    let risk: Vec<f64> = (0..n).map(|_| rng.gen_range(-3.0..3.0)).collect();
    let y = surv_from(&time, &event).expect("valid").to_vec();
    let path = dir().join("harrell_1e6.csv");
    if !path.is_file() {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        writeln!(f, "time,event,risk").expect("write");
        for i in 0..n {
            writeln!(f, "{},{},{:.17e}", time[i], u8::from(event[i]), risk[i]).expect("write");
        }
    }
    let c_index = harrell(&y, &risk, 1e-8).expect("C").c_index;
    std::fs::write(
        dir().join("harrell_1e6.rust.txt"),
        format!("{c_index:.17e}\n"),
    )
    .expect("write");
    g.bench_with_input(BenchmarkId::new("harrell", n), &n, |b, _| {
        b.iter(|| harrell(&y, &risk, 1e-8).expect("C"))
    });

    let (x, y) = make(10_000, 50, 2);
    write_csv(&dir().join("cox_10000x50.csv"), &x, &y);
    let params = CoxPh::params().ties(Ties::Efron).check().expect("params");
    let fit = params.fit_arrays(x.view(), &y).expect("fit");
    let coef: Vec<String> = fit.coef.iter().map(|v| format!("{v:.17e}")).collect();
    std::fs::write(dir().join("cox_10000x50.rust.txt"), coef.join("\n") + "\n").expect("write");
    g.bench_function("coxph_efron_10000x50", |b| {
        b.iter(|| params.fit_arrays(x.view(), &y).expect("fit"))
    });

    let (x, y) = make(1_000, 1_456, 3);
    write_csv(&dir().join("coxnet_1000x1456.csv"), &x, &y);
    let params = Coxnet::params()
        .l1_ratio(1.0)
        .n_alphas(100)
        .alpha_min_ratio(0.01)
        .standardize(false)
        .tol(2e-5)
        .check()
        .expect("params");
    let fit = params.fit_arrays(x.view(), &y).expect("fit");
    let rows: Vec<String> = fit
        .coef
        .rows()
        .into_iter()
        .map(|r| {
            r.iter()
                .map(|v| format!("{v:.17e}"))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    std::fs::write(
        dir().join("coxnet_1000x1456.rust.csv"),
        rows.join("\n") + "\n",
    )
    .expect("write");
    g.bench_function("coxnet_lasso_path_100_1000x1456", |b| {
        b.iter(|| params.fit_arrays(x.view(), &y).expect("fit"))
    });

    // p >> n, as the training's radiomics selection: 100 patients, 1 700 features.
    let (x, y) = make(100, 1_700, 4);
    g.bench_function("coxnet_lasso_path_100_100x1700", |b| {
        b.iter(|| params.fit_arrays(x.view(), &y).expect("fit"))
    });

    // IPCW metrics at n = 1e5: censoring from a training sample, ten evaluation times.
    let n = 100_000;
    let sample = |seed: u64| {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let risk: Vec<f64> = (0..n).map(|_| rng.gen_range(-3.0..3.0)).collect();
        let (mut time, mut event) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for &r in &risk {
            let t = -rng.gen_range(f64::EPSILON..1.0f64).ln() / (0.7 * r).exp();
            let c = -rng.gen_range(f64::EPSILON..1.0f64).ln() * 1.5;
            time.push((t.min(c) * 10.0).round() / 10.0 + 0.1);
            event.push(t <= c);
        }
        (surv_from(&time, &event).expect("valid").to_vec(), risk)
    };
    let (train, _) = sample(5);
    let (test, risk) = sample(6);
    let mut sorted: Vec<f64> = test.iter().map(Surv::time).collect();
    sorted.sort_by(f64::total_cmp);
    let mut times: Vec<f64> = (0..10)
        .map(|k| sorted[(n - 1) * (10 + 7 * k) / 100])
        .collect();
    times.dedup();
    let column = Array2::from_shape_vec((n, 1), risk.clone()).expect("column");
    g.bench_function("uno_c_1e5", |b| {
        b.iter(|| uno_c(&train, &test, &risk, None, 1e-8).expect("Uno's C"))
    });
    g.bench_function("cumulative_dynamic_auc_1e5_10_times", |b| {
        b.iter(|| cumulative_dynamic_auc(&train, &test, column.view(), &times, 1e-8).expect("AUC"))
    });
    g.finish();
}

#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, survival);
}
criterion_main!(harness::benches);
