#!/usr/bin/env python3
"""Reference values for adamss-survival from lifelines, scikit-survival and R's survival.

Writes tests/data/survival/<dataset>.csv (time, event, numeric covariates; categoricals
one-hot encoded, first level dropped) and tests/data/survival/expected.json. Used by
crates/adamss-survival/tests/it/*.rs. Re-run:

    .venv/bin/pip install -r tools/requirements.txt
    apt-get install r-base-core r-cran-survival     # optional: R's coxph / survdiff values
    .venv/bin/python tools/survival_reference.py

Datasets are the ones bundled with the libraries: WHAS500, GBSG2, veterans (scikit-survival),
rossi (lifelines).
"""
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.statistics import logrank_test, multivariate_logrank_test
from lifelines.utils import concordance_index
from sksurv.column import encode_categorical
from sksurv.datasets import load_gbsg2, load_veterans_lung_cancer, load_whas500
from sksurv.linear_model import CoxnetSurvivalAnalysis, CoxPHSurvivalAnalysis
from sksurv.metrics import (brier_score, concordance_index_censored, concordance_index_ipcw,
                            cumulative_dynamic_auc, integrated_brier_score)
from sksurv.nonparametric import kaplan_meier_estimator, nelson_aalen_estimator
import lifelines
import sksurv

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"


def sksurv_frame(X, y):
    X = encode_categorical(X).astype(float)
    names = y.dtype.names
    df = pd.DataFrame({"time": y[names[1]].astype(float), "event": y[names[0]].astype(int)})
    return pd.concat([df, X.reset_index(drop=True)], axis=1)


def datasets():
    out = {}
    out["whas500"] = (sksurv_frame(*load_whas500()), "age", "gender=1")
    out["gbsg2"] = (sksurv_frame(*load_gbsg2()), "pnodes", "horTh=yes")
    X, y = load_veterans_lung_cancer()
    df = sksurv_frame(X, y)
    cell = X["Celltype"].astype(str).reset_index(drop=True)
    out["veterans"] = (df, "Karnofsky_score", "Treatment=test", cell)
    rossi = lifelines.datasets.load_rossi().astype(float)
    rossi = rossi.rename(columns={"week": "time", "arrest": "event"})
    rossi["event"] = rossi["event"].astype(int)
    out["rossi"] = (rossi, "prio", "fin")
    return out


def r_coxph(csv, ties):
    if shutil.which("Rscript") is None:
        return None
    script = f"""
suppressMessages(library(survival))
d <- read.csv("{csv}", check.names=FALSE)
x <- as.matrix(d[, -(1:2)])
f <- coxph(Surv(d$time, d$event) ~ x, ties="{ties}", control=coxph.control(eps=1e-12, iter.max=100, toler.inf=1e-12))
cat(sprintf("%.17g", f$loglik), sep="\\n"); cat("--\\n")
cat(sprintf("%.17g", coef(f)), sep="\\n"); cat("--\\n")
cat(sprintf("%.17g", sqrt(diag(vcov(f)))), sep="\\n")
"""
    res = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    parts = [p.split() for p in res.stdout.split("--")]
    return {"loglik": [float(v) for v in parts[0]], "coef": [float(v) for v in parts[1]],
            "se": [float(v) for v in parts[2]]}


def r_survdiff(csv, group_col):
    if shutil.which("Rscript") is None:
        return None
    script = f"""
suppressMessages(library(survival))
d <- read.csv("{csv}", check.names=FALSE)
s <- survdiff(Surv(d$time, d$event) ~ d[["{group_col}"]])
cat(sprintf("%.17g", s$chisq), "\\n")
"""
    res = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    return float(res.stdout.split()[0])


def r_glmnet(csv, l1_ratio, lambdas):
    if shutil.which("Rscript") is None:
        return None
    lam = ",".join(f"{v:.17g}" for v in lambdas)
    script = f"""
suppressMessages(library(glmnet)); suppressMessages(library(survival))
d <- read.csv("{csv}", check.names=FALSE)
x <- as.matrix(d[, -(1:2)])
f <- glmnet(x, Surv(d$time, d$event), family="cox", alpha={l1_ratio}, lambda=c({lam}),
            standardize=TRUE, thresh=1e-20, maxit=1e7)
b <- as.matrix(coef(f))
cat(sprintf("%.17g", as.vector(b)), sep="\\n")
"""
    res = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    vals = [float(v) for v in res.stdout.split()]
    p = len(vals) // len(lambdas)
    return [vals[k * p:(k + 1) * p] for k in range(len(lambdas))]


