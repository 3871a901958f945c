//! The methods of the comparison.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A method of the comparison (spec §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Method {
    /// LASSO-Cox on the clinical variables alone.
    LassoCoxClinical,
    /// LASSO-Cox on radiomics (PET + CT, Stage-I masks) + clinical variables.
    LassoCoxRadiomics,
    /// The same encoder–decoder without segmentation head, trained for survival only.
    SingleTask,
    /// Multi-task learning: segmentation + survival jointly from scratch.
    Mtl,
    /// AdaMSS: Stage I segmentation, then Stage II survival fine-tuning (clinical extras).
    Ssl,
    /// AdaMSS with the LASSO-selected radiomics added to the head's inputs.
    SslRadiomics,
    /// AdaMSS with early fusion (one encoder on cat(PET, CT)) in place of the gates.
    SslEarlyFusion,
    /// AdaMSS with late fusion (separate encoders, averaged) in place of the gates.
    SslLateFusion,
}

impl Method {
    /// The comparison the main job runs.
    pub const MAIN: [Method; 6] = [
        Method::LassoCoxClinical,
        Method::LassoCoxRadiomics,
        Method::SingleTask,
        Method::Mtl,
        Method::Ssl,
        Method::SslRadiomics,
    ];

    /// Everything that defines the method ([`METHODS`]).
    pub fn spec(self) -> &'static MethodSpec {
        &METHODS[self as usize]
    }

    /// Short name (folders, CSV).
    pub fn key(self) -> &'static str {
        self.spec().key
    }

    /// Name for tables.
    pub fn label(self) -> &'static str {
        self.spec().label
    }

    /// Parses [`Method::key`].
    pub fn from_key(key: &str) -> Result<Self> {
        ALL_METHODS
            .into_iter()
            .find(|m| m.key() == key)
            .ok_or_else(|| {
                let keys: Vec<&str> = ALL_METHODS.iter().map(|m| m.key()).collect();
                Error::Config(format!("unknown method {key:?}; choose from {keys:?}"))
            })
    }

    /// Whether the method needs the fold's shared Stage-I network (its masks or weights).
    pub fn needs_stage1(self) -> bool {
        self.spec().shared_stage1
    }

    /// Whether the method needs the radiomics of the Stage-I masks.
    pub fn needs_radiomics(self) -> bool {
        match self.spec().kind {
            MethodKind::LassoCox { radiomics } => radiomics,
            MethodKind::Network(n) => n.head == HeadKind::Radiomics,
        }
    }
}

/// One method: the single place that says what it trains on and how. Adding a method is a
/// variant of [`Method`] and a row of [`METHODS`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MethodSpec {
    /// The method (its row's position in [`METHODS`]).
    pub method: Method,
    /// Short name (folders, CSV).
    pub key: &'static str,
    /// Name for tables.
    pub label: &'static str,
    /// Whether it uses the fold's shared Stage-I network (masks for radiomics, weights to
    /// start from, or the Stage-I DSC it reports).
    pub shared_stage1: bool,
    /// A LASSO-Cox model or a network.
    pub kind: MethodKind,
}

/// What kind of model a method fits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MethodKind {
    /// LASSO-Cox on the clinical columns, with the radiomics of the Stage-I masks or not.
    LassoCox {
        /// Radiomics + clinical (else clinical alone).
        radiomics: bool,
    },
    /// A network trained for survival.
    Network(NetworkSpec),
}

/// How a survival network is built and trained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NetworkSpec {
    /// The schedule (`stage2` or `from_scratch` in the experiment config).
    pub schedule: ScheduleKind,
    /// The segmentation term of its loss.
    pub segmentation: SegmentationTerm,
    /// Starts from the fold's Stage-I weights (`transfer` in the config).
    pub from_stage1: bool,
    /// Trains its own Stage I first (its encoder differs from the shared one).
    pub own_stage1: bool,
    /// Fusion of PET and CT in place of the config's (`None`: the config's gated fusion).
    pub fusion: Option<adamss_model::FusionMode>,
    /// What the head gets besides the images.
    pub head: HeadKind,
}

/// Which schedule of the experiment config trains a network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScheduleKind {
    /// `stage2`: fine-tuning after Stage I.
    Stage2,
    /// `from_scratch`: the baselines trained from random weights.
    FromScratch,
}

