//! The network's blocks and the whole AdaMSS network on CPU, forward and forward+backward,
//! at 32³ and 48³ (batch 1, base width C = 16, train-mode BatchNorm) — the same cases as
//! `tools/adamss_twin.py bench`, which times the PyTorch twin.
//!
//! ```text
//! cargo bench --bench model
//! .venv/bin/python tools/adamss_twin.py bench --sizes 32 48
//! ```
//!
//! Forward runs without gradient tracking; forward+backward reduces the output to its mean
//! and back-propagates into every parameter.

use std::time::Duration;

use adamss::model::tch::nn::{self, ModuleT};
use adamss::model::tch::{Device, Kind, Tensor};
use adamss::model::{AdaMssConfig, AttentionGateConfig, FusionGateConfig, ResBlockConfig};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

const C: i64 = 16;

fn randn(shape: &[i64]) -> Tensor {
    Tensor::randn(shape, (Kind::Float, Device::Cpu))
}

fn max_pool2(x: &Tensor) -> Tensor {
    x.max_pool3d([2, 2, 2], [2, 2, 2], [0, 0, 0], [1, 1, 1], false)
}

type Block = Box<dyn Fn() -> Tensor>;

fn blocks(size: i64) -> Vec<(&'static str, nn::VarStore, Block)> {
    adamss::model::tch::manual_seed(0);
    let s = size;
    let xc = randn(&[1, C, s, s, s]);
    let x8 = randn(&[1, 8, s, s, s]);
    let g = randn(&[1, 2 * C, s / 2, s / 2, s / 2]);
    let pet = randn(&[1, 1, s, s, s]);
    let ct = randn(&[1, 1, s, s, s]);
    let mut out: Vec<(&'static str, nn::VarStore, Block)> = Vec::new();

    let vs = nn::VarStore::new(Device::Cpu);
    let fg = FusionGateConfig {
        single: 8,
        fused: C,
        gated: true,
    }
    .build(&vs.root())
    .expect("fusion gate");
    let (a, b) = (xc.shallow_clone(), x8.shallow_clone());
    out.push((
        "fusion_gate",
        vs,
        Box::new(move || fg.forward_t(&a, &b, &b, true).0),
    ));

    let vs = nn::VarStore::new(Device::Cpu);
    let rb = ResBlockConfig {
        cin: C,
        cout: C,
        depth: 3,
    }
    .build(&vs.root())
    .expect("res block");
    let a = xc.shallow_clone();
    out.push(("res_block", vs, Box::new(move || rb.forward_t(&a, true))));

    let vs = nn::VarStore::new(Device::Cpu);
    let ag = AttentionGateConfig {
        skip: C,
        gating: 2 * C,
    }
    .build(&vs.root())
    .expect("attention gate");
    let (a, gg) = (xc.shallow_clone(), g.shallow_clone());
    out.push((
        "attention_gate",
        vs,
        Box::new(move || ag.forward_t(&a, &gg, true).0),
    ));

    let vs = nn::VarStore::new(Device::Cpu);
    let lvl = ResBlockConfig {
        cin: C,
        cout: 2 * C,
        depth: 3,
    }
    .build(&vs.root())
    .expect("encoder level");
    let a = xc.shallow_clone();
    out.push((
        "encoder_level",
        vs,
        Box::new(move || lvl.forward_t(&max_pool2(&a), true)),
    ));

    let vs = nn::VarStore::new(Device::Cpu);
    let net = AdaMssConfig::with_base_width(C)
        .build(&vs.root())
        .expect("network");
    out.push((
        "adamss",
        vs,
        Box::new(move || {
            net.forward_t(&pet, &ct, None, true)
                .expect("forward")
                .seg_logits
                .expect("segmentation head")
        }),
    ));
    out
}

fn bench(c: &mut Criterion) {
    // As the `adamss` binary does; see `adamss_model::cpu`.
    adamss::model::cpu::tune_allocator();
    for size in [32i64, 48] {
        for (name, vs, f) in blocks(size) {
            let mut group = c.benchmark_group(format!("model/{name}"));
            group.sample_size(10).warm_up_time(Duration::from_secs(1));
            group.measurement_time(Duration::from_secs(if name == "adamss" { 20 } else { 5 }));
            group.bench_with_input(BenchmarkId::new("forward", size), &size, |bch, _| {
                bch.iter(|| adamss::model::tch::no_grad(&f))
            });
            group.bench_with_input(
                BenchmarkId::new("forward_backward", size),
                &size,
                |bch, _| {
                    bch.iter(|| {
                        for mut t in vs.trainable_variables() {
                            t.zero_grad();
                        }
                        f().mean(Kind::Float).backward();
                    })
                },
            );
            group.finish();
        }
    }
}

#[allow(missing_docs)]
mod harness {
    use super::*;
    criterion_group!(benches, bench);
}
criterion_main!(harness::benches);
