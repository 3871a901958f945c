//! Model bundles: one trained AdaMSS network with everything needed to score new patients, in
//! a self-contained folder that can be copied to another machine.
//!
//! ```text
//! MODEL/
//!   manifest.json              format, versions, method, fold, and a SHA-256 per file
//!   model.json                 network configs (Stage I, survival), preprocessing, radiomics
//!   head.json                  the head's inputs (HeadInputs): clinical encoding, radiomics
//!   baseline.json              (Cox heads) Breslow's baseline cumulative hazard on the
//!                              training fold: survival curves
//!   segmentation.safetensors   Stage I weights and BatchNorm statistics (the masks)
//!   survival.safetensors       the survival network's weights and BatchNorm statistics
//! ```
//!
//! [`Bundle::open`] refuses a folder that misses a file, whose files differ from their digests
//! (altered or truncated), or that another bundle format or an incompatible toolkit version
//! wrote, naming the file and the problem.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use adamss_model::{AdaMssConfig, SurvivalOutput};
use adamss_preprocess::PreprocessConfig;
use adamss_radiomics::ExtractionConfig;
use adamss_survival::BreslowBaseline;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::head::HeadInputs;
use crate::method::Method;
use crate::run::{read_json, write_json, RunDir, BEST_WEIGHTS_NAME};

/// The `format` of every bundle's manifest.
pub const BUNDLE_FORMAT: &str = "adamss-model";

/// The bundle layout this toolkit writes and reads.
pub const BUNDLE_FORMAT_VERSION: u32 = 1;

/// The manifest's file name.
pub const MANIFEST_NAME: &str = "manifest.json";
/// The model settings' file name ([`BundleModel`]).
pub const MODEL_NAME: &str = "model.json";
/// The head inputs' file name ([`HeadInputs`]).
pub const HEAD_NAME: &str = "head.json";
/// Stage I's weights.
pub const SEGMENTATION_WEIGHTS_NAME: &str = "segmentation.safetensors";
/// The survival network's weights.
pub const SURVIVAL_WEIGHTS_NAME: &str = "survival.safetensors";

/// Breslow's baseline (optional: Cox heads of runs that recorded it).
pub const BASELINE_FILE_NAME: &str = "baseline.json";

/// Files every bundle has besides the manifest.
const REQUIRED: [&str; 4] = [
    MODEL_NAME,
    HEAD_NAME,
    SEGMENTATION_WEIGHTS_NAME,
    SURVIVAL_WEIGHTS_NAME,
];

/// Size and SHA-256 of one file of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileDigest {
    /// Bytes.
    pub bytes: u64,
    /// SHA-256, lower-case hex (what `sha256sum` prints).
    pub sha256: String,
}

impl FileDigest {
    /// Digests the file at `path` (streamed).
    pub fn of(path: &Path) -> Result<Self> {
        let mut file = std::fs::File::open(path).map_err(|e| Error::file(path, e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 16];
        let mut bytes = 0u64;
        loop {
            let n = file.read(&mut buf).map_err(|e| Error::file(path, e))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            bytes += n as u64;
        }
        let sha256 = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(Self { bytes, sha256 })
    }
}

/// A bundle's `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleManifest {
    /// Always [`BUNDLE_FORMAT`].
    pub format: String,
    /// The layout's version ([`BUNDLE_FORMAT_VERSION`] when written by this toolkit).
    pub format_version: u32,
    /// The toolkit version that wrote the bundle.
    pub toolkit_version: String,
    /// The AdaMSS network: [`Method::Ssl`] or [`Method::SslRadiomics`].
    pub method: Method,
    /// The cross-validation fold whose networks these are.
    pub fold: usize,
    /// Median risk over the fold's training patients: the high/low risk cut-off (when the
    /// run's `outcome.json` had it).
    pub train_median_risk: Option<f64>,
    /// Every other file of the bundle with its size and digest.
    pub files: BTreeMap<String, FileDigest>,
}

impl BundleManifest {
    /// This toolkit's manifest for `method`'s network of `fold`, listing no file yet
    /// ([`Bundle::write`] digests them).
    pub fn new(method: Method, fold: usize, train_median_risk: Option<f64>) -> Self {
        Self {
            format: BUNDLE_FORMAT.into(),
            format_version: BUNDLE_FORMAT_VERSION,
            toolkit_version: env!("CARGO_PKG_VERSION").into(),
            method,
            fold,
            train_median_risk,
            files: BTreeMap::new(),
        }
    }
}

