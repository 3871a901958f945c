//! The experiment configuration: one TOML file nesting every component's config.

use std::path::Path;

use adamss_model::tch::{Cuda, Device};
use adamss_model::{AdaMssConfig, CoxTies, SurvivalOutput, Transfer};
use adamss_preprocess::{AugmentConfig, LocatorConfig, PreprocessConfig};
use adamss_radiomics::{ExtractionConfig, FeatureClass, SelectorConfig, Settings};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// One training stage's schedule (spec §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StageSchedule {
    /// Epochs.
    pub epochs: usize,
    /// Optimiser steps per epoch (patients are drawn with replacement).
    pub iters_per_epoch: usize,
    /// Patients per step.
    pub batch: usize,
    /// Initial learning rate.
    pub lr: f64,
    /// `[epoch, lr]` pairs: from that (0-based) epoch on, the learning rate is `lr`.
    pub milestones: Vec<(usize, f64)>,
    /// Run the validation split every this many epochs (and after the last).
    pub validate_every: usize,
    /// The survival head's learning rate as a multiple of the stage's (1 = the released code).
    /// Short schedules need the freshly initialised head to learn faster than the transferred
    /// encoder and decoder.
    pub head_lr_multiplier: f64,
}

impl Default for StageSchedule {
    fn default() -> Self {
        Self {
            epochs: 50,
            iters_per_epoch: 200,
            batch: 2,
            lr: 1e-4,
            milestones: vec![(20, 5e-5), (40, 1e-5)],
            validate_every: 1,
            head_lr_multiplier: 1.0,
        }
    }
}

impl StageSchedule {
    /// The learning rate of `epoch`.
    pub fn lr_at(&self, epoch: usize) -> f64 {
        self.milestones
            .iter()
            .filter(|(e, _)| *e <= epoch)
            .map(|(_, lr)| *lr)
            .next_back()
            .unwrap_or(self.lr)
    }

    fn validate(&self, name: &str) -> Result<()> {
        let bad = |what: String| Err(Error::Config(format!("{name}: {what}")));
        if self.epochs == 0 || self.iters_per_epoch == 0 || self.batch == 0 {
            return bad(format!(
                "epochs, iters_per_epoch and batch must be ≥ 1, got {}, {}, {}",
                self.epochs, self.iters_per_epoch, self.batch
            ));
        }
        if self.validate_every == 0 {
            return bad("validate_every must be ≥ 1".into());
        }
        if !(self.head_lr_multiplier.is_finite() && self.head_lr_multiplier > 0.0) {
            return bad(format!(
                "head_lr_multiplier must be positive, got {}",
                self.head_lr_multiplier
            ));
        }
        let lrs = std::iter::once(self.lr).chain(self.milestones.iter().map(|m| m.1));
        for lr in lrs {
            if !(lr.is_finite() && lr > 0.0) {
                return bad(format!("learning rates must be positive, got {lr}"));
            }
        }
        if self.milestones.windows(2).any(|w| w[0].0 >= w[1].0) {
            return bad("milestones must have increasing epochs".into());
        }
        Ok(())
    }
}

/// Loss weights and options (spec §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LossConfig {
    /// Focal loss α.
    pub focal_alpha: f64,
    /// Focal loss γ.
    pub focal_gamma: f64,
    /// Weight of the segmentation loss (Dice + focal) in Stage II; 0 drops it.
    pub stage2_seg_weight: f64,
    /// Weight of the survival loss in the MTL baseline's joint loss (segmentation weight 1).
    pub mtl_survival_weight: f64,
    /// Ties in the Cox loss.
    pub ties: CoxTies,
    /// Weight of the head's L2 term with the discrete-time output (released code: 0.1).
    pub discrete_l2: f64,
}

impl Default for LossConfig {
    fn default() -> Self {
        Self {
            focal_alpha: 0.25,
            focal_gamma: 2.0,
            stage2_seg_weight: 0.0,
            mtl_survival_weight: 1.0,
            ties: CoxTies::Breslow,
            discrete_l2: 0.1,
        }
    }
}

