//! `u4ssc export`: everything the UNECE project's analysts hand on, byte-identical for the
//! same inputs. Tables as CSV / JSON / Parquet, an XLSX workbook, a city profile per city
//! (HTML and Markdown), a network dashboard, an SDG view and linked data (JSON-LD).

pub mod html;
mod manifest;
mod stream;
pub mod tables;

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::store::Access;
use crate::table::neutralise;
use clap::ValueEnum;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use tables::{Cell, ColType, DataTable, Selection};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Json,
    Parquet,
    Xlsx,
    Html,
    Md,
    Jsonld,
}

/// What `export` writes (the CLI's `app::ExportArgs`, as plain values).
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Output directory (created if needed)
    pub out: PathBuf,
    /// Formats, comma-separated
    pub format: Vec<ExportFormat>,
    /// Only these cities (slug, number or name)
    pub city: Vec<String>,
    /// Only this year (profiles: the year shown) [default: all years; profiles: the latest]
    pub year: Option<i32>,
    /// Scoring run [default: the latest]
    pub run: Option<i64>,
    /// Add a sheet per city to the workbook (its aggregate scores, all years)
    pub xlsx_city_sheets: bool,
    /// Write each Parquet table that has this column as Hive-style folders
    /// (`aggregate_scores/year=2024/…`), read back as one table by DuckDB, Spark, Trino or Polars
    pub partition_by: Option<PartitionBy>,
}

/// The column that splits a Parquet table into folders.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PartitionBy {
    Year,
    City,
}

impl PartitionBy {
    fn column(self) -> &'static str {
        match self {
            PartitionBy::Year => "year",
            PartitionBy::City => "city",
        }
    }
}

/// Where a table's Parquet goes: `NAME.parquet`, or the folder `NAME/` split by the
/// partition column when the table has it.
fn parquet_target(
    dir: &Path,
    t: &DataTable,
    by: Option<PartitionBy>,
) -> (PathBuf, Option<&'static str>) {
    match by.map(PartitionBy::column) {
        Some(col) if t.columns.iter().any(|c| c.name == col) => (dir.join(t.name), Some(col)),
        _ => (dir.join(format!("{}.parquet", t.name)), None),
    }
}

/// The files a written path holds: itself, or every file in its folders, in order.
fn files_under(path: &Path) -> Result<Vec<PathBuf>> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut out = Vec::new();
    let entries = std::fs::read_dir(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        out.extend(files_under(&p)?);
    }
    Ok(out)
}

/// Writes files under one directory; names never come from user text.
struct Out<'a> {
    dir: &'a Path,
    written: Vec<PathBuf>,
    progress: bool,
    total: usize,
}

impl Out<'_> {
    fn write(&mut self, name: &str, bytes: &[u8]) -> Result<()> {
        self.write_with(name, |w| w.write_all(bytes))
    }

    /// Write a file through `fill`, straight to disk.
    fn write_with(
        &mut self,
        name: &str,
        fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<()> {
        debug_assert!(!name.contains('/') && !name.contains(".."));
        let path = crate::files::write_atomic_with(self.dir, name, fill)?;
        self.written.push(path);
        if self.progress {
            crate::progress::step(
                &format!("export: {name}"),
                self.written.len() as u64,
                self.total as u64,
            );
        }
        Ok(())
    }
}

pub fn csv_bytes(t: &DataTable) -> Vec<u8> {
    let mut out = Vec::new();
    let _ = write_csv(t, &mut out);
    out
}

/// A table as CSV into `w`, row by row (no copy of the whole file in memory).
pub fn write_csv(t: &DataTable, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut c = crate::table::CsvOut::to(w);
    c.record(t.columns.iter().map(|c| c.name))?;
    let mut buf = String::new();
    for r in &t.rows {
        c.cells(r, &mut buf)?;
    }
    c.flush()
}

pub fn json_bytes(t: &DataTable) -> Vec<u8> {
    // one object per line, written directly: diff-friendly, and far faster than building a
    // serde_json::Value per row
    let names = json_names(t);
    let mut s = String::with_capacity(t.rows.len() * 160 + 4);
    s.push_str("[\n");
    for (i, r) in t.rows.iter().enumerate() {
        if i > 0 {
            s.push_str(",\n");
        }
        json_row(&names, r, &mut s);
    }
    s.push_str("\n]\n");
    s.into_bytes()
}

