//! Fuzz target `experiment_toml`: [`adamss_fuzz::experiment_toml`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::experiment_toml(data));
