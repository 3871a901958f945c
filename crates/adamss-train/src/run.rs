//! The run folder: one type owns the name of every file and folder a run writes, so training
//! writes it and prediction, export and evaluation open it through the same paths.
//!
//! ```text
//! RUN/
//!   config.toml                the resolved experiment (ExperimentConfig)
//!   outcome.json               the cross-validation's results (CvOutcome)
//!   patients.txt, inputs.tsv   the patients and digests of their data the run is pinned to
//!   fold-K/
//!     results.json             the fold's results (FoldResult per method run)
//!     clinical_encoder.json    the fold's ClinicalEncoder
//!     clinical.csv, radiomics.csv
//!     stage1/                  Stage I (best.safetensors, state.json, metrics.csv, …)
//!     <method>/
//!       head.json              the head's inputs (HeadInputs; ssl, ssl-radiomics)
//!       baseline.json          Breslow's baseline on the training fold (Cox heads)
//!       selector.json          fitted LASSO-Cox selector (radiomics methods)
//!       offset-selector.json   the offset's model (radiomics.head = "offset")
//!       survival/              the survival stage (best.safetensors, …)
//! ```

use std::path::{Path, PathBuf};

use ndarray::Array3;
use rayon::prelude::*;

use crate::config::ExperimentConfig;
use crate::data::PreparedCase;
use crate::error::{Error, Result};
use crate::head::HeadInputs;
use crate::method::Method;
use crate::outcome::{CvOutcome, FoldResult};

/// File in a run folder holding the resolved experiment configuration.
pub const CONFIG_NAME: &str = "config.toml";

/// File in a run folder holding the cross-validation's results ([`CvOutcome`]).
pub const OUTCOME_NAME: &str = "outcome.json";

/// File in each fold folder holding that fold's fitted `ClinicalEncoder`.
pub const CLINICAL_ENCODER_NAME: &str = "clinical_encoder.json";

/// File in each fold folder holding every patient's clinical variables as encoded by that
/// fold's `ClinicalEncoder` (the columns named as `ClinicalEncoder::names`).
pub const CLINICAL_TABLE_NAME: &str = "clinical.csv";

/// File in each fold folder holding the radiomics of every patient from the fold's Stage-I
/// masks (PET `pet_…` and CT `ct_…` features; empty cells where a mask was unusable).
pub const RADIOMICS_TABLE_NAME: &str = "radiomics.csv";

/// File in a radiomics method's folder holding its fitted `FeatureSelector` (the selected
/// columns, their training-fold mean and sd, LASSO-Cox coefficients and penalty).
pub const SELECTOR_NAME: &str = "selector.json";

/// File in the "AdaMSS + radiomics" folder holding the LASSO-CoxPH model whose risk is the
/// head's offset (`radiomics.head = "offset"`).
pub const OFFSET_SELECTOR_NAME: &str = "offset-selector.json";

/// File in a network method's folder holding Breslow's baseline cumulative hazard of its risks
/// on the training fold (Cox heads).
pub const BASELINE_NAME: &str = "baseline.json";

/// File in an AdaMSS method's folder holding its [`HeadInputs`].
pub const HEAD_INPUTS_NAME: &str = "head.json";

/// File in a run folder listing its patients (one ID per line) in the order the folds and
/// checkpoints refer to; a run folder is never reused for other patients.
pub const PATIENTS_NAME: &str = "patients.txt";

/// File in a run folder with one line per patient (tab-separated): the ID and CRC-32 digests
/// of what training reads — images (PET, CT), labels, endpoint, clinical variables. A rerun
/// on the same patients whose data changed is refused instead of silently reusing stages
/// trained on the old data.
pub const INPUTS_NAME: &str = "inputs.tsv";

/// File in each fold folder holding the fold's results (one `FoldResult` per method run).
pub const FOLD_RESULTS_NAME: &str = "results.json";

/// A stage's best checkpoint inside its folder.
pub const BEST_WEIGHTS_NAME: &str = "best.safetensors";

