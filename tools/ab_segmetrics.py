#!/usr/bin/env python3
"""Segmentation metrics side by side, like for like: adamss-preprocess
(`examples/segmetrics_timing`) against MONAI 1.6.1 and SimpleITK 2.5.7, alternating in one run
on the same label maps, one thread on every side (ours is single-threaded; ITK's global
default set to 1; torch's and the BLAS's threads set to 1), reading and MONAI's one-hot
conversion outside the timed region.

The label maps: a CT grid (512 x 512 x 200, 0.98 x 0.98 x 2 mm) with a reference GTVp (an
ellipsoid of about 45 x 35 x 40 mm) and two nodes (label 2), and a prediction that shifts and
reshapes them (so every distance is non-trivial), written here as NIfTI. Cases, for labels 1
and 2 together:

  overlap    ours label_overlap + Dice            SimpleITK LabelOverlapMeasuresImageFilter
  hd95       ours surface_distances + HD95        MONAI compute_hausdorff_distance(percentile=95)
  hausdorff  ours hausdorff_distance (all voxels) SimpleITK HausdorffDistanceImageFilter

Before timing, each value is compared between the tools (Dice and the all-voxel Hausdorff
distance to 1e-9, HD95 to MONAI's float32, 1e-5).

    cargo build --release --example segmetrics_timing
    OMP_NUM_THREADS=1 .venv/bin/python tools/ab_segmetrics.py [ROUNDS]

Prints each round, min and median per tool and case, the per-round ratio (theirs / ours) min
and median, and the machine's load before and after.
"""
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import torch
from monai.metrics import compute_hausdorff_distance

ROOT = Path(__file__).resolve().parent.parent
EXE = ROOT / "target" / "release" / "examples" / "segmetrics_timing"
DATA = ROOT / "target" / "bench-data" / "ab-segmetrics"
SPACING = (0.98, 0.98, 2.0)  # x, y, z
SHAPE = (200, 512, 512)      # z, y, x


def ellipsoid(centre, radii_mm):
    z, y, x = np.ogrid[:SHAPE[0], :SHAPE[1], :SHAPE[2]]
    d = (((x - centre[0]) * SPACING[0] / radii_mm[0]) ** 2
         + ((y - centre[1]) * SPACING[1] / radii_mm[1]) ** 2
         + ((z - centre[2]) * SPACING[2] / radii_mm[2]) ** 2)
    return d <= 1.0


def write_maps():
    DATA.mkdir(parents=True, exist_ok=True)
    paths = DATA / "prediction.nii.gz", DATA / "reference.nii.gz"
    if all(p.exists() for p in paths):
        return paths
    ref = np.zeros(SHAPE, np.uint8)
    ref[ellipsoid((256, 250, 100), (22, 17, 20))] = 1
    ref[ellipsoid((300, 300, 95), (8, 7, 9))] = 2
    ref[ellipsoid((210, 310, 110), (6, 6, 7))] = 2
    pred = np.zeros(SHAPE, np.uint8)
    pred[ellipsoid((259, 248, 101), (24, 15, 19))] = 1
    pred[ellipsoid((302, 298, 96), (7, 8, 8))] = 2
    pred[ellipsoid((330, 200, 80), (4, 4, 4))] = 2   # a false positive node
    for arr, p in zip([pred, ref], paths):
        img = sitk.GetImageFromArray(arr)
        img.SetSpacing(SPACING)
        sitk.WriteImage(img, str(p))
    return paths


def ours(pred, ref, reps):
    out = subprocess.run([str(EXE), str(pred), str(ref), str(reps)], check=True,
                         capture_output=True, text=True)
    last = {}
    for line in out.stdout.splitlines():
        name, t = line.split()
        last[name] = float(t)  # the last repetition (warm allocator)
    return last


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    torch.set_num_threads(1)
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)
    pred_path, ref_path = write_maps()
    pred, ref = sitk.ReadImage(str(pred_path)), sitk.ReadImage(str(ref_path))
    p_arr, r_arr = sitk.GetArrayFromImage(pred), sitk.GetArrayFromImage(ref)
    onehot = lambda a: torch.from_numpy(np.stack([a == 1, a == 2]).astype(np.float32))[None]
    p_t, r_t = onehot(p_arr), onehot(r_arr)
    spacing_zyx = list(pred.GetSpacing())[::-1]

    def overlap():
        f = sitk.LabelOverlapMeasuresImageFilter()
        f.Execute(pred, ref)
        return [f.GetDiceCoefficient(1), f.GetDiceCoefficient(2)]

    def hd95():
        v = compute_hausdorff_distance(p_t, r_t, include_background=True, percentile=95.0,
                                       spacing=spacing_zyx)
        return [float(v[0, 0]), float(v[0, 1])]

    def hausdorff():
        out = []
        for label in (1, 2):
            h = sitk.HausdorffDistanceImageFilter()
            h.Execute(pred == label, ref == label)
            out.append(h.GetHausdorffDistance())
        return out

    runs = {"overlap": (overlap, "SimpleITK"), "hd95": (hd95, "MONAI"), "hausdorff": (hausdorff, "SimpleITK")}
    # Equal work: the same values.
    mine = {}
    for line in subprocess.run([str(EXE), str(pred_path), str(ref_path), "values"], check=True,
                               capture_output=True, text=True).stdout.splitlines():
        case, label, v = line.split()
        mine.setdefault(case if case != "dice" else "overlap", []).append(float(v))
    for name, (f, tool) in runs.items():
        theirs = f()
        tol = 1e-5 if name == "hd95" else 1e-9
        same = all(abs(a - b) <= tol * max(abs(b), 1.0) for a, b in zip(mine[name], theirs))
        print(f"{name}: ours {mine[name]}  {tool} {theirs}  equal: {same}")
    print(f"SimpleITK {sitk.Version_VersionString()}, torch {torch.__version__}, one thread each; "
          f"load before: {os.getloadavg()}")
    times = {f"{tool} {name}": [] for name, (_, tool) in runs.items()}
    times.update({f"ours {name}": [] for name in runs})
    for r in range(rounds):
        for name, (f, tool) in runs.items():
            t0 = time.perf_counter()
            f()
            times[f"{tool} {name}"].append(time.perf_counter() - t0)
        for name, t in ours(pred_path, ref_path, 2).items():
            times[f"ours {name}"].append(t)
        print(f"round {r}: " + "  ".join(f"{k} {v[-1]:.4f}" for k, v in times.items()))
    for k, v in times.items():
        print(f"{k:22s} min {min(v):.4f} s  median {statistics.median(v):.4f} s")
    for name, (_, tool) in runs.items():
        ratios = [a / b for a, b in zip(times[f"{tool} {name}"], times[f"ours {name}"])]
        print(f"{name}: {tool} / ours per round  min {min(ratios):.2f}x  median {statistics.median(ratios):.2f}x")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
