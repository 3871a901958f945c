//! Harrell's concordance index in O(n log n).

use crate::surv::check_finite;
use rayon::prelude::*;

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
    let slices = match weights {
        _ if y.len() < PARALLEL_MIN_N => 1,
        Some(_) => SLICES,
        None => rayon::current_num_threads().clamp(1, 2 * SLICES),
    };
    sliced(y, risk, tied_tol, weights, slices)
}

/// [`concordance`] with the sweep cut into `slices` parallel slices.
fn sliced(
    y: &[Surv],
    risk: &[f64],
    tied_tol: f64,
    weights: Option<&[f64]>,
    slices: usize,
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
    // Risk order and time order (stable radix sorts) are independent: two threads.
    let n = y.len();
    if n >= 1 << 30 {
        return Err(Error::InvalidParameter(format!(
            "{n} subjects: the concordance index takes fewer than 2^30"
        )));
    }
    let (by_risk, by_time) = rayon::join(
        || {
            let mut keyed: Vec<(f64, u32)> = risk
                .iter()
                .enumerate()
                .map(|(i, &r)| (r, i as u32))
                .collect();
            radsort::sort_by_key(&mut keyed, |p| p.0);
            keyed
        },
        || {
            // The censored subjects first, then the events, each in index order: the sort is
            // stable, so every tie group comes out censored first (as the sweep takes it),
            // each part in index order. The tag carries the subject and its event.
            let censored = y.iter().filter(|s| !s.event()).count();
            let mut keyed = vec![(0.0, 0u32); n];
            let (mut c, mut v) = (0, censored);
            for (i, s) in y.iter().enumerate() {
                // Branch-free: events and censorings alternate unpredictably.
                let event = usize::from(s.event());
                keyed[if event == 1 { v } else { c }] =
                    (s.time(), ((i as u32) << 1) | event as u32);
                v += event;
                c += 1 - event;
            }
            radsort::sort_by_key(&mut keyed, |p| p.0);
            keyed
        },
    );
    // For each subject: its position in risk order and the range of positions whose risk lies
    // within ±tol of its own (two pointers over the sorted risks): below `lo` concordant,
    // from `hi` on discordant.
    let mut info = vec![[0u32; 3]; n];
    let (mut a, mut b) = (0usize, 0usize);
    for (p, &(r, i)) in by_risk.iter().enumerate() {
        while by_risk[a].0 < r - tied_tol {
            a += 1;
        }
        while b < n && by_risk[b].0 <= r + tied_tol {
            b += 1;
        }
        info[i as usize] = [p as u32, a as u32, b as u32];
    }
    drop(by_risk);
    // Everything the sweep reads, laid out in time order so it streams through memory.
    let rows: Vec<Row> = by_time
        .par_iter()
        .enumerate()
        .map(|(t, &(time, tag))| {
            let [rank, lo, hi] = info[(tag >> 1) as usize];
            let first = t == 0 || by_time[t - 1].0 != time;
            Row {
                rank,
                lo,
                hi,
                tag: ((tag >> 1) << 2) | (u32::from(first) << 1) | (tag & 1),
            }
        })
        .collect();
    drop((info, by_time));
    // Cut the time order into slices at tie boundaries and sweep them in parallel: a slice sees
    // the subjects of the later slices through a static prefix count over ranks.
    let mut cuts = vec![0usize];
    for k in 1..slices {
        let mut c = (n * k / slices).max(cuts[k - 1]);
        while c < n && !rows[c].first() {
            c += 1;
        }
        cuts.push(c);
    }
    cuts.push(n);
    let parts: Vec<Sweep> = cuts
        .windows(2)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|w| sweep(&rows, w[0], w[1], weights))
        .collect();
    let (mut conc, mut disc, mut tied, mut tied_time) = (0u64, 0u64, 0u64, 0u64);
    let (mut num, mut den) = (0.0f64, 0.0f64);
    for p in &parts {
        conc += p.concordant;
        disc += p.discordant;
        tied += p.tied_risk;
        tied_time += p.tied_time;
        num += p.num;
        den += p.den;
    }
    if weights.is_none() {
        // Whole numbers and halves, exact in f64 at any n accepted here.
        num = conc as f64 + 0.5 * tied as f64;
        den = (conc + disc + tied) as f64;
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

/// From this many subjects on, the sweep runs in parallel slices.
const PARALLEL_MIN_N: usize = 1 << 15;
/// Number of slices of a parallel weighted sweep (fixed, so that the floating-point sums do
/// not depend on the thread count; unweighted counts are whole numbers and take one slice per
/// thread).
const SLICES: usize = 4;

/// One subject, in time order, as the sweep reads it.
#[derive(Clone, Copy)]
struct Row {
    /// Position of the subject's risk in risk order.
    rank: u32,
    /// Risk positions below `lo` are lower by more than the tolerance, from `hi` on higher.
    lo: u32,
    hi: u32,
    /// `subject << 2 | first << 1 | event`, `first` when the row opens its time's tie group.
    tag: u32,
}

impl Row {
    fn event(self) -> u32 {
        self.tag & 1
    }

    fn first(self) -> bool {
        self.tag & 2 != 0
    }

    fn subject(self) -> usize {
        (self.tag >> 2) as usize
    }
}

/// Pair counts and weighted sums of the events in one slice of the time order.
#[derive(Default)]
struct Sweep {
    concordant: u64,
    discordant: u64,
    tied_risk: u64,
    tied_time: u64,
    num: f64,
    den: f64,
}

impl Sweep {
    /// Counts the pairs of `row` (counted only if it is an event) with the `pool` subjects of
    /// `set` and `after`, `censored` of them censored at its own time.
    #[inline(always)]
    fn count(
        &mut self,
        row: Row,
        set: &RankSet,
        after: Option<&FrozenRankSet>,
        pool: u64,
        censored: u64,
        weights: Option<&[f64]>,
    ) {
        // Below r − tol: concordant; within ±tol: tied; above: discordant.
        let below = |end: usize| set.below(end) + after.map_or(0, |a| a.below(end));
        let lower = below(row.lo as usize);
        // [lo, hi) always holds the subject's own rank, which is not counted yet: when it is
        // the only one, no risk ties with it.
        let up_to = if row.hi == row.lo + 1 {
            lower
        } else {
            below(row.hi as usize)
        };
        // Branch-free: events and censorings alternate unpredictably.
        let m = u64::from(row.event());
        self.concordant += m * lower;
        self.tied_risk += m * (up_to - lower);
        self.discordant += m * (pool - up_to);
        self.tied_time += m * censored;
        if let Some(w) = weights {
            let w = if m == 1 { w[row.subject()] } else { 0.0 };
            self.num += w * (lower as f64 + 0.5 * (up_to - lower) as f64);
            self.den += w * pool as f64;
        }
    }
}

/// Counts the comparable pairs whose earlier member is an event in `rows[start..end]`
/// (a run of whole tie groups). Groups are swept from the latest time down while a rank set
/// holds the slice's later subjects (and the censored subjects of the current time); the
/// subjects after `end` are all later and are counted through a static prefix count.
fn sweep(rows: &[Row], start: usize, end: usize, weights: Option<&[f64]>) -> Sweep {
    let n = rows.len();
    let after =
        (end < n).then(|| FrozenRankSet::new(n, rows[end..].iter().map(|r| r.rank as usize)));
    let after = after.as_ref();
    let mut set = RankSet::new(n);
    let mut out = Sweep::default();
    let mut later = (n - end) as u64;
    let mut e = end;
    while e > start {
        let mut s = e - 1;
        while !rows[s].first() {
            s -= 1;
        }
        if s + 1 == e {
            let row = rows[s];
            out.count(row, &set, after, later, 0, weights);
            set.insert(row.rank as usize);
        } else {
            // A tie group comes censored first (the time sort's input order).
            let tied = &rows[s..e];
            let censored = tied.partition_point(|r| r.event() == 0);
            for row in &tied[..censored] {
                set.insert(row.rank as usize);
            }
            let pool = later + censored as u64;
            for &row in &tied[censored..] {
                out.count(row, &set, after, pool, censored as u64, weights);
            }
            for row in &tied[censored..] {
                set.insert(row.rank as usize);
            }
        }
        later += (e - s) as u64;
        e = s;
    }
    out
}

/// A set of distinct ranks `0..n` counting its members below a rank in a fixed number of
/// steps: a bitmap, and above its 64-bit words a tree of fan-out 16 whose every node holds the
/// members under its earlier siblings. A count reads one node per level; an insertion adds to
/// the later siblings of one node per level (one 64-byte block). Everything stays in cache
/// (n = 10⁶: 125 KB of bits, 66 KB of nodes).
struct RankSet {
    bits: Vec<u64>,
    /// `levels[0]` per word, `levels[1]` per 16 words, …; each padded to whole blocks of 16.
    levels: Vec<Vec<u32>>,
}

impl RankSet {
    fn new(n: usize) -> Self {
        let words = n / 64 + 1;
        let mut levels = Vec::new();
        let mut len = words;
        loop {
            levels.push(vec![0; len.div_ceil(16) * 16]);
            if len <= 16 {
                break;
            }
            len = len.div_ceil(16);
        }
        Self {
            bits: vec![0; words],
            levels,
        }
    }

    /// Adds `rank` (not yet a member).
    #[inline(always)]
    fn insert(&mut self, rank: usize) {
        let w = rank / 64;
        self.bits[w] |= 1 << (rank % 64);
        let mut node = w;
        for level in &mut self.levels {
            let first = node & !15;
            // u32 lanes, so that the block is added in vector registers.
            let k = (node & 15) as u32;
            for (j, c) in (0u32..).zip(&mut level[first..first + 16]) {
                *c += u32::from(j > k);
            }
            node >>= 4;
        }
    }

    /// Number of members `< end` (`end ≤ n`).
    #[inline(always)]
    fn below(&self, end: usize) -> u64 {
        let w = end / 64;
        let mut s = (self.bits[w] & ((1u64 << (end % 64)) - 1)).count_ones();
        let mut node = w;
        for level in &self.levels {
            s += level[node];
            node >>= 4;
        }
        u64::from(s)
    }
}

/// A set of ranks that no longer changes: a bitmap and the member count before each word.
struct FrozenRankSet {
    bits: Vec<u64>,
    /// Members in the words before each word.
    before: Vec<u32>,
}

impl FrozenRankSet {
    /// The set of `ranks` (distinct, `< n`).
    fn new(n: usize, ranks: impl Iterator<Item = usize>) -> Self {
        let mut bits = vec![0u64; n / 64 + 1];
        for r in ranks {
            bits[r / 64] |= 1 << (r % 64);
        }
        let mut before = Vec::with_capacity(bits.len());
        let mut total = 0u32;
        for w in &bits {
            before.push(total);
            total += w.count_ones();
        }
        Self { bits, before }
    }

    /// Number of members `< end` (`end ≤ n`).
    #[inline(always)]
    fn below(&self, end: usize) -> u64 {
        let w = end / 64;
        u64::from(self.before[w])
            + u64::from((self.bits[w] & ((1u64 << (end % 64)) - 1)).count_ones())
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
            for slices in 1..=5 {
                match sliced(&y, &risk, 1e-8, None, slices) {
                    Ok(got) => assert_eq!(
                        (got.concordant, got.discordant, got.tied_risk, got.tied_time),
                        (c, d, t, tt),
                        "n = {n}, {slices} slices"
                    ),
                    Err(_) => assert_eq!(c + d + t, 0),
                }
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
