//! PyRadiomics parameter files (JSON form) for the subset this crate implements.
//!
//! ```json
//! { "setting": { "binWidth": 25, "label": 1 },
//!   "imageType": { "Original": {}, "Wavelet": { "binWidth": 10 } },
//!   "featureClass": { "firstorder": [], "glcm": null } }
//! ```
//!
//! `setting` keys are [`Settings`]' (PyRadiomics names); per-image-type blocks override them.
//! A feature-class value lists the features to keep (empty or null: all defaults). Keys this
//! crate does not implement (e.g. `resampledPixelSpacing`, the `shape` class, `LoG`) are
//! refused with an error naming them; `additionalInfo` and `enableCExtensions`, which do not
//! change values, are accepted and ignored. YAML files are not read (no YAML parser in the
//! workspace): convert them to JSON.

use std::collections::BTreeMap;
use std::path::Path;

use adamss_io::Volume;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::extract::{extract, extract_filtered, FeatureClass, Features};
use crate::filters::ImageType;
use crate::settings::Settings;

/// An image type of a parameter file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageTypeSelection {
    /// The unfiltered image.
    Original,
    /// A filtered image type.
    Filtered(ImageType),
}

/// What a parameter file asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtractionPlan {
    /// Image types with their effective settings.
    pub image_types: Vec<(ImageTypeSelection, Settings)>,
    /// Classes, each with the features to keep (`None`: all).
    pub classes: Vec<(FeatureClass, Option<Vec<String>>)>,
}

fn bad(path: &Path, msg: String) -> Error {
    Error::Settings(format!("{}: {msg}", path.display()))
}

fn settings_from(
    path: &Path,
    base: &Map<String, Value>,
    over: Option<&Map<String, Value>>,
) -> Result<Settings> {
    let mut m = base.clone();
    if let Some(o) = over {
        for (k, v) in o {
            m.insert(k.clone(), v.clone());
        }
    }
    m.remove("additionalInfo");
    m.remove("enableCExtensions");
    let s: Settings = serde_json::from_value(Value::Object(m))
        .map_err(|e| bad(path, format!("unsupported or invalid setting: {e}")))?;
    s.validate()?;
    Ok(s)
}

impl ExtractionPlan {
    /// Reads a JSON parameter file.
    pub fn from_json_file(path: &Path) -> Result<Self> {
        let text =
            std::fs::read_to_string(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        let v: Value =
            serde_json::from_str(&text).map_err(|e| bad(path, format!("not JSON: {e}")))?;
        Self::from_value(path, &v)
    }

    fn from_value(path: &Path, v: &Value) -> Result<Self> {
        let top = v
            .as_object()
            .ok_or_else(|| bad(path, "expected a JSON object".into()))?;
        for k in top.keys() {
            if !matches!(k.as_str(), "setting" | "imageType" | "featureClass") {
                return Err(bad(path, format!("unknown top-level key {k:?}")));
            }
        }
        let empty = Map::new();
        let base = match top.get("setting") {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(m)) => m,
            Some(_) => return Err(bad(path, "\"setting\" must be an object".into())),
        };
        let mut image_types = Vec::new();
        match top.get("imageType") {
            None | Some(Value::Null) => image_types.push((
                ImageTypeSelection::Original,
                settings_from(path, base, None)?,
            )),
            Some(Value::Object(m)) => {
                for (name, over) in m {
                    let sel = match name.as_str() {
                        "Original" => ImageTypeSelection::Original,
                        "Wavelet" => ImageTypeSelection::Filtered(ImageType::Wavelet),
                        "Square" => ImageTypeSelection::Filtered(ImageType::Square),
                        "SquareRoot" => ImageTypeSelection::Filtered(ImageType::SquareRoot),
                        "Logarithm" => ImageTypeSelection::Filtered(ImageType::Logarithm),
                        "Exponential" => ImageTypeSelection::Filtered(ImageType::Exponential),
                        "Gradient" => ImageTypeSelection::Filtered(ImageType::Gradient),
                        other => {
                            return Err(bad(
                                path,
                                format!("image type {other:?} is not implemented"),
                            ))
                        }
                    };
                    let over = match over {
                        Value::Null => None,
                        Value::Object(o) => Some(o),
                        _ => {
                            return Err(bad(
                                path,
                                format!("image type {name:?} must map to an object"),
                            ))
                        }
                    };
                    image_types.push((sel, settings_from(path, base, over)?));
                }
            }
            Some(_) => return Err(bad(path, "\"imageType\" must be an object".into())),
        }
        let mut classes = Vec::new();
        match top.get("featureClass") {
            None | Some(Value::Null) => {
                classes.extend(FeatureClass::ALL.iter().map(|&c| (c, None)))
            }
            Some(Value::Object(m)) => {
                for (name, list) in m {
                    let class = FeatureClass::ALL
                        .iter()
                        .copied()
                        .find(|c| c.name() == name)
                        .ok_or_else(|| {
                            bad(path, format!("feature class {name:?} is not implemented"))
                        })?;
                    let keep = match list {
                        Value::Null => None,
                        Value::Array(a) if a.is_empty() => None,
                        Value::Array(a) => Some(
                            a.iter()
                                .map(|x| {
                                    x.as_str().map(str::to_string).ok_or_else(|| {
                                        bad(path, format!("{name}: feature names must be strings"))
                                    })
                                })
                                .collect::<Result<Vec<_>>>()?,
                        ),
                        _ => return Err(bad(path, format!("{name}: expected a list of features"))),
                    };
                    classes.push((class, keep));
                }
            }
            Some(_) => return Err(bad(path, "\"featureClass\" must be an object".into())),
        }
        Ok(Self {
            image_types,
            classes,
        })
    }

    /// Runs the plan on one image and mask.
    pub fn run(&self, image: &Volume<f32>, mask: &Volume<u8>) -> Result<Features> {
        let classes: Vec<FeatureClass> = self.classes.iter().map(|(c, _)| *c).collect();
        let keep: BTreeMap<&str, &Vec<String>> = self
            .classes
            .iter()
            .filter_map(|(c, k)| k.as_ref().map(|k| (c.name(), k)))
            .collect();
        let mut out = Vec::new();
        for (sel, s) in &self.image_types {
            let f = match sel {
                ImageTypeSelection::Original => extract(image, mask, s, &classes)?,
                ImageTypeSelection::Filtered(kind) => {
                    extract_filtered(image, mask, s, &classes, *kind)?
                }
            };
            out.extend(f.into_iter().filter(|(name, _)| {
                // name = <image>_<class>_<feature>
                let mut parts = name.rsplitn(3, '_');
                let feature = parts.next().unwrap_or("");
                let class = parts.next().unwrap_or("");
                keep.get(class)
                    .is_none_or(|k| k.iter().any(|x| x == feature))
            }));
        }
        Ok(out)
    }
}
