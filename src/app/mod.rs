//! The commands. `main.rs` parses the command line into [`Cli`] and calls [`run`]; every
//! command returns the exit code (0 ok, 1 problems found in the input) or an [`Error`] (2).

use crate::demo::{self, DemoSpec, SYNTHETIC_LABEL};
use crate::error::{Error, Result};
use crate::import;
use crate::store::{Access, NewRevision, Store};
use crate::submission::layout::Given;
use crate::submission::validate::{self, Options};
use crate::submission::{Finding, Limits, Severity};
use crate::table::{to_json, DocFormat, OutputFormat, TextTable};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

mod args;
mod check;
mod fetch_args;
mod framework;
mod info;
mod questions_args;
mod render;
mod render_outcome;
mod render_questions;
pub use args::*;
pub use check::*;
pub use fetch_args::*;
pub use framework::*;
pub use info::*;
pub use questions_args::*;

macro_rules! submission_help {
    () => {
        "\
SUBMISSION FORMAT
  A long table, one row per city x year x data point, as CSV (comma or semicolon separated,
  UTF-8, with or without BOM), XLSX (first visible sheet) or JSON (an array of objects).
  Header names are matched case-insensitively.

  required  city        slug, municipality number or name (see `u4ssc cities`)
            year        four digits
            kpi         U4SSC code, spaces optional: 'EC: ICT: ICT: 4C' or 'EC:ICT:ICT:4C'
            value       the number; decimal comma or point; spaces between thousands;
                        a trailing % for percentages; yes/no (ja/nei) for yes/no KPIs;
                        empty, NR, Not Reported or N/A when not reported
  optional  data_point  empty unless the KPI is split (3G, 4G, PM2.5, walking, ...)
            unit        checked against the catalog unit when given
            numerator, denominator
                        the value is computed from them; a given value must agree
            quality     1-6 or a U4SSC data-quality level (1 = accurate measurement)
            origin, source, note
                        free text (a leading = or @ is refused: it would run as a formula)
            verified    yes/no

OTHER SHAPES (told by the header)
  kpi, data_point, 2019, 2020, ...      years as columns, one city (city column or --city)
  kpi, data_point, Trondheim, Bodø, ... cities as columns, one year (year column or --year)
  kpi named by its English or Norwegian name ('Household Internet Access',
  'Husholdninger med internettilgang') instead of its code
  a workbook made by `u4ssc template`, as the city filled it

EXIT CODES
  0  no errors (warnings may have been printed)
  1  the input has errors; nothing was imported
  2  the command could not run (unreadable catalog, locked database, bad option)"
    };
}

#[derive(Debug, Parser)]
#[command(
    name = "u4ssc",
    version,
    about = "Benchmark cities on the U4SSC KPIs for Smart Sustainable Cities (ITU-T Y.4903)"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    /// No progress line on long work (it is never shown when standard error is not a
    /// terminal)
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

const RANK_EXAMPLES: &str = "Examples:
  u4ssc rank                                      overall, latest year, all cities
  u4ssc rank --level dimension --year 2023
  u4ssc rank --peers kostra=12 --format csv       within KOSTRA group 12";

const EXPORT_EXAMPLES: &str = "Examples:
  u4ssc export --out results                      every table, profile and the workbook
  u4ssc export --out t --format csv,parquet --year 2024
  u4ssc export --out p --city trondheim --format html,md";

