#!/usr/bin/env bash
# Which GTVp should the training fold's radiomics come from (issue #24 item 0)? Runs the
# radiomics + clinical LASSO-CoxPH baseline with `radiomics.masks = "predicted"` and with
# `"reference-for-training"` on cohorts other than the main job's (seeds given, default 1 2),
# the cpu-small preset at the demo's size (150 patients, 2 libtorch threads), and prints the
# baseline's C per setting beside the oracle (and the labelled tumour volume alone, from the
# cohort's truth table). Stage I is trained once per cohort: the second setting's run starts
# from the first's Stage-I checkpoints (`--resume` reloads them; the stage's fingerprint does
# not hold the radiomics settings).
#   tools/radiomics_masks_study.sh OUT [SEED ...]
# (SYNTH_PRESET=tiny PATIENTS=16 TRAIN_PRESET=tiny for a quick check of the script itself.)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/target/release/adamss"
out=${1:?output folder}; shift
seeds=("$@")
[ $# -eq 0 ] && seeds=(1 2)
mkdir -p "$out"
for seed in "${seeds[@]}"; do
    cohort="$out/cohort-$seed"
    "$bin" synth --out "$cohort" --preset "${SYNTH_PRESET:-default}" \
        --patients "${PATIENTS:-150}" --seed "$seed" > /dev/null
    for masks in predicted reference-for-training; do
        cfg="$out/$masks.toml"
        printf 'preset = "%s"\nseed = %s\n\n[runtime]\ntorch_threads = 2\n\n[radiomics]\nmasks = "%s"\n' \
            "${TRAIN_PRESET:-cpu-small}" "$seed" "$masks" > "$cfg"
        run="$out/run-$seed-$masks"
        resume=()
        if [ "$masks" != predicted ] && [ ! -d "$run" ]; then
            # Stage I is the same network (its fingerprint does not hold the radiomics
            # settings): start from the first run's pins, cache and Stage-I checkpoints.
            first="$out/run-$seed-predicted"
            mkdir -p "$run"
            cp -r "$first/patients.txt" "$first/inputs.tsv" "$first/preprocessed" "$run/"
            for fold in "$first"/fold-*; do
                mkdir -p "$run/$(basename "$fold")"
                cp -r "$fold/stage1" "$run/$(basename "$fold")/"
            done
            resume=(--resume)
        fi
        # A finished run (rerunning the study) is kept as it is.
        [ -f "$run/outcome.json" ] && continue
        "$bin" train --cohort "$cohort" --out "$run" --config "$cfg" \
            --methods lasso-cox-radiomics "${resume[@]}" > "$run.log" 2>&1 || {
            echo "seed $seed, $masks: failed, see $run.log"; exit 1; }
    done
    # Per fold: the baseline's C with each setting (the same folds), the labelled tumour
    # volume's and the true risk's C on the same test patients (truth table).
    python3 - "$out" "$seed" "$cohort" <<'PY'
import csv, json, sys
out, seed, cohort = sys.argv[1:]
truth = {r["PatientID"]: r for r in csv.DictReader(open(f"{cohort}/synthetic_truth.csv"))}
def harrell(risk, time, event):
    num = den = 0.0
    for i in range(len(risk)):
        for j in range(len(risk)):
            if event[i] and time[i] < time[j]:
                den += 1
                num += 1.0 if risk[i] > risk[j] else 0.5 if risk[i] == risk[j] else 0.0
    return num / den
runs = {m: json.load(open(f"{out}/run-{seed}-{m}/outcome.json"))
        for m in ("predicted", "reference-for-training")}
ids = [l.strip() for l in open(f"{out}/run-{seed}-predicted/patients.txt")]
rows = []
for fold in sorted({r["fold"] for r in runs["predicted"]["results"]}):
    c = {m: next(r["c_index"] for r in o["results"] if r["fold"] == fold)
         for m, o in runs.items()}
    test = [i for i, f in enumerate(runs["predicted"]["fold_of"]) if f == fold]
    t = [truth[ids[i]] for i in test]
    time = [float(r["time_days"]) for r in t]
    event = [r["event"] == "true" for r in t]
    vol = harrell([float(r["tumour_volume_ml"]) for r in t], time, event)
    oracle = harrell([float(r["true_risk"]) for r in t], time, event)
    rows.append((c["predicted"], c["reference-for-training"], vol, oracle))
    print(f"seed {seed} fold {fold}: predicted {c['predicted']:.3f}  reference-for-training "
          f"{c['reference-for-training']:.3f}  volume alone {vol:.3f}  oracle {oracle:.3f}")
mean = [sum(r[k] for r in rows) / len(rows) for k in range(4)]
print(f"seed {seed} mean: predicted {mean[0]:.3f}  reference-for-training {mean[1]:.3f}  "
      f"gap {mean[1] - mean[0]:+.3f}  volume alone {mean[2]:.3f}  oracle {mean[3]:.3f}")
PY
done
