//! Plain row types that scoring, the store and the exports share: a current value as it is
//! stored, and the export table every output format is written from. No behaviour beyond
//! rendering a cell; the modules that use them depend on this one, not on each other.

use serde::Serialize;

/// One current value, as scoring and status see it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CurrentValue {
    pub city: String,
    pub year: i32,
    pub data_point: String,
    pub value: Option<f64>,
    pub verified: Option<bool>,
    pub quality: Option<String>,
    pub source: Option<String>,
    pub revision_id: i64,
}

/// What one city reported for one year (over the catalog's data points).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCount {
    pub city: String,
    pub year: i32,
    /// core data points with a value
    pub core: i64,
    /// advanced data points with a value
    pub advanced: i64,
    /// values marked verified
    pub verified: i64,
    /// rows saying not reported
    pub not_reported: i64,
}

/// A finding kept with its revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredFinding {
    pub severity: String,
    pub rule: String,
    pub line: Option<i64>,
    pub column: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Num(f64),
    Int(i64),
    Null,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn opt(v: Option<f64>) -> Cell {
        v.map(Cell::Num).unwrap_or(Cell::Null)
    }
    pub fn opt_int<T: Into<i64>>(v: Option<T>) -> Cell {
        v.map(|x| Cell::Int(x.into())).unwrap_or(Cell::Null)
    }
    pub fn opt_text(v: Option<&str>) -> Cell {
        v.map(|s| Cell::Text(s.to_string())).unwrap_or(Cell::Null)
    }
    /// As text for CSV and Markdown; numbers in their shortest exact form.
    pub fn render(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Num(v) => format!("{v}"),
            Cell::Int(v) => v.to_string(),
            Cell::Null => String::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColType {
    Text,
    Num,
    Int,
}

#[derive(Debug, Clone)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColType,
    /// unit or meaning, documented in README
    pub doc: &'static str,
}

#[derive(Debug, Clone)]
pub struct DataTable {
    pub name: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
}

/// Store-independent helper so that Store can take a table without knowing export types.
pub fn duck_columns(t: &DataTable) -> Vec<(&'static str, &'static str)> {
    t.columns
        .iter()
        .map(|c| {
            (
                c.name,
                match c.ty {
                    ColType::Text => "VARCHAR",
                    ColType::Num => "DOUBLE",
                    ColType::Int => "BIGINT",
                },
            )
        })
        .collect()
}
