//! Readers for the three submission formats. Each turns a file into a [`Table`]: header
//! names and rows of text cells with their line (or spreadsheet row) numbers.

use super::Finding;
use crate::text::shown;
use std::path::Path;

mod xlsx;
pub use xlsx::*;

/// Limits that protect the machine from hostile or mistaken input. Each can be raised on
/// the command line; the message that reports a limit names the option.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_file_bytes: u64,
    pub max_rows: usize,
    pub max_field_chars: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_file_bytes: 100 * 1024 * 1024,
            max_rows: 2_000_000,
            max_field_chars: 10_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
    Json,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    pub cells: Vec<String>,
    /// Where each cell came from when a layout moved it (a year or city column of a wide
    /// file); empty when the cells sit in the table's own columns.
    pub labels: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Table {
    pub file: String,
    pub format: Format,
    pub header: Vec<String>,
    /// How a column is named in a location: "3" for CSV, "C" for XLSX, the key for JSON.
    pub column_labels: Vec<String>,
    pub rows: Vec<Row>,
    /// The file's bytes hashed, so that the same file is recognised on re-import.
    pub content_hash: String,
    /// What a filled `u4ssc template` says about itself (None for any other file).
    pub template: Option<super::template::Meta>,
}

impl Table {
    /// How one cell is named in a location: the column label, and for JSON the element of the
    /// array too (`[17].value`), since a one-line JSON file puts every element on line 1.
    /// `row` is the row's position in `rows` (one row per array element for JSON).
    pub fn cell_label(&self, row: usize, i: usize) -> String {
        match self.format {
            Format::Json => format!(
                "[{row}].{}",
                self.header.get(i).map(String::as_str).unwrap_or("")
            ),
            _ => match self.rows.get(row).and_then(|r| r.labels.get(i)) {
                Some(l) => l.clone(),
                None => self.column_label(i),
            },
        }
    }

    pub fn column_label(&self, i: usize) -> String {
        let name = self.header.get(i).map(String::as_str).unwrap_or("");
        match self.column_labels.get(i) {
            Some(l) if l != name => format!("{l} ({name})"),
            Some(l) => l.clone(),
            None => (i + 1).to_string(),
        }
    }
}

pub(crate) fn hash(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(bytes);
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// A submission's format, from its file name's extension.
pub fn format_of(path: &Path) -> Option<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    match ext.as_str() {
        "csv" | "txt" | "tsv" => Some(Format::Csv),
        "xlsx" | "xlsm" => Some(Format::Xlsx),
        "json" => Some(Format::Json),
        _ => None,
    }
}

/// Read a submission. Problems that make the file unreadable come back as findings.
pub fn read_table(path: &Path, limits: &Limits) -> Result<Table, Vec<Finding>> {
    let file = path.display().to_string();
    let fail = |rule, msg: String| vec![Finding::error(rule, &file, msg)];
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| fail("unreadable", format!("cannot read the file: {e}")))?;
    if meta.file_type().is_symlink() {
        return Err(fail(
            "symlink",
            "the path is a symbolic link; give the real file's path".to_string(),
        ));
    }
    if !meta.is_file() {
        return Err(fail(
            "not_a_file",
            "the path is not a regular file".to_string(),
        ));
    }
    if meta.len() > limits.max_file_bytes {
        return Err(fail(
            "file_too_large",
            format!(
                "the file is {} MB, over the limit of {} MB; split it, or raise the limit with --max-file-mb",
                meta.len() / (1024 * 1024),
                limits.max_file_bytes / (1024 * 1024)
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| fail("unreadable", format!("cannot read the file: {e}")))?;
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_lowercase();
    let format = match format_of(path) {
        Some(f) => f,
        None => {
            let other = ext.as_str();
            return Err(fail(
                "unknown_format",
                format!(
                    "cannot tell the format from the extension {}; use .csv, .xlsx or .json",
                    shown(other)
                ),
            ));
        }
    };
    let content_hash = hash(&bytes);
    let mut table = match format {
        Format::Csv => read_csv(&file, &bytes, limits)?,
        Format::Json => read_json(&file, &bytes, limits)?,
        Format::Xlsx => read_xlsx(&file, path, limits)?,
    };
    table.content_hash = content_hash;
    check_fields(&table, limits)?;
    Ok(table)
}

fn check_fields(t: &Table, limits: &Limits) -> Result<(), Vec<Finding>> {
    let mut out = Vec::new();
    for r in &t.rows {
        for (i, c) in r.cells.iter().enumerate() {
            if c.chars().count() > limits.max_field_chars {
                out.push(
                    Finding::error(
                        "field_too_long",
                        &t.file,
                        format!(
                            "the cell has more than {} characters; shorten it (the limit is set by --max-field-chars)",
                            limits.max_field_chars
                        ),
                    )
                    .at(r.line, Some(t.column_label(i))),
                );
            }
        }
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(out)
    }
}

/// Decode bytes as UTF-8, with the BOM removed; anything else is located and rejected.
fn decode<'a>(file: &str, bytes: &'a [u8]) -> Result<&'a str, Vec<Finding>> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(vec![Finding::error(
            "encoding",
            file,
            "the file is UTF-16; save it as UTF-8 (in Excel: \"CSV UTF-8\")",
        )]);
    }
    let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    std::str::from_utf8(body).map_err(|e| {
        let ok = &body[..e.valid_up_to()];
        let line = ok.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = ok.iter().rposition(|&b| b == b'\n').map(|p| p + 1).unwrap_or(0);
        let col = String::from_utf8_lossy(&ok[line_start..]).chars().count() + 1;
        vec![Finding::error(
            "encoding",
            file,
            format!(
                "byte 0x{:02X} is not UTF-8 (the file may be Latin-1/Windows-1252); save it as UTF-8 (in Excel: \"CSV UTF-8\")",
                body[e.valid_up_to()]
            ),
        )
        .at(line, Some(format!("character {col}")))]
    })
}

