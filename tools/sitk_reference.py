#!/usr/bin/env python3
"""Reference resamplings from SimpleITK for adamss-preprocess (tests/it/preprocess.rs).

Builds PET/CT/label-like volumes on different grids (anisotropic, non-zero origins, a flipped
axis, an oblique direction; nearest-neighbour ties on an oblique grid), resamples them with `sitk.Resample` (linear or B-spline for images, nearest
for labels, fill value -1000 / 0, identity transform) onto reference grids, and writes

  tests/data/preprocess/<case>.src.nii.gz    the source volume
  tests/data/preprocess/<case>.ref.nii.gz    SimpleITK's result (float32, float64 or uint8)
  tests/data/preprocess/cases.json           exact geometries (RAS+, float64) and settings

NIfTI stores geometry in float32, so the exact float64 grids travel in the JSON.
Run: .venv/bin/python tools/sitk_reference.py
"""
import json
import math
import os

import numpy as np
import SimpleITK as sitk

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "preprocess")
RAS = np.diag([-1.0, -1.0, 1.0])  # LPS <-> RAS


def rot(ax, deg):
    t = math.radians(deg)
    c, s = math.cos(t), math.sin(t)
    if ax == 0:
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if ax == 1:
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def geometry_ras(img):
    d = np.array(img.GetDirection()).reshape(3, 3)
    return {
        "shape": list(img.GetSize()),
        "spacing": list(img.GetSpacing()),
        "origin": list(RAS @ np.array(img.GetOrigin())),
        "direction": (RAS @ d).tolist(),
    }


def make_image(size, spacing, origin_lps, direction_lps, arr_zyx, pixel):
    img = sitk.GetImageFromArray(arr_zyx.astype(pixel))
    img.SetSpacing(spacing)
    img.SetOrigin(origin_lps)
    img.SetDirection(np.asarray(direction_lps, dtype=float).ravel().tolist())
    assert list(img.GetSize()) == list(size)
    return img


def smooth_field(size, rng, kind):
    """A smooth random field on the voxel grid (sum of a few Gaussians + a gradient), zyx."""
    z, y, x = np.meshgrid(*[np.arange(n, dtype=float) for n in size[::-1]], indexing="ij")
    f = 0.02 * x + 0.03 * y - 0.01 * z
    for _ in range(6):
        cx, cy, cz = (rng.uniform(0, n) for n in size)
        r = rng.uniform(2, 6)
        f += rng.uniform(-1, 1) * np.exp(-((x - cx) ** 2 + (y - cy) ** 2 + (z - cz) ** 2) / (2 * r * r))
    if kind == "ct":
        return np.clip(f * 600 - 200, -1024, 3000)
    return np.abs(f) * 5


def blobs(size, rng, n=3):
    z, y, x = np.meshgrid(*[np.arange(s, dtype=float) for s in size[::-1]], indexing="ij")
    lab = np.zeros(size[::-1], dtype=np.uint8)
    for k in range(n):
        cx, cy, cz = (rng.uniform(0.25 * s, 0.75 * s) for s in size)
        rx, ry, rz = (rng.uniform(3, 7) for _ in range(3))
        inside = ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 + ((z - cz) / rz) ** 2 <= 1
        lab[inside] = 1 + (k % 2)
    return lab


