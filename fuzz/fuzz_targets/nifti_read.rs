//! Fuzzes the NIfTI reader on arbitrary bytes (plain or gzipped): it must return `Ok` or a
//! typed error, never panic, and never allocate beyond the configured bound.
#![no_main]

use adamss_io::{ReadOptions, Volume};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ReadOptions {
        max_bytes: 64 << 20,
        finite_only: true,
        // Both transform orders (the qform first, or the standard's sform first).
        prefer_qform: data.len() % 2 == 0,
    };
    let _ = Volume::<f32>::read_bytes(data, "fuzz.nii", &options);
    let _ = Volume::<u8>::read_bytes(data, "fuzz.nii", &options);
    let _ = Volume::<i64>::read_bytes(data, "fuzz.nii", &options);
});