/// Radiomics from the Stage-I masks (spec §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RadiomicsConfig {
    /// Settings of the original image (released code: binWidth 25).
    pub original: Settings,
    /// Extract the eight wavelet sub-bands too (coif1, level 1).
    pub use_wavelet: bool,
    /// Settings of the wavelet images (released code: binWidth 10).
    pub wavelet: Settings,
    /// Feature classes, on every image type.
    pub classes: Vec<FeatureClass>,
    /// LASSO-Cox selection inside the training fold.
    pub selector: SelectorConfig,
    /// Keep at most this many selected features (largest |coefficient| first).
    pub max_selected: usize,
    /// How "AdaMSS + radiomics" uses the selected radiomics and clinical features.
    pub head: RadiomicsHead,
    /// Which GTVp the training fold's radiomics are extracted from.
    pub masks: RadiomicsMasks,
}

/// Which GTVp mask a patient's radiomics are extracted from. Test patients always use the
/// Stage-I prediction: a model is judged as it would be used, on patients nobody contoured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RadiomicsMasks {
    /// The Stage-I prediction for every patient (the released code's choice): the selector
    /// and the Cox model are fitted on features of the same kind of mask they will see.
    #[default]
    Predicted,
    /// The reference label for the training fold's patients that have a GTVp in it (the
    /// usual radiomics practice: features of expert contours), the Stage-I prediction for the
    /// others and for the test patients.
    ReferenceForTraining,
}

/// How the selected radiomics (and clinical features) enter the survival head of
/// "AdaMSS (SSL) + radiomics".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RadiomicsHead {
    /// As the paper describes: the LASSO-selected radiomics and the clinical features are
    /// appended to the pooled deep features at the head's input.
    #[default]
    Inputs,
    /// As `inputs`, and the LASSO-CoxPH model of the radiomics + clinical baseline (fitted on
    /// the training fold) is added to the head's output as a fixed offset: the log-risk is
    /// `x·β_LASSO + head(…)`, the head's last layer starts at zero, so Stage II starts from the
    /// baseline's risk and learns what the images add to it. Cox output only.
    Offset,
}

impl Default for RadiomicsConfig {
    /// The AdaMSS preset ([`ExtractionConfig::adamss`]: 851 features per image).
    fn default() -> Self {
        let preset = ExtractionConfig::adamss();
        Self {
            original: preset.original,
            use_wavelet: true,
            wavelet: preset.wavelet.unwrap_or_default(),
            classes: preset.classes,
            selector: SelectorConfig::default(),
            max_selected: 32,
            head: RadiomicsHead::default(),
            masks: RadiomicsMasks::default(),
        }
    }
}

impl RadiomicsConfig {
    /// The extraction these settings describe.
    pub fn extraction(&self) -> ExtractionConfig {
        ExtractionConfig {
            original: self.original.clone(),
            wavelet: self.use_wavelet.then(|| self.wavelet.clone()),
            classes: self.classes.clone(),
        }
    }
}

/// Clinical variables fed to the survival head and the LASSO-CoxPH baselines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClinicalConfig {
    /// Column names (as in the clinical CSV). Numbers are z-scored on the training fold, text
    /// is one-hot encoded (first training level dropped), missing cells are imputed with the
    /// training mean and flagged in an indicator column.
    pub variables: Vec<String>,
    /// Variables (a subset of `variables`) the clinical LASSO-Cox baseline fits without
    /// penalty (glmnet's `penalty.factor = 0`), the others being selected around them: the
    /// textbook prognostic factors, chosen from the literature rather than from data. Default:
    /// HPV status, tobacco, age and performance status (e.g. Ang et al., NEJM 2010). Empty: a
    /// plain LASSO over every variable. Applied in a fold when its training part has at least
    /// 5 events per encoded column of these variables (the events-per-variable rule) and the
    /// unpenalised fit converges; otherwise that fold's baseline is the plain LASSO (its
    /// `selector.json` then lists no `unpenalized` column). See docs/benchmarks.md,
    /// "Baselines", for the evidence.
    pub prespecified: Vec<String>,
}

/// The clinical baseline's default pre-specified prognostic factors.
pub const PRESPECIFIED_CLINICAL: [&str; 4] = [
    "HPV status (0=-, 1=+)",
    "Tobacco",
    "Age",
    "Performance status",
];

