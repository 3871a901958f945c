//! The residual block used at every encoder and decoder level.

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::error::{Error, Result};
use crate::layers::{ConvNormAct, ConvNormActConfig};

/// Configuration of a [`ResBlock`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResBlockConfig {
    /// Input channels.
    pub cin: i64,
    /// Output channels.
    pub cout: i64,
    /// Number of 3×3×3 convolutions on the main path (`n ≥ 1`).
    pub depth: usize,
}

impl ResBlockConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if self.cin < 1 || self.cout < 1 || self.depth < 1 {
            return Err(Error::Config(format!(
                "ResBlock needs positive channels and depth ≥ 1, got {self:?}"
            )));
        }
        Ok(())
    }

    /// Builds the block under `path`: `conv`, `shortcut`, `extra.0 … extra.{n-2}`.
    pub fn build(&self, path: &nn::Path) -> Result<ResBlock> {
        self.validate()?;
        let cna = |cin, cout, kernel| ConvNormActConfig { cin, cout, kernel };
        let conv = cna(self.cin, self.cout, 3).build(&(path / "conv"))?;
        let shortcut = cna(self.cin, self.cout, 1).build(&(path / "shortcut"))?;
        let extra_path = path / "extra";
        let extra = (0..self.depth - 1)
            .map(|i| cna(self.cout, self.cout, 3).build(&(&extra_path / i)))
            .collect::<Result<Vec<_>>>()?;
        Ok(ResBlock {
            conv,
            shortcut,
            extra,
        })
    }
}

/// `y = CNA3(x) + CNA1(x)`, then `n − 1` times `y = y + CNA3(y)`; no activation after the sums.
///
/// # Shapes
/// `[N, cin, D, H, W] → [N, cout, D, H, W]`.
#[derive(Debug)]
pub struct ResBlock {
    conv: ConvNormAct,
    shortcut: ConvNormAct,
    extra: Vec<ConvNormAct>,
}

impl ModuleT for ResBlock {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut y = self.conv.forward_t(xs, train) + self.shortcut.forward_t(xs, train);
        for m in &self.extra {
            y = &y + m.forward_t(&y, train);
        }
        y
    }
}
