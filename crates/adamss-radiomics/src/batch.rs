//! PyRadiomics' batch mode (`pyradiomics cases.csv`): a CSV with one case per row, the image in
//! column `Image` and the mask in `Mask` (required), optionally the ROI's value in `Label` and
//! `Label_channel`; any other column is carried to the output. A relative path is taken
//! relative to the CSV's folder, as PyRadiomics does.
//!
//! ```no_run
//! use adamss_radiomics::{Batch, ExtractionPlan};
//! # fn main() -> adamss_radiomics::Result<()> {
//! let batch = Batch::read("cases.csv".as_ref())?;
//! let plan = ExtractionPlan::from_file("params.yaml".as_ref())?;
//! let results = batch.run(&plan); // features and PyRadiomics' diagnostics per case
//! let failures = batch.write_csv(&results, "features.csv".as_ref())?;
//! for (row, why) in failures {
//!     eprintln!("line {row}: {why}");
//! }
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::diagnostics::Diagnostics;
use crate::error::{Error, Result};
use crate::extract::Features;
use crate::params::ExtractionPlan;

/// What one case of a batch gives.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseOutput {
    /// PyRadiomics' `diagnostics_*` entries of the case's image and mask; `None` where the
    /// parameter file sets `additionalInfo: false`.
    pub diagnostics: Option<Diagnostics>,
    /// The features.
    pub features: Features,
}

/// One case's output row: its diagnostics, and each feature's cell.
type Row<'a> = (Option<&'a Diagnostics>, Vec<(&'a str, String)>);

/// What one case of a voxel-based batch gives ([`Batch::run_voxel_based`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseMaps {
    /// PyRadiomics' `diagnostics_*` entries, as in [`CaseOutput`].
    pub diagnostics: Option<Diagnostics>,
    /// Each feature's map file, in extraction order.
    pub maps: Vec<(String, PathBuf)>,
}

/// One case of a batch file.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchCase {
    /// The case's line in the file (the header is line 1), as PyRadiomics numbers them.
    pub line: usize,
    /// The row's fields as written, in the header's order.
    pub fields: Vec<String>,
    /// The image, resolved against the file's folder.
    pub image: PathBuf,
    /// The mask, resolved against the file's folder.
    pub mask: PathBuf,
    /// `Label` where the row gives one (else the parameter file's).
    pub label: Option<String>,
    /// `Label_channel` where the row gives one.
    pub label_channel: Option<String>,
}

/// A PyRadiomics batch file, read ([`Batch::read`]); see the module docs.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The file read.
    pub path: PathBuf,
    /// Its header.
    pub header: Vec<String>,
    /// Its cases, in file order.
    pub cases: Vec<BatchCase>,
}

