//! Cohorts: lists of patients whose volumes are read on demand.

use std::path::{Path, PathBuf};

use crate::{Clinical, Error, ReadOptions, Result, Surv, Volume};

/// Where one patient's files are, and what is known of them without reading the volumes.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    /// Patient identifier (HECKTOR: `<Centre>-<NNN>`).
    pub id: String,
    /// CT volume (HU).
    pub ct: PathBuf,
    /// PET volume (SUV).
    pub pet: PathBuf,
    /// Tumour label volume on the CT grid, if any.
    pub mask: Option<PathBuf>,
    /// Endpoint, if known.
    pub survival: Option<Surv>,
    /// Clinical variables (possibly all missing).
    pub clinical: Clinical,
}

/// One patient, with volumes loaded.
#[derive(Debug, Clone)]
pub struct Case {
    /// Patient identifier.
    pub id: String,
    /// CT in Hounsfield units, on its own grid.
    pub ct: Volume<f32>,
    /// PET in SUV, on its own grid (usually coarser than the CT's).
    pub pet: Volume<f32>,
    /// Tumour labels on the CT grid: 0 background, 1 primary tumour (GTVp), 2 nodes (GTVn).
    pub mask: Option<Volume<u8>>,
    /// Endpoint, if known.
    pub survival: Option<Surv>,
    /// Clinical variables.
    pub clinical: Clinical,
}

/// How cases are read from disk.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LoadOptions {
    /// NIfTI reading options (memory bound; CT and PET must be finite by default).
    pub read: ReadOptions,
    /// Largest difference, in mm, between the mask's and the CT's affines.
    pub grid_tolerance_mm: f64,
    /// Require the mask on the CT's grid (same shape, affines within `grid_tolerance_mm`).
    /// `false` accepts a mask on its own grid — real label files are sometimes a voxel off —
    /// as long as it overlaps the CT; `Case::mask` is then on that grid, and consumers must
    /// go through physical space (adamss-preprocess does).
    pub mask_grid_must_match: bool,
    /// Label values allowed in masks besides 0.
    pub labels: Vec<u8>,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            read: ReadOptions::default(),
            grid_tolerance_mm: 1e-3,
            mask_grid_must_match: true,
            labels: vec![1, 2],
        }
    }
}

impl CaseRecord {
    /// Reads the volumes and checks them: finite CT/PET (unless allowed), mask on the CT grid
    /// holding only known labels.
    pub fn load(&self, options: &LoadOptions) -> Result<Case> {
        let ct = Volume::<f32>::read_with(&self.ct, &options.read)?;
        // A DICOM PET series reads in the scanner's units: converted to SUVbw here.
        let pet = if self.pet.is_dir() {
            crate::dicom::suv::read_pet(&self.pet, &options.read)?
        } else {
            Volume::<f32>::read_with(&self.pet, &options.read)?
        };
        let mask = match &self.mask {
            None => None,
            Some(path) => Some(read_mask(path, &self.ct, &ct, options)?),
        };
        Ok(Case {
            id: self.id.clone(),
            ct,
            pet,
            mask,
            survival: self.survival,
            clinical: self.clinical.clone(),
        })
    }
}

fn read_mask(
    path: &Path,
    ct_path: &Path,
    ct: &Volume<f32>,
    options: &LoadOptions,
) -> Result<Volume<u8>> {
    // A SEG is placed on the CT's grid: segment numbers are the labels.
    if let Ok(seg) = crate::dicom::seg::open(path, &options.read)? {
        return check_labels(seg.labels_on(ct)?, path, options);
    }
    let mask = Volume::<u8>::read_with(path, &options.read)?;
    if options.mask_grid_must_match {
        if let Some(detail) = ct.grid_difference(&mask, options.grid_tolerance_mm) {
            return Err(Error::GridMismatch {
                path: path.to_owned(),
                reference: ct_path.to_owned(),
                detail,
            });
        }
    } else if !overlaps(ct, &mask) {
        return Err(Error::GridMismatch {
            path: path.to_owned(),
            reference: ct_path.to_owned(),
            detail: "the mask does not overlap the CT in physical space".into(),
        });
    }
    check_labels(mask, path, options)
}

/// The mask, unless it holds a label other than the known ones.
fn check_labels(mask: Volume<u8>, path: &Path, options: &LoadOptions) -> Result<Volume<u8>> {
    if let Some(&value) = mask
        .data()
        .iter()
        .find(|&&v| v != 0 && !options.labels.contains(&v))
    {
        return Err(Error::BadLabel {
            path: path.to_owned(),
            value,
            allowed: options.labels.clone(),
        });
    }
    Ok(mask)
}

/// Whether the physical bounding boxes of two volumes overlap.
fn overlaps<A, B>(a: &Volume<A>, b: &Volume<B>) -> bool {
    let (alo, ahi) = a.geometry().bounds(a.shape());
    let (blo, bhi) = b.geometry().bounds(b.shape());
    (0..3).all(|k| alo[k] < bhi[k] && blo[k] < ahi[k])
}

/// A source of cases, read lazily: `get(i)` reads patient `i`'s volumes from disk.
pub trait Dataset {
    /// Number of cases.
    fn len(&self) -> usize;

    /// Whether there are no cases.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads case `i` (0-based).
    fn get(&self, index: usize) -> Result<Case>;
}