/// What a bundle's networks need besides their weights (`model.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleModel {
    /// The Stage-I network (segmentation; its survival head is not used).
    pub segmentation: AdaMssConfig,
    /// The survival network, including its output (`survival.output`: the Cox log-risk, or
    /// the discrete-time model's intervals) and the width of its extra inputs.
    pub survival: AdaMssConfig,
    /// How CT and PET are put onto the network's grid.
    pub preprocess: PreprocessConfig,
    /// The radiomics extraction feeding the head (used when the head reads radiomics).
    pub extraction: ExtractionConfig,
    /// Patients per forward pass.
    pub predict_batch: usize,
}

/// A model bundle, in memory (settings and head) with its weight files on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct Bundle {
    /// The manifest (its `files` empty for a bundle taken from a run and not yet written).
    pub manifest: BundleManifest,
    /// Network and preprocessing settings.
    pub model: BundleModel,
    /// The head's inputs besides the images.
    pub head: HeadInputs,
    /// Breslow's baseline cumulative hazard on the training fold (Cox heads): with it the
    /// predictor gives survival curves `S(t) = exp(−H₀(t)·e^risk)`.
    pub baseline: Option<BreslowBaseline>,
    /// Stage I's weights file.
    pub segmentation_weights: PathBuf,
    /// The survival network's weights file.
    pub survival_weights: PathBuf,
}

impl std::fmt::Display for Bundle {
    /// One line: method, fold, files and size, what the head reads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} of fold {} ({} files, {:.1} MB; head: {} radiomics + {} clinical inputs{})",
            self.manifest.method.key(),
            self.manifest.fold,
            self.manifest.files.len() + 1,
            self.manifest.files.values().map(|f| f.bytes).sum::<u64>() as f64 / 1e6,
            self.head.radiomics.as_ref().map_or(0, |s| s.selected.len()),
            self.head.clinical.names().len(),
            if self.head.offset.is_some() {
                ", LASSO-CoxPH offset"
            } else {
                ""
            }
        )
    }
}

impl Bundle {
    /// The bundle of one fold's AdaMSS network ([`Method::Ssl`] or [`Method::SslRadiomics`])
    /// of the finished run in `run` (nothing is written; see [`Bundle::write`]).
    pub fn from_run(run: &RunDir, fold: usize, method: Method) -> Result<Self> {
        if !matches!(method, Method::Ssl | Method::SslRadiomics) {
            return Err(Error::Config(format!(
                "a model bundle holds an AdaMSS network (ssl, ssl-radiomics), not {}",
                method.key()
            )));
        }
        let config = run.read_config()?;
        if fold >= config.cv.folds {
            return Err(Error::Config(format!(
                "fold {fold} does not exist: the run has folds 0 to {}",
                config.cv.folds.saturating_sub(1)
            )));
        }
        let need = |p: PathBuf| -> Result<PathBuf> {
            if p.is_file() {
                Ok(p)
            } else {
                Err(Error::file(
                    &p,
                    format!(
                        "missing: train fold {fold} with the {} method first (adamss train)",
                        method.key()
                    ),
                ))
            }
        };
        let segmentation_weights = need(run.stage1(fold).join(BEST_WEIGHTS_NAME))?;
        let survival_weights = need(run.survival(fold, method).join(BEST_WEIGHTS_NAME))?;
        let head = run.read_head_inputs(fold, method)?;
        let baseline_path = run.baseline(fold, method);
        let baseline = if baseline_path.is_file() {
            Some(read_json(&baseline_path)?)
        } else {
            None
        };
        // The fold's own results (written by every run), else the run's outcome.json.
        let results = run
            .read_fold_results(fold)
            .or_else(|_| run.read_outcome().map(|o| o.results))
            .unwrap_or_default();
        let train_median_risk = results
            .into_iter()
            .find(|r| r.method == method && r.fold == fold)
            .map(|r| r.train_median_risk)
            .filter(|m| m.is_finite());
        let mut segmentation = config.model.clone();
        segmentation.survival.extra_features = 0;
        let mut survival = config.model.clone();
        survival.survival.extra_features = head.width() as i64;
        Ok(Self {
            manifest: BundleManifest::new(method, fold, train_median_risk),
            model: BundleModel {
                segmentation,
                survival,
                preprocess: config.preprocess.clone(),
                extraction: config.radiomics.extraction(),
                predict_batch: config.runtime.predict_batch.max(1),
            },
            head,
            baseline,
            segmentation_weights,
            survival_weights,
        })
    }

