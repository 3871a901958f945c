//! How each centre's scanners and records differ ([`Scanners`]).

use serde::{Deserialize, Serialize};

/// Whether a synthetic cohort's centres image and record patients alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scanners {
    /// Every centre uses the configuration's grids, resolution and noise, and the same
    /// missing-value rates: centres differ by name only. The default, and the main job's
    /// cohort.
    #[default]
    Uniform,
    /// Centres differ the way real ones do: CT and PET voxel sizes, PET resolution, noise and
    /// calibration, field of view, and which clinical fields are missing and how often. The
    /// k-th centre of the configuration gets profile `k mod 4` of [`ScannerProfile::varied`];
    /// every profile is relative to the configuration's base values, so any size preset works.
    Varied,
}

impl Scanners {
    /// The name used on the command line and in `synthetic_config.json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Uniform => "uniform",
            Self::Varied => "varied",
        }
    }

    /// The profile of the centre with this index (position in the configuration's centres).
    pub fn profile(self, centre: usize) -> ScannerProfile {
        match self {
            Self::Uniform => ScannerProfile::BASE,
            Self::Varied => {
                let profiles = ScannerProfile::varied();
                profiles[centre % profiles.len()]
            }
        }
    }
}

/// One centre's acquisition and record keeping, relative to the configuration's base values.
///
/// The `Varied` profiles stand for four plausible sites, not for any real centre's measured
/// values: a reference site (the base), a site with a recent PET/CT (thin CT slices, thin PET
/// slices, sharper and less noisy PET), an older scanner (coarse PET voxels, broader blur,
/// more noise, a calibration 7 % low, no weight or performance status recorded), and a
/// referral centre with mixed protocols (fine in-plane CT over a longer axial range, coarse
/// PET, a wide PET field of view, smoking and alcohol rarely recorded). Fixed before any model
/// ran on them (docs/data.md).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScannerProfile {
    /// Label for tables (`reference`, `recent`, `older`, `mixed`).
    pub name: &'static str,
    /// CT voxel spacing, × the configuration's, per axis.
    pub ct_spacing: [f64; 3],
    /// CT axial extent, × the field of view (≥ 1: the anatomy is the same; more slices above
    /// and below it).
    pub ct_axial_extent: f64,
    /// CT noise, HU (standard deviation).
    pub ct_noise_hu: f64,
    /// PET voxel spacing, × the configuration's, per axis.
    pub pet_spacing: [f64; 3],
    /// PET resolution (FWHM), × the configuration's.
    pub pet_fwhm: f64,
    /// PET field of view, × the CT's.
    pub pet_field_of_view: f64,
    /// PET multiplicative noise (standard deviation, relative).
    pub pet_noise: f64,
    /// PET activity calibration (a cross-calibration error: 1 = exact).
    pub pet_calibration: f64,
    /// Probability that each clinical field is recorded: weight, tobacco, alcohol, performance
    /// status, HPV status, surgery.
    pub recorded: Recorded,
}

/// Probability that each optional clinical field is recorded (its cell not empty).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Recorded {
    /// Weight.
    pub weight: f64,
    /// Tobacco.
    pub tobacco: f64,
    /// Alcohol.
    pub alcohol: f64,
    /// Performance status.
    pub performance: f64,
    /// HPV status.
    pub hpv: f64,
    /// Surgery.
    pub surgery: f64,
}

impl ScannerProfile {
    /// The configuration's own values: what every centre of a `Uniform` cohort gets.
    pub const BASE: Self = Self {
        name: "reference",
        ct_spacing: [1.0; 3],
        ct_axial_extent: 1.0,
        ct_noise_hu: 12.0,
        pet_spacing: [1.0; 3],
        pet_fwhm: 1.0,
        pet_field_of_view: 1.2,
        pet_noise: 0.08,
        pet_calibration: 1.0,
        recorded: Recorded {
            weight: 0.85,
            tobacco: 0.5,
            alcohol: 0.4,
            performance: 0.7,
            hpv: 0.7,
            surgery: 0.8,
        },
    };

    /// The four profiles of a `Varied` cohort (see the type's docs; docs/data.md has the
    /// table in mm at each preset).
    pub fn varied() -> [Self; 4] {
        let base = Self::BASE;
        [
            base,
            Self {
                name: "recent",
                ct_spacing: [0.8, 0.8, 0.67],
                ct_noise_hu: 16.0,
                pet_spacing: [1.0, 1.0, 0.5],
                pet_fwhm: 0.8,
                pet_field_of_view: 1.3,
                pet_noise: 0.06,
                pet_calibration: 1.04,
                recorded: Recorded {
                    hpv: 0.4,
                    ..base.recorded
                },
                ..base
            },
            Self {
                name: "older",
                ct_spacing: [1.2, 1.2, 1.1],
                ct_noise_hu: 10.0,
                pet_spacing: [1.37, 1.37, 0.82],
                pet_fwhm: 1.25,
                pet_field_of_view: 1.1,
                pet_noise: 0.12,
                pet_calibration: 0.93,
                recorded: Recorded {
                    weight: 0.0,
                    performance: 0.0,
                    ..base.recorded
                },
                ..base
            },
            Self {
                name: "mixed",
                ct_spacing: [0.65, 0.65, 0.83],
                ct_axial_extent: 1.1,
                ct_noise_hu: 15.0,
                pet_spacing: [1.37, 1.37, 0.82],
                pet_fwhm: 1.15,
                pet_field_of_view: 1.5,
                pet_noise: 0.10,
                recorded: Recorded {
                    tobacco: 0.2,
                    alcohol: 0.1,
                    ..base.recorded
                },
                ..base
            },
        ]
    }
}
