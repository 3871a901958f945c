#!/usr/bin/env python3
"""Reference values for delayed entry (left truncation) in adamss-survival:
`KaplanMeier::fit_with_entry`, `NelsonAalen::fit_with_entry`, `CoxData::entry` in a Cox fit,
the robust covariance and residuals of such a fit, and `BreslowBaseline::fit_with_entry`.

A subject with entry time e and time t is at risk on (e, t]: in the risk sets of the event
times after its entry only. lifelines and R use this convention (strict at the entry);
statsmodels' PHReg counts a subject entering at t as at risk at t, so it is used here only on
data where no entry time equals an event time.

Cases. Entry times are drawn once here (numpy's default_rng, fixed seeds) and written out, so
the tests read them rather than draw them:

  Kaplan–Meier / Nelson–Aalen (lifelines 0.30.3 KaplanMeierFitter / NelsonAalenFitter, entry=):
    km_rossi            rossi, entry = floor(U(0, 0.6) · week): entries tie with event weeks
    km_rossi_weights    the same with integer weights 1, 2, 3 in turn (lifelines truncates the
                        weighted number at risk to an integer in Greenwood's sum, so only
                        integer weights compare)
    na_rossi            NelsonAalenFitter on km_rossi's data (smoothed ties, lifelines' default)

  Cox (lifelines CoxPHFitter(...).fit(..., entry_col=...), Efron's ties):
    cox_rossi           rossi, 7 covariates, km_rossi's entries
    cox_rossi_weights   with case weights 1, 1.5, 2 in turn (model-based standard errors)
    cox_whas500_strata  whas500, 6 covariates, strata = length-of-stay band, entry =
                        floor(U(0, 0.5) · lenfol)
    cox_rossi_ridge     penalizer 0.1
  and the Breslow baseline of cox_rossi: lifelines' CoxTimeVaryingFitter on the same rows
  (start = entry), whose baseline_cumulative_hazard_ uses the (entry, time] risk sets
  (CoxPHFitter's ignores the entries); CTV's coefficients are recorded too (they equal
  CoxPHFitter's).

  Time-varying covariates (lifelines CoxTimeVaryingFitter): stanford_ctv, lifelines' Stanford
  heart transplant data in long form (start, stop, event; age, year, surgery, transplant):
  coefficients, standard errors, log-likelihood, centred baseline cumulative hazard.

  Robust covariance and residuals (statsmodels 0.15 PHReg, entry=, on data without tied
  times, so that Efron's and Breslow's ties agree and statsmodels' entry convention does not
  matter): robust_rossi, rossi with week + U(0, 0.5) and entry = floor(U(0, 0.6) · week) + 0.25:
  coefficients, model-based and robust (groups = each subject) standard errors,
  log-likelihood, score and Schoenfeld residuals (with lifelines' rank-transform PH test
  statistic computed on statsmodels' residuals and covariance), the uncentred baseline cumulative hazard as statsmodels
  reports it (just before each event time, H(t−)), and martingale residuals
  δ − e^η (H(time) − H(entry)) with the right-continuous H from statsmodels' (its own
  martingale_residuals ignore the entry).
  lifelines' robust errors and residuals ignore the entries, so they are not used.

Writes tests/data/survival/left_truncation_expected.json.
Run: .venv/bin/python tools/left_truncation_reference.py
"""
import json
import warnings
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
import statsmodels
import statsmodels.api as sm
from lifelines import CoxPHFitter, CoxTimeVaryingFitter, KaplanMeierFitter, NelsonAalenFitter
from lifelines.datasets import load_stanford_heart_transplants

from cox_strata_reference import strata_of  # the same length-of-stay bands

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"

ROSSI = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
WHAS = ["age", "bmi", "hr", "sysbp", "gender=1", "chf=1"]


def floats(values):
    return [None if not np.isfinite(v) else float(v) for v in np.asarray(values, float)]


def load(name):
    return pd.read_csv(DATA / f"{name}.csv")


def integer_entries(time, share, seed):
    rng = np.random.default_rng(seed)
    return np.floor(rng.uniform(0.0, share, len(time)) * time)


