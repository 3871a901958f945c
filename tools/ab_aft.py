#!/usr/bin/env python3
"""Weibull AFT regression side by side with lifelines' WeibullAFTFitter, like for like: the same
seeded data (5 000 subjects x 20 covariates, Weibull times, 16 % censored), the two alternating
in one run, file reading outside the timed region on both sides, one thread each
(OpenBLAS/OpenMP pinned to 1), warm (a first untimed fit each). lifelines with its defaults
(BFGS to its default gradient tolerance), ours to its default (Newton to 1e-9 on standardised
steps): the log-likelihoods reached are printed, so the work each did to get there is on the
page. Prints each round, min and median of the times and of the per-round ratios, and the
machine's load.

    cargo build --release --example aft_timing
    .venv/bin/python tools/ab_aft.py [ROUNDS]
"""
import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[var] = "1"

import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from lifelines import WeibullAFTFitter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "target" / "bench-data" / "ab" / "aft_5000x20.csv"
EXE = ROOT / "target" / "release" / "examples" / "aft_timing"


def ours():
    out = subprocess.run([str(EXE), str(DATA), "2"], check=True, capture_output=True, text=True)
    t, c, ll = out.stdout.splitlines()[-1].split()
    return float(t), float(c), float(ll)


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    DATA.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261206)
    n, p = 5_000, 20
    x = rng.normal(size=(n, p))
    beta = rng.normal(scale=0.2, size=p)
    lam = np.exp(3.0 + x @ beta)
    t = lam * rng.weibull(1.4, size=n)
    c = rng.uniform(0, np.quantile(t, 0.95) * 1.5, size=n)
    e = (t <= c).astype(int)
    t = np.minimum(t, c)
    cols = [f"x{i}" for i in range(p)]
    df = pd.DataFrame(x, columns=cols)
    df.insert(0, "event", e)
    df.insert(0, "time", t)
    df.to_csv(DATA, index=False, float_format="%.17g")
    df = pd.read_csv(DATA)
    fit = lambda: WeibullAFTFitter().fit(df, "time", "event")  # noqa: E731
    fit()  # warm-up, untimed
    print(f"data: {n} x {p}, {1 - e.mean():.0%} censored; load before: {os.getloadavg()}  "
          f"cores: {os.cpu_count()}; one thread each")
    tl, to = [], []
    for r in range(rounds):
        t0 = time.perf_counter()
        m = fit()
        a = time.perf_counter() - t0
        b, c0, ll = ours()
        tl.append(a), to.append(b)
        print(f"round {r}: lifelines {a:.3f} s  ours {b * 1e3:.1f} ms  ratio {a / b:.1f}x")
    ratios = [u / v for u, v in zip(tl, to)]
    print(f"lifelines min {min(tl):.3f} s median {statistics.median(tl):.3f} s; ours min "
          f"{min(to) * 1e3:.1f} ms median {statistics.median(to) * 1e3:.1f} ms; ratio per round "
          f"min {min(ratios):.1f}x median {statistics.median(ratios):.1f}x")
    print(f"coef x0: lifelines {m.params_[('lambda_', 'x0')]:.12e}  ours {c0:.12e}")
    print(f"log-likelihood: lifelines {m.log_likelihood_:.12f}  ours {ll:.12f}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
