//! The bulk path of an import, the part that needs no database. A large CSV file is read by
//! DuckDB's own reader into a staging table and validated there in SQL (see
//! `store::stage`); this module decides whether a file is plain enough for that — DuckDB must
//! split it into exactly the cells our reader would — and resolves the few distinct texts of a
//! file (cities, years, codes, units, quality levels, non-numeric values) with the same rules
//! as [`super::validate`]. Whenever a file or a text is anything but plain and valid, the
//! answer is `None` and the import takes the row-by-row path, which locates every problem.

use super::read::{sniff_delimiter, Format, Limits, Table};
use super::validate::{header_columns, looks_like_formula, quality_level, unit_matches, verified};
use super::values::{parse_value, Value};
use crate::catalog::{normalise_part, Catalog};
use crate::registry::{Match, Registry};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// What the scan learnt about a plain CSV file.
#[derive(Debug, Clone)]
pub struct Layout {
    pub delimiter: u8,
    /// The header as our reader sees it, and the known columns by name.
    pub table: Table,
    pub columns: Columns,
}

/// Where each known column is, by index.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    pub city: usize,
    pub year: usize,
    pub kpi: usize,
    pub value: usize,
    pub data_point: Option<usize>,
    pub unit: Option<usize>,
    pub numerator: Option<usize>,
    pub denominator: Option<usize>,
    pub quality: Option<usize>,
    pub origin: Option<usize>,
    pub source: Option<usize>,
    pub verified: Option<usize>,
    pub note: Option<usize>,
}

/// Files smaller than this take the row-by-row path: it is as fast for them and it is the
/// reference that the bulk path is tested against.
pub const BULK_MIN_BYTES: u64 = 2 << 20;

/// A file's layout from its first line: a `.csv`/`.txt`/`.tsv` regular file within the size
/// limit, UTF-8 without a BOM, a header our reader and DuckDB split the same way, with all the
/// required columns and nothing unknown. Row k (0-based) of a plain file is on line k + 2.
pub fn head(path: &Path, limits: &Limits) -> Option<Layout> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    if !meta.is_file() || meta.len() > limits.max_file_bytes {
        return None;
    }
    let ext = path.extension()?.to_str()?.to_lowercase();
    if !matches!(ext.as_str(), "csv" | "txt" | "tsv") {
        return None;
    }
    let mut first = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(1 << 20)
        .read_to_end(&mut first)
        .ok()?;
    if first.starts_with(&[0xEF, 0xBB, 0xBF]) {
        return None;
    }
    let end = first.iter().position(|&b| b == b'\n')?;
    let line = std::str::from_utf8(&first[..end]).ok()?;
    let delimiter = sniff_delimiter(line)?;
    let mut sc = Scanner::new(delimiter, limits.max_field_chars);
    sc.feed(&first[..=end])?;
    let header: Vec<String> = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .from_reader(line.as_bytes())
        .records()
        .next()?
        .ok()?
        .iter()
        .map(|s| s.trim().to_string())
        .collect();
    if Some(header.len()) != sc.fields_per_line {
        return None;
    }
    let table = Table {
        file: path.display().to_string(),
        format: Format::Csv,
        column_labels: (1..=header.len()).map(|i| i.to_string()).collect(),
        header,
        rows: Vec::new(),
        content_hash: String::new(),
    };
    let (col, findings) = header_columns(&table);
    if !findings.is_empty() {
        return None;
    }
    let columns = Columns {
        city: *col.get("city")?,
        year: *col.get("year")?,
        kpi: *col.get("kpi")?,
        value: *col.get("value")?,
        data_point: col.get("data_point").copied(),
        unit: col.get("unit").copied(),
        numerator: col.get("numerator").copied(),
        denominator: col.get("denominator").copied(),
        quality: col.get("quality").copied(),
        origin: col.get("origin").copied(),
        source: col.get("source").copied(),
        verified: col.get("verified").copied(),
        note: col.get("note").copied(),
    };
    Some(Layout {
        delimiter,
        table,
        columns,
    })
}

