//! Clinical variables as model inputs, fitted on the training fold only.

use adamss_io::{Clinical, ClinicalValue};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Prefix of the clinical columns where they stand beside radiomics (feature tables, the
/// LASSO-Cox selectors): `clinical:Age`.
pub const CLINICAL_PREFIX: &str = "clinical:";

/// How one output column is computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum Column {
    /// A number, z-scored; missing → the training mean (0 after scaling).
    Number {
        variable: String,
        mean: f64,
        sd: f64,
    },
    /// 1 when the text equals `level` (a non-reference level of a categorical variable).
    Level { variable: String, level: String },
    /// 1 when the variable is missing.
    Missing { variable: String },
}

/// Encodes clinical variables into numbers: numbers z-scored on the training fold, text one-hot
/// (the first training level in sorted order is the reference), and for every variable with a
/// missing training cell an indicator column; missing numbers are imputed with the training
/// mean. Variables constant on the training fold are left out (reported by
/// [`ClinicalEncoder::dropped`]).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ClinicalEncoder {
    columns: Vec<Column>,
    dropped: Vec<String>,
}

impl ClinicalEncoder {
    /// Fits on the training patients. A variable that no training patient has is an error.
    pub fn fit(train: &[&Clinical], variables: &[String]) -> Result<Self> {
        let mut enc = Self::default();
        for var in variables {
            let cells: Vec<Option<&ClinicalValue>> = train.iter().map(|c| c.get(var)).collect();
            if cells.iter().all(Option::is_none) {
                return Err(Error::Cohort(format!(
                    "clinical variable {var:?} is not a column of the clinical table"
                )));
            }
            let missing = cells
                .iter()
                .filter(|c| c.is_none_or(|v| v.is_missing()))
                .count();
            let numbers: Vec<f64> = cells.iter().flatten().filter_map(|v| v.as_f64()).collect();
            let mut levels: Vec<String> = cells
                .iter()
                .flatten()
                .filter_map(|v| match v {
                    ClinicalValue::Text(s) => Some(s.clone()),
                    _ => None,
                })
                .collect();
            levels.sort();
            levels.dedup();
            let before = enc.columns.len();
            if !levels.is_empty() {
                // Categorical: numbers in a text column count as levels too.
                let mut all: Vec<String> = cells
                    .iter()
                    .flatten()
                    .filter(|v| !v.is_missing())
                    .map(ToString::to_string)
                    .collect();
                all.sort();
                all.dedup();
                for level in all.into_iter().skip(1) {
                    enc.columns.push(Column::Level {
                        variable: var.clone(),
                        level,
                    });
                }
            } else if numbers.len() >= 2 {
                let n = numbers.len() as f64;
                let mean = numbers.iter().sum::<f64>() / n;
                let sd = (numbers.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
                if sd > 0.0 {
                    enc.columns.push(Column::Number {
                        variable: var.clone(),
                        mean,
                        sd,
                    });
                }
            }
            if missing > 0 && missing < train.len() {
                enc.columns.push(Column::Missing {
                    variable: var.clone(),
                });
            }
            if enc.columns.len() == before {
                enc.dropped.push(var.clone());
            }
        }
        Ok(enc)
    }

    /// The output columns as named beside radiomics in a feature table or selector:
    /// [`CLINICAL_PREFIX`] + [`names`](Self::names) (`clinical:Age`, …).
    pub fn feature_names(&self) -> Vec<String> {
        self.names()
            .iter()
            .map(|n| format!("{CLINICAL_PREFIX}{n}"))
            .collect()
    }

    /// The [`feature_names`](Self::feature_names) of the columns that encode `variables`
    /// (a number, its levels, its missingness indicator).
    pub fn feature_names_of(&self, variables: &[String]) -> Vec<String> {
        self.columns
            .iter()
            .zip(self.feature_names())
            .filter(|(c, _)| {
                let v = match c {
                    Column::Number { variable, .. }
                    | Column::Level { variable, .. }
                    | Column::Missing { variable } => variable,
                };
                variables.contains(v)
            })
            .map(|(_, n)| n)
            .collect()
    }

    /// Output column names (`Age`, `Gender=M`, `HPV…:missing`).
    pub fn names(&self) -> Vec<String> {
        self.columns
            .iter()
            .map(|c| match c {
                Column::Number { variable, .. } => variable.clone(),
                Column::Level { variable, level } => format!("{variable}={level}"),
                Column::Missing { variable } => format!("{variable}:missing"),
            })
            .collect()
    }

    /// Variables left out as constant (or entirely missing) on the training fold.
    pub fn dropped(&self) -> &[String] {
        &self.dropped
    }

    /// Encodes one patient.
    pub fn transform(&self, c: &Clinical) -> Vec<f64> {
        self.columns
            .iter()
            .map(|col| match col {
                Column::Number { variable, mean, sd } => c
                    .get(variable)
                    .and_then(ClinicalValue::as_f64)
                    .map_or(0.0, |v| (v - mean) / sd),
                Column::Level { variable, level } => c
                    .get(variable)
                    .filter(|v| !v.is_missing())
                    .map_or(0.0, |v| f64::from(u8::from(v.to_string() == *level))),
                Column::Missing { variable } => {
                    f64::from(u8::from(c.get(variable).is_none_or(|v| v.is_missing())))
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patient(age: &str, hpv: &str, sex: &str) -> Clinical {
        Clinical::from_pairs([
            ("Age".to_string(), ClinicalValue::parse(age)),
            ("HPV".to_string(), ClinicalValue::parse(hpv)),
            ("Gender".to_string(), ClinicalValue::parse(sex)),
        ])
    }

    #[test]
    fn feature_names_of_picks_every_column_of_the_named_variables() {
        let train = [
            patient("60", "1", "M"),
            patient("70", "", "F"),
            patient("55", "0", "M"),
        ];
        let refs: Vec<&Clinical> = train.iter().collect();
        let vars = ["Age", "HPV", "Gender"].map(String::from);
        let enc = ClinicalEncoder::fit(&refs, &vars).unwrap();
        assert_eq!(
            enc.feature_names_of(&["HPV".to_string()]),
            ["clinical:HPV", "clinical:HPV:missing"]
        );
        assert_eq!(
            enc.feature_names_of(&["Gender".to_string(), "Age".to_string()]),
            ["clinical:Age", "clinical:Gender=M"]
        );
        assert!(enc.feature_names_of(&["Weight".to_string()]).is_empty());
    }
}
