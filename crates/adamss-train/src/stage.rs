//! One training stage: epochs of steps with checkpoints, resume, best-epoch selection.
//!
//! Everything random in an epoch (patients drawn, augmentation, dropout) is seeded from the
//! stage's seed and the epoch number, and the checkpoint written after each epoch holds the
//! weights, BatchNorm statistics and the optimiser state. A run killed at any point therefore
//! resumes from the last finished epoch to exactly the weights an uninterrupted run reaches.

use std::path::{Path, PathBuf};

use adamss_model::tch::{self, nn, Device, Tensor};
use adamss_model::{
    checkpoint, loss, AdaMss, AdaMssConfig, AdamConfig, FlatAdam, ParamGroup, SurvivalHeadConfig,
    SurvivalOutput,
};
use adamss_preprocess::{AugmentConfig, Sample};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::config::{LossConfig, StageSchedule, SurvivalSamples};
use crate::data::{batch_of, extras_tensor, offsets_tensor, sample_of, PreparedCase};
use crate::error::{Error, Result};
use crate::plot::CurvePoint;
use crate::predict::{aggregate_dsc, predict, risks_c_index, Keep};

/// A network with its variables.
#[derive(Debug)]
pub struct Network {
    /// The variables (weights and BatchNorm statistics).
    pub vs: nn::VarStore,
    /// The network.
    pub net: AdaMss,
}

/// libtorch has one global random generator per process (initialisation, dropout). Stages and
/// network construction hold this lock while they seed and use it, so trainings started from
/// several threads of one process run one at a time and each stays deterministic.
static TORCH_RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn torch_rng_lock() -> std::sync::MutexGuard<'static, ()> {
    TORCH_RNG.lock().unwrap_or_else(|p| p.into_inner())
}

impl Network {
    /// Builds a network on `device` with libtorch's RNG seeded by `seed`.
    pub fn new(config: &AdaMssConfig, device: Device, seed: u64) -> Result<Self> {
        let _rng = torch_rng_lock();
        tch::manual_seed(seed as i64);
        let vs = nn::VarStore::new(device);
        let net = config.build(&vs.root())?;
        Ok(Self { vs, net })
    }

    /// Sets the survival head's output layer (`surv_head.fc2`, weights and bias) to zero: the
    /// head then adds nothing to a risk offset until training moves it.
    pub fn zero_survival_output(&mut self) -> Result<()> {
        let _guard = tch::no_grad_guard();
        for (name, mut t) in self.vs.variables() {
            if name.starts_with("surv_head.fc2.") {
                let _ = t.f_zero_()?;
            }
        }
        Ok(())
    }
}

/// What a stage optimises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Objective {
    /// Stage I: Dice + focal on augmented training crops; validated by the GTVp DSC.
    Segmentation,
    /// Survival loss (+ `seg_weight` × segmentation loss when the network has a segmentation
    /// head) on whole volumes; validated by Harrell's C-index. Stage II, the single-task
    /// network (weight 0) and the MTL baseline (joint, from scratch).
    Survival {
        /// Weight of Dice + focal.
        seg_weight: f64,
    },
}

/// One epoch's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochRecord {
    /// Epoch (0-based).
    pub epoch: usize,
    /// Learning rate.
    pub lr: f64,
    /// Mean training loss.
    pub loss: f64,
    /// Validation metric (DSC or C-index), when validated this epoch.
    pub metric: Option<f64>,
    /// Seconds the epoch took (training and validation).
    pub seconds: f64,
    /// Where those seconds went (absent from runs written before it was recorded).
    #[serde(default)]
    pub timing: EpochTiming,
}

