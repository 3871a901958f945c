//! The synthetic cohort generator: layout, grids, labels, determinism, and that the
//! documented survival model carries signal.

use adamss_io::synthetic::{self, SyntheticConfig};
use adamss_io::{generate_synthetic, Cohort, CohortSummary, Dataset, Error, Volume};

/// Harrell's C of `risk` against `(time, event)` (ties in risk count one half).
fn harrell(risk: &[f64], time: &[f64], event: &[bool]) -> f64 {
    let (mut conc, mut total) = (0.0, 0.0);
    for i in 0..risk.len() {
        for j in 0..risk.len() {
            if event[i] && time[i] < time[j] {
                total += 1.0;
                conc += if risk[i] > risk[j] {
                    1.0
                } else if risk[i] == risk[j] {
                    0.5
                } else {
                    0.0
                };
            }
        }
    }
    conc / total
}

#[test]
fn tiny_cohort_loads_with_distinct_grids_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cohort");
    let config = SyntheticConfig::tiny();
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let out = generate_synthetic(&root, &config, &|_| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(calls.into_inner(), config.patients);
    assert_eq!(out.truth.len(), config.patients);
    assert_eq!(synthetic::read_truth(&root).unwrap(), out.truth);

    let (cohort, report) = Cohort::hecktor(&root).unwrap();
    let with_endpoint = out.truth.iter().filter(|t| t.in_endpoint_table).count();
    assert_eq!(cohort.len(), with_endpoint);
    assert_eq!(report.no_endpoint.len(), config.patients - with_endpoint);
    assert!(report.no_label.is_empty() && report.no_clinical.is_empty());

    for i in 0..cohort.len() {
        let case = cohort.get(i).unwrap();
        let truth = out.truth.iter().find(|t| t.patient_id == case.id).unwrap();
        let (ct, pet) = (case.ct.geometry(), case.pet.geometry());
        assert_eq!(case.ct.shape(), [24, 24, 16]);
        assert_ne!(ct.spacing, pet.spacing);
        assert_ne!(ct.origin, pet.origin);
        assert_ne!(ct.direction, pet.direction);
        // PET covers the CT field of view.
        for corner in [[0.0, 0.0, 0.0], [23.0, 23.0, 15.0]] {
            let idx = pet.world_to_index(ct.index_to_world(corner));
            let shape = case.pet.shape();
            assert!(
                (0..3).all(|a| idx[a] > -0.5 && idx[a] < shape[a] as f64 - 0.5),
                "{idx:?}"
            );
        }
        let mask = case.mask.as_ref().unwrap();
        assert!(mask.data().iter().all(|&l| l <= 2));
        let ml = ct.spacing.iter().product::<f64>() / 1000.0;
        let gtvp = mask.data().iter().filter(|&&l| l == 1).count() as f64 * ml;
        assert!(gtvp > 0.0, "{}: no primary tumour", case.id);
        assert!((gtvp - truth.gtvp_volume_ml).abs() < 1e-9);
        let nodes = mask.data().iter().filter(|&&l| l == 2).count();
        assert_eq!(
            nodes > 0,
            truth.nodes > 0 && truth.tumour_volume_ml > truth.gtvp_volume_ml
        );
        // CT in HU with air outside; PET non-negative with a hot tumour.
        let ct_min = case.ct.data().iter().copied().fold(f32::MAX, f32::min);
        assert!(ct_min <= -950.0);
        assert!(case.pet.data().iter().all(|&v| v >= 0.0));
        let s = case.survival.unwrap();
        assert_eq!((s.time(), s.event()), (truth.time_days, truth.event));
        assert!(case.clinical.get("HPV status (0=-, 1=+)").is_some());
    }
}

