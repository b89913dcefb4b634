//! Scoring runs stored: the run's row, its score rows (data-point and node rows by parallel
//! inserts of Arrow batches, the rest through column appenders), and the reader a run's
//! scorer reads each year's values with.

use super::batches::Pending;
use super::*;

/// The open run of [`Store::insert_run_with`]: score rows in, by index, a batch at a time in
/// columns, their texts as numbers of [`ScoreKeys`]. Data-point and node rows are gathered
/// until [`INSERT_ROWS`] and inserted by one statement on every core (in the run's
/// transaction); trends, keys and derived rows go through DuckDB's data-chunk appender.
pub struct RunSink<'a> {
    path: &'a Path,
    id: i64,
    /// the run's transaction, for inserting the pending rows
    tx: &'a Connection,
    dp: Pending,
    nodes: Pending,
    /// rows of one table gathered before they are inserted ([`INSERT_ROWS`])
    insert_rows: usize,
    trends: duckdb::Appender<'a>,
    trend_rows: Vec<Trend>,
    /// the nodes whose rows the `node_scores` view derives from a data point's
    derived: duckdb::Appender<'a>,
    keys: ScoreKeys<'a>,
}

/// The numbers that stand for cities, data points and nodes (items, by level) and flag texts
/// in the score tables: those already kept, and those a run adds (appended in its
/// transaction).
struct ScoreKeys<'a> {
    cities: HashMap<String, i32>,
    items: HashMap<(String, String), i32>,
    flags: HashMap<String, i32>,
    new_cities: duckdb::Appender<'a>,
    new_items: duckdb::Appender<'a>,
    new_flags: duckdb::Appender<'a>,
    /// the year whose cities `city_ids` numbers, by the rows' city index
    year: Option<i32>,
    city_ids: Vec<i32>,
    /// by catalog data point, by tree node, by the run's flag index
    dp_ids: Vec<i32>,
    node_ids: Vec<i32>,
    flag_ids: Vec<i32>,
}

/// The number of a text, numbering (and appending) it if it has none yet.
fn key_of<K: std::hash::Hash + Eq>(
    map: &mut HashMap<K, i32>,
    key: K,
    append: impl FnOnce(i32) -> duckdb::Result<()>,
) -> duckdb::Result<i32> {
    if let Some(&id) = map.get(&key) {
        return Ok(id);
    }
    // the numbers kept are 1..=n (the migration numbers densely, runs add one past the
    // last, nothing is ever deleted), so the next is n + 1
    let id = i32::try_from(map.len())
        .ok()
        .and_then(|n| n.checked_add(1))
        .unwrap_or(i32::MAX);
    append(id)?;
    map.insert(key, id);
    Ok(id)
}

