//! Fuzz target `head_inputs`: [`adamss_fuzz::head_inputs`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::head_inputs(data));
