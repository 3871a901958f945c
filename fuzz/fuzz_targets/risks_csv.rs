//! Fuzz target `risks_csv`: [`adamss_fuzz::risks_csv`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::risks_csv(data));
