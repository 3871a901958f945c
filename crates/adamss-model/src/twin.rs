//! Comparison with the PyTorch twin (`tools/adamss_twin.py reference`): reads its weights,
//! inputs, eval-mode outputs and one training step's gradients, runs the same through this
//! crate on any device, and reports relative errors. Used by the workspace tests (CPU) and
//! by `adamss check-twin` on a GPU machine.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use tch::nn::VarStore;
use tch::{Device, Kind, Tensor};

use crate::checkpoint::{self, Transfer};
use crate::error::{Error, Result};
use crate::loss::{cox_nll, dice_loss, focal_loss, CoxTies};
use crate::network::AdaMssConfig;

/// One reference case as `cases.json` lists it.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct TwinCase {
    /// Base width C.
    pub c: i64,
    /// Cube side.
    pub size: i64,
    /// Batch size.
    pub batch: i64,
    /// Extra features fed to the survival head.
    pub extra: i64,
}

/// Relative errors (max |ours − theirs| / max |theirs|) of one case.
#[derive(Debug, Clone, Serialize)]
pub struct TwinReport {
    /// Case name.
    pub case: String,
    /// Device and kind the comparison ran in.
    pub device: String,
    /// Eval-mode segmentation logits.
    pub seg: f64,
    /// Eval-mode survival output.
    pub survival: f64,
    /// Eval-mode pooled features.
    pub features: f64,
    /// Worst fusion-gate map.
    pub gates: f64,
    /// Worst attention map.
    pub attention: f64,
    /// Training-step loss (relative).
    pub loss: f64,
    /// Worst parameter gradient, each against the larger of its own scale and a floor of the
    /// largest gradient (1e-6 in float64, 1e-3 in lower precision: convolution biases ahead of
    /// training-mode BatchNorm have gradients made of rounding noise).
    pub gradients: f64,
    /// Parameter gradients compared (all trainable ones).
    pub gradients_compared: usize,
}

fn rel_err(a: &Tensor, b: &Tensor) -> Result<f64> {
    if a.size() != b.size() {
        return Err(Error::Shape(format!(
            "twin output shapes differ: {:?} vs {:?}",
            a.size(),
            b.size()
        )));
    }
    let b = b.to_device(a.device());
    let scale = b.abs().max().double_value(&[]).max(1e-300);
    Ok((a - &b).abs().max().double_value(&[]) / scale)
}

/// Reads `cases.json` from a reference folder.
pub fn read_cases(dir: &Path) -> Result<Vec<(String, TwinCase)>> {
    let path = dir.join("cases.json");
    let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
        path: path.clone(),
        source,
    })?;
    #[derive(serde::Deserialize)]
    struct File {
        cases: std::collections::BTreeMap<String, TwinCase>,
    }
    let file: File = serde_json::from_str(&text).map_err(|e| Error::Checkpoint {
        path: path.clone(),
        problem: format!("not a twin case list: {e}"),
    })?;
    Ok(file.cases.into_iter().collect())
}

impl TwinReport {
    /// The float64 exactness check: outputs within 1e-5, gradients within 1e-4 and the loss
    /// within 1e-6 of the twin's (relative).
    pub fn exact(&self) -> bool {
        let worst = [
            self.seg,
            self.survival,
            self.features,
            self.gates,
            self.attention,
        ]
        .into_iter()
        .fold(0.0f64, f64::max);
        worst <= 1e-5 && self.gradients <= 1e-4 && self.loss <= 1e-6
    }
}

/// Runs every case of a reference folder on `device` in float64 and then float32, calling
/// `report` with each result as it comes; returns the cases whose float64 run fails
/// [`TwinReport::exact`] (float32 is reported only: CUDA convolutions use TF32).
pub fn check_all(
    dir: &Path,
    device: Device,
    report: &mut dyn FnMut(&TwinReport),
) -> Result<Vec<String>> {
    let mut failed = Vec::new();
    for (name, case) in read_cases(dir)? {
        for kind in [Kind::Double, Kind::Float] {
            let r = check_case(dir, &name, &case, device, kind)?;
            report(&r);
            if kind == Kind::Double && !r.exact() {
                failed.push(name.clone());
            }
        }
    }
    Ok(failed)
}

