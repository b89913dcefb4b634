//! The bulk path of an import, the part in the database: DuckDB's own CSV reader loads the
//! file into a staging table of text cells, the distinct texts resolved in Rust come back as
//! small mapping tables, and the rules that concern every row (values against their limits,
//! duplicates, jumps from earlier years, missing core data points) run as set-based SQL. The
//! revision is then written with one `INSERT … SELECT`. All staging tables are temporary:
//! they vanish with the connection and are never part of the database file.

use super::{db_error, Store};
use crate::error::Result;
use crate::submission::bulk::{CityYear, Columns};
use duckdb::params;
use std::path::Path;

/// The pattern of a value cell the database reads itself: a plain decimal, at most 300
/// digits before the point so that it is always a finite double. Anything else (NR, yes/no,
/// decimal commas, percent signs, spaces) is resolved in Rust.
const PLAIN_DECIMAL: &str = "-?[0-9]{1,300}(\\.[0-9]+)?";

/// A row the bulk path warns about, located by line.
#[derive(Debug, Clone, PartialEq)]
pub enum StagedWarning {
    /// the city was named by a former municipality number (the message is in the city map)
    Former { line: usize, message: String },
    Implausible {
        line: usize,
        data_point: String,
        value: f64,
    },
    Jump {
        line: usize,
        data_point: String,
        value: f64,
        prev_year: i32,
        prev_value: f64,
    },
}

/// Facts about one data point that the SQL rules need.
pub struct DpFacts<'a> {
    pub id: &'a str,
    pub yes_no: bool,
    pub core: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub plausible: [f64; 2],
}

fn col(c: Option<usize>) -> String {
    match c {
        Some(i) => format!("coalesce(s.c{i}, '')"),
        None => "''".to_string(),
    }
}

impl Store {
    fn run(&self, sql: &str) -> Result<()> {
        self.conn.execute_batch(sql).map_err(|e| self.err(e))
    }

