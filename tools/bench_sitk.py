#!/usr/bin/env python3
"""SimpleITK side of benches/resample.rs: the same volumes and grids, `sitk.Resample` with
linear interpolation (SimpleITK's default multithreading), median of N runs.

Run: .venv/bin/python tools/bench_sitk.py [runs]
"""
import math
import statistics
import sys
import time

import numpy as np
import SimpleITK as sitk


def volume(shape, spacing, origin_ras, fn, dtype):
    k, j, i = np.meshgrid(*[np.arange(n) for n in shape[::-1]], indexing="ij")
    img = sitk.GetImageFromArray(fn(i, j, k).astype(dtype))
    img.SetSpacing(spacing)
    # RAS direction diag(-1,-1,1) == LPS identity; origin RAS -> LPS
    img.SetOrigin((-origin_ras[0], -origin_ras[1], origin_ras[2]))
    img.SetDirection((1, 0, 0, 0, 1, 0, 0, 0, 1))
    return img


def covering_grid(src, spacing=1.0):
    n = src.GetSize()
    corners = np.array([src.TransformContinuousIndexToPhysicalPoint(
        [(-0.5 if b == 0 else n[a] - 0.5) for a, b in enumerate(c)]) for c in np.ndindex(2, 2, 2)])
    # axis-aligned in RAS+: LPS direction diag(-1,-1,1)
    ras = corners * np.array([-1, -1, 1])
    lo, hi = ras.min(0), ras.max(0)
    size = [int(math.ceil((hi[a] - lo[a]) / spacing - 1e-9)) for a in range(3)]
    origin_ras = lo + spacing / 2
    ref = sitk.Image(size, sitk.sitkUInt8)
    ref.SetSpacing([spacing] * 3)
    ref.SetOrigin((-origin_ras[0], -origin_ras[1], origin_ras[2]))
    ref.SetDirection((-1, 0, 0, 0, -1, 0, 0, 0, 1))
    return ref


def crop(ref, size=160):
    n = ref.GetSize()
    c = [round((s - 1) / 2) - size // 2 for s in n]
    out = sitk.Image([size] * 3, sitk.sitkUInt8)
    out.SetSpacing(ref.GetSpacing())
    out.SetDirection(ref.GetDirection())
    out.SetOrigin(ref.TransformIndexToPhysicalPoint(c))
    return out


def timeit(fn, runs):
    fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    ct = volume((512, 512, 200), (0.98, 0.98, 2.0), (250.0, 250.0, -400.0),
                lambda i, j, k: (i * 7 + j * 3 + k * 11) % 2048 - 1024, np.int16)
    pet = volume((200, 200, 150), (4.0, 4.0, 3.0), (400.0, 400.0, -420.0),
                 lambda i, j, k: ((i + 2 * j + 3 * k) % 97) * 0.1, np.float32)
    whole = covering_grid(ct)
    c160 = crop(whole)
    print("SimpleITK", sitk.Version_VersionString(), "threads", sitk.ProcessObject.GetGlobalDefaultNumberOfThreads())
    print("whole grid", whole.GetSize())
    for name, src, ref, fill in (("ct_to_1mm_whole", ct, whole, -1024.0), ("ct_to_1mm_crop160", ct, c160, -1024.0),
                                 ("pet_to_1mm_whole", pet, whole, 0.0), ("pet_to_1mm_crop160", pet, c160, 0.0)):
        t = timeit(lambda: sitk.Resample(src, ref, sitk.Transform(), sitk.sitkLinear, fill, sitk.sitkFloat32), runs)
        print(f"{name}: {t:.4f} s")

    # Full patient from the files benches/resample.rs wrote (run `cargo bench --bench resample` first).
    import os
    import tempfile
    d = os.path.join(os.path.dirname(__file__), "..", "target", "bench-data", "patient")
    ct_path, pet_path = os.path.join(d, "ct.nii.gz"), os.path.join(d, "pet.nii.gz")
    if not os.path.exists(ct_path):
        print("no target/bench-data/patient: run cargo bench --bench resample first")
        return
    out = tempfile.mkdtemp()

    def full():
        ct = sitk.ReadImage(ct_path, sitk.sitkFloat32)
        pet = sitk.ReadImage(pet_path, sitk.sitkFloat32)
        ref = crop(covering_grid(ct))  # centred crop: no locator on this side
        c = sitk.GetArrayFromImage(sitk.Resample(ct, ref, sitk.Transform(), sitk.sitkLinear, -1024.0, sitk.sitkFloat32))
        p = sitk.GetArrayFromImage(sitk.Resample(pet, ref, sitk.Transform(), sitk.sitkLinear, 0.0, sitk.sitkFloat32))
        c = np.clip(c, -1024, 1024) / 1024.0
        p = (p - p.mean()) / p.std()
        for name, arr in (("ct", c), ("pet", p)):
            img = sitk.GetImageFromArray(arr.astype(np.float32))
            img.CopyInformation(ref)
            sitk.WriteImage(img, os.path.join(out, f"{name}.nii.gz"))

    print(f"read_ct_only: {timeit(lambda: sitk.ReadImage(ct_path, sitk.sitkFloat32), runs):.4f} s")
    print(f"read_preprocess_write: {timeit(full, runs):.4f} s")


if __name__ == "__main__":
    main()
