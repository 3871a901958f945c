#!/usr/bin/env python3
"""Harrell's C side by side with lifelines, like for like (issue #22): the same 10^6 subjects
(60 % events, times on a 0.1 grid, seeded), both tools alternating in one run, file reading
outside the timed region on both sides, one thread each (ours also on all cores, reported
apart as a parallel speed-up). Prints each pair, then min and median of the times and of the
per-pair ratios, the C of both, and the machine's load.

    cargo build --release --example harrell_timing
    .venv/bin/python tools/ab_harrell.py [PAIRS]
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines.utils import concordance_index

ROOT = Path(__file__).resolve().parent.parent
# `cargo bench --bench survival` writes its data here; with it the figures compare with the
# bench's (docs/benchmarks.md). Without it, a seeded data set of the same size is written.
BENCH = ROOT / "target" / "bench-data" / "survival" / "harrell_1e6.csv"
DATA = ROOT / "target" / "bench-data" / "ab" / "harrell_1e6.csv"
EXE = ROOT / "target" / "release" / "examples" / "harrell_timing"


def ours(threads):
    """The second of two computations in one process (warm, as lifelines is after the first
    pair: same process, data in memory)."""
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run([str(EXE), str(DATA), "2"], env=env, check=True, capture_output=True, text=True)
    t, c = out.stdout.splitlines()[-1].split()
    return float(t), float(c)


def main():
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    DATA.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261205)
    n = 1_000_000
    risk = rng.normal(size=n)
    time_ = np.round(rng.exponential(np.exp(-0.7 * risk)) * 10) / 10
    event = (rng.random(n) < 0.6).astype(int)
    pd.DataFrame({"time": time_, "event": event, "risk": risk}).to_csv(DATA, index=False, float_format="%.17g")
    if BENCH.exists():
        DATA.write_bytes(BENCH.read_bytes())
    print(f"data: {'the bench data ' + str(BENCH) if BENCH.exists() else 'seeded'}")
    df = pd.read_csv(DATA)
    print(f"load before: {os.getloadavg()}  cores: {os.cpu_count()}")
    lt, o1, o2 = [], [], []
    concordance_index(df.time, -df.risk, df.event)  # warm-up, untimed (as ours' first call)
    for p in range(pairs):
        t0 = time.perf_counter()
        c_l = concordance_index(df.time, -df.risk, df.event)
        lt.append(time.perf_counter() - t0)
        t1, c_o = ours(1)
        o1.append(t1)
        t2, _ = ours(os.cpu_count())
        o2.append(t2)
        print(f"pair {p}: lifelines {lt[-1]:.3f} s  ours 1 thread {t1 * 1e3:.1f} ms  "
              f"ours {os.cpu_count()} threads {t2 * 1e3:.1f} ms  ratio (1 thread) {lt[-1] / t1:.0f}x")
    ratios = [a / b for a, b in zip(lt, o1)]
    print(f"lifelines          min {min(lt):.3f} s   median {statistics.median(lt):.3f} s")
    print(f"ours, 1 thread     min {min(o1) * 1e3:.1f} ms  median {statistics.median(o1) * 1e3:.1f} ms")
    print(f"ours, {os.cpu_count()} threads    min {min(o2) * 1e3:.1f} ms  median {statistics.median(o2) * 1e3:.1f} ms"
          f"  (parallel speed-up {statistics.median(o1) / statistics.median(o2):.2f}x)")
    print(f"ratio per pair, 1 thread each: min {min(ratios):.0f}x  median {statistics.median(ratios):.0f}x")
    print(f"C: lifelines {c_l:.12f}  ours {c_o:.12f}")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