#[test]
fn generation_is_deterministic_and_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let config = SyntheticConfig {
        patients: 3,
        ..SyntheticConfig::tiny()
    };
    let a = generate_synthetic(dir.path().join("a"), &config, &|_| {}).unwrap();
    let b = generate_synthetic(dir.path().join("b"), &config, &|_| {}).unwrap();
    assert_eq!(a.truth, b.truth);
    assert!(synthetic::is_current(&a.root, &config));
    assert!(!synthetic::is_current(
        &a.root,
        &SyntheticConfig {
            seed: 99,
            ..config.clone()
        }
    ));
    let file = "imagesTr/CHUM-001__PT.nii.gz";
    let va = Volume::<f32>::read(a.root.join(file)).unwrap();
    let vb = Volume::<f32>::read(b.root.join(file)).unwrap();
    assert_eq!(va, vb);
    let other = SyntheticConfig {
        seed: 7,
        ..config.clone()
    };
    let c = generate_synthetic(dir.path().join("c"), &other, &|_| {}).unwrap();
    assert_ne!(a.truth, c.truth);
    // A patient's data do not depend on how many patients are generated.
    let more = SyntheticConfig {
        patients: 5,
        ..config
    };
    let d = generate_synthetic(dir.path().join("d"), &more, &|_| {}).unwrap();
    assert_eq!(d.truth[..3], a.truth[..]);
    // Regenerating over a synthetic cohort replaces it.
    generate_synthetic(dir.path().join("a"), &other, &|_| {}).unwrap();
    assert_eq!(
        synthetic::read_truth(dir.path().join("a")).unwrap(),
        c.truth
    );
}

#[test]
fn refuses_bad_configs_and_foreign_folders() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious.txt"), "keep me").unwrap();
    let err = generate_synthetic(dir.path(), &SyntheticConfig::tiny(), &|_| {}).unwrap_err();
    assert!(matches!(err, Error::Layout { .. }), "{err}");
    assert!(dir.path().join("precious.txt").exists());
    for bad in [
        SyntheticConfig {
            patients: 0,
            ..SyntheticConfig::tiny()
        },
        SyntheticConfig {
            ct_spacing_mm: [0.0, 1.0, 1.0],
            ..SyntheticConfig::tiny()
        },
        SyntheticConfig {
            endpoint_fraction: 1.5,
            ..SyntheticConfig::tiny()
        },
        SyntheticConfig {
            centres: vec!["A-B".into()],
            ..SyntheticConfig::tiny()
        },
        SyntheticConfig {
            pet_spacing_mm: [40.0; 3],
            ..SyntheticConfig::tiny()
        },
    ] {
        assert!(matches!(bad.validate(), Err(Error::Config(_))), "{bad:?}");
        let out = dir.path().join("new");
        assert!(generate_synthetic(&out, &bad, &|_| {}).is_err());
        assert!(!out.exists());
    }
}

/// The documented hazard model carries signal: the true risk orders survival well, tumour
/// volume alone less well but better than chance. 120 patients on an 8-voxel grid.
#[test]
fn survival_signal_between_volume_and_oracle() {
    let dir = tempfile::tempdir().unwrap();
    let config = SyntheticConfig {
        patients: 120,
        seed: 3,
        field_of_view_mm: [32.0; 3],
        ct_spacing_mm: [4.0; 3],
        pet_spacing_mm: [8.0; 3],
        endpoint_fraction: 1.0,
        ..SyntheticConfig::default()
    };
    let out = generate_synthetic(dir.path().join("c"), &config, &|_| {}).unwrap();
    let t: Vec<f64> = out.truth.iter().map(|r| r.time_days).collect();
    let e: Vec<bool> = out.truth.iter().map(|r| r.event).collect();
    let oracle: Vec<f64> = out.truth.iter().map(|r| r.true_risk).collect();
    let volume: Vec<f64> = out.truth.iter().map(|r| r.tumour_volume_ml).collect();
    let c_oracle = harrell(&oracle, &t, &e);
    let c_volume = harrell(&volume, &t, &e);
    let events = e.iter().filter(|&&x| x).count();
    assert!((30..110).contains(&events), "{events} events");
    assert!(c_oracle > 0.72, "oracle C = {c_oracle}");
    assert!(
        c_volume > 0.52 && c_volume < c_oracle,
        "volume C = {c_volume}, oracle {c_oracle}"
    );
}

