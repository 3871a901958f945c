//! Integration tests of the AdaMSS network: parameter counts, shapes, gradients, gates,
//! determinism, losses, checkpoints. PyTorch equivalence lives in the workspace tests
//! (`tests/it/model.rs`), next to the golden files.
#![allow(clippy::unwrap_used)]

/// libtorch's generator is global and tests run on several threads: every test that seeds and
/// draws holds this lock (one for the whole binary, so modules do not race each other).
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

mod losses;
mod network;
mod optim;
