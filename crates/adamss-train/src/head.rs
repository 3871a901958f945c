//! What the survival head is given besides the images: one fitted, serialisable object used by
//! training and by prediction alike.

use adamss_io::Clinical;
use adamss_radiomics::FeatureSelector;
use serde::{Deserialize, Serialize};

use crate::clinical::{ClinicalEncoder, CLINICAL_PREFIX};
use crate::error::Result;

/// The survival head's inputs besides the images, fitted on one training fold: the clinical
/// encoding, for "AdaMSS + radiomics" the LASSO-selected radiomics (z-scored with the
/// training statistics; a missing value, e.g. from an unusable Stage-I mask, imputed by the
/// training mean), and with `radiomics.head = "offset"` the LASSO-CoxPH model whose log-risk
/// is added to the head's output.
///
/// The head's extra input vector is the selected radiomics followed by the clinical columns
/// ([`HeadInputs::width`] values).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadInputs {
    /// The clinical encoding fitted on the training fold.
    pub clinical: ClinicalEncoder,
    /// The selected radiomics ("AdaMSS + radiomics"), at most `radiomics.max_selected`.
    pub radiomics: Option<FeatureSelector>,
    /// The LASSO-CoxPH model on radiomics + clinical columns whose log-risk is the head's
    /// fixed offset.
    pub offset: Option<FeatureSelector>,
}

/// One patient's head inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct HeadRow {
    /// The extra inputs of the head: selected radiomics (z-scored), then the clinical columns.
    pub extras: Vec<f64>,
    /// Added to the head's risk (0 without an offset model).
    pub offset: f64,
}

impl HeadInputs {
    /// Clinical columns only (the SSL network's head).
    pub fn clinical(clinical: ClinicalEncoder) -> Self {
        Self {
            clinical,
            radiomics: None,
            offset: None,
        }
    }

    /// Whether the head needs radiomics of the patient's Stage-I mask.
    pub fn needs_radiomics(&self) -> bool {
        self.radiomics.is_some() || self.offset.is_some()
    }

    /// Number of extra inputs of the head.
    pub fn width(&self) -> usize {
        self.radiomics.as_ref().map_or(0, |s| s.selected.len()) + self.clinical.names().len()
    }

    /// The radiomics features the head reads (selected by either model), without the clinical
    /// columns.
    pub fn radiomics_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for sel in self.radiomics.iter().chain(&self.offset) {
            for n in &sel.selected {
                if !n.starts_with(CLINICAL_PREFIX) && !names.contains(&n.as_str()) {
                    names.push(n);
                }
            }
        }
        names
    }

    /// One patient's inputs from raw clinical variables and the radiomics of the patient's
    /// Stage-I mask (`None`: no usable mask, every radiomics value missing).
    pub fn row(&self, clinical: &Clinical, radiomics: Option<&[(String, f64)]>) -> Result<HeadRow> {
        let (names, values): (Vec<String>, Vec<f64>) = match radiomics {
            Some(f) => f.iter().cloned().unzip(),
            None => self
                .radiomics_names()
                .into_iter()
                .map(|n| (n.to_string(), f64::NAN))
                .unzip(),
        };
        self.row_encoded(&self.clinical.transform(clinical), &names, &values)
    }

    /// [`row`](Self::row) from the clinical columns already encoded by
    /// [`HeadInputs::clinical`] and radiomics as parallel `names`/`values` (any order; the
    /// names the head reads must be there, NaN for missing).
    pub fn row_encoded(
        &self,
        clinical: &[f64],
        names: &[String],
        values: &[f64],
    ) -> Result<HeadRow> {
        let mut extras = match &self.radiomics {
            Some(sel) => sel.transform_imputed(names, values)?,
            None => Vec::new(),
        };
        extras.extend_from_slice(clinical);
        let offset = match &self.offset {
            Some(joint) => {
                let mut names = names.to_vec();
                names.extend(self.clinical.feature_names());
                let mut values = values.to_vec();
                values.extend_from_slice(clinical);
                joint.linear_predictor(&joint.transform_imputed(&names, &values)?)
            }
            None => 0.0,
        };
        Ok(HeadRow { extras, offset })
    }
}
