//! Integration tests of the AdaMSS network: parameter counts, shapes, gradients, gates,
//! determinism, losses, checkpoints. PyTorch equivalence lives in the workspace tests
//! (`tests/it/model.rs`), next to the golden files.
#![allow(clippy::unwrap_used)]

mod losses;
mod network;
mod optim;
