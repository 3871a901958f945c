//! The whole AdaMSS network and its configuration.

use serde::{Deserialize, Serialize};
use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::decoder::{AdaFocusDecoder, DecoderConfig};
use crate::error::{Error, Result};
use crate::fusion::{AdaFusionEncoder, EncoderConfig, FusionMode};
use crate::heads::{SegmentationHead, SurvivalHead, SurvivalHeadConfig};
use crate::layers::global_avg_pool;

/// Numeric precision of the forward pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Precision {
    /// Everything in the parameters' kind (fp32, or fp64 for reference checks).
    #[default]
    F32,
    /// Mixed precision as autocast does it: convolutions, sums and activations in bfloat16,
    /// parameters (the optimiser's master copy), BatchNorm statistics, pooled features and
    /// losses in fp32. Meant for CUDA; it runs on CPU too, slowly.
    Bf16,
}

/// Parameter groups, for per-group learning rates (`nn::Optimizer::set_lr_group`) and
/// freezing by prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ParamGroup {
    /// `encoder.*` (group 0).
    Encoder = 0,
    /// `decoder.*` and `seg_head.*` (group 1).
    Decoder = 1,
    /// `surv_head.*` (group 2).
    SurvivalHead = 2,
}

impl ParamGroup {
    /// The parameter-name prefix of the group (several for the decoder group).
    pub fn prefixes(self) -> &'static [&'static str] {
        match self {
            Self::Encoder => &["encoder."],
            Self::Decoder => &["decoder.", "seg_head."],
            Self::SurvivalHead => &["surv_head."],
        }
    }
}

/// Configuration of [`AdaMss`]. `Default` is the paper's network (C = 16, Cox head).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdaMssConfig {
    /// Base width C: fused branch and decoder widths are C·(1, 2, 4, 8, 16).
    pub base_width: i64,
    /// PET/CT branch widths per level; empty means C/2·(1, 2, 4, 8, 16) (paper: 8 … 128).
    pub single_widths: Vec<i64>,
    /// ResBlock depth per encoder level (paper: 2, 3, 3, 4, 4); its length sets the levels.
    pub encoder_depths: Vec<usize>,
    /// ResBlock depth per decoder level, deep to shallow (paper: 4, 3, 3, 2).
    pub decoder_depths: Vec<usize>,
    /// Fusion of the PET and CT paths (AdaMSS: gated).
    pub fusion: FusionMode,
    /// Attention gates on the decoder skips (AdaMSS: true).
    pub attention: bool,
    /// Build the segmentation head (false: the single-task survival network).
    pub segmentation: bool,
    /// Structures segmented, one sigmoid each (GTVp, GTVn).
    pub seg_channels: i64,
    /// The survival head.
    pub survival: SurvivalHeadConfig,
    /// Forward-pass precision.
    pub precision: Precision,
}

impl Default for AdaMssConfig {
    fn default() -> Self {
        Self {
            base_width: 16,
            single_widths: Vec::new(),
            encoder_depths: vec![2, 3, 3, 4, 4],
            decoder_depths: vec![4, 3, 3, 2],
            fusion: FusionMode::Gated,
            attention: true,
            segmentation: true,
            seg_channels: 2,
            survival: SurvivalHeadConfig::default(),
            precision: Precision::F32,
        }
    }
}

impl AdaMssConfig {
    /// The paper's network (same as `Default`).
    pub fn paper() -> Self {
        Self::default()
    }

    /// The paper's topology at base width `c` (e.g. 2 or 4 for fast tests).
    pub fn with_base_width(c: i64) -> Self {
        Self {
            base_width: c,
            ..Self::default()
        }
    }

    /// Number of encoder levels.
    pub fn levels(&self) -> usize {
        self.encoder_depths.len()
    }

    /// Fused branch (and decoder) widths per level.
    pub fn fused_widths(&self) -> Vec<i64> {
        (0..self.levels()).map(|i| self.base_width << i).collect()
    }

    /// PET/CT branch widths per level, resolved.
    pub fn resolved_single_widths(&self) -> Vec<i64> {
        if self.single_widths.is_empty() {
            (0..self.levels())
                .map(|i| (self.base_width / 2).max(1) << i)
                .collect()
        } else {
            self.single_widths.clone()
        }
    }

    /// Spatial sizes must be multiples of this (2^(levels − 1); 16 for the paper).
    pub fn size_multiple(&self) -> i64 {
        1 << self.levels().saturating_sub(1)
    }

