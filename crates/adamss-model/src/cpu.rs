//! CPU-side settings of a process: libtorch's memory behaviour, and the vector instruction
//! level the numerical libraries may use (for results that do not depend on the CPU).
//!
//! # Memory
//!
//! libtorch allocates CPU tensors with `malloc`. glibc serves blocks above its mmap threshold
//! with fresh `mmap`s and gives them back on `free`, and trims the heap top beyond its trim
//! threshold; a training loop that allocates and frees the same multi-megabyte activations
//! every iteration then pays page faults on every one. Measured here on a 48³ ResBlock
//! forward (docs/benchmarks.md): 38–44 ms in a fresh process against 18 ms with the
//! thresholds raised — the same as PyTorch from Python, whose process usually reaches that
//! state by itself. [`tune_allocator`] raises both thresholds once, as PyTorch's own
//! performance guide suggests (or preload jemalloc/tcmalloc instead).
//!
//! # Instruction level
//!
//! [`CpuIsa`] and [`pin_isa`]: the `adamss` binary pins libtorch and OpenBLAS at AVX2 unless
//! `ADAMSS_CPU_ISA=native`, so that a seed gives the same weights and tables on AVX-512 and
//! AVX2-only machines (at the same number of libtorch threads). A program of your own that
//! wants the same does what `adamss` does, first thing in `main`:
//!
//! ```no_run
//! use adamss_model::cpu::{pin_isa, CpuIsa};
//! # fn main() -> std::io::Result<()> {
//! let pin = pin_isa(CpuIsa::Avx2)?; // re-executes the program once with the settings
//! println!("{}", pin.describe()); // e.g. "avx512 CPU, pinned at avx2"
//! # Ok(())
//! # }
//! ```

/// Raises glibc's mmap and trim thresholds (1 GiB and 2 GiB) so freed tensor buffers are
/// reused instead of unmapped. Returns whether the settings were applied: `false` on
/// platforms without glibc's `mallopt`, where it does nothing.
///
/// Trade-off: memory freed by libtorch stays with the process (as in a caching allocator)
/// instead of returning to the OS at once. Call it at start-up of a training or inference
/// program; the `adamss` binary does.
pub fn tune_allocator() -> bool {
    imp::tune()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
mod imp {
    pub fn tune() -> bool {
        // SAFETY: mallopt only changes allocator parameters; both values are valid c_ints and
        // glibc applies them under its own lock, at any time, from any thread.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 30) == 1
                && libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX) == 1
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub fn tune() -> bool {
        false
    }
}

/// The environment variable that chooses the [`CpuIsa`] of the `adamss` binary.
pub const ISA_ENV: &str = "ADAMSS_CPU_ISA";

/// Which x86-64 vector instructions the numerical libraries of a process may use.
///
/// libtorch's vectorised kernels (ATen), its convolutions (oneDNN) and OpenBLAS (which the
/// Cox fits, the radiomics' eigenvalues and, through symbol resolution in a binary that links
/// it, libtorch's own matrix products call) each pick code paths by the instruction set of
/// the CPU they find. AVX-512 and AVX2 paths sum in different orders, so the same seed gives
/// other weights, masks and tables on an AVX-512 machine than on an AVX2-only one. Measured
/// (docs/benchmarks.md, "The main job across CPUs"): the first difference is oneDNN's
/// convolution weight gradient; ATen's element-wise kernels and reductions agree bit for bit.
///
/// Pinning every library to the AVX2 level makes the results the same on every x86-64 CPU
/// with AVX2 and FMA (Intel since Haswell, AMD since Zen) at the same number of libtorch
/// threads, which also changes the order of sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CpuIsa {
    /// Each library's own choice for the host: fastest, results follow the CPU.
    Native,
    /// AVX2 + FMA code paths in every library, on any CPU that has them.
    Avx2,
}

impl CpuIsa {
    /// The names accepted in [`ISA_ENV`]: `native`, `avx2`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_lowercase().as_str() {
            "native" => Some(Self::Native),
            "avx2" => Some(Self::Avx2),
            _ => None,
        }
    }

    /// The level asked for in [`ISA_ENV`], `default` when unset; an unknown value is an error
    /// naming the variable.
    pub fn from_env(default: Self) -> std::result::Result<Self, String> {
        match std::env::var(ISA_ENV) {
            Err(std::env::VarError::NotPresent) => Ok(default),
            Ok(v) => Self::parse(&v)
                .ok_or_else(|| format!("{ISA_ENV}={v:?} is not a CPU level: use avx2 or native")),
            Err(e) => Err(format!("{ISA_ENV}: {e}")),
        }
    }

    /// The environment variables that hold libtorch (ATen, oneDNN, MKL) and OpenBLAS at this
    /// level; none for [`CpuIsa::Native`]. They are read when each library loads or first
    /// runs, so they must be in the environment before the process starts: see
    /// [`pin_isa`].
    pub fn env_vars(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Self::Native => &[],
            Self::Avx2 => &[
                ("ATEN_CPU_CAPABILITY", "avx2"),
                ("ONEDNN_MAX_CPU_ISA", "AVX2"),
                ("DNNL_MAX_CPU_ISA", "AVX2"),
                ("MKL_CBWR", "AVX2"),
                ("OPENBLAS_CORETYPE", "Haswell"),
            ],
        }
    }

    /// Whether this process's environment holds every variable of [`CpuIsa::env_vars`].
    pub fn in_env(self) -> bool {
        self.env_vars()
            .iter()
            .all(|(k, v)| std::env::var(k).is_ok_and(|have| have == *v))
    }
}

