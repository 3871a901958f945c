//! Cross-validated comparison of AdaMSS with its baselines on the same folds.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::clinical::ClinicalEncoder;
use crate::config::open_device;
use crate::config::{ExperimentConfig, RadiomicsHead};
use crate::data::{check_cohort, radiomics_of, PreparedCase};
use crate::error::{Error, Result};
use crate::head::HeadInputs;
use crate::method::{HeadKind, MethodKind, NetworkSpec, ScheduleKind, SegmentationTerm};
pub use crate::method::{Method, ALL_METHODS};
pub use crate::outcome::{CvOutcome, FoldResult};
use crate::predict::{aggregate_dsc, predict, risks_c_index, CasePrediction};
use crate::run::{RunDir, BEST_WEIGHTS_NAME, OFFSET_SELECTOR_NAME, SELECTOR_NAME};
use crate::split::{folds, validation_split};
use crate::stage::{add_offsets, mix, train_stage, Network, Objective, Observer, StageSpec};
pub use crate::stats::{mean_sd, median};
use adamss_model::AdaMssConfig;
use adamss_radiomics::{FeatureSelector, FeatureTable};
use adamss_survival::{uno_c, Surv, DEFAULT_TIED_TOL};
use ndarray::Array3;
use rayon::prelude::*;

/// The parts of a patient's inputs that [`INPUTS_NAME`](crate::run::INPUTS_NAME) digests, in its column order.
const INPUT_PARTS: [&str; 4] = ["images", "labels", "endpoint", "clinical"];

