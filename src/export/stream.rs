//! A large export written as it is read: the tables that grow with cities and years go to
//! their CSV, JSON and Parquet files batch by batch, never whole in memory. Cities are read a
//! few hundred at a time (raw values, coverage, trends), scores a year at a time (data-point
//! and aggregate scores, ranks, peers), each in the order the in-memory export has, so a
//! streamed file is byte for byte the file a small export writes.

use super::tables::{self, Selection, Sink};
use super::{files_under, json_names, json_row, parquet_target, ExportFormat, PartitionBy};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::rows::{Cell, DataTable};
use crate::store::{RunInfo, Store};
use crate::table::CsvOut;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Cities read at once for the tables read city by city.
const CITY_CHUNK: usize = 256;
/// Rows handed to DuckDB's appender at once for a Parquet file.
const PARQUET_BATCH: usize = 65_536;

/// A file being written: the temporary file beside it, renamed when complete.
struct Part<W> {
    w: W,
    tmp: PathBuf,
    path: PathBuf,
}

fn create(dir: &Path, name: &str) -> Result<Part<BufWriter<File>>> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let f = File::create(&tmp).map_err(|source| Error::Write {
        path: tmp.clone(),
        source,
    })?;
    Ok(Part {
        w: BufWriter::with_capacity(1 << 20, f),
        tmp,
        path: dir.join(name),
    })
}

fn finish(mut w: BufWriter<File>, tmp: &Path, path: &Path) -> Result<PathBuf> {
    let e = |source| Error::Write {
        path: tmp.to_path_buf(),
        source,
    };
    w.flush().map_err(e)?;
    w.get_ref().sync_all().map_err(e)?;
    drop(w);
    std::fs::rename(tmp, path).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(path.to_path_buf())
}

/// One table's rows going to its files as they come.
struct FileSink<'a> {
    /// The table's columns; its rows are the Parquet batch not yet appended.
    table: DataTable,
    csv: Option<Part<CsvOut<BufWriter<File>>>>,
    json: Option<(Part<BufWriter<File>>, Vec<String>, bool)>,
    parquet: Option<(&'a Store, PathBuf, Option<&'static str>)>,
    line: String,
    /// a number's text, reused
    num: String,
}

impl<'a> FileSink<'a> {
    fn open(
        table: DataTable,
        dir: &Path,
        formats: &BTreeSet<ExportFormat>,
        store: &'a Store,
        by: Option<PartitionBy>,
    ) -> Result<FileSink<'a>> {
        let csv = match formats.contains(&ExportFormat::Csv) {
            true => {
                let p = create(dir, &format!("{}.csv", table.name))?;
                let mut w = CsvOut::to(p.w);
                w.record(table.columns.iter().map(|c| c.name))
                    .map_err(|source| Error::Write {
                        path: p.tmp.clone(),
                        source,
                    })?;
                Some(Part {
                    w,
                    tmp: p.tmp,
                    path: p.path,
                })
            }
            false => None,
        };
        let json = match formats.contains(&ExportFormat::Json) {
            true => {
                let mut p = create(dir, &format!("{}.json", table.name))?;
                p.w.write_all(b"[\n").map_err(|source| Error::Write {
                    path: p.tmp.clone(),
                    source,
                })?;
                Some((p, json_names(&table), true))
            }
            false => None,
        };
        let parquet = match formats.contains(&ExportFormat::Parquet) {
            true => {
                store.parquet_begin(&table)?;
                let (path, col) = parquet_target(dir, &table, by);
                Some((store, path, col))
            }
            false => None,
        };
        Ok(FileSink {
            table,
            csv,
            json,
            parquet,
            line: String::new(),
            num: String::new(),
        })
    }

    /// Every file complete and in place; their paths.
    fn close(mut self, metadata: &[(&str, String)]) -> Result<Vec<PathBuf>> {
        let mut done = Vec::new();
        if let Some(p) = self.csv.take() {
            let mut w = p.w;
            w.flush().map_err(|source| Error::Write {
                path: p.tmp.clone(),
                source,
            })?;
            let inner = w.into_inner().map_err(|source| Error::Write {
                path: p.tmp.clone(),
                source,
            })?;
            done.push(finish(inner, &p.tmp, &p.path)?);
        }
        if let Some((mut p, _, _)) = self.json.take() {
            p.w.write_all(b"\n]\n").map_err(|source| Error::Write {
                path: p.tmp.clone(),
                source,
            })?;
            done.push(finish(p.w, &p.tmp, &p.path)?);
        }
        if let Some((store, path, col)) = self.parquet.take() {
            store.parquet_append(&self.table)?;
            self.table.rows.clear();
            store.parquet_finish_by(self.table.name, &path, metadata, col)?;
            done.extend(files_under(&path)?);
        }
        Ok(done)
    }
}

