#!/usr/bin/env python3
"""Penalised Cox (Efron ties) on a radiomics-shaped design, side by side with lifelines'
`CoxPHFitter(penalizer=…, l1_ratio=…)`, like for like: the same seeded data (300 patients,
150 correlated features: 15 latent factors plus noise, as texture features of one image are),
the two alternating in one run, file reading outside the timed region on both sides, one
thread each (OpenBLAS/OpenMP/rayon pinned to 1), warm (a first untimed fit each), the
coefficients compared. Two settings: ridge (penalizer 0.1) and elastic net (penalizer 0.02,
l1_ratio 0.5). lifelines stops at its default precision; ours at its default tolerance (a
largest Newton step of 1e-10 on the standardised scale), at least as tight. Prints each round,
min and median of the times and of the per-round ratios, and the machine's load.

    cargo build --release --example coxph_timing
    .venv/bin/python tools/ab_coxph_penalized.py [ROUNDS]
"""
import os

for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ[var] = "1"

import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from lifelines import CoxPHFitter  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "target" / "bench-data" / "ab" / "cox_penalized_300x150.csv"
EXE = ROOT / "target" / "release" / "examples" / "coxph_timing"
SETTINGS = [(0.1, 0.0), (0.02, 0.5)]


def ours(penalizer, l1_ratio):
    out = subprocess.run([str(EXE), str(DATA), "1", str(penalizer), str(l1_ratio)], check=True,
                         capture_output=True, text=True)
    fields = out.stdout.splitlines()[-1].split()
    return float(fields[0]), np.array([float(v) for v in fields[1:]])


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    DATA.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261207)
    n, p, k = 300, 150, 15
    latent = rng.normal(size=(n, k))
    x = latent @ rng.normal(size=(k, p)) + 0.5 * rng.normal(size=(n, p))
    beta = np.zeros(p)
    beta[:10] = rng.normal(scale=0.1, size=10)
    t = np.round(rng.exponential(np.exp(-x @ beta)) * 50) / 50 + 0.02
    e = (rng.random(n) < 0.6).astype(int)
    cols = [f"x{i}" for i in range(p)]
    df = pd.DataFrame(x, columns=cols)
    df.insert(0, "event", e)
    df.insert(0, "time", t)
    df.to_csv(DATA, index=False, float_format="%.17g")
    df = pd.read_csv(DATA)
    print(f"load before: {os.getloadavg()}  cores: {os.cpu_count()}; one thread each")
    for penalizer, l1_ratio in SETTINGS:
        def lifelines_fit():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return CoxPHFitter(penalizer=penalizer, l1_ratio=l1_ratio).fit(df, "time", "event")
        lifelines_fit(), ours(penalizer, l1_ratio)  # warm-up, untimed
        tl, to = [], []
        for r in range(rounds):
            a, cph = timed(lifelines_fit)
            c, coef = ours(penalizer, l1_ratio)
            tl.append(a), to.append(c)
            print(f"penalizer {penalizer} l1_ratio {l1_ratio} round {r}: lifelines {a:.3f} s  "
                  f"ours {c * 1e3:.1f} ms")
        ratios = [u / v for u, v in zip(tl, to)]
        gap = np.abs(cph.params_.to_numpy() - coef).max()
        print(f"  lifelines min {min(tl):.3f} s median {statistics.median(tl):.3f} s; ours min "
              f"{min(to) * 1e3:.1f} ms median {statistics.median(to) * 1e3:.1f} ms; ratio per round "
              f"min {min(ratios):.1f}x median {statistics.median(ratios):.1f}x; "
              f"max |coef gap| {gap:.1e}, zeros ours {int((coef == 0).sum())}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
