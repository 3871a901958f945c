#!/usr/bin/env python3
"""Runs PyRadiomics once on IMAGE MASK PARAMS (for peak-memory comparisons with
`/usr/bin/time -v`; see docs/benchmarks.md). Prints the number of features."""
import sys, logging
from radiomics import featureextractor
logging.getLogger("radiomics").setLevel(logging.ERROR)
e = featureextractor.RadiomicsFeatureExtractor(sys.argv[3])
r = e.execute(sys.argv[1], sys.argv[2])
print(sum(1 for k in r if not k.startswith("diagnostics")))