#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Global options")]
pub struct Global {
    /// DuckDB database file [default: the user data directory, u4ssc/u4ssc.duckdb, filled with
    /// the 17-city demo on first use]
    #[arg(long, global = true, env = "U4SSC_DB")]
    pub db: Option<PathBuf>,
    /// KPI catalog file [default: the embedded kpis/catalog.toml]
    #[arg(long, global = true, env = "U4SSC_CATALOG")]
    pub catalog: Option<PathBuf>,
    /// City registry file [default: the embedded cities/registry.toml]
    #[arg(long, global = true, env = "U4SSC_REGISTRY")]
    pub registry: Option<PathBuf>,
    /// Largest submission file accepted, in MB
    #[arg(long, global = true, default_value_t = 100)]
    pub max_file_mb: u64,
    /// Most rows accepted in one submission file
    #[arg(long, global = true, default_value_t = 2_000_000)]
    pub max_rows: usize,
    /// Longest cell accepted, in characters
    #[arg(long, global = true, default_value_t = 10_000)]
    pub max_field_chars: usize,
    /// Memory the database engine may use for data, in MB [default: 256; 512 for export];
    /// larger work (a world-scale import or run) spills to a temporary directory beside the
    /// database
    #[arg(long, global = true, env = "U4SSC_MEMORY_MB")]
    pub memory_mb: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The terminal UI (also what `u4ssc` alone opens in a terminal)
    Tui,
    /// Validate submission files without touching the database
    #[command(after_help = concat!(
        "Examples:\n",
        "  u4ssc check trondheim-2025.csv                  every problem, with file:line:column\n",
        "  u4ssc check --db network.duckdb bodo.xlsx       also compare with last year's values\n",
        "  u4ssc check --format json *.csv > findings.json\n\n",
        submission_help!()
    ))]
    Check(CheckArgs),
    /// Validate and import submission files, each as one revision (all or nothing)
    #[command(after_help = concat!(
        "Examples:\n",
        "  u4ssc import trondheim-2025.csv                 one revision, all or nothing\n",
        "  u4ssc import --dry-run corrected.csv            what would change; nothing written\n\n",
        submission_help!()
    ))]
    Import(ImportArgs),
    /// Write the workbook a city fills: one row per data point, drop-downs, locked structure
    #[command(after_help = "Examples:\n  \
u4ssc template --city bodo --year 2025 --out bodo-2025.xlsx\n  \
u4ssc template --city all --year 2025 --lang nb --db network.duckdb --out templates/\n\n\
The city fills the yellow cells in Excel or LibreOffice; `u4ssc check FILE` and\n\
`u4ssc import FILE` read the workbook as it is. With --db, each row shows the city's\n\
latest earlier value.")]
    Template(TemplateArgs),
    /// The questions log of the verification round: ask about values, answer, close
    #[command(after_help = "Examples:\n  \
u4ssc questions                                       the open questions\n  \
u4ssc questions ask bodo 'EN: EN: WS: 4C' --data-point secondary --year 2024 --text 'A decimal slip?'\n  \
u4ssc questions export --city bodo --out bodo-questions.xlsx\n  \
u4ssc questions answer --from bodo-questions.xlsx\n  \
u4ssc questions close 3 --verified yes")]
    Questions(QuestionsArgs),
    /// Which city has reported which data points for which year
    Status(FormatArg),
    /// List the stored revisions (imported files)
    Revisions(FormatArg),
    /// Check the database's consistency (after a crash, say): exit 1 if anything is off
    Verify(VerifyArgs),
    /// List the KPI catalog
    Kpis(KpisArgs),
    /// List the city registry
    Cities(FormatArg),
    /// Generate a synthetic demo submission (deterministic)
    Demo(DemoArgs),
    /// Compute every score for the current data and store it as a run
    Score(ScoreArgs),
    /// List the scoring runs
    Runs(FormatArg),
    /// Rank cities at a level, with rank intervals
    #[command(after_help = RANK_EXAMPLES)]
    Rank(RankArgs),
    /// A city against its peers, or side by side with up to three others
    Compare(CompareArgs),
    /// The whole chain behind one city's score for one KPI
    Explain(ExplainArgs),
    /// Which ranks and bands moved between two runs
    Diff(DiffArgs),
    /// Write scores, ranks, peers, trends and city profiles (CSV, JSON, Parquet, XLSX, HTML, MD, JSON-LD)
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Fetch official statistics (Statistics Norway) and import them
    Fetch {
        #[command(subcommand)]
        source: FetchSource,
    },
    /// Run the composite-indicator pipeline on a framework in COINr's iData/iMeta format
    Pipeline(PipelineArgs),
    /// Turn a framework in COINr's iData/iMeta format into a catalog, registry, submission and
    /// method, so that import, score, rank, compare, export and the TUI work on it
    Framework(FrameworkArgs),
    /// Shell completions on standard output, e.g. `u4ssc completions bash > ~/.local/share/bash-completion/completions/u4ssc`
    Completions {
        /// The shell to complete for
        shell: clap_complete::Shell,
    },
    /// The manual page (roff) on standard output: `u4ssc man > u4ssc.1 && man -l u4ssc.1`
    Man,
}

