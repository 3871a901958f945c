#!/usr/bin/env python3
"""Reference segmentation metrics from SimpleITK and MONAI for adamss-preprocess
(`label_overlap`, `hausdorff_distance`, `surface_distances`, `distance_map`).

Pairs of label maps (a "prediction" and a "reference", values 0, 1, 2) on anisotropic,
flipped and oblique grids: blobs, specks, a hollow shell predicted as a solid (where the
all-voxel Hausdorff distance of SimpleITK and MONAI's surface one differ), structures touching
the image border, a one-slice volume with label 2 in the reference only, and a label in
neither. For each case and label:

  sitk.LabelOverlapMeasuresImageFilter (prediction = source, reference = target): Dice,
      Jaccard, volume similarity, false negative error, false positive error, false discovery
      rate — where the counts they divide by are non-zero (the false positive error: where the
      prediction has the label)
  sitk.HausdorffDistanceImageFilter on (prediction == label, reference == label): Hausdorff
      and average Hausdorff distance — where both masks have the label (SimpleITK raises
      otherwise)
  monai.metrics on one-hot [1, 1, ...] tensors, include_background=True, spacing = the grid's:
      compute_hausdorff_distance (percentile None and 95, directed False and True),
      compute_average_surface_distance (symmetric False and True), compute_surface_dice at
      tolerances 1.7 mm and 3.3 mm (inf / nan where MONAI gives them)
  sitk.SignedMaurerDistanceMap(reference == 1, insideIsPositive=False, squaredDistance=False,
      useImageSpacing=True) clamped at 0 -> <case>.distance.nii.gz (float32)

Margins of the reference's label 1 (adamss-preprocess's `expand_mask`, `peritumoral_ring`,
`shrink_mask`), from the same Maurer distance maps:
  expand by m (2.3, 5.7 mm)   SignedMaurerDistanceMap(reference == 1) <= m
  ring by m                   the expansion without the structure
  shrink by m (1.25, 2.45 mm)   (reference == 1) & SignedMaurerDistanceMap(reference != 1) > m
                              (the distance to the nearest voxel without the label)
  -> <case>.{expand,ring,shrink}-<m>.nii.gz (uint8); the margins are checked to lie at least
  1e-4 mm from every distance in the map, so float32 cannot flip a voxel.

Writes tests/data/preprocess/segmetrics/<case>.{prediction,reference,distance}.nii.gz, the
margins above and segmetrics_expected.json.
Run: .venv/bin/python tools/segmentation_metrics_reference.py
"""
import json
import math
import os
import warnings

import monai
import numpy as np
import SimpleITK as sitk
import torch
from monai.metrics import (compute_average_surface_distance, compute_hausdorff_distance,
                           compute_surface_dice)

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "data", "preprocess", "segmetrics")
TOLERANCES = [1.7, 3.3]
EXPAND_MM = [2.3, 5.7]
SHRINK_MM = [1.25, 2.45]


def rotation(deg_z, deg_x):
    a, b = math.radians(deg_z), math.radians(deg_x)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return rz @ rx


