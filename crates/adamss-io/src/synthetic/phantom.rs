//! The analytic head-and-neck phantom of one synthetic patient.
//!
//! Everything is defined in normalised coordinates `u = (world − centre) / (FOV / 2)`, so
//! `u ∈ [−1, 1]³` spans the CT field of view; x is lateral, y anterior, z superior (RAS).
//! Sizes are realistic at a 160 mm field of view and scale with it.

use rand::Rng;
use rand_distr::{Distribution, LogNormal, Normal};

/// Millimetres per normalised unit at the reference field of view (160 mm).
const REFERENCE_HALF_FOV_MM: f64 = 80.0;

/// A lesion: a lobulated ellipsoid.
#[derive(Debug, Clone)]
pub(super) struct Lesion {
    pub centre: [f64; 3],
    pub radii: [f64; 3],
    lobes: [f64; 5],
}

impl Lesion {
    fn random(rng: &mut impl Rng, centre: [f64; 3], radius: f64, lobulation: f64) -> Self {
        let mut e = [0.0f64; 3];
        for v in &mut e {
            *v = rng.gen_range(0.75..1.3);
        }
        let norm = (e[0] * e[1] * e[2]).cbrt();
        Self {
            centre,
            radii: e.map(|v| radius * v / norm),
            lobes: [
                lobulation,
                f64::from(rng.gen_range(2..5u8)),
                f64::from(rng.gen_range(2..5u8)),
                rng.gen_range(0.0..std::f64::consts::TAU),
                rng.gen_range(0.0..std::f64::consts::TAU),
            ],
        }
    }

    /// Normalised radius: ≤ 1 inside the lesion's surface.
    pub fn rho(&self, u: [f64; 3]) -> f64 {
        let d = [0, 1, 2].map(|a| (u[a] - self.centre[a]) / self.radii[a]);
        let r = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        if r > 2.5 || self.lobes[0] == 0.0 {
            return r;
        }
        let theta = d[1].atan2(d[0]);
        let phi = (d[2] / r.max(1e-12)).clamp(-1.0, 1.0).acos();
        let [amp, k1, k2, p1, p2] = self.lobes;
        r / (1.0 + amp * (k1 * theta + p1).sin() * (k2 * phi + p2).sin())
    }
}

/// The latent, prognostic and clinical variables of one patient.
#[derive(Debug, Clone)]
pub(super) struct Patient {
    pub primary: Lesion,
    pub nodes: Vec<Lesion>,
    pub node_suv: Vec<f64>,
    /// Peritumoural PET uptake outside the labels, 0..1 (prognostic).
    pub infiltration: f64,
    /// Normalised radius of a necrotic core, if any (prognostic).
    pub necrosis: Option<f64>,
    pub suv_peak: f64,
    pub brain_suv: f64,
    pub age: f64,
    pub male: bool,
    pub hpv_positive: bool,
    pub tobacco: bool,
    pub log_volume_ml: f64,
    /// Findings outside every label (the `beyond-labels` regime; empty otherwise).
    pub findings: Vec<Finding>,
}

/// A PET-avid finding no label covers (the `beyond-labels` regime).
#[derive(Debug, Clone)]
pub(super) struct Finding {
    pub kind: FindingKind,
    pub lesion: Lesion,
    pub suv_peak: f64,
    pub hu: f64,
}

/// The kinds of unlabelled findings, with their prevalence and hazard ratio (docs/data.md;
/// fixed before any model was run on the regime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum FindingKind {
    /// A small node in level IV/V (low or posterior neck) that was not contoured.
    UnlabelledNode,
    /// A bone metastasis in a cervical vertebral body (lytic, PET-avid).
    BoneLesion,
    /// A synchronous second primary in the larynx / hypopharynx.
    SecondPrimary,
}

impl FindingKind {
    pub const ALL: [Self; 3] = [Self::UnlabelledNode, Self::BoneLesion, Self::SecondPrimary];

    /// Fraction of patients with this finding.
    pub fn prevalence(self) -> f64 {
        match self {
            Self::UnlabelledNode => 0.30,
            Self::BoneLesion => 0.10,
            Self::SecondPrimary => 0.10,
        }
    }

    /// Hazard ratio of having the finding (all else equal).
    pub fn hazard_ratio(self) -> f64 {
        match self {
            Self::UnlabelledNode => 1.8,
            Self::BoneLesion => 3.0,
            Self::SecondPrimary => 2.0,
        }
    }

    /// Its value in `synthetic_findings/<id>.nii.gz`.
    pub fn code(self) -> u8 {
        match self {
            Self::UnlabelledNode => 1,
            Self::BoneLesion => 2,
            Self::SecondPrimary => 3,
        }
    }

