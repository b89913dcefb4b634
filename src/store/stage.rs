//! The bulk path of an import, the part in the database. The survey (`submission::bulk`)
//! has read the file once, resolved its distinct texts and checked every row; those
//! resolutions come here as small mapping tables, and one `INSERT … SELECT` reads the file
//! with DuckDB's own CSV reader, joins it with them and writes the revision, in a
//! transaction that stays open until the caller commits or drops it. The jump and diff
//! rules, which compare with earlier revisions, run on the inserted rows. The mapping tables
//! are temporary: they vanish with the connection and are never part of the database file.

use super::{db_error, Store};
use crate::error::Result;
use crate::submission::bulk::{CityYear, Columns, Combo};
use duckdb::params;
use std::path::Path;

/// A jump by more than the jump factor from the latest earlier year, located by line.
#[derive(Debug, Clone, PartialEq)]
pub struct StagedJump {
    pub line: usize,
    pub data_point: String,
    pub value: f64,
    pub prev_year: i32,
    pub prev_value: f64,
}

fn col(c: Option<usize>) -> String {
    match c {
        Some(i) => format!("coalesce(s.c{i}, '')"),
        None => "''".to_string(),
    }
}

/// The file's rows (its path the parameter) as DuckDB reads them, with their lines, from
/// line `first` on (after the header); `limit` rows at most.
fn read_part(delimiter: u8, columns: usize, first: usize, limit: Option<usize>) -> String {
    let cols = (0..columns)
        .map(|i| format!("'c{i}': 'VARCHAR'"))
        .collect::<Vec<_>>()
        .join(", ");
    let delim = if delimiter == b'\t' {
        "\\t".to_string()
    } else {
        (delimiter as char).to_string()
    };
    let limit = limit.map(|n| format!(" LIMIT {n}")).unwrap_or_default();
    format!(
        "SELECT ordinality + {first} - 1 AS line, * FROM (SELECT * FROM read_csv(?, delim = '{delim}', quote = '\"', escape = '\"', header = false, skip = {skip}, auto_detect = false, columns = {{{cols}}}, strict_mode = true, null_padding = false) WITH ORDINALITY{limit})",
        skip = first - 1
    )
}

impl Store {
    pub(super) fn run(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }

    /// Append rows to a staging (temporary) table.
    fn fill<P: duckdb::AppenderParams>(
        &self,
        table: &str,
        rows: impl IntoIterator<Item = P>,
    ) -> Result<()> {
        let mut a = self
            .conn
            .appender_to_catalog_and_db(table, "temp", "main")
            .map_err(|e| self.err(e))?;
        for r in rows {
            a.append_row(r).map_err(|e| self.err(e))?;
        }
        a.flush().map_err(|e| self.err(e))
    }

    fn count(&self, sql: &str) -> Result<i64> {
        self.conn
            .query_row(sql, [], |r| r.get(0))
            .map_err(|e| self.err(e))
    }

    /// The resolved texts as mapping tables: (city, year), (kpi, data point, unit, quality,
    /// verified) and the values that are not plain decimals.
    pub fn stage_maps(
        &self,
        cities: &[CityYear],
        combos: &[Combo],
        values: &[(String, String, Option<f64>)],
    ) -> Result<()> {
        self.run(
            "CREATE OR REPLACE TEMP TABLE map_city (city_text VARCHAR, year_text VARCHAR, slug VARCHAR, year INTEGER);
             CREATE OR REPLACE TEMP TABLE map_combo (kpi_text VARCHAR, part_text VARCHAR, unit_text VARCHAR, quality_text VARCHAR, verified_text VARCHAR, dp VARCHAR, unit VARCHAR, quality VARCHAR, verified BOOLEAN);
             CREATE OR REPLACE TEMP TABLE map_value (dp VARCHAR, value_text VARCHAR, value DOUBLE);",
        )?;
        self.fill(
            "map_city",
            cities
                .iter()
                .map(|c| (&c.city_text, &c.year_text, &c.slug, c.year)),
        )?;
        self.fill(
            "map_combo",
            combos.iter().map(|m| {
                let [k, p, u, q, v] = &m.texts;
                (k, p, u, q, v, &m.dp, &m.unit, &m.quality, m.verified)
            }),
        )?;
        self.fill("map_value", values.iter().map(|(d, t, v)| (d, t, v)))
    }

