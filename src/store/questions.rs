//! Questions on values, the verification round's KPI questions log: append-only like
//! revisions. A question is one row in `questions` (city, year, data point or the whole
//! city-year, its text, who asked, the revision and value asked about); every answer and
//! status change is a new row in `question_events`, never an edit. A question's status is the
//! status its newest event left it in (`open` with none).

use super::{db_error, Store};
use crate::error::{Error, Result};
use duckdb::{params, Connection};
use serde::Serialize;

/// The schema of the questions log (migration 7).
pub(super) const MIGRATION: &str = "CREATE TABLE questions (
        question_id BIGINT PRIMARY KEY,
        city VARCHAR NOT NULL, year INTEGER NOT NULL, data_point VARCHAR,
        text VARCHAR NOT NULL, asked_by VARCHAR NOT NULL,
        asked_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        revision_id BIGINT, value DOUBLE, origin VARCHAR NOT NULL
    );
    CREATE TABLE question_events (
        event_id BIGINT PRIMARY KEY, question_id BIGINT NOT NULL,
        kind VARCHAR NOT NULL, status VARCHAR NOT NULL, text VARCHAR, author VARCHAR NOT NULL,
        event_at TIMESTAMP NOT NULL DEFAULT current_timestamp, revision_id BIGINT, verified BOOLEAN
    );
    CREATE VIEW question_status AS
        SELECT q.*, coalesce(e.status, 'open') AS status, e.event_at AS changed_at,
               e.kind AS last_kind, e.revision_id AS last_revision,
               (SELECT count(*) FROM question_events a WHERE a.question_id = q.question_id AND a.kind IN ('answer', 'value_changed')) AS answers
        FROM questions q LEFT JOIN (
            SELECT * FROM question_events
            QUALIFY row_number() OVER (PARTITION BY question_id ORDER BY event_id DESC) = 1
        ) e USING (question_id);";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Open,
    Answered,
    Closed,
    Withdrawn,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Answered => "answered",
            Status::Closed => "closed",
            Status::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "open" => Some(Status::Open),
            "answered" => Some(Status::Answered),
            "closed" => Some(Status::Closed),
            "withdrawn" => Some(Status::Withdrawn),
            _ => None,
        }
    }
    /// Still waiting for someone: open or answered (the coordinator has not closed it).
    pub fn is_pending(self) -> bool {
        matches!(self, Status::Open | Status::Answered)
    }
}

/// How many questions a city-year has in each state (done: closed or withdrawn).
#[derive(Debug, Clone, Serialize)]
pub struct QuestionCount {
    pub city: String,
    pub year: i32,
    pub open: i64,
    pub answered: i64,
    pub done: i64,
}

/// A new question.
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub city: String,
    pub year: i32,
    pub data_point: Option<String>,
    pub text: String,
    pub asked_by: String,
    pub revision_id: Option<i64>,
    pub value: Option<f64>,
    /// `manual`, or the `check` rule it came from (`jump_from_previous_year`, …).
    pub origin: String,
}

/// A question with its current status.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub id: i64,
    pub city: String,
    pub year: i32,
    pub data_point: Option<String>,
    pub text: String,
    pub asked_by: String,
    pub asked_at: String,
    pub revision_id: Option<i64>,
    pub value: Option<f64>,
    pub origin: String,
    pub status: Status,
    pub answers: i64,
    /// The revision that changed the value, when that is what answered it last.
    pub changed_in: Option<i64>,
}

impl Question {
    /// The status as people read it: `answered (value changed in revision 3)`.
    pub fn status_text(&self) -> String {
        match (self.status, self.changed_in) {
            (Status::Answered, Some(r)) => format!("answered (value changed in revision {r})"),
            (s, _) => s.as_str().to_string(),
        }
    }
}

/// One event of a question's thread.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub kind: String,
    pub status: Status,
    pub text: Option<String>,
    pub author: String,
    pub at: String,
    pub revision_id: Option<i64>,
    pub verified: Option<bool>,
}

