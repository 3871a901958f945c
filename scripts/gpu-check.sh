#!/usr/bin/env bash
# GPU check, run on the device machine (PyTorch 2.11.0+cu130, no Rust) over binaries built
# here:   scripts/build-gpu-bundle.sh   then   run (carry target/gpu): scripts/gpu-check.sh
# Works in $WORK (default a fresh /tmp/adamss-gpu-check.*) and packs what is worth keeping
# into $OUT (default ./gpu-out) on any exit, a timeout's SIGTERM included: results.tgz (every
# small file: logs, JSON, CSV, configs, reports; no images or checkpoints) beside
# summary.tsv, step_summary.json and train_summary.json — few files, as the device tool
# returns at most 8. Ends with a short table. BUDGET (seconds, default 480) bounds the whole
# script: each check's own limit is cut to what is left, and a check with under 20 s left is
# skipped (rc "skip" in summary.tsv).
#
# Checks, most informative first (BUDGET skips from the end): libtorch sees CUDA; the network
# matches its PyTorch twin's reference files on the device (float64 exact, float32 reported);
# the whole-network Stage-I training step at batch 2 × 112³ (fp32 and bf16) through our binary
# and through the PyTorch twin (tools/adamss_twin.py), same card, same run; a short paper-size
# `adamss train` (Stage I and Stage II of one fold, fp32 and bf16) with seconds per step, where
# the epoch's time went and the peak GPU memory; the bare step with cuDNN's heuristic
# algorithms; `adamss predict --maps` with the fp32 fold on the device; that fold exported as a
# model bundle and predicted from it on the device and on the CPU; the tiny main job.
# SIZE/BATCH/WIDTH/ITERS/DEVICE and TRAIN_* override the defaults; on a CPU machine:
#   DEVICE=cpu SIZE=32 WIDTH=4 ITERS=2 TRAIN_PRESET=tiny TRAIN_PATIENTS=10 STAGE1_STEPS=2 \
#   STAGE2_STEPS=2 BIN=target/release PY=.venv/bin/python bash scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
RESULTS=${OUT:-gpu-out}
mkdir -p "$RESULTS"
RESULTS=$(cd "$RESULTS" && pwd)
OUT=${WORK:-$(mktemp -d /tmp/adamss-gpu-check.XXXXXX)}
mkdir -p "$OUT"
BUDGET=${BUDGET:-480}
deadline=$(($(date +%s) + BUDGET))
BIN=${BIN:-target/gpu}
PY=${PY:-python3}
DEVICE=${DEVICE:-cuda}
SIZE=${SIZE:-112}
BATCH=${BATCH:-2}
WIDTH=${WIDTH:-16}
WARMUP=${WARMUP:-5}
ITERS=${ITERS:-15}
torch_lib=$("$PY" -c 'import torch, os; print(os.path.dirname(torch.__file__) + "/lib")' 2>/dev/null || true)
[ -n "$torch_lib" ] && export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

pack() {
    kill $(jobs -p) 2>/dev/null
    tar czf "$RESULTS/results.tgz" -C "$OUT" --exclude=train-cohort --exclude=cohort \
        --exclude='*.nii' --exclude='*.nii.gz' --exclude='*.safetensors' . 2>/dev/null
    for f in summary.tsv step_summary.json train_summary.json; do
        [ -f "$OUT/$f" ] && cp "$OUT/$f" "$RESULTS/"
    done
    echo "results: $RESULTS (work files: $OUT)"
}
trap pack EXIT
trap 'echo "stopped by a signal"; exit 143' TERM INT

nvidia-smi -L 2>&1 | tee "$OUT/nvidia-smi.txt" || echo "no nvidia-smi"
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv >>"$OUT/nvidia-smi.txt" 2>&1 || true
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), "cudnn", torch.backends.cudnn.version())' 2>&1 | tee "$OUT/torch.txt"

