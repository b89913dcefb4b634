//! Parquet written and read by DuckDB's own writer and reader, and the size of an export.

use super::*;

impl Store {
    /// Write an export table as Parquet, with `metadata` as the file's key-value metadata
    /// (run, method hash, input revisions: a file handed on says where it came from).
    pub fn write_parquet(
        &self,
        t: &crate::rows::DataTable,
        path: &Path,
        metadata: &[(&str, String)],
    ) -> Result<()> {
        self.write_parquet_by(t, path, metadata, None)
    }

    /// The same, split into Hive-style folders by the column `partition`.
    pub fn write_parquet_by(
        &self,
        t: &crate::rows::DataTable,
        path: &Path,
        metadata: &[(&str, String)],
        partition: Option<&str>,
    ) -> Result<()> {
        self.parquet_begin(t)?;
        self.parquet_append(t)?;
        self.parquet_finish_by(t.name, path, metadata, partition)
    }

    /// Start a Parquet file for an export table (its columns; rows follow by
    /// [`Store::parquet_append`]): a temporary table of this connection, which DuckDB spills
    /// to disk past the memory limit. Table and column names are the program's own constants.
    pub fn parquet_begin(&self, t: &crate::rows::DataTable) -> Result<()> {
        let cols = crate::rows::duck_columns(t);
        if !ident_ok(t.name) || !cols.iter().all(|(n, _)| ident_ok(n)) {
            return Err(Error::Invalid(format!(
                "export table '{}' has a name DuckDB cannot take",
                t.name
            )));
        }
        let defs: Vec<String> = cols.iter().map(|(n, ty)| format!("\"{n}\" {ty}")).collect();
        self.conn
            .execute_batch(&format!(
                "CREATE OR REPLACE TEMP TABLE export_{} ({})",
                t.name,
                defs.join(", ")
            ))
            .map_err(|e| self.err(e))
    }

    /// Append a table's rows to its Parquet file begun with [`Store::parquet_begin`], as one
    /// Arrow batch a column at a time (DuckDB's data-chunk appender).
    pub fn parquet_append(&self, t: &crate::rows::DataTable) -> Result<()> {
        use crate::rows::{Cell, ColType};
        use duckdb::arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
        if !ident_ok(t.name) {
            return Err(Error::Invalid(format!(
                "export table '{}' has a name DuckDB cannot take",
                t.name
            )));
        }
        if t.rows.is_empty() {
            return Ok(());
        }
        let cols: Vec<ArrayRef> = t
            .columns
            .iter()
            .enumerate()
            .map(|(j, c)| -> ArrayRef {
                let cells = t.rows.iter().map(move |r| r.get(j).unwrap_or(&Cell::Null));
                match c.ty {
                    ColType::Text => {
                        // text is borrowed, not copied: only a number in a text column is
                        // rendered
                        std::sync::Arc::new(StringArray::from_iter(cells.map(|x| match x {
                            Cell::Null => None,
                            Cell::Text(s) => Some(std::borrow::Cow::Borrowed(s.as_str())),
                            other => Some(std::borrow::Cow::Owned(other.render())),
                        })))
                    }
                    ColType::Num => {
                        std::sync::Arc::new(Float64Array::from_iter(cells.map(|x| match x {
                            Cell::Num(v) => Some(*v),
                            Cell::Int(i) => Some(*i as f64),
                            Cell::Text(s) => s.parse().ok(),
                            Cell::Null => None,
                        })))
                    }
                    ColType::Int => {
                        std::sync::Arc::new(Int64Array::from_iter(cells.map(|x| match x {
                            Cell::Int(i) => Some(*i),
                            Cell::Num(v) => Some(v.round() as i64),
                            Cell::Text(s) => s.parse().ok(),
                            Cell::Null => None,
                        })))
                    }
                }
            })
            .collect();
        let mut app = self
            .conn
            .appender(&format!("export_{}", t.name))
            .map_err(|e| self.err(e))?;
        super::runs::append_batch(&mut app, cols).map_err(|e| self.err(e))?;
        app.flush().map_err(|e| self.err(e))
    }

    /// Write the rows appended since [`Store::parquet_begin`] to `path` (through a temporary
    /// file beside it, renamed when complete) with DuckDB's own writer; the output path is
    /// checked and quoted.
    pub fn parquet_finish(
        &self,
        name: &str,
        path: &Path,
        metadata: &[(&str, String)],
    ) -> Result<()> {
        self.parquet_finish_by(name, path, metadata, None)
    }

    /// The same, with `partition` the column whose values split the rows into Hive-style
    /// folders (`path/year=2024/data_0.parquet`), which DuckDB, Spark, Trino and Polars read
    /// back as one table; `path` is then a folder, written beside and renamed when complete.
    pub fn parquet_finish_by(
        &self,
        name: &str,
        path: &Path,
        metadata: &[(&str, String)],
        partition: Option<&str>,
    ) -> Result<()> {
        if !ident_ok(name) {
            return Err(Error::Invalid(format!(
                "export table '{name}' has a name DuckDB cannot take"
            )));
        }
        let table = format!("export_{name}");
        self.copy_parquet(&table, path, metadata, partition)?;
        self.conn
            .execute_batch(&format!("DROP TABLE {table};"))
            .map_err(|e| self.err(e))
    }

    /// `COPY source TO path` as Parquet, `source` a table or a parenthesised query of the
    /// program's own: through a temporary file (or folder) beside `path`, renamed when
    /// complete; the output path is checked and quoted.
    pub(super) fn copy_parquet(
        &self,
        source: &str,
        path: &Path,
        metadata: &[(&str, String)],
        partition: Option<&str>,
    ) -> Result<()> {
        let p = sql_path(path)?;
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
        let by = match partition {
            Some(col) if ident_ok(col) => format!(", PARTITION_BY (\"{col}\")"),
            Some(col) => {
                return Err(Error::Invalid(format!(
                    "'{col}' is not a column DuckDB can partition by"
                )))
            }
            None => String::new(),
        };
        if partition.is_some() {
            // a folder of an earlier export of the same name is replaced, never mixed in
            let _ = std::fs::remove_dir_all(&tmp);
        }
        self.gated(|| {
            self.conn
                .execute_batch(&format!(
                    "COPY {source} TO '{tmp}' (FORMAT parquet{by}{kv});"
                ))
                .map_err(|e| self.err(e))
        })?;
        if partition.is_some() && path.exists() {
            std::fs::remove_dir_all(path).map_err(|source| Error::Write {
                path: path.to_path_buf(),
                source,
            })?;
        }
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

    /// The columns of a Parquet file and their DuckDB types (for checks and tests).
    pub fn parquet_columns(&self, path: &Path) -> Result<Vec<(String, String)>> {
        let p = path.display().to_string();
        self.all(
            "SELECT name, type FROM parquet_schema(?) WHERE num_children IS NULL",
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
}

/// A table or column name DuckDB takes without quoting trouble: the program's own constants.
/// A path as it can stand in a SQL string literal of a `COPY`: refused if it holds a quote
/// (or a NUL), which would end the literal.
pub(super) fn sql_path(path: &Path) -> Result<String> {
    let p = path.display().to_string();
    if p.contains('\'') || p.contains('\0') {
        return Err(Error::Usage(format!(
            "the output path {p} contains a quote; choose another --out"
        )));
    }
    Ok(p)
}

pub(super) fn ident_ok(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}
