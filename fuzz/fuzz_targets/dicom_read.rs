//! Fuzz target `dicom_read`: [`adamss_fuzz::dicom_read`] on arbitrary bytes (docs/fuzzing.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| adamss_fuzz::dicom_read(data));
