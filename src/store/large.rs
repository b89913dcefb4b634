//! The large tables of a streamed export written to CSV and Parquet by DuckDB itself, straight
//! from the stored run: one `COPY (SELECT …) TO` per table and format, never a row through the
//! program. The rows, columns and order are those the export builds row by row
//! (`export::tables`); what they take from the catalog comes as small temporary tables
//! ([`LargeLookups`]). A CSV file is byte for byte the program's: numbers in Rust's shortest
//! exact form (`export_num`, the program's formatting as a scalar function), texts as the program's CSV writer neutralises them
//! (looked up in [`LargeLookups::csv_texts`]), empty texts unquoted.

use super::parquet::{ident_ok, sql_path};
use super::*;

/// A large export table DuckDB writes from the stored run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LargeTable {
    RawValues,
    DataPointScores,
    AggregateScores,
    Ranks,
    Trends,
}

/// What those tables take from the catalog and the scoring tree.
#[derive(Debug, Clone, Default)]
pub struct LargeLookups {
    /// data point id, KPI code, part, unit, target, target basis (the catalog's data points)
    pub data_points: Vec<(String, String, String, String, Option<f64>, String)>,
    /// node code and its name, each code once
    pub node_names: Vec<(String, String)>,
    /// a level as stored, the export's key for it, and whether it is ranked
    pub levels: Vec<(String, String, bool)>,
    /// U4SSC points (1-4) and the band's label; points out of range take the nearest
    pub bands: Vec<(i64, String)>,
    /// the trend categories written as stored; any other is written as `trend_other`
    pub trend_categories: Vec<String>,
    pub trend_other: String,
    /// texts a CSV cell writes otherwise (a formula's first character, a control
    /// character): the text as stored, and as written
    pub csv_texts: Vec<(String, String)>,
}

/// Which rows: the run, the cities and years the export selects.
#[derive(Debug, Clone, Default)]
pub struct LargeSelection {
    pub run: i64,
    /// the cities whose raw values and trends are written (every city with a value unless
    /// the export selects some)
    pub value_cities: Vec<String>,
    /// the cities the export selects (`None`: every city)
    pub cities: Option<Vec<String>>,
    /// the year the export selects, for raw values (`None`: every year)
    pub year: Option<i32>,
    /// the run's years the export writes scores of, in the order written
    pub years: Vec<i32>,
}

impl Store {
    /// The levels the stored runs name (a few; the export's level keys are looked up).
    pub fn stored_levels(&self) -> Result<Vec<String>> {
        self.column("SELECT DISTINCT level FROM score_items ORDER BY level")
    }

