"""Reference values of the Cox model's global tests: likelihood ratio, Wald and score (log-rank).

R's `summary(coxph(...))` reports all three (`logtest`, `waldtest`, `sctest`; taken here
unrounded from the fit's `loglik`, `wald.test` and `score`); lifelines reports
the likelihood-ratio test (`CoxPHFitter.log_likelihood_ratio_test()`, Efron ties only). Run on the
datasets `tools/survival_reference.py` wrote to tests/data/survival/, with Breslow and Efron ties,
and written to tests/data/survival/global_tests.json for `tests/it/reference.rs`.

    apt-get install r-base-core r-cran-survival      # R 4.2, survival 3.5 (Debian bookworm)
    pip install lifelines==0.30.3
    python tools/cox_global_tests.py
"""

import json
import subprocess
from pathlib import Path

import lifelines
import pandas as pd
from lifelines import CoxPHFitter

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "survival"
DATASETS = ["whas500", "gbsg2", "veterans", "rossi"]


def r_tests(csv, ties):
    script = f"""
suppressMessages(library(survival))
d <- read.csv("{csv}", check.names=FALSE)
x <- as.matrix(d[, -(1:2)])
f <- coxph(Surv(d$time, d$event) ~ x, ties="{ties}",
           control=coxph.control(eps=1e-12, iter.max=100, toler.inf=1e-12))
df <- length(coef(f))
# summary(f) rounds the Wald statistic to 2 decimals: the fit's own fields are used instead.
lr <- 2 * diff(f$loglik)
for (t in c(lr, f$wald.test, f$score))
  cat(sprintf("%.17g", c(t, df, pchisq(t, df, lower.tail=FALSE))), "\\n")
cat(as.character(packageVersion("survival")), "\\n")
"""
    out = subprocess.run(["Rscript", "-e", script], capture_output=True, text=True, check=True)
    lines = [l.split() for l in out.stdout.strip().splitlines()]
    names = ["likelihood_ratio", "wald", "score"]
    tests = {n: {"statistic": float(v[0]), "df": int(float(v[1])), "p_value": float(v[2])}
             for n, v in zip(names, lines[:3])}
    return tests, lines[3][0]


def main():
    out = {"generator": "tools/cox_global_tests.py", "lifelines": lifelines.__version__,
           "datasets": {}}
    for name in DATASETS:
        csv = DATA / f"{name}.csv"
        entry = {}
        for ties in ["breslow", "efron"]:
            tests, version = r_tests(csv, ties)
            entry[f"r_{ties}"] = tests
            out["r_survival"] = version
        df = pd.read_csv(csv)
        cph = CoxPHFitter().fit(df, duration_col="time", event_col="event")
        lr = cph.log_likelihood_ratio_test()
        entry["lifelines_efron_likelihood_ratio"] = {
            "statistic": float(lr.test_statistic), "df": int(lr.degrees_freedom),
            "p_value": float(lr.p_value)}
        out["datasets"][name] = entry
    (DATA / "global_tests.json").write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out["datasets"]["rossi"], indent=1))


if __name__ == "__main__":
    main()
