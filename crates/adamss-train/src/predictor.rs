//! The in-process predictor: a trained AdaMSS network (from a [`Bundle`]) scoring patients
//! whose CT and PET are already in memory.
//!
//! ```no_run
//! use adamss_train::predictor::{PatientInput, Predictor};
//! use adamss_train::tch::Device;
//!
//! # fn main() -> adamss_train::Result<()> {
//! let predictor = Predictor::open("model".as_ref(), Device::Cpu)?;
//! let ct = adamss_io::Volume::<f32>::read("CHUM-001__CT.nii.gz")?;
//! let pet = adamss_io::Volume::<f32>::read("CHUM-001__PT.nii.gz")?;
//! let p = predictor.predict(&PatientInput::new("CHUM-001", ct, pet))?;
//! println!("risk {:.3}, GTVp voxels {}", p.risk, p.mask.data().iter().filter(|&&v| v == 1).count());
//! # Ok(())
//! # }
//! ```

use std::path::Path;
use std::sync::{Condvar, Mutex};

use adamss_io::{Clinical, Volume};
use adamss_model::tch::{self, Device, Kind, Tensor};
use adamss_model::{checkpoint, AdaMssOutput, SurvivalOutput, Transfer};
use adamss_preprocess::{
    mask_to_ct_grid, preprocess_volumes, CropCentre, Grid, PreprocessConfig, Preprocessed,
};
use ndarray::Array3;
use rayon::prelude::*;

use crate::bundle::{Bundle, BundleManifest};
use crate::data::{array_to_tensor, extras_tensor, radiomics_of, tensor_to_arrays};
use crate::error::{Error, Result};
use crate::head::HeadInputs;
use crate::predict::{gtvp_from_probs, labels_from_probs, risks_of};
use crate::stage::Network;

/// The largest crop (voxels) at which [`Predictor::predict`] runs a patient on the CPU as a
/// batch of two copies of itself (64³; measured faster at 48³, slower at 160³).
pub const PAIR_CROP_VOXELS: usize = 64 * 64 * 64;

/// One patient to score: CT (HU) and PET (SUV) on their own grids, from any source, and the
/// clinical variables (missing ones are treated exactly as in training).
#[derive(Debug, Clone)]
pub struct PatientInput {
    /// Patient id (names the patient in errors and results).
    pub id: String,
    /// CT in Hounsfield units.
    pub ct: Volume<f32>,
    /// PET in SUV.
    pub pet: Volume<f32>,
    /// Clinical variables (empty: all missing).
    pub clinical: Clinical,
    /// Crop centre in RAS+ mm; `None` finds it without labels, as training did.
    pub crop_centre: Option<[f64; 3]>,
}

impl PatientInput {
    /// A patient with no clinical variables and the automatic crop.
    pub fn new(id: impl Into<String>, ct: Volume<f32>, pet: Volume<f32>) -> Self {
        Self {
            id: id.into(),
            ct,
            pet,
            clinical: Clinical::default(),
            crop_centre: None,
        }
    }

    /// With clinical variables.
    pub fn with_clinical(mut self, clinical: Clinical) -> Self {
        self.clinical = clinical;
        self
    }
}

/// A patient's survival curve: `survival[k]` is the probability of no event by `times[k]`
/// days — for a discrete-time head at the end of each interval, for a Cox head (with the
/// bundle's Breslow baseline) at every distinct time of the training fold.
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalCurve {
    /// Interval ends in days.
    pub times: Vec<f64>,
    /// Survival probability at each time.
    pub survival: Vec<f64>,
}

/// One patient's prediction.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// Patient id.
    pub id: String,
    /// Risk score (higher = worse): the Cox log-risk (plus the LASSO offset where the head has
    /// one), or minus the area under the discrete-time survival curve.
    pub risk: f64,
    /// Above the training fold's median risk (when the bundle records it).
    pub high_risk: Option<bool>,
    /// The survival curve: from a discrete-time head, or from a Cox head and the bundle's
    /// Breslow baseline on the training fold (`None` for a Cox bundle without one).
    pub survival_curve: Option<SurvivalCurve>,
    /// Stage-I labels on the patient's CT grid (1 = GTVp, 2 = GTVn; 0 outside the crop).
    pub mask: Volume<u8>,
    /// The same labels on the network's grid (the crop).
    pub mask_on_crop: Volume<u8>,
    /// The crop box used: the network's grid in the patient's physical space.
    pub crop: Grid,
    /// With [`Predictor::with_maps`]: the fusion-gate weights (`gate-1…`) and attention maps
    /// (`attention-6…`) on the crop grid (see [`crate::infer::write_maps`]).
    pub maps: Vec<(String, Volume<f32>)>,
}