impl Default for ClinicalConfig {
    fn default() -> Self {
        Self {
            variables: [
                "Gender",
                "Age",
                "Tobacco",
                "Alcohol",
                "Performance status",
                "HPV status (0=-, 1=+)",
                "Surgery",
                "Chemotherapy",
            ]
            .map(String::from)
            .to_vec(),
            prespecified: PRESPECIFIED_CLINICAL.map(String::from).to_vec(),
        }
    }
}

/// Cross-validation (spec §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CvConfig {
    /// Folds (by patient, stratified by event).
    pub folds: usize,
    /// Share of each training fold held out for best-epoch selection.
    pub validation_fraction: f64,
    /// Keep every centre's patients in one fold (leave-centres-out); needs ≥ `folds` centres.
    pub group_by_centre: bool,
}

impl Default for CvConfig {
    fn default() -> Self {
        Self {
            folds: 5,
            validation_fraction: 0.2,
            group_by_centre: false,
        }
    }
}

/// Where to run the network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    /// `cpu`, `cuda`, `cuda:N`, or `auto` (the first GPU when there is one).
    pub device: String,
    /// Patients per forward pass when predicting.
    pub predict_batch: usize,
    /// On CUDA, let cuDNN time its convolution algorithms on the first pass of each input
    /// shape and keep the fastest (PyTorch's `torch.backends.cudnn.benchmark`). Training crops
    /// have one shape, so the first steps pay for it once. Off: cuDNN's heuristic choice.
    /// Results on CUDA are not bit-reproducible either way; the CPU ignores it.
    pub cudnn_benchmark: bool,
    /// libtorch's CPU threads (its OpenMP pool; process-wide). 0 = automatic: libtorch's own
    /// default (every core) when the network runs on the CPU, 1 when it runs on CUDA, where
    /// libtorch's CPU work is only stacking batches and its idle pool slowed every training
    /// step (H200, paper preset: median step 0.300 s with the pool, 0.123 s with one thread).
    pub torch_threads: usize,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        Self {
            device: "auto".into(),
            predict_batch: 2,
            cudnn_benchmark: true,
            torch_threads: 0,
        }
    }
}

/// Everything one experiment needs. Read from TOML ([`ExperimentConfig::from_toml_file`]),
/// started from a preset ([`ExperimentConfig::preset`]); every table and key is optional and
/// unknown keys are errors.
///
/// | preset | grid | network | Stage I / II | survival |
/// |---|---|---|---|---|
/// | `paper` | 1 mm, 160³, 112³ crops | C = 16 | 50 × 200 steps, batch 2 | discrete-time (released code) |
/// | `default` | same | same | same, Stage II batch 8 | Cox, Breslow |
/// | `cpu-small` | 3⅓ mm, 48³ (160 mm), 32³ crops | C = 4 | minutes on 2 cores | Cox, Breslow |
/// | `tiny` | 3 mm, 16³ (48 mm) | C = 2 | seconds (smoke tests only) | Cox, Breslow |
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExperimentConfig {
    /// A name for reports.
    pub name: String,
    /// Seed of everything random (splits, sampling, augmentation, initialisation).
    pub seed: u64,
    /// Replicate of the networks' randomness on the same folds: 0 (default) is the seed's own
    /// run; `r > 0` redraws every network's initialisation, patient sampling, augmentation and
    /// dropout from (`seed`, `r`) while the folds, the validation split and the LASSO's inner
    /// cross-validation stay those of `seed`. Replicates show how far another training run
    /// moves each method (`adamss demo --replicates N`).
    pub replicate: u64,
    /// Preprocessing onto the network's grid.
    pub preprocess: PreprocessConfig,
    /// Augmentation of Stage-I (segmentation) samples; its `crop` is the training crop.
    pub augment: AugmentConfig,
    /// What survival stages (Stage II, single-task, MTL) train on.
    pub survival_samples: SurvivalSamples,
    /// The network; `survival.extra_features` is set from the selected features.
    pub model: AdaMssConfig,
    /// Losses.
    pub loss: LossConfig,
    /// Stage I (segmentation).
    pub stage1: StageSchedule,
    /// Stage II (survival fine-tuning); also the single-task baseline's schedule.
    pub stage2: StageSchedule,
    /// The baselines trained from scratch on survival (single-task, MTL): by default the
    /// budget of Stage I and Stage II together, with survival-sized batches.
    pub from_scratch: StageSchedule,
    /// Refresh BatchNorm statistics on whole training volumes before each validation pass
    /// ("precise BN", this many batches of `runtime.predict_batch`; 0 = off, the released
    /// code's behaviour). Short schedules need it: running averages over a few hundred crop
    /// batches make evaluation on whole volumes erratic.
    pub precise_bn_batches: usize,
    /// Balance Stage-II batches between events and censored patients.
    pub balanced_batches: bool,
    /// Which Stage-I weights start Stage II.
    pub transfer: Transfer,
    /// Radiomics for the head and the LASSO-CoxPH baseline.
    pub radiomics: RadiomicsConfig,
    /// Clinical variables.
    pub clinical: ClinicalConfig,
    /// Cross-validation.
    pub cv: CvConfig,
    /// Device and batch sizes.
    pub runtime: RuntimeConfig,
}

