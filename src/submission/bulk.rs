//! The bulk path of an import, the part that needs no database. A large CSV file is surveyed
//! once, in two parts on two threads: every line must be plain — DuckDB, which then reads the
//! file itself to insert it (see `store::stage`), must split it into exactly the cells our
//! reader would — the few distinct texts of the file (cities, years, codes, units, quality
//! levels, non-numeric values) are resolved with the same rules as [`super::validate`] the
//! first time each is seen, and every row's rules (duplicates, limits, plausible ranges, free
//! text, core data points) are checked. Whenever a file or a text is anything but plain and
//! valid, the answer is `None` and the import takes the row-by-row path, which locates every
//! problem.

use super::read::{sniff_delimiter, Format, Limits, Table};
use super::validate::{header_columns, looks_like_formula, quality_level, unit_matches, verified};
use super::values::{parse_value, Value};
use crate::catalog::{normalise_part, Catalog};
use crate::registry::{Match, Registry};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

mod rows;
use rows::RowState;
pub use rows::{city_year_of, lines_of, Wanted};

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

/// Files smaller than this take the row-by-row path: it is as fast for them (measured: the
/// two paths cross between 400 KB and 1.2 MB) and it is the reference that the bulk path is
/// tested against.
pub const BULK_MIN_BYTES: u64 = 512 << 10;

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
    let mut fields = Vec::new();
    split_line(
        &first[..end],
        delimiter,
        limits.max_field_chars,
        &mut fields,
    )?;
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
    if header.len() != fields.len() {
        return None;
    }
    let table = Table {
        file: path.display().to_string(),
        format: Format::Csv,
        column_labels: (1..=header.len()).map(|i| i.to_string()).collect(),
        header,
        rows: Vec::new(),
        template: None,
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

/// One field of a line: its content's byte range, and whether it has doubled quotes.
#[derive(Clone, Copy, Default)]
struct Field {
    start: usize,
    end: usize,
    escaped: bool,
}

/// Split one line (without its line feed) into fields as both readers split it, or `None`
/// unless it is plain: not blank, no carriage return, quotes only around whole fields (a
/// quote inside one doubled), no field longer than `max_field` bytes.
fn split_line(line: &[u8], delimiter: u8, max_field: usize, out: &mut Vec<Field>) -> Option<()> {
    out.clear();
    if line.is_empty() {
        return None;
    }
    let n = line.len();
    let mut i = 0;
    loop {
        let field = if line.get(i) == Some(&b'"') {
            let start = i + 1;
            let mut j = start;
            let mut escaped = false;
            let mut len = 0;
            let end = loop {
                let q = j + line
                    .get(j..)?
                    .iter()
                    .position(|&b| b == b'"' || b == b'\r')?;
                if line[q] == b'\r' {
                    return None;
                }
                len += q - j;
                if line.get(q + 1) == Some(&b'"') {
                    escaped = true;
                    len += 1;
                    j = q + 2;
                } else {
                    break q;
                }
            };
            i = end + 1;
            if i < n && line[i] != delimiter {
                return None; // something after the closing quote
            }
            if len > max_field {
                return None;
            }
            Field {
                start,
                end,
                escaped,
            }
        } else {
            let start = i;
            while i < n && line[i] != delimiter {
                if line[i] == b'"' || line[i] == b'\r' {
                    return None;
                }
                i += 1;
            }
            if i - start > max_field {
                return None;
            }
            Field {
                start,
                end: i,
                escaped: false,
            }
        };
        out.push(field);
        if i >= n {
            return Some(());
        }
        i += 1; // the delimiter; a line ending in one has an empty last field
        if i == n {
            out.push(Field {
                start: i,
                end: i,
                escaped: false,
            });
            return Some(());
        }
    }
}

/// The text of a column's field, with doubled quotes undone (empty for a column the file
/// does not have). Fields start and end at ASCII bytes, so they are whole characters.
fn cell<'l>(line: &'l str, fields: &[Field], column: Option<usize>) -> Cow<'l, str> {
    let Some(f) = column.and_then(|c| fields.get(c)) else {
        return Cow::Borrowed("");
    };
    let raw = line.get(f.start..f.end).unwrap_or_default();
    if f.escaped {
        Cow::Owned(raw.replace("\"\"", "\""))
    } else {
        Cow::Borrowed(raw)
    }
}

