//! Plain-text tables and CSV/JSON rendering shared by the listing commands.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    Text,
    Json,
    Csv,
}

/// Output of a command whose answer is a document, not a table: text for people, JSON for
/// programs (no CSV: it would not be a table).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DocFormat {
    Text,
    Json,
}

/// A simple table: header and rows of text, rendered aligned, as CSV or as JSON objects.
pub struct TextTable {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl TextTable {
    pub fn new(header: &[&str]) -> TextTable {
        TextTable {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    pub fn render(&self, format: OutputFormat) -> String {
        match format {
            OutputFormat::Text => self.aligned(),
            OutputFormat::Csv => self.csv(),
            OutputFormat::Json => {
                let objs: Vec<serde_json::Map<String, serde_json::Value>> = self
                    .rows
                    .iter()
                    .map(|r| {
                        self.header
                            .iter()
                            .zip(r)
                            .map(|(h, v)| (h.clone(), json_cell(v)))
                            .collect()
                    })
                    .collect();
                to_json(&objs)
            }
        }
    }

    fn aligned(&self) -> String {
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let line = |cells: &[String]| {
            let mut s = String::new();
            for (i, c) in cells.iter().enumerate() {
                let w = widths.get(i).copied().unwrap_or(0);
                if i + 1 == cells.len() {
                    s.push_str(c);
                } else {
                    s.push_str(c);
                    s.push_str(&" ".repeat(w - c.chars().count() + 2));
                }
            }
            s.trim_end().to_string()
        };
        let mut out = line(&self.header);
        out.push('\n');
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }

    fn csv(&self) -> String {
        let mut w = CsvOut::new();
        w.row(&self.header);
        for r in &self.rows {
            w.row(r);
        }
        w.into_string()
    }
}

/// The one CSV writer of every output u4ssc writes for people (command output, exports,
/// the TUI's `e`, pipeline stages): every cell goes through [`neutralise`], so a city or
/// unit named `=HYPERLINK(..)` is text in a spreadsheet, never a formula. Writes into
/// memory (which cannot fail) or, for a streamed export, into a file.
pub struct CsvOut<W: std::io::Write = Vec<u8>> {
    w: csv::Writer<W>,
}

impl Default for CsvOut {
    fn default() -> Self {
        Self::new()
    }
}

impl CsvOut {
    pub fn new() -> CsvOut {
        CsvOut::to(Vec::new())
    }
    /// One record, every cell neutralised.
    pub fn row<I, T>(&mut self, cells: I)
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        let _ = self.record(cells);
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.w.into_inner().unwrap_or_default()
    }
    pub fn into_string(self) -> String {
        String::from_utf8_lossy(&self.into_bytes()).into_owned()
    }
}

impl<W: std::io::Write> CsvOut<W> {
    pub fn to(w: W) -> CsvOut<W> {
        CsvOut {
            w: csv::Writer::from_writer(w),
        }
    }
    /// One record, every cell neutralised; an error of the writer underneath is returned.
    pub fn record<I, T>(&mut self, cells: I) -> std::io::Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<str>,
    {
        self.w
            .write_record(cells.into_iter().map(|c| neutralise(c.as_ref())))
            .map_err(std::io::Error::other)
    }
    /// One record of typed cells: text neutralised, numbers written as `Cell::render` writes
    /// them (a number is never a formula), without a string per cell.
    pub fn cells(&mut self, row: &[crate::rows::Cell], buf: &mut String) -> std::io::Result<()> {
        use crate::rows::Cell;
        use std::fmt::Write;
        for c in row {
            let field: &str = match c {
                Cell::Text(t) => {
                    let n = neutralised(t);
                    self.w
                        .write_field(n.as_bytes())
                        .map_err(std::io::Error::other)?;
                    continue;
                }
                Cell::Num(v) => {
                    buf.clear();
                    let _ = write!(buf, "{v}");
                    buf
                }
                Cell::Int(v) => {
                    buf.clear();
                    let _ = write!(buf, "{v}");
                    buf
                }
                Cell::Null => "",
            };
            self.w
                .write_field(field.as_bytes())
                .map_err(std::io::Error::other)?;
        }
        self.w
            .write_record(None::<&[u8]>)
            .map_err(std::io::Error::other)
    }
    /// Everything written through to the writer underneath.
    pub fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
    /// The writer underneath, everything written through to it.
    pub fn into_inner(self) -> std::io::Result<W> {
        self.w.into_inner().map_err(|e| e.into_error())
    }
}

/// Text that a spreadsheet would run as a formula gets a leading apostrophe; control
/// characters (other than tab and line feed) are written as visible escapes.
/// A score as people read it: one decimal, "–" for none.
pub fn f1(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".into())
}

pub fn neutralise(cell: &str) -> String {
    neutralised(cell).into_owned()
}

/// [`neutralise`], borrowing the text when it needs no change.
pub fn neutralised(cell: &str) -> std::borrow::Cow<'_, str> {
    let cell = crate::text::printable(cell);
    match cell.chars().next() {
        // a lone "-" (no target, say) is text to every spreadsheet: left as it is
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
            if cell.parse::<f64>().is_err() && cell != "-" =>
        {
            format!("'{cell}").into()
        }
        _ => cell,
    }
}

/// A cell as JSON: a number when the text is a plain decimal written the way JSON writes it
/// (`1234`, `-3.5`), so programs get numbers; anything else stays text — `0301` (a
/// municipality number), `88%`, `2-4`, `–`.
fn json_cell(text: &str) -> serde_json::Value {
    let body = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = match body.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let plain = !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && (int == "0" || !int.starts_with('0'))
        && int.len() <= 15
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()));
    if plain {
        if let Ok(n) = text.parse::<serde_json::Number>() {
            return serde_json::Value::Number(n);
        }
    }
    serde_json::Value::String(text.to_string())
}