    /// Load the lookups and the selection as temporary tables of this connection, for
    /// [`Store::large_parquet`]; [`Store::large_done`] drops them.
    pub fn large_begin(&self, l: &LargeLookups, sel: &LargeSelection) -> Result<()> {
        let e = |e| self.err(e);
        self.conn
            .execute_batch(
                "CREATE OR REPLACE TEMP TABLE export_dp (id VARCHAR, code VARCHAR, part VARCHAR, unit VARCHAR, target DOUBLE, basis VARCHAR);
                 CREATE OR REPLACE TEMP TABLE export_node (code VARCHAR, name VARCHAR);
                 CREATE OR REPLACE TEMP TABLE export_level (stored VARCHAR, key VARCHAR, ranked BOOLEAN);
                 CREATE OR REPLACE TEMP TABLE export_band (points BIGINT, label VARCHAR);
                 CREATE OR REPLACE TEMP TABLE export_trend_category (category VARCHAR);
                 CREATE OR REPLACE TEMP TABLE export_trend_other (label VARCHAR);
                 CREATE OR REPLACE TEMP TABLE export_value_city (city VARCHAR);
                 CREATE OR REPLACE TEMP TABLE export_city (city VARCHAR);
                 CREATE OR REPLACE TEMP TABLE export_year (year INTEGER, pos BIGINT);
                 CREATE OR REPLACE TEMP TABLE export_text (raw VARCHAR, csv VARCHAR);",
            )
            .map_err(e)?;
        let known: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM duckdb_functions() WHERE function_name = 'export_num'",
                [],
                |r| r.get(0),
            )
            .map_err(e)?;
        if known == 0 {
            self.conn
                .register_scalar_function::<ExportNum>("export_num")
                .map_err(e)?;
        }
        use duckdb::ToSql;
        let rows = l
            .data_points
            .iter()
            .map(|(id, code, part, unit, target, basis)| {
                vec![id as &dyn ToSql, code, part, unit, target, basis]
            });
        self.append_all("export_dp", rows)?;
        let rows = l
            .node_names
            .iter()
            .map(|(code, name)| vec![code as &dyn ToSql, name]);
        self.append_all("export_node", rows)?;
        let rows = l
            .levels
            .iter()
            .map(|(stored, key, ranked)| vec![stored as &dyn ToSql, key, ranked]);
        self.append_all("export_level", rows)?;
        let rows = l
            .bands
            .iter()
            .map(|(points, label)| vec![points as &dyn ToSql, label]);
        self.append_all("export_band", rows)?;
        // a String, not a str: a str cannot stand as a `dyn ToSql`
        #[allow(clippy::ptr_arg)]
        fn one(c: &String) -> Vec<&dyn ToSql> {
            vec![c]
        }
        self.append_all("export_trend_category", l.trend_categories.iter().map(one))?;
        self.append_all("export_trend_other", std::iter::once(one(&l.trend_other)))?;
        self.append_all("export_value_city", sel.value_cities.iter().map(one))?;
        self.append_all("export_city", sel.cities.iter().flatten().map(one))?;
        let years: Vec<(i32, i64)> = sel.years.iter().zip(0..).map(|(y, p)| (*y, p)).collect();
        let rows = years.iter().map(|(y, pos)| vec![y as &dyn ToSql, pos]);
        self.append_all("export_year", rows)?;
        let rows = l
            .csv_texts
            .iter()
            .map(|(raw, csv)| vec![raw as &dyn ToSql, csv]);
        self.append_all("export_text", rows)?;
        // the order of the files, by number: sorting millions of rows by numbers is a
        // quarter faster than by texts sharing long beginnings (city slugs); each number is
        // the text's place in DuckDB's own order of the texts, so the rows come out the same
        self.conn
            .execute_batch(
                "CREATE OR REPLACE TEMP TABLE export_order_city AS
                     SELECT city, row_number() OVER (ORDER BY city) AS pos
                     FROM (SELECT city FROM export_value_city UNION SELECT city FROM score_cities);
                 CREATE OR REPLACE TEMP TABLE export_order_dp AS
                     SELECT id, row_number() OVER (ORDER BY id) AS pos FROM (SELECT DISTINCT id FROM export_dp);
                 CREATE OR REPLACE TEMP TABLE export_order_node AS
                     SELECT level, item AS node, row_number() OVER (ORDER BY level, item) AS pos
                     FROM score_items;",
            )
            .map_err(e)
    }

    /// The texts of the stored data that a large table's CSV may hold and the program's CSV
    /// writer may change: every text starting with `=`, `+`, `-`, `@`, tab or carriage
    /// return, or holding a control character (a superset; the program decides which
    /// change). Those of the catalog are the caller's to add.
    pub fn large_text_candidates(&self, run: i64) -> Result<Vec<String>> {
        self.column(&format!(
            "SELECT DISTINCT x FROM (
                 SELECT city AS x FROM observations UNION ALL SELECT source FROM observations
                 UNION ALL SELECT quality FROM observations
                 UNION ALL SELECT source_file FROM revisions UNION ALL SELECT kind FROM revisions
                 UNION ALL SELECT city FROM score_cities UNION ALL SELECT item FROM score_items
                 UNION ALL SELECT flags FROM score_flags
                 UNION ALL SELECT city FROM trends WHERE run_id = {run}
                 UNION ALL SELECT data_point FROM trends WHERE run_id = {run}
                 UNION ALL SELECT category FROM trends WHERE run_id = {run}
                 UNION ALL SELECT reason FROM trends WHERE run_id = {run})
             WHERE regexp_matches(x, '^[=+@\\t\\r-]|[\\x00-\\x1f\\x7f-\\x{{9f}}]')
             ORDER BY x"
        ))
    }

    /// Append `rows` (each a row's values in the table's column order) to a temporary table.
    fn append_all<'v>(
        &self,
        table: &str,
        rows: impl Iterator<Item = Vec<&'v dyn duckdb::ToSql>>,
    ) -> Result<()> {
        let e = |e| self.err(e);
        let mut a = self.conn.appender(table).map_err(e)?;
        for row in rows {
            a.append_row(row.as_slice()).map_err(e)?;
        }
        a.flush().map_err(e)
    }

    /// Write one large table of the run to Parquet at `path` (split by `partition`), its
    /// columns named and typed as `t`'s, from the lookups and selection of
    /// [`Store::large_begin`].
    pub fn large_parquet(
        &self,
        which: LargeTable,
        t: &crate::rows::DataTable,
        sel: &LargeSelection,
        path: &Path,
        metadata: &[(&str, String)],
        partition: Option<&str>,
    ) -> Result<()> {
        let (exprs, from) = large_sql(which, sel);
        let cols = crate::rows::duck_columns(t);
        if exprs.len() != cols.len() || !cols.iter().all(|(n, _)| ident_ok(n)) {
            return Err(Error::Invalid(format!(
                "export table '{}' does not match the columns DuckDB writes for it",
                t.name
            )));
        }
        let select: Vec<String> = exprs
            .iter()
            .zip(&cols)
            .map(|(x, (n, ty))| format!("CAST({x} AS {ty}) AS \"{n}\""))
            .collect();
        let source = format!("(SELECT {} {from})", select.join(", "));
        self.copy_parquet(&source, path, metadata, partition)
    }

    /// Write a large table's CSV at `path` from its Parquet file `parquet` (as
    /// [`Store::large_parquet`] wrote it, not split), byte for byte what the program writes
    /// from its rows (see the module), with the texts of [`Store::large_begin`]'s lookups.
    /// Read from the Parquet file, the rows are sorted once for both files, and in order
    /// without holding them. The file appears complete or not at all.
    pub fn large_csv(&self, t: &crate::rows::DataTable, parquet: &Path, path: &Path) -> Result<()> {
        if !t.columns.iter().all(|c| ident_ok(c.name)) {
            return Err(Error::Invalid(format!(
                "export table '{}' has a column DuckDB cannot write",
                t.name
            )));
        }
        let (p, source) = (sql_path(path)?, sql_path(parquet)?);
        // a text the writer changes is rare: looked up only when there is one
        let changed: i64 = self
            .conn
            .query_row("SELECT count(*) FROM export_text", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        let select: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                let x = format!("\"{}\"", c.name);
                let cell = match c.ty {
                    crate::rows::ColType::Num => format!("export_num({x})"),
                    crate::rows::ColType::Int => x.clone(),
                    crate::rows::ColType::Text if changed > 0 => format!(
                        "nullif(coalesce((SELECT t.csv FROM export_text t WHERE t.raw = {x}), {x}), '')"
                    ),
                    crate::rows::ColType::Text => format!("nullif({x}, '')"),
                };
                format!("{cell} AS {x}")
            })
            .collect();
        let tmp = format!("{p}.tmp");
        // DuckDB quotes a field holding a comma, quote or line break, as the program's writer
        // does, and one holding `#` unless no comment character is set
        let copy = format!(
            "COPY (SELECT {} FROM read_parquet('{source}')) TO '{tmp}' (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NULLSTR '', COMMENT '')",
            select.join(", ")
        );
        let written = self.gated(|| self.conn.execute_batch(&copy).map_err(|e| self.err(e)));
        let done = written.and_then(|_| {
            let w = |source| Error::Write {
                path: PathBuf::from(&tmp),
                source,
            };
            std::fs::File::open(&tmp)
                .and_then(|f| f.sync_all())
                .map_err(w)?;
            std::fs::rename(&tmp, path).map_err(|source| Error::Write {
                path: path.to_path_buf(),
                source,
            })
        });
        if done.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        done
    }

    /// Drop the temporary tables of [`Store::large_begin`].
    pub fn large_done(&self) -> Result<()> {
        self.conn
            .execute_batch(
                "DROP TABLE IF EXISTS export_dp; DROP TABLE IF EXISTS export_node;
                 DROP TABLE IF EXISTS export_level; DROP TABLE IF EXISTS export_band;
                 DROP TABLE IF EXISTS export_trend_category; DROP TABLE IF EXISTS export_trend_other;
                 DROP TABLE IF EXISTS export_value_city;
                 DROP TABLE IF EXISTS export_city; DROP TABLE IF EXISTS export_year;
                 DROP TABLE IF EXISTS export_text; DROP TABLE IF EXISTS export_order_city;
                 DROP TABLE IF EXISTS export_order_dp; DROP TABLE IF EXISTS export_order_node;",
            )
            .map_err(|e| self.err(e))
    }
}

