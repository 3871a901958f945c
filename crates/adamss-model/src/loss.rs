//! Losses on tensors: Dice, focal, Cox partial likelihood, the discrete-time likelihood and
//! the head's L2 penalty.
//!
//! Segmentation losses take logits `[N, K, …]` and binary targets of the same shape and
//! return a scalar: each structure (channel) contributes with weight 1, as in the released
//! code (GTVp and GTVn).

use serde::{Deserialize, Serialize};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};

fn check_seg(logits: &Tensor, target: &Tensor) -> Result<()> {
    let (l, t) = (logits.size(), target.size());
    if l.len() < 3 || l != t {
        return Err(Error::Shape(format!(
            "segmentation logits {l:?} and target {t:?} must share a shape [N, K, …]"
        )));
    }
    Ok(())
}

fn spatial_dims(t: &Tensor) -> Vec<i64> {
    (2..t.dim() as i64).collect()
}

/// Soft Dice loss: per sample and structure `−2Σ(y·p) / max(Σ(y + p), 1e-5)` with
/// `p = sigmoid(logits)`, averaged over the batch and summed over structures.
/// Ranges from −K (perfect) to 0.
pub fn dice_loss(logits: &Tensor, target: &Tensor) -> Result<Tensor> {
    check_seg(logits, target)?;
    let p = logits.sigmoid();
    let dims = spatial_dims(&p);
    let target = target.to_kind(p.kind());
    let inter = (&p * &target).sum_dim_intlist(dims.as_slice(), false, None::<Kind>);
    let denom = (&p + &target)
        .sum_dim_intlist(dims.as_slice(), false, None::<Kind>)
        .clamp_min(1e-5);
    Ok((inter * -2.0 / denom)
        .mean_dim([0i64].as_slice(), false, None::<Kind>)
        .sum(None::<Kind>))
}

/// Focal loss (α = `alpha` for the positive class, focusing `gamma`) on
/// `p = clamp(sigmoid(logits), 1e-5, 1 − 1e-5)`: mean over batch and voxels per structure,
/// summed over structures. Released code: α 0.25, γ 2.
pub fn focal_loss(logits: &Tensor, target: &Tensor, alpha: f64, gamma: f64) -> Result<Tensor> {
    check_seg(logits, target)?;
    let p = logits.sigmoid().clamp(1e-5, 1.0 - 1e-5);
    let y = target.to_kind(p.kind());
    let one_p = p.ones_like() - &p;
    let one_y = y.ones_like() - &y;
    let pos = &y * one_p.pow_tensor_scalar(gamma) * p.log() * (-alpha);
    let neg = one_y * p.pow_tensor_scalar(gamma) * one_p.log() * (-(1.0 - alpha));
    let mut dims = vec![0i64];
    dims.extend(spatial_dims(&p));
    Ok((pos + neg)
        .mean_dim(dims.as_slice(), false, None::<Kind>)
        .sum(None::<Kind>))
}

/// Handling of tied event times in the Cox partial likelihood.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoxTies {
    /// Breslow's approximation: every tied event sees the full risk set.
    #[default]
    Breslow,
    /// Efron's approximation: tied events leave the risk set in equal fractions.
    Efron,
}

/// Checks right-censored targets for `n` subjects.
fn check_survival(n: usize, time: &[f64], event: &[bool]) -> Result<()> {
    if time.len() != n || event.len() != n {
        return Err(Error::Target(format!(
            "{n} risk scores but {} times and {} event flags",
            time.len(),
            event.len()
        )));
    }
    if let Some((i, t)) = time
        .iter()
        .enumerate()
        .find(|(_, t)| !t.is_finite() || **t < 0.0)
    {
        return Err(Error::Target(format!(
            "time[{i}] = {t}: times must be finite and ≥ 0"
        )));
    }
    Ok(())
}

