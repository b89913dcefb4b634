//! The workbook a city fills: `u4ssc template`. One sheet `Submission` with one row per data
//! point in catalog order (the ITU data-collection workbook's shape: numerator, denominator,
//! value, data quality, origin, source, verified; U4SSC Verification Manual 2022, pp. 162-166),
//! and a sheet `Instructions`. City, year and catalog version sit in named cells, so the file
//! alone says whose it is; [`read`] turns a filled template back into the long table.

use super::read::{Format, Row, Table};
use super::validate::{QUALITY_LEVELS, QUALITY_LEVELS_NB};
use super::Finding;
use crate::catalog::{Catalog, DataPoint, KpiType, UnitKind};
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, Format as CellFormat, FormatBorder, Formula,
    ProtectionOptions, Workbook, XlsxError,
};
use std::collections::HashMap;

pub const SHEET: &str = "Submission";
/// Defined names of the cells that say whose the file is.
pub const NAME_CITY: &str = "u4ssc_city";
pub const NAME_YEAR: &str = "u4ssc_year";
pub const NAME_CATALOG: &str = "u4ssc_catalog";
/// The spreadsheet row (1-based) of the column headings; data points follow.
pub const HEADER_ROW: usize = 6;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    En,
    Nb,
}

/// The columns, in order: (machine name, English heading, Norwegian heading, filled by the city).
pub const COLUMNS: &[(&str, &str, &str, bool)] = &[
    ("code", "Code", "Kode", false),
    ("name", "KPI", "KPI", false),
    ("name_other", "KPI (norsk)", "KPI (engelsk)", false),
    ("data_point", "Data point", "Datapunkt", false),
    ("unit", "Unit", "Enhet", false),
    ("type", "Type", "Type", false),
    ("previous_year", "Previous year", "Forrige år", false),
    ("previous_value", "Previous value", "Forrige verdi", false),
    ("value", "Value", "Verdi", true),
    ("numerator", "Numerator", "Teller", true),
    ("denominator", "Denominator", "Nevner", true),
    ("quality", "Data quality", "Datakvalitet", true),
    ("origin", "Data origin", "Dataopprinnelse", true),
    ("source", "Source", "Kilde", true),
    ("verified", "Verified", "Verifisert", true),
    ("note", "Note", "Merknad", true),
];

/// Data origin: the template offers three choices (the ITU workbook has three fixed ones,
/// not published; these are the project's), and any other text is accepted.
const ORIGINS: &[&str] = &["municipal records", "national statistics", "other source"];
const ORIGINS_NB: &[&str] = &["kommunale data", "nasjonal statistikk", "annen kilde"];

fn col(name: &str) -> u16 {
    COLUMNS.iter().position(|c| c.0 == name).unwrap_or(0) as u16
}

fn letter(c: u16) -> String {
    super::read::column_letter(c as usize)
}

/// What one template is for.
pub struct Spec<'a> {
    pub city_name: &'a str,
    pub city_slug: &'a str,
    pub year: i32,
    pub lang: Lang,
    /// The latest earlier value of each data point, by id: (year, value; None for NR).
    pub previous: HashMap<String, (i32, Option<f64>)>,
}

fn tr(lang: Lang, en: &'static str, nb: &'static str) -> &'static str {
    match lang {
        Lang::En => en,
        Lang::Nb => nb,
    }
}

