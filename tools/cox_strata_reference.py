#!/usr/bin/env python3
"""Reference values for adamss-survival's stratified Cox fit (`CoxPh` `fit_stratified`).

lifelines' CoxPHFitter(strata=[...]) (Efron) and statsmodels' PHReg(strata=..., ties=...)
(Breslow and Efron) on the bundled datasets (tests/data/survival/*.csv, written by
tools/survival_reference.py), with the stratum of each subject:

  rossi_race       rossi: fin, age, wexp, mar, paro, prio; strata race (2)
  gbsg2_tgrade     gbsg2: age, estrec, horTh=yes, menostat=Post, pnodes, progrec, tsize;
                   strata tumour grade I/II/III (3)
  whas500_decade   whas500 (tied times): age, bmi, hr, sysbp, gender=1, chf=1; strata
                   length-of-stay band (5), one of them without events in part of its range
  veterans_cell    veterans: Karnofsky_score, Age_in_years, Months_from_Diagnosis,
                   Prior_therapy=yes, Treatment=test; strata cell type (4)

Writes tests/data/survival/strata_expected.json: per case the covariates, the strata labels'
source, and for each tool/ties the coefficients, standard errors, log-likelihood at the
estimate and at 0; from lifelines also the stratified concordance and the likelihood-ratio
statistic. Run: .venv/bin/pip install statsmodels==0.15.0 && .venv/bin/python tools/cox_strata_reference.py
"""
import json
from pathlib import Path

import numpy as np
import pandas as pd
import lifelines
import statsmodels
from lifelines import CoxPHFitter
from statsmodels.duration.hazard_regression import PHReg

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"


def strata_of(name, df):
    if name == "rossi_race":
        return df["race"].astype(int)
    if name == "gbsg2_tgrade":
        return (df["tgrade=II"] + 2 * df["tgrade=III"]).astype(int)
    if name == "whas500_decade":
        return np.minimum(df["los"] // 4, 4).astype(int)
    if name == "veterans_cell":
        return (df["Celltype=large"] + 2 * df["Celltype=smallcell"] + 3 * df["Celltype=squamous"]).astype(int)
    raise ValueError(name)


CASES = {
    "rossi_race": ("rossi", ["fin", "age", "wexp", "mar", "paro", "prio"]),
    "gbsg2_tgrade": ("gbsg2", ["age", "estrec", "horTh=yes", "menostat=Post", "pnodes", "progrec", "tsize"]),
    "whas500_decade": ("whas500", ["age", "bmi", "hr", "sysbp", "gender=1", "chf=1"]),
    "veterans_cell": ("veterans", ["Karnofsky_score", "Age_in_years", "Months_from_Diagnosis",
                                   "Prior_therapy=yes", "Treatment=test"]),
}


def main():
    out = {"generator": "tools/cox_strata_reference.py", "lifelines": lifelines.__version__,
           "statsmodels": statsmodels.__version__, "cases": {}}
    for name, (dataset, cols) in CASES.items():
        df = pd.read_csv(DATA / f"{dataset}.csv")
        strata = strata_of(name, df)
        case = {"dataset": dataset, "covariates": cols, "strata": [int(s) for s in strata]}
        frame = df[["time", "event"] + cols].copy()
        frame["stratum"] = strata
        cph = CoxPHFitter().fit(frame, "time", "event", strata=["stratum"],
                               fit_options={"precision": 1e-12, "max_steps": 200})
        case["lifelines_efron"] = {
            "coef": [float(cph.params_[c]) for c in cols],
            "se": [float(cph.standard_errors_[c]) for c in cols],
            "log_likelihood": float(cph.log_likelihood_),
            "log_likelihood_null": float(cph._ll_null_),
            "concordance": float(cph.concordance_index_),
            "likelihood_ratio": float(cph.log_likelihood_ratio_test().test_statistic),
        }
        for ties in ["breslow", "efron"]:
            model = PHReg(df["time"].values, df[cols].values.astype(float), status=df["event"].values,
                          strata=strata.values, ties=ties)
            res = model.fit(method="newton", maxiter=200, tol=1e-12)
            case[f"statsmodels_{ties}"] = {
                "coef": [float(v) for v in res.params],
                "se": [float(v) for v in res.bse],
                "log_likelihood": float(res.llf),
                "log_likelihood_null": float(model.loglike(np.zeros(len(cols)))),
            }
        out["cases"][name] = case
        print(name, "strata", strata.nunique(), "events", int(df["event"].sum()),
              "lifelines vs statsmodels efron max |coef diff|",
              max(abs(a - b) for a, b in zip(case["lifelines_efron"]["coef"], case["statsmodels_efron"]["coef"])))
    (DATA / "strata_expected.json").write_text(json.dumps(out, indent=1) + "\n")


if __name__ == "__main__":
    main()
