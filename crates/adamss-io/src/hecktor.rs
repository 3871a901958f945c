//! The HECKTOR 2022 training layout.
//!
//! ```text
//! <root>/imagesTr/<Centre>-<NNN>__CT.nii.gz      CT (HU)
//! <root>/imagesTr/<Centre>-<NNN>__PT.nii.gz      PET (SUV)
//! <root>/labelsTr/<Centre>-<NNN>.nii.gz          labels on the CT grid: 1 = GTVp, 2 = GTVn
//! <root>/hecktor2022_endpoint_training.csv        PatientID,Relapse,RFS
//!        (some releases: hecktor2022_patient_endpoint_training.csv)
//! <root>/hecktor2022_clinical_info_training.csv   optional; quoted header with a comma
//! ```
//! `_` is accepted for `-` in every patient id; ids are reported with `-`.
//! [`Cohort::hecktor`] opens a training cohort (patients with an endpoint);
//! [`Cohort::hecktor_images`] opens any folder of this layout for prediction, endpoint table
//! optional (e.g. new patients, or a test set without endpoints).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::table::{parse_event, Table};
use crate::{CaseRecord, Clinical, ClinicalValue, Cohort, Error, Result, Surv};

/// Accepted names of the endpoint table, in order of preference.
pub const ENDPOINT_CSV_NAMES: [&str; 2] = [
    "hecktor2022_endpoint_training.csv",
    "hecktor2022_patient_endpoint_training.csv",
];
/// Name of the clinical table.
pub const CLINICAL_CSV_NAME: &str = "hecktor2022_clinical_info_training.csv";

/// Who was kept and who was dropped when joining images, endpoints and clinical data.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JoinReport {
    /// Patients in the cohort (images and endpoint).
    pub joined: usize,
    /// Patients with CT and PET but no endpoint row (dropped).
    pub no_endpoint: Vec<String>,
    /// Endpoint rows with no CT/PET pair (dropped).
    pub endpoint_without_images: Vec<String>,
    /// Patients with only one of CT and PET, and which one is missing (dropped).
    pub incomplete_images: Vec<(String, &'static str)>,
    /// Kept patients without a label file (their `mask` is `None`).
    pub no_label: Vec<String>,
    /// Kept patients absent from the clinical table (all clinical values missing).
    pub no_clinical: Vec<String>,
    /// Patients kept without an endpoint ([`Cohort::hecktor_images`], for prediction).
    pub kept_without_endpoint: Vec<String>,
    /// The endpoint table used (empty when [`Cohort::hecktor_images`] found none).
    pub endpoint_file: PathBuf,
    /// The clinical table used, if present.
    pub clinical_file: Option<PathBuf>,
}

impl JoinReport {
    /// Number of patients dropped for any reason.
    pub fn dropped(&self) -> usize {
        self.no_endpoint.len() + self.endpoint_without_images.len() + self.incomplete_images.len()
    }
}

impl fmt::Display for JoinReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let joined = if self.kept_without_endpoint.is_empty() {
            "images + endpoint"
        } else {
            "images; endpoints where known"
        };
        writeln!(
            f,
            "{} patients joined ({joined}), {} dropped",
            self.joined,
            self.dropped()
        )?;
        let list = |f: &mut fmt::Formatter<'_>, what: &str, ids: &[String]| {
            if ids.is_empty() {
                Ok(())
            } else {
                writeln!(f, "  {what} ({}): {}", ids.len(), ids.join(", "))
            }
        };
        list(f, "dropped, no endpoint", &self.no_endpoint)?;
        list(
            f,
            "dropped, endpoint but no images",
            &self.endpoint_without_images,
        )?;
        let incomplete: Vec<String> = self
            .incomplete_images
            .iter()
            .map(|(id, what)| format!("{id} (no {what})"))
            .collect();
        list(f, "dropped, incomplete images", &incomplete)?;
        list(f, "kept without endpoint", &self.kept_without_endpoint)?;
        list(f, "kept without labels", &self.no_label)?;
        list(f, "kept without clinical data", &self.no_clinical)?;
        match &self.clinical_file {
            Some(p) => write!(f, "  clinical table: {}", p.display()),
            None => write!(f, "  clinical table: none ({CLINICAL_CSV_NAME} not found)"),
        }
    }
}

