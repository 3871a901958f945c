//! Synthetic PET/CT head-and-neck cohorts in the HECKTOR 2022 layout.
//!
//! Each patient is an analytic phantom (air, soft tissue, brain, skull, spine, mandible,
//! airway; a lobulated primary tumour, 0–3 nodes, PET brain uptake, peritumoural uptake
//! outside the labels) sampled onto two different grids: an anisotropic CT grid with
//! LPS-style negative x/y axes, and a coarser, larger PET grid with identity direction and
//! another origin. PET is blurred to the configured resolution and both images get noise.
//!
//! Survival follows a documented proportional-hazards model (see `docs/data.md`): the true
//! log hazard ratio mixes tumour volume, node count, peritumoural uptake (not in the labels),
//! necrosis, HPV status, age and smoking; event times are Weibull (shape 1.2) and censoring is
//! uniform. The true risk and the labelled tumour volume are written to
//! `synthetic_truth.csv`, so a model's C-index can be placed between "tumour volume alone"
//! and the oracle.

mod phantom;
mod scanner;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use ndarray::{Array3, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal, StandardNormal};
use rayon::prelude::*;

use crate::hecktor::{CLINICAL_CSV_NAME, ENDPOINT_CSV_NAMES};
use crate::{Error, Geometry, Result, Volume};
use phantom::{FindingKind, Patient};
pub use scanner::{Recorded, ScannerProfile, Scanners};

/// Name of the ground-truth table written beside the cohort.
pub const TRUTH_CSV_NAME: &str = "synthetic_truth.csv";
/// Name of the resolved configuration written beside the cohort.
pub const CONFIG_JSON_NAME: &str = "synthetic_config.json";

/// Version of the generator's output: bumped whenever the same configuration would produce
/// different data, so a stale cohort on disk is regenerated (see [`is_current`]).
pub const GENERATOR_VERSION: u32 = 3;

/// What `synthetic_config.json` holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Saved {
    generator_version: u32,
    config: SyntheticConfig,
}

/// Whether `root` holds a cohort made by this generator version with exactly `config`.
pub fn is_current(root: impl AsRef<Path>, config: &SyntheticConfig) -> bool {
    std::fs::read_to_string(root.as_ref().join(CONFIG_JSON_NAME))
        .ok()
        .and_then(|s| serde_json::from_str::<Saved>(&s).ok())
        .is_some_and(|saved| {
            saved.generator_version == GENERATOR_VERSION && &saved.config == config
        })
}

/// Folder (beside `imagesTr`) of the `beyond-labels` regime's finding maps: one uint8 volume per
/// patient on its CT grid, `<id>.nii.gz`, valued by [`FindingSpec::code`] (0: none).
pub const FINDINGS_DIR: &str = "synthetic_findings";

/// The finding map of a patient of a `beyond-labels` cohort in the HECKTOR layout,
/// `<cohort>/synthetic_findings/<id>.nii.gz` beside the folder of its CT, when the file is
/// there.
pub fn finding_map_path(record: &crate::CaseRecord) -> Option<std::path::PathBuf> {
    let path = record
        .ct
        .parent()?
        .parent()?
        .join(FINDINGS_DIR)
        .join(format!("{}.nii.gz", record.id));
    path.is_file().then_some(path)
}

/// Where a synthetic cohort's prognostic image signal lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Regime {
    /// Every prognostic image finding is a labelled structure (primary tumour, nodes) or its
    /// border (the peritumoural halo): the radiomics of the labels can see all of it. The
    /// default, and the main job's cohort.
    #[default]
    LabelsOnly,
    /// The same patients (the same labelled anatomy, clinical values and random draws) plus
    /// PET-avid findings that no label covers, each with its own hazard ratio
    /// ([`beyond_labels_findings`]); their maps are written to [`FINDINGS_DIR`].
    BeyondLabels,
}

