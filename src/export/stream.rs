//! A large export written as it is read: the tables that grow with cities and years go to
//! their CSV, JSON and Parquet files batch by batch, never whole in memory. Coverage is counted
//! by DuckDB; cities are read a few hundred at a time (raw values, trends, the SDG view),
//! scores a year at a time in batches (data-point scores on the same thread and connection;
//! aggregate scores, ranks and peers on another), each in the order the in-memory export has,
//! so a streamed file is byte for byte the file a small export writes.

use super::tables::{self, Selection, Sink};
use super::{files_under, json_names, json_row, parquet_target, ExportFormat, PartitionBy};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::rows::{Cell, DataTable};
use crate::scoring::bands::band_label;
use crate::scoring::engine::Level;
use crate::scoring::trends::{ASSESSED, CANNOT_ASSESS};
use crate::store::{LargeLookups, LargeSelection, LargeTable, RunInfo, Store};
use crate::table::CsvOut;
use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Cities read at once for the tables read city by city.
const CITY_CHUNK: usize = 256;
/// Scores read at once for the tables read year by year.
const READ_BATCH: usize = 65_536;
/// Rows handed to DuckDB's appender at once for a Parquet file.
const PARQUET_BATCH: usize = 16_384;

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

    /// No file to write: the rows need not be read.
    fn idle(&self) -> bool {
        self.csv.is_none() && self.json.is_none() && self.parquet.is_none()
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

/// Where and how both halves of a streamed export write, and the flag that stops them.
struct Dest<'a> {
    dir: &'a Path,
    formats: &'a BTreeSet<ExportFormat>,
    /// the formats the program writes row by row for a table DuckDB writes as CSV and
    /// Parquet
    row_formats: BTreeSet<ExportFormat>,
    metadata: &'a [(&'a str, String)],
    by: Option<PartitionBy>,
    stop: &'a AtomicBool,
    /// the cities (each with its year) whose SDG view is written, when its CSV or JSON is
    /// asked for
    sdg: &'a [(String, i32)],
}

impl Dest<'_> {
    /// A table's files in every format asked for (coverage and peers, computed here).
    fn open<'s>(&self, t: DataTable, store: &'s Store) -> Result<FileSink<'s>> {
        FileSink::open(t, self.dir, self.formats, store, self.by)
    }
    /// A table's JSON file: its CSV and Parquet are DuckDB's (see [`large_duckdb`]).
    fn open_rows<'s>(&self, t: DataTable, store: &'s Store) -> Result<FileSink<'s>> {
        FileSink::open(t, self.dir, &self.row_formats, store, self.by)
    }
    /// The other half failed: stop at the next batch.
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// Write the tables that grow with cities and years (raw values, data-point scores,
/// aggregate scores, ranks, peers, trends, coverage) in the CSV, JSON and Parquet `formats`
/// asked for, batch by batch (Parquet split into folders by `by`), and the SDG view of the
/// `sdg` cities in CSV and JSON, city by city. Returns the files written.
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
    sdg: &[(String, i32)],
) -> Result<Vec<PathBuf>> {
    let revisions = tables::revisions_of(store)?;
    let cities: Vec<String> = store
        .value_cities()?
        .into_iter()
        .filter(|c| sel.city(c))
        .collect();
    // values and coverage (city by city) and data-point scores on a second connection and
    // thread, trends (city by city), aggregate scores, ranks and peers on this one: each
    // half has its own sinks
    // (their Parquet rows go to temporary tables of the connection that writes them)
    let other = store.another()?;
    // a half that fails stops the other at its next batch; the first failure is reported
    let stop = AtomicBool::new(false);
    let halt = |r: Result<Option<Vec<Vec<PathBuf>>>>| {
        if r.is_err() {
            stop.store(true, Ordering::Relaxed);
        }
        r
    };
    let dest = Dest {
        dir,
        formats,
        row_formats: formats
            .iter()
            .copied()
            .filter(|f| !matches!(f, ExportFormat::Parquet | ExportFormat::Csv))
            .collect(),
        metadata,
        by,
        stop: &stop,
        sdg,
    };
    let (values, scores) = std::thread::scope(|s| {
        let (cities, revisions, dest) = (&cities, &revisions, &dest);
        let values =
            s.spawn(move || halt(values_half(ctx, &other, run, sel, cities, revisions, dest)));
        let scores = halt(scores_half(ctx, store, run, sel, cities, dest));
        let values = values.join().unwrap_or_else(|_| {
            Err(Error::Invalid(
                "writing the values and data-point scores failed".into(),
            ))
        });
        (values, scores)
    });
    let (values, scores) = match (values?, scores?) {
        (Some(c), Some(y)) => (c, y),
        // only a failure stops a half, and a failure returned above
        _ => return Err(Error::Invalid("the export stopped half way".into())),
    };
    let mut values = values.into_iter();
    let mut scores = scores.into_iter();
    let next = |half: &mut std::vec::IntoIter<Vec<PathBuf>>| half.next().unwrap_or_default();
    let (raw, coverage, dp, sdg) = (
        next(&mut values),
        next(&mut values),
        next(&mut values),
        next(&mut values),
    );
    let (trends, agg, ranks, peers) = (
        next(&mut scores),
        next(&mut scores),
        next(&mut scores),
        next(&mut scores),
    );
    let mut tables = [
        (Some(LargeTable::RawValues), raw),
        (Some(LargeTable::DataPointScores), dp),
        (Some(LargeTable::AggregateScores), agg),
        (Some(LargeTable::Ranks), ranks),
        (None, peers),
        (Some(LargeTable::Trends), trends),
        (None, coverage),
        (None, sdg),
    ];
    if formats.contains(&ExportFormat::Parquet) || formats.contains(&ExportFormat::Csv) {
        let wanted = tables.iter_mut().filter_map(|(w, f)| w.map(|w| (w, f)));
        large_duckdb(ctx, store, run, sel, &cities, &dest, wanted)?;
    }
    Ok(tables.into_iter().flat_map(|(_, files)| files).collect())
}

