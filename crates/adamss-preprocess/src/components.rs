//! Connected components of a mask and per-label shape statistics, as SimpleITK's
//! `ConnectedComponent`, `RelabelComponent` and `LabelShapeStatisticsImageFilter` give them:
//! cleaning a predicted segmentation (keep the largest component, drop specks), counting nodal
//! lesions, locating each one.
//!
//! ```
//! use adamss_preprocess::io::{Geometry, Volume};
//! use adamss_preprocess::ndarray::Array3;
//! use adamss_preprocess::{connected_components, label_shape_statistics, largest_component, Connectivity};
//!
//! let mut m = Array3::<u8>::zeros((6, 6, 3));
//! m[[0, 0, 0]] = 1; // a speck
//! for i in 2..5 { for j in 2..5 { m[[i, j, 1]] = 1; } } // a 3 × 3 lesion
//! let identity = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
//! let mask = Volume::new(m, Geometry::new([1.0, 1.0, 2.0], [0.0; 3], identity)?)?;
//! let labels = connected_components(&mask, Connectivity::Face)?;
//! assert_eq!(label_shape_statistics(&labels).len(), 2);
//! let kept = largest_component(&mask, Connectivity::Face)?;
//! assert_eq!(kept.data().iter().filter(|&&v| v == 1).count(), 9);
//! # Ok::<(), adamss_preprocess::Error>(())
//! ```

use adamss_io::{Volume, Voxel};
use ndarray::Array3;

use crate::Result;

/// Which neighbours join voxels into one component (SimpleITK's `fullyConnected`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum Connectivity {
    /// The 6 face neighbours (`fullyConnected=False`, SimpleITK's default).
    #[default]
    Face,
    /// All 26 neighbours: faces, edges and corners (`fullyConnected=True`).
    Full,
}

/// Labels the connected components of the mask's non-zero voxels (any non-zero value is
/// foreground, as `sitk.ConnectedComponent` takes it) `1, 2, …` in the order a raster scan
/// (x fastest, then y, then z) first reaches them; background 0. Same grid as the mask.
pub fn connected_components<T: Voxel>(
    mask: &Volume<T>,
    connectivity: Connectivity,
) -> Result<Volume<u32>> {
    let data = mask.data();
    let (nx, ny, nz) = data.dim();
    let zero = T::default();
    let flat = |i: usize, j: usize, k: usize| (k * ny + j) * nx + i;
    // Neighbours earlier in the raster scan.
    let offsets: Vec<[isize; 3]> = match connectivity {
        Connectivity::Face => vec![[-1, 0, 0], [0, -1, 0], [0, 0, -1]],
        Connectivity::Full => {
            let mut v = Vec::new();
            for dk in -1..=0isize {
                for dj in -1..=1isize {
                    for di in -1..=1isize {
                        let earlier = dk < 0 || (dk == 0 && (dj < 0 || (dj == 0 && di < 0)));
                        if earlier {
                            v.push([di, dj, dk]);
                        }
                    }
                }
            }
            v
        }
    };
    let mut parent: Vec<usize> = (0..nx * ny * nz).collect();
    fn root(parent: &mut [usize], mut a: usize) -> usize {
        while parent[a] != a {
            parent[a] = parent[parent[a]];
            a = parent[a];
        }
        a
    }
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                if data[[i, j, k]] == zero {
                    continue;
                }
                let here = flat(i, j, k);
                for o in &offsets {
                    let (a, b, c) = (i as isize + o[0], j as isize + o[1], k as isize + o[2]);
                    if a < 0 || b < 0 || c < 0 || a >= nx as isize || b >= ny as isize {
                        continue;
                    }
                    let (a, b, c) = (a as usize, b as usize, c as usize);
                    if data[[a, b, c]] == zero {
                        continue;
                    }
                    let (r1, r2) = (root(&mut parent, here), root(&mut parent, flat(a, b, c)));
                    if r1 != r2 {
                        // The earlier root stays the representative.
                        let (lo, hi) = (r1.min(r2), r1.max(r2));
                        parent[hi] = lo;
                    }
                }
            }
        }
    }
    // Final labels in the order the scan first meets each component.
    let mut label_of_root = vec![0u32; parent.len()];
    let mut next = 0u32;
    let mut out = Array3::<u32>::zeros((nx, ny, nz));
    for k in 0..nz {
        for j in 0..ny {
            for i in 0..nx {
                if data[[i, j, k]] == zero {
                    continue;
                }
                let r = root(&mut parent, flat(i, j, k));
                if label_of_root[r] == 0 {
                    next += 1;
                    label_of_root[r] = next;
                }
                out[[i, j, k]] = label_of_root[r];
            }
        }
    }
    Ok(Volume::new(out, *mask.geometry())?)
}

