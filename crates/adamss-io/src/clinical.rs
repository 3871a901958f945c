//! Clinical variables with explicit missingness.

use std::sync::Arc;

/// One clinical cell. Missing stays missing: it is never read as 0.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum ClinicalValue {
    /// Empty cell, or one of `NA`, `N/A`, `NaN`, `null`, `none`, `unknown` (any case).
    Missing,
    /// A cell that parses as a finite number.
    Number(f64),
    /// Anything else, trimmed (e.g. `"M"`, `"F"`).
    Text(String),
}

impl ClinicalValue {
    /// Parses a CSV cell.
    pub fn parse(cell: &str) -> Self {
        let t = cell.trim();
        let lower = t.to_ascii_lowercase();
        if t.is_empty()
            || matches!(
                lower.as_str(),
                "na" | "n/a" | "nan" | "null" | "none" | "unknown"
            )
        {
            return Self::Missing;
        }
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Self::Number(v),
            _ => Self::Text(t.to_owned()),
        }
    }

    /// The number, if the cell holds one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(v) => Some(*v),
            _ => None,
        }
    }

    /// Whether the cell is missing.
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::Missing)
    }
}

impl std::fmt::Display for ClinicalValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Missing => f.write_str("NA"),
            Self::Number(v) => write!(f, "{v}"),
            Self::Text(s) => f.write_str(s),
        }
    }
}

/// A patient's clinical variables, in the column order of the source CSV.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Clinical {
    names: Arc<[String]>,
    values: Vec<ClinicalValue>,
}

impl Clinical {
    /// Values for `names` (shared between the patients of one cohort). Lengths must agree.
    pub(crate) fn new(names: Arc<[String]>, values: Vec<ClinicalValue>) -> Self {
        debug_assert_eq!(names.len(), values.len());
        Self { names, values }
    }

    /// All variables missing, for a patient absent from the clinical table.
    pub(crate) fn all_missing(names: Arc<[String]>) -> Self {
        let values = vec![ClinicalValue::Missing; names.len()];
        Self { names, values }
    }

    /// A patient's variables from `(name, value)` pairs (for tests and hand-built cohorts).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, ClinicalValue)>) -> Self {
        let (names, values): (Vec<String>, Vec<ClinicalValue>) = pairs.into_iter().unzip();
        Self::new(names.into(), values)
    }

    /// Variable names.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// The value of a variable, by exact column name.
    pub fn get(&self, name: &str) -> Option<&ClinicalValue> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.values[i])
    }

    /// `(name, value)` pairs in column order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &ClinicalValue)> {
        self.names.iter().map(String::as_str).zip(&self.values)
    }

    /// Number of variables.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no variables.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_is_not_zero() {
        assert_eq!(ClinicalValue::parse(""), ClinicalValue::Missing);
        assert_eq!(ClinicalValue::parse(" NaN "), ClinicalValue::Missing);
        assert_eq!(ClinicalValue::parse("0"), ClinicalValue::Number(0.0));
        assert_eq!(ClinicalValue::parse("61.5"), ClinicalValue::Number(61.5));
        assert_eq!(ClinicalValue::parse(" M"), ClinicalValue::Text("M".into()));
        assert_eq!(
            ClinicalValue::parse("inf"),
            ClinicalValue::Text("inf".into())
        );
    }

    #[test]
    fn lookup_by_name() {
        let names: Arc<[String]> = vec!["Age".to_string(), "Gender".to_string()].into();
        let c = Clinical::new(
            names.clone(),
            vec![ClinicalValue::Number(50.0), ClinicalValue::Missing],
        );
        assert_eq!(c.get("Age").and_then(ClinicalValue::as_f64), Some(50.0));
        assert!(c.get("Gender").is_some_and(ClinicalValue::is_missing));
        assert!(c.get("Weight").is_none());
        assert_eq!(
            Clinical::all_missing(names)
                .iter()
                .filter(|(_, v)| v.is_missing())
                .count(),
            2
        );
    }
}
