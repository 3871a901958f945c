#!/usr/bin/env python3
"""Reference values for the LASSO-Cox path on a p > n design (50 patients, 200 correlated
features: the regime of the training's radiomics selection, where adamss-survival's solver
switches to Anderson-accelerated sweeps and covariance mode), from scikit-survival's
`CoxnetSurvivalAnalysis` (raw covariates, `normalize=False`, tol 1e-13).

    .venv/bin/python tools/coxnet_wide_reference.py

Writes tests/data/survival/coxnet_wide.csv (`time,event,x0,…`, values rounded to 6
significant digits, so both sides read the same numbers) and coxnet_wide_expected.json (the
path's penalties and coefficients, for l1_ratio 1 and 0.5), asserted by
crates/adamss-survival/tests/it/coxnet.rs.
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import sksurv
from sksurv.linear_model import CoxnetSurvivalAnalysis

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"


def main():
    rng = np.random.default_rng(20261205)
    n, p = 50, 200
    x = rng.normal(size=(n, 5)) @ (0.6 * rng.normal(size=(5, p))) + rng.normal(size=(n, p))
    beta = np.zeros(p)
    beta[:5] = [0.5, -0.4, 0.3, -0.3, 0.2]
    t = -np.log(rng.uniform(1e-12, 1, n)) / np.exp(x @ beta) * 100
    c = rng.uniform(0, 250, n)
    df = pd.DataFrame(x, columns=[f"x{k}" for k in range(p)])
    df.insert(0, "event", (t <= c).astype(int))
    df.insert(0, "time", np.maximum(np.round(np.minimum(t, c), 1), 0.1))
    csv = OUT / "coxnet_wide.csv"
    df.to_csv(csv, index=False, float_format="%.6g")
    df = pd.read_csv(csv)
    X = df.drop(columns=["time", "event"]).to_numpy()
    y = np.array(list(zip(df.event.astype(bool), df.time)), dtype=[("e", bool), ("t", float)])
    cases = []
    for l1_ratio in (1.0, 0.5):
        m = CoxnetSurvivalAnalysis(l1_ratio=l1_ratio, n_alphas=20, alpha_min_ratio=0.05, normalize=False,
                                   tol=1e-13, max_iter=10**7).fit(X, y)
        cases.append({"l1_ratio": l1_ratio, "alphas": m.alphas_.tolist(), "coef": m.coef_.T.tolist(),
                      "non_zero": int((m.coef_[:, -1] != 0).sum())})
    out = {"generator": "tools/coxnet_wide_reference.py", "sksurv": sksurv.__version__,
           "n": n, "p": p, "events": int(df.event.sum()), "cases": cases}
    (OUT / "coxnet_wide_expected.json").write_text(json.dumps(out, indent=1) + "\n")
    print(n, p, int(df.event.sum()), "events;", [c["non_zero"] for c in cases], "non-zero at the last penalty")


if __name__ == "__main__":
    main()
