//! `u4ssc questions`: the verification round's KPI questions log on the command line — ask
//! about a value, list, answer, close or withdraw, open one question per `check` warning, and
//! send a city its log as a workbook to fill and read the answers back.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::store::{Access, Action, NewQuestion, Status, Store};
use crate::submission::{Finding, Severity, Subject};
use std::path::{Path, PathBuf};

mod sheet;
pub use sheet::*;

/// The most a question or an answer may hold; a longer text is refused.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// The `check` rules that a question is opened for.
const ASKED_RULES: &[&str] = &[
    "jump_from_previous_year",
    "implausible_value",
    "peer_outlier",
    "missing_core_kpi",
];

#[derive(Debug, Clone)]
pub struct QuestionsOptions {
    pub action: Option<QuestionsAction>,
}

#[derive(Debug, Clone)]
pub enum QuestionsAction {
    /// List questions (the open ones unless --status says otherwise)
    List(ListOptions),
    /// Open a question on a value, or one per warning of `check`
    Ask(AskOptions),
    /// Record an answer, or the answers of a returned questions workbook
    Answer(AnswerOptions),
    /// Close a question (the coordinator's last word), saying whether the value is verified
    Close(CloseOptions),
    /// Withdraw a question that should not have been asked
    Withdraw(WithdrawOptions),
    /// One question with its whole thread
    Show(ShowOptions),
    /// Write a city's pending questions as a workbook it fills (an Answer column to write in)
    Export(ExportOptions),
}

#[derive(Debug, Clone)]
pub struct ListOptions {
    /// Only this city's questions
    pub city: Option<String>,
    /// Which questions: open, answered, closed, withdrawn or all
    pub status: String,
}

#[derive(Debug, Clone)]
pub struct AskOptions {
    /// The city (slug, number or name)
    pub city: Option<String>,
    /// The KPI (code or name); leave it out to ask about the whole city-year
    pub kpi: Option<String>,
    /// The data point of a split KPI (3G, PM2.5, secondary, …)
    pub data_point: Option<String>,
    /// The year of the value
    pub year: Option<i32>,
    /// The question (`-` reads it from standard input)
    pub text: Option<String>,
    /// Who asks (default: $USER)
    pub by: Option<String>,
    /// Open one question per warning (jump, implausible, peer outlier, missing core data
    /// points) of a `check --format json` output or of a submission checked here
    pub from_findings: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct AnswerOptions {
    /// The question's number
    pub id: Option<i64>,
    /// The answer (`-` reads it from standard input)
    pub text: Option<String>,
    /// Who answers (default: $USER)
    pub by: Option<String>,
    /// A questions workbook written by `questions export` and filled by the city
    pub from: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct CloseOptions {
    /// The question's number
    pub id: i64,
    /// Whether the value is verified now (the U4SSC "Verified: YES / NO")
    pub verified: Option<String>,
    /// Who closes it (default: $USER)
    pub by: Option<String>,
}

#[derive(Debug, Clone)]
pub struct WithdrawOptions {
    /// The question's number
    pub id: i64,
    /// Who withdraws it (default: $USER)
    pub by: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ShowOptions {
    /// The question's number
    pub id: i64,
}

#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The city whose questions to write
    pub city: String,
    /// The workbook to write (.xlsx)
    pub out: PathBuf,
}

/// What a `questions` action did or found; the CLI writes it.
#[derive(Debug)]
pub enum QuestionsReport {
    /// The questions asked for, oldest first
    List {
        /// The status asked for (`open`, `all`, …)
        status: String,
        questions: Vec<Listed>,
    },
    /// One question opened by hand
    Asked(Opened),
    /// Questions opened for the warnings of `check`; `skipped` were asked already
    FromFindings { opened: Vec<Opened>, skipped: usize },
    /// A question answered, closed or withdrawn
    Done { id: i64, what: &'static str },
    /// One question with its whole thread
    Thread(Box<Thread>),
    /// A city's questions written as a workbook to fill
    Workbook {
        path: PathBuf,
        questions: usize,
        city: String,
    },
    /// A returned workbook read: the answers recorded, or the problems that kept every
    /// answer out
    Answers {
        file: String,
        recorded: usize,
        problems: Vec<Finding>,
    },
}

impl QuestionsReport {
    /// The exit status: 1 when a returned workbook was refused.
    pub fn code(&self) -> i32 {
        match self {
            QuestionsReport::Answers { problems, .. } if !problems.is_empty() => 1,
            _ => 0,
        }
    }
}

/// A question with the names people read: its city's and its data point's.
#[derive(Debug)]
pub struct Listed {
    pub question: crate::store::Question,
    pub city: String,
    pub label: String,
}

/// A question just opened.
#[derive(Debug)]
pub struct Opened {
    pub id: i64,
    pub city: String,
    pub year: i32,
    pub label: String,
    /// Why it was opened: `manual`, or the `check` rule
    pub origin: String,
    /// The stored value asked about and its revision, when there is one
    pub revision_id: Option<i64>,
    pub value: Option<f64>,
}

/// A question and its events (answers, value changes, closing).
#[derive(Debug)]
pub struct Thread {
    pub question: crate::store::Question,
    pub city: String,
    pub label: String,
    pub events: Vec<crate::store::Event>,
}

/// Who is acting: `--by`, else the login name.
fn author(by: &Option<String>) -> Result<String> {
    let name = by
        .clone()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "coordinator".to_string());
    clean_text("--by", &name, 200)
}

/// `--text -` reads the text from standard input (for long texts, or text a shell would mangle);
/// at most one more character than the limit is read, so the limit's message can say so.
fn text_arg(text: &str) -> Result<String> {
    if text != "-" {
        return Ok(text.to_string());
    }
    use std::io::Read;
    let mut buf = String::new();
    std::io::stdin()
        .take((MAX_TEXT_CHARS as u64 + 1) * 4)
        .read_to_string(&mut buf)
        .map_err(|e| Error::Usage(format!("cannot read the text from standard input: {e}")))?;
    Ok(buf)
}

/// A question's or an answer's text as it may be stored: not empty, at most `max`
/// characters, no control characters but line breaks and tabs (a terminal could run them).
/// A leading `=` is kept: every output that a spreadsheet reads neutralises it.
pub fn clean_text(what: &str, text: &str, max: usize) -> Result<String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(Error::Usage(format!("{what} is empty")));
    }
    let n = t.chars().count();
    if n > max {
        return Err(Error::Usage(format!(
            "{what} has {n} characters, more than {max}; shorten it"
        )));
    }
    if let Some((at, c)) = crate::text::first_control(t, true) {
        return Err(Error::Usage(format!(
            "{what} holds the control character {} at character {at}; remove it",
            crate::text::code_point(c)
        )));
    }
    Ok(t.to_string())
}

