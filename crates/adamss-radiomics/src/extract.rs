//! Extraction of named features from an image and a mask.

use adamss_io::Volume;
use serde::{Deserialize, Serialize};

use crate::discretize::discretize;
use crate::error::Result;
use crate::roi::Roi;
use crate::settings::Settings;
use crate::{firstorder, glcm, ngtdm, sizezone};

/// A feature class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FeatureClass {
    /// First-order statistics (18 features).
    FirstOrder,
    /// Grey-level co-occurrence matrix (24 features).
    Glcm,
    /// Grey-level run-length matrix (16 features).
    Glrlm,
    /// Grey-level size-zone matrix (16 features).
    Glszm,
    /// Grey-level dependence matrix (14 features).
    Gldm,
    /// Neighbouring grey tone difference matrix (5 features).
    Ngtdm,
}

impl FeatureClass {
    /// PyRadiomics' class name, as in feature names.
    pub fn name(self) -> &'static str {
        match self {
            Self::FirstOrder => "firstorder",
            Self::Glcm => "glcm",
            Self::Glrlm => "glrlm",
            Self::Glszm => "glszm",
            Self::Gldm => "gldm",
            Self::Ngtdm => "ngtdm",
        }
    }
}

/// Named feature values in extraction order, e.g. `original_glcm_Contrast`.
pub type Features = Vec<(String, f64)>;

/// Extracts the classes' default features from the original image, named as PyRadiomics
/// names them (`original_<class>_<Feature>`).
pub fn extract(
    image: &Volume<f32>,
    mask: &Volume<u8>,
    settings: &Settings,
    classes: &[FeatureClass],
) -> Result<Features> {
    let roi = Roi::new(image, mask, settings)?;
    let disc = discretize(&roi, settings);
    let mut out = Vec::new();
    for &c in classes {
        let values = match c {
            FeatureClass::FirstOrder => firstorder::features(&roi, &disc, settings),
            FeatureClass::Glcm => glcm::features(&roi, &disc, settings),
            FeatureClass::Glrlm => sizezone::glrlm(&roi, &disc),
            FeatureClass::Glszm => sizezone::glszm(&roi, &disc),
            FeatureClass::Gldm => sizezone::gldm(&roi, &disc, settings),
            FeatureClass::Ngtdm => ngtdm::features(&roi, &disc, settings),
        };
        out.extend(
            values
                .into_iter()
                .map(|(n, v)| (format!("original_{}_{n}", c.name()), v)),
        );
    }
    Ok(out)
}
