//! The auto-fusion encoder: PET and CT branches, a fused branch, and a learnable fusion gate
//! at every depth.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Init, ModuleT};
use tch::Tensor;

use crate::error::{Error, Result};
use crate::layers::{max_pool2, Conv3d, ConvNormAct, ConvNormActConfig};
use crate::resblock::{ResBlock, ResBlockConfig};

/// How the fused branch combines its own features with the PET/CT branches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FusionMode {
    /// AdaMSS: a learnable per-voxel, per-channel gate `w·fuse + (1 − w)·pc`.
    #[default]
    Gated,
    /// Ablation "no fusion gates": plain sum `fuse + pc`.
    Sum,
    /// Baseline "early fusion": one encoder on `cat(PET, CT)`, no PET/CT branches.
    Early,
    /// Baseline "late fusion": separate PET and CT encoders at the fused widths, features
    /// averaged level by level; no fused branch.
    Late,
}

/// Configuration of a [`FusionGate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FusionGateConfig {
    /// Channels of each single-modality branch at this level.
    pub single: i64,
    /// Channels of the fused branch at this level.
    pub fused: i64,
    /// Whether to gate (`true`) or to add (`false`, the "no fusion gates" ablation).
    pub gated: bool,
}

impl FusionGateConfig {
    /// Builds the gate under `path`: `pc.*` and, when gated, `a.*` and `b.*`.
    pub fn build(&self, path: &nn::Path) -> Result<FusionGate> {
        if self.single < 1 || self.fused < 1 {
            return Err(Error::Config(format!(
                "FusionGate needs positive widths, got {self:?}"
            )));
        }
        let pc = ConvNormActConfig {
            cin: 2 * self.single,
            cout: self.fused,
            kernel: 3,
        }
        .build(&(path / "pc"))?;
        let logits = if self.gated {
            let a = Conv3d::with_init(
                &(path / "a"),
                2 * self.fused,
                self.fused,
                1,
                Init::Const(0.0),
            )?;
            let b = Conv3d::with_init(
                &(path / "b"),
                2 * self.fused,
                self.fused,
                1,
                Init::Const(0.0),
            )?;
            Some((a, b))
        } else {
            None
        };
        Ok(FusionGate { pc, logits })
    }
}

/// The fusion gate of one level.
///
/// `pc = CNA3(cat(P, C))`; `z = cat(fuse, pc)`; `w = sigmoid(a(z) − b(z))` (the stable form
/// of `exp a / (exp a + exp b)`); output `w·fuse + (1 − w)·pc`. The 1×1×1 logit convolutions
/// start with zero weights, so `w` starts near 0.5.
///
/// # Shapes
/// `fuse: [N, C, …]`, `p, c: [N, C_single, …]` → `([N, C, …], w: [N, C, …])`.
#[derive(Debug)]
pub struct FusionGate {
    pc: ConvNormAct,
    logits: Option<(Conv3d, Conv3d)>,
}

impl FusionGate {
    /// Fuses one level; returns the output and the gate weights `w` (absent for the sum).
    pub fn forward_t(
        &self,
        fuse: &Tensor,
        p: &Tensor,
        c: &Tensor,
        train: bool,
    ) -> (Tensor, Option<Tensor>) {
        let pc = self.pc.forward_t(&Tensor::cat(&[p, c], 1), train);
        match &self.logits {
            Some((a, b)) => {
                let z = Tensor::cat(&[fuse, &pc], 1);
                let w = (a.forward(&z) - b.forward(&z)).sigmoid();
                let out = &w * fuse + (w.ones_like() - &w) * &pc;
                (out, Some(w))
            }
            None => (fuse + pc, None),
        }
    }
}

/// One plain encoder branch: at level `i`, max-pool by 2 (not at the first level) then a
/// [`ResBlock`].
#[derive(Debug)]
pub struct EncoderBranch {
    levels: Vec<ResBlock>,
}

impl EncoderBranch {
    /// Builds `levels.{i}` under `path`.
    pub fn new(path: &nn::Path, cin: i64, widths: &[i64], depths: &[usize]) -> Result<Self> {
        let lp = path / "levels";
        let mut levels = Vec::with_capacity(widths.len());
        let mut c = cin;
        for (i, (&w, &n)) in widths.iter().zip(depths).enumerate() {
            levels.push(
                ResBlockConfig {
                    cin: c,
                    cout: w,
                    depth: n,
                }
                .build(&(&lp / i))?,
            );
            c = w;
        }
        Ok(Self { levels })
    }

    /// Runs level `i` on `xs` (pooling first unless `i == 0`).
    pub fn level(&self, i: usize, xs: &Tensor, train: bool) -> Tensor {
        let pooled;
        let input = if i > 0 {
            pooled = max_pool2(xs);
            &pooled
        } else {
            xs
        };
        self.levels[i].forward_t(input, train)
    }

    /// All levels' outputs, shallow to deep.
    pub fn forward_all(&self, xs: &Tensor, train: bool) -> Vec<Tensor> {
        let mut out: Vec<Tensor> = Vec::with_capacity(self.levels.len());
        for i in 0..self.levels.len() {
            let next = match out.last() {
                Some(prev) => self.level(i, prev, train),
                None => self.level(0, xs, train),
            };
            out.push(next);
        }
        out
    }
}

