//! The questions log exported as a table or workbook, and answered from the workbook a city returns.

use super::*;

/// The columns of the questions workbook, in order; the city writes in Answer and Answered by.
pub const LOG_COLUMNS: &[&str] = &[
    "ID",
    "City",
    "Year",
    "KPI",
    "Data point",
    "KPI name",
    "Value asked about",
    "Question",
    "Asked by",
    "Asked on",
    "Status",
    "Earlier answers",
    "Answer",
    "Answered by",
];

pub(crate) fn export(ctx: &Ctx, a: &ExportOptions) -> Result<QuestionsReport> {
    use rust_xlsxwriter::{
        Color, DataValidation, DataValidationRule, Format, FormatBorder, ProtectionOptions,
        Workbook,
    };
    let city = city_slug(ctx, &a.city)?;
    crate::files::require_xlsx(&a.out, "--out")?;
    let store = ctx.open(Access::ReadOnly)?;
    let qs = store.questions(Some(&city), &[Status::Open, Status::Answered])?;
    let x = |e: rust_xlsxwriter::XlsxError| {
        Error::Invalid(format!("the questions workbook cannot be made: {e}"))
    };
    let mut wb = Workbook::new();
    let head = Format::new()
        .set_bold()
        .set_background_color(Color::RGB(0xD9E1F2))
        .set_border(FormatBorder::Thin)
        .set_text_wrap();
    let wrap = Format::new()
        .set_text_wrap()
        .set_align(rust_xlsxwriter::FormatAlign::Top);
    let fill = Format::new()
        .set_unlocked()
        .set_text_wrap()
        .set_background_color(Color::RGB(0xFFF2CC))
        .set_border(FormatBorder::Thin);
    let ws = wb.add_worksheet().set_name("Questions").map_err(x)?;
    for (c, h) in LOG_COLUMNS.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &head)
            .map_err(x)?;
    }
    let widths = [
        6.0, 12.0, 6.0, 18.0, 12.0, 30.0, 12.0, 50.0, 14.0, 16.0, 10.0, 40.0, 50.0, 16.0,
    ];
    for (c, wdt) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *wdt).map_err(x)?;
    }
    for (i, q) in qs.iter().enumerate() {
        let r = (i + 1) as u32;
        let dp = q.data_point.as_deref().and_then(|d| ctx.catalog.get(d));
        ws.write_number(r, 0, q.id as f64).map_err(x)?;
        ws.write_string(r, 1, ctx.registry.name_of(&q.city))
            .map_err(x)?;
        ws.write_number(r, 2, q.year as f64).map_err(x)?;
        ws.write_string(
            r,
            3,
            dp.map(|d| d.code.as_str()).unwrap_or("(whole city-year)"),
        )
        .map_err(x)?;
        ws.write_string(r, 4, dp.map(|d| d.part.as_str()).unwrap_or(""))
            .map_err(x)?;
        ws.write_string_with_format(r, 5, dp.map(|d| d.name.as_str()).unwrap_or(""), &wrap)
            .map_err(x)?;
        match q.value {
            Some(v) => ws.write_number(r, 6, v).map_err(x)?,
            None => ws.write_string(r, 6, "NR / none").map_err(x)?,
        };
        ws.write_string_with_format(r, 7, crate::text::printable(&q.text), &wrap)
            .map_err(x)?;
        ws.write_string(r, 8, crate::text::printable(&q.asked_by))
            .map_err(x)?;
        ws.write_string(r, 9, &q.asked_at).map_err(x)?;
        ws.write_string(r, 10, q.status_text()).map_err(x)?;
        let earlier: Vec<String> = store
            .question_events(q.id)?
            .into_iter()
            .filter_map(|e| e.text.map(|t| format!("{} ({}): {t}", e.author, e.at)))
            .collect();
        ws.write_string_with_format(r, 11, crate::text::printable(&earlier.join("\n")), &wrap)
            .map_err(x)?;
        ws.write_blank(r, 12, &fill).map_err(x)?;
        ws.write_blank(r, 13, &fill).map_err(x)?;
    }
    if !qs.is_empty() {
        let last = qs.len() as u32;
        let rule = DataValidation::new()
            .allow_text_length(DataValidationRule::LessThanOrEqualTo(MAX_TEXT_CHARS as u32))
            .set_error_title("Answer too long")
            .map_err(x)?
            .set_error_message("An answer holds at most 10 000 characters.")
            .map_err(x)?
            .set_input_message("Your answer to the question on this row")
            .map_err(x)?;
        ws.add_data_validation(1, 12, last, 12, &rule).map_err(x)?;
        let by = DataValidation::new()
            .allow_text_length(DataValidationRule::LessThanOrEqualTo(200))
            .set_error_message("A name holds at most 200 characters.")
            .map_err(x)?;
        ws.add_data_validation(1, 13, last, 13, &by).map_err(x)?;
    }
    ws.set_freeze_panes(1, 1).map_err(x)?;
    ws.protect_with_options(&ProtectionOptions {
        format_columns: true,
        format_rows: true,
        ..ProtectionOptions::default()
    });
    let bytes = wb.save_to_buffer().map_err(x)?;
    crate::files::write_atomic_to(&a.out, &bytes)?;
    Ok(QuestionsReport::Workbook {
        path: a.out.clone(),
        questions: qs.len(),
        city: ctx.registry.name_of(&city),
    })
}

