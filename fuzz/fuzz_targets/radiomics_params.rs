//! Fuzz target `radiomics_params`: [`adamss_fuzz::radiomics_params`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::radiomics_params(data));
