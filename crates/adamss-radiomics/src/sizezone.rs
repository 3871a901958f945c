//! GLRLM, GLSZM and GLDM: matrices of (grey level × run length / zone size / dependence) and
//! their shared emphasis features, as PyRadiomics computes them.

use crate::discretize::{Discretized, Padded};
use crate::glcm::{neighbourhood, offsets};
use crate::roi::Roi;
use crate::settings::Settings;

/// A (grey level × size) count matrix over the grey levels present; `sizes[j]` is the size
/// value of column `j` (columns that are empty everywhere are dropped, as PyRadiomics does).
struct SizeMatrix {
    p: Vec<Vec<f64>>,
    levels: Vec<f64>,
    sizes: Vec<f64>,
}

impl SizeMatrix {
    /// From counts indexed `[level row][size - 1]`.
    fn new(counts: Vec<Vec<f64>>, levels: &[u32]) -> Self {
        let width = counts.first().map_or(0, Vec::len);
        let keep: Vec<usize> = (0..width)
            .filter(|&j| counts.iter().any(|r| r[j] > 0.0))
            .collect();
        Self {
            p: counts
                .iter()
                .map(|r| keep.iter().map(|&j| r[j]).collect())
                .collect(),
            levels: levels.iter().map(|&l| f64::from(l)).collect(),
            sizes: keep.iter().map(|&j| (j + 1) as f64).collect(),
        }
    }

    fn total(&self) -> f64 {
        self.p.iter().flatten().sum()
    }

    fn pg(&self) -> Vec<f64> {
        self.p.iter().map(|r| r.iter().sum()).collect()
    }

    fn ps(&self) -> Vec<f64> {
        (0..self.sizes.len())
            .map(|j| self.p.iter().map(|r| r[j]).sum())
            .collect()
    }

    /// The emphasis features shared by the three classes, with `nz` the normaliser (number of
    /// runs / zones / voxels) and `np` the number of voxels (for the percentage).
    fn common(&self, nz: f64) -> Common {
        let pg = self.pg();
        let ps = self.ps();
        let (i, j) = (&self.levels, &self.sizes);
        let eps = f64::EPSILON;
        let sum = |f: &dyn Fn(usize, usize) -> f64| -> f64 {
            let mut s = 0.0;
            for (a, row) in self.p.iter().enumerate() {
                for (b, &v) in row.iter().enumerate() {
                    if v != 0.0 {
                        s += v * f(a, b);
                    }
                }
            }
            s
        };
        let mean_i: f64 = pg.iter().zip(i).map(|(p, x)| p / nz * x).sum();
        let mean_j: f64 = ps.iter().zip(j).map(|(p, x)| p / nz * x).sum();
        Common {
            small: ps.iter().zip(j).map(|(p, x)| p / (x * x)).sum::<f64>() / nz,
            large: ps.iter().zip(j).map(|(p, x)| p * x * x).sum::<f64>() / nz,
            gln: pg.iter().map(|p| p * p).sum::<f64>() / nz,
            glnn: pg.iter().map(|p| p * p).sum::<f64>() / (nz * nz),
            sn: ps.iter().map(|p| p * p).sum::<f64>() / nz,
            snn: ps.iter().map(|p| p * p).sum::<f64>() / (nz * nz),
            glv: pg
                .iter()
                .zip(i)
                .map(|(p, x)| p / nz * (x - mean_i).powi(2))
                .sum(),
            sv: ps
                .iter()
                .zip(j)
                .map(|(p, x)| p / nz * (x - mean_j).powi(2))
                .sum(),
            entropy: -self
                .p
                .iter()
                .flatten()
                .map(|v| {
                    let q = v / nz;
                    q * (q + eps).log2()
                })
                .sum::<f64>(),
            low: pg.iter().zip(i).map(|(p, x)| p / (x * x)).sum::<f64>() / nz,
            high: pg.iter().zip(i).map(|(p, x)| p * x * x).sum::<f64>() / nz,
            small_low: sum(&|a, b| 1.0 / (i[a] * i[a] * j[b] * j[b])) / nz,
            small_high: sum(&|a, b| i[a] * i[a] / (j[b] * j[b])) / nz,
            large_low: sum(&|a, b| j[b] * j[b] / (i[a] * i[a])) / nz,
            large_high: sum(&|a, b| j[b] * j[b] * i[a] * i[a]) / nz,
            voxels: ps.iter().zip(j).map(|(p, x)| p * x).sum(),
        }
    }
}

struct Common {
    small: f64,
    large: f64,
    gln: f64,
    glnn: f64,
    sn: f64,
    snn: f64,
    glv: f64,
    sv: f64,
    entropy: f64,
    low: f64,
    high: f64,
    small_low: f64,
    small_high: f64,
    large_low: f64,
    large_high: f64,
    voxels: f64,
}

