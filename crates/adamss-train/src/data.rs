//! The cohort on the network's grid, in memory, and batches drawn from it.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use adamss_io::{Clinical, Cohort, Volume};
use adamss_model::tch::{Device, Kind, Tensor};
use adamss_preprocess::{
    augment, preprocess_case, resample_nearest, AugmentConfig, CropCentre, PreprocessCache,
    PreprocessConfig, Preprocessed, Sample,
};
use adamss_radiomics::{extract_pet_ct, ExtractionConfig};
use adamss_survival::Surv;
use ndarray::Array3;
use rayon::prelude::*;

use crate::error::{Error, Result};

/// Label values segmented by the network, one output channel each: GTVp (1), GTVn (2).
pub const LABELS: [u8; 2] = [1, 2];

/// One patient, preprocessed onto the network's grid.
#[derive(Debug, Clone)]
pub struct PreparedCase {
    /// Patient id.
    pub id: String,
    /// Centre (the id's prefix before `-` or `_`).
    pub centre: String,
    /// Network inputs and labels on the crop grid (CT in [−1, 1], PET Z-scored).
    pub pre: Preprocessed,
    /// Endpoint.
    pub survival: Surv,
    /// Clinical variables.
    pub clinical: Clinical,
    /// The unlabelled findings on the crop grid (nearest neighbour; non-zero inside), when
    /// the cohort has finding maps (a synthetic `beyond-labels` cohort): what
    /// [`crate::looks`] calls the findings region.
    pub findings: Option<Array3<u8>>,
}

impl PreparedCase {
    /// The label volume on the crop grid.
    pub fn label(&self) -> Result<&Volume<u8>> {
        self.pre
            .label
            .as_ref()
            .ok_or_else(|| Error::Cohort(format!("patient {} has no labels", self.id)))
    }

    /// PET in SUV on the crop grid (the Z-score undone), for radiomics.
    pub fn pet_suv(&self) -> Volume<f32> {
        self.pre.pet_suv()
    }

    /// CT in HU on the crop grid (clipped to the window), for radiomics.
    pub fn ct_hu(&self, window: [f32; 2]) -> Volume<f32> {
        self.pre.ct_hu(window)
    }
}

/// PyRadiomics-compatible features of PET (SUV) and CT (HU) inside the label map `mask`
/// (the Stage-I prediction on the crop grid; the extraction's `label`, 1 = GTVp). `None` when
/// the mask cannot be used (e.g. empty).
pub fn radiomics_of(
    pre: &Preprocessed,
    mask: &Array3<u8>,
    ct_window: [f32; 2],
    extraction: &ExtractionConfig,
) -> Option<Vec<(String, f64)>> {
    let mask = Volume::new(mask.clone(), *pre.ct.geometry()).ok()?;
    extract_pet_ct(&pre.pet_suv(), &pre.ct_hu(ct_window), &mask, extraction).ok()
}

/// The radiomics table of a cohort from its label files (label 1 = GTVp, PET resampled
/// linearly onto the CT grid — the CLI's `adamss radiomics`): with `plan`, a PyRadiomics
/// parameter file's settings (the CT keeps the pixel type its file stores, which a resampled
/// image is cast to, as PyRadiomics does), else the AdaMSS preset on the original images.
/// Patients run in parallel; one that fails (no labels, unreadable file, empty ROI) is
/// recorded in the table's `failures` and the others go on. Non-finite voxels are read as
/// they are (PyRadiomics' rule: only values the features read must be finite).
pub fn cohort_radiomics(
    cohort: &Cohort,
    plan: Option<&adamss_radiomics::ExtractionPlan>,
) -> adamss_radiomics::FeatureTable {
    use adamss_io::Dataset as _;
    use adamss_radiomics::{Error as RadError, FeatureTable, PixelType};
    let mut options = cohort.options().clone();
    options.read.finite_only = false;
    let cohort = &cohort.clone().with_options(options);
    let load = |id: &str| -> std::result::Result<_, RadError> {
        let i = cohort
            .position(id)
            .ok_or_else(|| RadError::Settings(format!("no patient {id}")))?;
        let case = cohort.get(i)?;
        let mask = case
            .mask
            .ok_or_else(|| RadError::Settings(format!("{id} has no labels")))?;
        let pet = adamss_preprocess::resample_linear(
            &case.pet,
            &adamss_preprocess::Grid::of(&case.ct),
            0.0,
        )
        .map_err(|e| RadError::Settings(format!("{id}: PET onto the CT grid: {e}")))?;
        Ok((pet, case.ct, mask))
    };
    match plan {
        None => {
            let ids: Vec<String> = cohort.records().iter().map(|r| r.id.clone()).collect();
            FeatureTable::extract_many(&ids, load, &ExtractionConfig::default())
        }
        Some(plan) => FeatureTable::from_results(
            cohort
                .records()
                .par_iter()
                .map(|record| {
                    // The patient is named in radiomics' warnings.
                    let r = adamss_radiomics::with_case(&record.id, || {
                        load(&record.id).and_then(|(pet, ct, mask)| {
                            let header = adamss_io::read_header(&record.ct)?;
                            let stored =
                                PixelType::from_nifti(&header).unwrap_or(PixelType::Float32);
                            plan.run_pet_ct((&pet, PixelType::Float32), (&ct, stored), &mask)
                        })
                    });
                    (record.id.clone(), r)
                })
                .collect(),
        ),
    }
}

