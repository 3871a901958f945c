#!/usr/bin/env python3
"""PyRadiomics side of benches/radiomics.rs: the same files, the same classes and settings
(all seven classes; (a) original, CT binWidth 25, PET binWidth 0.5; (b) the AdaMSS preset;
(c) original + LoG sigma 1-5 mm + wavelet; the shape class alone), median of N runs.
Run `cargo bench --bench radiomics` first (it writes the files).

Run: .venv/bin/python tools/bench_pyradiomics.py [runs]
"""
import logging
import os
import statistics
import sys
import time

from radiomics import featureextractor

logging.getLogger("radiomics").setLevel(logging.ERROR)
D = os.path.join(os.path.dirname(__file__), "..", "target", "bench-data", "radiomics")


def extractor(bin_width):
    e = featureextractor.RadiomicsFeatureExtractor(binWidth=bin_width)
    e.disableAllFeatures()
    for c in ("shape", "firstorder", "glcm", "glrlm", "glszm", "gldm", "ngtdm"):
        e.enableFeatureClassByName(c)
    return e


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    ct, pet, mask = (os.path.join(D, f) for f in ("ct.nii.gz", "pet.nii.gz", "mask.nii.gz"))
    e_ct, e_pet = extractor(25), extractor(0.5)

    def both():
        return e_ct.execute(ct, mask), e_pet.execute(pet, mask)

    timed("original_pet_ct_107x2", both, runs)

    # (b) The AdaMSS preset: Original binWidth 25 + Wavelet binWidth 10, PET and CT.
    e = extractor(25)
    e.enableImageTypeByName("Wavelet", customArgs={"binWidth": 10})
    timed("adamss_preset_pet_ct_851x2", lambda: (e.execute(ct, mask), e.execute(pet, mask)), runs)

    # (c) Original + LoG sigma 1..5 mm (binWidth 25) + Wavelet (binWidth 10), PET and CT.
    f = extractor(25)
    f.enableImageTypeByName("LoG", customArgs={"sigma": [1.0, 2.0, 3.0, 4.0, 5.0]})
    f.enableImageTypeByName("Wavelet", customArgs={"binWidth": 10})
    timed("original_log5_wavelet_pet_ct_1316x2", lambda: (f.execute(ct, mask), f.execute(pet, mask)), runs)


    # (d) A clinical CT grid (512 x 512 x 120 at 0.98 x 0.98 x 2.5 mm, int16) resampled to 1 mm
    # (B-spline), then the AdaMSS preset: tools/params_resample.json.
    r = featureextractor.RadiomicsFeatureExtractor(os.path.join(os.path.dirname(__file__), "params_resample.json"))
    ct_c, mask_c = (os.path.join(D, f) for f in ("ct_clinical.nii.gz", "mask_clinical.nii.gz"))
    timed("resample_1mm_adamss_preset_ct_851", lambda: r.execute(ct_c, mask_c), runs)

    s = featureextractor.RadiomicsFeatureExtractor()
    s.disableAllFeatures()
    s.enableFeatureClassByName("shape")
    timed("shape_14", lambda: s.execute(ct, mask), runs)


def timed(label, fn, runs):
    """Prints the median wall time of `runs` calls of `fn`, after one warm-up call."""
    fn()
    ts = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    print(f"{label}: {statistics.median(ts):.3f} s (median of {runs})")


if __name__ == "__main__":
    main()
