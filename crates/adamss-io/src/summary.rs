//! A one-line-per-patient summary of a cohort (what `adamss cohort` prints).

use std::fmt;

use crate::synthetic::TruthRow;
use crate::{Case, Cohort, Dataset, Error, Surv};

/// What one patient's files hold: grids, labelled volumes, PET maximum, endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSummary {
    /// Patient id.
    pub id: String,
    /// CT shape, voxels.
    pub ct_shape: [usize; 3],
    /// CT spacing, mm.
    pub ct_spacing: [f64; 3],
    /// PET shape, voxels.
    pub pet_shape: [usize; 3],
    /// PET spacing, mm.
    pub pet_spacing: [f64; 3],
    /// Labelled GTVp (label 1) and GTVn (label 2) volumes in ml (0 without a label file).
    pub label_ml: [f64; 2],
    /// Largest PET value (SUV).
    pub suv_max: f32,
    /// Endpoint, if known.
    pub survival: Option<Surv>,
    /// The synthetic generator's true log hazard ratio, when a truth table was given.
    pub true_risk: Option<f64>,
}

impl CaseSummary {
    /// Summarises a loaded case.
    pub fn of(case: &Case) -> Self {
        let mut label_ml = [0.0; 2];
        if let Some(mask) = &case.mask {
            let ml = mask.geometry().spacing.iter().product::<f64>() / 1000.0;
            for (k, v) in label_ml.iter_mut().enumerate() {
                *v = mask
                    .data()
                    .iter()
                    .filter(|&&l| usize::from(l) == k + 1)
                    .count() as f64
                    * ml;
            }
        }
        Self {
            id: case.id.clone(),
            ct_shape: case.ct.shape(),
            ct_spacing: case.ct.geometry().spacing,
            pet_shape: case.pet.shape(),
            pet_spacing: case.pet.geometry().spacing,
            label_ml,
            suv_max: case.pet.data().iter().copied().fold(f32::MIN, f32::max),
            survival: case.survival,
            true_risk: None,
        }
    }
}

/// Every patient of a cohort read and summarised; patients that fail to load are kept with
/// their error.
#[derive(Debug)]
pub struct CohortSummary {
    /// One entry per patient, in cohort order.
    pub cases: Vec<std::result::Result<CaseSummary, (String, Error)>>,
}

impl CohortSummary {
    /// Reads every patient of `cohort` (one at a time) and summarises it; `truth` adds the
    /// synthetic generator's true risk by id.
    pub fn of(cohort: &Cohort, truth: Option<&[TruthRow]>) -> Self {
        let cases = (0..cohort.len())
            .map(|i| {
                let case = cohort
                    .get(i)
                    .map_err(|e| (cohort.records()[i].id.clone(), e))?;
                let mut s = CaseSummary::of(&case);
                s.true_risk = truth
                    .and_then(|t| t.iter().find(|r| r.patient_id == s.id))
                    .map(|r| r.true_risk);
                Ok(s)
            })
            .collect();
        Self { cases }
    }

    /// Patients that loaded.
    pub fn loaded(&self) -> impl Iterator<Item = &CaseSummary> {
        self.cases.iter().filter_map(|c| c.as_ref().ok())
    }
}

impl fmt::Display for CohortSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<10} {:>13} {:>16} {:>13} {:>16} {:>8} {:>8} {:>7} {:>6} {:>5} {:>9}",
            "patient",
            "CT shape",
            "CT spacing mm",
            "PET shape",
            "PET spacing mm",
            "GTVp ml",
            "GTVn ml",
            "SUVmax",
            "RFS d",
            "event",
            "true risk"
        )?;
        let shape = |v: [usize; 3]| format!("{}×{}×{}", v[0], v[1], v[2]);
        let spacing = |v: [f64; 3]| format!("{:.2}×{:.2}×{:.2}", v[0], v[1], v[2]);
        for case in &self.cases {
            let c = match case {
                Ok(c) => c,
                Err((id, e)) => {
                    writeln!(f, "{id:<10} error: {e}")?;
                    continue;
                }
            };
            let (time, event) = c
                .survival
                .map_or((f64::NAN, false), |s| (s.time(), s.event()));
            writeln!(
                f,
                "{:<10} {:>13} {:>16} {:>13} {:>16} {:>8.1} {:>8.1} {:>7.1} {:>6.0} {:>5} {:>9}",
                c.id,
                shape(c.ct_shape),
                spacing(c.ct_spacing),
                shape(c.pet_shape),
                spacing(c.pet_spacing),
                c.label_ml[0],
                c.label_ml[1],
                c.suv_max,
                time,
                if event { "yes" } else { "no" },
                c.true_risk.map_or("-".to_string(), |r| format!("{r:+.2}"))
            )?;
        }
        let loaded = self.loaded().count();
        let events = self
            .loaded()
            .filter(|c| c.survival.is_some_and(|s| s.event()))
            .count();
        write!(
            f,
            "\n{loaded} cases loaded, {} failed; {events} events ({:.0} %)",
            self.cases.len() - loaded,
            100.0 * events as f64 / loaded.max(1) as f64
        )
    }
}
