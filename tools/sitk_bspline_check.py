#!/usr/bin/env python3
"""Checks a plain-numpy model of SimpleITK's B-spline (order 3) resampling against SimpleITK
itself — groundwork for PyRadiomics' `resampledPixelSpacing` (not implemented yet, issue #5).

The model: ITK's BSplineDecompositionImageFilter (pole sqrt(3) - 2, gain 6, causal initial
coefficient summed over a horizon of ceil(log(1e-10) / log|z|) samples, mirror boundaries),
along x, then y, then z, in float64; BSplineInterpolateImageFunction's cubic weights and mirror
indices, summed over the 4^3 neighbours with x varying fastest; a point is inside when its
continuous index lies in [-0.5, size - 0.5]. Also checks how ResampleImageFilter casts: an
int16 output is the float64 value truncated toward zero, a float32 output the float64 value
rounded to float32.

Run: .venv/bin/python tools/sitk_bspline_check.py   (prints the largest differences)
"""
import math

import numpy as np
import SimpleITK as sitk

Z = math.sqrt(3.0) - 2.0
TOL = 1e-10
def decompose_line(c):
    n = len(c)
    if n == 1: return c
    c = c * ((1 - Z) * (1 - 1 / Z))
    # initial causal
    horizon = n
    if TOL > 0: horizon = int(math.ceil(math.log(TOL) / math.log(abs(Z))))
    if horizon < n:
        zn = Z; s = c[0]
        for k in range(1, horizon):
            s += zn * c[k]; zn *= Z
        c0 = s
    else:
        zn = Z; iz = 1.0 / Z; z2n = Z ** (n - 1)
        s = c[0] + z2n * c[n - 1]
        z2n *= z2n * iz
        for k in range(1, n - 1):
            s += (zn + z2n) * c[k]; zn *= Z; z2n *= iz
        c0 = s / (1.0 - zn * zn)
    c = c.copy(); c[0] = c0
    for k in range(1, n): c[k] += Z * c[k - 1]
    c[n - 1] = (Z / (Z * Z - 1.0)) * (Z * c[n - 2] + c[n - 1])
    for k in range(n - 2, -1, -1): c[k] = Z * (c[k + 1] - c[k])
    return c
def coefficients(a):  # a numpy [z,y,x]; ITK dims x,y,z = axes 2,1,0
    c = a.astype(np.float64).copy()
    for axis in (2, 1, 0):
        c = np.apply_along_axis(decompose_line, axis, c)
    return c
def weights3(w):
    w3 = w * w * w / 6.0
    w0 = 1.0 / 6.0 + 0.5 * w * (w - 1.0) - w3
    w2 = w + w0 - 2.0 * w3
    w1 = 1.0 - w0 - w2 - w3
    return [w0, w1, w2, w3]
def mirror(i, n):
    if n == 1: return 0
    if i < 0: i = -i
    if i > n - 1: i = 2 * (n - 1) - i
    return i
def bspline_at(c, x):  # x continuous index ITK order (x,y,z)
    dims = [c.shape[2], c.shape[1], c.shape[0]]
    idx = []; ws = []
    for d in range(3):
        start = int(math.floor(x[d])) - 1
        ws.append(weights3(x[d] - (start + 1)))
        idx.append([mirror(start + k, dims[d]) for k in range(4)])
    v = 0.0
    for p in range(64):
        k0, k1, k2 = p % 4, (p // 4) % 4, p // 16
        w = 1.0
        w *= ws[0][k0]; w *= ws[1][k1]; w *= ws[2][k2]
        v += w * c[idx[2][k2], idx[1][k1], idx[0][k0]]
    return v
rng = np.random.default_rng(0)
a = rng.normal(0, 100, (7, 9, 11))
img = sitk.GetImageFromArray(a); img.SetSpacing((1.0, 1.3, 2.0)); img.SetOrigin((3.0, -2.0, 5.0))
c = coefficients(a)
rif = sitk.ResampleImageFilter()
rif.SetOutputSpacing((0.7, 0.9, 1.1)); rif.SetSize((14, 12, 13)); rif.SetOutputOrigin((2.9, -2.3, 4.6)); rif.SetOutputDirection(img.GetDirection())
rif.SetInterpolator(sitk.sitkBSpline); rif.SetOutputPixelType(sitk.sitkFloat64)
out = sitk.GetArrayFromImage(rif.Execute(img))
worst = 0; cnt=0
for k in range(13):
    for j in range(12):
        for i in range(14):
            p = (2.9 + 0.7 * i, -2.3 + 0.9 * j, 4.6 + 1.1 * k)
            ci = [(p[0] - 3.0) / 1.0, (p[1] + 2.0) / 1.3, (p[2] - 5.0) / 2.0]
            inside = all(-0.5 <= ci[d] <= [11,9,7][d] - 0.5 for d in range(3))
            mine = bspline_at(c, ci) if inside else 0.0
            ref = out[k, j, i]
            if mine != ref: cnt+=1
            worst = max(worst, abs(mine - ref))
print("B-spline, float64 output: largest |model - SimpleITK| =", worst, "(", cnt, "of", out.size, "not bit-equal)")


def cast_check():
    rng = np.random.default_rng(1)
    a = rng.integers(-500, 500, (7, 9, 11)).astype(np.int16)
    im = sitk.GetImageFromArray(a)
    im.SetSpacing((1.0, 1.3, 2.0))

    def res(t):
        r = sitk.ResampleImageFilter()
        r.SetOutputSpacing((0.7, 0.9, 1.1))
        r.SetSize((14, 12, 13))
        r.SetOutputOrigin((-0.2, -0.3, -0.4))
        r.SetOutputDirection(im.GetDirection())
        r.SetInterpolator(sitk.sitkBSpline)
        r.SetOutputPixelType(t)
        return sitk.GetArrayFromImage(r.Execute(im)).astype(np.float64)

    f = res(sitk.sitkFloat64)
    print("int16 output = trunc(float64):", np.abs(np.trunc(f) - res(sitk.sitkInt16)).max() == 0)
    print("float32 output = float32(float64):",
          np.abs(f.astype(np.float32).astype(np.float64) - res(sitk.sitkFloat32)).max() == 0)


cast_check()