/// The template workbook's bytes.
pub fn build(catalog: &Catalog, spec: &Spec) -> Result<Vec<u8>, XlsxError> {
    let lang = spec.lang;
    let mut wb = Workbook::new();
    let bold = CellFormat::new().set_bold();
    let title = CellFormat::new().set_bold().set_font_size(14);
    let head = CellFormat::new()
        .set_bold()
        .set_background_color(Color::RGB(0xD9E1F2))
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let fixed = CellFormat::new().set_border(FormatBorder::Thin);
    let fill = CellFormat::new()
        .set_unlocked()
        .set_background_color(Color::RGB(0xFFF2CC))
        .set_border(FormatBorder::Thin);
    let fill_text = fill.clone().set_num_format("@");
    let meta = CellFormat::new()
        .set_bold()
        .set_background_color(Color::RGB(0xE2EFDA));

    let ws = wb.add_worksheet().set_name(SHEET)?;
    ws.write_string_with_format(0, 0, tr(lang, "City", "Kommune"), &bold)?;
    ws.write_string_with_format(0, 1, spec.city_name, &meta)?;
    ws.write_string(0, 2, spec.city_slug)?;
    ws.write_string_with_format(1, 0, tr(lang, "Year", "År"), &bold)?;
    ws.write_number_with_format(1, 1, spec.year as f64, &meta)?;
    ws.write_string_with_format(2, 0, tr(lang, "Catalog", "Katalog"), &bold)?;
    ws.write_string_with_format(2, 1, &catalog.info.version, &meta)?;
    ws.write_string_with_format(
        3,
        0,
        tr(
            lang,
            "U4SSC data collection: fill the yellow cells, one row per data point. Write NR where a value is not reported. Rules and units: see the Instructions sheet.",
            "U4SSC datainnsamling: fyll ut de gule cellene, én rad per datapunkt. Skriv NR der en verdi ikke rapporteres. Regler og enheter: se arket Instruksjoner.",
        ),
        &title,
    )?;
    let hr = (HEADER_ROW - 1) as u32;
    for (c, (_, en, nb, _)) in COLUMNS.iter().enumerate() {
        ws.write_string_with_format(hr, c as u16, tr(lang, en, nb), &head)?;
    }
    let widths = [
        18.0, 40.0, 40.0, 16.0, 26.0, 10.0, 9.0, 12.0, 14.0, 14.0, 14.0, 30.0, 22.0, 30.0, 10.0,
        30.0,
    ];
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    let number_rule = |cell: &str| {
        DataValidation::new()
            .allow_custom(Formula::new(format!(
                "=OR(ISNUMBER({cell}),UPPER(TRIM({cell}))=\"NR\")"
            )))
            .ignore_blank(true)
    };
    let yes_no: Vec<&str> = match lang {
        Lang::En => vec!["YES", "NO", "NR"],
        Lang::Nb => vec!["JA", "NEI", "NR"],
    };
    let quality = match lang {
        Lang::En => QUALITY_LEVELS,
        Lang::Nb => QUALITY_LEVELS_NB,
    };
    let origins = match lang {
        Lang::En => ORIGINS,
        Lang::Nb => ORIGINS_NB,
    };
    let verified: Vec<&str> = yes_no[..2].to_vec();
    let first = HEADER_ROW as u32;
    let last = first + catalog.data_points.len() as u32 - 1;
    for (i, dp) in catalog.data_points.iter().enumerate() {
        let r = first + i as u32;
        let (name, other) = match lang {
            Lang::En => (&dp.name, &dp.name_nb),
            Lang::Nb => (&dp.name_nb, &dp.name),
        };
        ws.write_string_with_format(r, col("code"), &dp.code, &fixed)?;
        ws.write_string_with_format(r, col("name"), name, &fixed)?;
        ws.write_string_with_format(r, col("name_other"), other, &fixed)?;
        ws.write_string_with_format(r, col("data_point"), &dp.part, &fixed)?;
        ws.write_string_with_format(r, col("unit"), &dp.unit, &fixed)?;
        let t = match dp.kpi_type {
            KpiType::Core => tr(lang, "core", "kjerne"),
            KpiType::Advanced => tr(lang, "advanced", "avansert"),
        };
        ws.write_string_with_format(r, col("type"), t, &fixed)?;
        match spec.previous.get(&dp.id) {
            Some((y, v)) => {
                ws.write_number_with_format(r, col("previous_year"), *y as f64, &fixed)?;
                match v {
                    Some(v) => ws.write_number_with_format(r, col("previous_value"), *v, &fixed)?,
                    None => ws.write_string_with_format(r, col("previous_value"), "NR", &fixed)?,
                };
            }
            None => {
                ws.write_blank(r, col("previous_year"), &fixed)?;
                ws.write_blank(r, col("previous_value"), &fixed)?;
            }
        }
        for name in ["value", "numerator", "denominator"] {
            ws.write_blank(r, col(name), &fill)?;
        }
        for name in ["quality", "origin", "source", "verified", "note"] {
            ws.write_blank(r, col(name), &fill_text)?;
        }
        // a yes/no KPI answers YES or NO; every other value is a number or NR
        let value_rule = if dp.unit_kind == UnitKind::YesNo {
            DataValidation::new().allow_list_strings(&yes_no)?
        } else {
            number_rule(&format!("{}{}", letter(col("value")), r + 1))
        };
        let value_rule = value_rule
            .set_error_title(tr(lang, "Not a value", "Ikke en verdi"))?
            .set_error_message(value_message(dp, lang))?
            .set_input_message(format!("{} — {}", dp.unit, tr(lang, "or NR", "eller NR")))?;
        ws.add_data_validation(r, col("value"), r, col("value"), &value_rule)?;
        for name in ["numerator", "denominator"] {
            let cell = format!("{}{}", letter(col(name)), r + 1);
            let rule = number_rule(&cell)
                .set_error_title(tr(lang, "Not a number", "Ikke et tall"))?
                .set_error_message(tr(
                    lang,
                    "Write a number, or NR when it is not reported.",
                    "Skriv et tall, eller NR når det ikke rapporteres.",
                ))?;
            ws.add_data_validation(r, col(name), r, col(name), &rule)?;
        }
    }
    let list = |items: &[&str]| DataValidation::new().allow_list_strings(items);
    ws.add_data_validation(first, col("quality"), last, col("quality"), &list(quality)?)?;
    ws.add_data_validation(
        first,
        col("origin"),
        last,
        col("origin"),
        // the three choices are offered, other text is allowed
        &list(origins)?.set_error_style(DataValidationErrorStyle::Information),
    )?;
    ws.add_data_validation(
        first,
        col("verified"),
        last,
        col("verified"),
        &list(&verified)?,
    )?;
    ws.set_freeze_panes(HEADER_ROW as u32, col("name") + 1)?;
    // the structure is locked (no password: it guards against slips, not people); the
    // yellow cells are open, and columns may be widened
    let options = ProtectionOptions {
        format_columns: true,
        format_rows: true,
        ..ProtectionOptions::default()
    };
    ws.protect_with_options(&options);
    ws.set_active(true);

    let help = wb
        .add_worksheet()
        .set_name(tr(lang, "Instructions", "Instruksjoner"))?;
    instructions(help, catalog, spec, &bold, &head)?;

    wb.define_name(NAME_CITY, &format!("={SHEET}!$B$1"))?;
    wb.define_name(NAME_YEAR, &format!("={SHEET}!$B$2"))?;
    wb.define_name(NAME_CATALOG, &format!("={SHEET}!$B$3"))?;
    wb.save_to_buffer()
}

