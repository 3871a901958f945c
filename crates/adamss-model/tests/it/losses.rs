use adamss_model::loss::{
    cox_nll, dice_loss, discrete_time_loss, discrete_time_risk, focal_loss, DiscreteTimeTarget,
};
use adamss_model::tch::{Device, Kind, Tensor};
use adamss_model::CoxTies;

fn t64(v: &[f64]) -> Tensor {
    Tensor::from_slice(v)
}

/// Central finite differences of the Cox loss match autograd, both tie rules, with ties.
#[test]
fn cox_gradient_matches_finite_differences() {
    let eta = [0.3, -1.2, 0.8, 0.1, 2.0, -0.4, 0.0];
    let time = [5.0, 3.0, 3.0, 8.0, 3.0, 1.0, 5.0];
    let event = [true, true, false, false, true, true, true];
    for ties in [CoxTies::Breslow, CoxTies::Efron] {
        let x = t64(&eta).set_requires_grad(true);
        let loss = cox_nll(&x, &time, &event, ties).unwrap();
        loss.backward();
        let g = Vec::<f64>::try_from(x.grad()).unwrap();
        for i in 0..eta.len() {
            let h = 1e-6;
            let mut p = eta;
            p[i] += h;
            let mut m = eta;
            m[i] -= h;
            let fp = cox_nll(&t64(&p), &time, &event, ties)
                .unwrap()
                .double_value(&[]);
            let fm = cox_nll(&t64(&m), &time, &event, ties)
                .unwrap()
                .double_value(&[]);
            let fd = (fp - fm) / (2.0 * h);
            assert!(
                (fd - g[i]).abs() < 1e-8,
                "{ties:?} i={i}: fd {fd} vs autograd {}",
                g[i]
            );
        }
    }
}

/// Hand-computed two-subject cases: the censored subject tied with the event time stays in
/// the risk set (torchsurv 0.2.0 drops it).
#[test]
fn cox_small_cases_by_hand() {
    // Subjects: (t=2, event, η=1), (t=2, censored, η=0).
    let l = cox_nll(
        &t64(&[1.0, 0.0]),
        &[2.0, 2.0],
        &[true, false],
        CoxTies::Breslow,
    )
    .unwrap()
    .double_value(&[]);
    let want = (1f64.exp() + 1.0).ln() - 1.0;
    assert!((l - want).abs() < 1e-14, "{l} vs {want}");
    // Efron with two tied events: log R + log(R − D/2) − Σ η, over 2 events.
    let (a, b) = (0.5f64, -0.3f64);
    let r = a.exp() + b.exp();
    let want = (r.ln() + (r - r / 2.0).ln() - a - b) / 2.0;
    let l = cox_nll(&t64(&[a, b]), &[4.0, 4.0], &[true, true], CoxTies::Efron)
        .unwrap()
        .double_value(&[]);
    assert!((l - want).abs() < 1e-14);
}

#[test]
fn cox_is_overflow_safe_and_zero_without_events() {
    let x = t64(&[800.0, -800.0, 799.0]).set_requires_grad(true);
    let l = cox_nll(&x, &[1.0, 2.0, 3.0], &[true, true, false], CoxTies::Efron).unwrap();
    assert!(l.double_value(&[]).is_finite());
    l.backward();
    assert!(Vec::<f64>::try_from(x.grad())
        .unwrap()
        .iter()
        .all(|g| g.is_finite()));

    let x = t64(&[0.5, 1.0]).set_requires_grad(true);
    let l = cox_nll(&x, &[1.0, 2.0], &[false, false], CoxTies::Breslow).unwrap();
    assert_eq!(l.double_value(&[]), 0.0);
    l.backward();
    assert_eq!(Vec::<f64>::try_from(x.grad()).unwrap(), vec![0.0, 0.0]);
}