/// Patients left out of an experiment, and why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dropped {
    /// `(id, reason)`.
    pub cases: Vec<(String, String)>,
}

/// Preprocesses every patient with an endpoint and labels (in parallel; through an on-disk
/// cache when `cache_dir` is given). A patient whose files cannot be read or preprocessed is
/// an error naming the patient; patients without an endpoint or without labels are dropped and
/// listed. `progress(done, total)` is called after each patient.
pub fn prepare_cohort(
    cohort: &Cohort,
    config: &PreprocessConfig,
    cache_dir: Option<&Path>,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<(Vec<PreparedCase>, Dropped)> {
    config.validate()?;
    let cache = cache_dir
        .map(|d| PreprocessCache::open(d, config))
        .transpose()?;
    let mut dropped = Dropped::default();
    let mut wanted = Vec::new();
    for r in cohort.records() {
        match (&r.survival, &r.mask) {
            (None, _) => dropped.cases.push((r.id.clone(), "no endpoint".into())),
            (_, None) => dropped.cases.push((r.id.clone(), "no labels".into())),
            (Some(_), Some(_)) => wanted.push(r),
        }
    }
    let total = wanted.len();
    let done = AtomicUsize::new(0);
    let results: Vec<Result<PreparedCase>> = wanted
        .par_iter()
        .map(|r| {
            let pre = match &cache {
                Some(c) => c.get(r, cohort.options(), CropCentre::Auto)?.0,
                None => preprocess_case(&r.load(cohort.options())?, config, CropCentre::Auto)?,
            };
            let survival = r
                .survival
                .ok_or_else(|| Error::Cohort(format!("{}: no endpoint", r.id)))?;
            let findings = match adamss_io::synthetic::finding_map_path(r) {
                Some(path) => {
                    let map = Volume::<u8>::read_with(&path, &cohort.options().read)?;
                    Some(resample_nearest(&map, &pre.crop, 0)?.into_parts().0)
                }
                None => None,
            };
            let case = PreparedCase {
                id: r.id.clone(),
                centre: centre_of(&r.id),
                pre,
                survival,
                clinical: r.clinical.clone(),
                findings,
            };
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            Ok(case)
        })
        .collect();
    let mut cases = Vec::with_capacity(total);
    for (r, res) in wanted.iter().zip(results) {
        cases.push(res.map_err(|e| Error::Cohort(format!("patient {}: {e}", r.id)))?);
    }
    Ok((cases, dropped))
}

/// The centre of a HECKTOR-style id (`CHUM-001` → `CHUM`).
pub fn centre_of(id: &str) -> String {
    id.split(['-', '_']).next().unwrap_or(id).to_string()
}

/// Refuses a HECKTOR cohort where some patient has only one of CT and PET: training on the
/// others would silently change the cohort. The error names every such patient and what is
/// missing.
pub fn check_join(report: &adamss_io::JoinReport) -> Result<()> {
    if report.incomplete_images.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = report
        .incomplete_images
        .iter()
        .map(|(id, missing)| format!("{id} (no {missing})"))
        .collect();
    Err(Error::Cohort(format!(
        "{} patient(s) lack a modality: {}; add the files or remove the patients",
        list.len(),
        list.join(", ")
    )))
}

/// Checks that `cases` can support a `folds`-fold survival experiment.
pub fn check_cohort(cases: &[PreparedCase], folds: usize) -> Result<()> {
    let events = cases.iter().filter(|c| c.survival.event()).count();
    if cases.len() < folds {
        return Err(Error::Cohort(format!(
            "{} patients with endpoint and labels, fewer than the {folds} folds",
            cases.len()
        )));
    }
    if events == 0 {
        return Err(Error::Cohort(format!(
            "none of the {} patients has an event: survival models cannot be fitted",
            cases.len()
        )));
    }
    if events < folds {
        return Err(Error::Cohort(format!(
            "{events} events among {} patients, fewer than the {folds} folds: every test fold needs one",
            cases.len()
        )));
    }
    Ok(())
}

/// A batch on a device: inputs `[N, 1, D, H, W]`, labels `[N, 2, D, H, W]` (0/1).
#[derive(Debug)]
pub struct Batch {
    /// PET.
    pub pet: Tensor,
    /// CT.
    pub ct: Tensor,
    /// GTVp and GTVn maps.
    pub labels: Tensor,
}

/// One patient's sample: its PET, CT and label maps, augmented when `augment` is given (with
/// this `seed`).
pub fn sample_of(
    case: &PreparedCase,
    augmentation: Option<&AugmentConfig>,
    seed: u64,
) -> Result<Sample> {
    let label = case.label()?;
    let sample = Sample {
        images: vec![case.pre.pet.data().clone(), case.pre.ct.data().clone()],
        labels: Sample::one_hot(label.data(), &LABELS),
    };
    Ok(match augmentation {
        Some(a) => augment(&sample, a, seed)?,
        None => sample,
    })
}

/// Stacks samples into a batch on `device`.
pub fn batch_of(samples: &[Sample], device: Device) -> Result<Batch> {
    let stack = |get: &dyn Fn(&Sample) -> Vec<&Array3<f32>>| -> Result<Tensor> {
        let mut parts = Vec::with_capacity(samples.len());
        for s in samples {
            let channels: Vec<Tensor> = get(s).into_iter().map(array_to_tensor).collect();
            parts.push(Tensor::stack(&channels, 0));
        }
        Ok(Tensor::f_stack(&parts, 0)?.f_to_device(device)?)
    };
    Ok(Batch {
        pet: stack(&|s| vec![&s.images[0]])?,
        ct: stack(&|s| vec![&s.images[1]])?,
        labels: stack(&|s| s.labels.iter().collect())?,
    })
}

/// A 3-D array as a `[D, H, W]` CPU tensor.
pub(crate) fn array_to_tensor(a: &Array3<f32>) -> Tensor {
    let shape: Vec<i64> = a.shape().iter().map(|&n| n as i64).collect();
    match a.as_slice() {
        Some(s) => Tensor::from_slice(s).view(shape.as_slice()),
        None => {
            let v: Vec<f32> = a.iter().copied().collect();
            Tensor::from_slice(&v).view(shape.as_slice())
        }
    }
}

/// A `[C, D, H, W]` or `[D, H, W]` float tensor back to arrays, one per channel.
pub fn tensor_to_arrays(t: &Tensor) -> Result<Vec<Array3<f32>>> {
    let t = t.f_to_device(Device::Cpu)?.f_to_kind(Kind::Float)?;
    let size = t.size();
    let (channels, dims) = match size.as_slice() {
        [d, h, w] => (1, [*d, *h, *w]),
        [c, d, h, w] => (*c, [*d, *h, *w]),
        other => {
            return Err(Error::Config(format!(
                "expected a 3-D or 4-D tensor, got shape {other:?}"
            )))
        }
    };
    let flat: Vec<f32> = Vec::<f32>::try_from(t.f_contiguous()?.f_view([-1])?)?;
    let per = (dims[0] * dims[1] * dims[2]) as usize;
    (0..channels as usize)
        .map(|c| {
            Array3::from_shape_vec(
                [dims[0] as usize, dims[1] as usize, dims[2] as usize],
                flat[c * per..(c + 1) * per].to_vec(),
            )
            .map_err(|e| Error::Config(e.to_string()))
        })
        .collect()
}

/// The `[N, E]` extra-feature tensor of `picks` (None when there are no extras).
pub(crate) fn extras_tensor(
    extras: &[Vec<f64>],
    picks: &[usize],
    device: Device,
) -> Result<Option<Tensor>> {
    let width = extras.first().map_or(0, Vec::len);
    if width == 0 {
        return Ok(None);
    }
    rows_tensor(picks, width, |i| &extras[i], device).map(Some)
}

/// The `[N, 1]` offsets of `picks` (None when there are none).
pub(crate) fn offsets_tensor(
    offsets: &[f64],
    picks: &[usize],
    device: Device,
) -> Result<Option<Tensor>> {
    if offsets.is_empty() {
        return Ok(None);
    }
    rows_tensor(picks, 1, |i| std::slice::from_ref(&offsets[i]), device).map(Some)
}

/// The `[N, width]` float32 tensor of the rows `row(i)` of the patients `picks`.
fn rows_tensor<'a>(
    picks: &[usize],
    width: usize,
    row: impl Fn(usize) -> &'a [f64],
    device: Device,
) -> Result<Tensor> {
    let flat: Vec<f32> = picks
        .iter()
        .flat_map(|&i| row(i).iter().map(|&v| v as f32))
        .collect();
    Ok(Tensor::from_slice(&flat)
        .f_view([picks.len() as i64, width as i64])?
        .f_to_device(device)?)
}
