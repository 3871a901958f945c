//! Reads the `time,event,x0,x1,…` design CSVs (header first) of the Cox, LASSO-Cox and AFT
//! timing examples, which `tools/ab_coxph.py`, `tools/ab_coxnet.py` and `tools/ab_aft.py` time
//! against the Python tools.

/// Times, event indicators and the covariate matrix of a `time,event,x0,x1,…` file.
pub type Design = (Vec<f64>, Vec<u8>, ndarray::Array2<f64>);

/// Reads a design file (the Cox and LASSO-Cox timing examples').
pub fn read_design(path: &str) -> Result<Design, Box<dyn std::error::Error>> {
    let mut reader = csv::Reader::from_path(path)?;
    let (mut time, mut event, mut x) = (Vec::new(), Vec::new(), Vec::new());
    let mut p = 0;
    for row in reader.records() {
        let row = row?;
        time.push(row[0].parse::<f64>()?);
        event.push(row[1].parse::<u8>()?);
        p = row.len() - 2;
        for v in row.iter().skip(2) {
            x.push(v.parse::<f64>()?);
        }
    }
    let x = ndarray::Array2::from_shape_vec((time.len(), p), x)?;
    Ok((time, event, x))
}
