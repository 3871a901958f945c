//! CPU-side tuning of libtorch's memory behaviour.
//!
//! libtorch allocates CPU tensors with `malloc`. glibc serves blocks above its mmap threshold
//! with fresh `mmap`s and gives them back on `free`, and trims the heap top beyond its trim
//! threshold; a training loop that allocates and frees the same multi-megabyte activations
//! every iteration then pays page faults on every one. Measured here on a 48³ ResBlock
//! forward (docs/benchmarks.md): 38–44 ms in a fresh process against 18 ms with the
//! thresholds raised — the same as PyTorch from Python, whose process usually reaches that
//! state by itself. [`tune_allocator`] raises both thresholds once, as PyTorch's own
//! performance guide suggests (or preload jemalloc/tcmalloc instead).

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