/// Configuration of an [`AdaFusionEncoder`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderConfig {
    /// PET and CT branch widths per level (paper: 8, 16, 32, 64, 128).
    pub single_widths: Vec<i64>,
    /// Fused branch widths per level (paper: C·(1, 2, 4, 8, 16), C = 16).
    pub fused_widths: Vec<i64>,
    /// ResBlock depth per level (paper: 2, 3, 3, 4, 4).
    pub depths: Vec<usize>,
    /// How the branches are fused.
    pub fusion: FusionMode,
}

/// What the encoder hands the decoder, plus the gate weights for inspection.
#[derive(Debug)]
pub struct EncoderOutput {
    /// `F_1 … F_L`, shallow to deep, `[N, fused_widths[i], S/2^i, …]`.
    pub features: Vec<Tensor>,
    /// Per level, the gate weights `w` (empty unless the fusion mode is `Gated`).
    pub gates: Vec<Tensor>,
}

/// The auto-fusion encoder (or, by [`FusionMode`], one of its baselines).
///
/// Parameters: `pet.levels.*`, `ct.levels.*`, `fused.levels.*`, `gates.{i}.*`.
///
/// # Shapes
/// `pet, ct: [N, 1, S, S, S]` with `S` divisible by `2^(L−1)` → `L` feature maps.
#[derive(Debug)]
pub struct AdaFusionEncoder {
    layout: Layout,
    fusion: FusionMode,
}

/// The branches each fusion mode needs.
#[derive(Debug)]
enum Layout {
    Branches {
        pet: EncoderBranch,
        ct: EncoderBranch,
        fused: EncoderBranch,
        gates: Vec<FusionGate>,
    },
    Early {
        fused: EncoderBranch,
    },
    Late {
        pet: EncoderBranch,
        ct: EncoderBranch,
    },
}

impl EncoderConfig {
    /// Checks that the three lists have one entry per level and positive values.
    pub fn validate(&self) -> Result<()> {
        let l = self.depths.len();
        if l == 0 || self.single_widths.len() != l || self.fused_widths.len() != l {
            return Err(Error::Config(format!(
                "encoder: single_widths ({}), fused_widths ({}) and depths ({}) need one entry per level",
                self.single_widths.len(),
                self.fused_widths.len(),
                l
            )));
        }
        if self
            .single_widths
            .iter()
            .chain(&self.fused_widths)
            .any(|&w| w < 1)
            || self.depths.contains(&0)
        {
            return Err(Error::Config(
                "encoder: widths and depths must be positive".into(),
            ));
        }
        Ok(())
    }

    /// Builds the encoder under `path`.
    pub fn build(&self, path: &nn::Path) -> Result<AdaFusionEncoder> {
        self.validate()?;
        let d = &self.depths;
        let layout = match self.fusion {
            FusionMode::Gated | FusionMode::Sum => {
                let gp = path / "gates";
                let gates = self
                    .single_widths
                    .iter()
                    .zip(&self.fused_widths)
                    .enumerate()
                    .map(|(i, (&single, &fused))| {
                        FusionGateConfig {
                            single,
                            fused,
                            gated: self.fusion == FusionMode::Gated,
                        }
                        .build(&(&gp / i))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Layout::Branches {
                    pet: EncoderBranch::new(&(path / "pet"), 1, &self.single_widths, d)?,
                    ct: EncoderBranch::new(&(path / "ct"), 1, &self.single_widths, d)?,
                    fused: EncoderBranch::new(&(path / "fused"), 2, &self.fused_widths, d)?,
                    gates,
                }
            }
            FusionMode::Early => Layout::Early {
                fused: EncoderBranch::new(&(path / "fused"), 2, &self.fused_widths, d)?,
            },
            FusionMode::Late => Layout::Late {
                pet: EncoderBranch::new(&(path / "pet"), 1, &self.fused_widths, d)?,
                ct: EncoderBranch::new(&(path / "ct"), 1, &self.fused_widths, d)?,
            },
        };
        Ok(AdaFusionEncoder {
            layout,
            fusion: self.fusion,
        })
    }
}

impl AdaFusionEncoder {
    /// Encodes one PET/CT pair batch.
    pub fn forward_t(&self, pet: &Tensor, ct: &Tensor, train: bool) -> EncoderOutput {
        match &self.layout {
            Layout::Branches {
                pet: pb,
                ct: cb,
                fused: fb,
                gates: gs,
            } => {
                let ps = pb.forward_all(pet, train);
                let cs = cb.forward_all(ct, train);
                let mut x = Tensor::cat(&[pet, ct], 1);
                let mut features = Vec::with_capacity(ps.len());
                let mut gates = Vec::with_capacity(ps.len());
                for (i, gate) in gs.iter().enumerate() {
                    let f = fb.level(i, &x, train);
                    let (out, w) = gate.forward_t(&f, &ps[i], &cs[i], train);
                    if let Some(w) = w {
                        gates.push(w);
                    }
                    x = out.shallow_clone();
                    features.push(out);
                }
                EncoderOutput { features, gates }
            }
            Layout::Early { fused } => EncoderOutput {
                features: fused.forward_all(&Tensor::cat(&[pet, ct], 1), train),
                gates: Vec::new(),
            },
            Layout::Late { pet: pb, ct: cb } => {
                let ps = pb.forward_all(pet, train);
                let cs = cb.forward_all(ct, train);
                EncoderOutput {
                    features: ps.iter().zip(&cs).map(|(p, c)| (p + c) * 0.5).collect(),
                    gates: Vec::new(),
                }
            }
        }
    }

    /// The fusion mode this encoder was built with.
    pub fn fusion(&self) -> FusionMode {
        self.fusion
    }
}