/// The CSV and Parquet files of the large tables DuckDB writes itself from the stored run
/// (the same rows, columns and order as the rows the program writes; the CSV files byte for
/// byte), each added to its table's files: the CSV file first, as the program lists them.
fn large_duckdb<'f>(
    ctx: &Ctx,
    store: &Store,
    run: &RunInfo,
    sel: &Selection,
    cities: &[String],
    dest: &Dest,
    tables: impl Iterator<Item = (LargeTable, &'f mut Vec<PathBuf>)>,
) -> Result<()> {
    let trace = crate::trace::Trace::new();
    let csv = dest.formats.contains(&ExportFormat::Csv);
    let parquet = dest.formats.contains(&ExportFormat::Parquet);
    let mut lookups = large_lookups(ctx, store)?;
    if csv {
        lookups.csv_texts = csv_texts(store, run, &lookups)?;
    }
    let selection = LargeSelection {
        run: run.run_id,
        value_cities: cities.to_vec(),
        cities: sel.cities.as_ref().map(|c| c.iter().cloned().collect()),
        year: sel.year,
        years: selected_years(store, run, sel)?,
    };
    store.large_begin(&lookups, &selection)?;
    let written = (|| -> Result<()> {
        for (which, files) in tables {
            let t = match which {
                LargeTable::RawValues => tables::raw_values_table(),
                LargeTable::DataPointScores => tables::data_point_scores_table(),
                LargeTable::AggregateScores => tables::aggregate_scores_table(),
                LargeTable::Ranks => tables::ranks_table(),
                LargeTable::Trends => tables::trends_table(),
            };
            let (parquet_path, col) = parquet_target(dest.dir, &t, dest.by);
            if parquet {
                crate::progress::note("export", &format!("writing {}.parquet", t.name));
                store.large_parquet(which, &t, &selection, &parquet_path, dest.metadata, col)?;
                files.extend(files_under(&parquet_path)?);
                trace.mark("export: a large table's Parquet written");
            }
            if csv {
                // the CSV is read from the Parquet file, or from one of its own when none is
                // asked for or it is split into folders
                crate::progress::note("export", &format!("writing {}.csv", t.name));
                let own = !parquet || col.is_some();
                let source = match own {
                    true => {
                        let p = dest.dir.join(format!(".{}.csv.parquet", t.name));
                        store.large_parquet(which, &t, &selection, &p, &[], None)?;
                        p
                    }
                    false => parquet_path,
                };
                let path = dest.dir.join(format!("{}.csv", t.name));
                let written = store.large_csv(&t, &source, &path);
                if own {
                    let _ = std::fs::remove_file(&source);
                }
                written?;
                files.insert(0, path);
                trace.mark("export: a large table's CSV written");
            }
        }
        Ok(())
    })();
    // the lookups go whether or not every file was written
    let done = store.large_done();
    written.and(done)
}

