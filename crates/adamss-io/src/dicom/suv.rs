//! Standardised uptake values (SUV) of a DICOM PET series, from its headers, as the QIBA
//! vendor-neutral pseudo-code computes them (the logic of `@cornerstonejs/calculate-suv`, the
//! SUV code of the OHIF / Cornerstone viewers, which is this module's reference):
//!
//! - **`Units` `BQML`** (voxels in Bq/mL): `SUVbw = value · weight[g] / decayed dose[Bq]`, the
//!   dose decayed from the injection to the scan, `dose · 2^(−Δt / half-life)`;
//! - **`CNTS`** with Philips' private group (`7053,xx00` "Philips PET Private Group"): its SUV
//!   scale factor on every slice, or else its activity-concentration scale factor (counts to
//!   Bq/mL, then as `BQML`);
//! - **`GML`** (already SUVbw): factor 1.
//!
//! The injection is `RadiopharmaceuticalStartDateTime`, or `RadiopharmaceuticalStartTime` on
//! the `SeriesDate` (an injection the day before a scan past midnight then reads as after the
//! scan: refused, as the reference refuses it). The scan is `SeriesDate`/`SeriesTime` unless
//! that is later than the earliest slice's `AcquisitionDate`/`AcquisitionTime` (a series time
//! rewritten by post-processing), then GE's private scan date and time (`0009,xx0D`
//! "GEMS_PETD_01") where present, else that earliest acquisition. A UTC offset in a date-time
//! is ignored (the clock of `SeriesTime`, as the reference). The image must be attenuation- and
//! decay-corrected (`CorrectedImage` holding `ATTN` and `DECY`) and, where the dose is decayed,
//! decay-corrected to the scan start (`DecayCorrection` `START`; `ADMIN` and `NONE` are
//! refused: the reference would decay the dose as if `START`).
//!
//! SUV normalised by lean body mass ([`SuvNormalization::LeanBodyMass`], Janmahasatian's
//! formula, EANM's SUL) or body-surface area (Du Bois) is SUVbw times that mass (or area) over
//! the weight; for `BQML` this equals the reference's factors, for `CNTS` and `GML` the
//! reference applies them to the stored values unscaled, which this module does not follow.
//! James' lean-body-mass formula is not offered.
//!
//! The factors multiply each slice's rescaled value (`stored · RescaleSlope + RescaleIntercept`),
//! so [`read_suv`] is [`super::read_series`] times one factor per slice. Every series-level
//! attribute must be the same on every slice; errors name the file and the attribute.

use std::path::Path;

use dicom_core::value::PrimitiveValue;
use dicom_core::Tag;

use super::{Attributes, Parsed, Slice};
use crate::nifti_io::ReadOptions;
use crate::{Error, Result, Volume, Voxel};

/// Radiopharmaceutical Information Sequence (0054,0016): its first item is read.
pub(crate) const RADIOPHARMACEUTICAL: Tag = Tag(0x0054, 0x0016);
const UNITS: Tag = Tag(0x0054, 0x1001);
const CORRECTED_IMAGE: Tag = Tag(0x0028, 0x0051);
const DECAY_CORRECTION: Tag = Tag(0x0054, 0x1102);
const PATIENT_WEIGHT: Tag = Tag(0x0010, 0x1030);
const PATIENT_SIZE: Tag = Tag(0x0010, 0x1020);
const PATIENT_SEX: Tag = Tag(0x0010, 0x0040);
const SERIES_DATE: Tag = Tag(0x0008, 0x0021);
const SERIES_TIME: Tag = Tag(0x0008, 0x0031);
const ACQUISITION_DATE: Tag = Tag(0x0008, 0x0022);
const ACQUISITION_TIME: Tag = Tag(0x0008, 0x0032);
const TOTAL_DOSE: Tag = Tag(0x0018, 0x1074);
const HALF_LIFE: Tag = Tag(0x0018, 0x1075);
const START_TIME: Tag = Tag(0x0018, 0x1072);
const START_DATE_TIME: Tag = Tag(0x0018, 0x1078);