impl std::fmt::Display for CpuIsa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Native => "native",
            Self::Avx2 => "avx2",
        })
    }
}

/// The widest vector level this CPU offers, as the libraries see it: `avx512` (AVX-512 F, BW,
/// VL, DQ), `avx2` (with FMA), or `baseline` (older or not x86-64).
pub fn host_isa() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f")
            && std::arch::is_x86_feature_detected!("avx512bw")
            && std::arch::is_x86_feature_detected!("avx512vl")
            && std::arch::is_x86_feature_detected!("avx512dq")
        {
            return "avx512";
        }
        if avx2_fma() {
            return "avx2";
        }
    }
    "baseline"
}

/// Whether the CPU has AVX2 and FMA, which [`CpuIsa::Avx2`] needs.
fn avx2_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// What [`pin_isa`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsaPin {
    /// The environment already pins the libraries at this level (the process was started so,
    /// or re-executed by [`pin_isa`]).
    Pinned(CpuIsa),
    /// Nothing pinned: [`CpuIsa::Native`] was asked for.
    Native,
    /// The level was asked for but the CPU lacks it (no AVX2/FMA, or not x86-64): the
    /// libraries run at their own choice, which cannot match an AVX2 machine's results.
    Unsupported(CpuIsa),
}

impl IsaPin {
    /// One line for logs and reports, e.g. `avx512 CPU, pinned at avx2`.
    pub fn describe(self) -> String {
        let host = host_isa();
        match self {
            Self::Pinned(isa) => format!("{host} CPU, pinned at {isa}"),
            Self::Native => format!("{host} CPU, native code paths ({ISA_ENV}=native)"),
            Self::Unsupported(isa) => {
                format!("{host} CPU, native code paths ({isa} unavailable here)")
            }
        }
    }
}

/// Makes this process run its numerical libraries at `isa`.
///
/// The libraries read their settings when they load, before `main`, so when the environment
/// does not already hold [`CpuIsa::env_vars`] this re-executes the current program with the
/// same arguments and those variables added, and does not return. Call it first thing in
/// `main`, before any thread is started. Returns what holds for the process otherwise; an
/// `Err` only when the re-execution itself failed (nothing has run yet, so the caller may
/// report it and stop).
pub fn pin_isa(isa: CpuIsa) -> std::io::Result<IsaPin> {
    if isa == CpuIsa::Native {
        return Ok(IsaPin::Native);
    }
    if isa.in_env() {
        return Ok(IsaPin::Pinned(isa));
    }
    if !avx2_fma() {
        return Ok(IsaPin::Unsupported(isa));
    }
    reexec(isa.env_vars())
}

#[cfg(unix)]
fn reexec(vars: &[(&str, &str)]) -> std::io::Result<IsaPin> {
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe()?;
    let mut args = std::env::args_os();
    let arg0 = args.next().unwrap_or_else(|| exe.clone().into_os_string());
    let err = std::process::Command::new(&exe)
        .arg0(arg0)
        .args(args)
        .envs(vars.iter().copied())
        .exec();
    Err(std::io::Error::new(
        err.kind(),
        format!(
            "re-executing {} at a pinned CPU level: {err}",
            exe.display()
        ),
    ))
}

#[cfg(not(unix))]
fn reexec(_vars: &[(&str, &str)]) -> std::io::Result<IsaPin> {
    Ok(IsaPin::Unsupported(CpuIsa::Avx2))
}

#[cfg(test)]
mod isa_tests {
    use super::*;

    #[test]
    fn levels_parse_and_print() {
        for isa in [CpuIsa::Native, CpuIsa::Avx2] {
            assert_eq!(CpuIsa::parse(&isa.to_string()), Some(isa));
        }
        assert_eq!(CpuIsa::parse(" AVX2 "), Some(CpuIsa::Avx2));
        assert_eq!(CpuIsa::parse("avx512"), None);
        assert!(CpuIsa::Native.env_vars().is_empty());
        assert!(CpuIsa::Native.in_env());
        let names: Vec<_> = CpuIsa::Avx2.env_vars().iter().map(|(k, _)| *k).collect();
        for lib in [
            "ATEN_CPU_CAPABILITY",
            "ONEDNN_MAX_CPU_ISA",
            "OPENBLAS_CORETYPE",
        ] {
            assert!(names.contains(&lib), "{lib}");
        }
    }

    #[test]
    fn native_never_reexecutes() {
        assert_eq!(pin_isa(CpuIsa::Native).ok(), Some(IsaPin::Native));
        assert!(IsaPin::Native.describe().contains("native"));
        assert!(["avx512", "avx2", "baseline"].contains(&host_isa()));
    }
}