/// A plain decimal as the database reads it itself: `-?[0-9]{1,100}(\.[0-9]+)?` (at most
/// 100 integer digits: below 1e100, the largest magnitude the row path accepts).
fn is_plain_decimal(t: &[u8]) -> bool {
    let digits = |s: &[u8]| !s.is_empty() && s.iter().all(u8::is_ascii_digit);
    let t = t.strip_prefix(b"-").unwrap_or(t);
    let (int, frac) = match t.iter().position(|&b| b == b'.') {
        Some(p) => (&t[..p], Some(&t[p + 1..])),
        None => (t, None),
    };
    digits(int) && int.len() <= 100 && frac.is_none_or(digits)
}

/// A fast hash for the short byte keys of the survey's maps.
#[derive(Default, Clone, Copy)]
struct Fx(u64);

impl std::hash::Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        for c in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..c.len()].copy_from_slice(c);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(w))
                .wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<Fx>>;

/// A warning the survey found, by line.
#[derive(Debug, Clone, PartialEq)]
pub enum RowWarning {
    /// the city was named by a former municipality number
    Former { line: usize, message: String },
    /// a value outside its data point's plausible range (of this city and year)
    Implausible {
        line: usize,
        dp: usize,
        value: f64,
        city: String,
        year: i32,
    },
}

impl RowWarning {
    /// The line the warning is on.
    pub fn line(&self) -> usize {
        match self {
            RowWarning::Former { line, .. } | RowWarning::Implausible { line, .. } => *line,
        }
    }
    fn shift(&mut self, by: usize) {
        match self {
            RowWarning::Former { line, .. } | RowWarning::Implausible { line, .. } => *line += by,
        }
    }
}

/// One distinct (kpi, data point, unit, quality, verified) text combination, resolved.
#[derive(Debug, Clone)]
pub struct Combo {
    pub texts: [String; 5],
    pub dp: String,
    pub unit: Option<String>,
    pub quality: Option<String>,
    pub verified: Option<bool>,
}

/// Everything the bulk path needs to know about a plain file but its rows, from one pass
/// over it in two parts on two threads: the distinct texts resolved, every per-row rule
/// checked, the warnings located.
#[derive(Debug)]
pub struct Survey {
    pub rows: usize,
    /// data rows in the first part: the database reads the file in the same two parts
    pub first_rows: usize,
    pub cities: Vec<CityYear>,
    pub combos: Vec<Combo>,
    /// (data point, value text, value) of every value that is not a plain decimal
    pub values: Vec<(String, String, Option<f64>)>,
    pub warnings: Vec<RowWarning>,
    /// (city, year, core data point) without a row, by city and year
    pub missing_core: Vec<(String, i32, String)>,
    /// In a collecting survey: the rows it could not vouch for, as (line, city text, year
    /// text), and the (city, year) pairs given a data point twice across the file's parts.
    /// The caller checks every row of their cities and years row by row.
    pub doubts: Vec<(usize, String, String)>,
    pub conflicts: Vec<(String, i32)>,
}

/// What one part of the file gathered.
#[derive(Default)]
struct Part {
    /// lines read, the header included in the first part
    lines: usize,
    rows: usize,
    city_ix: FxMap<Box<[u8]>, usize>,
    /// each (city, year) text pair resolved, with the data points its rows gave
    cities: Vec<(CityYear, Vec<u64>)>,
    combo_ix: FxMap<Box<[u8]>, usize>,
    /// each combination resolved, with its data point's index in the catalog
    combos: Vec<(Combo, usize)>,
    values: FxMap<(usize, Box<[u8]>), Option<f64>>,
    warnings: Vec<RowWarning>,
    /// rows not vouched for, in a collecting survey: (row index in the part, city, year)
    doubts: Vec<(usize, String, String)>,
}

