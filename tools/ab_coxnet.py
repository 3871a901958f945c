#!/usr/bin/env python3
"""The LASSO-Cox path side by side with scikit-survival, like for like (issue #22): the same
penalties (scikit-survival's 100, alpha_min_ratio 0.01, no normalisation), both solving
every penalty, one thread each, file reading outside the timed region on both sides, the two
alternating in one run. Accuracy is matched first: scikit-survival runs at its default tol
(1e-7); a tight run (tol 1e-10) is the reference; ours runs at the loosest of a ladder of
tolerances whose objective gap to the reference is no larger than scikit-survival's own on
every penalty (chosen before the timed pairs, printed). Then PAIRS timed pairs; min and median
of each side and of the per-pair ratios, the gaps, and the machine's load.

Designs: the bench's 1 000 × 1 456 correlated features (`cargo bench --bench survival`
writes them; a seeded copy otherwise) and a p >> n radiomics-like 100 × 1 700 (seeded here).

    cargo build --release --example coxnet_timing
    .venv/bin/python tools/ab_coxnet.py [PAIRS]
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
from sksurv.linear_model import CoxnetSurvivalAnalysis  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from coxnet_accuracy import lasso_objective  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "target" / "bench-data" / "survival" / "coxnet_1000x1456.csv"
DATA = ROOT / "target" / "bench-data" / "ab"
EXE = ROOT / "target" / "release" / "examples" / "coxnet_timing"
LADDER = [1e-4, 3e-5, 1e-5, 3e-6, 1e-6, 3e-7, 1e-7]


def design(n, p, seed):
    """Correlated features (10 latent factors), 10 true effects, censoring, 0.1 time grid."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 10)) @ (0.5 * rng.normal(size=(10, p))) + rng.normal(size=(n, p))
    beta = np.zeros(p)
    beta[:10] = 0.3 * np.where(np.arange(10) % 2 == 0, 1, -1)
    t = -np.log(rng.uniform(1e-12, 1, n)) / np.exp(x @ beta) * 100
    c = rng.uniform(0, 300, n)
    time_ = np.maximum(np.round(np.minimum(t, c) * 10) / 10, 0.1)
    df = pd.DataFrame(x, columns=[f"x{k}" for k in range(p)])
    df.insert(0, "event", (t <= c).astype(int))
    df.insert(0, "time", time_)
    return df


def compare(name, path, pairs):
    df = pd.read_csv(path)
    X = df.drop(columns=["time", "event"]).to_numpy()
    t = df.time.to_numpy()
    e = df.event.to_numpy().astype(bool)
    y = np.array(list(zip(e, t)), dtype=[("e", bool), ("t", float)])
    objective = lasso_objective(X, t, e)

    def sksurv(tol, alphas=None):
        kw = dict(alphas=alphas) if alphas is not None else dict(n_alphas=100, alpha_min_ratio=0.01)
        t0 = time.perf_counter()
        m = CoxnetSurvivalAnalysis(l1_ratio=1.0, normalize=False, tol=tol, max_iter=1_000_000, **kw).fit(X, y)
        return m, time.perf_counter() - t0

    ref, _ = sksurv(1e-10)
    alphas = ref.alphas_
    alpha_file = DATA / f"{name}_alphas.txt"
    alpha_file.write_text("\n".join(f"{a:.17g}" for a in alphas) + "\n")
    best = np.array([objective(ref.coef_[:, k], a) for k, a in enumerate(alphas)])

    def gaps(coef_rows):
        k = min(len(coef_rows), len(alphas))
        return np.array([objective(coef_rows[j], alphas[j]) for j in range(k)]) - best[:k]

    sk, _ = sksurv(1e-7, alphas)
    sk_gap = gaps(sk.coef_.T)
    out = DATA / f"{name}_ours.csv"

    def ours(tol, reps=2):
        r = subprocess.run([str(EXE), str(path), str(alpha_file), str(tol), str(out), str(reps)],
                           check=True, capture_output=True, text=True,
                           env=dict(os.environ, RAYON_NUM_THREADS="1"))
        secs, solved = r.stdout.splitlines()[-1].split()
        return float(secs), int(solved)

    chosen = None
    for tol in LADDER:
        _, solved = ours(tol, reps=1)
        g = gaps(np.loadtxt(out, delimiter=",", ndmin=2))
        ok = solved == len(alphas) and np.all(g <= np.maximum(sk_gap, 0) + 1e-15)
        print(f"{name}: ours tol {tol:g}: {solved} penalties, largest gap {g.max():.3g} "
              f"(scikit-survival tol 1e-7: {sk_gap.max():.3g}), worse than it at "
              f"{int(np.sum(g > np.maximum(sk_gap, 0) + 1e-15))} penalties")
        if ok:
            chosen = tol
            break
    if chosen is None:
        print(f"{name}: no tolerance of the ladder matches scikit-survival's accuracy on every penalty")
        chosen = LADDER[-1]
    print(f"{name}: timing ours at tol {chosen:g} against scikit-survival at tol 1e-7")
    print(f"load before: {os.getloadavg()}  cores: {os.cpu_count()}")
    s_t, o_t = [], []
    for p in range(pairs):
        _, dt = sksurv(1e-7, alphas)
        s_t.append(dt)
        secs, _ = ours(chosen)
        o_t.append(secs)
        print(f"pair {p}: scikit-survival {dt:.3f} s  ours {secs:.3f} s  ratio {dt / secs:.2f}x")
    r = [a / b for a, b in zip(s_t, o_t)]
    print(f"{name}: scikit-survival min {min(s_t):.3f} s median {statistics.median(s_t):.3f} s; "
          f"ours min {min(o_t):.3f} s median {statistics.median(o_t):.3f} s; "
          f"ratio per pair min {min(r):.2f}x median {statistics.median(r):.2f}x")
    print(f"load after: {os.getloadavg()}")


def main():
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    DATA.mkdir(parents=True, exist_ok=True)
    wide = DATA / "coxnet_100x1700.csv"
    design(100, 1700, 20261205).to_csv(wide, index=False, float_format="%.17g")
    tall = BENCH
    if not tall.exists():
        tall = DATA / "coxnet_1000x1456.csv"
        design(1000, 1456, 3).to_csv(tall, index=False, float_format="%.17g")
    print(f"data: {tall}, {wide}")
    compare("1000x1456", tall, pairs)
    compare("100x1700", wide, pairs)


if __name__ == "__main__":
    main()