    /// Read the file with DuckDB's CSV reader, resolve every row with the maps and insert it
    /// into `observations`, in a transaction that stays open until [`Store::commit_staged`]
    /// or [`Store::drop_stage`]. The file is read in two parts, the first `first_rows` rows
    /// and the rest, each numbering its lines in order while the two run side by side.
    /// Returns false (and rolls back) when DuckDB reads the file otherwise than the survey
    /// did: a text the maps lack, a value it cannot read, another number of rows.
    pub fn stage_insert(
        &mut self,
        path: &Path,
        delimiter: u8,
        c: &Columns,
        columns: usize,
        rows: usize,
        first_rows: usize,
    ) -> Result<bool> {
        let p = path.display().to_string();
        let first = read_part(delimiter, columns, 2, Some(first_rows));
        let (source, paths) = if rows > first_rows {
            let second = read_part(delimiter, columns, first_rows + 2, None);
            (format!("({first} UNION ALL {second})"), vec![p.clone(), p])
        } else {
            (format!("({first})"), vec![p])
        };
        self.run("BEGIN TRANSACTION")?;
        let id = self.count("SELECT coalesce(max(revision_id), 0) + 1 FROM revisions")?;
        self.staged_revision = Some(id);
        let value = col(Some(c.value));
        let sql = format!(
            "INSERT INTO observations
             SELECT {id}, s.line, mc.slug, mc.year, mk.dp,
                    CASE WHEN mv.dp IS NOT NULL THEN mv.value ELSE CAST({value} AS DOUBLE) END,
                    mk.unit, NULL, NULL, mk.quality, nullif({origin}, ''), nullif({source_col}, ''),
                    mk.verified, nullif({note}, '')
             FROM {source} s
             JOIN map_city mc ON mc.city_text = {city} AND mc.year_text = {year}
             JOIN map_combo mk ON mk.kpi_text = {kpi} AND mk.part_text = {part} AND mk.unit_text = {unit}
                              AND mk.quality_text = {quality} AND mk.verified_text = {verified}
             LEFT JOIN map_value mv ON mv.dp = mk.dp AND mv.value_text = {value}",
            origin = col(c.origin),
            source_col = col(c.source),
            note = col(c.note),
            city = col(Some(c.city)),
            year = col(Some(c.year)),
            kpi = col(Some(c.kpi)),
            part = col(c.data_point),
            unit = col(c.unit),
            quality = col(c.quality),
            verified = col(c.verified),
        );
        // each row carries its line, so the rows need not be stored in file order; and the
        // planner cannot know the file's size, so the joins keep the file on the probe side
        // and the small maps on the build side, as written
        self.run(
            "SET preserve_insertion_order = false;
             SET disabled_optimizers = 'join_order,build_side_probe_side';",
        )?;
        let inserted = self.conn.execute(&sql, duckdb::params_from_iter(paths));
        self.run("RESET preserve_insertion_order; RESET disabled_optimizers;")?;
        match inserted {
            Ok(n) if n == rows => {
                crate::trace::Trace::new().mark("  insert");
                Ok(true)
            }
            _ => {
                self.rollback_stage()?;
                Ok(false)
            }
        }
    }

    fn staged_id(&self) -> Result<i64> {
        self.staged_revision.ok_or_else(|| {
            crate::error::Error::Invalid("no staged revision (internal error)".into())
        })
    }

    fn rollback_stage(&mut self) -> Result<()> {
        if self.staged_revision.take().is_some() {
            self.run("ROLLBACK")?;
        }
        Ok(())
    }