/// Read the whole file once for a layout from [`head`]: its data rows and content hash, or
/// `None` unless every line is plain — valid UTF-8, LF line ends, no blank line, the header's
/// number of fields, quotes only around whole fields and never around a line break, no field
/// longer than `max_field_chars` bytes, at most `max_rows` rows.
pub fn scan(path: &Path, layout: &Layout, limits: &Limits) -> Option<(usize, String)> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut carry: Vec<u8> = Vec::new();
    let mut sc = Scanner::new(layout.delimiter, limits.max_field_chars);
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        let chunk = &buf[..n];
        hasher.update(chunk);
        // UTF-8, with a sequence cut at the chunk's end carried over
        carry.extend_from_slice(chunk);
        let valid = match std::str::from_utf8(&carry) {
            Ok(_) => carry.len(),
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => return None,
        };
        sc.feed(&carry[..valid])?;
        carry.drain(..valid);
    }
    if !carry.is_empty() {
        return None;
    }
    sc.finish()?;
    if sc.fields_per_line != Some(layout.table.header.len()) {
        return None;
    }
    let rows = sc.lines.checked_sub(1)?;
    if rows == 0 || rows > limits.max_rows {
        return None;
    }
    let hash: String = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Some((rows, hash))
}

/// A byte-level CSV state machine that accepts only what both readers split the same way.
struct Scanner {
    delimiter: u8,
    /// the bytes that end a run of ordinary ones: delimiter, quote, CR, LF
    special: [bool; 256],
    max_field: usize,
    in_quotes: bool,
    /// a closing quote was just seen: the next byte must end the field or double the quote
    after_close: bool,
    field_start: bool,
    field_len: usize,
    fields: usize,
    line_len: usize,
    lines: usize,
    fields_per_line: Option<usize>,
}

impl Scanner {
    fn new(delimiter: u8, max_field: usize) -> Scanner {
        let mut special = [false; 256];
        for b in [delimiter, b'"', b'\n', b'\r'] {
            special[b as usize] = true;
        }
        Scanner {
            special,
            delimiter,
            max_field,
            in_quotes: false,
            after_close: false,
            field_start: true,
            field_len: 0,
            fields: 0,
            line_len: 0,
            lines: 0,
            fields_per_line: None,
        }
    }

    fn feed(&mut self, bytes: &[u8]) -> Option<()> {
        let mut i = 0;
        while i < bytes.len() {
            // a run of ordinary bytes at once
            let start = i;
            while i < bytes.len() && !self.special[bytes[i] as usize] {
                i += 1;
            }
            if i > start {
                if self.after_close {
                    return None;
                }
                if !self.in_quotes {
                    self.field_start = false;
                }
                self.field_len += i - start;
                self.line_len += i - start;
            }
            let Some(&b) = bytes.get(i) else { break };
            i += 1;
            if b == b'\r' {
                return None;
            }
            if self.in_quotes {
                if b == b'"' {
                    self.in_quotes = false;
                    self.after_close = true;
                } else if b == b'\n' {
                    return None;
                } else {
                    self.field_len += 1;
                }
                self.line_len += 1;
                continue;
            }
            if b == b'\n' {
                self.end_line()?;
                continue;
            }
            self.line_len += 1;
            if b == self.delimiter {
                self.end_field()?;
            } else if self.after_close {
                // a doubled quote inside a quoted field
                self.in_quotes = true;
                self.after_close = false;
                self.field_len += 1;
            } else if self.field_start {
                self.in_quotes = true;
                self.field_start = false;
            } else {
                return None;
            }
        }
        Some(())
    }

    fn end_field(&mut self) -> Option<()> {
        if self.field_len > self.max_field {
            return None;
        }
        self.fields += 1;
        self.field_start = true;
        self.after_close = false;
        self.field_len = 0;
        Some(())
    }

    fn end_line(&mut self) -> Option<()> {
        if self.line_len == 0 {
            return None; // a blank line
        }
        self.end_field()?;
        match self.fields_per_line {
            None => self.fields_per_line = Some(self.fields),
            Some(n) if n == self.fields => {}
            Some(_) => return None,
        }
        self.lines += 1;
        self.fields = 0;
        self.line_len = 0;
        Some(())
    }

    fn finish(&mut self) -> Option<()> {
        if self.in_quotes {
            return None;
        }
        if self.line_len > 0 {
            self.end_line()?;
        }
        Some(())
    }
}

