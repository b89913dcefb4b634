//! Submissions: reading CSV, XLSX and JSON files into one table shape, and validating them
//! against the catalog and registry. Nothing here touches the database.

pub mod annotate;
pub mod bulk;
pub mod layout;
pub mod read;
pub mod template;
pub mod units;
pub mod validate;
pub mod values;

pub use read::{read_table, Format, Limits, Table};
pub use validate::{validate, Observation};

use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// One problem in a submission, located as precisely as the format allows.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub rule: &'static str,
    pub file: String,
    /// 1-based line (CSV, JSON) or row (XLSX); None for findings about the whole file.
    pub line: Option<usize>,
    /// Column number (CSV), letter (XLSX) or key (JSON), with the header name where known.
    pub column: Option<String>,
    pub message: String,
    /// The value a warning is about (jump, implausible, peer outlier; a city-year for missing
    /// core data points), so that `questions ask --from-findings` can ask about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<Subject>,
}

/// What a finding is about: a city, year and data point (None: the whole city-year) and the
/// value the file gave it.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Subject {
    pub city: String,
    pub year: i32,
    #[serde(default)]
    pub data_point: Option<String>,
    #[serde(default)]
    pub value: Option<f64>,
}

impl Finding {
    pub fn error(rule: &'static str, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Error,
            rule,
            file: file.to_string(),
            line: None,
            column: None,
            message: message.into(),
            subject: None,
        }
    }
    pub fn warning(rule: &'static str, file: &str, message: impl Into<String>) -> Finding {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(rule, file, message)
        }
    }
    pub fn about(mut self, subject: Subject) -> Finding {
        self.subject = Some(subject);
        self
    }
    pub fn at(mut self, line: usize, column: Option<String>) -> Finding {
        self.line = Some(line);
        self.column = column;
        self
    }
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = &self.column {
                write!(f, ":{c}")?;
            }
        }
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, ": {sev}[{}]: {}", self.rule, self.message)
    }
}
/// Findings as text, one a line; a rule that fires on more than three rows is shown once in
/// full and then as one line with its count and first locations (JSON and CSV keep each).
pub fn grouped_text(findings: &[Finding]) -> String {
    const SHOWN: usize = 3;
    let mut count: HashMap<(Severity, &str, &str), usize> = HashMap::new();
    for f in findings.iter().filter(|f| f.line.is_some()) {
        *count
            .entry((f.severity, f.rule, f.file.as_str()))
            .or_default() += 1;
    }
    let mut done: std::collections::HashSet<(Severity, &str, &str)> = Default::default();
    let mut text = String::new();
    for f in findings {
        let key = (f.severity, f.rule, f.file.as_str());
        let n = if f.line.is_some() { count[&key] } else { 1 };
        if n <= SHOWN {
            text.push_str(&format!("{f}\n"));
            continue;
        }
        if !done.insert(key) {
            continue;
        }
        text.push_str(&format!("{f}\n"));
        let at: Vec<String> = findings
            .iter()
            .filter(|g| (g.severity, g.rule, g.file.as_str()) == key)
            .take(6)
            .map(|g| {
                let column = g
                    .column
                    .as_deref()
                    .and_then(|c| c.split(' ').next())
                    .map(|c| format!(":{c}"))
                    .unwrap_or_default();
                format!("{}{column}", g.line.unwrap_or(0))
            })
            .collect();
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        text.push_str(&format!(
            "{}: {sev}[{}] × {n}, first at {} … (--format json lists every one)\n",
            f.file,
            f.rule,
            at.join(", ")
        ));
    }
    text
}
