//! The attention gate of the auto-focus decoder.

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::error::{Error, Result};
use crate::layers::{avg_pool2, upsample_trilinear2, Conv1Norm};

/// Configuration of an [`AttentionGate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttentionGateConfig {
    /// Channels of the skip connection `x` (also the gate's inner width).
    pub skip: i64,
    /// Channels of the gating signal `g` (one level deeper, half the resolution).
    pub gating: i64,
}

impl AttentionGateConfig {
    /// Builds the gate under `path`: `theta.*`, `phi.*`, `psi.*` (each `conv` + `bn`).
    pub fn build(&self, path: &nn::Path) -> Result<AttentionGate> {
        if self.skip < 1 || self.gating < 1 {
            return Err(Error::Config(format!(
                "AttentionGate needs positive widths, got {self:?}"
            )));
        }
        Ok(AttentionGate {
            theta: Conv1Norm::new(&(path / "theta"), self.gating, self.skip)?,
            phi: Conv1Norm::new(&(path / "phi"), self.skip, self.skip)?,
            psi: Conv1Norm::new(&(path / "psi"), self.skip, 1)?,
        })
    }
}

/// `θ = BN(Conv1(g))`, `φ = AvgPool2(BN(Conv1(x)))`, `α = sigmoid(BN(Conv1(ReLU(θ + φ))))`,
/// α upsampled ×2 (trilinear, align_corners), output `x·α`.
///
/// # Shapes
/// `x: [N, C_x, 2S, 2S, 2S]`, `g: [N, C_g, S, S, S]` → `([N, C_x, 2S, …], α: [N, 1, 2S, …])`.
#[derive(Debug)]
pub struct AttentionGate {
    theta: Conv1Norm,
    phi: Conv1Norm,
    psi: Conv1Norm,
}

impl AttentionGate {
    /// Gates the skip connection `x` by the coarser signal `g`; returns `x·α` and `α`.
    pub fn forward_t(&self, x: &Tensor, g: &Tensor, train: bool) -> (Tensor, Tensor) {
        let theta = self.theta.forward_t(g, train);
        let phi = avg_pool2(&self.phi.forward_t(x, train));
        let alpha = self.psi.forward_t(&(theta + phi).relu(), train).sigmoid();
        let alpha = upsample_trilinear2(&alpha);
        (x * &alpha, alpha)
    }
}