status=0
run() { # name seconds command...
    local name=$1 secs=$2; shift 2
    local left=$((deadline - $(date +%s) - 10))
    if [ "$left" -lt 20 ]; then
        printf '%s\tskip\t0\n' "$name" >>"$OUT/summary.tsv"
        status=1
        return
    fi
    [ "$secs" -gt "$left" ] && secs=$left
    local t0=$(date +%s%N)
    # In the background and waited for, so that a SIGTERM to this script is handled at once.
    timeout "$secs" "$@" >"$OUT/$name.out" 2>&1 &
    wait $!
    local rc=$?
    local ms=$((($(date +%s%N) - t0) / 1000000))
    printf '%s\t%s\t%d.%03d\n' "$name" "$rc" $((ms / 1000)) $((ms % 1000)) >>"$OUT/summary.tsv"
    [ "$rc" = 0 ] || status=1
}
: >"$OUT/summary.tsv"
run device 60 "$BIN/adamss" device --json
run check_twin 120 "$BIN/adamss" check-twin --device "$DEVICE"
step_args=(--size "$SIZE" --batch "$BATCH" --width "$WIDTH" --warmup "$WARMUP" --iters "$ITERS")
run step_rust 200 "$BIN/adamss" bench-step --device "$DEVICE" "${step_args[@]}" \
    --precision fp32 bf16 --json "$OUT/step_rust.json"
run step_pytorch 200 "$PY" tools/adamss_twin.py train-step --device "$DEVICE" "${step_args[@]}" \
    --precisions fp32 bf16 --json "$OUT/step_pytorch.json"

# Short paper-size training through `adamss train` (issue #7): a synthetic 1 mm cohort, the
# paper preset (batch 2 × 112³ crops of the 160³ volumes in both stages, validation on whole
# 160³ volumes), one fold of
# AdaMSS (Stage I then Stage II), fp32 and bf16, with the peak GPU memory sampled by
# nvidia-smi. TRAIN_PRESET/TRAIN_PATIENTS/STAGE1_STEPS/STAGE2_STEPS override (e.g.
# TRAIN_PRESET=tiny on a CPU machine).
TRAIN_PRESET=${TRAIN_PRESET:-paper}
TRAIN_PATIENTS=${TRAIN_PATIENTS:-12}
STAGE1_STEPS=${STAGE1_STEPS:-150}
STAGE2_STEPS=${STAGE2_STEPS:-100}
synth_preset=paper
[ "$TRAIN_PRESET" = tiny ] && synth_preset=tiny
run train_synth 180 "$BIN/adamss" synth --out "$OUT/train-cohort" --preset "$synth_preset" \
    --patients "$TRAIN_PATIENTS"
# f32 and bf16 as configured by default (libtorch's CPU pool at one thread on CUDA), then a
# shorter fp32 run with the pool at every core (`runtime.torch_threads`), the old behaviour.
for run_name in f32 bf16 f32-pool; do
    prec=${run_name%-pool}
    steps1=$STAGE1_STEPS steps2=$STAGE2_STEPS threads=0
    if [ "$run_name" = f32-pool ]; then
        steps1=$(((STAGE1_STEPS + 1) / 2)) steps2=2 threads=$(nproc)
    fi
    printf '%s\n' "preset = \"$TRAIN_PRESET\"" "[model]" "precision = \"$prec\"" \
        "[stage1]" "epochs = 1" "iters_per_epoch = $steps1" "milestones = []" \
        "[stage2]" "epochs = 1" "iters_per_epoch = $steps2" "milestones = []" \
        "[cv]" "folds = 3" "validation_fraction = 0.1" \
        "[runtime]" "device = \"$DEVICE\"" "torch_threads = $threads" >"$OUT/train-$run_name.toml"
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 200 \
        >"$OUT/train-$run_name.memory.txt" 2>/dev/null &
    smi=$!
    run "train_$run_name" 240 "$BIN/adamss" train --cohort "$OUT/train-cohort" \
        --out "$OUT/train-$run_name" --config "$OUT/train-$run_name.toml" --methods ssl --fold 0
    kill "$smi" 2>/dev/null
