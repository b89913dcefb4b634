//! manifest.json: what an export folder holds, each file with its SHA-256, so that whoever
//! it is handed to can check it.

use crate::error::{Error, Result};
use crate::submission::bulk::hash_file;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The SHA-256 of each file, in order (None: it cannot be read back), hashed on as many
/// threads as there are cores, the largest files first: a world's files are gigabytes, and
/// hashed one after another they took 4-5 s after everything else was written.
fn hash_all(files: &[PathBuf]) -> Vec<Option<String>> {
    let mut order: Vec<(usize, u64)> = files
        .iter()
        .enumerate()
        .map(|(i, p)| (i, std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)))
        .collect();
    order.sort_by_key(|&(_, bytes)| std::cmp::Reverse(bytes));
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .min(files.len())
        .max(1);
    let mut hashes = vec![None; files.len()];
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(&(i, _)) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
                        done.push((i, hash_file(&files[i])));
                    }
                    done
                })
            })
            .collect();
        for w in workers {
            // a worker that panicked leaves its files unhashed: the manifest says so
            for (i, h) in w.join().unwrap_or_default() {
                hashes[i] = h;
            }
        }
    });
    hashes
}

/// What an exported file holds, from its name.
fn holds(name: &str) -> String {
    // a partitioned table's file: `aggregate_scores/year=2024/data_0.parquet`
    if let Some((table, part)) = name.split_once('/') {
        let part = part.rsplit_once('/').map(|(p, _)| p).unwrap_or("");
        return format!("the {table} table (Parquet; the rows of {part}; columns in README)");
    }
    let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
    let format = match ext {
        "csv" => "CSV",
        "json" => "JSON",
        "parquet" => "Parquet",
        "md" => "Markdown",
        "html" => "HTML",
        "xlsx" => "XLSX",
        "jsonld" => "JSON-LD",
        other => other,
    };
    if let Some(rest) = stem.strip_prefix("profile-") {
        return match rest.rsplit_once('-') {
            Some((city, year)) => format!("city profile of {city}, {year} ({format})"),
            None => format!("city profile ({format})"),
        };
    }
    match stem {
        "network-dashboard" => format!("network dashboard ({format})"),
        "u4ssc" => "workbook: every table as a sheet, with a Summary and the Cities".into(),
        "linked-data" => "observations as linked data (JSON-LD)".into(),
        "sdg_view" => format!("scores by SDG ({format})"),
        table => format!("the {table} table ({format}; columns in README)"),
    }
}

/// manifest.json: every written file with its SHA-256, size and what it holds, sorted by
/// name, and the run they come from.
pub(super) fn manifest(
    dir: &Path,
    written: &[PathBuf],
    run: &crate::store::RunInfo,
) -> Result<String> {
    let mut files = Vec::new();
    for (path, sha256) in written.iter().zip(hash_all(written)) {
        // the path inside the export folder (a partitioned table's files are in folders)
        let name = path
            .strip_prefix(dir)
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_else(|_| {
                path.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            });
        let bytes = std::fs::metadata(path)
            .map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?
            .len();
        let sha256 = sha256.ok_or_else(|| {
            Error::Invalid(format!(
                "{}: cannot be read back to hash it",
                path.display()
            ))
        })?;
        files.push(serde_json::json!({
            "file": name,
            "sha256": sha256,
            "bytes": bytes,
            "holds": holds(&name),
        }));
    }
    files.sort_by(|a, b| a["file"].as_str().cmp(&b["file"].as_str()));
    Ok(crate::table::to_json(&serde_json::json!({
        "run": run.run_id,
        "method": run.method_name,
        "method_sha256": run.method_hash,
        "input_revisions": run.revisions,
        "files": files,
    })))
}
