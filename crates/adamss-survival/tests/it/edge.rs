//! Edge cases: all censored, all times tied, n = 2, identical risks, NaN risk, negative time,
//! an event tied with a censoring, a linear predictor of 800, separable data.

use adamss_survival::{
    harrell, logrank, surv_from, CoxPh, Error, KaplanMeier, PartialLikelihood, Reduction, Ties,
};
use linfa::ParamGuard;
use ndarray::{array, Array2};

#[test]
fn all_censored() {
    let y = surv_from(&[1.0, 2.0, 3.0], &[false; 3]).unwrap().to_vec();
    assert!(matches!(
        harrell(&y, &[1.0, 2.0, 3.0], 1e-8),
        Err(Error::Undefined(_))
    ));
    let km = KaplanMeier::fit(&y, 0.95).unwrap();
    assert!(km.survival.iter().all(|&s| s == 1.0));
    assert_eq!(km.median(), f64::INFINITY);
    let pl = PartialLikelihood::new(&y, Ties::Efron).unwrap();
    assert_eq!(
        pl.nll(&[0.3, 0.1, -2.0], Reduction::MeanOverEvents)
            .unwrap(),
        0.0
    );
    let x = array![[1.0], [2.0], [3.0]];
    assert!(matches!(
        CoxPh::params().check().unwrap().fit_arrays(x.view(), &y),
        Err(Error::Undefined(_))
    ));
    assert!(logrank(&y, &[0, 1, 1]).is_err());
}

#[test]
fn all_times_tied() {
    let y = surv_from(&[5.0; 4], &[true, true, false, true])
        .unwrap()
        .to_vec();
    // Events tied with each other are not comparable; the censoring at the same time is.
    let c = harrell(&y, &[1.0, 2.0, 3.0, 4.0], 1e-8).unwrap();
    assert_eq!((c.concordant, c.discordant, c.tied_time), (1, 2, 3));
    let pl = PartialLikelihood::new(&y, Ties::Efron).unwrap();
    // Efron with 3 tied events among 4 equal risks: −Σ log(4 − l) for l = 0, 1, 2 → log 24.
    assert!((pl.nll(&[0.0; 4], Reduction::Sum).unwrap() - 24f64.ln()).abs() < 1e-12);
    let pl = PartialLikelihood::new(&y, Ties::Breslow).unwrap();
    assert!((pl.nll(&[0.0; 4], Reduction::Sum).unwrap() - 3.0 * 4f64.ln()).abs() < 1e-12);
    let km = KaplanMeier::fit(&y, 0.95).unwrap();
    assert_eq!(km.survival, [1.0, 0.25]);
}

#[test]
fn two_subjects_and_identical_risks() {
    let y = surv_from(&[1.0, 2.0], &[true, false]).unwrap().to_vec();
    assert_eq!(harrell(&y, &[2.0, 1.0], 0.0).unwrap().c_index, 1.0);
    assert_eq!(harrell(&y, &[1.0, 1.0], 1e-8).unwrap().c_index, 0.5);
    let lr = logrank(&y, &[0, 1]).unwrap();
    assert!((lr.statistic - 1.0).abs() < 1e-12 && lr.df == 1);
    // A risk tie within tolerance.
    assert_eq!(harrell(&y, &[1.0, 1.0 + 1e-10], 1e-8).unwrap().tied_risk, 1);
}