/// One distinct (city, year) pair of a file, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct CityYear {
    pub city_text: String,
    pub year_text: String,
    pub slug: String,
    pub year: i32,
    /// the warning when the city was named by its number before the 2024 reform
    pub former: Option<String>,
}

fn plain(raw: &str) -> Option<&str> {
    (!looks_like_formula(raw)).then(|| raw.trim())
}

/// Resolve the distinct (city, year) texts; `None` if any is wrong.
pub fn resolve_cities(
    pairs: &[(String, String)],
    registry: &Registry,
    min_year: i32,
    max_year: i32,
) -> Option<Vec<CityYear>> {
    pairs
        .iter()
        .map(|(c, y)| {
            let year = plain(y)?.parse::<i32>().ok()?;
            if !(min_year..=max_year).contains(&year) {
                return None;
            }
            let text = plain(c)?;
            let (city, m) = registry.resolve(text, Some(year))?;
            Some(CityYear {
                city_text: c.clone(),
                year_text: y.clone(),
                slug: city.slug.clone(),
                year,
                former: (m == Match::FormerNumber)
                    .then(|| super::validate::former_number_message(text, city)),
            })
        })
        .collect()
}

/// Resolve the distinct (kpi, data_point) texts to data-point ids; `None` if any is wrong.
pub fn resolve_codes(
    pairs: &[(String, String)],
    catalog: &Catalog,
) -> Option<Vec<(String, String, String)>> {
    let mut by_code: HashMap<&str, Vec<&crate::catalog::DataPoint>> = HashMap::new();
    pairs
        .iter()
        .map(|(k, p)| {
            let code = plain(k)?;
            let part = normalise_part(plain(p)?);
            let candidates = by_code.entry(code).or_insert_with(|| catalog.by_code(code));
            let dp = candidates
                .iter()
                .find(|d| normalise_part(&d.part) == part)?;
            Some((k.clone(), p.clone(), dp.id.clone()))
        })
        .collect()
}

/// Resolve the distinct (data point, unit) texts to the unit stored; `None` if a unit does
/// not match its data point.
pub fn resolve_units(
    pairs: &[(String, String)],
    catalog: &Catalog,
) -> Option<Vec<(String, String, Option<String>)>> {
    pairs
        .iter()
        .map(|(id, u)| {
            let dp = catalog.get(id)?;
            let unit = plain(u)?;
            if !unit.is_empty() && !unit_matches(unit, dp) {
                return None;
            }
            Some((
                id.clone(),
                u.clone(),
                (!unit.is_empty()).then(|| unit.to_string()),
            ))
        })
        .collect()
}

/// Resolve the distinct (data point, value) texts that are not plain decimals; `None` if
/// any is not a valid value.
pub fn resolve_values(
    pairs: &[(String, String)],
    catalog: &Catalog,
) -> Option<Vec<(String, String, Option<f64>)>> {
    pairs
        .iter()
        .map(|(id, v)| {
            let dp = catalog.get(id)?;
            let value = match parse_value(plain(v)?, dp.unit_kind, &dp.unit).ok()? {
                Value::Number(x) => Some(x),
                Value::NotReported => None,
            };
            Some((id.clone(), v.clone(), value))
        })
        .collect()
}

/// Resolve the distinct quality texts to the level stored.
pub fn resolve_quality(texts: &[String]) -> Option<Vec<(String, Option<String>)>> {
    texts
        .iter()
        .map(|t| {
            let q = plain(t)?;
            let level = if q.is_empty() {
                None
            } else {
                Some(quality_level(q)?.to_string())
            };
            Some((t.clone(), level))
        })
        .collect()
}

/// Resolve the distinct `verified` texts.
pub fn resolve_verified(texts: &[String]) -> Option<Vec<(String, Option<bool>)>> {
    texts
        .iter()
        .map(|t| {
            let v = plain(t)?;
            let b = if v.is_empty() {
                None
            } else {
                Some(verified(v)?)
            };
            Some((t.clone(), b))
        })
        .collect()
}

/// Whether the distinct texts of a free-text column (origin, source, note) can be stored as
/// written: no formula, nothing the row-by-row path would trim.
pub fn free_text_is_plain(texts: &[String]) -> bool {
    texts
        .iter()
        .all(|t| !looks_like_formula(t) && t.trim() == t)
}