#[derive(Debug, Args)]
pub struct FrameworkArgs {
    /// iData CSV: one row per unit and year (uCode, uName, Time, groups, denominators, indicators)
    #[arg(long)]
    pub idata: PathBuf,
    /// iMeta CSV: one row per indicator, aggregate, group or denominator
    #[arg(long)]
    pub imeta: PathBuf,
    /// Directory for catalog.toml, registry.toml, values.csv and method.toml
    #[arg(long)]
    pub out: PathBuf,
    /// The framework's name [default: the iMeta file's directory name]
    #[arg(long)]
    pub name: Option<String>,
    /// Names of the framework's levels, as COINr's `level_names`: one per level from the
    /// indicators (level 1) to the index, comma-separated, e.g. "Indicator,Pillar,Sub-index,Index"
    /// [default: "Level 2", "Level 3", … for the aggregate levels]
    #[arg(long, value_delimiter = ',', value_name = "NAMES")]
    pub level_names: Option<Vec<String>>,
}

#[derive(Debug, Args)]
pub struct PipelineArgs {
    /// iData CSV: one row per unit (uCode, uName, Time, groups, denominators, indicators)
    #[arg(long)]
    pub idata: PathBuf,
    /// iMeta CSV: one row per indicator, aggregate, group or denominator
    #[arg(long)]
    pub imeta: PathBuf,
    /// Method file (TOML; see kpis/methods/coinr-asem.toml)
    #[arg(long)]
    pub method: PathBuf,
    /// Directory for stage_*.csv and results.csv
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct FormatArg {
    /// Output: text (aligned columns), csv or json
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
    Csv,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Submission files (.csv, .xlsx, .json)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Output: text (one finding a line, file:line:column; a rule on many rows grouped),
    /// json or csv (every finding)
    #[arg(long, value_enum, default_value_t = CheckFormat::Text)]
    pub format: CheckFormat,
    /// Warn when a value changes by more than this factor from the city's previous year
    /// (previous years come from --db when it is given)
    #[arg(long, default_value_t = 3.0)]
    pub jump_factor: f64,
    /// Count warnings as problems (exit 1)
    #[arg(long)]
    pub strict: bool,
    /// Also write the file back as a workbook with every finding marked on its cell
    /// (error red, warning amber, the message as a comment) and a Findings sheet
    #[arg(long, value_name = "OUT.xlsx")]
    pub annotate: Option<PathBuf>,
    /// Last year's file, for the jump check without a database
    #[arg(long, value_name = "FILE")]
    pub previous: Option<PathBuf>,
    /// With --db: warn about a value beyond 3 × the interquartile range of the other cities'
    /// values and at least this many times their median (or this fraction of it)
    #[arg(long, default_value_t = 10.0)]
    pub peer_factor: f64,
    /// The city of a file that does not name it (years as columns, or no city column)
    #[arg(long, value_name = "CITY")]
    pub city: Option<String>,
    /// The year of a file that does not name it (cities as columns, or no year column)
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Output: text (one problem a line) or json ({consistent, problems, …})
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
}

#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// The city (slug, number or name), or `all` for one file per registry city
    #[arg(long)]
    pub city: String,
    /// The year the values are for
    #[arg(long)]
    pub year: i32,
    /// Language of the headings, lists and instructions
    #[arg(long, value_enum, default_value_t = crate::submission::template::Lang::En)]
    pub lang: crate::submission::template::Lang,
    /// The file to write (.xlsx); with --city all, a directory for one file per city
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Submission files (.csv, .xlsx, .json)
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Show what would change; import nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Warn when a value changes by more than this factor from the city's stored previous year
    #[arg(long, default_value_t = 3.0)]
    pub jump_factor: f64,
    /// Output: text (findings and one line per file) or json (one object per file: outcome,
    /// revision, row counts, every finding)
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
    /// The city of a file that does not name it (years as columns, or no city column)
    #[arg(long, value_name = "CITY")]
    pub city: Option<String>,
    /// The year of a file that does not name it (cities as columns, or no year column)
    #[arg(long, value_name = "YEAR")]
    pub year: Option<i32>,
}

