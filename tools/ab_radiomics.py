#!/usr/bin/env python3
"""Radiomics side by side with PyRadiomics, like for like (issue #22).

Per image: the radiomics bench's 160^3 CT and PET (1 mm, a ~29 cm^3 tumour) with its mask, at
the AdaMSS settings (tools/params_adamss.json: original + wavelet, 851 features) and at original
+ LoG sigma 1-5 mm + wavelet (tools/params_log_wavelet.json, 1316 features). Each side does
what PyRadiomics' `execute(image, mask)` does: read the parameter file, the image and the mask
from disk and extract, all inside the timed region; one thread each (ours RAYON_NUM_THREADS=1;
SimpleITK's global thread count 1 and one BLAS/OpenMP thread on the Python side); both warm
(PyRadiomics after a first untimed call, ours the second of two extractions in its process).
The two alternate, PAIRS pairs per case; min and median of each side and of the per-pair ratios.

A cohort: COHORT patients' CTs of a synthetic cohort (`adamss synth`, written once under
target/bench-data/ab/radiomics-cohort) at the AdaMSS settings on 2 cores, the way each tool's
users parallelise: ours one process on 2 rayon threads, PyRadiomics 2 worker processes
(`multiprocessing.Pool(2).map` over the patients, the pool started outside the timed region).
Reported as a parallel figure, beside the per-core ones.

    cargo build --release -p adamss-radiomics --example radiomics_timing
    cargo build --release   # the adamss binary, for the cohort
    cargo bench --bench radiomics -- no_such_bench   # writes the bench's files
    .venv/bin/python tools/ab_radiomics.py [PAIRS] [COHORT_PAIRS] [COHORT]
"""
import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = "1"

import glob  # noqa: E402
import logging  # noqa: E402
import multiprocessing  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import SimpleITK as sitk  # noqa: E402
from radiomics import featureextractor  # noqa: E402

logging.getLogger("radiomics").setLevel(logging.ERROR)
sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(1)

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "target" / "bench-data" / "radiomics"
COHORT_DIR = ROOT / "target" / "bench-data" / "ab" / "radiomics-cohort"
EXE = ROOT / "target" / "release" / "examples" / "radiomics_timing"
ADAMSS = ROOT / "target" / "release" / "adamss"
PARAMS = {
    "AdaMSS (original + wavelet)": ROOT / "tools" / "params_adamss.json",
    "original + LoG 1-5 mm + wavelet": ROOT / "tools" / "params_log_wavelet.json",
}


def pyradiomics(params, image, mask):
    """What a PyRadiomics user times: the extractor from its parameter file, then execute."""
    t0 = time.perf_counter()
    r = featureextractor.RadiomicsFeatureExtractor(str(params)).execute(str(image), str(mask))
    n = sum(1 for k in r if not k.startswith("diagnostics"))
    return time.perf_counter() - t0, n


def ours(params, files, threads):
    r = subprocess.run([str(EXE), str(params), "2", *map(str, files)], check=True,
                       capture_output=True, text=True,
                       env=dict(os.environ, RAYON_NUM_THREADS=str(threads)))
    secs, n = r.stdout.splitlines()[-1].split()
    return float(secs), int(n)


def summary(label, py, rs):
    ratio = [a / b for a, b in zip(py, rs)]
    print(f"{label}: PyRadiomics min {min(py):.3f} s median {statistics.median(py):.3f} s; "
          f"ours min {min(rs):.3f} s median {statistics.median(rs):.3f} s; "
          f"ratio per pair min {min(ratio):.1f}x median {statistics.median(ratio):.1f}x")


def per_image(pairs):
    mask = BENCH / "mask.nii.gz"
    for name, params in PARAMS.items():
        for image in (BENCH / "ct.nii.gz", BENCH / "pet.nii.gz"):
            _, n_py = pyradiomics(params, image, mask)  # warm-up, untimed
            py, rs = [], []
            for p in range(pairs):
                t, _ = pyradiomics(params, image, mask)
                py.append(t)
                s, n_rs = ours(params, [image, mask], 1)
                rs.append(s)
                print(f"  {image.name}, {name}, pair {p}: PyRadiomics {t:.3f} s  ours {s:.3f} s  "
                      f"ratio {t / s:.1f}x", flush=True)
            summary(f"{image.name}, {name} ({n_py} / {n_rs} features), one thread each", py, rs)


def _worker(job):
    params, image, mask = job
    r = featureextractor.RadiomicsFeatureExtractor(str(params)).execute(str(image), str(mask))
    return sum(1 for k in r if not k.startswith("diagnostics"))


def cohort(pairs, patients):
    if not COHORT_DIR.exists():
        subprocess.run([str(ADAMSS), "synth", "--out", str(COHORT_DIR), "--patients",
                        str(patients), "--seed", "22"], check=True, capture_output=True)
    cts = sorted(glob.glob(str(COHORT_DIR / "imagesTr" / "*__CT.nii.gz")))[:patients]
    jobs = []
    for ct in cts:
        pid = Path(ct).name.split("__")[0]
        jobs.append((PARAMS["AdaMSS (original + wavelet)"], ct, COHORT_DIR / "labelsTr" / f"{pid}.nii.gz"))
    files = [f for _, ct, mask in jobs for f in (ct, mask)]
    print(f"cohort: {len(jobs)} CTs of {COHORT_DIR} (AdaMSS settings), 2 cores")
    py, rs = [], []
    with multiprocessing.get_context("fork").Pool(2) as pool:
        pool.map(_worker, jobs[:2])  # warm both workers, untimed
        for p in range(pairs):
            t0 = time.perf_counter()
            counts = pool.map(_worker, jobs, chunksize=1)
            t = time.perf_counter() - t0
            py.append(t)
            s, n = ours(jobs[0][0], files, 2)
            rs.append(s)
            print(f"  cohort pair {p}: PyRadiomics (2 processes) {t:.2f} s  ours (2 threads) "
                  f"{s:.2f} s  ratio {t / s:.1f}x  ({sum(counts)} / {n} values)", flush=True)
    summary(f"cohort of {len(jobs)}, 2 cores each (a parallel figure)", py, rs)


def main():
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    cohort_pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    patients = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    print(f"load before: {os.getloadavg()}  cores: {os.cpu_count()}")
    per_image(pairs)
    if cohort_pairs > 0:
        cohort(cohort_pairs, patients)
    print(f"load after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
