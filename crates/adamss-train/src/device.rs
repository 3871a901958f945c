//! Device names in configs and on the command line.

use adamss_model::tch::{Cuda, Device};

use crate::error::{Error, Result};

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
