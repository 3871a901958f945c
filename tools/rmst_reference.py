#!/usr/bin/env python3
"""Reference values for adamss-survival's restricted mean survival time and Kaplan-Meier
percentiles (`KaplanMeier::restricted_mean`, `KaplanMeier::percentile`,
`KaplanMeier::percentile_confidence_interval`).

  restricted mean    lifelines.utils.restricted_mean_survival_time(kmf, t=tau): the area
                     under the Kaplan-Meier curve up to tau, exact for a KM fit
  its standard error R survival's print.survfit(fit, rmean=tau) "se(rmean)"
                     (Sum over event times t_j <= tau of A_j^2 d_j / (n_j (n_j - d_j)), A_j the
                     area from t_j to tau): R is not installed here, so the values are R's own
                     printed ones from the survival package's tests
                     (tests/Examples/survival-Ex.Rout.save: lung by ph.ecog, rmean = 730;
                     3 significant digits), copied below with the line they come from, and
                     lifelines' restricted means are asserted to round to R's printed rmean
  percentiles        lifelines' kmf.percentile(p) and qth_survival_times(p,
                     kmf.confidence_interval_) for p = 0.25, 0.5, 0.75, 0.9

  fixed point        lifelines' survival_difference_at_fixed_point_in_time_test(t, kmf_a,
                     kmf_b) (statistic, p-value) for lung ECOG 0 vs 1 and 1 vs 2, rossi by fin,
                     gbsg2 by horTh, at times observed in both groups (lifelines interpolates
                     Greenwood's sum linearly between observed times, while S steps)

Datasets: lung (lifelines.datasets.load_lung: time, status, ph.ecog; the row without ph.ecog
dropped as R drops it) -> tests/data/survival/lung.csv, and the bundled rossi, whas500, gbsg2,
veterans (written by tools/survival_reference.py) at tau = the 25th, 50th and 90th percentile
of time, an event time, the largest time and beyond it.

Writes tests/data/survival/rmst_expected.json. Run: .venv/bin/python tools/rmst_reference.py
"""
import json
import math
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
from lifelines import KaplanMeierFitter
from lifelines.datasets import load_lung
from lifelines.statistics import survival_difference_at_fixed_point_in_time_test
from lifelines.utils import qth_survival_times, restricted_mean_survival_time

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"
PERCENTILES = [0.25, 0.5, 0.75, 0.9]

# survival-Ex.Rout.save, lines 2241-2250 (survival 3.x):
#   > print(fit2, rmean=730)      fit2 <- survfit(Surv(time, status) ~ ph.ecog, data=lung)
#               n events rmean* se(rmean) median 0.95LCL 0.95UCL
#   ph.ecog=0  63     37    429      32.2    394     348     574
#   ph.ecog=1 113     82    366      22.4    306     268     429
#   ph.ecog=2  50     44    256      30.0    199     156     288
#   ph.ecog=3   1      1    118       0.0    118      NA      NA
R_LUNG_730 = {0: (63, 37, 429, 32.2), 1: (113, 82, 366, 22.4), 2: (50, 44, 256, 30.0), 3: (1, 1, 118, 0.0)}


def finite(v):
    v = float(v)
    return "inf" if math.isinf(v) else v


def curve(time, event, taus):
    kmf = KaplanMeierFitter().fit(time, event)
    ci = kmf.confidence_interval_
    out = {"rmst": [], "percentiles": []}
    for tau in taus:
        out["rmst"].append({"tau": float(tau), "mean": float(restricted_mean_survival_time(kmf, t=tau))})
    for p in PERCENTILES:
        bounds = qth_survival_times(p, ci)
        out["percentiles"].append({
            "p": p, "time": finite(kmf.percentile(p)),
            # lifelines' columns: lower bound first, then upper
            "lower": finite(bounds.iloc[0, 0]), "upper": finite(bounds.iloc[0, 1]),
        })
    return out


def fixed_point(lung):
    cases = []
    groups = [("lung", "ph_ecog", 0, 1), ("lung", "ph_ecog", 1, 2), ("rossi", "fin", 0, 1),
              ("gbsg2", "horTh=yes", 0, 1)]
    for dataset, col, a, b in groups:
        df = lung if dataset == "lung" else pd.read_csv(DATA / f"{dataset}.csv")
        ga, gb = df[df[col] == a], df[df[col] == b]
        ka = KaplanMeierFitter().fit(ga["time"], ga["event"])
        kb = KaplanMeierFitter().fit(gb["time"], gb["event"])
        common = sorted(set(ga["time"]) & set(gb["time"]))
        # Times inside both curves (0 < S < 1 on both), spread over the follow-up.
        usable = [t for t in common if 0 < ka.predict(t) < 1 and 0 < kb.predict(t) < 1]
        for t in [usable[len(usable) // 5], usable[len(usable) // 2], usable[4 * len(usable) // 5]]:
            r = survival_difference_at_fixed_point_in_time_test(float(t), ka, kb)
            cases.append({"dataset": dataset, "column": col, "a": a, "b": b, "time": float(t),
                          "statistic": float(r.test_statistic), "p_value": float(r.p_value)})
            print(dataset, col, t, round(float(r.test_statistic), 4), round(float(r.p_value), 4))
    return cases


def main():
    lung = load_lung()[["time", "status", "ph.ecog"]].dropna()
    lung = lung.rename(columns={"status": "event", "ph.ecog": "ph_ecog"}).astype({"ph_ecog": int})
    lung.to_csv(DATA / "lung.csv", index=False)
    out = {"generator": "tools/rmst_reference.py", "lifelines": lifelines.__version__,
           "lung_730": {}, "datasets": {}}
    for g, (n, events, rmean, se) in R_LUNG_730.items():
        sub = lung[lung["ph_ecog"] == g]
        assert len(sub) == n and int(sub["event"].sum()) == events, (g, len(sub), sub["event"].sum())
        entry = curve(sub["time"], sub["event"], [730.0])
        mean = entry["rmst"][0]["mean"]
        assert round(mean) == rmean, (g, mean, rmean)
        entry["r_rmean"], entry["r_se"] = rmean, se
        out["lung_730"][str(g)] = entry
        print("lung ph.ecog", g, round(mean, 3), "R", rmean, se)
    for name in ["rossi", "whas500", "gbsg2", "veterans"]:
        df = pd.read_csv(DATA / f"{name}.csv")
        t, e = df["time"], df["event"]
        first_event = float(t[e == 1].min())
        taus = [*np.quantile(t, [0.25, 0.5, 0.9]), first_event, float(t.max()), float(t.max()) * 1.1,
                first_event / 2]
        out["datasets"][name] = curve(t, e, taus)
        print(name, [round(r["mean"], 3) for r in out["datasets"][name]["rmst"]])
    out["fixed_point"] = fixed_point(lung)
    (DATA / "rmst_expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
