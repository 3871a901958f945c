#![doc = include_str!("../README.md")]

mod attention;
pub mod checkpoint;
pub mod cpu;
mod decoder;
mod device;
mod error;
mod fusion;
mod heads;
mod layers;
pub mod loss;
mod network;
pub mod optim;
mod resblock;
pub mod timing;
pub mod twin;

pub use attention::{AttentionGate, AttentionGateConfig};
pub use checkpoint::{LoadReport, Transfer};
pub use decoder::{AdaFocusDecoder, DecoderConfig, DecoderOutput};
pub use device::{best_device, cuda_linked, DeviceInfo};
pub use error::{Error, Result};
pub use fusion::{
    AdaFusionEncoder, EncoderBranch, EncoderConfig, EncoderOutput, FusionGate, FusionGateConfig,
    FusionMode,
};
pub use heads::{SegmentationHead, SurvivalHead, SurvivalHeadConfig, SurvivalOutput};
pub use layers::{Conv1Norm, Conv3d, ConvNormAct, ConvNormActConfig, Linear};
pub use loss::CoxTies;
pub use network::{count_parameters, AdaMss, AdaMssConfig, AdaMssOutput, ParamGroup, Precision};
pub use optim::{AdamConfig, FlatAdam};
pub use resblock::{ResBlock, ResBlockConfig};
pub use tch;