/// The top-level attributes read for SUV.
pub(crate) const WANTED: [Tag; 10] = [
    UNITS,
    CORRECTED_IMAGE,
    DECAY_CORRECTION,
    PATIENT_WEIGHT,
    PATIENT_SIZE,
    PATIENT_SEX,
    SERIES_DATE,
    SERIES_TIME,
    ACQUISITION_DATE,
    ACQUISITION_TIME,
];

/// The attributes read from [`RADIOPHARMACEUTICAL`]'s first item.
pub(crate) const IN_RADIOPHARMACEUTICAL: [Tag; 4] =
    [TOTAL_DOSE, HALF_LIFE, START_TIME, START_DATE_TIME];

/// The private groups whose top-level elements are kept (their creators say which block is
/// whose).
pub(crate) const PRIVATE_GROUPS: [u16; 2] = [GE_SCAN.group, PHILIPS_SUV.group];

/// A private element: its group, its block's creator, its offset in the block.
struct Private {
    group: u16,
    creator: &'static str,
    offset: u16,
    name: &'static str,
}

const GE_SCAN: Private = Private {
    group: 0x0009,
    creator: "GEMS_PETD_01",
    offset: 0x0D,
    name: "GE private scan date and time (0009,xx0D)",
};
const PHILIPS_SUV: Private = Private {
    group: 0x7053,
    creator: "Philips PET Private Group",
    offset: 0x00,
    name: "Philips SUV scale factor (7053,xx00)",
};
const PHILIPS_ACTIVITY: Private = Private {
    group: 0x7053,
    creator: "Philips PET Private Group",
    offset: 0x09,
    name: "Philips activity concentration scale factor (7053,xx09)",
};

/// A value as text: strings as stored, bytes (a private element of an implicit-VR file is
/// read as unknown bytes) as ASCII; padding trimmed.
fn as_text(value: &PrimitiveValue) -> String {
    let text = match value {
        PrimitiveValue::U8(bytes) => String::from_utf8_lossy(bytes).into_owned(),
        other => other.to_str().into_owned(),
    };
    text.trim_matches(|c: char| c == '\0' || c.is_whitespace())
        .to_string()
}

/// The text of `tag`, `None` when absent or empty.
fn get(obj: &Parsed, tag: Tag) -> Option<String> {
    obj.get(tag).map(as_text).filter(|s| !s.is_empty())
}

/// The text of a private element, found through its block's creator.
fn private(obj: &Parsed, p: &Private) -> Option<String> {
    (0x10u16..=0xFF)
        .find(|&block| get(obj, Tag(p.group, block)).as_deref() == Some(p.creator))
        .and_then(|block| get(obj, Tag(p.group, block << 8 | p.offset)))
}

/// The attributes of a series every slice must share.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SeriesLevel {
    units: Option<String>,
    corrected_image: Option<String>,
    decay_correction: Option<String>,
    weight: Option<String>,
    size: Option<String>,
    sex: Option<String>,
    series_date: Option<String>,
    series_time: Option<String>,
    total_dose: Option<String>,
    half_life: Option<String>,
    start_time: Option<String>,
    start_date_time: Option<String>,
    ge_scan: Option<String>,
}

/// What one slice's header says for its SUV.
#[derive(Debug, Clone, Default)]
pub(super) struct PetHeader {
    series: SeriesLevel,
    acquisition_date: Option<String>,
    acquisition_time: Option<String>,
    philips_suv: Option<String>,
    philips_activity: Option<String>,
}

impl PetHeader {
    /// The slice's attributes (all text, checked when a conversion needs them).
    pub(super) fn of(obj: &Parsed) -> Self {
        Self {
            series: SeriesLevel {
                units: get(obj, UNITS),
                corrected_image: get(obj, CORRECTED_IMAGE),
                decay_correction: get(obj, DECAY_CORRECTION),
                weight: get(obj, PATIENT_WEIGHT),
                size: get(obj, PATIENT_SIZE),
                sex: get(obj, PATIENT_SEX),
                series_date: get(obj, SERIES_DATE),
                series_time: get(obj, SERIES_TIME),
                total_dose: get(obj, TOTAL_DOSE),
                half_life: get(obj, HALF_LIFE),
                start_time: get(obj, START_TIME),
                start_date_time: get(obj, START_DATE_TIME),
                ge_scan: private(obj, &GE_SCAN),
            },
            acquisition_date: get(obj, ACQUISITION_DATE),
            acquisition_time: get(obj, ACQUISITION_TIME),
            philips_suv: private(obj, &PHILIPS_SUV),
            philips_activity: private(obj, &PHILIPS_ACTIVITY),
        }
    }
}

