//! One fold of the cross-validation: the shared Stage I, the radiomics of its masks, and every
//! method on the fold's split.

use std::path::PathBuf;
use std::time::Instant;

use adamss_model::AdaMssConfig;
use adamss_radiomics::{FeatureSelector, FeatureTable};
use adamss_survival::{uno_c, BreslowBaseline, Surv, DEFAULT_TIED_TOL};
use rayon::prelude::*;

use crate::clinical::ClinicalEncoder;
use crate::config::{ExperimentConfig, RadiomicsHead, RadiomicsMasks};
use crate::data::{radiomics_of, PreparedCase};
use crate::error::{Error, Result};
use crate::head::HeadInputs;
use crate::method::{HeadKind, Method, MethodKind, NetworkSpec, ScheduleKind, SegmentationTerm};
use crate::outcome::FoldResult;
use crate::predict::{aggregate_dsc, predict, risks_c_index, CasePrediction, Keep};
use crate::run::{RunDir, BEST_WEIGHTS_NAME, OFFSET_SELECTOR_NAME, SELECTOR_NAME};
use crate::split::validation_split;
use crate::stage::{add_offsets, mix, train_stage, Network, Objective, Observer, StageSpec};
use crate::stats::median;

/// Events the training fold needs per pre-specified clinical column for the clinical baseline
/// to fit them unpenalised (the events-per-variable rule of clinical prediction models).
pub(crate) const MIN_EVENTS_PER_FORCED_COLUMN: usize = 5;

/// Test patients of fold 0 drawn by [`crate::looks::figure`] per network method.
pub(crate) const FIGURE_PATIENTS: usize = 3;

/// The seed every network stage's seed is mixed from: `seed` itself for replicate 0 (so runs
/// from before replicates existed keep their stages), one drawn from (`seed`, `replicate`)
/// otherwise ([`ExperimentConfig::replicate`]).
fn network_seed(config: &ExperimentConfig) -> u64 {
    match config.replicate {
        0 => config.seed,
        r => mix(config.seed, 0x7265_706c_0000_0000 ^ r),
    }
}

