//! Adam over flat parameter buffers: one update per parameter group instead of one per
//! tensor.
//!
//! libtorch's C++ `torch::optim::Adam` (what `tch::nn::Adam` wraps) updates tensor by tensor:
//! for AdaMSS's ~330 parameter tensors that is a few thousand small kernels per step, 22 ms
//! on an H200 against 1 ms for PyTorch's multi-tensor Adam (docs/benchmarks.md). [`FlatAdam`]
//! does what PyTorch's "flat parameters" and fused optimisers do: each group's parameters
//! (and, after the first backward pass, their gradients) become views into one contiguous
//! buffer, so the update is a handful of kernels per group and zeroing the gradients is one.
//!
//! The arithmetic is PyTorch's Adam (no AMSGrad, no weight decay, as the released schedule
//! uses): `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`, `p ← p − lr/(1−β₁ᵗ) · m / (√v/√(1−β₂ᵗ) + ε)`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use tch::nn::VarStore;
use tch::Tensor;

use crate::error::{Error, Result};

/// Adam hyper-parameters (PyTorch's defaults).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    /// β₁.
    pub beta1: f64,
    /// β₂.
    pub beta2: f64,
    /// ε.
    pub eps: f64,
}

impl Default for AdamConfig {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
        }
    }
}

impl AdamConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        let ok = (0.0..1.0).contains(&self.beta1)
            && (0.0..1.0).contains(&self.beta2)
            && self.eps > 0.0
            && self.eps.is_finite();
        if ok {
            Ok(())
        } else {
            Err(Error::Config(format!(
                "Adam needs 0 ≤ β < 1 and ε > 0, got {self:?}"
            )))
        }
    }
}

/// One parameter tensor inside a group's flat buffer.
#[derive(Debug)]
struct Member {
    param: Tensor,
    offset: i64,
    numel: i64,
    shape: Vec<i64>,
    /// The view of the flat gradient buffer this parameter's `.grad` aliases, once bound.
    grad_view: Option<Tensor>,
}

#[derive(Debug)]
struct Group {
    lr: f64,
    step: i64,
    params: Tensor,
    grads: Tensor,
    exp_avg: Tensor,
    exp_avg_sq: Tensor,
    members: Vec<Member>,
}

/// Adam with flat per-group buffers (see the module docs).
///
/// Groups are the VarStore's parameter groups (`nn::Path::set_group`; for [`crate::AdaMss`]
/// the values of [`crate::ParamGroup`]). A group whose parameters are all frozen
/// (`requires_grad == false`) is skipped entirely — freeze by group, not by tensor.
///
/// After `FlatAdam::new` the VarStore's trainable tensors are views into the flat buffers:
/// everything else (forward passes, `checkpoint::save/load`, in-place copies) works as
/// before. Build the optimiser once, after the network and before training.
#[derive(Debug)]
pub struct FlatAdam {
    config: AdamConfig,
    groups: BTreeMap<usize, Group>,
}

impl FlatAdam {
    /// Moves the trainable variables of `vs` into flat buffers, one per group, all with
    /// learning rate `lr` (change it per group with [`FlatAdam::set_lr_group`]).
    pub fn new(vs: &VarStore, lr: f64, config: AdamConfig) -> Result<Self> {
        config.validate()?;
        check_lr(lr)?;
        let vars: Vec<(usize, Tensor)> = {
            let guard = vs
                .variables_
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            guard
                .trainable_variables
                .iter()
                .map(|v| (v.group, v.tensor.shallow_clone()))
                .collect()
        };
        let mut by_group: BTreeMap<usize, Vec<Tensor>> = BTreeMap::new();
        for (g, t) in vars {
            by_group.entry(g).or_default().push(t);
        }
        let mut groups = BTreeMap::new();
        for (id, tensors) in by_group {
            let first = &tensors[0];
            let (kind, device) = (first.kind(), first.device());
            if tensors
                .iter()
                .any(|t| t.kind() != kind || t.device() != device)
            {
                return Err(Error::Config(format!(
                    "parameter group {id} mixes kinds or devices"
                )));
            }
            let total: i64 = tensors.iter().map(Tensor::numel).map(|n| n as i64).sum();
            let params = Tensor::zeros([total], (kind, device));
            let mut members = Vec::with_capacity(tensors.len());
            let mut offset = 0;
            for mut t in tensors {
                let numel = t.numel() as i64;
                let shape = t.size();
                let mut view = params.narrow(0, offset, numel).view(shape.as_slice());
                tch::no_grad(|| view.f_copy_(&t))?;
                t.set_data(&view);
                members.push(Member {
                    param: t,
                    offset,
                    numel,
                    shape,
                    grad_view: None,
                });
                offset += numel;
            }
            groups.insert(
                id,
                Group {
                    lr,
                    step: 0,
                    grads: params.zeros_like(),
                    exp_avg: params.zeros_like(),
                    exp_avg_sq: params.zeros_like(),
                    params,
                    members,
                },
            );
        }
        Ok(Self { config, groups })
    }