def blobs(rng, shape, n, labels):
    z, y, x = np.indices(shape)
    m = np.zeros(shape, np.uint8)
    for _ in range(n):
        c = rng.uniform(0, np.maximum(np.array(shape) - 2, 0)) + (np.array(shape) > 2)
        r = rng.uniform(1.2, 3.5, 3)
        d = ((z - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((x - c[2]) / r[2]) ** 2
        m[d <= 1] = int(rng.choice(labels))
    return m


def pair(seed, shape):
    """A reference and a prediction that overlaps it imperfectly: shifted blobs, specks."""
    rng = np.random.default_rng(seed)
    ref = blobs(rng, shape, 4, [1, 2])
    pred = np.roll(ref, (0, 1, -1), axis=(0, 1, 2))
    pred = np.where(rng.uniform(size=shape) < 0.05, 0, pred).astype(np.uint8)
    pred[blobs(rng, shape, 1, [1]) == 1] = 1
    pred[rng.uniform(size=shape) < 0.004] = 2
    return pred, ref


def shell(shape):
    """Reference: a hollow ellipsoidal shell; prediction: the solid ellipsoid (surface distances
    small, the all-voxel distance from its centre large), and label 2 on one face of the box."""
    z, y, x = np.indices(shape)
    c = (np.array(shape) - 1) / 2
    d = np.sqrt(((z - c[0]) / 5) ** 2 + ((y - c[1]) / 6) ** 2 + ((x - c[2]) / 6) ** 2)
    ref = ((d <= 1.0) & (d >= 0.7)).astype(np.uint8)
    pred = (d <= 1.0).astype(np.uint8)
    pred[:, :, 0] = 2  # touches the border
    ref[:, :2, 0] = 2
    return pred, ref


def image(arr, spacing, origin, direction):
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    img.SetDirection(tuple(np.asarray(direction).flatten()))
    return img


def finite_or_none(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf"
    return v


def monai_metrics(pred, ref, spacing_zyx):
    p = torch.from_numpy(pred.astype(np.float32))[None, None]
    r = torch.from_numpy(ref.astype(np.float32))[None, None]
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, pct in [("hausdorff", None), ("hausdorff95", 95.0)]:
            for directed in [False, True]:
                v = compute_hausdorff_distance(p, r, include_background=True, percentile=pct,
                                               directed=directed, spacing=spacing_zyx)
                out[name + ("_directed" if directed else "")] = finite_or_none(v[0, 0])
        for sym in [False, True]:
            v = compute_average_surface_distance(p, r, include_background=True, symmetric=sym,
                                                 spacing=spacing_zyx)
            out["asd_symmetric" if sym else "asd"] = finite_or_none(v[0, 0])
        out["surface_dice"] = [
            finite_or_none(compute_surface_dice(p, r, [t], include_background=True,
                                                spacing=spacing_zyx)[0, 0])
            for t in TOLERANCES]
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    cases = {}
    for name, arrays, spacing, origin, direction in [
            ("plain", pair(11, (10, 22, 24)), (0.98, 0.98, 3.0), (-20.0, 35.0, 7.5), np.eye(3)),
            ("flipped", pair(12, (9, 18, 20)), (1.2, 0.8, 2.5), (100.0, -60.0, -30.0),
             np.diag([-1.0, -1.0, 1.0])),
            ("oblique", pair(13, (12, 16, 18)), (2.0, 1.5, 1.0), (4.0, 5.0, -6.0), rotation(25, 10)),
            ("shell", shell((14, 16, 16)), (1.0, 1.1, 1.3), (0.0, 0.0, 0.0), np.eye(3)),
            ("slice", pair(14, (1, 20, 24)), (0.7, 0.9, 4.0), (1.0, 2.0, 3.0), np.eye(3))]:
        pred, ref = arrays
        if name == "slice":
            pred = np.where(pred == 2, 0, pred).astype(np.uint8)  # label 2 in the reference only
        pred_img = image(pred, spacing, origin, direction)
        ref_img = image(ref, spacing, origin, direction)
        paths = {k: os.path.join(OUT, f"{name}.{k}.nii.gz") for k in ["prediction", "reference", "distance"]}
        sitk.WriteImage(pred_img, paths["prediction"])
        sitk.WriteImage(ref_img, paths["reference"])
        # Read back: the geometry SimpleITK holds is the file's (float32 in the header).
        pred_img, ref_img = sitk.ReadImage(paths["prediction"]), sitk.ReadImage(paths["reference"])
        dist = sitk.SignedMaurerDistanceMap(ref_img == 1, insideIsPositive=False, squaredDistance=False,
                                            useImageSpacing=True)
        sitk.WriteImage(sitk.Cast(sitk.Clamp(dist, lowerBound=0.0, upperBound=1e30), sitk.sitkFloat32),
                        paths["distance"])
        ref1 = sitk.Cast(ref_img == 1, sitk.sitkUInt8)
        margins = {}
        maps = {"expand": dist,
                "shrink": sitk.SignedMaurerDistanceMap(ref_img != 1, insideIsPositive=False,
                                                       squaredDistance=False, useImageSpacing=True)}
        for kind, values in [("expand", EXPAND_MM), ("shrink", SHRINK_MM)]:
            d = sitk.GetArrayFromImage(maps[kind])
            for m in values:
                assert np.abs(d - m).min() > 1e-4, (name, kind, m)
                if kind == "expand":
                    out = {"expand": maps[kind] <= m, "ring": (maps[kind] <= m) - ref1}
                else:
                    out = {"shrink": ref1 * (maps[kind] > m)}
                for k, img in out.items():
                    img = sitk.Cast(img, sitk.sitkUInt8)
                    sitk.WriteImage(img, os.path.join(OUT, f"{name}.{k}-{m}.nii.gz"))
                    margins[f"{k}-{m}"] = int(sitk.GetArrayViewFromImage(img).sum())
        spacing_zyx = list(pred_img.GetSpacing())[::-1]
        labels = {}
        for label in [1, 2, 3]:
            p, r = (pred == label).astype(np.uint8), (ref == label).astype(np.uint8)
            np_, nr = int(p.sum()), int(r.sum())
            entry = {"prediction_voxels": np_, "reference_voxels": nr,
                     "intersection": int((p & r).sum())}
            f = sitk.LabelOverlapMeasuresImageFilter()
            f.Execute(pred_img, ref_img)
            if np_ + nr > 0:
                entry["dice"] = f.GetDiceCoefficient(label)
                entry["jaccard"] = f.GetJaccardCoefficient(label)
                entry["volume_similarity"] = f.GetVolumeSimilarity(label)
            if nr > 0:
                entry["false_negative_error"] = f.GetFalseNegativeError(label)
            if np_ > 0:
                # SimpleITK gives DBL_MAX for an empty prediction (there are no false positives).
                entry["false_positive_error"] = f.GetFalsePositiveError(label)
                entry["false_discovery_rate"] = f.GetFalseDiscoveryRate(label)
            if np_ > 0 and nr > 0:
                h = sitk.HausdorffDistanceImageFilter()
                h.Execute(pred_img == label, ref_img == label)
                entry["sitk_hausdorff"] = h.GetHausdorffDistance()
                entry["sitk_average_hausdorff"] = h.GetAverageHausdorffDistance()
            entry["monai"] = monai_metrics(p, r, spacing_zyx)
            labels[str(label)] = entry
        cases[name] = {"labels": labels, "margins": margins}
        print(name, {k: (v["prediction_voxels"], v["reference_voxels"], v["monai"]["hausdorff95"])
                     for k, v in labels.items()})
    with open(os.path.join(OUT, "segmetrics_expected.json"), "w") as f:
        json.dump({"simpleitk": sitk.Version_VersionString(), "monai": monai.__version__,
                   "tolerances_mm": TOLERANCES, "expand_mm": EXPAND_MM, "shrink_mm": SHRINK_MM,
                   "cases": cases}, f, indent=1)


if __name__ == "__main__":
    main()
