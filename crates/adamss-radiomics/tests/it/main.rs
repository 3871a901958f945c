//! Integration tests of adamss-radiomics.
#![allow(clippy::unwrap_used)]

mod ibsi;
mod params;
mod pyradiomics;
mod resample;
mod select;
mod table;
mod voxel;
