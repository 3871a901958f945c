//! The command line's arguments and their help texts (clap).

use std::path::PathBuf;

use adamss::train::Method;
use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "adamss",
    version,
    about = "AdaMSS PET/CT segmentation-to-survival toolkit"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Preset {
    /// 6 patients, 48 mm field of view (tests); the demo uses 16 and the `tiny` experiment.
    Tiny,
    /// 24 patients, 160 mm field of view; the demo uses 150 and the `cpu-small` experiment.
    Default,
    /// 100 patients, 200 mm field of view, CT 0.98×0.98×2.5 mm.
    Paper,
}

/// Where the synthetic cohort's prognostic image signal lives (docs/data.md).
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum RegimeArg {
    /// Every prognostic finding is labelled (or borders the labels): the main job's cohort.
    LabelsOnly,
    /// The same patients plus PET-avid findings no label covers (an uncontoured node, a
    /// vertebral metastasis, a second primary), each with its own hazard ratio.
    BeyondLabels,
}

impl From<RegimeArg> for adamss::io::synthetic::Regime {
    fn from(r: RegimeArg) -> Self {
        match r {
            RegimeArg::LabelsOnly => Self::LabelsOnly,
            RegimeArg::BeyondLabels => Self::BeyondLabels,
        }
    }
}

/// Whether the synthetic cohort's centres scan and record alike (docs/data.md).
#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ScannersArg {
    /// Centres differ by name only: the main job's cohort.
    Uniform,
    /// Centres differ like real ones: CT and PET voxel sizes, PET resolution, noise and
    /// calibration, field of view, and which clinical fields are missing and how often.
    Varied,
}

impl From<ScannersArg> for adamss::io::synthetic::Scanners {
    fn from(s: ScannersArg) -> Self {
        match s {
            ScannersArg::Uniform => Self::Uniform,
            ScannersArg::Varied => Self::Varied,
        }
    }
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run the main job end to end on a synthetic cohort (generated once, then reused).
    Demo(DemoArgs),
    /// Cross-validated training of AdaMSS and its baselines on a cohort; writes checkpoints,
    /// metrics, predictions and a report under the run folder (`--resume` continues it).
    Train(TrainArgs),
    /// Predict new patients with one fold of a finished run: AdaMSS risk per patient
    /// (`risks.csv`, high risk above the fold's training median) and the Stage-I GTVp/GTVn
    /// masks as NIfTI on each patient's original CT grid (`masks/`). Only images (and the
    /// clinical table) are needed; with labels, each mask's Dice and HD95 (mm) against them
    /// are reported (`risks.csv`). A patient
    /// whose images cannot be read or preprocessed is listed (`failed: <id>: <reason>`) and
    /// the others are scored; the exit status is then an error.
    Predict(PredictArgs),
    /// Write a model bundle: one fold's AdaMSS network (Stage I, the survival network, the
    /// head's clinical encoding and radiomics selection, the preprocessing settings) in a
    /// self-contained folder with a SHA-256 per file, for `adamss predict --model` or the
    /// library's `Predictor` on any machine.
    Export(ExportArgs),
    /// Evaluate risk scores against endpoints: Harrell's and Uno's C-index with a bootstrap
    /// interval, and Kaplan–Meier curves of the high/low split with the log-rank test; or,
    /// with `--masks`, predicted segmentations against the labels (Dice, HD95).
    Evaluate(EvaluateArgs),
    /// Concatenate CSV files with identical headers (e.g. shards of `predict`); with a
    /// `PatientID` column, a patient on two rows (per `method` and `fold` where present) is
    /// refused.
    Merge(MergeArgs),
    /// Preprocess a cohort onto the network grid of an experiment preset (cached under
    /// `<out>/preprocessed`), reporting how many tumours the label-free crops hold.
    Preprocess(PreprocessArgs),
    /// PyRadiomics-compatible features: of a cohort (the labelled GTVp on CT and PET, the PET
    /// resampled onto the CT grid, one row per patient, columns `pet_…`/`ct_…`), or of one
    /// image and mask as PyRadiomics' `execute(image, mask)` (one row, its column names).
    Radiomics(RadiomicsArgs),
    /// Generate a synthetic PET/CT cohort in the HECKTOR 2022 layout.
    Synth(SynthArgs),
    /// Summarise a cohort: a HECKTOR 2022 folder or a manifest CSV.
    Cohort(CohortArgs),
    /// Print a volume's header as read by adamss-io: a NIfTI or NRRD file, or a folder holding
    /// one DICOM image series; or a DICOM Segmentation object's segments.
    Inspect(InspectArgs),
    /// Fill ROIs of a DICOM RT Structure Set on the grid of the CT it was drawn on and write
    /// them as one label map (NIfTI or NRRD): e.g. `--roi GTV_Primary=1 --roi GTV_Node=2`
    /// for this toolkit's GTVp / GTVn masks. `adamss inspect RS.dcm` lists the ROIs.
    Rtstruct(RtstructArgs),
    /// Convert a DICOM PET series to SUV from its headers (the patient's weight, the
    /// injected dose and its decay, as the QIBA pseudo-code and OHIF's calculate-suv) and
    /// write it as NIfTI or NRRD; prints what the factors came from.
    Suv(SuvArgs),
    /// Report what the linked libtorch can run on (CUDA devices, cuDNN, CPU threads).
    Device(DeviceArgs),
    /// Time the Stage-I training step of the whole network (forward, Dice + focal, backward,
    /// Adam) on random inputs; the PyTorch twin's `train-step` runs the same step.
    BenchStep(BenchStepArgs),
    /// Compare the network with the PyTorch twin's reference files (weights, inputs, outputs,
    /// gradients from `tools/adamss_twin.py reference`) on a device, in float64 (the exactness
    /// check: fails beyond 1e-5 for outputs, 1e-4 for gradients) and float32 (reported only;
    /// CUDA uses TF32 convolutions).
    CheckTwin(CheckTwinArgs),
}