/// The column names of a table as JSON strings, for [`json_row`].
fn json_names(t: &DataTable) -> Vec<String> {
    t.columns
        .iter()
        .map(|c| serde_json::to_string(c.name).unwrap_or_default())
        .collect()
}

/// One row as a JSON object on one line.
fn json_row(names: &[String], r: &[Cell], s: &mut String) {
    s.push('{');
    for (k, (name, v)) in names.iter().zip(r).enumerate() {
        if k > 0 {
            s.push(',');
        }
        s.push_str(name);
        s.push(':');
        match v {
            Cell::Text(x) => s.push_str(&serde_json::to_string(x).unwrap_or_default()),
            Cell::Num(x) if x.is_finite() => s.push_str(&format!("{x}")),
            Cell::Int(x) => s.push_str(&x.to_string()),
            Cell::Num(_) | Cell::Null => s.push_str("null"),
        }
    }
    s.push('}');
}

/// The most data rows an Excel sheet holds (1 048 576 rows, one of them the header).
const XLSX_MAX_ROWS: usize = 1_048_575;

/// A table's rows in sheets of at most `cap` rows (one sheet, empty, for no rows).
fn sheet_parts<T>(rows: &[T], cap: usize) -> Vec<&[T]> {
    if rows.is_empty() {
        return vec![rows];
    }
    rows.chunks(cap.max(1)).collect()
}

/// A sheet name Excel takes for `wanted`: at most 31 characters, none of `[]:*?/\`, not
/// "History" (reserved), and not a name already `taken` (Excel compares them without case):
/// else cut and numbered (`name~2`). The name is added to `taken`.
fn free_sheet_name(wanted: &str, taken: &mut std::collections::HashSet<String>) -> String {
    let clean: String = wanted
        .chars()
        .map(|c| if "[]:*?/\\".contains(c) { '_' } else { c })
        .collect();
    let clean = clean.trim_matches('\'').to_string();
    let mut k = 1;
    loop {
        let suffix = if k == 1 {
            String::new()
        } else {
            format!("~{k}")
        };
        let keep = 31 - suffix.chars().count();
        let name = format!("{}{suffix}", clean.chars().take(keep).collect::<String>());
        let key = name.to_lowercase();
        if !name.is_empty() && key != "history" && taken.insert(key) {
            return name;
        }
        k += 1;
    }
}

/// Excel's longest cell text, in characters.
const XLSX_MAX_TEXT: usize = 32_767;

/// A text cell as the workbook holds it: neutralised (see [`neutralise`]) and, past Excel's
/// 32 767 characters, cut with a note (the CSV and JSON files hold the whole text).
fn xlsx_text(s: &str) -> String {
    let text = neutralise(s);
    // bytes are never fewer than characters: most cells are decided without counting
    if text.len() <= XLSX_MAX_TEXT {
        return text;
    }
    let n = text.chars().count();
    if n <= XLSX_MAX_TEXT {
        return text;
    }
    let note =
        format!(" … [cut: {n} characters in all; the CSV and JSON files hold the whole text]");
    let keep = XLSX_MAX_TEXT - note.chars().count();
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(&note);
    out
}

