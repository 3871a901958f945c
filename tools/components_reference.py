#!/usr/bin/env python3
"""Reference connected components and label statistics from SimpleITK for adamss-preprocess
(`connected_components`, `relabel_components`, `largest_component`, `label_shape_statistics`).

Masks with blobs, isolated voxels, voxels touching only by an edge or a corner (face and full
connectivity differ), several label values (any non-zero voxel is foreground, as
`sitk.ConnectedComponent` takes it), on axis-aligned, flipped and oblique grids. For each case
and for fullyConnected False and True:

  sitk.ConnectedComponent(mask, fullyConnected)           -> <case>.<conn>.cc.nii.gz (uint32)
  sitk.RelabelComponent(cc, minimumObjectSize=3, sortByObjectSize=True)
                                                          -> <case>.<conn>.relabel.nii.gz
  sitk.LabelShapeStatisticsImageFilter on the relabelled image, per label: number of pixels,
  physical size (mm^3), centroid (RAS mm, and as a continuous index), bounding box (index
  start and size, x y z)

Hole filling (`fill_holes`): sitk.BinaryFillhole(mask, fullyConnected, foregroundValue=1) of
the three masks and of a mask made for it ("holes": hollow boxes with islands and other labels
in their cavities, a cavity reaching the grid's border, cavities joined to the outside by a
face, an edge or a corner only) -> <case>.<conn>.fillhole.nii.gz (uint8).

Writes tests/data/preprocess/components/<case>.mask.nii.gz, the label images above, and
components_expected.json. Run: .venv/bin/python tools/components_reference.py
"""
import json
import math
import os

import numpy as np
import SimpleITK as sitk

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "preprocess", "components")


def rotation(deg_z, deg_x):
    a, b = math.radians(deg_z), math.radians(deg_x)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return rz @ rx


def mask_of(seed, shape):
    rng = np.random.default_rng(seed)
    z, y, x = np.indices(shape)
    m = np.zeros(shape, np.uint8)
    for _ in range(5):
        c = rng.uniform(2, np.array(shape) - 3)
        r = rng.uniform(1.0, 2.5, 3)
        d = ((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2
        m[d <= 1] = int(rng.integers(1, 4))
    # Scattered voxels: isolated ones and pairs touching by an edge or a corner only.
    m[rng.uniform(size=shape) < 0.02] = 1
    m[1, 1, 1] = m[2, 2, 2] = 2  # corner neighbours
    m[1, 5, 5] = m[1, 6, 6] = 1  # edge neighbours
    # Two components of equal size (4 voxels): RelabelComponent keeps their raster order.
    m[-1, -3:-1, -3:-1] = 3
    m[-1, 1:3, -3:-1] = 1
    m[-2, :, :] = 0
    m[-1, 3:-3, :] = 0
    m[-1, :, :-4] = 0
    m[-1, :, -1] = 0
    return m


def holes_mask():
    m = np.zeros((14, 16, 18), np.uint8)
    m[1:7, 1:7, 1:7] = 1
    m[2:6, 2:6, 2:6] = 0          # a closed cavity ...
    m[3, 3, 3] = 1                # ... with an island
    m[4, 4, 4] = 2                # ... and another label inside
    m[1:6, 9:15, 1:6] = 1
    m[2:5, 10:14, 2:5] = 0        # a cavity joined to the outside by a corner only
    m[5, 14, 5] = 0
    m[5, 13, 4] = 0
    m[8:13, 1:6, 8:13] = 1
    m[9:12, 2:5, 9:12] = 0        # a cavity joined to the outside by an edge only
    m[12, 2, 12] = 0
    m[12, 5, 11] = 0
    m[8:14, 8:14, 10:18] = 1
    m[9:13, 9:13, 11:18] = 0      # a cavity open on the grid's border
    m[0, 0, 0] = 2                # another label on the border
    return m


def fill_holes(cases_masks):
    names = []
    for name, img in cases_masks:
        for conn, full in [("face", False), ("full", True)]:
            f = sitk.BinaryFillhole(img, fullyConnected=full, foregroundValue=1)
            sitk.WriteImage(f, os.path.join(OUT, f"{name}.{conn}.fillhole.nii.gz"))
            print("fillhole", name, conn, int(sitk.GetArrayFromImage(img == 1).sum()),
                  int(sitk.GetArrayFromImage(f == 1).sum()))
        names.append(name)
    return names


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {}
    for name, seed, shape, spacing, origin, direction in [
            ("plain", 1, (12, 20, 24), (0.9, 0.8, 2.5), (-20.0, 35.0, 7.5), np.eye(3)),
            ("flipped", 2, (11, 18, 20), (1.2, 1.2, 3.0), (100.0, -60.0, -30.0), np.diag([-1.0, -1.0, 1.0])),
            ("oblique", 3, (12, 16, 18), (2.0, 1.5, 1.0), (4.0, 5.0, -6.0), rotation(25, 10))]:
        mask = mask_of(seed, shape)
        img = sitk.GetImageFromArray(mask)
        img.SetSpacing(spacing)
        img.SetOrigin(origin)
        img.SetDirection(tuple(direction.flatten()))
        sitk.WriteImage(img, os.path.join(OUT, f"{name}.mask.nii.gz"))
        # Read back: the geometry SimpleITK holds is the file's (float32 in the header).
        img = sitk.ReadImage(os.path.join(OUT, f"{name}.mask.nii.gz"))
        case = {}
        for conn, full in [("face", False), ("full", True)]:
            cc = sitk.ConnectedComponent(img, full)
            sitk.WriteImage(cc, os.path.join(OUT, f"{name}.{conn}.cc.nii.gz"))
            rel = sitk.RelabelComponent(cc, minimumObjectSize=3, sortByObjectSize=True)
            sitk.WriteImage(rel, os.path.join(OUT, f"{name}.{conn}.relabel.nii.gz"))
            stats = sitk.LabelShapeStatisticsImageFilter()
            stats.Execute(rel)
            labels = {}
            for label in stats.GetLabels():
                c = stats.GetCentroid(label)
                labels[str(label)] = {
                    "voxels": stats.GetNumberOfPixels(label),
                    "physical_size": stats.GetPhysicalSize(label),
                    # SimpleITK's points are LPS; ours RAS.
                    "centroid_ras": [-c[0], -c[1], c[2]],
                    "centroid_index": list(rel.TransformPhysicalPointToContinuousIndex(c)),
                    "bounding_box": list(stats.GetBoundingBox(label)),
                }
            case[conn] = {"components": int(sitk.GetArrayViewFromImage(cc).max()), "labels": labels}
        cases[name] = case
        print(name, {k: (v["components"], len(v["labels"])) for k, v in case.items()})
    holes = sitk.GetImageFromArray(holes_mask())
    holes.SetSpacing((0.9, 1.1, 2.0))
    sitk.WriteImage(holes, os.path.join(OUT, "holes.mask.nii.gz"))
    masks = [(n, sitk.ReadImage(os.path.join(OUT, f"{n}.mask.nii.gz"))) for n in [*cases, "holes"]]
    fill = fill_holes(masks)
    with open(os.path.join(OUT, "components_expected.json"), "w") as f:
        json.dump({"simpleitk": sitk.Version_VersionString(), "minimum_object_size": 3, "cases": cases,
                   "fillhole_cases": fill}, f, indent=1)


if __name__ == "__main__":
    main()