/// Arguments of `adamss demo`.
#[derive(Args)]
pub(crate) struct DemoArgs {
    /// Working folder.
    #[arg(long, default_value = "runs/demo")]
    pub(crate) dir: PathBuf,
    /// Cohort size preset.
    #[arg(long, value_enum, default_value = "default")]
    pub(crate) preset: Preset,
    /// Seed of the synthetic cohort.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Also train this many replicates in all (1 = the main job alone): each redraws the
    /// networks' randomness on the same folds (`replicate` in the experiment config) in
    /// its own folder beside the main one, and a second table shows how far retraining
    /// moves each method's C-index. Each replicate takes about as long as the main job.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=20))]
    pub(crate) replicates: u64,
    /// libtorch CPU threads (0 = libtorch's default, the cores). The order of libtorch's
    /// sums depends on it, so the table does too: 2 (default) gives README's table on any
    /// machine.
    #[arg(long, default_value_t = DEMO_THREADS)]
    pub(crate) threads: usize,
    /// Which synthetic cohort: `labels-only` (the main job), `beyond-labels` (the same
    /// patients with prognostic findings no label covers; its own cohort and run folders,
    /// `cohort-beyond-labels`, `<preset>-beyond-labels`), or `both`, one after the other, then
    /// one table of the two (`regimes.md`).
    #[arg(long, value_enum, default_value = "labels-only")]
    pub(crate) regime: DemoRegime,
    /// Also a leave-one-centre-out cross-validation of the same methods on the same cohort
    /// (one fold per centre, `cv.group_by_centre`; its own folder `<preset>-loco`), and a
    /// table of it beside the stratified one (`loco.md`). About 1⅓ × the main job.
    #[arg(long)]
    pub(crate) loco: bool,
    /// Whether the cohort's centres scan and record alike (`uniform`, the main job) or differ
    /// like real ones (`varied`: its own cohort and run folders, suffixed `-varied`).
    #[arg(long, value_enum, default_value = "uniform")]
    pub(crate) scanners: ScannersArg,
    /// Number of patients of the synthetic cohort instead of the preset's (150 for
    /// `default`), e.g. 500 for a HECKTOR-size run; any other count gets its own cohort and
    /// run folders, suffixed `-<N>-patients`. Time grows about in proportion.
    #[arg(long, value_parser = clap::value_parser!(u64).range(6..=100_000))]
    pub(crate) patients: Option<u64>,
}