impl<'a> ScoreKeys<'a> {
    fn load(tx: &'a Connection) -> duckdb::Result<ScoreKeys<'a>> {
        let pairs = |sql: &str| -> duckdb::Result<Vec<(i32, String, String)>> {
            let mut stmt = tx.prepare(sql)?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
            rows.collect()
        };
        Ok(ScoreKeys {
            cities: pairs("SELECT city_id, city, '' FROM score_cities")?
                .into_iter()
                .map(|(id, c, _)| (c, id))
                .collect(),
            items: pairs("SELECT item_id, level, item FROM score_items")?
                .into_iter()
                .map(|(id, l, i)| ((l, i), id))
                .collect(),
            flags: pairs("SELECT flags_id, flags, '' FROM score_flags")?
                .into_iter()
                .map(|(id, f, _)| (f, id))
                .collect(),
            new_cities: tx.appender("score_cities")?,
            new_items: tx.appender("score_items")?,
            new_flags: tx.appender("score_flags")?,
            year: None,
            city_ids: Vec::new(),
            dp_ids: Vec::new(),
            node_ids: Vec::new(),
            flag_ids: Vec::new(),
        })
    }

    /// Number everything `names` can name that is not numbered yet.
    fn cover(&mut self, names: &Names) -> duckdb::Result<()> {
        if self.year != Some(names.year) {
            self.city_ids.clear();
            for c in names.cities {
                let app = &mut self.new_cities;
                let id = key_of(&mut self.cities, c.clone(), |id| {
                    app.append_row(params![id, c])
                })?;
                self.city_ids.push(id);
            }
            self.year = Some(names.year);
        }
        if self.dp_ids.is_empty() {
            for d in &names.catalog.data_points {
                let app = &mut self.new_items;
                let key = ("data_point".to_string(), d.id.clone());
                self.dp_ids.push(key_of(&mut self.items, key, |id| {
                    app.append_row(params![id, "data_point", d.id])
                })?);
            }
            for n in &names.tree.nodes {
                let app = &mut self.new_items;
                let key = (n.level.key().into_owned(), n.code.clone());
                self.node_ids.push(key_of(&mut self.items, key, |id| {
                    app.append_row(params![id, n.level.key().as_ref(), n.code])
                })?);
            }
        }
        for f in names.flags.iter().skip(self.flag_ids.len()) {
            let app = &mut self.new_flags;
            let id = key_of(&mut self.flags, f.clone(), |id| {
                app.append_row(params![id, f])
            })?;
            self.flag_ids.push(id);
        }
        Ok(())
    }

    fn flush(&mut self) -> duckdb::Result<()> {
        self.new_cities.flush()?;
        self.new_items.flush()?;
        self.new_flags.flush()
    }
}

fn id_at(ids: &[i32], i: u32) -> i32 {
    ids.get(i as usize).copied().unwrap_or(0)
}

/// The columns every score row starts with: run, city, year, item (data point or node).
fn key_columns(
    run: i64,
    year: i32,
    keys: impl ExactSizeIterator<Item = (i32, i32)> + Clone,
) -> Vec<duckdb::arrow::array::ArrayRef> {
    use duckdb::arrow::array::{Int32Array, Int64Array};
    let n = keys.len();
    vec![
        std::sync::Arc::new(Int64Array::from(vec![run; n])),
        std::sync::Arc::new(Int32Array::from_iter_values(keys.clone().map(|k| k.0))),
        std::sync::Arc::new(Int32Array::from(vec![year; n])),
        std::sync::Arc::new(Int32Array::from_iter_values(keys.map(|k| k.1))),
    ]
}

/// Rows gathered before a batch is appended.
const BATCH: usize = 65_536;

/// Reads a run's values one year at a time, on a connection of its own so that a thread of
/// its own can read the next year while the run's rows are stored; it notes the revisions
/// the values came from.
pub struct YearReader {
    conn: Connection,
    path: PathBuf,
    pub revisions: std::collections::BTreeSet<i64>,
    /// every city with values, ascending, once the first year is read (its place is the
    /// number a year's rows come back with)
    cities: Option<Vec<String>>,
}

impl YearReader {
    /// A reader on `conn`, a connection of the store at `path` for the reading thread alone.
    pub(super) fn new(conn: Connection, path: PathBuf) -> YearReader {
        YearReader {
            conn,
            path,
            revisions: Default::default(),
            cities: None,
        }
    }

    /// Number every city with values (ascending, as `String`s compare: DuckDB's default
    /// order of texts is the same, by bytes) and every catalog data point (its place in the
    /// catalog), in temporary tables of this connection that each year's read joins.
    fn number_texts(&mut self, c: &crate::catalog::Catalog) -> duckdb::Result<Vec<String>> {
        // data point ids are plain codes, never the unit separator
        let ids: Vec<&str> = c.data_points.iter().map(|d| d.id.as_str()).collect();
        self.conn.execute(
            "CREATE OR REPLACE TEMP TABLE run_dp_ix AS
                 SELECT unnest(l) AS data_point, (generate_subscripts(l, 1) - 1)::INTEGER AS ix
                 FROM (SELECT string_split(?, chr(31)) AS l)",
            params![ids.join("\u{1f}")],
        )?;
        self.conn.execute_batch(
            "CREATE OR REPLACE TEMP TABLE run_city_ix AS
                 SELECT city, (row_number() OVER (ORDER BY city) - 1)::INTEGER AS ix
                 FROM (SELECT DISTINCT city FROM observations)",
        )?;
        let mut stmt = self
            .conn
            .prepare("SELECT city FROM run_city_ix ORDER BY ix")?;
        let names = stmt.query_map([], |r| r.get::<_, String>(0))?;
        names.collect()
    }