/// Which delimiter the header line uses: comma, semicolon (Norwegian Excel) or tab.
pub(crate) fn sniff_delimiter(header_line: &str) -> Option<u8> {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in header_line.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted {
            for (d, n) in counts.iter_mut() {
                if c == *d {
                    *n += 1;
                }
            }
        }
    }
    counts
        .iter()
        .filter(|(_, n)| *n > 0)
        .max_by_key(|(_, n)| *n)
        .map(|(d, _)| *d)
}

pub(crate) fn read_csv(file: &str, bytes: &[u8], limits: &Limits) -> Result<Table, Vec<Finding>> {
    let text = decode(file, bytes)?;
    if text.trim().is_empty() {
        return Err(vec![Finding::error(
            "empty_file",
            file,
            "the file is empty; it needs a header line (city,year,kpi,data_point,value) and one row per value",
        )]);
    }
    let header_line = text.lines().next().unwrap_or("");
    let delimiter = match sniff_delimiter(header_line) {
        Some(d) => d,
        None => {
            let other = ['|', ':']
                .iter()
                .find(|c| header_line.contains(**c))
                .map(|c| format!(" (it seems to use '{c}')"))
                .unwrap_or_default();
            return Err(vec![Finding::error(
                "wrong_delimiter",
                file,
                format!(
                    "the header {} is a single column{other}; separate columns with commas or semicolons",
                    shown(header_line)
                ),
            )
            .at(1, None)]);
        }
    };
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(r)) => r.iter().map(|s| s.trim().to_string()).collect(),
        Some(Err(e)) => {
            return Err(vec![
                Finding::error("malformed_csv", file, e.to_string()).at(1, None)
            ])
        }
        None => {
            return Err(vec![Finding::error(
                "empty_file",
                file,
                "the file is empty",
            )])
        }
    };
    if let Some((line, column)) = text_after_closing_quote(text, delimiter) {
        return Err(vec![Finding::error(
            "text_after_quote",
            file,
            "text follows the closing quote of a field; put the whole field in quotes (a quote inside one is written twice: \"\")",
        )
        .at(line, Some(format!("character {column}")))]);
    }
    let mut lines = LineCounter::new(text);
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    for rec in records {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .position()
                    .map(|p| lines.line_at(p.byte() as usize))
                    .unwrap_or(0);
                findings.push(
                    Finding::error(
                        "malformed_csv",
                        file,
                        format!("the row cannot be read: {e}"),
                    )
                    .at(line, None),
                );
                break;
            }
        };
        let line = rec
            .position()
            .map(|p| lines.line_at(p.byte() as usize))
            .unwrap_or(0);
        if rec.len() == 1 && rec.get(0).map(|s| s.trim().is_empty()).unwrap_or(true) {
            continue; // blank line
        }
        if rows.len() >= limits.max_rows {
            findings.push(Finding::error(
                "too_many_rows",
                file,
                format!(
                    "the file has more than {} rows; split it, or raise the limit with --max-rows",
                    limits.max_rows
                ),
            ));
            break;
        }
        if rec.len() > header.len() {
            findings.push(
                Finding::error(
                    "too_many_fields",
                    file,
                    format!(
                        "the row has {} fields but the header has {}; a value may contain an unquoted '{}'",
                        rec.len(),
                        header.len(),
                        delimiter as char
                    ),
                )
                .at(line, Some((header.len() + 1).to_string())),
            );
            continue;
        }
        if rec.len() < header.len() {
            findings.push(
                Finding::error(
                    "too_few_fields",
                    file,
                    format!(
                        "the row has {} fields but the header has {}",
                        rec.len(),
                        header.len()
                    ),
                )
                .at(line, Some((rec.len() + 1).to_string())),
            );
            continue;
        }
        rows.push(Row {
            line,
            cells: rec.iter().map(str::to_string).collect(),
            labels: Vec::new(),
        });
    }
    if !findings.is_empty() {
        return Err(findings);
    }
    let column_labels = (1..=header.len()).map(|i| i.to_string()).collect();
    Ok(Table {
        file: file.to_string(),
        format: Format::Csv,
        header,
        column_labels,
        rows,
        content_hash: String::new(),
        template: None,
    })
}

