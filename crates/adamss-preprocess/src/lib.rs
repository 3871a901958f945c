#![doc = include_str!("../README.md")]

mod augment;
mod cache;
mod centres;
mod components;
mod distance;
mod error;
mod grid;
mod locate;
mod normalize;
mod pipeline;
mod resample;
mod segmetrics;

/// adamss-io, whose volumes and cohorts this crate reads, and its `ndarray`, so users need no
/// matching pins.
pub use adamss_io as io;
pub use adamss_io::ndarray;
pub use augment::{augment, warp_plane, AugmentConfig, PlaneParams, Sample};
pub use cache::{CacheOutcome, FillReport, PreprocessCache};
pub use centres::{read_crop_centres, Coordinates, CoverageSummary};
pub use components::{
    connected_components, fill_holes, label_shape_statistics, largest_component,
    relabel_components, Connectivity, LabelShape,
};
pub use distance::{distance_map, expand_mask, peritumoral_ring, shrink_mask};
pub use error::{Error, Result};
pub use grid::{Grid, MAX_VOXELS};
pub use locate::{locate_head_neck, Located, LocatorConfig};
pub use normalize::{ct_to_unit, zscore, ZScore};
pub use pipeline::{
    coverage_of, mask_to_ct_grid, preprocess_case, preprocess_on_grid, preprocess_volumes,
    CropCentre, LabelCoverage, PetNormalization, PreprocessConfig, Preprocessed,
};
pub use resample::{resample, resample_f64, resample_linear, resample_nearest, Interpolation};
pub use segmetrics::{
    hausdorff_distance, label_overlap, surface_distances, HausdorffDistance, LabelOverlap,
    SurfaceDistances, SAME_GRID_TOLERANCE_MM,
};