impl Regime {
    /// The name used on the command line and in `synthetic_config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::LabelsOnly => "labels-only",
            Self::BeyondLabels => "beyond-labels",
        }
    }
}

/// One kind of unlabelled finding of the `beyond-labels` regime.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct FindingSpec {
    /// Name (the truth table's column).
    pub name: &'static str,
    /// Value in the finding maps of [`FINDINGS_DIR`].
    pub code: u8,
    /// Fraction of patients with it.
    pub prevalence: f64,
    /// Hazard ratio of having it, all else equal.
    pub hazard_ratio: f64,
}

/// The `beyond-labels` regime's findings: an uncontoured small node in the low or posterior
/// neck (levels IV/V), a lytic bone metastasis in a cervical vertebral body, and a synchronous
/// second primary in the larynx / hypopharynx. Values fixed before any model was run on the
/// regime (docs/data.md gives the clinical reasoning).
pub fn beyond_labels_findings() -> [FindingSpec; 3] {
    FindingKind::ALL.map(|k| FindingSpec {
        name: match k {
            FindingKind::UnlabelledNode => "unlabelled_node",
            FindingKind::BoneLesion => "bone_lesion",
            FindingKind::SecondPrimary => "second_primary",
        },
        code: k.code(),
        prevalence: k.prevalence(),
        hazard_ratio: k.hazard_ratio(),
    })
}

/// Weibull shape of the event-time distribution.
const WEIBULL_SHAPE: f64 = 1.2;

/// Parameters of a synthetic cohort.
///
/// | field | default | valid |
/// |---|---|---|
/// | `patients` | 24 | 1..=10 000 |
/// | `seed` | 0 | any |
/// | `field_of_view_mm` | 160³ | 16..=600 each |
/// | `ct_spacing_mm` | 1.5 × 1.5 × 3 | 0.2..=10, ≥ 2 voxels per axis |
/// | `pet_spacing_mm` | 4³ | 0.5..=16, ≥ 2 voxels per axis |
/// | `pet_fwhm_mm` | 6 | 0..=30 (0: no blur) |
/// | `centres` | CHUM, CHUP, HGJ, MDA | ≥ 1 name of letters/digits |
/// | `endpoint_fraction` | 0.9 | 0..=1: the others get no endpoint row, as in HECKTOR |
/// | `median_survival_days` | 1100 | > 0 (at true risk 0) |
/// | `max_followup_days` | 2500 | > 0 (censoring is uniform on 0.3–1 × this) |
/// | `regime` | `labels-only` | [`Regime`]: `labels-only` or `beyond-labels` |
/// | `scanners` | `uniform` | [`Scanners`]: `uniform` or `varied` (every profile's grids must also fit) |
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Number of patients with images.
    pub patients: usize,
    /// Seed; a patient's data depend only on the seed and its index.
    pub seed: u64,
    /// CT field of view in mm; anatomy scales with it (realistic at 160 mm).
    pub field_of_view_mm: [f64; 3],
    /// CT voxel spacing in mm.
    pub ct_spacing_mm: [f64; 3],
    /// PET voxel spacing in mm.
    pub pet_spacing_mm: [f64; 3],
    /// PET resolution (full width at half maximum) in mm.
    pub pet_fwhm_mm: f64,
    /// Centre names used in patient ids (`<Centre>-<NNN>`), assigned round-robin.
    pub centres: Vec<String>,
    /// Fraction of patients given an endpoint row.
    pub endpoint_fraction: f64,
    /// Median event time at true risk 0, in days.
    pub median_survival_days: f64,
    /// Longest follow-up, in days.
    pub max_followup_days: f64,
    /// Where the prognostic image signal lives.
    pub regime: Regime,
    /// Whether the centres' scanners and records differ ([`Scanners`]).
    pub scanners: Scanners,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        Self {
            patients: 24,
            seed: 0,
            field_of_view_mm: [160.0; 3],
            ct_spacing_mm: [1.5, 1.5, 3.0],
            pet_spacing_mm: [4.0; 3],
            pet_fwhm_mm: 6.0,
            centres: ["CHUM", "CHUP", "HGJ", "MDA"].map(String::from).to_vec(),
            endpoint_fraction: 0.9,
            median_survival_days: 1100.0,
            max_followup_days: 2500.0,
            regime: Regime::LabelsOnly,
            scanners: Scanners::Uniform,
        }
    }
}

