#!/usr/bin/env python3
"""Runs PyRadiomics once on IMAGE MASK PARAMS (for peak-memory comparisons with
`/usr/bin/time -v`; see docs/benchmarks.md). Prints the number of features, or with a fourth
argument `--values` every feature as `name,value` (the form `radiomics_files` prints)."""
import sys, logging
from radiomics import featureextractor
logging.getLogger("radiomics").setLevel(logging.ERROR)
e = featureextractor.RadiomicsFeatureExtractor(sys.argv[3])
r = e.execute(sys.argv[1], sys.argv[2])
feats = {k: float(v) for k, v in r.items() if not k.startswith("diagnostics")}
if sys.argv[4:] == ["--values"]:
    for k, v in feats.items():
        print(f"{k},{v!r}")
else:
    print(len(feats))
