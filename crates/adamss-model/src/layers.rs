//! The elementary layers: 3-D convolution with PyTorch's default initialisation,
//! `ConvNormAct`, and the 1×1×1 conv + BatchNorm used by the attention gates.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Init, ModuleT};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};

/// PyTorch's default weight initialisation for `Conv3d`/`Linear`: Kaiming-uniform with
/// `a = √5`, i.e. `U(±1/√fan_in)`.
pub(crate) const TORCH_DEFAULT_WEIGHT: Init = Init::Kaiming {
    dist: nn::init::NormalOrUniform::Uniform,
    fan: nn::init::FanInOut::FanIn,
    // gain √(2 / (1 + a²)) with a = √5, so bound = gain·√3/√fan_in = 1/√fan_in.
    non_linearity: nn::init::NonLinearity::ExplicitGain(0.577_350_269_189_625_8),
};

/// PyTorch's default bias initialisation: `U(±1/√fan_in)`.
pub(crate) fn torch_default_bias(fan_in: i64) -> Init {
    let bound = 1.0 / (fan_in.max(1) as f64).sqrt();
    Init::Uniform {
        lo: -bound,
        up: bound,
    }
}

/// Casts a parameter to the compute kind of the activations it meets (mixed precision):
/// a no-op in fp32, a differentiable cast under bf16.
pub(crate) fn as_kind_of(param: &Tensor, xs: &Tensor) -> Tensor {
    let kind = xs.kind();
    if param.kind() == kind {
        param.shallow_clone()
    } else {
        param.to_kind(kind)
    }
}

/// A 3-D convolution, stride 1, "same" padding, with bias.
///
/// Parameters `weight` `[cout, cin, k, k, k]` and `bias` `[cout]`, initialised as PyTorch does.
/// Under mixed precision the weights are cast to the input's kind (as autocast does).
#[derive(Debug)]
pub struct Conv3d {
    /// Kernel weights `[cout, cin, k, k, k]`.
    pub weight: Tensor,
    /// Bias `[cout]`.
    pub bias: Tensor,
    padding: i64,
}

impl Conv3d {
    /// Creates the variables `weight` and `bias` under `path`.
    pub fn new(path: &nn::Path, cin: i64, cout: i64, k: i64) -> Result<Self> {
        Self::with_init(path, cin, cout, k, TORCH_DEFAULT_WEIGHT)
    }

    /// As [`Conv3d::new`] with an explicit weight initialisation (the bias keeps PyTorch's).
    pub fn with_init(path: &nn::Path, cin: i64, cout: i64, k: i64, ws_init: Init) -> Result<Self> {
        if cin < 1 || cout < 1 || k < 1 || k % 2 == 0 {
            return Err(Error::Config(format!(
                "Conv3d needs positive channels and an odd kernel, got cin {cin}, cout {cout}, k {k}"
            )));
        }
        let fan_in = cin * k * k * k;
        let weight = path.f_var("weight", &[cout, cin, k, k, k], ws_init)?;
        let bias = path.f_var("bias", &[cout], torch_default_bias(fan_in))?;
        Ok(Self {
            weight,
            bias,
            padding: k / 2,
        })
    }

    /// Applies the convolution.
    ///
    /// bf16 on CPU is computed in fp32 and cast back: libtorch 2.11's CPU bf16 convolution
    /// returns NaN weight gradients on small feature maps (seen at 2³, the deepest level of a
    /// 32³ input; test `bf16_training_stays_finite`). bf16 is meant for CUDA.
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        if xs.device() == tch::Device::Cpu && xs.kind() == Kind::BFloat16 {
            let x = xs.to_kind(Kind::Float);
            let w = as_kind_of(&self.weight, &x);
            let b = as_kind_of(&self.bias, &x);
            return x
                .conv3d(&w, Some(&b), [1, 1, 1], [self.padding; 3], [1, 1, 1], 1)
                .to_kind(Kind::BFloat16);
        }
        let w = as_kind_of(&self.weight, xs);
        let b = as_kind_of(&self.bias, xs);
        xs.conv3d(&w, Some(&b), [1, 1, 1], [self.padding; 3], [1, 1, 1], 1)
    }
}

/// BatchNorm3d as PyTorch builds it (γ = 1, β = 0, momentum 0.1, ε 1e-5).
pub(crate) fn batch_norm3d(path: &nn::Path, c: i64) -> nn::BatchNorm {
    nn::batch_norm3d(
        path,
        c,
        nn::BatchNormConfig {
            ws_init: Init::Const(1.0),
            bs_init: Init::Const(0.0),
            ..Default::default()
        },
    )
}