/// A patient id with `_` read as `-`.
pub(crate) fn canonical_id(raw: &str) -> String {
    raw.trim().replace('_', "-")
}

/// Strips a NIfTI extension.
fn strip_nifti(name: &str) -> Option<&str> {
    name.strip_suffix(".nii.gz")
        .or_else(|| name.strip_suffix(".nii"))
}

fn list_dir(dir: &Path) -> Result<Vec<(String, PathBuf)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        if let Some(name) = entry.file_name().to_str() {
            if !name.starts_with('.') {
                out.push((name.to_owned(), entry.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Cohort {
    /// Opens a HECKTOR 2022 training folder (layout in the [module docs](crate::hecktor)).
    ///
    /// Patients are the inner join of complete image pairs and endpoint rows; the report says
    /// who was dropped and why. Clinical data are joined when the table is present; missing
    /// cells stay [`ClinicalValue::Missing`]. Records are sorted by patient id.
    pub fn hecktor(root: impl AsRef<Path>) -> Result<(Cohort, JoinReport)> {
        Self::hecktor_join(root.as_ref(), true)
    }

    /// Opens a HECKTOR 2022 layout for prediction: every complete CT/PET pair, whether or not
    /// it has an endpoint (the endpoint table may be absent altogether; patients without one
    /// get `survival: None` and are listed in `kept_without_endpoint`). Labels and clinical
    /// data are joined as by [`Cohort::hecktor`].
    pub fn hecktor_images(root: impl AsRef<Path>) -> Result<(Cohort, JoinReport)> {
        Self::hecktor_join(root.as_ref(), false)
    }

    fn hecktor_join(root: &Path, need_endpoint: bool) -> Result<(Cohort, JoinReport)> {
        let images_dir = root.join("imagesTr");
        if !images_dir.is_dir() {
            return Err(Error::Layout {
                path: root.to_owned(),
                reason: "no imagesTr/ folder (expected the HECKTOR 2022 layout)".into(),
            });
        }
        let mut ct: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut pet: BTreeMap<String, PathBuf> = BTreeMap::new();
        for (name, path) in list_dir(&images_dir)? {
            let Some(stem) = strip_nifti(&name) else {
                continue;
            };
            if let Some(id) = stem.strip_suffix("__CT") {
                ct.insert(canonical_id(id), path);
            } else if let Some(id) = stem.strip_suffix("__PT") {
                pet.insert(canonical_id(id), path);
            }
        }
        let labels_dir = root.join("labelsTr");
        let mut labels: HashMap<String, PathBuf> = HashMap::new();
        if labels_dir.is_dir() {
            for (name, path) in list_dir(&labels_dir)? {
                if let Some(stem) = strip_nifti(&name) {
                    labels.insert(canonical_id(stem), path);
                }
            }
        }

        let endpoint_file = ENDPOINT_CSV_NAMES
            .iter()
            .map(|n| root.join(n))
            .find(|p| p.is_file());
        let endpoints = match &endpoint_file {
            Some(p) => read_endpoints(p)?,
            None if !need_endpoint => BTreeMap::new(),
            None => {
                return Err(Error::Layout {
                    path: root.to_owned(),
                    reason: format!(
                        "no endpoint table: expected {}",
                        ENDPOINT_CSV_NAMES.join(" or ")
                    ),
                })
            }
        };

        let clinical_path = root.join(CLINICAL_CSV_NAME);
        let (clinical_names, clinical) = if clinical_path.is_file() {
            let (names, rows) = read_clinical(&clinical_path)?;
            (names, Some(rows))
        } else {
            (Arc::from(Vec::new()), None)
        };

        let mut report = JoinReport {
            endpoint_file: endpoint_file.unwrap_or_default(),
            clinical_file: clinical.as_ref().map(|_| clinical_path.clone()),
            ..JoinReport::default()
        };
        let ids: BTreeSet<&String> = ct.keys().chain(pet.keys()).collect();
        let mut records = Vec::new();
        for id in ids {
            let (Some(ct_path), Some(pet_path)) = (ct.get(id), pet.get(id)) else {
                let missing = if ct.contains_key(id) { "PET" } else { "CT" };
                report.incomplete_images.push((id.clone(), missing));
                continue;
            };
            let survival = endpoints.get(id).copied();
            if survival.is_none() {
                if need_endpoint {
                    report.no_endpoint.push(id.clone());
                    continue;
                }
                report.kept_without_endpoint.push(id.clone());
            }
            let mask = labels.get(id).cloned();
            if mask.is_none() {
                report.no_label.push(id.clone());
            }
            let clinical = match clinical.as_ref().map(|c| c.get(id)) {
                Some(Some(values)) => Clinical::new(clinical_names.clone(), values.clone()),
                Some(None) => {
                    report.no_clinical.push(id.clone());
                    Clinical::all_missing(clinical_names.clone())
                }
                None => Clinical::all_missing(clinical_names.clone()),
            };
            records.push(CaseRecord {
                id: id.clone(),
                ct: ct_path.clone(),
                pet: pet_path.clone(),
                mask,
                survival,
                clinical,
            });
        }
        report.endpoint_without_images = endpoints
            .keys()
            .filter(|id| !(ct.contains_key(*id) && pet.contains_key(*id)))
            .filter(|id| !report.incomplete_images.iter().any(|(i, _)| i == *id))
            .cloned()
            .collect();
        report.joined = records.len();
        Ok((Cohort::from_records(records)?, report))
    }
}

/// `PatientID → Survival` from the endpoint table; rows with an empty `Relapse` or `RFS` are
/// left out (the patient then counts as having no endpoint).
fn read_endpoints(path: &Path) -> Result<BTreeMap<String, Surv>> {
    let table = Table::read(path)?;
    let id_col = table.require(&["PatientID", "Patient ID", "patient_id"])?;
    let event_col = table.require(&["Relapse"])?;
    let time_col = table.require(&["RFS"])?;
    let mut out = BTreeMap::new();
    for (line, row) in &table.rows {
        let id = canonical_id(&row[id_col]);
        if id.is_empty() {
            return Err(table.row_error(*line, "empty PatientID".into()));
        }
        let (event_cell, time_cell) = (&row[event_col], &row[time_col]);
        if event_cell.is_empty() || time_cell.is_empty() {
            continue;
        }
        let event = parse_event(event_cell).ok_or_else(|| {
            table.row_error(*line, format!("Relapse {event_cell:?} is not 0 or 1"))
        })?;
        let time: f64 = time_cell
            .parse()
            .map_err(|_| table.row_error(*line, format!("RFS {time_cell:?} is not a number")))?;
        let survival = Surv::new(time, event).map_err(|e| table.row_error(*line, e.to_string()))?;
        if out.insert(id.clone(), survival).is_some() {
            return Err(table.row_error(*line, format!("patient {id} appears twice")));
        }
    }
    Ok(out)
}

type ClinicalRows = HashMap<String, Vec<ClinicalValue>>;

/// Column names (all but the id) and `PatientID → values`.
pub(crate) fn read_clinical(path: &Path) -> Result<(Arc<[String]>, ClinicalRows)> {
    let table = Table::read(path)?;
    let id_col = table.require(&["PatientID", "Patient ID", "patient_id"])?;
    let names: Arc<[String]> = table
        .headers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != id_col)
        .map(|(_, h)| h.clone())
        .collect();
    let mut rows = HashMap::new();
    for (line, row) in &table.rows {
        let id = canonical_id(&row[id_col]);
        let values = row
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != id_col)
            .map(|(_, c)| ClinicalValue::parse(c))
            .collect();
        if rows.insert(id.clone(), values).is_some() {
            return Err(table.row_error(*line, format!("patient {id} appears twice")));
        }
    }
    Ok((names, rows))
}