/// A trained AdaMSS network ready to score patients: the Stage-I network (masks), the head's
/// inputs and the survival network, on one device.
///
/// `Predictor` is `Send` but not `Sync` (libtorch tensors are not shareable by reference in
/// `tch`): give each worker thread its own (`Predictor::new` on the same [`Bundle`]), or share
/// a [`PredictorPool`], which is `Sync`. Every result is independent of the thread and of the
/// other patients in a call, except through the batch: patients go through the networks
/// `model.predict_batch` at a time, in the order given, as in training's evaluation.
#[derive(Debug)]
pub struct Predictor {
    manifest: BundleManifest,
    head: HeadInputs,
    model: crate::bundle::BundleModel,
    baseline: Option<adamss_survival::BreslowBaseline>,
    segmentation: Network,
    survival: Network,
    maps: bool,
}

impl Predictor {
    /// Opens the bundle in `dir` (see [`Bundle::open`]) onto `device`.
    pub fn open(dir: &Path, device: Device) -> Result<Self> {
        Self::new(&Bundle::open(dir)?, device)
    }

    /// Builds the networks of `bundle` on `device` and loads their weights (and BatchNorm
    /// statistics).
    pub fn new(bundle: &Bundle, device: Device) -> Result<Self> {
        let mut segmentation = Network::new(&bundle.model.segmentation, device, 0)?;
        checkpoint::load(
            &mut segmentation.vs,
            &bundle.segmentation_weights,
            &Transfer::All,
        )?;
        if !bundle.model.segmentation.segmentation {
            return Err(Error::file(
                &bundle.segmentation_weights,
                "the Stage-I network has no segmentation head",
            ));
        }
        let mut survival = Network::new(&bundle.model.survival, device, 0)?;
        checkpoint::load(&mut survival.vs, &bundle.survival_weights, &Transfer::All)?;
        Ok(Self {
            manifest: bundle.manifest.clone(),
            head: bundle.head.clone(),
            model: bundle.model.clone(),
            baseline: bundle.baseline.clone(),
            segmentation,
            survival,
            maps: false,
        })
    }

    /// Also return the fusion-gate and attention maps.
    pub fn with_maps(mut self, maps: bool) -> Self {
        self.maps = maps;
        self
    }

    /// The bundle's manifest (method, fold, versions).
    pub fn manifest(&self) -> &BundleManifest {
        &self.manifest
    }

    /// The head's inputs.
    pub fn head(&self) -> &HeadInputs {
        &self.head
    }

    /// The device the networks run on.
    pub fn device(&self) -> Device {
        self.survival.vs.device()
    }

    /// Patients per forward pass.
    pub fn batch_size(&self) -> usize {
        self.model.predict_batch.max(1)
    }

    /// Scores one patient.
    ///
    /// On the CPU, with a crop of at most [`PAIR_CROP_VOXELS`] voxels, the patient goes
    /// through the networks as a batch of two copies of itself: libtorch runs small 3-D
    /// convolutions of a batch of one through its native kernels instead of oneDNN's, and on
    /// small crops that is several times slower than the whole batch of two (cpu-small, 48³:
    /// 0.24 s instead of 0.8 s; at 160³ the batch of two is the slower, 41 s against 15 s;
    /// docs/benchmarks.md, "Prediction"). The risk equals the one `predict_batch` gives the
    /// patient to float32 rounding (relative ~1e-7), as any change of batch does.
    pub fn predict(&self, input: &PatientInput) -> Result<Prediction> {
        let pre = preprocess_input(input, &self.model.preprocess)?;
        let grid = Grid::of(&input.ct);
        let crop: usize = self.model.preprocess.crop_size.iter().product();
        let pair = self.device() == Device::Cpu && crop <= PAIR_CROP_VOXELS;
        let mut out = if pair {
            self.predict_preprocessed(
                &[pre.clone(), pre],
                &[&input.clinical, &input.clinical],
                &[grid, grid],
            )?
        } else {
            self.predict_preprocessed(&[pre], &[&input.clinical], &[grid])?
        };
        out.truncate(1);
        out.pop()
            .ok_or_else(|| Error::Config("no prediction was made".into()))
    }

    /// Scores several patients (preprocessed in parallel, then through the networks
    /// [`batch_size`](Self::batch_size) at a time). Memory holds every patient's volumes:
    /// stream a large cohort in chunks (as [`crate::infer::predict_cohort`] does).
    pub fn predict_batch(&self, inputs: &[PatientInput]) -> Result<Vec<Prediction>> {
        let config = &self.model.preprocess;
        let pre: Vec<Preprocessed> = inputs
            .par_iter()
            .map(|p| preprocess_input(p, config))
            .collect::<Result<_>>()?;
        let clinical: Vec<&Clinical> = inputs.iter().map(|p| &p.clinical).collect();
        let ct_grids: Vec<Grid> = inputs.iter().map(|p| Grid::of(&p.ct)).collect();
        self.predict_preprocessed(&pre, &clinical, &ct_grids)
    }

