//! Writing output files so that a reader never sees half of one.

use crate::error::{Error, Result};
use std::path::Path;

/// Write `bytes` to `dir/name` through a hidden temporary file and a rename: the file is
/// either the old one or the whole new one.
pub fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<std::path::PathBuf> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, bytes).map_err(|source| Error::Write {
        path: tmp.clone(),
        source,
    })?;
    std::fs::rename(&tmp, &path).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}
