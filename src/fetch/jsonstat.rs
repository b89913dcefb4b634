//! JSON-stat 2.0 datasets as Statistics Norway returns them, with our own serde types.
//! Dimension order comes from `id`/`size`, category positions from `index` (object or array),
//! values are row-major; `status` symbols (`.`, `..`, `:`, `...`, `-`) are kept as missing with
//! the symbol, never turned into 0.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Index {
    Map(BTreeMap<String, usize>),
    List(Vec<String>),
}

#[derive(Debug, Deserialize)]
struct Category {
    index: Option<Index>,
    #[serde(default)]
    label: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct Dimension {
    #[serde(default)]
    label: Option<String>,
    category: Category,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Values {
    Dense(Vec<Option<f64>>),
    Sparse(BTreeMap<String, Option<f64>>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Status {
    One(String),
    List(Vec<Option<String>>),
    Map(BTreeMap<String, String>),
}

#[derive(Debug, Deserialize)]
struct Raw {
    version: Option<String>,
    class: Option<String>,
    id: Vec<String>,
    size: Vec<usize>,
    dimension: BTreeMap<String, Dimension>,
    value: Values,
    status: Option<Status>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Dim {
    pub id: String,
    pub label: Option<String>,
    /// category codes by position
    pub codes: Vec<String>,
    pub labels: Vec<Option<String>>,
}

/// One cell: a value, or missing with SSB's status symbol.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub value: Option<f64>,
    pub status: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Cube {
    pub dims: Vec<Dim>,
    pub values: Vec<Option<f64>>,
    pub status: Vec<Option<String>>,
}

impl Cube {
    /// Parse a JSON-stat 2.0 dataset of at most `max_cells` cells. Errors say what is wrong
    /// in words. Nothing is allocated from a declared size before the size is checked: against
    /// `max_cells`, and each dimension's against the categories the answer really lists.
    pub fn parse(body: &str, max_cells: usize) -> Result<Cube, String> {
        let trimmed = body.trim_start();
        if !trimmed.starts_with('{') {
            let start: String = trimmed.chars().take(40).collect();
            return Err(format!("the answer is not JSON-stat (it starts with {start:?}); the server may have sent PX or an error page"));
        }
        let raw: Raw = serde_json::from_str(body)
            .map_err(|e| format!("the JSON-stat answer cannot be read: {e}"))?;
        if raw.class.as_deref().is_some_and(|c| c != "dataset") {
            return Err(format!(
                "JSON-stat class is {:?}, not \"dataset\"",
                raw.class
            ));
        }
        if raw.version.as_deref().is_some_and(|v| !v.starts_with('2')) {
            return Err(format!("JSON-stat version {:?} is not 2.0", raw.version));
        }
        if raw.id.len() != raw.size.len() {
            return Err(format!(
                "'id' has {} dimensions but 'size' has {}",
                raw.id.len(),
                raw.size.len()
            ));
        }
        let n = raw
            .size
            .iter()
            .try_fold(1usize, |acc, &s| acc.checked_mul(s))
            .filter(|&n| n <= max_cells)
            .ok_or_else(|| {
                format!(
                    "the answer declares a cube of size {:?}, more than the {max_cells} cells a request asks for (--max-cells); it is not trusted",
                    raw.size
                )
            })?;
        let mut dims = Vec::new();
        for (id, &size) in raw.id.iter().zip(&raw.size) {
            let d = raw
                .dimension
                .get(id)
                .ok_or_else(|| format!("dimension '{id}' is listed in 'id' but not described"))?;
            let listed = match &d.category.index {
                Some(Index::Map(m)) => m.len(),
                Some(Index::List(l)) => l.len(),
                None => d.category.label.len(),
            };
            if listed != size {
                return Err(format!(
                    "dimension '{id}' declares size {size} but lists {listed} categories"
                ));
            }
            let mut codes = vec![String::new(); size];
            match &d.category.index {
                Some(Index::Map(m)) => {
                    for (code, &pos) in m {
                        if pos >= size {
                            return Err(format!("dimension '{id}': category '{code}' has position {pos}, but the size is {size}"));
                        }
                        codes[pos] = code.clone();
                    }
                }
                Some(Index::List(l)) => {
                    if l.len() != size {
                        return Err(format!(
                            "dimension '{id}': {} categories for size {size}",
                            l.len()
                        ));
                    }
                    codes = l.clone();
                }
                None => {
                    // a single category may be given by its label alone
                    if size == 1 && d.category.label.len() == 1 {
                        codes[0] = d.category.label.keys().next().cloned().unwrap_or_default();
                    } else {
                        return Err(format!("dimension '{id}' has no category index"));
                    }
                }
            }
            if codes.iter().any(String::is_empty) {
                return Err(format!("dimension '{id}': some positions have no category"));
            }
            let labels = codes
                .iter()
                .map(|c| d.category.label.get(c).cloned())
                .collect();
            dims.push(Dim {
                id: id.clone(),
                label: d.label.clone(),
                codes,
                labels,
            });
        }
        let values = match raw.value {
            Values::Dense(v) => {
                if v.len() != n {
                    return Err(format!(
                        "{} values for {n} cells (size {:?}); the answer may be truncated",
                        v.len(),
                        raw.size
                    ));
                }
                v
            }
            Values::Sparse(m) => {
                let mut v = vec![None; n];
                for (k, x) in m {
                    let i: usize = k
                        .parse()
                        .map_err(|_| format!("value key '{k}' is not a cell number"))?;
                    if i >= n {
                        return Err(format!("value key {i} is outside the {n} cells"));
                    }
                    v[i] = x;
                }
                v
            }
        };
        let mut status = vec![None; n];
        match raw.status {
            None => {}
            Some(Status::One(s)) => status = vec![Some(s); n],
            Some(Status::List(l)) => {
                for (i, s) in l.into_iter().enumerate().take(n) {
                    status[i] = s;
                }
            }
            Some(Status::Map(m)) => {
                for (k, s) in m {
                    let i: usize = k
                        .parse()
                        .map_err(|_| format!("status key '{k}' is not a cell number"))?;
                    if i < n {
                        status[i] = Some(s);
                    }
                }
            }
        }
        Ok(Cube {
            dims,
            values,
            status,
        })
    }

    pub fn dim(&self, id: &str) -> Option<&Dim> {
        self.dims.iter().find(|d| d.id == id)
    }

    /// The cell at the given category codes, one per dimension, by dimension id. Dimensions
    /// not named must have a single category (eliminated ones are absent altogether).
    pub fn get(&self, at: &[(&str, &str)]) -> Option<Cell> {
        let mut flat = 0usize;
        for d in &self.dims {
            let pos = match at.iter().find(|(id, _)| *id == d.id) {
                Some((_, code)) => d.codes.iter().position(|c| c == code)?,
                None if d.codes.len() == 1 => 0,
                None => return None,
            };
            flat = flat * d.codes.len() + pos;
        }
        Some(Cell {
            value: self.values.get(flat).copied().flatten(),
            status: self.status.get(flat).cloned().flatten(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 800_000;

    /// The example reply of ssb_api.md §5.2 (constructed from the documented structure).
    pub const EXAMPLE: &str = r#"{"version": "2.0", "class": "dataset",
 "label": "07459: Befolkning, etter region, statistikkvariabel og år",
 "source": "Statistisk sentralbyrå", "updated": "2026-02-25T07:00:00Z",
 "role": {"time": ["Tid"], "metric": ["ContentsCode"], "geo": ["Region"]},
 "id": ["Region", "ContentsCode", "Tid"], "size": [2, 1, 2],
 "dimension": {
  "Region": {"label": "region", "category": {"index": {"0301": 0, "3005": 1}, "label": {"0301": "Oslo - Oslove", "3005": "Drammen (2020-2023)"}}},
  "ContentsCode": {"label": "statistikkvariabel", "category": {"index": {"Personer1": 0}, "label": {"Personer1": "Personer"}, "unit": {"Personer1": {"base": "antall", "decimals": 0}}}},
  "Tid": {"label": "år", "category": {"index": {"2025": 0, "2026": 1}, "label": {"2025": "2025", "2026": "2026"}}}},
 "value": [724290, 728714, null, null],
 "status": {"2": ".", "3": "."}}"#;

    #[test]
    fn reads_the_documented_example_row_major() {
        let c = Cube::parse(EXAMPLE, MAX).unwrap();
        assert_eq!(c.dims.len(), 3);
        assert_eq!(
            c.get(&[("Region", "0301"), ("Tid", "2026")]).unwrap().value,
            Some(728714.0)
        );
        let drammen = c.get(&[("Region", "3005"), ("Tid", "2025")]).unwrap();
        assert_eq!(
            drammen,
            Cell {
                value: None,
                status: Some(".".into())
            }
        );
        assert_eq!(
            c.dim("Region").unwrap().labels[0].as_deref(),
            Some("Oslo - Oslove")
        );
    }

    #[test]
    fn index_positions_need_not_follow_key_order_and_may_be_an_array() {
        let body = r#"{"version":"2.0","class":"dataset","id":["A","B"],"size":[3,1],
          "dimension":{"A":{"category":{"index":{"0":0,"1":2,"2":1}}},"B":{"category":{"index":["x"]}}},
          "value":[10,20,30]}"#;
        let c = Cube::parse(body, MAX).unwrap();
        assert_eq!(c.dim("A").unwrap().codes, vec!["0", "2", "1"]);
        assert_eq!(c.get(&[("A", "1")]).unwrap().value, Some(30.0));
        assert_eq!(c.get(&[("A", "2"), ("B", "x")]).unwrap().value, Some(20.0));
    }

    #[test]
    fn sparse_values_and_status_forms() {
        let body = r#"{"version":"2.0","class":"dataset","id":["A"],"size":[3],
          "dimension":{"A":{"category":{"index":["a","b","c"]}}},
          "value":{"0":1.5,"2":null},"status":["","..",":"]}"#;
        let c = Cube::parse(body, MAX).unwrap();
        assert_eq!(c.get(&[("A", "a")]).unwrap().value, Some(1.5));
        assert_eq!(
            c.get(&[("A", "b")]).unwrap(),
            Cell {
                value: None,
                status: Some("..".into())
            }
        );
        assert_eq!(c.get(&[("A", "c")]).unwrap().status.as_deref(), Some(":"));
    }

    #[test]
    fn rejects_px_truncation_and_bad_positions() {
        assert!(Cube::parse("TITLE=\"07459\";\nDATA=1 2 3;", MAX)
            .unwrap_err()
            .contains("not JSON-stat"));
        let truncated = EXAMPLE.replace("[724290, 728714, null, null]", "[724290, 728714]");
        assert!(Cube::parse(&truncated, MAX)
            .unwrap_err()
            .contains("truncated"));
        let cut = &EXAMPLE[..EXAMPLE.len() / 2];
        assert!(Cube::parse(cut, MAX)
            .unwrap_err()
            .contains("cannot be read"));
        let bad = EXAMPLE.replace("\"3005\": 1}", "\"3005\": 7}");
        assert!(Cube::parse(&bad, MAX).unwrap_err().contains("position 7"));
    }

    /// A 200-byte answer that declares a huge cube is refused before anything is allocated
    /// (these sizes once took 20 GB, aborted the process, or panicked on capacity overflow).
    #[test]
    fn a_declared_size_is_checked_before_it_is_allocated() {
        for size in [
            "[1000000000, 1, 1]",
            "[100000000000, 1, 1]",
            "[4294967296, 4294967296, 1]",
            "[18446744073709551615, 2, 1]",
        ] {
            let body = format!(
                r#"{{"version":"2.0","class":"dataset","id":["A","B","C"],"size":{size},
                "dimension":{{"A":{{"category":{{"index":["a"]}}}},"B":{{"category":{{"index":["b"]}}}},"C":{{"category":{{"index":["c"]}}}}}},
                "value":[1]}}"#
            );
            let e = Cube::parse(&body, MAX).unwrap_err();
            assert!(e.contains("not trusted"), "{size}: {e}");
        }
        // within the cell limit, but more positions than categories listed
        let lying = r#"{"version":"2.0","class":"dataset","id":["A","B"],"size":[700000,0],
            "dimension":{"A":{"category":{"index":["a"]}},"B":{"category":{"index":[]}}},"value":[]}"#;
        let e = Cube::parse(lying, MAX).unwrap_err();
        assert!(e.contains("declares size 700000 but lists 1"), "{e}");
        // a smaller --max-cells is honoured
        assert!(Cube::parse(EXAMPLE, 3).unwrap_err().contains("not trusted"));
        assert!(Cube::parse(EXAMPLE, 4).is_ok());
    }
}
