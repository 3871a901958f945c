//! Device names in configs and on the command line.

use adamss_model::tch::{Cuda, Device};

use crate::config::RuntimeConfig;
use crate::error::{Error, Result};

/// Parses `runtime.device` ([`parse_device`]) and applies the rest of `runtime`, libtorch
/// settings that hold for the whole process: on CUDA, cuDNN's algorithm search
/// (`runtime.cudnn_benchmark`); libtorch's CPU threads (`runtime.torch_threads`, with 0 = one
/// thread on CUDA and libtorch's default on the CPU).
pub fn open_device(runtime: &RuntimeConfig) -> Result<Device> {
    let device = parse_device(&runtime.device)?;
    if device.is_cuda() {
        Cuda::cudnn_set_benchmark(runtime.cudnn_benchmark);
    }
    match (runtime.torch_threads, device.is_cuda()) {
        (0, false) => {}
        (0, true) => adamss_model::tch::set_num_threads(1),
        (n, _) => adamss_model::tch::set_num_threads(i32::try_from(n).unwrap_or(i32::MAX)),
    }
    Ok(device)
}

/// Parses `cpu`, `cuda` (first GPU), `cuda:N` or `auto` (first GPU if CUDA is available,
/// else CPU). Asking for CUDA where it is unavailable is an error.
pub fn parse_device(name: &str) -> Result<Device> {
    let device = match name {
        "cpu" => Device::Cpu,
        "auto" => Device::cuda_if_available(),
        "cuda" => Device::Cuda(0),
        other => match other.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(i)) => Device::Cuda(i),
            _ => {
                return Err(Error::Config(format!(
                    "unknown device {other:?}: use cpu, cuda, cuda:N or auto"
                )))
            }
        },
    };
    if let Device::Cuda(i) = device {
        let n = if Cuda::is_available() {
            Cuda::device_count() as usize
        } else {
            0
        };
        if i >= n {
            return Err(Error::Config(format!(
                "device {name:?}: this build sees {n} CUDA device(s) (see `adamss device`)"
            )));
        }
    }
    Ok(device)
}