#[derive(Debug, Args)]
pub struct KpisArgs {
    /// Only data points whose id, code or name contains TEXT
    #[arg(long)]
    pub search: Option<String>,
    /// Output: text (aligned columns), csv or json
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of cities (the registry's first, then synthetic ones)
    #[arg(long, default_value_t = 17)]
    pub cities: usize,
    /// Number of years, ending in --last-year
    #[arg(long, default_value_t = 6)]
    pub years: i32,
    /// The last year of the generated data
    #[arg(long, default_value_t = 2024)]
    pub last_year: i32,
    /// Seed of the generator: the same seed gives the same file
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Output CSV; with more cities than the registry has, a registry for the synthetic
    /// cities is written beside it as FILE.cities.toml
    #[arg(long)]
    pub out: PathBuf,
}

pub use crate::context::{default_db_path, Ctx};

/// The database engine's memory in MB when `--memory-mb` is not given.
pub const MEMORY_MB: u64 = 256;
/// ... for `export`: it sorts the large tables once each, and with 256 MB DuckDB spends more
/// time spilling them to disk than writing them (the 10 000-city world's `--format
/// csv,parquet`: 149 s at 704 MB with 256, 116 s at 731 MB with 512).
pub const EXPORT_MEMORY_MB: u64 = 512;

impl Global {
    /// The options as the plain settings a context is built from, for `command`.
    pub fn settings(&self, command: Option<&Command>) -> crate::context::Settings {
        crate::context::Settings {
            db: self.db.clone(),
            catalog: self.catalog.clone(),
            registry: self.registry.clone(),
            limits: Limits {
                max_file_bytes: self.max_file_mb.saturating_mul(1024 * 1024),
                max_rows: self.max_rows,
                max_field_chars: self.max_field_chars,
            },
            memory_mb: self.memory_mb.unwrap_or(match command {
                Some(Command::Export(_)) => EXPORT_MEMORY_MB,
                _ => MEMORY_MB,
            }),
        }
    }
}

/// The default database is made on first use with the 17-city demo: an explicit step of
/// the commands that read or write the database, never a side effect of opening it.
pub fn seed_demo_if_missing(ctx: &Ctx) -> Result<()> {
    if ctx.db_is_default && !ctx.db.exists() {
        let mut store = crate::store::Store::open(&ctx.db, Access::ReadWrite)?;
        load_demo(ctx, &mut store)?;
    }
    Ok(())
}

/// What a command needs of the database: nothing, the registry's stored populations, or
/// the database itself (the default one seeded with the demo on first use). `Database` says
/// how the command opens it first, when it opens it once with one access and nothing else
/// before: the store read for the populations is then kept for it. The TUI, questions and
/// fetch open it in more ways and get a store of their own.
#[derive(PartialEq, Eq)]
enum DbUse {
    None,
    Populations,
    Database(Option<Access>),
}

fn db_use(command: &Option<Command>) -> DbUse {
    match command {
        // check and template read the database only when --db names one (for earlier values),
        // never the default one, and no population
        Some(
            Command::Kpis(_)
            | Command::Pipeline(_)
            | Command::Framework(_)
            | Command::Check(_)
            | Command::Template(_)
            | Command::Completions { .. }
            | Command::Man,
        ) => DbUse::None,
        Some(Command::Cities(_) | Command::Demo(_)) => DbUse::Populations,
        Some(Command::Import(_) | Command::Score(_)) => DbUse::Database(Some(Access::ReadWrite)),
        Some(
            Command::Status(_)
            | Command::Revisions(_)
            | Command::Runs(_)
            | Command::Rank(_)
            | Command::Compare(_)
            | Command::Explain(_)
            | Command::Diff(_)
            | Command::Export(_),
        ) => DbUse::Database(Some(Access::ReadOnly)),
        // without a command: status when the output is not a terminal, else the TUI
        None if !std::io::IsTerminal::is_terminal(&std::io::stdout()) => {
            DbUse::Database(Some(Access::ReadOnly))
        }
        _ => DbUse::Database(None),
    }
}

/// Put the 17-city demo (synthetic) into a fresh store.
fn load_demo(ctx: &Ctx, store: &mut Store) -> Result<()> {
    let cities = demo::world_cities(&ctx.registry, ctx.registry.cities.len());
    let mut buf = Vec::new();
    demo::write_csv(
        &mut buf,
        &ctx.catalog,
        &cities,
        &DemoSpec {
            years: 2019..=2024,
            seed: 2026,
        },
    )
    .map_err(|source| Error::Write {
        path: ctx.db.clone(),
        source,
    })?;
    // read from memory: a temporary file named by the process once let two threads seeding at
    // once delete each other's file
    let table = crate::submission::read::read_csv("demo-17-cities.csv", &buf, &Limits::default())
        .map(|mut t| {
            t.content_hash = crate::submission::read::hash(&buf);
            t
        });
    let table =
        table.map_err(|f| Error::Invalid(format!("the demo data did not read back: {}", f[0])))?;
    let checked = validate::validate(&table, &ctx.catalog, &ctx.registry, &Options::default());
    if checked.errors() > 0 {
        return Err(Error::Invalid(format!(
            "the demo data did not validate: {}",
            checked.findings[0]
        )));
    }
    store.insert_revision(
        &NewRevision {
            source_file: "demo: 17 cities 2019-2024 (SYNTHETIC)",
            content_hash: &table.content_hash,
            format: "csv",
            kind: crate::store::RevisionKind::Demo,
        },
        &checked.observations,
    )?;
    let m = crate::scoring::method::Method::parse(crate::scoring::method::DEFAULT, "default")?;
    crate::score_cmd::score_into(ctx, store, &m, crate::scoring::method::DEFAULT, None)?;
    eprintln!(
        "created {} with the 17-city demo ({SYNTHETIC_LABEL}, not real city data)",
        ctx.db.display()
    );
    Ok(())
}

/// Completions and the manual page come from the one clap definition; they need no
/// catalog, registry or database.
fn generated(command: &Command, out: &mut dyn Write) -> Option<Result<i32>> {
    use clap::CommandFactory;
    // into memory first: clap_complete panics when its writer fails (`| head`)
    let mut text = Vec::new();
    let rendered = match command {
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            clap_complete::generate(*shell, &mut cmd, "u4ssc", &mut text);
            Ok(())
        }
        Command::Man => clap_mangen::Man::new(Cli::command()).render(&mut text),
        _ => return None,
    };
    Some(
        rendered
            .and_then(|()| out.write_all(&text))
            .and_then(|()| out.flush())
            .map(|()| 0)
            .map_err(|source| Error::Write {
                path: "<stdout>".into(),
                source,
            }),
    )
}

