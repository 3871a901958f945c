//! Links libtorch so binaries find it and keep libtorch_cuda (see build-support/torch_link.rs).
include!("../../build-support/torch_link.rs");

fn main() {
    link_libtorch();
}
