//! The whole per-patient pipeline on a synthetic cohort (adamss-io's phantom, which has a
//! high-uptake brain above the neck, a body outline, and labelled tumours).

use adamss_io::{generate_synthetic, SyntheticConfig};
use adamss_io::{Cohort, Dataset, Geometry, Volume};
use adamss_preprocess::{
    mask_to_ct_grid, preprocess_case, CropCentre, Error, Grid, LocatorConfig, PreprocessConfig,
};
use ndarray::Array3;

/// A small cohort at 96 mm with a 1.5 mm common grid and 64³ crops (the paper: 160 mm, 1 mm,
/// 160³), the locator's volumes and distances scaled by 96/160.
fn setup() -> (tempfile::TempDir, Cohort, PreprocessConfig) {
    let dir = tempfile::tempdir().unwrap();
    let mut synth = SyntheticConfig::tiny();
    synth.field_of_view_mm = [96.0; 3];
    synth.patients = 4;
    let root = dir.path().join("cohort");
    generate_synthetic(&root, &synth, &|_| {}).unwrap();
    let (cohort, _) = Cohort::hecktor(&root).unwrap();
    let config = PreprocessConfig {
        spacing_mm: 1.5,
        crop_size: [64; 3],
        locator: LocatorConfig::scaled_to_field_of_view(96.0),
        ..PreprocessConfig::default()
    };
    (dir, cohort, config)
}

#[test]
fn cohort_preprocesses_with_normalised_inputs_and_covered_tumours() {
    let (_dir, cohort, config) = setup();
    let mut wholly_inside = 0;
    for idx in 0..cohort.len() {
        let case = cohort.get(idx).unwrap();
        let p = preprocess_case(&case, &config, CropCentre::Auto).unwrap();
        assert_eq!(p.ct.shape(), [64, 64, 64]);
        assert_eq!(p.pet.shape(), [64, 64, 64]);
        assert!(p.ct.data().iter().all(|v| (-1.0..=1.0).contains(v)));
        let located = p.located.unwrap();
        assert!(
            located.brain_found,
            "{}: brain {} ml",
            case.id, located.brain_ml
        );
        assert!(
            located.brain[2] > located.centre[2],
            "the crop centre is below the brain"
        );
        // Z-score over the voxels inside the PET's field of view: mean 0, sd 1 there.
        assert!(p.pet_zscore.voxels > 64 * 64 * 32);
        let z = &p.pet_zscore;
        assert!(z.sd > 0.0 && z.mean > 0.0);
        let label = p.label.as_ref().unwrap();
        assert_eq!(label.shape(), [64, 64, 64]);
        let cov = p.coverage.unwrap();
        eprintln!(
            "{}: brain {:.1} ml at {:?}, centre {:?}, labels {}/{} inside",
            case.id, located.brain_ml, located.brain, located.centre, cov.inside, cov.voxels
        );
        assert!(cov.voxels > 0 && cov.inside <= cov.voxels);
        if cov.wholly_inside() {
            wholly_inside += 1;
        }
        // The crop is a lattice sub-grid of the common grid.
        let idx0 = p.common.geometry.world_to_index(p.crop.geometry.origin);
        assert!(idx0.iter().all(|v| (v - v.round()).abs() < 1e-9));
        // Labels on the crop map back onto the CT grid where the crop covers it.
        let back = mask_to_ct_grid(label, &Grid::of(case.mask.as_ref().unwrap())).unwrap();
        let orig = case.mask.as_ref().unwrap();
        let (mut both, mut a, mut b) = (0usize, 0usize, 0usize);
        for (ix, &v) in orig.data().indexed_iter() {
            let w = back.data()[ix];
            a += usize::from(v > 0);
            b += usize::from(w > 0);
            both += usize::from(v > 0 && w > 0 && v == w);
        }
        if cov.wholly_inside() {
            let dice = 2.0 * both as f64 / (a + b) as f64;
            assert!(dice >= 0.9, "{}: round-trip Dice {dice}", case.id);
        }
    }
    assert!(
        wholly_inside >= 3,
        "only {wholly_inside} of 4 tumours wholly inside the crop"
    );
}

