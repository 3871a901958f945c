#!/usr/bin/env python3
"""Reference values for adamss-survival's penalised Cox fit (`CoxPh::params().penalizer(…)`,
`.penalizers(…)`, `.l1_ratio(…)`): lifelines' `CoxPHFitter(penalizer=…, l1_ratio=…)`.

lifelines maximises, on covariates standardised by their mean and standard deviation
(ddof = 1), the Efron log partial likelihood minus
    n · Σ_j penalizer_j · (l1_ratio · |b_j| + (1 − l1_ratio) / 2 · b_j²),
n the number of rows, and divides the coefficients by the standard deviations afterwards.

Cases (bundled datasets, tests/data/survival/*.csv, written by tools/survival_reference.py):

  rossi_0.1        rossi, 7 covariates, penalizer 0.1 (lifelines' documented example)
  rossi_0.01       the same, penalizer 0.01
  gbsg2_array      gbsg2, 7 covariates, one penalizer per covariate, two of them 0
  whas500_strata   whas500 (tied times), 6 covariates, strata = length-of-stay band
                   (cox_strata_reference.py's `strata_of`), case weights 1, 1.5, 2 in
                   turn, penalizer 0.05
  wide_0.5         coxnet_wide.csv: 50 patients, 200 covariates (p > n), penalizer 0.5
  rossi_l1_0.5     rossi, penalizer 0.05, l1_ratio 0.5
  rossi_lasso      rossi, penalizer 0.02, l1_ratio 1
  gbsg2_l1_0.3     gbsg2, penalizer 0.05, l1_ratio 0.3

For the ridge cases (l1_ratio 0) lifelines' Newton–Raphson (precision 1e-12, r_precision
1e-14) reaches the maximum; its coefficients, standard errors (the inverse of the penalised
information), penalised log-likelihood, null log-likelihood, concordance and
likelihood-ratio statistic are recorded.

With an L1 part lifelines replaces |b| by a smooth approximation (1/a)·log(2 + 2 cosh(a b))
whose sharpness a = 1.3^i grows with the iteration count i, so its answer is near, not at,
the maximum (a coefficient the L1 part sets to 0 comes out as a small number, and its standard
error from the smoothed curvature). The exact maximum is computed here too (`exact`): scipy's
L-BFGS-B on the split b = u − v, u, v ≥ 0, with the likelihood and gradient of lifelines' own
`_get_efron_values_single`, then Newton on the nonzero coefficients to machine precision, and
the optimality conditions checked (|gradient| ≤ n·penalizer·l1_ratio where b = 0); recorded
are its coefficients, which are 0, and the standard errors of the nonzero ones from the
penalised information restricted to them.

Writes tests/data/survival/cox_penalized_expected.json.
Run: .venv/bin/python tools/cox_penalized_reference.py
"""
import json
import warnings
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
import scipy
from lifelines import CoxPHFitter
from lifelines.fitters.coxph_fitter import SemiParametricPHFitter
from scipy.optimize import minimize

from cox_strata_reference import strata_of  # the same length-of-stay bands

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"

ROSSI = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
GBSG2 = ["age", "estrec", "horTh=yes", "menostat=Post", "pnodes", "progrec", "tsize"]
WHAS = ["age", "bmi", "hr", "sysbp", "gender=1", "chf=1"]

CASES = {
    "rossi_0.1": dict(dataset="rossi", covariates=ROSSI, penalizer=0.1),
    "rossi_0.01": dict(dataset="rossi", covariates=ROSSI, penalizer=0.01),
    "gbsg2_array": dict(dataset="gbsg2", covariates=GBSG2,
                        penalizer=[0.0, 0.2, 0.05, 0.0, 0.1, 0.3, 0.02]),
    "whas500_strata": dict(dataset="whas500", covariates=WHAS, penalizer=0.05, strata=True,
                           weights=True),
    "wide_0.5": dict(dataset="coxnet_wide", covariates=None, penalizer=0.5),
    "rossi_l1_0.5": dict(dataset="rossi", covariates=ROSSI, penalizer=0.05, l1_ratio=0.5),
    "rossi_lasso": dict(dataset="rossi", covariates=ROSSI, penalizer=0.02, l1_ratio=1.0),
    "gbsg2_l1_0.3": dict(dataset="gbsg2", covariates=GBSG2, penalizer=0.05, l1_ratio=0.3),
}