/// Where an epoch's wall-clock seconds went. A step reads its loss back after the forward pass
/// and returns while the device runs the backward pass and the update; the next step's batch
/// waits for those, so on CUDA each step's time holds the unfinished part of the previous one
/// (and the sum over an epoch holds all of them but the last).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EpochTiming {
    /// All training steps (batch to the device, forward, loss, backward, update).
    pub steps: f64,
    /// The median step.
    pub median_step: f64,
    /// The slowest step (usually the first: cuDNN autotuning, the allocator growing).
    pub max_step: f64,
    /// Waiting for the sample worker's augmented samples (zero when it keeps ahead).
    pub data_wait: f64,
    /// The validation pass (with precise BN when configured).
    pub validation: f64,
}

/// What `state.json` in a stage folder holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StageState {
    /// Fingerprint of everything that defines the stage; a mismatch restarts it.
    pub fingerprint: String,
    /// Epochs finished (and checkpointed).
    pub epochs_done: usize,
    /// The epoch whose weights are kept (`best.safetensors`) and its validation metric; the
    /// metric is NaN for stages without validation patients (the last epoch is kept), written
    /// as `null` in `state.json`.
    #[serde(with = "nan_as_null")]
    pub best: Option<(usize, f64)>,
    /// Every finished epoch.
    pub history: Vec<EpochRecord>,
}

/// JSON has no NaN: `best`'s metric goes out as `null` when it is NaN (no validation) and comes
/// back as NaN, so a stage without validation patients resumes like any other.
mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(best: &Option<(usize, f64)>, s: S) -> Result<S::Ok, S::Error> {
        best.map(|(e, m)| (e, m.is_finite().then_some(m)))
            .serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<(usize, f64)>, D::Error> {
        let best = Option::<(usize, Option<f64>)>::deserialize(d)?;
        Ok(best.map(|(e, m)| (e, m.unwrap_or(f64::NAN))))
    }
}

impl StageState {
    /// Reads a stage folder's `state.json`: `Ok(None)` when there is none (the stage starts
    /// afresh). A file that cannot be read or parsed, or whose parts disagree
    /// ([`StageState::check`]), is an error naming it: it was not written by a stage (they
    /// write it atomically, so a kill never leaves half of one), and hours of training are
    /// not thrown away on a guess. Delete the stage's folder to start it over.
    pub fn read(path: &Path) -> Result<Option<Self>> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::file(path, e)),
        };
        let state: Self = serde_json::from_str(&text).map_err(|e| {
            Error::file(
                path,
                format!("not a stage state ({e}); delete the stage's folder to start it over"),
            )
        })?;
        state.check().map_err(|problem| {
            Error::file(
                path,
                format!("{problem}; delete the stage's folder to start it over"),
            )
        })?;
        Ok(Some(state))
    }

    /// Checks that the parts of a state agree: one history record per finished epoch, in
    /// order, and the kept epoch (if any yet: epochs before the first validation keep none)
    /// among the finished ones.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.history.len() != self.epochs_done {
            return Err(format!(
                "{} epochs done but {} epoch records",
                self.epochs_done,
                self.history.len()
            ));
        }
        if let Some((i, r)) = self.history.iter().enumerate().find(|(i, r)| r.epoch != *i) {
            return Err(format!("epoch record {i} is for epoch {}", r.epoch));
        }
        match self.best {
            Some((e, _)) if e >= self.epochs_done => Err(format!(
                "the kept epoch {e} is not among the {} finished",
                self.epochs_done
            )),
            _ => Ok(()),
        }
    }
}

impl std::fmt::Display for StageState {
    /// One line for logs: epochs, best validation metric, and where the time went
    /// (`…` for runs recorded before timing was kept).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let best = match self.best {
            None => "–".to_string(),
            Some((e, m)) if m.is_nan() => format!("none (epoch {} kept)", e + 1),
            Some((e, m)) => format!("{m:.3} at epoch {}", e + 1),
        };
        let secs: f64 = self.history.iter().map(|r| r.seconds).sum();
        let sum =
            |f: fn(&EpochTiming) -> f64| -> f64 { self.history.iter().map(|r| f(&r.timing)).sum() };
        write!(
            f,
            "{} epochs, best validation {best} ({secs:.0} s",
            self.epochs_done
        )?;
        let steps = sum(|t| t.steps);
        if steps > 0.0 {
            let medians: Vec<f64> = self.history.iter().map(|r| r.timing.median_step).collect();
            write!(
                f,
                ": steps {steps:.1} s at {:.3} s median, waiting for samples {:.1} s, validation {:.1} s",
                crate::stats::median(&medians),
                sum(|t| t.data_wait),
                sum(|t| t.validation)
            )?;
        }
        write!(f, ")")
    }
}