/// A run folder (see the module docs for its layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run folder at `root` (nothing is read or created).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.root.join(CONFIG_NAME)
    }

    /// `outcome.json`.
    pub fn outcome_path(&self) -> PathBuf {
        self.root.join(OUTCOME_NAME)
    }

    /// `patients.txt`.
    pub fn patients_path(&self) -> PathBuf {
        self.root.join(PATIENTS_NAME)
    }

    /// `inputs.tsv`.
    pub fn inputs_path(&self) -> PathBuf {
        self.root.join(INPUTS_NAME)
    }

    /// `fold-K/`.
    pub fn fold(&self, fold: usize) -> PathBuf {
        self.root.join(format!("fold-{fold}"))
    }

    /// The folds among `folds` that already have a folder (what a rerun would resume).
    pub fn existing_folds(&self, folds: impl IntoIterator<Item = usize>) -> Vec<usize> {
        folds
            .into_iter()
            .filter(|&f| self.fold(f).is_dir())
            .collect()
    }

    /// `fold-K/results.json`.
    pub fn fold_results(&self, fold: usize) -> PathBuf {
        self.fold(fold).join(FOLD_RESULTS_NAME)
    }

    /// Reads `fold-K/results.json`.
    pub fn read_fold_results(&self, fold: usize) -> Result<Vec<FoldResult>> {
        read_json(&self.fold_results(fold))
    }

    /// Writes `fold-K/results.json` (atomically).
    pub fn write_fold_results(&self, fold: usize, results: &[FoldResult]) -> Result<()> {
        write_json(&self.fold_results(fold), &results)
    }

    /// `fold-K/clinical_encoder.json`.
    pub fn clinical_encoder(&self, fold: usize) -> PathBuf {
        self.fold(fold).join(CLINICAL_ENCODER_NAME)
    }

    /// `fold-K/clinical.csv`.
    pub fn clinical_table(&self, fold: usize) -> PathBuf {
        self.fold(fold).join(CLINICAL_TABLE_NAME)
    }

    /// `fold-K/radiomics.csv`.
    pub fn radiomics_table(&self, fold: usize) -> PathBuf {
        self.fold(fold).join(RADIOMICS_TABLE_NAME)
    }

    /// A stage's folder, `fold-K/<name>` (`stage1`, `ssl/survival`, …).
    pub fn stage(&self, fold: usize, name: &str) -> PathBuf {
        self.fold(fold).join(name)
    }

    /// `fold-K/stage1/`.
    pub fn stage1(&self, fold: usize) -> PathBuf {
        self.stage(fold, "stage1")
    }

    /// `fold-K/<method>/`.
    pub fn method(&self, fold: usize, method: Method) -> PathBuf {
        self.fold(fold).join(method.key())
    }

    /// `fold-K/<method>/survival/`: the method's survival stage.
    pub fn survival(&self, fold: usize, method: Method) -> PathBuf {
        self.method(fold, method).join("survival")
    }

    /// `fold-K/<method>/selector.json`.
    pub fn selector(&self, fold: usize, method: Method) -> PathBuf {
        self.method(fold, method).join(SELECTOR_NAME)
    }

    /// `fold-K/<method>/offset-selector.json`.
    pub fn offset_selector(&self, fold: usize, method: Method) -> PathBuf {
        self.method(fold, method).join(OFFSET_SELECTOR_NAME)
    }

    /// `fold-K/<method>/baseline.json`: Breslow's baseline cumulative hazard on the training
    /// fold (Cox heads), for survival curves.
    pub fn baseline(&self, fold: usize, method: Method) -> PathBuf {
        self.method(fold, method).join(BASELINE_NAME)
    }

    /// `fold-K/<method>/looks-<id>.png`: where the network looked in a test patient
    /// ([`crate::looks::figure`]).
    pub fn looks_figure(&self, fold: usize, method: Method, id: &str) -> PathBuf {
        self.method(fold, method).join(format!("looks-{id}.png"))
    }

    /// `fold-K/<method>/head.json`.
    pub fn head_inputs(&self, fold: usize, method: Method) -> PathBuf {
        self.method(fold, method).join(HEAD_INPUTS_NAME)
    }

    /// Reads `config.toml`.
    pub fn read_config(&self) -> Result<ExperimentConfig> {
        let path = self.config_path();
        if !path.is_file() {
            return Err(Error::file(
                &path,
                "missing: not a run folder of `adamss train` or `Experiment::run`",
            ));
        }
        ExperimentConfig::from_toml_file(&path)
    }

    /// Writes `config.toml` (atomically); [`crate::run_cv`] does so for every run.
    pub fn write_config(&self, config: &ExperimentConfig) -> Result<()> {
        std::fs::create_dir_all(&self.root).map_err(|e| Error::file(&self.root, e))?;
        Ok(adamss_io::write_atomic(
            self.config_path(),
            config.to_toml()?.as_bytes(),
        )?)
    }

    /// Reads `outcome.json`.
    pub fn read_outcome(&self) -> Result<CvOutcome> {
        read_json(&self.outcome_path())
    }

    /// Writes `outcome.json` (atomically).
    pub fn write_outcome(&self, outcome: &CvOutcome) -> Result<()> {
        crate::outcome::write_outcome(outcome, &self.outcome_path())
    }

    /// Reads a method's `head.json`.
    pub fn read_head_inputs(&self, fold: usize, method: Method) -> Result<HeadInputs> {
        let path = self.head_inputs(fold, method);
        if !path.is_file() {
            return Err(Error::file(
                &path,
                format!(
                    "missing: train fold {fold} with the {} method first (runs made before \
                     head.json existed get it from `adamss train --resume`)",
                    method.key()
                ),
            ));
        }
        read_json(&path)
    }
}

