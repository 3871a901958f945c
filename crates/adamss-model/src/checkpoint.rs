//! safetensors checkpoints: atomic save, full or partial load with a report, freezing by
//! parameter group.
//!
//! Stage I → II transfer (spec §4): load a Stage-I checkpoint into a fresh Stage-II network
//! with [`Transfer::EncoderDecoder`] (our default, as the paper says) or
//! [`Transfer::EncoderOnly`] (what the released code effectively did).

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::Tensor;

use crate::error::{Error, Result};
use crate::network::{trainable_named, ParamGroup};

/// Which variables of a checkpoint to load.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Transfer {
    /// Every variable; all of the network's variables must be present.
    #[default]
    All,
    /// `encoder.*`, `decoder.*` and `seg_head.*`: everything but the survival head.
    EncoderDecoder,
    /// `encoder.*` only.
    EncoderOnly,
}

impl Transfer {
    fn wants(&self, name: &str) -> bool {
        let groups: &[ParamGroup] = match self {
            Self::All => return true,
            Self::EncoderDecoder => &[ParamGroup::Encoder, ParamGroup::Decoder],
            Self::EncoderOnly => &[ParamGroup::Encoder],
        };
        groups
            .iter()
            .flat_map(|g| g.prefixes())
            .any(|p| name.starts_with(p))
    }
}

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LoadReport {
    /// Variables copied from the file.
    pub loaded: Vec<String>,
    /// Variables of the network that the transfer wanted but the file lacks (only possible
    /// for partial transfers; `Transfer::All` refuses them).
    pub missing: Vec<String>,
    /// Names in the file that the network does not have.
    pub unexpected: Vec<String>,
}

/// Writes every variable of `vs` to `path` (safetensors) atomically: a temporary file in the
/// same folder is written, flushed and renamed, so a crash never leaves a torn checkpoint.
pub fn save(vs: &VarStore, path: &Path) -> Result<()> {
    let named: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(k, v)| (k, v.to_device(tch::Device::Cpu).contiguous()))
        .collect();
    save_tensors(named, path)
}

/// Writes named tensors to `path` (safetensors, sorted by name) atomically, as [`save`] does
/// for a VarStore (e.g. an optimiser's state).
pub fn save_tensors(mut named: Vec<(String, Tensor)>, path: &Path) -> Result<()> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .ok_or_else(|| Error::Checkpoint {
            path: path.to_path_buf(),
            problem: "not a file path".into(),
        })?
        .to_string_lossy()
        .into_owned();
    let tmp: PathBuf = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let written = Tensor::write_safetensors(&named, &tmp);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e.into());
    }
    std::fs::File::open(&tmp)
        .and_then(|f| f.sync_all())
        .map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        io(e)
    })
}

/// Loads variables from a safetensors checkpoint into `vs` according to `transfer`.
///
/// Shapes must agree exactly (a clear error names the first variable that differs); values
/// are cast to each variable's kind and device. Nothing is modified unless the whole load can
/// succeed.
pub fn load(vs: &mut VarStore, path: &Path, transfer: &Transfer) -> Result<LoadReport> {
    if !path.is_file() {
        return Err(Error::Io {
            path: path.to_path_buf(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        });
    }
    let file: HashMap<String, Tensor> = Tensor::read_safetensors(path)
        .map_err(|e| Error::Checkpoint {
            path: path.to_path_buf(),
            problem: format!("not a readable safetensors file: {e}"),
        })?
        .into_iter()
        .collect();
    let vars = vs.variables();
    let mut report = LoadReport::default();
    let mut plan: Vec<(Tensor, Tensor)> = Vec::new();
    let mut names: Vec<&String> = vars.keys().collect();
    names.sort();
    for name in names {
        if !transfer.wants(name) {
            continue;
        }
        let var = &vars[name];
        match file.get(name) {
            Some(src) => {
                if src.size() != var.size() {
                    return Err(Error::Checkpoint {
                        path: path.to_path_buf(),
                        problem: format!(
                            "{name} has shape {:?} in the file, {:?} in the network",
                            src.size(),
                            var.size()
                        ),
                    });
                }
                plan.push((var.shallow_clone(), src.shallow_clone()));
                report.loaded.push(name.clone());
            }
            None => report.missing.push(name.clone()),
        }
    }
    if *transfer == Transfer::All && !report.missing.is_empty() {
        return Err(Error::Checkpoint {
            path: path.to_path_buf(),
            problem: format!(
                "{} variables missing, first {}",
                report.missing.len(),
                report.missing[0]
            ),
        });
    }
    let known: BTreeSet<&String> = vars.keys().collect();
    report.unexpected = file
        .keys()
        .filter(|k| !known.contains(k))
        .cloned()
        .collect();
    report.unexpected.sort();
    tch::no_grad(|| -> Result<()> {
        for (mut var, src) in plan {
            var.f_copy_(&src.to_kind(var.kind()).to_device(var.device()))?;
        }
        Ok(())
    })?;
    Ok(report)
}

/// Sets `requires_grad` on every trainable variable of a group; returns how many changed.
/// Frozen variables get no gradient, so the optimiser leaves them as they are.
pub fn set_trainable(vs: &VarStore, group: ParamGroup, trainable: bool) -> usize {
    let mut changed = 0;
    for (name, t) in trainable_named(vs) {
        if group.prefixes().iter().any(|p| name.starts_with(p)) {
            let _ = t.set_requires_grad(trainable);
            changed += 1;
        }
    }
    changed
}
