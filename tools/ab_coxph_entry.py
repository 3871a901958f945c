#!/usr/bin/env python3
"""Cox PH (Efron ties) with delayed entry, side by side with lifelines'
`CoxPHFitter().fit(…, entry_col="entry")`, like for like: the same seeded data (2 000
patients, 10 covariates, entry times up to 60 % of each patient's time, tied times), the two
alternating in one run, file reading outside the timed region on both sides, one thread each
(OpenBLAS/OpenMP/rayon pinned to 1), warm (a first untimed fit each), the coefficients
compared. lifelines stops at its default precision; ours at its default tolerance (a largest
Newton step of 1e-10 on the standardised scale), at least as tight. Prints each round, min and
median of the times and of the per-round ratios, and the machine's load.

    cargo build --release --example coxph_timing
    .venv/bin/python tools/ab_coxph_entry.py [ROUNDS]
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
DATA = ROOT / "target" / "bench-data" / "ab" / "cox_entry_2000x10.csv"
EXE = ROOT / "target" / "release" / "examples" / "coxph_timing"


def ours():
    out = subprocess.run([str(EXE), str(DATA), "1", "0", "0"], check=True, capture_output=True,
                         text=True)
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
    n, p = 2000, 10
    x = rng.normal(size=(n, p))
    beta = rng.normal(scale=0.3, size=p)
    t = np.ceil(rng.exponential(np.exp(-x @ beta)) * 100) / 10 + 0.1
    e = (rng.random(n) < 0.7).astype(int)
    entry = np.floor(rng.uniform(0.0, 0.6, n) * t * 10) / 10
    cols = [f"x{i}" for i in range(p)]
    df = pd.DataFrame(x, columns=cols)
    df.insert(0, "entry", entry)
    df.insert(0, "event", e)
    df.insert(0, "time", t)
    df.to_csv(DATA, index=False, float_format="%.17g")
    # round_trip: pandas' default parser is not correctly rounded, and a last-bit change
    # makes or breaks a tie between an entry and an event time.
    df = pd.read_csv(DATA, float_precision="round_trip")

    def lifelines_fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return CoxPHFitter().fit(df, "time", "event", entry_col="entry")

    print(f"load before: {os.getloadavg()}  cores: {os.cpu_count()}; one thread each")
    lifelines_fit(), ours()  # warm-up, untimed
    tl, to = [], []
    for r in range(rounds):
        a, cph = timed(lifelines_fit)
        c, coef = ours()
        tl.append(a), to.append(c)
        print(f"round {r}: lifelines {a:.3f} s  ours {c * 1e3:.2f} ms")
    ratios = [u / v for u, v in zip(tl, to)]
    gap = np.abs(cph.params_.to_numpy() - coef).max()
    print(f"lifelines min {min(tl):.3f} s median {statistics.median(tl):.3f} s; ours min "
          f"{min(to) * 1e3:.2f} ms median {statistics.median(to) * 1e3:.2f} ms; ratio per round "
          f"min {min(ratios):.1f}x median {statistics.median(ratios):.1f}x; "
          f"max |coef gap| {gap:.1e}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
