//! How the CLI writes the questions log's reports: a list as aligned columns, CSV or JSON,
//! a thread as text or JSON, and one line for each thing done.

use crate::error::Result;
use crate::progress::write_out as w;
use crate::questions::{Opened, QuestionsReport, Thread};
use crate::table::{to_json, OutputFormat, TextTable};
use std::io::Write;

/// A text on one line, shortened with an ellipsis.
fn one_line(s: &str, max: usize) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

pub fn questions(r: &QuestionsReport, format: OutputFormat, out: &mut dyn Write) -> Result<()> {
    match r {
        QuestionsReport::List { status, questions } => {
            if format == OutputFormat::Json {
                let qs: Vec<_> = questions.iter().map(|l| &l.question).collect();
                return w(out, &to_json(&qs));
            }
            let text = format == OutputFormat::Text;
            if text && questions.is_empty() {
                let which = if status == "all" { "" } else { status.as_str() };
                return w(out, &format!("no {which} questions\n").replace("no  ", "no "));
            }
            let mut t = TextTable::new(&[
                "id", "status", "city", "year", "kpi", "value", "asked_by", "asked_at", "answers",
                "question",
            ]);
            for l in questions {
                let q = &l.question;
                t.push(vec![
                    q.id.to_string(),
                    q.status_text(),
                    l.city.clone(),
                    q.year.to_string(),
                    l.label.clone(),
                    q.value
                        .map(|v| v.to_string())
                        .unwrap_or_else(|| if text { "-" } else { "" }.into()),
                    q.asked_by.clone(),
                    q.asked_at.clone(),
                    q.answers.to_string(),
                    if text {
                        one_line(&q.text, 70)
                    } else {
                        q.text.clone()
                    },
                ]);
            }
            w(out, &t.render(format))
        }
        QuestionsReport::Asked(o) => w(
            out,
            &format!(
                "question {} opened: {} {} {}{}\n",
                o.id,
                o.city,
                o.year,
                o.label,
                match (o.revision_id, o.value) {
                    (Some(r), Some(v)) => format!(", value {v} (revision {r})"),
                    (Some(r), None) => format!(", reported NR (revision {r})"),
                    _ => ", no value stored".to_string(),
                }
            ),
        ),
        QuestionsReport::FromFindings { opened, skipped } => {
            for Opened {
                id,
                city,
                year,
                label,
                origin,
                ..
            } in opened
            {
                w(
                    out,
                    &format!("question {id} opened: {city} {year} {label} [{origin}]\n"),
                )?;
            }
            w(
                out,
                &format!(
                    "{} question(s) opened, {skipped} already asked and still open\n",
                    opened.len()
                ),
            )
        }
        QuestionsReport::Done { id, what } => w(out, &format!("question {id} {what}\n")),
        QuestionsReport::Thread(t) => thread(t, format, out),
        QuestionsReport::Workbook {
            path,
            questions,
            city,
        } => w(
            out,
            &format!(
                "wrote {} ({questions} question(s) for {city}: the city writes in the Answer column; read it back with `u4ssc questions answer --from FILE`)\n",
                path.display(),
            ),
        ),
        QuestionsReport::Answers {
            file,
            recorded,
            problems,
        } => {
            if problems.is_empty() {
                return w(out, &format!("{file}: {recorded} answer(s) recorded\n"));
            }
            for f in problems {
                w(out, &format!("{f}\n"))?;
            }
            w(
                out,
                &format!("{file}: no answer recorded: fix the errors above and read it again\n"),
            )
        }
    }
}

fn thread(t: &Thread, format: OutputFormat, out: &mut dyn Write) -> Result<()> {
    let q = &t.question;
    if format == OutputFormat::Json {
        return w(
            out,
            &to_json(&serde_json::json!({ "question": q, "events": t.events })),
        );
    }
    let mut text = format!(
        "question {} — {} — {} {} {}\nvalue asked about: {}{}\n\n{} asked on {}:\n  {}\n",
        q.id,
        q.status_text(),
        t.city,
        q.year,
        t.label,
        q.value
            .map(|v| v.to_string())
            .unwrap_or_else(|| "none (NR or not stored)".into()),
        q.revision_id
            .map(|r| format!(" (revision {r})"))
            .unwrap_or_default(),
        q.asked_by,
        q.asked_at,
        q.text.replace('\n', "\n  ")
    );
    for e in &t.events {
        let what = match e.kind.as_str() {
            "answer" => "answered".to_string(),
            "value_changed" => "the value changed".to_string(),
            "close" => format!(
                "closed{}",
                match e.verified {
                    Some(true) => ", verified: YES",
                    Some(false) => ", verified: NO",
                    None => "",
                }
            ),
            "withdraw" => "withdrew it".to_string(),
            other => other.to_string(),
        };
        text.push_str(&format!("\n{} {what} on {}", e.author, e.at));
        match &e.text {
            Some(x) => text.push_str(&format!(":\n  {}\n", x.replace('\n', "\n  "))),
            None => text.push('\n'),
        }
    }
    w(out, &text)
}
