//! Choosing where tensors live, and reporting what libtorch offers.

use std::fmt;

use tch::{Cuda, Device};

/// The first CUDA device when CUDA is usable, else the CPU.
pub fn best_device() -> Device {
    Device::cuda_if_available()
}

#[cfg(libtorch_cuda)]
extern "C" {
    /// `at::cuda::warp_size()` in `libtorch_cuda.so` (the symbol PyTorch's own "CUDA library
    /// not loaded" error names). Never called.
    #[link_name = "_ZN2at4cuda9warp_sizeEv"]
    fn at_cuda_warp_size() -> i32;
}

/// Whether this binary links libtorch's CUDA library (`libtorch_cuda.so`), which CUDA needs
/// even though nothing calls it directly.
///
/// When the libtorch it was built against has that library, this function references one of
/// its functions (by address; it is never called), and every network build calls this
/// function: so the linker's `--as-needed` cannot drop the library from any binary that
/// builds a network — this workspace's or a user's crate depending on `adamss-model`, where
/// the build script's link arguments do not reach. `false` for a CPU-only libtorch.
pub fn cuda_linked() -> bool {
    #[cfg(libtorch_cuda)]
    {
        let f: unsafe extern "C" fn() -> i32 = at_cuda_warp_size;
        std::hint::black_box(f as usize) != 0
    }
    #[cfg(not(libtorch_cuda))]
    {
        false
    }
}

/// What the linked libtorch can run on, as found at run time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeviceInfo {
    /// Whether the binary links `libtorch_cuda.so` ([`cuda_linked`]).
    pub cuda_linked: bool,
    /// Whether CUDA is usable (needs `libtorch_cuda.so` linked and a GPU present).
    pub cuda_available: bool,
    /// Number of visible CUDA devices.
    pub cuda_devices: usize,
    /// Whether cuDNN is usable.
    pub cudnn_available: bool,
    /// Threads libtorch uses for CPU kernels.
    pub cpu_threads: i32,
}

impl DeviceInfo {
    /// Queries libtorch.
    pub fn probe() -> Self {
        let cuda_available = Cuda::is_available();
        Self {
            cuda_linked: cuda_linked(),
            cuda_available,
            cuda_devices: if cuda_available {
                usize::try_from(Cuda::device_count()).unwrap_or(0)
            } else {
                0
            },
            cudnn_available: Cuda::cudnn_is_available(),
            cpu_threads: tch::get_num_threads(),
        }
    }
}

impl fmt::Display for DeviceInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cuda_available {
            write!(
                f,
                "CUDA: {} device(s), cuDNN {}; CPU threads: {}",
                self.cuda_devices,
                if self.cudnn_available { "yes" } else { "no" },
                self.cpu_threads
            )
        } else {
            write!(
                f,
                "CUDA: unavailable ({}); CPU threads: {}",
                if self.cuda_linked {
                    "no GPU found"
                } else {
                    "libtorch_cuda not linked"
                },
                self.cpu_threads
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_is_consistent_with_best_device() {
        let info = DeviceInfo::probe();
        assert_eq!(info.cuda_available, best_device().is_cuda());
        assert!(info.cpu_threads >= 1);
        if !info.cuda_available {
            assert_eq!(info.cuda_devices, 0);
        }
    }

    /// The build keeps `libtorch_cuda.so` as a NEEDED entry (see build-support/torch_link.rs),
    /// so CUDA is found on a GPU machine. Checked on this very test binary.
    #[test]
    #[cfg(target_os = "linux")]
    fn binary_links_libtorch_cuda_when_libtorch_has_it() {
        let exe = std::env::current_exe().expect("current exe");
        let bytes = std::fs::read(&exe).expect("read test binary");
        let maps = std::fs::read_to_string("/proc/self/maps").expect("maps");
        let libtorch_has_cuda = maps
            .lines()
            .filter_map(|l| l.split_whitespace().nth(5))
            .find(|p| p.ends_with("libtorch_cpu.so"))
            .map(|p| {
                std::path::Path::new(p)
                    .with_file_name("libtorch_cuda.so")
                    .exists()
            })
            .expect("libtorch_cpu.so is mapped");
        let needed = bytes
            .windows(b"libtorch_cuda.so\0".len())
            .any(|w| w == b"libtorch_cuda.so\0");
        assert_eq!(
            needed, libtorch_has_cuda,
            "libtorch_cuda.so NEEDED entry vs available"
        );
        assert!(maps.contains("libtorch_cuda.so") == libtorch_has_cuda);
    }
}
