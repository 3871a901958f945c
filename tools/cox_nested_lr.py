"""Reference values of the nested likelihood-ratio test of two Cox models,
`2 (ℓ(full) − ℓ(reduced))` on the difference in coefficients: R survival's
`anova(reduced, full)` (Efron ties, unrounded) and lifelines' `CoxPHFitter` log-likelihoods with
scipy's χ² upper tail. The reduced model drops
the last two covariates of each dataset `tools/survival_reference.py` wrote. Written to
tests/data/survival/nested_lr.json for `tests/it/reference.rs` (`CoxPh::likelihood_ratio_vs`).

    .venv/bin/python tools/cox_nested_lr.py
"""

import json
import subprocess
from pathlib import Path

import lifelines
import pandas as pd
from lifelines import CoxPHFitter
from scipy.stats import chi2

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"
DATASETS = ["whas500", "gbsg2", "veterans", "rossi"]


def r_anova(csv):
    script = f"""
suppressMessages(library(survival))
d <- read.csv("{csv}", check.names=FALSE)
x <- as.matrix(d[, -(1:2)])
k <- ncol(x)
ctl <- coxph.control(eps=1e-12, iter.max=100, toler.inf=1e-12)
full <- coxph(Surv(d$time, d$event) ~ x, ties="efron", control=ctl)
red <- coxph(Surv(d$time, d$event) ~ x[, 1:(k - 2)], ties="efron", control=ctl)
a <- anova(red, full)
cat(sprintf("%.17g", c(a$Chisq[2], a$Df[2], a[["Pr(>|Chi|)"]][2])), "\\n")
"""
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    stat, df, p = out.stdout.split()
    return {"statistic": float(stat), "df": int(float(df)), "p_value": float(p)}


def main():
    out = {"generator": "tools/cox_nested_lr.py", "lifelines": lifelines.__version__,
           "dropped": 2, "datasets": {}}
    for name in DATASETS:
        df = pd.read_csv(DATA / f"{name}.csv")
        covariates = list(df.columns[2:])
        full = CoxPHFitter().fit(df, duration_col="time", event_col="event")
        reduced = CoxPHFitter().fit(df[["time", "event"] + covariates[:-2]],
                                    duration_col="time", event_col="event")
        stat = 2.0 * (full.log_likelihood_ - reduced.log_likelihood_)
        out["datasets"][name] = {
            "lifelines": {"statistic": stat, "df": 2, "p_value": float(chi2.sf(stat, 2))},
            "r_anova": r_anova(DATA / f"{name}.csv"),
        }
    (DATA / "nested_lr.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["datasets"], indent=1))


if __name__ == "__main__":
    main()
