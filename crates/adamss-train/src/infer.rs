//! Prediction for new patients from a finished run: risk scores and masks on the CT grid.

use std::collections::hash_map::{Entry, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use adamss_io::{Clinical, Cohort};
use adamss_model::AdaMssOutput;
use adamss_preprocess::{Grid, Preprocessed};
use rayon::prelude::*;

use crate::bundle::Bundle;
use crate::config::open_device;
use crate::csv_file::write_csv;
use crate::error::{Error, Result};
use crate::export::{write_mask, ExportedMask};
use crate::method::Method;
use crate::predictor::{maps_of, preprocess_input, PatientInput, Predictor};
use crate::run::RunDir;

/// One slice of a cohort: patients at positions `index, index + count, …` (for batch-scheduler
/// array jobs; the slices of `0/n … n−1/n` cover the cohort exactly once).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This slice (0-based).
    pub index: usize,
    /// Number of slices.
    pub count: usize,
}

impl Shard {
    /// Parses `i/n` with `0 ≤ i < n`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = || Error::Config(format!("shard {text:?}: expected i/n with 0 ≤ i < n"));
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let (index, count) = (
            i.trim().parse::<usize>().map_err(|_| bad())?,
            n.trim().parse::<usize>().map_err(|_| bad())?,
        );
        if count == 0 || index >= count {
            return Err(bad());
        }
        Ok(Self { index, count })
    }

    /// Whether position `i` belongs to this slice.
    pub fn contains(&self, i: usize) -> bool {
        i % self.count == self.index
    }

    /// This slice's patients of `cohort` (same load options).
    pub fn select(&self, cohort: &Cohort) -> Cohort {
        cohort.filter_positions(|i| self.contains(i))
    }
}

/// What [`predict_cohort`] runs: which fold's networks, which AdaMSS network, which patients,
/// and whether to write the fusion-gate and attention maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PredictOptions {
    /// The fold whose networks predict.
    pub fold: usize,
    /// [`Method::Ssl`] or [`Method::SslRadiomics`].
    pub method: Method,
    /// Only this slice of the cohort.
    pub shard: Option<Shard>,
    /// Also write the maps (see [`write_maps`]).
    pub maps: bool,
}

impl Default for PredictOptions {
    /// Fold 0, SSL, every patient, no maps.
    fn default() -> Self {
        Self {
            fold: 0,
            method: Method::Ssl,
            shard: None,
            maps: false,
        }
    }
}

/// One new patient's prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct NewPrediction {
    /// Patient id.
    pub id: String,
    /// The AdaMSS network's risk score (higher = worse).
    pub risk: f64,
    /// Above the fold's training median risk.
    pub high_risk: Option<bool>,
    /// The Stage-I mask written on the CT grid.
    pub mask: ExportedMask,
}

/// What [`predict_with`] did: the patients it scored, and those it could not read or
/// preprocess, each with its error — a bad patient does not stop the others.
#[derive(Debug)]
pub struct PredictReport {
    /// The patients scored, in the cohort's order (as `risks.csv` lists them).
    pub predictions: Vec<NewPrediction>,
    /// Patients that could not be read or preprocessed, in the cohort's order, with the reason.
    pub failures: Vec<(String, Error)>,
}

