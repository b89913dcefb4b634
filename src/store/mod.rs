//! The store: the one module that speaks to DuckDB. Every SQL statement of the program is in
//! this file, and every value reaches DuckDB as a bound parameter.
//!
//! Submissions are append-only revisions. What scoring sees is `current_observations`: for
//! each city, year and data point, the row of the newest revision that contains it.

use crate::error::{Error, Result};
use crate::scoring::engine::{DpRow, DpScore, Level, Names, NodeRow, NodeScore};
use crate::scoring::trends::Trend;
use crate::submission::validate::History;
use crate::submission::Observation;
use duckdb::{params, AccessMode, Config, Connection};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

mod questions;
mod stage;
pub use questions::{Action, Event, NewQuestion, Question, QuestionCount, Status};
pub use stage::StagedJump;

/// Forward migrations; schema version N is MIGRATIONS[..N] applied in order.
const MIGRATIONS: &[&str] = &[
    // 1: revisions and observations
    "CREATE TABLE revisions (
        revision_id BIGINT PRIMARY KEY,
        source_file VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL UNIQUE,
        format VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        row_count BIGINT NOT NULL
    );
    CREATE TABLE observations (
        revision_id BIGINT NOT NULL,
        line BIGINT NOT NULL,
        city VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        data_point VARCHAR NOT NULL,
        value DOUBLE,
        unit VARCHAR,
        numerator DOUBLE,
        denominator DOUBLE,
        quality VARCHAR,
        origin VARCHAR,
        source VARCHAR,
        verified BOOLEAN,
        note VARCHAR
    );
    CREATE VIEW current_observations AS
        SELECT * FROM observations
        QUALIFY row_number() OVER (PARTITION BY city, year, data_point ORDER BY revision_id DESC) = 1;",
    // 2: scoring runs and their results
    "CREATE TABLE runs (
        run_id BIGINT PRIMARY KEY,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        method_name VARCHAR NOT NULL,
        method_hash VARCHAR NOT NULL,
        method_text VARCHAR NOT NULL,
        revisions VARCHAR NOT NULL,
        seed BIGINT NOT NULL,
        draws BIGINT NOT NULL,
        program_version VARCHAR NOT NULL,
        catalog_version VARCHAR NOT NULL
    );
    CREATE TABLE dp_scores (
        run_id BIGINT NOT NULL, city VARCHAR NOT NULL, year INTEGER NOT NULL, data_point VARCHAR NOT NULL,
        value DOUBLE, used_value DOUBLE, achievement DOUBLE, points TINYINT, score DOUBLE, rank INTEGER, flags VARCHAR NOT NULL
    );
    CREATE TABLE node_scores (
        run_id BIGINT NOT NULL, city VARCHAR NOT NULL, year INTEGER NOT NULL, level VARCHAR NOT NULL, node VARCHAR NOT NULL,
        u4ssc_pct DOUBLE, band TINYINT, scored_items INTEGER NOT NULL, total_items INTEGER NOT NULL,
        score DOUBLE, coverage DOUBLE NOT NULL, rank INTEGER, rank_median DOUBLE, rank_p05 DOUBLE, rank_p95 DOUBLE
    );
    CREATE TABLE trends (
        run_id BIGINT NOT NULL, city VARCHAR NOT NULL, data_point VARCHAR NOT NULL, first_year INTEGER NOT NULL,
        last_year INTEGER NOT NULL, first_value DOUBLE NOT NULL, last_value DOUBLE NOT NULL, cagr DOUBLE,
        required_cagr DOUBLE, ratio DOUBLE, category VARCHAR NOT NULL, reason VARCHAR NOT NULL
    );",
    // 3: populations fetched from Statistics Norway
    "CREATE TABLE populations (
        city VARCHAR NOT NULL, year INTEGER NOT NULL, population BIGINT NOT NULL,
        source VARCHAR NOT NULL, fetched_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    );",
    // 4: the warnings `check` gave a revision when it was imported
    "CREATE TABLE findings (
        revision_id BIGINT NOT NULL, severity VARCHAR NOT NULL, rule VARCHAR NOT NULL,
        line BIGINT, col VARCHAR, message VARCHAR NOT NULL
    );",
    // 5: the years a run scored, so that readers need not scan its scores for them
    "ALTER TABLE runs ADD COLUMN years VARCHAR;",
    // 6: scores keyed by number: a run of 10 000 cities stores 2.3 M rows a year, and their
    // city, data point, node and flag texts cost more to append than all their numbers; the
    // texts are kept once each, and views give readers the tables as they were
    "CREATE TABLE score_cities (city_id INTEGER PRIMARY KEY, city VARCHAR NOT NULL UNIQUE);
    CREATE TABLE score_items (item_id INTEGER PRIMARY KEY, level VARCHAR NOT NULL, item VARCHAR NOT NULL, UNIQUE (level, item));
    CREATE TABLE score_flags (flags_id INTEGER PRIMARY KEY, flags VARCHAR NOT NULL UNIQUE);
    INSERT INTO score_cities
        SELECT row_number() OVER (ORDER BY city), city FROM (SELECT city FROM dp_scores UNION SELECT city FROM node_scores);
    INSERT INTO score_items
        SELECT row_number() OVER (ORDER BY level, item), level, item
        FROM (SELECT 'data_point' AS level, data_point AS item FROM dp_scores UNION SELECT level, node FROM node_scores);
    INSERT INTO score_flags SELECT row_number() OVER (ORDER BY flags), flags FROM (SELECT DISTINCT flags FROM dp_scores);
    CREATE TABLE dp_score_rows (
        run_id BIGINT NOT NULL, city_id INTEGER NOT NULL, year INTEGER NOT NULL, item_id INTEGER NOT NULL,
        value DOUBLE, used_value DOUBLE, achievement DOUBLE, points TINYINT, score DOUBLE, rank INTEGER, flags_id INTEGER NOT NULL
    );
    INSERT INTO dp_score_rows
        SELECT d.run_id, c.city_id, d.year, i.item_id, d.value, d.used_value, d.achievement, d.points, d.score, d.rank, f.flags_id
        FROM dp_scores d JOIN score_cities c ON c.city = d.city
        JOIN score_items i ON i.level = 'data_point' AND i.item = d.data_point
        JOIN score_flags f ON f.flags = d.flags;
    CREATE TABLE node_score_rows (
        run_id BIGINT NOT NULL, city_id INTEGER NOT NULL, year INTEGER NOT NULL, item_id INTEGER NOT NULL,
        u4ssc_pct DOUBLE, band TINYINT, scored_items INTEGER NOT NULL, total_items INTEGER NOT NULL,
        score DOUBLE, coverage DOUBLE NOT NULL, rank INTEGER, rank_median DOUBLE, rank_p05 DOUBLE, rank_p95 DOUBLE
    );
    INSERT INTO node_score_rows
        SELECT n.run_id, c.city_id, n.year, i.item_id, n.u4ssc_pct, n.band, n.scored_items, n.total_items,
               n.score, n.coverage, n.rank, n.rank_median, n.rank_p05, n.rank_p95
        FROM node_scores n JOIN score_cities c ON c.city = n.city
        JOIN score_items i ON i.level = n.level AND i.item = n.node;
    DROP TABLE dp_scores;
    DROP TABLE node_scores;
    CREATE VIEW dp_scores AS
        SELECT r.run_id, c.city, r.year, i.item AS data_point, r.value, r.used_value, r.achievement,
               r.points, r.score, r.rank, f.flags
        FROM dp_score_rows r JOIN score_cities c ON c.city_id = r.city_id
        JOIN score_items i ON i.item_id = r.item_id JOIN score_flags f ON f.flags_id = r.flags_id;
    CREATE VIEW node_scores AS
        SELECT r.run_id, c.city, r.year, i.level, i.item AS node, r.u4ssc_pct, r.band, r.scored_items,
               r.total_items, r.score, r.coverage, r.rank, r.rank_median, r.rank_p05, r.rank_p95
        FROM node_score_rows r JOIN score_cities c ON c.city_id = r.city_id
        JOIN score_items i ON i.item_id = r.item_id;",
    // 7: the questions log of the verification round
    questions::MIGRATION,
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadWrite,
    ReadOnly,
}

pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// the revision the bulk path has inserted but not yet committed (see `stage`)
    staged_revision: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RevisionInfo {
    pub revision_id: i64,
    pub source_file: String,
    pub content_hash: String,
    pub format: String,
    pub kind: String,
    pub imported_at: String,
    pub row_count: i64,
}

pub struct NewRevision<'a> {
    pub source_file: &'a str,
    pub content_hash: &'a str,
    pub format: &'a str,
    /// "submission", "demo" (synthetic) or "ssb"
    pub kind: &'a str,
}

pub use crate::rows::CurrentValue;

fn db_error(path: &Path, e: duckdb::Error) -> Error {
    let message = e.to_string();
    if message.contains("Could not set lock") || message.contains("Conflicting lock") {
        Error::Locked {
            path: path.to_path_buf(),
        }
    } else {
        Error::Database {
            path: path.to_path_buf(),
            message,
        }
    }
}

impl Store {
    /// Open (and for read-write, create and migrate) the database at `path`.
    pub fn open(path: &Path, access: Access) -> Result<Store> {
        if access == Access::ReadOnly && !path.exists() {
            return Err(Error::Usage(format!(
                "there is no database at {}; import a submission first (u4ssc import FILE) or give --db",
                path.display()
            )));
        }
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::Write {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let mode = match access {
            Access::ReadWrite => AccessMode::ReadWrite,
            Access::ReadOnly => AccessMode::ReadOnly,
        };
        let config = Config::default()
            .access_mode(mode)
            .and_then(|c| c.enable_autoload_extension(false))
            .map_err(|e| db_error(path, e))?;
        let conn = Connection::open_with_flags(path, config).map_err(|e| db_error(path, e))?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            staged_revision: None,
        };
        if access == Access::ReadOnly && store.schema_version()? < SCHEMA_VERSION {
            // an older database: upgrade it with a short write, then read as asked
            drop(store);
            drop(Store::open(path, Access::ReadWrite)?);
            return Store::open(path, Access::ReadOnly);
        }
        store.migrate(access)?;
        Ok(store)
    }

