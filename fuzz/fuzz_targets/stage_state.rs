//! Fuzz target `stage_state`: [`adamss_fuzz::stage_state`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::stage_state(data));
