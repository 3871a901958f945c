//! The validated right-censored observation.

use ndarray::Array1;

use crate::{Error, Result};

/// One right-censored observation: a time (≥ 0, finite) and whether the event was observed.
/// The workspace's one endpoint type, defined in adamss-io (cohorts read it from endpoint
/// tables) and used here as it is: [`Surv::new`] checks, [`Surv::slice`] turns an
/// `Array1<Surv>` (a linfa dataset's targets) into the `&[Surv]` the functions take.
pub use adamss_io::Surv;

/// An event flag as tables store it: `bool`, or a 0/1 code (`u8`, `i32`, `i64`, `u32`,
/// `usize`, and `f64`/`f32` as pandas and CSV readers give them). 1 = event observed, 0 =
/// censored; any other value is refused by [`surv_from`], naming its position (lifelines
/// and scikit-survival read the same two codes).
pub trait EventIndicator: Copy {
    /// `Some(true)` for an observed event, `Some(false)` for censoring, `None` otherwise.
    fn as_event(self) -> Option<bool>;
    /// The value as written in an error message.
    fn describe(self) -> String;
}

impl EventIndicator for bool {
    fn as_event(self) -> Option<bool> {
        Some(self)
    }
    fn describe(self) -> String {
        self.to_string()
    }
}

macro_rules! event_codes {
    ($($t:ty),*) => {$(
        impl EventIndicator for $t {
            #[allow(clippy::float_cmp)]
            fn as_event(self) -> Option<bool> {
                if self == 1 as $t {
                    Some(true)
                } else if self == 0 as $t {
                    Some(false)
                } else {
                    None
                }
            }
            fn describe(self) -> String {
                self.to_string()
            }
        }
    )*};
}
event_codes!(u8, i32, i64, u32, usize, f32, f64);

/// Builds checked observations from parallel slices of times and event flags (`bool` or 0/1
/// codes, see [`EventIndicator`]); errors name the offending index. From ndarray columns:
/// `surv_from(t.as_slice().unwrap(), …)` or `surv_from(&t.to_vec(), …)`.
///
/// The result is an `Array1<Surv>`, the target type of a linfa `Dataset`; the functions of
/// this crate take `&[Surv]`, which `y.as_slice()` (always `Some` here: the array is
/// contiguous) or `Surv::slice(y.view())` give.
pub fn surv_from<E: EventIndicator>(time: &[f64], event: &[E]) -> Result<Array1<Surv>> {
    if time.len() != event.len() {
        return Err(Error::LengthMismatch {
            what: "event",
            got: event.len(),
            expected: time.len(),
        });
    }
    time.iter()
        .zip(event)
        .enumerate()
        .map(|(index, (&t, &e))| {
            let flag = e.as_event().ok_or_else(|| {
                Error::InvalidParameter(format!(
                    "event at index {index} is {}: use 1 (event) or 0 (censored)",
                    e.describe()
                ))
            })?;
            Surv::new(t, flag).map_err(|_| Error::InvalidTime { index, value: t })
        })
        .collect()
}

/// Checks that `values` has `n` finite entries.
pub(crate) fn check_finite(what: &'static str, values: &[f64], n: usize) -> Result<()> {
    if values.len() != n {
        return Err(Error::LengthMismatch {
            what,
            got: values.len(),
            expected: n,
        });
    }
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(Error::NonFinite {
            what,
            index,
            value: values[index],
        }),
        None => Ok(()),
    }
}

/// Checks delayed-entry times: one per subject, each finite, ≥ 0 and before the subject's own
/// time (a subject is at risk on `(entry, time]`; lifelines and R refuse `entry ≥ time` too).
pub(crate) fn check_entry(entry: &[f64], y: &[Surv]) -> Result<()> {
    check_entry_times(entry, |i| y[i].time(), y.len())
}

/// [`check_entry`] against the subjects' times given by `time(i)`, `n` of them.
pub(crate) fn check_entry_times(
    entry: &[f64],
    time: impl Fn(usize) -> f64,
    n: usize,
) -> Result<()> {
    check_finite("entry time", entry, n)?;
    match (0..n).find(|&i| !(entry[i] >= 0.0 && entry[i] < time(i))) {
        Some(index) => Err(Error::InvalidParameter(format!(
            "entry time {} at index {index} must be >= 0 and before that subject's time {}: a \
             subject is at risk on (entry, time]",
            entry[index],
            time(index)
        ))),
        None => Ok(()),
    }
}

/// Subjects in order of decreasing entry time, handed out as a sweep from the latest time down
/// passes below their entries: the ones leaving the risk sets.
pub(crate) struct Leavers<'a> {
    entry: &'a [f64],
    order: Vec<usize>,
    next: usize,
}