/// Negative log Cox partial likelihood, **mean over events**, differentiable in `log_risk`.
///
/// `log_risk`: `[N]` or `[N, 1]`, higher = worse. Computed in f64 whatever the input kind
/// (the result is returned in the input's kind), log-sum-exp safe (log-risks of ±800 do not
/// overflow). Subjects censored at an event time stay in that event's risk set. A batch
/// without events gives exactly 0 (with a zero gradient), never NaN.
///
/// Equals `adamss_survival::PartialLikelihood` with the `MeanOverEvents` reduction (tested
/// in the workspace's integration tests).
pub fn cox_nll(log_risk: &Tensor, time: &[f64], event: &[bool], ties: CoxTies) -> Result<Tensor> {
    let size = log_risk.size();
    let n = match size.as_slice() {
        [n] | [n, 1] => usize::try_from(*n).unwrap_or(0),
        _ => {
            return Err(Error::Shape(format!(
                "Cox log-risk must be [N] or [N, 1], got {size:?}"
            )))
        }
    };
    check_survival(n, time, event)?;
    let out_kind = log_risk.kind();
    let eta = log_risk.reshape([-1]).to_kind(Kind::Double);
    let n_events = event.iter().filter(|&&e| e).count();
    if n_events == 0 {
        return Ok((eta.sum(Kind::Double) * 0.0).to_kind(out_kind));
    }
    let device = eta.device();
    // Sort by time descending; events before censored at equal times does not matter for the
    // risk sets because tie groups are closed below.
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| time[b].total_cmp(&time[a]));
    let order_t =
        Tensor::from_slice(&order.iter().map(|&i| i as i64).collect::<Vec<_>>()).to_device(device);
    let eta_sorted = eta.index_select(0, &order_t);
    // log Σ_{j ≤ k} exp(η_j) over the descending order: the risk set of position k, once every
    // subject with the same time is included — take the value at the tie group's last position.
    let lcse = eta_sorted.logcumsumexp(0);
    let mut loss = Tensor::zeros([], (Kind::Double, device));
    let mut start = 0;
    let mut terms: Vec<(i64, Vec<i64>)> = Vec::new(); // (last position of the group, event positions)
    while start < n {
        let t = time[order[start]];
        let mut end = start;
        while end + 1 < n && time[order[end + 1]] == t {
            end += 1;
        }
        let ev: Vec<i64> = (start..=end)
            .filter(|&k| event[order[k]])
            .map(|k| k as i64)
            .collect();
        if !ev.is_empty() {
            terms.push((end as i64, ev));
        }
        start = end + 1;
    }
    for (last, ev) in terms {
        let d = ev.len();
        let log_r = lcse.get(last);
        let ev_t = Tensor::from_slice(&ev).to_device(device);
        let eta_ev = eta_sorted.index_select(0, &ev_t);
        let sum_eta = eta_ev.sum(Kind::Double);
        let log_den = match ties {
            CoxTies::Breslow => log_r * (d as f64),
            CoxTies::Efron if d == 1 => log_r,
            CoxTies::Efron => {
                // Σ_l log(R − (l/d)·D) = d·log R + Σ_l log(1 − (l/d)·D/R), D/R ≤ 1.
                let log_d = eta_ev.logsumexp([0i64].as_slice(), false);
                let ratio = (log_d - &log_r).exp();
                let fracs: Vec<f64> = (0..d).map(|l| l as f64 / d as f64).collect();
                let fr = Tensor::from_slice(&fracs).to_device(device);
                let corr = (fr * &ratio * -1.0 + 1.0).log().sum(Kind::Double);
                log_r * (d as f64) + corr
            }
        };
        loss = loss + log_den - sum_eta;
    }
    Ok((loss / n_events as f64).to_kind(out_kind))
}

/// Targets of the discrete-time survival model for a batch.
#[derive(Debug)]
pub struct DiscreteTimeTarget {
    /// `[N, K]`: 1 where the subject is known to have survived interval k.
    pub surv: Tensor,
    /// `[N, K]`: 1 at the interval where an event happened.
    pub fail: Tensor,
}