fn city_slug(ctx: &Ctx, text: &str) -> Result<String> {
    ctx.registry.slug_for(text, None)
}

/// The data point a KPI (code or name) and data point name.
fn data_point(ctx: &Ctx, kpi: &str, part: Option<&str>) -> Result<String> {
    use crate::catalog::{normalise_part, NameMatch};
    let mut dps = ctx.catalog.by_code(kpi);
    if dps.is_empty() {
        dps = match ctx.catalog.by_name(kpi) {
            NameMatch::DataPoint(d) => vec![d],
            NameMatch::Kpi(d) => d,
            NameMatch::Ambiguous(names) => {
                return Err(Error::Usage(format!(
                    "'{kpi}' could name several KPIs: {}; give the code",
                    names.join(", ")
                )))
            }
            NameMatch::Unknown(near) => {
                return Err(Error::Usage(format!(
                    "'{kpi}' is no KPI code or name{}",
                    if near.is_empty() {
                        "; see `u4ssc kpis`".to_string()
                    } else {
                        format!("; did you mean {}?", near.join(" or "))
                    }
                )))
            }
        };
    }
    let wanted = normalise_part(part.unwrap_or(""));
    if dps.len() == 1 && (wanted.is_empty() || normalise_part(&dps[0].part) == wanted) {
        return Ok(dps[0].id.clone());
    }
    dps.iter()
        .find(|d| normalise_part(&d.part) == wanted)
        .map(|d| d.id.clone())
        .ok_or_else(|| {
            Error::Usage(format!(
                "{} has the data points {}; choose one with --data-point",
                dps[0].code,
                dps.iter()
                    .map(|d| d.part.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        })
}

/// How a data point is named to people: `EN: EN: WS: 4C (secondary)`.
pub fn label(ctx: &Ctx, data_point: Option<&str>) -> String {
    match data_point {
        None => "(the whole city-year)".to_string(),
        Some(id) => ctx
            .catalog
            .get(id)
            .map(|d| d.label())
            .unwrap_or_else(|| id.to_string()),
    }
}

pub fn run(ctx: &Ctx, a: &QuestionsOptions) -> Result<QuestionsReport> {
    match &a.action {
        None => list(
            ctx,
            &ListOptions {
                city: None,
                status: "open".into(),
            },
        ),
        Some(QuestionsAction::List(l)) => list(ctx, l),
        Some(QuestionsAction::Ask(x)) => ask(ctx, x),
        Some(QuestionsAction::Answer(x)) => answer(ctx, x),
        Some(QuestionsAction::Close(x)) => {
            let verified = x.verified.as_deref().map(|v| v == "yes");
            act(ctx, x.id, Action::Close { verified }, &x.by, "closed")
        }
        Some(QuestionsAction::Withdraw(x)) => act(ctx, x.id, Action::Withdraw, &x.by, "withdrawn"),
        Some(QuestionsAction::Show(x)) => show(ctx, x),
        Some(QuestionsAction::Export(x)) => export(ctx, x),
    }
}

fn statuses(text: &str) -> Result<Vec<Status>> {
    match text {
        "all" => Ok(Vec::new()),
        s => Status::parse(s).map(|s| vec![s]).ok_or_else(|| {
            Error::Usage(format!(
                "--status {s}: use open, answered, closed, withdrawn or all"
            ))
        }),
    }
}

fn list(ctx: &Ctx, a: &ListOptions) -> Result<QuestionsReport> {
    let store = ctx.open(Access::ReadOnly)?;
    let city = a.city.as_deref().map(|c| city_slug(ctx, c)).transpose()?;
    let qs = store.questions(city.as_deref(), &statuses(&a.status)?)?;
    Ok(QuestionsReport::List {
        status: a.status.clone(),
        questions: qs
            .into_iter()
            .map(|q| Listed {
                city: ctx.registry.name_of(&q.city),
                label: label(ctx, q.data_point.as_deref()),
                question: q,
            })
            .collect(),
    })
}

/// The current value and revision of a city, year and data point, if the database holds one.
fn current(store: &Store, city: &str, year: i32, dp: &str) -> Result<Option<(i64, Option<f64>)>> {
    Ok(store
        .current_values_of(&[city.to_string()])?
        .into_iter()
        .find(|v| v.year == year && v.data_point == dp)
        .map(|v| (v.revision_id, v.value)))
}

fn ask(ctx: &Ctx, a: &AskOptions) -> Result<QuestionsReport> {
    if let Some(file) = &a.from_findings {
        return ask_from_findings(ctx, file, &a.by);
    }
    let (Some(city), Some(year), Some(text)) = (&a.city, a.year, &a.text) else {
        return Err(Error::Usage(
            "give CITY, --year and --text, or --from-findings FILE".into(),
        ));
    };
    let city = city_slug(ctx, city)?;
    let text = clean_text("--text", &text_arg(text)?, MAX_TEXT_CHARS)?;
    let by = author(&a.by)?;
    let mut store = ctx.open(Access::ReadWrite)?;
    let dp = a
        .kpi
        .as_deref()
        .map(|k| data_point(ctx, k, a.data_point.as_deref()))
        .transpose()?;
    let (revision_id, value) = match &dp {
        Some(dp) => match current(&store, &city, year, dp)? {
            Some((r, v)) => (Some(r), v),
            None => (None, None),
        },
        None => (None, None),
    };
    let ids = store.ask(&[NewQuestion {
        city: city.clone(),
        year,
        data_point: dp.clone(),
        text,
        asked_by: by,
        revision_id,
        value,
        origin: "manual".into(),
    }])?;
    Ok(QuestionsReport::Asked(Opened {
        id: ids[0],
        city: ctx.registry.name_of(&city),
        year,
        label: label(ctx, dp.as_deref()),
        origin: "manual".into(),
        revision_id,
        value,
    }))
}

/// The warnings of a `check --format json` output, or of a submission checked now.
fn warnings_of(ctx: &Ctx, file: &Path) -> Result<Vec<Finding>> {
    let is_json = file
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::Usage(format!("cannot read {}: {e}", file.display())))?;
        if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(&text)
        {
            let Some(serde_json::Value::Array(items)) = map.get("findings") else {
                return Err(Error::Usage(format!(
                    "{} is a JSON object without \"findings\"; give a `check --format json` output or a submission",
                    file.display()
                )));
            };
            let mut out = Vec::new();
            for (i, f) in items.iter().enumerate() {
                let rule = f.get("rule").and_then(|r| r.as_str()).unwrap_or("");
                let Some(rule) = ASKED_RULES.iter().find(|r| **r == rule) else {
                    continue;
                };
                let subject: Option<Subject> = f
                    .get("subject")
                    .and_then(|s| serde_json::from_value(s.clone()).ok());
                let message = f.get("message").and_then(|m| m.as_str()).unwrap_or("");
                let Some(subject) = subject else {
                    return Err(Error::Usage(format!(
                        "{}: finding {i} ({rule}) says nothing about which value it is; make it again with this u4ssc's `check --format json`",
                        file.display()
                    )));
                };
                out.push(
                    Finding::warning(rule, &file.display().to_string(), message).about(subject),
                );
            }
            return Ok(out);
        }
    }
    let store = if ctx.db_is_default {
        None
    } else {
        Some(Store::open(&ctx.db, Access::ReadOnly)?)
    };
    crate::import::findings_of(ctx, file, store.as_ref())
}

fn ask_from_findings(ctx: &Ctx, file: &Path, by: &Option<String>) -> Result<QuestionsReport> {
    let findings = warnings_of(ctx, file)?;
    if findings.iter().any(|f| f.severity == Severity::Error) {
        return Err(Error::Usage(format!(
            "{} has errors; fix them with `u4ssc check` before asking about its warnings",
            file.display()
        )));
    }
    let by = author(by)?;
    let mut store = ctx.open(Access::ReadWrite)?;
    let pending = store.questions(None, &[Status::Open, Status::Answered])?;
    // the stored values of the cities the warnings name, read once
    let mut cities: Vec<String> = findings
        .iter()
        .filter_map(|f| f.subject.as_ref().map(|s| s.city.clone()))
        .collect();
    cities.sort();
    cities.dedup();
    let stored: std::collections::HashMap<(String, i32, String), (i64, Option<f64>)> = store
        .current_values_of(&cities)?
        .into_iter()
        .map(|v| ((v.city, v.year, v.data_point), (v.revision_id, v.value)))
        .collect();
    let pending: std::collections::HashSet<(String, i32, Option<String>)> = pending
        .into_iter()
        .map(|q| (q.city, q.year, q.data_point))
        .collect();
    let mut new: Vec<NewQuestion> = Vec::new();
    let mut seen: std::collections::HashSet<(String, i32, Option<String>)> = Default::default();
    let mut skipped = 0;
    for f in findings {
        let (Some(s), true) = (&f.subject, ASKED_RULES.contains(&f.rule)) else {
            continue;
        };
        let key = (s.city.clone(), s.year, s.data_point.clone());
        if pending.contains(&key) || !seen.insert(key) {
            skipped += 1;
            continue;
        }
        let (revision_id, value) = match &s.data_point {
            Some(dp) => match stored.get(&(s.city.clone(), s.year, dp.clone())) {
                Some((r, v)) => (Some(*r), *v),
                None => (None, s.value),
            },
            None => (None, None),
        };
        new.push(NewQuestion {
            city: s.city.clone(),
            year: s.year,
            data_point: s.data_point.clone(),
            text: clean_text("the finding", &f.message, MAX_TEXT_CHARS)?,
            asked_by: by.clone(),
            revision_id,
            value,
            origin: f.rule.to_string(),
        });
    }
    let ids = store.ask(&new)?;
    let opened = ids
        .iter()
        .zip(new)
        .map(|(id, q)| Opened {
            id: *id,
            city: ctx.registry.name_of(&q.city),
            year: q.year,
            label: label(ctx, q.data_point.as_deref()),
            origin: q.origin,
            revision_id: q.revision_id,
            value: q.value,
        })
        .collect();
    Ok(QuestionsReport::FromFindings { opened, skipped })
}

fn act(
    ctx: &Ctx,
    id: i64,
    action: Action,
    by: &Option<String>,
    what: &'static str,
) -> Result<QuestionsReport> {
    let by = author(by)?;
    let mut store = ctx.open(Access::ReadWrite)?;
    store.act(&[(id, action, by)])?;
    Ok(QuestionsReport::Done { id, what })
}

fn answer(ctx: &Ctx, a: &AnswerOptions) -> Result<QuestionsReport> {
    if let Some(file) = &a.from {
        return answer_from(ctx, file, &a.by);
    }
    let (Some(id), Some(text)) = (a.id, &a.text) else {
        return Err(Error::Usage(
            "give ID and --text, or --from FILE.xlsx".into(),
        ));
    };
    let text = clean_text("--text", &text_arg(text)?, MAX_TEXT_CHARS)?;
    act(ctx, id, Action::Answer { text }, &a.by, "answered")
}

fn show(ctx: &Ctx, a: &ShowOptions) -> Result<QuestionsReport> {
    let store = ctx.open(Access::ReadOnly)?;
    let q = store
        .question(a.id)?
        .ok_or_else(|| Error::Usage(format!("there is no question {}", a.id)))?;
    let events = store.question_events(a.id)?;
    Ok(QuestionsReport::Thread(Box::new(Thread {
        city: ctx.registry.name_of(&q.city),
        label: label(ctx, q.data_point.as_deref()),
        question: q,
        events,
    })))
}
