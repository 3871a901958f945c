#!/usr/bin/env python3
"""Reference NRRD files for adamss-io's NRRD reader, read by SimpleITK.

Files written by SimpleITK (`sitk.WriteImage(…, .nrrd)`: LPS space, gzip or raw) and written
by hand to cover what Slicer and other tools write (RAS and LAS spaces, big-endian, `spacings`
without a space, a 2-D image, comments and key/value pairs, `kinds`). Each is read back with
SimpleITK, which gives the reference: its size, spacing, origin and direction (LPS, double)
into nrrd_expected.json, and its voxels as a NIfTI copy (<case>.voxels.nii.gz, the stored type)
that the test reads with the NIfTI reader and compares voxel for voxel.

A PyRadiomics case on NRRD input: an image written by SimpleITK (LPS, gzip, float32) and its
mask written by hand in RAS space (raw uint8) on the same physical grid; PyRadiomics'
default extraction (`RadiomicsFeatureExtractor().execute(image, mask)`) -> pair_features.json.

Writes tests/data/io/nrrd/. Run: .venv/bin/python tools/nrrd_reference.py
"""
import gzip
import json
import math
from pathlib import Path

import numpy as np
import SimpleITK as sitk

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "io" / "nrrd"


def rotation(deg_z, deg_x):
    a, b = math.radians(deg_z), math.radians(deg_x)
    rz = np.array([[math.cos(a), -math.sin(a), 0], [math.sin(a), math.cos(a), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(b), -math.sin(b)], [0, math.sin(b), math.cos(b)]])
    return rz @ rx


def volume(shape_zyx, dtype, seed):
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.floating):
        return rng.normal(0, 100, shape_zyx).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(max(info.min, -2000), min(info.max, 3000), shape_zyx, endpoint=True).astype(dtype)


def by_sitk(name, arr, spacing, origin, direction, compress):
    img = sitk.GetImageFromArray(arr)
    img.SetSpacing(spacing)
    img.SetOrigin(origin)
    img.SetDirection(tuple(np.asarray(direction).flatten()))
    sitk.WriteImage(img, str(OUT / f"{name}.nrrd"), useCompression=compress)


def vec(v):
    return "(" + ",".join(repr(float(x)) for x in v) + ")"


def by_hand(name, arr, header, gzipped, big_endian=False):
    data = arr.astype(arr.dtype.newbyteorder(">" if big_endian else "<")).tobytes(order="C")
    if gzipped:
        data = gzip.compress(data)
    with open(OUT / f"{name}.nrrd", "wb") as f:
        f.write(("\n".join(header) + "\n\n").encode())
        f.write(data)


def radiomics_pair():
    from radiomics import featureextractor
    import radiomics
    shape = (8, 20, 22)  # z, y, x
    spacing, origin = (0.9, 0.8, 2.0), (-10.0, 15.0, 3.0)  # LPS
    z, y, x = np.indices(shape)
    rng = np.random.default_rng(11)
    img = (40 + 30 * np.sin(x / 3.0) + 20 * np.cos(y / 4.0) + rng.normal(0, 8, shape)).astype(np.float32)
    mask = ((((x - 11) / 6.0) ** 2 + ((y - 10) / 5.0) ** 2 + ((z - 4) / 2.5) ** 2) <= 1).astype(np.uint8)
    by_sitk("pair_image", img, spacing, origin, np.eye(3), True)
    # The same grid in RAS: x and y negated in the directions and the origin.
    by_hand("pair_mask", mask, [
        "NRRD0004", "type: unsigned char", "dimension: 3", "space: right-anterior-superior",
        f"sizes: {shape[2]} {shape[1]} {shape[0]}",
        f"space directions: ({-spacing[0]},0,0) (0,{-spacing[1]},0) (0,0,{spacing[2]})",
        "kinds: domain domain domain", "encoding: raw",
        f"space origin: ({-origin[0]},{-origin[1]},{origin[2]})"], False)
    result = featureextractor.RadiomicsFeatureExtractor().execute(
        str(OUT / "pair_image.nrrd"), str(OUT / "pair_mask.nrrd"))
    features = {k: float(v) for k, v in result.items() if not k.startswith("diagnostics_")}
    (OUT / "pair_features.json").write_text(json.dumps(
        {"pyradiomics": radiomics.__version__, "features": features}, indent=1) + "\n")
    print("pair", len(features), "features")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    by_sitk("sitk_gzip_int16_oblique", volume((6, 7, 8), np.int16, 1), (0.9, 1.1, 2.5),
            (-12.5, 30.25, 7.0), rotation(25, 10), True)
    by_sitk("sitk_raw_float32", volume((5, 6, 7), np.float32, 2), (0.976562, 0.976562, 3.0),
            (250.0, -180.5, -400.0), np.eye(3), False)
    a = volume((4, 5, 6), np.uint8, 3)
    by_hand("hand_ras_uint8", a, [
        "NRRD0004", "# a comment", "type: uchar", "dimension: 3", "space: right-anterior-superior",
        "sizes: 6 5 4", "space directions: (0.8,0,0) (0,0.8,0) (0,0,1.5)", "kinds: domain domain domain",
        "encoding: raw", "space origin: (10.5,-20,30)", "Segment0_Name:=GTVp"], False)
    a = volume((3, 4, 5), np.int32, 4)
    d = rotation(-15, 20) * np.array([1.2, 0.7, 2.0])  # columns: axes
    by_hand("hand_las_bigendian_int32", a, [
        "NRRD0005", "type: int32", "dimension: 3", "space: left-anterior-superior",
        "sizes: 5 4 3", "space directions: " + " ".join(vec(d[:, k]) for k in range(3)),
        "endian: big", "encoding: gzip", "space origin: (1,2,3)"], True, big_endian=True)
    a = volume((4, 3, 5), np.float64, 5)
    by_hand("hand_spacings_double", a, [
        "NRRD0004", "type: double", "dimension: 3", "sizes: 5 3 4", "spacings: 0.5 0.7 2",
        "endian: little", "encoding: raw"], False)
    a = volume((6, 7), np.uint16, 6)
    by_hand("hand_2d_uint16", a, [
        "NRRD0004", "type: unsigned short", "dimension: 2", "space dimension: 2",
        "sizes: 7 6", "space directions: (0.5,0) (0,0.6)", "endian: little", "encoding: gzip",
        "space origin: (-3,4)"], True)
    radiomics_pair()
    cases = {}
    for f in sorted(OUT.glob("*.nrrd")):
        if f.name.startswith("pair_"):
            continue
        name = f.name[:-5]
        img = sitk.ReadImage(str(f))
        sitk.WriteImage(img, str(OUT / f"{name}.voxels.nii.gz"))
        cases[name] = {
            "size": list(img.GetSize()), "spacing": list(img.GetSpacing()),
            "origin_lps": list(img.GetOrigin()), "direction_lps": list(img.GetDirection()),
            "pixel": img.GetPixelIDTypeAsString(), "dimension": img.GetDimension(),
        }
        print(name, cases[name]["size"], cases[name]["pixel"])
    (OUT / "nrrd_expected.json").write_text(json.dumps(
        {"generator": "tools/nrrd_reference.py", "simpleitk": sitk.Version_VersionString(), "cases": cases},
        indent=1) + "\n")


if __name__ == "__main__":
    main()