/// Run counts along one direction: `[grey-level row][length − 1]`.
fn runs(padded: &Padded, off: [i64; 3], row: &[usize], nr: usize, levels: usize) -> Vec<Vec<f64>> {
    let lv = &padded.lv;
    let step = padded.offset(off);
    let mut counts = vec![vec![0.0; nr]; levels];
    for &a in &padded.voxels {
        let level = lv[a];
        // Start of a run: the previous voxel along the direction is not part of it.
        if lv[a.wrapping_add_signed(-step)] == level {
            continue;
        }
        let mut len = 1;
        let mut b = a.wrapping_add_signed(step);
        while lv[b] == level {
            len += 1;
            b = b.wrapping_add_signed(step);
        }
        counts[row[level as usize]][len - 1] += 1.0;
    }
    counts
}

/// Whether some line along `off` through the ROI's box holds two or more ROI voxels.
/// PyRadiomics counts a direction's runs only then (`multiElement` in its C GLRLM): on a ROI
/// one voxel thick along an axis, the directions moving along that axis give runs of length 1
/// only and are dropped (or add nothing to the weighted matrix).
fn spans_two_voxels(roi: &Roi, off: [i64; 3]) -> bool {
    let dims = roi.dims.map(|d| d as i64);
    let index = |p: [i64; 3]| (p[0] + dims[0] * (p[1] + dims[1] * p[2])) as usize;
    let inside = |p: [i64; 3]| (0..3).all(|k| (0..dims[k]).contains(&p[k]));
    for k in 0..dims[2] {
        for j in 0..dims[1] {
            for i in 0..dims[0] {
                if !roi.mask[index([i, j, k])] {
                    continue;
                }
                let mut q = [i + off[0], j + off[1], k + off[2]];
                while inside(q) {
                    if roi.mask[index(q)] {
                        return true;
                    }
                    q = [q[0] + off[0], q[1] + off[1], q[2] + off[2]];
                }
            }
        }
    }
    false
}

/// GLRLM: 16 features, per direction (13 in 3-D) then averaged over non-empty directions — or,
/// with `weightingNorm`, on the one matrix of the weighted directions. A direction along
/// which no line meets the ROI twice counts no runs (as PyRadiomics).
pub fn glrlm(roi: &Roi, disc: &Discretized, settings: &Settings) -> Vec<(&'static str, f64)> {
    glrlm_in(
        roi,
        disc,
        settings,
        &Padded::for_settings(roi, disc, settings),
    )
}

/// [`glrlm`] on a padded level box already built for `roi`.
pub(crate) fn glrlm_in(
    roi: &Roi,
    disc: &Discretized,
    settings: &Settings,
    padded: &Padded,
) -> Vec<(&'static str, f64)> {
    let [d0, d1, d2] = roi.dims;
    let row = disc.rows();
    let nr = d0.max(d1).max(d2);
    let mut acc = [0.0f64; 16];
    let mut angles = 0usize;
    let levels = disc.grey_levels.len();
    let directions: Vec<[i64; 3]> = (offsets(&[1], settings.fixed_axis(), padded.reach)
        .into_iter())
    .filter(|&off| spans_two_voxels(roi, off))
    .collect();
    let matrices: Vec<Vec<Vec<f64>>> = match settings.weighting_norm {
        None => directions
            .iter()
            .map(|&off| runs(padded, off, &row, nr, levels))
            .collect(),
        // One matrix: the directions' run counts, weighted, summed.
        Some(norm) => {
            let mut merged = vec![vec![0.0; nr]; levels];
            for off in directions {
                let w = norm.glrlm_weight(off, roi.spacing);
                for (mr, cr) in merged.iter_mut().zip(runs(padded, off, &row, nr, levels)) {
                    for (x, c) in mr.iter_mut().zip(cr) {
                        *x += w * c;
                    }
                }
            }
            vec![merged]
        }
    };
    for counts in matrices {
        let m = SizeMatrix::new(counts, &disc.grey_levels);
        let nz = m.total();
        if nz == 0.0 {
            continue;
        }
        let c = m.common(nz);
        let vals = [
            c.gln,
            c.glnn,
            c.glv,
            c.high,
            c.large,
            c.large_high,
            c.large_low,
            c.low,
            c.entropy,
            c.sn,
            c.snn,
            nz / c.voxels,
            c.sv,
            c.small,
            c.small_high,
            c.small_low,
        ];
        for (a, v) in acc.iter_mut().zip(vals) {
            *a += v;
        }
        angles += 1;
    }
    // PyRadiomics' names, sorted: the order `acc` is filled in.
    let names = crate::extract::FeatureClass::Glrlm.feature_names();
    let m = angles.max(1) as f64;
    names
        .iter()
        .copied()
        .zip(acc)
        .map(|(n, v)| (n, if angles == 0 { f64::NAN } else { v / m }))
        .collect()
}

/// GLSZM: 16 features over 26-connected zones of equal grey level (8-connected within slices
/// with `force2D`).
pub fn glszm(roi: &Roi, disc: &Discretized, settings: &Settings) -> Vec<(&'static str, f64)> {
    glszm_in(disc, settings, &Padded::for_settings(roi, disc, settings))
}