impl Default for ExperimentConfig {
    /// The `default` preset.
    fn default() -> Self {
        Self {
            name: "default".into(),
            seed: 0,
            replicate: 0,
            preprocess: PreprocessConfig::default(),
            augment: AugmentConfig::default(),
            survival_samples: SurvivalSamples::Crops,
            model: AdaMssConfig::default(),
            loss: LossConfig::default(),
            stage1: StageSchedule::default(),
            stage2: StageSchedule {
                batch: 8,
                lr: 5e-5,
                milestones: vec![(20, 1e-5), (40, 1e-6)],
                ..StageSchedule::default()
            },
            from_scratch: StageSchedule {
                batch: 8,
                epochs: 100,
                milestones: vec![(40, 5e-5), (80, 1e-5)],
                ..StageSchedule::default()
            },
            precise_bn_batches: 0,
            balanced_batches: true,
            transfer: Transfer::EncoderDecoder,
            radiomics: RadiomicsConfig::default(),
            clinical: ClinicalConfig::default(),
            cv: CvConfig::default(),
            runtime: RuntimeConfig::default(),
        }
    }
}

/// Training samples of the survival stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SurvivalSamples {
    /// Augmented and cropped exactly like Stage I (the released code); evaluation still sees
    /// whole volumes (the head pools globally, so sizes may differ).
    #[default]
    Crops,
    /// The same affine augmentation without the crop: whole volumes (slower, more context).
    WholeAugmented,
    /// Whole volumes as preprocessed.
    Whole,
}

/// Names of the built-in presets.
pub const PRESETS: [&str; 4] = ["paper", "default", "cpu-small", "tiny"];

impl ExperimentConfig {
    /// A built-in preset by name (see the table above).
    pub fn preset(name: &str) -> Result<Self> {
        match name {
            "default" => Ok(Self::default()),
            "paper" => Ok(Self::paper()),
            "cpu-small" => Ok(Self::cpu_small()),
            "tiny" => Ok(Self::tiny()),
            other => Err(Error::Config(format!(
                "unknown preset {other:?}; choose one of {PRESETS:?}"
            ))),
        }
    }

    /// The released code's setup (spec §4): discrete-time head, batch 2 in both stages.
    pub fn paper() -> Self {
        let mut c = Self {
            name: "paper".into(),
            ..Self::default()
        };
        c.model.survival.output = SurvivalOutput::released_discrete_time();
        c.stage2.batch = 2;
        c.from_scratch.batch = 2;
        c
    }