    /// Sets the learning rate of every group.
    pub fn set_lr(&mut self, lr: f64) -> Result<()> {
        check_lr(lr)?;
        for g in self.groups.values_mut() {
            g.lr = lr;
        }
        Ok(())
    }

    /// Sets the learning rate of one group (an unknown group is an error).
    pub fn set_lr_group(&mut self, group: usize, lr: f64) -> Result<()> {
        check_lr(lr)?;
        let g = self
            .groups
            .get_mut(&group)
            .ok_or_else(|| Error::Config(format!("no parameter group {group}")))?;
        g.lr = lr;
        Ok(())
    }

    /// Zeroes every gradient: one kernel per group once gradients are bound to the buffers.
    pub fn zero_grad(&mut self) {
        for g in self.groups.values_mut() {
            let _ = g.grads.zero_();
            for m in &g.members {
                if m.grad_view.is_none() {
                    // Not bound yet (no backward pass has reached it): clear it the slow way.
                    let mut p = m.param.shallow_clone();
                    p.zero_grad();
                }
            }
        }
    }

    /// One Adam step on every group that has a trainable parameter.
    pub fn step(&mut self) -> Result<()> {
        let cfg = self.config;
        for g in self.groups.values_mut() {
            if !g.members.iter().any(|m| m.param.requires_grad()) {
                continue;
            }
            g.bind_grads()?;
            g.step += 1;
            let t = g.step as f64;
            let bc1 = 1.0 - cfg.beta1.powf(t);
            let bc2 = 1.0 - cfg.beta2.powf(t);
            let step_size = g.lr / bc1;
            tch::no_grad(|| -> Result<()> {
                let _ = g.exp_avg.f_lerp_(&g.grads, 1.0 - cfg.beta1)?;
                let _ = g.exp_avg_sq.f_mul_scalar_(cfg.beta2)?;
                let _ = g
                    .exp_avg_sq
                    .f_addcmul_(&g.grads, &(&g.grads * (1.0 - cfg.beta2)))?;
                let denom = (g.exp_avg_sq.f_sqrt()? / bc2.sqrt()).f_add_scalar(cfg.eps)?;
                let update = (&g.exp_avg / denom).f_mul_scalar(-step_size)?;
                let _ = g.params.f_add_(&update)?;
                Ok(())
            })?;
        }
        Ok(())
    }