def km_case(df, entry, weights=None):
    kmf = KaplanMeierFitter().fit(df["time"], df["event"], entry=entry, weights=weights)
    ci = kmf.confidence_interval_
    table = kmf.event_table
    return dict(
        entry=floats(entry),
        weights=None if weights is None else floats(weights),
        timeline=floats(kmf.survival_function_.index),
        survival=floats(kmf.survival_function_.iloc[:, 0]),
        lower=floats(ci.iloc[:, 0]),
        upper=floats(ci.iloc[:, 1]),
        # lifelines' event table: at_risk counts the entrants of each time too.
        table_time=floats(table.index),
        table_at_risk=floats(table["at_risk"]),
        table_entrance=floats(table["entrance"]),
        # null: the curve stays above one half (an infinite median).
        median=floats([kmf.median_survival_time_])[0],
    )


def cox_case(df, cols, entry, strata=None, weights=None, penalizer=0.0):
    frame = df[["time", "event"] + cols].copy()
    frame["entry"] = entry
    kwargs = dict(entry_col="entry")
    if weights is not None:
        frame["w"] = weights
        kwargs["weights_col"] = "w"
    if strata is not None:
        frame["stratum"] = strata
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cph = CoxPHFitter(penalizer=penalizer,
                          strata=None if strata is None else ["stratum"])
        cph.fit(frame, "time", "event",
                fit_options={"precision": 1e-12, "r_precision": 1e-14, "max_steps": 500},
                **kwargs)
        lr = cph.log_likelihood_ratio_test()
    return dict(
        covariates=cols,
        entry=floats(entry),
        strata=None if strata is None else [int(s) for s in strata],
        weights=None if weights is None else floats(weights),
        penalizer=penalizer,
        coef=floats(cph.params_[cols]),
        se=floats(cph.standard_errors_[cols]),
        log_likelihood=float(cph.log_likelihood_),
        log_likelihood_null=float(cph.log_likelihood_ - lr.test_statistic / 2.0),
        concordance=float(cph.concordance_index_),
    )


def ctv_fit(long, cols):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctv = CoxTimeVaryingFitter().fit(long, id_col="id", start_col="start",
                                         stop_col="stop", event_col="event",
                                         fit_options={"precision": 1e-12, "max_steps": 500})
    h = ctv.baseline_cumulative_hazard_.iloc[:, 0]
    return dict(
        coef=floats(ctv.params_[cols]),
        se=floats(ctv.standard_errors_[cols]),
        log_likelihood=float(ctv.log_likelihood_),
        baseline_time=floats(h.index),
        baseline_centred=floats(h.values),
    )


