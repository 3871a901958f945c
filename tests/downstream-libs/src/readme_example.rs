//! Build script of every member: writes the first Rust code block of the member's library
//! crate's README (the crate docs' opening example) as `$OUT_DIR/example.rs`, hidden `# `
//! lines shown, wrapped in a `main` unless it brings its own.

use std::path::Path;

fn main() {
    let package = std::env::var("CARGO_PKG_NAME").expect("package name");
    let krate = package.strip_prefix("uses-").expect("uses-<crate>");
    let readme = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../crates")
        .join(krate)
        .join("README.md");
    println!("cargo:rerun-if-changed={}", readme.display());
    let text = std::fs::read_to_string(&readme).expect("README");
    let mut lines = text
        .lines()
        .skip_while(|l| !(l.starts_with("```") && matches!(l.trim(), "```" | "```rust")));
    lines.next();
    let code: Vec<String> = lines
        .take_while(|l| !l.starts_with("```"))
        .map(|l| {
            l.strip_prefix("# ")
                .unwrap_or(if l == "#" { "" } else { l })
                .to_string()
        })
        .collect();
    let code = code.join("\n");
    let body = if code.contains("fn main(") {
        code
    } else {
        // A doctest body: its items first, then the statements ending in `Ok::<(), E>(())`.
        let (uses, rest): (Vec<&str>, Vec<&str>) =
            code.lines().partition(|l| l.starts_with("use "));
        format!(
            "{}\nfn main() {{\n    let run = || {{\n{}\n    }};\n    run().expect(\"the README example\");\n}}\n",
            uses.join("\n"),
            rest.join("\n")
        )
    };
    let out = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("example.rs");
    std::fs::write(out, body).expect("write the example");
}