/// What SUV is normalised by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SuvNormalization {
    /// Body weight (SUVbw, g/mL): the usual SUV, and the one the model's PET input is in.
    #[default]
    BodyWeight,
    /// Lean body mass by Janmahasatian's formula (SUL, g/mL; needs `PatientSize` and
    /// `PatientSex` `M` or `F`): `9270·W / (6680 + 216·BMI)` for men, `9270·W / (8780 +
    /// 244·BMI)` for women, `W` in kg, `BMI = W / size²`.
    LeanBodyMass,
    /// Body-surface area by Du Bois' formula (SUVbsa, cm²/mL; needs `PatientSize`):
    /// `71.84 · W^0.425 · (100·size)^0.725` cm².
    BodySurfaceArea,
}

impl SuvNormalization {
    /// `bw`, `lbm`, `bsa`: the names [`std::str::FromStr`] takes.
    pub fn key(self) -> &'static str {
        match self {
            Self::BodyWeight => "bw",
            Self::LeanBodyMass => "lbm",
            Self::BodySurfaceArea => "bsa",
        }
    }
}

impl std::fmt::Display for SuvNormalization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::BodyWeight => "SUVbw (body weight)",
            Self::LeanBodyMass => "SUVlbm (lean body mass, Janmahasatian)",
            Self::BodySurfaceArea => "SUVbsa (body-surface area, Du Bois)",
        })
    }
}

impl std::str::FromStr for SuvNormalization {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "bw" => Ok(Self::BodyWeight),
            "lbm" | "sul" => Ok(Self::LeanBodyMass),
            "bsa" => Ok(Self::BodySurfaceArea),
            _ => Err(format!(
                "unknown SUV normalisation {s:?}: choose bw, lbm (or sul) or bsa"
            )),
        }
    }
}

/// Where the scan time of a conversion came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanTimeSource {
    /// `SeriesDate` / `SeriesTime`.
    Series,
    /// GE's private scan date and time (the series time being after the first acquisition).
    GePrivate,
    /// The earliest `AcquisitionDate` / `AcquisitionTime` of the slices (the series time
    /// being after it, and no GE private time).
    EarliestAcquisition,
}

/// The decay from the injection to the scan (for `BQML`, and `CNTS` by Philips' activity
/// factor).
#[derive(Debug, Clone, PartialEq)]
pub struct Decay {
    /// `RadionuclideTotalDose`, Bq.
    pub injected_dose_bq: f64,
    /// `RadionuclideHalfLife`, s.
    pub half_life_s: f64,
    /// The injection, `YYYY-MM-DDTHH:MM:SS.ffffff` (local clock).
    pub injection: String,
    /// The scan, likewise.
    pub scan: String,
    /// Where [`Self::scan`] came from.
    pub scan_from: ScanTimeSource,
    /// Seconds from the injection to the scan.
    pub seconds: f64,
    /// The dose at the scan, Bq.
    pub decayed_dose_bq: f64,
}

/// How a PET series' values become SUV ([`suv_conversion`]): what its headers say, and the
/// factor of each slice.
#[derive(Debug, Clone, PartialEq)]
pub struct SuvConversion {
    /// The normalisation the factors give.
    pub normalization: SuvNormalization,
    /// `Units` (`BQML`, `CNTS` or `GML`).
    pub units: String,
    /// `PatientWeight`, kg, where used.
    pub patient_weight_kg: Option<f64>,
    /// The decay, where used.
    pub decay: Option<Decay>,
    /// One factor per slice, in the volume's slice order (`k`): SUV = rescaled value × factor.
    pub factors: Vec<f64>,
}

