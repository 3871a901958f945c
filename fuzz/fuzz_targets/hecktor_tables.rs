//! Fuzz target `hecktor_tables`: [`adamss_fuzz::hecktor_tables`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::hecktor_tables(data));