#[test]
fn invalid_inputs_are_typed_errors() {
    assert!(matches!(
        surv_from(&[1.0, -1.0], &[true, true]),
        Err(Error::InvalidTime { index: 1, .. })
    ));
    let y = surv_from(&[1.0, 2.0, 3.0], &[true, true, false])
        .unwrap()
        .to_vec();
    assert!(matches!(
        harrell(&y, &[0.0, f64::NAN, 1.0], 0.0),
        Err(Error::NonFinite { index: 1, .. })
    ));
    assert!(matches!(
        harrell(&y, &[0.0], 0.0),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(harrell(&[], &[], 0.0).is_err());
    assert!(KaplanMeier::fit(&y, 1.5).is_err());
    assert!(CoxPh::params().max_iter(0).check().is_err());
    assert!(CoxPh::params().confidence(1.0).check().is_err());
    let x = array![[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]];
    let e = CoxPh::params()
        .check()
        .unwrap()
        .fit_arrays(x.view(), &y)
        .unwrap_err();
    assert!(e.to_string().contains("constant"), "{e}");
    let x = array![[1.0, 2.0], [2.0, 4.0], [3.0, 6.1]];
    assert!(CoxPh::params()
        .check()
        .unwrap()
        .fit_arrays(x.view(), &y[..2])
        .is_err());
}

#[test]
fn event_tied_with_censoring_stays_in_risk_set() {
    // Subject 1 is censored at t = 2 when subject 0 has its event: it is at risk then
    // (torchsurv 0.2.0's no-tie fast path drops it).
    let y = surv_from(&[2.0, 2.0, 3.0], &[true, false, true])
        .unwrap()
        .to_vec();
    let eta = [0.5, 1.5, -0.3];
    let pl = PartialLikelihood::new(&y, Ties::Breslow).unwrap();
    // t = 2: subject 0's event against {0, 1, 2}; t = 3: subject 2 alone (term 0).
    let want = -(0.5 - (0.5f64.exp() + 1.5f64.exp() + (-0.3f64).exp()).ln());
    let dropped = -(0.5 - (0.5f64.exp() + (-0.3f64).exp()).ln());
    assert!((want - dropped).abs() > 0.1);
    let got = pl.nll(&eta, Reduction::Sum).unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}");
}

#[test]
fn linear_predictor_of_800() {
    let y = surv_from(&[1.0, 2.0, 3.0, 4.0], &[true, true, false, true])
        .unwrap()
        .to_vec();
    let pl = PartialLikelihood::new(&y, Ties::Efron).unwrap();
    let v = pl.nll(&[800.0, 0.0, 0.0, 0.0], Reduction::Sum).unwrap();
    // Subject 0 dominates its risk set: its term is ~0; the rest are finite.
    let rest = pl.nll(&[0.0, 0.0, 0.0, 0.0], Reduction::Sum).unwrap() - 4f64.ln();
    assert!((v - rest).abs() < 1e-9, "{v} vs {rest}");
    let (_, g) = pl
        .nll_grad_eta(&[800.0, -800.0, 800.0, 0.0], Reduction::MeanOverEvents)
        .unwrap();
    assert!(g.iter().all(|x| x.is_finite()));
}

#[test]
fn separable_data_is_monotone_likelihood() {
    // The covariate orders the event times perfectly: the likelihood has no finite maximum.
    let n = 20;
    let time: Vec<f64> = (0..n).map(|i| i as f64 + 1.0).collect();
    let y = surv_from(&time, &vec![true; n]).unwrap().to_vec();
    let x = Array2::from_shape_fn((n, 1), |(i, _)| -(i as f64));
    let err = CoxPh::params()
        .check()
        .unwrap()
        .fit_arrays(x.view(), &y)
        .unwrap_err();
    assert!(
        matches!(err, Error::MonotoneLikelihood { index: 0, .. }),
        "{err}"
    );
}

/// A pseudo-random number in [0, 1) from an index (a fixed hash; no generator needed).
fn unit(k: usize) -> f64 {
    ((k as f64 * 12.9898).sin() * 43_758.545_3).rem_euclid(1.0)
}

#[test]
fn wide_fits_run_on_a_spawned_threads_default_stack() {
    // OpenBLAS's threaded LU (dgetrf) recurses with ~0.5 MB stack frames and overflowed the
    // 2 MiB stack of a spawned Rust thread (a server's worker, a test) from 128 × 128: a
    // 140-covariate Cox fit and a 130-group log-rank test crashed the process (SIGSEGV)
    // where they ran on the main thread. Both now factorise by Cholesky.
    let (n, p) = (600, 140);
    let x = Array2::from_shape_fn((n, p), |(i, j)| unit(i * p + j) - 0.5);
    let time: Vec<f64> = (0..n)
        .map(|i| (1.0 + 10.0 * unit(10_007 + i)) * (-0.5 * x[[i, 0]]).exp())
        .collect();
    let event: Vec<bool> = (0..n).map(|i| unit(20_011 + i) < 0.7).collect();
    let y = surv_from(&time, &event).unwrap().to_vec();
    let groups: Vec<usize> = (0..n).map(|i| i % 130).collect();
    let worker = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || {
            let model = CoxPh::params().fit_arrays(x.view(), &y).unwrap();
            let test = logrank(&y, &groups).unwrap();
            (model.se.iter().all(|s| s.is_finite() && *s > 0.0), test.df)
        })
        .unwrap();
    assert_eq!(worker.join().unwrap(), (true, 129));
}