    /// A run that finishes in minutes on 2 CPU cores: 160 mm at 3⅓ mm (48³), 32³ training
    /// crops, C = 4, short schedules, 3 folds, original-image radiomics only.
    pub fn cpu_small() -> Self {
        let mut c = Self {
            name: "cpu-small".into(),
            ..Self::default()
        };
        c.preprocess = PreprocessConfig {
            spacing_mm: 10.0 / 3.0,
            crop_size: [48; 3],
            locator: LocatorConfig::scaled_to_field_of_view(160.0),
            ..PreprocessConfig::default()
        };
        c.augment = AugmentConfig {
            crop: [32; 3],
            flips: false,
            ..AugmentConfig::default()
        };
        c.model = AdaMssConfig::with_base_width(4);
        c.model.survival.hidden_multiplier = 8;
        // The paper's 0.5 drops half of a 32-unit head's inputs and units each step; at 0.2 the
        // survival rows gained (SSL 0.577 → 0.671, SSL + radiomics 0.710 → 0.723) at the same
        // cost (docs/benchmarks.md, "The main job"; chosen on the demo's own folds among three
        // settings, so an optimistic estimate).
        c.model.survival.dropout = 0.2;
        // 300 Stage-I steps at 3e-3, lowered once for the last two epochs: the same cost as the
        // earlier (5, 1e-3), (8, 3e-4) decay, whose loss was still falling fast when the rate
        // dropped; test DSC GTVp 0.738 → 0.772, GTVn 0.069 → 0.230 (docs/benchmarks.md,
        // "Stage I's schedule").
        c.stage1 = StageSchedule {
            epochs: 10,
            iters_per_epoch: 30,
            batch: 4,
            lr: 3e-3,
            milestones: vec![(8, 1e-3)],
            validate_every: 1,
            head_lr_multiplier: 1.0,
        };
        c.stage2 = StageSchedule {
            epochs: 4,
            iters_per_epoch: 10,
            batch: 8,
            lr: 1e-3,
            milestones: vec![(3, 3e-4)],
            validate_every: 1,
            head_lr_multiplier: 10.0,
        };
        // 60 steps from scratch (validated every second epoch) keep the main job near its 10
        // minutes; with 80 steps and validation every epoch the baselines scored within their
        // fold-to-fold spread of these (docs/benchmarks.md, "The main job").
        c.from_scratch = StageSchedule {
            epochs: 6,
            iters_per_epoch: 10,
            batch: 8,
            lr: 3e-3,
            milestones: vec![(3, 1e-3), (5, 3e-4)],
            validate_every: 2,
            head_lr_multiplier: 10.0,
        };
        c.loss.stage2_seg_weight = 1.0;
        c.precise_bn_batches = 6;
        c.radiomics.use_wavelet = false;
        c.radiomics.selector.folds = 3;
        c.radiomics.selector.n_alphas = 30;
        c.radiomics.max_selected = 8;
        c.cv.folds = 3;
        c.runtime.device = "cpu".into();
        c.runtime.predict_batch = 4;
        c
    }

    /// A smoke test, not an experiment: 48 mm at 3 mm (16³), width 2, three epochs of two
    /// steps per stage, 2 folds. For tests and `adamss demo --preset tiny`.
    pub fn tiny() -> Self {
        let mut c = Self::cpu_small();
        c.name = "tiny".into();
        c.preprocess = PreprocessConfig {
            spacing_mm: 3.0,
            crop_size: [16; 3],
            locator: LocatorConfig::scaled_to_field_of_view(48.0),
            ..PreprocessConfig::default()
        };
        c.augment.crop = [16; 3];
        c.model = AdaMssConfig::with_base_width(2);
        c.model.survival.hidden_multiplier = 2;
        let short = StageSchedule {
            epochs: 3,
            iters_per_epoch: 2,
            batch: 2,
            lr: 1e-3,
            milestones: vec![(2, 5e-4)],
            validate_every: 1,
            head_lr_multiplier: 1.0,
        };
        c.stage1 = short.clone();
        c.stage2 = StageSchedule {
            batch: 4,
            ..short.clone()
        };
        c.from_scratch = StageSchedule { batch: 4, ..short };
        c.cv.folds = 2;
        c.radiomics.selector.folds = 2;
        c.runtime.predict_batch = 2;
        c
    }