/// Line numbers from byte offsets, as an editor counts them: a line feed ends a line (so CRLF
/// is one line end), and a file with carriage returns alone ends its lines with those. The
/// csv reader's own line count is off by one on CRLF files; offsets are not. Offsets must
/// come in increasing order (they do: records are read front to back).
struct LineCounter<'a> {
    text: &'a [u8],
    terminator: u8,
    at: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> LineCounter<'a> {
        let b = text.as_bytes();
        let terminator = if memchr::memchr(b'\n', b).is_none() && memchr::memchr(b'\r', b).is_some()
        {
            b'\r'
        } else {
            b'\n'
        };
        LineCounter {
            text: b,
            terminator,
            at: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        // the csv reader puts a record's start on the line feed of the CRLF before it (and
        // on blank lines it skipped): a record starts at its first character
        while offset < self.text.len() && matches!(self.text[offset], b'\n' | b'\r') {
            offset += 1;
        }
        if offset < self.at {
            self.at = 0;
            self.line = 1;
        }
        self.line += memchr::memchr_iter(self.terminator, &self.text[self.at..offset]).count();
        self.at = offset;
        self.line
    }
}

/// Where text follows the closing quote of a quoted field (`"a,"+x`), which the csv reader
/// would silently join into the field: (line, character in that line).
fn text_after_closing_quote(text: &str, delimiter: u8) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    memchr::memchr(b'"', b)?;
    let mut field_start = true;
    let mut quoted = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if quoted {
            if c == b'"' {
                if b.get(i + 1) == Some(&b'"') {
                    i += 2;
                    continue;
                }
                quoted = false;
                match b.get(i + 1) {
                    None | Some(b'\n') | Some(b'\r') => {}
                    Some(&d) if d == delimiter => {}
                    Some(_) => {
                        let mut lines = LineCounter::new(text);
                        let line = lines.line_at(i + 1);
                        let line_start = b[..i + 1]
                            .iter()
                            .rposition(|&x| x == b'\n' || x == b'\r')
                            .map(|p| p + 1)
                            .unwrap_or(0);
                        let column = text[line_start..i + 1].chars().count() + 1;
                        return Some((line, column));
                    }
                }
            }
            i += 1;
            continue;
        }
        if c == b'"' && field_start {
            quoted = true;
        }
        field_start = c == delimiter || c == b'\n' || c == b'\r';
        i += 1;
    }
    None
}

/// The first key that appears twice in one object of the top-level array: (byte offset, key).
/// serde_json would silently keep the last one; a submission must not say two things.
fn duplicate_key(text: &str) -> Option<(usize, String)> {
    let b = text.as_bytes();
    let mut depth = 0i32;
    let mut keys: Vec<String> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' {
                        j += 1;
                    }
                    j += 1;
                }
                let s = text
                    .get(start + 1..j.min(b.len()))
                    .unwrap_or("")
                    .to_string();
                let mut k = j + 1;
                while k < b.len() && (b[k] as char).is_whitespace() {
                    k += 1;
                }
                if depth == 2 && k < b.len() && b[k] == b':' {
                    if keys.contains(&s) {
                        return Some((start, s));
                    }
                    keys.push(s);
                }
                i = j + 1;
                continue;
            }
            b'{' | b'[' => {
                depth += 1;
                if depth == 2 {
                    keys.clear();
                }
            }
            b'}' | b']' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    None
}

