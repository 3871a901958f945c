//! Prediction for new patients from a finished run: risk scores and masks on the CT grid.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use adamss_io::Cohort;
use adamss_model::tch::{self, Tensor};
use adamss_model::{checkpoint, AdaMssOutput, Transfer};
use adamss_preprocess::{preprocess_case, CropCentre, Preprocessed};
use adamss_radiomics::FeatureSelector;
use ndarray::Array3;
use rayon::prelude::*;

use crate::clinical::{ClinicalEncoder, CLINICAL_PREFIX};
use crate::config::{ExperimentConfig, RadiomicsHead, RESOLVED_CONFIG_NAME};
use crate::data::{array_to_tensor, radiomics_of, tensor_to_arrays};
use crate::device::open_device;
use crate::error::{Error, Result};
use crate::experiment::{
    CvOutcome, Method, CLINICAL_ENCODER_NAME, OFFSET_SELECTOR_NAME, SELECTOR_NAME,
};
use crate::export::{export_mask_on, ExportedMask};
use crate::predict::{labels_from_probs, risks_of};
use crate::stage::{extras_tensor, Network};

/// One slice of a cohort: patients at positions `index, index + count, …` (for batch-scheduler
/// array jobs; the slices of `0/n … n−1/n` cover the cohort exactly once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This slice (0-based).
    pub index: usize,
    /// Number of slices.
    pub count: usize,
}

impl Shard {
    /// Parses `i/n` with `0 ≤ i < n`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::Config(format!("shard {text:?}: expected i/n with 0 ≤ i < n"));
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }

    /// Whether position `i` belongs to this slice.
    pub fn contains(&self, i: usize) -> bool {
        i % self.count == self.index
    }
}

/// What [`predict_cohort`] runs: which fold's networks, which AdaMSS network, which patients,
/// and whether to write the fusion-gate and attention maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PredictOptions {
    /// The fold whose networks predict.
    pub fold: usize,
    /// [`Method::Ssl`] or [`Method::SslRadiomics`].
    pub method: Method,
    /// Only this slice of the cohort.
    pub shard: Option<Shard>,
    /// Also write the maps (see [`write_maps`]).
    pub maps: bool,
}

impl Default for PredictOptions {
    /// Fold 0, SSL, every patient, no maps.
    fn default() -> Self {
        Self {
            fold: 0,
            method: Method::Ssl,
            shard: None,
            maps: false,
        }
    }
}

/// One new patient's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPrediction {
    /// Patient id.
    pub id: String,
    /// The AdaMSS network's risk score (higher = worse).
    pub risk: f64,
    /// Above the fold's training median risk.
    pub high_risk: Option<bool>,
    /// The Stage-I mask written on the CT grid.
    pub mask: ExportedMask,
}