/// The segmentation term of a survival network's loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentationTerm {
    /// No segmentation head at all (single-task).
    NoHead,
    /// `loss.stage2_seg_weight` (AdaMSS Stage II).
    Stage2,
    /// `1 / loss.mtl_survival_weight` (multi-task learning from scratch).
    MultiTask,
}

/// What the survival head is given besides the images (see [`crate::HeadInputs`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeadKind {
    /// The clinical columns.
    Clinical,
    /// The LASSO-selected radiomics of the Stage-I mask and the clinical columns (with
    /// `radiomics.head = "offset"`, also the LASSO-CoxPH log-risk as an offset).
    Radiomics,
}

const fn network(
    schedule: ScheduleKind,
    segmentation: SegmentationTerm,
    from_stage1: bool,
    fusion: Option<adamss_model::FusionMode>,
    head: HeadKind,
) -> MethodKind {
    MethodKind::Network(NetworkSpec {
        schedule,
        segmentation,
        from_stage1,
        own_stage1: fusion.is_some(),
        fusion,
        head,
    })
}

/// Every method, in [`Method`]'s order.
pub const METHODS: [MethodSpec; 8] = {
    use adamss_model::FusionMode::{Early, Late};
    use HeadKind::{Clinical, Radiomics};
    use ScheduleKind::{FromScratch, Stage2};
    [
        MethodSpec {
            method: Method::LassoCoxClinical,
            key: "lasso-cox-clinical",
            label: "LASSO-Cox, clinical",
            shared_stage1: false,
            kind: MethodKind::LassoCox { radiomics: false },
        },
        MethodSpec {
            method: Method::LassoCoxRadiomics,
            key: "lasso-cox-radiomics",
            label: "LASSO-CoxPH, radiomics + clinical",
            shared_stage1: true,
            kind: MethodKind::LassoCox { radiomics: true },
        },
        MethodSpec {
            method: Method::SingleTask,
            key: "single-task",
            label: "single-task deep survival",
            shared_stage1: false,
            kind: network(FromScratch, SegmentationTerm::NoHead, false, None, Clinical),
        },
        MethodSpec {
            method: Method::Mtl,
            key: "mtl",
            label: "MTL (joint, from scratch)",
            shared_stage1: false,
            kind: network(
                FromScratch,
                SegmentationTerm::MultiTask,
                false,
                None,
                Clinical,
            ),
        },
        MethodSpec {
            method: Method::Ssl,
            key: "ssl",
            label: "AdaMSS (SSL)",
            shared_stage1: true,
            kind: network(Stage2, SegmentationTerm::Stage2, true, None, Clinical),
        },
        MethodSpec {
            method: Method::SslRadiomics,
            key: "ssl-radiomics",
            label: "AdaMSS (SSL) + radiomics",
            shared_stage1: true,
            kind: network(Stage2, SegmentationTerm::Stage2, true, None, Radiomics),
        },
        // The fusion variants still ask for the shared Stage I (as they always have: the masks
        // it exports), though they train their own.
        MethodSpec {
            method: Method::SslEarlyFusion,
            key: "ssl-early-fusion",
            label: "SSL, early fusion",
            shared_stage1: true,
            kind: network(
                Stage2,
                SegmentationTerm::Stage2,
                false,
                Some(Early),
                Clinical,
            ),
        },
        MethodSpec {
            method: Method::SslLateFusion,
            key: "ssl-late-fusion",
            label: "SSL, late fusion",
            shared_stage1: true,
            kind: network(
                Stage2,
                SegmentationTerm::Stage2,
                false,
                Some(Late),
                Clinical,
            ),
        },
    ]
};

/// Every method, in [`Method`]'s order (the method column of [`METHODS`]).
pub const ALL_METHODS: [Method; 8] = {
    let mut all = [Method::LassoCoxClinical; 8];
    let mut i = 0;
    while i < all.len() {
        all[i] = METHODS[i].method;
        i += 1;
    }
    all
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_in_the_enum_order_and_keys_parse_back() {
        for (i, m) in ALL_METHODS.into_iter().enumerate() {
            assert_eq!(METHODS[i].method, m);
            assert_eq!(Method::from_key(m.key()).expect("key"), m);
        }
        assert!(Method::from_key("ssl-radiomic").is_err());
        assert!(Method::SslRadiomics.needs_radiomics() && !Method::Ssl.needs_radiomics());
        assert!(!Method::Mtl.needs_stage1() && Method::LassoCoxRadiomics.needs_stage1());
    }
}