/// Progress of a stage, for bars and logs.
#[derive(Debug)]
pub enum Event<'a> {
    /// A stage begins (`resumed_at` > 0 when continuing a checkpointed run).
    Start {
        /// Stage name.
        stage: &'a str,
        /// Total steps.
        total_steps: usize,
        /// First epoch to run.
        resumed_at: usize,
        /// Steps per epoch.
        steps_per_epoch: usize,
    },
    /// One optimiser step finished.
    Step {
        /// Stage name.
        stage: &'a str,
        /// Epoch.
        epoch: usize,
        /// Step within the epoch.
        step: usize,
        /// Its loss.
        loss: f64,
    },
    /// An epoch finished and was checkpointed.
    Epoch {
        /// Stage name.
        stage: &'a str,
        /// Its record.
        record: &'a EpochRecord,
    },
    /// The stage finished (also when it was complete on disk already).
    Done {
        /// Stage name.
        stage: &'a str,
        /// The final state.
        state: &'a StageState,
    },
}

/// Receives [`Event`]s; returning `false` from a step stops the stage at once with
/// [`Error::Interrupted`] (as if the process were killed: nothing of the epoch is kept).
pub trait Observer: Sync {
    /// Handles one event.
    fn event(&self, event: &Event<'_>) -> bool;

    /// Receives the Stage-I mask predicted for a test patient (labels on the crop grid; see
    /// [`crate::export::export_mask`]). Ignored by default.
    fn test_mask(&self, _fold: usize, _case: usize, _mask: &ndarray::Array3<u8>) -> Result<()> {
        Ok(())
    }

    /// The cohort is on the network grid, before anything trains ([`crate::Experiment::run`]):
    /// the patients in the run's order and those left out. Ignored by default.
    fn prepared(&self, _cases: &[crate::data::PreparedCase], _dropped: &crate::data::Dropped) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn event(&self, _: &Event<'_>) -> bool {
        true
    }
}

/// Everything a stage needs besides the network.
#[derive(Debug)]
pub struct StageSpec<'a> {
    /// Name (for events and errors), e.g. `fold-1/ssl/stage2`.
    pub name: String,
    /// Folder for `state.json`, `weights-NNNN.safetensors` and `optim-NNNN.safetensors` (after
    /// NNNN finished epochs), `best.safetensors` and `metrics.csv`.
    pub dir: PathBuf,
    /// What to optimise.
    pub objective: Objective,
    /// Schedule.
    pub schedule: &'a StageSchedule,
    /// Losses.
    pub loss: &'a LossConfig,
    /// Stage-I augmentation (its crop is the training crop).
    pub augment: &'a AugmentConfig,
    /// What survival objectives train on.
    pub survival_samples: SurvivalSamples,
    /// Draw survival batches half events, half censored.
    pub balanced: bool,
    /// Seed of the stage.
    pub seed: u64,
    /// Patients trained on (indices into the cases).
    pub fit: &'a [usize],
    /// Patients for best-epoch selection (empty: the last epoch is kept).
    pub val: &'a [usize],
    /// Extra head inputs per patient (all the same length; empty vectors for none).
    pub extras: &'a [Vec<f64>],
    /// A fixed log-risk per patient added to the head's Cox output (indexed like the cases;
    /// empty for none): the survival loss and validation see `offset + head(…)`.
    pub offsets: &'a [f64],
    /// Patients per forward pass when validating.
    pub predict_batch: usize,
    /// Before each validation, refresh the BatchNorm running statistics with this many
    /// no-gradient training-mode passes over whole training volumes ("precise BN"); 0 = off.
    /// Training itself is unchanged (it uses batch statistics); evaluation then sees
    /// statistics of whole volumes instead of lagging averages over augmented crops.
    pub precise_bn_batches: usize,
}

