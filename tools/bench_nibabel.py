#!/usr/bin/env python3
"""Times nibabel on the file of `cargo bench --bench nifti_io` (median of N runs).

    .venv/bin/python tools/bench_nibabel.py target/bench-data/ct512/imagesTr/CHUM-001__CT.nii.gz

read_i16: np.asanyarray(img.dataobj) (stored int16, no scaling, like Volume::<i16>::read);
read_f32: img.get_fdata(dtype=np.float32) (like Volume::<f32>::read);
write_i16: nib.save of the int16 image as .nii.gz (nibabel's default gzip level 1, like ours).
"""
import statistics
import sys
import tempfile
import time
from pathlib import Path

import nibabel as nib
import numpy as np


def median_time(fn, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main():
    path = Path(sys.argv[1])
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    img = nib.load(path)
    data = np.asanyarray(img.dataobj)
    assert data.shape == (512, 512, 200) and data.dtype == np.int16, (data.shape, data.dtype)
    out = Path(tempfile.mkdtemp()) / "ct.nii.gz"
    res = {
        "read_i16": median_time(lambda: np.asanyarray(nib.load(path).dataobj), n),
        "read_f32": median_time(lambda: nib.load(path).get_fdata(dtype=np.float32), n),
        "write_i16": median_time(lambda: nib.save(nib.Nifti1Image(data, img.affine, img.header), out), n),
    }
    print(f"nibabel {nib.__version__}, numpy {np.__version__}, {n} runs each, median seconds")
    for k, v in res.items():
        print(f"{k:10s} {v:8.3f} s")


if __name__ == "__main__":
    main()
