// Shared by the build scripts of every package whose binaries link libtorch
// (`adamss-model`, `adamss-train` and the `adamss` facade), via `include!`.
//
// torch-sys tells its direct dependents where libtorch lives
// (`DEP_TCH_LIBTORCH_LIB`). Four things are added:
// - `libtorch_cuda` as a link library, and the cfg `libtorch_cuda` when libtorch
//   has it: adamss-model then references one of its functions
//   (`adamss_model::cuda_linked`), so the linker's `--as-needed` keeps it in
//   every binary that builds a network, in this workspace or in a user's crate
//   (link libraries travel with the crate). Without a reference it would be
//   dropped and CUDA would silently be unavailable; `-as-needed` as a link
//   modifier is unstable.
// - the folder as build-script metadata (`links` in each package's manifest),
//   so a user's build script can read it as `DEP_ADAMSS_MODEL_LIBTORCH_LIB`,
//   `DEP_ADAMSS_TRAIN_LIBTORCH_LIB` or `DEP_ADAMSS_LIBTORCH_LIB` (whichever
//   package it depends on) and give its binaries a runpath (see
//   docs/embedding.md);
// - a runpath for this package's own test, example and bench binaries, so they
//   run without `LD_LIBRARY_PATH` (which still wins when set, e.g. on a GPU
//   machine). `cargo:rustc-link-arg` reaches only the package that prints it.
fn link_libtorch() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    println!("cargo:rustc-check-cfg=cfg(libtorch_cuda)");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let lib = std::path::PathBuf::from(lib);
    println!("cargo:libtorch_lib={}", lib.display());
    if cfg!(target_os = "linux") || cfg!(target_os = "macos") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
    if cfg!(target_os = "linux") && lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-cfg=libtorch_cuda");
        println!("cargo:rustc-link-lib=dylib=torch_cuda");
        // This package's own binaries keep it even where no network is built.
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
