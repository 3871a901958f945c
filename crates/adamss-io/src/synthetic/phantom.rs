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
        }
    }

    /// The true log hazard ratio: the documented model of `docs/data.md`.
    pub fn true_risk(&self) -> f64 {
        0.80 * (self.log_volume_ml - MEDIAN_GTVP_ML.ln()) / 0.7
            + 0.45 * self.nodes.len() as f64
            + 1.40 * (self.infiltration - 0.4)
            - 1.10 * f64::from(u8::from(self.hpv_positive))
            + 0.035 * (self.age - 62.0)
            + 0.50 * f64::from(u8::from(self.necrosis.is_some()))
            + 0.30 * f64::from(u8::from(self.tobacco))
    }

    /// CT (HU), PET activity (SUV, before blur and noise) and label at `u`.
    pub fn eval(&self, u: [f64; 3]) -> (f64, f64, u8) {
        let [x, y, z] = u;
        let sq = |v: f64| v * v;
        let neck = z < 0.35 && sq(x / 0.62) + sq(y / 0.7) <= 1.0;
        let head = sq(x / 0.75) + sq(y / 0.85) + sq((z - 0.55) / 0.6) <= 1.0 && z >= 0.2;
        if !(neck || head) {
            return (-1000.0, 0.02, 0);
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
        (hu, suv, label)
    }
}