/// Read the answers of a returned questions workbook. Every row with an answer must name a
/// pending question of the same city; any problem is located and nothing is recorded.
pub(crate) fn answer_from(ctx: &Ctx, file: &Path, by: &Option<String>) -> Result<QuestionsReport> {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let shown = file.display().to_string();
    let limits = crate::submission::Limits::default();
    let meta =
        std::fs::metadata(file).map_err(|e| Error::Usage(format!("cannot read {shown}: {e}")))?;
    if meta.len() > limits.max_file_bytes {
        return Err(Error::Usage(format!(
            "{shown} is larger than {} MB",
            limits.max_file_bytes >> 20
        )));
    }
    let mut wb: Xlsx<_> = open_workbook(file)
        .map_err(|e| Error::Usage(format!("{shown} is not a questions workbook: {e}")))?;
    let range = wb.worksheet_range("Questions").map_err(|_| {
        Error::Usage(format!(
            "{shown} has no sheet 'Questions'; give the file `u4ssc questions export` wrote"
        ))
    })?;
    let text = |d: &Data| -> String {
        match d {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) => format!("{f}"),
            Data::Int(i) => i.to_string(),
            other => other.to_string(),
        }
    };
    let mut rows = range.rows();
    let header: Vec<String> = rows
        .next()
        .map(|r| r.iter().map(text).collect())
        .unwrap_or_default();
    let mut findings: Vec<Finding> = Vec::new();
    for (c, want) in LOG_COLUMNS.iter().enumerate() {
        if header.get(c).map(|h| h.trim()) != Some(*want) {
            findings.push(
                Finding::error(
                    "questions_log_changed",
                    &shown,
                    format!("the heading should be '{want}'; the columns were moved or renamed"),
                )
                .at(1, Some(letter(c))),
            );
        }
    }
    // a row's Answered by, else --by, else the city: the answers are the city's words
    let given_by = by.as_ref().map(|_| author(by)).transpose()?;
    let store = ctx.open(Access::ReadOnly)?;
    let mut actions = Vec::new();
    let header_ok = findings.is_empty();
    for (i, row) in rows.enumerate() {
        if !header_ok {
            break;
        }
        let line = i + 2;
        let cell = |c: usize| row.get(c).map(text).unwrap_or_default().trim().to_string();
        let answer = cell(12);
        if answer.is_empty() {
            continue;
        }
        let at = |c: usize| Some(letter(c));
        let id = match cell(0).parse::<f64>() {
            Ok(f) if f.fract() == 0.0 && f > 0.0 => f as i64,
            _ => {
                findings.push(
                    Finding::error(
                        "bad_question_id",
                        &shown,
                        format!("{} is not a question number", crate::text::shown(&cell(0))),
                    )
                    .at(line, at(0)),
                );
                continue;
            }
        };
        let Some(q) = store.question(id)? else {
            findings.push(
                Finding::error(
                    "unknown_question",
                    &shown,
                    format!("there is no question {id}"),
                )
                .at(line, at(0)),
            );
            continue;
        };
        let city = cell(1);
        if ctx
            .registry
            .resolve(&city, None)
            .map(|(c, _)| c.slug.as_str())
            != Some(q.city.as_str())
        {
            findings.push(
                Finding::error(
                    "question_of_another_city",
                    &shown,
                    format!(
                        "question {id} is about {}, not {}",
                        ctx.registry.name_of(&q.city),
                        crate::text::shown(&city)
                    ),
                )
                .at(line, at(1)),
            );
            continue;
        }
        if !q.status.is_pending() {
            findings.push(
                Finding::error(
                    "question_not_open",
                    &shown,
                    format!(
                        "question {id} is {}; it takes no more answers",
                        q.status.as_str()
                    ),
                )
                .at(line, at(0)),
            );
            continue;
        }
        let answer = match clean_text("the answer", &answer, MAX_TEXT_CHARS) {
            Ok(t) => t,
            Err(e) => {
                findings.push(Finding::error("bad_answer", &shown, e.to_string()).at(line, at(12)));
                continue;
            }
        };
        let who = match cell(13) {
            t if t.is_empty() => given_by
                .clone()
                .unwrap_or_else(|| ctx.registry.name_of(&q.city)),
            t => match clean_text("Answered by", &t, 200) {
                Ok(t) => t,
                Err(e) => {
                    findings
                        .push(Finding::error("bad_answer", &shown, e.to_string()).at(line, at(13)));
                    continue;
                }
            },
        };
        actions.push((id, Action::Answer { text: answer }, who));
    }
    drop(store);
    if !findings.is_empty() {
        return Ok(QuestionsReport::Answers {
            file: shown,
            recorded: 0,
            problems: findings,
        });
    }
    let mut store = ctx.open(Access::ReadWrite)?;
    store.act(&actions)?;
    Ok(QuestionsReport::Answers {
        file: shown,
        recorded: actions.len(),
        problems: Vec::new(),
    })
}

pub(crate) fn letter(c: usize) -> String {
    crate::submission::read::column_letter(c)
}
