#!/usr/bin/env python3
"""Reference values for adamss-survival's Cox residuals and robust covariance
(`CoxPh::martingale_residuals`, `deviance_residuals`, `score_residuals`, `dfbeta`,
`CoxPhParams::robust`, `fit_clustered`, `fit_stratified_clustered`).

No one Python tool gets tied times right for both tie rules, so three sources:

1. `rossi_untied`: tests/data/survival/rossi.csv with row i's time + i * 1e-4 (no ties, so
   every tie rule agrees): lifelines (martingale and deviance residuals, robust=True and
   cluster_col standard errors) and statsmodels' PHReg (score residuals, dfbeta = score times
   the inverse information, robust covariance by groups), their standard errors checked here
   against each other. lifelines' own score / delta_beta residuals are wrong in 0.30.3 (see
   lifelines_case) and its martingale residuals use Breslow's hazard whatever the ties.
2. `rossi_breslow`: rossi as is (tied weeks), Breslow's ties: statsmodels' PHReg(ties="breslow")
   score residuals and robust covariance (each subject its own group, and clusters), also
   stratified by `race` with clusters.
3. `book1_breslow`, `book2_efron`: tied times under both rules, the closed forms of Therneau &
   Grambsch's appendix E (data set 1, R survival's tests/book1.R and book2.R: time 9,1,1,6,6,8,
   status 1,1,0,1,1,0, x 0,1,1,1,0,0) at the fitted beta, evaluated here: martingale and score
   residuals and the information; the robust variance is sum((score / imat)^2). R's printed
   residuals (tests/book*.Rout.save) agree to the 7 digits printed (asserted).
4. `weighted`: non-integer case weights, lifelines (`weights_col`; Efron's ties with the tied
   events' mean weight, as R): rossi with tied weeks (plain and stratified by race: model-based
   errors, log-likelihood, concordance, the baseline cumulative hazard per stratum) and untied
   rossi (robust=True, cluster_col; lifelines' sandwich ignores ties).

Clusters: row i belongs to cluster i % 40. Writes tests/data/survival/residuals_expected.json.
Run: .venv/bin/python tools/cox_residuals_reference.py
"""
import json
from pathlib import Path

import lifelines
import numpy as np
import pandas as pd
import statsmodels
from lifelines import CoxPHFitter
from statsmodels.duration.hazard_regression import PHReg

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"
CLUSTERS = 40


def lifelines_case(df, cols):
    n = len(df)
    opts = {"precision": 1e-12, "max_steps": 200}
    cph = CoxPHFitter().fit(df, "time", "event", fit_options=opts)
    out = {"coef": cph.params_[cols].tolist(), "se": cph.standard_errors_[cols].tolist()}
    for kind in ["martingale", "deviance"]:
        r = cph.compute_residuals(df, kind).sort_index()
        out[kind] = r[kind].tolist()
    # Not "score" or "delta_beta": lifelines 0.30.3's compute_residuals scales the coefficients
    # for normalised covariates but passes the raw ones, so both are wrong (its robust standard
    # errors, computed inside fit on normalised covariates, are right).
    robust = CoxPHFitter().fit(df, "time", "event", robust=True, fit_options=opts)
    out["robust_se"] = robust.standard_errors_[cols].tolist()
    dfc = df.assign(cluster=np.arange(n) % CLUSTERS)
    clustered = CoxPHFitter().fit(dfc, "time", "event", cluster_col="cluster", fit_options=opts)
    out["cluster_se"] = clustered.standard_errors_[cols].tolist()
    return out


def statsmodels_fit(df, cols, ties, groups=None, strata=None):
    model = PHReg(df["time"].values, df[cols].values, status=df["event"].values, ties=ties,
                  strata=strata)
    return model, model.fit(groups=groups, tol=1e-12)


def statsmodels_case(df, cols, ties):
    n = len(df)
    out = {}
    model, fit = statsmodels_fit(df, cols, ties, groups=np.arange(n))
    out["coef"] = fit.params.tolist()
    naive = np.linalg.inv(-model.hessian(fit.params))
    out["se"] = np.sqrt(np.diag(naive)).tolist()
    score = model.score_residuals(fit.params)
    out["score"] = score.tolist()
    out["dfbeta"] = (score @ naive).tolist()
    out["robust_covariance"] = fit.cov_params().tolist()
    model_c, fit_c = statsmodels_fit(df, cols, ties, groups=np.arange(n) % CLUSTERS)
    out["cluster_covariance"] = fit_c.cov_params().tolist()
    return out


