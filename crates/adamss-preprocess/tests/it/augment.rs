use adamss_preprocess::{augment, AugmentConfig, Error, Sample};
use ndarray::Array3;

fn sample(n: usize) -> Sample {
    let img = Array3::from_shape_fn((n, n, n), |(i, j, k)| (i + 2 * j + 3 * k) as f32 * 0.01);
    let mut lab = Array3::<u8>::zeros((n, n, n));
    let c = n as f64 / 2.0;
    for ((i, j, k), v) in lab.indexed_iter_mut() {
        let r2 = (i as f64 - c).powi(2) + (j as f64 - c).powi(2) + (k as f64 - c).powi(2);
        if r2 <= (n as f64 / 6.0).powi(2) {
            *v = 1;
        } else if r2 <= (n as f64 / 4.0).powi(2) && i as f64 > c {
            *v = 2;
        }
    }
    Sample {
        images: vec![img.clone(), img.mapv(|v| -v)],
        labels: Sample::one_hot(&lab, &[1, 2]),
    }
}

fn small() -> AugmentConfig {
    AugmentConfig {
        crop: [48; 3],
        ..AugmentConfig::default()
    }
}

#[test]
fn shapes_binary_labels_and_determinism() {
    let s = sample(64);
    let a = augment(&s, &small(), 7).unwrap();
    let b = augment(&s, &small(), 7).unwrap();
    let c = augment(&s, &small(), 8).unwrap();
    assert_eq!(a, b, "same seed, same sample");
    assert_ne!(a, c, "another seed, another sample");
    for ch in a.images.iter().chain(&a.labels) {
        assert_eq!(ch.dim(), (48, 48, 48));
    }
    for l in &a.labels {
        assert!(l.iter().all(|&v| v == 0.0 || v == 1.0));
    }
    // The inner ball (label 1, radius n/6 ≈ 10.7 voxels) survives with a similar volume:
    // at most 10 % scaling, and it is away from the crop edges unless translated out.
    let before: f32 = s.labels[0].sum();
    let after: f32 = a.labels[0].sum();
    assert!(
        after > 0.5 * before && after < 1.5 * before,
        "{before} → {after}"
    );
}

#[test]
fn identity_settings_only_crop() {
    let s = sample(32);
    let cfg = AugmentConfig {
        translate_fraction: 0.0,
        scale: [1.0, 1.0],
        shear_deg: 0.0,
        rotate_deg: 0.0,
        crop: [32; 3],
        flips: false,
        label_threshold: 0.2,
    };
    let a = augment(&s, &cfg, 3).unwrap();
    for (x, y) in a.images.iter().zip(&s.images) {
        let d = (x - y).mapv(f32::abs).fold(0.0f32, |m, &v| m.max(v));
        assert!(d < 1e-5, "{d}");
    }
    assert_eq!(a.labels, s.labels);
}

#[test]
fn bad_settings_are_rejected() {
    let s = sample(32);
    assert!(
        matches!(augment(&s, &small(), 0), Err(Error::Config(_))),
        "crop 48 > 32"
    );
    let bad = AugmentConfig {
        scale: [1.2, 0.8],
        ..AugmentConfig::default()
    };
    assert!(bad.validate().is_err());
    let empty = Sample {
        images: vec![],
        labels: vec![],
    };
    assert!(augment(&empty, &AugmentConfig::default(), 0).is_err());
}

/// The warp walks C-order and Fortran-order channels in different loop orders (and a mixed
/// sample is brought to one layout); the result must not depend on the input's layout.
#[test]
fn memory_layout_does_not_change_the_result() {
    use ndarray::ShapeBuilder;
    // Not a cube, so that a stride taken from the wrong axis shows.
    let cube = sample(40);
    let cut = |a: &Array3<f32>| a.slice(ndarray::s![..38, 1..36, 3..]).to_owned();
    let c_order = Sample {
        images: cube.images.iter().map(cut).collect(),
        labels: cube.labels.iter().map(cut).collect(),
    };
    let fortran = |a: &Array3<f32>| {
        let mut f = Array3::zeros(a.dim().f());
        f.assign(a);
        f
    };
    let f_order = Sample {
        images: c_order.images.iter().map(fortran).collect(),
        labels: c_order.labels.iter().map(fortran).collect(),
    };
    let mixed = Sample {
        images: vec![f_order.images[0].clone(), c_order.images[1].clone()],
        labels: c_order.labels.clone(),
    };
    let cfg = AugmentConfig {
        crop: [32, 28, 24],
        ..AugmentConfig::default()
    };
    for seed in 0..6 {
        let want = augment(&c_order, &cfg, seed).unwrap();
        assert_eq!(augment(&f_order, &cfg, seed).unwrap(), want, "seed {seed}");
        assert_eq!(augment(&mixed, &cfg, seed).unwrap(), want, "seed {seed}");
    }
}