impl DiscreteTimeTarget {
    /// Encodes right-censored targets as the released code does, for intervals given by
    /// `breaks` (`b_0 = 0 < … < b_K`): events survive interval k iff `t ≥ b_{k+1}` and fail
    /// at the first k with `t < b_{k+1}`; censored subjects survive interval k iff `t` is at
    /// least its midpoint. Events after the last break fail nowhere. Tensors are f32 on CPU.
    pub fn encode(time: &[f64], event: &[bool], breaks: &[f64]) -> Result<Self> {
        check_survival(time.len(), time, event)?;
        if breaks.len() < 2 || breaks.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::Target(format!(
                "breaks must be increasing with at least two values, got {breaks:?}"
            )));
        }
        let k = breaks.len() - 1;
        let mut surv = vec![0f32; time.len() * k];
        let mut fail = vec![0f32; time.len() * k];
        for (i, (&t, &e)) in time.iter().zip(event).enumerate() {
            let row = &mut surv[i * k..(i + 1) * k];
            if e {
                for (j, s) in row.iter_mut().enumerate() {
                    *s = f32::from(u8::from(t >= breaks[j + 1]));
                }
                if let Some(j) = (0..k).find(|&j| t < breaks[j + 1]) {
                    fail[i * k + j] = 1.0;
                }
            } else {
                for (j, s) in row.iter_mut().enumerate() {
                    let mid = 0.5 * (breaks[j] + breaks[j + 1]);
                    *s = f32::from(u8::from(t >= mid));
                }
            }
        }
        let n = time.len() as i64;
        Ok(Self {
            surv: Tensor::from_slice(&surv).reshape([n, k as i64]),
            fail: Tensor::from_slice(&fail).reshape([n, k as i64]),
        })
    }
}

/// The released code's discrete-time loss (without the head penalty, see
/// [`crate::SurvivalHead::weight_l2`]): with `s = sigmoid(logits)` the conditional survival
/// per interval, `−mean[log max(1 + surv·(s − 1), 1e-5) + log max(1 − fail·s, 1e-5)]`.
pub fn discrete_time_loss(logits: &Tensor, target: &DiscreteTimeTarget) -> Result<Tensor> {
    if logits.size() != target.surv.size() {
        return Err(Error::Shape(format!(
            "discrete-time logits {:?} and targets {:?} differ",
            logits.size(),
            target.surv.size()
        )));
    }
    let s = logits.sigmoid();
    let surv = target.surv.to_device(s.device()).to_kind(s.kind());
    let fail = target.fail.to_device(s.device()).to_kind(s.kind());
    let a = (&surv * (&s - 1.0) + 1.0).clamp_min(1e-5).log();
    let b = (fail * &s * -1.0 + 1.0).clamp_min(1e-5).log();
    Ok(-(a + b).mean(None::<Kind>))
}

/// Risk score from discrete-time logits: minus the area under the predicted survival curve,
/// `−Σ_k (b_{k+1} − b_k)·Π_{j ≤ k} s_j` (survival at each interval's end times its width), so
/// that higher = worse like the Cox log-risk. `[N, K] → [N]`.
pub fn discrete_time_risk(logits: &Tensor, breaks: &[f64]) -> Result<Tensor> {
    let size = logits.size();
    if size.len() != 2 || size[1] as usize + 1 != breaks.len() {
        return Err(Error::Shape(format!(
            "logits {size:?} do not match {} breaks",
            breaks.len()
        )));
    }
    let widths: Vec<f64> = breaks.windows(2).map(|w| w[1] - w[0]).collect();
    let w = Tensor::from_slice(&widths)
        .to_device(logits.device())
        .to_kind(logits.kind());
    let surv = logits.sigmoid().cumprod(1, None::<Kind>);
    Ok(-(surv * w).sum_dim_intlist([1i64].as_slice(), false, None::<Kind>))
}