done
# The same step with cuDNN's heuristic algorithm choice instead of its timed search
# (`runtime.cudnn_benchmark = false`; `adamss train` searches by default since session 10).
run step_rust_heuristic 120 "$BIN/adamss" bench-step --device "$DEVICE" "${step_args[@]}" \
    --precision fp32 bf16 --cudnn-benchmark false --json "$OUT/step_rust_heuristic.json"
# The trained fold applied to the cohort on the device (risks, masks on the CT grids with their
# Dice, fusion-gate and attention maps).
run predict_f32 120 "$BIN/adamss" predict --run "$OUT/train-f32" --cohort "$OUT/train-cohort" \
    --out "$OUT/predict-f32" --maps
# The same fold as a model bundle (issue #19): exported, predicted from the bundle on the
# device (must equal the run folder's risks above, exactly) and on the CPU (close: other
# kernels); bundle_check.out says which.
run export_f32 60 "$BIN/adamss" export --run "$OUT/train-f32" --fold 0 --method ssl \
    --out "$OUT/model-f32"
run predict_model 120 "$BIN/adamss" predict --model "$OUT/model-f32" --device "$DEVICE" \
    --cohort "$OUT/train-cohort" --out "$OUT/predict-model"
run predict_model_cpu 180 "$BIN/adamss" predict --model "$OUT/model-f32" --device cpu \
    --cohort "$OUT/train-cohort" --out "$OUT/predict-model-cpu"