/// The texts a large table's CSV may hold that the program's CSV writer changes (see
/// [`crate::table::neutralised`]), with what it writes instead: the stored data's and the
/// catalog's.
fn csv_texts(store: &Store, run: &RunInfo, l: &LargeLookups) -> Result<Vec<(String, String)>> {
    let mut texts: BTreeSet<String> = store
        .large_text_candidates(run.run_id)?
        .into_iter()
        .collect();
    for (id, code, part, unit, _, basis) in &l.data_points {
        texts.extend([id, code, part, unit, basis].map(String::clone));
    }
    for (code, name) in &l.node_names {
        texts.extend([code.clone(), name.clone()]);
    }
    texts.extend(
        l.levels
            .iter()
            .flat_map(|(stored, key, _)| [stored, key])
            .cloned(),
    );
    texts.extend(l.bands.iter().map(|(_, label)| label.clone()));
    texts.extend(l.trend_categories.iter().cloned());
    texts.insert(l.trend_other.clone());
    Ok(texts
        .into_iter()
        .filter_map(|raw| {
            let csv = crate::table::neutralised(&raw);
            (csv != raw).then(|| (raw.clone(), csv.into_owned()))
        })
        .collect())
}

/// What the large tables' Parquet takes from the catalog and the scoring tree, as the rows
/// the program writes take it.
fn large_lookups(ctx: &Ctx, store: &Store) -> Result<LargeLookups> {
    let tree = crate::scoring::engine::Tree::new(&ctx.catalog);
    let mut seen = BTreeSet::new();
    let data_points = ctx
        .catalog
        .data_points
        .iter()
        .filter(|d| seen.insert(d.id.as_str()))
        .filter_map(|d| ctx.catalog.get(&d.id))
        .map(|dp| {
            (
                dp.id.clone(),
                dp.code.clone(),
                dp.part.clone(),
                dp.unit.clone(),
                dp.target.value,
                dp.target.basis.as_str().to_string(),
            )
        })
        .collect();
    // a node's first name, as the rows look it up
    let mut named = BTreeSet::new();
    let node_names = tree
        .nodes
        .iter()
        .filter(|n| named.insert(n.code.as_str()))
        .map(|n| (n.code.clone(), n.name.clone()))
        .collect();
    let levels = store
        .stored_levels()?
        .into_iter()
        .map(|stored| {
            let level = Level::parse(&stored).unwrap_or(Level::Overall);
            let key = tree.level_key(level).into_owned();
            (stored, key, level > Level::Kpi)
        })
        .collect();
    Ok(LargeLookups {
        data_points,
        node_names,
        levels,
        bands: (1..=4u8)
            .map(|p| (i64::from(p), band_label(p).to_string()))
            .collect(),
        trend_categories: ASSESSED.iter().map(|c| c.to_string()).collect(),
        trend_other: CANNOT_ASSESS.to_string(),
        csv_texts: Vec::new(),
    })
}

/// Coverage (counted by DuckDB), raw values a few hundred cities at a time, the data-point
/// scores a year at a time, then the SDG view city by city; the files of each (None:
/// stopped, the other half failed).
fn values_half(
    ctx: &Ctx,
    store: &Store,
    run: &RunInfo,
    sel: &Selection,
    cities: &[String],
    revisions: &std::collections::BTreeMap<i64, crate::store::RevisionInfo>,
    dest: &Dest,
) -> Result<Option<Vec<Vec<PathBuf>>>> {
    let trace = crate::trace::Trace::new();
    let open = |t: DataTable| dest.open(t, store);
    let mut raw = dest.open_rows(tables::raw_values_table(), store)?;
    let mut coverage = open(tables::coverage_table())?;
    let mut dp = dest.open_rows(tables::data_point_scores_table(), store)?;
    // coverage is counted by DuckDB: a world's values are read only for their own JSON
    let (core, advanced) = ctx.catalog.ids_by_type();
    let counted =
        store.status_counts_of(&core, &advanced, sel.cities.is_some().then_some(cities))?;
    tables::coverage_count_rows(ctx, &counted, sel, &mut coverage)?;
    drop(counted);
    trace.mark("export: coverage written");
    let value_chunks = match raw.idle() {
        true => [].chunks(CITY_CHUNK),
        false => cities.chunks(CITY_CHUNK),
    };
    for (k, chunk) in value_chunks.enumerate() {
        if dest.stopped() {
            return Ok(None);
        }
        crate::progress::note(
            "export",
            &format!(
                "values: cities {} to {} of {}",
                k * CITY_CHUNK + 1,
                k * CITY_CHUNK + chunk.len(),
                cities.len()
            ),
        );
        let values = store.current_values_of(chunk)?;
        tables::raw_values_rows(ctx, revisions, &values, sel, &mut raw)?;
    }
    trace.mark("export: values written");
    let years = match dp.idle() {
        true => Vec::new(),
        false => selected_years(store, run, sel)?,
    };
    for year in years {
        if dest.stopped() {
            return Ok(None);
        }
        crate::progress::note("export", &format!("data-point scores of {year}"));
        store.dp_scores_each(run.run_id, year, READ_BATCH, |dps| {
            tables::data_point_score_rows(ctx, &dps, sel, &mut dp)
        })?;
        trace.mark("export: data-point scores written");
    }
    // the SDG view, city by city (its rows are the profiles', not a stored table's)
    let sdg_formats: BTreeSet<ExportFormat> = dest
        .formats
        .iter()
        .copied()
        .filter(|f| matches!(f, ExportFormat::Csv | ExportFormat::Json))
        .collect();
    let sdg = match dest.sdg {
        cities if !cities.is_empty() && !sdg_formats.is_empty() => {
            let mut sink = FileSink::open(
                crate::export::html::sdg_view_table(),
                dest.dir,
                &sdg_formats,
                store,
                None,
            )?;
            crate::export::html::sdg_view_rows(ctx, store, run, cities, &mut sink)?;
            trace.mark("export: the SDG view written");
            sink.close(&[])?
        }
        _ => Vec::new(),
    };
    Ok(Some(vec![
        raw.close(dest.metadata)?,
        coverage.close(dest.metadata)?,
        dp.close(dest.metadata)?,
        sdg,
    ]))
    .inspect(|_| trace.mark("export: values, coverage and data-point scores closed"))
}