    /// Reads a TOML file on top of `base` (every key optional; unknown keys are errors).
    /// A top-level `preset = "…"` key picks the base instead.
    pub fn from_toml_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::File {
            path: path.to_path_buf(),
            problem: e.to_string(),
        })?;
        Self::from_toml_str(&text).map_err(|e| match e {
            Error::Config(problem) => Error::File {
                path: path.to_path_buf(),
                problem,
            },
            other => other,
        })
    }

    /// Parses TOML text (see [`ExperimentConfig::from_toml_file`]).
    pub fn from_toml_str(text: &str) -> Result<Self> {
        let mut value: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| Error::Config(e.to_string()))?;
        let base = match value.remove("preset") {
            None => Self::default(),
            Some(toml::Value::String(name)) => Self::preset(&name)?,
            Some(other) => {
                return Err(Error::Config(format!(
                    "preset must be a string, got {other}"
                )))
            }
        };
        let mut merged = toml::Table::try_from(&base)
            .map_err(|e| Error::Config(format!("serialising the preset: {e}")))?;
        merge(&mut merged, value);
        let config: Self = toml::Value::Table(merged)
            .try_into()
            .map_err(|e: toml::de::Error| Error::Config(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// The configuration as TOML (what is written into the run folder).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(self).map_err(|e| Error::Config(e.to_string()))
    }

    /// Checks every component and how they fit together.
    pub fn validate(&self) -> Result<()> {
        self.preprocess.validate()?;
        self.augment.validate()?;
        self.model.validate()?;
        self.stage1.validate("stage1")?;
        self.stage2.validate("stage2")?;
        self.from_scratch.validate("from_scratch")?;
        let m = self.model.size_multiple() as usize;
        if self.preprocess.crop_size.iter().any(|&s| s % m != 0) {
            return Err(Error::Config(format!(
                "preprocess.crop_size {:?} must be multiples of {m} for {} levels",
                self.preprocess.crop_size,
                self.model.levels()
            )));
        }
        for a in 0..3 {
            let (c, s) = (self.augment.crop[a], self.preprocess.crop_size[a]);
            if c > s || c % m != 0 {
                return Err(Error::Config(format!(
                    "augment.crop {:?} must fit in preprocess.crop_size {:?} and be multiples of {m}",
                    self.augment.crop, self.preprocess.crop_size
                )));
            }
        }
        if let Some(v) = self
            .clinical
            .prespecified
            .iter()
            .find(|v| !self.clinical.variables.contains(v))
        {
            return Err(Error::Config(format!(
                "clinical.prespecified names {v:?}, which is not one of clinical.variables {:?}",
                self.clinical.variables
            )));
        }
        if self.cv.folds < 2 {
            return Err(Error::Config(format!(
                "cv.folds must be ≥ 2, got {}",
                self.cv.folds
            )));
        }
        if !(0.0..0.5).contains(&self.cv.validation_fraction) {
            return Err(Error::Config(format!(
                "cv.validation_fraction must be in [0, 0.5), got {}",
                self.cv.validation_fraction
            )));
        }
        if self.stage2.batch < 2 && matches!(self.model.survival.output, SurvivalOutput::Cox) {
            return Err(Error::Config(
                "stage2.batch must be ≥ 2 with the Cox loss (a partial likelihood compares patients)"
                    .into(),
            ));
        }
        if self.radiomics.head == RadiomicsHead::Offset
            && !matches!(self.model.survival.output, SurvivalOutput::Cox)
        {
            return Err(Error::Config(
                "radiomics.head = \"offset\" adds a Cox log-risk; it needs model.survival.output.kind = \"cox\""
                    .into(),
            ));
        }
        let weights = [
            self.loss.stage2_seg_weight,
            self.loss.mtl_survival_weight,
            self.loss.discrete_l2,
        ];
        if weights.iter().any(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(Error::Config(format!(
                "loss weights must be finite and ≥ 0, got {weights:?}"
            )));
        }
        if self.runtime.torch_threads > 1024 {
            return Err(Error::Config(format!(
                "runtime.torch_threads must be ≤ 1024 (0 = automatic), got {}",
                self.runtime.torch_threads
            )));
        }
        if self.runtime.predict_batch == 0 {
            return Err(Error::Config("runtime.predict_batch must be ≥ 1".into()));
        }
        crate::device::parse_device(&self.runtime.device)?;
        Ok(())
    }
}

/// Overlays `over` onto `base`, table by table.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