/// Byte offsets of the elements of a top-level JSON array (strings respected).
fn element_offsets(text: &str) -> Vec<usize> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_str = false;
    let mut escaped = false;
    let mut expect_elem = false;
    for (i, c) in text.char_indices() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if expect_elem && !c.is_whitespace() {
            out.push(i);
            expect_elem = false;
        }
        match c {
            '"' => in_str = true,
            '[' | '{' => {
                depth += 1;
                if depth == 1 && c == '[' {
                    expect_elem = true;
                }
            }
            ']' | '}' => depth -= 1,
            ',' if depth == 1 => expect_elem = true,
            _ => {}
        }
    }
    out
}

fn read_json(file: &str, bytes: &[u8], limits: &Limits) -> Result<Table, Vec<Finding>> {
    let text = decode(file, bytes)?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        vec![Finding::error(
            "malformed_json",
            file,
            format!("the JSON cannot be read: {e}"),
        )
        .at(e.line(), Some(format!("character {}", e.column())))]
    })?;
    if let Some((at, key)) = duplicate_key(text) {
        let line = text.as_bytes()[..at]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        return Err(vec![Finding::error(
            "json_duplicate_key",
            file,
            format!(
                "the key {} appears twice in one object; keep one",
                shown(&key)
            ),
        )
        .at(line, Some(key))]);
    }
    let serde_json::Value::Array(items) = value else {
        return Err(vec![Finding::error(
            "json_not_array",
            file,
            "the JSON must be an array of objects, one per value: [{\"city\": ..., \"year\": ..., ...}]",
        )
        .at(1, None)]);
    };
    if items.is_empty() {
        return Err(vec![Finding::error(
            "no_rows",
            file,
            "the array is empty; add one object per city, year and KPI",
        )
        .at(1, None)]);
    }
    if items.len() > limits.max_rows {
        return Err(vec![Finding::error(
            "too_many_rows",
            file,
            format!(
                "the file has more than {} rows; split it, or raise the limit with --max-rows",
                limits.max_rows
            ),
        )]);
    }
    let offsets = element_offsets(text);
    let line_of = |i: usize| {
        offsets
            .get(i)
            .map(|&o| text.as_bytes()[..o].iter().filter(|&&b| b == b'\n').count() + 1)
            .unwrap_or(1)
    };
    let mut header: Vec<String> = Vec::new();
    let mut findings = Vec::new();
    let mut raw_rows = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let line = line_of(i);
        let serde_json::Value::Object(map) = item else {
            findings.push(
                Finding::error("json_not_object", file, "each element must be an object")
                    .at(line, Some(format!("[{i}]"))),
            );
            continue;
        };
        let mut cells = Vec::new();
        for (k, v) in map {
            let cell = match v {
                serde_json::Value::Null => String::new(),
                serde_json::Value::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                serde_json::Value::String(s) => s.clone(),
                _ => {
                    findings.push(
                        Finding::error(
                            "json_nested",
                            file,
                            format!(
                                "the value of {} is an object or array; give a number or text",
                                shown(k)
                            ),
                        )
                        .at(line, Some(format!("[{i}].{k}"))),
                    );
                    continue;
                }
            };
            if !header.iter().any(|h| h == k) {
                header.push(k.clone());
            }
            cells.push((k.clone(), cell));
        }
        raw_rows.push((line, cells));
    }
    if !findings.is_empty() {
        return Err(findings);
    }
    let rows = raw_rows
        .into_iter()
        .map(|(line, cells)| {
            let mut row = vec![String::new(); header.len()];
            for (k, v) in cells {
                if let Some(i) = header.iter().position(|h| *h == k) {
                    row[i] = v;
                }
            }
            Row {
                line,
                cells: row,
                labels: Vec::new(),
            }
        })
        .collect();
    Ok(Table {
        file: file.to_string(),
        format: Format::Json,
        column_labels: header.clone(),
        header,
        rows,
        content_hash: String::new(),
        template: None,
    })
}

#[cfg(test)]
mod tests;
