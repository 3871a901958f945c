#!/usr/bin/env python3
"""Cox PH (Efron ties) on 10 000 × 50 side by side with lifelines and scikit-survival, like for
like (issue #22): the same seeded data, the three alternating in one run, file reading outside
the timed region everywhere, every side on one thread (OpenBLAS/OpenMP/rayon pinned to 1),
warm (a first untimed fit each), the coefficients compared. Prints each round, min and median
of the times and of the per-round ratios, and the machine's load.

    cargo build --release --example coxph_timing
    .venv/bin/python tools/ab_coxph.py [ROUNDS]
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
from lifelines import CoxPHFitter  # noqa: E402
from sksurv.linear_model import CoxPHSurvivalAnalysis  # noqa: E402
from sksurv.util import Surv  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
# `cargo bench --bench survival` writes its data here; with it the figures compare with the
# bench's (docs/benchmarks.md). Without it, a seeded data set of the same size is written.
BENCH = ROOT / "target" / "bench-data" / "survival" / "cox_10000x50.csv"
DATA = ROOT / "target" / "bench-data" / "ab" / "cox_10000x50.csv"
EXE = ROOT / "target" / "release" / "examples" / "coxph_timing"


def ours():
    out = subprocess.run([str(EXE), str(DATA), "2"], check=True, capture_output=True, text=True)
    t, c = out.stdout.splitlines()[-1].split()
    return float(t), float(c)


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    DATA.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261205)
    n, p = 10_000, 50
    x = rng.normal(size=(n, p))
    beta = rng.normal(scale=0.1, size=p)
    t = np.round(rng.exponential(np.exp(-x @ beta)) * 20) / 20
    e = (rng.random(n) < 0.7).astype(int)
    cols = [f"x{i}" for i in range(p)]
    df = pd.DataFrame(x, columns=cols)
    df.insert(0, "event", e)
    df.insert(0, "time", t)
    df.to_csv(DATA, index=False, float_format="%.17g")
    if BENCH.exists():
        DATA.write_bytes(BENCH.read_bytes())
    print(f"data: {'the bench data ' + str(BENCH) if BENCH.exists() else 'seeded'}")
    df = pd.read_csv(DATA)
    X, y = df[cols].to_numpy(), Surv.from_arrays(df.event.astype(bool), df.time)
    lifelines_fit = lambda: CoxPHFitter().fit(df, "time", "event")  # noqa: E731
    sksurv_fit = lambda: CoxPHSurvivalAnalysis(ties="efron").fit(X, y)  # noqa: E731
    lifelines_fit(), sksurv_fit()  # warm-up, untimed
    print(f"load before: {os.getloadavg()}  cores: {os.cpu_count()}; one thread each")
    tl, ts, to = [], [], []
    for r in range(rounds):
        a, cph = timed(lifelines_fit)
        b, sk = timed(sksurv_fit)
        c, c0 = ours()
        tl.append(a), ts.append(b), to.append(c)
        print(f"round {r}: lifelines {a:.3f} s  scikit-survival {b:.3f} s  ours {c * 1e3:.1f} ms")
    for name, ts_ in (("lifelines", tl), ("scikit-survival", ts)):
        ratios = [u / v for u, v in zip(ts_, to)]
        print(f"{name:16s} min {min(ts_):.3f} s  median {statistics.median(ts_):.3f} s; "
              f"ratio per round min {min(ratios):.1f}x median {statistics.median(ratios):.1f}x")
    print(f"ours             min {min(to) * 1e3:.1f} ms  median {statistics.median(to) * 1e3:.1f} ms")
    print(f"coef[0]: lifelines {cph.params_.iloc[0]:.12e}  sksurv {sk.coef_[0]:.12e}  ours {c0:.12e}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