#[test]
fn ensure_reuses_open_summarises_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("nested/cohort");
    let config = SyntheticConfig {
        patients: 4,
        ..SyntheticConfig::tiny()
    };
    let made = synthetic::ensure(&root, &config, &|_| {}).unwrap().unwrap();
    assert!(synthetic::ensure(&root, &config, &|_| {})
        .unwrap()
        .is_none());

    // A folder is joined (the report comes back), a manifest is read as it is.
    let (cohort, report) = Cohort::open(&root).unwrap();
    let report = report.unwrap();
    assert_eq!(cohort.len(), report.joined);
    let (images, _) = Cohort::open_images(&root).unwrap();
    assert_eq!(images.len(), 4);
    let manifest = dir.path().join("m.csv");
    let rows: Vec<String> = (images.records().iter())
        .map(|r| format!("{},{},{}", r.id, r.ct.display(), r.pet.display()))
        .collect();
    std::fs::write(
        &manifest,
        format!("PatientID,ct,pet\n{}\n", rows.join("\n")),
    )
    .unwrap();
    let (listed, none) = Cohort::open(&manifest).unwrap();
    assert!(none.is_none());
    assert_eq!(listed.len(), 4);
    let odd = images.filter_positions(|i| i % 2 == 1);
    let ids: Vec<&str> = odd.records().iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            images.records()[1].id.as_str(),
            images.records()[3].id.as_str()
        ]
    );

    // The summary's labelled GTVp volume is the generator's own count of it.
    let summary = CohortSummary::of(&images, Some(&made.truth));
    assert_eq!(summary.loaded().count(), 4);
    for s in summary.loaded() {
        let truth = made.truth.iter().find(|t| t.patient_id == s.id).unwrap();
        assert!(
            (s.label_ml[0] - truth.gtvp_volume_ml).abs() < 1e-9,
            "{}",
            s.id
        );
        assert!(
            (s.label_ml[0] + s.label_ml[1] - truth.tumour_volume_ml).abs() < 1e-9,
            "{}",
            s.id
        );
        assert_eq!(s.true_risk, Some(truth.true_risk));
    }
    let text = summary.to_string();
    let events = made.truth.iter().filter(|t| t.event).count();
    let tail = format!(
        "4 cases loaded, 0 failed; {events} events ({:.0} %)",
        25.0 * events as f64
    );
    assert!(text.ends_with(&tail), "{text}");

    // Header display: one line per field, as `adamss inspect` prints it.
    let header = adamss_io::read_header(&images.records()[0].ct)
        .unwrap()
        .to_string();
    assert!(
        header.starts_with("shape:     [") && header.contains("\ndatatype:  INT16 (4)\n"),
        "{header}"
    );
}

