//! An on-disk cache of preprocessed patients, so training does not resample every epoch.
//!
//! Layout: `<root>/<key>/` where `key` is a hash of the [`PreprocessConfig`] (and this
//! module's format version); `config.json` there holds the config in full. Per patient:
//! `<id>.ct.nii.gz`, `<id>.pet.nii.gz`, `<id>.label.nii.gz` (when labelled) and, written last,
//! `<id>.json` with the grids, statistics and the fingerprints (size, modification time) of
//! the source files. Every file is written atomically (`adamss_io::write_atomic`, and
//! `Volume::write` for the volumes), and an entry
//! counts only once its JSON exists, so a crash mid-write leaves no corrupt entry. An entry
//! whose sources changed, or that was made for another crop centre, is stale and recomputed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::UNIX_EPOCH;

use adamss_io::{CaseRecord, LoadOptions, Volume};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::locate::Located;
use crate::normalize::ZScore;
use crate::pipeline::{preprocess_case, CropCentre, LabelCoverage, PreprocessConfig, Preprocessed};

/// Version of the cache format; bump when the stored meaning changes.
const FORMAT: u32 = 1;

/// A source file's identity: path, size, modification time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Fingerprint {
    path: PathBuf,
    len: u64,
    modified_ns: u128,
}

impl Fingerprint {
    fn of(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path)
            .map_err(|e| Error::Cache(format!("cannot stat source {}: {e}", path.display())))?;
        let modified_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        Ok(Self {
            path: path.to_path_buf(),
            len: meta.len(),
            modified_ns,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Entry {
    format: u32,
    id: String,
    sources: Vec<Fingerprint>,
    centre: CropCentre,
    crop: Grid,
    common: Grid,
    located: Option<Located>,
    pet_zscore: ZScore,
    coverage: Option<LabelCoverage>,
    has_label: bool,
}

/// Whether a lookup was served from disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Read from the cache.
    Hit,
    /// Computed (absent or stale) and stored.
    Miss,
}

/// What [`PreprocessCache::fill`] did: patients stored or found, their label coverage, and
/// the patients that failed with their errors.
#[derive(Debug)]
pub struct FillReport {
    /// The cache folder of the configuration.
    pub dir: PathBuf,
    /// The configuration.
    pub config: PreprocessConfig,
    /// Patients already in the cache.
    pub hits: usize,
    /// Per preprocessed patient, how much of its labels the crop holds (`None`: unlabelled).
    pub coverages: Vec<(String, Option<LabelCoverage>)>,
    /// Patients that could not be read or preprocessed.
    pub failures: Vec<(String, Error)>,
}

impl std::fmt::Display for FillReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let summary = crate::CoverageSummary::from_cases(
            (self.coverages.iter()).map(|(id, c)| (id.as_str(), *c)),
        );
        write!(
            f,
            "preprocessed {} patients onto {:?} crops at {:.2} mm ({} from the cache in {}); {summary}",
            self.coverages.len(),
            self.config.crop_size,
            self.config.spacing_mm,
            self.hits,
            self.dir.display()
        )?;
        for (id, e) in &self.failures {
            write!(f, "\n  failed: {id}: {e}")?;
        }
        Ok(())
    }
}

/// The preprocessed-cohort cache for one configuration.
#[derive(Debug, Clone)]
pub struct PreprocessCache {
    dir: PathBuf,
    config: PreprocessConfig,
}

impl PreprocessCache {
    /// Opens (creating it if needed) the cache folder of `config` under `root`.
    pub fn open(root: impl AsRef<Path>, config: &PreprocessConfig) -> Result<Self> {
        config.validate()?;
        let json = serde_json::to_string(config)
            .map_err(|e| Error::Cache(format!("cannot serialise the config: {e}")))?;
        let key = adamss_io::fnv1a64(format!("v{FORMAT}:{json}").as_bytes());
        let dir = root.as_ref().join(format!("{key:016x}"));
        std::fs::create_dir_all(&dir)
            .map_err(|e| Error::Cache(format!("creating {}: {e}", dir.display())))?;
        let cfg_path = dir.join("config.json");
        if !cfg_path.exists() {
            let pretty = serde_json::to_vec_pretty(config)
                .map_err(|e| Error::Cache(format!("cannot serialise the config: {e}")))?;
            adamss_io::write_atomic(&cfg_path, &pretty)?;
        }
        Ok(Self {
            dir,
            config: config.clone(),
        })
    }

