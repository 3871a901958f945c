//! The README example of the one library crate this package depends on.
include!(concat!(env!("OUT_DIR"), "/example.rs"));