    fn strings(&self, sql: &str, width: usize) -> Result<Vec<Vec<String>>> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                (0..width)
                    .map(|i| r.get::<_, String>(i))
                    .collect::<std::result::Result<Vec<_>, _>>()
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| self.err(e))
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

    /// Load a CSV file into the staging table `stage` (columns c0, c1, … as text), with DuckDB's
    /// reader in its strict mode. `Ok(None)` when DuckDB cannot read it that way (the caller
    /// then takes the row-by-row path); otherwise the number of rows.
    pub fn stage_csv(
        &mut self,
        path: &Path,
        delimiter: u8,
        columns: usize,
    ) -> Result<Option<usize>> {
        let cols = (0..columns)
            .map(|i| format!("'c{i}': 'VARCHAR'"))
            .collect::<Vec<_>>()
            .join(", ");
        let delim = if delimiter == b'\t' {
            "\\t".to_string()
        } else {
            (delimiter as char).to_string()
        };
        let sql = format!(
            "CREATE OR REPLACE TEMP TABLE stage AS SELECT * FROM read_csv(?, delim = '{delim}', quote = '\"', escape = '\"', header = false, skip = 1, auto_detect = false, columns = {{{cols}}}, strict_mode = true, null_padding = false)"
        );
        let p = path.display().to_string();
        if self.conn.execute(&sql, params![p]).is_err() {
            self.drop_stage()?;
            return Ok(None);
        }
        Ok(Some(self.count("SELECT count(*) FROM stage")? as usize))
    }

    /// The distinct (city, year) texts of the staged file.
    pub fn stage_city_years(&self, c: &Columns) -> Result<Vec<(String, String)>> {
        let sql = format!(
            "SELECT DISTINCT {}, {} FROM stage s",
            col(Some(c.city)),
            col(Some(c.year))
        );
        Ok(pairs(self.strings(&sql, 2)?))
    }

    /// The distinct (kpi, data point) texts.
    pub fn stage_codes(&self, c: &Columns) -> Result<Vec<(String, String)>> {
        let sql = format!(
            "SELECT DISTINCT {}, {} FROM stage s",
            col(Some(c.kpi)),
            col(c.data_point)
        );
        Ok(pairs(self.strings(&sql, 2)?))
    }

    /// The distinct texts of one column.
    pub fn stage_texts(&self, column: Option<usize>) -> Result<Vec<String>> {
        let sql = format!("SELECT DISTINCT {} FROM stage s", col(column));
        Ok(self.strings(&sql, 1)?.into_iter().flatten().collect())
    }

    /// The resolved cities, codes and data-point facts as mapping tables.
    pub fn stage_maps(
        &self,
        cities: &[CityYear],
        codes: &[(String, String, String)],
        dps: &[DpFacts],
    ) -> Result<()> {
        self.run(
            "CREATE OR REPLACE TEMP TABLE map_city (city_text VARCHAR, year_text VARCHAR, slug VARCHAR, year INTEGER, former VARCHAR);
             CREATE OR REPLACE TEMP TABLE map_code (kpi_text VARCHAR, part_text VARCHAR, dp VARCHAR);
             CREATE OR REPLACE TEMP TABLE dp_facts (dp VARCHAR, yes_no BOOLEAN, core BOOLEAN, min DOUBLE, max DOUBLE, lo DOUBLE, hi DOUBLE, core_ix INTEGER);",
        )?;
        self.fill(
            "map_city",
            cities
                .iter()
                .map(|c| (&c.city_text, &c.year_text, &c.slug, c.year, &c.former)),
        )?;
        self.fill("map_code", codes.iter().map(|(k, p, d)| (k, p, d)))?;
        let mut core_ix = 0i32;
        let facts: Vec<_> = dps
            .iter()
            .map(|d| {
                let ix = d.core.then(|| {
                    core_ix += 1;
                    core_ix - 1
                });
                (
                    d.id,
                    d.yes_no,
                    d.core,
                    d.min,
                    d.max,
                    d.plausible[0],
                    d.plausible[1],
                    ix,
                )
            })
            .collect();
        self.fill("dp_facts", facts)
    }

    /// The distinct (kpi, data point, unit, quality, verified) texts: few in any file, and one
    /// map of them serves four columns in one join.
    pub fn stage_combos(&self, c: &Columns) -> Result<Vec<[String; 5]>> {
        let sql = format!(
            "SELECT DISTINCT {}, {}, {}, {}, {} FROM stage s",
            col(Some(c.kpi)),
            col(c.data_point),
            col(c.unit),
            col(c.quality),
            col(c.verified)
        );
        Ok(self
            .strings(&sql, 5)?
            .into_iter()
            .map(|r| {
                let mut it = r.into_iter();
                let mut next = || it.next().unwrap_or_default();
                [next(), next(), next(), next(), next()]
            })
            .collect())
    }

    /// The distinct (data point, value) texts that are not plain decimals or that belong to a
    /// yes/no data point.
    pub fn stage_values(&self, c: &Columns) -> Result<Vec<(String, String)>> {
        let value = col(Some(c.value));
        Ok(pairs(self.strings(
            &format!(
                "SELECT DISTINCT mk.dp, {value}
                 FROM stage s JOIN map_code mk ON mk.kpi_text = {kpi} AND mk.part_text = {part}
                 JOIN dp_facts f ON f.dp = mk.dp
                 WHERE f.yes_no OR NOT regexp_full_match({value}, '{PLAIN_DECIMAL}')",
                kpi = col(Some(c.kpi)),
                part = col(c.data_point)
            ),
            2,
        )?))
    }

    /// Whether any row gives a numerator or a denominator (the bulk path leaves those files,
    /// whose values must be checked against their ratio, to the row-by-row path).
    pub fn stage_has_ratios(&self, c: &Columns) -> Result<bool> {
        if c.numerator.is_none() && c.denominator.is_none() {
            return Ok(false);
        }
        Ok(self.count(&format!(
            "SELECT count(*) FROM (SELECT 1 FROM stage s WHERE {} <> '' OR {} <> '' LIMIT 1)",
            col(c.numerator),
            col(c.denominator)
        ))? > 0)
    }

    /// Resolve every staged row with all the maps and insert it into `observations`, in a
    /// transaction that stays open until [`Store::commit_staged`] or [`Store::drop_stage`].
    /// Returns false (and rolls back) when a row breaks a rule the maps do not cover — a yes/no
    /// value other than 0 or 1, a value below the minimum or above the maximum, a duplicate
    /// row — so that the caller takes the row-by-row path, which reports it.
    pub fn stage_insert(&mut self, c: &Columns, rows: usize, maps: &StageMaps) -> Result<bool> {
        self.run(
            "CREATE OR REPLACE TEMP TABLE map_combo (kpi_text VARCHAR, part_text VARCHAR, unit_text VARCHAR, quality_text VARCHAR, verified_text VARCHAR, dp VARCHAR, unit VARCHAR, quality VARCHAR, verified BOOLEAN);
             CREATE OR REPLACE TEMP TABLE map_value (dp VARCHAR, value_text VARCHAR, value DOUBLE);",
        )?;
        self.fill(
            "map_combo",
            maps.combos.iter().map(|m| {
                let [k, p, u, q, v] = &m.texts;
                (k, p, u, q, v, &m.dp, &m.unit, &m.quality, m.verified)
            }),
        )?;
        self.fill("map_value", maps.values.iter().map(|(d, t, v)| (d, t, v)))?;
        let e = |e| db_error(&self.path, e);
        let value = col(Some(c.value));
        let sql = format!(
            "INSERT INTO observations
             SELECT ?, line, city, year, data_point, v, unit, NULL, NULL, quality, origin, source, verified, note
             FROM (
               SELECT s.rowid + 2 AS line, mc.slug AS city, mc.year AS year, mk.dp AS data_point,
                      CASE WHEN mv.dp IS NOT NULL THEN mv.value ELSE CAST({value} AS DOUBLE) END AS v,
                      mk.unit, mk.quality, nullif({origin}, '') AS origin, nullif({source}, '') AS source,
                      mk.verified, nullif({note}, '') AS note
               FROM stage s
               JOIN map_city mc ON mc.city_text = {city} AND mc.year_text = {year}
               JOIN map_combo mk ON mk.kpi_text = {kpi} AND mk.part_text = {part} AND mk.unit_text = {unit}
                                AND mk.quality_text = {quality} AND mk.verified_text = {verified}
               LEFT JOIN map_value mv ON mv.dp = mk.dp AND mv.value_text = {value})",
            origin = col(c.origin),
            source = col(c.source),
            note = col(c.note),
            city = col(Some(c.city)),
            year = col(Some(c.year)),
            kpi = col(Some(c.kpi)),
            part = col(c.data_point),
            unit = col(c.unit),
            quality = col(c.quality),
            verified = col(c.verified),
        );
        self.run("BEGIN TRANSACTION")?;
        let id = self.count("SELECT coalesce(max(revision_id), 0) + 1 FROM revisions")?;
        self.staged_revision = Some(id);
        // each row carries its line, so the rows need not be stored in file order
        self.run("SET preserve_insertion_order = false")?;
        let inserted = self.conn.execute(&sql, params![id]);
        self.run("RESET preserve_insertion_order")?;
        let inserted = match inserted {
            Ok(n) => n,
            Err(_) => {
                self.rollback_stage()?;
                return Ok(false);
            }
        };
        crate::trace::Trace::new().mark("  insert");
        let (broken, duplicates) = self
            .conn
            .query_row(
                "WITH r AS (SELECT city, year, data_point, value FROM observations WHERE revision_id = ?)
                 SELECT (SELECT count(*) FROM r JOIN dp_facts f ON f.dp = r.data_point
                         WHERE (f.yes_no AND r.value IS NOT NULL AND r.value NOT IN (0.0, 1.0))
                            OR r.value < f.min OR r.value > f.max),
                        (SELECT count(*) FROM (SELECT 1 FROM r GROUP BY city, year, data_point HAVING count(*) > 1))",
                params![id],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .map_err(e)?;
        if inserted != rows || broken > 0 || duplicates > 0 {
            self.rollback_stage()?;
            return Ok(false);
        }
        Ok(true)
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

    /// The warnings of the staged rows, by line: former municipality numbers, implausible
    /// values, and jumps by more than `jump_factor` times from the latest earlier year in the
    /// values current before this file.
    pub fn stage_warnings(&self, c: &Columns, jump_factor: f64) -> Result<Vec<StagedWarning>> {
        let id = self.staged_id()?;
        let mut out = Vec::new();
        let e = |e| db_error(&self.path, e);
        if self.count("SELECT count(*) FROM map_city WHERE former IS NOT NULL")? > 0 {
            let mut stmt = self
                .conn
                .prepare(&format!(
                    "SELECT s.rowid + 2, mc.former FROM stage s
                     JOIN (SELECT * FROM map_city WHERE former IS NOT NULL) mc
                       ON mc.city_text = {} AND mc.year_text = {}",
                    col(Some(c.city)),
                    col(Some(c.year))
                ))
                .map_err(e)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok(StagedWarning::Former {
                        line: r.get::<_, i64>(0)? as usize,
                        message: r.get(1)?,
                    })
                })
                .map_err(e)?;
            for r in rows {
                out.push(r.map_err(e)?);
            }
        }
        let mut stmt = self
            .conn
            .prepare(
                "SELECT o.line, o.data_point, o.value FROM observations o JOIN dp_facts f ON f.dp = o.data_point
                 WHERE o.revision_id = ? AND (o.value < f.lo OR o.value > f.hi)",
            )
            .map_err(e)?;
        let rows = stmt
            .query_map(params![id], |r| {
                Ok(StagedWarning::Implausible {
                    line: r.get::<_, i64>(0)? as usize,
                    data_point: r.get(1)?,
                    value: r.get(2)?,
                })
            })
            .map_err(e)?;
        for r in rows {
            out.push(r.map_err(e)?);
        }
        if !self.earlier_observations(id)? {
            return Ok(out);
        }
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
                Ok(StagedWarning::Jump {
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

    /// (city, year, core data point) for every city and year of the staged file without a
    /// row for that core data point. Each city and year's core data points are gathered as a
    /// bit set in one pass, so no city × data point grid is built.
    pub fn stage_missing_core(&self) -> Result<Vec<(String, i32, String)>> {
        let id = self.staged_id()?;
        let core: Vec<String> = self
            .strings("SELECT dp FROM dp_facts WHERE core ORDER BY core_ix", 1)?
            .into_iter()
            .flatten()
            .collect();
        let words = core.len().div_ceil(64).max(1);
        let masks = (0..words)
            .map(|w| {
                format!(
                    "bit_or(CASE WHEN f.core_ix // 64 = {w} THEN 1::UBIGINT << (f.core_ix % 64) ELSE 0::UBIGINT END)"
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT r.city, r.year, {masks}
                 FROM observations r LEFT JOIN dp_facts f ON f.dp = r.data_point
                 WHERE r.revision_id = ? GROUP BY r.city, r.year ORDER BY r.city, r.year"
            ))
            .map_err(|e| self.err(e))?;
        let mut rows = stmt.query(params![id]).map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(|e| self.err(e))? {
            let city: String = r.get(0).map_err(|e| self.err(e))?;
            let year: i32 = r.get(1).map_err(|e| self.err(e))?;
            let mut have = Vec::with_capacity(words);
            for w in 0..words {
                have.push(
                    r.get::<_, Option<u64>>(2 + w)
                        .map_err(|e| self.err(e))?
                        .unwrap_or(0),
                );
            }
            for (ix, dp) in core.iter().enumerate() {
                if have[ix / 64] & (1u64 << (ix % 64)) == 0 {
                    out.push((city.clone(), year, dp.clone()));
                }
            }
        }
        Ok(out)
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
                params![id, meta.source_file, meta.content_hash, meta.format, meta.kind, rows as i64],
            )
            .map_err(e)
            .and_then(|_| super::insert_findings(&self.conn, id, findings).map_err(e));
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
            "DROP TABLE IF EXISTS stage;
             DROP TABLE IF EXISTS map_city; DROP TABLE IF EXISTS map_code; DROP TABLE IF EXISTS dp_facts;
             DROP TABLE IF EXISTS map_combo; DROP TABLE IF EXISTS map_value;",
        )
    }
}

/// What the distinct texts of a staged file resolved to.
#[derive(Debug, Default)]
pub struct StageMaps {
    pub combos: Vec<Combo>,
    pub values: Vec<(String, String, Option<f64>)>,
}

/// One distinct (kpi, data point, unit, quality, verified) text combination, resolved.
#[derive(Debug)]
pub struct Combo {
    pub texts: [String; 5],
    pub dp: String,
    pub unit: Option<String>,
    pub quality: Option<String>,
    pub verified: Option<bool>,
}

fn pairs(rows: Vec<Vec<String>>) -> Vec<(String, String)> {
    rows.into_iter()
        .map(|mut r| {
            let b = r.pop().unwrap_or_default();
            let a = r.pop().unwrap_or_default();
            (a, b)
        })
        .collect()
}
