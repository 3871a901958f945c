//! What a user's build script adds so the binary finds libtorch without `LD_LIBRARY_PATH`
//! (docs/embedding.md): a runpath to the folder adamss-train's build reports.
fn main() {
    println!("cargo:rerun-if-env-changed=DEP_ADAMSS_TRAIN_LIBTORCH_LIB");
    if let Ok(lib) = std::env::var("DEP_ADAMSS_TRAIN_LIBTORCH_LIB") {
        println!("cargo:rustc-link-arg=-Wl,-rpath,{lib}");
    }
}
