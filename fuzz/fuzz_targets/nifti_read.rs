//! Fuzz target `nifti_read`: [`adamss_fuzz::nifti_read`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::nifti_read(data));