fn value_message(dp: &DataPoint, lang: Lang) -> String {
    match (dp.unit_kind == UnitKind::YesNo, lang) {
        (true, Lang::En) => "Answer YES or NO, or NR when it is not reported.".to_string(),
        (true, Lang::Nb) => "Svar JA eller NEI, eller NR når det ikke rapporteres.".to_string(),
        (false, Lang::En) => format!(
            "Write a number in {}, or NR when it is not reported.",
            dp.unit
        ),
        (false, Lang::Nb) => format!(
            "Skriv et tall i {}, eller NR når det ikke rapporteres.",
            dp.unit
        ),
    }
}

fn instructions(
    ws: &mut rust_xlsxwriter::Worksheet,
    catalog: &Catalog,
    spec: &Spec,
    bold: &CellFormat,
    head: &CellFormat,
) -> Result<(), XlsxError> {
    let lang = spec.lang;
    let rules: &[&str] = match lang {
        Lang::En => &[
            "1. One row per data point. Fill only the yellow cells; the grey columns are the catalog and stay as they are (do not delete, move or sort rows).",
            "2. Value: a number in the unit of the row (column Unit), with a decimal point or comma. A percentage is written 95.5, not 0.955. Yes/no KPIs are answered YES or NO.",
            "3. NR means Not Reported: the city has no value for this data point this year. Write NR rather than leaving a core data point empty; an empty row is not sent.",
            "4. Numerator and denominator (optional): when given, the value is computed from them (× 100 for a percentage, × 100 000 per 100 000 inhabitants) and a typed value must agree.",
            "5. Data quality: one of the six U4SSC levels, best to worst (or 1-6). Data origin and source: where the number comes from. Verified: YES once a verifier has checked it.",
            "6. Before sending: u4ssc check FILE.xlsx lists every problem with its cell; u4ssc check --annotate OUT.xlsx FILE.xlsx marks them in a copy of the file.",
        ],
        Lang::Nb => &[
            "1. Én rad per datapunkt. Fyll bare ut de gule cellene; de grå kolonnene er katalogen og skal stå som de er (ikke slett, flytt eller sorter rader).",
            "2. Verdi: et tall i radens enhet (kolonnen Enhet), med desimalpunktum eller -komma. En prosent skrives 95,5, ikke 0,955. Ja/nei-KPI-er besvares JA eller NEI.",
            "3. NR betyr ikke rapportert: kommunen har ingen verdi for dette datapunktet dette året. Skriv NR i stedet for å la et kjernedatapunkt stå tomt; en tom rad sendes ikke.",
            "4. Teller og nevner (valgfritt): når de er gitt, beregnes verdien av dem (× 100 for prosent, × 100 000 per 100 000 innbyggere), og en skrevet verdi må stemme.",
            "5. Datakvalitet: ett av de seks U4SSC-nivåene, best til dårligst (eller 1-6). Dataopprinnelse og kilde: hvor tallet kommer fra. Verifisert: JA når en verifikator har sjekket det.",
            "6. Før innsending: u4ssc check FIL.xlsx viser hvert problem med cellen; u4ssc check --annotate UT.xlsx FIL.xlsx markerer dem i en kopi av filen.",
        ],
    };
    ws.set_column_width(0, 20)?;
    ws.set_column_width(1, 50)?;
    ws.set_column_width(2, 18)?;
    ws.set_column_width(3, 34)?;
    ws.write_string_with_format(
        0,
        0,
        format!(
            "{} {} {}",
            tr(lang, "U4SSC submission for", "U4SSC-innrapportering for"),
            spec.city_name,
            spec.year
        ),
        bold,
    )?;
    let mut r = 2u32;
    for line in rules {
        ws.write_string(r, 0, *line)?;
        r += 1;
    }
    r += 1;
    ws.write_string_with_format(
        r,
        0,
        tr(lang, "Data quality levels", "Datakvalitetsnivåer"),
        bold,
    )?;
    r += 1;
    for (i, (en, nb)) in QUALITY_LEVELS.iter().zip(QUALITY_LEVELS_NB).enumerate() {
        ws.write_number(r, 0, (i + 1) as f64)?;
        ws.write_string(r, 1, *tr_dyn(lang, en, nb))?;
        r += 1;
    }
    r += 1;
    for (c, h) in [
        tr(lang, "Code", "Kode"),
        "KPI",
        tr(lang, "Data point", "Datapunkt"),
        tr(lang, "Unit", "Enhet"),
    ]
    .iter()
    .enumerate()
    {
        ws.write_string_with_format(r, c as u16, *h, head)?;
    }
    r += 1;
    for dp in &catalog.data_points {
        ws.write_string(r, 0, &dp.code)?;
        ws.write_string(r, 1, tr_dyn(lang, &dp.name, &dp.name_nb).as_str())?;
        ws.write_string(r, 2, &dp.part)?;
        ws.write_string(r, 3, &dp.unit)?;
        r += 1;
    }
    Ok(())
}