run bundle_check 30 "$PY" -c '
import csv, sys
out = sys.argv[1]
risks = lambda d: {r["PatientID"]: float(r["risk"]) for r in csv.DictReader(open(f"{out}/{d}/risks.csv"))}
run, model, cpu = risks("predict-f32"), risks("predict-model"), risks("predict-model-cpu")
same = sum(run[k] == model.get(k) for k in run)
worst = max(abs(cpu[k] - model[k]) / max(abs(model[k]), 1.0) for k in model)
print(f"bundle on the device: {same}/{len(run)} risks equal to the run folder'"'"'s; on the CPU: largest relative difference {worst:.2e}")
sys.exit(0 if same == len(run) and worst < 1e-3 else 1)
' "$OUT"
# Last, as the least informative about the GPU (the BUDGET skips it first): the tiny main
# job end to end on the device.
run demo_tiny 120 "$BIN/adamss" demo --dir "$OUT/demo" --preset tiny

echo
printf 'check\trc\tseconds\n'
cat "$OUT/summary.tsv"
echo "device: $(cat "$OUT/device.out" 2>/dev/null)"
"$PY" - "$OUT" <<'PYEOF' || status=1
import json, os, sys
out = sys.argv[1]
rows = {}
for impl in ("rust", "pytorch"):
    p = os.path.join(out, f"step_{impl}.json")
    if os.path.exists(p):
        for r in json.load(open(p)):
            rows[(impl, r["precision"])] = r
# ≈ 1.9 TFLOP per step at batch 2 × 112³ (issue #6); scale by voxels·batch for other sizes.
any_row = next(iter(rows.values()), None)
if any_row is None:
    sys.exit("no timing rows")
scale = any_row["batch"] * any_row["size"] ** 3 / (2 * 112**3) * (any_row["width"] / 16) ** 2
tflop = 1.9 * scale
print(f"\ntraining step, batch {any_row['batch']} x {any_row['size']}^3, width {any_row['width']}, ~{tflop:.2f} TFLOP")
print("precision  part              rust_ms  pytorch_ms  rust/pytorch  rust_TFLOP/s")
table = []
for prec in ("fp32", "bf16"):
    r, p = rows.get(("rust", prec)), rows.get(("pytorch", prec))
    if r and p:
        for part in ("forward_s", "forward_backward_s", "step_s"):
            ratio = r[part] / p[part]
            flops = f"{tflop / r[part]:12.1f}" if part == "step_s" else ""
            print(f"{prec:9}  {part:16}  {r[part]*1e3:7.1f}  {p[part]*1e3:10.1f}  {ratio:12.3f}  {flops}")
            table.append({"precision": prec, "part": part, "rust_s": r[part], "pytorch_s": p[part], "ratio": ratio})
heuristic = os.path.join(out, "step_rust_heuristic.json")
if os.path.exists(heuristic):
    print("\ncuDNN's heuristic algorithm choice (no search), ours")
    print("precision  step_ms  vs_search")
    for r in json.load(open(heuristic)):
        s = rows.get(("rust", r["precision"]))
        ratio = f"{r['step_s'] / s['step_s']:9.3f}" if s else "-"
        print(f"{r['precision']:9}  {r['step_s']*1e3:7.1f}  {ratio}")
        table.append({"precision": r["precision"], "part": "step_s_heuristic", "rust_s": r["step_s"],
                      "pytorch_s": None, "ratio": r["step_s"] / s["step_s"] if s else None})
json.dump({"tflop_per_step": tflop, "rows": table}, open(os.path.join(out, "step_summary.json"), "w"), indent=1)

# Short training runs: seconds per step (the epoch's wall time / steps), the peak GPU memory
# nvidia-smi saw (whole device, MiB), and where the epoch went (metrics.csv's timing, from
# state.json): the median step, the slowest step (cuDNN autotuning), the time spent waiting
# for the sample worker's augmentation and the validation pass.
print("\nadamss train (paper preset, one fold of AdaMSS)")
# The median training step over bench-step's bare step (same batch and crop at the defaults):
# what stacking the batch, the loss on real labels and the step's bookkeeping add.
bench = {"f32": rows.get(("rust", "fp32")), "bf16": rows.get(("rust", "bf16")),
         "f32-pool": rows.get(("rust", "fp32"))}
# steady_s: the epoch without its validation and its slowest (first, autotuning) step, per step.
print("precision  stage    steps  s/step  steady_s  median_s  max_s  wait_s  val_s  peak_MiB  vs_bench_step")
train = []
for prec in ("f32", "bf16", "f32-pool"):
    mem = os.path.join(out, f"train-{prec}.memory.txt")
    peak = max((int(l) for l in open(mem) if l.strip().isdigit()), default=None) if os.path.exists(mem) else None
    for stage, rel in (("stage1", "fold-0/stage1"), ("stage2", "fold-0/ssl/survival")):
        p = os.path.join(out, f"train-{prec}", rel, "state.json")
        if not os.path.exists(p):
            print(f"{prec:9}  {stage:7}  (no state.json)")
            continue
        h = json.load(open(p))["history"]
        cfg = open(os.path.join(out, f"train-{prec}.toml")).read()
        key = "stage1" if stage == "stage1" else "stage2"
        steps = int(cfg.split(f"[{key}]")[1].split("iters_per_epoch = ")[1].split()[0]) * len(h)
        secs = sum(r["seconds"] for r in h)
        t = [r.get("timing", {}) for r in h]
        med = sorted(x.get("median_step", float("nan")) for x in t)[len(t) // 2]
        mx = max(x.get("max_step", float("nan")) for x in t)
        wait = sum(x.get("data_wait", float("nan")) for x in t)
        val = sum(x.get("validation", float("nan")) for x in t)
        b = bench.get(prec)
        ratio = med / b["step_s"] if b else None
        steady = (secs - val - mx) / max(steps - 1, 1)
        print(f"{prec:9}  {stage:7}  {steps:5}  {secs / steps:6.3f}  {steady:8.3f}  {med:8.3f}  {mx:5.2f}  {wait:6.2f}  {val:5.2f}  {peak if peak is not None else '-':>8}  {f'{ratio:.2f}' if ratio else '-'}")
        train.append({"precision": prec, "stage": stage, "steps": steps, "s_per_step": secs / steps, "steady_s_per_step": steady,
                      "median_step_s": med, "max_step_s": mx, "data_wait_s": wait, "validation_s": val,
                      "peak_mib": peak, "vs_bench_step": ratio})
json.dump(train, open(os.path.join(out, "train_summary.json"), "w"), indent=1)
PYEOF
exit $status
