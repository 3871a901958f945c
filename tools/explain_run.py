#!/usr/bin/env python3
"""What the risks of a cross-validated run follow, on a synthetic cohort (which knows the truth).

For each method of `<run>/predictions.csv`, the mean over folds of the within-fold Pearson
correlation of the test risks with the cohort's true log hazard ratio and its ingredients
(`<cohort>/synthetic_truth.csv`: log GTVp volume, node count, peritumoural infiltration,
necrosis, HPV status), and Harrell's C-index by lifelines (the fold mean; it should equal the
run's own table). Correlations are taken within a fold because each fold's network has its own
risk scale. Used for docs/benchmarks.md, "The main job". Run:

    .venv/bin/python tools/explain_run.py runs/demo/cpu-small runs/demo/cohort
"""

import sys

import numpy as np
import pandas as pd
from lifelines.utils import concordance_index

COLUMNS = ["true_risk", "log_gtvp_ml", "nodes", "infiltration", "necrosis", "hpv"]


def main(run: str, cohort: str) -> None:
    preds = pd.read_csv(f"{run}/predictions.csv")
    truth = pd.read_csv(f"{cohort}/synthetic_truth.csv").set_index("PatientID")
    truth["log_gtvp_ml"] = np.log(truth["gtvp_volume_ml"].clip(lower=1e-3))
    preds = preds.join(truth[COLUMNS], on="PatientID")
    print("| method | C (lifelines) | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 2) + "|")
    for method, rows in preds.groupby("method", sort=False):
        corr, cs = [], []
        for _, fold in rows.groupby("fold"):
            cs.append(concordance_index(fold["time"], -fold["risk"], fold["event"]))
            if fold["risk"].std() > 0:
                corr.append([np.corrcoef(fold["risk"], fold[c].astype(float))[0, 1] for c in COLUMNS])
        cells = np.mean(corr, axis=0) if corr else [float("nan")] * len(COLUMNS)
        print(f"| {method} | {np.mean(cs):.3f} | " + " | ".join(f"{v:+.2f}" for v in cells) + " |")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