    /// One year's current values as a city × data point matrix: the latest revision per city
    /// and data point within the year, the same rows as `current_observations`. Read in
    /// columns (Arrow batches) and with cities and data points as numbers, so that a million
    /// values cost no text each.
    pub fn raw_year(
        &mut self,
        c: &crate::catalog::Catalog,
        year: i32,
    ) -> Result<crate::scoring::engine::RawYear> {
        use duckdb::arrow::array::{Array, AsArray};
        use duckdb::arrow::datatypes::{Float64Type, Int32Type, Int64Type};
        let path = self.path.clone();
        let e = |e| db_error(&path, e);
        if self.cities.is_none() {
            self.cities = Some(self.number_texts(c).map_err(e)?);
        }
        // with one revision in the year, every row is current: no ranking needed
        let revisions: i64 = self
            .conn
            .query_row(
                "SELECT count(DISTINCT revision_id) FROM observations WHERE year = ?",
                params![year],
                |r| r.get(0),
            )
            .map_err(e)?;
        let latest = if revisions > 1 {
            "QUALIFY row_number() OVER (PARTITION BY o.city, o.data_point ORDER BY o.revision_id DESC) = 1"
        } else {
            ""
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT c.ix, d.ix, o.value::DOUBLE, o.revision_id::BIGINT
                 FROM observations o
                 JOIN run_city_ix c ON c.city = o.city
                 JOIN run_dp_ix d ON d.data_point = o.data_point
                 WHERE o.year = ? {latest}"
            ))
            .map_err(e)?;
        let names = self.cities.as_deref().unwrap_or_default();
        let mut b = crate::scoring::engine::IndexedYearBuilder::new(c, year, names);
        let unexpected = || {
            Error::Invalid(format!(
                "{}: the observations of {year} came back in an unexpected form (internal error)",
                path.display()
            ))
        };
        for batch in stmt.query_arrow(params![year]).map_err(e)? {
            let (Some(city), Some(dp), Some(value), Some(rev)) = (
                batch.column(0).as_primitive_opt::<Int32Type>(),
                batch.column(1).as_primitive_opt::<Int32Type>(),
                batch.column(2).as_primitive_opt::<Float64Type>(),
                batch.column(3).as_primitive_opt::<Int64Type>(),
            ) else {
                return Err(unexpected());
            };
            for k in 0..batch.num_rows() {
                let v = (!value.is_null(k)).then(|| value.value(k));
                if !b.add(city.value(k) as usize, dp.value(k) as usize, v) {
                    return Err(unexpected());
                }
                if k == 0 || rev.value(k) != rev.value(k - 1) {
                    self.revisions.insert(rev.value(k));
                }
            }
        }
        Ok(b.finish())
    }
}

impl crate::scoring::run::ValueSource for YearReader {
    type Error = Error;
    fn year(
        &mut self,
        c: &crate::catalog::Catalog,
        year: i32,
    ) -> Result<crate::scoring::engine::RawYear> {
        self.raw_year(c, year)
    }
}

/// Rows of one table gathered before they are inserted. Fewer, larger inserts split their
/// compression evenly over DuckDB's threads and leave fewer partial row groups to merge:
/// on the 10 000-city world, 1 M rows were 15-20 % faster than the appender and cost about
/// 40 MB more (2 M: no faster, 900 MB; one insert at the end: 1.4 GB).
const INSERT_ROWS: usize = 1_000_000;