/// Predicts every patient of `cohort` (or one shard of it) with one fold of the finished run
/// in `run_dir` (see [`PredictOptions`]): the Stage-I network's GTVp/GTVn masks, written on each
/// patient's CT grid under `out/masks`, and the risk of the AdaMSS network — [`Method::Ssl`], or
/// [`Method::SslRadiomics`], whose head also gets the fold's LASSO-selected radiomics,
/// extracted here from the Stage-I mask exactly as in training — with the fold's clinical
/// encoding, written to `out/risks.csv` (with `high_risk` at the fold's training median).
/// Patients need images only; labels, when present, give the Dice of the written masks. With
/// `maps`, the AdaMSS network's fusion-gate weights and attention maps are written too (see
/// [`write_maps`]). `progress(done, total)` after each patient's preprocessing.
///
/// Patients go through in chunks of a few (see the body), so memory does not grow with the
/// cohort. Every file is written atomically and `risks.csv` last: a patient that fails (an
/// unreadable image, say) stops the prediction with its error, leaving the masks of the
/// chunks before it but no risks file.
pub fn predict_cohort(
    run_dir: &Path,
    cohort: &Cohort,
    options: &PredictOptions,
    out: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<NewPrediction>> {
    let PredictOptions {
        fold,
        method,
        shard,
        maps,
    } = *options;
    if !matches!(method, Method::Ssl | Method::SslRadiomics) {
        return Err(Error::Config(format!(
            "predict runs the AdaMSS networks (ssl, ssl-radiomics), not {}",
            method.key()
        )));
    }
    let config = ExperimentConfig::from_toml_file(&run_dir.join(RESOLVED_CONFIG_NAME))?;
    let fold_dir = run_dir.join(format!("fold-{fold}"));
    let need = |p: PathBuf| -> Result<PathBuf> {
        if p.is_file() {
            Ok(p)
        } else {
            Err(Error::file(
                &p,
                format!(
                    "missing: train this fold with the {} method first (adamss train)",
                    method.key()
                ),
            ))
        }
    };
    let stage1 = need(fold_dir.join("stage1").join("best.safetensors"))?;
    let method_dir = fold_dir.join(method.key());
    let weights = need(method_dir.join("survival").join("best.safetensors"))?;
    let read_json = |path: PathBuf| -> Result<String> {
        let path = need(path)?;
        std::fs::read_to_string(&path).map_err(|e| Error::file(&path, e))
    };
    let enc_path = fold_dir.join(CLINICAL_ENCODER_NAME);
    let enc: ClinicalEncoder = serde_json::from_str(&read_json(enc_path.clone())?)
        .map_err(|e| Error::file(&enc_path, e))?;
    let selector = |name: &str| -> Result<FeatureSelector> {
        let path = method_dir.join(name);
        serde_json::from_str(&read_json(path.clone())?).map_err(|e| Error::file(&path, e))
    };
    // The head's radiomics (and, with `radiomics.head = "offset"`, the fixed LASSO offset).
    let (selector, offset_selector) = if method == Method::SslRadiomics {
        let offset = (config.radiomics.head == RadiomicsHead::Offset)
            .then(|| selector(OFFSET_SELECTOR_NAME))
            .transpose()?;
        (Some(selector(SELECTOR_NAME)?), offset)
    } else {
        (None, None)
    };
    let median = std::fs::read_to_string(run_dir.join("outcome.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<CvOutcome>(&t).ok())
        .and_then(|o| {
            o.results
                .into_iter()
                .find(|r| r.method == method && r.fold == fold)
                .map(|r| r.train_median_risk)
        });
    let device = open_device(&config.runtime)?;

    let records: Vec<_> = cohort
        .records()
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| s.contains(*i)))
        .map(|(_, r)| r)
        .collect();
    let mut base = config.model.clone();
    base.survival.extra_features = 0;
    let mut seg_net = Network::new(&base, device, 0)?;
    checkpoint::load(&mut seg_net.vs, &stage1, &Transfer::All)?;
    // The survival network is built at the first chunk, once the width of the head's extra
    // inputs (selected radiomics + clinical features) is known.
    let mut surv_net: Option<Network> = None;

    // Patients stream through in chunks (preprocessed in parallel, then both networks), so
    // memory holds one chunk's volumes, not the cohort's. A chunk is a whole number of network
    // batches, so the batches are the same as in one pass over the cohort.
    let batch = config.runtime.predict_batch.max(1);
    let chunk_len = rayon::current_num_threads().div_ceil(batch).max(1) * batch;
    let done = AtomicUsize::new(0);
    let clinical_names = enc.feature_names();
    let mut out_rows = Vec::with_capacity(records.len());
    for chunk_records in records.chunks(chunk_len) {
        let pre: Vec<Preprocessed> = chunk_records
            .par_iter()
            .map(|r| {
                let case = r.load(cohort.options())?;
                let p = preprocess_case(&case, &config.preprocess, CropCentre::Auto)
                    .map_err(|e| Error::Cohort(format!("patient {}: {e}", r.id)))?;
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, records.len());
                Ok(p)
            })
            .collect::<Result<_>>()?;
        let idx: Vec<usize> = (0..pre.len()).collect();
        let stack =
            |chunk: &[usize], get: &dyn Fn(&Preprocessed) -> &Array3<f32>| -> Result<Tensor> {
                let parts: Vec<Tensor> = chunk
                    .iter()
                    .map(|&i| array_to_tensor(get(&pre[i])).unsqueeze(0))
                    .collect();
                Ok(Tensor::f_stack(&parts, 0)?.f_to_device(device)?)
            };
        let inputs: Vec<(Tensor, Tensor)> = idx
            .chunks(batch)
            .map(|c| Ok((stack(c, &|p| p.pet.data())?, stack(c, &|p| p.ct.data())?)))
            .collect::<Result<_>>()?;
        // The Stage-I masks on the crop grid.
        let mut masks = Vec::with_capacity(pre.len());
        for (chunk, (pet, ct)) in idx.chunks(batch).zip(&inputs) {
            let seg = tch::no_grad(|| seg_net.net.forward_t(pet, ct, None, false))?;
            let logits = seg.seg_logits.ok_or_else(|| {
                Error::Config("the Stage-I network has no segmentation head".into())
            })?;
            for k in 0..chunk.len() {
                let probs = tensor_to_arrays(&logits.get(k as i64).sigmoid())?;
                masks.push(labels_from_probs(&probs[0], &probs[1]));
            }
        }

        // What the survival head is given besides the images, as in training.
        let clinical: Vec<Vec<f64>> = chunk_records
            .iter()
            .map(|r| enc.transform(&r.clinical))
            .collect();
        let (extras, offsets) = match &selector {
            None => (clinical, Vec::new()),
            Some(sel) => {
                let window = config.preprocess.ct_window;
                let extraction = config.radiomics.extraction();
                let radiomics: Vec<Option<Vec<(String, f64)>>> = pre
                    .par_iter()
                    .zip(&masks)
                    .map(|(p, m)| radiomics_of(p, m, window, &extraction))
                    .collect();
                let mut extras = Vec::with_capacity(pre.len());
                let mut offsets = Vec::new();
                for (features, clin) in radiomics.iter().zip(&clinical) {
                    let (mut names, mut values): (Vec<String>, Vec<f64>) = match features {
                        Some(f) => f.iter().cloned().unzip(),
                        // An unusable mask: every radiomics value missing, as in training.
                        None => sel
                            .selected
                            .iter()
                            .chain(offset_selector.iter().flat_map(|j| &j.selected))
                            .filter(|n| !n.starts_with(CLINICAL_PREFIX))
                            .map(|n| (n.clone(), f64::NAN))
                            .unzip(),
                    };
                    let z = sel.transform_imputed(&names, &values)?;
                    if let Some(joint) = &offset_selector {
                        names.extend(clinical_names.iter().cloned());
                        values.extend_from_slice(clin);
                        offsets.push(
                            joint.linear_predictor(&joint.transform_imputed(&names, &values)?),
                        );
                    }
                    extras.push(z.into_iter().chain(clin.iter().copied()).collect());
                }
                (extras, offsets)
            }
        };
        let surv_net = match &mut surv_net {
            Some(n) => n,
            None => {
                let mut surv_model = config.model.clone();
                surv_model.survival.extra_features = extras.first().map_or(0, Vec::len) as i64;
                let mut n = Network::new(&surv_model, device, 0)?;
                checkpoint::load(&mut n.vs, &weights, &Transfer::All)?;
                surv_net.insert(n)
            }
        };
        for (chunk, (pet, ct)) in idx.chunks(batch).zip(&inputs) {
            let extra = extras_tensor(&extras, chunk, device)?;
            let surv = tch::no_grad(|| surv_net.net.forward_t(pet, ct, extra.as_ref(), false))?;
            let risk = risks_of(&surv_net.net, &surv.survival)?;
            for (k, &i) in chunk.iter().enumerate() {
                if maps {
                    write_maps(&surv, k, &pre[i], &out.join("maps").join(&pre[i].id))?;
                }
                let risk = risk[k] + offsets.get(i).copied().unwrap_or(0.0);
                let mask = export_mask_on(
                    &pre[i].id,
                    pre[i].ct.geometry(),
                    chunk_records[i],
                    &masks[i],
                    &out.join("masks"),
                )?;
                out_rows.push(NewPrediction {
                    id: pre[i].id.clone(),
                    risk,
                    high_risk: median.map(|m| risk > m),
                    mask,
                });
            }
        }
    }
    let mut csv = String::from("PatientID,risk,high_risk,mask,dice_gtvp,dice_gtvn\n");
    let f = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
    for p in &out_rows {
        let _ = writeln!(
            csv,
            "{},{:.9},{},{},{},{}",
            p.id,
            p.risk,
            p.high_risk
                .map_or(String::new(), |h| u8::from(h).to_string()),
            p.mask.path.display(),
            f(p.mask.dice[0]),
            f(p.mask.dice[1])
        );
    }
    std::fs::create_dir_all(out).map_err(|e| Error::file(out, e))?;
    adamss_io::write_atomic(out.join(risks_file_name(shard)), csv.as_bytes())?;
    Ok(out_rows)
}