/// One plane pass against SciPy's `ndimage.affine_transform(order=1, mode="grid-constant")`
/// (`tools/augment_reference.py` → `tests/data/preprocess/augment_scipy.json`): twelve random
/// volumes and parameter sets covering the three planes of `augment` and a swapped plane
/// (u > v), crops, scale on either axis, rotations up to ±90°. Tolerance 1e-5 absolute on
/// values of order 1: our inputs are the reference's float64 values rounded to float32.
#[test]
fn plane_pass_matches_scipy() {
    use adamss_preprocess::{warp_plane, PlaneParams};
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/data/preprocess/augment_scipy.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let cases = json["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 12);
    let f64s = |v: &serde_json::Value| -> Vec<f64> { serde_json::from_value(v.clone()).unwrap() };
    let usizes =
        |v: &serde_json::Value| -> Vec<usize> { serde_json::from_value(v.clone()).unwrap() };
    for (n, c) in cases.iter().enumerate() {
        let (shape, out_shape) = (usizes(&c["shape"]), usizes(&c["output_shape"]));
        let input = Array3::from_shape_vec(
            (shape[0], shape[1], shape[2]),
            f64s(&c["input"]).iter().map(|&v| v as f32).collect(),
        )
        .unwrap();
        let want = Array3::from_shape_vec(
            (out_shape[0], out_shape[1], out_shape[2]),
            f64s(&c["output"]),
        )
        .unwrap();
        let axes = usizes(&c["axes"]);
        let translate = f64s(&c["translate"]);
        let p = PlaneParams {
            axes: [axes[0], axes[1], axes[2]],
            translate: [translate[0], translate[1]],
            scale: (
                c["scale"].as_f64().unwrap(),
                c["scale_axis"].as_u64().unwrap() as usize,
            ),
            shear: c["shear"].as_f64().unwrap(),
            rotate: c["rotate"].as_f64().unwrap(),
            crop_start: c["crop_start"].as_u64().unwrap() as usize,
        };
        let len = c["len"].as_u64().unwrap() as usize;
        let got = warp_plane(&[&input], &p, len).unwrap().remove(0);
        assert_eq!(got.shape(), want.shape(), "case {n}");
        let err = got
            .iter()
            .zip(want.iter())
            .map(|(&g, &w)| (f64::from(g) - w).abs())
            .fold(0.0, f64::max);
        assert!(
            err < 1e-5,
            "case {n} ({p:?}): max |ours − SciPy| = {err:.2e}"
        );
    }
}

#[test]
fn plane_pass_rejects_bad_parameters() {
    use adamss_preprocess::{warp_plane, PlaneParams};
    let a = Array3::<f32>::zeros((6, 5, 4));
    let b = Array3::<f32>::zeros((6, 5, 3));
    let p = PlaneParams {
        axes: [0, 1, 2],
        translate: [0.0, 0.0],
        scale: (1.0, 0),
        shear: 0.0,
        rotate: 0.0,
        crop_start: 1,
    };
    let config_error = |r: Result<Vec<Array3<f32>>, Error>| matches!(r, Err(Error::Config(_)));
    assert!(config_error(warp_plane(&[&a, &b], &p, 2)), "shapes differ");
    assert!(config_error(warp_plane(&[&a], &p, 4)), "1 + 4 > 4 slices");
    assert!(config_error(warp_plane(&[&a], &p, usize::MAX)), "overflow");
    let bad_axes = PlaneParams {
        axes: [0, 0, 2],
        ..p
    };
    assert!(config_error(warp_plane(&[&a], &bad_axes, 2)), "axes");
    assert_eq!(warp_plane(&[&a], &p, 3).unwrap()[0].dim(), (6, 5, 3));
}