impl std::fmt::Display for SuvConversion {
    /// What `adamss inspect` prints of a PET series' SUV.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SUV:       {} from {}", self.normalization, self.units)?;
        if let Some(w) = self.patient_weight_kg {
            write!(f, ", weight {w} kg")?;
        }
        if let Some(d) = &self.decay {
            let from = match d.scan_from {
                ScanTimeSource::Series => "series time",
                ScanTimeSource::GePrivate => "GE private scan time",
                ScanTimeSource::EarliestAcquisition => "earliest acquisition",
            };
            write!(
                f,
                "\n           dose {:.6e} Bq injected {}, scan {} ({from}): {:.1} s, half-life {} s, {:.6e} Bq at the scan",
                d.injected_dose_bq, d.injection, d.scan, d.seconds, d.half_life_s, d.decayed_dose_bq
            )?;
        }
        let (lo, hi) = self
            .factors
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &x| {
                (lo.min(x), hi.max(x))
            });
        if lo == hi {
            write!(f, "\n           factor {lo:.9e} on every slice")
        } else {
            write!(f, "\n           factors {lo:.9e} … {hi:.9e} by slice")
        }
    }
}

fn bad(path: &Path, reason: impl Into<String>) -> Error {
    super::bad(path, reason)
}

/// A positive finite number from a decimal string attribute.
fn positive(value: &Option<String>, name: &str, path: &Path) -> Result<f64> {
    let text = value
        .as_deref()
        .ok_or_else(|| bad(path, format!("{name} is missing: SUV cannot be computed")))?;
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        _ => Err(bad(
            path,
            format!("{name} = {text:?} is not a positive number"),
        )),
    }
}

/// Seconds since 1970-01-01 of a date and a time of day (no leap seconds, no time zone).
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
struct Instant(f64);

