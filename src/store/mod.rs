//! The store: the one module that speaks to DuckDB. Every SQL statement of the program is in
//! this module (one file per concern), and every value reaches DuckDB as a bound parameter.
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

/// The CTEs `again` and `newest` over a CTE `mine` of observation rows (city, year,
/// data_point, revision_id and any others): `newest` holds each value at its latest
/// revision, as `current_observations` has it. Only the city-years that more than one
/// revision reported are ranked (the rest have one row a data point), which spares a world
/// of values a window.
macro_rules! newest_of_mine {
    () => {
        "again AS (SELECT city, year FROM mine GROUP BY city, year
                   HAVING min(revision_id) <> max(revision_id)),
         newest AS (SELECT * FROM mine ANTI JOIN again USING (city, year)
                    UNION ALL
                    SELECT * FROM (SELECT * FROM mine SEMI JOIN again USING (city, year))
                    QUALIFY row_number() OVER (PARTITION BY city, year, data_point ORDER BY revision_id DESC) = 1)"
    };
}

mod batches;
mod floors;
mod large;
mod migrations;
mod parquet;
mod questions;
mod runs;
mod scores;
mod stage;
#[cfg(test)]
mod tests;
mod values;
pub use large::{LargeLookups, LargeSelection, LargeTable};
pub use migrations::SCHEMA_VERSION;
pub use questions::{Action, Event, NewQuestion, Question, Status};

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
    /// Taken by every read and Parquet write of this store and of its [`Store::another`]
    /// connections: DuckDB's memory limit is one for the database, and two large queries at
    /// once (a sort, a window) can exceed it where either alone spills to disk.
    gate: std::sync::Arc<std::sync::Mutex<()>>,
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
    pub kind: RevisionKind,
}

/// Where a revision's values came from (stored as its text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevisionKind {
    /// a city's submission file
    Submission,
    /// the synthetic demo (never real city data)
    Demo,
    /// fetched from Statistics Norway
    Ssb,
}

impl RevisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionKind::Submission => "submission",
            RevisionKind::Demo => "demo",
            RevisionKind::Ssb => "ssb",
        }
    }
}

impl RevisionInfo {
    /// The revision holds the synthetic demo.
    pub fn is_demo(&self) -> bool {
        self.kind == RevisionKind::Demo.as_str()
    }
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
    /// A second connection to the same open database, for work on another thread (its
    /// temporary tables are its own).
    pub fn another(&self) -> Result<Store> {
        Ok(Store {
            conn: self.conn.try_clone().map_err(|e| self.err(e))?,
            path: self.path.clone(),
            staged_revision: None,
            gate: self.gate.clone(),
        })
    }

    /// Hold the gate (see the field) while `f` runs; a panic elsewhere does not close it.
    pub(super) fn gated<T>(&self, f: impl FnOnce() -> T) -> T {
        let _held = self
            .gate
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f()
    }

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
        if access == Access::ReadWrite {
            conn.register_table_function::<batches::BatchScan>(batches::FUNCTION)
                .map_err(|e| db_error(path, e))?;
        }
        let store = Store {
            conn,
            path: path.to_path_buf(),
            staged_revision: None,
            gate: Default::default(),
        };
        let found = store.schema_version()?;
        if access == Access::ReadOnly && found < SCHEMA_VERSION {
            // an older database: upgrade it with a short write, then read as asked
            drop(store);
            drop(Store::open(path, Access::ReadWrite)?);
            return Store::open(path, Access::ReadOnly);
        }
        store.migrate(access, found)?;
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
        conn.register_table_function::<batches::BatchScan>(batches::FUNCTION)
            .map_err(|e| db_error(&path, e))?;
        let store = Store {
            conn,
            path,
            staged_revision: None,
            gate: Default::default(),
        };
        store.migrate(Access::ReadWrite, 0)?;
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

    /// The schema version the database is at (0: a new or foreign file without the table).
    /// The table is read directly: asking `information_schema` first cost ~40 ms of every
    /// command's start (DuckDB binds that view from its SQL text); only when the read fails
    /// is the catalog asked whether the table exists at all.
    pub fn schema_version(&self) -> Result<i64> {
        let read = self.conn.query_row(
            "SELECT coalesce(max(version), 0) FROM schema_version",
            [],
            |r| r.get(0),
        );
        match read {
            Ok(v) => Ok(v),
            Err(e) => {
                let exists: i64 = self
                    .conn
                    .query_row(
                        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'schema_version' AND schema_name = 'main' AND NOT temporary",
                        [],
                        |r| r.get(0),
                    )
                    .map_err(|e| self.err(e))?;
                if exists == 0 {
                    Ok(0)
                } else {
                    Err(self.err(e))
                }
            }
        }
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

pub use crate::rows::{StatusCount, StoredFinding};

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