impl SyntheticConfig {
    /// A tiny cohort for tests: 6 patients, 48 mm field of view (CT 24×24×16, PET 14³).
    pub fn tiny() -> Self {
        Self {
            patients: 6,
            field_of_view_mm: [48.0; 3],
            ct_spacing_mm: [2.0, 2.0, 3.0],
            pet_spacing_mm: [4.0; 3],
            pet_fwhm_mm: 5.0,
            ..Self::default()
        }
    }

    /// Paper-size images: 200 mm field of view, CT 0.98×0.98×2.5 mm, PET 4 mm.
    pub fn paper() -> Self {
        Self {
            patients: 100,
            field_of_view_mm: [200.0; 3],
            ct_spacing_mm: [0.98, 0.98, 2.5],
            ..Self::default()
        }
    }

    /// Checks every field against the table above.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Config(m));
        if !(1..=10_000).contains(&self.patients) {
            return bad(format!("patients = {} must be in 1..=10000", self.patients));
        }
        for a in 0..3 {
            let fov = self.field_of_view_mm[a];
            if !(16.0..=600.0).contains(&fov) {
                return bad(format!("field_of_view_mm[{a}] = {fov} must be in 16..=600"));
            }
            for (name, s, lo, hi) in [
                ("ct_spacing_mm", self.ct_spacing_mm[a], 0.2, 10.0),
                ("pet_spacing_mm", self.pet_spacing_mm[a], 0.5, 16.0),
            ] {
                if !(lo..=hi).contains(&s) || fov / s < 2.0 {
                    return bad(format!(
                        "{name}[{a}] = {s} must be in {lo}..={hi} and give at least 2 voxels across {fov} mm"
                    ));
                }
            }
            // Each centre's own grids (scaled by its scanner profile) must fit too.
            for c in 0..self.centres.len().min(ScannerProfile::varied().len()) {
                let profile = self.scanners.profile(c);
                for (name, s) in [
                    ("CT", self.ct_spacing_mm[a] * profile.ct_spacing[a]),
                    ("PET", self.pet_spacing_mm[a] * profile.pet_spacing[a]),
                ] {
                    if fov / s < 2.0 {
                        return bad(format!(
                            "{} scanners: the {} profile's {name} spacing {s:.2} mm on axis {a} gives fewer than 2 voxels across {fov} mm",
                            self.scanners.name(),
                            profile.name
                        ));
                    }
                }
            }
        }
        if !(0.0..=30.0).contains(&self.pet_fwhm_mm) {
            return bad(format!(
                "pet_fwhm_mm = {} must be in 0..=30",
                self.pet_fwhm_mm
            ));
        }
        if self.centres.is_empty()
            || self
                .centres
                .iter()
                .any(|c| c.is_empty() || !c.chars().all(|ch| ch.is_ascii_alphanumeric()))
        {
            return bad(format!(
                "centres {:?} must be non-empty alphanumeric names",
                self.centres
            ));
        }
        if !(0.0..=1.0).contains(&self.endpoint_fraction) {
            return bad(format!(
                "endpoint_fraction = {} must be in 0..=1",
                self.endpoint_fraction
            ));
        }
        for (name, v) in [
            ("median_survival_days", self.median_survival_days),
            ("max_followup_days", self.max_followup_days),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return bad(format!("{name} = {v} must be positive"));
            }
        }
        Ok(())
    }

    /// The CT grid of a patient whose phantom is centred at `centre` (world mm), scanned
    /// with `profile`.
    fn ct_grid(
        &self,
        centre: [f64; 3],
        profile: &ScannerProfile,
    ) -> Result<(Geometry, [usize; 3])> {
        let spacing = [0, 1, 2].map(|a| self.ct_spacing_mm[a] * profile.ct_spacing[a]);
        let extent = [1.0, 1.0, profile.ct_axial_extent];
        let shape =
            [0, 1, 2].map(|a| (extent[a] * self.field_of_view_mm[a] / spacing[a]).round() as usize);
        let flip = [-1.0, -1.0, 1.0];
        let origin = [0, 1, 2].map(|a| {
            let half = (shape[a] as f64 - 1.0) * spacing[a] / 2.0;
            centre[a] - flip[a] * half
        });
        let direction = [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]];
        Ok((Geometry::new(spacing, origin, direction)?, shape))
    }

    /// The PET grid: a larger field of view than the CT's (20 % at the base profile),
    /// identity direction, its own origin.
    fn pet_grid(
        &self,
        centre: [f64; 3],
        shift: [f64; 3],
        profile: &ScannerProfile,
    ) -> Result<(Geometry, [usize; 3])> {
        let spacing = [0, 1, 2].map(|a| self.pet_spacing_mm[a] * profile.pet_spacing[a]);
        let shape = [0, 1, 2].map(|a| {
            (profile.pet_field_of_view * self.field_of_view_mm[a] / spacing[a]).ceil() as usize
        });
        let origin =
            [0, 1, 2].map(|a| centre[a] - (shape[a] as f64 - 1.0) * spacing[a] / 2.0 + shift[a]);
        Ok((Geometry::axis_aligned(spacing, origin)?, shape))
    }
}

