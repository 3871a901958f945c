//! The survival endpoint: one validated right-censored observation, the one endpoint type of
//! the workspace (cohorts read it from endpoint tables; adamss-survival's models and metrics
//! take it as `Surv`).

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// One right-censored observation: a time (≥ 0, finite; HECKTOR: recurrence-free survival in
/// days) and whether the event (e.g. relapse) was observed.
///
/// Fields are private so every `Surv` is valid ([`Surv::new`] checks, and so does
/// deserialising). As a linfa target, survival data are an `Array1<Surv>` (so
/// `DatasetBase<Array2<f64>, Array1<Surv>>` works with linfa's folds).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "SurvFields")]
pub struct Surv {
    time: f64,
    event: bool,
}

/// What a serialised `Surv` holds, checked on the way in.
#[derive(Deserialize)]
struct SurvFields {
    time: f64,
    event: bool,
}

impl TryFrom<SurvFields> for Surv {
    type Error = Error;
    fn try_from(f: SurvFields) -> Result<Self> {
        Surv::new(f.time, f.event)
    }
}

impl Surv {
    /// A checked observation: `time` must be finite and ≥ 0 ([`Error::InvalidEndpoint`]).
    pub fn new(time: f64, event: bool) -> Result<Self> {
        if time.is_finite() && time >= 0.0 {
            Ok(Self { time, event })
        } else {
            Err(Error::InvalidEndpoint { time })
        }
    }

    /// Time to event or censoring.
    pub fn time(&self) -> f64 {
        self.time
    }

    /// `true` when the event was observed, `false` when censored.
    pub fn event(&self) -> bool {
        self.event
    }

    /// The observations of an array (adamss-survival's `surv_from`, or a linfa dataset's
    /// targets) as the slice functions take, copying only when the array is not contiguous.
    pub fn slice(y: ndarray::ArrayView1<'_, Surv>) -> std::borrow::Cow<'_, [Surv]> {
        match y.to_slice() {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None => std::borrow::Cow::Owned(y.to_vec()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_valid_observations_exist() {
        assert!(Surv::new(0.0, true).is_ok());
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(matches!(
                Surv::new(bad, false),
                Err(Error::InvalidEndpoint { .. })
            ));
        }
        let ok: Surv = serde_json::from_str(r#"{"time": 3.5, "event": true}"#).unwrap();
        assert_eq!((ok.time(), ok.event()), (3.5, true));
        assert!(serde_json::from_str::<Surv>(r#"{"time": -1, "event": true}"#).is_err());
    }
}