def book1():
    """Therneau & Grambsch, appendix E, data set 1 with Breslow's ties (R survival tests/book1.R)."""
    r = (3 + np.sqrt(33)) / 2  # the root of the score (6 + 3r - r^2) / ((r + 1)(r + 3))
    beta = np.log(r)
    imat = r / (r + 1) ** 2 + 6 * r / (r + 3) ** 2
    haz = np.array([1 / (3 * r + 3), 2 / (r + 3), 0, 1])
    ties = [0, 0, 1, 1, 2, 3]
    wt = np.array([r, r, r, 1, 1, 1])
    mart = np.array([1, 0, 1, 1, 0, 1]) - wt * np.cumsum(haz)[ties]
    a, b = 3 * (r + 1) ** 2, (r + 3) ** 2
    score = np.array([(2 * r + 3) / a, -r / a, -r / a + 3 * (3 - r) / b, r / a - r * (r + 1) / b,
                      r / a + 2 * r / b, r / a + 2 * r / b])
    r_mart = [-0.3333333, 0.7287136, -0.2712864, -0.4574271, 0.6666667, -0.3333333]
    r_score = [0.21138938, 0.13564322, -0.05049744, -0.12624360, -0.38168095, 0.21138938]
    return finish(beta, imat, mart, score, r_mart, r_score)


def finish(beta, imat, mart, score, r_mart, r_score):
    """Book order (times 1,1,6,6,8,9) to the data's (9,1,1,6,6,8), checked against R's printout
    (tests/book*.Rout.save, 7 digits)."""
    perm = [5, 0, 1, 2, 3, 4]
    mart, score = mart[perm], score[perm]
    assert np.allclose(mart, r_mart, atol=1e-7), (mart, r_mart)
    assert np.allclose(score, r_score, atol=1e-7), (score, r_score)
    return {
        "time": [9, 1, 1, 6, 6, 8], "event": [1, 1, 0, 1, 1, 0], "x": [0, 1, 1, 1, 0, 0],
        "coef": [float(beta)], "variance": [1 / imat],
        "martingale": mart.tolist(), "score": score.tolist(),
        "robust_variance": [float(((score / imat) ** 2).sum())],
    }


def book2():
    """Therneau & Grambsch, appendix E, data set 1 with Efron's ties (R survival tests/book2.R)."""
    beta = np.log(np.cos(np.arccos((45 / 23) * np.sqrt(3 / 23)) / 3) * 2 * np.sqrt(23 / 3))
    r = np.exp(beta)
    imat = sum(v - v * v for v in [r / (r + 1), r / (r + 5), r / (r + 3)])
    # Book order of subjects: times 1,1,6,6,8,9 with x 1,1,1,0,0,0 and status 1,0,1,1,0,1;
    # columns: times 1, 6, 6 (second Efron step), 9.
    wt = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [1, 1, .5, 0],
                   [1, 1, .5, 0], [1, 1, 1, 0], [1, 1, 1, 1]], dtype=float)
    wt = np.diag([r, r, r, 1, 1, 1]) @ wt
    status = np.array([1, 0, 1, 1, 0, 1])
    haz = 1 / wt.sum(0)
    mart = status - (wt @ np.diag(haz)).sum(1)
    a, b, d = r + 1, r + 3, r + 5
    score = np.array([
        (2 * r + 3) / (3 * a ** 2),
        -r / (3 * a ** 2),
        (675 + r * (1305 + r * (756 + r * (-4 + r * (-79 - 13 * r))))) / (3 * (a * b * d) ** 2),
        r * (1 / (3 * a ** 2) - a / (2 * b ** 2) - b / (2 * d ** 2)),
        2 * r * (177 + r * (282 + r * (182 + r * (50 + 5 * r)))) / (3 * (a * b * d) ** 2),
        2 * r * (177 + r * (282 + r * (182 + r * (50 + 5 * r)))) / (3 * (a * b * d) ** 2),
    ])
    r_mart = [-0.3655434, 0.7191707, -0.2808293, -0.4383414, 0.7310869, -0.3655434]
    r_score = [0.2208584, 0.1132780, -0.0442340, -0.1029199, -0.4078409, 0.2208584]
    return finish(beta, imat, mart, score, r_mart, r_score)