/// Records the run's patients in `run_dir/patients.txt`, or checks them against the list a
/// previous run left there: fold assignments and checkpoints refer to patients by position, so
/// another cohort in the same folder would silently reuse networks trained on other patients.
fn check_patients(run: &RunDir, cases: &[PreparedCase]) -> Result<()> {
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
/// the ones a previous run left there (see [`INPUTS_NAME`](crate::run::INPUTS_NAME)); call after [`check_patients`].
fn check_inputs(run: &RunDir, cases: &[PreparedCase]) -> Result<()> {
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

/// The folds among `folds` that already have a folder under `run_dir` (what a rerun would
/// resume or reload); see [`RunDir::existing_folds`].
pub fn existing_folds(run_dir: &Path, folds: impl IntoIterator<Item = usize>) -> Vec<usize> {
    RunDir::new(run_dir).existing_folds(folds)
}

/// Runs `methods` with `config.cv.folds`-fold cross-validation (or only `only_fold`), with
/// every stage checkpointed under `run_dir/fold-K/…` (a rerun resumes or reuses them; a
/// `run_dir` trained on other patients is refused, see [`PATIENTS_NAME`](crate::run::PATIENTS_NAME)).
/// The run folder ([`RunDir`]) gets `config.toml` and each fold's `results.json`, so any of
/// its folds can be predicted from or exported ([`crate::Bundle::from_run`]).
pub fn run_cv(
    config: &ExperimentConfig,
    cases: &[PreparedCase],
    methods: &[Method],
    run_dir: &Path,
    only_fold: Option<usize>,
    observer: &dyn Observer,
) -> Result<CvOutcome> {
    config.validate()?;
    let k = config.cv.folds;
    check_cohort(cases, k)?;
    if let Some(f) = only_fold.filter(|&f| f >= k) {
        return Err(Error::Config(format!(
            "fold {f} does not exist: folds are 0..{k}"
        )));
    }
    if methods.is_empty() {
        return Err(Error::Config("no method to run".into()));
    }
    let run = RunDir::new(run_dir);
    check_patients(&run, cases)?;
    check_inputs(&run, cases)?;
    run.write_config(config)?;
    let events: Vec<bool> = cases.iter().map(|c| c.survival.event()).collect();
    let centres: Vec<String> = cases.iter().map(|c| c.centre.clone()).collect();
    let groups = config.cv.group_by_centre.then_some(centres.as_slice());
    let fold_of = folds(&events, groups, k, config.seed)?;
    // Every fold's test set needs an event for a C-index.
    for f in 0..k {
        if !(0..cases.len()).any(|i| fold_of[i] == f && events[i]) {
            return Err(Error::Cohort(format!(
                "test fold {f} has no event; use fewer folds or ungrouped folds"
            )));
        }
    }
    // Process-wide libtorch settings come with the device: applied once for all folds.
    let device = open_device(&config.runtime)?;
    let mut results = Vec::new();
    for fold in (0..k).filter(|f| only_fold.is_none_or(|o| o == *f)) {
        let ctx = FoldContext::new(config, cases, &fold_of, fold, &run, device)?;
        let fold_results = ctx.run(methods, observer)?;
        run.write_fold_results(fold, &fold_results)?;
        results.extend(fold_results);
    }
    Ok(CvOutcome { fold_of, results })
}

/// The seed every network stage's seed is mixed from: `seed` itself for replicate 0 (so runs
/// from before replicates existed keep their stages), one drawn from (`seed`, `replicate`)
/// otherwise ([`ExperimentConfig::replicate`]).
fn network_seed(config: &ExperimentConfig) -> u64 {
    match config.replicate {
        0 => config.seed,
        r => mix(config.seed, 0x7265_706c_0000_0000 ^ r),
    }
}

struct FoldContext<'a> {
    config: &'a ExperimentConfig,
    cases: &'a [PreparedCase],
    fold: usize,
    run: RunDir,
    dir: PathBuf,
    train: Vec<usize>,
    fit: Vec<usize>,
    val: Vec<usize>,
    test: Vec<usize>,
    /// The fold's clinical encoding, and every patient's encoded clinical columns.
    encoder: ClinicalEncoder,
    clinical: Vec<Vec<f64>>,
    /// Names of the clinical columns (`clinical:Age`, `clinical:HPV…:missing`).
    clinical_names: Vec<String>,
    device: adamss_model::tch::Device,
}

impl<'a> FoldContext<'a> {
    fn new(
        config: &'a ExperimentConfig,
        cases: &'a [PreparedCase],
        fold_of: &[usize],
        fold: usize,
        run: &RunDir,
        device: adamss_model::tch::Device,
    ) -> Result<Self> {
        let n = cases.len();
        let test: Vec<usize> = (0..n).filter(|&i| fold_of[i] == fold).collect();
        let train: Vec<usize> = (0..n).filter(|&i| fold_of[i] != fold).collect();
        let events: Vec<bool> = cases.iter().map(|c| c.survival.event()).collect();
        let (fit, val) = validation_split(
            &train,
            &events,
            config.cv.validation_fraction,
            mix(config.seed, 1000 + fold as u64),
        );
        let train_clinical: Vec<_> = train.iter().map(|&i| &cases[i].clinical).collect();
        let enc = ClinicalEncoder::fit(&train_clinical, &config.clinical.variables)?;
        let clinical: Vec<Vec<f64>> = cases.iter().map(|c| enc.transform(&c.clinical)).collect();
        // Kept for prediction on new patients (`crate::infer`).
        let dir = run.fold(fold);
        crate::run::write_json(&run.clinical_encoder(fold), &enc)?;
        // What the baselines and the heads are given, per patient.
        let names = enc.names();
        let clinical_names = enc.feature_names();
        FeatureTable {
            names,
            rows: cases
                .iter()
                .zip(&clinical)
                .map(|(c, v)| (c.id.clone(), v.clone()))
                .collect(),
            failures: Vec::new(),
        }
        .write_csv(&run.clinical_table(fold))?;
        Ok(Self {
            config,
            cases,
            fold,
            run: run.clone(),
            dir,
            train,
            fit,
            val,
            test,
            encoder: enc,
            clinical,
            clinical_names,
            device,
        })
    }

    fn uno(&self, preds: &[CasePrediction]) -> Option<f64> {
        let train = self.surv(&self.train);
        let tau = train
            .iter()
            .filter(|s| s.event())
            .map(|s| s.time())
            .fold(f64::NEG_INFINITY, f64::max);
        let test = self.surv(&self.test);
        let risk: Vec<f64> = preds.iter().map(|p| p.risk).collect();
        uno_c(&train, &test, &risk, Some(tau), DEFAULT_TIED_TOL)
            .ok()
            .filter(|c| c.comparable() > 0)
            .map(|c| c.c_index)
    }

    fn surv(&self, idx: &[usize]) -> Vec<Surv> {
        idx.iter().map(|&i| self.cases[i].survival).collect()
    }

    fn run(&self, methods: &[Method], observer: &dyn Observer) -> Result<Vec<FoldResult>> {
        let mut out = Vec::new();
        let mut stage1: Option<(Network, Vec<CasePrediction>, f64)> = None;
        let mut radiomics: Option<(FeatureTable, f64)> = None;
        for &method in methods {
            let t0 = Instant::now();
            let mut shared_seconds = 0.0;
            if method.needs_stage1() && stage1.is_none() {
                let s = Instant::now();
                let net = self.train_stage1(observer)?;
                let all: Vec<usize> = (0..self.cases.len()).collect();
                let preds = predict(
                    &net.net,
                    self.cases,
                    &all,
                    &vec![Vec::new(); self.cases.len()],
                    self.config.runtime.predict_batch,
                    true,
                )?;
                for p in preds.iter().filter(|p| self.test.contains(&p.index)) {
                    if let Some(m) = &p.mask {
                        observer.test_mask(self.fold, p.index, m)?;
                    }
                }
                stage1 = Some((net, preds, s.elapsed().as_secs_f64()));
            }
            if method.needs_radiomics() && radiomics.is_none() {
                let s = Instant::now();
                let preds = stage1
                    .as_ref()
                    .map(|s| &s.1)
                    .ok_or_else(|| Error::Config("radiomics need the Stage-I masks".into()))?;
                let table = self.radiomics_table(preds)?;
                table.write_csv(&self.run.radiomics_table(self.fold))?;
                radiomics = Some((table, s.elapsed().as_secs_f64()));
            }
            if let Some((_, _, secs)) = stage1.as_mut() {
                shared_seconds += std::mem::take(secs);
            }
            if let Some((_, secs)) = radiomics.as_mut() {
                shared_seconds += std::mem::take(secs);
            }
            let mut r = match method.spec().kind {
                MethodKind::LassoCox { radiomics: false } => self.lasso_cox(method, None)?,
                MethodKind::LassoCox { radiomics: true } => {
                    self.lasso_cox(method, radiomics.as_ref().map(|r| &r.0))?
                }
                MethodKind::Network(spec) => {
                    let s1 = stage1.as_ref().map(|s| (&s.0, &s.1));
                    let rad = radiomics.as_ref().map(|r| &r.0);
                    self.deep(method, &spec, s1, rad, observer)?
                }
            };
            r.seconds = t0.elapsed().as_secs_f64() + shared_seconds;
            out.push(r);
        }
        Ok(out)
    }

    fn base_model(&self) -> AdaMssConfig {
        let mut m = self.config.model.clone();
        m.survival.extra_features = 0;
        m
    }

    fn spec<'s>(
        &'s self,
        name: &str,
        objective: Objective,
        schedule: &'s crate::config::StageSchedule,
        extras: &'s [Vec<f64>],
        seed: u64,
    ) -> StageSpec<'s> {
        StageSpec {
            name: format!("fold-{}/{name}", self.fold),
            dir: self.dir.join(name),
            objective,
            schedule,
            loss: &self.config.loss,
            augment: &self.config.augment,
            survival_samples: self.config.survival_samples,
            balanced: self.config.balanced_batches,
            seed,
            fit: &self.fit,
            val: &self.val,
            extras,
            offsets: &[],
            predict_batch: self.config.runtime.predict_batch,
            precise_bn_batches: self.config.precise_bn_batches,
        }
    }

    fn train_stage1(&self, observer: &dyn Observer) -> Result<Network> {
        let seed = mix(network_seed(self.config), 10 * self.fold as u64 + 1);
        let mut net = Network::new(&self.base_model(), self.device, seed)?;
        let none = vec![Vec::new(); self.cases.len()];
        let spec = self.spec(
            "stage1",
            Objective::Segmentation,
            &self.config.stage1,
            &none,
            seed,
        );
        train_stage(&mut net, self.cases, &spec, observer)?;
        Ok(net)
    }

    /// PyRadiomics-compatible features of every patient inside the Stage-I GTVp, on PET (SUV)
    /// and CT (HU) on the crop grid. A patient whose predicted GTVp is unusable gets NaN
    /// (imputed with the training mean after selection).
    fn radiomics_table(&self, preds: &[CasePrediction]) -> Result<FeatureTable> {
        let window = self.config.preprocess.ct_window;
        let extraction = &self.config.radiomics.extraction();
        let rows: Vec<Option<Vec<(String, f64)>>> = preds
            .par_iter()
            .map(|p| {
                radiomics_of(
                    &self.cases[p.index].pre,
                    p.mask.as_ref()?,
                    window,
                    extraction,
                )
            })
            .collect();
        let names: Vec<String> = rows
            .iter()
            .flatten()
            .next()
            .map(|f| f.iter().map(|(n, _)| n.clone()).collect())
            .ok_or_else(|| {
                Error::Cohort(format!(
                    "fold {}: no patient has a usable predicted GTVp for radiomics",
                    self.fold
                ))
            })?;
        let table = FeatureTable {
            rows: rows
                .into_iter()
                .zip(preds)
                .map(|(r, p)| {
                    let values = match r {
                        Some(f) => f.into_iter().map(|(_, v)| v).collect(),
                        None => vec![f64::NAN; names.len()],
                    };
                    (self.cases[p.index].id.clone(), values)
                })
                .collect(),
            names,
            failures: Vec::new(),
        };
        Ok(table)
    }

    /// Per patient: the selected radiomics (z-scored; NaN → 0) plus, with `clinical`, the
    /// clinical columns. Selection on the training fold.
    fn selected_features(
        &self,
        table: Option<&FeatureTable>,
        with_clinical: bool,
    ) -> Result<(Vec<Vec<f64>>, FeatureSelector)> {
        let mut names = Vec::new();
        let mut rows: Vec<Vec<f64>> = vec![Vec::new(); self.cases.len()];
        if let Some(t) = table {
            names.extend(t.names.iter().cloned());
            for (i, (_, v)) in t.rows.iter().enumerate() {
                rows[i].extend_from_slice(v);
            }
        }
        if with_clinical {
            names.extend(self.clinical_names.iter().cloned());
            for (i, c) in self.clinical.iter().enumerate() {
                rows[i].extend_from_slice(c);
            }
        }
        // Training rows with a failed extraction are left out of the selection.
        let usable: Vec<usize> = self
            .train
            .iter()
            .copied()
            .filter(|&i| rows[i].iter().all(|v| v.is_finite()))
            .collect();
        let train_table = FeatureTable {
            names: names.clone(),
            rows: usable
                .iter()
                .map(|&i| (self.cases[i].id.clone(), rows[i].clone()))
                .collect(),
            failures: Vec::new(),
        };
        let mut selector_config = self.config.radiomics.selector.clone();
        selector_config.seed = mix(self.config.seed, 2000 + self.fold as u64);
        let mut sel = FeatureSelector::fit(&train_table, &self.surv(&usable), &selector_config)?;
        // Keep the largest coefficients.
        sel.keep_largest(self.config.radiomics.max_selected);
        let x = rows
            .iter()
            .map(|r| sel.transform_imputed(&names, r))
            .collect::<std::result::Result<Vec<Vec<f64>>, _>>()?;
        Ok((x, sel))
    }

    /// Keeps a fitted selector as `fold-k/<method>/<file>`.
    fn write_selector(&self, method: Method, file: &str, sel: &FeatureSelector) -> Result<()> {
        crate::run::write_json(&self.run.method(self.fold, method).join(file), sel)
    }

    fn lasso_cox(&self, method: Method, table: Option<&FeatureTable>) -> Result<FoldResult> {
        let (x, sel) = self.selected_features(table, true)?;
        self.write_selector(method, SELECTOR_NAME, &sel)?;
        let risk = |i: usize| sel.linear_predictor(&x[i]);
        let preds: Vec<CasePrediction> = self
            .test
            .iter()
            .map(|&i| CasePrediction {
                index: i,
                risk: risk(i),
                mask: None,
                overlap: None,
            })
            .collect();
        let train_risk: Vec<f64> = self.train.iter().map(|&i| risk(i)).collect();
        Ok(FoldResult {
            fold: self.fold,
            method,
            c_index: risks_c_index(self.cases, &self.test, &preds),
            uno_c: self.uno(&preds),
            dsc: None,
            test_risks: preds.iter().map(|p| (p.index, p.risk)).collect(),
            train_median_risk: median(&train_risk),
            selected_features: Some(sel.selected.len()),
            seconds: 0.0,
        })
    }

    fn deep(
        &self,
        method: Method,
        spec: &NetworkSpec,
        stage1: Option<(&Network, &Vec<CasePrediction>)>,
        radiomics: Option<&FeatureTable>,
        observer: &dyn Observer,
    ) -> Result<FoldResult> {
        let cfg = self.config;
        // What the head is given besides the images (one object, kept for prediction).
        let head = match spec.head {
            HeadKind::Radiomics => {
                let table = radiomics.ok_or_else(|| {
                    Error::Config("AdaMSS + radiomics needs the radiomics".into())
                })?;
                let (_, sel) = self.selected_features(Some(table), false)?;
                self.write_selector(method, SELECTOR_NAME, &sel)?;
                let offset = if cfg.radiomics.head == RadiomicsHead::Offset {
                    // The LASSO-CoxPH baseline's model (the same selection on the same fold).
                    let (_, joint) = self.selected_features(Some(table), true)?;
                    self.write_selector(method, OFFSET_SELECTOR_NAME, &joint)?;
                    Some(joint)
                } else {
                    None
                };
                HeadInputs {
                    clinical: self.encoder.clone(),
                    radiomics: Some(sel),
                    offset,
                }
            }
            HeadKind::Clinical => HeadInputs::clinical(self.encoder.clone()),
        };
        crate::run::write_json(&self.run.head_inputs(self.fold, method), &head)?;
        let selected = head.radiomics.as_ref().map(|s| s.selected.len());
        let rows = (0..self.cases.len())
            .map(|i| match radiomics.filter(|_| head.needs_radiomics()) {
                Some(t) => head.row_encoded(&self.clinical[i], &t.names, &t.rows[i].1),
                None => head.row_encoded(&self.clinical[i], &[], &[]),
            })
            .collect::<Result<Vec<_>>>()?;
        let offsets: Vec<f64> = match head.offset {
            Some(_) => rows.iter().map(|r| r.offset).collect(),
            None => Vec::new(),
        };
        let extras: Vec<Vec<f64>> = rows.into_iter().map(|r| r.extras).collect();
        let mut model = self.base_model();
        model.survival.extra_features = extras.first().map_or(0, Vec::len) as i64;
        let seed = mix(network_seed(cfg), 10 * self.fold as u64 + 2 + method as u64);
        let seg_weight = match spec.segmentation {
            SegmentationTerm::NoHead => {
                model.segmentation = false;
                0.0
            }
            SegmentationTerm::Stage2 => cfg.loss.stage2_seg_weight,
            SegmentationTerm::MultiTask => 1.0 / cfg.loss.mtl_survival_weight.max(1e-12),
        };
        let objective = Objective::Survival { seg_weight };
        let schedule = match spec.schedule {
            ScheduleKind::Stage2 => &cfg.stage2,
            ScheduleKind::FromScratch => &cfg.from_scratch,
        };
        if let Some(fusion) = spec.fusion {
            model.fusion = fusion;
        }
        let mut net = Network::new(&model, self.device, seed)?;
        let mut dsc_from_stage1 = None;
        if spec.from_stage1 {
            let (s1, s1_preds) = stage1.ok_or_else(|| Error::Config("Stage I missing".into()))?;
            let tmp = self.run.stage1(self.fold).join(BEST_WEIGHTS_NAME);
            if !tmp.is_file() {
                adamss_model::checkpoint::save(&s1.vs, &tmp)?;
            }
            adamss_model::checkpoint::load(&mut net.vs, &tmp, &cfg.transfer)?;
            if !offsets.is_empty() {
                // Stage II starts from the offset's risk: the head's last layer at zero.
                net.zero_survival_output()?;
            }
            let test_preds: Vec<CasePrediction> = s1_preds
                .iter()
                .filter(|p| self.test.contains(&p.index))
                .cloned()
                .collect();
            dsc_from_stage1 = aggregate_dsc(&test_preds, 0).zip(aggregate_dsc(&test_preds, 1));
        }
        if spec.own_stage1 {
            // The fusion variants need their own Stage I (the encoder differs).
            let s1_spec = self.spec(
                &format!("{}/stage1", method.key()),
                Objective::Segmentation,
                &cfg.stage1,
                &extras,
                seed ^ 1,
            );
            train_stage(&mut net, self.cases, &s1_spec, observer)?;
        }
        let mut stage = self.spec(
            &format!("{}/survival", method.key()),
            objective,
            schedule,
            &extras,
            seed,
        );
        stage.offsets = &offsets;
        train_stage(&mut net, self.cases, &stage, observer)?;
        let mut preds = predict(
            &net.net,
            self.cases,
            &self.test,
            &extras,
            cfg.runtime.predict_batch,
            false,
        )?;
        let mut train_preds = predict(
            &net.net,
            self.cases,
            &self.train,
            &extras,
            cfg.runtime.predict_batch,
            false,
        )?;
        add_offsets(&mut preds, &offsets);
        add_offsets(&mut train_preds, &offsets);
        let own_dsc = aggregate_dsc(&preds, 0).zip(aggregate_dsc(&preds, 1));
        let dsc = dsc_from_stage1.or(own_dsc).map(|(a, b)| [a, b]);
        Ok(FoldResult {
            fold: self.fold,
            method,
            c_index: risks_c_index(self.cases, &self.test, &preds),
            uno_c: self.uno(&preds),
            dsc,
            test_risks: preds.iter().map(|p| (p.index, p.risk)).collect(),
            train_median_risk: median(&train_preds.iter().map(|p| p.risk).collect::<Vec<_>>()),
            selected_features: selected,
            seconds: 0.0,
        })
    }
}

//END