def main():
    out = dict(
        generator="tools/left_truncation_reference.py",
        lifelines=lifelines.__version__,
        statsmodels=statsmodels.__version__,
        cases={},
    )
    cases = out["cases"]
    rossi = load("rossi")
    entry = integer_entries(rossi["time"].to_numpy(), 0.6, 7)
    int_weights = np.array([1.0, 2.0, 3.0])[np.arange(len(rossi)) % 3]
    cases["km_rossi"] = dict(dataset="rossi", **km_case(rossi, entry))
    cases["km_rossi_weights"] = dict(dataset="rossi", **km_case(rossi, entry, int_weights))
    naf = NelsonAalenFitter().fit(rossi["time"], rossi["event"], entry=entry)
    ci = naf.confidence_interval_
    cases["na_rossi"] = dict(
        dataset="rossi",
        entry=floats(entry),
        timeline=floats(naf.cumulative_hazard_.index),
        cumulative_hazard=floats(naf.cumulative_hazard_.iloc[:, 0]),
        lower=floats(ci.iloc[:, 0]),
        upper=floats(ci.iloc[:, 1]),
    )

    cases["cox_rossi"] = dict(dataset="rossi", **cox_case(rossi, ROSSI, entry))
    weights = np.array([1.0, 1.5, 2.0])[np.arange(len(rossi)) % 3]
    cases["cox_rossi_weights"] = dict(dataset="rossi",
                                      **cox_case(rossi, ROSSI, entry, weights=weights))
    cases["cox_rossi_ridge"] = dict(dataset="rossi",
                                    **cox_case(rossi, ROSSI, entry, penalizer=0.1))
    whas = load("whas500")
    whas_entry = integer_entries(whas["time"].to_numpy(), 0.5, 11)
    cases["cox_whas500_strata"] = dict(
        dataset="whas500",
        **cox_case(whas, WHAS, whas_entry, strata=strata_of("whas500_decade", whas)),
    )
    # The same rows through CoxTimeVaryingFitter: its baseline uses the (entry, time] sets.
    long = rossi[ROSSI].copy()
    long["id"] = np.arange(len(rossi))
    long["start"], long["stop"], long["event"] = entry, rossi["time"], rossi["event"]
    cases["ctv_rossi"] = dict(dataset="rossi", covariates=ROSSI, entry=floats(entry),
                              **ctv_fit(long, ROSSI))

    # Time-varying covariates in long form.
    heart = load_stanford_heart_transplants()
    cols = ["age", "year", "surgery", "transplant"]
    st = dict(
        covariates=cols,
        id=[int(v) for v in heart["id"]],
        start=floats(heart["start"]),
        stop=floats(heart["stop"]),
        event=[int(v) for v in heart["event"]],
        x=[floats(row) for row in heart[cols].to_numpy(float)],
    )
    st.update(ctv_fit(heart[["id", "start", "stop", "event"] + cols], cols))
    cases["stanford_ctv"] = st

    # statsmodels on untied data: robust errors and residuals with entry.
    rng = np.random.default_rng(3)
    time = rossi["time"].to_numpy(float) + rng.uniform(0.0, 0.5, len(rossi))
    sm_entry = np.floor(rng.uniform(0.0, 0.6, len(rossi)) * rossi["time"].to_numpy()) + 0.25
    x = rossi[ROSSI].to_numpy(float)
    model = sm.PHReg(time, x, status=rossi["event"].to_numpy(), entry=sm_entry, ties="breslow")
    fit = model.fit()
    robust = model.fit(groups=np.arange(len(rossi)))
    # statsmodels reports the hazard accumulated *before* each event time (its cumsum(h0) −
    # h0): H(t_k−). The right-continuous H(t_k) is its value at the next event time, and at
    # the last one that plus the last jump, d / Σ_{entry < t ≤ time} e^η.
    bch = fit.baseline_cumulative_hazard[0]
    status = rossi["event"].to_numpy(float)
    phi = np.exp(x @ fit.params)
    last = bch[0][-1]
    risk = (sm_entry < last) & (time >= last)
    jump = ((time == last) & (status == 1)).sum() / phi[risk].sum()
    right = np.append(bch[1][1:], bch[1][-1] + jump)

    def cumulative(t):
        k = np.searchsorted(bch[0], t, side="right")
        return np.where(k > 0, right[np.maximum(k - 1, 0)], 0.0)

    martingale = status - phi * (cumulative(time) - cumulative(sm_entry))
    # Schoenfeld residuals (statsmodels': 0 on censored rows) of the events in time order, and
    # lifelines' form of the proportional-hazards test on them (rank transform): scaled
    # residuals D · r · V with V the model-based covariance, statistic per covariate
    # (Σ (g − ḡ) r*_j)² / (D · V_jj · Σ (g − ḡ)²).
    events = np.flatnonzero(status == 1)
    events = events[np.argsort(time[events], kind="stable")]
    sch = fit.schoenfeld_residuals[events]
    v = fit.cov_params()
    d = len(events)
    g = np.arange(1, d + 1, dtype=float) - (d + 1) / 2.0
    scaled = d * sch @ v
    ph = (g @ scaled) ** 2 / (d * np.diag(v) * (g @ g))
    cases["robust_rossi"] = dict(
        dataset="rossi",
        covariates=ROSSI,
        time=floats(time),
        entry=floats(sm_entry),
        coef=floats(fit.params),
        se=floats(fit.bse),
        robust_se=floats(robust.bse),
        log_likelihood=float(fit.llf),
        # statsmodels' own martingale_residuals take H at the time only, ignoring the entry;
        # R's definition for (entry, time] data, with statsmodels' baseline function:
        martingale=floats(martingale),
        score=[floats(r) for r in fit.score_residuals],
        schoenfeld_subjects=[int(i) for i in events],
        schoenfeld=[floats(r) for r in sch],
        ph_rank_statistic=floats(ph),
        baseline_time=floats(bch[0]),
        baseline_uncentred_before=floats(bch[1]),
    )
    path = DATA / "left_truncation_expected.json"
    path.write_text(json.dumps(out, indent=1, allow_nan=False) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