/// Renumbers labelled components by size, largest first (`1` the largest; equal sizes keep
/// their order), dropping those of fewer than `minimum_size` voxels (0 keeps all): SimpleITK's
/// `RelabelComponent(labels, minimumObjectSize, sortByObjectSize=True)`.
pub fn relabel_components(labels: &Volume<u32>, minimum_size: usize) -> Result<Volume<u32>> {
    let data = labels.data();
    let max = data.iter().copied().max().unwrap_or(0) as usize;
    let mut sizes = vec![0usize; max + 1];
    for &v in data {
        sizes[v as usize] += 1;
    }
    let mut order: Vec<usize> = (1..=max).filter(|&l| sizes[l] > 0).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(a.cmp(&b)));
    let mut new = vec![0u32; max + 1];
    for (rank, &l) in order
        .iter()
        .filter(|&&l| sizes[l] >= minimum_size)
        .enumerate()
    {
        new[l] = rank as u32 + 1;
    }
    Ok(Volume::new(
        data.mapv(|v| new[v as usize]),
        *labels.geometry(),
    )?)
}

/// The mask's largest connected component as a 0/1 mask (the first in raster order among
/// equally large ones; all 0 for an empty mask): the usual clean-up of a predicted GTVp.
pub fn largest_component<T: Voxel>(
    mask: &Volume<T>,
    connectivity: Connectivity,
) -> Result<Volume<u8>> {
    let ranked = relabel_components(&connected_components(mask, connectivity)?, 0)?;
    Ok(Volume::new(
        ranked.data().mapv(|v| u8::from(v == 1)),
        *mask.geometry(),
    )?)
}

/// The mask with the holes of the structure `label` filled: every region of voxels without
/// the label that cannot reach the grid's border through such voxels (neighbours by
/// `connectivity`) takes the label, other labels inside it included; everything else is kept.
/// SimpleITK's `BinaryFillhole(mask, fullyConnected, foregroundValue=label)`: with
/// [`Connectivity::Face`] a cavity joined to the outside by an edge or a corner only is a
/// hole, with [`Connectivity::Full`] it is not.
pub fn fill_holes<T: Voxel>(
    mask: &Volume<T>,
    label: T,
    connectivity: Connectivity,
) -> Result<Volume<T>> {
    let outside = mask.map(|&v| u8::from(v != label));
    let regions = connected_components(&outside, connectivity)?;
    let r = regions.data();
    // The regions with a voxel on one of the grid's six faces reach the outside.
    let mut open = vec![false; r.fold(0u32, |m, &v| m.max(v)) as usize + 1];
    for axis in 0..3 {
        let n = r.len_of(ndarray::Axis(axis));
        for face in [0, n - 1] {
            for &id in r.index_axis(ndarray::Axis(axis), face) {
                open[id as usize] = true;
            }
        }
    }
    let mut data = mask.data().clone();
    ndarray::Zip::from(&mut data).and(r).for_each(|v, &id| {
        if id != 0 && !open[id as usize] {
            *v = label;
        }
    });
    Ok(Volume::new(data, *mask.geometry())?)
}

/// Shape statistics of one label ([`label_shape_statistics`]).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LabelShape {
    /// The label value.
    pub label: u64,
    /// Its number of voxels.
    pub voxels: usize,
    /// Its volume in mm³ (voxels × the voxel's volume; SimpleITK's `GetPhysicalSize`).
    pub physical_size: f64,
    /// The mean of its voxels' centres, in world (RAS) mm.
    pub centroid: [f64; 3],
    /// The same as a continuous voxel index `[i, j, k]`.
    pub centroid_index: [f64; 3],
    /// The first voxel index of its bounding box, `[i, j, k]`.
    pub bounding_box_start: [usize; 3],
    /// The bounding box's size in voxels.
    pub bounding_box_size: [usize; 3],
}

/// Per non-zero label of a label image, ascending: voxel count, volume, centroid and bounding
/// box — SimpleITK's `LabelShapeStatisticsImageFilter` (`GetNumberOfPixels`,
/// `GetPhysicalSize`, `GetCentroid`, `GetBoundingBox`; its points are LPS, these RAS).
pub fn label_shape_statistics<T: Voxel + Into<u64>>(labels: &Volume<T>) -> Vec<LabelShape> {
    use std::collections::BTreeMap;
    struct Acc {
        n: usize,
        sum: [f64; 3],
        lo: [usize; 3],
        hi: [usize; 3],
    }
    let mut acc: BTreeMap<u64, Acc> = BTreeMap::new();
    for ((i, j, k), &v) in labels.data().indexed_iter() {
        let l: u64 = v.into();
        if l == 0 {
            continue;
        }
        let p = [i, j, k];
        let a = acc.entry(l).or_insert(Acc {
            n: 0,
            sum: [0.0; 3],
            lo: p,
            hi: p,
        });
        a.n += 1;
        for d in 0..3 {
            a.sum[d] += p[d] as f64;
            a.lo[d] = a.lo[d].min(p[d]);
            a.hi[d] = a.hi[d].max(p[d]);
        }
    }
    let g = labels.geometry();
    let voxel = g.spacing.iter().product::<f64>();
    acc.into_iter()
        .map(|(label, a)| {
            let centroid_index = a.sum.map(|s| s / a.n as f64);
            LabelShape {
                label,
                voxels: a.n,
                physical_size: a.n as f64 * voxel,
                centroid: g.index_to_world(centroid_index),
                centroid_index,
                bounding_box_start: a.lo,
                bounding_box_size: [0, 1, 2].map(|d| a.hi[d] - a.lo[d] + 1),
            }
        })
        .collect()
}