/// Predicts every patient of `cohort` (or one shard of it) with one fold of the finished run
/// in `run_dir` (see [`PredictOptions`]): [`predict_with`] on the [`Predictor`] of that fold's
/// network ([`Bundle::from_run`]), on the run's device.
pub fn predict_cohort(
    run_dir: &Path,
    cohort: &Cohort,
    options: &PredictOptions,
    out: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<PredictReport> {
    let run = RunDir::new(run_dir);
    let bundle = Bundle::from_run(&run, options.fold, options.method)?;
    let device = open_device(&run.read_config()?.runtime)?;
    let predictor = Predictor::new(&bundle, device)?.with_maps(options.maps);
    predict_with(&predictor, cohort, options.shard, out, progress)
}

/// Predicts every patient of `cohort` (or one `shard` of it) with `predictor`: the Stage-I
/// network's GTVp/GTVn masks, written on each patient's CT grid under `out/masks`, and the
/// risk of the AdaMSS network — [`Method::Ssl`], or [`Method::SslRadiomics`], whose head also
/// gets the LASSO-selected radiomics, extracted from the Stage-I mask exactly as in training —
/// with the clinical encoding of its training fold, written to `out/risks.csv` (with
/// `high_risk` at the fold's training median). Patients need images only; labels, when
/// present, give the Dice of the written masks. With the predictor's maps on
/// ([`Predictor::with_maps`]), the fusion-gate weights and attention maps are written too
/// (see [`write_maps`]). `progress(done, total)` after each patient's preprocessing.
///
/// Patients go through in chunks of a few (see the body), so memory does not grow with the
/// cohort. A patient that cannot be read or preprocessed (an unreadable image, a PET that does
/// not overlap the CT, a non-finite voxel) is left out and reported in
/// [`PredictReport::failures`] with its error; the others are scored (their batches shift by
/// the missing patient, which changes nothing but the last bits at most). An error of the
/// networks themselves stops the prediction. Every file is written atomically and `risks.csv`
/// last, listing the patients scored.
pub fn predict_with(
    predictor: &Predictor,
    cohort: &Cohort,
    shard: Option<Shard>,
    out: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<PredictReport> {
    let records: Vec<_> = cohort
        .records()
        .iter()
        .enumerate()
        .filter(|(i, _)| shard.is_none_or(|s| s.contains(*i)))
        .map(|(_, r)| r)
        .collect();
    // Patients stream through in chunks (preprocessed in parallel, then both networks), so
    // memory holds one chunk's volumes, not the cohort's. A chunk is a whole number of network
    // batches, so the batches are the same as in one pass over the cohort.
    let batch = predictor.batch_size();
    let chunk_len = rayon::current_num_threads().div_ceil(batch).max(1) * batch;
    let done = AtomicUsize::new(0);
    let config = predictor.preprocess_config();
    let mut out_rows = Vec::with_capacity(records.len());
    let mut failures = Vec::new();
    for chunk_records in records.chunks(chunk_len) {
        let loaded: Vec<Result<(Preprocessed, Grid)>> = chunk_records
            .par_iter()
            .map(|r| {
                let result = r
                    .load(cohort.options())
                    .map_err(Error::from)
                    .and_then(|case| {
                        let input = PatientInput {
                            id: case.id.clone(),
                            ct: case.ct,
                            pet: case.pet,
                            clinical: Clinical::default(),
                            crop_centre: None,
                        };
                        Ok((preprocess_input(&input, config)?, Grid::of(&input.ct)))
                    });
                progress(done.fetch_add(1, Ordering::Relaxed) + 1, records.len());
                result
            })
            .collect();
        let (mut pre, mut grids, mut kept) = (Vec::new(), Vec::new(), Vec::new());
        for (record, result) in chunk_records.iter().zip(loaded) {
            match result {
                Ok((p, g)) => {
                    pre.push(p);
                    grids.push(g);
                    kept.push(*record);
                }
                Err(e) => failures.push((record.id.clone(), e)),
            }
        }
        if kept.is_empty() {
            continue;
        }
        let clinical: Vec<&Clinical> = kept.iter().map(|r| &r.clinical).collect();
        let preds = predictor.predict_preprocessed(&pre, &clinical, &grids)?;
        for (p, record) in preds.into_iter().zip(kept) {
            if !p.maps.is_empty() {
                let dir = out.join("maps").join(&p.id);
                std::fs::create_dir_all(&dir).map_err(|e| Error::file(&dir, e))?;
                for (name, map) in &p.maps {
                    map.write(dir.join(format!("{name}.nii.gz")))?;
                }
            }
            let mask = write_mask(&p.id, &p.mask, record, &out.join("masks"))?;
            out_rows.push(NewPrediction {
                id: p.id,
                risk: p.risk,
                high_risk: p.high_risk,
                mask,
            });
        }
    }
    let f = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
    let rows = out_rows.iter().map(|p| {
        [
            p.id.clone(),
            format!("{:.9}", p.risk),
            p.high_risk
                .map_or(String::new(), |h| u8::from(h).to_string()),
            p.mask.path.display().to_string(),
            f(p.mask.dice[0]),
            f(p.mask.dice[1]),
            f(p.mask.hd95[0]),
            f(p.mask.hd95[1]),
        ]
    });
    let header = [
        "PatientID",
        "risk",
        "high_risk",
        "mask",
        "dice_gtvp",
        "dice_gtvn",
        "hd95_gtvp",
        "hd95_gtvn",
    ];
    std::fs::create_dir_all(out).map_err(|e| Error::file(out, e))?;
    write_csv(&out.join(risks_file_name(shard)), &header, rows)?;
    Ok(PredictReport {
        predictions: out_rows,
        failures,
    })
}

/// Writes sample `k`'s fusion-gate weights and attention maps from one forward pass of the
/// AdaMSS network into `dir` as NIfTI on the case's network grid (the preprocessed crop, in the
/// patient's physical space, so viewers overlay them on the CT): `gate-<i>.nii.gz` for encoder
/// level i = 1…5, the gate weight `w` averaged over channels (near 1: the fused branch is used,
/// near 0: the separate PET/CT path), and `attention-<l>.nii.gz` for decoder level l = 6…9,
/// the attention gate's α on its skip connection. Coarser levels are upsampled trilinearly.
/// Networks without gated fusion or attention gates write only what they have.
pub fn write_maps(
    output: &AdaMssOutput,
    k: usize,
    case: &Preprocessed,
    dir: &Path,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::file(dir, e))?;
    let mut written = Vec::new();
    for (name, map) in maps_of(output, k, case)? {
        let path = dir.join(format!("{name}.nii.gz"));
        map.write(&path)?;
        written.push(path);
    }
    Ok(written)
}

/// `risks.csv`, or `risks-<i>-of-<n>.csv` for a shard (so array jobs can share a folder).
pub fn risks_file_name(shard: Option<Shard>) -> String {
    match shard {
        None => "risks.csv".into(),
        Some(s) => format!("risks-{}-of-{}.csv", s.index, s.count),
    }
}

/// Concatenates CSV files with identical headers (e.g. the shards of a prediction) into `out`,
/// atomically. A header that differs is an error naming the file; so is a patient that two
/// rows give, where the header has a `PatientID` column (rows are told apart by `PatientID` and,
/// where present, `method` and `fold`: shards that overlap, or a file given twice).
pub fn merge_csv(parts: &[PathBuf], out: &Path) -> Result<usize> {
    let mut header: Option<csv::StringRecord> = None;
    let mut key_cols: Vec<usize> = Vec::new();
    let mut seen: HashMap<Vec<String>, (usize, u64)> = HashMap::new();
    let mut writer = csv::Writer::from_writer(Vec::new());
    let mut rows = 0;
    for (k, p) in parts.iter().enumerate() {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(false)
            .from_path(p)
            .map_err(|e| Error::file(p, e))?;
        let h = reader.headers().map_err(|e| Error::file(p, e))?.clone();
        if h.is_empty() {
            return Err(Error::file(p, "empty file (no header)"));
        }
        match &header {
            None => {
                let col = |name: &str| h.iter().position(|c| c == name);
                if let Some(id) = col("PatientID") {
                    key_cols = [col("method"), col("fold"), Some(id)]
                        .into_iter()
                        .flatten()
                        .collect();
                }
                writer.write_record(&h).map_err(|e| Error::file(out, e))?;
                header = Some(h);
            }
            Some(first) if *first != h => {
                let show = |r: &csv::StringRecord| r.iter().collect::<Vec<_>>().join(",");
                return Err(Error::file(
                    p,
                    format!(
                        "header {:?} differs from the first file's {:?}",
                        show(&h),
                        show(first)
                    ),
                ));
            }
            Some(_) => {}
        }
        for rec in reader.records() {
            let rec = rec.map_err(|e| Error::file(p, e))?;
            if rec.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let line = rec.position().map_or(0, |q| q.line());
            if !key_cols.is_empty() {
                let key: Vec<String> = key_cols
                    .iter()
                    .map(|&c| rec.get(c).unwrap_or_default().trim().to_string())
                    .collect();
                match seen.entry(key) {
                    Entry::Occupied(e) => {
                        let (j, first) = *e.get();
                        return Err(Error::file(
                            p,
                            format!(
                                "line {line} repeats {} of {} line {first}",
                                e.key().join(" "),
                                parts[j].display()
                            ),
                        ));
                    }
                    Entry::Vacant(v) => {
                        v.insert((k, line));
                    }
                }
            }
            writer.write_record(&rec).map_err(|e| Error::file(out, e))?;
            rows += 1;
        }
    }
    if header.is_none() {
        return Err(Error::Config("nothing to merge".into()));
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| Error::file(out, e.to_string()))?;
    adamss_io::write_atomic(out, &bytes)?;
    Ok(rows)
}
