#!/usr/bin/env bash
# Runs one cargo-fuzz target of fuzz/ for a while (docs/fuzzing.md):
#   scripts/fuzz.sh TARGET SECONDS [extra libFuzzer flags]
# The corpus (fuzz/corpus/TARGET, git-ignored) starts from the target's seeds, the ones the
# smoke test uses (tests/it/fuzz_smoke.rs). Bounds: 2 GiB RSS, 512 MiB per allocation, 64 KiB
# inputs. Needs cargo-fuzz (`cargo install cargo-fuzz`); the stable toolchain takes its
# nightly flags under RUSTC_BOOTSTRAP=1. The final statistics go to fuzz/logs/TARGET-<date>.log.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=${1:?target}; seconds=${2:?seconds}; shift 2
corpus="$root/fuzz/corpus/$target"
mkdir -p "$corpus" "$root/fuzz/logs"
case "$target" in
    nifti_read) cp -n "$root"/tests/data/nifti/*.nii* "$corpus"/ ;;
    nrrd_read) cp -n "$root"/tests/data/io/nrrd/*.nrrd "$corpus"/ ;;
    dicom_read) for d in ct_axial ct_oblique pet_slopes bad_jpeg seg suv/bqml_rewritten_ge \
        suv/cnts_philips_block suv/bqml_time_female compressed/rle_ct_oblique \
        compressed/jpegll_ct_oblique compressed/j2k_ct_oblique compressed/j2k_lossy_ct_axial rtstruct \
        multiframe/pet_slopes multiframe/bad_compressed; do
        for f in "$root"/tests/data/dicom/$d/*.dcm; do cp -n "$f" "$corpus/${d//\//-}-$(basename "$f")"; done
    done
    cp -n "$root"/fuzz/seeds/dicom_read/* "$corpus"/ ;;
    radiomics_params) cp -n "$root"/tests/data/radiomics/pyradiomics_examples/*.yaml \
        "$root"/tests/data/radiomics/*.yaml "$root"/fuzz/seeds/radiomics_params/* "$corpus"/ ;;
    *) cp -n "$root/fuzz/seeds/$target"/* "$corpus"/ ;;
esac
# The targets link libtorch through adamss-train; outside the workspace nothing sets its
# runpath.
export LD_LIBRARY_PATH="$root/.venv/libtorch/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export LIBTORCH="$root/.venv/libtorch"
log="$root/fuzz/logs/$target-$(date -u +%Y%m%dT%H%M%SZ).log"
cd "$root/fuzz"
RUSTC_BOOTSTRAP=1 cargo fuzz run "$target" "$corpus" -- \
    -max_total_time="$seconds" -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 \
    -print_final_stats=1 "$@" 2>&1 | tee "$log" | grep -E "^(#[0-9]+.*(DONE|pulse)|==|SUMMARY|stat::|Done)" || true
echo "log: $log"