    /// The optimiser's state as named CPU tensors, for a checkpoint: per group
    /// `group{g}.exp_avg`, `group{g}.exp_avg_sq` and `group{g}.step` (a 1-element i64 tensor).
    /// Learning rates are not part of it (the schedule sets them).
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::with_capacity(3 * self.groups.len());
        for (id, g) in &self.groups {
            let cpu = |t: &Tensor| t.to_device(tch::Device::Cpu).contiguous();
            out.push((format!("group{id}.exp_avg"), cpu(&g.exp_avg)));
            out.push((format!("group{id}.exp_avg_sq"), cpu(&g.exp_avg_sq)));
            out.push((format!("group{id}.step"), Tensor::from_slice(&[g.step])));
        }
        out
    }

    /// Restores a state written by [`FlatAdam::state`] into an optimiser built over the same
    /// network (same groups and sizes); nothing changes unless every entry fits.
    pub fn load_state(&mut self, state: &[(String, Tensor)]) -> Result<()> {
        let find = |name: &str| {
            state
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| t)
                .ok_or_else(|| Error::Config(format!("optimiser state lacks {name}")))
        };
        let mut staged = Vec::with_capacity(self.groups.len());
        for (id, g) in &self.groups {
            let avg = find(&format!("group{id}.exp_avg"))?;
            let sq = find(&format!("group{id}.exp_avg_sq"))?;
            let step = find(&format!("group{id}.step"))?;
            if avg.size() != g.exp_avg.size() || sq.size() != g.exp_avg_sq.size() {
                return Err(Error::Config(format!(
                    "optimiser state of group {id} has {:?} values, the network {:?}",
                    avg.size(),
                    g.exp_avg.size()
                )));
            }
            if step.numel() != 1 || step.is_floating_point() || step.kind() == tch::Kind::Bool {
                return Err(Error::Config(format!(
                    "optimiser state of group {id}: the step count is {:?} {:?}, not one integer",
                    step.kind(),
                    step.size()
                )));
            }
            let step = step.f_reshape([1])?.f_int64_value(&[0])?;
            let finite = |t: &Tensor| -> Result<bool> {
                Ok(t.numel() == 0 || t.f_isfinite()?.f_all()?.f_int64_value(&[])? == 1)
            };
            let non_negative = |t: &Tensor| -> Result<bool> {
                Ok(t.numel() == 0 || t.f_min()?.f_double_value(&[])? >= 0.0)
            };
            if step < 0 || !finite(avg)? || !finite(sq)? || !non_negative(sq)? {
                return Err(Error::Config(format!(
                    "optimiser state of group {id}: a negative step count, a non-finite moment \
                     or a negative second moment"
                )));
            }
            staged.push((*id, avg.shallow_clone(), sq.shallow_clone(), step));
        }
        for (id, avg, sq, step) in staged {
            if let Some(g) = self.groups.get_mut(&id) {
                tch::no_grad(|| -> Result<()> {
                    g.exp_avg.f_copy_(&avg)?;
                    g.exp_avg_sq.f_copy_(&sq)?;
                    Ok(())
                })?;
                g.step = step;
            }
        }
        Ok(())
    }

    /// Number of groups and of scalars per group, for logs.
    pub fn group_sizes(&self) -> Vec<(usize, i64)> {
        self.groups
            .iter()
            .map(|(id, g)| (*id, g.params.numel() as i64))
            .collect()
    }
}

impl Group {
    /// Makes every defined `.grad` a view of the flat gradient buffer (copying its value in
    /// first). Gradients accumulate in place into a defined `.grad`, so after binding the
    /// backward pass writes straight into the buffer.
    fn bind_grads(&mut self) -> Result<()> {
        for m in &mut self.members {
            let mut grad = m.param.grad();
            if !grad.defined() {
                continue;
            }
            let bound = m
                .grad_view
                .as_ref()
                .is_some_and(|v| v.data_ptr() == grad.data_ptr());
            if bound {
                continue;
            }
            if grad.kind() != self.grads.kind() || grad.size() != m.shape {
                return Err(Error::Config(format!(
                    "gradient of a parameter has kind {:?} and shape {:?}, expected {:?} and {:?}",
                    grad.kind(),
                    grad.size(),
                    self.grads.kind(),
                    m.shape
                )));
            }
            let mut view = self
                .grads
                .narrow(0, m.offset, m.numel)
                .view(m.shape.as_slice());
            tch::no_grad(|| view.f_copy_(&grad))?;
            grad.set_data(&view);
            m.grad_view = Some(view);
        }
        Ok(())
    }
}

fn check_lr(lr: f64) -> Result<()> {
    if lr.is_finite() && lr >= 0.0 {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "learning rate must be finite and ≥ 0, got {lr}"
        )))
    }
}
