#!/usr/bin/env python3
"""Reference cumulative incidence under competing risks for adamss-survival's
`CumulativeIncidence` (the Aalen-Johansen estimator), from lifelines' AalenJohansenFitter.

Two synthetic cohorts (numpy seed 7): 300 patients with three latent exponential times (cause 1,
e.g. locoregional failure; cause 2, e.g. death without failure; censoring) -> the first of
them and its cause (0 = censored); "continuous" keeps the times (no ties), "rounded" rounds
them to whole months, so several patients share a time — but never with events of different
causes (lifelines then jitters the times at random; the generator asserts it did not). For
each cohort and cause 1 and 2: the timeline, numbers at risk, the cumulative incidence, its
variance (Collett / SAS's delta-method Greenwood form) and the log(-log) 95 % bounds.

Writes tests/data/survival/competing.csv (cohort, time, cause) and competing_expected.json.
Run: .venv/bin/python tools/competing_risks_reference.py
"""
import json
import math
import warnings
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
from lifelines import AalenJohansenFitter

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"


def cohort(rng, n, rounded):
    t1 = rng.exponential(40.0, n)
    t2 = rng.exponential(60.0, n)
    c = rng.uniform(5.0, 90.0, n)
    t = np.minimum(np.minimum(t1, t2), c)
    cause = np.where(t == c, 0, np.where(t == t1, 1, 2))
    if rounded:
        t = np.ceil(t)
        # No time shared by events of different causes (lifelines would jitter them).
        df = pd.DataFrame({"t": t, "e": cause})
        ev = df[df.e != 0]
        clash = ev.groupby("t")["e"].nunique()
        for time in clash[clash > 1].index:
            # Move this time's cause-2 events half a month later.
            df.loc[(df.t == time) & (df.e == 2), "t"] = time + 0.5
        t = df.t.values
    return t, cause


def finite(v):
    v = float(v)
    return "nan" if math.isnan(v) else ("inf" if math.isinf(v) else v)


def main():
    rng = np.random.default_rng(7)
    rows, out = [], {"generator": "tools/competing_risks_reference.py", "lifelines": lifelines.__version__,
                     "cohorts": {}}
    for name, rounded in [("continuous", False), ("rounded", True)]:
        t, cause = cohort(rng, 300, rounded)
        rows += [{"cohort": name, "time": float(a), "cause": int(b)} for a, b in zip(t, cause)]
        entry = {}
        for k in [1, 2]:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a jitter warning fails the generator
                aj = AalenJohansenFitter(calculate_variance=True).fit(t, cause, event_of_interest=k)
            ci = aj.confidence_interval_
            cols = list(ci.columns)
            entry[str(k)] = {
                "timeline": [float(v) for v in aj.cumulative_density_.index],
                "at_risk": [float(v) for v in aj.event_table["at_risk"]],
                "incidence": [float(v) for v in aj.cumulative_density_.iloc[:, 0]],
                "variance": [finite(v) for v in aj.variance_],
                # lifelines labels the columns upper, lower; kept as given
                "bound_a": [finite(v) for v in ci[cols[0]]],
                "bound_b": [finite(v) for v in ci[cols[1]]],
                "bound_labels": cols,
            }
            print(name, k, len(entry[str(k)]["timeline"]), round(entry[str(k)]["incidence"][-1], 4), cols)
        out["cohorts"][name] = entry
    pd.DataFrame(rows).to_csv(DATA / "competing.csv", index=False)
    (DATA / "competing_expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
