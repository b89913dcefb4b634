//! Workbooks: an .xlsx read cell by cell (formulas refused, zip limits checked), and the submission template read as it is.

use super::*;

/// A spreadsheet column's letters from its 0-based index: 0 → A, 25 → Z, 26 → AA.
pub fn column_letter(mut i: usize) -> String {
    let mut s = String::new();
    i += 1;
    while i > 0 {
        let r = (i - 1) % 26;
        s.insert(0, (b'A' + r as u8) as char);
        i = (i - 1) / 26;
    }
    s
}

/// Most an XLSX may unpack to: five times the file-size limit, at least 512 MB.
pub(crate) fn unpack_limit(limits: &Limits) -> u64 {
    limits
        .max_file_bytes
        .saturating_mul(5)
        .max(512 * 1024 * 1024)
}

/// Refuse zip bombs before anything is decompressed: the central directory states each
/// member's unpacked size.
pub(crate) fn check_zip(file: &str, path: &Path, limits: &Limits) -> Result<(), Vec<Finding>> {
    let fail = |rule, msg: String| vec![Finding::error(rule, file, msg)];
    let f = std::fs::File::open(path)
        .map_err(|e| fail("unreadable", format!("cannot read the file: {e}")))?;
    let mut zip = zip::ZipArchive::new(f).map_err(|e| {
        fail(
            "malformed_xlsx",
            format!("the file is not an XLSX workbook (not a zip archive: {e})"),
        )
    })?;
    if zip.len() > 10_000 {
        return Err(fail(
            "zip_bomb",
            format!(
                "the workbook has {} parts; a submission has a few dozen",
                zip.len()
            ),
        ));
    }
    let mut total: u64 = 0;
    for i in 0..zip.len() {
        let entry = zip.by_index_raw(i).map_err(|e| {
            fail(
                "malformed_xlsx",
                format!("the workbook cannot be read: {e}"),
            )
        })?;
        total = total.saturating_add(entry.size());
    }
    let limit = unpack_limit(limits);
    if total > limit {
        return Err(fail(
            "zip_bomb",
            format!(
                "the workbook unpacks to {} MB, over the limit of {} MB (five times --max-file-mb); it may be a zip bomb",
                total / (1024 * 1024),
                limit / (1024 * 1024)
            ),
        ));
    }
    Ok(())
}

pub(crate) fn read_xlsx(file: &str, path: &Path, limits: &Limits) -> Result<Table, Vec<Finding>> {
    use calamine::{open_workbook, Data, Reader, SheetVisible, Xlsx};
    check_zip(file, path, limits)?;
    let fail = |rule, msg: String| vec![Finding::error(rule, file, msg)];
    let mut wb: Xlsx<_> = open_workbook(path).map_err(|e| {
        fail(
            "malformed_xlsx",
            format!("the workbook cannot be read: {e}"),
        )
    })?;
    if wb
        .defined_names()
        .iter()
        .any(|(n, _)| n == super::super::template::NAME_CITY)
    {
        return read_template(file, &mut wb);
    }
    let sheets = wb.sheets_metadata().to_vec();
    let visible: Vec<_> = sheets
        .iter()
        .filter(|s| s.visible == SheetVisible::Visible)
        .collect();
    let Some(sheet) = visible.first() else {
        return Err(fail(
            "no_sheet",
            "the workbook has no visible sheet".to_string(),
        ));
    };
    let hidden: Vec<String> = sheets
        .iter()
        .filter(|s| s.visible != SheetVisible::Visible)
        .map(|s| shown(&s.name))
        .collect();
    let name = sheet.name.clone();
    let range = wb.worksheet_range(&name).map_err(|e| {
        fail(
            "malformed_xlsx",
            format!("sheet {} cannot be read: {e}", shown(&name)),
        )
    })?;
    if let Some(f) = formula_finding(file, &mut wb, &name) {
        return Err(vec![f]);
    }
    let (r0, c0) = range.start().unwrap_or((0, 0));
    let mut rows_iter = range.rows().enumerate();
    let Some((_, head)) = rows_iter.next() else {
        if !hidden.is_empty() {
            return Err(fail(
                "xlsx_hidden_sheet",
                format!(
                    "the first visible sheet {} is empty; the data may be on hidden sheet(s) {}, which are not read: unhide the data sheet and put it first",
                    shown(&name),
                    hidden.join(", ")
                ),
            ));
        }
        return Err(fail(
            "empty_file",
            format!("sheet {} is empty", shown(&name)),
        ));
    };
    let to_text = cell_text;
    let header: Vec<String> = head
        .iter()
        .map(|d| to_text(d).unwrap_or_default().trim().to_string())
        .collect();
    let width = header
        .iter()
        .rposition(|h| !h.is_empty())
        .map(|p| p + 1)
        .unwrap_or(0);
    let header = header[..width].to_vec();
    let mut rows = Vec::new();
    let mut findings = Vec::new();
    for (r, row) in rows_iter {
        let line = r0 as usize + r + 1;
        if row.iter().all(|d| matches!(d, Data::Empty)) {
            continue;
        }
        if rows.len() >= limits.max_rows {
            findings.push(Finding::error(
                "too_many_rows",
                file,
                format!(
                    "the sheet has more than {} rows; raise the limit with --max-rows",
                    limits.max_rows
                ),
            ));
            break;
        }
        let mut cells = Vec::with_capacity(width);
        for (c, d) in row.iter().enumerate() {
            if c >= width {
                if !matches!(d, Data::Empty) {
                    findings.push(
                        Finding::error(
                            "too_many_fields",
                            file,
                            "the cell is right of the last header column",
                        )
                        .at(line, Some(column_letter(c0 as usize + c))),
                    );
                }
                continue;
            }
            match to_text(d) {
                Ok(t) => cells.push(t),
                Err(m) => {
                    findings.push(
                        Finding::error("xlsx_cell", file, m)
                            .at(line, Some(column_letter(c0 as usize + c))),
                    );
                    cells.push(String::new());
                }
            }
        }
        cells.resize(width, String::new());
        rows.push(Row {
            line,
            cells,
            labels: Vec::new(),
        });
    }
    if !findings.is_empty() {
        return Err(findings);
    }
    Ok(Table {
        file: file.to_string(),
        format: Format::Xlsx,
        column_labels: (0..width).map(|c| column_letter(c0 as usize + c)).collect(),
        header,
        rows,
        content_hash: String::new(),
        template: None,
    })
}