impl RunSink<'_> {
    /// Insert gathered rows every `rows` rows (tests: a run's inserts before its end).
    #[cfg(test)]
    pub(super) fn insert_every(&mut self, rows: usize) {
        self.insert_rows = rows;
    }

    /// The rows `table` holds as the run's transaction sees it (tests).
    #[cfg(test)]
    pub(super) fn rows_seen(&self, table: &str) -> i64 {
        self.tx
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    }

    pub fn append_trend(&mut self, t: Trend) -> Result<()> {
        self.trend_rows.push(t);
        if self.trend_rows.len() >= BATCH {
            self.flush_trends()?;
        }
        Ok(())
    }

    /// Append a batch of one year's data-point rows, their texts taken from `names`.
    pub fn append_dp_rows(&mut self, names: &Names, rows: &[DpRow]) -> Result<()> {
        use duckdb::arrow::array::*;
        if rows.is_empty() {
            return Ok(());
        }
        self.keys.cover(names).map_err(|e| db_error(self.path, e))?;
        let k = &self.keys;
        let f64s = |f: fn(&DpRow) -> Option<f64>| -> ArrayRef {
            std::sync::Arc::new(Float64Array::from_iter(rows.iter().map(f)))
        };
        let mut cols = key_columns(
            self.id,
            names.year,
            rows.iter()
                .map(|r| (id_at(&k.city_ids, r.city), id_at(&k.dp_ids, r.dp))),
        );
        cols.extend([
            f64s(|r| r.value),
            f64s(|r| r.used_value),
            f64s(|r| r.achievement),
            // derived from the achievement in the `dp_scores` view (schema 8)
            std::sync::Arc::new(Int8Array::new_null(rows.len())),
            f64s(|r| r.score),
            std::sync::Arc::new(Int32Array::from_iter(
                rows.iter().map(|r| r.rank.map(|x| x as i32)),
            )),
            std::sync::Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| id_at(&k.flag_ids, r.flags)),
            )),
        ]);
        record_batch(cols)
            .and_then(|b| self.dp.add(self.tx, b, self.insert_rows))
            .map_err(|e| db_error(self.path, e))
    }

    /// Append a batch of one year's node rows.
    pub fn append_node_rows(&mut self, names: &Names, rows: &[NodeRow]) -> Result<()> {
        use duckdb::arrow::array::*;
        if rows.is_empty() {
            return Ok(());
        }
        self.keys.cover(names).map_err(|e| db_error(self.path, e))?;
        let k = &self.keys;
        let f64s = |f: fn(&NodeRow) -> Option<f64>| -> ArrayRef {
            std::sync::Arc::new(Float64Array::from_iter(rows.iter().map(f)))
        };
        let i32s = |f: fn(&NodeRow) -> u32| -> ArrayRef {
            std::sync::Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| f(r) as i32),
            ))
        };
        let mut cols = key_columns(
            self.id,
            names.year,
            rows.iter()
                .map(|r| (id_at(&k.city_ids, r.city), id_at(&k.node_ids, r.node))),
        );
        cols.extend([
            f64s(|r| r.u4ssc_pct),
            // derived from the U4SSC share in the `node_scores` view (schema 8)
            std::sync::Arc::new(Int8Array::new_null(rows.len())),
            i32s(|r| r.scored_items),
            i32s(|r| r.total_items),
            f64s(|r| r.score),
            f64s(|r| Some(r.coverage)),
            std::sync::Arc::new(Int32Array::from_iter(
                rows.iter().map(|r| r.rank.map(|x| x as i32)),
            )),
            f64s(|r| r.rank_median),
            f64s(|r| r.rank_p05),
            f64s(|r| r.rank_p95),
        ]);
        record_batch(cols)
            .and_then(|b| self.nodes.add(self.tx, b, self.insert_rows))
            .map_err(|e| db_error(self.path, e))
    }

    fn flush_trends(&mut self) -> Result<()> {
        use duckdb::arrow::array::*;
        let rows = std::mem::take(&mut self.trend_rows);
        if rows.is_empty() {
            return Ok(());
        }
        let n = rows.len();
        let cols: Vec<ArrayRef> = vec![
            std::sync::Arc::new(Int64Array::from(vec![self.id; n])),
            std::sync::Arc::new(StringArray::from_iter_values(rows.iter().map(|r| &r.city))),
            std::sync::Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| &r.data_point),
            )),
            std::sync::Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| r.first_year),
            )),
            std::sync::Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| r.last_year),
            )),
            std::sync::Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| r.first_value),
            )),
            std::sync::Arc::new(Float64Array::from_iter_values(
                rows.iter().map(|r| r.last_value),
            )),
            std::sync::Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.cagr))),
            std::sync::Arc::new(Float64Array::from_iter(
                rows.iter().map(|r| r.required_cagr),
            )),
            std::sync::Arc::new(Float64Array::from_iter(rows.iter().map(|r| r.ratio))),
            std::sync::Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.category),
            )),
            std::sync::Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| &r.reason),
            )),
        ];
        append_batch(&mut self.trends, cols).map_err(|e| db_error(self.path, e))
    }

    /// Append what is still gathered.
    fn flush(&mut self) -> Result<()> {
        self.flush_trends()?;
        let path = self.path;
        let e = |e| db_error(path, e);
        self.keys.flush().map_err(e)?;
        self.dp.insert(self.tx).map_err(e)?;
        self.nodes.insert(self.tx).map_err(e)?;
        self.derived.flush().map_err(e)?;
        self.trends.flush().map_err(e)
    }
}

/// Columns (in the table's order and types) as one record batch through an appender.
pub(super) fn append_batch(
    app: &mut duckdb::Appender,
    cols: Vec<duckdb::arrow::array::ArrayRef>,
) -> duckdb::Result<()> {
    app.append_record_batch(record_batch(cols)?)
}

