//! Fuzz target `checkpoint`: [`adamss_fuzz::checkpoint`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::checkpoint(data));
