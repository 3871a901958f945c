use adamss_io::{Geometry, Volume};
use adamss_preprocess::{resample_linear, resample_nearest, Error, Grid};
use ndarray::Array3;

fn flipped_ct() -> Volume<i16> {
    // CT-like: 0.98 × 0.98 × 2.5 mm, x and y flipped (as LPS-stored scanners give in RAS+).
    let g = Geometry::new(
        [0.98, 0.98, 2.5],
        [31.2, -140.7, -512.3],
        [[-1.0, 0.0, 0.0], [0.0, -1.0, 0.0], [0.0, 0.0, 1.0]],
    )
    .unwrap();
    Volume::new(Array3::from_elem((64, 56, 20), 7i16), g).unwrap()
}

/// The common grid covers the CT's physical extent, overshooting by less than a voxel, and
/// keeps its centre within half a voxel.
#[test]
fn common_grid_preserves_extent_and_centre() {
    let ct = flipped_ct();
    let g = Grid::common_for(&ct, 1.0).unwrap();
    let (clo, chi) = Grid::of(&ct).bounds();
    let (glo, ghi) = g.bounds();
    for a in 0..3 {
        assert!(
            (glo[a] - clo[a]).abs() < 1e-9,
            "axis {a} starts at the CT's edge"
        );
        assert!(ghi[a] >= chi[a] - 1e-9 && ghi[a] - chi[a] < 1.0, "axis {a}");
    }
    let (cc, gc) = (Grid::of(&ct).centre(), g.centre());
    for a in 0..3 {
        assert!((cc[a] - gc[a]).abs() <= 0.5 + 1e-9);
    }
    assert_eq!(g.shape, [63, 55, 50]);
    assert_eq!(g.geometry.direction, Geometry::default().direction);
    // A constant CT resamples to the constant everywhere on its common grid.
    let r = resample_linear(&ct, &g, -1000.0).unwrap();
    assert!(r.data().iter().all(|&v| v == 7.0));
}

#[test]
fn crop_around_a_point_is_centred_and_aligned() {
    let ct = flipped_ct();
    let g = Grid::common_for(&ct, 1.0).unwrap();
    let centre = g.centre();
    let crop = g.crop_around(centre, [16, 16, 16]).unwrap();
    let cc = crop.centre();
    for a in 0..3 {
        assert!(
            (cc[a] - centre[a]).abs() <= 1.0,
            "axis {a}: {} vs {}",
            cc[a],
            centre[a]
        );
        // aligned: the crop's origin is a lattice point of g
        let idx = g.geometry.world_to_index(crop.geometry.origin);
        assert!((idx[a] - idx[a].round()).abs() < 1e-9);
    }
}

#[test]
fn bad_grids_and_disjoint_volumes_are_typed_errors() {
    assert!(matches!(
        Grid::new([0, 4, 4], Geometry::default()),
        Err(Error::Grid(_))
    ));
    assert!(matches!(
        Grid::new([1 << 20, 1 << 20, 1 << 20], Geometry::default()),
        Err(Error::Grid(_))
    ));
    assert!(Grid::covering(([0.0; 3], [10.0; 3]), [0.0, 1.0, 1.0]).is_err());
    assert!(Grid::covering(([0.0; 3], [10.0; 3]), [-1.0, 1.0, 1.0]).is_err());
    let ct = flipped_ct();
    let far = Grid::new(
        [8, 8, 8],
        Geometry::axis_aligned([1.0; 3], [5000.0, 0.0, 0.0]).unwrap(),
    )
    .unwrap();
    let err = resample_linear(&ct, &far, 0.0).unwrap_err();
    assert!(matches!(err, Error::NoOverlap(_)), "{err}");
    assert!(resample_nearest(&ct, &far, 0).is_err());
}

/// Round trip: a label resampled to 1 mm and back to the CT grid keeps Dice ≥ 0.98 for
/// blobs of at least 1 cm³.
#[test]
fn label_round_trip_keeps_dice() {
    let ct = flipped_ct();
    let g = ct.geometry();
    let mut lab = Array3::<u8>::zeros((64, 56, 20));
    // An ellipsoid of radii 9, 8, 10 mm (≈ 3 cm³) and one of 6, 7, 7.5 mm (≈ 1.3 cm³).
    for ((i, j, k), v) in lab.indexed_iter_mut() {
        let p = g.index_to_world([i as f64, j as f64, k as f64]);
        let c1 = g.index_to_world([20.0, 30.0, 9.0]);
        let c2 = g.index_to_world([45.0, 20.0, 12.0]);
        let e = |c: [f64; 3], r: [f64; 3]| {
            (0..3).map(|a| ((p[a] - c[a]) / r[a]).powi(2)).sum::<f64>() <= 1.0
        };
        if e(c1, [9.0, 8.0, 10.0]) {
            *v = 1;
        } else if e(c2, [6.0, 7.0, 7.5]) {
            *v = 2;
        }
    }
    let label = Volume::new(lab, *g).unwrap();
    let common = Grid::common_for(&label, 1.0).unwrap();
    let there = resample_nearest(&label, &common, 0).unwrap();
    let back = resample_nearest(&there, &Grid::of(&label), 0).unwrap();
    for l in [1u8, 2] {
        let a = label.data().iter().filter(|&&v| v == l).count();
        let b = back.data().iter().filter(|&&v| v == l).count();
        let both = label
            .data()
            .iter()
            .zip(back.data().iter())
            .filter(|(x, y)| **x == l && **y == l)
            .count();
        let dice = 2.0 * both as f64 / (a + b) as f64;
        let cm3 = a as f64 * 0.98 * 0.98 * 2.5 / 1000.0;
        assert!(cm3 >= 1.0, "blob {l} is {cm3} cm³");
        assert!(dice >= 0.98, "label {l}: Dice {dice}");
    }
}
