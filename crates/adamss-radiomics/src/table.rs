//! Extraction over PET + CT pairs and whole cohorts, to a table that pandas/lifelines users can
//! read (CSV with a `PatientID` column, or JSON for one case).

use std::path::Path;

use adamss_io::Volume;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::extract::{extract, extract_wavelet, FeatureClass, Features};
use crate::pixel::Pixel;
use crate::settings::Settings;

/// What to extract from one image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExtractionConfig {
    /// Settings of the original image.
    pub original: Settings,
    /// Settings of the wavelet image type; `None` leaves it out.
    pub wavelet: Option<Settings>,
    /// Feature classes, on every image type.
    pub classes: Vec<FeatureClass>,
}

impl Default for ExtractionConfig {
    /// Original image only, every implemented class, PyRadiomics' default settings.
    fn default() -> Self {
        Self {
            original: Settings::default(),
            wavelet: None,
            classes: FeatureClass::ALL.to_vec(),
        }
    }
}

impl ExtractionConfig {
    /// The AdaMSS configuration (the released code's PyRadiomics settings): `binWidth` 25 and
    /// label 1 on the original image, the eight wavelet sub-bands (coif1, level 1) with
    /// `binWidth` 10, all seven classes — 107 + 8 × 93 = 851 features per image, 1702 for a
    /// PET + CT pair.
    pub fn adamss() -> Self {
        Self {
            original: Settings {
                bin_width: 25.0,
                ..Settings::default()
            },
            wavelet: Some(Settings {
                bin_width: 10.0,
                ..Settings::default()
            }),
            classes: FeatureClass::ALL.to_vec(),
        }
    }
}

/// Features of one image (original, then the wavelet sub-bands when configured). The wavelet
/// runs in the image's precision, as PyWavelets does: pass an image stored as integers (a CT)
/// as `Volume<f64>` for PyRadiomics' values, a float32 one (a PET) as `Volume<f32>`.
pub fn extract_image<T: Pixel>(
    image: &Volume<T>,
    mask: &Volume<u8>,
    config: &ExtractionConfig,
) -> Result<Features> {
    let mut out = extract(image, mask, &config.original, &config.classes)?;
    if let Some(w) = &config.wavelet {
        let mut wset = w.clone();
        wset.label = config.original.label;
        out.extend(extract_wavelet(image, mask, &wset, &config.classes)?);
    }
    Ok(out)
}

/// Features of a PET and a CT on one mask (all three on the same grid), named
/// `PET_<feature>` and `CT_<feature>`.
pub fn extract_pet_ct<P: Pixel, C: Pixel>(
    pet: &Volume<P>,
    ct: &Volume<C>,
    mask: &Volume<u8>,
    config: &ExtractionConfig,
) -> Result<Features> {
    pet_ct(
        || extract_image(pet, mask, config),
        || extract_image(ct, mask, config),
    )
}

/// Runs the PET and CT extractions as parallel tasks and names their features `PET_<feature>`
/// and `CT_<feature>`.
pub(crate) fn pet_ct(
    pet: impl FnOnce() -> Result<Features> + Send,
    ct: impl FnOnce() -> Result<Features> + Send,
) -> Result<Features> {
    // The case being extracted is named in warnings from either image, on whichever thread.
    let case = crate::context::current();
    let (p, c) = rayon::join(
        || crate::context::carrying(&case, pet),
        || crate::context::carrying(&case, ct),
    );
    let mut out: Features = p?
        .into_iter()
        .map(|(n, v)| (format!("PET_{n}"), v))
        .collect();
    out.extend(c?.into_iter().map(|(n, v)| (format!("CT_{n}"), v)));
    Ok(out)
}

/// Features of many patients: one row per success, the failures listed apart.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FeatureTable {
    /// Feature names (columns), from the first successful patient.
    pub names: Vec<String>,
    /// `(PatientID, values)` per successful patient, in input order.
    pub rows: Vec<(String, Vec<f64>)>,
    /// `(PatientID, error)` per failed patient.
    pub failures: Vec<(String, String)>,
}

impl FeatureTable {
    /// Extracts every patient in parallel (rayon); `load(id)` returns `(pet, ct, mask)`. A
    /// patient that fails (unreadable file, empty mask, …) is recorded and the others go on.
    pub fn extract_many<F>(ids: &[String], load: F, config: &ExtractionConfig) -> Self
    where
        F: Fn(&str) -> Result<(Volume<f32>, Volume<f32>, Volume<u8>)> + Sync,
    {
        let results: Vec<(String, Result<Features>)> = ids
            .par_iter()
            .map(|id| {
                let r = crate::with_case(id, || {
                    load(id).and_then(|(pet, ct, mask)| extract_pet_ct(&pet, &ct, &mask, config))
                });
                (id.clone(), r)
            })
            .collect();
        Self::from_results(results)
    }

    /// Builds the table from per-patient results. A success whose feature names differ from
    /// the first success's becomes a failure (the columns must agree).
    pub fn from_results(results: Vec<(String, Result<Features>)>) -> Self {
        let mut t = Self::default();
        for (id, r) in results {
            match r {
                Ok(f) => {
                    if t.rows.is_empty() && t.names.is_empty() {
                        t.names = f.iter().map(|(n, _)| n.clone()).collect();
                    }
                    if f.len() != t.names.len() || f.iter().zip(&t.names).any(|((n, _), m)| n != m)
                    {
                        t.failures
                            .push((id, "feature names differ from the first patient's".into()));
                    } else {
                        t.rows.push((id, f.into_iter().map(|(_, v)| v).collect()));
                    }
                }
                Err(e) => t.failures.push((id, e.to_string())),
            }
        }
        t
    }

    /// Writes the table as CSV (`PatientID` then the features, full precision) atomically,
    /// creating its folder if needed.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let csv_err = |e: csv::Error| Error::Settings(format!("writing {}: {e}", path.display()));
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["PatientID".to_string()];
        header.extend(self.names.iter().cloned());
        w.write_record(&header).map_err(csv_err)?;
        for (id, vals) in &self.rows {
            let mut rec = vec![id.clone()];
            rec.extend(vals.iter().map(|v| format!("{v:?}")));
            w.write_record(&rec).map_err(csv_err)?;
        }
        finish_csv(w, path)
    }
}

/// Writes a CSV built in memory to `path` atomically, creating its folder if needed.
pub(crate) fn finish_csv(w: csv::Writer<Vec<u8>>, path: &Path) -> Result<()> {
    let bytes = w
        .into_inner()
        .map_err(|e| Error::Settings(format!("writing {}: {e}", path.display())))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::Settings(format!("creating {}: {e}", parent.display())))?;
    }
    Ok(adamss_io::write_atomic(path, &bytes)?)
}

/// Writes one patient's features as a JSON object `{"PatientID": id, "<feature>": value, …}`
/// (non-finite values as `null`), atomically.
pub fn write_case_json(path: &Path, id: &str, features: &Features) -> Result<()> {
    let mut map = serde_json::Map::new();
    map.insert("PatientID".into(), serde_json::Value::from(id));
    for (n, v) in features {
        let value = serde_json::Number::from_f64(*v)
            .map_or(serde_json::Value::Null, serde_json::Value::Number);
        map.insert(n.clone(), value);
    }
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(map))
        .map_err(|e| Error::Settings(format!("serialising features: {e}")))?;
    Ok(adamss_io::write_atomic(path, text.as_bytes())?)
}