/// Writes sample `k`'s fusion-gate weights and attention maps from one forward pass of the
/// AdaMSS network into `dir` as NIfTI on the case's network grid (the preprocessed crop, in the
/// patient's physical space, so viewers overlay them on the CT): `gate-<i>.nii.gz` for encoder
/// level i = 1…5, the gate weight `w` averaged over channels (near 1: the fused branch is used,
/// near 0: the separate PET/CT path), and `attention-<l>.nii.gz` for decoder level l = 6…9,
/// the attention gate's α on its skip connection. Coarser levels are upsampled trilinearly.
/// Networks without gated fusion or attention gates write only what they have.
pub fn write_maps(
    output: &AdaMssOutput,
    k: usize,
    case: &Preprocessed,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    let geometry = *case.ct.geometry();
    let size: Vec<i64> = case.ct.shape().iter().map(|&v| v as i64).collect();
    let named = output
        .gates
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("gate-{}", i + 1), t))
        .chain(
            output
                .attention
                .iter()
                .enumerate()
                .map(|(j, t)| (format!("attention-{}", 6 + j), t)),
        );
    std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
    let mut written = Vec::new();
    for (name, t) in named {
        let map = t
            .f_get(k as i64)?
            .f_to_kind(tch::Kind::Float)?
            .f_mean_dim(0, true, tch::Kind::Float)?
            .f_unsqueeze(0)?
            .f_upsample_trilinear3d(&size, false, None, None, None)?
            .f_squeeze()?;
        let array = tensor_to_arrays(&map)?.swap_remove(0);
        let path = dir.join(format!("{name}.nii.gz"));
        adamss_io::Volume::new(array, geometry)?.write(&path)?;
        written.push(path);
    }
    Ok(written)
}

