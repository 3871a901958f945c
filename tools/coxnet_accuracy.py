#!/usr/bin/env python3
"""Compares LASSO-Cox paths by the objective they reach, not by their `tol` (which means
different things in scikit-survival and adamss-survival): for every penalty,
(1/n)·NLL_breslow(β) + α‖β‖₁, and its gap to scikit-survival run to tol 1e-10.

    cargo bench --bench survival -- coxnet      # writes the data and our coefficients
    .venv/bin/python tools/coxnet_accuracy.py 1e-7 1e-8

Prints the time of each scikit-survival run, the largest, summed and median gap over the path
for it and for our coefficients (target/bench-data/survival/coxnet_1000x1456.rust.csv, at the bench's tol), and
the penalties where ours is worse than the first scikit-survival run.
"""
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sksurv.linear_model import CoxnetSurvivalAnalysis

D = Path(__file__).resolve().parent.parent / "target" / "bench-data" / "survival"


def lasso_objective(X, t, e):
    """The LASSO-Cox objective (1/n)·NLL_breslow(β) + α‖β‖₁ on covariates X, times t and event
    flags e, as a function of (β, α) (also used by tools/ab_coxnet.py)."""
    n = len(t)
    order = np.argsort(-t, kind="stable")
    ts = t[order]

    def objective(b, a):
        eta = X @ b
        m = eta.max()
        cs = np.cumsum(np.exp(eta - m)[order])
        # Σ_{t_j ≥ t_i} e^η: the last position, in decreasing time, with a time ≥ t_i.
        rs = cs[np.searchsorted(-ts, -t, side="right") - 1]
        return -(eta[e] - np.log(rs[e]) - m).sum() / n + a * np.abs(b).sum()

    return objective


def main():
    df = pd.read_csv(D / "coxnet_1000x1456.csv")
    X = df.drop(columns=["time", "event"]).to_numpy()
    t = df.time.to_numpy()
    e = df.event.to_numpy().astype(bool)
    y = np.array(list(zip(e, t)), dtype=[("e", bool), ("t", float)])
    objective = lasso_objective(X, t, e)

    def fit(tol):
        t0 = time.perf_counter()
        m = CoxnetSurvivalAnalysis(l1_ratio=1.0, n_alphas=100, alpha_min_ratio=0.01, normalize=False,
                                   tol=tol, max_iter=1_000_000).fit(X, y)
        return m, time.perf_counter() - t0

    best, _ = fit(1e-10)
    alphas = best.alphas_
    ref = [objective(best.coef_[:, k], alphas[k]) for k in range(len(alphas))]
    ours = np.loadtxt(D / "coxnet_1000x1456.rust.csv", delimiter=",")
    ours_obj = [objective(ours[k], alphas[k]) for k in range(min(len(ours), len(alphas)))]
    g = np.array([o - r for o, r in zip(ours_obj, ref)])
    print(f"ours: largest gap {g.max():.3g}, sum {g.sum():.3g}, median {np.median(g):.3g}")
    first = None
    for tol in [float(v) for v in sys.argv[1:]] or [1e-7]:
        m, dt = fit(tol)
        obj = [objective(m.coef_[:, k], alphas[k]) for k in range(len(alphas))]
        g = np.array([o - r for o, r in zip(obj, ref)])
        print(f"scikit-survival tol {tol:g}: {dt:.2f} s, largest gap {g.max():.3g}, sum {g.sum():.3g}, "
              f"median {np.median(g):.3g}")
        if first is None:
            first = obj
            worse = [k for k, (o, s) in enumerate(zip(ours_obj, obj)) if o > s + 1e-12]
            print(f"penalties where ours is worse than scikit-survival tol {tol:g}: {worse}")


if __name__ == "__main__":
    main()