    /// How patients are put onto the network's grid (as in training).
    pub fn preprocess_config(&self) -> &PreprocessConfig {
        &self.model.preprocess
    }

    /// Scores patients already preprocessed with [`preprocess_input`]; `clinical[i]` and
    /// `ct_grids[i]` (the grid the mask is returned on) belong to `pre[i]`.
    pub fn predict_preprocessed(
        &self,
        pre: &[Preprocessed],
        clinical: &[&Clinical],
        ct_grids: &[Grid],
    ) -> Result<Vec<Prediction>> {
        if clinical.len() != pre.len() || ct_grids.len() != pre.len() {
            return Err(Error::Config(format!(
                "{} patients, {} clinical records and {} CT grids",
                pre.len(),
                clinical.len(),
                ct_grids.len()
            )));
        }
        let device = self.device();
        let batch = self.batch_size();
        let idx: Vec<usize> = (0..pre.len()).collect();
        let stack =
            |chunk: &[usize], get: &dyn Fn(&Preprocessed) -> &Array3<f32>| -> Result<Tensor> {
                let parts: Vec<Tensor> = chunk
                    .iter()
                    .map(|&i| array_to_tensor(get(&pre[i])).unsqueeze(0))
                    .collect();
                Ok(Tensor::f_stack(&parts, 0)?.f_to_device(device)?)
            };
        let inputs: Vec<(Tensor, Tensor)> = idx
            .chunks(batch)
            .map(|c| Ok((stack(c, &|p| p.pet.data())?, stack(c, &|p| p.ct.data())?)))
            .collect::<Result<_>>()?;
        // Stage I: the masks on the crop grid.
        let mut masks = Vec::with_capacity(pre.len());
        let mut gtvps = Vec::with_capacity(pre.len());
        for (chunk, (pet, ct)) in idx.chunks(batch).zip(&inputs) {
            let seg = tch::no_grad(|| self.segmentation.net.forward_t(pet, ct, None, false))?;
            let logits = seg.seg_logits.ok_or_else(|| {
                Error::Config("the Stage-I network has no segmentation head".into())
            })?;
            for k in 0..chunk.len() {
                let probs = tensor_to_arrays(&logits.get(k as i64).sigmoid())?;
                masks.push(labels_from_probs(&probs[0], &probs[1]));
                gtvps.push(gtvp_from_probs(&probs[0]));
            }
        }
        // The head's inputs besides the images, as in training.
        let head = &self.head;
        let rows = if head.needs_radiomics() {
            let window = self.model.preprocess.ct_window;
            let extraction = &self.model.extraction;
            // As in training: the GTVp channel, not the exclusive label map.
            pre.par_iter()
                .zip(&gtvps)
                .zip(clinical)
                .map(|((p, m), c)| {
                    let features = radiomics_of(p, m, window, extraction);
                    head.row(c, features.as_deref())
                })
                .collect::<Result<Vec<_>>>()?
        } else {
            clinical
                .iter()
                .map(|c| self.head.row(c, None))
                .collect::<Result<Vec<_>>>()?
        };
        let extras: Vec<Vec<f64>> = rows.iter().map(|r| r.extras.clone()).collect();
        let median = self.manifest.train_median_risk;
        let mut out = Vec::with_capacity(pre.len());
        for (chunk, (pet, ct)) in idx.chunks(batch).zip(&inputs) {
            let extra = extras_tensor(&extras, chunk, device)?;
            let o = tch::no_grad(|| self.survival.net.forward_t(pet, ct, extra.as_ref(), false))?;
            let risk = risks_of(&self.survival.net, &o.survival)?;
            let curves = self.curves(&o.survival)?;
            for (k, &i) in chunk.iter().enumerate() {
                let risk = risk[k] + rows[i].offset;
                let geometry = *pre[i].ct.geometry();
                let mask_on_crop = Volume::new(masks[i].clone(), geometry)?;
                let mask = mask_to_ct_grid(&mask_on_crop, &ct_grids[i])?;
                let maps = if self.maps {
                    maps_of(&o, k, &pre[i])?
                } else {
                    Vec::new()
                };
                out.push(Prediction {
                    id: pre[i].id.clone(),
                    risk,
                    high_risk: median.map(|m| risk > m),
                    survival_curve: match &curves {
                        Some(c) => Some(c[k].clone()),
                        None => self.baseline.as_ref().map(|b| SurvivalCurve {
                            times: b.cumulative_hazard.times.clone(),
                            survival: b
                                .cumulative_hazard
                                .times
                                .iter()
                                .map(|&t| b.survival(risk, t))
                                .collect(),
                        }),
                    },
                    mask,
                    mask_on_crop,
                    crop: pre[i].crop,
                    maps,
                });
            }
        }
        Ok(out)
    }