/// Parses `runtime.device` ([`parse_device`](crate::parse_device)) and applies the rest of `runtime`, libtorch
/// settings that hold for the whole process: on CUDA, cuDNN's algorithm search
/// (`runtime.cudnn_benchmark`); libtorch's CPU threads (`runtime.torch_threads`, with 0 = one
/// thread on CUDA and libtorch's default on the CPU).
pub fn open_device(runtime: &RuntimeConfig) -> Result<Device> {
    let device = crate::device::parse_device(&runtime.device)?;
    if device.is_cuda() {
        Cuda::cudnn_set_benchmark(runtime.cudnn_benchmark);
    }
    match (runtime.torch_threads, device.is_cuda()) {
        (0, false) => {}
        (0, true) => adamss_model::tch::set_num_threads(1),
        (n, _) => adamss_model::tch::set_num_threads(i32::try_from(n).unwrap_or(i32::MAX)),
    }
    Ok(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_validate_and_round_trip_through_toml() {
        for name in PRESETS {
            let c = ExperimentConfig::preset(name).expect("preset");
            c.validate().expect("valid");
            let text = c.to_toml().expect("toml");
            let back = ExperimentConfig::from_toml_str(&text).expect("parse");
            assert_eq!(back, c, "{name}");
        }
    }

    #[test]
    fn overrides_apply_on_the_named_preset() {
        let c = ExperimentConfig::from_toml_str(
            "preset = \"cpu-small\"\nseed = 7\n[stage1]\nepochs = 2\n[cv]\nfolds = 4\n",
        )
        .expect("parse");
        assert_eq!(c.seed, 7);
        assert_eq!(c.stage1.epochs, 2);
        assert_eq!(c.stage1.batch, 4, "untouched keys keep the preset's value");
        assert_eq!(c.cv.folds, 4);
        assert_eq!(c.model.base_width, 4);
        assert!(
            c.runtime.cudnn_benchmark,
            "cuDNN's algorithm search is on by default"
        );
        let off =
            ExperimentConfig::from_toml_str("[runtime]\ncudnn_benchmark = false\n").expect("parse");
        assert!(!off.runtime.cudnn_benchmark);
        assert_eq!(c.runtime.torch_threads, 0, "automatic by default");
        let e = ExperimentConfig::from_toml_str("[runtime]\ntorch_threads = 100000\n").unwrap_err();
        assert!(e.to_string().contains("torch_threads"), "{e}");
    }

    #[test]
    fn prespecified_clinical_factors_must_be_clinical_variables() {
        let c = ExperimentConfig::preset("cpu-small").expect("preset");
        assert_eq!(
            c.clinical.prespecified,
            PRESPECIFIED_CLINICAL.map(String::from)
        );
        let e = ExperimentConfig::from_toml_str(
            "[clinical]\nvariables = [\"Age\"]\nprespecified = [\"Age\", \"Tobacco\"]\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("\"Tobacco\""), "{e}");
        let plain =
            ExperimentConfig::from_toml_str("[clinical]\nprespecified = []\n").expect("parse");
        assert!(plain.clinical.prespecified.is_empty());
    }

    #[test]
    fn unknown_keys_and_bad_values_are_errors() {
        let e = ExperimentConfig::from_toml_str("[stage1]\nepoch = 3\n").unwrap_err();
        assert!(e.to_string().contains("epoch"), "{e}");
        let e = ExperimentConfig::from_toml_str("colour = 1\n").unwrap_err();
        assert!(e.to_string().contains("colour"), "{e}");
        let e = ExperimentConfig::from_toml_str("preset = \"huge\"\n").unwrap_err();
        assert!(e.to_string().contains("huge"), "{e}");
        let e = ExperimentConfig::from_toml_str("[cv]\nfolds = 1\n").unwrap_err();
        assert!(e.to_string().contains("folds"), "{e}");
        let e = ExperimentConfig::from_toml_str("[preprocess]\ncrop_size = [40, 48, 48]\n")
            .unwrap_err();
        assert!(e.to_string().contains("crop_size"), "{e}");
        let offset = "[radiomics]\nhead = \"offset\"\n";
        assert!(ExperimentConfig::from_toml_str(offset).is_ok());
        let e = ExperimentConfig::from_toml_str(&format!(
            "{offset}[model.survival.output]\nkind = \"discrete-time\"\nbreaks = [0.0, 300.0, 600.0]\n"
        ))
        .unwrap_err();
        assert!(e.to_string().contains("offset"), "{e}");
    }

    #[test]
    fn learning_rate_follows_milestones() {
        let s = StageSchedule::default();
        assert_eq!(s.lr_at(0), 1e-4);
        assert_eq!(s.lr_at(19), 1e-4);
        assert_eq!(s.lr_at(20), 5e-5);
        assert_eq!(s.lr_at(45), 1e-5);
    }
}