/// Columns (in the table's order and types) as one record batch.
fn record_batch(
    cols: Vec<duckdb::arrow::array::ArrayRef>,
) -> duckdb::Result<duckdb::arrow::record_batch::RecordBatch> {
    use duckdb::arrow::datatypes::{Field, Schema};
    use duckdb::arrow::record_batch::RecordBatch;
    let fields: Vec<Field> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
        .collect();
    RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), cols)
        .map_err(|e| duckdb::Error::ToSqlConversionFailure(Box::new(e)))
}

impl crate::scoring::run::RunIo for RunSink<'_> {
    type Error = Error;
    fn dp_rows(&mut self, names: &Names, rows: &[DpRow]) -> Result<()> {
        self.append_dp_rows(names, rows)
    }
    fn node_rows(&mut self, names: &Names, rows: &[NodeRow]) -> Result<()> {
        self.append_node_rows(names, rows)
    }
    fn trend(&mut self, row: Trend) -> Result<()> {
        self.append_trend(row)
    }
    fn derived(
        &mut self,
        names: &Names,
        nodes: &[crate::scoring::engine::DerivedNode],
        full_year: Option<i32>,
    ) -> Result<()> {
        let path = self.path;
        self.keys.cover(names).map_err(|e| db_error(path, e))?;
        for d in nodes {
            let node = id_at(&self.keys.node_ids, d.node);
            let dp = id_at(&self.keys.dp_ids, d.dp);
            self.derived
                .append_row(params![self.id, node, dp, d.banded, full_year])
                .map_err(|e| db_error(path, e))?;
        }
        Ok(())
    }
}

impl Store {
    /// Store a scoring run whose rows `fill` appends to the sink as it makes them, in one
    /// transaction: all or nothing. `fill` reads each year's values through the reader (a
    /// connection of its own, for a thread of its own) and returns the years it scored and
    /// the reader, which knows the revisions it read.
    pub fn insert_run_with(
        &mut self,
        run: &NewRun,
        fill: impl FnOnce(&mut RunSink, YearReader) -> Result<(Vec<i32>, YearReader)>,
    ) -> Result<i64> {
        // the run has threads of its own (reader, scorer, this one); DuckDB's workers would
        // only compete with them for the cores (measured at world scale: 18.6 s with two
        // workers, 15.6 s with none besides the calling threads)
        self.conn
            .execute_batch("SET threads = 1")
            .map_err(|e| self.err(e))?;
        let out = self.insert_run_inner(run, fill);
        let reset = self
            .conn
            .execute_batch("RESET threads")
            .map_err(|e| self.err(e));
        let id = out?;
        reset?;
        Ok(id)
    }

    fn insert_run_inner(
        &mut self,
        run: &NewRun,
        fill: impl FnOnce(&mut RunSink, YearReader) -> Result<(Vec<i32>, YearReader)>,
    ) -> Result<i64> {
        let path = self.path.clone();
        let e = |e| db_error(&path, e);
        let reader = YearReader::new(self.conn.try_clone().map_err(e)?, path.clone());
        let trace = crate::trace::Trace::new();
        let tx = self.conn.transaction().map_err(e)?;
        let id: i64 = tx
            .query_row("SELECT coalesce(max(run_id), 0) + 1 FROM runs", [], |r| {
                r.get(0)
            })
            .map_err(e)?;
        let years = {
            let mut sink = RunSink {
                path: &path,
                id,
                tx: &tx,
                dp: Pending::new("dp_score_rows"),
                nodes: Pending::new("node_score_rows"),
                insert_rows: INSERT_ROWS,
                trends: tx.appender("trends").map_err(e)?,
                trend_rows: Vec::new(),
                derived: tx.appender("run_derived_nodes").map_err(e)?,
                keys: ScoreKeys::load(&tx).map_err(e)?,
            };
            let (years, reader) = fill(&mut sink, reader)?;
            sink.flush()?;
            trace.mark("run: rows appended");
            (years, reader.revisions)
        };
        let (years, read) = years;
        // the revisions the run read its values from, unless the caller says
        let revisions = if run.revisions.is_empty() {
            read.iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join(",")
        } else {
            run.revisions.to_string()
        };
        let years = years
            .iter()
            .map(|y| y.to_string())
            .collect::<Vec<_>>()
            .join(",");
        tx.execute(
            "INSERT INTO runs (run_id, method_name, method_hash, method_text, revisions, seed, draws, program_version, catalog_version, years) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![id, run.method_name, run.method_hash, run.method_text, revisions, run.seed as i64, run.draws as i64, env!("CARGO_PKG_VERSION"), run.catalog_version, years],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        trace.mark("run: committed");
        Ok(id)
    }
}
