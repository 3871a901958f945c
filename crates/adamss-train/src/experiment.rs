//! Cross-validated comparison of AdaMSS with its baselines on the same folds.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use adamss_io::Cohort;

use crate::config::{open_device, ExperimentConfig};
use crate::data::{check_cohort, prepare_cohort, Dropped, PreparedCase};
use crate::error::{Error, Result};
use crate::export::{export_mask, ExportedMask};
use crate::fold::FoldContext;
pub use crate::method::{Method, ALL_METHODS};
pub use crate::outcome::{CvOutcome, FoldResult};
use crate::report;
use crate::run::{check_inputs, check_patients, RunDir};
use crate::split::folds;
use crate::stage::{Event, Observer};
pub use crate::stats::{mean_sd, median};

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
            "fold {f} does not exist: the folds are 0 to {}",
            k - 1
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
        // Kept beside the results of other methods an earlier run of this fold left there.
        let mut kept: Vec<FoldResult> = run.read_fold_results(fold).unwrap_or_default();
        kept.retain(|r| !methods.contains(&r.method));
        kept.extend(fold_results.iter().cloned());
        run.write_fold_results(fold, &kept)?;
        results.extend(fold_results);
    }
    Ok(CvOutcome { fold_of, results })
}

/// Everything `adamss train` does, as one library call: the cohort onto the network grid
/// (through a preprocessing cache), the cross-validation into a run folder, the predicted test
/// masks on each patient's CT grid, and the run's tables and report.
///
/// ```no_run
/// use adamss_train::{Experiment, ExperimentConfig, Method, RunDir, Silent};
///
/// # fn main() -> adamss_train::Result<()> {
/// let (cohort, _) = adamss_io::Cohort::hecktor("data/hecktor2022")?;
/// let experiment = Experiment::new(ExperimentConfig::preset("cpu-small")?, &Method::MAIN);
/// let trained = experiment.run(&cohort, &RunDir::new("runs/cpu-small"), &Silent, &|_, _| {})?;
/// println!("{}", trained.table);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// The experiment's settings.
    pub config: ExperimentConfig,
    /// The methods to compare.
    pub methods: Vec<Method>,
    /// Only this fold (one job of a batch-scheduler array); `None`: every fold.
    pub only_fold: Option<usize>,
    /// The preprocessing cache; `None`: `RUN/preprocessed`.
    pub cache: Option<PathBuf>,
    /// Write each test patient's Stage-I mask on its CT grid under `RUN/masks` (default).
    pub export_masks: bool,
    /// A known true risk per patient ID (synthetic cohorts): adds the oracle's C-index.
    pub true_risk: Option<HashMap<String, f64>>,
}

/// What [`Experiment::run`] produced (everything is also in the run folder).
#[derive(Debug, Clone)]
pub struct Trained {
    /// The patients on the network grid, in the run's order.
    pub cases: Vec<PreparedCase>,
    /// Patients left out, and why.
    pub dropped: Dropped,
    /// Results per fold and method (`outcome.json`).
    pub outcome: CvOutcome,
    /// The comparison table (`comparison.md`).
    pub table: String,
    /// The C-index gaps to the radiomics baseline and the oracle, paired by fold.
    pub gaps: Option<String>,
    /// `report.md`.
    pub report: PathBuf,
    /// The test masks written on the CT grids, with their Dice against the labels there.
    pub masks: Vec<ExportedMask>,
}

impl Trained {
    /// What the run wrote, for logs: the test masks with their mean Dice on the CT grids
    /// (methods without Stage I export none), then the files.
    pub fn summary(&self, run: &RunDir) -> String {
        let mean = |c| {
            crate::export::mean_dice(&self.masks, c)
                .map_or("–".to_string(), |(d, n)| format!("{d:.3} (mean of {n})"))
        };
        let masks = if self.masks.is_empty() {
            String::new()
        } else {
            format!(
                "Stage-I masks of {} test patients written on their original CT grids to {}; \
                 Dice with the labels there: GTVp {}, GTVn {}\n",
                self.masks.len(),
                run.root().join("masks").display(),
                mean(0),
                mean(1)
            )
        };
        format!(
            "{masks}files: {} (report, Kaplan–Meier figures km-*.svg beside it), {} (config), {}, {}, {}",
            self.report.display(),
            run.config_path().display(),
            run.root().join("comparison.md").display(),
            run.root().join("predictions.csv").display(),
            run.outcome_path().display()
        )
    }
}

impl Experiment {
    /// `methods` with `config`, every fold, the run folder's own cache, masks exported.
    pub fn new(config: ExperimentConfig, methods: &[Method]) -> Self {
        Self {
            config,
            methods: methods.to_vec(),
            only_fold: None,
            cache: None,
            export_masks: true,
            true_risk: None,
        }
    }

