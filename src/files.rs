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

/// Write `dir/name` through `fill`, which writes into a buffered temporary file, and a
/// rename: the file is the whole new one or not there; a failed fill leaves no file behind.
pub fn write_atomic_with(
    dir: &Path,
    name: &str,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> Result<std::path::PathBuf> {
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.tmp"));
    let fail = |source| Error::Write {
        path: tmp.clone(),
        source,
    };
    let written = (|| {
        let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&tmp)?);
        fill(&mut w)?;
        std::io::Write::flush(&mut w)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    std::fs::rename(&tmp, &path).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Write `bytes` to `path` (a file name the user gave, with or without a directory), the
/// same way: a hidden temporary file beside it, then a rename.
pub fn write_atomic_to(path: &Path, bytes: &[u8]) -> Result<std::path::PathBuf> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::Usage(format!("{} is not a file name", path.display())))?;
    write_atomic(&dir, &name, bytes)
}

/// A path given for a workbook must end in `.xlsx` (any case); `option` names it in the error.
pub fn require_xlsx(path: &Path, option: &str) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_lowercase);
    if ext.as_deref() == Some("xlsx") {
        Ok(())
    } else {
        Err(Error::Usage(format!(
            "{option} {} must end in .xlsx",
            path.display()
        )))
    }
}
