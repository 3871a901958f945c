//! A plain manifest CSV: one row per patient.
//!
//! | column | required | meaning |
//! |---|---|---|
//! | `patient_id` (or `PatientID`) | yes | unique id, usable as a file name ([`crate::patient_id_problem`]) |
//! | `ct`, `pet` | yes | volume paths (NIfTI, NRRD, or a folder holding one DICOM series), relative to the manifest's folder unless absolute; PET in SUV — a DICOM PET series' folder is converted to SUVbw from its headers ([`crate::dicom::read_suv`]: weight, dose, decay), and refused, naming the file and the attribute, where they cannot give it |
//! | `mask` | no | label volume on the CT grid (0 background, 1 GTVp, 2 GTVn), or a DICOM SEG drawn on the CT whose segments 1 and 2 are the GTVp and GTVn ([`crate::dicom::read_segmentation`], placed on the CT's grid); empty cell = none |
//! | `time`, `event` | no (both or neither) | survival in days and event flag (0/1); both cells empty = unknown |
//! | anything else | no | clinical variables, empty cell = missing |

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::cohort::{id_fault, IdFault};
use crate::table::{parse_event, Table};
use crate::{CaseRecord, Clinical, ClinicalValue, Cohort, Result, Surv};

const ID: &[&str] = &["patient_id", "PatientID"];
const RESERVED: &[&str] = &[
    "patient_id",
    "PatientID",
    "ct",
    "pet",
    "mask",
    "time",
    "event",
];

impl Cohort {
    /// Reads a manifest CSV (columns in the [module docs](crate::manifest)). Rows keep the file
    /// order. Paths are checked for existence only when a case is loaded.
    pub fn manifest(path: impl AsRef<Path>) -> Result<Cohort> {
        let path = path.as_ref();
        let table = Table::read(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        let id_col = table.require(ID)?;
        let ct_col = table.require(&["ct"])?;
        let pet_col = table.require(&["pet"])?;
        let mask_col = table.column(&["mask"]);
        let time_col = table.column(&["time"]);
        let event_col = table.column(&["event"]);
        if time_col.is_some() != event_col.is_some() {
            return Err(table.row_error(1, "columns `time` and `event` come together".into()));
        }
        let clinical_cols: Vec<usize> = (0..table.headers.len())
            .filter(|&i| {
                !RESERVED
                    .iter()
                    .any(|r| table.headers[i].eq_ignore_ascii_case(r))
            })
            .collect();
        let names: Arc<[String]> = clinical_cols
            .iter()
            .map(|&i| table.headers[i].clone())
            .collect();
        let resolve = |cell: &str| -> PathBuf {
            let p = PathBuf::from(cell);
            if p.is_absolute() {
                p
            } else {
                base.join(p)
            }
        };
        let mut records = Vec::with_capacity(table.rows.len());
        for (line, row) in &table.rows {
            let id = row[id_col].clone();
            if id.is_empty() {
                return Err(table.row_error(*line, "empty patient_id".into()));
            }
            for (col, what) in [(ct_col, "ct"), (pet_col, "pet")] {
                if row[col].is_empty() {
                    return Err(table.row_error(*line, format!("empty `{what}` path for {id}")));
                }
            }
            let survival = match (time_col, event_col) {
                (Some(t), Some(e)) => parse_survival(&table, *line, &row[t], &row[e])?,
                _ => None,
            };
            let values = clinical_cols
                .iter()
                .map(|&i| ClinicalValue::parse(&row[i]))
                .collect();
            records.push(CaseRecord {
                id,
                ct: resolve(&row[ct_col]),
                pet: resolve(&row[pet_col]),
                mask: mask_col
                    .filter(|&m| !row[m].is_empty())
                    .map(|m| resolve(&row[m])),
                survival,
                clinical: Clinical::new(names.clone(), values),
            });
        }
        // The cohort's id check, reported with the rows' lines.
        if let Some((i, fault)) = id_fault(&records) {
            let (line, id) = (table.rows[i].0, &records[i].id);
            return Err(table.row_error(
                line,
                match fault {
                    IdFault::Unusable(problem) => format!("patient id {id:?} {problem}"),
                    IdFault::Repeats(j) => format!(
                        "patient id {id:?} appears twice (first on line {})",
                        table.rows[j].0
                    ),
                },
            ));
        }
        Cohort::from_records(records)
    }
}

fn parse_survival(table: &Table, line: u64, time: &str, event: &str) -> Result<Option<Surv>> {
    match (time.is_empty(), event.is_empty()) {
        (true, true) => Ok(None),
        (false, false) => {
            let t: f64 = time
                .parse()
                .map_err(|_| table.row_error(line, format!("time {time:?} is not a number")))?;
            let e = parse_event(event)
                .ok_or_else(|| table.row_error(line, format!("event {event:?} is not 0 or 1")))?;
            Surv::new(t, e)
                .map(Some)
                .map_err(|m| table.row_error(line, m.to_string()))
        }
        _ => Err(table.row_error(
            line,
            "`time` and `event` must both be given or both be empty".into(),
        )),
    }
}
