//! The command line's arguments of `u4ssc questions`, and their turning into the plain
//! options the verification round's use cases take.

use crate::questions::{
    AnswerOptions, AskOptions, CloseOptions, ListOptions, QuestionsAction, QuestionsOptions,
    ShowOptions, WithdrawOptions,
};
use crate::table::OutputFormat;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct QuestionsArgs {
    #[command(subcommand)]
    pub action: Option<QuestionsCmd>,
}

#[derive(Debug, Subcommand)]
pub enum QuestionsCmd {
    /// List questions (the open ones unless --status says otherwise)
    List(ListArgs),
    /// Open a question on a value, or one per warning of `check`
    #[command(after_help = "Examples:\n  \
u4ssc questions ask bodo 'EN: EN: WS: 4C' --data-point secondary --year 2024 --text 'Fell from 81 % to 8 %: a decimal slip?'\n  \
u4ssc questions ask bodo --year 2024 --text 'Core data points are missing: will they come?'\n  \
u4ssc check --db network.duckdb --format json bodo.xlsx > findings.json\n  \
u4ssc questions ask --from-findings findings.json")]
    Ask(AskArgs),
    /// Record an answer, or the answers of a returned questions workbook
    Answer(AnswerArgs),
    /// Close a question (the coordinator's last word), saying whether the value is verified
    Close(CloseArgs),
    /// Withdraw a question that should not have been asked
    Withdraw(WithdrawArgs),
    /// One question with its whole thread
    Show(ShowArgs),
    /// Write a city's pending questions as a workbook it fills (an Answer column to write in)
    Export(QuestionsExportArgs),
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this city's questions
    #[arg(long)]
    pub city: Option<String>,
    /// Which questions: open, answered, closed, withdrawn or all
    #[arg(long, default_value = "open")]
    pub status: String,
    /// Output: text (aligned columns), csv or json
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The city (slug, number or name)
    #[arg(required_unless_present = "from_findings")]
    pub city: Option<String>,
    /// The KPI (code or name); leave it out to ask about the whole city-year
    pub kpi: Option<String>,
    /// The data point of a split KPI (3G, PM2.5, secondary, …)
    #[arg(long)]
    pub data_point: Option<String>,
    /// The year of the value
    #[arg(long, required_unless_present = "from_findings")]
    pub year: Option<i32>,
    /// The question (`-` reads it from standard input)
    #[arg(long, required_unless_present = "from_findings")]
    pub text: Option<String>,
    /// Who asks (default: $USER)
    #[arg(long)]
    pub by: Option<String>,
    /// Open one question per warning (jump, implausible, peer outlier, missing core data
    /// points) of a `check --format json` output or of a submission checked here
    #[arg(long, value_name = "FILE", conflicts_with_all = ["city", "kpi", "text"])]
    pub from_findings: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// The question's number
    #[arg(required_unless_present = "from")]
    pub id: Option<i64>,
    /// The answer (`-` reads it from standard input)
    #[arg(long, required_unless_present = "from")]
    pub text: Option<String>,
    /// Who answers (default: $USER; for a workbook, each row's Answered by, else the city)
    #[arg(long)]
    pub by: Option<String>,
    /// A questions workbook written by `questions export` and filled by the city
    #[arg(long, value_name = "FILE.xlsx", conflicts_with_all = ["id", "text"])]
    pub from: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct CloseArgs {
    /// The question's number
    pub id: i64,
    /// Whether the value is verified now (the U4SSC "Verified: YES / NO")
    #[arg(long, value_parser = ["yes", "no"])]
    pub verified: Option<String>,
    /// Who closes it (default: $USER)
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct WithdrawArgs {
    /// The question's number
    pub id: i64,
    /// Who withdraws it (default: $USER)
    #[arg(long)]
    pub by: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The question's number
    pub id: i64,
    /// Output: text or json
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct QuestionsExportArgs {
    /// The city whose questions to write
    #[arg(long)]
    pub city: String,
    /// The workbook to write (.xlsx)
    #[arg(long)]
    pub out: PathBuf,
}

impl QuestionsExportArgs {
    pub fn options(&self) -> crate::questions::ExportOptions {
        crate::questions::ExportOptions {
            city: self.city.clone(),
            out: self.out.clone(),
        }
    }
}

impl ShowArgs {
    pub fn options(&self) -> ShowOptions {
        ShowOptions { id: self.id }
    }
}

impl WithdrawArgs {
    pub fn options(&self) -> WithdrawOptions {
        WithdrawOptions {
            id: self.id,
            by: self.by.clone(),
        }
    }
}

impl CloseArgs {
    pub fn options(&self) -> CloseOptions {
        CloseOptions {
            id: self.id,
            verified: self.verified.clone(),
            by: self.by.clone(),
        }
    }
}

impl AnswerArgs {
    pub fn options(&self) -> AnswerOptions {
        AnswerOptions {
            id: self.id,
            text: self.text.clone(),
            by: self.by.clone(),
            from: self.from.clone(),
        }
    }
}

impl AskArgs {
    pub fn options(&self) -> AskOptions {
        AskOptions {
            city: self.city.clone(),
            kpi: self.kpi.clone(),
            data_point: self.data_point.clone(),
            year: self.year,
            text: self.text.clone(),
            by: self.by.clone(),
            from_findings: self.from_findings.clone(),
        }
    }
}

impl ListArgs {
    pub fn options(&self) -> ListOptions {
        ListOptions {
            city: self.city.clone(),
            status: self.status.clone(),
        }
    }
}

impl QuestionsCmd {
    pub fn options(&self) -> QuestionsAction {
        match self {
            QuestionsCmd::List(x) => QuestionsAction::List(x.options()),
            QuestionsCmd::Ask(x) => QuestionsAction::Ask(x.options()),
            QuestionsCmd::Answer(x) => QuestionsAction::Answer(x.options()),
            QuestionsCmd::Close(x) => QuestionsAction::Close(x.options()),
            QuestionsCmd::Withdraw(x) => QuestionsAction::Withdraw(x.options()),
            QuestionsCmd::Show(x) => QuestionsAction::Show(x.options()),
            QuestionsCmd::Export(x) => QuestionsAction::Export(x.options()),
        }
    }
}

impl QuestionsArgs {
    pub fn options(&self) -> QuestionsOptions {
        QuestionsOptions {
            action: self.action.as_ref().map(|x| x.options()),
        }
    }

    /// The output format asked for (`list` and `show` take one; the rest write text).
    pub fn format(&self) -> OutputFormat {
        match &self.action {
            Some(QuestionsCmd::List(l)) => l.format,
            Some(QuestionsCmd::Show(s)) => s.format,
            _ => OutputFormat::Text,
        }
    }
}