/// `risks.csv`, or `risks-<i>-of-<n>.csv` for a shard (so array jobs can share a folder).
pub fn risks_file_name(shard: Option<Shard>) -> String {
    match shard {
        None => "risks.csv".into(),
        Some(s) => format!("risks-{}-of-{}.csv", s.index, s.count),
    }
}

/// Concatenates CSV files with identical headers (e.g. the shards of a prediction) into `out`,
/// atomically. A header that differs is an error naming the file.
pub fn merge_csv(parts: &[PathBuf], out: &Path) -> Result<usize> {
    let mut header: Option<String> = None;
    let mut body = String::new();
    let mut rows = 0;
    for p in parts {
        let text = std::fs::read_to_string(p).map_err(|e| Error::file(p, e))?;
        let mut lines = text.lines();
        let h = lines
            .next()
            .ok_or_else(|| Error::file(p, "empty file (no header)"))?;
        match &header {
            None => header = Some(h.to_string()),
            Some(first) if first != h => {
                return Err(Error::file(
                    p,
                    format!("header {h:?} differs from the first file's {first:?}"),
                ))
            }
            Some(_) => {}
        }
        for l in lines.filter(|l| !l.trim().is_empty()) {
            body.push_str(l);
            body.push('\n');
            rows += 1;
        }
    }
    let header = header.ok_or_else(|| Error::Config("nothing to merge".into()))?;
    adamss_io::write_atomic(out, format!("{header}\n{body}").as_bytes())?;
    Ok(rows)
}
