//! The command line's arguments of the scoring commands and the export: clap structs, the
//! parsers of `--level` and `--peers`, and their turning into the plain option structs the
//! use cases (`score_cmd`) take.

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::export::{ExportFormat, ExportOptions, PartitionBy};
use crate::registry::PeerSpec;
use crate::score_cmd::{
    CompareOptions, DiffOptions, ExplainOptions, RankOptions, RunSel, ScoreOptions,
};
use crate::scoring::engine::Level;
use crate::table::{DocFormat, OutputFormat};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ScoreArgs {
    /// Method file [default: kpis/methods/default.toml, embedded]
    #[arg(long)]
    pub method: Option<PathBuf>,
    /// Monte Carlo draws for rank intervals [default: the method file's]
    #[arg(long)]
    pub draws: Option<usize>,
    /// Output: text (the run and its overall ranking) or json (the run and every overall
    /// score of its latest year)
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
    /// Show the first N ranks only; 0 shows all [default: 20 on a terminal when more than
    /// 100 cities are ranked, else all]
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
}

#[derive(Debug, Args)]
pub struct RunSelArgs {
    /// Scoring run [default: the latest]
    #[arg(long)]
    pub run: Option<i64>,
    /// Year [default: the latest year in the run]
    #[arg(long)]
    pub year: Option<i32>,
}

#[derive(Debug, Args)]
pub struct RankArgs {
    /// The level ranked: overall, dimension, subdimension, category, kpi or data-point (or the
    /// level names of a framework's catalog)
    #[arg(long, default_value = "overall", value_parser = LevelParser, hide_possible_values = true)]
    pub level: LevelArg,
    /// Peer group: all, kostra=N, county=NAME, population=BAND, group=NAME, or like=CITY
    /// (CITY's KOSTRA group)
    #[arg(long, default_value = "all", value_parser = PeersParser, hide_possible_values = true)]
    pub peers: PeerSpec,
    #[command(flatten)]
    pub sel: RunSelArgs,
    /// Output: text (aligned columns), csv or json
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Show the first N ranks (of each node) only; 0 shows all [default: 20 for text on a
    /// terminal when more than 100 cities are ranked, else all]
    #[arg(long, value_name = "N")]
    pub top: Option<usize>,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// City slug, municipality number or name
    pub city: String,
    /// Cities to put side by side
    #[arg(long, num_args = 1..=3)]
    pub with: Vec<String>,
    /// Peer group for the comparison (as in rank) [default: all]
    #[arg(long, default_value = "all", value_parser = PeersParser, hide_possible_values = true)]
    pub peers: PeerSpec,
    #[command(flatten)]
    pub sel: RunSelArgs,
    /// Output: text (aligned columns), csv or json
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// City slug, municipality number or name
    pub city: String,
    /// KPI code (spaces optional) or data-point id
    pub kpi: String,
    /// Data point of a split KPI (3G, PM2.5, ...) [default: all of them]
    #[arg(long)]
    pub data_point: Option<String>,
    #[command(flatten)]
    pub sel: RunSelArgs,
    /// Output: text (the chain, line by line) or json (one object per data point)
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run (see `u4ssc runs`) [default: the one before the latest]
    pub run_a: Option<i64>,
    /// The later run [default: the latest]
    pub run_b: Option<i64>,
    /// The level ranked: overall, dimension, subdimension, category, kpi or data-point (or the
    /// level names of a framework's catalog)
    #[arg(long, default_value = "overall", value_parser = LevelParser, hide_possible_values = true)]
    pub level: LevelArg,
    /// Year [default: the latest year of the later run]
    #[arg(long)]
    pub year: Option<i32>,
    /// Output: text (aligned columns), csv or json
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Output directory (created if needed)
    #[arg(long)]
    pub out: PathBuf,
    /// Formats, comma-separated
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = vec![ExportFormat::Csv, ExportFormat::Json, ExportFormat::Parquet, ExportFormat::Xlsx, ExportFormat::Html, ExportFormat::Md, ExportFormat::Jsonld])]
    pub format: Vec<ExportFormat>,
    /// Only these cities (slug, number or name)
    #[arg(long, num_args = 1..)]
    pub city: Vec<String>,
    /// Only this year (profiles: the year shown) [default: all years; profiles: the latest]
    #[arg(long)]
    pub year: Option<i32>,
    /// Scoring run [default: the latest]
    #[arg(long)]
    pub run: Option<i64>,
    /// Add a sheet per city to the workbook (its aggregate scores, all years)
    #[arg(long)]
    pub xlsx_city_sheets: bool,
    /// Write each Parquet table that has this column as Hive-style folders
    /// (`aggregate_scores/year=2024/…`), read back as one table by DuckDB, Spark, Trino or Polars
    #[arg(long, value_enum)]
    pub partition_by: Option<PartitionBy>,
}

impl ExportArgs {
    pub fn options(&self) -> ExportOptions {
        ExportOptions {
            out: self.out.clone(),
            format: self.format.clone(),
            city: self.city.clone(),
            year: self.year,
            run: self.run,
            xlsx_city_sheets: self.xlsx_city_sheets,
            partition_by: self.partition_by,
        }
    }
}