/// `beyond-labels`: the same patients as `labels-only` (labels, clinical table, the labelled
/// part of the risk) plus PET-avid findings outside every label, each adding its documented
/// log hazard ratio; the finding maps say where they are.
#[test]
fn beyond_labels_adds_unlabelled_pet_avid_findings() {
    use adamss_io::synthetic::{beyond_labels_findings, Regime, FINDINGS_DIR};
    let dir = tempfile::tempdir().unwrap();
    let labels_only = SyntheticConfig {
        patients: 40,
        seed: 11,
        ct_spacing_mm: [4.0; 3],
        pet_spacing_mm: [4.0; 3],
        ..SyntheticConfig::default()
    };
    let beyond = SyntheticConfig {
        regime: Regime::BeyondLabels,
        ..labels_only.clone()
    };
    let a = generate_synthetic(dir.path().join("a"), &labels_only, &|_| {}).unwrap();
    let b = generate_synthetic(dir.path().join("b"), &beyond, &|_| {}).unwrap();
    assert!(!a.root.join(FINDINGS_DIR).exists());
    let clinical = "hecktor2022_clinical_info_training.csv";
    assert_eq!(
        std::fs::read(a.root.join(clinical)).unwrap(),
        std::fs::read(b.root.join(clinical)).unwrap()
    );
    let specs = beyond_labels_findings();
    let mut seen = [0usize; 3];
    for (ta, tb) in a.truth.iter().zip(&b.truth) {
        assert!(!(ta.unlabelled_node || ta.bone_lesion || ta.second_primary));
        assert_eq!(ta.true_risk, ta.risk_without_findings);
        assert_eq!(tb.risk_without_findings, ta.true_risk);
        let flags = [tb.unlabelled_node, tb.bone_lesion, tb.second_primary];
        let added: f64 = specs
            .iter()
            .zip(flags)
            .filter(|(_, f)| *f)
            .map(|(s, _)| s.hazard_ratio.ln())
            .sum();
        assert!((tb.true_risk - tb.risk_without_findings - added).abs() < 1e-12);
        let id = &tb.patient_id;
        let label = |root: &std::path::Path| {
            Volume::<u8>::read(root.join(format!("labelsTr/{id}.nii.gz"))).unwrap()
        };
        let (la, lb) = (label(&a.root), label(&b.root));
        assert_eq!(la, lb, "{id}: labels differ between regimes");
        let map = Volume::<u8>::read(b.root.join(format!("{FINDINGS_DIR}/{id}.nii.gz"))).unwrap();
        assert_eq!(map.geometry(), lb.geometry());
        for (k, spec) in specs.iter().enumerate() {
            let voxels: Vec<_> = map
                .data()
                .indexed_iter()
                .filter(|(_, &v)| v == spec.code)
                .map(|(idx, _)| idx)
                .collect();
            assert_eq!(
                !voxels.is_empty(),
                flags[k],
                "{id}: {} map vs truth",
                spec.name
            );
            seen[k] += usize::from(flags[k]);
            // Outside every label, and PET-avid: the beyond-labels PET is hotter there.
            assert!(voxels.iter().all(|&idx| lb.data()[idx] == 0));
            if voxels.is_empty() {
                continue;
            }
            let pet = |root: &std::path::Path| {
                Volume::<f32>::read(root.join(format!("imagesTr/{id}__PT.nii.gz"))).unwrap()
            };
            let (pa, pb) = (pet(&a.root), pet(&b.root));
            let rise: f64 = voxels
                .iter()
                .map(|&(i, j, k)| {
                    let w = map
                        .geometry()
                        .index_to_world([i as f64, j as f64, k as f64]);
                    let c = pb.geometry().world_to_index(w).map(|x| x.round() as usize);
                    f64::from(pb.data()[c] - pa.data()[c])
                })
                .sum::<f64>()
                / voxels.len() as f64;
            assert!(
                rise > 0.25,
                "{id}: {} raises PET by {rise} SUV only",
                spec.name
            );
        }
    }
    assert!(seen.iter().all(|&n| n > 0), "every kind appears: {seen:?}");
    // The finding maps' folder does not disturb the HECKTOR layout.
    let (cohort, _) = Cohort::hecktor(&b.root).unwrap();
    assert_eq!(cohort.len(), Cohort::hecktor(&a.root).unwrap().0.len());
}

/// In `beyond-labels` the findings carry real risk: the full true risk orders survival better
/// than its labelled part alone. 160 patients on an 8-voxel grid.
#[test]
fn beyond_labels_findings_carry_survival_signal() {
    let dir = tempfile::tempdir().unwrap();
    let config = SyntheticConfig {
        patients: 160,
        seed: 3,
        field_of_view_mm: [32.0; 3],
        ct_spacing_mm: [4.0; 3],
        pet_spacing_mm: [8.0; 3],
        endpoint_fraction: 1.0,
        regime: synthetic::Regime::BeyondLabels,
        ..SyntheticConfig::default()
    };
    let out = generate_synthetic(dir.path().join("c"), &config, &|_| {}).unwrap();
    let t: Vec<f64> = out.truth.iter().map(|r| r.time_days).collect();
    let e: Vec<bool> = out.truth.iter().map(|r| r.event).collect();
    let full: Vec<f64> = out.truth.iter().map(|r| r.true_risk).collect();
    let labelled: Vec<f64> = out.truth.iter().map(|r| r.risk_without_findings).collect();
    let (c_full, c_labelled) = (harrell(&full, &t, &e), harrell(&labelled, &t, &e));
    eprintln!("C full {c_full:.3}, labelled part {c_labelled:.3}");
    assert!(
        c_full > c_labelled + 0.01,
        "C full {c_full}, labelled {c_labelled}"
    );
}

