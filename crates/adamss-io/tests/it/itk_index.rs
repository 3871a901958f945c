//! `Geometry::world_to_index_matrix` against SimpleITK's `TransformPhysicalPointToContinuousIndex`
//! to the last bit (`tools/itk_index_reference.py` → `tests/data/preprocess/itk_continuous_index.json`):
//! rotations, flips, permutations, small rotations and sheared directions. Tolerance: none — a
//! nearest-neighbour tie on an oblique grid turns on the last bit.

use adamss_io::Geometry;
use serde_json::Value;

use crate::data_dir;

fn number(v: &Value) -> f64 {
    f64::from_bits(u64::from_str_radix(v.as_str().expect("hex"), 16).expect("hex digits"))
}

fn three(v: &Value) -> [f64; 3] {
    let a = v.as_array().expect("array");
    [number(&a[0]), number(&a[1]), number(&a[2])]
}

#[test]
fn continuous_indices_equal_simpleitks_bit_for_bit() {
    let path = data_dir().join("preprocess/itk_continuous_index.json");
    let json: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut checked = 0;
    for case in json["geometries"].as_array().unwrap() {
        let d: Vec<f64> = case["direction"]
            .as_array()
            .unwrap()
            .iter()
            .map(number)
            .collect();
        let direction = [[d[0], d[1], d[2]], [d[3], d[4], d[5]], [d[6], d[7], d[8]]];
        let g =
            Geometry::from_itk(three(&case["spacing"]), three(&case["origin"]), direction).unwrap();
        let m = g.world_to_index_matrix();
        for p in case["points"].as_array().unwrap() {
            // SimpleITK's point is LPS; ours RAS (x and y negated: exact).
            let lps = three(&p["point"]);
            let world = [-lps[0], -lps[1], lps[2]];
            let offset = [0, 1, 2].map(|a| world[a] - g.origin[a]);
            let ours = [0, 1, 2].map(|r| (0..3).fold(0.0, |acc, c| acc + m[r][c] * offset[c]));
            let theirs = three(&p["index"]);
            assert_eq!(
                ours.map(f64::to_bits),
                theirs.map(f64::to_bits),
                "{}: {ours:?} vs SimpleITK {theirs:?}",
                case["kind"]
            );
            checked += 1;
        }
    }
    assert_eq!(checked, 150 * 6);
}
