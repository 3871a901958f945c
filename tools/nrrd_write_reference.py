#!/usr/bin/env python3
"""SimpleITK's reading of the NRRD files adamss-io writes (`Volume::write` to `.nrrd`): the
reference for its NRRD writer.

The files in tests/data/io/nrrd_written/ are written by the Rust test `write_fixtures`
(crates/adamss-io/tests/it/nrrd_write.rs, run with `--ignored`) from the NRRD reader's and the
NIfTI reader's SimpleITK/nibabel-checked test files and from volumes it builds; SimpleITK 2.5.7
reads each here, and its size, spacing, origin and direction (LPS) and every voxel (x fastest,
as float64) go to expected.json. The test writes each case again, checks the header and data
equal the committed file's, and compares SimpleITK's reading with the volume it wrote.

Run: cargo test -p adamss-io --test it nrrd_write::write_fixtures -- --ignored
     .venv/bin/python tools/nrrd_write_reference.py
"""
import json
from pathlib import Path

import numpy as np
import SimpleITK as sitk

DIR = Path(__file__).resolve().parent.parent / "tests" / "data" / "io" / "nrrd_written"


def main():
    out = {"generator": "tools/nrrd_write_reference.py", "simpleitk": sitk.Version_VersionString(),
           "cases": {}}
    for path in sorted(DIR.glob("*.nrrd")):
        image = sitk.ReadImage(str(path))
        values = sitk.GetArrayFromImage(image).astype(np.float64).ravel()  # x fastest
        out["cases"][path.stem] = {
            "pixel_type": image.GetPixelIDTypeAsString(),
            "size": list(image.GetSize()),
            "spacing": list(image.GetSpacing()),
            "origin_lps": list(image.GetOrigin()),
            "direction_lps": list(image.GetDirection()),
            "values": [float(v) for v in values],
        }
    (DIR / "expected.json").write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {DIR / 'expected.json'} ({len(out['cases'])} files)")


if __name__ == "__main__":
    main()
