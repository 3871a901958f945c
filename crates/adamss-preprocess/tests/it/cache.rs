use adamss_io::{generate_synthetic, Cohort, LoadOptions, SyntheticConfig};
use adamss_preprocess::{
    CacheOutcome, CropCentre, LocatorConfig, PreprocessCache, PreprocessConfig,
};

fn config() -> PreprocessConfig {
    PreprocessConfig {
        spacing_mm: 2.0,
        crop_size: [32; 3],
        locator: LocatorConfig {
            min_brain_ml: 1.0,
            below_brain_mm: 15.0,
            ..LocatorConfig::default()
        },
        ..PreprocessConfig::default()
    }
}

#[test]
fn hit_after_miss_stale_on_change_and_no_torn_entries() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cohort");
    let mut synth = SyntheticConfig::tiny();
    synth.field_of_view_mm = [64.0; 3];
    synth.patients = 2;
    generate_synthetic(&root, &synth, &|_| {}).unwrap();
    let (cohort, _) = Cohort::hecktor(&root).unwrap();
    let rec = cohort.records()[0].clone();
    let load = LoadOptions::default();
    let cache = PreprocessCache::open(dir.path().join("cache"), &config()).unwrap();

    let (a, o1) = cache.get(&rec, &load, CropCentre::Auto).unwrap();
    let (b, o2) = cache.get(&rec, &load, CropCentre::Auto).unwrap();
    assert_eq!((o1, o2), (CacheOutcome::Miss, CacheOutcome::Hit));
    assert_eq!(a.ct.data(), b.ct.data());
    assert_eq!(a.pet.data(), b.pet.data());
    assert_eq!(
        a.label.as_ref().unwrap().data(),
        b.label.as_ref().unwrap().data()
    );
    assert_eq!(a.crop, b.crop);
    assert_eq!(a.pet_zscore, b.pet_zscore);
    assert_eq!(a.coverage, b.coverage);

    // Another crop centre: a different entry.
    let (_, o3) = cache
        .get(&rec, &load, CropCentre::At(a.crop.centre()))
        .unwrap();
    assert_eq!(o3, CacheOutcome::Miss);

    // A torn entry (volumes written, marker missing) is not served.
    std::fs::remove_file(cache.dir().join(format!("{}.json", rec.id))).unwrap();
    let (_, o4) = cache.get(&rec, &load, CropCentre::Auto).unwrap();
    assert_eq!(o4, CacheOutcome::Miss);

    // A changed source file makes the entry stale.
    std::thread::sleep(std::time::Duration::from_millis(20));
    let pet = std::fs::read(&rec.pet).unwrap();
    std::fs::write(&rec.pet, &pet).unwrap();
    let (_, o5) = cache.get(&rec, &load, CropCentre::Auto).unwrap();
    assert_eq!(o5, CacheOutcome::Miss);
    let (_, o6) = cache.get(&rec, &load, CropCentre::Auto).unwrap();
    assert_eq!(o6, CacheOutcome::Hit);

    // Another configuration lives in another folder; the config is recorded.
    let mut other = config();
    other.ct_window = [-200.0, 300.0];
    let cache2 = PreprocessCache::open(dir.path().join("cache"), &other).unwrap();
    assert_ne!(cache.dir(), cache2.dir());
    assert!(cache2.dir().join("config.json").is_file());
    let (_, o7) = cache2.get(&rec, &load, CropCentre::Auto).unwrap();
    assert_eq!(o7, CacheOutcome::Miss);

    // Ids that could escape the folder are refused.
    let mut evil = rec.clone();
    evil.id = "../x".into();
    assert!(cache.get(&evil, &load, CropCentre::Auto).is_err());
    // No temporary files are left behind.
    let leftovers = std::fs::read_dir(cache.dir())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .contains("tmp")
        })
        .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn fill_stores_every_patient_then_hits_and_names_failures() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cohort");
    let mut synth = SyntheticConfig::tiny();
    synth.field_of_view_mm = [64.0; 3];
    synth.patients = 3;
    generate_synthetic(&root, &synth, &|_| {}).unwrap();
    let (cohort, _) = Cohort::hecktor_images(&root).unwrap();
    let cache = PreprocessCache::open(dir.path().join("cache"), &config()).unwrap();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let first = cache.fill(&cohort, &|_, total| {
        assert_eq!(total, 3);
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    assert_eq!(calls.into_inner(), 3);
    assert_eq!((first.coverages.len(), first.hits), (3, 0));
    assert!(first.failures.is_empty());
    // A patient whose CT is truncated: the others are still served, from the cache.
    let bad = &cohort.records()[1];
    let bytes = std::fs::read(&bad.ct).unwrap();
    std::fs::write(&bad.ct, &bytes[..bytes.len() / 2]).unwrap();
    let second = cache.fill(&cohort, &|_, _| {});
    assert_eq!((second.coverages.len(), second.hits), (2, 2));
    assert_eq!(second.failures.len(), 1);
    assert_eq!(second.failures[0].0, bad.id);
    let text = second.to_string();
    assert!(
        text.starts_with(
            "preprocessed 2 patients onto [32, 32, 32] crops at 2.00 mm (2 from the cache"
        ),
        "{text}"
    );
    assert!(text.contains(&format!("failed: {}", bad.id)), "{text}");
}