impl RunSelArgs {
    fn options(&self) -> RunSel {
        RunSel {
            run: self.run,
            year: self.year,
        }
    }
}

impl ScoreArgs {
    pub fn options(&self) -> ScoreOptions {
        ScoreOptions {
            method: self.method.clone(),
            draws: self.draws,
        }
    }
}

impl RankArgs {
    /// The options, the level resolved against the catalog in use.
    pub fn options(&self, ctx: &Ctx) -> Result<RankOptions> {
        Ok(RankOptions {
            level: self.level.resolve(&ctx.catalog)?,
            peers: self.peers.clone(),
            sel: self.sel.options(),
        })
    }
}

impl CompareArgs {
    pub fn options(&self) -> CompareOptions {
        CompareOptions {
            city: self.city.clone(),
            with: self.with.clone(),
            peers: self.peers.clone(),
            sel: self.sel.options(),
        }
    }
}

impl ExplainArgs {
    pub fn options(&self) -> ExplainOptions {
        ExplainOptions {
            city: self.city.clone(),
            kpi: self.kpi.clone(),
            data_point: self.data_point.clone(),
            sel: self.sel.options(),
        }
    }
}

impl DiffArgs {
    /// The options, the level resolved against the catalog in use.
    pub fn options(&self, ctx: &Ctx) -> Result<DiffOptions> {
        Ok(DiffOptions {
            run_a: self.run_a,
            run_b: self.run_b,
            level: self.level.resolve(&ctx.catalog)?,
            year: self.year,
        })
    }
}

/// A level on the command line, by the key the catalog gives it: U4SSC's `overall`,
/// `dimension`, `subdimension`, `category`, `kpi`, `data-point`, or a framework's own level
/// names (`pillar`). Completions offer U4SSC's; the catalog in use decides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelArg(pub String);

impl LevelArg {
    /// The level this key names in the catalog, or an error that lists the catalog's levels.
    pub fn resolve(&self, c: &crate::catalog::Catalog) -> Result<Level> {
        c.level_by_key(&self.0).ok_or_else(|| {
            Error::Usage(format!(
                "--level {}: the catalog has no such level; its levels are {}",
                self.0,
                c.level_keys().join(", ")
            ))
        })
    }
}

/// clap's "invalid value" error for `value` of `arg`, listing the values it takes.
fn invalid_value(
    cmd: &clap::Command,
    arg: Option<&clap::Arg>,
    value: &str,
    valid: Vec<String>,
) -> clap::Error {
    use clap::error::{ContextKind, ContextValue};
    let mut err = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
    if let Some(a) = arg {
        err.insert(ContextKind::InvalidArg, ContextValue::String(a.to_string()));
    }
    err.insert(
        ContextKind::InvalidValue,
        ContextValue::String(value.to_string()),
    );
    err.insert(ContextKind::ValidValue, ContextValue::Strings(valid));
    err
}

#[derive(Clone)]
struct LevelParser;

const U4SSC_LEVELS: [&str; 6] = [
    "data-point",
    "kpi",
    "category",
    "subdimension",
    "dimension",
    "overall",
];

impl clap::builder::TypedValueParser for LevelParser {
    type Value = LevelArg;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<LevelArg, clap::Error> {
        let text = value
            .to_string_lossy()
            .trim()
            .to_lowercase()
            .replace('_', "-");
        if !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Ok(LevelArg(text));
        }
        Err(invalid_value(
            cmd,
            arg,
            &value.to_string_lossy(),
            U4SSC_LEVELS.iter().map(|l| l.to_string()).collect(),
        ))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            U4SSC_LEVELS
                .iter()
                .map(|l| clap::builder::PossibleValue::new(*l)),
        ))
    }
}

/// The kinds of peer group `--peers` takes: `all`, or `KIND=VALUE`.
/// The same, as completions offer them.
const PEER_STARTS: &[&str] = &["kostra=", "county=", "population=", "group=", "like="];

/// `--peers`: `all` or `KIND=VALUE` with a known kind, checked when the command line is
/// read; completions offer `all` and every `KIND=` to go on from.
#[derive(Clone)]
struct PeersParser;

impl clap::builder::TypedValueParser for PeersParser {
    type Value = PeerSpec;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<PeerSpec, clap::Error> {
        let text = value.to_string_lossy().into_owned();
        if let Some(spec) = PeerSpec::parse(&text) {
            return Ok(spec);
        }
        Err(invalid_value(
            cmd,
            arg,
            &text,
            std::iter::once("all".to_string())
                .chain(PeerSpec::KINDS.iter().map(|k| format!("{k}=VALUE")))
                .collect(),
        ))
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(
            std::iter::once(clap::builder::PossibleValue::new("all")).chain(
                PEER_STARTS
                    .iter()
                    .map(|k| clap::builder::PossibleValue::new(*k)),
            ),
        ))
    }
}
