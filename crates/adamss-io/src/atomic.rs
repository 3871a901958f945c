//! Writing files whole or not at all.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// A fresh temporary name in `path`'s folder: hidden, unique per process and call, and with
/// no extension of its own (`.name-partial-<pid>-<n>` followed by `suffix`).
pub(crate) fn partial_name(path: &Path, stem: &str, suffix: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    path.with_file_name(format!(
        ".{}-partial-{}-{}{suffix}",
        stem.replace('.', "_"),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

/// Writes `bytes` to `path` atomically: a temporary file in the same folder is written,
/// flushed to disk and renamed, so readers (and a crash) never see a partial file. Errors name
/// `path`.
pub fn write_atomic(path: impl AsRef<Path>, bytes: &[u8]) -> Result<()> {
    let path = path.as_ref();
    let stem = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Layout {
            path: path.to_owned(),
            reason: "not a file name".into(),
        })?;
    let tmp = partial_name(path, stem, "");
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            std::io::Write::write_all(&mut f, bytes)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| Error::io(path, e));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