impl<'a> Leavers<'a> {
    /// The subjects of `entry` (none without entry times).
    pub(crate) fn new(entry: Option<&'a [f64]>) -> Self {
        let entry = entry.unwrap_or(&[]);
        let mut order: Vec<usize> = (0..entry.len()).collect();
        order.sort_by(|&a, &b| entry[b].total_cmp(&entry[a]));
        Self {
            entry,
            order,
            next: 0,
        }
    }

    /// Those not handed out yet whose entry is at or after `t` (not at risk at `t`); `t` must
    /// not increase from call to call.
    pub(crate) fn at(&mut self, t: f64) -> &[usize] {
        let start = self.next;
        while self.next < self.order.len() && self.entry[self.order[self.next]] >= t {
            self.next += 1;
        }
        &self.order[start..self.next]
    }
}

/// The total weight at risk at each of the ascending `times` with delayed entry: `Σ w_i` over
/// `entry_i < t ≤ time_i`, as the weight with `time ≥ t` less the weight with `entry ≥ t`
/// (exact for integer weights).
pub(crate) fn at_risk_with_entry(
    y: &[Surv],
    entry: &[f64],
    weight: impl Fn(usize) -> f64,
    times: &[f64],
) -> Vec<f64> {
    let mut by_time: Vec<usize> = (0..y.len()).collect();
    by_time.sort_by(|&a, &b| y[b].time().total_cmp(&y[a].time()));
    let mut leavers = Leavers::new(Some(entry));
    let mut a = 0;
    let (mut in_time, mut not_entered) = (0.0, 0.0);
    let mut out = vec![0.0; times.len()];
    for (k, &t) in times.iter().enumerate().rev() {
        while a < by_time.len() && y[by_time[a]].time() >= t {
            in_time += weight(by_time[a]);
            a += 1;
        }
        not_entered += leavers.at(t).iter().map(|&i| weight(i)).sum::<f64>();
        out[k] = in_time - not_entered;
    }
    out
}

/// Checks a Cox design: one row per subject, finite covariates, at least one event.
pub(crate) fn check_design(x: ndarray::ArrayView2<f64>, y: &[Surv]) -> Result<()> {
    if x.nrows() != y.len() {
        return Err(Error::LengthMismatch {
            what: "survival targets",
            got: y.len(),
            expected: x.nrows(),
        });
    }
    if y.is_empty() {
        return Err(Error::Empty);
    }
    if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::NonFinite {
            what: "covariate",
            index,
            value,
        });
    }
    if !y.iter().any(|s| s.event()) {
        return Err(Error::Undefined(
            "no events: the Cox likelihood is flat".into(),
        ));
    }
    Ok(())
}

/// Population standard deviation of each column; a constant column is an error.
pub(crate) fn column_sd(x: ndarray::ArrayView2<f64>) -> Result<Array1<f64>> {
    let sd = x.std_axis(ndarray::Axis(0), 0.0);
    match sd.iter().position(|&s| s == 0.0) {
        Some(k) => Err(Error::InvalidParameter(format!(
            "covariate column {k} is constant"
        ))),
        None => Ok(sd),
    }
}

/// Subject indices by increasing time, ties kept in index order (a stable LSD radix sort on
/// the times' bits: the order of `total_cmp` then index, in O(n)).
pub(crate) fn time_order(y: &[Surv]) -> Vec<usize> {
    let mut keyed: Vec<(f64, usize)> = y.iter().enumerate().map(|(i, s)| (s.time(), i)).collect();
    radsort::sort_by_key(&mut keyed, |p| p.0);
    keyed.into_iter().map(|p| p.1).collect()
}

/// Indices sorted by time ascending (stable), and the `[start, end)` ranges of equal times.
pub(crate) fn time_groups(y: &[Surv]) -> (Vec<usize>, Vec<(usize, usize)>) {
    let order = time_order(y);
    let mut groups = Vec::new();
    let mut start = 0;
    while start < order.len() {
        let t = y[order[start]].time();
        let mut end = start + 1;
        while end < order.len() && y[order[end]].time() == t {
            end += 1;
        }
        groups.push((start, end));
        start = end;
    }
    (order, groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation() {
        assert!(Surv::new(0.0, true).is_ok());
        assert!(Surv::new(-1.0, true).is_err());
        assert!(Surv::new(f64::NAN, false).is_err());
        assert!(Surv::new(f64::INFINITY, false).is_err());
        let e = surv_from(&[1.0, -2.0], &[true, false]).unwrap_err();
        assert!(matches!(e, Error::InvalidTime { index: 1, .. }));
        assert!(surv_from(&[1.0], &[true, false]).is_err());
    }

    #[test]
    fn groups_of_equal_times() {
        let y = surv_from(&[3.0, 1.0, 3.0, 2.0], &[true, true, false, true]).unwrap();
        let (order, groups) = time_groups(y.as_slice().unwrap());
        assert_eq!(order, [1, 3, 0, 2]);
        assert_eq!(groups, [(0, 1), (1, 2), (2, 4)]);
    }
}
