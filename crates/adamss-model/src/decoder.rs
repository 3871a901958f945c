//! The auto-focus decoder: attention-gated skips, nearest upsampling, residual blocks.

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::attention::{AttentionGate, AttentionGateConfig};
use crate::error::{Error, Result};
use crate::layers::upsample_nearest2;
use crate::resblock::{ResBlock, ResBlockConfig};

/// Configuration of an [`AdaFocusDecoder`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecoderConfig {
    /// The encoder's fused widths, shallow to deep (the skips and the bottleneck).
    pub encoder_widths: Vec<i64>,
    /// ResBlock depth per decoder level, deep to shallow (paper: 4, 3, 3, 2).
    pub depths: Vec<usize>,
    /// Attention gates on the skips (`false`: the "no attention gates" ablation, skips pass
    /// through unchanged).
    pub attention: bool,
}

impl DecoderConfig {
    /// Checks one decoder level per encoder level but the deepest.
    pub fn validate(&self) -> Result<()> {
        if self.encoder_widths.len() < 2 || self.depths.len() + 1 != self.encoder_widths.len() {
            return Err(Error::Config(format!(
                "decoder: {} depths for {} encoder levels (need one fewer)",
                self.depths.len(),
                self.encoder_widths.len()
            )));
        }
        Ok(())
    }

    /// Builds `levels.{j}.attention.*` and `levels.{j}.block.*` under `path`, `j = 0` deepest.
    pub fn build(&self, path: &nn::Path) -> Result<AdaFocusDecoder> {
        self.validate()?;
        let lp = path / "levels";
        let l = self.encoder_widths.len();
        let mut levels = Vec::with_capacity(self.depths.len());
        let mut gating = self.encoder_widths[l - 1];
        for (j, &n) in self.depths.iter().enumerate() {
            let skip = self.encoder_widths[l - 2 - j];
            let p = &lp / j;
            let attention = if self.attention {
                Some(AttentionGateConfig { skip, gating }.build(&(&p / "attention"))?)
            } else {
                None
            };
            let block = ResBlockConfig {
                cin: skip + gating,
                cout: skip,
                depth: n,
            }
            .build(&(&p / "block"))?;
            levels.push(DecoderLevel { attention, block });
            gating = skip;
        }
        Ok(AdaFocusDecoder { levels })
    }
}

#[derive(Debug)]
struct DecoderLevel {
    attention: Option<AttentionGate>,
    block: ResBlock,
}

/// Decoder outputs, deep to shallow, plus attention maps for inspection.
#[derive(Debug)]
pub struct DecoderOutput {
    /// `D_6 … D_9` (for 5 encoder levels), deep to shallow.
    pub features: Vec<Tensor>,
    /// Per level, α `[N, 1, …]` at the skip's resolution (empty without attention gates).
    pub attention: Vec<Tensor>,
}

/// `D_l = ResBlock(cat(AG(skip, g), upsample_nearest×2(g)))` with `g` the previous level
/// (the bottleneck `F_L` first).
///
/// # Shapes
/// `F_1 … F_L` as the encoder returns them → `L − 1` maps, the last at full resolution.
#[derive(Debug)]
pub struct AdaFocusDecoder {
    levels: Vec<DecoderLevel>,
}

impl AdaFocusDecoder {
    /// Decodes the encoder's feature maps (shallow to deep, as [`crate::EncoderOutput`]).
    pub fn forward_t(&self, encoder: &[Tensor], train: bool) -> Result<DecoderOutput> {
        let l = encoder.len();
        if l != self.levels.len() + 1 {
            return Err(Error::Shape(format!(
                "decoder expects {} encoder maps, got {l}",
                self.levels.len() + 1
            )));
        }
        let mut g = encoder[l - 1].shallow_clone();
        let mut features = Vec::with_capacity(self.levels.len());
        let mut attention = Vec::with_capacity(self.levels.len());
        for (j, level) in self.levels.iter().enumerate() {
            let skip = &encoder[l - 2 - j];
            let gated = match &level.attention {
                Some(ag) => {
                    let (s, a) = ag.forward_t(skip, &g, train);
                    attention.push(a);
                    s
                }
                None => skip.shallow_clone(),
            };
            let up = upsample_nearest2(&g);
            g = level
                .block
                .forward_t(&Tensor::cat(&[&gated, &up], 1), train);
            features.push(g.shallow_clone());
        }
        Ok(DecoderOutput {
            features,
            attention,
        })
    }
}