fn tr_dyn<'a, T: ?Sized>(lang: Lang, en: &'a T, nb: &'a T) -> &'a T {
    match lang {
        Lang::En => en,
        Lang::Nb => nb,
    }
}

/// What a filled template says about itself, checked against the catalog by
/// [`super::layout::to_long`].
#[derive(Debug, Clone)]
pub struct Meta {
    pub city: String,
    pub year: String,
    pub catalog_version: String,
    /// (spreadsheet row, code, data point) of every data row, in sheet order.
    pub rows: Vec<(usize, String, String)>,
}

/// The template's data as the long table (city, year, kpi, data_point, value, numerator,
/// denominator, quality, origin, source, verified, note): only rows where the city typed
/// something. `cell(row, col)` gives a cell's text (0-based) or a located message.
pub fn read(
    file: &str,
    meta_cells: [String; 3],
    height: usize,
    cell: &dyn Fn(usize, usize) -> Result<String, String>,
) -> Result<Table, Vec<Finding>> {
    let mut findings = Vec::new();
    // the headings must be the template's, in either language
    for (c, (name, en, nb, _)) in COLUMNS.iter().enumerate() {
        let h = cell(HEADER_ROW - 1, c).unwrap_or_default();
        // Norwegian templates made before 2026-12-04 had the two name headings swapped
        let earlier_nb = match *name {
            "name" => Some("KPI (engelsk)"),
            "name_other" => Some("KPI"),
            _ => None,
        };
        if h.trim() != *en && h.trim() != *nb && Some(h.trim()) != earlier_nb {
            findings.push(
                Finding::error(
                    "template_changed",
                    file,
                    format!(
                        "the heading {} should be '{en}' ('{nb}'); the template's columns were moved or renamed: make a new one with `u4ssc template` and copy the values over",
                        crate::text::shown(h.trim())
                    ),
                )
                .at(HEADER_ROW, Some(letter(c as u16))),
            );
            return Err(findings);
        }
    }
    let filled: Vec<&str> = COLUMNS.iter().filter(|c| c.3).map(|c| c.0).collect();
    let mut header = vec!["city", "year", "kpi", "data_point"];
    header.extend(&filled);
    let mut column_labels = vec![
        "B1".to_string(),
        "B2".to_string(),
        letter(col("code")),
        letter(col("data_point")),
    ];
    column_labels.extend(filled.iter().map(|n| letter(col(n))));
    let [city, year, catalog_version] = meta_cells;
    let mut rows = Vec::new();
    let mut order = Vec::new();
    for r in HEADER_ROW..height {
        let line = r + 1;
        let mut text = |c: u16| -> String {
            match cell(r, c as usize) {
                Ok(t) => t,
                Err(m) => {
                    findings.push(Finding::error("xlsx_cell", file, m).at(line, Some(letter(c))));
                    String::new()
                }
            }
        };
        let code = text(col("code"));
        let part = text(col("data_point"));
        let values: Vec<String> = filled.iter().map(|n| text(col(n))).collect::<Vec<_>>();
        if code.trim().is_empty() && part.trim().is_empty() {
            if values.iter().any(|v| !v.trim().is_empty()) {
                findings.push(
                    Finding::error(
                        "template_changed",
                        file,
                        "the row has values but no code; a row of the template was cleared or added: restore it",
                    )
                    .at(line, Some(letter(col("code")))),
                );
            }
            continue;
        }
        order.push((line, code.trim().to_string(), part.trim().to_string()));
        if values.iter().all(|v| v.trim().is_empty()) {
            continue; // not filled in
        }
        let mut cells = vec![city.clone(), year.clone(), code, part];
        cells.extend(values);
        rows.push(Row {
            line,
            cells,
            labels: Vec::new(),
        });
    }
    if !findings.is_empty() {
        return Err(findings);
    }
    if rows.is_empty() {
        return Err(vec![Finding::error(
            "no_rows",
            file,
            "nothing is filled in yet: write each value in the Value column (or NR), then check again",
        )
        .at(HEADER_ROW + 1, Some(letter(col("value"))))]);
    }
    Ok(Table {
        file: file.to_string(),
        format: Format::Xlsx,
        header: header.iter().map(|s| s.to_string()).collect(),
        column_labels,
        rows,
        content_hash: String::new(),
        template: Some(Meta {
            city,
            year,
            catalog_version,
            rows: order,
        }),
    })
}