struct SurveyCtx<'a> {
    layout: &'a Layout,
    limits: &'a Limits,
    catalog: &'a Catalog,
    registry: &'a Registry,
    years: super::validate::Years,
    dp_ix: HashMap<&'a str, usize>,
    words: usize,
    /// collect the rows it cannot vouch for (up to this many) instead of giving up
    collect: usize,
}

/// Survey a plain file with a layout from [`head`]; `None` unless every line is plain
/// (valid UTF-8, LF line ends, no blank line, the header's number of fields, quotes only
/// around whole fields and never around a line break, no field longer than
/// `max_field_chars` bytes, at most `max_rows` rows) and every row valid, with no
/// duplicate, no value out of its limits, no numerator or denominator, free text that needs
/// no trimming. The row-by-row path then locates whatever it is.
pub fn survey(
    path: &Path,
    layout: &Layout,
    limits: &Limits,
    catalog: &Catalog,
    registry: &Registry,
    years: super::validate::Years,
) -> Option<Survey> {
    survey_collecting(path, layout, limits, catalog, registry, years, 0)
}

/// [`survey`] that goes on past rows it cannot vouch for, up to `collect` of them, and lists
/// them (`doubts`) with the (city, year) pairs given a data point twice (`conflicts`) for the
/// caller to check row by row; `None` when a line is not plain or there are more doubts.
pub fn survey_collecting(
    path: &Path,
    layout: &Layout,
    limits: &Limits,
    catalog: &Catalog,
    registry: &Registry,
    years: super::validate::Years,
    collect: usize,
) -> Option<Survey> {
    let len = std::fs::metadata(path).ok()?.len();
    let mid = split_point(path, len)?;
    let cx = SurveyCtx {
        layout,
        limits,
        catalog,
        registry,
        years,
        dp_ix: catalog
            .data_points
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.as_str(), i))
            .collect(),
        words: catalog.data_points.len().div_ceil(64).max(1),
        collect,
    };
    let (a, b) = std::thread::scope(|s| {
        let second = s.spawn(|| survey_part(&cx, path, mid, len, false));
        let first = survey_part(&cx, path, 0, mid, true);
        (first, second.join().ok().flatten())
    });
    let (a, b) = (a?, b?);
    let rows = a.rows + b.rows;
    if rows == 0 || rows > limits.max_rows {
        return None;
    }
    let first_rows = a.rows;
    let mut doubts: Vec<(usize, String, String)> = a
        .doubts
        .into_iter()
        .chain(
            b.doubts
                .into_iter()
                .map(|(at, c, y)| (at + first_rows, c, y)),
        )
        .map(|(at, c, y)| (at + 2, c, y))
        .collect();
    doubts.sort();
    if doubts.len() > collect {
        return None;
    }
    let mut conflicts: Vec<(String, i32)> = Vec::new();
    let mut warnings = a.warnings;
    warnings.extend(b.warnings.into_iter().map(|mut w| {
        w.shift(first_rows);
        w
    }));
    // every (city, year) once, with the data points of all its texts' rows: a data point
    // given twice for the same city and year is a duplicate
    let mut present: std::collections::BTreeMap<(String, i32), Vec<u64>> = Default::default();
    let mut cities: Vec<CityYear> = Vec::new();
    let mut seen_texts = std::collections::HashSet::new();
    for (cy, bits) in a.cities.into_iter().chain(b.cities) {
        let acc = present
            .entry((cy.slug.clone(), cy.year))
            .or_insert_with(|| vec![0; cx.words]);
        let same_texts = !seen_texts.insert((cy.city_text.clone(), cy.year_text.clone()));
        let mut twice = false;
        for (x, y) in acc.iter_mut().zip(&bits) {
            twice |= *x & *y != 0;
            *x |= *y;
        }
        if twice {
            if collect == 0 {
                return None;
            }
            conflicts.push((cy.slug.clone(), cy.year));
        }
        if !same_texts {
            cities.push(cy);
        }
    }
    let mut missing_core = Vec::new();
    for ((slug, year), bits) in &present {
        for (i, d) in catalog.data_points.iter().enumerate() {
            if d.kpi_type == crate::catalog::KpiType::Core && bits[i / 64] & (1 << (i % 64)) == 0 {
                missing_core.push((slug.clone(), *year, d.id.clone()));
            }
        }
    }
    let mut combos: Vec<Combo> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (c, _) in a.combos.into_iter().chain(b.combos) {
        if seen.insert(c.texts.clone()) {
            combos.push(c);
        }
    }
    let mut values = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for ((dp, text), v) in a.values.into_iter().chain(b.values) {
        if seen.insert((dp, text.clone())) {
            values.push((
                catalog.data_points[dp].id.clone(),
                String::from_utf8(text.into_vec()).ok()?,
                v,
            ));
        }
    }
    Some(Survey {
        rows,
        first_rows,
        cities,
        combos,
        values,
        warnings,
        missing_core,
        doubts,
        conflicts,
    })
}