    /// Survival curves of a discrete-time head (`None` for a Cox head).
    fn curves(&self, survival: &Tensor) -> Result<Option<Vec<SurvivalCurve>>> {
        let SurvivalOutput::DiscreteTime { breaks } = &self.model.survival.survival.output else {
            return Ok(None);
        };
        let s = survival
            .f_sigmoid()?
            .f_cumprod(1, Kind::Double)?
            .f_to_device(Device::Cpu)?;
        let n = s.size()[0];
        let mut curves = Vec::with_capacity(n as usize);
        for k in 0..n {
            let values = Vec::<f64>::try_from(s.f_get(k)?)?;
            curves.push(SurvivalCurve {
                times: breaks[1..].to_vec(),
                survival: values,
            });
        }
        Ok(Some(curves))
    }
}

/// Puts one patient onto the network's grid with `config` (the predictor's
/// [`Predictor::preprocess_config`]), at its crop centre or the label-free locator's.
pub fn preprocess_input(input: &PatientInput, config: &PreprocessConfig) -> Result<Preprocessed> {
    let centre = input.crop_centre.map_or(CropCentre::Auto, CropCentre::At);
    preprocess_volumes(&input.id, &input.ct, &input.pet, None, config, centre)
        .map_err(|e| Error::Cohort(format!("patient {}: {e}", input.id)))
}

/// Sample `k`'s fusion-gate weights and attention maps from one forward pass, on the case's
/// network grid: `gate-<i>` for encoder level i = 1…, the gate weight averaged over channels,
/// and `attention-<l>` for decoder level l = 6…, upsampled trilinearly where coarser.
pub fn maps_of(
    output: &AdaMssOutput,
    k: usize,
    case: &Preprocessed,
) -> Result<Vec<(String, Volume<f32>)>> {
    let geometry = *case.ct.geometry();
    let size: Vec<i64> = case.ct.shape().iter().map(|&v| v as i64).collect();
    let named = output
        .gates
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("gate-{}", i + 1), t))
        .chain(
            output
                .attention
                .iter()
                .enumerate()
                .map(|(j, t)| (format!("attention-{}", 6 + j), t)),
        );
    let mut out = Vec::new();
    for (name, t) in named {
        let map = t
            .f_get(k as i64)?
            .f_to_kind(Kind::Float)?
            .f_mean_dim(0, true, Kind::Float)?
            .f_unsqueeze(0)?
            .f_upsample_trilinear3d(&size, false, None, None, None)?
            .f_squeeze()?;
        let array = tensor_to_arrays(&map)?.swap_remove(0);
        out.push((name, Volume::new(array, geometry)?));
    }
    Ok(out)
}

/// Several [`Predictor`]s of one bundle behind a lock, shareable by the threads of a server
/// (`Sync`): each call takes an idle predictor, waiting while all are busy.
#[derive(Debug)]
pub struct PredictorPool {
    idle: Mutex<Vec<Predictor>>,
    freed: Condvar,
    size: usize,
}

impl PredictorPool {
    /// `size` predictors (at least 1) of `bundle` on `device`.
    pub fn new(bundle: &Bundle, device: Device, size: usize) -> Result<Self> {
        let size = size.max(1);
        let idle = (0..size)
            .map(|_| Predictor::new(bundle, device))
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            idle: Mutex::new(idle),
            freed: Condvar::new(),
            size,
        })
    }

    /// Number of predictors.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Scores one patient on an idle predictor.
    pub fn predict(&self, input: &PatientInput) -> Result<Prediction> {
        self.with(|p| p.predict(input))
    }

    /// Scores several patients on one idle predictor.
    pub fn predict_batch(&self, inputs: &[PatientInput]) -> Result<Vec<Prediction>> {
        self.with(|p| p.predict_batch(inputs))
    }

    fn with<T>(&self, f: impl FnOnce(&Predictor) -> T) -> T {
        let predictor = {
            let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
            loop {
                if let Some(p) = idle.pop() {
                    break p;
                }
                idle = self.freed.wait(idle).unwrap_or_else(|p| p.into_inner());
            }
        };
        // Returned to the pool even if `f` panics.
        struct Return<'a>(&'a PredictorPool, Option<Predictor>);
        impl Drop for Return<'_> {
            fn drop(&mut self) {
                if let Some(p) = self.1.take() {
                    self.0
                        .idle
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(p);
                    self.0.freed.notify_one();
                }
            }
        }
        let guard = Return(self, Some(predictor));
        match &guard.1 {
            Some(p) => f(p),
            None => unreachable!("the guard holds the predictor until dropped"),
        }
    }
}
