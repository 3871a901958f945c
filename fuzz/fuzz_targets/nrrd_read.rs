//! Fuzz target `nrrd_read`: [`adamss_fuzz::nrrd_read`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::nrrd_read(data));