/// Where the second part starts: just after the first line feed from the middle on (the
/// file's end when there is none).
fn split_point(path: &Path, len: u64) -> Option<u64> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    let mut at = len / 2;
    f.seek(SeekFrom::Start(at)).ok()?;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = f.read(&mut buf).ok()?;
        if n == 0 {
            return Some(len);
        }
        if let Some(p) = memchr::memchr(b'\n', &buf[..n]) {
            return Some(at + p as u64 + 1);
        }
        at += n as u64;
    }
}

/// Read bytes `from..to` of the file (whole lines) and survey each line.
fn survey_part(cx: &SurveyCtx, path: &Path, from: u64, to: u64, header: bool) -> Option<Part> {
    use std::io::{Seek, SeekFrom};
    let mut f = std::fs::File::open(path).ok()?;
    f.seek(SeekFrom::Start(from)).ok()?;
    let mut f = f.take(to - from);
    let mut part = Part::default();
    let mut row = RowState::new(cx);
    let mut buf: Vec<u8> = vec![0; 4 << 20];
    let mut filled = 0;
    let mut skip_header = header;
    loop {
        if filled == buf.len() {
            buf.resize(buf.len() * 2, 0); // a line longer than the buffer
        }
        let n = f.read(&mut buf[filled..]).ok()?;
        let eof = n == 0;
        filled += n;
        let mut start = 0;
        while let Some(p) = memchr::memchr(b'\n', &buf[start..filled]) {
            let line = &buf[start..start + p];
            row.line(cx, &mut part, line, skip_header)?;
            skip_header = false;
            start += p + 1;
        }
        if eof {
            if start < filled {
                let line = &buf[start..filled];
                row.line(cx, &mut part, line, skip_header)?;
            }
            break;
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
    }
    Some(part)
}

/// The file's SHA-256, as the row-by-row reader computes it.
pub fn hash_file(path: &Path) -> Option<String> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Some(
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
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
    (!looks_like_formula(raw) && crate::text::first_control(raw, false).is_none())
        .then(|| raw.trim())
}

/// Resolve a (city, year) text pair; `None` if either is wrong.
fn resolve_city(
    city_text: &str,
    year_text: &str,
    registry: &Registry,
    years: super::validate::Years,
) -> Option<CityYear> {
    let year = plain(year_text)?.parse::<i32>().ok()?;
    if !years.contains(year) {
        return None;
    }
    let text = plain(city_text)?;
    let (city, m) = registry.resolve(text, Some(year))?;
    Some(CityYear {
        city_text: city_text.to_string(),
        year_text: year_text.to_string(),
        slug: city.slug.clone(),
        year,
        former: (m == Match::FormerNumber)
            .then(|| super::validate::former_number_message(text, city)),
    })
}

/// Resolve one (kpi, data point, unit, quality, verified) text combination; `None` if any
/// text is wrong.
fn resolve_combo(texts: [String; 5], catalog: &Catalog) -> Option<Combo> {
    let [k, p, u, q, v] = &texts;
    let code = plain(k)?;
    let part = normalise_part(plain(p)?);
    let dp = catalog
        .by_code(code)
        .into_iter()
        .find(|d| normalise_part(&d.part) == part)?;
    let unit = plain(u)?;
    if !unit.is_empty() && !unit_matches(unit, dp) {
        return None;
    }
    let q = plain(q)?;
    let quality = if q.is_empty() {
        None
    } else {
        Some(quality_level(q)?.to_string())
    };
    let v = plain(v)?;
    let verified = if v.is_empty() {
        None
    } else {
        Some(verified(v)?)
    };
    Some(Combo {
        dp: dp.id.clone(),
        unit: (!unit.is_empty()).then(|| unit.to_string()),
        quality,
        verified,
        texts,
    })
}

/// Resolve a value text that is not a plain decimal; `None` if it is not a valid value,
/// `Some(None)` for not reported.
fn resolve_value(text: &str, dp: &crate::catalog::DataPoint) -> Option<Option<f64>> {
    match parse_value(plain(text)?, dp.unit_kind, &dp.unit).ok()? {
        Value::Number(x) => Some(Some(x)),
        Value::NotReported => Some(None),
    }
}

/// Whether a free text (origin, source, note) can be stored as
/// written: no formula, nothing the row-by-row path would trim.
fn text_is_plain(t: &str) -> bool {
    !looks_like_formula(t)
        && t.trim().len() == t.len()
        && crate::text::first_control(t, false).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Option<Vec<String>> {
        let mut f = Vec::new();
        split_line(line.as_bytes(), b',', 10, &mut f)?;
        Some(
            (0..f.len())
                .map(|i| cell(line, &f, Some(i)).into_owned())
                .collect(),
        )
    }

    #[test]
    fn lines_split_as_both_readers_split_them() {
        assert_eq!(split("a,b").unwrap(), ["a", "b"]);
        assert_eq!(split("a,,").unwrap(), ["a", "", ""]);
        assert_eq!(
            split("\"x,y\",\"say \"\"hi\"\"\"").unwrap(),
            ["x,y", "say \"hi\""]
        );
        assert_eq!(split("\"\"").unwrap(), [""]);
    }

    #[test]
    fn anything_a_reader_might_split_otherwise_is_refused() {
        for line in [
            "",                   // a blank line
            "a\r",                // a carriage return
            "a,\"b\r\"",          // even inside quotes
            "a\"b,c",             // a quote inside an unquoted field
            "\"a\"b,c",           // text after the closing quote
            "\"a,b",              // a quote never closed
            "a,12345678901",      // a field longer than the limit
            "\"1234567890\"\"\"", // the limit counts a doubled quote once: 11
        ] {
            assert_eq!(split(line), None, "{line:?}");
        }
        assert!(split("\"123456789\"\"\"").is_some(), "10 characters");
    }

    #[test]
    fn plain_decimals_are_what_the_database_casts_alike() {
        for t in ["0", "-12", "3.25", "007.50"] {
            assert!(is_plain_decimal(t.as_bytes()), "{t}");
        }
        for t in [
            "", "-", "1.", ".5", "1e5", " 1", "+1", "1,5", "1.2.3", "NaN", "inf",
        ] {
            assert!(!is_plain_decimal(t.as_bytes()), "{t}");
        }
    }
}