/// `export_num(v)`: a DOUBLE as the text the program's CSV writer gives it (Rust's `{}`: the
/// shortest digits that read back as the same number, never an exponent, no `.0` on a whole
/// number). DuckDB's own text of a DOUBLE writes `5.0`, `1e-05` and `1e+21`, and where two
/// 17-digit texts are equally near (1658206780088562.25) it takes the even one where Rust
/// takes the larger; so the program writes the numbers, a vector at a time.
struct ExportNum;

impl duckdb::vscalar::VArrowScalar for ExportNum {
    type State = ();

    fn invoke(
        _: &(),
        input: duckdb::arrow::record_batch::RecordBatch,
    ) -> std::result::Result<
        std::sync::Arc<dyn duckdb::arrow::array::Array>,
        Box<dyn std::error::Error>,
    > {
        use duckdb::arrow::array::{AsArray, StringBuilder};
        use duckdb::arrow::datatypes::Float64Type;
        use std::fmt::Write;
        let values = input
            .columns()
            .first()
            .and_then(|c| c.as_primitive_opt::<Float64Type>())
            .ok_or("export_num takes one DOUBLE")?;
        let mut out = StringBuilder::with_capacity(values.len(), values.len() * 8);
        let mut text = String::new();
        for v in values.iter() {
            match v {
                Some(v) => {
                    text.clear();
                    write!(text, "{v}")?;
                    out.append_value(&text);
                }
                None => out.append_null(),
            }
        }
        Ok(std::sync::Arc::new(out.finish()))
    }

