#!/usr/bin/env bash
# Builds the release binaries and copies them into target/gpu/ (git-ignored) for the GPU
# machine: send that folder with the device tool's `carry`, then run scripts/gpu-check.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
cargo build --release --bin adamss
mkdir -p target/gpu
cp target/release/adamss target/gpu/
# carry is limited to 64 MiB: drop the symbol tables (debug info stays in target/release).
strip target/gpu/adamss
ls -la target/gpu
