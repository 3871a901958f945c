//! PyRadiomics-style extraction from files: an image, a mask and (optionally) a JSON parameter
//! file; prints `name,value` lines.
//!
//! ```text
//! cargo run --release -p adamss-radiomics --example radiomics_files -- IMAGE.nii.gz MASK.nii.gz [PARAMS.yaml|PARAMS.json]
//! ```

use std::path::Path;

use adamss_io::Volume;
use adamss_radiomics::ExtractionPlan;
use anyhow::{bail, Context, Result};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        bail!("usage: radiomics_files IMAGE MASK [PARAMS.yaml|PARAMS.json]");
    }
    let features = match args.get(2) {
        // As PyRadiomics' `execute`: the image's stored type (which a resampled image keeps)
        // comes from its header.
        Some(p) => ExtractionPlan::from_file(Path::new(p))?
            .run_files(Path::new(&args[0]), Path::new(&args[1]))?,
        None => {
            let image =
                Volume::<f32>::read(&args[0]).with_context(|| format!("reading {}", args[0]))?;
            let mask =
                Volume::<u8>::read(&args[1]).with_context(|| format!("reading {}", args[1]))?;
            adamss_radiomics::extract(
                &image,
                &mask,
                &adamss_radiomics::Settings::default(),
                &adamss_radiomics::FeatureClass::ALL,
            )?
        }
    };
    for (name, value) in features {
        println!("{name},{value}");
    }
    Ok(())
}