/// Trains (or resumes, or just reloads a finished) stage, leaves the best epoch's weights in
/// `network` and returns the stage's state.
pub fn train_stage(
    network: &mut Network,
    cases: &[PreparedCase],
    spec: &StageSpec<'_>,
    observer: &dyn Observer,
) -> Result<StageState> {
    check_spec(network, cases, spec)?;
    let _rng = torch_rng_lock();
    std::fs::create_dir_all(&spec.dir).map_err(|e| Error::file(&spec.dir, e))?;
    let fingerprint = fingerprint(network, spec)?;
    let paths = StagePaths::new(&spec.dir);
    let mut opt = FlatAdam::new(&network.vs, spec.schedule.lr, AdamConfig::default())?;
    let mut state = match StageState::read(&paths.state)? {
        Some(s) if s.fingerprint == fingerprint && paths.weights(s.epochs_done).is_file() => {
            let (weights, optim) = (paths.weights(s.epochs_done), paths.optim(s.epochs_done));
            checkpoint::load(&mut network.vs, &weights, &checkpoint::Transfer::All)?;
            let named = Tensor::read_safetensors(&optim).map_err(|e| Error::file(&optim, e))?;
            opt.load_state(&named).map_err(|e| Error::file(&optim, e))?;
            s
        }
        _ => StageState {
            fingerprint,
            epochs_done: 0,
            best: None,
            history: Vec::new(),
        },
    };
    let s = spec.schedule;
    observer.event(&Event::Start {
        stage: &spec.name,
        total_steps: s.epochs * s.iters_per_epoch,
        resumed_at: state.epochs_done,
        steps_per_epoch: s.iters_per_epoch,
    });
    for epoch in state.epochs_done..s.epochs {
        let t0 = std::time::Instant::now();
        let lr = s.lr_at(epoch);
        opt.set_lr(lr)?;
        if s.head_lr_multiplier != 1.0 {
            // The head's group may be absent (all frozen); then there is nothing to speed up.
            let _ = opt.set_lr_group(ParamGroup::SurvivalHead as usize, lr * s.head_lr_multiplier);
        }
        let epoch_seed = mix(spec.seed, epoch as u64);
        tch::manual_seed(epoch_seed as i64);
        let mut rng = ChaCha8Rng::seed_from_u64(epoch_seed);
        // The epoch's draws come first, in the order the steps would make them (each step's
        // patients, then one augmentation seed per patient), so that a worker thread can
        // prepare step k + 1's samples while step k trains (overlapping the CPU's
        // augmentation with the device's work) without changing any result.
        let plan: Vec<(Vec<usize>, Vec<u64>)> = (0..s.iters_per_epoch)
            .map(|_| {
                let picks = draw(spec, cases, &mut rng);
                let seeds = picks.iter().map(|_| rng.gen()).collect();
                (picks, seeds)
            })
            .collect();
        let mut total = 0.0;
        let mut step_times = Vec::with_capacity(s.iters_per_epoch);
        let mut data_wait = 0.0;
        std::thread::scope(|scope| -> Result<()> {
            let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Sample>>>(1);
            let plan = &plan;
            scope.spawn(move || {
                for (picks, seeds) in plan {
                    // A closed channel means the loop below stopped early: so does this.
                    if tx.send(samples_of(cases, spec, picks, seeds)).is_err() {
                        break;
                    }
                }
            });
            for (step, (picks, _)) in plan.iter().enumerate() {
                let waited = std::time::Instant::now();
                let samples = rx.recv().map_err(|_| {
                    Error::Config(format!("{}: the sample worker stopped", spec.name))
                })??;
                data_wait += waited.elapsed().as_secs_f64();
                let stepped = std::time::Instant::now();
                let value = train_step(network, &mut opt, cases, spec, picks, &samples)?;
                step_times.push(stepped.elapsed().as_secs_f64());
                if !value.is_finite() {
                    return Err(Error::NonFinite {
                        stage: spec.name.clone(),
                        epoch,
                        step,
                        value,
                        checkpoint: (state.epochs_done > 0)
                            .then(|| paths.weights(state.epochs_done)),
                    });
                }
                total += value;
                let go_on = observer.event(&Event::Step {
                    stage: &spec.name,
                    epoch,
                    step,
                    loss: value,
                });
                if !go_on {
                    return Err(Error::Interrupted(spec.name.clone()));
                }
            }
            Ok(())
        })?;
        let validate =
            !spec.val.is_empty() && ((epoch + 1) % s.validate_every == 0 || epoch + 1 == s.epochs);
        let validated = std::time::Instant::now();
        let metric = if validate {
            precise_bn(network, cases, spec, &mut rng)?;
            Some(validation_metric(network, cases, spec)?)
        } else {
            None
        };
        let validation = validated.elapsed().as_secs_f64();
        let record = EpochRecord {
            epoch,
            lr,
            loss: total / s.iters_per_epoch as f64,
            metric,
            seconds: t0.elapsed().as_secs_f64(),
            timing: EpochTiming {
                steps: step_times.iter().sum(),
                median_step: crate::stats::median(&step_times),
                max_step: step_times.iter().copied().fold(0.0, f64::max),
                data_wait,
                validation,
            },
        };
        let improved = match (metric, state.best) {
            (Some(m), Some((_, b))) => m > b,
            (Some(_), None) => true,
            (None, _) => spec.val.is_empty(),
        };
        if improved {
            state.best = Some((epoch, metric.unwrap_or(f64::NAN)));
            checkpoint::save(&network.vs, &paths.best)?;
        }
        // Weights and optimiser go to files named by epoch; state.json (written last,
        // atomically) says which pair is current, so a kill at any point leaves a consistent
        // checkpoint. Then the previous pair goes.
        save_optimiser(&opt, &paths.optim(epoch + 1))?;
        checkpoint::save(&network.vs, &paths.weights(epoch + 1))?;
        state.epochs_done = epoch + 1;
        state.history.push(record);
        write_state(&paths, &state)?;
        let _ = std::fs::remove_file(paths.weights(epoch));
        let _ = std::fs::remove_file(paths.optim(epoch));
        if let Some(r) = state.history.last() {
            observer.event(&Event::Epoch {
                stage: &spec.name,
                record: r,
            });
        }
    }
    if paths.best.is_file() {
        checkpoint::load(&mut network.vs, &paths.best, &checkpoint::Transfer::All)?;
    }
    let curve: Vec<CurvePoint> = state
        .history
        .iter()
        .map(|r| CurvePoint {
            epoch: r.epoch,
            loss: r.loss,
            metric: r.metric,
        })
        .collect();
    crate::plot::training_curves(&spec.dir.join("training.svg"), &spec.name, &curve)?;
    observer
        .event(&Event::Done {
            stage: &spec.name,
            state: &state,
        })
        .then_some(())
        .ok_or_else(|| Error::Interrupted(spec.name.clone()))?;
    Ok(state)
}