impl Batch {
    /// Reads a batch file. An error names the file and what is wrong: no `Image` or `Mask`
    /// column, a row with the wrong number of fields or an empty image or mask, no case.
    pub fn read(path: &Path) -> Result<Self> {
        let bad = |problem: String| Error::BatchFile {
            path: path.to_path_buf(),
            problem,
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_path(path)
            .map_err(|e| bad(e.to_string()))?;
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| bad(e.to_string()))?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').to_string())
            .collect();
        let column = |name: &str| header.iter().position(|h| h == name);
        let (Some(image), Some(mask)) = (column("Image"), column("Mask")) else {
            return Err(bad(format!(
                "needs the columns \"Image\" and \"Mask\" (PyRadiomics' batch format); the header \
                 has {header:?}"
            )));
        };
        let (label, channel) = (column("Label"), column("Label_channel"));
        let folder = path.parent().unwrap_or(Path::new(""));
        let resolve = |p: &str| {
            let p = Path::new(p);
            if p.is_absolute() {
                p.to_path_buf()
            } else {
                folder.join(p)
            }
        };
        let mut cases = Vec::new();
        for (k, record) in reader.records().enumerate() {
            let line = k + 2;
            let record = record.map_err(|e| bad(format!("line {line}: {e}")))?;
            let fields: Vec<String> = record.iter().map(String::from).collect();
            let (im, ma) = (&fields[image], &fields[mask]);
            if im.is_empty() || ma.is_empty() {
                return Err(bad(format!("line {line}: the image or the mask is empty")));
            }
            let optional = |c: Option<usize>| {
                c.map(|c| fields[c].trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            cases.push(BatchCase {
                line,
                image: resolve(im),
                mask: resolve(ma),
                label: optional(label),
                label_channel: optional(channel),
                fields,
            });
        }
        if cases.is_empty() {
            return Err(bad("no case (only a header)".into()));
        }
        Ok(Self {
            path: path.to_path_buf(),
            header,
            cases,
        })
    }

    /// Extracts every case with `plan` (its `Label`, where given, replacing the plan's label),
    /// with its diagnostics unless the plan's `additionalInfo` is false; cases in parallel,
    /// results in file order. A case that fails does not stop the others.
    pub fn run(&self, plan: &ExtractionPlan) -> Vec<Result<CaseOutput>> {
        self.cases
            .par_iter()
            .map(|case| {
                let name = format!("{} line {}", self.path.display(), case.line);
                crate::with_case(&name, || case.run_with_diagnostics(plan))
            })
            .collect()
    }

    /// Writes the results as CSV, atomically, in PyRadiomics' column order: the batch file's
    /// columns as given, the `diagnostics_*` entries (every name any case has, in the order
    /// first met; strings as they are, numbers in full precision, lists and settings as JSON
    /// text), then the features (full precision) of the first case extracted. A case that
    /// failed, or whose features are named otherwise, keeps its columns with empty cells and
    /// is returned as `(line, reason)`.
    pub fn write_csv(
        &self,
        results: &[Result<CaseOutput>],
        out: &Path,
    ) -> Result<Vec<(usize, String)>> {
        self.write_rows(results, out, |o| {
            let cells = (o.features.iter())
                .map(|(n, v)| (n.as_str(), format!("{v:?}")))
                .collect();
            (o.diagnostics.as_ref(), cells)
        })
    }

    /// Voxel-based extraction of every case (PyRadiomics' `pyradiomics cases.csv --mode voxel
    /// --out-dir DIR`): each case's maps ([`crate::ExtractionPlan::run_voxel_based_files`])
    /// written to `dir` as `Case-<k>_<feature>.nii.gz`, `k` the case's position from 1 (as
    /// PyRadiomics names its `.nrrd` maps), each file whole or absent; diagnostics as in
    /// [`Batch::run`]; cases in parallel, results in file order. A case that fails does not stop
    /// the others; a folder that cannot be made stops the batch.
    pub fn run_voxel_based(
        &self,
        plan: &ExtractionPlan,
        dir: &Path,
    ) -> Result<Vec<Result<CaseMaps>>> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::Settings(format!("creating the maps' folder {}: {e}", dir.display()))
        })?;
        Ok(self
            .cases
            .par_iter()
            .enumerate()
            .map(|(k, case)| {
                let name = format!("{} line {}", self.path.display(), case.line);
                crate::with_case(&name, || {
                    let plan = case.plan(plan)?;
                    let maps = plan.run_voxel_based_files(&case.image, &case.mask)?;
                    let mut files = Vec::with_capacity(maps.maps.len());
                    for (feature, map) in &maps.maps {
                        let path = dir.join(format!("Case-{}_{feature}.nii.gz", k + 1));
                        map.write(&path)?;
                        files.push((feature.clone(), path));
                    }
                    let diagnostics = match plan.additional_info {
                        true => Some(plan.diagnostics_files(&case.image, &case.mask)?),
                        false => None,
                    };
                    Ok(CaseMaps {
                        diagnostics,
                        maps: files,
                    })
                })
            })
            .collect())
    }

    /// Writes the results of [`Batch::run_voxel_based`] as [`Batch::write_csv`] writes
    /// features, each feature's cell the path of its map (as PyRadiomics' voxel batch mode).
    pub fn write_maps_csv(
        &self,
        results: &[Result<CaseMaps>],
        out: &Path,
    ) -> Result<Vec<(usize, String)>> {
        self.write_rows(results, out, |o| {
            let cells = (o.maps.iter())
                .map(|(n, p)| (n.as_str(), p.display().to_string()))
                .collect();
            (o.diagnostics.as_ref(), cells)
        })
    }

    /// The batch's columns, the diagnostics, then one cell per feature (`cells`).
    fn write_rows<T>(
        &self,
        results: &[Result<T>],
        out: &Path,
        cells: impl Fn(&T) -> Row<'_>,
    ) -> Result<Vec<(usize, String)>> {
        let rows: Vec<Option<Row>> = results
            .iter()
            .map(|r| r.as_ref().ok().map(&cells))
            .collect();
        let names: Vec<&str> = rows
            .iter()
            .flatten()
            .next()
            .map(|(_, c)| c.iter().map(|(n, _)| *n).collect())
            .unwrap_or_default();
        let mut diagnostic_names: Vec<&str> = Vec::new();
        for (d, _) in rows.iter().flatten() {
            for (name, _) in d.iter().flat_map(|d| &d.entries) {
                if !diagnostic_names.contains(&name.as_str()) {
                    diagnostic_names.push(name);
                }
            }
        }
        let csv_err = |e: csv::Error| Error::Settings(format!("writing {}: {e}", out.display()));
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = self.header.clone();
        header.extend(diagnostic_names.iter().map(|n| n.to_string()));
        header.extend(names.iter().map(|n| n.to_string()));
        w.write_record(&header).map_err(csv_err)?;
        let cell = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let empty =
            |record: &mut Vec<String>, n: usize| record.extend((0..n).map(|_| String::new()));
        let mut failures = Vec::new();
        for ((case, result), row) in self.cases.iter().zip(results).zip(&rows) {
            let mut record = case.fields.clone();
            match (result, row) {
                (Ok(_), Some((d, c)))
                    if c.len() == names.len() && c.iter().zip(&names).all(|((n, _), m)| n == m) =>
                {
                    for name in &diagnostic_names {
                        let v = d.and_then(|d| d.get(name));
                        record.push(v.map_or(String::new(), cell));
                    }
                    record.extend(c.iter().map(|(_, v)| v.clone()));
                }
                (Err(e), _) => {
                    failures.push((case.line, e.to_string()));
                    empty(&mut record, diagnostic_names.len() + names.len());
                }
                _ => {
                    failures.push((
                        case.line,
                        "its features are not those of the first case (another image type, \
                         dimension or skipped filter)"
                            .to_string(),
                    ));
                    empty(&mut record, diagnostic_names.len() + names.len());
                }
            }
            w.write_record(&record).map_err(csv_err)?;
        }
        crate::table::finish_csv(w, out)?;
        Ok(failures)
    }
}

