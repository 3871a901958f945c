#!/usr/bin/env python3
"""Reference Nelson-Aalen cumulative hazards with variance and bounds for adamss-survival's
`NelsonAalen`, from lifelines' NelsonAalenFitter, both tie rules (nelson_aalen_smoothing True,
the default, and False), on the bundled datasets (rossi and whas500 with tied times; gbsg2,
veterans, lung): timeline, cumulative hazard, variance (the cumulative_sq_ lifelines keeps)
and the 95 % bounds.

Writes tests/data/survival/nelson_aalen_expected.json.
Run: .venv/bin/python tools/nelson_aalen_reference.py
"""
import json
from pathlib import Path

import lifelines
import pandas as pd
from lifelines import NelsonAalenFitter

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"


def main():
    out = {"generator": "tools/nelson_aalen_reference.py", "lifelines": lifelines.__version__, "datasets": {}}
    for name in ["rossi", "whas500", "gbsg2", "veterans", "lung"]:
        df = pd.read_csv(DATA / f"{name}.csv")
        case = {}
        for key, smoothing in [("smooth", True), ("discrete", False)]:
            naf = NelsonAalenFitter(nelson_aalen_smoothing=smoothing).fit(df["time"], df["event"])
            ci = naf.confidence_interval_
            case[key] = {
                "timeline": [float(v) for v in naf.cumulative_hazard_.index],
                "hazard": [float(v) for v in naf.cumulative_hazard_.iloc[:, 0]],
                "variance": [float(v) for v in naf._cumulative_sq.values.ravel()],
                "lower": [float(v) for v in ci.iloc[:, 0]],
                "upper": [float(v) for v in ci.iloc[:, 1]],
            }
            print(name, key, len(case[key]["timeline"]), round(case[key]["hazard"][-1], 5))
        out["datasets"][name] = case
    (DATA / "nelson_aalen_expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