def reference_grid(src, spacing, direction_lps=np.eye(3), size=None, origin=None):
    """Axis-aligned (or given-direction) grid covering the source's physical extent."""
    corners = []
    n = src.GetSize()
    for c in np.ndindex(2, 2, 2):
        idx = [(-0.5 if b == 0 else n[a] - 0.5) for a, b in enumerate(c)]
        corners.append(src.TransformContinuousIndexToPhysicalPoint(idx))
    corners = np.array(corners)
    d = np.asarray(direction_lps, dtype=float)
    local = corners @ d  # coordinates along the target axes
    lo, hi = local.min(0), local.max(0)
    if size is None:
        size = [int(math.ceil((hi[a] - lo[a]) / spacing[a])) for a in range(3)]
    if origin is None:
        origin = d @ (lo + 0.5 * np.asarray(spacing))
    ref = sitk.Image([int(s) for s in size], sitk.sitkUInt8)
    ref.SetSpacing(spacing)
    ref.SetOrigin(list(map(float, origin)))
    ref.SetDirection(d.ravel().tolist())
    return ref


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261127)
    cases = {}

    def emit(name, src, ref, interp, fill, out_pixel):
        res = sitk.Resample(src, ref, sitk.Transform(), interp, fill, out_pixel)
        sitk.WriteImage(src, os.path.join(OUT, f"{name}.src.nii.gz"))
        sitk.WriteImage(res, os.path.join(OUT, f"{name}.ref.nii.gz"))
        cases[name] = {
            "source": geometry_ras(src),
            "target": geometry_ras(res),
            "interpolation": {sitk.sitkLinear: "linear", sitk.sitkNearestNeighbor: "nearest",
                              sitk.sitkBSpline: "bspline"}[interp],
            "output": "float64" if out_pixel == sitk.sitkFloat64 else "float32",
            "fill": fill,
        }

    # 1. CT-like: anisotropic, LPS-identity direction, non-zero origin, int16 -> 1 mm.
    size = (64, 56, 20)
    ct = make_image(size, (0.98, 0.98, 2.5), (-31.2, 140.7, -512.3), np.eye(3),
                    smooth_field(size, rng, "ct"), np.int16)
    emit("ct_aniso", ct, reference_grid(ct, (1.0, 1.0, 1.0)), sitk.sitkLinear, -1000.0, sitk.sitkFloat32)
    lab = make_image(size, (0.98, 0.98, 2.5), (-31.2, 140.7, -512.3), np.eye(3), blobs(size, rng), np.uint8)
    emit("label_aniso", lab, reference_grid(lab, (1.0, 1.0, 1.0)), sitk.sitkNearestNeighbor, 0.0, sitk.sitkUInt8)

    # 2. PET-like: coarse, flipped z axis, float32, onto the CT's 1 mm grid (partly outside).
    size = (20, 20, 16)
    flip = np.diag([1.0, 1.0, -1.0])
    pet = make_image(size, (4.0, 4.0, 3.0), (-40.0, 120.0, -470.0), flip,
                     smooth_field(size, rng, "pet"), np.float32)
    emit("pet_flipped", pet, reference_grid(ct, (1.0, 1.0, 1.0)), sitk.sitkLinear, 0.0, sitk.sitkFloat32)

    # 3. Oblique source (rotated 12° about z, 7° about x), onto an axis-aligned 1.5 mm grid.
    size = (40, 36, 24)
    obl = rot(2, 12) @ rot(0, 7)
    img = make_image(size, (1.2, 1.1, 2.0), (10.0, -20.0, 30.0), obl,
                     smooth_field(size, rng, "pet"), np.float32)
    emit("oblique", img, reference_grid(img, (1.5, 1.5, 1.5)), sitk.sitkLinear, 0.0, sitk.sitkFloat32)
    lab = make_image(size, (1.2, 1.1, 2.0), (10.0, -20.0, 30.0), obl, blobs(size, rng), np.uint8)
    emit("label_oblique", lab, reference_grid(lab, (1.0, 1.0, 1.0)), sitk.sitkNearestNeighbor, 0.0, sitk.sitkUInt8)

    # 4. Axis-aligned source onto an oblique target (the inverse direction of the problem).
    emit("to_oblique", ct, reference_grid(ct, (1.3, 1.3, 1.3), rot(1, -9)), sitk.sitkLinear, -1000.0,
         sitk.sitkFloat32)

    # 5. A crop: straight onto a 40^3 sub-grid of the 1 mm grid, partly outside the source.
    full = reference_grid(ct, (1.0, 1.0, 1.0))
    start = [30, 20, 25]
    origin = full.TransformIndexToPhysicalPoint(start)
    crop = reference_grid(ct, (1.0, 1.0, 1.0), size=[40, 40, 40], origin=origin)
    emit("ct_crop", ct, crop, sitk.sitkLinear, -1000.0, sitk.sitkFloat32)
    cases["ct_crop"]["crop_of"] = {"grid": geometry_ras(full), "start": start}

    # 6. Cubic B-spline (PyRadiomics' default interpolator): the CT onto its 1 mm grid (float32
    #    out), and the oblique source onto the axis-aligned 1.5 mm grid in float64 (the values
    #    before any cast, which adamss-preprocess's resample_f64 returns).
    emit("ct_bspline", ct, reference_grid(ct, (1.0, 1.0, 1.0)), sitk.sitkBSpline, -1000.0, sitk.sitkFloat32)
    emit("oblique_bspline_f64", img, reference_grid(img, (1.5, 1.5, 1.5)), sitk.sitkBSpline, 0.0,
         sitk.sitkFloat64)

    # 7. Nearest-neighbour ties on an oblique grid: a label on a rotated 1.5 x 1.5 x 3 mm grid
    #    onto the same direction at 1 x 1 x 2 mm, the first voxel placed as PyRadiomics'
    #    resampling places it (continuous index (new - old) / (2 old)), so many target voxels
    #    sit exactly half-way between two source voxels and ITK's last bit decides: its
    #    continuous index comes from (direction * spacing)^-1 taken by LINPACK's SVD.
    size = (30, 28, 14)
    obl2 = rot(2, 23) @ rot(1, -11) @ rot(0, 31)
    old_sp, new_sp = np.array([1.5, 1.5, 3.0]), np.array([1.0, 1.0, 2.0])
    tie = make_image(size, tuple(old_sp), (-12.5, 33.0, 7.25), obl2, blobs(size, rng), np.uint8)
    first = tie.TransformContinuousIndexToPhysicalPoint(list(0.5 * (new_sp - old_sp) / old_sp))
    ref = sitk.Image([int(n) for n in np.ceil(np.array(size) * old_sp / new_sp)], sitk.sitkUInt8)
    ref.SetSpacing(tuple(new_sp))
    ref.SetOrigin(first)
    ref.SetDirection(tie.GetDirection())
    emit("label_oblique_ties", tie, ref, sitk.sitkNearestNeighbor, 0.0, sitk.sitkUInt8)

    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"simpleitk": sitk.Version_VersionString(), "cases": cases}, f, indent=1)
    print("wrote", len(cases), "cases to", OUT)


if __name__ == "__main__":
    main()