/// The parts of a patient's inputs that [`INPUTS_NAME`] digests, in its column order.
const INPUT_PARTS: [&str; 4] = ["images", "labels", "endpoint", "clinical"];

/// Records the run's patients in `run_dir/patients.txt`, or checks them against the list a
/// previous run left there: fold assignments and checkpoints refer to patients by position, so
/// another cohort in the same folder would silently reuse networks trained on other patients.
pub(crate) fn check_patients(run: &RunDir, cases: &[PreparedCase]) -> Result<()> {
    let ids: String = cases.iter().map(|c| format!("{}\n", c.id)).collect();
    pin(&run.patients_path(), &ids, |old| {
        let before: Vec<&str> = old.lines().collect();
        let at = before
            .iter()
            .zip(cases)
            .position(|(a, c)| *a != c.id)
            .unwrap_or(before.len().min(cases.len()));
        format!(
            "this run folder was trained on other patients ({} then, {} now; they differ from \
             position {at}: {:?} then, {:?} now), so its folds and checkpoints do not fit this \
             cohort; use another run folder",
            before.len(),
            cases.len(),
            before.get(at).copied().unwrap_or("(none)"),
            cases.get(at).map_or("(none)", |c| c.id.as_str()),
        )
    })
}

/// Pins a run folder to `text` in the file `path`: writes it (atomically, creating the folder)
/// when the file does not exist yet, accepts an identical file, and otherwise fails with the
/// problem `mismatch` describes from the file's old text.
fn pin(path: &Path, text: &str, mismatch: impl FnOnce(&str) -> String) -> Result<()> {
    match std::fs::read_to_string(path) {
        Ok(old) if old == text => Ok(()),
        Ok(old) => Err(Error::File {
            path: path.to_path_buf(),
            problem: mismatch(&old),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
            }
            Ok(adamss_io::write_atomic(path, text.as_bytes())?)
        }
        Err(e) => Err(Error::file(path, e)),
    }
}