    /// The folder holding this configuration's entries.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn file(&self, id: &str, what: &str) -> PathBuf {
        self.dir.join(format!("{id}.{what}"))
    }

    fn sources(record: &CaseRecord) -> Result<Vec<Fingerprint>> {
        let mut paths = vec![record.ct.as_path(), record.pet.as_path()];
        if let Some(m) = &record.mask {
            paths.push(m.as_path());
        }
        paths.into_iter().map(Fingerprint::of).collect()
    }

    /// Returns the preprocessed patient, from disk when a fresh entry exists, otherwise by
    /// loading and preprocessing the case and storing the result.
    pub fn get(
        &self,
        record: &CaseRecord,
        load: &LoadOptions,
        centre: CropCentre,
    ) -> Result<(Preprocessed, CacheOutcome)> {
        if record.id.is_empty()
            || !record
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            || record.id.starts_with('.')
        {
            return Err(Error::Cache(format!(
                "patient id {:?} cannot name a cache file (letters, digits, '-', '_', '.')",
                record.id
            )));
        }
        let sources = Self::sources(record)?;
        if let Some(p) = self.read_fresh(record, &sources, centre) {
            return Ok((p, CacheOutcome::Hit));
        }
        let case = record.load(load)?;
        let p = preprocess_case(&case, &self.config, centre)?;
        self.store(&p, sources, centre)?;
        Ok((p, CacheOutcome::Miss))
    }

    /// Fills the cache with every patient of `cohort` (in parallel, crops centred
    /// [`CropCentre::Auto`] as training does), keeping going past patients that fail.
    /// `progress(done, total)` is called after each patient (from worker threads).
    pub fn fill(
        &self,
        cohort: &adamss_io::Cohort,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> FillReport {
        use rayon::prelude::*;
        let (total, done) = (cohort.records().len(), AtomicUsize::new(0));
        let results: Vec<_> = (cohort.records().par_iter())
            .map(|r| {
                let got = self.get(r, cohort.options(), CropCentre::Auto);
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
                (r.id.clone(), got.map(|(p, outcome)| (p.coverage, outcome)))
            })
            .collect();
        let mut report = FillReport {
            dir: self.dir.clone(),
            config: self.config.clone(),
            hits: 0,
            coverages: Vec::new(),
            failures: Vec::new(),
        };
        for (id, result) in results {
            match result {
                Ok((coverage, outcome)) => {
                    report.hits += usize::from(outcome == CacheOutcome::Hit);
                    report.coverages.push((id, coverage));
                }
                Err(e) => report.failures.push((id, e)),
            }
        }
        report
    }

    fn read_fresh(
        &self,
        record: &CaseRecord,
        sources: &[Fingerprint],
        centre: CropCentre,
    ) -> Option<Preprocessed> {
        let text = std::fs::read_to_string(self.file(&record.id, "json")).ok()?;
        let e: Entry = serde_json::from_str(&text).ok()?;
        if e.format != FORMAT || e.id != record.id || e.sources != sources || e.centre != centre {
            return None;
        }
        let ct = Volume::<f32>::read(self.file(&e.id, "ct.nii.gz")).ok()?;
        let pet = Volume::<f32>::read(self.file(&e.id, "pet.nii.gz")).ok()?;
        let label = if e.has_label {
            Some(Volume::<u8>::read(self.file(&e.id, "label.nii.gz")).ok()?)
        } else {
            None
        };
        // NIfTI stores geometry in float32: put the exact grid back.
        let ct = Volume::new(ct.into_parts().0, e.crop.geometry).ok()?;
        let pet = Volume::new(pet.into_parts().0, e.crop.geometry).ok()?;
        let label = match label {
            Some(l) => Some(Volume::new(l.into_parts().0, e.crop.geometry).ok()?),
            None => None,
        };
        if ct.shape() != e.crop.shape || pet.shape() != e.crop.shape {
            return None;
        }
        Some(Preprocessed {
            id: e.id,
            ct,
            pet,
            label,
            crop: e.crop,
            common: e.common,
            located: e.located,
            pet_zscore: e.pet_zscore,
            coverage: e.coverage,
        })
    }

    fn store(&self, p: &Preprocessed, sources: Vec<Fingerprint>, centre: CropCentre) -> Result<()> {
        // Remove the old marker first: from here until the new one lands the entry is absent.
        let marker = self.file(&p.id, "json");
        let _ = std::fs::remove_file(&marker);
        p.ct.write(self.file(&p.id, "ct.nii.gz"))?;
        p.pet.write(self.file(&p.id, "pet.nii.gz"))?;
        if let Some(l) = &p.label {
            l.write(self.file(&p.id, "label.nii.gz"))?;
        }
        let entry = Entry {
            format: FORMAT,
            id: p.id.clone(),
            sources,
            centre,
            crop: p.crop,
            common: p.common,
            located: p.located,
            pet_zscore: p.pet_zscore,
            coverage: p.coverage,
            has_label: p.label.is_some(),
        };
        let bytes = serde_json::to_vec_pretty(&entry)
            .map_err(|e| Error::Cache(format!("cannot serialise entry {}: {e}", p.id)))?;
        Ok(adamss_io::write_atomic(&marker, &bytes)?)
    }
}
