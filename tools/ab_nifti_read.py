#!/usr/bin/env python3
"""Reading a 512×512×200 int16 CT `.nii.gz` side by side, like for like (issue #22): adamss-io
(`examples/nifti_read_timing`), nibabel and SimpleITK alternating in one run, one thread each
(ITK's global thread count 1), warm (each side's second read of a round), as stored int16 and as
float32. Prints each round, min and median, per-round ratios and the machine's load.

    cargo build --release --example nifti_read_timing
    .venv/bin/python tools/ab_nifti_read.py [ROUNDS]

The file: the nifti_io bench's CT (`cargo bench --bench nifti_io` writes
target/bench-data/ct512/imagesTr/CHUM-001__CT.nii.gz), else a seeded one written here with
nibabel (gzip level 6).
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import SimpleITK as sitk

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "target" / "bench-data" / "ct512" / "imagesTr" / "CHUM-001__CT.nii.gz"
OWN = ROOT / "target" / "bench-data" / "ab" / "ct512.nii.gz"
EXE = ROOT / "target" / "release" / "examples" / "nifti_read_timing"


def ours(path):
    out = subprocess.run([str(EXE), str(path), "2"], check=True, capture_output=True, text=True)
    last = {}
    for line in out.stdout.splitlines():
        kind, t, _ = line.split()
        last[kind] = float(t)  # the second read of each kind (warm page cache and allocator)
    return last["int16"], last["float32"]


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    path = BENCH
    if not path.exists():
        OWN.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(20261205)
        ct = (rng.normal(0, 300, (512, 512, 200)).round().clip(-1024, 3000)).astype(np.int16)
        nib.save(nib.Nifti1Image(ct, np.diag([0.98, 0.98, 2.5, 1.0])), OWN)
        path = OWN
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    print(f"file: {path} ({path.stat().st_size / 1e6:.1f} MB)  load before: {os.getloadavg()}")
    reads = {
        "nibabel int16": lambda: np.asanyarray(nib.load(path).dataobj),
        "nibabel float32": lambda: nib.load(path).get_fdata(dtype=np.float32),
        "SimpleITK int16": lambda: sitk.GetArrayViewFromImage(sitk.ReadImage(str(path))),
        "SimpleITK float32": lambda: sitk.GetArrayViewFromImage(sitk.ReadImage(str(path), sitk.sitkFloat32)),
    }
    for f in reads.values():
        f()  # warm-up
    times = {k: [] for k in reads}
    times["ours int16"], times["ours float32"] = [], []
    for r in range(rounds):
        for k, f in reads.items():
            times[k].append(timed(f))
        a, b = ours(path)
        times["ours int16"].append(a)
        times["ours float32"].append(b)
        print(f"round {r}: " + "  ".join(f"{k} {v[-1]:.3f}" for k, v in times.items()))
    for k, v in times.items():
        print(f"{k:18s} min {min(v):.3f} s  median {statistics.median(v):.3f} s")
    for kind in ("int16", "float32"):
        for tool in ("nibabel", "SimpleITK"):
            ratios = [u / w for u, w in zip(times[f"{tool} {kind}"], times[f"ours {kind}"])]
            print(f"{kind}: {tool} / ours per round  min {min(ratios):.2f}x  median {statistics.median(ratios):.2f}x")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