/// Runs one case in `kind` (Double for the exactness check) on `device`.
pub fn check_case(
    dir: &Path,
    name: &str,
    case: &TwinCase,
    device: Device,
    kind: Kind,
) -> Result<TwinReport> {
    let io_path = dir.join(format!("{name}.io.safetensors"));
    let io: HashMap<String, Tensor> = Tensor::read_safetensors(&io_path)
        .map_err(|e| Error::Checkpoint {
            path: io_path.clone(),
            problem: e.to_string(),
        })?
        .into_iter()
        .map(|(k, v)| (k, v.to_kind(kind).to_device(device)))
        .collect();
    let get = |k: &str| {
        io.get(k).ok_or_else(|| Error::Checkpoint {
            path: io_path.clone(),
            problem: format!("missing tensor {k}"),
        })
    };
    let mut config = AdaMssConfig::with_base_width(case.c);
    config.survival.extra_features = case.extra;
    config.survival.dropout = 0.0;
    let mut vs = VarStore::new(device);
    let net = config.build(&vs.root())?;
    if kind == Kind::Double {
        vs.double();
    }
    checkpoint::load(
        &mut vs,
        &dir.join(format!("{name}.weights.safetensors")),
        &Transfer::All,
    )?;
    let extra = if case.extra > 0 {
        Some(get("extra")?)
    } else {
        None
    };
    let (pet, ct) = (get("pet")?, get("ct")?);
    let out = tch::no_grad(|| net.forward_t(pet, ct, extra, false))?;
    let seg = out
        .seg_logits
        .as_ref()
        .ok_or_else(|| Error::Config("twin check needs the segmentation head".into()))?;
    let mut gates = 0.0f64;
    for (i, w) in out.gates.iter().enumerate() {
        gates = gates.max(rel_err(w, get(&format!("eval.gate{i}"))?)?);
    }
    let mut attention = 0.0f64;
    for (i, a) in out.attention.iter().enumerate() {
        attention = attention.max(rel_err(a, get(&format!("eval.attention{i}"))?)?);
    }
    let seg_err = rel_err(seg, get("eval.seg")?)?;
    let survival = rel_err(&out.survival, get("eval.risk")?)?;
    let features = rel_err(&out.features, get("eval.features")?)?;

    let time = Vec::<f64>::try_from(get("time")?.to_kind(Kind::Double).to_device(Device::Cpu))?;
    let event: Vec<bool> =
        Vec::<f64>::try_from(get("event")?.to_kind(Kind::Double).to_device(Device::Cpu))?
            .into_iter()
            .map(|e| e > 0.5)
            .collect();
    let out = net.forward_t(pet, ct, extra, true)?;
    let seg = out
        .seg_logits
        .ok_or_else(|| Error::Config("twin check needs the segmentation head".into()))?;
    let target = get("target")?;
    let loss = dice_loss(&seg, target)?
        + focal_loss(&seg, target, 0.25, 2.0)?
        + cox_nll(&out.survival, &time, &event, CoxTies::Breslow)?;
    let want = get("train.loss")?.to_kind(Kind::Double).double_value(&[0]);
    let loss_err = ((loss.to_kind(Kind::Double).double_value(&[]) - want) / want).abs();
    loss.backward();
    let vars = vs.variables();
    let grads: Vec<(&str, &Tensor)> = io
        .iter()
        .filter_map(|(k, v)| k.strip_prefix("grad.").map(|p| (p, v)))
        .collect();
    let global = grads
        .iter()
        .map(|(_, g)| g.abs().max().double_value(&[]))
        .fold(0.0f64, f64::max);
    let mut gradients = 0.0f64;
    for (pname, theirs) in &grads {
        let var = vars.get(*pname).ok_or_else(|| Error::Checkpoint {
            path: io_path.clone(),
            problem: format!("gradient of unknown parameter {pname}"),
        })?;
        let ours = var.grad();
        if !ours.defined() {
            return Err(Error::Config(format!("{pname} got no gradient")));
        }
        let floor = if kind == Kind::Double { 1e-6 } else { 1e-3 };
        let scale = theirs.abs().max().double_value(&[]).max(floor * global);
        gradients = gradients.max((&ours - *theirs).abs().max().double_value(&[]) / scale);
    }
    if grads.len() != vs.trainable_variables().len() {
        return Err(Error::Checkpoint {
            path: io_path,
            problem: format!(
                "{} gradients in the file, {} trainable parameters",
                grads.len(),
                vs.trainable_variables().len()
            ),
        });
    }
    Ok(TwinReport {
        case: name.to_string(),
        device: format!("{device:?} {kind:?}"),
        seg: seg_err,
        survival,
        features,
        gates,
        attention,
        loss: loss_err,
        gradients,
        gradients_compared: grads.len(),
    })
}
