//! `check --annotate OUT.xlsx`: the city's own file back as a workbook, every cell with a
//! finding coloured (error red, warning amber) and the finding as a cell comment, and a sheet
//! `Findings` listing them with links to the cells.
//!
//! The cells stand where the city typed them: an XLSX keeps its cell addresses (values are
//! copied, formatting is not), a CSV line N is row N (so `file.csv:9:5` is cell E9), a JSON
//! element i is row i + 2 under a heading of its keys.

use super::read::{sniff_delimiter, Format};
use super::{Finding, Severity};
use rust_xlsxwriter::{Color, Format as CellFormat, FormatBorder, Note, Url, Workbook, XlsxError};
use std::collections::BTreeMap;
use std::path::Path;

/// A cell value as it was in the file.
#[derive(Debug, Clone)]
enum Cell {
    Text(String),
    Number(f64),
}

/// The file's cells by 0-based (row, column), and the name of its sheet.
struct Grid {
    sheet: String,
    cells: BTreeMap<(u32, u16), Cell>,
    /// JSON: column of each key; CSV/XLSX: empty.
    keys: Vec<String>,
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

/// A CSV cell: a plain number (`95.5`, `2023`) as a number, anything else as the text typed
/// (`95,5` stays text: the workbook shows what the file says).
fn csv_cell(s: &str) -> Cell {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && !s.starts_with('.')
        && !s.ends_with('.');
    match s.parse::<f64>() {
        Ok(n) if plain && n.is_finite() => Cell::Number(n),
        _ => text(s),
    }
}

/// Read the cells of the submission as the city sees them. None when the file cannot be
/// read at all (the workbook then holds the findings alone).
fn grid(path: &Path, format: Format) -> Option<Grid> {
    let bytes = std::fs::read(path).ok()?;
    match format {
        Format::Csv => {
            let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
            let t = std::str::from_utf8(body).ok()?;
            let delimiter = sniff_delimiter(t.lines().next().unwrap_or("")).unwrap_or(b',');
            let mut reader = csv::ReaderBuilder::new()
                .delimiter(delimiter)
                .flexible(true)
                .has_headers(false)
                .from_reader(t.as_bytes());
            let mut cells = BTreeMap::new();
            let mut record = csv::StringRecord::new();
            let mut line_of = LineOf::new(t);
            while let Ok(true) = reader.read_record(&mut record) {
                let Some(pos) = record.position() else { break };
                let row = line_of.line(pos.byte() as usize).saturating_sub(1) as u32;
                for (c, v) in record.iter().enumerate() {
                    if !v.is_empty() && c < u16::MAX as usize {
                        cells.insert((row, c as u16), csv_cell(v));
                    }
                }
            }
            Some(Grid {
                sheet: "Submission".to_string(),
                cells,
                keys: Vec::new(),
            })
        }
        Format::Json => {
            let body = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(&bytes);
            let v: serde_json::Value = serde_json::from_slice(body).ok()?;
            let items = v.as_array()?;
            let mut keys: Vec<String> = Vec::new();
            let mut cells = BTreeMap::new();
            for (i, item) in items.iter().enumerate() {
                let Some(map) = item.as_object() else {
                    continue;
                };
                for (k, v) in map {
                    let c = match keys.iter().position(|x| x == k) {
                        Some(c) => c,
                        None => {
                            keys.push(k.clone());
                            keys.len() - 1
                        }
                    };
                    let cell = match v {
                        serde_json::Value::Number(n) => match n.as_f64() {
                            Some(f) if f.is_finite() => Cell::Number(f),
                            _ => text(&n.to_string()),
                        },
                        serde_json::Value::String(s) => text(s),
                        serde_json::Value::Null => continue,
                        other => text(&other.to_string()),
                    };
                    cells.insert(((i + 1) as u32, c as u16), cell);
                }
            }
            for (c, k) in keys.iter().enumerate() {
                cells.insert((0, c as u16), text(k));
            }
            Some(Grid {
                sheet: "Submission".to_string(),
                cells,
                keys,
            })
        }
        Format::Xlsx => {
            use calamine::{open_workbook, Data, Reader, SheetVisible, Xlsx};
            let mut wb: Xlsx<_> = open_workbook(path).ok()?;
            let template = wb
                .defined_names()
                .iter()
                .any(|(n, _)| n == super::template::NAME_CITY);
            let name = if template {
                super::template::SHEET.to_string()
            } else {
                wb.sheets_metadata()
                    .iter()
                    .find(|s| s.visible == SheetVisible::Visible)?
                    .name
                    .clone()
            };
            let range = wb.worksheet_range(&name).ok()?;
            let (r0, c0) = range.start().unwrap_or((0, 0));
            let mut cells = BTreeMap::new();
            for (r, row) in range.rows().enumerate() {
                for (c, d) in row.iter().enumerate() {
                    let cell = match d {
                        Data::Empty => continue,
                        Data::Float(f) => Cell::Number(*f),
                        Data::Int(i) => Cell::Number(*i as f64),
                        Data::String(s) => text(s),
                        Data::Bool(b) => text(if *b { "TRUE" } else { "FALSE" }),
                        other => text(&other.to_string()),
                    };
                    let (row, col) = (r0 as usize + r, c0 as usize + c);
                    if col < u16::MAX as usize {
                        cells.insert((row as u32, col as u16), cell);
                    }
                }
            }
            Some(Grid {
                sheet: name,
                cells,
                keys: Vec::new(),
            })
        }
    }
}

/// Byte offsets to 1-based line numbers, front to back.
struct LineOf<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> LineOf<'a> {
    fn new(t: &'a str) -> LineOf<'a> {
        LineOf {
            text: t.as_bytes(),
            at: 0,
            line: 1,
        }
    }
    fn line(&mut self, offset: usize) -> usize {
        let end = offset.min(self.text.len());
        if end > self.at {
            self.line += memchr::memchr_iter(b'\n', &self.text[self.at..end]).count();
            self.at = end;
        }
        self.line
    }
}

/// The 0-based cell a finding names, when it names one.
fn cell_of(f: &Finding, format: Format, grid: &Grid) -> Option<(u32, u16)> {
    let column = f.column.as_deref()?;
    match format {
        Format::Json => {
            // "[17].value"
            let rest = column.strip_prefix('[')?;
            let (index, key) = rest.split_once("].")?;
            let i: u32 = index.parse().ok()?;
            let c = grid.keys.iter().position(|k| k == key)?;
            Some((i + 1, c as u16))
        }
        Format::Csv => {
            let row = f.line?.checked_sub(1)? as u32;
            let digits: String = column.chars().take_while(|c| c.is_ascii_digit()).collect();
            let c: u16 = digits.parse().ok()?;
            Some((row, c.checked_sub(1)?))
        }
        Format::Xlsx => {
            let row = f.line?.checked_sub(1)? as u32;
            let letters: String = column
                .chars()
                .take_while(|c| c.is_ascii_uppercase())
                .collect();
            if letters.is_empty() {
                return None;
            }
            let c = letters
                .bytes()
                .fold(0u32, |a, b| a * 26 + (b - b'A' + 1) as u32);
            Some((row, u16::try_from(c.checked_sub(1)?).ok()?))
        }
    }
}

fn letter(c: u16) -> String {
    super::read::column_letter(c as usize)
}

/// Text as shown in the workbook: control characters made visible. (A string cell is never
/// run as a formula, so `=1+2` typed by the city stays the text it typed.)
fn inert(s: &str) -> String {
    crate::text::printable(s).into_owned()
}

/// The annotated workbook's bytes.
pub fn build(path: &Path, format: Format, findings: &[Finding]) -> Result<Vec<u8>, XlsxError> {
    let grid = grid(path, format);
    let mut wb = Workbook::new();
    let red = CellFormat::new()
        .set_background_color(Color::RGB(0xFFC7CE))
        .set_font_color(Color::RGB(0x9C0006))
        .set_border(FormatBorder::Thin);
    let amber = CellFormat::new()
        .set_background_color(Color::RGB(0xFFEB9C))
        .set_font_color(Color::RGB(0x9C5700))
        .set_border(FormatBorder::Thin);
    let bold = CellFormat::new().set_bold();
    // findings per cell: the worst severity colours it, every message goes in its note
    let mut per_cell: BTreeMap<(u32, u16), Vec<&Finding>> = BTreeMap::new();
    let mut located: Vec<Option<(u32, u16)>> = Vec::new();
    if let Some(g) = &grid {
        for f in findings {
            let at = cell_of(f, format, g).or_else(|| {
                // a finding on a whole row marks its first cell
                (format != Format::Json)
                    .then_some(f.line)
                    .flatten()
                    .map(|l| ((l.saturating_sub(1)) as u32, 0))
            });
            if let Some(at) = at {
                per_cell.entry(at).or_default().push(f);
            }
            located.push(at);
        }
    }
    let sheet_name = grid
        .as_ref()
        .map(|g| g.sheet.clone())
        .unwrap_or_else(|| "Submission".to_string());
    if let Some(g) = &grid {
        let ws = wb.add_worksheet().set_name(&sheet_name)?;
        for (&(r, c), cell) in &g.cells {
            let fmt = per_cell.get(&(r, c)).map(|fs| {
                if fs.iter().any(|f| f.severity == Severity::Error) {
                    &red
                } else {
                    &amber
                }
            });
            match (cell, fmt) {
                (Cell::Number(n), Some(f)) => ws.write_number_with_format(r, c, *n, f)?,
                (Cell::Number(n), None) => ws.write_number(r, c, *n)?,
                (Cell::Text(t), Some(f)) => ws.write_string_with_format(r, c, inert(t), f)?,
                (Cell::Text(t), None) => ws.write_string(r, c, inert(t))?,
            };
        }
        for (&(r, c), fs) in &per_cell {
            if !g.cells.contains_key(&(r, c)) {
                let f = if fs.iter().any(|f| f.severity == Severity::Error) {
                    &red
                } else {
                    &amber
                };
                ws.write_blank(r, c, f)?;
            }
            let text: Vec<String> = fs
                .iter()
                .map(|f| {
                    let sev = match f.severity {
                        Severity::Error => "error",
                        Severity::Warning => "warning",
                    };
                    format!("{sev}[{}]: {}", f.rule, crate::text::printable(&f.message))
                })
                .collect();
            let note = Note::new(text.join("\n\n"))
                .set_author("u4ssc check")
                .set_width(360)
                .set_height(140);
            ws.insert_note(r, c, &note)?;
        }
        for c in 0..=g.cells.keys().map(|k| k.1).max().unwrap_or(0) {
            ws.set_column_width(c, 16)?;
        }
    }
    let fs = wb.add_worksheet().set_name("Findings")?;
    let heading = ["severity", "rule", "cell", "line", "column", "message"];
    for (c, h) in heading.iter().enumerate() {
        fs.write_string_with_format(0, c as u16, *h, &bold)?;
    }
    for (i, f) in findings.iter().enumerate() {
        let r = (i + 1) as u32;
        let (sev, fmt) = match f.severity {
            Severity::Error => ("error", &red),
            Severity::Warning => ("warning", &amber),
        };
        fs.write_string_with_format(r, 0, sev, fmt)?;
        fs.write_string(r, 1, f.rule)?;
        if let Some(Some((row, col))) = located.get(i) {
            let address = format!("{}{}", letter(*col), row + 1);
            let link = Url::new(format!("internal:'{sheet_name}'!{address}")).set_text(&address);
            fs.write_url(r, 2, &link)?;
        }
        if let Some(l) = f.line {
            fs.write_number(r, 3, l as f64)?;
        }
        if let Some(c) = &f.column {
            fs.write_string(r, 4, inert(c))?;
        }
        fs.write_string(r, 5, inert(&f.message))?;
    }
    fs.set_column_width(0, 9)?;
    fs.set_column_width(1, 24)?;
    fs.set_column_width(2, 8)?;
    fs.set_column_width(3, 6)?;
    fs.set_column_width(4, 16)?;
    fs.set_column_width(5, 110)?;
    fs.set_freeze_panes(1, 0)?;
    if grid.is_none() {
        fs.set_active(true);
    }
    wb.save_to_buffer()
}
