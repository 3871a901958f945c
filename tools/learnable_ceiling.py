#!/usr/bin/env python3
"""How far a learned model can get above the LASSO-CoxPH radiomics row on a synthetic cohort.

For each fold of a finished run, fits ridge Cox models (lifelines) on the training patients
and scores Harrell's C on the test patients, for three designs:

- the fold's LASSO-selected radiomics (`fold-k/ssl-radiomics/selector.json`, z-scored as the
  run did) + every encoded clinical column (`fold-k/clinical.csv`);
- the same + the *true* GTVn volume, log(1 + ml), from the label files;
- the same + the *true* number of nodes (connected GTVn components in the labels).

The last two are information no method in the run has, so they bound what better node masks
could add at this cohort size. Used for docs/benchmarks.md, "What a learned model can reach on
this cohort". Run:

    .venv/bin/python tools/learnable_ceiling.py runs/demo/cpu-small runs/demo/cohort
"""

import glob
import json
import os
import sys
import warnings

import nibabel as nib
import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index
from scipy import ndimage

PENALTIES = [0.1, 0.3]


def node_truth(cohort: str) -> pd.DataFrame:
    rows = []
    for f in sorted(glob.glob(f"{cohort}/labelsTr/*.nii.gz")):
        img = nib.load(f)
        labels = np.asarray(img.dataobj)
        ml = float(np.prod(img.header.get_zooms()[:3])) / 1000.0
        _, count = ndimage.label(labels == 2)
        pid = os.path.basename(f).split(".")[0]
        rows.append((pid, np.log1p((labels == 2).sum() * ml), count))
    return pd.DataFrame(rows, columns=["PatientID", "log1p_gtvn_ml", "nodes"]).set_index("PatientID")


def main(run: str, cohort: str) -> None:
    preds = pd.read_csv(f"{run}/predictions.csv")
    surv = preds[preds.method == "lasso-cox-radiomics"].set_index("PatientID")[["time", "event"]]
    nodes = node_truth(cohort)
    print("| fold | LASSO row | " + " | ".join(
        f"{d}, ridge {p}" for d in ["rad. + clin.", "+ true GTVn ml", "+ true nodes"] for p in PENALTIES
    ) + " |")
    print("|---" * (2 + 3 * len(PENALTIES)) + "|")
    folds = sorted(preds.fold.unique())
    for k in folds:
        test = preds[(preds.fold == k) & (preds.method == "lasso-cox-radiomics")]
        rad = pd.read_csv(f"{run}/fold-{k}/radiomics.csv").set_index("PatientID")
        cli = pd.read_csv(f"{run}/fold-{k}/clinical.csv").set_index("PatientID")
        sel = json.load(open(f"{run}/fold-{k}/ssl-radiomics/selector.json"))
        cols = [c for c in sel["selected"] if not c.startswith("clinical:")]
        x = (rad[cols] - np.array(sel["mean"][: len(cols)])) / np.array(sel["sd"][: len(cols)])
        x = x.fillna(0.0).join(cli)
        cells = [concordance_index(test.time, -test.risk, test.event)]
        for extra in [[], ["log1p_gtvn_ml"], ["nodes"]]:
            d = x.join(nodes[extra]).join(surv, how="inner")
            train = d[~d.index.isin(test.PatientID)]
            held = d[d.index.isin(test.PatientID)]
            feats = [c for c in d.columns if c not in ("time", "event") and train[c].std() > 0]
            for pen in PENALTIES:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    m = CoxPHFitter(penalizer=pen).fit(train[feats + ["time", "event"]], "time", "event")
                r = m.predict_partial_hazard(held[feats])
                cells.append(concordance_index(held.time, -r, held.event))
        print(f"| {k} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