fn check_spec(network: &Network, cases: &[PreparedCase], spec: &StageSpec<'_>) -> Result<()> {
    if spec.fit.is_empty() {
        return Err(Error::Cohort(format!(
            "{}: no training patients",
            spec.name
        )));
    }
    if let Some(&i) = spec.fit.iter().chain(spec.val).find(|&&i| i >= cases.len()) {
        return Err(Error::Config(format!(
            "{}: patient index {i} out of {} patients",
            spec.name,
            cases.len()
        )));
    }
    let want = network.net.config().survival.extra_features as usize;
    if spec.extras.len() != cases.len() || spec.extras.iter().any(|e| e.len() != want) {
        return Err(Error::Config(format!(
            "{}: the head takes {want} extra features per patient; extras do not match",
            spec.name
        )));
    }
    if !spec.offsets.is_empty() {
        if spec.offsets.len() != cases.len() || spec.offsets.iter().any(|o| !o.is_finite()) {
            return Err(Error::Config(format!(
                "{}: offsets must be finite, one per patient",
                spec.name
            )));
        }
        if !matches!(network.net.config().survival.output, SurvivalOutput::Cox) {
            return Err(Error::Config(format!(
                "{}: a risk offset needs the Cox output",
                spec.name
            )));
        }
    }
    let seg = network.net.config().segmentation;
    match spec.objective {
        Objective::Segmentation if !seg => Err(Error::Config(format!(
            "{}: a segmentation stage needs a network with a segmentation head",
            spec.name
        ))),
        Objective::Survival { .. } if !spec.fit.iter().any(|&i| cases[i].survival.event()) => {
            Err(Error::Cohort(format!(
                "{}: the training patients have no event",
                spec.name
            )))
        }
        _ => Ok(()),
    }
}

