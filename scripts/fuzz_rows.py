#!/usr/bin/env python3
"""Rows of docs/fuzzing.md's "Runs" table from scripts/fuzz.sh's logs (fuzz/logs/*.log).

    scripts/fuzz_rows.py [LOG ...]      # default: every log in fuzz/logs

Per log: target, start (UTC, from the file name), seconds, executions, executions per second,
result (a crash, leak or out-of-memory report, else none), the last coverage line, peak RSS.
"""
import glob
import os
import re
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
logs = sys.argv[1:] or sorted(glob.glob(os.path.join(root, "fuzz/logs/*.log")))
for path in logs:
    text = open(path, errors="replace").read()
    name, stamp = os.path.basename(path)[:-4].rsplit("-", 1)
    when = f"{stamp[:4]}-{stamp[4:6]}-{stamp[6:8]} {stamp[9:11]}:{stamp[11:13]}"
    stat = lambda key: (re.search(rf"stat::{key}:\s+(\d+)", text) or [None, "?"])[1]
    done = re.search(r"Done \d+ runs in (\d+) second", text)
    progress = [l for l in text.splitlines() if re.match(r"#\d+\s+(DONE|pulse|NEW|REDUCE)", l)]
    cov = re.search(r"cov: (\d+) ft: (\d+) corp: (\d+)", progress[-1]) if progress else None
    crashed = any(k in text for k in ("panicked", "deadly signal", "ERROR: AddressSanitizer",
                                       "ERROR: LeakSanitizer", "out-of-memory", "malloc limit"))
    executions = stat("number_of_executed_units")
    print("| `{}` | {} | {} | {} | {} | {} | {} | {} MB |".format(
        name, when, done[1] if done else "until the crash" if crashed else "?",
        f"{int(executions):,}".replace(",", " ") if executions != "?" else "?",
        stat("average_exec_per_sec"),
        "**crash**" if crashed else "no crash, no leak, no OOM",
        f"{cov[1]} edges, {cov[2]} features, corpus {cov[3]}" if cov else "?",
        stat("peak_rss_mb")))