#[test]
fn cox_computes_in_f64_and_returns_the_input_kind() {
    let x = Tensor::from_slice(&[0.1f32, 0.2, 0.3]).reshape([3, 1]);
    let l = cox_nll(&x, &[1.0, 2.0, 3.0], &[true, true, true], CoxTies::Breslow).unwrap();
    assert_eq!(l.kind(), Kind::Float);
    assert!(cox_nll(&x, &[1.0, 2.0], &[true, true], CoxTies::Breslow).is_err());
    assert!(cox_nll(&x, &[1.0, f64::NAN, 3.0], &[true; 3], CoxTies::Breslow).is_err());
    assert!(cox_nll(
        &x.reshape([1, 3]),
        &[1.0, 2.0, 3.0],
        &[true; 3],
        CoxTies::Breslow
    )
    .is_err());
}

#[test]
fn dice_and_focal_values() {
    // Perfect, confident prediction: Dice → −K.
    let target = Tensor::zeros([1, 2, 4, 4, 4], (Kind::Float, Device::Cpu));
    let _ = target.narrow(2, 0, 2).fill_(1.0);
    let logits = (&target * 2.0 - 1.0) * 50.0;
    let d = dice_loss(&logits, &target).unwrap().double_value(&[]);
    assert!((d + 2.0).abs() < 1e-6, "{d}");
    // Logits 0: p = 0.5 everywhere; Dice per channel = −2·(0.5·32)/(0.5·64 + 32) = −0.5.
    let d0 = dice_loss(&logits.zeros_like(), &target)
        .unwrap()
        .double_value(&[]);
    assert!((d0 + 1.0).abs() < 1e-6, "{d0}");
    // Focal at p = 0.5: each voxel 0.25·log 2 scaled by α (pos) or 1 − α (neg), half each.
    let f = focal_loss(&logits.zeros_like(), &target, 0.25, 2.0)
        .unwrap()
        .double_value(&[]);
    let per = 0.25 * std::f64::consts::LN_2 * (0.5 * 0.25 + 0.5 * 0.75);
    assert!((f - 2.0 * per).abs() < 1e-6, "{f} vs {}", 2.0 * per);
    let wrong = Tensor::zeros([1, 1, 4, 4, 4], (Kind::Float, Device::Cpu));
    assert!(dice_loss(&logits, &wrong).is_err());
}

#[test]
fn discrete_time_encoding_follows_the_released_code() {
    let breaks = [0.0, 300.0, 600.0, 900.0];
    // Event at 450: survived interval 0, fails in interval 1.
    // Censored at 500: survived interval 0 (midpoint 150) and 1 (midpoint 450), not 2.
    // Event after the last break: survives everything, fails nowhere.
    let t =
        DiscreteTimeTarget::encode(&[450.0, 500.0, 1000.0], &[true, false, true], &breaks).unwrap();
    let surv = Vec::<f32>::try_from(t.surv.reshape([-1])).unwrap();
    let fail = Vec::<f32>::try_from(t.fail.reshape([-1])).unwrap();
    assert_eq!(surv, vec![1., 0., 0., 1., 1., 0., 1., 1., 1.]);
    assert_eq!(fail, vec![0., 1., 0., 0., 0., 0., 0., 0., 0.]);
    assert!(DiscreteTimeTarget::encode(&[1.0], &[true], &[0.0, 0.0]).is_err());

    // Loss by hand for one subject, logits 0 (s = 0.5): mean over 3 intervals of
    // log max(1 + surv(s−1), 1e-5) + log max(1 − fail·s, 1e-5).
    let one = DiscreteTimeTarget::encode(&[450.0], &[true], &breaks).unwrap();
    let l = discrete_time_loss(&Tensor::zeros([1, 3], (Kind::Float, Device::Cpu)), &one)
        .unwrap()
        .double_value(&[]);
    let want = -(0.5f64.ln() + 0.5f64.ln()) / 3.0;
    assert!((l - want).abs() < 1e-6, "{l} vs {want}");

    // Risk: s = 0.5 ⇒ survival 0.5, 0.25, 0.125 at the ends of widths 300 each.
    let r = discrete_time_risk(&Tensor::zeros([1, 3], (Kind::Double, Device::Cpu)), &breaks)
        .unwrap()
        .double_value(&[0]);
    assert!((r + 300.0 * 0.875).abs() < 1e-9);
}
