#!/usr/bin/env python3
"""Times lifelines and scikit-survival on the data of `cargo bench --bench survival` and
compares their results with ours (written beside the data by the bench).

    cargo bench --bench survival
    .venv/bin/python tools/bench_survival.py
"""
import statistics
import time
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter
from lifelines.utils import concordance_index
from sksurv.linear_model import CoxnetSurvivalAnalysis, CoxPHSurvivalAnalysis

D = Path(__file__).resolve().parent.parent / "target" / "bench-data" / "survival"


def timed(fn, n):
    times, out = [], None
    for _ in range(n):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main():
    h = pd.read_csv(D / "harrell_1e6.csv")
    t, c = timed(lambda: concordance_index(h.time, -h.risk, h.event), 1)
    ours = float((D / "harrell_1e6.rust.txt").read_text())
    print(f"harrell n=1e6   lifelines.concordance_index   {t:8.3f} s   C={c:.12f}  ours={ours:.12f}")
    # scikit-survival's concordance_index_censored is quadratic: too slow at n = 1e6.

    df = pd.read_csv(D / "cox_10000x50.csv")
    ours = np.loadtxt(D / "cox_10000x50.rust.txt")
    t, cph = timed(lambda: CoxPHFitter().fit(df, "time", "event"), 3)
    print(f"coxph 10000x50  lifelines CoxPHFitter (Efron) {t:8.3f} s   max|Δcoef|={np.abs(cph.params_.to_numpy() - ours).max():.2e}")
    X = df.drop(columns=["time", "event"]).to_numpy()
    y = np.array(list(zip(df.event.astype(bool), df.time)), dtype=[("e", bool), ("t", float)])
    t, m = timed(lambda: CoxPHSurvivalAnalysis(ties="efron").fit(X, y), 3)
    print(f"coxph 10000x50  sksurv CoxPHSurvivalAnalysis  {t:8.3f} s   max|Δcoef|={np.abs(m.coef_ - ours).max():.2e}")

    df = pd.read_csv(D / "coxnet_1000x1456.csv")
    X = df.drop(columns=["time", "event"]).to_numpy()
    y = np.array(list(zip(df.event.astype(bool), df.time)), dtype=[("e", bool), ("t", float)])
    ours = np.loadtxt(D / "coxnet_1000x1456.rust.csv", delimiter=",")
    t, m = timed(lambda: CoxnetSurvivalAnalysis(l1_ratio=1.0, n_alphas=100, alpha_min_ratio=0.01,
                                                normalize=False, tol=1e-7).fit(X, y), 3)
    k = min(m.coef_.shape[1], ours.shape[0])
    diff = np.abs(m.coef_.T[:k] - ours[:k]).max()
    print(f"coxnet 100 pen. sksurv CoxnetSurvivalAnalysis {t:8.3f} s   penalties {m.coef_.shape[1]}, max|Δcoef|={diff:.2e}")


if __name__ == "__main__":
    main()
