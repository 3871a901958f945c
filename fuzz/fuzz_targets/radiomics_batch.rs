//! Fuzz target `radiomics_batch`: [`adamss_fuzz::radiomics_batch`] on arbitrary bytes
//! (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::radiomics_batch(data));
