#!/usr/bin/env python3
"""Reference plane passes of the training augmentation from SciPy (tests/it/augment.rs).

One pass of `adamss_preprocess::warp_plane` keeps the slices crop_start .. crop_start + len
along the slicing axis w and applies, within every slice of the (u, v) plane, the 2-D affine
about the plane's centre c = ((n_u - 1) / 2, (n_v - 1) / 2):

    out(p) = in(A^-1 (p - c - t) + c),   A = R(rotate) . Sh(shear) . S(scale on one axis)

bilinear, with voxels outside the slice counting as 0 (points up to one voxel outside still
blend with the edge). SciPy's `ndimage.affine_transform(order=1, mode="grid-constant",
cval=0)` has exactly these boundary semantics; it computes every case here, on random
volumes, and writes tests/data/preprocess/augment_scipy.json (inputs in C order, float64).

Run: .venv/bin/python tools/augment_reference.py
"""
import json
import math
import os

import numpy as np
import scipy
from scipy import ndimage

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "preprocess",
                   "augment_scipy.json")


def forward_matrix(scale, scale_axis, shear, rotate):
    s = np.diag([scale, 1.0]) if scale_axis == 0 else np.diag([1.0, scale])
    sh = np.array([[1.0, math.tan(shear)], [0.0, 1.0]])
    c, si = math.cos(rotate), math.sin(rotate)
    r = np.array([[c, -si], [si, c]])
    return r @ sh @ s


def plane_pass(vol, axes, translate, scale, scale_axis, shear, rotate, crop_start, length):
    u, v, w = axes
    a_inv = np.linalg.inv(forward_matrix(scale, scale_axis, shear, rotate))
    centre = np.array([(vol.shape[u] - 1) / 2.0, (vol.shape[v] - 1) / 2.0])
    t = np.array(translate)
    offset = centre - a_inv @ (centre + t)
    # Move to (u, v, w) order, warp each kept slice, move back.
    moved = np.transpose(vol, (u, v, w))[:, :, crop_start:crop_start + length]
    out = np.empty_like(moved)
    for k in range(length):
        out[:, :, k] = ndimage.affine_transform(
            moved[:, :, k], a_inv, offset=offset, order=1, mode="grid-constant", cval=0.0)
    return np.transpose(out, np.argsort((u, v, w)))


def main():
    rng = np.random.default_rng(20261127)
    cases = []
    shapes = [(13, 11, 9), (9, 12, 10), (10, 9, 14)]
    for i, axes in enumerate([[0, 1, 2], [0, 2, 1], [1, 2, 0], [1, 0, 2]]):
        for j in range(3):
            shape = shapes[(i + j) % len(shapes)]
            vol = rng.normal(size=shape)
            n_w = shape[axes[2]]
            length = int(rng.integers(n_w // 2, n_w + 1))
            params = dict(
                axes=axes,
                translate=[float(rng.choice([-1.0, 0.0, 1.0]) * 0.1 * shape[axes[0]]),
                           float(rng.choice([-1.0, 0.0, 1.0]) * 0.1 * shape[axes[1]])],
                scale=float(rng.uniform(0.9, 1.1)),
                scale_axis=int(rng.integers(0, 2)),
                shear=math.radians(float(rng.uniform(-10, 10))),
                rotate=math.radians(float(rng.uniform(-10, 10)) * (1 + 8 * (j == 2))),
                crop_start=int(rng.integers(0, n_w - length + 1)),
                len=length,
            )
            out = plane_pass(vol, axes, params["translate"], params["scale"],
                             params["scale_axis"], params["shear"], params["rotate"],
                             params["crop_start"], length)
            cases.append(dict(shape=list(shape), input=vol.ravel().tolist(),
                              output_shape=list(out.shape), output=out.ravel().tolist(),
                              **params))
    with open(OUT, "w") as f:
        json.dump(dict(generator="tools/augment_reference.py", scipy=scipy.__version__,
                       cases=cases), f)
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
