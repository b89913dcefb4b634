//! The floors the benchmarks measure u4ssc against: DuckDB's own reading of a file and
//! inserting of score rows, with nothing of u4ssc around them. Not used by any command.

use super::*;

impl Store {
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

    /// DuckDB's own `COPY … TO` of a run's rows (current values, data-point and node scores,
    /// trends) as CSV and Parquet files in `dir`: the floor a full export is measured against.
    /// Returns the rows copied.
    pub fn copy_floor(&self, run: i64, dir: &Path) -> Result<i64> {
        let d = dir.display().to_string();
        if d.contains('\'') || d.contains('\0') {
            return Err(Error::Usage(format!("{d}: a quote in the folder name")));
        }
        let mut rows = 0;
        for (name, query) in [
            ("values", "SELECT * FROM current_observations".to_string()),
            (
                "dp",
                format!("SELECT * FROM dp_scores WHERE run_id = {run}"),
            ),
            (
                "nodes",
                format!("SELECT * FROM node_scores WHERE run_id = {run}"),
            ),
            (
                "trends",
                format!("SELECT * FROM trends WHERE run_id = {run}"),
            ),
        ] {
            for format in ["csv", "parquet"] {
                self.conn
                    .execute_batch(&format!(
                        "COPY ({query}) TO '{d}/floor_{name}.{format}' (FORMAT {format})"
                    ))
                    .map_err(|e| self.err(e))?;
            }
            rows += self
                .conn
                .query_row(&format!("SELECT count(*) FROM ({query})"), [], |r| {
                    r.get::<_, i64>(0)
                })
                .map_err(|e| self.err(e))?;
        }
        Ok(rows)
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
