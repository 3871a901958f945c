// Shared by the build scripts of every package whose binaries link libtorch
// (`adamss-model`, `adamss-train` and the `adamss` facade), via `include!`.
//
// torch-sys tells its direct dependents where libtorch lives
// (`DEP_TCH_LIBTORCH_LIB`). Two things cannot travel through torch-sys itself,
// because `cargo:rustc-link-arg` only reaches the package that prints it:
// - a runpath, so test, example and bench binaries find libtorch without
//   `LD_LIBRARY_PATH` (which still wins when set, e.g. on a GPU machine);
// - `--no-as-needed` around `-ltorch_cuda`: no symbol of it is referenced, so
//   `--as-needed` would drop it and CUDA would silently be unavailable.
fn link_libtorch() {
    println!("cargo:rerun-if-env-changed=DEP_TCH_LIBTORCH_LIB");
    let Ok(lib) = std::env::var("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let lib = std::path::PathBuf::from(lib);
    if cfg!(target_os = "linux") || cfg!(target_os = "macos") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    }
    if cfg!(target_os = "linux") && lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed,-ltorch_cuda,--as-needed");
    }
}