/// Digests (CRC-32, hex) of one patient's inputs, in [`INPUT_PARTS`] order.
fn input_digests(case: &PreparedCase) -> [String; 4] {
    // Values stream through a small buffer in logical order, so the digest does not depend on
    // the arrays' memory layout.
    fn digest<T: Copy>(arrays: &[&Array3<T>], bytes: impl Fn(T, &mut Vec<u8>)) -> String {
        let mut h = crc32fast::Hasher::new();
        let mut buf = Vec::with_capacity(1 << 16);
        for a in arrays {
            for d in a.shape() {
                h.update(&(*d as u64).to_le_bytes());
            }
            for &v in a.iter() {
                bytes(v, &mut buf);
                if buf.len() >= 1 << 16 {
                    h.update(&buf);
                    buf.clear();
                }
            }
        }
        h.update(&buf);
        format!("{:08x}", h.finalize())
    }
    let text = |t: &str| format!("{:08x}", crc32fast::hash(t.as_bytes()));
    let images = digest(&[case.pre.pet.data(), case.pre.ct.data()], |v: f32, b| {
        b.extend_from_slice(&v.to_le_bytes())
    });
    let labels = case.pre.label.as_ref().map_or_else(
        || "none".to_string(),
        |l| digest(&[l.data()], |v: u8, b| b.push(v)),
    );
    let endpoint = text(&format!(
        "{:016x}|{}",
        case.survival.time().to_bits(),
        case.survival.event()
    ));
    let clinical = text(
        &case
            .clinical
            .iter()
            .map(|(name, value)| format!("{name}={value}\n"))
            .collect::<String>(),
    );
    [images, labels, endpoint, clinical]
}

/// Records the digests of the run's inputs in `run_dir/inputs.tsv`, or checks them against
/// the ones a previous run left there (see [`INPUTS_NAME`]); call after [`check_patients`].
pub(crate) fn check_inputs(run: &RunDir, cases: &[PreparedCase]) -> Result<()> {
    let path = run.inputs_path();
    let digests: Vec<[String; 4]> = cases.par_iter().map(input_digests).collect();
    let mut text = format!("id\t{}\n", INPUT_PARTS.join("\t"));
    for (case, d) in cases.iter().zip(&digests) {
        text.push_str(&format!("{}\t{}\n", case.id, d.join("\t")));
    }
    pin(&path, &text, |old| {
        let before: std::collections::HashMap<&str, Vec<&str>> = old
            .lines()
            .skip(1)
            .filter_map(|l| {
                let mut f = l.split('\t');
                Some((f.next()?, f.collect()))
            })
            .collect();
        let changed: Vec<(&str, Vec<&str>)> = cases
            .iter()
            .zip(&digests)
            .map(|(c, d)| {
                let parts = match before.get(c.id.as_str()) {
                    Some(b) if b.len() == d.len() => INPUT_PARTS
                        .iter()
                        .zip(b.iter().zip(d))
                        .filter(|(_, (b, d))| *b != d)
                        .map(|(p, _)| *p)
                        .collect(),
                    _ => INPUT_PARTS.to_vec(),
                };
                (c.id.as_str(), parts)
            })
            .filter(|(_, parts)| !parts.is_empty())
            .collect();
        let (first, parts) = changed
            .first()
            .map_or(("(unknown)", "inputs".to_string()), |(id, p)| {
                (*id, p.join(", "))
            });
        format!(
            "the data of {} of this run's {} patients changed since the run was trained \
             (first: {first}, its {parts}), so its checkpoints and tables do not fit them; use \
             another run folder",
            changed.len().max(1),
            cases.len(),
        )
    })
}

/// Reads a JSON file into `T`, naming the file in any error.
pub(crate) fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e))?;
    serde_json::from_str(&text).map_err(|e| Error::file(path, e))
}

/// Writes `value` as pretty JSON to `path` atomically, creating its folder.
pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
    }
    let json = serde_json::to_string_pretty(value).map_err(|e| Error::file(path, e))?;
    Ok(adamss_io::write_atomic(path, json.as_bytes())?)
}
