#!/usr/bin/env python3
"""Uno's C and the cumulative/dynamic AUC(t) side by side with scikit-survival (issue #22):
the same 10^5 test subjects and 10^5 training subjects (for the censoring distribution;
about 40 % censored, times on a 0.1 grid, seeded), ten evaluation times between the 10th and
80th percentiles of the test times, both tools alternating in one run, file reading outside
the timed region on both sides, one thread each (BLAS limited to one). Prints each pair, then
min and median of the times and of the per-pair ratios, both tools' values, and the load.

    cargo build --release --example ipcw_timing
    .venv/bin/python tools/ab_ipcw.py [PAIRS] [N]
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sksurv.metrics import concordance_index_ipcw, cumulative_dynamic_auc  # noqa: E402
from sksurv.util import Surv  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "target" / "bench-data" / "ab"
EXE = ROOT / "target" / "release" / "examples" / "ipcw_timing"


def cohort(rng, n):
    risk = rng.normal(size=n)
    event_time = rng.exponential(np.exp(-0.7 * risk))
    censor = rng.exponential(1.5, size=n)
    t = np.round(np.minimum(event_time, censor) * 10) / 10 + 0.1
    return pd.DataFrame({"time": t, "event": (event_time <= censor).astype(int), "risk": risk})


def ours(files):
    """The second of two computations in one process (warm, as scikit-survival is after its
    untimed first call)."""
    out = subprocess.run([str(EXE), *map(str, files), "2"], check=True, capture_output=True,
                         text=True, env=dict(os.environ, RAYON_NUM_THREADS="1"))
    uno_s, auc_s, c, auc = out.stdout.splitlines()[-1].split()
    return float(uno_s), float(auc_s), float(c), float(auc)


def main():
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    DATA.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261205)
    train, test = cohort(rng, n), cohort(rng, n)
    times = np.quantile(test.time, np.linspace(0.1, 0.8, 10))
    times = np.unique(times)
    files = [DATA / f"ipcw_train_{n}.csv", DATA / f"ipcw_test_{n}.csv", DATA / f"ipcw_times_{n}.txt"]
    train.to_csv(files[0], index=False, float_format="%.17g")
    test.to_csv(files[1], index=False, float_format="%.17g")
    files[2].write_text("\n".join(f"{t:.17g}" for t in times) + "\n")
    train = pd.read_csv(files[0])
    test = pd.read_csv(files[1])
    y_train = Surv.from_arrays(train.event.astype(bool), train.time)
    y_test = Surv.from_arrays(test.event.astype(bool), test.time)
    est = test.risk.to_numpy()
    print(f"n = {n} train + {n} test, {len(times)} times; events {test.event.mean():.0%}")
    print(f"load before: {os.getloadavg()}  cores: {os.cpu_count()}")
    # Warm-up, untimed (as ours' first call).
    concordance_index_ipcw(y_train, y_test, est)
    cumulative_dynamic_auc(y_train, y_test, est, times)
    su, sa, ou, oa = [], [], [], []
    for p in range(pairs):
        t0 = time.perf_counter()
        c_s = concordance_index_ipcw(y_train, y_test, est)[0]
        su.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        auc_s = cumulative_dynamic_auc(y_train, y_test, est, times)[1]
        sa.append(time.perf_counter() - t0)
        u, a, c_o, auc_o = ours(files)
        ou.append(u)
        oa.append(a)
        print(f"pair {p}: Uno's C scikit-survival {su[-1]:.3f} s, ours {u * 1e3:.2f} ms "
              f"({su[-1] / u:.0f}x);  AUC(t) scikit-survival {sa[-1] * 1e3:.1f} ms, ours "
              f"{a * 1e3:.2f} ms ({sa[-1] / a:.1f}x)")
    for name, s, o in (("Uno's C", su, ou), (f"AUC(t), {len(times)} times", sa, oa)):
        r = [a / b for a, b in zip(s, o)]
        print(f"{name}: scikit-survival min {min(s) * 1e3:.1f} ms median {statistics.median(s) * 1e3:.1f} ms;"
              f" ours min {min(o) * 1e3:.2f} ms median {statistics.median(o) * 1e3:.2f} ms;"
              f" ratio per pair min {min(r):.1f}x median {statistics.median(r):.1f}x")
    print(f"Uno's C: scikit-survival {c_s:.12f}  ours {c_o:.12f}")
    print(f"mean AUC: scikit-survival {auc_s:.12f}  ours {auc_o:.12f}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
