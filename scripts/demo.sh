#!/usr/bin/env bash
# README's first command: set up what is missing (idempotent), then run the main job end to
# end on the embedded synthetic cohort. Extra arguments go to `adamss demo`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
scripts/setup.sh
cargo run --quiet --release --bin adamss -- demo "$@"
