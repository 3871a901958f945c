#![doc = include_str!("../README.md")]

mod batch;
mod context;
mod diagnostics;
mod discretize;
mod error;
mod extract;
mod filters;
pub mod firstorder;
pub mod glcm;
mod log;
mod mc_table;
pub mod ngtdm;
mod params;
mod pixel;
mod resample;
mod roi;
mod select;
mod settings;
mod shape;
mod shape2d;
pub mod sizezone;
mod table;
mod voxel;
pub mod wavelet;
mod wavelet_filters;

/// adamss-io, whose volumes this crate reads, and its `ndarray`, so users need no matching pins.
pub use adamss_io as io;
pub use adamss_io::ndarray;
pub use batch::{Batch, BatchCase, CaseMaps, CaseOutput};
pub use context::with_case;
pub use diagnostics::Diagnostics;
pub use discretize::{bin_edges, bin_edges_single, discretize, Discretized};
pub use error::{Error, Result};
pub use extract::{
    crop_to_roi, extract, extract_filtered, extract_log, extract_shape, extract_shape2d,
    extract_wavelet, FeatureClass, Features,
};
pub use filters::{lbp2d, ImageType, LbpMethod};
pub use log::laplacian_of_gaussian;
pub use params::{ExtractionPlan, ImageTypeSelection};
pub use pixel::{Pixel, PixelType};
pub use resample::{resample, Resampled, ResampledImage};
pub use roi::{image_values, resegment, Roi};
pub use select::{FeatureSelector, PenaltyRule, SelectorConfig};
pub use settings::{ResegmentMode, Settings, WeightingNorm};
pub use shape::shape_features;
pub use shape2d::shape2d_features;
pub use table::{extract_image, extract_pet_ct, write_case_json, ExtractionConfig, FeatureTable};
pub use voxel::{extract_voxel_based, FeatureMaps, VoxelSettings};