#[test]
fn explicit_centre_and_bad_inputs() {
    let (_dir, cohort, config) = setup();
    let case = cohort.get(0).unwrap();
    let common = Grid::common_for(&case.ct, config.spacing_mm).unwrap();
    let p = preprocess_case(&case, &config, CropCentre::At(common.centre())).unwrap();
    assert!(p.located.is_none());
    let c = p.crop.centre();
    for a in 0..3 {
        assert!((c[a] - common.centre()[a]).abs() <= 1.5);
    }
    let far = CropCentre::At([1e4, 0.0, 0.0]);
    assert!(matches!(
        preprocess_case(&case, &config, far),
        Err(Error::Grid(_))
    ));
    let mut bad = config.clone();
    bad.crop_size = [0, 64, 64];
    assert!(matches!(
        preprocess_case(&case, &bad, CropCentre::Auto),
        Err(Error::Config(_))
    ));
    // A PET that does not overlap the CT at all.
    let mut moved = case.clone();
    let g = *moved.pet.geometry();
    let shifted = Geometry::new(
        g.spacing,
        [g.origin[0] + 1e4, g.origin[1], g.origin[2]],
        g.direction,
    )
    .unwrap();
    moved.pet = Volume::new(moved.pet.data().clone(), shifted).unwrap();
    assert!(matches!(
        preprocess_case(&moved, &config, CropCentre::At(common.centre())),
        Err(Error::NoOverlap(_))
    ));
    // A constant PET cannot be Z-scored.
    let mut flat = case.clone();
    flat.pet = Volume::new(Array3::from_elem(flat.pet.data().dim(), 1.0f32), g).unwrap();
    let err = preprocess_case(&flat, &config, CropCentre::At(common.centre())).unwrap_err();
    assert!(err.to_string().contains("constant PET"), "{err}");
}

/// A label file a voxel larger than the CT (as real data sometimes has) goes through physical
/// space once the loader is told to accept it; an empty label is a typed error.
#[test]
fn label_on_its_own_grid_and_empty_labels() {
    let (_dir, cohort, config) = setup();
    let rec = cohort.records()[0].clone();
    let mask_path = rec.mask.clone().unwrap();
    let mask = Volume::<u8>::read(&mask_path).unwrap();
    let (n0, n1, n2) = mask.data().dim();
    let mut bigger = Array3::<u8>::zeros((n0 + 1, n1, n2 + 1));
    bigger
        .slice_mut(ndarray::s![..n0, .., ..n2])
        .assign(mask.data());
    Volume::new(bigger, *mask.geometry())
        .unwrap()
        .write(&mask_path)
        .unwrap();
    let strict = adamss_io::LoadOptions::default();
    assert!(matches!(
        rec.load(&strict),
        Err(adamss_io::Error::GridMismatch { .. })
    ));
    let lenient = adamss_io::LoadOptions {
        mask_grid_must_match: false,
        ..Default::default()
    };
    let case = rec.load(&lenient).unwrap();
    let p = preprocess_case(&case, &config, CropCentre::Auto).unwrap();
    let orig_fg = mask.data().iter().filter(|&&v| v > 0).count();
    assert_eq!(p.coverage.unwrap().voxels, orig_fg);
    assert!(p.label.unwrap().data().iter().any(|&v| v > 0));

    let mut empty = case.clone();
    let m = empty.mask.as_ref().unwrap();
    empty.mask = Some(Volume::new(Array3::zeros(m.data().dim()), *m.geometry()).unwrap());
    assert!(matches!(
        preprocess_case(&empty, &config, CropCentre::Auto),
        Err(Error::EmptyLabel(_))
    ));
}

