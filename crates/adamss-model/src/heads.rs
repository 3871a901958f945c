//! Segmentation and survival heads.

use serde::{Deserialize, Serialize};
use tch::nn;
use tch::Tensor;

use crate::error::{Error, Result};
use crate::layers::{Conv3d, Linear};

/// The segmentation head: a 1×1×1 convolution to one logit per structure (GTVp, GTVn), read
/// through independent sigmoids.
///
/// # Shapes
/// `[N, C, S, S, S] → [N, channels, S, S, S]` logits.
#[derive(Debug)]
pub struct SegmentationHead {
    conv: Conv3d,
}

impl SegmentationHead {
    /// Builds `weight`/`bias` under `path` (`cin → channels`).
    pub fn new(path: &nn::Path, cin: i64, channels: i64) -> Result<Self> {
        Ok(Self {
            conv: Conv3d::new(path, cin, channels, 1)?,
        })
    }

    /// Logits (apply `sigmoid` for probabilities).
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        self.conv.forward(xs)
    }
}

/// What the survival head predicts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind", deny_unknown_fields)]
pub enum SurvivalOutput {
    /// One value per patient: the Cox log-risk (higher = worse). Our default.
    #[default]
    Cox,
    /// The released code's discrete-time model: one logit per interval, sigmoid = conditional
    /// survival through that interval.
    DiscreteTime {
        /// Interval breaks in days, increasing, starting at 0 (released code:
        /// 0, 300, 600, 900, 1100, 1300, 1500, 2100, 2700, 3500, 6000).
        breaks: Vec<f64>,
    },
}

impl SurvivalOutput {
    /// The released code's 10 intervals.
    pub fn released_discrete_time() -> Self {
        Self::DiscreteTime {
            breaks: vec![
                0.0, 300.0, 600.0, 900.0, 1100.0, 1300.0, 1500.0, 2100.0, 2700.0, 3500.0, 6000.0,
            ],
        }
    }

    /// Number of output units.
    pub fn units(&self) -> i64 {
        match self {
            Self::Cox => 1,
            Self::DiscreteTime { breaks } => breaks.len() as i64 - 1,
        }
    }

    /// Checks the breaks.
    pub fn validate(&self) -> Result<()> {
        if let Self::DiscreteTime { breaks } = self {
            let ok = breaks.len() >= 2
                && breaks.iter().all(|b| b.is_finite())
                && breaks.first() == Some(&0.0)
                && breaks.windows(2).all(|w| w[0] < w[1]);
            if !ok {
                return Err(Error::Config(format!(
                    "discrete-time breaks must be finite, increasing, start at 0 and give at least one interval, got {breaks:?}"
                )));
            }
        }
        Ok(())
    }
}

/// Configuration of a [`SurvivalHead`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SurvivalHeadConfig {
    /// Values appended to the pooled deep features: selected radiomics + clinical features
    /// (z-scored on the training fold). 0 reproduces the released code's dead path.
    pub extra_features: i64,
    /// Hidden width as a multiple of the base width C (paper: 8, i.e. 128 at C = 16).
    pub hidden_multiplier: i64,
    /// Dropout probability before each fully connected layer (paper: 0.5).
    pub dropout: f64,
    /// Output kind.
    pub output: SurvivalOutput,
}

impl Default for SurvivalHeadConfig {
    fn default() -> Self {
        Self {
            extra_features: 0,
            hidden_multiplier: 8,
            dropout: 0.5,
            output: SurvivalOutput::Cox,
        }
    }
}

impl SurvivalHeadConfig {
    /// Checks the values.
    pub fn validate(&self) -> Result<()> {
        if self.extra_features < 0 || self.hidden_multiplier < 1 {
            return Err(Error::Config(format!(
                "survival head: extra_features must be ≥ 0 and hidden_multiplier ≥ 1, got {} and {}",
                self.extra_features, self.hidden_multiplier
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Config(format!(
                "survival head: dropout must be in [0, 1), got {}",
                self.dropout
            )));
        }
        self.output.validate()
    }

    /// Builds `fc1.*` and `fc2.*` under `path` for `pooled` deep features and base width `c`.
    pub fn build(&self, path: &nn::Path, pooled: i64, c: i64) -> Result<SurvivalHead> {
        self.validate()?;
        let hidden = self.hidden_multiplier * c;
        Ok(SurvivalHead {
            fc1: Linear::new(&(path / "fc1"), pooled + self.extra_features, hidden)?,
            fc2: Linear::new(&(path / "fc2"), hidden, self.output.units())?,
            dropout: self.dropout,
            inputs: pooled + self.extra_features,
        })
    }
}

/// `Dropout → FC(in → 8C) → ReLU → Dropout → FC(8C → outputs)`.
///
/// # Shapes
/// `[N, pooled + extra] → [N, outputs]` (1 for Cox, the number of intervals otherwise).
#[derive(Debug)]
pub struct SurvivalHead {
    fc1: Linear,
    fc2: Linear,
    dropout: f64,
    inputs: i64,
}

impl SurvivalHead {
    /// Applies the head.
    pub fn forward_t(&self, v: &Tensor, train: bool) -> Tensor {
        let v = v.dropout(self.dropout, train);
        let v = self.fc1.forward(&v).relu().dropout(self.dropout, train);
        self.fc2.forward(&v)
    }

    /// Number of inputs the head expects.
    pub fn inputs(&self) -> i64 {
        self.inputs
    }

    /// `‖W_fc1‖² + ‖W_fc2‖²` (weights only), the released code's head penalty.
    pub fn weight_l2(&self) -> Tensor {
        self.fc1.weight.square().sum(None::<tch::Kind>)
            + self.fc2.weight.square().sum(None::<tch::Kind>)
    }
}
