#!/usr/bin/env python3
"""SimpleITK's continuous indices of physical points, to the last bit, for
adamss-io's Geometry::world_to_index_matrix (crates/adamss-io/tests/it/itk_index.rs).

ITK maps a physical point p to a continuous index as (direction * spacing)^-1 (p - origin), the
inverse taken by vnl's LINPACK SVD; on an oblique grid that differs from other inverses in the
last bits, which decides nearest-neighbour ties. Geometries: random rotations, axis flips,
axis permutations with flips, small in-plane rotations and sheared (non-orthogonal but
non-singular) directions, spacings rounded to 0.001 mm; points anywhere around the grid.

Output tests/data/preprocess/itk_continuous_index.json: per geometry the spacing, origin and
direction (LPS, as SimpleITK holds them) and per point the point and SimpleITK's continuous
index, each number as the 16 hex digits of its IEEE-754 bits (exact through JSON).
Run: .venv/bin/python tools/itk_index_reference.py
"""
import json
import os
import struct

import numpy as np
import SimpleITK as sitk

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "preprocess")


def bits(x):
    return struct.pack(">d", float(x)).hex()


def rotation(rng):
    q = rng.normal(size=4)
    q /= np.linalg.norm(q)
    a, b, c, d = q
    return np.array([[a*a+b*b-c*c-d*d, 2*(b*c-a*d), 2*(b*d+a*c)],
                     [2*(b*c+a*d), a*a-b*b+c*c-d*d, 2*(c*d-a*b)],
                     [2*(b*d-a*c), 2*(c*d+a*b), a*a-b*b-c*c+d*d]])


def main():
    rng = np.random.default_rng(31)
    cases = []
    for g in range(150):
        kind = ["rotation", "flips", "permutation", "small", "shear"][g % 5]
        if kind == "rotation":
            d = rotation(rng)
        elif kind == "flips":
            d = np.diag(rng.choice([-1.0, 1.0], 3))
        elif kind == "permutation":
            d = np.eye(3)[rng.permutation(3)] * rng.choice([-1.0, 1.0], 3)
        elif kind == "small":
            t = rng.uniform(-0.2, 0.2)
            d = np.array([[np.cos(t), -np.sin(t), 0.0], [np.sin(t), np.cos(t), 0.0], [0.0, 0.0, 1.0]])
        else:
            d = rotation(rng) @ (np.eye(3) + np.triu(rng.uniform(-0.3, 0.3, (3, 3)), 1))
            d /= np.linalg.norm(d, axis=0)
        img = sitk.Image(8, 8, 8, sitk.sitkUInt8)
        img.SetSpacing([float(s) for s in np.round(rng.uniform(0.5, 5.0, 3), 3)])
        img.SetOrigin([float(o) for o in rng.uniform(-300, 300, 3)])
        img.SetDirection([float(v) for v in d.ravel()])
        o = np.array(img.GetOrigin())
        points = []
        for _ in range(6):
            p = o + rng.uniform(-60, 60, 3)
            idx = img.TransformPhysicalPointToContinuousIndex([float(v) for v in p])
            points.append({"point": [bits(v) for v in p], "index": [bits(v) for v in idx]})
        cases.append({"kind": kind, "spacing": [bits(v) for v in img.GetSpacing()],
                      "origin": [bits(v) for v in img.GetOrigin()],
                      "direction": [bits(v) for v in img.GetDirection()], "points": points})
    with open(os.path.join(OUT, "itk_continuous_index.json"), "w") as f:
        json.dump({"generator": "tools/itk_index_reference.py", "simpleitk": sitk.Version_VersionString(),
                   "geometries": cases}, f, indent=0)
    print("wrote", len(cases), "geometries")


if __name__ == "__main__":
    main()
