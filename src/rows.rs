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

/// The counts with a row of zeros for every city of `cities` (the registry) in every year
/// some city reported for, where the city sent nothing: a coordinator's "who has not
/// submitted" is those rows. Sorted by city and year.
pub fn with_unsubmitted<'a>(
    mut counts: Vec<StatusCount>,
    cities: impl IntoIterator<Item = &'a str>,
) -> Vec<StatusCount> {
    let years: std::collections::BTreeSet<i32> = counts.iter().map(|c| c.year).collect();
    let seen: std::collections::HashSet<(&str, i32)> =
        counts.iter().map(|c| (c.city.as_str(), c.year)).collect();
    let mut none = Vec::new();
    for city in cities {
        for &year in &years {
            if !seen.contains(&(city, year)) {
                none.push(StatusCount {
                    city: city.to_string(),
                    year,
                    core: 0,
                    advanced: 0,
                    verified: 0,
                    not_reported: 0,
                });
            }
        }
    }
    counts.extend(none);
    counts.sort_by(|a, b| (&a.city, a.year).cmp(&(&b.city, b.year)));
    counts
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

#[cfg(test)]
mod tests {
    use super::*;

    fn count(city: &str, year: i32, core: i64) -> StatusCount {
        StatusCount {
            city: city.into(),
            year,
            core,
            advanced: 0,
            verified: 0,
            not_reported: 0,
        }
    }

    /// A registry city without a submission for a year others reported gets a row of zeros;
    /// years nobody reported are not made up, and a city outside the registry is kept.
    #[test]
    fn a_city_that_sent_nothing_is_listed_for_the_years_others_reported() {
        let got = with_unsubmitted(
            vec![
                count("oslo", 2024, 60),
                count("bergen", 2023, 50),
                count("x", 2023, 1),
            ],
            ["bergen", "oslo", "tromso"],
        );
        let keys: Vec<(&str, i32, i64)> = got
            .iter()
            .map(|c| (c.city.as_str(), c.year, c.core))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("bergen", 2023, 50),
                ("bergen", 2024, 0),
                ("oslo", 2023, 0),
                ("oslo", 2024, 60),
                ("tromso", 2023, 0),
                ("tromso", 2024, 0),
                ("x", 2023, 1),
            ]
        );
        assert!(with_unsubmitted(Vec::new(), ["oslo"]).is_empty());
    }
}