/// A sink dropped before it was closed (an error on the way) leaves no temporary file.
impl Drop for FileSink<'_> {
    fn drop(&mut self) {
        if let Some(p) = self.csv.take() {
            let _ = std::fs::remove_file(&p.tmp);
        }
        if let Some((p, _, _)) = self.json.take() {
            let _ = std::fs::remove_file(&p.tmp);
        }
    }
}

impl Sink for FileSink<'_> {
    fn row(&mut self, cells: Vec<Cell>) -> Result<()> {
        if let Some(p) = &mut self.csv {
            p.w.cells(&cells, &mut self.num)
                .map_err(|source| Error::Write {
                    path: p.tmp.clone(),
                    source,
                })?;
        }
        if let Some((p, names, first)) = &mut self.json {
            self.line.clear();
            if !*first {
                self.line.push_str(",\n");
            }
            *first = false;
            json_row(names, &cells, &mut self.line);
            p.w.write_all(self.line.as_bytes())
                .map_err(|source| Error::Write {
                    path: p.tmp.clone(),
                    source,
                })?;
        }
        if let Some((store, _, _)) = &self.parquet {
            self.table.rows.push(cells);
            if self.table.rows.len() >= PARQUET_BATCH {
                store.parquet_append(&self.table)?;
                self.table.rows.clear();
            }
        }
        Ok(())
    }
}

/// Write the tables that grow with cities and years (raw values, data-point scores,
/// aggregate scores, ranks, peers, trends, coverage) in the CSV, JSON and Parquet `formats`
/// asked for, batch by batch (Parquet split into folders by `by`). Returns the files written.
#[allow(clippy::too_many_arguments)]
pub fn write_large(
    ctx: &Ctx,
    store: &Store,
    run: &RunInfo,
    sel: &Selection,
    dir: &Path,
    formats: &BTreeSet<ExportFormat>,
    metadata: &[(&str, String)],
    by: Option<PartitionBy>,
) -> Result<Vec<PathBuf>> {
    let open = |t: DataTable| FileSink::open(t, dir, formats, store, by);
    let mut raw = open(tables::raw_values_table())?;
    let mut dp = open(tables::data_point_scores_table())?;
    let mut agg = open(tables::aggregate_scores_table())?;
    let mut ranks = open(tables::ranks_table())?;
    let mut peers = open(tables::peers_table())?;
    let mut trends = open(tables::trends_table())?;
    let mut coverage = open(tables::coverage_table())?;
    let revisions = tables::revisions_of(store)?;
    let cities: Vec<String> = store
        .value_cities()?
        .into_iter()
        .filter(|c| sel.city(c))
        .collect();
    for (k, chunk) in cities.chunks(CITY_CHUNK).enumerate() {
        crate::progress::note(
            "export",
            &format!(
                "values and trends: cities {} to {} of {}",
                k * CITY_CHUNK + 1,
                k * CITY_CHUNK + chunk.len(),
                cities.len()
            ),
        );
        let values = store.current_values_of(chunk)?;
        tables::raw_values_rows(ctx, &revisions, &values, sel, &mut raw)?;
        tables::coverage_rows(ctx, &values, sel, &mut coverage)?;
        drop(values);
        tables::trend_rows(&store.trends_of(run.run_id, chunk)?, sel, &mut trends)?;
    }
    let tree = crate::scoring::engine::Tree::new(&ctx.catalog);
    for year in store
        .run_years(run.run_id)?
        .into_iter()
        .filter(|y| sel.year(*y))
    {
        crate::progress::note("export", &format!("scores of {year}"));
        let dps = store.dp_scores(run.run_id, None, Some(year))?;
        tables::data_point_score_rows(ctx, &dps, sel, &mut dp)?;
        drop(dps);
        let nodes = store.node_scores(run.run_id, None, Some(year))?;
        tables::node_rows(&tree, &nodes, sel, &mut agg, &mut ranks)?;
        tables::peer_rows(ctx, &nodes, sel, &mut peers)?;
    }
    let mut written = Vec::new();
    for sink in [raw, dp, agg, ranks, peers, trends, coverage] {
        written.extend(sink.close(metadata)?);
    }
    Ok(written)
}
