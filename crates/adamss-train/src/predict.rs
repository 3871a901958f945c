//! Inference on whole volumes: risks, masks and overlap counts.

use adamss_model::tch::{self, Kind, Tensor};
use adamss_model::{loss, AdaMss, SurvivalOutput};
use adamss_survival::{harrell, Surv, DEFAULT_TIED_TOL};
use ndarray::{Array3, Zip};

use crate::data::{batch_of, extras_tensor, sample_of, tensor_to_arrays, PreparedCase};
use crate::error::Result;
use crate::looks::{on_crop, regions_of, Looks, RegionSums};

/// One patient's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct CasePrediction {
    /// Index of the patient in the cases.
    pub index: usize,
    /// Risk score (higher = worse): the Cox log-risk, or minus the area under the
    /// discrete-time survival curve.
    pub risk: f64,
    /// Predicted labels on the crop grid ([`labels_from_probs`]: 1 = GTVp, 2 = GTVn), when
    /// asked for and the network segments.
    pub mask: Option<Array3<u8>>,
    /// The GTVp channel above 0.5 (1 inside), what the radiomics read ([`gtvp_from_probs`]),
    /// with `mask`.
    pub gtvp: Option<Array3<u8>>,
    /// Per structure (GTVp, GTVn): `[|P ∩ G|, |P|, |G|]` voxels, P from the label map of
    /// [`labels_from_probs`] (the mask that is written out).
    pub overlap: Option<[[u64; 3]; 2]>,
    /// Where the network looked ([`crate::looks`]), when asked for.
    pub looks: Option<Looks>,
}

/// What [`predict`] keeps besides the risks and the overlap counts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Keep {
    /// The label map and the GTVp channel ([`CasePrediction::mask`], [`CasePrediction::gtvp`]).
    pub masks: bool,
    /// Where the network looked ([`CasePrediction::looks`]), given the CT window the crops
    /// were made with (the body's threshold is in HU).
    pub looks: Option<[f32; 2]>,
}

impl Keep {
    /// Risks and overlap counts only.
    pub const RISKS: Keep = Keep {
        masks: false,
        looks: None,
    };
    /// With the masks.
    pub const MASKS: Keep = Keep {
        masks: true,
        looks: None,
    };
}

/// Runs the network in evaluation mode over `idx`, `batch` patients at a time.
pub fn predict(
    net: &AdaMss,
    cases: &[PreparedCase],
    idx: &[usize],
    extras: &[Vec<f64>],
    batch: usize,
    keep: Keep,
) -> Result<Vec<CasePrediction>> {
    let device = net.device();
    let mut out = Vec::with_capacity(idx.len());
    for chunk in idx.chunks(batch.max(1)) {
        let samples = chunk
            .iter()
            .map(|&i| sample_of(&cases[i], None, 0))
            .collect::<Result<Vec<_>>>()?;
        let b = batch_of(&samples, device)?;
        let extra = extras_tensor(extras, chunk, device)?;
        let o = tch::no_grad(|| net.forward_t(&b.pet, &b.ct, extra.as_ref(), false))?;
        let risk = risks_of(net, &o.survival)?;
        for (k, &i) in chunk.iter().enumerate() {
            let (mut mask, mut gtvp, mut overlap) = (None, None, None);
            if let Some(logits) = &o.seg_logits {
                let probs = tensor_to_arrays(&logits.get(k as i64).sigmoid())?;
                let truth = &samples[k].labels;
                // Scored on the label map that is written out (one structure per voxel), so
                // the crop's DSC and the mask's Dice on the CT grid measure the same thing.
                let labels = labels_from_probs(&probs[0], &probs[1]);
                let mut counts = [[0u64; 3]; 2];
                for c in 0..2 {
                    let value = c as u8 + 1;
                    Zip::from(&labels).and(&truth[c]).for_each(|&l, &g| {
                        let (p, g) = (l == value, g > 0.5);
                        counts[c][0] += u64::from(p && g);
                        counts[c][1] += u64::from(p);
                        counts[c][2] += u64::from(g);
                    });
                }
                overlap = Some(counts);
                if keep.masks {
                    mask = Some(labels);
                    gtvp = Some(gtvp_from_probs(&probs[0]));
                }
            }
            let looks = match keep.looks {
                Some(window) => Some(looks_of(&cases[i], window, &o, k as i64)?),
                None => None,
            };
            out.push(CasePrediction {
                index: i,
                risk: risk[k],
                mask,
                gtvp,
                overlap,
                looks,
            });
        }
    }
    Ok(out)
}