def coxnet(df, covs, y, csv):
    """Elastic-net Cox paths: scikit-survival (raw X) and R glmnet (standardize=TRUE)."""
    X = df[covs].to_numpy()
    out = []
    p = len(covs)
    for l1_ratio, pf in ((1.0, None), (0.5, None), (0.9, [0.0] + [1.0] * (p - 1))):
        m = CoxnetSurvivalAnalysis(l1_ratio=l1_ratio, n_alphas=20, alpha_min_ratio=0.01, penalty_factor=pf,
                                   normalize=False, tol=1e-13, max_iter=10**7).fit(X, y)
        case = {"l1_ratio": l1_ratio, "penalty_factor": pf, "alphas": m.alphas_.tolist(),
                "coef": m.coef_.T.tolist()}
        if pf is None:
            # Standardised fits (population sd, glmnet's standardize=TRUE): scikit-survival on
            # pre-standardised columns, coefficients mapped back to the raw scale; R glmnet on
            # the same penalties (its Cox solver converges less tightly: ~1e-4 relative).
            sd = X.std(axis=0)
            ms = CoxnetSurvivalAnalysis(l1_ratio=l1_ratio, n_alphas=20, alpha_min_ratio=0.01, normalize=False,
                                        tol=1e-13, max_iter=10**7).fit((X - X.mean(axis=0)) / sd, y)
            case["sksurv_standardized"] = {"alphas": ms.alphas_.tolist(), "coef": (ms.coef_.T / sd).tolist()}
            case["r_glmnet_standardized"] = r_glmnet(csv, l1_ratio, ms.alphas_.tolist())
        out.append(case)
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    expected = {"generator": "tools/survival_reference.py", "lifelines": lifelines.__version__,
                "sksurv": sksurv.__version__, "datasets": {}}
    for name, spec in datasets().items():
        df, int_col, bin_col = spec[:3]
        csv = OUT / f"{name}.csv"
        df.to_csv(csv, index=False, float_format="%.17g")
        time, event = df["time"].to_numpy(), df["event"].to_numpy().astype(bool)
        covs = [c for c in df.columns if c not in ("time", "event")]
        rec = {"covariates": covs, "n": len(df), "events": int(event.sum())}

        cph = CoxPHFitter()
        cph.fit(df, "time", "event", fit_options={"precision": 1e-12, "max_steps": 200})
        lp = cph.predict_log_partial_hazard(df[covs]).to_numpy()
        rec["lifelines_efron"] = {
            "coef": cph.params_.tolist(), "se": cph.standard_errors_.tolist(),
            "loglik": float(cph.log_likelihood_), "concordance": float(cph.concordance_index_)}
        y = np.array(list(zip(event, time)), dtype=[("e", bool), ("t", float)])
        for ties in ("breslow", "efron"):
            m = CoxPHSurvivalAnalysis(ties=ties, alpha=0.0, n_iter=500, tol=1e-12).fit(df[covs], y)
            rec[f"sksurv_{ties}"] = {"coef": m.coef_.tolist()}
            r = r_coxph(csv, ties)
            if r is not None:
                rec[f"r_{ties}"] = r

        # Harrell's C: a continuous risk (the Cox linear predictor) and a heavily tied one.
        rec["cindex"] = []
        for label, risk in (("linear_predictor", lp), (int_col, df[int_col].to_numpy())):
            c, conc, disc, tr, tt = concordance_index_censored(event, time, risk)
            rec["cindex"].append({
                "risk": label, "risk_values": risk.tolist(), "c": float(c), "concordant": int(conc),
                "discordant": int(disc), "tied_risk": int(tr), "tied_time": int(tt),
                "lifelines_c": float(concordance_index(time, -risk, event))})

        kmf = KaplanMeierFitter().fit(time, event, alpha=0.05)
        ci = kmf.confidence_interval_
        rec["kaplan_meier"] = {
            "timeline": kmf.survival_function_.index.to_list(),
            "survival": kmf.survival_function_.iloc[:, 0].to_list(),
            "lower": ci.iloc[:, 0].to_list(), "upper": ci.iloc[:, 1].to_list(),
            # JSON has no infinity: a curve that stays above 0.5 has median null.
            "median": None if np.isinf(kmf.median_survival_time_) else float(kmf.median_survival_time_)}
        t_sk, s_sk, (lo_sk, hi_sk) = kaplan_meier_estimator(event, time, conf_type="log-log")
        rec["kaplan_meier"]["sksurv"] = {"time": t_sk.tolist(), "survival": s_sk.tolist(),
                                          "lower": lo_sk.tolist(), "upper": hi_sk.tolist()}

        g = df[bin_col].to_numpy() > 0.5
        lr = logrank_test(time[g], time[~g], event[g], event[~g])
        rec["logrank"] = [{"group_column": bin_col, "groups": g.astype(int).tolist(),
                           "statistic": float(lr.test_statistic), "p": float(lr.p_value),
                           "r_chisq": r_survdiff(csv, bin_col)}]
        if len(spec) > 3:
            cell = spec[3]
            codes = pd.Categorical(cell).codes
            mlr = multivariate_logrank_test(time, codes, event)
            rec["logrank"].append({"group_column": "Celltype", "groups": codes.tolist(),
                                   "statistic": float(mlr.test_statistic), "p": float(mlr.p_value),
                                   "r_chisq": None})
        # Baseline hazards and survival prediction (sksurv: uncentred Breslow estimator on the
        # Breslow fit; lifelines: centred, on its Efron fit).
        sk = CoxPHSurvivalAnalysis(ties="breslow", alpha=0.0, n_iter=500, tol=1e-12).fit(df[covs], y)
        sk_lp = df[covs].to_numpy() @ sk.coef_
        rec["breslow_baseline"] = {"coef": sk.coef_.tolist(), "times": sk.cum_baseline_hazard_.x.tolist(),
                                   "cum_hazard": sk.cum_baseline_hazard_.y.tolist()}
        bh = cph.baseline_cumulative_hazard_
        rec["lifelines_centred_baseline"] = {"times": bh.index.to_list(), "cum_hazard": bh.iloc[:, 0].to_list()}
        na_t, na_h = nelson_aalen_estimator(event, time)
        rec["nelson_aalen"] = {"times": na_t.tolist(), "cum_hazard": na_h.tolist()}

        # IPCW metrics on the Breslow fit's linear predictor, train = test = the whole set.
        ev_times = time[event]
        times = np.unique(np.percentile(ev_times, [10, 25, 40, 50, 60, 75]))
        times = times[(times >= time.min()) & (times < time.max())]
        tau = float(np.percentile(time, 80))
        surv_fns = sk.predict_survival_function(df[covs])
        surv = np.vstack([fn(times) for fn in surv_fns])
        chf = np.vstack([fn(times) for fn in sk.predict_cumulative_hazard_function(df[covs])])

        def safe(f):
            # scikit-survival refuses IPCW where the censoring survival is 0 (null here; the
            # Rust side must refuse too).
            try:
                return f()
            except ValueError:
                return None

        auc = safe(lambda: cumulative_dynamic_auc(y, y, sk_lp, times))
        auc_t = safe(lambda: cumulative_dynamic_auc(y, y, chf, times))
        uno = safe(lambda: float(concordance_index_ipcw(y, y, sk_lp)[0]))
        rec["ipcw"] = {
            "times": times.tolist(), "tau": tau,
            "uno": uno,
            "uno_tau": float(concordance_index_ipcw(y, y, sk_lp, tau=tau)[0]),
            "auc": auc and auc[0].tolist(), "mean_auc": auc and float(auc[1]),
            "auc_time_dependent": auc_t and auc_t[0].tolist(),
            "mean_auc_time_dependent": auc_t and float(auc_t[1]),
            "survival": surv.tolist(),
            "brier": brier_score(y, y, surv, times)[1].tolist(),
            "ibs": float(integrated_brier_score(y, y, surv, times)),
        }
        med = float(np.median(sk_lp))
        hi = sk_lp > med
        lr = logrank_test(time[hi], time[~hi], event[hi], event[~hi])
        rec["stratify_median"] = {"threshold": med, "statistic": float(lr.test_statistic), "p": float(lr.p_value)}
        if name in ("whas500", "veterans"):
            rec["coxnet"] = coxnet(df, covs, y, csv)
        expected["datasets"][name] = rec
        print(name, len(df), "rows")
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1, allow_nan=False) + "\n")


if __name__ == "__main__":
    main()