def weights_of(n):
    """Non-integer case weights: row i's is 0.5 + (i % 7) / 4."""
    return 0.5 + (np.arange(n) % 7) / 4


def weighted_case(df, cols, strata=None, robust=False, cluster=False, residuals=False):
    opts = {"precision": 1e-12, "max_steps": 200}
    d = df.assign(w=weights_of(len(df)))
    kw = {"weights_col": "w", "robust": robust, "fit_options": opts}
    if cluster:
        d = d.assign(cluster=np.arange(len(d)) % CLUSTERS)
        kw["cluster_col"] = "cluster"
    if strata:
        kw["strata"] = [strata]
    cph = CoxPHFitter().fit(d, "time", "event", **kw)
    base = cph.baseline_cumulative_hazard_
    return {"covariates": cols, "coef": cph.params_[cols].tolist(),
            "se": cph.standard_errors_[cols].tolist(),
            "log_likelihood": float(cph.log_likelihood_),
            "concordance": float(cph.concordance_index_),
            # Centred by the plain means of the covariates (lifelines' _norm_mean); one column
            # per stratum (label as a string) over every distinct time.
            "baseline_times": base.index.tolist(),
            "baseline_cumulative_hazard": {str(k): base[k].tolist() for k in base.columns},
            # Per-subject residuals on the weighted hazard (right for untied times only: the
            # baseline is Breslow's whatever the ties).
            **({kind: cph.compute_residuals(d, kind).sort_index()[kind].tolist()
                for kind in ["martingale", "deviance"]} if residuals else {})}


def main():
    rossi = pd.read_csv(DATA / "rossi.csv")
    cols = [c for c in rossi.columns if c not in ("time", "event")]
    untied = rossi.assign(time=rossi["time"] + np.arange(len(rossi)) * 1e-4)
    assert untied["time"].is_unique
    ll = lifelines_case(untied, cols)
    sm = statsmodels_case(untied, cols, "efron")
    # The two tools agree without ties (statsmodels' score residuals are in the data's scale).
    assert np.allclose(ll["coef"], sm["coef"], rtol=1e-8)
    assert np.allclose(ll["robust_se"], np.sqrt(np.diag(sm["robust_covariance"])), rtol=1e-7)
    assert np.allclose(ll["cluster_se"], np.sqrt(np.diag(sm["cluster_covariance"])), rtol=1e-7)

    breslow = statsmodels_case(rossi, cols, "breslow")
    scols = [c for c in cols if c != "race"]
    model, fit = statsmodels_fit(rossi, scols, "breslow", groups=np.arange(len(rossi)) % CLUSTERS,
                                 strata=rossi["race"].values)
    stratified = {"covariates": scols, "strata": "race", "coef": fit.params.tolist(),
                  "cluster_covariance": fit.cov_params().tolist(),
                  "score": model.score_residuals(fit.params).tolist()}

    out = {
        "generator": "tools/cox_residuals_reference.py",
        "lifelines": lifelines.__version__,
        "statsmodels": statsmodels.__version__,
        "clusters": f"row i in cluster i % {CLUSTERS}",
        "rossi_untied": {"covariates": cols, "time_offset_per_row": 1e-4,
                         "lifelines": ll, "statsmodels": sm},
        "rossi_breslow": {"covariates": cols, "statsmodels": breslow,
                          "stratified_by_race": stratified},
        "weights": "row i's case weight is 0.5 + (i % 7) / 4",
        "weighted": {
            "rossi_efron": weighted_case(rossi, cols),
            "rossi_efron_by_race": weighted_case(rossi, scols, strata="race"),
            "rossi_untied_robust": weighted_case(untied, cols, robust=True, residuals=True),
            "rossi_untied_clustered": weighted_case(untied, cols, cluster=True),
        },
        "book1_breslow": book1(),
        "book2_efron": book2(),
    }
    (DATA / "residuals_expected.json").write_text(json.dumps(out) + "\n")
    print("untied robust se", np.round(ll["robust_se"], 5))
    print("breslow coef", np.round(breslow["coef"], 5))
    print("book", out["book1_breslow"]["robust_variance"], out["book2_efron"]["robust_variance"])


if __name__ == "__main__":
    main()
