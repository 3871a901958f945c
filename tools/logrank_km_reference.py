#!/usr/bin/env python3
"""Reference values for adamss-survival's weighted log-rank tests and Kaplan–Meier median
confidence intervals, from lifelines.

On the bundled datasets (tests/data/survival/*.csv, written by tools/survival_reference.py),
with a grouping each:

  rossi     fin (2 groups)             gbsg2     horTh=yes (2)
  whas500   gender=1 (2)               veterans  cell type (4: adeno, large, smallcell, squamous)

lifelines' multivariate_logrank_test with every `weightings` (none, wilcoxon, tarone-ware, peto,
fleming-harrington at (p, q) = (1, 0), (0, 1), (0.5, 2)): statistic and p-value; and the
Kaplan–Meier median with its 95 % and 90 % intervals (median_survival_times of
confidence_interval_), of each dataset and of each group; the weighted Kaplan-Meier curve
(fractional and integer case weights: curve, bounds, numbers at risk, median).

Writes tests/data/survival/logrank_km_expected.json. Run: .venv/bin/python tools/logrank_km_reference.py
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import lifelines
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test
from lifelines.utils import median_survival_times

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"

GROUPS = {
    "rossi": lambda df: df["fin"].astype(int),
    "gbsg2": lambda df: df["horTh=yes"].astype(int),
    "whas500": lambda df: df["gender=1"].astype(int),
    "veterans": lambda df: (df["Celltype=large"] + 2 * df["Celltype=smallcell"]
                            + 3 * df["Celltype=squamous"]).astype(int),
}
WEIGHTINGS = [("logrank", None, {}), ("wilcoxon", "wilcoxon", {}), ("tarone-ware", "tarone-ware", {}),
              ("peto", "peto", {}), ("fh_1_0", "fleming-harrington", {"p": 1, "q": 0}),
              ("fh_0_1", "fleming-harrington", {"p": 0, "q": 1}),
              ("fh_0.5_2", "fleming-harrington", {"p": 0.5, "q": 2})]


def median_ci(t, e, alpha):
    kmf = KaplanMeierFitter(alpha=alpha).fit(t, e)
    ci = median_survival_times(kmf.confidence_interval_)
    # JSON has no infinity: a median or bound never reached is written as null.
    return [None if np.isinf(v) else float(v)
            for v in (kmf.median_survival_time_, ci.iloc[0, 0], ci.iloc[0, 1])]


def weights(n):
    """Case weights: non-integer (0.5 + (i % 7) / 4) and integer (1 + i % 3)."""
    i = np.arange(n)
    return {"fractional": 0.5 + (i % 7) / 4, "integer": (1 + i % 3).astype(float)}


def weighted_km(t, e, w):
    """lifelines' weighted Kaplan-Meier: timeline, curve, 95 % bounds and median. Its bounds
    truncate the number at risk to an integer (astype("uint64")): compare them for integer
    weights only."""
    kmf = KaplanMeierFitter().fit(t, e, weights=w)
    ci = kmf.confidence_interval_
    med = kmf.median_survival_time_
    return {"weights": w.tolist(), "timeline": kmf.timeline.tolist(),
            "survival": kmf.survival_function_.iloc[:, 0].tolist(),
            "lower": ci.iloc[:, 0].tolist(), "upper": ci.iloc[:, 1].tolist(),
            "at_risk": kmf.event_table["at_risk"].tolist(),
            "median": None if np.isinf(med) else float(med)}


def main():
    out = {"generator": "tools/logrank_km_reference.py", "lifelines": lifelines.__version__, "datasets": {}}
    for name, grouping in GROUPS.items():
        df = pd.read_csv(DATA / f"{name}.csv")
        g = grouping(df)
        t, e = df["time"].values, df["event"].values
        tests = {}
        for key, w, kw in WEIGHTINGS:
            r = multivariate_logrank_test(t, g, e, weightings=w, **kw)
            tests[key] = {"statistic": float(r.test_statistic), "p_value": float(r.p_value)}
        medians = {"all": {str(c): median_ci(t, e, 1 - c) for c in (0.95, 0.9)}}
        for label in sorted(g.unique()):
            m = (g == label).values
            medians[str(label)] = {str(c): median_ci(t[m], e[m], 1 - c) for c in (0.95, 0.9)}
        out["datasets"][name] = {"group": [int(v) for v in g], "logrank": tests, "median": medians,
                                 "weighted_km": {kind: weighted_km(t, e, w) for kind, w in weights(len(t)).items()}}
        print(name, {k: round(v["statistic"], 4) for k, v in tests.items()}, medians["all"])
    (DATA / "logrank_km_expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
