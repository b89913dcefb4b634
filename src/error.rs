//! Errors a user can act on. Each variant's message says what went wrong, where, and what to do.

use std::path::PathBuf;

/// Everything that stops a command from running. Validation problems in a submission are not
/// errors of this kind: they are findings of the submission checks, reported all at once.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{file}:{line}:{column}: {message}")]
    Located {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("the database {path} is in use by another process (an import may be running); wait for it to finish and try again, or use --db to open another file")]
    Locked { path: PathBuf },
    #[error("database {path}: {message}")]
    Database { path: PathBuf, message: String },
    #[error("the database {path} was written by a newer u4ssc (schema version {found}, this program knows up to {known}); upgrade u4ssc")]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("{0}")]
    Usage(String),
    #[error("fetch failed, nothing was imported: {0}")]
    Fetch(String),
    #[error("{0}")]
    Invalid(String),
}

impl Error {
    /// Exit code: 2 for everything that kept the command from running.
    pub fn exit_code(&self) -> i32 {
        2
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// A TOML parse error as a located error (file:line:column) when TOML says where.
pub fn toml_error(origin: &str, text: &str, e: &toml::de::Error) -> Error {
    let message = e.message().to_string();
    match e.span() {
        Some(span) => {
            let (line, column) = crate::text::line_col(text, span.start);
            Error::Located {
                file: origin.to_string(),
                line,
                column,
                message,
            }
        }
        None => Error::Invalid(format!("{origin}: {message}")),
    }
}