/// A spreadsheet cell as text: numbers as Rust prints them (2023, 95.5), booleans as yes/no.
pub(crate) fn cell_text(d: &calamine::Data) -> Result<String, String> {
    use calamine::Data;
    Ok(match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Float(f) => format!("{f}"),
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => if *b { "yes" } else { "no" }.to_string(),
        Data::Error(e) => return Err(format!("the cell holds the spreadsheet error {e:?}")),
        Data::DateTime(_) | Data::DateTimeIso(_) | Data::DurationIso(_) => {
            return Err("the cell holds a date; give a number or text".to_string())
        }
    })
}

/// The first formula of a sheet, located, as an error: a submission holds values only.
pub(crate) fn formula_finding<R: std::io::Read + std::io::Seek>(
    file: &str,
    wb: &mut calamine::Xlsx<R>,
    sheet: &str,
) -> Option<Finding> {
    use calamine::Reader;
    let formulas = wb.worksheet_formula(sheet).ok()?;
    let (r0, c0) = formulas.start().unwrap_or((0, 0));
    for (r, row) in formulas.rows().enumerate() {
        for (c, f) in row.iter().enumerate() {
            if !f.is_empty() {
                return Some(
                    Finding::error(
                        "xlsx_formula",
                        file,
                        format!("the cell holds a formula ({}); paste values only", shown(f)),
                    )
                    .at(r0 as usize + r + 1, Some(column_letter(c0 as usize + c))),
                );
            }
        }
    }
    None
}

/// `Submission!$B$1` (or `$Submission.$B$1`) as a 0-based (row, column).
pub(crate) fn cell_reference(formula: &str) -> Option<(u32, u32)> {
    let cell = formula.rsplit(['!', '.']).next()?.replace('$', "");
    let letters: String = cell
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let row: u32 = cell[letters.len()..].parse().ok()?;
    let col = letters
        .to_ascii_uppercase()
        .bytes()
        .fold(0u32, |a, b| a * 26 + (b - b'A' + 1) as u32);
    (row >= 1 && col >= 1).then(|| (row - 1, col - 1))
}

/// A workbook made by `u4ssc template`: its sheet `Submission` read as the long table.
pub(crate) fn read_template<R: std::io::Read + std::io::Seek>(
    file: &str,
    wb: &mut calamine::Xlsx<R>,
) -> Result<Table, Vec<Finding>> {
    use super::super::template;
    use calamine::Reader;
    let sheet = template::SHEET;
    let range = wb.worksheet_range(sheet).map_err(|e| {
        vec![Finding::error(
            "template_changed",
            file,
            format!("the workbook is a u4ssc template but its sheet '{sheet}' cannot be read ({e}); was it renamed?"),
        )]
    })?;
    if let Some(f) = formula_finding(file, wb, sheet) {
        return Err(vec![f]);
    }
    let names = wb.defined_names().to_vec();
    let meta = |name: &str| -> String {
        names
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, f)| cell_reference(f))
            .and_then(|at| range.get_value(at))
            .and_then(|d| cell_text(d).ok())
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let cells = [
        meta(template::NAME_CITY),
        meta(template::NAME_YEAR),
        meta(template::NAME_CATALOG),
    ];
    let height = range.end().map(|(r, _)| r as usize + 1).unwrap_or(0);
    let get = |r: usize, c: usize| -> Result<String, String> {
        match range.get_value((r as u32, c as u32)) {
            None => Ok(String::new()),
            Some(d) => cell_text(d),
        }
    };
    template::read(file, cells, height, &get)
}
