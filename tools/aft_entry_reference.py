#!/usr/bin/env python3
"""Reference fits of parametric AFT models with delayed entry (left truncation) for
adamss-survival's `AftValidParams::fit_with_entry`, from lifelines 0.30.3: its
WeibullAFTFitter, LogNormalAFTFitter and LogLogisticAFTFitter with `entry_col` on rossi (every
covariate), whose log-likelihood adds each subject's cumulative hazard at its entry (the
likelihood conditional on surviving to it), without and with `ancillary` for the Weibull; and
the univariate WeibullFitter with `entry=`.

Entry times: floor(U(0, 0.6) · week) (numpy's default_rng(7): those of
tools/left_truncation_reference.py), written out. Fits as tools/aft_reference.py makes them:
lifelines' optimiser at its tightest tolerance, then polished by Newton on lifelines' own
likelihood (importing aft_reference installs that polish), so the reference is lifelines'
maximum to machine precision. Per fit: the parameters in lifelines' parametrisation with
their standard errors, the log-likelihood and the concordance.

Writes tests/data/survival/aft_entry_expected.json.
Run: .venv/bin/python tools/aft_entry_reference.py
"""
import json
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
from lifelines import WeibullFitter

from aft_reference import FITTERS, PARAMS, tight  # also installs the Newton polish

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"


def main():
    df = pd.read_csv(DATA / "rossi.csv")
    covariates = [c for c in df.columns if c not in ("time", "event")]
    rng = np.random.default_rng(7)
    df["entry"] = np.floor(rng.uniform(0.0, 0.6, len(df)) * df["time"])
    out = {"generator": "tools/aft_entry_reference.py", "lifelines": lifelines.__version__,
           "dataset": "rossi", "covariates": covariates,
           "entry": [float(e) for e in df["entry"]], "fits": []}
    for dist, fitter in FITTERS.items():
        for ancillary in ((False, True) if dist == "weibull" else (False,)):
            m = tight(lambda o: fitter().fit(df, "time", "event", entry_col="entry",
                                             ancillary=ancillary, fit_options=o))
            loc, shape = PARAMS[dist]
            params, se = m.params_, m.standard_errors_
            shape_rows = (covariates if ancillary else []) + ["Intercept"]
            out["fits"].append({
                "distribution": dist, "ancillary": ancillary,
                "location": [float(params[(loc, c)]) for c in covariates + ["Intercept"]],
                "location_se": [float(se[(loc, c)]) for c in covariates + ["Intercept"]],
                "shape": [float(params[(shape, c)]) for c in shape_rows],
                "shape_se": [float(se[(shape, c)]) for c in shape_rows],
                "log_likelihood": float(m.log_likelihood_),
                "concordance": float(m.concordance_index_),
            })
    w = WeibullFitter().fit(df["time"], df["event"], entry=df["entry"])
    out["univariate_weibull"] = {
        "lambda": float(w.lambda_), "rho": float(w.rho_),
        "se": [float(w.summary.loc[n, "se(coef)"]) for n in ("lambda_", "rho_")],
        "log_likelihood": float(w.log_likelihood_)}
    path = DATA / "aft_entry_expected.json"
    path.write_text(json.dumps(out, indent=1, allow_nan=False) + "\n")
    print(f"wrote {path} ({len(out['fits'])} fits)")


if __name__ == "__main__":
    main()
