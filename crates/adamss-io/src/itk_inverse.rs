//! The inverse of a 3×3 index→physical matrix as ITK computes it, to the last bit.
//!
//! ITK's `ImageBase` maps physical points to continuous indices through
//! `m_PhysicalPointToIndex`, the inverse of `direction · diag(spacing)` taken by
//! `vnl_matrix_inverse`: the pseudo-inverse `V · W⁻¹ · Uᵀ` of a singular value decomposition
//! computed by LINPACK's `dsvdc` (Householder bidiagonalisation, then implicit-shift QR
//! sweeps with Givens rotations) on the reference BLAS level-1 kernels. For an oblique grid that
//! inverse differs from a cofactor or LU inverse in the last bits, and a nearest-neighbour
//! sample that lands on a tie (a continuous index of exactly k + ½, common when the spacings'
//! ratio is rational) then rounds to the other voxel. The code below follows LINPACK's order of
//! operations (`job = 21`, a 3×3 matrix; indices from 0), so the continuous indices equal
//! SimpleITK 2.5.7's bit for bit (`tests/it/itk_index.rs`: rotations, flips, permutations and
//! sheared directions); for diagonal matrices it gives `±1/spacing` exactly.

/// `x` with the sign of `y` (Fortran's `SIGN`, as f2c's `d_sign`: `y = −0` counts as positive).
fn sign(x: f64, y: f64) -> f64 {
    let a = x.abs();
    if y >= 0.0 {
        a
    } else {
        -a
    }
}

/// Reference BLAS `dnrm2` (the scaled sum of squares of LAPACK 3).
fn nrm2(xs: &[f64]) -> f64 {
    match xs {
        [] => 0.0,
        [x] => x.abs(),
        _ => {
            let (mut scale, mut ssq) = (0.0f64, 1.0f64);
            for &x in xs.iter().filter(|&&x| x != 0.0) {
                let a = x.abs();
                if scale < a {
                    let r = scale / a;
                    ssq = ssq * (r * r) + 1.0;
                    scale = a;
                } else {
                    let r = a / scale;
                    ssq += r * r;
                }
            }
            scale * ssq.sqrt()
        }
    }
}

/// Reference BLAS `drotg`: the Givens rotation `(c, s)` that zeroes `b` against `a`, and `r`:
/// returns `(r, c, s)` (LINPACK's reconstruction value `z`, which `dsvdc` never reads for a
/// 3×3 matrix, is left out).
fn rotg(a: f64, b: f64) -> (f64, f64, f64) {
    let roe = if a.abs() > b.abs() { a } else { b };
    let scale = a.abs() + b.abs();
    if scale == 0.0 {
        return (0.0, 1.0, 0.0);
    }
    let (x, y) = (a / scale, b / scale);
    let r = sign(1.0, roe) * (scale * (x * x + y * y).sqrt());
    (r, a / r, b / r)
}

/// A 3×3 matrix stored by columns, `m[col][row]`, as LINPACK holds it.
type Columns = [[f64; 3]; 3];

/// Reference BLAS `drot` on columns `a` and `b`.
fn rot(m: &mut Columns, a: usize, b: usize, c: f64, s: f64) {
    for i in 0..3 {
        let t = c * m[a][i] + s * m[b][i];
        m[b][i] = c * m[b][i] - s * m[a][i];
        m[a][i] = t;
    }
}

/// `y[from..] += t · x[from..]` (reference BLAS `daxpy`, which does nothing when `t == 0`).
fn axpy(t: f64, x: &[f64; 3], y: &mut [f64; 3], from: usize) {
    if t != 0.0 {
        for i in from..3 {
            y[i] += t * x[i];
        }
    }
}

/// `Σ x[i]·y[i]` over `from..3`, from 0 upwards (reference BLAS `ddot` for fewer than five).
fn dot(x: &[f64; 3], y: &[f64; 3], from: usize) -> f64 {
    (from..3).fold(0.0, |acc, i| acc + x[i] * y[i])
}