/// `varied` scanners: each centre's CT and PET grids are the configuration's scaled by its
/// profile, the patients themselves (true risk, clinical truth, endpoints) are those of the
/// `uniform` cohort, and each centre leaves its own clinical fields empty.
#[test]
fn varied_scanners_differ_by_centre_as_documented() {
    use adamss_io::synthetic::{ScannerProfile, Scanners};
    let dir = tempfile::tempdir().unwrap();
    let uniform = SyntheticConfig {
        patients: 8,
        ..SyntheticConfig::tiny()
    };
    let varied = SyntheticConfig {
        scanners: Scanners::Varied,
        ..uniform.clone()
    };
    let a = generate_synthetic(dir.path().join("u"), &uniform, &|_| {}).unwrap();
    let b = generate_synthetic(dir.path().join("v"), &varied, &|_| {}).unwrap();
    let profiles = ScannerProfile::varied();
    assert_eq!(profiles[0], ScannerProfile::BASE);
    let names: Vec<&str> = profiles.iter().map(|p| p.name).collect();
    assert_eq!(names, ["reference", "recent", "older", "mixed"]);
    let mut spacings = Vec::new();
    for (ta, tb) in a.truth.iter().zip(&b.truth) {
        assert_eq!(ta.patient_id, tb.patient_id);
        assert_eq!(ta.true_risk, tb.true_risk);
        assert_eq!((ta.hpv, ta.nodes), (tb.hpv, tb.nodes));
        // The same endpoints, although the other scanners' images take other draws.
        assert_eq!(
            (ta.event_time_days, ta.censor_time_days, ta.event),
            (tb.event_time_days, tb.censor_time_days, tb.event),
            "{}",
            ta.patient_id
        );
        assert_eq!(ta.in_endpoint_table, tb.in_endpoint_table);
        assert_eq!(ta.scanner, "reference");
        let c = varied
            .centres
            .iter()
            .position(|c| tb.patient_id.starts_with(&format!("{c}-")))
            .unwrap();
        let p = Scanners::Varied.profile(c);
        assert_eq!(tb.scanner, p.name);
        let image = |m: &str| {
            Volume::<f32>::read(
                b.root
                    .join(format!("imagesTr/{}__{m}.nii.gz", tb.patient_id)),
            )
            .unwrap()
        };
        let (ct, pet) = (image("CT"), image("PT"));
        for ax in 0..3 {
            let want_ct = varied.ct_spacing_mm[ax] * p.ct_spacing[ax];
            let want_pet = varied.pet_spacing_mm[ax] * p.pet_spacing[ax];
            assert!((ct.geometry().spacing[ax] - want_ct).abs() < 1e-5);
            assert!((pet.geometry().spacing[ax] - want_pet).abs() < 1e-5);
        }
        let extent = p.ct_axial_extent * varied.field_of_view_mm[2];
        let slices = (extent / (varied.ct_spacing_mm[2] * p.ct_spacing[2])).round() as usize;
        assert_eq!(ct.shape()[2], slices);
        spacings.push(ct.geometry().spacing);
    }
    spacings.sort_by(|x, y| x.partial_cmp(y).unwrap());
    spacings.dedup();
    assert_eq!(spacings.len(), 4, "one CT grid per centre");
    // The older scanner's centre records neither weight nor performance status.
    let clinical = "hecktor2022_clinical_info_training.csv";
    let text = std::fs::read_to_string(b.root.join(clinical)).unwrap();
    let older = &varied.centres[2];
    let rows: Vec<Vec<&str>> = text
        .lines()
        .skip(1)
        .filter(|l| l.starts_with(&format!("{older}-")))
        .map(|l| l.split(',').collect())
        .collect();
    assert_eq!(rows.len(), 2);
    assert!(
        rows.iter().all(|r| r[6].is_empty() && r[9].is_empty()),
        "{rows:?}"
    );
    // A configuration whose coarsest profile leaves fewer than 2 PET voxels is refused.
    let coarse = SyntheticConfig {
        field_of_view_mm: [20.0; 3],
        pet_spacing_mm: [8.0; 3],
        ..varied.clone()
    };
    let e = coarse.validate().unwrap_err().to_string();
    assert!(e.contains("older") && e.contains("PET"), "{e}");
    assert!(SyntheticConfig {
        scanners: Scanners::Uniform,
        ..coarse
    }
    .validate()
    .is_ok());
}