    /// The bundled DuckDB's version (`v1.2.0`), from a private in-memory database.
    pub fn duckdb_version() -> Result<String> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| db_error(&path, e))?;
        conn.query_row("SELECT version()", [], |r| r.get::<_, String>(0))
            .map_err(|e| db_error(&path, e))
    }

    /// A private in-memory database, for tests and dry runs.
    pub fn open_in_memory() -> Result<Store> {
        let path = PathBuf::from(":memory:");
        let conn = Connection::open_in_memory().map_err(|e| db_error(&path, e))?;
        let store = Store {
            conn,
            path,
            staged_revision: None,
        };
        store.migrate(Access::ReadWrite)?;
        Ok(store)
    }

    /// Cap the memory DuckDB uses for its data (larger work spills to `<database>.tmp`).
    pub fn set_memory_limit_mb(&self, mb: u64) -> Result<()> {
        self.conn
            .execute_batch(&format!("SET memory_limit = '{mb}MB'"))
            .map_err(|e| self.err(e))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, e: duckdb::Error) -> Error {
        db_error(&self.path, e)
    }

    pub fn schema_version(&self) -> Result<i64> {
        let exists: i64 = self
            .conn
            .query_row(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if exists == 0 {
            return Ok(0);
        }
        self.conn
            .query_row(
                "SELECT coalesce(max(version), 0) FROM schema_version",
                [],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    fn migrate(&self, access: Access) -> Result<()> {
        let found = self.schema_version()?;
        if found > SCHEMA_VERSION {
            return Err(Error::SchemaTooNew {
                path: self.path.clone(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        if access == Access::ReadOnly {
            return Err(Error::Usage(format!(
                "the database {} is at schema version {found}; open it once for writing (e.g. u4ssc status) to upgrade it to {SCHEMA_VERSION}",
                self.path.display()
            )));
        }
        self.conn
            .execute_batch("BEGIN TRANSACTION")
            .map_err(|e| self.err(e))?;
        let run = || -> std::result::Result<(), duckdb::Error> {
            self.conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)",
            )?;
            for (i, m) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                self.conn.execute_batch(m)?;
                self.conn.execute(
                    "INSERT INTO schema_version (version) VALUES (?)",
                    params![i as i64 + 1],
                )?;
            }
            Ok(())
        };
        match run() {
            Ok(()) => self.conn.execute_batch("COMMIT").map_err(|e| self.err(e)),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(self.err(e))
            }
        }
    }

    /// The revision already imported from a file with these bytes, if any.
    pub fn revision_by_hash(&self, hash: &str) -> Result<Option<RevisionInfo>> {
        Ok(self
            .revisions()?
            .into_iter()
            .find(|r| r.content_hash == hash))
    }

    pub fn revisions(&self) -> Result<Vec<RevisionInfo>> {
        self.all(
            "SELECT revision_id, source_file, content_hash, format, kind, CAST(imported_at AS VARCHAR), row_count
                 FROM revisions ORDER BY revision_id",
            [], |r| {
                Ok(RevisionInfo {
                    revision_id: r.get(0)?,
                    source_file: r.get(1)?,
                    content_hash: r.get(2)?,
                    format: r.get(3)?,
                    kind: r.get(4)?,
                    imported_at: r.get(5)?,
                    row_count: r.get(6)?,
                })
            })
    }

    /// Store one revision and its observations in a single transaction: all or nothing.
    pub fn insert_revision(&mut self, meta: &NewRevision, obs: &[Observation]) -> Result<i64> {
        self.insert_revision_with_findings(meta, obs, &[])
    }

    /// The same, keeping the warnings that `check` gave the file.
    pub fn insert_revision_with_findings(
        &mut self,
        meta: &NewRevision,
        obs: &[Observation],
        findings: &[crate::submission::Finding],
    ) -> Result<i64> {
        let path = self.path.clone();
        let e = |e| db_error(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        let id: i64 = tx
            .query_row(
                "SELECT coalesce(max(revision_id), 0) + 1 FROM revisions",
                [],
                |r| r.get(0),
            )
            .map_err(e)?;
        tx.execute(
            "INSERT INTO revisions (revision_id, source_file, content_hash, format, kind, row_count) VALUES (?, ?, ?, ?, ?, ?)",
            params![id, meta.source_file, meta.content_hash, meta.format, meta.kind, obs.len() as i64],
        )
        .map_err(e)?;
        {
            let mut app = tx.appender("observations").map_err(e)?;
            for o in obs {
                app.append_row(params![
                    id,
                    o.line as i64,
                    o.city,
                    o.year,
                    o.data_point,
                    o.value,
                    o.unit,
                    o.numerator,
                    o.denominator,
                    o.quality,
                    o.origin,
                    o.source,
                    o.verified,
                    o.note
                ])
                .map_err(e)?;
            }
            app.flush().map_err(e)?;
        }
        insert_findings(&tx, id, findings).map_err(e)?;
        questions::mark_changed(&tx, id).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(id)
    }

    /// Every observation of a revision as it was stored, in line order.
    pub fn revision_observations(&self, revision_id: i64) -> Result<Vec<Observation>> {
        self.all(
            "SELECT line, city, year, data_point, value, unit, numerator, denominator, quality, origin, source, verified, note
                 FROM observations WHERE revision_id = ? ORDER BY line",
            params![revision_id], observation_row)
    }

    /// Findings stored with a revision.
    pub fn findings(&self, revision_id: i64) -> Result<Vec<StoredFinding>> {
        self.all(
            "SELECT severity, rule, line, col, message FROM findings WHERE revision_id = ? ORDER BY line NULLS LAST, rule",
            params![revision_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
    }

    /// Current values by any of city, year and data point.
    pub fn current_values_where(&self, f: &Filter) -> Result<Vec<CurrentValue>> {
        self.all(
            "SELECT city, year, data_point, value, verified, quality, source, revision_id
                 FROM current_observations WHERE (? IS NULL OR city = ?) AND (? IS NULL OR year = ?) AND (? IS NULL OR data_point = ?)
                 ORDER BY city, year, data_point",
            params![f.city, f.city, f.year, f.year, f.data_point, f.data_point],
                current_value_row)
    }

    /// The years a run scored.
    pub fn run_years(&self, run: i64) -> Result<Vec<i32>> {
        let stored: Option<String> = self
            .conn
            .query_row(
                "SELECT years FROM runs WHERE run_id = ?",
                params![run],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))?;
        if let Some(list) = stored.filter(|l| !l.is_empty()) {
            return Ok(list.split(',').filter_map(|y| y.parse().ok()).collect());
        }
        self.all(
            "SELECT DISTINCT year FROM node_scores WHERE run_id = ? AND level = 'overall' ORDER BY year",
            params![run], |r| r.get(0))
    }

    /// Median composite score of each data point across the cities of a year.
    pub fn dp_medians(&self, run: i64, year: i32) -> Result<Vec<(String, f64)>> {
        self.all(
            "SELECT data_point, median(score) FROM dp_scores WHERE run_id = ? AND year = ? AND score IS NOT NULL GROUP BY data_point ORDER BY data_point",
            params![run, year], |r| Ok((r.get(0)?, r.get(1)?)))
    }

    /// Per city and year, over the catalog's data points only (`core` and `advanced`): core
    /// and advanced values reported, verified ones, and rows without a value; counted by
    /// the database, so that a world of cities is not read into memory.
    pub fn status_counts(&self, core: &[String], advanced: &[String]) -> Result<Vec<StatusCount>> {
        self.all(
            "WITH kinds AS (
                     SELECT unnest(string_split(?, ',')) AS dp, true AS core
                     UNION ALL SELECT unnest(string_split(?, ',')), false)
                 SELECT o.city, o.year,
                    count(*) FILTER (WHERE o.value IS NOT NULL AND k.core),
                    count(*) FILTER (WHERE o.value IS NOT NULL AND NOT k.core),
                    count(*) FILTER (WHERE o.value IS NOT NULL AND o.verified),
                    count(*) FILTER (WHERE o.value IS NULL)
                 FROM current_observations o JOIN kinds k ON k.dp = o.data_point
                 GROUP BY o.city, o.year ORDER BY o.city, o.year",
            params![core.join(","), advanced.join(",")],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
    }

    /// Every current value (newest revision per city, year and data point).
    pub fn current_values(&self) -> Result<Vec<CurrentValue>> {
        self.values_query(
            "SELECT city, year, data_point, value, verified, quality, source, revision_id
             FROM current_observations ORDER BY city, year, data_point",
            None,
        )
    }

    /// Every row of a query, mapped.
    fn all<T, P: duckdb::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnMut(&duckdb::Row) -> duckdb::Result<T>,
    ) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map(params, f).map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))
    }

    /// The current values of some cities only (the ones a submission names): what its
    /// year-to-year check and its diff need, without reading a world of cities.
    pub fn current_values_of(&self, cities: &[String]) -> Result<Vec<CurrentValue>> {
        if cities.is_empty() {
            return Ok(Vec::new());
        }
        self.all(
            "SELECT city, year, data_point, value, verified, quality, source, revision_id
                 FROM observations WHERE city IN (SELECT unnest(string_split(?, chr(31))))
                 QUALIFY row_number() OVER (PARTITION BY city, year, data_point ORDER BY revision_id DESC) = 1
                 ORDER BY city, year, data_point",
            params![cities.join("\u{1f}")], current_value_row)
    }

    /// The values one revision brought, for looking at older revisions.
    pub fn revision_values(&self, revision_id: i64) -> Result<Vec<CurrentValue>> {
        self.values_query(
            "SELECT city, year, data_point, value, verified, quality, source, revision_id
             FROM observations WHERE revision_id = ? ORDER BY city, year, data_point",
            Some(revision_id),
        )
    }

    fn values_query(&self, sql: &str, arg: Option<i64>) -> Result<Vec<CurrentValue>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let map = current_value_row;
        let rows = match arg {
            Some(a) => stmt.query_map(params![a], map),
            None => stmt.query_map([], map),
        }
        .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))
    }

    /// Consistency problems, as sentences: a revision whose stored row count differs from its
    /// observations, observations or scores of revisions or runs that do not exist, runs
    /// without scores, scores whose city, data point, node or flags are not kept. Empty means
    /// consistent.
    pub fn integrity(&self) -> Result<Vec<String>> {
        let mut problems = Vec::new();
        let q = |sql: &str| -> Result<Vec<(i64, i64, i64)>> {
            let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            let rows = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .map_err(|e| self.err(e))?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| self.err(e))
        };
        for (id, want, got) in q("SELECT r.revision_id, r.row_count, count(o.revision_id) FROM revisions r LEFT JOIN observations o USING (revision_id) GROUP BY ALL HAVING r.row_count <> count(o.revision_id)")? {
            problems.push(format!("revision {id} says {want} rows but has {got}"));
        }
        for (id, n, _) in q("SELECT revision_id, count(*), 0 FROM observations WHERE revision_id NOT IN (SELECT revision_id FROM revisions) GROUP BY ALL")? {
            problems.push(format!("{n} observations belong to revision {id}, which does not exist"));
        }
        // counted per run first: the score tables of a world of cities are large
        for table in ["node_score_rows", "dp_score_rows"] {
            for (id, n, _) in q(&format!("SELECT run_id, n, 0 FROM (SELECT run_id, count(*) AS n FROM {table} GROUP BY run_id) WHERE run_id NOT IN (SELECT run_id FROM runs)"))? {
                problems.push(format!("{n} scores belong to run {id}, which does not exist"));
            }
        }
        for (id, _, _) in q("SELECT run_id, 0, 0 FROM runs WHERE run_id NOT IN (SELECT DISTINCT run_id FROM node_score_rows) OR run_id NOT IN (SELECT DISTINCT run_id FROM dp_score_rows)")? {
            problems.push(format!("run {id} has no scores"));
        }
        for (table, flags) in [("node_score_rows", false), ("dp_score_rows", true)] {
            let flags = if flags {
                "LEFT JOIN score_flags f ON f.flags_id = r.flags_id WHERE f.flags_id IS NULL OR"
            } else {
                "WHERE"
            };
            for (id, n, _) in q(&format!(
                "SELECT r.run_id, count(*), 0 FROM {table} r
                 LEFT JOIN score_cities c ON c.city_id = r.city_id LEFT JOIN score_items i ON i.item_id = r.item_id
                 {flags} c.city_id IS NULL OR i.item_id IS NULL GROUP BY ALL"
            ))? {
                problems.push(format!("{n} scores of run {id} name a city, data point, node or flag that is not kept"));
            }
        }
        problems.extend(self.question_problems()?);
        Ok(problems)
    }

    /// Store fetched populations (city, year, population) in one transaction.
    pub fn insert_populations(&mut self, rows: &[(String, i32, i64)], source: &str) -> Result<()> {
        let path = self.path.clone();
        let e = |e| db_error(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        for (city, year, pop) in rows {
            tx.execute(
                "INSERT INTO populations (city, year, population, source) VALUES (?, ?, ?, ?)",
                params![city, year, pop, source],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)
    }

    /// The newest fetched population of each city: city -> (year, population, source).
    pub fn latest_populations(&self) -> Result<BTreeMap<String, (i32, i64, String)>> {
        let mut stmt = self
            .conn
            .prepare("SELECT city, year, population, source FROM populations QUALIFY row_number() OVER (PARTITION BY city ORDER BY year DESC, fetched_at DESC) = 1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get::<_, String>(0)?, (r.get(1)?, r.get(2)?, r.get(3)?)))
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<BTreeMap<_, _>, _>>()
            .map_err(|e| self.err(e))
    }

    /// Write an export table as Parquet with DuckDB's own writer. Table and column names are
    /// the program's own constants; the output path is checked and quoted.
    /// Write an export table as Parquet, with `metadata` as the file's key-value metadata
    /// (run, method hash, input revisions: a file handed on says where it came from).
    pub fn write_parquet(
        &self,
        t: &crate::rows::DataTable,
        path: &Path,
        metadata: &[(&str, String)],
    ) -> Result<()> {
        use crate::rows::Cell;
        use duckdb::types::Value;
        let cols = crate::rows::duck_columns(t);
        let ident_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        };
        if !ident_ok(t.name) || !cols.iter().all(|(n, _)| ident_ok(n)) {
            return Err(Error::Invalid(format!(
                "export table '{}' has a name DuckDB cannot take",
                t.name
            )));
        }
        let p = path.display().to_string();
        if p.contains('\'') || p.contains('\0') {
            return Err(Error::Usage(format!(
                "the output path {p} contains a quote; choose another --out"
            )));
        }
        let table = format!("export_{}", t.name);
        let defs: Vec<String> = cols.iter().map(|(n, ty)| format!("\"{n}\" {ty}")).collect();
        self.conn
            .execute_batch(&format!(
                "CREATE OR REPLACE TEMP TABLE {table} ({})",
                defs.join(", ")
            ))
            .map_err(|e| self.err(e))?;
        {
            let mut app = self.conn.appender(&table).map_err(|e| self.err(e))?;
            for row in &t.rows {
                let vals: Vec<Value> = row
                    .iter()
                    .map(|c| match c {
                        Cell::Text(s) => Value::Text(s.clone()),
                        Cell::Num(x) => Value::Double(*x),
                        Cell::Int(i) => Value::BigInt(*i),
                        Cell::Null => Value::Null,
                    })
                    .collect();
                app.append_row(duckdb::appender_params_from_iter(vals))
                    .map_err(|e| self.err(e))?;
            }
            app.flush().map_err(|e| self.err(e))?;
        }
        let tmp = format!("{p}.tmp");
        // keys are fixed identifiers; values are SQL string literals, quotes doubled
        let kv: Vec<String> = metadata
            .iter()
            .filter(|(k, _)| ident_ok(k))
            .map(|(k, v)| format!("{k}: '{}'", v.replace('\'', "''").replace('\0', "")))
            .collect();
        let kv = if kv.is_empty() {
            String::new()
        } else {
            format!(", KV_METADATA {{{}}}", kv.join(", "))
        };
        self.conn
            .execute_batch(&format!(
                "COPY {table} TO '{tmp}' (FORMAT parquet{kv}); DROP TABLE {table};"
            ))
            .map_err(|e| self.err(e))?;
        std::fs::rename(&tmp, path).map_err(|source| Error::Write {
            path: path.to_path_buf(),
            source,
        })
    }

    /// The key-value metadata of a Parquet file (for checks and tests).
    pub fn parquet_metadata(&self, path: &Path) -> Result<Vec<(String, String)>> {
        let p = path.display().to_string();
        self.all(
            "SELECT decode(key), decode(value) FROM parquet_kv_metadata(?) ORDER BY 1",
            params![p],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// Rows of a Parquet file, read back with DuckDB (for checks and tests).
    pub fn parquet_rows(&self, path: &Path) -> Result<Vec<Vec<String>>> {
        let p = path.display().to_string();
        let mut stmt = self
            .conn
            .prepare("SELECT * FROM read_parquet(?)")
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![p]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let n = r.as_ref().column_count();
            let mut v = Vec::with_capacity(n);
            for i in 0..n {
                let x: duckdb::types::Value = r.get(i).map_err(|e| self.err(e))?;
                v.push(match x {
                    duckdb::types::Value::Null => String::new(),
                    duckdb::types::Value::Text(s) => s,
                    duckdb::types::Value::Double(d) => format!("{d}"),
                    duckdb::types::Value::BigInt(i) => i.to_string(),
                    other => format!("{other:?}"),
                });
            }
            out.push(v);
        }
        Ok(out)
    }

    /// DuckDB's own CSV reader on a file, into a table of this database (on disk for a
    /// database file): the floor an import is measured against in the benchmarks. Returns
    /// the row count.
    pub fn read_csv_floor(&self, path: &Path) -> Result<i64> {
        let p = path.display().to_string();
        self.conn
            .execute("CREATE OR REPLACE TABLE floor AS SELECT * FROM read_csv(?, header = true, all_varchar = true)", params![p])
            .map_err(|e| self.err(e))?;
        self.conn
            .query_row("SELECT count(*) FROM floor", [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// How many rows an export of a run would read (observations, scores, trends), for the
    /// selected year and cities if any: an upper bound, counted without reading them.
    pub fn export_rows(
        &self,
        run: i64,
        year: Option<i32>,
        cities: Option<&[String]>,
    ) -> Result<i64> {
        let list = cities.map(|c| c.join("\u{1f}"));
        self.conn
            .query_row(
                "WITH sel AS (SELECT unnest(string_split(?, chr(31))) AS city),
                      ids AS (SELECT city_id FROM score_cities WHERE ? IS NULL OR city IN (SELECT city FROM sel))
                 SELECT (SELECT count(*) FROM observations
                         WHERE (? IS NULL OR year = ?) AND (? IS NULL OR city IN (SELECT city FROM sel)))
                      + (SELECT count(*) FROM dp_score_rows
                         WHERE run_id = ? AND (? IS NULL OR year = ?) AND city_id IN (SELECT city_id FROM ids))
                      + (SELECT count(*) FROM node_score_rows
                         WHERE run_id = ? AND (? IS NULL OR year = ?) AND city_id IN (SELECT city_id FROM ids))
                      + (SELECT count(*) FROM trends
                         WHERE run_id = ? AND (? IS NULL OR city IN (SELECT city FROM sel)))",
                params![
                    list.clone().unwrap_or_default(),
                    list,
                    year,
                    year,
                    list,
                    run,
                    year,
                    year,
                    run,
                    year,
                    year,
                    run,
                    list
                ],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// The data-point and node score rows a run stored.
    pub fn run_row_counts(&self, run: i64) -> Result<(i64, i64)> {
        self.conn
            .query_row(
                "SELECT (SELECT count(*) FROM dp_score_rows WHERE run_id = ?),
                        (SELECT count(*) FROM node_score_rows WHERE run_id = ?)",
                params![run, run],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .map_err(|e| self.err(e))
    }

    /// DuckDB's own `INSERT … SELECT` of as many rows of the score tables' shape, made up by
    /// `range()`, into copies of those tables, committed: the floor a run's storing is
    /// measured against in the benchmarks.
    pub fn insert_scores_floor(&mut self, dp_rows: i64, node_rows: i64) -> Result<()> {
        self.run(
            "CREATE OR REPLACE TABLE floor_dp AS SELECT * FROM dp_score_rows LIMIT 0;
             CREATE OR REPLACE TABLE floor_node AS SELECT * FROM node_score_rows LIMIT 0;
             BEGIN TRANSACTION;",
        )?;
        let filled = self
            .conn
            .execute(
                "INSERT INTO floor_dp SELECT 1, i % 10000, 2020 + i // 1000000, (i // 10000) % 112,
                     i * 0.37, i * 0.37, (i % 1000) / 1000.0, (i % 5)::TINYINT, (i % 977) * 0.1031,
                     (i % 10000)::INTEGER, 1 FROM range(?) t(i)",
                params![dp_rows],
            )
            .and_then(|_| {
                self.conn.execute(
                    "INSERT INTO floor_node SELECT 1, i % 10000, 2020 + i // 1000000, (i // 10000) % 120,
                         (i % 1000) / 10.0, (i % 5)::TINYINT, (i % 7)::INTEGER, 7, (i % 977) * 0.1031,
                         (i % 100) / 100.0, (i % 10000)::INTEGER, NULL, NULL, NULL FROM range(?) t(i)",
                    params![node_rows],
                )
            });
        match filled {
            Ok(_) => self.run("COMMIT"),
            Err(e) => {
                let _ = self.run("ROLLBACK");
                Err(self.err(e))
            }
        }
    }
}

/// Reported values by city and data point, from a list of current values.
/// The open run of [`Store::insert_run_with`]: score rows in, by index, appended a batch at a
/// time in columns (DuckDB's data-chunk appender), their texts as numbers of [`ScoreKeys`].
pub struct RunSink<'a> {
    path: &'a Path,
    id: i64,
    dp: duckdb::Appender<'a>,
    nodes: duckdb::Appender<'a>,
    trends: duckdb::Appender<'a>,
    trend_rows: Vec<Trend>,
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
                let key = (n.level.as_str().to_string(), n.code.clone());
                self.node_ids.push(key_of(&mut self.items, key, |id| {
                    app.append_row(params![id, n.level.as_str(), n.code])
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
}

impl YearReader {
    /// One year's current values as a city × data point matrix: the latest revision per city
    /// and data point within the year, the same rows as `current_observations`. Read in
    /// columns (Arrow batches), so that a million values cost no string each.
    pub fn raw_year(
        &mut self,
        c: &crate::catalog::Catalog,
        year: i32,
    ) -> Result<crate::scoring::engine::RawYear> {
        use duckdb::arrow::array::{Array, AsArray};
        use duckdb::arrow::datatypes::{Float64Type, Int64Type};
        let e = |e| db_error(&self.path, e);
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
            "QUALIFY row_number() OVER (PARTITION BY city, data_point ORDER BY revision_id DESC) = 1"
        } else {
            ""
        };
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT city, data_point, value::DOUBLE, revision_id::BIGINT
                 FROM observations WHERE year = ? {latest}"
            ))
            .map_err(e)?;
        let mut b = crate::scoring::engine::RawYearBuilder::new(c, year);
        let unexpected = || {
            Error::Invalid(format!(
                "{}: the observations of {year} came back in an unexpected form (internal error)",
                self.path.display()
            ))
        };
        for batch in stmt.query_arrow(params![year]).map_err(e)? {
            let text = |i: usize| -> Option<Vec<Option<&str>>> {
                let col = batch.column(i);
                if let Some(a) = col.as_string_opt::<i32>() {
                    Some(a.iter().collect())
                } else {
                    col.as_string_view_opt().map(|a| a.iter().collect())
                }
            };
            let (Some(city), Some(dp)) = (text(0), text(1)) else {
                return Err(unexpected());
            };
            let (Some(value), Some(rev)) = (
                batch.column(2).as_primitive_opt::<Float64Type>(),
                batch.column(3).as_primitive_opt::<Int64Type>(),
            ) else {
                return Err(unexpected());
            };
            for k in 0..batch.num_rows() {
                let (Some(city), Some(dp)) = (city[k], dp[k]) else {
                    return Err(unexpected());
                };
                let v = (!value.is_null(k)).then(|| value.value(k));
                b.add(city, dp, v);
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

impl RunSink<'_> {
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
            std::sync::Arc::new(Int8Array::from_iter(
                rows.iter().map(|r| r.points.map(|p| p as i8)),
            )),
            f64s(|r| r.score),
            std::sync::Arc::new(Int32Array::from_iter(
                rows.iter().map(|r| r.rank.map(|x| x as i32)),
            )),
            std::sync::Arc::new(Int32Array::from_iter_values(
                rows.iter().map(|r| id_at(&k.flag_ids, r.flags)),
            )),
        ]);
        append_batch(&mut self.dp, cols).map_err(|e| db_error(self.path, e))
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
            std::sync::Arc::new(Int8Array::from_iter(
                rows.iter().map(|r| r.band.map(|b| b as i8)),
            )),
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
        append_batch(&mut self.nodes, cols).map_err(|e| db_error(self.path, e))
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
        self.dp.flush().map_err(e)?;
        self.nodes.flush().map_err(e)?;
        self.trends.flush().map_err(e)
    }
}

/// Columns (in the table's order and types) as one record batch through an appender.
fn append_batch(
    app: &mut duckdb::Appender,
    cols: Vec<duckdb::arrow::array::ArrayRef>,
) -> duckdb::Result<()> {
    use duckdb::arrow::datatypes::{Field, Schema};
    use duckdb::arrow::record_batch::RecordBatch;
    let fields: Vec<Field> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| Field::new(format!("c{i}"), c.data_type().clone(), true))
        .collect();
    let batch = RecordBatch::try_new(std::sync::Arc::new(Schema::new(fields)), cols)
        .map_err(|e| duckdb::Error::ToSqlConversionFailure(Box::new(e)))?;
    app.append_record_batch(batch)
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
}

/// The findings of a revision, with one appender (a file can have many warnings).
fn insert_findings(
    conn: &Connection,
    id: i64,
    findings: &[crate::submission::Finding],
) -> duckdb::Result<()> {
    let mut a = conn.appender("findings")?;
    for f in findings {
        let sev = match f.severity {
            crate::submission::Severity::Error => "error",
            crate::submission::Severity::Warning => "warning",
        };
        a.append_row(params![
            id,
            sev,
            f.rule,
            f.line.map(|l| l as i64),
            f.column,
            f.message
        ])?;
    }
    a.flush()
}

pub fn history_of(values: &[CurrentValue]) -> History {
    let mut h = History::new();
    for v in values {
        if let Some(x) = v.value {
            h.entry((v.city.clone(), v.data_point.clone()))
                .or_default()
                .push((v.year, x));
        }
    }
    h
}

/// An observation from the columns line, city, year, data_point, value, unit, numerator,
/// denominator, quality, origin, source, verified, note (in that order).
fn observation_row(r: &duckdb::Row) -> std::result::Result<Observation, duckdb::Error> {
    Ok(Observation {
        line: r.get::<_, i64>(0)? as usize,
        city: r.get(1)?,
        year: r.get(2)?,
        data_point: r.get(3)?,
        value: r.get(4)?,
        unit: r.get(5)?,
        numerator: r.get(6)?,
        denominator: r.get(7)?,
        quality: r.get(8)?,
        origin: r.get(9)?,
        source: r.get(10)?,
        verified: r.get(11)?,
        note: r.get(12)?,
    })
}

fn current_value_row(r: &duckdb::Row) -> std::result::Result<CurrentValue, duckdb::Error> {
    Ok(CurrentValue {
        city: r.get(0)?,
        year: r.get(1)?,
        data_point: r.get(2)?,
        value: r.get(3)?,
        verified: r.get(4)?,
        quality: r.get(5)?,
        source: r.get(6)?,
        revision_id: r.get(7)?,
    })
}

fn node_score_row(r: &duckdb::Row) -> std::result::Result<NodeScore, duckdb::Error> {
    let level: String = r.get(2)?;
    Ok(NodeScore {
        city: r.get(0)?,
        year: r.get(1)?,
        level: Level::parse(&level).unwrap_or(Level::Overall),
        node: r.get(3)?,
        u4ssc_pct: r.get(4)?,
        band: r.get(5)?,
        scored_items: r.get::<_, i64>(6)? as usize,
        total_items: r.get::<_, i64>(7)? as usize,
        score: r.get(8)?,
        coverage: r.get(9)?,
        rank: r.get::<_, Option<i64>>(10)?.map(|x| x as usize),
        rank_median: r.get(11)?,
        rank_p05: r.get(12)?,
        rank_p95: r.get(13)?,
    })
}

/// Which rows of a result table to read; `None` means any.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    pub level: Option<Level>,
    pub year: Option<i32>,
    pub city: Option<&'a str>,
    pub data_point: Option<&'a str>,
}

/// Per city and year: (city, year, core reported, advanced reported, verified, not reported).
pub type StatusCount = (String, i32, i64, i64, i64, i64);

/// A finding kept with its revision: (severity, rule, line, column, message).
pub type StoredFinding = (String, String, Option<i64>, Option<String>, String);

#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    pub run_id: i64,
    pub created_at: String,
    pub method_name: String,
    pub method_hash: String,
    pub method_text: String,
    pub revisions: String,
    pub seed: i64,
    pub draws: i64,
    pub program_version: String,
    pub catalog_version: String,
}

pub struct NewRun<'a> {
    pub method_name: &'a str,
    pub method_hash: &'a str,
    pub method_text: &'a str,
    pub revisions: &'a str,
    pub seed: u64,
    pub draws: usize,
    pub catalog_version: &'a str,
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
        let reader = YearReader {
            conn: self.conn.try_clone().map_err(e)?,
            path: path.clone(),
            revisions: Default::default(),
        };
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
                dp: tx.appender("dp_score_rows").map_err(e)?,
                nodes: tx.appender("node_score_rows").map_err(e)?,
                trends: tx.appender("trends").map_err(e)?,
                trend_rows: Vec::new(),
                keys: ScoreKeys::load(&tx).map_err(e)?,
            };
            let (years, reader) = fill(&mut sink, reader)?;
            sink.flush()?;
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
        Ok(id)
    }

    /// The years that have current values, ascending (every observed year has some: the
    /// latest revision of each value is in the same year as the others).
    pub fn current_years(&self) -> Result<Vec<i32>> {
        self.column("SELECT DISTINCT year FROM observations ORDER BY year")
    }

    /// The first column of a query's rows.
    fn column<T: duckdb::types::FromSql>(&self, sql: &str) -> Result<Vec<T>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], |r| r.get(0)).map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))
    }

    pub fn runs(&self) -> Result<Vec<RunInfo>> {
        self.all(
            "SELECT run_id, CAST(created_at AS VARCHAR), method_name, method_hash, method_text, revisions, seed, draws, program_version, catalog_version FROM runs ORDER BY run_id",
            [], |r| {
                Ok(RunInfo {
                    run_id: r.get(0)?,
                    created_at: r.get(1)?,
                    method_name: r.get(2)?,
                    method_hash: r.get(3)?,
                    method_text: r.get(4)?,
                    revisions: r.get(5)?,
                    seed: r.get(6)?,
                    draws: r.get(7)?,
                    program_version: r.get(8)?,
                    catalog_version: r.get(9)?,
                })
            })
    }

    /// Node scores of a run, optionally for one level and/or one year.
    pub fn node_scores(
        &self,
        run: i64,
        level: Option<Level>,
        year: Option<i32>,
    ) -> Result<Vec<NodeScore>> {
        self.node_scores_where(
            run,
            &Filter {
                level,
                year,
                ..Filter::default()
            },
        )
    }

    /// Node scores of a run, by any of level, year and city.
    pub fn node_scores_where(&self, run: i64, f: &Filter) -> Result<Vec<NodeScore>> {
        let lv = f.level.map(|l| l.as_str().to_string());
        self.node_scores_levels(run, lv.as_deref(), f)
    }

    /// Node scores of up to three levels of a year, in one scan.
    pub fn node_scores_in(&self, run: i64, levels: &[Level], year: i32) -> Result<Vec<NodeScore>> {
        let l = |i: usize| {
            levels
                .get(i)
                .or(levels.first())
                .map(|l| l.as_str())
                .unwrap_or("overall")
        };
        self.all(
            "SELECT city, year, level, node, u4ssc_pct, band, scored_items, total_items, score, coverage, rank, rank_median, rank_p05, rank_p95
                 FROM node_scores WHERE run_id = ? AND year = ? AND level IN (?, ?, ?)",
            params![run, year, l(0), l(1), l(2)], node_score_row)
    }

    fn node_scores_levels(
        &self,
        run: i64,
        levels: Option<&str>,
        f: &Filter,
    ) -> Result<Vec<NodeScore>> {
        self.all(
            "SELECT city, year, level, node, u4ssc_pct, band, scored_items, total_items, score, coverage, rank, rank_median, rank_p05, rank_p95
                 FROM node_scores WHERE run_id = ? AND (? IS NULL OR list_contains(string_split(?, ','), level)) AND (? IS NULL OR year = ?) AND (? IS NULL OR city = ?)
                 ORDER BY year, level, node, city",
            params![run, levels, levels, f.year, f.year, f.city, f.city],
                node_score_row)
    }

    /// Data-point scores of a run, optionally for one city and/or year.
    pub fn dp_scores(
        &self,
        run: i64,
        city: Option<&str>,
        year: Option<i32>,
    ) -> Result<Vec<DpScore>> {
        self.dp_scores_where(
            run,
            &Filter {
                city,
                year,
                ..Filter::default()
            },
        )
    }

    /// Data-point scores of a run, by any of city, year and data point.
    pub fn dp_scores_where(&self, run: i64, f: &Filter) -> Result<Vec<DpScore>> {
        self.all(
            "SELECT city, year, data_point, value, used_value, achievement, points, score, rank, flags
                 FROM dp_scores WHERE run_id = ? AND (? IS NULL OR city = ?) AND (? IS NULL OR year = ?) AND (? IS NULL OR data_point = ?)
                 ORDER BY year, data_point, city",
            params![
                    run,
                    f.city,
                    f.city,
                    f.year,
                    f.year,
                    f.data_point,
                    f.data_point
                ],
                |r| {
                    Ok(DpScore {
                        city: r.get(0)?,
                        year: r.get(1)?,
                        data_point: r.get(2)?,
                        value: r.get(3)?,
                        used_value: r.get(4)?,
                        achievement: r.get(5)?,
                        points: r.get(6)?,
                        score: r.get(7)?,
                        rank: r.get::<_, Option<i64>>(8)?.map(|x| x as usize),
                        flags: r.get(9)?,
                    })
                })
    }

    pub fn trends(&self, run: i64, city: Option<&str>) -> Result<Vec<Trend>> {
        self.trends_where(
            run,
            &Filter {
                city,
                ..Filter::default()
            },
        )
    }

    /// Trends of a run, by city and/or data point.
    pub fn trends_where(&self, run: i64, f: &Filter) -> Result<Vec<Trend>> {
        self.all(
            "SELECT city, data_point, first_year, last_year, first_value, last_value, cagr, required_cagr, ratio, category, reason
                 FROM trends WHERE run_id = ? AND (? IS NULL OR city = ?) AND (? IS NULL OR data_point = ?) ORDER BY city, data_point",
            params![run, f.city, f.city, f.data_point, f.data_point],
                |r| {
                    let category: String = r.get(9)?;
                    Ok(Trend {
                        city: r.get(0)?,
                        data_point: r.get(1)?,
                        first_year: r.get(2)?,
                        last_year: r.get(3)?,
                        first_value: r.get(4)?,
                        last_value: r.get(5)?,
                        cagr: r.get(6)?,
                        required_cagr: r.get(7)?,
                        ratio: r.get(8)?,
                        category: crate::scoring::trends::category_static(&category),
                        reason: r.get(10)?,
                    })
                })
    }

    /// The revision each current value came from, for `explain`.
    pub fn observation(
        &self,
        city: &str,
        year: i32,
        data_point: &str,
    ) -> Result<Option<(crate::submission::Observation, RevisionInfo)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT o.line, o.city, o.year, o.data_point, o.value, o.unit, o.numerator, o.denominator, o.quality, o.origin, o.source, o.verified, o.note, o.revision_id
                 FROM current_observations o WHERE o.city = ? AND o.year = ? AND o.data_point = ?",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query_map(params![city, year, data_point], |r| {
                Ok((observation_row(r)?, r.get::<_, i64>(13)?))
            })
            .map_err(|e| self.err(e))?;
        let Some(first) = rows.next() else {
            return Ok(None);
        };
        let (obs, rev) = first.map_err(|e| self.err(e))?;
        let info = self.revisions()?.into_iter().find(|r| r.revision_id == rev);
        Ok(info.map(|i| (obs, i)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(city: &str, year: i32, dp: &str, v: Option<f64>) -> Observation {
        Observation {
            line: 2,
            city: city.into(),
            year,
            data_point: dp.into(),
            value: v,
            unit: None,
            numerator: None,
            denominator: None,
            quality: None,
            origin: None,
            source: None,
            verified: Some(true),
            note: None,
        }
    }

    fn meta<'a>(hash: &'a str) -> NewRevision<'a> {
        NewRevision {
            source_file: "a.csv",
            content_hash: hash,
            format: "csv",
            kind: "submission",
        }
    }

    #[test]
    fn newest_revision_wins_and_older_ones_stay_queryable() {
        let mut s = Store::open_in_memory().unwrap();
        let r1 = s
            .insert_revision(
                &meta("h1"),
                &[
                    obs("oslo", 2023, "a", Some(1.0)),
                    obs("oslo", 2023, "b", Some(2.0)),
                ],
            )
            .unwrap();
        let r2 = s
            .insert_revision(&meta("h2"), &[obs("oslo", 2023, "a", Some(5.0))])
            .unwrap();
        let cur = s.current_values().unwrap();
        assert_eq!(cur.len(), 2);
        assert_eq!(
            cur.iter().find(|v| v.data_point == "a").unwrap().value,
            Some(5.0)
        );
        assert_eq!(
            cur.iter()
                .find(|v| v.data_point == "b")
                .unwrap()
                .revision_id,
            r1
        );
        assert_eq!(s.revision_values(r1).unwrap().len(), 2);
        assert_eq!(s.revisions().unwrap().len(), 2);
        assert_eq!(s.revision_by_hash("h2").unwrap().unwrap().revision_id, r2);
    }

    #[test]
    fn the_current_values_of_some_cities_are_theirs_only_and_the_newest() {
        let mut s = Store::open_in_memory().unwrap();
        s.insert_revision(
            &meta("h1"),
            &[
                obs("oslo", 2023, "a", Some(1.0)),
                obs("bergen", 2023, "a", Some(2.0)),
                obs("bodo", 2023, "a", Some(3.0)),
            ],
        )
        .unwrap();
        s.insert_revision(&meta("h2"), &[obs("oslo", 2023, "a", Some(5.0))])
            .unwrap();
        let got: Vec<(String, Option<f64>)> = s
            .current_values_of(&["oslo".into(), "bodo".into()])
            .unwrap()
            .into_iter()
            .map(|v| (v.city, v.value))
            .collect();
        assert_eq!(
            got,
            [
                ("bodo".to_string(), Some(3.0)),
                ("oslo".to_string(), Some(5.0))
            ]
        );
        assert!(s.current_values_of(&[]).unwrap().is_empty());
    }

    #[test]
    fn an_export_is_sized_by_the_rows_of_its_selection() {
        let mut s = Store::open_in_memory().unwrap();
        s.insert_revision(
            &meta("h1"),
            &[
                obs("oslo", 2023, "a", Some(1.0)),
                obs("oslo", 2024, "a", Some(2.0)),
                obs("bergen", 2024, "a", Some(3.0)),
            ],
        )
        .unwrap();
        assert_eq!(s.export_rows(1, None, None).unwrap(), 3);
        assert_eq!(s.export_rows(1, Some(2024), None).unwrap(), 2);
        let oslo = ["oslo".to_string()];
        assert_eq!(s.export_rows(1, None, Some(&oslo)).unwrap(), 2);
        assert_eq!(s.export_rows(1, Some(2023), Some(&oslo)).unwrap(), 1);
    }

    #[test]
    fn a_failed_revision_leaves_nothing() {
        let mut s = Store::open_in_memory().unwrap();
        s.insert_revision(&meta("h1"), &[obs("oslo", 2023, "a", Some(1.0))])
            .unwrap();
        // same content hash violates the unique constraint: the whole revision is refused
        assert!(s
            .insert_revision(&meta("h1"), &[obs("oslo", 2024, "a", Some(1.0))])
            .is_err());
        assert_eq!(s.revisions().unwrap().len(), 1);
        assert_eq!(s.current_values().unwrap().len(), 1);
    }

    #[test]
    fn an_older_database_is_upgraded_even_by_a_reader() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.duckdb");
        {
            // a version-1 database, as the first release wrote it
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)").unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute("INSERT INTO schema_version (version) VALUES (1)", [])
                .unwrap();
        }
        let s = Store::open(&path, Access::ReadOnly).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        assert!(s.runs().unwrap().is_empty());
    }

    /// A version-5 database with one run, as the releases before numbered scores wrote it.
    fn version_5_with_a_run(path: &Path) {
        let conn = Connection::open(path).unwrap();
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)").unwrap();
        for (i, m) in MIGRATIONS[..5].iter().enumerate() {
            conn.execute_batch(m).unwrap();
            conn.execute(
                "INSERT INTO schema_version (version) VALUES (?)",
                params![i as i64 + 1],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO runs VALUES (1, now(), 'default', 'h', 't', '1', 2026, 0, '0.1.0', '1', '2023');
             INSERT INTO dp_scores VALUES
               (1, 'oslo', 2023, 'EC.ICT.1C', 95, 95, 1.0, 4, 70.5, 1, ''),
               (1, 'bergen', 2023, 'EC.ICT.1C', 80, 80, 0.8, 3, 40.0, 2, 'no_target'),
               (1, 'bergen', 2023, 'EC.ICT.2C', NULL, 61, NULL, NULL, 55.0, 1, 'imputed');
             INSERT INTO node_scores VALUES
               (1, 'oslo', 2023, 'overall', 'U4SSC', 75, 4, 1, 1, 70.5, 1.0, 1, 1.0, 1.0, 1.5),
               (1, 'bergen', 2023, 'overall', 'U4SSC', 50, 3, 1, 1, 47.5, 1.0, 2, 2.0, 1.5, 2.0),
               (1, 'bergen', 2023, 'kpi', 'EC.ICT.1C', 50, 3, 1, 1, 40.0, 1.0, 2, NULL, NULL, NULL);",
        )
        .unwrap();
    }

    #[test]
    fn scores_kept_as_texts_are_numbered_on_upgrade_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.duckdb");
        version_5_with_a_run(&path);
        let (dp_before, nodes_before) = {
            let conn = Connection::open(&path).unwrap();
            let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
            (
                count("SELECT count(*) FROM dp_scores"),
                count("SELECT count(*) FROM node_scores"),
            )
        };
        let s = Store::open(&path, Access::ReadWrite).unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
        let dp = s.dp_scores(1, None, None).unwrap();
        let nodes = s.node_scores(1, None, None).unwrap();
        assert_eq!(
            (dp.len() as i64, nodes.len() as i64),
            (dp_before, nodes_before)
        );
        let bergen: Vec<(&str, Option<f64>, &str)> = dp
            .iter()
            .filter(|d| d.city == "bergen")
            .map(|d| (d.data_point.as_str(), d.used_value, d.flags.as_str()))
            .collect();
        assert_eq!(
            bergen,
            [
                ("EC.ICT.1C", Some(80.0), "no_target"),
                ("EC.ICT.2C", Some(61.0), "imputed")
            ]
        );
        let kpi = nodes.iter().find(|n| n.level == Level::Kpi).unwrap();
        assert_eq!(
            (kpi.city.as_str(), kpi.node.as_str(), kpi.score),
            ("bergen", "EC.ICT.1C", Some(40.0))
        );
        assert_eq!(s.integrity().unwrap(), Vec::<String>::new());
    }

    #[test]
    fn verify_finds_scores_whose_city_is_no_longer_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v5.duckdb");
        version_5_with_a_run(&path);
        drop(Store::open(&path, Access::ReadWrite).unwrap());
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute("DELETE FROM score_cities WHERE city = 'bergen'", [])
                .unwrap();
        }
        let s = Store::open(&path, Access::ReadOnly).unwrap();
        let problems = s.integrity().unwrap();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("2 scores of run 1 name a city"),
            "{problems:?}"
        );
    }

    #[test]
    fn schema_is_versioned() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    }
}
