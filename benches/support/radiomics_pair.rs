//! The 160³ PET + CT pair of the radiomics bench and of the AdaMSS-preset golden test
//! (`tests/it/radiomics.rs`): 1 mm voxels, a ≈ 29 cm³ spherical tumour, seeded noise.
//! PyRadiomics' reference values for it come from the bench's files
//! (`tools/pyradiomics_adamss_160.py`), so the two must stay the same volumes.

use adamss::io::{Geometry, Volume};
use ndarray::Array3;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// CT (whole numbers, stored as f32), PET and mask, in that order.
pub fn pair() -> (Volume<f32>, Volume<f32>, Volume<u8>) {
    let g = Geometry::axis_aligned([1.0; 3], [0.0; 3]).expect("geometry");
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let n = 160;
    let c = 80.0;
    let r = 19.0; // 4/3 π 19³ ≈ 28.7 cm³
    let inside = |i: usize, j: usize, k: usize| {
        let d = ((i as f64 - c).powi(2) + (j as f64 - c + 10.0).powi(2) + (k as f64 - c).powi(2))
            .sqrt();
        d <= r
    };
    let ct = Array3::from_shape_fn((n, n, n), |(i, j, k)| {
        let base = if inside(i, j, k) { 55.0 } else { 40.0 };
        f32::from((base + rng.gen_range(-60.0..60.0) + ((i + 2 * j) % 50) as f64).round() as i16)
    });
    let pet = Array3::from_shape_fn((n, n, n), |(i, j, k)| {
        let base = if inside(i, j, k) { 8.0 } else { 1.0 };
        (base * rng.gen_range(0.7..1.3)) as f32
    });
    let mask = Array3::from_shape_fn((n, n, n), |(i, j, k)| u8::from(inside(i, j, k)));
    (
        Volume::new(ct, g).expect("ct"),
        Volume::new(pet, g).expect("pet"),
        Volume::new(mask, g).expect("mask"),
    )
}