pub fn to_json<T: Serialize>(v: &T) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_but_negative_numbers_are_not() {
        assert_eq!(neutralise("=1+1"), "'=1+1");
        assert_eq!(neutralise("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralise("-3.5"), "-3.5");
        assert_eq!(neutralise("-"), "-");
        assert_eq!(neutralise("-cmd"), "'-cmd");
        assert_eq!(neutralise("Oslo"), "Oslo");
        assert_eq!(neutralise("a\u{1b}]0;x\u{7}"), "a\\u{1b}]0;x\\u{7}");
    }

    /// The pipeline's results file goes through the same writer: a unit code a spreadsheet
    /// would run comes out as text, its numbers as numbers.
    #[test]
    fn pipeline_results_use_the_neutralising_writer() {
        let meta = "Level,iCode,iName,Direction,Weight,Parent,Type\n\
                    1,x,X,1,1,Index,Indicator\n2,Index,Index,1,1,,Aggregate\n";
        let fw = crate::framework::Framework::from_imeta(meta, "iMeta.csv");
        let Ok(fw) = fw else {
            return assert!(fw.is_ok());
        };
        let data = "uCode,x\n=HYPERLINK(\"x\"),1\nB,-2\nC,3\n";
        let raw = crate::pipeline::Panel::from_idata(data, &fw, "iData.csv");
        let Ok(raw) = raw else {
            return assert!(raw.is_ok());
        };
        let out = crate::pipeline::run(&raw, &fw, &crate::pipeline::Method::default());
        let Ok(out) = out else {
            return assert!(out.is_ok());
        };
        let csv = out.results_csv(&fw);
        assert!(csv.contains("'=HYPERLINK"), "{csv}");
        assert!(!csv.contains(",'-"), "{csv}");
    }

    /// JSON gets numbers where the cell is a plain number, and text for everything else.
    #[test]
    fn json_numbers_are_numbers_and_codes_stay_text() {
        let mut t = TextTable::new(&["rows", "score", "number", "coverage", "interval", "none"]);
        t.push(vec![
            "1234".into(),
            "-81.3".into(),
            "0301".into(),
            "88%".into(),
            "2-4".into(),
            "–".into(),
        ]);
        let v: serde_json::Value = serde_json::from_str(&t.render(OutputFormat::Json)).unwrap();
        assert_eq!(v[0]["rows"], serde_json::json!(1234));
        assert_eq!(v[0]["score"], serde_json::json!(-81.3));
        assert_eq!(v[0]["number"], "0301");
        assert_eq!(v[0]["coverage"], "88%");
        assert_eq!(v[0]["interval"], "2-4");
        assert_eq!(v[0]["none"], "–");
    }

    #[test]
    fn aligned_columns() {
        let mut t = TextTable::new(&["a", "bb"]);
        t.push(vec!["xxx".into(), "y".into()]);
        assert_eq!(t.render(OutputFormat::Text), "a    bb\nxxx  y\n");
    }
}