/// LINPACK `dsvdc` with `job = 21` on a 3×3 matrix given by columns: `(U, s, V)` by columns,
/// `M = U · diag(s) · Vᵀ`. Should the QR sweeps not converge in LINPACK's 1000 iterations
/// (non-finite input), the factors reached so far are returned, as `vnl_svd` keeps them.
fn svd(mut x: Columns) -> (Columns, [f64; 3], Columns) {
    const N: usize = 3;
    let (mut s, mut e) = ([0.0f64; N], [0.0f64; N]);
    let (mut u, mut v) = ([[0.0f64; N]; N], [[0.0f64; N]; N]);
    let mut work = [0.0f64; N];
    // Householder reduction to bidiagonal form: columns 0 and 1 (nct = 2), rows 0 (nrt = 1).
    let (nct, nrt) = (2, 1);
    for l in 0..nct {
        s[l] = nrm2(&x[l][l..]);
        if s[l] != 0.0 {
            if x[l][l] != 0.0 {
                s[l] = sign(s[l], x[l][l]);
            }
            let d = 1.0 / s[l];
            for i in l..N {
                x[l][i] *= d;
            }
            x[l][l] += 1.0;
        }
        s[l] = -s[l];
        for j in l + 1..N {
            if s[l] != 0.0 {
                let t = -dot(&x[l], &x[j], l) / x[l][l];
                let col = x[l];
                axpy(t, &col, &mut x[j], l);
            }
            e[j] = x[j][l];
        }
        u[l][l..].copy_from_slice(&x[l][l..]);
        if l < nrt {
            e[l] = nrm2(&e[l + 1..]);
            if e[l] != 0.0 {
                if e[l + 1] != 0.0 {
                    e[l] = sign(e[l], e[l + 1]);
                }
                let d = 1.0 / e[l];
                for v in &mut e[l + 1..] {
                    *v *= d;
                }
                e[l + 1] += 1.0;
            }
            e[l] = -e[l];
            if e[l] != 0.0 {
                work[l + 1..].fill(0.0);
                for j in l + 1..N {
                    axpy(e[j], &x[j], &mut work, l + 1);
                }
                for j in l + 1..N {
                    axpy(-e[j] / e[l + 1], &work, &mut x[j], l + 1);
                }
            }
            v[l][l + 1..].copy_from_slice(&e[l + 1..]);
        }
    }
    s[2] = x[2][2];
    e[1] = x[2][1];
    e[2] = 0.0;
    // U: the last column is the identity's, the others back-transformed.
    u[2] = [0.0, 0.0, 1.0];
    for l in (0..nct).rev() {
        if s[l] != 0.0 {
            for j in l + 1..N {
                let t = -dot(&u[l], &u[j], l) / u[l][l];
                let col = u[l];
                axpy(t, &col, &mut u[j], l);
            }
            for i in l..N {
                u[l][i] *= -1.0;
            }
            u[l][l] += 1.0;
            u[l][..l].fill(0.0);
        } else {
            u[l] = [0.0; N];
            u[l][l] = 1.0;
        }
    }
    // V, back-transformed likewise.
    for l in (0..N).rev() {
        if l < nrt && e[l] != 0.0 {
            for j in l + 1..N {
                let t = -dot(&v[l], &v[j], l + 1) / v[l][l + 1];
                let col = v[l];
                axpy(t, &col, &mut v[j], l + 1);
            }
        }
        v[l] = [0.0; N];
        v[l][l] = 1.0;
    }
    // Implicit-shift QR on the bidiagonal (s, e); `m` counts the values not yet converged.
    let mut m = N;
    let mm = N;
    let mut iter = 0;
    while m != 0 && iter < 1000 {
        // LINPACK's 1-based `l` and `m` are kept as such below: index `k` of s/e is `k - 1`.
        let mut l = m - 1;
        while l > 0 {
            let test = s[l - 1].abs() + s[l].abs();
            if test + e[l - 1].abs() == test {
                e[l - 1] = 0.0;
                break;
            }
            l -= 1;
        }
        let kase;
        if l == m - 1 {
            kase = 4;
        } else {
            let mut ls = m;
            while ls > l {
                let mut test = 0.0;
                if ls != m {
                    test += e[ls - 1].abs();
                }
                if ls != l + 1 {
                    test += e[ls - 2].abs();
                }
                if test + s[ls - 1].abs() == test {
                    s[ls - 1] = 0.0;
                    break;
                }
                ls -= 1;
            }
            if ls == l {
                kase = 3;
            } else if ls == m {
                kase = 1;
            } else {
                kase = 2;
                l = ls;
            }
        }
        l += 1;
        match kase {
            // Deflate a negligible s[m].
            1 => {
                let mut f = e[m - 2];
                e[m - 2] = 0.0;
                for k in (l..m).rev() {
                    let (r, cs, sn) = rotg(s[k - 1], f);
                    s[k - 1] = r;
                    if k != l {
                        f = -sn * e[k - 2];
                        e[k - 2] *= cs;
                    }
                    rot(&mut v, k - 1, m - 1, cs, sn);
                }
            }
            // Split at a negligible s[l].
            2 => {
                let mut f = e[l - 2];
                e[l - 2] = 0.0;
                for k in l..=m {
                    let (r, cs, sn) = rotg(s[k - 1], f);
                    s[k - 1] = r;
                    f = -sn * e[k - 1];
                    e[k - 1] *= cs;
                    rot(&mut u, k - 1, l - 2, cs, sn);
                }
            }
            // One QR step with the shift from the trailing 2×2.
            3 => {
                let scale = [s[m - 1], s[m - 2], e[m - 2], s[l - 1], e[l - 1]]
                    .iter()
                    .fold(0.0f64, |a, &b| a.max(b.abs()));
                let sm = s[m - 1] / scale;
                let smm1 = s[m - 2] / scale;
                let emm1 = e[m - 2] / scale;
                let sl = s[l - 1] / scale;
                let el = e[l - 1] / scale;
                let b = ((smm1 + sm) * (smm1 - sm) + emm1 * emm1) / 2.0;
                let c = (sm * emm1) * (sm * emm1);
                let mut shift = 0.0;
                if !(b == 0.0 && c == 0.0) {
                    shift = (b * b + c).sqrt();
                    if b < 0.0 {
                        shift = -shift;
                    }
                    shift = c / (b + shift);
                }
                let mut f = (sl + sm) * (sl - sm) + shift;
                let mut g = sl * el;
                for k in l..m {
                    let (r, cs, sn) = rotg(f, g);
                    f = r;
                    if k != l {
                        e[k - 2] = f;
                    }
                    f = cs * s[k - 1] + sn * e[k - 1];
                    e[k - 1] = cs * e[k - 1] - sn * s[k - 1];
                    g = sn * s[k];
                    s[k] *= cs;
                    rot(&mut v, k - 1, k, cs, sn);
                    let (r, cs, sn) = rotg(f, g);
                    f = r;
                    s[k - 1] = f;
                    f = cs * e[k - 1] + sn * s[k];
                    s[k] = -sn * e[k - 1] + cs * s[k];
                    g = sn * e[k];
                    e[k] *= cs;
                    if k < N {
                        rot(&mut u, k - 1, k, cs, sn);
                    }
                }
                e[m - 2] = f;
                iter += 1;
            }
            // Converged: make s[l] positive, sort it into place.
            _ => {
                if s[l - 1] < 0.0 {
                    s[l - 1] = -s[l - 1];
                    for x in &mut v[l - 1] {
                        *x *= -1.0;
                    }
                }
                while l != mm && s[l - 1] < s[l] {
                    s.swap(l - 1, l);
                    v.swap(l - 1, l);
                    u.swap(l - 1, l);
                    l += 1;
                }
                iter = 0;
                m -= 1;
            }
        }
    }
    (u, s.map(f64::abs), v)
}

