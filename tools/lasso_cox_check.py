#!/usr/bin/env python3
"""The main job's LASSO-Cox rows, redone with scikit-survival and lifelines.

For every fold of a finished run, on exactly the design the run used (`fold-k/clinical.csv`,
with `radiomics` also `fold-k/radiomics.csv`; the patients of `patients.txt`, the folds of
`outcome.json`), this fits

- scikit-survival's `CoxnetSurvivalAnalysis` (LASSO, 30 penalties) on the training fold,
  choosing the penalty by 3-fold cross-validated partial-likelihood deviance
  (Verweij & van Houwelingen, as glmnet's `cv.glmnet` and our `FeatureSelector`) — repeated
  over 20 random inner splits, since the choice depends on them; for the clinical baseline the
  run's `[clinical] prespecified` factors get `penalty_factor` 0 (fitted unpenalised, never
  capped), as our selector's `unpenalized`;
- lifelines' `CoxPHFitter` on every clinical column (a small ridge, 0.01, for the
  one-hot and missingness columns), i.e. no selection at all;

and prints the features each selects and the test-fold Harrell C beside the run's own
(`fold-k/<method>/selector.json`, `outcome.json`). With radiomics, as in the run, training
rows with a failed extraction are left out of the fit, the largest `--cap` coefficients are
kept (cpu-small's `max_selected`, 8), and lifelines' column is skipped (p > n). Used for
docs/benchmarks.md, "The main job". Run:

    .venv/bin/python tools/lasso_cox_check.py runs/demo/cpu-small runs/demo/cohort [radiomics]
"""

import json
import sys
import tomllib

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index
from sksurv.linear_model import CoxnetSurvivalAnalysis
from sksurv.util import Surv


def neg_log_pl(eta, time, event):
    """Breslow negative log partial likelihood (sum over events)."""
    order = np.argsort(-time, kind="stable")
    eta, time, event = eta[order], time[order], event[order]
    log_risk = np.logaddexp.accumulate(eta)
    # Tied times share the risk set of the first of them in this order (Breslow).
    _, first = np.unique(-time, return_index=True)
    last = np.r_[first[1:], len(time)] - 1
    set_of = np.repeat(last, np.diff(np.r_[first, len(time)]))
    return float(-(eta[event] - log_risk[set_of][event]).sum())


def cv_deviance_choice(x, time, event, alphas, rng, folds=3, penalty_factor=None):
    """Index of the penalty with the lowest mean Verweij-van Houwelingen deviance."""
    n = len(time)
    assign = rng.permutation(np.arange(n) % folds)
    dev = np.zeros((folds, len(alphas)))
    for f in range(folds):
        tr = assign != f
        model = CoxnetSurvivalAnalysis(l1_ratio=1.0, alphas=alphas, normalize=False,
                                       penalty_factor=penalty_factor)
        model.fit(x[tr], Surv.from_arrays(event[tr], time[tr]))
        dev[f, model.coef_.shape[1]:] = np.inf  # penalties the path stopped before
        for k in range(model.coef_.shape[1]):
            beta = model.coef_[:, k]
            dev[f, k] = 2 * (neg_log_pl(x @ beta, time, event)
                             - neg_log_pl(x[tr] @ beta, time[tr], event[tr]))
    return int(np.argmin(dev.mean(axis=0)))


def main(run, cohort, radiomics=False, cap=8):
    ids = open(f"{run}/patients.txt").read().split()
    outcome = json.load(open(f"{run}/outcome.json"))
    fold_of = np.array(outcome["fold_of"])
    ends = pd.read_csv(f"{cohort}/hecktor2022_endpoint_training.csv").set_index("PatientID")
    time = ends.loc[ids, "RFS"].to_numpy(float)
    event = ends.loc[ids, "Relapse"].to_numpy(bool)
    method = "lasso-cox-radiomics" if radiomics else "lasso-cox-clinical"
    ours_c = {r["fold"]: r["c_index"] for r in outcome["results"] if r["method"] == method}
    rng = np.random.default_rng(0)
    # The clinical baseline fits the pre-specified factors unpenalised (penalty.factor 0).
    config = tomllib.load(open(f"{run}/config.toml", "rb"))
    forced_vars = [] if radiomics else config.get("clinical", {}).get("prespecified", [])
    print("| fold | ours: selected (C) | scikit-survival: selected in 20 CV repeats, median test C | lifelines, all columns: C |")
    print("|---|---|---|---|")
    for k in sorted(set(fold_of)):
        table = pd.read_csv(f"{run}/fold-{k}/clinical.csv").set_index("PatientID").loc[ids]
        if radiomics:
            rad = pd.read_csv(f"{run}/fold-{k}/radiomics.csv").set_index("PatientID").loc[ids]
            table = rad.join(table)
        names = list(table.columns)
        x = table.to_numpy(float)
        usable = np.isfinite(x).all(axis=1)
        tr, te = (fold_of != k) & usable, fold_of == k
        mean, sd = x[tr].mean(axis=0), x[tr].std(axis=0)
        keep = sd > 0  # constant on the training fold: no information
        x, mean, sd, names = x[:, keep], mean[keep], sd[keep], [n for n, c in zip(names, keep) if c]
        z = np.nan_to_num((x - mean) / sd)
        forced = np.array([any(n == v or n.startswith(v + "=") or n == v + ":missing"
                               for v in forced_vars) for n in names])
        pf = np.where(forced, 0.0, 1.0) if forced.any() else None
        path = CoxnetSurvivalAnalysis(l1_ratio=1.0, n_alphas=30, alpha_min_ratio=0.01, normalize=False,
                                      penalty_factor=pf)
        path.fit(z[tr], Surv.from_arrays(event[tr], time[tr]))
        alphas = path.alphas_
        sizes, cs = [], []
        for _ in range(20):
            best = cv_deviance_choice(z[tr], time[tr], event[tr], alphas, rng, penalty_factor=pf)
            beta = path.coef_[:, best].copy()
            if (beta != 0).sum() > max(cap, forced.sum()):
                # Keep every forced column, then the largest coefficients.
                order = np.lexsort((-np.abs(beta), ~forced))
                beta[order[max(cap, forced.sum()):]] = 0.0
            sizes.append(int((beta != 0).sum()))
            cs.append(concordance_index(time[te], -(z[te] @ beta), event[te]) if beta.any() else 0.5)
        sel = json.load(open(f"{run}/fold-{k}/{method}/selector.json"))
        c_all = float("nan")
        if not radiomics:
            cph = CoxPHFitter(penalizer=0.01)
            frame = pd.DataFrame(z[tr], columns=names).assign(T=time[tr], E=event[tr])
            cph.fit(frame, "T", "E")
            hazard = cph.predict_partial_hazard(pd.DataFrame(z[te], columns=names))
            c_all = concordance_index(time[te], -hazard, event[te])
        counts = np.bincount(sizes)
        spread = ", ".join(f"{n}: {c}×" for n, c in enumerate(counts) if c)
        print(f"| {k} | {len(sel['selected'])} ({ours_c[k]:.3f}) | {spread}; C {np.median(cs):.3f} | {'–' if np.isnan(c_all) else f'{c_all:.3f}'} |")


if __name__ == "__main__":
    if len(sys.argv) not in (3, 4) or sys.argv[3:] not in ([], ["radiomics"]):
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], radiomics=sys.argv[3:] == ["radiomics"])
