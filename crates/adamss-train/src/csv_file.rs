//! The crate's one CSV writer (risks, masks, segmentation scores, report tables).

use std::path::Path;

use crate::error::{Error, Result};

/// Writes a CSV file whole or not at all (`adamss_io::write_atomic`), through the csv crate,
/// which quotes a field holding a comma, a quote or a line break (a patient id may).
pub(crate) fn write_csv<R, F>(
    path: &Path,
    header: &[&str],
    rows: impl IntoIterator<Item = R>,
) -> Result<()>
where
    R: IntoIterator<Item = F>,
    F: AsRef<[u8]>,
{
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header).map_err(|e| Error::file(path, e))?;
    for row in rows {
        w.write_record(row).map_err(|e| Error::file(path, e))?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::file(path, e.to_string()))?;
    adamss_io::write_atomic(path, &bytes)?;
    Ok(())
}