    /// Draws where the finding sits (normalised coordinates), its radius (mm at the reference
    /// field of view), peak SUV and CT value.
    fn draw(self, rng: &mut impl Rng) -> ([f64; 3], f64, f64, f64) {
        let side = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
        match self {
            Self::UnlabelledNode => (
                [
                    side * rng.gen_range(0.33..0.45),
                    rng.gen_range(-0.22..-0.05),
                    rng.gen_range(-0.75..-0.2),
                ],
                rng.gen_range(4.0..7.0),
                rng.gen_range(2.5..6.0),
                45.0,
            ),
            Self::BoneLesion => (
                [
                    rng.gen_range(-0.02..0.02),
                    rng.gen_range(-0.34..-0.31),
                    rng.gen_range(-0.7..0.3),
                ],
                rng.gen_range(4.0..6.0),
                rng.gen_range(4.0..10.0),
                250.0,
            ),
            Self::SecondPrimary => (
                [
                    side * rng.gen_range(0.05..0.14),
                    rng.gen_range(0.0..0.2),
                    rng.gen_range(-0.8..-0.45),
                ],
                rng.gen_range(5.0..9.0),
                rng.gen_range(5.0..12.0),
                55.0,
            ),
        }
    }
}

/// Median primary tumour volume (ml) at the reference field of view.
const MEDIAN_GTVP_ML: f64 = 15.0;

impl Patient {
    pub fn random(rng: &mut impl Rng) -> Self {
        let age = Normal::<f64>::new(62.0, 9.0)
            .map_or(62.0, |d| d.sample(rng))
            .clamp(30.0, 90.0);
        let male = rng.gen_bool(0.8);
        let hpv_positive = rng.gen_bool(0.55);
        let tobacco = rng.gen_bool(0.5);
        let volume_ml = LogNormal::new(MEDIAN_GTVP_ML.ln(), 0.7)
            .map_or(MEDIAN_GTVP_ML, |d| d.sample(rng))
            .clamp(2.0, 120.0);
        let radius_mm = (3.0 * volume_ml * 1000.0 / (4.0 * std::f64::consts::PI)).cbrt();
        let side = if rng.gen_bool(0.5) { 1.0 } else { -1.0 };
        let centre = [
            side * rng.gen_range(0.05..0.12),
            rng.gen_range(0.17..0.27),
            rng.gen_range(-0.05..0.25),
        ];
        let lobulation = rng.gen_range(0.05..0.2);
        let primary = Lesion::random(rng, centre, radius_mm / REFERENCE_HALF_FOV_MM, lobulation);
        let p_node = if hpv_positive { 0.45 } else { 0.25 };
        let n_nodes = (0..3).filter(|_| rng.gen_bool(p_node)).count();
        let mut nodes = Vec::with_capacity(n_nodes);
        let mut node_suv = Vec::with_capacity(n_nodes);
        for k in 0..n_nodes {
            let side = if k % 2 == 0 { side } else { -side };
            let r_mm: f64 = rng.gen_range(5.0..12.0);
            let centre = [
                side * rng.gen_range(0.36..0.44),
                rng.gen_range(0.02..0.25),
                rng.gen_range(-0.45..0.0) + 0.12 * k as f64,
            ];
            nodes.push(Lesion::random(
                rng,
                centre,
                r_mm / REFERENCE_HALF_FOV_MM,
                0.05,
            ));
            node_suv.push(rng.gen_range(3.0..9.0));
        }
        let infiltration = rng.gen::<f64>().powf(1.5);
        let necrosis = (volume_ml > 20.0 && rng.gen_bool(0.5)).then(|| rng.gen_range(0.3..0.55));
        let suv_peak = (6.0 + 3.0 * rng.gen::<f64>() + 2.0 * (volume_ml / MEDIAN_GTVP_ML).ln())
            .clamp(3.0, 25.0);
        Self {
            primary,
            nodes,
            node_suv,
            infiltration,
            necrosis,
            suv_peak,
            brain_suv: rng.gen_range(5.0..9.0),
            age,
            male,
            hpv_positive,
            tobacco,
            log_volume_ml: volume_ml.ln(),
            findings: Vec::new(),
        }
    }

