//! The AdaMSS network: build, run, train one step, inspect the fusion gates, save.
//!
//! ```text
//! cargo run --release --example network
//! ```

use adamss::model::tch::{nn, Kind, Tensor};
use adamss::model::{checkpoint, loss, AdaMss, AdaMssConfig, AdamConfig, CoxTies, FlatAdam};
use anyhow::Result;

fn main() -> Result<()> {
    adamss::model::cpu::tune_allocator();
    let device = adamss::model::best_device();
    // The paper's topology at base width 8 (the paper: 16, `AdaMssConfig::paper()`).
    let config = AdaMssConfig::with_base_width(8);
    adamss::model::tch::manual_seed(0);
    let vs = nn::VarStore::new(device);
    let net = config.build(&vs.root())?;
    let params = adamss::model::count_parameters(&vs, &[]);
    println!("{params} parameters on {device:?}");

    // A batch of 4 patients, 32³ voxels, with survival targets.
    let (pet, ct) = (
        Tensor::randn([4, 1, 32, 32, 32], (Kind::Float, device)),
        Tensor::randn([4, 1, 32, 32, 32], (Kind::Float, device)),
    );
    let target = Tensor::zeros([4, 2, 32, 32, 32], (Kind::Float, device));
    let (time, event) = ([300.0, 820.0, 1500.0, 410.0], [true, false, true, true]);

    let mut opt = FlatAdam::new(&vs, 1e-4, AdamConfig::default())?;
    for step in 0..3 {
        let out = net.forward_t(&pet, &ct, None, true)?;
        let seg = out.seg_logits.as_ref().expect("segmentation head");
        let l = loss::dice_loss(seg, &target)?
            + loss::focal_loss(seg, &target, 0.25, 2.0)?
            + loss::cox_nll(&out.survival, &time, &event, CoxTies::Efron)?;
        opt.zero_grad();
        l.backward();
        opt.step()?;
        println!("step {step}: loss {:.4}", l.double_value(&[]));
    }

    let out = net.forward_t(&pet, &ct, None, false)?;
    println!(
        "mean fusion-gate weight per level: {:?}",
        AdaMss::mean_gate_weights(&out)
    );
    println!(
        "log-risks: {:?}",
        Vec::<f32>::try_from(out.survival.reshape([-1]))?
    );

    let dir = tempfile::tempdir()?;
    let path = dir.path().join("adamss.safetensors");
    checkpoint::save(&vs, &path)?;
    println!(
        "saved {} bytes to {}",
        std::fs::metadata(&path)?.len(),
        path.display()
    );
    Ok(())
}
