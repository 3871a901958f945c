"""PyRadiomics' feature names per class, with its deprecated flags, for the parameter-file checks.

    pip install pyradiomics-bhklab==3.1.4
    python tools/pyradiomics_feature_names.py     # -> tests/data/radiomics/feature_names.json

`adamss-radiomics` computes each 3-D class's non-deprecated features and refuses the deprecated
ones by name; `tests/it/params.rs` checks its lists against this file.
"""

import json
from pathlib import Path

import radiomics
from radiomics import getFeatureClasses

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "radiomics" / "feature_names.json"


def main():
    classes = {}
    for name, cls in sorted(getFeatureClasses().items()):
        names = cls.getFeatureNames()
        classes[name] = {
            "features": sorted(k for k, deprecated in names.items() if not deprecated),
            "deprecated": sorted(k for k, deprecated in names.items() if deprecated),
        }
    out = {"generator": "tools/pyradiomics_feature_names.py", "pyradiomics": radiomics.__version__,
           "classes": classes}
    OUT.write_text(json.dumps(out, indent=1) + "\n")
    print({k: len(v["features"]) for k, v in classes.items()})


if __name__ == "__main__":
    main()