    /// Runs it into `run`: prepares `cohort` (`progress(done, total)` per patient), runs
    /// [`run_cv`] (stages reported to `observer`), and writes `predictions.csv`,
    /// `outcome.json`, `comparison.md` and `report.md` (with its figures) beside the folds.
    pub fn run(
        &self,
        cohort: &Cohort,
        run: &RunDir,
        observer: &dyn Observer,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Trained> {
        let config = &self.config;
        config.validate()?;
        std::fs::create_dir_all(run.root()).map_err(|e| Error::file(run.root(), e))?;
        let cache = self
            .cache
            .clone()
            .unwrap_or_else(|| run.root().join("preprocessed"));
        let (cases, dropped) = prepare_cohort(cohort, &config.preprocess, Some(&cache), progress)?;
        observer.prepared(&cases, &dropped);
        let masks = MaskExport {
            inner: observer,
            cases: &cases,
            cohort,
            dir: run.root().join("masks"),
            enabled: self.export_masks,
            done: Mutex::new(Vec::new()),
        };
        let outcome = run_cv(
            config,
            &cases,
            &self.methods,
            run.root(),
            self.only_fold,
            &masks,
        )?;
        // With one fold per job (array jobs sharing the run folder), the tables cover every
        // fold finished so far, by this job or another.
        let truth: Option<Vec<f64>> = self.true_risk.as_ref().map(|t| {
            cases
                .iter()
                .map(|c| t.get(&c.id).copied().unwrap_or(f64::NAN))
                .collect()
        });
        let truth = truth.as_deref();
        // With one fold per job (array jobs sharing the run folder), the files cover every
        // fold finished so far, by this job or another; when another job finishes a fold while
        // they are written, they are written again (folds are only ever added, so this ends).
        let mut outcome = outcome;
        let (table, gaps, report) = loop {
            outcome = self.with_finished_folds(run, outcome)?;
            let table = report::comparison_table(&outcome, &cases, &self.methods, truth);
            let gaps = report::gaps_table(&outcome, &cases, &self.methods, truth);
            report::write_predictions(&outcome, &cases, &run.root().join("predictions.csv"))?;
            run.write_outcome(&outcome)?;
            adamss_io::write_atomic(run.root().join("comparison.md"), table.as_bytes())?;
            let report =
                report::write_report(run.root(), config, &outcome, &cases, &self.methods, truth)?;
            // Compared by what is there, not by value (a NaN never equals itself).
            let keys = |o: &CvOutcome| -> Vec<(usize, Method)> {
                o.results.iter().map(|r| (r.fold, r.method)).collect()
            };
            if keys(&self.with_finished_folds(run, outcome.clone())?) == keys(&outcome) {
                break (table, gaps, report);
            }
        };
        let masks = masks.done.into_inner().unwrap_or_else(|p| p.into_inner());
        Ok(Trained {
            cases,
            dropped,
            outcome,
            table,
            gaps,
            report,
            masks,
        })
    }
}

impl Experiment {
    /// `outcome` with the results of every other fold of the split that has a
    /// `results.json` in `run` (written by another job of the same run), in fold order and,
    /// within a fold, in the order of [`Experiment::methods`].
    fn with_finished_folds(&self, run: &RunDir, mut outcome: CvOutcome) -> Result<CvOutcome> {
        for fold in 0..self.config.cv.folds {
            if outcome.results.iter().any(|r| r.fold == fold) || !run.fold_results(fold).is_file() {
                continue;
            }
            outcome.results.extend(run.read_fold_results(fold)?);
        }
        let rank = |m: Method| {
            self.methods
                .iter()
                .position(|&x| x == m)
                .unwrap_or(usize::MAX)
        };
        outcome
            .results
            .sort_by_key(|r| (r.fold, rank(r.method), r.method as usize));
        Ok(outcome)
    }
}

/// Passes events on to the caller's observer and writes each test patient's Stage-I mask on
/// its CT grid.
struct MaskExport<'a> {
    inner: &'a dyn Observer,
    cases: &'a [PreparedCase],
    cohort: &'a Cohort,
    dir: PathBuf,
    enabled: bool,
    done: Mutex<Vec<ExportedMask>>,
}

impl Observer for MaskExport<'_> {
    fn event(&self, event: &Event<'_>) -> bool {
        self.inner.event(event)
    }

    fn prepared(&self, cases: &[PreparedCase], dropped: &Dropped) {
        self.inner.prepared(cases, dropped);
    }

    fn test_mask(&self, fold: usize, case: usize, mask: &ndarray::Array3<u8>) -> Result<()> {
        self.inner.test_mask(fold, case, mask)?;
        if !self.enabled {
            return Ok(());
        }
        let c = &self.cases[case];
        let Some(record) = self.cohort.records().iter().find(|r| r.id == c.id) else {
            return Ok(());
        };
        let m = export_mask(c, record, mask, &self.dir)?;
        self.done.lock().unwrap_or_else(|p| p.into_inner()).push(m);
        Ok(())
    }
}
