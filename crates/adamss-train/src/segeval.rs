//! Scoring predicted masks against a cohort's labels, as the HECKTOR challenge scores its
//! segmentation task: per patient and structure (GTVp = 1, GTVn = 2) the overlap counts,
//! Dice, HD95 and average surface distance on the CT grid (adamss-preprocess's segmentation
//! metrics: SimpleITK's overlap measures, MONAI's surface distances), and over the cohort the
//! aggregated Dice `2 Σ|P ∩ G| / Σ(|P| + |G|)` (HECKTOR 2022's ranking metric, robust to
//! patients without nodes), the mean Dice and the median HD95.
//!
//! `adamss evaluate --masks DIR` runs [`evaluate_masks`] on the masks `adamss predict` writes
//! (`<DIR>/<PatientID>.nii.gz`), or on any others named so.

use std::path::{Path, PathBuf};

use adamss_io::{Cohort, Volume};
use adamss_preprocess::{label_overlap, surface_distances, LabelOverlap};

use crate::csv_file::write_csv;
use crate::{Error, Result};

/// The label values scored: GTVp and GTVn.
pub const STRUCTURES: [(u8, &str); 2] = [(1, "gtvp"), (2, "gtvn")];

/// One structure of one mask against the labels.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StructureScore {
    /// Voxel counts (prediction, labels, both).
    pub overlap: LabelOverlap,
    /// MONAI's 95th-percentile Hausdorff distance, mm: `None` where neither has the
    /// structure, `+∞` where only one has it.
    pub hd95: Option<f64>,
    /// MONAI's symmetric average surface distance, mm (`None` / `+∞` as `hd95`).
    pub asd: Option<f64>,
}

impl StructureScore {
    /// Dice; `None` where neither has the structure.
    pub fn dice(&self) -> Option<f64> {
        self.overlap.dice()
    }
}

/// GTVp and GTVn of `mask` against `labels` (one grid, else an error naming the difference).
pub fn score_mask(mask: &Volume<u8>, labels: &Volume<u8>) -> Result<[StructureScore; 2]> {
    let score = |value: u8| -> Result<StructureScore> {
        let surface = surface_distances(mask, labels, value)?;
        Ok(StructureScore {
            overlap: label_overlap(mask, labels, value)?,
            hd95: surface.hausdorff(Some(95.0))?,
            asd: surface.average_surface_distance(),
        })
    };
    Ok([score(STRUCTURES[0].0)?, score(STRUCTURES[1].0)?])
}

/// One patient's scores.
#[derive(Debug, Clone, PartialEq)]
pub struct MaskScores {
    /// Patient id.
    pub id: String,
    /// The mask file.
    pub mask: PathBuf,
    /// GTVp, GTVn.
    pub structures: [StructureScore; 2],
}

/// The scores of a folder of masks ([`evaluate_masks`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaskEvaluation {
    /// Scored patients, in the cohort's order.
    pub scores: Vec<MaskScores>,
    /// Patients with labels whose mask is missing or cannot be scored (not on the labels'
    /// grid, unreadable), with the reason.
    pub failures: Vec<(String, String)>,
}

impl MaskEvaluation {
    /// HECKTOR's aggregated Dice of `structure` (0 GTVp, 1 GTVn) over the scored patients;
    /// `None` where no patient has it in the mask or the labels.
    pub fn aggregate_dice(&self, structure: usize) -> Option<f64> {
        let (mut inter, mut total) = (0u64, 0u64);
        for s in &self.scores {
            let o = s.structures[structure].overlap;
            inter += o.intersection;
            total += o.prediction + o.reference;
        }
        (total > 0).then(|| 2.0 * inter as f64 / total as f64)
    }

    /// Mean Dice of `structure` over the patients with it in the mask or the labels, and how
    /// many they are.
    pub fn mean_dice(&self, structure: usize) -> Option<(f64, usize)> {
        let d: Vec<f64> = (self.scores.iter())
            .filter_map(|s| s.structures[structure].dice())
            .collect();
        (!d.is_empty()).then(|| (d.iter().sum::<f64>() / d.len() as f64, d.len()))
    }

    /// Median HD95 (mm) of `structure` over the patients with it in the mask or the labels
    /// (`+∞` for a patient with it in only one, so a median over many such is `+∞`), and how
    /// many they are.
    pub fn median_hd95(&self, structure: usize) -> Option<(f64, usize)> {
        let mut v: Vec<f64> = (self.scores.iter())
            .filter_map(|s| s.structures[structure].hd95)
            .collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let m = if n % 2 == 1 {
            v[n / 2]
        } else {
            0.5 * (v[n / 2 - 1] + v[n / 2])
        };
        Some((m, n))
    }

