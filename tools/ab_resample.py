#!/usr/bin/env python3
"""Resampling side by side, like for like (issue #22): adamss-preprocess
(`examples/resample_timing`) and SimpleITK's `sitk.Resample` alternating in one run, on the same
volumes and the same target grids, the same thread count on both sides (rayon's
RAYON_NUM_THREADS, ITK's global default), reading outside the timed region on both sides.

Volumes: the resample bench's CT (512×512×200 int16, 0.98×0.98×2 mm) and PET (200×200×150
float32, 4×4×3 mm), both LPS-identity (RAS x and y flipped), written here as NIfTI. Grids: the
CT's covering 1 mm grid (≈ 502×502×400) and its centred 160³ crop, as the Rust side computes
them (it prints them; the source geometries SimpleITK uses are set to the ones our reader
returned, so both tools map the same points). Cases: CT and PET onto each grid (linear, float32
out) and the CT onto the crop with cubic B-spline. Before timing, each case's voxels are
compared between the tools (bit for bit).

    cargo build --release --example resample_timing
    .venv/bin/python tools/ab_resample.py [ROUNDS] [THREADS]

Prints each round, min and median per tool and case, the per-round ratio (SimpleITK / ours) min
and median, and the machine's load before and after.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import SimpleITK as sitk

ROOT = Path(__file__).resolve().parent.parent
EXE = ROOT / "target" / "release" / "examples" / "resample_timing"
DATA = ROOT / "target" / "bench-data" / "ab-resample"
CASES = ["ct_whole_linear", "ct_crop_linear", "pet_whole_linear", "pet_crop_linear", "ct_crop_bspline"]


def write_volumes():
    DATA.mkdir(parents=True, exist_ok=True)
    ct_path, pet_path = DATA / "ct.nii.gz", DATA / "pet.nii.gz"
    if ct_path.exists() and pet_path.exists():
        return ct_path, pet_path

    def volume(shape, spacing, origin_ras, fn, dtype, path):
        k, j, i = np.meshgrid(*[np.arange(n) for n in shape[::-1]], indexing="ij")
        img = sitk.GetImageFromArray(fn(i, j, k).astype(dtype))
        img.SetSpacing(spacing)
        img.SetOrigin((-origin_ras[0], -origin_ras[1], origin_ras[2]))
        img.SetDirection((1, 0, 0, 0, 1, 0, 0, 0, 1))
        sitk.WriteImage(img, str(path))

    volume((512, 512, 200), (0.98, 0.98, 2.0), (250.0, 250.0, -400.0),
           lambda i, j, k: (i * 7 + j * 3 + k * 11) % 2048 - 1024, np.int16, ct_path)
    volume((200, 200, 150), (4.0, 4.0, 3.0), (400.0, 400.0, -420.0),
           lambda i, j, k: ((i + 2 * j + 3 * k) % 97) * 0.1, np.float32, pet_path)
    return ct_path, pet_path


def place(img, g):
    img.SetSpacing(g["spacing"])
    img.SetOrigin(g["origin_lps"])
    img.SetDirection(g["direction_lps"])
    return img


def reference(g):
    return place(sitk.Image(g["size"], sitk.sitkUInt8), g)


def ours(ct_path, pet_path, threads):
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
    out = subprocess.run([str(EXE), str(ct_path), str(pet_path), "2"], check=True,
                         capture_output=True, text=True, env=env)
    last = {}
    for line in out.stdout.splitlines():
        name, t = line.split()
        last[name] = float(t)  # the second run of each case (warm allocator)
    return last


def main():
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    ct_path, pet_path = write_volumes()
    grids = json.loads(subprocess.run([str(EXE), str(ct_path), str(pet_path), "grids"], check=True,
                                      capture_output=True, text=True).stdout)
    ct = place(sitk.ReadImage(str(ct_path)), grids["ct"])
    pet = place(sitk.ReadImage(str(pet_path)), grids["pet"])
    whole, crop = reference(grids["whole"]), reference(grids["crop"])
    sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(threads)
    runs = {
        "ct_whole_linear": lambda: sitk.Resample(ct, whole, sitk.Transform(), sitk.sitkLinear, -1024.0, sitk.sitkFloat32),
        "ct_crop_linear": lambda: sitk.Resample(ct, crop, sitk.Transform(), sitk.sitkLinear, -1024.0, sitk.sitkFloat32),
        "pet_whole_linear": lambda: sitk.Resample(pet, whole, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32),
        "pet_crop_linear": lambda: sitk.Resample(pet, crop, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32),
        "ct_crop_bspline": lambda: sitk.Resample(ct, crop, sitk.Transform(), sitk.sitkBSpline, -1024.0, sitk.sitkFloat32),
    }
    # Equal work: the same voxels, bit for bit.
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([str(EXE), str(ct_path), str(pet_path), "write", d], check=True)
        for name in CASES:
            a = sitk.GetArrayFromImage(sitk.ReadImage(os.path.join(d, f"{name}.nii")))
            b = sitk.GetArrayFromImage(runs[name]())
            same = a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32))
            print(f"{name}: {b.shape[::-1]} voxels, identical to SimpleITK's: {same}")
    print(f"SimpleITK {sitk.Version_VersionString()}, threads {threads} each; load before: {os.getloadavg()}")
    for f in runs.values():
        f()  # warm-up
    times = {f"{tool} {c}": [] for c in CASES for tool in ("SimpleITK", "ours")}
    for r in range(rounds):
        for name, f in runs.items():
            t0 = time.perf_counter()
            f()
            times[f"SimpleITK {name}"].append(time.perf_counter() - t0)
        for name, t in ours(ct_path, pet_path, threads).items():
            times[f"ours {name}"].append(t)
        print(f"round {r}: " + "  ".join(f"{k} {v[-1]:.4f}" for k, v in times.items()))
    for k, v in times.items():
        print(f"{k:28s} min {min(v):.4f} s  median {statistics.median(v):.4f} s")
    for name in CASES:
        ratios = [s / o for s, o in zip(times[f"SimpleITK {name}"], times[f"ours {name}"])]
        print(f"{name}: SimpleITK / ours per round  min {min(ratios):.2f}x  median {statistics.median(ratios):.2f}x")
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
