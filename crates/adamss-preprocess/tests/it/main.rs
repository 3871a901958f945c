//! Integration tests of adamss-preprocess.
#![allow(clippy::unwrap_used)]

mod augment;
mod grid;
mod pipeline;
mod sitk;