/// SplitMix64-style mixing of a seed with a counter.
pub(crate) fn mix(seed: u64, n: u64) -> u64 {
    let mut z = seed
        ^ n.wrapping_add(0x9E37_79B9_7F4A_7C15)
            .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Patients of one step, drawn with replacement (balanced for survival when asked).
fn draw(spec: &StageSpec<'_>, cases: &[PreparedCase], rng: &mut ChaCha8Rng) -> Vec<usize> {
    let b = spec.schedule.batch;
    let pick = |pool: &[usize], rng: &mut ChaCha8Rng| pool[rng.gen_range(0..pool.len())];
    let survival = matches!(spec.objective, Objective::Survival { .. });
    if survival && spec.balanced {
        let (ev, cens): (Vec<usize>, Vec<usize>) =
            spec.fit.iter().partition(|&&i| cases[i].survival.event());
        if !ev.is_empty() && !cens.is_empty() {
            return (0..b)
                .map(|k| pick(if k % 2 == 0 { &ev } else { &cens }, rng))
                .collect();
        }
    }
    (0..b).map(|_| pick(spec.fit, rng)).collect()
}

/// The (augmented, per the stage's objective and `survival_samples`) training samples of
/// one step's patients, each with its own augmentation seed.
fn samples_of(
    cases: &[PreparedCase],
    spec: &StageSpec<'_>,
    picks: &[usize],
    seeds: &[u64],
) -> Result<Vec<Sample>> {
    let Some(&first) = picks.first() else {
        return Ok(Vec::new());
    };
    let whole = AugmentConfig {
        crop: cases[first].pre.ct.shape(),
        ..spec.augment.clone()
    };
    let augmentation = match spec.objective {
        Objective::Segmentation => Some(spec.augment),
        Objective::Survival { .. } => match spec.survival_samples {
            SurvivalSamples::Crops => Some(spec.augment),
            SurvivalSamples::WholeAugmented => Some(&whole),
            SurvivalSamples::Whole => None,
        },
    };
    picks
        .iter()
        .zip(seeds)
        .map(|(&i, &seed)| sample_of(&cases[i], augmentation, seed))
        .collect()
}

fn train_step(
    network: &mut Network,
    opt: &mut FlatAdam,
    cases: &[PreparedCase],
    spec: &StageSpec<'_>,
    picks: &[usize],
    samples: &[Sample],
) -> Result<f64> {
    let device = network.vs.device();
    let batch = batch_of(samples, device)?;
    let extra = extras_tensor(spec.extras, picks, device)?;
    opt.zero_grad();
    let out = network
        .net
        .forward_t(&batch.pet, &batch.ct, extra.as_ref(), true)?;
    let l = spec.loss;
    let seg_loss = |logits: &Tensor| -> Result<Tensor> {
        Ok(loss::dice_loss(logits, &batch.labels)?
            + loss::focal_loss(logits, &batch.labels, l.focal_alpha, l.focal_gamma)?)
    };
    let total = match spec.objective {
        Objective::Segmentation => {
            let logits = out.seg_logits.as_ref().ok_or_else(|| {
                Error::Config(format!(
                    "{}: the network has no segmentation head",
                    spec.name
                ))
            })?;
            seg_loss(logits)?
        }
        Objective::Survival { seg_weight } => {
            let time: Vec<f64> = picks.iter().map(|&i| cases[i].survival.time()).collect();
            let event: Vec<bool> = picks.iter().map(|&i| cases[i].survival.event()).collect();
            let mut total = match &network.net.config().survival.output {
                SurvivalOutput::Cox => match offsets_tensor(spec.offsets, picks, device)? {
                    Some(o) => loss::cox_nll(&(&out.survival + o), &time, &event, l.ties)?,
                    None => loss::cox_nll(&out.survival, &time, &event, l.ties)?,
                },
                SurvivalOutput::DiscreteTime { breaks } => {
                    let target = loss::DiscreteTimeTarget::encode(&time, &event, breaks)?;
                    let target = loss::DiscreteTimeTarget {
                        surv: target.surv.to_device(device),
                        fail: target.fail.to_device(device),
                    };
                    loss::discrete_time_loss(&out.survival, &target)?
                        + network.net.survival_head().weight_l2() * l.discrete_l2
                }
            };
            if seg_weight > 0.0 {
                if let Some(logits) = &out.seg_logits {
                    total += seg_loss(logits)? * seg_weight;
                }
            }
            total
        }
    };
    let value = total.f_double_value(&[])?;
    if value.is_finite() {
        total.f_backward()?;
        opt.step()?;
    }
    Ok(value)
}

/// Refreshes BatchNorm running statistics on whole training volumes (see
/// [`StageSpec::precise_bn_batches`]).
fn precise_bn(
    network: &Network,
    cases: &[PreparedCase],
    spec: &StageSpec<'_>,
    rng: &mut ChaCha8Rng,
) -> Result<()> {
    let device = network.vs.device();
    let b = spec.predict_batch.max(1);
    for _ in 0..spec.precise_bn_batches {
        let picks: Vec<usize> = (0..b)
            .map(|_| spec.fit[rng.gen_range(0..spec.fit.len())])
            .collect();
        let samples: Vec<Sample> = picks
            .iter()
            .map(|&i| sample_of(&cases[i], None, 0))
            .collect::<Result<_>>()?;
        let batch = batch_of(&samples, device)?;
        let extra = extras_tensor(spec.extras, &picks, device)?;
        tch::no_grad(|| {
            network
                .net
                .forward_t(&batch.pet, &batch.ct, extra.as_ref(), true)
        })?;
    }
    Ok(())
}

/// Adds each patient's offset to its predicted risk (nothing when `offsets` is empty).
pub(crate) fn add_offsets(preds: &mut [crate::predict::CasePrediction], offsets: &[f64]) {
    if offsets.is_empty() {
        return;
    }
    for p in preds {
        p.risk += offsets[p.index];
    }
}

fn validation_metric(
    network: &Network,
    cases: &[PreparedCase],
    spec: &StageSpec<'_>,
) -> Result<f64> {
    let mut preds = predict(
        &network.net,
        cases,
        spec.val,
        spec.extras,
        spec.predict_batch,
        Keep::RISKS,
    )?;
    add_offsets(&mut preds, spec.offsets);
    Ok(match spec.objective {
        Objective::Segmentation => aggregate_dsc(&preds, 0).unwrap_or(0.0),
        Objective::Survival { .. } => risks_c_index(cases, spec.val, &preds).unwrap_or(0.5),
    })
}

struct StagePaths {
    dir: PathBuf,
    state: PathBuf,
    best: PathBuf,
    metrics: PathBuf,
}

impl StagePaths {
    fn new(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            state: dir.join("state.json"),
            best: dir.join("best.safetensors"),
            metrics: dir.join("metrics.csv"),
        }
    }

    /// Weights after `epochs` finished epochs.
    fn weights(&self, epochs: usize) -> PathBuf {
        self.dir.join(format!("weights-{epochs:04}.safetensors"))
    }

    /// Optimiser state after `epochs` finished epochs.
    fn optim(&self, epochs: usize) -> PathBuf {
        self.dir.join(format!("optim-{epochs:04}.safetensors"))
    }
}