/// [`glszm`] on a padded level box already built for the ROI.
pub(crate) fn glszm_in(
    disc: &Discretized,
    settings: &Settings,
    padded: &Padded,
) -> Vec<(&'static str, f64)> {
    let row = disc.rows();
    let neighbours = padded.steps(neighbourhood(&[1], settings.fixed_axis(), padded.reach));
    // A voxel joins a zone once: its level is then overwritten with -1, as outside the ROI,
    // so one comparison both matches the level and skips voxels already taken.
    let mut lv = padded.lv.clone();
    let mut zones: Vec<(usize, usize)> = Vec::new(); // (row, size)
    let mut stack = Vec::new();
    for &start in &padded.voxels {
        let level = lv[start];
        if level < 0 {
            continue;
        }
        lv[start] = -1;
        stack.push(start);
        let mut size = 0;
        while let Some(a) = stack.pop() {
            size += 1;
            for &o in &neighbours {
                let b = a.wrapping_add_signed(o);
                if lv[b] == level {
                    lv[b] = -1;
                    stack.push(b);
                }
            }
        }
        zones.push((row[level as usize], size));
    }
    let max_size = zones.iter().map(|z| z.1).max().unwrap_or(1);
    let mut counts = vec![vec![0.0; max_size]; disc.grey_levels.len()];
    for (r, s) in zones {
        counts[r][s - 1] += 1.0;
    }
    let m = SizeMatrix::new(counts, &disc.grey_levels);
    let nz = m.total().max(1.0);
    let c = m.common(nz);
    vec![
        ("GrayLevelNonUniformity", c.gln),
        ("GrayLevelNonUniformityNormalized", c.glnn),
        ("GrayLevelVariance", c.glv),
        ("HighGrayLevelZoneEmphasis", c.high),
        ("LargeAreaEmphasis", c.large),
        ("LargeAreaHighGrayLevelEmphasis", c.large_high),
        ("LargeAreaLowGrayLevelEmphasis", c.large_low),
        ("LowGrayLevelZoneEmphasis", c.low),
        ("SizeZoneNonUniformity", c.sn),
        ("SizeZoneNonUniformityNormalized", c.snn),
        ("SmallAreaEmphasis", c.small),
        ("SmallAreaHighGrayLevelEmphasis", c.small_high),
        ("SmallAreaLowGrayLevelEmphasis", c.small_low),
        ("ZoneEntropy", c.entropy),
        ("ZonePercentage", nz / c.voxels.max(1.0)),
        ("ZoneVariance", c.sv),
    ]
}

/// GLDM: 14 features; a voxel's dependence is 1 + the number of neighbours (Chebyshev
/// `distances`, inside the ROI) whose grey level differs by at most `gldm_a`.
pub fn gldm(roi: &Roi, disc: &Discretized, settings: &Settings) -> Vec<(&'static str, f64)> {
    gldm_in(disc, settings, &Padded::for_settings(roi, disc, settings))
}

/// [`gldm`] on a padded level box already built for the ROI.
pub(crate) fn gldm_in(
    disc: &Discretized,
    settings: &Settings,
    padded: &Padded,
) -> Vec<(&'static str, f64)> {
    let row = disc.rows();
    let lv = &padded.lv;
    let offs = padded.steps(neighbourhood(
        &settings.distances,
        settings.fixed_axis(),
        padded.reach,
    ));
    // Levels are whole numbers: |b − level| ≤ α exactly when |b − level| ≤ ⌊α⌋ (none when α
    // is negative or NaN).
    let alpha = settings.gldm_a.floor();
    let within = if alpha >= 0.0 {
        alpha.min(1e18) as i64
    } else {
        -1
    };
    let mut counts = vec![vec![0.0; offs.len() + 1]; disc.grey_levels.len()];
    for &a in &padded.voxels {
        let level = lv[a];
        let mut dep = 0usize;
        for &o in &offs {
            let b = lv[a.wrapping_add_signed(o)];
            dep += usize::from(b >= 0 && (b - level).abs() <= within);
        }
        counts[row[level as usize]][dep] += 1.0;
    }
    let m = SizeMatrix::new(counts, &disc.grey_levels);
    let nz = m.total().max(1.0);
    let c = m.common(nz);
    vec![
        ("DependenceEntropy", c.entropy),
        ("DependenceNonUniformity", c.sn),
        ("DependenceNonUniformityNormalized", c.snn),
        ("DependenceVariance", c.sv),
        ("GrayLevelNonUniformity", c.gln),
        ("GrayLevelVariance", c.glv),
        ("HighGrayLevelEmphasis", c.high),
        ("LargeDependenceEmphasis", c.large),
        ("LargeDependenceHighGrayLevelEmphasis", c.large_high),
        ("LargeDependenceLowGrayLevelEmphasis", c.large_low),
        ("LowGrayLevelEmphasis", c.low),
        ("SmallDependenceEmphasis", c.small),
        ("SmallDependenceHighGrayLevelEmphasis", c.small_high),
        ("SmallDependenceLowGrayLevelEmphasis", c.small_low),
    ]
}
