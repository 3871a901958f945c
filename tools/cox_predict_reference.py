#!/usr/bin/env python3
"""Reference predicted percentiles of a Cox model for adamss-survival's
`BreslowBaseline::percentile` / `median`, from lifelines.

On the bundled datasets (tests/data/survival/*.csv, written by tools/survival_reference.py;
every covariate, Efron ties): lifelines' CoxPHFitter, then for the first 30 subjects
predict_percentile(X, p) for p = 0.25, 0.5 (predict_median) and 0.75 — the first time on the
baseline's timeline (every observed time) at which the subject's predicted survival curve is
at most p, inf where it stays above.

Writes tests/data/survival/cox_predict_expected.json.
Run: .venv/bin/python tools/cox_predict_reference.py
"""
import json
import math
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
from lifelines import CoxPHFitter

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"
ROWS = 30
PS = [0.25, 0.5, 0.75]


def main():
    out = {"generator": "tools/cox_predict_reference.py", "lifelines": lifelines.__version__,
           "rows": ROWS, "p": PS, "datasets": {}}
    for name in ["rossi", "whas500", "gbsg2", "veterans"]:
        df = pd.read_csv(DATA / f"{name}.csv")
        cph = CoxPHFitter().fit(df, "time", "event", fit_options={"precision": 1e-12, "max_steps": 200})
        x = df.drop(columns=["time", "event"]).iloc[:ROWS]
        case = {}
        for p in PS:
            v = np.ravel(cph.predict_percentile(x, p=p))
            case[str(p)] = ["inf" if math.isinf(t) else float(t) for t in v]
        median = np.ravel(cph.predict_median(x))
        assert all((a == b) or (math.isinf(a) and math.isinf(b)) for a, b in zip(median, [
            math.inf if t == "inf" else t for t in case["0.5"]]))
        out["datasets"][name] = case
        print(name, {p: case[p][:5] for p in case})
    (DATA / "cox_predict_expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