/// What a user outside AdaMSS's network needs: any crop size (not only multiples of 16), the
/// crops in HU and SUV (`ct_hu`, `pet_suv`), the PET left in SUV (`PetNormalization::Suv`), and
/// a grid of the user's own (`preprocess_on_grid`), each equal to the resampler's output on
/// that grid with the documented normalisation.
#[test]
fn any_crop_size_hu_and_suv_crops_and_a_grid_of_ones_own() {
    use adamss_preprocess::{preprocess_on_grid, resample_linear, PetNormalization};
    let (_dir, cohort, config) = setup();
    let case = cohort.get(0).unwrap();
    let odd = PreprocessConfig {
        crop_size: [40, 36, 30],
        ..config.clone()
    };
    let p = preprocess_case(&case, &odd, CropCentre::Auto).unwrap();
    assert_eq!(p.ct.shape(), [40, 36, 30]);
    // The same crop grid through preprocess_on_grid gives the same volumes, bit for bit.
    let again = preprocess_on_grid(
        &case.id,
        &case.ct,
        &case.pet,
        case.mask.as_ref(),
        &p.crop,
        &odd,
    )
    .unwrap();
    assert_eq!(again.ct.data(), p.ct.data());
    assert_eq!(again.pet.data(), p.pet.data());
    assert_eq!(
        again.label.as_ref().unwrap().data(),
        p.label.as_ref().unwrap().data()
    );
    // SUV: the resampled PET itself; the Z-scored crop undone equals it to float rounding.
    let suv = PreprocessConfig {
        pet_normalization: PetNormalization::Suv,
        ..odd.clone()
    };
    let raw = preprocess_on_grid(&case.id, &case.ct, &case.pet, None, &p.crop, &suv).unwrap();
    let direct = resample_linear(&case.pet, &p.crop, odd.pet_fill).unwrap();
    assert_eq!(raw.pet.data(), direct.data());
    for (a, b) in p.pet_suv().data().iter().zip(direct.data()) {
        assert!((a - b).abs() <= 1e-5 * b.abs().max(1.0), "{a} vs {b}");
    }
    // HU: the resampled CT clipped to the window.
    let hu = resample_linear(&case.ct, &p.crop, odd.ct_fill_hu).unwrap();
    let [lo, hi] = odd.ct_window;
    for (a, b) in p.ct_hu(odd.ct_window).data().iter().zip(hu.data()) {
        assert!((a - b.clamp(lo, hi)).abs() <= 1e-3, "{a} vs {b}");
    }
    // A centre given in LPS (as SimpleITK reports points) is the same crop as in RAS.
    let centre = p.crop.geometry.index_to_world([20.0, 18.0, 15.0]);
    let lps = adamss_io::Geometry::axis_aligned([1.0; 3], centre)
        .unwrap()
        .origin_lps();
    let a = preprocess_case(&case, &odd, CropCentre::At(centre)).unwrap();
    let b = preprocess_case(&case, &odd, CropCentre::at_lps(lps)).unwrap();
    assert_eq!(a.crop, b.crop);
    // A grid of one's own: 2 mm, 20³, starting inside the crop; its CT is the resampled CT
    // mapped from the window to [-1, 1].
    let origin = p.crop.geometry.index_to_world([10.0, 10.0, 10.0]);
    let grid = Grid {
        shape: [20; 3],
        geometry: Geometry::axis_aligned([2.0; 3], origin).unwrap(),
    };
    let own = preprocess_on_grid(&case.id, &case.ct, &case.pet, None, &grid, &odd).unwrap();
    assert_eq!((own.crop, own.ct.shape()), (grid, [20; 3]));
    let hu = resample_linear(&case.ct, &grid, odd.ct_fill_hu).unwrap();
    for (a, b) in own.ct.data().iter().zip(hu.data()) {
        let unit = (b.clamp(lo, hi) - lo) / (hi - lo) * 2.0 - 1.0;
        assert!((a - unit).abs() <= 1e-6, "{a} vs {unit}");
    }
}
