//! Harrell's concordance index in O(n log n).

use crate::surv::{check_finite, time_groups};
use crate::{Error, Result, Surv};

/// Default tolerance under which two risk scores count as tied (scikit-survival's `tied_tol`).
pub const DEFAULT_TIED_TOL: f64 = 1e-8;

/// Harrell's C and the pair counts behind it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Concordance {
    /// `(concordant + tied_risk / 2) / comparable pairs`.
    pub c_index: f64,
    /// Comparable pairs ordered correctly (the earlier event has the higher risk).
    pub concordant: u64,
    /// Comparable pairs ordered wrongly.
    pub discordant: u64,
    /// Comparable pairs whose risks differ by at most the tolerance.
    pub tied_risk: u64,
    /// Pairs of an event and a censoring at the same time (comparable, counted as such too).
    pub tied_time: u64,
}

impl Concordance {
    /// Number of comparable pairs.
    pub fn comparable(&self) -> u64 {
        self.concordant + self.discordant + self.tied_risk
    }
}

/// Harrell's C of `risk` (**higher risk = earlier event**) with scikit-survival's rules
/// (`concordance_index_censored`): a pair is comparable when the subject with the shorter
/// time had the event, or when an event and a censoring share a time; pairs with equal event
/// times are not comparable; risks within `tied_tol` count one half. lifelines'
/// `concordance_index` takes predicted *survival times*, so pass it `-risk`.
///
/// O(n log n): subjects are swept from the latest time down while a Fenwick tree over risk
/// ranks counts the risks of those still "later".
pub fn harrell(y: &[Surv], risk: &[f64], tied_tol: f64) -> Result<Concordance> {
    concordance(y, risk, tied_tol, None)
}

/// Harrell's C with per-subject weights `w_i` applied to the pairs where subject `i` has the
/// earlier event: `C = Σ w_i (con_i + tie_i / 2) / Σ w_i comparable_i`. Counts stay unweighted.
pub(crate) fn concordance(
    y: &[Surv],
    risk: &[f64],
    tied_tol: f64,
    weights: Option<&[f64]>,
) -> Result<Concordance> {
    if y.is_empty() {
        return Err(Error::Empty);
    }
    check_finite("risk score", risk, y.len())?;
    if !(tied_tol >= 0.0 && tied_tol.is_finite()) {
        return Err(Error::InvalidParameter(format!(
            "tied_tol = {tied_tol} must be >= 0"
        )));
    }
    // Risk ranks: position of each subject in risk order, and for each position the range of
    // positions whose risk lies within ±tol of it (two pointers over the sorted risks).
    let n = y.len();
    let mut by_risk: Vec<u32> = (0..n as u32).collect();
    by_risk.sort_unstable_by(|&a, &b| risk[a as usize].total_cmp(&risk[b as usize]));
    let sorted: Vec<f64> = by_risk.iter().map(|&i| risk[i as usize]).collect();
    let mut pos = vec![0u32; n];
    for (p, &i) in by_risk.iter().enumerate() {
        pos[i as usize] = p as u32;
    }
    let (mut lo, mut hi) = (vec![0u32; n], vec![0u32; n]);
    let (mut a, mut b) = (0usize, 0usize);
    for p in 0..n {
        while sorted[a] < sorted[p] - tied_tol {
            a += 1;
        }
        while b < n && sorted[b] <= sorted[p] + tied_tol {
            b += 1;
        }
        lo[p] = a as u32;
        hi[p] = b as u32;
    }
    let mut tree = Fenwick::new(n);
    let (order, groups) = time_groups(y);
    let (mut conc, mut disc, mut tied, mut tied_time) = (0u64, 0u64, 0u64, 0u64);
    let (mut num, mut den) = (0.0f64, 0.0f64);
    let mut later = 0u64;
    for &(s, e) in groups.iter().rev() {
        let members = &order[s..e];
        let censored: Vec<usize> = members.iter().copied().filter(|&i| !y[i].event()).collect();
        for &j in &censored {
            tree.add(pos[j] as usize);
        }
        let pool = later + censored.len() as u64;
        for &i in members.iter().filter(|&&i| y[i].event()) {
            // Below r − tol: concordant; within ±tol: tied; above: discordant.
            let p = pos[i] as usize;
            let below = tree.prefix(lo[p] as usize);
            let up_to = tree.prefix(hi[p] as usize);
            conc += below;
            tied += up_to - below;
            disc += pool - up_to;
            tied_time += censored.len() as u64;
            let w = weights.map_or(1.0, |w| w[i]);
            num += w * (below as f64 + 0.5 * (up_to - below) as f64);
            den += w * pool as f64;
        }
        for &i in members.iter().filter(|&&i| y[i].event()) {
            tree.add(pos[i] as usize);
        }
        later += members.len() as u64;
    }
    if conc + disc + tied == 0 || den == 0.0 {
        return Err(Error::Undefined(
            "no comparable pairs (every subject censored, or all event times tied)".into(),
        ));
    }
    Ok(Concordance {
        c_index: num / den,
        concordant: conc,
        discordant: disc,
        tied_risk: tied,
        tied_time,
    })
}

