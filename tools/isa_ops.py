"""Which libtorch CPU ops change their float32 results with the CPU's vector level or the thread count.

Issue #25: the main job printed another table on an AVX2-only machine than on this project's
AVX-512 one. This runs the ops the AdaMSS network uses (3-D convolution forward and both
backward passes, transposed convolution, BatchNorm, softmax, sigmoid, exp, a full sum, a
matrix product, trilinear upsampling, max pooling) on fixed inputs in a fresh process per
setting, with libtorch's own switches (ATEN_CPU_CAPABILITY for ATen's vectorised kernels,
ONEDNN_MAX_CPU_ISA for oneDNN's convolutions) and thread counts, and prints for each op whether
its output is bit-identical to the first setting's, or the largest absolute difference.

    .venv/bin/python tools/isa_ops.py            # settings below; about 30 s on 2 cores

Only libtorch from Python is probed here (its BLAS is MKL); inside the `adamss` binary
libtorch's `sgemm_` resolves to OpenBLAS, whose core type matters too — see
docs/benchmarks.md, "The main job across CPUs".
"""

import os
import subprocess
import sys
import tempfile

import numpy as np

SETTINGS = [
    ("native, 2 threads", {}, 2),
    ("avx2, 2 threads", {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}, 2),
    ("native, 1 thread", {}, 1),
    ("avx2, 1 thread", {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}, 1),
    ("avx2, 3 threads", {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}, 3),
    ("avx2, 4 threads", {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}, 4),
    ("avx2, 8 threads", {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}, 8),
    ("sse4.1", {"ATEN_CPU_CAPABILITY": "default", "ONEDNN_MAX_CPU_ISA": "SSE41"}, 2),
]


def run_ops(path, threads):
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {}
    x = torch.randn(2, 4, 32, 32, 32, requires_grad=True)
    w = torch.randn(8, 4, 3, 3, 3, requires_grad=True)
    y = F.conv3d(x, w, padding=1)
    out["conv3d forward"] = y.detach().numpy()
    y.square().sum().backward()
    out["conv3d grad input"] = x.grad.numpy()
    out["conv3d grad weight"] = w.grad.numpy()
    z = y.detach()
    out["batch_norm (train)"] = F.batch_norm(z, None, None, training=True).numpy()
    out["sum"] = z.sum().reshape(1).numpy()
    out["softmax"] = torch.softmax(z, 1).numpy()
    out["sigmoid"] = torch.sigmoid(z).numpy()
    out["exp"] = torch.exp(z / 10).numpy()
    a, b = torch.randn(300, 500), torch.randn(500, 200)
    out["matmul"] = (a @ b).numpy()
    out["trilinear x2"] = F.interpolate(z, scale_factor=2, mode="trilinear").numpy()
    out["max_pool3d"] = F.max_pool3d(z, 2).numpy()
    out["conv_transpose3d"] = F.conv_transpose3d(z, torch.randn(8, 4, 2, 2, 2), stride=2).numpy()
    np.savez(path, capability=np.array(torch.backends.cpu.get_cpu_capability()), **out)


def main():
    if len(sys.argv) == 3:
        run_ops(sys.argv[1], int(sys.argv[2]))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (name, env, threads) in enumerate(SETTINGS):
            path = os.path.join(tmp, f"{i}.npz")
            e = dict(os.environ)
            for k in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"):
                e.pop(k, None)
            e.update(env)
            subprocess.run([sys.executable, __file__, path, str(threads)], env=e, check=True)
            with np.load(path) as f:
                results.append((name, {k: f[k] for k in f.files}))
    base_name, base = results[0]
    print(f"against '{base_name}' (ATen capability {base['capability']}); '=' bit-identical")
    ops = [k for k in base if k != "capability"]
    width = max(map(len, ops))
    print(" " * width, *[f"{n:>18}" for n, _ in results[1:]])
    for op in ops:
        cells = []
        for _, r in results[1:]:
            a, b = base[op], r[op]
            cells.append("=" if np.array_equal(a, b) else f"{np.abs(a - b).max():.1e}")
        print(f"{op:<{width}}", *[f"{c:>18}" for c in cells])
    for n, r in results[1:]:
        print(f"  {n}: ATen capability {r['capability']}")


if __name__ == "__main__":
    main()