/// Why `id` cannot be a patient id, or `None` when it can. A patient's id names the files
/// written for it (its predicted mask `masks/<id>.nii.gz`, its preprocessed crop, its figures)
/// and is a row of `patients.txt`, so it must be non-empty, must not be `.` or `..`, and must
/// not contain `/`, `\` or a control character (a line break, a tab, NUL). Anything else —
/// spaces, commas, quotes, non-ASCII letters — is kept as given (the CSV files quote it).
///
/// ```
/// use adamss_io::patient_id_problem;
/// assert_eq!(patient_id_problem("CHUM-001"), None);
/// assert!(patient_id_problem("../CHUM-001").is_some());
/// ```
pub fn patient_id_problem(id: &str) -> Option<&'static str> {
    if id.is_empty() {
        Some("is empty")
    } else if id == "." || id == ".." {
        Some("is not a file name")
    } else if id.contains(['/', '\\']) {
        Some("contains a path separator (/ or \\): it names the patient's files")
    } else if id.chars().any(char::is_control) {
        Some("contains a control character (a line break, tab or NUL)")
    } else {
        None
    }
}

/// What is wrong with a record's id ([`id_fault`]).
pub(crate) enum IdFault {
    /// [`patient_id_problem`]'s reason.
    Unusable(&'static str),
    /// The id of an earlier record (its index).
    Repeats(usize),
}

/// The first record whose id is unusable or repeats an earlier one's, with the fault: the one
/// check of [`Cohort::from_records`] and of the manifest reader (which names lines).
pub(crate) fn id_fault(records: &[CaseRecord]) -> Option<(usize, IdFault)> {
    let mut first = std::collections::HashMap::new();
    records.iter().enumerate().find_map(|(i, r)| {
        if let Some(problem) = patient_id_problem(&r.id) {
            return Some((i, IdFault::Unusable(problem)));
        }
        first
            .insert(r.id.as_str(), i)
            .map(|j| (i, IdFault::Repeats(j)))
    })
}

/// A cohort: case records plus the options used to load them. Built from the HECKTOR 2022
/// layout ([`Cohort::hecktor`]) or a manifest CSV ([`Cohort::manifest`]).
#[derive(Debug, Clone)]
pub struct Cohort {
    records: Vec<CaseRecord>,
    options: LoadOptions,
}

impl Cohort {
    /// A cohort from records with default load options. Ids must be unique and usable as a
    /// file name ([`patient_id_problem`]).
    pub fn from_records(records: Vec<CaseRecord>) -> Result<Self> {
        if let Some((i, fault)) = id_fault(&records) {
            let id = &records[i].id;
            return Err(Error::Config(match fault {
                IdFault::Unusable(problem) => format!("patient id {id:?} {problem}"),
                IdFault::Repeats(_) => format!("patient id {id:?} appears twice"),
            }));
        }
        Ok(Self {
            records,
            options: LoadOptions::default(),
        })
    }

    /// Replaces the load options.
    pub fn with_options(mut self, options: LoadOptions) -> Self {
        self.options = options;
        self
    }

    /// The case records, in cohort order (sorted by id for the built-in sources).
    pub fn records(&self) -> &[CaseRecord] {
        &self.records
    }

    /// The load options.
    pub fn options(&self) -> &LoadOptions {
        &self.options
    }

    /// Index of a patient id.
    pub fn position(&self, id: &str) -> Option<usize> {
        self.records.iter().position(|r| r.id == id)
    }
}

impl Dataset for Cohort {
    fn len(&self) -> usize {
        self.records.len()
    }

    fn get(&self, index: usize) -> Result<Case> {
        self.records
            .get(index)
            .ok_or(Error::IndexOutOfRange {
                index,
                len: self.records.len(),
            })?
            .load(&self.options)
    }
}

impl Cohort {
    /// Opens a training cohort from a manifest (a path ending in `.csv`, [`Cohort::manifest`])
    /// or a HECKTOR 2022 folder ([`Cohort::hecktor`]: the patients with images and an
    /// endpoint; the join report is returned beside it, `None` for a manifest).
    pub fn open(path: impl AsRef<Path>) -> Result<(Cohort, Option<crate::JoinReport>)> {
        open_with(path.as_ref(), |p| Cohort::hecktor(p))
    }

    /// As [`Cohort::open`], for prediction: a HECKTOR folder gives every complete CT/PET pair
    /// with or without an endpoint ([`Cohort::hecktor_images`]).
    pub fn open_images(path: impl AsRef<Path>) -> Result<(Cohort, Option<crate::JoinReport>)> {
        open_with(path.as_ref(), |p| Cohort::hecktor_images(p))
    }

    /// The patients at the positions `keep` accepts, in cohort order, with the same load
    /// options (e.g. one shard of an array job).
    pub fn filter_positions(&self, keep: impl Fn(usize) -> bool) -> Cohort {
        Cohort {
            records: (self.records.iter().enumerate())
                .filter(|(i, _)| keep(*i))
                .map(|(_, r)| r.clone())
                .collect(),
            options: self.options.clone(),
        }
    }
}

fn open_with(
    path: &Path,
    hecktor: fn(&Path) -> Result<(Cohort, crate::JoinReport)>,
) -> Result<(Cohort, Option<crate::JoinReport>)> {
    if (path.extension()).is_some_and(|e| e.eq_ignore_ascii_case("csv")) {
        Ok((Cohort::manifest(path)?, None))
    } else {
        hecktor(path).map(|(c, r)| (c, Some(r)))
    }
}