/// Patient `k` of a forward pass's attention and gate sums over the regions of `case`.
fn looks_of(
    case: &PreparedCase,
    ct_window: [f32; 2],
    o: &adamss_model::AdaMssOutput,
    k: i64,
) -> Result<Looks> {
    let regions = regions_of(case, ct_window)?;
    let shape = [regions.shape()[0], regions.shape()[1], regions.shape()[2]];
    let sums = |maps: &[Tensor]| -> Result<Option<RegionSums>> {
        Ok(on_crop(maps, k, shape)?.map(|m| RegionSums::of(&m, &regions)))
    };
    Ok(Looks {
        attention: sums(&o.attention)?,
        gate: sums(&o.gates)?,
    })
}

/// Risk scores (higher = worse) from the survival head's output `[N, units]`: the Cox
/// log-risk, or minus the area under the discrete-time survival curve.
pub fn risks_of(net: &AdaMss, survival: &Tensor) -> Result<Vec<f64>> {
    let risk = match &net.config().survival.output {
        SurvivalOutput::Cox => survival.f_view([-1])?,
        SurvivalOutput::DiscreteTime { breaks } => loss::discrete_time_risk(survival, breaks)?,
    };
    Ok(Vec::<f64>::try_from(
        risk.f_to_kind(Kind::Double)?
            .f_to_device(tch::Device::Cpu)?,
    )?)
}

/// The Stage-I GTVp the radiomics read: the GTVp channel above 0.5 (1 inside, 0 outside),
/// whatever the GTVn channel says there — the network's own multi-label GTVp, as the
/// radiomics were extracted before the written label map became exclusive.
pub fn gtvp_from_probs(gtvp: &Array3<f32>) -> Array3<u8> {
    gtvp.mapv(|p| u8::from(p > 0.5))
}

/// One label map from the GTVp and GTVn probabilities at threshold 0.5 (1 = GTVp, 2 = GTVn;
/// where both are predicted, the more probable one, GTVp on a tie). The two sigmoid channels
/// may both fire on a node; letting GTVp always win there erased the predicted nodes from the
/// written masks (issue #24).
pub fn labels_from_probs(gtvp: &Array3<f32>, gtvn: &Array3<f32>) -> Array3<u8> {
    let mut m = Array3::<u8>::zeros(gtvp.raw_dim());
    Zip::from(&mut m).and(gtvp).and(gtvn).for_each(|m, &p, &n| {
        *m = if p > 0.5 && p >= n {
            1
        } else if n > 0.5 {
            2
        } else {
            0
        }
    });
    m
}

/// Aggregate Dice over the predictions for structure `c` (0 = GTVp, 1 = GTVn):
/// `2Σ|P∩G| / Σ(|P| + |G|)` (spec §6). `None` without segmentation or without any voxel.
pub fn aggregate_dsc(preds: &[CasePrediction], c: usize) -> Option<f64> {
    let (mut inter, mut total) = (0u64, 0u64);
    for p in preds {
        let o = p.overlap?;
        inter += o[c][0];
        total += o[c][1] + o[c][2];
    }
    (total > 0).then(|| 2.0 * inter as f64 / total as f64)
}

/// Harrell's C-index of the predicted risks over the patients `idx` (`preds` in the same
/// order). `None` when no pair is comparable.
pub fn risks_c_index(
    cases: &[PreparedCase],
    idx: &[usize],
    preds: &[CasePrediction],
) -> Option<f64> {
    let y: Vec<Surv> = idx.iter().map(|&i| cases[i].survival).collect();
    let risk: Vec<f64> = preds.iter().map(|p| p.risk).collect();
    let c = harrell(&y, &risk, DEFAULT_TIED_TOL).ok()?;
    (c.comparable() > 0).then_some(c.c_index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_map_gives_each_voxel_the_more_probable_structure() {
        let p = Array3::from_shape_vec((1, 1, 5), vec![0.9, 0.6, 0.7, 0.2, 0.6]).unwrap();
        let n = Array3::from_shape_vec((1, 1, 5), vec![0.1, 0.8, 0.7, 0.9, 0.4]).unwrap();
        let m = labels_from_probs(&p, &n);
        assert_eq!(m.iter().copied().collect::<Vec<_>>(), [1, 2, 1, 2, 1]);
        let none = Array3::from_elem((1, 1, 1), 0.5f32);
        assert_eq!(labels_from_probs(&none, &none)[[0, 0, 0]], 0);
    }
}