def exact_elastic_net(frame, cols, penalizer, l1_ratio):
    """The exact maximum of lifelines' penalised objective (unstratified, unweighted)."""
    df = frame.sort_values("time")
    x = df[cols].to_numpy(float)
    t, e = df["time"], df["event"].astype(bool)
    n, d = x.shape
    mean, sd = x.mean(0), x.std(0, ddof=1)
    xn = pd.DataFrame((x - mean) / sd, columns=cols)
    t = pd.Series(t.to_numpy(float))
    e = pd.Series(e.to_numpy())
    w = pd.Series(np.ones(n))
    cph = SemiParametricPHFitter()
    lam = np.broadcast_to(np.asarray(penalizer, float), (d,))
    l1 = n * lam * l1_ratio
    l2 = n * lam * (1.0 - l1_ratio)

    def smooth(b):
        h, g, ll = cph._get_efron_values_single(xn, t, e, w, None, b)
        return -ll + 0.5 * (l2 * b * b).sum(), -g + l2 * b, -h + np.diag(l2)

    def split(z):
        u, v = z[:d], z[d:]
        f, g, _ = smooth(u - v)
        return f + (l1 * (u + v)).sum(), np.concatenate([g + l1, -g + l1])

    res = minimize(split, np.zeros(2 * d), jac=True, method="L-BFGS-B",
                   bounds=[(0, None)] * (2 * d),
                   options=dict(maxiter=20000, ftol=1e-15, gtol=1e-12, maxcor=30))
    b = res.x[:d] - res.x[d:]
    active = np.abs(b) > 1e-6
    b[~active] = 0.0
    sign = np.sign(b)
    for _ in range(50):  # Newton on the active set, where the objective is smooth
        f, g, h = smooth(b)
        ga = g[active] + l1[active] * sign[active]
        step = np.linalg.solve(h[np.ix_(active, active)], ga)
        b[active] -= step
        if np.abs(step).max() < 1e-15:
            break
    f, g, h = smooth(b)
    assert np.all(np.sign(b[active]) == sign[active]), "an active coefficient changed sign"
    kkt_active = np.abs(g[active] + l1[active] * sign[active]).max(initial=0.0)
    kkt_zero = (np.abs(g[~active]) - l1[~active]).max(initial=-np.inf)
    assert kkt_active < 1e-8 and kkt_zero < 0, (kkt_active, kkt_zero)
    cov = np.full((d, d), np.nan)
    inv = np.linalg.inv(h[np.ix_(active, active)])
    cov[np.ix_(active, active)] = inv / np.outer(sd[active], sd[active])
    se = np.sqrt(np.diag(cov))
    return {
        "coef": [float(v) for v in b / sd],
        "se": [None if np.isnan(v) else float(v) for v in se],
        "log_likelihood": float(-(f + (l1 * np.abs(b)).sum())),
        "kkt_active": float(kkt_active),
        "kkt_zero_margin": float(-kkt_zero) if np.isfinite(kkt_zero) else None,
    }


def main():
    out = {"generator": "tools/cox_penalized_reference.py", "lifelines": lifelines.__version__,
           "scipy": scipy.__version__, "cases": {}}
    for name, spec in CASES.items():
        df = pd.read_csv(DATA / f"{spec['dataset']}.csv")
        cols = spec["covariates"] or [c for c in df.columns if c not in ("time", "event")]
        frame = df[["time", "event"] + cols].copy()
        case = {"dataset": spec["dataset"], "covariates": cols, "penalizer": spec["penalizer"],
                "l1_ratio": spec.get("l1_ratio", 0.0)}
        kwargs = {}
        if spec.get("strata"):
            frame["stratum"] = strata_of("whas500_decade", df)
            case["strata"] = [int(s) for s in frame["stratum"]]
            kwargs["strata"] = ["stratum"]
        if spec.get("weights"):
            frame["w"] = [1.0 + 0.5 * (i % 3) for i in range(len(frame))]
            case["weights"] = list(frame["w"])
            kwargs["weights_col"] = "w"
        penalizer = np.asarray(spec["penalizer"], float) if isinstance(spec["penalizer"], list) \
            else spec["penalizer"]
        cph = CoxPHFitter(penalizer=penalizer, l1_ratio=case["l1_ratio"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # non-integer weights: lifelines suggests robust
            cph.fit(frame, "time", "event", **kwargs,
                    fit_options={"precision": 1e-12, "r_precision": 1e-14, "max_steps": 500})
        case["lifelines"] = {
            "coef": [float(cph.params_[c]) for c in cols],
            "se": [float(cph.standard_errors_[c]) for c in cols],
            "log_likelihood": float(cph.log_likelihood_),
            "log_likelihood_null": float(cph._ll_null_),
            "concordance": float(cph.concordance_index_),
            "likelihood_ratio": float(cph.log_likelihood_ratio_test().test_statistic),
        }
        if case["l1_ratio"] > 0:
            case["exact"] = exact_elastic_net(frame, cols, spec["penalizer"], case["l1_ratio"])
            gap = np.abs(np.array(case["exact"]["coef"]) - case["lifelines"]["coef"]).max()
            zeros = sum(c == 0.0 for c in case["exact"]["coef"])
            print(f"{name}: {zeros} of {len(cols)} coefficients 0; lifelines' smoothed answer "
                  f"within {gap:.2e} of the exact maximum")
        else:
            print(f"{name}: {len(cols)} covariates, {len(frame)} rows, "
                  f"log-likelihood {cph.log_likelihood_:.6f}")
        out["cases"][name] = case
    (DATA / "cox_penalized_expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