/// What `u4ssc --version` says: the program, the embedded catalog's version, the database
/// schema this program writes and the bundled DuckDB.
pub fn long_version() -> String {
    let catalog = crate::catalog::Catalog::embedded()
        .map(|c| format!("{} ({})", c.info.version, c.info.edition))
        .unwrap_or_else(|e| format!("unreadable: {e}"));
    let duckdb = Store::duckdb_version().unwrap_or_else(|e| format!("unknown: {e}"));
    format!(
        "{}\ncatalog {catalog}\ndatabase schema {}\nDuckDB {duckdb} (bundled)",
        env!("CARGO_PKG_VERSION"),
        crate::store::SCHEMA_VERSION
    )
}

pub fn run(cli: Cli) -> Result<i32> {
    // with U4SSC_TRACE set, phase timings count from here
    let trace = crate::trace::Trace::new();
    trace.mark("started");
    crate::progress::set_quiet(cli.quiet);
    if let Some(command) = &cli.command {
        let mut out = crate::text::Printable::new(std::io::stdout().lock());
        if let Some(done) = generated(command, &mut out) {
            return done;
        }
    }
    let mut ctx = Ctx::new(&cli.global.settings(cli.command.as_ref()))?;
    trace.mark("catalog and registry read");
    match db_use(&cli.command) {
        DbUse::None => {}
        DbUse::Populations => ctx = ctx.with_stored_populations(None),
        DbUse::Database(keep) => {
            seed_demo_if_missing(&ctx)?;
            ctx = ctx.with_stored_populations(keep);
        }
    }
    trace.mark("database open");
    // stored text is made visible, never run: a control character in a name or source
    // cannot drive the terminal
    let mut out = crate::text::Printable::new(std::io::stdout().lock());
    let code = match cli.command {
        None if std::io::IsTerminal::is_terminal(&std::io::stdout()) => crate::tui::run(&ctx)?,
        None => status(&ctx, OutputFormat::Text, &mut out)?,
        Some(Command::Tui) => crate::tui::run(&ctx)?,
        Some(Command::Check(a)) => check(&ctx, &a, &mut out)?,
        Some(Command::Import(a)) => import(&ctx, &a, &mut out)?,
        Some(Command::Template(a)) => template_cmd(&ctx, &a, &mut out)?,
        Some(Command::Questions(a)) => {
            let report = crate::questions::run(&ctx, &a.options())?;
            render_questions::questions(&report, a.format(), &mut out)?;
            report.code()
        }
        Some(Command::Status(a)) => status(&ctx, a.format, &mut out)?,
        Some(Command::Revisions(a)) => revisions(&ctx, a.format, &mut out)?,
        Some(Command::Verify(a)) => verify(&ctx, a.format, &mut out)?,
        Some(Command::Kpis(a)) => kpis(&ctx, &a, &mut out)?,
        Some(Command::Cities(a)) => cities(&ctx, a.format, &mut out)?,
        Some(Command::Demo(a)) => demo_cmd(&ctx, &a, &mut out)?,
        Some(Command::Pipeline(a)) => pipeline_cmd(&a, &mut out)?,
        Some(Command::Framework(a)) => framework_cmd(&a, &mut out)?,
        Some(Command::Fetch { source }) => {
            let report = crate::fetch::fetch(&ctx, &source.options())?;
            render_outcome::fetch(&report, &mut out)?;
            report.code()
        }
        Some(Command::Export(a)) => {
            let report = crate::export::export(&ctx, &a.options())?;
            render_outcome::export(&report, &mut out).map(|()| 0)?
        }
        Some(Command::Score(a)) => {
            let report = crate::score_cmd::score(&ctx, &a.options())?;
            render::score(&report, a.format, a.top, &mut out).map(|()| 0)?
        }
        Some(Command::Runs(a)) => {
            render::runs(crate::score_cmd::runs(&ctx)?, a.format, &mut out).map(|()| 0)?
        }
        Some(Command::Rank(a)) => {
            let report = crate::score_cmd::rank(&ctx, &a.options(&ctx)?)?;
            render::rank(&report, a.format, a.top, &mut out).map(|()| 0)?
        }
        Some(Command::Compare(a)) => {
            let report = crate::score_cmd::compare(&ctx, &a.options())?;
            render::compare(&report, a.format, &mut out).map(|()| 0)?
        }
        Some(Command::Explain(a)) => {
            let report = crate::score_cmd::explain(&ctx, &a.options())?;
            render::explain(&report, a.format, &mut out).map(|()| 0)?
        }
        Some(Command::Diff(a)) => {
            let report = crate::score_cmd::diff(&ctx, &a.options(&ctx)?)?;
            render::diff(&report, a.format, &mut out).map(|()| 0)?
        }
        Some(Command::Completions { .. } | Command::Man) => 0,
    };
    out.flush().map_err(|source| Error::Write {
        path: "<stdout>".into(),
        source,
    })?;
    Ok(code)
}