    /// One row per patient: `PatientID`, `mask`, then per structure `voxels_pred_*`,
    /// `voxels_label_*`, `voxels_both_*`, `dice_*`, `hd95_*`, `asd_*` (mm; `inf` where only one
    /// has the structure, empty where neither). Written atomically.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let mut header = vec!["PatientID".to_string(), "mask".to_string()];
        for (_, name) in STRUCTURES {
            for col in [
                "voxels_pred",
                "voxels_label",
                "voxels_both",
                "dice",
                "hd95",
                "asd",
            ] {
                header.push(format!("{col}_{name}"));
            }
        }
        let f = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        let rows = self.scores.iter().map(|s| {
            let mut row = vec![s.id.clone(), s.mask.display().to_string()];
            for st in &s.structures {
                row.extend([
                    st.overlap.prediction.to_string(),
                    st.overlap.reference.to_string(),
                    st.overlap.intersection.to_string(),
                    f(st.dice()),
                    f(st.hd95),
                    f(st.asd),
                ]);
            }
            row
        });
        let header: Vec<&str> = header.iter().map(String::as_str).collect();
        write_csv(path, &header, rows)
    }
}

/// Scores `<dir>/<PatientID>.nii.gz` against the labels of every patient of `cohort` that has
/// them; a patient whose mask is missing or cannot be scored is listed in
/// [`MaskEvaluation::failures`] and the others are scored. [`Error::Config`] when the cohort
/// has no labelled patient.
pub fn evaluate_masks(dir: &Path, cohort: &Cohort) -> Result<MaskEvaluation> {
    let labelled: Vec<_> = (cohort.records().iter())
        .filter_map(|r| r.mask.as_ref().map(|m| (r, m)))
        .collect();
    if labelled.is_empty() {
        return Err(Error::Config(
            "the cohort has no patient with labels: nothing to score the masks against".into(),
        ));
    }
    let mut out = MaskEvaluation::default();
    for (record, label_path) in labelled {
        let mask = dir.join(format!("{}.nii.gz", record.id));
        let scored = (|| -> Result<[StructureScore; 2]> {
            if !mask.is_file() {
                return Err(Error::file(&mask, "no such mask"));
            }
            let m = Volume::<u8>::read(&mask)?;
            let labels = Volume::<u8>::read(label_path)?;
            score_mask(&m, &labels).map_err(|e| Error::file(&mask, e.to_string()))
        })();
        match scored {
            Ok(structures) => out.scores.push(MaskScores {
                id: record.id.clone(),
                mask,
                structures,
            }),
            Err(e) => out.failures.push((record.id.clone(), e.to_string())),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(p: u64, r: u64, both: u64, hd95: Option<f64>) -> StructureScore {
        StructureScore {
            overlap: LabelOverlap {
                prediction: p,
                reference: r,
                intersection: both,
                voxels: 1000,
            },
            hd95,
            asd: hd95,
        }
    }

    #[test]
    fn aggregated_dice_pools_voxels_and_the_median_takes_infinity() {
        let none = score(0, 0, 0, None);
        let eval = MaskEvaluation {
            scores: vec![
                // A large tumour found well, a small one missed, a patient without nodes.
                MaskScores {
                    id: "a".into(),
                    mask: "a.nii.gz".into(),
                    structures: [score(90, 100, 80, Some(2.0)), none],
                },
                MaskScores {
                    id: "b".into(),
                    mask: "b.nii.gz".into(),
                    structures: [score(0, 10, 0, Some(f64::INFINITY)), none],
                },
                MaskScores {
                    id: "c".into(),
                    mask: "c.nii.gz".into(),
                    structures: [score(12, 10, 8, Some(3.0)), none],
                },
            ],
            failures: vec![],
        };
        let agg = eval.aggregate_dice(0).unwrap();
        assert!((agg - 2.0 * 88.0 / 222.0).abs() < 1e-15);
        let (mean, n) = eval.mean_dice(0).unwrap();
        assert_eq!(n, 3);
        assert!((mean - (160.0 / 190.0 + 0.0 + 16.0 / 22.0) / 3.0).abs() < 1e-15);
        assert_eq!(eval.median_hd95(0), Some((3.0, 3)));
        assert_eq!(eval.aggregate_dice(1), None);
        assert_eq!(eval.median_hd95(1), None);
    }
}
