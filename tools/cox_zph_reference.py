#!/usr/bin/env python3
"""Reference values for adamss-survival's Schoenfeld residuals and proportional-hazards test
(`CoxPh::schoenfeld_residuals`, `CoxPh::proportional_hazards_test`), from lifelines.

On the bundled datasets (tests/data/survival/*.csv, written by tools/survival_reference.py;
every covariate, Efron ties): lifelines' CoxPHFitter, then
`proportional_hazard_test(fit, df, time_transform=...)` for rank, km, identity and log
(statistic and p-value per covariate), and on rossi (tied weeks) the Schoenfeld and scaled
Schoenfeld residuals with each row's subject.

Stratified fits: the four cases of tools/cox_strata_reference.py (CoxPHFitter(strata=[...]),
Efron), the test for km, identity and log, and for the ranks of the event times pooled over
strata (ties in input order) through a callable time_transform — lifelines' own "rank"
numbers the events in its stratum-sorted order (stratum 1's first), not by time — and on
whas500_decade (tied times) the Schoenfeld and scaled Schoenfeld residuals by subject.

Weighted fit (`weighted`): rossi with case weights 1, 1.5, 2 in turn (weights_col), the test
for every transform (lifelines' "km" is the weighted curve) and both residual kinds.

Writes tests/data/survival/zph_expected.json. Run: .venv/bin/python tools/cox_zph_reference.py
"""
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import lifelines
from lifelines import CoxPHFitter
from lifelines.statistics import proportional_hazard_test

from cox_strata_reference import CASES as STRATA_CASES, strata_of

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"


def pooled_rank(durations, events, weights):
    """Ranks 1..D of the event times over all strata, ties in input (index) order."""
    ev = np.flatnonzero(np.asarray(events).astype(bool))
    index = np.asarray(durations.index)
    order = sorted(ev, key=lambda k: (durations.values[k], index[k]))
    out = np.zeros(len(durations))
    for r, k in enumerate(order):
        out[k] = r + 1
    return pd.Series(out, index=durations.index)


def stratified():
    cases = {}
    for name, (dataset, cols) in STRATA_CASES.items():
        df = pd.read_csv(DATA / f"{dataset}.csv")
        frame = df[["time", "event"] + cols].copy()
        frame["stratum"] = strata_of(name, df)
        cph = CoxPHFitter().fit(frame, "time", "event", strata=["stratum"],
                               fit_options={"precision": 1e-12, "max_steps": 200})
        case = {"dataset": dataset, "covariates": cols, "strata": [int(v) for v in frame["stratum"]],
                "tests": {}}
        for key, transform in [("rank", pooled_rank), ("km", "km"), ("identity", "identity"), ("log", "log")]:
            r = proportional_hazard_test(cph, frame, time_transform=transform)
            case["tests"][key] = {
                "statistic": [float(v) for v in np.ravel(r.test_statistic)],
                "p_value": [float(v) for v in np.ravel(r.p_value)],
            }
        if name == "whas500_decade":
            for kind in ["schoenfeld", "scaled_schoenfeld"]:
                res = cph.compute_residuals(frame, kind)
                case[kind] = {"subjects": [int(i) for i in res.index],
                              "values": res[cols].values.tolist()}
        cases[name] = case
        print(name, {t: [round(v, 3) for v in case["tests"][t]["statistic"]][:3] for t in case["tests"]})
    return cases


def weighted():
    """rossi with case weights 1, 1.5, 2 in turn: lifelines' Schoenfeld residuals of a weighted
    fit (risk-set means over w·exp(xb), the residuals themselves unweighted), the test with its
    unweighted event count and the weighted Kaplan–Meier curve for "km"."""
    df = pd.read_csv(DATA / "rossi.csv")
    cols = [c for c in df.columns if c not in ("time", "event")]
    frame = df.copy()
    frame["w"] = np.array([1.0, 1.5, 2.0])[np.arange(len(df)) % 3]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifelines suggests robust errors for such weights
        cph = CoxPHFitter().fit(frame, "time", "event", weights_col="w",
                               fit_options={"precision": 1e-12, "max_steps": 200})
    case = {"dataset": "rossi", "covariates": cols, "weights": [float(v) for v in frame["w"]],
            "tests": {}}
    for transform in ["rank", "km", "identity", "log"]:
        r = proportional_hazard_test(cph, frame, time_transform=transform)
        case["tests"][transform] = {
            "statistic": [float(v) for v in np.ravel(r.test_statistic)],
            "p_value": [float(v) for v in np.ravel(r.p_value)],
        }
    for kind in ["schoenfeld", "scaled_schoenfeld"]:
        res = cph.compute_residuals(frame, kind)
        case[kind] = {"subjects": [int(i) for i in res.index], "values": res[cols].values.tolist()}
    return case


def main():
    out = {"generator": "tools/cox_zph_reference.py", "lifelines": lifelines.__version__, "datasets": {}}
    for name in ["rossi", "whas500", "gbsg2", "veterans"]:
        df = pd.read_csv(DATA / f"{name}.csv")
        cols = [c for c in df.columns if c not in ("time", "event")]
        cph = CoxPHFitter().fit(df, "time", "event", fit_options={"precision": 1e-12, "max_steps": 200})
        case = {"covariates": cols, "tests": {}}
        for transform in ["rank", "km", "identity", "log"]:
            r = proportional_hazard_test(cph, df, time_transform=transform)
            case["tests"][transform] = {
                "statistic": [float(v) for v in np.ravel(r.test_statistic)],
                "p_value": [float(v) for v in np.ravel(r.p_value)],
            }
        if name == "rossi":
            for kind in ["schoenfeld", "scaled_schoenfeld"]:
                res = cph.compute_residuals(df, kind)
                case[kind] = {"subjects": [int(i) for i in res.index],
                              "values": res[cols].values.tolist()}
        out["datasets"][name] = case
        print(name, {t: [round(v, 3) for v in case["tests"][t]["statistic"]][:3] for t in case["tests"]})
    out["stratified"] = stratified()
    out["weighted"] = weighted()
    (DATA / "zph_expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