    /// The staged rows that jump by more than `jump_factor` times from the latest earlier year
    /// in the values current before this file, by line.
    pub fn stage_jumps(&self, jump_factor: f64) -> Result<Vec<StagedJump>> {
        let id = self.staged_id()?;
        let mut out = Vec::new();
        if !self.earlier_observations(id)? {
            return Ok(out);
        }
        let e = |e| db_error(&self.path, e);
        let mut stmt = self
            .conn
            .prepare(
                "WITH cur AS (SELECT city, data_point, year, value FROM observations WHERE revision_id < ?
                              QUALIFY row_number() OVER (PARTITION BY city, year, data_point ORDER BY revision_id DESC) = 1),
                      hist AS (SELECT * FROM cur WHERE value IS NOT NULL),
                      r AS (SELECT line, city, year, data_point, value FROM observations WHERE revision_id = ?)
                 SELECT r.line, r.data_point, r.value, h.year, h.value
                 FROM r ASOF JOIN hist h
                   ON r.city = h.city AND r.data_point = h.data_point AND r.year > h.year
                 WHERE r.value IS NOT NULL AND r.value <> 0 AND h.value <> 0 AND sign(r.value) = sign(h.value)
                   AND (abs(r.value / h.value) > ? OR abs(r.value / h.value) < 1.0 / ?)",
            )
            .map_err(e)?;
        let rows = stmt
            .query_map(params![id, id, jump_factor, jump_factor], |r| {
                Ok(StagedJump {
                    line: r.get::<_, i64>(0)? as usize,
                    data_point: r.get(1)?,
                    value: r.get(2)?,
                    prev_year: r.get(3)?,
                    prev_value: r.get(4)?,
                })
            })
            .map_err(e)?;
        for r in rows {
            out.push(r.map_err(e)?);
        }
        Ok(out)
    }

    /// Whether revisions before `id` hold observations (else nothing can jump or change).
    fn earlier_observations(&self, id: i64) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT count(*) FROM (SELECT 1 FROM observations WHERE revision_id < ? LIMIT 1)",
                params![id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// How the staged rows compare with the values current before them: (new, changed,
    /// unchanged).
    pub fn stage_diff(&self, rows: usize) -> Result<(usize, usize, usize)> {
        let id = self.staged_id()?;
        if !self.earlier_observations(id)? {
            return Ok((rows, 0, 0));
        }
        self.conn
            .query_row(
                "WITH cur AS (SELECT city, year, data_point, value FROM observations WHERE revision_id < ?
                              QUALIFY row_number() OVER (PARTITION BY city, year, data_point ORDER BY revision_id DESC) = 1)
                 SELECT count(*) FILTER (WHERE c.city IS NULL),
                        count(*) FILTER (WHERE c.city IS NOT NULL AND c.value IS DISTINCT FROM r.value),
                        count(*) FILTER (WHERE c.city IS NOT NULL AND c.value IS NOT DISTINCT FROM r.value)
                 FROM observations r LEFT JOIN cur c
                   ON c.city = r.city AND c.year = r.year AND c.data_point = r.data_point
                 WHERE r.revision_id = ?",
                params![id, id],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)? as usize,
                        r.get::<_, i64>(1)? as usize,
                        r.get::<_, i64>(2)? as usize,
                    ))
                },
            )
            .map_err(|e| self.err(e))
    }

    /// Keep the staged rows as a new revision, with its warnings: the transaction commits.
    pub fn commit_staged(
        &mut self,
        meta: &super::NewRevision,
        rows: usize,
        findings: &[crate::submission::Finding],
    ) -> Result<i64> {
        let id = self.staged_id()?;
        let e = |e| db_error(&self.path, e);
        let kept = self
            .conn
            .execute(
                "INSERT INTO revisions (revision_id, source_file, content_hash, format, kind, row_count) VALUES (?, ?, ?, ?, ?, ?)",
                params![id, meta.source_file, meta.content_hash, meta.format, meta.kind.as_str(), rows as i64],
            )
            .map_err(e)
            .and_then(|_| super::insert_findings(&self.conn, id, findings).map_err(e))
            .and_then(|_| super::questions::mark_changed(&self.conn, id).map_err(e));
        if let Err(err) = kept {
            self.drop_stage()?;
            return Err(err);
        }
        self.run("COMMIT")?;
        self.staged_revision = None;
        self.drop_stage()?;
        Ok(id)
    }

    /// Forget the staged file: roll back its rows if they were inserted, drop the staging
    /// tables.
    pub fn drop_stage(&mut self) -> Result<()> {
        self.rollback_stage()?;
        self.run(
            "DROP TABLE IF EXISTS map_city; DROP TABLE IF EXISTS map_combo; DROP TABLE IF EXISTS map_value;",
        )
    }
}
