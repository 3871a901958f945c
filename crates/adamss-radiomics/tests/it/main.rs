//! Integration tests of adamss-radiomics.
#![allow(clippy::unwrap_used)]

mod ibsi;
mod pyradiomics;
mod select;
mod table;
