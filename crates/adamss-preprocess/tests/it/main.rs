//! Integration tests of adamss-preprocess.
#![allow(clippy::unwrap_used)]

mod augment;
mod cache;
mod centres;
mod components;
mod grid;
mod pipeline;
mod segmetrics;
mod sitk;
