//! # AdaMSS
//!
//! Adaptive Multi-Modality Segmentation-to-Survival learning (Meng et al., arXiv 2305.09946)
//! for PET/CT survival prediction in head-and-neck cancer, as one Rust workspace.
//!
//! This facade re-exports the library crates:
//!
//! | module | crate | what |
//! |---|---|---|
//! | [`io`] | `adamss-io` | NIfTI volumes with geometry, HECKTOR/manifest cohorts, synthetic cohorts |
//! | [`preprocess`] | `adamss-preprocess` | resampling, cropping, normalisation, augmentation |
//! | [`model`] | `adamss-model` | the network (tch) |
//! | [`radiomics`] | `adamss-radiomics` | PyRadiomics-compatible features |
//! | [`survival`] | `adamss-survival` | Cox, C-index, Kaplan–Meier, log-rank, LASSO-Cox |
//! | [`train`] | `adamss-train` | two-stage training and evaluation |
//!
//! See the repository README for setup and `docs/` for the architecture and data formats.

pub use adamss_io as io;
pub use adamss_model as model;
pub use adamss_preprocess as preprocess;
pub use adamss_radiomics as radiomics;
pub use adamss_survival as survival;
pub use adamss_train as train;
