#![doc = include_str!("../README.md")]

mod device;
mod error;

pub use device::{best_device, DeviceInfo};
pub use error::{Error, Result};
pub use tch;