/// Configuration of a [`ConvNormAct`]: `Conv3d k³ → BatchNorm3d → ReLU`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConvNormActConfig {
    /// Input channels.
    pub cin: i64,
    /// Output channels.
    pub cout: i64,
    /// Kernel size (odd; 3 or 1 in AdaMSS).
    pub kernel: i64,
}

impl ConvNormActConfig {
    /// Builds the block under `path` (`conv.*`, `bn.*`).
    pub fn build(&self, path: &nn::Path) -> Result<ConvNormAct> {
        Ok(ConvNormAct {
            conv: Conv3d::new(&(path / "conv"), self.cin, self.cout, self.kernel)?,
            bn: batch_norm3d(&(path / "bn"), self.cout),
        })
    }
}

/// `Conv3d k³ (bias, same padding) → BatchNorm3d → ReLU`.
///
/// # Shapes
/// `[N, cin, D, H, W] → [N, cout, D, H, W]`.
#[derive(Debug)]
pub struct ConvNormAct {
    conv: Conv3d,
    bn: nn::BatchNorm,
}

impl ModuleT for ConvNormAct {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.bn.forward_t(&self.conv.forward(xs), train).relu()
    }
}

/// `Conv3d 1³ → BatchNorm3d` without activation (the attention gate's θ, φ and ψ).
#[derive(Debug)]
pub struct Conv1Norm {
    conv: Conv3d,
    bn: nn::BatchNorm,
}

impl Conv1Norm {
    /// Builds the block under `path` (`conv.*`, `bn.*`).
    pub fn new(path: &nn::Path, cin: i64, cout: i64) -> Result<Self> {
        Ok(Self {
            conv: Conv3d::new(&(path / "conv"), cin, cout, 1)?,
            bn: batch_norm3d(&(path / "bn"), cout),
        })
    }
}

impl ModuleT for Conv1Norm {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.bn.forward_t(&self.conv.forward(xs), train)
    }
}

/// A fully connected layer with PyTorch's default initialisation and mixed-precision casting.
#[derive(Debug)]
pub struct Linear {
    /// `[out, in]`.
    pub weight: Tensor,
    /// `[out]`.
    pub bias: Tensor,
}

impl Linear {
    /// Creates `weight` and `bias` under `path`.
    pub fn new(path: &nn::Path, cin: i64, cout: i64) -> Result<Self> {
        if cin < 1 || cout < 1 {
            return Err(Error::Config(format!(
                "Linear needs positive sizes, got {cin} -> {cout}"
            )));
        }
        Ok(Self {
            weight: path.f_var("weight", &[cout, cin], TORCH_DEFAULT_WEIGHT)?,
            bias: path.f_var("bias", &[cout], torch_default_bias(cin))?,
        })
    }

    /// `xs · Wᵀ + b`.
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        xs.linear(
            &as_kind_of(&self.weight, xs),
            Some(as_kind_of(&self.bias, xs)),
        )
    }
}

/// Max-pooling by 2 in every axis.
pub(crate) fn max_pool2(xs: &Tensor) -> Tensor {
    xs.max_pool3d([2, 2, 2], [2, 2, 2], [0, 0, 0], [1, 1, 1], false)
}

/// Average-pooling by 2 in every axis.
///
/// libtorch has no CPU kernel for half-precision 3-D average pooling; there the pooling runs in
/// fp32 and the result is cast back.
pub(crate) fn avg_pool2(xs: &Tensor) -> Tensor {
    let pool = |t: &Tensor| t.avg_pool3d([2, 2, 2], [2, 2, 2], [0, 0, 0], false, true, None::<i64>);
    if xs.device() == tch::Device::Cpu && matches!(xs.kind(), Kind::BFloat16 | Kind::Half) {
        pool(&xs.to_kind(Kind::Float)).to_kind(xs.kind())
    } else {
        pool(xs)
    }
}

/// Nearest-neighbour upsampling by 2.
pub(crate) fn upsample_nearest2(xs: &Tensor) -> Tensor {
    let s = xs.size();
    xs.upsample_nearest3d([s[2] * 2, s[3] * 2, s[4] * 2], 2.0, 2.0, 2.0)
}

/// Trilinear upsampling by 2 with `align_corners = true`.
pub(crate) fn upsample_trilinear2(xs: &Tensor) -> Tensor {
    let s = xs.size();
    xs.upsample_trilinear3d([s[2] * 2, s[3] * 2, s[4] * 2], true, 2.0, 2.0, 2.0)
}

/// Global average pooling over the spatial axes: `[N, C, D, H, W] → [N, C]`, in fp32 (fp64 for
/// fp64 input).
pub(crate) fn global_avg_pool(xs: &Tensor) -> Tensor {
    let kind = if xs.kind() == Kind::Double {
        Kind::Double
    } else {
        Kind::Float
    };
    xs.to_kind(kind)
        .mean_dim([2i64, 3, 4].as_slice(), false, None::<Kind>)
}