    /// Number of pooled deep features fed to the survival head (15C for the paper).
    pub fn pooled_features(&self) -> i64 {
        self.fused_widths()[..self.levels().saturating_sub(1)]
            .iter()
            .sum()
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if self.base_width < 1 {
            return Err(Error::Config(format!(
                "base_width must be ≥ 1, got {}",
                self.base_width
            )));
        }
        if self.levels() < 2 || self.levels() > 8 {
            return Err(Error::Config(format!(
                "encoder_depths must give 2 to 8 levels, got {}",
                self.levels()
            )));
        }
        if self.seg_channels < 1 {
            return Err(Error::Config(format!(
                "seg_channels must be ≥ 1, got {}",
                self.seg_channels
            )));
        }
        self.encoder_config().validate()?;
        self.decoder_config().validate()?;
        self.survival.validate()
    }

    fn encoder_config(&self) -> EncoderConfig {
        EncoderConfig {
            single_widths: self.resolved_single_widths(),
            fused_widths: self.fused_widths(),
            depths: self.encoder_depths.clone(),
            fusion: self.fusion,
        }
    }

    fn decoder_config(&self) -> DecoderConfig {
        DecoderConfig {
            encoder_widths: self.fused_widths(),
            depths: self.decoder_depths.clone(),
            attention: self.attention,
        }
    }

    /// Builds the network under `path` (normally `vs.root()`), assigning the parameter groups
    /// of [`ParamGroup`].
    pub fn build(&self, path: &nn::Path) -> Result<AdaMss> {
        self.validate()?;
        // Keeps libtorch_cuda linked into every binary that builds a network.
        crate::device::cuda_linked();
        let enc_path = path.set_group(ParamGroup::Encoder as usize);
        let dec_path = path.set_group(ParamGroup::Decoder as usize);
        let head_path = path.set_group(ParamGroup::SurvivalHead as usize);
        let encoder = self.encoder_config().build(&(&enc_path / "encoder"))?;
        let decoder = self.decoder_config().build(&(&dec_path / "decoder"))?;
        let seg_head = if self.segmentation {
            Some(SegmentationHead::new(
                &(&dec_path / "seg_head"),
                self.base_width,
                self.seg_channels,
            )?)
        } else {
            None
        };
        let surv_head = self.survival.build(
            &(&head_path / "surv_head"),
            self.pooled_features(),
            self.base_width,
        )?;
        Ok(AdaMss {
            config: self.clone(),
            encoder,
            decoder,
            seg_head,
            surv_head,
            device: path.device(),
        })
    }
}

/// Everything one forward pass produces.
#[derive(Debug)]
pub struct AdaMssOutput {
    /// Segmentation logits `[N, seg_channels, S, S, S]` in fp32 (absent for the single-task
    /// survival network). Probabilities: `sigmoid`.
    pub seg_logits: Option<Tensor>,
    /// Survival head output `[N, units]` in fp32: the Cox log-risk (higher = worse), or the
    /// discrete-time logits.
    pub survival: Tensor,
    /// The survival head's input `[N, pooled + extra]`: GAP of every decoder level, deep to
    /// shallow, then the extra features.
    pub features: Tensor,
    /// Fusion-gate weights `w` per encoder level `[N, C_i, …]` (gated fusion only); `w` near 1
    /// means the fused branch, near 0 the PET/CT path.
    pub gates: Vec<Tensor>,
    /// Attention maps α per decoder level, deep to shallow `[N, 1, …]` (with attention gates).
    pub attention: Vec<Tensor>,
}

/// The AdaMSS network: auto-fusion encoder, auto-focus decoder, segmentation head and
/// survival head.
///
/// Parameter names (stable, as in the safetensors checkpoints and the PyTorch twin
/// `tools/adamss_twin.py`): `encoder.{pet,ct,fused}.levels.{i}.…`, `encoder.gates.{i}.…`,
/// `decoder.levels.{j}.{attention,block}.…`, `seg_head.{weight,bias}`,
/// `surv_head.{fc1,fc2}.{weight,bias}`.
///
/// # Shapes
/// `pet, ct: [N, 1, D, H, W]`, each size a multiple of [`AdaMssConfig::size_multiple`];
/// `extra: [N, extra_features]` when the head takes extra features.
#[derive(Debug)]
pub struct AdaMss {
    config: AdaMssConfig,
    encoder: AdaFusionEncoder,
    decoder: AdaFocusDecoder,
    seg_head: Option<SegmentationHead>,
    surv_head: SurvivalHead,
    device: Device,
}

impl AdaMss {
    /// The configuration the network was built from.
    pub fn config(&self) -> &AdaMssConfig {
        &self.config
    }

    /// The device the network's variables live on.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The survival head (for its L2 penalty).
    pub fn survival_head(&self) -> &SurvivalHead {
        &self.surv_head
    }

