//! Reads the `time,event,risk` CSVs (header first) of the survival timing examples, which
//! `tools/ab_*.py` write for both sides of a like-for-like comparison.

/// Observed times, event indicators (0/1) and risk scores, in file order.
pub type Columns = (Vec<f64>, Vec<u8>, Vec<f64>);

/// Reads one file's columns.
pub fn read(path: &str) -> Result<Columns, Box<dyn std::error::Error>> {
    let mut reader = csv::Reader::from_path(path)?;
    let (mut time, mut event, mut risk) = (Vec::new(), Vec::new(), Vec::new());
    for row in reader.records() {
        let row = row?;
        time.push(row[0].parse::<f64>()?);
        event.push(row[1].parse::<u8>()?);
        risk.push(row[2].parse::<f64>()?);
    }
    Ok((time, event, risk))
}
