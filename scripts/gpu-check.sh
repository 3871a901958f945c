#!/usr/bin/env bash
# GPU check, run on the device machine (PyTorch 2.11.0+cu130, no Rust) over binaries built
# here:   scripts/build-gpu-bundle.sh   then   run (carry target/gpu): scripts/gpu-check.sh
# Writes results under $OUT (default ./gpu-out) and ends with a short table.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
BIN=target/gpu
torch_lib=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__) + "/lib")' 2>/dev/null || true)
[ -n "$torch_lib" ] && export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

nvidia-smi -L 2>&1 | tee "$OUT/nvidia-smi.txt" || echo "no nvidia-smi"
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1 | tee "$OUT/torch.txt"

status=0
run() { # name seconds command...
    local name=$1 secs=$2; shift 2
    local t0=$(date +%s.%N)
    timeout "$secs" "$@" >"$OUT/$name.out" 2>&1
    local rc=$?
    local dt=$(echo "$(date +%s.%N) - $t0" | bc)
    printf '%s\t%s\t%.1f\n' "$name" "$rc" "$dt" >>"$OUT/summary.tsv"
    [ "$rc" = 0 ] || status=1
}
: >"$OUT/summary.tsv"
run device 60 "$BIN/adamss" device --json
run demo_tiny 120 "$BIN/adamss" demo --dir "$OUT/demo" --preset tiny

echo
printf 'check\trc\tseconds\n'
cat "$OUT/summary.tsv"
echo "device: $(cat "$OUT/device.out" 2>/dev/null)"
exit $status