use crate::progress::write_out as w;

pub fn import(ctx: &Ctx, a: &ImportArgs, out: &mut dyn Write) -> Result<i32> {
    let rules = import::Rules {
        jump_factor: a.jump_factor,
        // the peer-outlier check belongs to `check --db`: the bulk path (which must give
        // the same findings as the row path) does not compare with the network
        peer_factor: f64::INFINITY,
        given: Given {
            city: a.city.clone(),
            year: a.year,
        },
        ..import::Rules::default()
    };
    let mut store = ctx.open(Access::ReadWrite)?;
    let mut reports = Vec::new();
    let mut code = 0;
    for (k, file) in a.files.iter().enumerate() {
        crate::progress::note(
            "import",
            &format!(
                "checking {} ({} of {})",
                file.display(),
                k + 1,
                a.files.len()
            ),
        );
        let report = import::import_file(ctx, &mut store, file, &rules, a.dry_run)?;
        if report.outcome == import::Outcome::NotImported {
            code = 1;
        }
        // with --format json one object per file is printed at the end
        match a.format {
            DocFormat::Text => w(out, &report.text())?,
            DocFormat::Json => reports.push(report.json()),
        }
    }
    if a.format == DocFormat::Json {
        w(out, &to_json(&reports))?;
    }
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn memory(args: &[&str]) -> u64 {
        let cli = Cli::try_parse_from(args).unwrap();
        cli.global.settings(cli.command.as_ref()).memory_mb
    }

    /// The database engine gets 256 MB, an export 512 MB (it sorts each large table once),
    /// and `--memory-mb` wins over either.
    #[test]
    fn an_export_gets_more_memory_unless_the_user_says_otherwise() {
        assert_eq!(memory(&["u4ssc", "score"]), MEMORY_MB);
        assert_eq!(memory(&["u4ssc", "export", "--out", "x"]), EXPORT_MEMORY_MB);
        assert_eq!(
            memory(&["u4ssc", "export", "--out", "x", "--memory-mb", "128"]),
            128
        );
        assert_eq!(memory(&["u4ssc", "--memory-mb", "1024", "score"]), 1024);
        assert_eq!((MEMORY_MB, EXPORT_MEMORY_MB), (256, 512));
    }
}