/// What was generated for one patient (one row of `synthetic_truth.csv`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TruthRow {
    /// Patient id.
    #[serde(rename = "PatientID")]
    pub patient_id: String,
    /// True log hazard ratio.
    pub true_risk: f64,
    /// Labelled tumour volume (GTVp + GTVn voxels on the CT grid), ml.
    pub tumour_volume_ml: f64,
    /// Labelled primary tumour volume, ml.
    pub gtvp_volume_ml: f64,
    /// Number of nodes.
    pub nodes: usize,
    /// Peritumoural uptake outside the labels (0..1).
    pub infiltration: f64,
    /// Whether the primary tumour has a necrotic core.
    pub necrosis: bool,
    /// True HPV status (1 = positive); the clinical table may hide it.
    pub hpv: u8,
    /// Uncensored event time, days.
    pub event_time_days: f64,
    /// Censoring time, days.
    pub censor_time_days: f64,
    /// Observed time = min(event, censoring), whole days.
    pub time_days: f64,
    /// Whether the event was observed.
    pub event: bool,
    /// Whether the endpoint table lists this patient.
    pub in_endpoint_table: bool,
    /// The true log hazard ratio without the unlabelled findings (equal to `true_risk` in the
    /// `labels-only` regime).
    #[serde(default)]
    pub risk_without_findings: f64,
    /// An uncontoured node (levels IV/V) is present (`beyond-labels` only).
    #[serde(default)]
    pub unlabelled_node: bool,
    /// A vertebral bone metastasis is present (`beyond-labels` only).
    #[serde(default)]
    pub bone_lesion: bool,
    /// A second primary tumour is present (`beyond-labels` only).
    #[serde(default)]
    pub second_primary: bool,
    /// The centre's scanner profile ([`ScannerProfile::name`]; `reference` everywhere in a
    /// `uniform` cohort).
    #[serde(default)]
    pub scanner: String,
}

/// The result of [`generate`].
#[derive(Debug, Clone)]
pub struct SyntheticCohort {
    /// Folder holding the cohort (HECKTOR layout).
    pub root: PathBuf,
    /// One row per patient, in id order.
    pub truth: Vec<TruthRow>,
}

