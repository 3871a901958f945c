//! Crop centres from a CSV file, and the cohort-level label-coverage report.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::pipeline::LabelCoverage;

/// The world convention of coordinates in a centres CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Coordinates {
    /// NIfTI's RAS+ (this toolkit's convention).
    #[default]
    Ras,
    /// ITK/SimpleITK/DICOM LPS+ (x and y negated), as HECKTOR 2021's `bbox.csv` used.
    Lps,
}

/// Reads per-patient crop centres (RAS+ mm) from a CSV with a `PatientID` column and either
/// `x,y,z` (the centre) or `x1,y1,z1,x2,y2,z2` (a box; its centre is used). Extra columns are
/// ignored. Errors name the file, the line and the problem; duplicate patients are refused.
pub fn read_crop_centres(
    path: impl AsRef<Path>,
    coordinates: Coordinates,
) -> Result<BTreeMap<String, [f64; 3]>> {
    let path = path.as_ref();
    let err = |line: u64, msg: String| Error::Config(format!("{}:{line}: {msg}", path.display()));
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| err(0, format!("cannot read: {e}")))?;
    let headers = rdr.headers().map_err(|e| err(1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let id_col = col("PatientID").ok_or_else(|| err(1, "no PatientID column".into()))?;
    let centre_cols = ["x", "y", "z"].map(col);
    let box_cols = ["x1", "y1", "z1", "x2", "y2", "z2"].map(col);
    let use_box = centre_cols.iter().any(Option::is_none);
    if use_box && box_cols.iter().any(Option::is_none) {
        return Err(err(1, "need columns x,y,z or x1,y1,z1,x2,y2,z2".into()));
    }
    let mut out = BTreeMap::new();
    for (n, rec) in rdr.records().enumerate() {
        let line = n as u64 + 2;
        let rec = rec.map_err(|e| err(line, e.to_string()))?;
        let num = |c: Option<usize>| -> Result<f64> {
            let s = c.and_then(|c| rec.get(c)).unwrap_or("");
            s.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| err(line, format!("not a finite number: {s:?}")))
        };
        let mut p = if use_box {
            let v: Vec<f64> = box_cols.iter().map(|&c| num(c)).collect::<Result<_>>()?;
            [0, 1, 2].map(|a| 0.5 * (v[a] + v[a + 3]))
        } else {
            let v: Vec<f64> = centre_cols.iter().map(|&c| num(c)).collect::<Result<_>>()?;
            [v[0], v[1], v[2]]
        };
        if coordinates == Coordinates::Lps {
            p[0] = -p[0];
            p[1] = -p[1];
        }
        let id = rec.get(id_col).unwrap_or("").to_string();
        if id.is_empty() {
            return Err(err(line, "empty PatientID".into()));
        }
        if out.insert(id.clone(), p).is_some() {
            return Err(err(line, format!("patient {id} listed twice")));
        }
    }
    Ok(out)
}

/// How many patients' tumours the crops hold, over a cohort.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageSummary {
    /// Patients with labels.
    pub labelled: usize,
    /// Of those, patients whose labels lie wholly inside the crop.
    pub wholly_inside: usize,
    /// Patients with labels partly or wholly outside the crop, with the fraction inside.
    pub cut: Vec<(String, f64)>,
}

impl CoverageSummary {
    /// Summarises per-patient coverages (`None`: no labels).
    pub fn from_cases<'a>(
        cases: impl IntoIterator<Item = (&'a str, Option<LabelCoverage>)>,
    ) -> Self {
        let mut s = Self::default();
        for (id, cov) in cases {
            let Some(c) = cov else { continue };
            s.labelled += 1;
            if c.wholly_inside() {
                s.wholly_inside += 1;
            } else {
                s.cut
                    .push((id.to_string(), c.inside as f64 / c.voxels.max(1) as f64));
            }
        }
        s
    }
}

impl std::fmt::Display for CoverageSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of {} labelled patients have their tumours wholly inside the crop",
            self.wholly_inside, self.labelled
        )?;
        for (id, frac) in &self.cut {
            write!(f, "; {id}: {:.1} % inside", 100.0 * frac)?;
        }
        Ok(())
    }
}
