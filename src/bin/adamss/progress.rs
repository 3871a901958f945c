//! Progress bars (indicatif) for long commands.

use std::time::Instant;

use adamss::train::{self, ExperimentConfig, Method};
use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar of `len` steps.
pub(crate) fn bar(template: &str, len: usize) -> ProgressBar {
    ProgressBar::new(len as u64).with_style(
        ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    )
}

/// Progress bars for preprocessing and training stages.
pub(crate) struct BarObserver<'a> {
    pub(crate) bar: std::sync::Mutex<Option<ProgressBar>>,
    pub(crate) preprocess: ProgressBar,
    pub(crate) started: Instant,
    pub(crate) config: &'a ExperimentConfig,
    pub(crate) methods: &'a [Method],
}

impl train::Observer for BarObserver<'_> {
    fn prepared(&self, cases: &[train::PreparedCase], dropped: &train::data::Dropped) {
        self.preprocess.finish_and_clear();
        let config = self.config;
        let events = cases.iter().filter(|c| c.survival.event()).count();
        let left_out: Vec<String> = dropped
            .cases
            .iter()
            .map(|(id, why)| format!("{id}: {why}"))
            .collect();
        println!(
            "{} patients ({events} events) on {:?} voxels of {:.2} mm in {:.1} s; {} left out{}",
            cases.len(),
            config.preprocess.crop_size,
            config.preprocess.spacing_mm,
            self.started.elapsed().as_secs_f64(),
            left_out.len(),
            if left_out.is_empty() {
                String::new()
            } else {
                format!(" ({})", left_out.join(", "))
            }
        );
        // The device the run opens (an error there is reported by the run itself).
        let device = train::open_device(&config.runtime)
            .map_or_else(|_| config.runtime.device.clone(), |d| format!("{d:?}"));
        let keys: Vec<&str> = self.methods.iter().map(|m| m.key()).collect();
        println!(
            "training on {device}: {}-fold cross-validation, methods: {}",
            config.cv.folds,
            keys.join(", ")
        );
    }

    fn event(&self, event: &train::Event<'_>) -> bool {
        use train::Event;
        let mut guard = self.bar.lock().unwrap_or_else(|p| p.into_inner());
        match event {
            Event::Start {
                stage,
                total_steps,
                resumed_at,
                steps_per_epoch,
            } => {
                let b = bar(
                    "{prefix:<28} [{bar:25}] {pos}/{len} {per_sec} eta {eta} {msg}",
                    *total_steps,
                );
                b.set_prefix(stage.to_string());
                b.set_position((resumed_at * steps_per_epoch) as u64);
                *guard = Some(b);
            }
            Event::Step { loss, .. } => {
                if let Some(b) = guard.as_ref() {
                    b.inc(1);
                    b.set_message(format!("loss {loss:.4}"));
                }
            }
            Event::Epoch { .. } => {}
            Event::Done { stage, state } => {
                if let Some(b) = guard.take() {
                    b.finish_and_clear();
                }
                println!("  {stage:<28} {state}");
            }
        }
        true
    }
}

/// Prints the library's warnings (the `log` facade; e.g. a LoG sigma PyRadiomics would skip)
/// to standard error as `warning: …`, as PyRadiomics' logger prints its own.
pub(crate) struct Warnings;

impl log::Log for Warnings {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::Level::Warn
    }

    fn log(&self, record: &log::Record) {
        if self.enabled(record.metadata()) {
            eprintln!("warning: {}", record.args());
        }
    }

    fn flush(&self) {}
}

/// Installs [`Warnings`] as the process's logger (once; a second call changes nothing).
pub(crate) fn print_warnings() {
    static LOGGER: Warnings = Warnings;
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}