/// Generates a cohort under `root` in the HECKTOR 2022 layout, plus `synthetic_truth.csv` and
/// `synthetic_config.json`.
///
/// The cohort is built in a sibling folder and renamed into place, so `root` never holds a
/// half-written cohort. An existing `root` is replaced only if it is itself a synthetic cohort
/// (has `synthetic_config.json`); anything else is an error. `progress` is called with the
/// number of patients done so far (from worker threads).
pub fn generate(
    root: impl AsRef<Path>,
    config: &SyntheticConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<SyntheticCohort> {
    config.validate()?;
    let root = root.as_ref().to_owned();
    if root.exists() && !root.join(CONFIG_JSON_NAME).is_file() {
        return Err(Error::Layout {
            path: root,
            reason: format!("exists and is not a synthetic cohort (no {CONFIG_JSON_NAME}); refusing to replace it"),
        });
    }
    let name = root
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "cohort".into());
    let staging = root.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let result = build(&staging, config, progress);
    let truth = match result {
        Ok(t) => t,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&staging);
            return Err(e);
        }
    };
    if root.exists() {
        std::fs::remove_dir_all(&root).map_err(|e| Error::io(&root, e))?;
    }
    std::fs::rename(&staging, &root).map_err(|e| Error::io(&root, e))?;
    Ok(SyntheticCohort { root, truth })
}

/// Generates the cohort as [`generate`] does unless `root` already holds one made by this
/// generator version with exactly `config` ([`is_current`]): `Ok(None)` when it was reused.
pub fn ensure(
    root: impl AsRef<Path>,
    config: &SyntheticConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Option<SyntheticCohort>> {
    let root = root.as_ref();
    if is_current(root, config) {
        return Ok(None);
    }
    if let Some(parent) = root.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
    }
    generate(root, config, progress).map(Some)
}

