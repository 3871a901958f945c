#!/usr/bin/env bash
# Idempotent setup for a fresh machine: system libraries, the project-local
# Python virtualenv with the torch==2.11.0 wheel (libtorch for tch 0.24), and the
# `.venv/libtorch` link that `.cargo/config.toml` points LIBTORCH at.
# Re-running it when everything is in place takes about a second.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
TORCH_VERSION=2.11.0

say() { printf '[setup] %s\n' "$*" >&2; }

# 1. System packages: OpenBLAS (ndarray-linalg, feature openblas-system).
need_apt=()
for pkg in libopenblas-dev pkg-config; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if ((${#need_apt[@]})); then
    say "installing ${need_apt[*]} (apt)"
    sudo_cmd=""
    [ "$(id -u)" = 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# 2. Project-local virtualenv with the exact torch wheel tch 0.24 expects.
py=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    say "creating .venv"
    "$py" -m venv .venv
fi
have=$(.venv/bin/python -c 'import numpy, torch; print(torch.__version__.split("+")[0])' 2>/dev/null || true)
if [ "$have" != "$TORCH_VERSION" ]; then
    say "installing torch==$TORCH_VERSION into .venv (first time: 1-2 minutes)"
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-cache-dir \
        "torch==$TORCH_VERSION" numpy
fi

# 3. A stable path to the wheel's torch/ folder for LIBTORCH (.cargo/config.toml).
torch_dir=$(.venv/bin/python -c 'import os, torch; print(os.path.dirname(torch.__file__))')
if [ "$(readlink .venv/libtorch 2>/dev/null)" != "$torch_dir" ]; then
    ln -sfn "$torch_dir" .venv/libtorch
fi
[ -f .venv/libtorch/lib/libtorch_cpu.so ] || { say "error: $torch_dir/lib has no libtorch_cpu.so"; exit 1; }
