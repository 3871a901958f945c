//! Fuzz target `manifest`: [`adamss_fuzz::manifest`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::manifest(data));