fn build(
    dir: &Path,
    config: &SyntheticConfig,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Vec<TruthRow>> {
    let images = dir.join("imagesTr");
    let labels = dir.join("labelsTr");
    let findings = dir.join(FINDINGS_DIR);
    for d in [&images, &labels] {
        std::fs::create_dir_all(d).map_err(|e| Error::io(d, e))?;
    }
    let findings = (config.regime == Regime::BeyondLabels)
        .then(|| std::fs::create_dir_all(&findings).map(|()| findings.clone()))
        .transpose()
        .map_err(|e| Error::io(&findings, e))?;
    let done = AtomicUsize::new(0);
    let cases: Vec<(TruthRow, Clinical)> = (0..config.patients)
        .into_par_iter()
        .map(|i| {
            let case = make_patient(i, config, &images, &labels, findings.as_deref())?;
            progress(done.fetch_add(1, Ordering::Relaxed) + 1);
            Ok(case)
        })
        .collect::<Result<_>>()?;
    write_tables(dir, &cases)?;
    let saved = Saved {
        generator_version: GENERATOR_VERSION,
        config: config.clone(),
    };
    let json = serde_json::to_string_pretty(&saved).map_err(|e| Error::Config(e.to_string()))?;
    let p = dir.join(CONFIG_JSON_NAME);
    std::fs::write(&p, json + "\n").map_err(|e| Error::io(&p, e))?;
    Ok(cases.into_iter().map(|(t, _)| t).collect())
}

/// Clinical values as written (None = empty cell).
struct Clinical {
    centre_id: usize,
    male: bool,
    age: f64,
    weight: Option<f64>,
    tobacco: Option<bool>,
    alcohol: Option<bool>,
    performance: Option<u8>,
    hpv: Option<bool>,
    surgery: Option<bool>,
    chemotherapy: bool,
}

fn patient_id(config: &SyntheticConfig, i: usize) -> (usize, String) {
    let c = i % config.centres.len();
    (
        c,
        format!("{}-{:03}", config.centres[c], i / config.centres.len() + 1),
    )
}

fn make_patient(
    i: usize,
    config: &SyntheticConfig,
    images: &Path,
    labels: &Path,
    findings_dir: Option<&Path>,
) -> Result<(TruthRow, Clinical)> {
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    rng.set_stream(i as u64 + 1);
    let (centre_id, id) = patient_id(config, i);
    let scanner = config.scanners.profile(centre_id);
    let mut p = Patient::random(&mut rng);
    if config.regime == Regime::BeyondLabels {
        // A stream of their own: the rest of the patient is the labels-only patient.
        let mut findings_rng = ChaCha8Rng::seed_from_u64(config.seed);
        findings_rng.set_stream((1 << 32) + i as u64);
        p.add_findings(&mut findings_rng);
    }

    // Grids: the phantom centre moves a little between patients; PET has its own origin.
    let centre = [
        rng.gen_range(-5.0..5.0),
        20.0 + rng.gen_range(-5.0..5.0),
        -60.0 + rng.gen_range(-5.0..5.0),
    ];
    let shift = [0, 1, 2]
        .map(|a| rng.gen_range(-0.5..0.5) * config.pet_spacing_mm[a] * scanner.pet_spacing[a]);
    let (ct_geom, ct_shape) = config.ct_grid(centre, &scanner)?;
    let (pet_geom, pet_shape) = config.pet_grid(centre, shift, &scanner)?;
    // The stream as the base scanner's images leave it (one standard normal per CT voxel, two
    // per PET voxel): the survival draws and what follows start there for every profile, so a
    // `varied` cohort's patients have the `uniform` cohort's endpoints, as documented.
    let after_base_images = (scanner != ScannerProfile::BASE)
        .then(|| -> Result<ChaCha8Rng> {
            let (_, ct) = config.ct_grid(centre, &ScannerProfile::BASE)?;
            let (_, pet) = config.pet_grid(centre, shift, &ScannerProfile::BASE)?;
            let draws = ct.iter().product::<usize>() + 2 * pet.iter().product::<usize>();
            let mut r = rng.clone();
            for _ in 0..draws {
                let _: f64 = StandardNormal.sample(&mut r);
            }
            Ok(r)
        })
        .transpose()?;
    let half = config.field_of_view_mm.map(|f| f / 2.0);
    let to_u = |w: [f64; 3]| [0, 1, 2].map(|a| (w[a] - centre[a]) / half[a]);

    // CT and labels at CT voxel centres.
    let ct_noise =
        Normal::new(0.0, scanner.ct_noise_hu).map_err(|e| Error::Config(e.to_string()))?;
    let mut ct = Array3::<i16>::zeros(ct_shape);
    let mut mask = Array3::<u8>::zeros(ct_shape);
    let mut finding_map = Array3::<u8>::zeros(ct_shape);
    for ((i, j, k), v) in ct.indexed_iter_mut() {
        let (hu, _, label, finding) =
            p.eval(to_u(ct_geom.index_to_world([i as f64, j as f64, k as f64])));
        *v = (hu + ct_noise.sample(&mut rng))
            .round()
            .clamp(-1024.0, 3071.0) as i16;
        mask[[i, j, k]] = label;
        finding_map[[i, j, k]] = finding;
    }
    // PET: 2×2×2 supersampled activity, blurred, then noise.
    let mut pet = Array3::<f64>::zeros(pet_shape);
    for ((i, j, k), v) in pet.indexed_iter_mut() {
        let mut sum = 0.0;
        for s in 0..8 {
            let o = [s & 1, (s >> 1) & 1, (s >> 2) & 1].map(|b| b as f64 * 0.5 - 0.25);
            sum += p
                .eval(to_u(pet_geom.index_to_world([
                    i as f64 + o[0],
                    j as f64 + o[1],
                    k as f64 + o[2],
                ])))
                .1;
        }
        *v = sum / 8.0;
    }
    let sigma_mm = config.pet_fwhm_mm * scanner.pet_fwhm / (8.0 * 2f64.ln()).sqrt();
    for a in 0..3 {
        gaussian_blur_axis(&mut pet, a, sigma_mm / pet_geom.spacing[a]);
    }
    let rel = Normal::new(0.0, scanner.pet_noise).map_err(|e| Error::Config(e.to_string()))?;
    let abs = Normal::new(0.0, 0.03).map_err(|e| Error::Config(e.to_string()))?;
    let calibration = scanner.pet_calibration;
    let pet = pet.mapv(|v| {
        let v = (v * (1.0 + rel.sample(&mut rng)) + abs.sample(&mut rng)).max(0.0);
        (v * calibration) as f32
    });

    // Volumes in ml at the actual scale, from the labels.
    let voxel_ml = ct_geom.spacing.iter().product::<f64>() / 1000.0;
    let gtvp = mask.iter().filter(|&&l| l == 1).count() as f64 * voxel_ml;
    let gtvn = mask.iter().filter(|&&l| l == 2).count() as f64 * voxel_ml;

    // Survival: Weibull proportional hazards, uniform censoring.
    if let Some(r) = after_base_images {
        rng = r;
    }
    let eta = p.true_risk();
    let lambda = 2f64.ln() / config.median_survival_days.powf(WEIBULL_SHAPE);
    let u: f64 = rng.gen_range(f64::EPSILON..1.0);
    let event_time = (-u.ln() / (lambda * eta.exp())).powf(1.0 / WEIBULL_SHAPE);
    let censor_time = config.max_followup_days * rng.gen_range(0.3..1.0);
    let event = event_time <= censor_time;
    let time = event_time.min(censor_time).round().max(1.0);
    let in_endpoint_table = rng.gen_bool(config.endpoint_fraction);

    let recorded = &scanner.recorded;
    let clinical = Clinical {
        centre_id,
        male: p.male,
        age: p.age.round(),
        weight: rng
            .gen_bool(recorded.weight)
            .then(|| (78.0 + 14.0 * rng.gen_range(-1.5..1.5f64)).round()),
        tobacco: rng.gen_bool(recorded.tobacco).then_some(p.tobacco),
        alcohol: rng.gen_bool(recorded.alcohol).then(|| rng.gen_bool(0.5)),
        performance: rng
            .gen_bool(recorded.performance)
            .then(|| rng.gen_range(0..3u8)),
        hpv: rng.gen_bool(recorded.hpv).then_some(p.hpv_positive),
        surgery: rng.gen_bool(recorded.surgery).then(|| rng.gen_bool(0.2)),
        chemotherapy: rng.gen_bool(0.8),
    };

    Volume::new(ct, ct_geom)?.write(images.join(format!("{id}__CT.nii.gz")))?;
    Volume::new(pet, pet_geom)?.write(images.join(format!("{id}__PT.nii.gz")))?;
    Volume::new(mask, ct_geom)?.write(labels.join(format!("{id}.nii.gz")))?;
    if let Some(dir) = findings_dir {
        Volume::new(finding_map, ct_geom)?.write(dir.join(format!("{id}.nii.gz")))?;
    }

    let truth = TruthRow {
        patient_id: id,
        true_risk: eta,
        tumour_volume_ml: gtvp + gtvn,
        gtvp_volume_ml: gtvp,
        nodes: p.nodes.len(),
        infiltration: p.infiltration,
        necrosis: p.necrosis.is_some(),
        hpv: u8::from(p.hpv_positive),
        event_time_days: event_time,
        censor_time_days: censor_time,
        time_days: time,
        event,
        in_endpoint_table,
        risk_without_findings: p.labelled_risk(),
        unlabelled_node: p.has(FindingKind::UnlabelledNode),
        bone_lesion: p.has(FindingKind::BoneLesion),
        second_primary: p.has(FindingKind::SecondPrimary),
        scanner: scanner.name.to_string(),
    };
    Ok((truth, clinical))
}

/// In-place Gaussian blur along one axis (σ in voxels), edges clamped.
fn gaussian_blur_axis(data: &mut Array3<f64>, axis: usize, sigma: f64) {
    if sigma <= 0.0 {
        return;
    }
    let radius = (3.0 * sigma).ceil() as isize;
    let kernel: Vec<f64> = (-radius..=radius)
        .map(|d| (-(d * d) as f64 / (2.0 * sigma * sigma)).exp())
        .collect();
    let norm: f64 = kernel.iter().sum();
    let n = data.len_of(Axis(axis)) as isize;
    let mut line = vec![0.0; n as usize];
    for mut lane in data.lanes_mut(Axis(axis)) {
        for (t, out) in line.iter_mut().enumerate() {
            *out = kernel
                .iter()
                .enumerate()
                .map(|(q, w)| w * lane[(t as isize + q as isize - radius).clamp(0, n - 1) as usize])
                .sum::<f64>()
                / norm;
        }
        for (dst, src) in lane.iter_mut().zip(&line) {
            *dst = *src;
        }
    }
}

fn write_tables(dir: &Path, cases: &[(TruthRow, Clinical)]) -> Result<()> {
    let csv_err = |path: &Path, e: csv::Error| Error::Csv {
        path: path.to_owned(),
        line: None,
        reason: e.to_string(),
    };
    let flag = |b: Option<bool>| b.map_or(String::new(), |b| u8::from(b).to_string());

    let path = dir.join(ENDPOINT_CSV_NAMES[0]);
    let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
    w.write_record(["PatientID", "Relapse", "RFS"])
        .map_err(|e| csv_err(&path, e))?;
    for (t, _) in cases.iter().filter(|(t, _)| t.in_endpoint_table) {
        w.write_record([
            t.patient_id.clone(),
            u8::from(t.event).to_string(),
            t.time_days.to_string(),
        ])
        .map_err(|e| csv_err(&path, e))?;
    }
    w.flush().map_err(|e| Error::io(&path, e))?;

    let path = dir.join(CLINICAL_CSV_NAME);
    let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
    w.write_record([
        "PatientID",
        "Task 1",
        "Task 2",
        "CenterID",
        "Gender",
        "Age",
        "Weight",
        "Tobacco",
        "Alcohol",
        "Performance status",
        "HPV status (0=-, 1=+)",
        "Surgery",
        "Chemotherapy",
    ])
    .map_err(|e| csv_err(&path, e))?;
    for (t, c) in cases {
        w.write_record([
            t.patient_id.clone(),
            "1".into(),
            u8::from(t.in_endpoint_table).to_string(),
            c.centre_id.to_string(),
            if c.male { "M" } else { "F" }.into(),
            c.age.to_string(),
            c.weight.map_or(String::new(), |v| v.to_string()),
            flag(c.tobacco),
            flag(c.alcohol),
            c.performance.map_or(String::new(), |v| v.to_string()),
            flag(c.hpv),
            flag(c.surgery),
            u8::from(c.chemotherapy).to_string(),
        ])
        .map_err(|e| csv_err(&path, e))?;
    }
    w.flush().map_err(|e| Error::io(&path, e))?;

    let path = dir.join(TRUTH_CSV_NAME);
    let mut w = csv::Writer::from_path(&path).map_err(|e| csv_err(&path, e))?;
    for (t, _) in cases {
        w.serialize(t).map_err(|e| csv_err(&path, e))?;
    }
    w.flush().map_err(|e| Error::io(&path, e))?;
    Ok(())
}

/// Reads `synthetic_truth.csv` of a generated cohort.
pub fn read_truth(root: impl AsRef<Path>) -> Result<Vec<TruthRow>> {
    let path = root.as_ref().join(TRUTH_CSV_NAME);
    let mut r = csv::Reader::from_path(&path).map_err(|e| Error::Csv {
        path: path.clone(),
        line: None,
        reason: e.to_string(),
    })?;
    r.deserialize()
        .map(|row| {
            row.map_err(|e| Error::Csv {
                path: path.clone(),
                line: e.position().map(|p| p.line()),
                reason: e.to_string(),
            })
        })
        .collect()
}