/// A Fenwick (binary indexed) tree of counts over ranks `0..n`.
struct Fenwick {
    tree: Vec<u32>,
}

impl Fenwick {
    fn new(n: usize) -> Self {
        Self {
            tree: vec![0; n + 1],
        }
    }

    fn add(&mut self, rank: usize) {
        let mut i = rank + 1;
        while i < self.tree.len() {
            self.tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }

    /// Count of entries with rank < `end`.
    fn prefix(&self, end: usize) -> u64 {
        let mut i = end.min(self.tree.len() - 1);
        let mut s = 0u64;
        while i > 0 {
            s += u64::from(self.tree[i]);
            i -= i & i.wrapping_neg();
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::surv_from;

    /// O(n²) transcription of scikit-survival's rules.
    fn naive(y: &[Surv], risk: &[f64], tol: f64) -> (u64, u64, u64, u64) {
        let (mut c, mut d, mut t, mut tt) = (0, 0, 0, 0);
        for i in 0..y.len() {
            if !y[i].event() {
                continue;
            }
            for j in 0..y.len() {
                let comparable =
                    y[j].time() > y[i].time() || (y[j].time() == y[i].time() && !y[j].event());
                if !comparable || i == j {
                    continue;
                }
                if y[j].time() == y[i].time() {
                    tt += 1;
                }
                if (risk[i] - risk[j]).abs() <= tol {
                    t += 1;
                } else if risk[i] > risk[j] {
                    c += 1;
                } else {
                    d += 1;
                }
            }
        }
        (c, d, t, tt)
    }

    #[test]
    fn matches_pairwise_definition() {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        for n in [2usize, 3, 10, 57, 200] {
            let time: Vec<f64> = (0..n).map(|_| (next() * 10.0).floor()).collect();
            let event: Vec<bool> = (0..n).map(|_| next() < 0.6).collect();
            let risk: Vec<f64> = (0..n).map(|_| (next() * 5.0).floor() / 2.0).collect();
            let y = surv_from(&time, &event).unwrap().to_vec();
            let (c, d, t, tt) = naive(&y, &risk, 1e-8);
            match harrell(&y, &risk, 1e-8) {
                Ok(got) => assert_eq!(
                    (got.concordant, got.discordant, got.tied_risk, got.tied_time),
                    (c, d, t, tt),
                    "n = {n}"
                ),
                Err(_) => assert_eq!(c + d + t, 0),
            }
        }
    }

    #[test]
    fn perfect_and_reversed_and_edge_cases() {
        let y = surv_from(&[1.0, 2.0, 3.0, 4.0], &[true, true, true, false])
            .unwrap()
            .to_vec();
        assert_eq!(
            harrell(&y, &[4.0, 3.0, 2.0, 1.0], 0.0).unwrap().c_index,
            1.0
        );
        assert_eq!(
            harrell(&y, &[1.0, 2.0, 3.0, 4.0], 0.0).unwrap().c_index,
            0.0
        );
        assert_eq!(harrell(&y, &[1.0; 4], 1e-8).unwrap().c_index, 0.5);
        let censored = surv_from(&[1.0, 2.0], &[false, false]).unwrap().to_vec();
        assert!(matches!(
            harrell(&censored, &[1.0, 2.0], 0.0),
            Err(Error::Undefined(_))
        ));
        let tied = surv_from(&[2.0, 2.0], &[true, true]).unwrap().to_vec();
        assert!(harrell(&tied, &[1.0, 2.0], 0.0).is_err());
        assert!(matches!(
            harrell(&y, &[1.0, f64::NAN, 0.0, 0.0], 0.0),
            Err(Error::NonFinite { index: 1, .. })
        ));
        assert!(harrell(&y, &[1.0], 0.0).is_err());
    }
}