/// What a new event does.
#[derive(Debug, Clone)]
pub enum Action {
    Answer { text: String },
    Close { verified: Option<bool> },
    Withdraw,
}

const SELECT: &str = "SELECT question_id, city, year, data_point, text, asked_by,
        strftime(asked_at, '%Y-%m-%d %H:%M'), revision_id, value, origin, status, answers,
        last_kind, last_revision
    FROM question_status";

fn question_row(r: &duckdb::Row) -> duckdb::Result<Question> {
    let status: String = r.get(10)?;
    Ok(Question {
        id: r.get(0)?,
        city: r.get(1)?,
        year: r.get(2)?,
        data_point: r.get(3)?,
        text: r.get(4)?,
        asked_by: r.get(5)?,
        asked_at: r.get(6)?,
        revision_id: r.get(7)?,
        value: r.get(8)?,
        origin: r.get(9)?,
        status: Status::parse(&status).unwrap_or(Status::Open),
        answers: r.get(11)?,
        changed_in: match r.get::<_, Option<String>>(12)?.as_deref() {
            Some("value_changed") => r.get(13)?,
            _ => None,
        },
    })
}

impl Store {
    /// Open questions, in one transaction: all of them or none. Returns their ids.
    pub fn ask(&mut self, questions: &[NewQuestion]) -> Result<Vec<i64>> {
        let path = self.path.clone();
        let e = |e| db_error(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        let first: i64 = tx
            .query_row(
                "SELECT coalesce(max(question_id), 0) + 1 FROM questions",
                [],
                |r| r.get(0),
            )
            .map_err(e)?;
        // many rows per statement: one INSERT a row costs a millisecond each
        let ids: Vec<i64> = (0..questions.len() as i64).map(|i| first + i).collect();
        for (chunk, chunk_ids) in questions.chunks(256).zip(ids.chunks(256)) {
            let rows = vec!["(?, ?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ");
            let mut values: Vec<duckdb::types::Value> = Vec::with_capacity(chunk.len() * 9);
            for (q, id) in chunk.iter().zip(chunk_ids) {
                use duckdb::types::Value as V;
                values.extend([
                    V::BigInt(*id),
                    V::Text(q.city.clone()),
                    V::Int(q.year),
                    q.data_point.clone().map(V::Text).unwrap_or(V::Null),
                    V::Text(q.text.clone()),
                    V::Text(q.asked_by.clone()),
                    q.revision_id.map(V::BigInt).unwrap_or(V::Null),
                    q.value.map(V::Double).unwrap_or(V::Null),
                    V::Text(q.origin.clone()),
                ]);
            }
            tx.execute(
                &format!(
                    "INSERT INTO questions (question_id, city, year, data_point, text, asked_by, revision_id, value, origin) VALUES {rows}"
                ),
                duckdb::params_from_iter(values),
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(ids)
    }

    /// Questions, newest first, optionally of one city and of some statuses.
    pub fn questions(&self, city: Option<&str>, statuses: &[Status]) -> Result<Vec<Question>> {
        let all = self.all(
            &format!("{SELECT} WHERE ? IS NULL OR city = ? ORDER BY question_id DESC"),
            params![city, city],
            question_row,
        )?;
        Ok(all
            .into_iter()
            .filter(|q| statuses.is_empty() || statuses.contains(&q.status))
            .collect())
    }

    pub fn question(&self, id: i64) -> Result<Option<Question>> {
        Ok(self
            .all(
                &format!("{SELECT} WHERE question_id = ?"),
                params![id],
                question_row,
            )?
            .pop())
    }

    /// The thread of a question, oldest first.
    pub fn question_events(&self, id: i64) -> Result<Vec<Event>> {
        self.all(
            "SELECT kind, status, text, author, strftime(event_at, '%Y-%m-%d %H:%M'), revision_id, verified
             FROM question_events WHERE question_id = ? ORDER BY event_id",
            params![id],
            |r| {
                let status: String = r.get(1)?;
                Ok(Event {
                    kind: r.get(0)?,
                    status: Status::parse(&status).unwrap_or(Status::Open),
                    text: r.get(2)?,
                    author: r.get(3)?,
                    at: r.get(4)?,
                    revision_id: r.get(5)?,
                    verified: r.get(6)?,
                })
            },
        )
    }

    /// Every thread at once, by question (one query, for the TUI's snapshot).
    pub fn all_question_events(&self) -> Result<std::collections::HashMap<i64, Vec<Event>>> {
        let rows = self.all(
            "SELECT question_id, kind, status, text, author, strftime(event_at, '%Y-%m-%d %H:%M'), revision_id, verified
             FROM question_events ORDER BY question_id, event_id",
            [],
            |r| {
                let status: String = r.get(2)?;
                Ok((
                    r.get::<_, i64>(0)?,
                    Event {
                        kind: r.get(1)?,
                        status: Status::parse(&status).unwrap_or(Status::Open),
                        text: r.get(3)?,
                        author: r.get(4)?,
                        at: r.get(5)?,
                        revision_id: r.get(6)?,
                        verified: r.get(7)?,
                    },
                ))
            },
        )?;
        let mut out: std::collections::HashMap<i64, Vec<Event>> = Default::default();
        for (id, e) in rows {
            out.entry(id).or_default().push(e);
        }
        Ok(out)
    }

    /// Record answers and status changes, in one transaction: all or none. A closed or
    /// withdrawn question takes no more events; the error names it.
    pub fn act(&mut self, actions: &[(i64, Action, String)]) -> Result<()> {
        for (id, _, _) in actions {
            let q = self.question(*id)?.ok_or_else(|| {
                Error::Usage(format!(
                    "there is no question {id}; see `u4ssc questions list --status all`"
                ))
            })?;
            if !q.status.is_pending() {
                return Err(Error::Usage(format!(
                    "question {id} is {}; it takes no more answers or changes",
                    q.status.as_str()
                )));
            }
        }
        let path = self.path.clone();
        let e = |e| db_error(&path, e);
        let tx = self.conn.transaction().map_err(e)?;
        let next: i64 = tx
            .query_row(
                "SELECT coalesce(max(event_id), 0) + 1 FROM question_events",
                [],
                |r| r.get(0),
            )
            .map_err(e)?;
        for (i, (id, action, author)) in actions.iter().enumerate() {
            let (kind, status, text, verified) = match action {
                Action::Answer { text } => ("answer", Status::Answered, Some(text.as_str()), None),
                Action::Close { verified } => ("close", Status::Closed, None, *verified),
                Action::Withdraw => ("withdraw", Status::Withdrawn, None, None),
            };
            tx.execute(
                "INSERT INTO question_events (event_id, question_id, kind, status, text, author, verified) VALUES (?, ?, ?, ?, ?, ?, ?)",
                params![next + i as i64, id, kind, status.as_str(), text, author, verified],
            )
            .map_err(e)?;
        }
        tx.commit().map_err(e)?;
        Ok(())
    }

    /// Questions per city and year.
    pub fn question_counts(&self) -> Result<Vec<QuestionCount>> {
        self.all(
            "SELECT city, year, count(*) FILTER (status = 'open'), count(*) FILTER (status = 'answered'),
                    count(*) FILTER (status IN ('closed', 'withdrawn'))
             FROM question_status GROUP BY city, year ORDER BY city, year",
            [],
            |r| {
                Ok(QuestionCount {
                    city: r.get(0)?,
                    year: r.get(1)?,
                    open: r.get(2)?,
                    answered: r.get(3)?,
                    done: r.get(4)?,
                })
            },
        )
    }

    /// What `verify` checks of the questions log: events of questions that do not exist,
    /// statuses that are not one of the four, revisions that do not exist.
    pub(super) fn question_problems(&self) -> Result<Vec<String>> {
        let mut out = Vec::new();
        for (n,) in self.all(
            "SELECT count(*) FROM question_events WHERE question_id NOT IN (SELECT question_id FROM questions) HAVING count(*) > 0",
            [],
            |r| Ok((r.get::<_, i64>(0)?,)),
        )? {
            out.push(format!("{n} question events belong to no question"));
        }
        for (n,) in self.all(
            "SELECT count(*) FROM question_events WHERE status NOT IN ('open', 'answered', 'closed', 'withdrawn') HAVING count(*) > 0",
            [],
            |r| Ok((r.get::<_, i64>(0)?,)),
        )? {
            out.push(format!("{n} question events have an unknown status"));
        }
        for (id,) in self.all(
            "SELECT question_id FROM questions WHERE revision_id IS NOT NULL AND revision_id NOT IN (SELECT revision_id FROM revisions)",
            [],
            |r| Ok((r.get::<_, i64>(0)?,)),
        )? {
            out.push(format!("question {id} was asked about a revision that does not exist"));
        }
        Ok(out)
    }
}

/// Inside an import's transaction: every pending question on a value that the new revision
/// changes gets an event "value changed in revision N" and the status answered; the
/// coordinator still closes it.
pub(super) fn mark_changed(conn: &Connection, revision_id: i64) -> duckdb::Result<usize> {
    conn.execute(
        "INSERT INTO question_events (event_id, question_id, kind, status, text, author, revision_id)
         SELECT (SELECT coalesce(max(event_id), 0) FROM question_events) + row_number() OVER (ORDER BY q.question_id),
                q.question_id, 'value_changed', 'answered',
                'value changed in revision ' || CAST(? AS VARCHAR) || ': '
                    || coalesce(CAST(q.value AS VARCHAR), 'NR') || ' → ' || coalesce(CAST(o.value AS VARCHAR), 'NR'),
                'u4ssc import', ?
         FROM question_status q
         JOIN observations o ON o.revision_id = ? AND o.city = q.city AND o.year = q.year AND o.data_point = q.data_point
         WHERE q.status IN ('open', 'answered') AND o.value IS DISTINCT FROM q.value",
        params![revision_id, revision_id, revision_id],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(store: &mut Store) -> i64 {
        store
            .ask(&[NewQuestion {
                city: "bodo".into(),
                year: 2024,
                data_point: Some("ec-ict-ict-1c".into()),
                text: "Really 9 %?".into(),
                asked_by: "Kari".into(),
                revision_id: None,
                value: Some(9.0),
                origin: "manual".into(),
            }])
            .unwrap()[0]
    }

    #[test]
    fn a_thread_is_appended_never_edited() {
        let mut s = Store::open_in_memory().unwrap();
        let id = asked(&mut s);
        assert_eq!(s.question(id).unwrap().unwrap().status, Status::Open);
        s.act(&[(
            id,
            Action::Answer {
                text: "90 %, a typo".into(),
            },
            "Bodø".into(),
        )])
        .unwrap();
        s.act(&[(
            id,
            Action::Close {
                verified: Some(true),
            },
            "Kari".into(),
        )])
        .unwrap();
        let q = s.question(id).unwrap().unwrap();
        assert_eq!((q.status, q.answers), (Status::Closed, 1));
        let events = s.question_events(id).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].verified, Some(true));
        // closed takes nothing more, and a refused batch records nothing
        let other = asked(&mut s);
        let err = s.act(&[
            (other, Action::Withdraw, "Kari".into()),
            (id, Action::Withdraw, "Kari".into()),
        ]);
        assert!(err.is_err());
        assert_eq!(s.question(other).unwrap().unwrap().status, Status::Open);
        assert!(s.integrity().unwrap().is_empty());
    }

    #[test]
    fn verify_finds_an_event_without_its_question() {
        let mut s = Store::open_in_memory().unwrap();
        asked(&mut s);
        s.conn
            .execute_batch(
                "INSERT INTO question_events (event_id, question_id, kind, status, author) VALUES (99, 42, 'answer', 'answered', 'x');
                 INSERT INTO question_events (event_id, question_id, kind, status, author) VALUES (100, 1, 'answer', 'maybe', 'x');",
            )
            .unwrap();
        let problems = s.integrity().unwrap();
        assert!(
            problems.iter().any(|p| p.contains("belong to no question")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.contains("unknown status")),
            "{problems:?}"
        );
    }
}