/// The demo's `--regime`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DemoRegime {
    /// The main job's cohort.
    LabelsOnly,
    /// The cohort with unlabelled prognostic findings.
    BeyondLabels,
    /// Both, and a table of the two.
    Both,
}

/// Arguments of `adamss train`.
#[derive(Args)]
pub(crate) struct TrainArgs {
    /// Cohort: HECKTOR 2022 folder or manifest `.csv`.
    #[arg(long)]
    pub(crate) cohort: PathBuf,
    /// Run folder.
    #[arg(long, default_value = "runs/train")]
    pub(crate) out: PathBuf,
    /// Experiment preset: paper, default, cpu-small, tiny (tests); `--config` keys override it.
    #[arg(long, default_value = "default")]
    pub(crate) preset: String,
    /// Experiment TOML (may name its own `preset = "…"`).
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Methods to compare (keys: lasso-cox-clinical, lasso-cox-radiomics, single-task,
    /// mtl, ssl, ssl-radiomics, ssl-early-fusion, ssl-late-fusion).
    #[arg(long, num_args = 1.., default_values_t = Method::MAIN.map(|m| m.key().to_string()))]
    pub(crate) methods: Vec<String>,
    /// Run only this fold (0-based): one job of a batch-scheduler array.
    #[arg(long)]
    pub(crate) fold: Option<usize>,
    /// Device (overrides the config): cpu, cuda, cuda:N, auto.
    #[arg(long)]
    pub(crate) device: Option<String>,
    /// Continue the run already in `--out`: finished stages are reloaded, a killed stage
    /// continues from its last finished epoch to the weights an uninterrupted run reaches,
    /// and a stage whose settings changed starts again. Without it, a run folder that
    /// already holds the folds to run is refused (nothing is touched). Either way a folder
    /// trained on other patients is refused.
    #[arg(long)]
    pub(crate) resume: bool,
}

/// Arguments of `adamss predict`.
#[derive(Args)]
pub(crate) struct PredictArgs {
    /// The run folder of `adamss train` (its `config.toml` and `fold-K/`).
    #[arg(long, required_unless_present = "model", conflicts_with = "model")]
    pub(crate) run: Option<PathBuf>,
    /// A model bundle of `adamss export` (in place of `--run`, `--fold`, `--method`).
    #[arg(long)]
    pub(crate) model: Option<PathBuf>,
    /// Device: cpu, cuda, cuda:N, auto (default: the run's config; `auto` for `--model`).
    #[arg(long)]
    pub(crate) device: Option<String>,
    /// Patients: HECKTOR 2022 folder or manifest `.csv`.
    #[arg(long)]
    pub(crate) cohort: PathBuf,
    /// Output folder.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Which fold's networks to use (with `--run`).
    #[arg(long, default_value_t = 0, conflicts_with = "model")]
    pub(crate) fold: usize,
    /// Which AdaMSS network (with `--run`): `ssl`, or `ssl-radiomics` (its head also gets
    /// the fold's LASSO-selected radiomics, extracted from each patient's Stage-I mask as in
    /// training).
    #[arg(long, default_value = "ssl", conflicts_with = "model")]
    pub(crate) method: String,
    /// Only the slice `i/n` of the patients (array jobs); merge with `adamss merge`.
    #[arg(long)]
    pub(crate) shard: Option<String>,
    /// Also write the AdaMSS network's fusion-gate weights (`gate-1..5`: near 1 the fused
    /// branch is used, near 0 the separate PET/CT path) and attention maps
    /// (`attention-6..9`) per patient under `<out>/maps/<id>/`, as NIfTI on the network
    /// grid in the patient's physical space.
    #[arg(long)]
    pub(crate) maps: bool,
}

/// Arguments of `adamss export`.
#[derive(Args)]
pub(crate) struct ExportArgs {
    /// The run folder of `adamss train`.
    #[arg(long)]
    pub(crate) run: PathBuf,
    /// Which fold's networks.
    #[arg(long, default_value_t = 0)]
    pub(crate) fold: usize,
    /// Which AdaMSS network: `ssl` or `ssl-radiomics`.
    #[arg(long, default_value = "ssl")]
    pub(crate) method: String,
    /// The bundle folder to create (must not exist).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

/// Arguments of `adamss evaluate`.
#[derive(Args)]
pub(crate) struct EvaluateArgs {
    /// CSV with `PatientID`, `risk` and optionally `high_risk` (e.g. `risks.csv`), one row
    /// per patient.
    #[arg(long, required_unless_present = "masks")]
    pub(crate) risks: Option<PathBuf>,
    /// Evaluate only this method's rows of a file with a `method` column, such as a run's
    /// `predictions.csv` (e.g. `ssl-radiomics`, `lasso-cox-radiomics`): its test folds pooled
    /// (each patient scored by its own fold's model), and with a `fold` column each fold's C
    /// and their mean ± sd, the run's figure.
    #[arg(long, conflicts_with = "masks")]
    pub(crate) method: Option<String>,
    /// Score segmentations instead of risks: the folder of masks `<PatientID>.nii.gz` on each
    /// patient's CT grid (as `adamss predict` writes them; 1 = GTVp, 2 = GTVn) against the
    /// cohort's labels. Writes `segmentation.csv` (per patient and structure: voxels, Dice,
    /// HD95, average surface distance) and prints HECKTOR's aggregated Dice, the mean Dice
    /// and the median HD95 per structure. A labelled patient without a usable mask is listed
    /// and the exit status is then an error.
    #[arg(long, conflicts_with = "risks")]
    pub(crate) masks: Option<PathBuf>,
    /// Cohort with the endpoints (HECKTOR folder or manifest `.csv`), or the labels with
    /// `--masks`.
    #[arg(long)]
    pub(crate) cohort: PathBuf,
    /// Output folder (`evaluation.md`, `km.svg`; `segmentation.csv` with `--masks`).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

/// Arguments of `adamss merge`.
#[derive(Args)]
pub(crate) struct MergeArgs {
    /// Output CSV.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Input CSVs, in order.
    #[arg(required = true)]
    pub(crate) parts: Vec<PathBuf>,
}

/// Arguments of `adamss preprocess`.
#[derive(Args)]
pub(crate) struct PreprocessArgs {
    /// Cohort: HECKTOR 2022 folder or manifest `.csv`.
    #[arg(long)]
    pub(crate) cohort: PathBuf,
    /// Output folder.
    #[arg(long, default_value = "runs/preprocess")]
    pub(crate) out: PathBuf,
    /// Experiment preset whose `preprocess` settings apply (paper, default, cpu-small, tiny).
    #[arg(long, default_value = "default")]
    pub(crate) preset: String,
    /// Experiment TOML instead of a preset.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Only the slice `i/n` of the patients (array jobs sharing one cache folder).
    #[arg(long)]
    pub(crate) shard: Option<String>,
}

/// Arguments of `adamss radiomics`.
#[derive(Args)]
pub(crate) struct RadiomicsArgs {
    /// Cohort: HECKTOR 2022 folder or manifest `.csv`.
    #[arg(
        long,
        required_unless_present_any = ["image", "batch"],
        conflicts_with_all = ["image", "mask", "label", "batch"]
    )]
    pub(crate) cohort: Option<PathBuf>,
    /// A PyRadiomics batch file instead: a CSV with columns `Image` and `Mask` (paths relative
    /// to the CSV's folder, or absolute), optionally `Label` and `Label_channel`, one case per
    /// row. The output keeps its columns and adds the `diagnostics_*` entries (unless the
    /// parameter file sets `additionalInfo: false`) and the features; cases run in parallel, and a
    /// case that fails keeps its row with empty features, is listed, and makes the exit status
    /// non-zero.
    #[arg(long, conflicts_with_all = ["image", "mask", "label", "shard"])]
    pub(crate) batch: Option<PathBuf>,
    /// One image (NIfTI, NRRD as Slicer writes it, or a folder holding one DICOM image series)
    /// instead of a cohort; its row is named after the file or folder, and PyRadiomics'
    /// `diagnostics_*` entries (versions, settings, hashes, sizes, ROI statistics) go to
    /// `<out>.diagnostics.json` beside the CSV (not with `additionalInfo: false`).
    #[arg(long, requires = "mask")]
    pub(crate) image: Option<PathBuf>,
    /// The mask of `--image` (on its grid), or a DICOM Segmentation object (SEG) drawn on it,
    /// whose segment numbers are then the labels.
    #[arg(long, requires = "image")]
    pub(crate) mask: Option<PathBuf>,
    /// The mask value of the ROI (PyRadiomics' `label`; default: the parameter file's, else 1);
    /// with a SEG mask, the segment number.
    #[arg(long, requires = "image")]
    pub(crate) label: Option<u8>,
    /// Output CSV.
    #[arg(long, default_value = "runs/radiomics.csv")]
    pub(crate) out: PathBuf,
    /// Voxel-based extraction instead (PyRadiomics' `voxelBased=True`, the kernel from the
    /// parameter file's `voxelSetting` block): one feature map per feature written to this
    /// folder (float64 NIfTI, on the image cropped to the ROI's box + kernelRadius;
    /// `initValue` outside the ROI). With `--image`: `<feature>.nii.gz`, and no CSV; with
    /// `--batch` (PyRadiomics' `--mode voxel`): `Case-<k>_<feature>.nii.gz` (`k` the case's
    /// position from 1), and the `--out` CSV lists each case's map files.
    #[arg(long, conflicts_with_all = ["cohort", "shard"])]
    pub(crate) maps: Option<PathBuf>,
    /// A PyRadiomics parameter file (YAML or JSON: settings such as `binWidth` or
    /// `resampledPixelSpacing`, image types, feature classes) instead of the default (all
    /// classes on the original image: PyRadiomics' defaults for `--image`, the AdaMSS preset
    /// for a cohort); an image's stored pixel type comes from its file.
    #[arg(long)]
    pub(crate) params: Option<PathBuf>,
    /// Only the slice `i/n` of the patients; merge the CSVs with `adamss merge`.
    #[arg(long, conflicts_with = "image")]
    pub(crate) shard: Option<String>,
}

/// Arguments of `adamss synth`.
#[derive(Args)]
pub(crate) struct SynthArgs {
    /// Output folder (replaced if it is an older synthetic cohort).
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// Size preset.
    #[arg(long, value_enum, default_value = "default")]
    pub(crate) preset: Preset,
    /// Number of patients (overrides the preset).
    #[arg(long)]
    pub(crate) patients: Option<usize>,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub(crate) seed: u64,
    /// Where the prognostic image signal lives.
    #[arg(long, value_enum, default_value = "labels-only")]
    pub(crate) regime: RegimeArg,
    /// Whether the centres scan and record alike or differ like real ones.
    #[arg(long, value_enum, default_value = "uniform")]
    pub(crate) scanners: ScannersArg,
}

/// Arguments of `adamss cohort`.
#[derive(Args)]
pub(crate) struct CohortArgs {
    /// Folder (HECKTOR layout) or `.csv` manifest.
    pub(crate) path: PathBuf,
}

/// Arguments of `adamss inspect`.
#[derive(Args)]
pub(crate) struct InspectArgs {
    /// A `.nii`, `.nii.gz`, `.hdr`, `.img` or `.nrrd` file, a DICOM series' folder (a PET
    /// series' SUV factors too), a DICOM Segmentation object (its segments, frames and
    /// references) or an RT Structure Set (its ROIs).
    pub(crate) file: PathBuf,
}

/// Arguments of `adamss rtstruct`.
#[derive(Args)]
pub(crate) struct RtstructArgs {
    /// The RTSTRUCT file.
    pub(crate) file: PathBuf,
    /// The image the contours were drawn on (a DICOM series folder, NIfTI or NRRD): its grid.
    #[arg(long)]
    pub(crate) image: PathBuf,
    /// A ROI by its exact name, `NAME=LABEL` or `NAME` (labels 1, 2, … in the order given);
    /// repeat for several. ROIs that overlap are refused.
    #[arg(long, required = true)]
    pub(crate) roi: Vec<String>,
    /// Where to write the label map (`.nii`, `.nii.gz` or `.nrrd`, uint8).
    #[arg(long)]
    pub(crate) out: PathBuf,
}

/// Arguments of `adamss suv`.
#[derive(Args)]
pub(crate) struct SuvArgs {
    /// The folder holding the PET series.
    pub(crate) dir: PathBuf,
    /// Where to write the SUV volume (`.nii`, `.nii.gz` or `.nrrd`), as float32.
    #[arg(long)]
    pub(crate) out: PathBuf,
    /// `bw` (body weight), `lbm` (lean body mass, Janmahasatian; `sul` too) or `bsa`
    /// (body-surface area, Du Bois).
    #[arg(long, default_value = "bw")]
    pub(crate) normalization: adamss::io::SuvNormalization,
    /// The series' SeriesInstanceUID, where the folder holds several.
    #[arg(long)]
    pub(crate) series: Option<String>,
}

/// Arguments of `adamss device`.
#[derive(Args)]
pub(crate) struct DeviceArgs {
    /// Print JSON instead of a sentence.
    #[arg(long)]
    pub(crate) json: bool,
}

/// Arguments of `adamss bench-step`.
#[derive(Args)]
pub(crate) struct BenchStepArgs {
    /// `cpu`, `cuda` (first GPU) or `cuda:N`.
    #[arg(long, default_value = "cuda")]
    pub(crate) device: String,
    /// Cube side in voxels (a multiple of 16).
    #[arg(long, default_value_t = 112)]
    pub(crate) size: i64,
    /// Batch size.
    #[arg(long, default_value_t = 2)]
    pub(crate) batch: i64,
    /// Base width C (16 = the paper).
    #[arg(long, default_value_t = 16)]
    pub(crate) width: i64,
    /// Precisions to time, in order.
    #[arg(long, value_enum, num_args = 1.., default_values_t = [BenchPrecision::Fp32, BenchPrecision::Bf16])]
    pub(crate) precision: Vec<BenchPrecision>,
    /// Untimed steps first (cuDNN autotuning).
    #[arg(long, default_value_t = 5)]
    pub(crate) warmup: usize,
    /// cuDNN's algorithm search (`true`, as `adamss train` by default: `runtime.cudnn_benchmark`)
    /// or its heuristic choice (`false`). CUDA only.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub(crate) cudnn_benchmark: bool,
    /// Timed steps (the median is reported).
    #[arg(long, default_value_t = 20)]
    pub(crate) iters: usize,
    /// Also write the rows as JSON to this file.
    #[arg(long)]
    pub(crate) json: Option<PathBuf>,
}

/// Arguments of `adamss check-twin`.
#[derive(Args)]
pub(crate) struct CheckTwinArgs {
    /// Folder with `cases.json` and the safetensors files.
    #[arg(long, default_value = "tests/data/model")]
    pub(crate) dir: PathBuf,
    /// `cpu`, `cuda` or `cuda:N`.
    #[arg(long, default_value = "cuda")]
    pub(crate) device: String,
}
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum BenchPrecision {
    /// Full fp32.
    Fp32,
    /// bf16 mixed precision.
    Bf16,
}

/// Patients of the demo's synthetic cohort.
pub(crate) const DEMO_PATIENTS: usize = 150;

/// libtorch CPU threads of the demo: the machine size README's table was made on.
pub(crate) const DEMO_THREADS: usize = 2;