    /// Draws the unlabelled findings of the `beyond-labels` regime from `rng` (a stream of its
    /// own, so the labelled anatomy is the `labels-only` patient's). Each kind is present with
    /// its prevalence, placed clear of the primary tumour's halo and of the labelled nodes.
    pub fn add_findings(&mut self, rng: &mut impl Rng) {
        for kind in FindingKind::ALL {
            if !rng.gen_bool(kind.prevalence()) {
                continue;
            }
            for _ in 0..100 {
                let (centre, r_mm, suv_peak, hu) = kind.draw(rng);
                let radius = r_mm / REFERENCE_HALF_FOV_MM;
                let lesion = Lesion::random(rng, centre, radius, 0.05);
                let clear = |other: &Lesion, halo: f64| {
                    let d = (0..3)
                        .map(|a| (centre[a] - other.centre[a]).powi(2))
                        .sum::<f64>()
                        .sqrt();
                    let reach = other.radii.iter().copied().fold(0.0, f64::max) * 1.3 * halo;
                    d > reach + radius * 1.3 + 0.02
                };
                if clear(&self.primary, 1.5)
                    && self.nodes.iter().all(|n| clear(n, 1.0))
                    && self.findings.iter().all(|f| clear(&f.lesion, 1.0))
                {
                    self.findings.push(Finding {
                        kind,
                        lesion,
                        suv_peak,
                        hu,
                    });
                    break;
                }
            }
        }
    }

    /// Whether the patient has a finding of `kind`.
    pub fn has(&self, kind: FindingKind) -> bool {
        self.findings.iter().any(|f| f.kind == kind)
    }

    /// The true log hazard ratio: the documented model of `docs/data.md`, findings included.
    pub fn true_risk(&self) -> f64 {
        self.labelled_risk()
            + self
                .findings
                .iter()
                .map(|f| f.kind.hazard_ratio().ln())
                .sum::<f64>()
    }

    /// The log hazard ratio without the unlabelled findings (the `labels-only` model).
    pub fn labelled_risk(&self) -> f64 {
        0.80 * (self.log_volume_ml - MEDIAN_GTVP_ML.ln()) / 0.7
            + 0.45 * self.nodes.len() as f64
            + 1.40 * (self.infiltration - 0.4)
            - 1.10 * f64::from(u8::from(self.hpv_positive))
            + 0.035 * (self.age - 62.0)
            + 0.50 * f64::from(u8::from(self.necrosis.is_some()))
            + 0.30 * f64::from(u8::from(self.tobacco))
    }

    /// CT (HU), PET activity (SUV, before blur and noise), label and unlabelled finding
    /// ([`FindingKind::code`], 0 for none) at `u`. Labels win over findings.
    pub fn eval(&self, u: [f64; 3]) -> (f64, f64, u8, u8) {
        let [x, y, z] = u;
        let sq = |v: f64| v * v;
        let neck = z < 0.35 && sq(x / 0.62) + sq(y / 0.7) <= 1.0;
        let head = sq(x / 0.75) + sq(y / 0.85) + sq((z - 0.55) / 0.6) <= 1.0 && z >= 0.2;
        if !(neck || head) {
            return (-1000.0, 0.02, 0, 0);
        }
        let (mut hu, mut suv) = (40.0, 0.9);
        let brain = sq(x / 0.6) + sq((y + 0.05) / 0.7) + sq((z - 0.65) / 0.42);
        if brain <= 1.0 {
            (hu, suv) = (35.0, self.brain_suv);
        } else if brain <= 1.3 && z > 0.45 {
            (hu, suv) = (1000.0, 0.5);
        }
        let spine = sq(x) + sq(y + 0.4);
        if z < 0.45 && spine <= sq(0.11) {
            (hu, suv) = if spine <= sq(0.05) {
                (30.0, 0.8)
            } else {
                (700.0, 0.6)
            };
        }
        let jaw = (sq(x) + sq(y - 0.05)).sqrt();
        if (0.1..0.28).contains(&z) && y > 0.05 && (0.42..0.5).contains(&jaw) {
            (hu, suv) = (1200.0, 0.5);
        }
        if z < 0.4 && sq(x) + sq(y - 0.12) <= sq(0.07) {
            (hu, suv) = (-950.0, 0.1);
        }
        let mut label = 0;
        for (node, &peak) in self.nodes.iter().zip(&self.node_suv) {
            let r = node.rho(u);
            if r <= 1.0 {
                (hu, suv, label) = (48.0, peak * (1.0 - 0.3 * r * r), 2);
            }
        }
        let r = self.primary.rho(u);
        if r <= 1.0 {
            label = 1;
            hu = 55.0;
            suv = self.suv_peak * (1.0 - 0.35 * r * r);
            if let Some(core) = self.necrosis {
                if r < core {
                    (hu, suv) = (25.0, 1.6);
                }
            }
        } else if r <= 1.5 {
            suv += self.infiltration * 2.5 * (1.0 - (r - 1.0) / 0.5);
        }
        let mut finding = 0;
        if label == 0 {
            for f in &self.findings {
                let r = f.lesion.rho(u);
                if r <= 1.0 {
                    (hu, suv, finding) = (f.hu, f.suv_peak * (1.0 - 0.3 * r * r), f.kind.code());
                }
            }
        }
        (hu, suv, label, finding)
    }
}
