//! Integration tests of adamss-preprocess.
#![allow(clippy::unwrap_used)]

mod grid;
mod pipeline;
mod sitk;