impl Instant {
    /// `YYYY-MM-DDTHH:MM:SS.ffffff`.
    fn iso(self) -> String {
        let days = (self.0 / 86_400.0).floor();
        let seconds = self.0 - days * 86_400.0;
        let (y, m, d) = civil(days as i64);
        let (h, rest) = ((seconds / 3600.0).floor(), seconds % 3600.0);
        let (min, s) = ((rest / 60.0).floor(), rest % 60.0);
        format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:09.6}")
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number ([`days_from_civil`]'s inverse).
fn civil(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Digits `s[a..b]` as a number.
fn digits(s: &str, a: usize, b: usize) -> Option<i64> {
    let part = s.get(a..b)?;
    part.bytes()
        .all(|c| c.is_ascii_digit())
        .then(|| part.parse().ok())?
}

/// Days since 1970 of a DA value `YYYYMMDD`.
fn parse_date(s: &str) -> Option<i64> {
    if s.len() != 8 {
        return None;
    }
    let (y, m, d) = (digits(s, 0, 4)?, digits(s, 4, 6)?, digits(s, 6, 8)?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days_in).contains(&d).then(|| days_from_civil(y, m, d))
}

/// Seconds of the day of a TM value `HH[MM[SS[.F{1,6}]]]` (the older `HH:MM:SS.frac` too).
fn parse_time(s: &str) -> Option<f64> {
    let s: String = s.chars().filter(|&c| c != ':').collect();
    let (whole, fraction) = match s.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (s.as_str(), None),
    };
    if !matches!(whole.len(), 2 | 4 | 6) || (fraction.is_some() && whole.len() != 6) {
        return None;
    }
    let h = digits(whole, 0, 2)?;
    let m = if whole.len() >= 4 {
        digits(whole, 2, 4)?
    } else {
        0
    };
    let sec = if whole.len() == 6 {
        digits(whole, 4, 6)?
    } else {
        0
    };
    if h > 23 || m > 59 || sec > 60 {
        return None;
    }
    let fraction = match fraction {
        None => 0.0,
        Some(f) if (1..=6).contains(&f.len()) && f.bytes().all(|c| c.is_ascii_digit()) => {
            format!("0.{f}").parse::<f64>().ok()?
        }
        Some(_) => return None,
    };
    Some((h * 3600 + m * 60 + sec) as f64 + fraction)
}

/// A DA and a TM attribute as one instant.
fn date_time(
    date: &Option<String>,
    time: &Option<String>,
    names: (&str, &str),
    path: &Path,
) -> Result<Instant> {
    let need = |v: &Option<String>, name: &str| {
        v.clone()
            .ok_or_else(|| bad(path, format!("{name} is missing: SUV cannot be computed")))
    };
    let (d, t) = (need(date, names.0)?, need(time, names.1)?);
    let day = parse_date(&d)
        .ok_or_else(|| bad(path, format!("{} = {d:?} is not a date YYYYMMDD", names.0)))?;
    let seconds = parse_time(&t).ok_or_else(|| {
        bad(
            path,
            format!("{} = {t:?} is not a time HHMMSS.FFFFFF", names.1),
        )
    })?;
    Ok(Instant(day as f64 * 86_400.0 + seconds))
}

/// A DT value `YYYYMMDDHH[MM[SS[.F{1,6}]]][&ZZXX]`, its UTC offset ignored.
fn parse_date_time(s: &str, name: &str, path: &Path) -> Result<Instant> {
    let local = s.split(['+', '-']).next().unwrap_or_default();
    let at = (s.len() >= 10)
        .then(|| Some((parse_date(s.get(..8)?)?, parse_time(local.get(8..)?)?)))
        .flatten();
    let (day, seconds) = at.ok_or_else(|| {
        bad(
            path,
            format!("{name} = {s:?} is not a date-time YYYYMMDDHHMMSS.FFFFFF"),
        )
    })?;
    Ok(Instant(day as f64 * 86_400.0 + seconds))
}

/// The injection-to-scan decay of ordered slices ([`Decay`]).
fn decay(slices: &[Slice]) -> Result<Decay> {
    let first = &slices[0];
    let (s, path) = (&first.pet.series, first.path.as_path());
    match s.decay_correction.as_deref() {
        Some("START") => {}
        other => {
            return Err(bad(
                path,
                format!(
                    "DecayCorrection (0054,1102) = {:?}: only START (decay-corrected to the scan's start) can be converted to SUV",
                    other.unwrap_or("")
                ),
            ))
        }
    }
    let dose = positive(&s.total_dose, "RadionuclideTotalDose (0018,1074)", path)?;
    let half_life = positive(&s.half_life, "RadionuclideHalfLife (0018,1075)", path)?;
    let series = date_time(
        &s.series_date,
        &s.series_time,
        ("SeriesDate (0008,0021)", "SeriesTime (0008,0031)"),
        path,
    )?;
    let mut earliest: Option<Instant> = None;
    for slice in slices {
        let t = date_time(
            &slice.pet.acquisition_date,
            &slice.pet.acquisition_time,
            ("AcquisitionDate (0008,0022)", "AcquisitionTime (0008,0032)"),
            &slice.path,
        )?;
        earliest = Some(earliest.map_or(t, |e| if t < e { t } else { e }));
    }
    let earliest = earliest.unwrap_or(series);
    let (scan, scan_from) = if series <= earliest {
        (series, ScanTimeSource::Series)
    } else if let Some(ge) = &s.ge_scan {
        (
            parse_date_time(ge, GE_SCAN.name, path)?,
            ScanTimeSource::GePrivate,
        )
    } else {
        (earliest, ScanTimeSource::EarliestAcquisition)
    };
    let injection = match (&s.start_date_time, &s.start_time) {
        (Some(dt), _) => parse_date_time(dt, "RadiopharmaceuticalStartDateTime (0018,1078)", path)?,
        (None, Some(_)) => date_time(
            &s.series_date,
            &s.start_time,
            (
                "SeriesDate (0008,0021)",
                "RadiopharmaceuticalStartTime (0018,1072)",
            ),
            path,
        )?,
        (None, None) => {
            return Err(bad(
                path,
                "neither RadiopharmaceuticalStartDateTime (0018,1078) nor RadiopharmaceuticalStartTime (0018,1072) in the Radiopharmaceutical Information Sequence (0054,0016): SUV cannot be computed",
            ))
        }
    };
    let seconds = scan.0 - injection.0;
    if seconds < 0.0 {
        return Err(bad(
            path,
            format!(
                "the injection ({}) is after the scan ({}): with only RadiopharmaceuticalStartTime, an injection the day before must be given as RadiopharmaceuticalStartDateTime",
                injection.iso(),
                scan.iso()
            ),
        ));
    }
    Ok(Decay {
        injected_dose_bq: dose,
        half_life_s: half_life,
        injection: injection.iso(),
        scan: scan.iso(),
        scan_from,
        seconds,
        decayed_dose_bq: dose * (-seconds / half_life).exp2(),
    })
}

/// The SUV conversion of ordered, checked slices of one series.
fn conversion(slices: &[Slice], normalization: SuvNormalization) -> Result<SuvConversion> {
    let first = &slices[0];
    let (s, path) = (&first.pet.series, first.path.as_path());
    if let Some(other) = slices.iter().find(|x| x.pet.series != *s) {
        return Err(bad(
            &other.path,
            format!(
                "its PET attributes (units, corrections, patient, radiopharmaceutical, series date and time) differ from {}'s: not one series",
                path.display()
            ),
        ));
    }
    let corrected = s.corrected_image.as_deref().unwrap_or("");
    let flags: Vec<&str> = corrected.split('\\').map(str::trim).collect();
    if !flags.contains(&"ATTN") || !flags.contains(&"DECY") {
        return Err(bad(
            path,
            format!("CorrectedImage (0028,0051) = {corrected:?}: SUV needs an attenuation- and decay-corrected image (ATTN and DECY)"),
        ));
    }
    let units = s.units.clone().unwrap_or_default();
    let weight = |name| positive(&s.weight, name, path);
    let weight_name = "PatientWeight (0010,1030)";
    // SUVbw factors, the weight in grams where it was needed.
    let (bw, decay, weight_g): (Vec<f64>, Option<Decay>, Option<f64>) = match units.as_str() {
        "BQML" => {
            let w = weight(weight_name)? * 1000.0;
            let d = decay(slices)?;
            let f = w / d.decayed_dose_bq;
            (vec![f; slices.len()], Some(d), Some(w))
        }
        "CNTS" => {
            let factor = |x: &Option<String>| {
                x.as_deref()
                    .and_then(|t| t.parse::<f64>().ok())
                    .filter(|v| v.is_finite() && *v != 0.0)
            };
            if slices.iter().all(|x| factor(&x.pet.philips_suv).is_some()) {
                let f = slices
                    .iter()
                    .map(|x| factor(&x.pet.philips_suv).unwrap_or_default())
                    .collect();
                (f, None, None)
            } else if slices.iter().all(|x| {
                factor(&x.pet.philips_suv).is_none() && factor(&x.pet.philips_activity).is_some()
            }) {
                let w = weight(weight_name)? * 1000.0;
                let d = decay(slices)?;
                let f = slices
                    .iter()
                    .map(|x| {
                        factor(&x.pet.philips_activity).unwrap_or_default() * w / d.decayed_dose_bq
                    })
                    .collect();
                (f, Some(d), Some(w))
            } else {
                let missing = slices
                    .iter()
                    .find(|x| factor(&x.pet.philips_suv).is_none() && factor(&x.pet.philips_activity).is_none())
                    .unwrap_or(first);
                return Err(bad(
                    &missing.path,
                    format!(
                        "Units CNTS need Philips' private {} or {} on every slice, non-zero (the series mixes them, or this slice has neither)",
                        PHILIPS_SUV.name, PHILIPS_ACTIVITY.name
                    ),
                ));
            }
        }
        "GML" => (vec![1.0; slices.len()], None, None),
        other => {
            return Err(bad(
                path,
                format!("Units (0054,1001) = {other:?}: only BQML, CNTS (Philips) or GML can be converted to SUV"),
            ))
        }
    };
    let scale = match normalization {
        SuvNormalization::BodyWeight => 1.0,
        other => {
            let w = match weight_g {
                Some(w) => w / 1000.0,
                None => weight(weight_name)?,
            };
            let size = positive(&s.size, "PatientSize (0010,1020)", path)?;
            let per_gram = match other {
                SuvNormalization::LeanBodyMass => {
                    let bmi = w / (size * size);
                    let lbm = match s.sex.as_deref() {
                        Some("M") => 9270.0 * w / (6680.0 + 216.0 * bmi),
                        Some("F") => 9270.0 * w / (8780.0 + 244.0 * bmi),
                        sex => {
                            return Err(bad(
                                path,
                                format!(
                                "PatientSex (0010,0040) = {:?}: the lean body mass needs M or F",
                                sex.unwrap_or("")
                            ),
                            ))
                        }
                    };
                    lbm * 1000.0
                }
                _ => 71.84 * w.powf(0.425) * (size * 100.0).powf(0.725),
            };
            per_gram / (w * 1000.0)
        }
    };
    let patient_weight_kg = match (weight_g, normalization) {
        (Some(w), _) => Some(w / 1000.0),
        (None, SuvNormalization::BodyWeight) => None,
        (None, _) => Some(weight(weight_name)?),
    };
    Ok(SuvConversion {
        normalization,
        units,
        patient_weight_kg,
        decay,
        factors: bw.into_iter().map(|f| f * scale).collect(),
    })
}

/// How the PET series `series_uid` of `dir` (or the folder's only series) becomes SUV: its
/// attributes and one factor per slice (see the module docs). Errors name the file and the
/// attribute that is missing, malformed or not convertible.
pub fn suv_conversion(
    dir: impl AsRef<Path>,
    series_uid: Option<&str>,
    normalization: SuvNormalization,
) -> Result<SuvConversion> {
    let dir = dir.as_ref();
    conversion(
        &series(dir, series_uid, &ReadOptions::default())?,
        normalization,
    )
}

/// Reads a PET series as SUV: [`super::read_series`]'s rescaled values times each slice's
/// factor ([`suv_conversion`]). A volume of SUV is what the model and a manifest's `pet` take.
pub fn read_suv<T: Voxel>(
    dir: impl AsRef<Path>,
    series_uid: Option<&str>,
    normalization: SuvNormalization,
    options: &ReadOptions,
) -> Result<Volume<T>> {
    read_suv_with_conversion(dir, series_uid, normalization, options).map(|(volume, _)| volume)
}

/// [`read_suv`] and the [`SuvConversion`] it applied, the folder's headers read once (what
/// `adamss suv` prints beside the volume it writes).
pub fn read_suv_with_conversion<T: Voxel>(
    dir: impl AsRef<Path>,
    series_uid: Option<&str>,
    normalization: SuvNormalization,
    options: &ReadOptions,
) -> Result<(Volume<T>, SuvConversion)> {
    let slices = series(dir.as_ref(), series_uid, options)?;
    let conversion = conversion(&slices, normalization)?;
    let volume = super::assemble(&slices, options, Some(&conversion.factors))?;
    Ok((volume, conversion))
}

/// A manifest's PET folder: a PET series (`Modality` `PT`) as SUVbw, any other series as
/// [`super::read_series`] reads it; the folder's headers read once.
pub(crate) fn read_pet<T: Voxel>(dir: &Path, options: &ReadOptions) -> Result<Volume<T>> {
    let slices = series(dir, None, options)?;
    let factors = if slices[0].modality == "PT" {
        Some(conversion(&slices, SuvNormalization::BodyWeight)?.factors)
    } else {
        None
    };
    super::assemble(&slices, options, factors.as_deref())
}

/// The ordered, checked slices of the series `series_uid` of `dir` (or its only one).
fn series(dir: &Path, series_uid: Option<&str>, options: &ReadOptions) -> Result<Vec<Slice>> {
    super::choose(dir, super::group(super::scan(dir, options)?), series_uid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_parse_as_dicom_writes_them() {
        assert_eq!(parse_date("19700101"), Some(0));
        assert_eq!(parse_date("20000301"), Some(11_017));
        assert_eq!(parse_date("20240229"), Some(19_782));
        assert_eq!(parse_date("20230229"), None);
        assert_eq!(parse_date("2023-02-2"), None);
        assert_eq!(parse_time("07"), Some(25_200.0));
        assert_eq!(parse_time("0730"), Some(27_000.0));
        assert_eq!(parse_time("073015.005"), Some(27_015.005));
        assert_eq!(parse_time("07:30:15.5"), Some(27_015.5));
        assert_eq!(parse_time("0730.5"), None);
        assert_eq!(parse_time("2460"), None);
        assert_eq!(parse_time("073015.1234567"), None);
        for z in [-800_000, -1, 0, 59, 11_017, 19_782, 3_000_000] {
            let (y, m, d) = civil(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        let p = Path::new("x");
        let t = parse_date_time("20261207093000.25+0100", "DT", p).unwrap();
        assert_eq!(t.iso(), "2026-12-07T09:30:00.250000");
        assert!(parse_date_time("20261207", "DT", p).is_err());
    }
}