impl BatchCase {
    /// This case's features and (unless `additionalInfo` is false) diagnostics with `plan`
    /// and the row's `Label`.
    pub fn run_with_diagnostics(&self, plan: &ExtractionPlan) -> Result<CaseOutput> {
        let plan = self.plan(plan)?;
        let features = plan.run_files(&self.image, &self.mask)?;
        let diagnostics = match plan.additional_info {
            true => Some(plan.diagnostics_files(&self.image, &self.mask)?),
            false => None,
        };
        Ok(CaseOutput {
            diagnostics,
            features,
        })
    }

    /// This case's features with `plan` (and the row's `Label` / `Label_channel`).
    pub fn run(&self, plan: &ExtractionPlan) -> Result<Features> {
        self.plan(plan)?.run_files(&self.image, &self.mask)
    }

    /// `plan` with the row's `Label`, checked with its `Label_channel`.
    fn plan(&self, plan: &ExtractionPlan) -> Result<ExtractionPlan> {
        let mut plan = plan.clone();
        if let Some(label) = &self.label {
            let label: u8 = label.parse().map_err(|_| {
                Error::Settings(format!("Label {label:?} is not a mask value (0–255)"))
            })?;
            plan = plan.with_label(label);
        }
        if let Some(channel) = &self.label_channel {
            if channel != "0" {
                return Err(Error::Settings(format!(
                    "Label_channel {channel} needs a vector mask; masks are read as scalar \
                     images here (Label_channel 0)"
                )));
            }
        }
        Ok(plan)
    }
}