    /// Checks input shapes, kinds and devices before any computation.
    fn check_inputs(&self, pet: &Tensor, ct: &Tensor, extra: Option<&Tensor>) -> Result<()> {
        let ps = pet.size();
        let cs = ct.size();
        if ps.len() != 5 || ps[1] != 1 {
            return Err(Error::Shape(format!(
                "PET must be [N, 1, D, H, W], got {ps:?}"
            )));
        }
        if cs != ps {
            return Err(Error::Shape(format!(
                "CT {cs:?} and PET {ps:?} must have the same shape"
            )));
        }
        let m = self.config.size_multiple();
        if ps[2..].iter().any(|&s| s < m || s % m != 0) {
            return Err(Error::Shape(format!(
                "spatial size {:?} must be made of positive multiples of {m} ({} levels)",
                &ps[2..],
                self.config.levels()
            )));
        }
        for (name, t) in [("PET", pet), ("CT", ct)] {
            if t.device() != self.device {
                return Err(Error::Device(format!(
                    "{name} is on {:?}, the network on {:?}",
                    t.device(),
                    self.device
                )));
            }
            if !matches!(
                t.kind(),
                Kind::Float | Kind::Double | Kind::BFloat16 | Kind::Half
            ) {
                return Err(Error::Shape(format!(
                    "{name} must be a floating-point tensor, got {:?}",
                    t.kind()
                )));
            }
        }
        let want = self.surv_head.inputs() - self.config.pooled_features();
        match extra {
            None if want == 0 => Ok(()),
            None => Err(Error::Shape(format!(
                "the survival head takes {want} extra features; none given"
            ))),
            Some(e) => {
                let es = e.size();
                if es != [ps[0], want] {
                    return Err(Error::Shape(format!(
                        "extra features must be [{}, {want}], got {es:?}",
                        ps[0]
                    )));
                }
                if e.device() != self.device {
                    return Err(Error::Device(format!(
                        "extra features are on {:?}, the network on {:?}",
                        e.device(),
                        self.device
                    )));
                }
                Ok(())
            }
        }
    }

    /// Runs the network. `train` selects batch statistics and dropout.
    pub fn forward_t(
        &self,
        pet: &Tensor,
        ct: &Tensor,
        extra: Option<&Tensor>,
        train: bool,
    ) -> Result<AdaMssOutput> {
        self.check_inputs(pet, ct, extra)?;
        let (pet, ct) = match self.config.precision {
            Precision::F32 => (pet.shallow_clone(), ct.shallow_clone()),
            Precision::Bf16 => (pet.to_kind(Kind::BFloat16), ct.to_kind(Kind::BFloat16)),
        };
        let enc = self.encoder.forward_t(&pet, &ct, train);
        let dec = self.decoder.forward_t(&enc.features, train)?;
        let full_res = dec
            .features
            .last()
            .ok_or_else(|| Error::Config("decoder has no levels".into()))?;
        let out_kind = match self.config.precision {
            Precision::F32 => pet.kind(),
            Precision::Bf16 => Kind::Float,
        };
        let seg_logits = self
            .seg_head
            .as_ref()
            .map(|h| h.forward(full_res).to_kind(out_kind));
        let mut pooled: Vec<Tensor> = dec.features.iter().map(global_avg_pool).collect();
        if let Some(e) = extra {
            pooled.push(e.to_kind(pooled[0].kind()));
        }
        let features = Tensor::cat(&pooled, 1);
        let survival = self.surv_head.forward_t(&features, train).to_kind(out_kind);
        Ok(AdaMssOutput {
            seg_logits,
            survival,
            features,
            gates: enc.gates,
            attention: dec.attention,
        })
    }

    /// Mean gate weight per encoder level (the share of the fused branch; 1 − it is the share
    /// of the PET/CT path), from a forward pass's [`AdaMssOutput::gates`].
    pub fn mean_gate_weights(output: &AdaMssOutput) -> Vec<f64> {
        output
            .gates
            .iter()
            .map(|w| w.to_kind(Kind::Double).mean(None::<Kind>).double_value(&[]))
            .collect()
    }
}

/// The trainable variables of `vs` with their names (running statistics and other
/// non-trainable variables left out).
pub(crate) fn trainable_named(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let trainable: std::collections::HashSet<usize> = vs
        .trainable_variables()
        .iter()
        .map(|t| t.data_ptr() as usize)
        .collect();
    vs.variables()
        .into_iter()
        .filter(|(_, t)| trainable.contains(&(t.data_ptr() as usize)))
        .collect()
}

/// Counts the trainable parameters whose names start with one of `prefixes` (all when empty).
pub fn count_parameters(vs: &nn::VarStore, prefixes: &[&str]) -> i64 {
    trainable_named(vs)
        .iter()
        .filter(|(name, _)| prefixes.is_empty() || prefixes.iter().any(|p| name.starts_with(p)))
        .map(|(_, t)| t.numel() as i64)
        .sum()
}
