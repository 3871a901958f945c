//! A small CSV table reader shared by the cohort sources: header names are trimmed and
//! stripped of a byte-order mark, every row must have as many cells as the header, and each
//! row remembers its line number for error messages.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

pub(crate) struct Table {
    pub path: PathBuf,
    pub headers: Vec<String>,
    /// `(line number, cells)`.
    pub rows: Vec<(u64, Vec<String>)>,
}

impl Table {
    pub fn read(path: &Path) -> Result<Self> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(std::io::BufReader::new(file));
        let csv_error = |e: csv::Error| Error::Csv {
            path: path.to_owned(),
            line: e.position().map(|p| p.line()),
            reason: match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => {
                    format!("row has {len} cells, the header has {expected_len}")
                }
                _ => e.to_string(),
            },
        };
        let headers: Vec<String> = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .map(|h| h.trim_start_matches('\u{feff}').trim().to_owned())
            .collect();
        if headers.iter().all(String::is_empty) {
            return Err(Error::Csv {
                path: path.to_owned(),
                line: Some(1),
                reason: "empty header".into(),
            });
        }
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(csv_error)?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(|c| c.trim().is_empty()) {
                continue;
            }
            rows.push((line, record.iter().map(|c| c.trim().to_owned()).collect()));
        }
        Ok(Self {
            path: path.to_owned(),
            headers,
            rows,
        })
    }

    /// Index of a column, by case-insensitive name among `names`.
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        self.headers
            .iter()
            .position(|h| names.iter().any(|n| h.eq_ignore_ascii_case(n)))
    }

    /// Like [`Table::column`] but an error naming the file when absent.
    pub fn require(&self, names: &[&str]) -> Result<usize> {
        self.column(names).ok_or_else(|| Error::Csv {
            path: self.path.clone(),
            line: Some(1),
            reason: format!(
                "no column named {:?}; the header is {:?}",
                names[0], self.headers
            ),
        })
    }

    pub fn row_error(&self, line: u64, reason: String) -> Error {
        Error::Csv {
            path: self.path.clone(),
            line: Some(line),
            reason,
        }
    }
}

/// Parses an event flag: 0/1 (also `0.0`/`1.0`), `true`/`false`, `yes`/`no`.
pub(crate) fn parse_event(cell: &str) -> Option<bool> {
    match cell.trim().to_ascii_lowercase().as_str() {
        "1" | "1.0" | "true" | "yes" => Some(true),
        "0" | "0.0" | "false" | "no" => Some(false),
        _ => None,
    }
}