/// One fold's split, clinical encoding and output folder.
pub(crate) struct FoldContext<'a> {
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
    pub(crate) fn new(
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

    pub(crate) fn run(
        &self,
        methods: &[Method],
        observer: &dyn Observer,
    ) -> Result<Vec<FoldResult>> {
        let mut out = Vec::new();
        // Stage I and the radiomics are shared: their time is the first method's that needs
        // them (inside its `t0` span), as `FoldResult::seconds` documents.
        let mut stage1: Option<(Network, Vec<CasePrediction>)> = None;
        let mut radiomics: Option<FeatureTable> = None;
        for &method in methods {
            let t0 = Instant::now();
            if method.needs_stage1() && stage1.is_none() {
                let net = self.train_stage1(observer)?;
                let all: Vec<usize> = (0..self.cases.len()).collect();
                let preds = predict(
                    &net.net,
                    self.cases,
                    &all,
                    &vec![Vec::new(); self.cases.len()],
                    self.config.runtime.predict_batch,
                    Keep::MASKS,
                )?;
                for p in preds.iter().filter(|p| self.test.contains(&p.index)) {
                    if let Some(m) = &p.mask {
                        observer.test_mask(self.fold, p.index, m)?;
                    }
                }
                stage1 = Some((net, preds));
            }
            if method.needs_radiomics() && radiomics.is_none() {
                let preds = stage1
                    .as_ref()
                    .map(|s| &s.1)
                    .ok_or_else(|| Error::Config("radiomics need the Stage-I masks".into()))?;
                let table = self.radiomics_table(preds)?;
                table.write_csv(&self.run.radiomics_table(self.fold))?;
                radiomics = Some(table);
            }
            let mut r = match method.spec().kind {
                MethodKind::LassoCox { radiomics: false } => self.lasso_cox(method, None)?,
                MethodKind::LassoCox { radiomics: true } => {
                    self.lasso_cox(method, radiomics.as_ref())?
                }
                MethodKind::Network(spec) => {
                    let s1 = stage1.as_ref().map(|s| (&s.0, &s.1));
                    let rad = radiomics.as_ref();
                    self.deep(method, &spec, s1, rad, observer)?
                }
            };
            r.seconds = t0.elapsed().as_secs_f64();
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

    /// PyRadiomics-compatible features of every patient inside its GTVp, on PET (SUV) and CT
    /// (HU) on the crop grid: the Stage-I prediction, or for training patients the reference
    /// label when `radiomics.masks` says so ([`RadiomicsMasks`]). A patient whose GTVp is
    /// unusable gets NaN (imputed with the training mean after selection).
    fn radiomics_table(&self, preds: &[CasePrediction]) -> Result<FeatureTable> {
        let window = self.config.preprocess.ct_window;
        let extraction = &self.config.radiomics.extraction();
        // Patients whose reference GTVp is used instead of the prediction.
        let mut reference = vec![false; self.cases.len()];
        if self.config.radiomics.masks == RadiomicsMasks::ReferenceForTraining {
            self.train.iter().for_each(|&i| reference[i] = true);
        }
        let rows: Vec<Option<Vec<(String, f64)>>> = preds
            .par_iter()
            .map(|p| {
                let case = &self.cases[p.index];
                let label = case
                    .pre
                    .label
                    .as_ref()
                    .filter(|_| reference[p.index])
                    .filter(|l| l.data().iter().any(|&v| v == 1))
                    .map(|l| l.data());
                let mask = match label {
                    Some(l) => l,
                    None => p.gtvp.as_ref()?,
                };
                radiomics_of(&case.pre, mask, window, extraction)
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

    /// The LASSO-Cox selector fitted on the training fold over the radiomics of `table` and,
    /// with `with_clinical`, the clinical columns; with those column names and every patient's
    /// row.
    fn fit_selector(
        &self,
        table: Option<&FeatureTable>,
        with_clinical: bool,
    ) -> Result<(Vec<String>, Vec<Vec<f64>>, FeatureSelector)> {
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
        let survival = self.surv(&usable);
        if table.is_none() && with_clinical {
            // The clinical baseline: the pre-specified factors enter unpenalised when the
            // training fold has the events for them (events-per-variable rule, ≥ 5 per column).
            let forced = self
                .encoder
                .feature_names_of(&self.config.clinical.prespecified);
            let events = survival.iter().filter(|s| s.event()).count();
            if events >= MIN_EVENTS_PER_FORCED_COLUMN * forced.len() {
                selector_config.unpenalized = forced;
            }
        }
        let mut sel = match FeatureSelector::fit(&train_table, &survival, &selector_config) {
            // An unpenalised fit that diverges (separation) falls back to the plain LASSO;
            // the selector's empty `unpenalized` records it.
            Err(_) if !selector_config.unpenalized.is_empty() => {
                selector_config.unpenalized.clear();
                FeatureSelector::fit(&train_table, &survival, &selector_config)?
            }
            other => other?,
        };
        // Keep the largest coefficients.
        sel.keep_largest(self.config.radiomics.max_selected);
        Ok((names, rows, sel))
    }

    /// Keeps a fitted selector as `fold-k/<method>/<file>`.
    fn write_selector(&self, method: Method, file: &str, sel: &FeatureSelector) -> Result<()> {
        crate::run::write_json(&self.run.method(self.fold, method).join(file), sel)
    }

    fn lasso_cox(&self, method: Method, table: Option<&FeatureTable>) -> Result<FoldResult> {
        let (names, rows, sel) = self.fit_selector(table, true)?;
        self.write_selector(method, SELECTOR_NAME, &sel)?;
        // Per patient: the selected columns, z-scored (NaN → 0).
        let x = rows
            .iter()
            .map(|r| sel.transform_imputed(&names, r))
            .collect::<std::result::Result<Vec<Vec<f64>>, _>>()?;
        let risk = |i: usize| sel.linear_predictor(&x[i]);
        let preds: Vec<CasePrediction> = self
            .test
            .iter()
            .map(|&i| CasePrediction {
                index: i,
                risk: risk(i),
                mask: None,
                gtvp: None,
                overlap: None,
                looks: None,
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
            train_risks: self.train.iter().map(|&i| (i, risk(i))).collect(),
            test_overlaps: Vec::new(),
            test_looks: Vec::new(),
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
                let (_, _, sel) = self.fit_selector(Some(table), false)?;
                self.write_selector(method, SELECTOR_NAME, &sel)?;
                let offset = if cfg.radiomics.head == RadiomicsHead::Offset {
                    // The LASSO-CoxPH baseline's model (the same selection on the same fold).
                    let (_, _, joint) = self.fit_selector(Some(table), true)?;
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
        // The masks a method is scored by: Stage I's for the SSL methods (as the DSC columns).
        let mut stage1_overlaps = None;
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
            stage1_overlaps = Some(overlaps_of(&test_preds));
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
        let window = cfg.preprocess.ct_window;
        let keep = Keep {
            masks: false,
            looks: Some(window),
        };
        let mut preds = predict(
            &net.net,
            self.cases,
            &self.test,
            &extras,
            cfg.runtime.predict_batch,
            keep,
        )?;
        let mut train_preds = predict(
            &net.net,
            self.cases,
            &self.train,
            &extras,
            cfg.runtime.predict_batch,
            Keep::RISKS,
        )?;
        if self.fold == 0 {
            // A few patients for a clinician to look at (fold 0's test patients).
            for i in crate::looks::figure_patients(self.cases, &self.test, FIGURE_PATIENTS) {
                let path = self.run.looks_figure(self.fold, method, &self.cases[i].id);
                crate::looks::draw_patient(
                    &net.net,
                    self.cases,
                    i,
                    &extras,
                    window,
                    &path,
                    method.label(),
                )?;
            }
        }
        add_offsets(&mut preds, &offsets);
        add_offsets(&mut train_preds, &offsets);
        if model.survival.output == adamss_model::SurvivalOutput::Cox {
            // Breslow's baseline on the training fold: survival curves for new patients.
            let eta: Vec<f64> = train_preds.iter().map(|p| p.risk).collect();
            if let Ok(baseline) = BreslowBaseline::fit(&self.surv(&self.train), &eta) {
                crate::run::write_json(&self.run.baseline(self.fold, method), &baseline)?;
            }
        }
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
            train_risks: train_preds.iter().map(|p| (p.index, p.risk)).collect(),
            test_overlaps: stage1_overlaps.unwrap_or_else(|| overlaps_of(&preds)),
            test_looks: preds
                .iter()
                .filter_map(|p| p.looks.map(|l| (p.index, l)))
                .collect(),
            selected_features: selected,
            seconds: 0.0,
        })
    }
}

/// Each prediction's overlap counts with its patient index (predictions with masks).
fn overlaps_of(preds: &[CasePrediction]) -> Vec<(usize, [[u64; 3]; 2])> {
    preds
        .iter()
        .filter_map(|p| p.overlap.map(|o| (p.index, o)))
        .collect()
}

//END