/// The run's years the selection keeps, in order.
fn selected_years(store: &Store, run: &RunInfo, sel: &Selection) -> Result<Vec<i32>> {
    Ok(store
        .run_years(run.run_id)?
        .into_iter()
        .filter(|y| sel.year(*y))
        .collect())
}

/// Trends, a few hundred cities at a time, then aggregate scores, ranks and peers, a year at a
/// time; the files of each (None: stopped, the other half failed).
fn scores_half(
    ctx: &Ctx,
    store: &Store,
    run: &RunInfo,
    sel: &Selection,
    cities: &[String],
    dest: &Dest,
) -> Result<Option<Vec<Vec<PathBuf>>>> {
    let trace = crate::trace::Trace::new();
    let open = |t: DataTable| dest.open(t, store);
    let mut trends = dest.open_rows(tables::trends_table(), store)?;
    let mut agg = dest.open_rows(tables::aggregate_scores_table(), store)?;
    let mut ranks = dest.open_rows(tables::ranks_table(), store)?;
    let mut peers = open(tables::peers_table())?;
    let trend_chunks = match trends.idle() {
        true => [].chunks(CITY_CHUNK),
        false => cities.chunks(CITY_CHUNK),
    };
    for chunk in trend_chunks {
        if dest.stopped() {
            return Ok(None);
        }
        tables::trend_rows(&store.trends_of(run.run_id, chunk)?, sel, &mut trends)?;
    }
    trace.mark("export: trends written");
    let tree = crate::scoring::engine::Tree::new(&ctx.catalog);
    for year in selected_years(store, run, sel)? {
        if dest.stopped() {
            return Ok(None);
        }
        crate::progress::note("export", &format!("aggregate scores of {year}"));
        // a year's scores a batch at a time, in the order of the files; the overall and
        // top-level scores kept for the peer groups, which need every city
        let top = ctx.catalog.top_level();
        let mut peer_nodes = Vec::new();
        // without aggregate scores or ranks to write, only the peer groups' levels are read
        let rows = !(agg.idle() && ranks.idle());
        let levels = [Level::Overall, top];
        let only = (!rows).then_some(&levels[..]);
        store.node_scores_each(run.run_id, year, only, READ_BATCH, |nodes| {
            if rows {
                tables::node_rows(&tree, &nodes, sel, &mut agg, &mut ranks)?;
            }
            peer_nodes.extend(
                nodes
                    .into_iter()
                    .filter(|n| n.level == Level::Overall || n.level == top),
            );
            Ok(())
        })?;
        trace.mark("export: aggregate scores and ranks written");
        tables::peer_rows(ctx, &peer_nodes, sel, &mut peers)?;
        trace.mark("export: peers written");
    }
    trace.mark("export: aggregate scores, ranks and peers written");
    Ok(Some(vec![
        trends.close(dest.metadata)?,
        agg.close(dest.metadata)?,
        ranks.close(dest.metadata)?,
        peers.close(dest.metadata)?,
    ]))
    .inspect(|_| trace.mark("export: trends, aggregate scores, ranks and peers closed"))
}
