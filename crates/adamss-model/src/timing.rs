//! Timing a whole training step, for sizing hardware and for the side-by-side comparison
//! with the PyTorch twin (`tools/adamss_twin.py train-step`), which runs the same step.

use std::time::Instant;

use tch::nn;
use tch::{Device, Kind, Tensor};

use crate::error::Result;
use crate::loss::{dice_loss, focal_loss};
use crate::network::AdaMssConfig;
use crate::optim::{AdamConfig, FlatAdam};

/// Median and spread of one timed quantity, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct StepTiming {
    /// Median over the timed iterations.
    pub median_s: f64,
    /// Fastest iteration.
    pub min_s: f64,
    /// Slowest iteration.
    pub max_s: f64,
    /// Number of timed iterations.
    pub iters: usize,
}

fn synchronize(device: Device) {
    if let Device::Cuda(i) = device {
        tch::Cuda::synchronize(i as i64);
    }
}

/// Timings of the Stage-I training step and its parts.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct TrainStepTimings {
    /// Forward pass in training mode without gradient tracking.
    pub forward: StepTiming,
    /// Forward, loss and backward (no optimiser step).
    pub forward_backward: StepTiming,
    /// The whole step: zero grads, forward, loss, backward, Adam.
    pub step: StepTiming,
}

fn time_it(
    device: Device,
    warmup: usize,
    iters: usize,
    mut f: impl FnMut() -> Result<()>,
) -> Result<StepTiming> {
    for _ in 0..warmup {
        f()?;
    }
    synchronize(device);
    let mut times = Vec::with_capacity(iters.max(1));
    for _ in 0..iters.max(1) {
        let t0 = Instant::now();
        f()?;
        synchronize(device);
        times.push(t0.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let n = times.len();
    let median_s = if n % 2 == 1 {
        times[n / 2]
    } else {
        0.5 * (times[n / 2 - 1] + times[n / 2])
    };
    Ok(StepTiming {
        median_s,
        min_s: times[0],
        max_s: times[n - 1],
        iters: n,
    })
}

/// Times the Stage-I training step — forward, Dice + focal on both structures, backward,
/// Adam (lr 1e-4, [`FlatAdam`]) — and its parts on random inputs of `batch × size³`, after `warmup`
/// untimed runs each (where cuDNN's algorithm search is on — `tch::Cuda::cudnn_set_benchmark`,
/// the caller's choice — they hold it). Clocks are read after synchronising the device; medians
/// are reported.
pub fn time_train_step(
    config: &AdaMssConfig,
    device: Device,
    batch: i64,
    size: i64,
    warmup: usize,
    iters: usize,
) -> Result<TrainStepTimings> {
    tch::manual_seed(0);
    let vs = nn::VarStore::new(device);
    let net = config.build(&vs.root())?;
    let mut opt = FlatAdam::new(&vs, 1e-4, AdamConfig::default())?;
    let shape = [batch, 1, size, size, size];
    let pet = Tensor::randn(shape, (Kind::Float, device));
    let ct = Tensor::randn(shape, (Kind::Float, device));
    let target = Tensor::rand(
        [batch, config.seg_channels, size, size, size],
        (Kind::Float, device),
    )
    .gt(0.9)
    .to_kind(Kind::Float);
    let loss = || -> Result<Tensor> {
        let out = net.forward_t(&pet, &ct, None, true)?;
        let seg = out
            .seg_logits
            .ok_or_else(|| crate::Error::Config("timing needs the segmentation head".into()))?;
        Ok(dice_loss(&seg, &target)? + focal_loss(&seg, &target, 0.25, 2.0)?)
    };
    let forward = time_it(device, warmup, iters, || {
        tch::no_grad(|| net.forward_t(&pet, &ct, None, true)).map(|_| ())
    })?;
    let forward_backward = time_it(device, warmup, iters, || {
        opt.zero_grad();
        loss()?.backward();
        Ok(())
    })?;
    let step = time_it(device, warmup, iters, || {
        opt.zero_grad();
        loss()?.backward();
        opt.step()
    })?;
    Ok(TrainStepTimings {
        forward,
        forward_backward,
        step,
    })
}

/// What one `adamss bench-step` row times: the whole network at base width `width` on
/// `batch × size³` inputs, `warmup` untimed then `iters` timed steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BenchSpec {
    /// Cube side in voxels (a multiple of 16).
    pub size: i64,
    /// Batch size.
    pub batch: i64,
    /// Base width C (16 = the paper).
    pub width: i64,
    /// Untimed steps first.
    pub warmup: usize,
    /// Timed steps.
    pub iters: usize,
    /// cuDNN's algorithm search (CUDA only; set for the whole process).
    pub cudnn_benchmark: bool,
}

/// One timed configuration, in the row shape the PyTorch twin's `train-step` writes (so the
/// two tools' JSON lines compare key by key).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BenchRow {
    /// Always `"rust-tch"` (the twin writes its own name).
    #[serde(rename = "impl")]
    pub implementation: &'static str,
    /// `fp32` or `bf16`.
    pub precision: &'static str,
    /// Cube side.
    pub size: i64,
    /// Batch size.
    pub batch: i64,
    /// Base width.
    pub width: i64,
    /// The device as the user named it.
    pub device: String,
    /// Median whole step, s.
    pub step_s: f64,
    /// Fastest whole step, s.
    pub step_min_s: f64,
    /// Slowest whole step, s.
    pub step_max_s: f64,
    /// Median forward pass, s.
    pub forward_s: f64,
    /// Median forward + backward, s.
    pub forward_backward_s: f64,
    /// Timed steps.
    pub iters: usize,
    /// Whether cuDNN's algorithm search was on.
    pub cudnn_benchmark: bool,
}

impl BenchRow {
    /// Times [`time_train_step`] for `spec` in `precision` on `device` (`name`: how the user
    /// gave it, for the row).
    pub fn measure(
        name: &str,
        device: Device,
        precision: crate::Precision,
        spec: &BenchSpec,
    ) -> Result<Self> {
        if device.is_cuda() {
            tch::Cuda::cudnn_set_benchmark(spec.cudnn_benchmark);
        }
        let config = AdaMssConfig {
            precision,
            ..AdaMssConfig::with_base_width(spec.width)
        };
        let t = time_train_step(
            &config,
            device,
            spec.batch,
            spec.size,
            spec.warmup,
            spec.iters,
        )?;
        Ok(Self {
            implementation: "rust-tch",
            precision: match precision {
                crate::Precision::F32 => "fp32",
                crate::Precision::Bf16 => "bf16",
            },
            size: spec.size,
            batch: spec.batch,
            width: spec.width,
            device: name.to_string(),
            step_s: t.step.median_s,
            step_min_s: t.step.min_s,
            step_max_s: t.step.max_s,
            forward_s: t.forward.median_s,
            forward_backward_s: t.forward_backward.median_s,
            iters: t.step.iters,
            cudnn_benchmark: spec.cudnn_benchmark,
        })
    }
}