/// A filled template against the catalog: made for this catalog version, every data point's
/// row present, in catalog order. The first difference is the finding.
pub fn check_rows(file: &str, meta: &Meta, catalog: &Catalog) -> Vec<Finding> {
    if meta.catalog_version.trim() != catalog.info.version {
        return vec![Finding::error(
            "template_catalog_version",
            file,
            format!(
                "the template was made for catalog {}, and this u4ssc uses catalog {}: the KPI rows differ; make a new template with `u4ssc template` and copy the values over",
                crate::text::shown(meta.catalog_version.trim()),
                catalog.info.version
            ),
        )
        .at(3, Some("B".to_string()))];
    }
    let expected: Vec<(String, String)> = catalog
        .data_points
        .iter()
        .map(|d| (d.code.clone(), d.part.clone()))
        .collect();
    let label = |code: &str, part: &str| {
        if part.is_empty() {
            code.to_string()
        } else {
            format!("{code} ({part})")
        }
    };
    let code_col = Some(letter(col("code")));
    for (k, want) in expected.iter().enumerate() {
        let Some((line, code, part)) = meta.rows.get(k) else {
            let at = meta.rows.last().map(|r| r.0 + 1).unwrap_or(HEADER_ROW + 1);
            return vec![Finding::error(
                "template_row_missing",
                file,
                format!(
                    "the template ends before the row of {}: {} row(s) were deleted; make a new template with `u4ssc template` and copy the values over",
                    label(&want.0, &want.1),
                    expected.len() - k
                ),
            )
            .at(at, code_col.clone())];
        };
        if (code.as_str(), part.as_str()) == (want.0.as_str(), want.1.as_str()) {
            continue;
        }
        let later = expected[k + 1..]
            .iter()
            .any(|(c, p)| (c, p) == (code, part));
        let (rule, msg) = if later
            && !meta.rows[k..]
                .iter()
                .any(|r| (&r.1, &r.2) == (&want.0, &want.1))
        {
            (
                "template_row_missing",
                format!(
                    "the row of {} is missing here (it was deleted); restore it or make a new template with `u4ssc template`",
                    label(&want.0, &want.1)
                ),
            )
        } else if later || expected[..k].iter().any(|(c, p)| (c, p) == (code, part)) {
            (
                "template_row_moved",
                format!(
                    "the row of {} is where {} belongs: rows were moved or sorted, and a value may now sit beside the wrong KPI; put the rows back in the template's order",
                    label(code, part),
                    label(&want.0, &want.1)
                ),
            )
        } else {
            (
                "template_changed",
                format!(
                    "{} is not a row of this template ({} belongs here); restore the template's code",
                    crate::text::shown(&label(code, part)),
                    label(&want.0, &want.1)
                ),
            )
        };
        return vec![Finding::error(rule, file, msg).at(*line, code_col.clone())];
    }
    if let Some((line, code, part)) = meta.rows.get(expected.len()) {
        return vec![Finding::error(
            "template_changed",
            file,
            format!(
                "{} is an extra row after the template's last data point; remove it",
                crate::text::shown(&label(code, part))
            ),
        )
        .at(*line, code_col)];
    }
    Vec::new()
}