fn write_state(paths: &StagePaths, state: &StageState) -> Result<()> {
    let json = serde_json::to_string_pretty(state).map_err(|e| Error::file(&paths.state, e))?;
    adamss_io::write_atomic(&paths.state, json.as_bytes())?;
    let mut csv = String::from(
        "epoch,lr,loss,metric,seconds,step_seconds,median_step_seconds,max_step_seconds,\
         data_wait_seconds,validation_seconds\n",
    );
    for r in &state.history {
        let metric = r.metric.map_or(String::new(), |m| format!("{m:.6}"));
        let t = &r.timing;
        csv.push_str(&format!(
            "{},{},{:.6},{metric},{:.3},{:.3},{:.4},{:.4},{:.3},{:.3}\n",
            r.epoch,
            r.lr,
            r.loss,
            r.seconds,
            t.steps,
            t.median_step,
            t.max_step,
            t.data_wait,
            t.validation
        ));
    }
    adamss_io::write_atomic(&paths.metrics, csv.as_bytes())?;
    Ok(())
}

fn save_optimiser(opt: &FlatAdam, path: &Path) -> Result<()> {
    Ok(checkpoint::save_tensors(opt.state(), path)?)
}

/// A stable description of the stage: changing any of it restarts the stage from scratch. It
/// hashes the JSON of what defines the stage (field names, not `Debug` output, so a rename in
/// the code that keeps the serialised name keeps finished stages).
fn fingerprint(network: &Network, spec: &StageSpec<'_>) -> Result<String> {
    /// Bumped when the fingerprint's contents change meaning.
    const VERSION: u32 = 2;
    #[derive(Serialize)]
    struct Stage<'a> {
        version: u32,
        model: &'a adamss_model::AdaMssConfig,
        objective: &'static str,
        seg_weight: Option<f64>,
        schedule: &'a StageSchedule,
        loss: &'a LossConfig,
        augment: &'a AugmentConfig,
        survival_samples: SurvivalSamples,
        balanced: bool,
        seed: u64,
        fit: &'a [usize],
        val: &'a [usize],
        extras_sum: f64,
        precise_bn_batches: usize,
        offsets_sum: Option<f64>,
    }
    // A segmentation stage never reads `survival_samples` nor the survival head's dropout (the
    // head's loss is not trained, its parameters are the same): both fingerprinted as their
    // defaults, so changing them keeps a finished Stage I.
    let mut model = network.net.config().clone();
    let (objective, seg_weight, survival_samples) = match spec.objective {
        Objective::Segmentation => {
            model.survival.dropout = SurvivalHeadConfig::default().dropout;
            ("segmentation", None, SurvivalSamples::default())
        }
        Objective::Survival { seg_weight } => ("survival", Some(seg_weight), spec.survival_samples),
    };
    let stage = Stage {
        version: VERSION,
        model: &model,
        objective,
        seg_weight,
        schedule: spec.schedule,
        loss: spec.loss,
        augment: spec.augment,
        survival_samples,
        balanced: spec.balanced,
        seed: spec.seed,
        fit: spec.fit,
        val: spec.val,
        extras_sum: spec.extras.iter().flatten().sum(),
        precise_bn_batches: spec.precise_bn_batches,
        offsets_sum: (!spec.offsets.is_empty()).then(|| spec.offsets.iter().sum()),
    };
    let json = serde_json::to_string(&stage)
        .map_err(|e| Error::Config(format!("{}: cannot describe the stage: {e}", spec.name)))?;
    Ok(format!("{:016x}", adamss_io::fnv1a64(json.as_bytes())))
}