/// The workbook; `cap`: the most data rows a sheet takes ([`XLSX_MAX_ROWS`]).
fn xlsx_bytes(
    ctx: &Ctx,
    tables: &[DataTable],
    demo: bool,
    run: &crate::store::RunInfo,
    city_sheets: bool,
    notes: &[String],
    cap: usize,
) -> Result<Vec<u8>> {
    use rust_xlsxwriter::{Color, Format, FormatBorder, Workbook};
    let err =
        |e: rust_xlsxwriter::XlsxError| Error::Invalid(format!("cannot build the workbook: {e}"));
    let mut wb = Workbook::new();
    // fast compression: the workbook is twice the size of the best level, written 4x faster
    wb.set_zip_compression_level(1);
    // a fixed creation date keeps the bytes identical for the same inputs
    let created = rust_xlsxwriter::ExcelDateTime::from_ymd(2026, 1, 1).map_err(err)?;
    wb.set_properties(
        &rust_xlsxwriter::DocProperties::new()
            .set_title("u4ssc export")
            .set_creation_datetime(&created),
    );
    let head = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xDDE4EE))
        .set_border_bottom(FormatBorder::Thin);
    // a number format per kind of column: shares as percentages, growth rates with three
    // decimals, reported values as they are, scores with one decimal
    let percent = Format::new().set_num_format("0.0%");
    let growth = Format::new().set_num_format("0.000");
    let plain = Format::new();
    let num = Format::new().set_num_format("0.0");
    let format_of = |column: &str| match column {
        "coverage" => &percent,
        "cagr" | "required_cagr" | "ratio" => &growth,
        "value" | "used_value" | "first_value" | "last_value" | "target" => &plain,
        _ => &num,
    };
    let band_fmt = |label: &str| {
        let c = match label {
            "95%+ Target" => 0x1A9850,
            "66-95% of Target" => 0xA6D96A,
            "33-66% of Target" => 0xFEE08B,
            _ => 0xF46D43,
        };
        Format::new().set_background_color(Color::RGB(c))
    };
    let sheets = [
        ("Scores", "aggregate_scores"),
        ("DataPoints", "data_point_scores"),
        ("Ranks", "ranks"),
        ("Peers", "peers"),
        ("Trends", "trends"),
        ("Coverage", "coverage"),
        ("KPIs", "catalog"),
        ("Raw", "raw_values"),
        ("Method", "method"),
        ("Sensitivity", "sensitivity"),
        ("Questions", "questions"),
    ];
    // a table longer than a sheet goes on in continuation sheets, and the Summary says so
    let mut notes: Vec<String> = notes.to_vec();
    for (sheet, table) in sheets {
        if let Some(t) = tables.iter().find(|t| t.name == table) {
            let parts = sheet_parts(&t.rows, cap).len();
            if parts > 1 {
                notes.push(format!(
                    "{table} has {} rows, more than an Excel sheet holds: sheet {sheet} goes on in {sheet} (2){} (the CSV and Parquet files hold it whole)",
                    t.rows.len(),
                    if parts > 2 {
                        format!(" to {sheet} ({parts})")
                    } else {
                        String::new()
                    }
                ));
            }
        }
    }
    // Summary
    {
        let ws = wb.add_worksheet().set_name("Summary").map_err(err)?;
        let title = Format::new().set_bold().set_font_size(14);
        ws.write_string_with_format(
            0,
            0,
            "u4ssc export: U4SSC KPIs for Smart Sustainable Cities",
            &title,
        )
        .map_err(err)?;
        if demo {
            ws.write_string_with_format(
                1,
                0,
                "SYNTHETIC demo data: not real city data",
                &Format::new()
                    .set_bold()
                    .set_font_color(Color::RGB(0xB00020)),
            )
            .map_err(err)?;
        }
        for (r, (k, v)) in (2u32..).zip([
            ("run", run.run_id.to_string()),
            ("method", run.method_name.clone()),
            ("method sha256", run.method_hash.clone()),
            ("revisions", run.revisions.clone()),
            ("targets", ctx.catalog.info.targets.clone()),
        ]) {
            ws.write_string(r, 0, k).map_err(err)?;
            ws.write_string(r, 1, xlsx_text(&v)).map_err(err)?;
        }
        for (r, note) in (8u32..).zip(&notes) {
            ws.write_string(r, 0, "note").map_err(err)?;
            ws.write_string(r, 1, xlsx_text(note)).map_err(err)?;
        }
        ws.set_column_width(0, 18).map_err(err)?;
        ws.set_column_width(1, 90).map_err(err)?;
    }

    for (sheet, table) in sheets {
        let Some(t) = tables.iter().find(|t| t.name == table) else {
            continue;
        };
        // Excel holds 1 048 576 rows a sheet, the header included: a longer table goes on in
        // continuation sheets ("Scores (2)", …); the Summary says so
        for (part, rows) in sheet_parts(&t.rows, cap).into_iter().enumerate() {
            let name = if part == 0 {
                sheet.to_string()
            } else {
                format!("{sheet} ({})", part + 1)
            };
            let ws = wb.add_worksheet().set_name(&name).map_err(err)?;
            for (j, c) in t.columns.iter().enumerate() {
                ws.write_string_with_format(0, j as u16, c.name, &head)
                    .map_err(err)?;
                ws.set_column_width(j as u16, fitting_width(t, j))
                    .map_err(err)?;
            }
            for (i, row) in rows.iter().enumerate() {
                let r = i as u32 + 1;
                for (j, cell) in row.iter().enumerate() {
                    let c = j as u16;
                    match cell {
                        Cell::Text(s) if t.columns[j].name == "band" => {
                            ws.write_string_with_format(r, c, s, &band_fmt(s))
                                .map_err(err)?;
                        }
                        Cell::Text(s) => {
                            ws.write_string(r, c, xlsx_text(s)).map_err(err)?;
                        }
                        Cell::Num(x) => {
                            ws.write_number_with_format(r, c, *x, format_of(t.columns[j].name))
                                .map_err(err)?;
                        }
                        Cell::Int(x) => {
                            ws.write_number(r, c, *x as f64).map_err(err)?;
                        }
                        Cell::Null => {}
                    }
                }
            }
            ws.set_freeze_panes(1, 0).map_err(err)?;
            if !rows.is_empty() {
                ws.autofilter(0, 0, rows.len() as u32, t.columns.len() as u16 - 1)
                    .map_err(err)?;
            }
        }
    }
    // what every column of every sheet means (README's descriptions, in the workbook)
    {
        let ws = wb.add_worksheet().set_name("Columns").map_err(err)?;
        for (j, h) in ["sheet", "column", "type", "meaning"].iter().enumerate() {
            ws.write_string_with_format(0, j as u16, *h, &head)
                .map_err(err)?;
        }
        let mut r = 1u32;
        for (sheet, table) in sheets {
            let Some(t) = tables.iter().find(|t| t.name == table) else {
                continue;
            };
            for c in &t.columns {
                let ty = match c.ty {
                    ColType::Text => "text",
                    ColType::Num => "number",
                    ColType::Int => "whole number",
                };
                for (j, v) in [sheet, c.name, ty, c.doc].iter().enumerate() {
                    ws.write_string(r, j as u16, xlsx_text(v)).map_err(err)?;
                }
                r += 1;
            }
        }
        for (j, w) in [14, 22, 13, 90].iter().enumerate() {
            ws.set_column_width(j as u16, *w).map_err(err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(err)?;
    }
    // optionally, one sheet per city: its rows of the aggregate scores
    if let (true, Some(t)) = (
        city_sheets,
        tables.iter().find(|t| t.name == "aggregate_scores"),
    ) {
        let mut slugs: Vec<&str> = t
            .rows
            .iter()
            .filter_map(|r| match &r[0] {
                Cell::Text(s) => Some(s.as_str()),
                _ => None,
            })
            .collect();
        slugs.sort_unstable();
        slugs.dedup();
        let mut taken: std::collections::HashSet<String> = wb
            .worksheets()
            .iter()
            .map(|w| w.name().to_lowercase())
            .collect();
        // the sheet that comes after them
        taken.insert("cities".into());
        for slug in slugs {
            let name = free_sheet_name(slug, &mut taken);
            let ws = wb.add_worksheet().set_name(&name).map_err(err)?;
            for (j, c) in t.columns.iter().enumerate() {
                ws.write_string_with_format(0, j as u16, c.name, &head)
                    .map_err(err)?;
            }
            let mine = t
                .rows
                .iter()
                .filter(|row| row[0] == Cell::Text(slug.to_string()));
            for (r, row) in (1u32..).zip(mine) {
                for (j, cell) in row.iter().enumerate() {
                    let c = j as u16;
                    match cell {
                        Cell::Text(s) => ws
                            .write_string(r, c, xlsx_text(s))
                            .map(|_| ())
                            .map_err(err)?,
                        Cell::Num(x) => ws
                            .write_number_with_format(r, c, *x, &num)
                            .map(|_| ())
                            .map_err(err)?,
                        Cell::Int(x) => {
                            ws.write_number(r, c, *x as f64).map(|_| ()).map_err(err)?
                        }
                        Cell::Null => {}
                    }
                }
            }
            ws.set_freeze_panes(1, 0).map_err(err)?;
        }
    }
    // Cities
    {
        let ws = wb.add_worksheet().set_name("Cities").map_err(err)?;
        let cols = [
            "slug",
            "name",
            "municipality_number",
            "county",
            "population",
            "population_year",
            "kostra_group",
            "u4ssc_evaluation",
        ];
        for (j, c) in cols.iter().enumerate() {
            ws.write_string_with_format(0, j as u16, *c, &head)
                .map_err(err)?;
        }
        for (i, c) in ctx.registry.cities.iter().enumerate() {
            let r = i as u32 + 1;
            ws.write_string(r, 0, &c.slug).map_err(err)?;
            ws.write_string(r, 1, xlsx_text(&c.name)).map_err(err)?;
            ws.write_string(r, 2, &c.municipality_number).map_err(err)?;
            ws.write_string(r, 3, xlsx_text(&c.county)).map_err(err)?;
            ws.write_number(r, 4, c.population as f64).map_err(err)?;
            ws.write_number(r, 5, f64::from(c.population_year))
                .map_err(err)?;
            if let Some(k) = c.kostra_group {
                ws.write_number(r, 6, f64::from(k)).map_err(err)?;
            }
            ws.write_string(r, 7, if c.u4ssc_evaluation { "yes" } else { "no" })
                .map_err(err)?;
        }
        ws.set_freeze_panes(1, 0).map_err(err)?;
    }
    wb.save_to_buffer().map_err(err)
}

/// Rows (values, scores, trends) above which an export is streamed: the tables that grow
/// with cities and years are written batch by batch instead of being built in memory.
/// `U4SSC_EXPORT_STREAM_ROWS` sets another threshold (0 streams every export).
pub const STREAM_ROWS: i64 = 2_000_000;
/// The threshold when only CSV, JSON and Parquet are asked for: nothing then needs the whole
/// tables at once, and streaming writes the same files in far less memory (356 cities × 10
/// years: 6.8–7.0 s at 366–397 MB streamed, 6.1–6.2 s at 966–986 MB built in memory; on the
/// 17-city demo building in memory is faster, 0.33 s against 0.5 s, in 90 MB).
pub const FLAT_STREAM_ROWS: i64 = 250_000;

fn stream_rows(formats: &BTreeSet<ExportFormat>) -> i64 {
    let flat = formats.iter().all(|f| {
        matches!(
            f,
            ExportFormat::Csv | ExportFormat::Json | ExportFormat::Parquet
        )
    });
    std::env::var("U4SSC_EXPORT_STREAM_ROWS")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(if flat { FLAT_STREAM_ROWS } else { STREAM_ROWS })
}

/// What `export` wrote: the run, the folder, every file in it (sorted, paths inside the
/// folder) and notes on what was left out.
#[derive(Debug)]
pub struct ExportReport {
    pub run: i64,
    pub dir: PathBuf,
    pub demo: bool,
    pub files: Vec<String>,
    pub notes: Vec<String>,
}

pub fn export(ctx: &Ctx, a: &ExportOptions) -> Result<ExportReport> {
    let store = ctx.open(Access::ReadOnly)?;
    let runs = store.runs()?;
    let run = match a.run {
        Some(id) => runs
            .into_iter()
            .find(|r| r.run_id == id)
            .ok_or_else(|| Error::Usage(format!("there is no run {id}; see `u4ssc runs`")))?,
        None => runs.into_iter().last().ok_or_else(|| {
            Error::Usage("there is no scoring run yet; run `u4ssc score` first".into())
        })?,
    };
    let mut cities = BTreeSet::new();
    for c in &a.city {
        let (city, _) = ctx.registry.resolve(c, None).ok_or_else(|| {
            Error::Usage(format!(
                "'{c}' is not a city in the registry; see `u4ssc cities`"
            ))
        })?;
        cities.insert(city.slug.clone());
    }
    let sel = Selection {
        cities: (!cities.is_empty()).then_some(cities),
        year: a.year,
    };
    // a large selection is streamed: its large tables go to their files batch by batch,
    // and only the small ones (catalog, method, sensitivity, questions) are held
    let cities: Option<Vec<String>> = sel.cities.as_ref().map(|c| c.iter().cloned().collect());
    let rows = store.export_rows(run.run_id, sel.year, cities.as_deref())?;
    let formats: BTreeSet<ExportFormat> = a.format.iter().copied().collect();
    let streamed = rows > stream_rows(&formats);
    // profiles and the dashboard read what they show themselves: no table is built for them
    let profiles_only = formats
        .iter()
        .all(|f| matches!(f, ExportFormat::Html | ExportFormat::Md));
    let trace = crate::trace::Trace::new();
    let tables = if profiles_only {
        Vec::new()
    } else if streamed {
        let values = tables::sensitivity_values(&store, &sel)?;
        tables::small_tables(ctx, &store, &run, &sel, &values)?
    } else {
        tables::build(ctx, &store, &run, &sel)?
    };
    trace.mark("export: small tables built");
    let demo = store.revisions()?.iter().any(|r| r.is_demo());
    std::fs::create_dir_all(&a.out).map_err(|source| Error::Write {
        path: a.out.clone(),
        source,
    })?;
    let profile_cities = html::profile_cities(ctx, &store, &run, &sel)?;
    trace.mark("export: the cities to profile");
    let total = formats
        .iter()
        .map(|f| match f {
            ExportFormat::Csv | ExportFormat::Json | ExportFormat::Parquet => {
                tables.len() + usize::from(*f != ExportFormat::Parquet)
            }
            ExportFormat::Html | ExportFormat::Md => profile_cities.len() + 1,
            _ => 1,
        })
        .sum();
    let mut o = Out {
        dir: &a.out,
        written: vec![],
        progress: total > 5,
        total,
    };
    let metadata = [
        ("u4ssc_run", run.run_id.to_string()),
        ("u4ssc_method", run.method_name.clone()),
        ("u4ssc_method_sha256", run.method_hash.clone()),
        ("u4ssc_revisions", run.revisions.clone()),
        ("u4ssc_program_version", run.program_version.clone()),
        ("u4ssc_catalog_version", run.catalog_version.clone()),
    ];
    let mut notes = Vec::new();
    if streamed {
        let flat: BTreeSet<ExportFormat> = formats
            .iter()
            .copied()
            .filter(|f| {
                matches!(
                    f,
                    ExportFormat::Csv | ExportFormat::Json | ExportFormat::Parquet
                )
            })
            .collect();
        if !flat.is_empty() {
            o.written.extend(stream::write_large(
                ctx,
                &store,
                &run,
                &sel,
                &a.out,
                &flat,
                &metadata,
                a.partition_by,
                &profile_cities,
            )?);
        }
        if formats.contains(&ExportFormat::Xlsx) {
            notes.push(format!(
                "u4ssc.xlsx holds the small tables only: the {rows} rows of values, scores, ranks, peers, trends and coverage are in the CSV, JSON or Parquet files"
            ));
        }
        if formats.contains(&ExportFormat::Jsonld) {
            notes.push(format!(
                "linked-data.jsonld is not written for {rows} rows (select --year or --city for linked data; Parquet holds everything)"
            ));
        }
    }
    // the workbook is the slowest file: build it on the other core meanwhile
    let want_xlsx = formats.contains(&ExportFormat::Xlsx);
    let city_sheets = a.xlsx_city_sheets;
    let run_ref = &run;
    let tables_ref = &tables;
    let notes_ref = &notes;
    std::thread::scope(|scope| -> Result<()> {
        let xlsx = want_xlsx.then(|| {
            scope.spawn(move || {
                xlsx_bytes(
                    ctx,
                    tables_ref,
                    demo,
                    run_ref,
                    city_sheets,
                    notes_ref,
                    XLSX_MAX_ROWS,
                )
            })
        });
        // the SDG view: built once for both CSV and JSON (streamed with the large tables)
        let mut sdg: Option<DataTable> = None;
        let mut write_sdg = |o: &mut Out, format: ExportFormat| -> Result<()> {
            if streamed {
                // written city by city with the large tables
                return Ok(());
            }
            let t = match &mut sdg {
                Some(t) => t,
                None => sdg.insert(html::sdg_table(ctx, &store, &run, &profile_cities)?),
            };
            match format {
                ExportFormat::Json => o.write("sdg_view.json", &json_bytes(t)),
                _ => o.write("sdg_view.csv", &csv_bytes(t)),
            }
        };
        for f in &formats {
            match f {
                ExportFormat::Csv => {
                    for t in &tables {
                        o.write_with(&format!("{}.csv", t.name), |w| write_csv(t, w))?;
                    }
                    trace.mark("export: CSV tables written");
                    write_sdg(&mut o, ExportFormat::Csv)?;
                    trace.mark("export: the SDG view written");
                }
                ExportFormat::Json => {
                    for t in &tables {
                        o.write(&format!("{}.json", t.name), &json_bytes(t))?;
                    }
                    write_sdg(&mut o, ExportFormat::Json)?;
                }
                ExportFormat::Parquet => {
                    for t in &tables {
                        let (path, by) = parquet_target(&a.out, t, a.partition_by);
                        if o.progress {
                            crate::progress::note("export", &format!("writing {}.parquet", t.name));
                        }
                        store.write_parquet_by(t, &path, &metadata, by)?;
                        o.written.extend(files_under(&path)?);
                    }
                }
                ExportFormat::Xlsx => {}
                ExportFormat::Html | ExportFormat::Md => {
                    let md = *f == ExportFormat::Md;
                    let mut cache: std::collections::BTreeMap<i32, html::YearData> =
                        std::collections::BTreeMap::new();
                    // a few cities' values and trends, not the network's
                    let profiled: Option<Vec<String>> = sel.cities.as_ref().map(|_| {
                        let set: BTreeSet<&String> =
                            profile_cities.iter().map(|(c, _)| c).collect();
                        set.into_iter().cloned().collect()
                    });
                    for (slug, year) in &profile_cities {
                        if !cache.contains_key(year) {
                            cache.insert(
                                *year,
                                html::YearData::load(&store, &run, *year, profiled.as_deref())?,
                            );
                        }
                        let Some(data) = cache.get(year) else {
                            continue;
                        };
                        let page = html::city_profile(ctx, data, &run, slug, *year, demo, md)?;
                        o.write(
                            &format!("profile-{slug}-{year}.{}", if md { "md" } else { "html" }),
                            page.as_bytes(),
                        )?;
                    }
                    // the profiles' year data goes before the dashboard reads its own
                    drop(cache);
                    let dash = html::dashboard(ctx, &store, &run, sel.year, demo, md)?;
                    o.write(
                        &format!("network-dashboard.{}", if md { "md" } else { "html" }),
                        dash.as_bytes(),
                    )?;
                }
                ExportFormat::Jsonld if streamed => {}
                ExportFormat::Jsonld => {
                    o.write("linked-data.jsonld", &html::jsonld(ctx, &tables))?
                }
            }
        }
        if let Some(h) = xlsx {
            if o.progress {
                crate::progress::note("export", "finishing the workbook");
            }
            let bytes = h
                .join()
                .map_err(|_| Error::Invalid("building the workbook failed".into()))??;
            o.write("u4ssc.xlsx", &bytes)?;
        }
        // last: what the folder holds, so whoever it is handed to can check it
        let manifest = manifest::manifest(&a.out, &o.written, &run)?;
        o.write("manifest.json", manifest.as_bytes())?;
        trace.mark("export: manifest written");
        Ok(())
    })?;
    crate::progress::clear();
    let mut names: Vec<String> = o
        .written
        .iter()
        .filter_map(|p| {
            p.strip_prefix(&a.out)
                .ok()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .collect();
    names.sort();
    Ok(ExportReport {
        run: run.run_id,
        dir: a.out.clone(),
        demo,
        files: names,
        notes,
    })
}

/// A column width that fits the header and the first thousand cells (8 to 60 characters).
fn fitting_width(t: &DataTable, j: usize) -> f64 {
    let header = t.columns[j].name.chars().count();
    let cells = t
        .rows
        .iter()
        .take(1000)
        .filter_map(|r| r.get(j))
        .map(|c| match c {
            Cell::Text(s) => s.chars().count(),
            Cell::Num(_) => 8,
            Cell::Int(x) => x.to_string().len(),
            Cell::Null => 0,
        })
        .max()
        .unwrap_or(0);
    (header.max(cells) + 2).clamp(8, 60) as f64
}

#[cfg(test)]
mod tests;