    /// Writes the bundle to the folder `dir`, which must not exist yet: everything goes into
    /// a temporary folder beside it that is renamed into place last, so `dir` appears whole
    /// or not at all. Returns the bundle as written (its manifest with the digests, its
    /// weights inside `dir`).
    pub fn write(&self, dir: &Path) -> Result<Bundle> {
        if dir.exists() {
            return Err(Error::file(
                dir,
                "already exists: a bundle is written to a new folder (remove it first)",
            ));
        }
        let parent = dir
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| Error::file(parent, e))?;
        let name = dir
            .file_name()
            .ok_or_else(|| Error::file(dir, "not a folder name"))?
            .to_string_lossy();
        let tmp = parent.join(format!(".{name}.partial-{}", std::process::id()));
        let result = self.write_into(&tmp).and_then(|()| {
            std::fs::rename(&tmp, dir).map_err(|e| Error::file(dir, e))?;
            Bundle::open(dir)
        });
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&tmp);
        }
        result
    }

    fn write_into(&self, tmp: &Path) -> Result<()> {
        if tmp.exists() {
            std::fs::remove_dir_all(tmp).map_err(|e| Error::file(tmp, e))?;
        }
        std::fs::create_dir_all(tmp).map_err(|e| Error::file(tmp, e))?;
        write_json(&tmp.join(MODEL_NAME), &self.model)?;
        write_json(&tmp.join(HEAD_NAME), &self.head)?;
        if let Some(b) = &self.baseline {
            write_json(&tmp.join(BASELINE_FILE_NAME), b)?;
        }
        for (from, name) in [
            (&self.segmentation_weights, SEGMENTATION_WEIGHTS_NAME),
            (&self.survival_weights, SURVIVAL_WEIGHTS_NAME),
        ] {
            std::fs::copy(from, tmp.join(name)).map_err(|e| Error::file(from, e))?;
        }
        let mut manifest = self.manifest.clone();
        let optional = self.baseline.as_ref().map(|_| BASELINE_FILE_NAME);
        manifest.files = REQUIRED
            .iter()
            .copied()
            .chain(optional)
            .map(|n| Ok((n.to_string(), FileDigest::of(&tmp.join(n))?)))
            .collect::<Result<_>>()?;
        write_json(&tmp.join(MANIFEST_NAME), &manifest)
    }

    /// Opens the bundle in `dir`, checking that it is complete, unaltered and of a
    /// compatible version (see the module docs).
    pub fn open(dir: &Path) -> Result<Bundle> {
        let bad = |path: &Path, problem: String| Error::Bundle {
            path: path.to_path_buf(),
            problem,
        };
        let manifest_path = dir.join(MANIFEST_NAME);
        if !manifest_path.is_file() {
            return Err(bad(
                dir,
                format!("no {MANIFEST_NAME}: not a model bundle (write one with `adamss export`)"),
            ));
        }
        let manifest: BundleManifest = read_json(&manifest_path)?;
        if manifest.format != BUNDLE_FORMAT {
            return Err(bad(
                &manifest_path,
                format!("format {:?}, not {BUNDLE_FORMAT:?}", manifest.format),
            ));
        }
        if manifest.format_version != BUNDLE_FORMAT_VERSION {
            return Err(bad(
                &manifest_path,
                format!(
                    "bundle format version {} (written by adamss {}); this toolkit (adamss {}) \
                     reads version {BUNDLE_FORMAT_VERSION}",
                    manifest.format_version,
                    manifest.toolkit_version,
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
        if !compatible_versions(&manifest.toolkit_version, env!("CARGO_PKG_VERSION")) {
            return Err(bad(
                &manifest_path,
                format!(
                    "written by adamss {}, incompatible with this toolkit (adamss {}): export \
                     the model again with this version",
                    manifest.toolkit_version,
                    env!("CARGO_PKG_VERSION")
                ),
            ));
        }
        for name in REQUIRED {
            if !manifest.files.contains_key(name) {
                return Err(bad(
                    &manifest_path,
                    format!("incomplete: {name} is not listed"),
                ));
            }
        }
        for (name, want) in &manifest.files {
            if name.contains('/') || name.contains('\\') || name.starts_with('.') {
                return Err(bad(
                    &manifest_path,
                    format!("lists {name:?}, which is not a file name inside the bundle"),
                ));
            }
            let path = dir.join(name);
            if !path.is_file() {
                return Err(bad(&path, "incomplete: the file is missing".into()));
            }
            let got = FileDigest::of(&path)?;
            if got != *want {
                return Err(bad(
                    &path,
                    format!(
                        "altered or truncated: {} bytes with SHA-256 {}, the manifest says {} \
                         bytes with {}",
                        got.bytes, got.sha256, want.bytes, want.sha256
                    ),
                ));
            }
        }
        let model: BundleModel = read_json(&dir.join(MODEL_NAME))?;
        let head: HeadInputs = read_json(&dir.join(HEAD_NAME))?;
        let baseline = if manifest.files.contains_key(BASELINE_FILE_NAME) {
            Some(read_json(&dir.join(BASELINE_FILE_NAME))?)
        } else {
            None
        };
        let width = head.width() as i64;
        if model.survival.survival.extra_features != width {
            return Err(bad(
                &dir.join(MODEL_NAME),
                format!(
                    "the survival network takes {} extra inputs but {HEAD_NAME} gives {width}",
                    model.survival.survival.extra_features
                ),
            ));
        }
        Ok(Bundle {
            manifest,
            model,
            head,
            baseline,
            segmentation_weights: dir.join(SEGMENTATION_WEIGHTS_NAME),
            survival_weights: dir.join(SURVIVAL_WEIGHTS_NAME),
        })
    }

    /// What the survival network predicts: the Cox log-risk, or the discrete-time model
    /// (one conditional survival per interval between `breaks`).
    pub fn survival_output(&self) -> &SurvivalOutput {
        &self.model.survival.survival.output
    }
}

/// Whether a bundle written by toolkit version `written` can be read by version `ours`: the
/// same major version (for 0.x, the same minor version).
fn compatible_versions(written: &str, ours: &str) -> bool {
    let parts = |v: &str| -> Option<(u64, u64)> {
        let mut it = v.split(['.', '-', '+']);
        Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
    };
    match (parts(written), parts(ours)) {
        (Some((0, a)), Some((0, b))) => a == b,
        (Some((a, _)), Some((b, _))) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_compatible_within_a_major_or_0_minor() {
        assert!(compatible_versions("0.1.0", "0.1.7"));
        assert!(!compatible_versions("0.2.0", "0.1.0"));
        assert!(compatible_versions("1.0.0", "1.4.2"));
        assert!(!compatible_versions("2.0.0", "1.4.2"));
        assert!(!compatible_versions("garbage", "0.1.0"));
    }

    /// A bundle folder holding only `manifest` (every listed file present with its digest).
    fn refused(edit: impl FnOnce(&mut BundleManifest)) -> String {
        let tmp = tempfile::tempdir().expect("tmp");
        let mut files = BTreeMap::new();
        for name in REQUIRED {
            let path = tmp.path().join(name);
            std::fs::write(&path, name).expect("write");
            files.insert(name.to_string(), FileDigest::of(&path).expect("digest"));
        }
        let mut manifest = BundleManifest {
            files,
            ..BundleManifest::new(Method::Ssl, 0, None)
        };
        edit(&mut manifest);
        write_json(&tmp.path().join(MANIFEST_NAME), &manifest).expect("manifest");
        match Bundle::open(tmp.path()) {
            Ok(_) => panic!("accepted"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn open_refuses_other_versions_incomplete_lists_and_paths_outside() {
        let e = refused(|m| m.format_version = 2);
        assert!(e.contains("bundle format version 2"), "{e}");
        let e = refused(|m| m.format = "something-else".into());
        assert!(e.contains("something-else"), "{e}");
        let e = refused(|m| m.toolkit_version = "9.0.0".into());
        assert!(e.contains("incompatible") && e.contains("9.0.0"), "{e}");
        let e = refused(|m| {
            m.files.remove(HEAD_NAME);
        });
        assert!(e.contains("incomplete") && e.contains(HEAD_NAME), "{e}");
        let e = refused(|m| {
            let d = m.files[MODEL_NAME].clone();
            m.files.insert("../outside.json".into(), d);
        });
        assert!(e.contains("not a file name inside the bundle"), "{e}");
        let e = refused(|m| {
            if let Some(d) = m.files.get_mut(SURVIVAL_WEIGHTS_NAME) {
                d.sha256 = "0".repeat(64);
            }
        });
        assert!(
            e.contains("altered") && e.contains(SURVIVAL_WEIGHTS_NAME),
            "{e}"
        );
        // With every check passed, the parse of model.json (here not JSON) names the file.
        let e = refused(|_| {});
        assert!(e.contains(MODEL_NAME), "{e}");
    }

    #[test]
    fn file_digest_is_sha256() {
        let tmp = tempfile::tempdir().expect("tmp");
        let p = tmp.path().join("abc");
        std::fs::write(&p, b"abc").expect("write");
        let d = FileDigest::of(&p).expect("digest");
        assert_eq!(d.bytes, 3);
        // FIPS 180-2, appendix B.1.
        assert_eq!(
            d.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
