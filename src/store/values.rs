//! Revisions and their values: what was imported, what is current, populations, and the
//! consistency check.

use super::*;

impl Store {
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
            params![id, meta.source_file, meta.content_hash, meta.format, meta.kind.as_str(), obs.len() as i64],
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
                Ok(StoredFinding {
                    severity: r.get(0)?,
                    rule: r.get(1)?,
                    line: r.get(2)?,
                    column: r.get(3)?,
                    message: r.get(4)?,
                })
            })
    }

    /// Current values by any of city, year and data point.
    pub fn current_values_where(&self, f: &Filter) -> Result<Vec<CurrentValue>> {
        self.all(
            // filtered before the latest revision is picked: city, year and data point are
            // what `current_observations` partitions by, so the same rows, and a year of a
            // world is not ranked with the other years' values
            "SELECT city, year, data_point, value, verified, quality, source, revision_id
                 FROM observations WHERE (? IS NULL OR city = ?) AND (? IS NULL OR year = ?) AND (? IS NULL OR data_point = ?)
                 QUALIFY row_number() OVER (PARTITION BY city, year, data_point ORDER BY revision_id DESC) = 1
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
    /// the database, so that a world of cities is not read into memory. A city-year with no
    /// value of those data points has no row.
    pub fn status_counts(&self, core: &[String], advanced: &[String]) -> Result<Vec<StatusCount>> {
        self.status_counts_of(core, advanced, None)
    }

    /// [`Store::status_counts`] of some cities only (`None`: every city), ordered by city
    /// and year.
    pub fn status_counts_of(
        &self,
        core: &[String],
        advanced: &[String],
        cities: Option<&[String]>,
    ) -> Result<Vec<StatusCount>> {
        let list = |l: &[String]| l.join("\u{1f}");
        self.all(
            concat!(
                "WITH kinds AS (
                     SELECT unnest(string_split(?1, chr(31))) AS dp, true AS core
                     UNION ALL SELECT unnest(string_split(?2, chr(31))), false),
                 mine AS (SELECT o.city, o.year, o.data_point, o.value, o.verified, o.revision_id, k.core
                          FROM observations o JOIN kinds k ON k.dp = o.data_point
                          WHERE ?4 OR o.city IN (SELECT unnest(string_split(?3, chr(31))))),",
                newest_of_mine!(),
                " SELECT city, year,
                    count(*) FILTER (WHERE value IS NOT NULL AND core),
                    count(*) FILTER (WHERE value IS NOT NULL AND NOT core),
                    count(*) FILTER (WHERE value IS NOT NULL AND verified),
                    count(*) FILTER (WHERE value IS NULL)
                 FROM newest GROUP BY city, year ORDER BY city, year"
            ),
            params![
                list(core),
                list(advanced),
                list(cities.unwrap_or_default()),
                cities.is_none()
            ],
            |r| {
                Ok(StatusCount {
                    city: r.get(0)?,
                    year: r.get(1)?,
                    core: r.get(2)?,
                    advanced: r.get(3)?,
                    verified: r.get(4)?,
                    not_reported: r.get(5)?,
                })
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
    pub(super) fn all<T, P: duckdb::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnMut(&duckdb::Row) -> duckdb::Result<T>,
    ) -> Result<Vec<T>> {
        self.gated(|| {
            let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
            let rows = stmt.query_map(params, f).map_err(|e| self.err(e))?;
            rows.collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| self.err(e))
        })
    }

    /// The rows of a query handed to `f` a batch of `batch` at a time, never all at once:
    /// the query's result goes to a temporary table of this connection (which DuckDB spills
    /// to disk past its memory limit, where a query's result would be held whole), read back
    /// in its order a batch at a time. `sql` is one of the program's own SELECTs.
    pub(super) fn each<T, P: duckdb::Params>(
        &self,
        sql: &str,
        params: P,
        mut map: impl FnMut(&duckdb::Row) -> duckdb::Result<T>,
        batch: usize,
        mut f: impl FnMut(Vec<T>) -> Result<()>,
    ) -> Result<()> {
        let batch = batch.max(1) as i64;
        self.gated(|| {
            self.conn
                .execute(
                    &format!("CREATE OR REPLACE TEMP TABLE batch_read AS {sql}"),
                    params,
                )
                .map_err(|e| self.err(e))
        })?;
        let read = (|| {
            let n: i64 = self
                .conn
                .query_row("SELECT count(*) FROM batch_read", [], |r| r.get(0))
                .map_err(|e| self.err(e))?;
            let mut stmt = self
                .conn
                .prepare("SELECT * FROM batch_read WHERE rowid >= ? AND rowid < ? ORDER BY rowid")
                .map_err(|e| self.err(e))?;
            let mut start = 0;
            while start < n {
                let part = self.gated(|| {
                    stmt.query_map(params![start, start + batch], &mut map)
                        .map_err(|e| self.err(e))?
                        .collect::<std::result::Result<Vec<_>, _>>()
                        .map_err(|e| self.err(e))
                })?;
                f(part)?;
                start += batch;
            }
            Ok(())
        })();
        let dropped = self
            .conn
            .execute_batch("DROP TABLE IF EXISTS batch_read")
            .map_err(|e| self.err(e));
        read.and(dropped)
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

    pub(super) fn values_query(&self, sql: &str, arg: Option<i64>) -> Result<Vec<CurrentValue>> {
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
        for (id, n, _) in q("SELECT m.run_id, count(*), 0 FROM run_derived_nodes m
             LEFT JOIN score_items a ON a.item_id = m.node_item_id LEFT JOIN score_items b ON b.item_id = m.dp_item_id
             WHERE a.item_id IS NULL OR b.item_id IS NULL OR m.run_id NOT IN (SELECT run_id FROM runs) GROUP BY ALL")? {
            problems.push(format!("{n} derived rows of run {id} name a node or data point that is not kept, or a run that does not exist"));
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
}