/// The inverse of `m` (row-major, `m[row][col]`) as `vnl_matrix_inverse` computes it:
/// `V · diag(1/s) · Uᵀ` (a zero singular value contributes nothing), each product summed from
/// 0 upwards as `vnl_matrix::operator*` does.
pub(crate) fn inverse(m: &[[f64; 3]; 3]) -> [[f64; 3]; 3] {
    let mut columns = [[0.0; 3]; 3];
    for (c, col) in columns.iter_mut().enumerate() {
        for (r, v) in col.iter_mut().enumerate() {
            *v = m[r][c];
        }
    }
    let (u, s, v) = svd(columns);
    let w_inv = s.map(|w| if w.abs() <= 0.0 { 0.0 } else { 1.0 / w });
    // (V · W⁻¹)[i][k] = Σ_j V[i][j]·W⁻¹[j][k]: one non-zero term, plus zeros.
    let mut vw = [[0.0f64; 3]; 3];
    for (i, row) in vw.iter_mut().enumerate() {
        for (k, x) in row.iter_mut().enumerate() {
            *x = (0..3).fold(0.0, |acc, j| {
                acc + v[j][i] * if j == k { w_inv[j] } else { 0.0 }
            });
        }
    }
    let mut out = [[0.0f64; 3]; 3];
    for (i, row) in out.iter_mut().enumerate() {
        for (k, x) in row.iter_mut().enumerate() {
            *x = (0..3).fold(0.0, |acc, j| acc + vw[i][j] * u[j][k]);
        }
    }
    out
}
