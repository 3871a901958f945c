#!/usr/bin/env python3
"""Header reference values for adamss-io's NiftiInfo (qform and sform both, all dimensions) and
Geometry::from_itk, from nibabel and SimpleITK, on the files of tests/data/nifti/ plus a true 4-D
series written here.

Output: tests/data/nifti/four_d_series.nii.gz, tests/data/nifti/headers.json:
  {file: {"dims", "qform_code", "sform_code", "qform" (4x4 or null), "sform" (4x4 or null),
          "sitk": {"origin", "spacing", "direction"} (LPS, as SimpleITK reads it) or null}}

Run: .venv/bin/python tools/io_header_reference.py
"""
import json
import pathlib

import nibabel as nib
import numpy as np
import SimpleITK as sitk

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests" / "data" / "nifti"


def main():
    rng = np.random.default_rng(4)
    series = rng.normal(0, 1, (5, 4, 3, 2)).astype(np.float32)
    aff = np.diag([1.5, 2.0, 2.5, 1.0])
    aff[:3, 3] = [10.0, -20.0, 30.0]
    img = nib.Nifti1Image(series, aff)
    nib.save(img, OUT / "four_d_series.nii.gz")
    sitk.ProcessObject.SetGlobalWarningDisplay(False)
    out = {}
    for path in sorted(OUT.glob("*.nii*")) + sorted(OUT.glob("*.hdr")):
        n = nib.load(path)
        h = n.header
        q, s = int(h["qform_code"]), int(h["sform_code"])
        try:
            im = sitk.ReadImage(str(path))
            it = {"origin": list(im.GetOrigin())[:3], "spacing": list(im.GetSpacing())[:3],
                  "direction": np.array(im.GetDirection()).reshape(im.GetDimension(), -1)[:3, :3].tolist(),
                  "dimension": im.GetDimension()}
        except RuntimeError:
            it = None
        out[path.name] = {
            "dims": [int(d) for d in h.get_data_shape()],
            "qform_code": q, "sform_code": s,
            "qform": n.get_qform().tolist() if q > 0 else None,
            "sform": n.get_sform().tolist() if s > 0 else None,
            "sitk": it,
        }
    (OUT / "headers.json").write_text(json.dumps(
        {"generator": "tools/io_header_reference.py", "nibabel": nib.__version__,
         "SimpleITK": sitk.Version.VersionString(), "files": out}, indent=1) + "\n")
    print("wrote", len(out), "files")


if __name__ == "__main__":
    main()