    fn signatures() -> Vec<duckdb::vscalar::ArrowFunctionSignature> {
        use duckdb::arrow::datatypes::DataType;
        vec![duckdb::vscalar::ArrowFunctionSignature::exact(
            vec![DataType::Float64],
            DataType::Utf8,
        )]
    }
}

/// The column expressions (in the table's order) and the rest of the query (FROM … ORDER BY)
/// of a large table. Only numbers are written into the text; everything else is a table.
fn large_sql(which: LargeTable, sel: &LargeSelection) -> (Vec<&'static str>, String) {
    let run = sel.run;
    let city = match sel.cities {
        Some(_) => "AND s.city IN (SELECT city FROM export_city)",
        None => "",
    };
    // a band label of U4SSC points, clamped to 1-4 as the program's own label is (DuckDB's
    // least and greatest skip a NULL, so none is passed to them)
    let band = |col: &str| {
        format!(
            "LEFT JOIN export_band b
                 ON b.points = CASE WHEN {col} IS NOT NULL THEN least(greatest(CAST({col} AS BIGINT), 1), 4) END"
        )
    };
    match which {
        LargeTable::RawValues => {
            let year = match sel.year {
                Some(y) => format!("WHERE o.year = {y}"),
                None => String::new(),
            };
            (
                vec![
                    "o.city",
                    "o.year",
                    "d.id",
                    "d.code",
                    "d.part",
                    "o.value",
                    "d.unit",
                    "o.revision_id",
                    "r.source_file",
                    "r.kind",
                    "o.source",
                    "o.quality",
                    "CASE WHEN o.verified THEN 'yes' WHEN NOT o.verified THEN 'no' END",
                ],
                // a value's latest revision, as `current_observations` has it
                format!(
                    "FROM (WITH mine AS (SELECT city, year, data_point, value, verified, quality, source, revision_id
                                         FROM observations WHERE city IN (SELECT city FROM export_value_city)),
                                 {newest}
                           SELECT * FROM newest) o
                     JOIN export_dp d ON d.id = o.data_point
                     JOIN export_order_city oc ON oc.city = o.city
                     JOIN export_order_dp od ON od.id = o.data_point
                     LEFT JOIN revisions r ON r.revision_id = o.revision_id
                     {year}
                     ORDER BY oc.pos, o.year, od.pos",
                    newest = newest_of_mine!()
                ),
            )
        }
        LargeTable::DataPointScores => (
            vec![
                "s.city",
                "s.year",
                "s.data_point",
                "s.value",
                "d.target",
                "d.basis",
                "s.achievement",
                "s.points",
                "b.label",
                "s.score",
                "s.rank",
                "s.flags",
            ],
            format!(
                "FROM dp_scores s JOIN export_year y ON y.year = s.year
                 JOIN export_dp d ON d.id = s.data_point
                 JOIN export_order_city oc ON oc.city = s.city
                 JOIN export_order_dp od ON od.id = s.data_point
                 {}
                 WHERE s.run_id = {run} {city}
                 ORDER BY y.pos, od.pos, oc.pos",
                band("s.points")
            ),
        ),
        LargeTable::AggregateScores | LargeTable::Ranks => {
            let ranked = match which {
                LargeTable::Ranks => "AND lv.ranked",
                _ => "",
            };
            let exprs = match which {
                LargeTable::Ranks => vec![
                    "s.city",
                    "s.year",
                    "lv.key",
                    "s.node",
                    "s.rank",
                    "s.rank_median",
                    "s.rank_p05",
                    "s.rank_p95",
                ],
                _ => vec![
                    "s.city",
                    "s.year",
                    "lv.key",
                    "s.node",
                    "coalesce(n.name, '')",
                    "s.u4ssc_pct",
                    "b.label",
                    "s.scored_items",
                    "s.total_items",
                    "s.score",
                    "s.coverage",
                ],
            };
            (
                exprs,
                format!(
                    "FROM node_scores s JOIN export_year y ON y.year = s.year
                     JOIN export_level lv ON lv.stored = s.level
                     LEFT JOIN export_node n ON n.code = s.node
                     JOIN export_order_city oc ON oc.city = s.city
                     JOIN export_order_node odr ON odr.level = s.level AND odr.node = s.node
                     {}
                     WHERE s.run_id = {run} {city} {ranked}
                     ORDER BY y.pos, odr.pos, oc.pos",
                    band("s.band")
                ),
            )
        }
        LargeTable::Trends => (
            vec![
                "s.city",
                "s.data_point",
                "s.first_year",
                "s.last_year",
                "s.first_value",
                "s.last_value",
                "s.cagr",
                "s.required_cagr",
                "s.ratio",
                "coalesce(c.category, o.label)",
                "s.reason",
            ],
            format!(
                "FROM trends s LEFT JOIN export_trend_category c ON c.category = s.category
                 CROSS JOIN export_trend_other o
                 WHERE s.run_id = {run} AND s.city IN (SELECT city FROM export_value_city)
                 ORDER BY s.city, s.data_point"
            ),
        ),
    }
}
