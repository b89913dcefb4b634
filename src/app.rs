//! The commands. `main.rs` parses the command line into [`Cli`] and calls [`run`]; every
//! command returns the exit code (0 ok, 1 problems found in the input) or an [`Error`] (2).

use crate::demo::{self, DemoSpec, SYNTHETIC_LABEL};
use crate::error::{Error, Result};
use crate::import;
use crate::store::{Access, NewRevision, Store};
use crate::submission::layout::Given;
use crate::submission::validate::{self, Options};
use crate::submission::{read_table, Finding, Limits, Severity};
use crate::table::{to_json, DocFormat, OutputFormat, TextTable};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};

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
    /// Memory the database engine may use for data, in MB; larger work (a world-scale import
    /// or run) spills to a temporary directory beside the database
    #[arg(long, global = true, env = "U4SSC_MEMORY_MB", default_value_t = 256)]
    pub memory_mb: u64,
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
    Questions(crate::questions::QuestionsArgs),
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
    Score(crate::score_cmd::ScoreArgs),
    /// List the scoring runs
    Runs(FormatArg),
    /// Rank cities at a level, with rank intervals
    #[command(after_help = RANK_EXAMPLES)]
    Rank(crate::score_cmd::RankArgs),
    /// A city against its peers, or side by side with up to three others
    Compare(crate::score_cmd::CompareArgs),
    /// The whole chain behind one city's score for one KPI
    Explain(crate::score_cmd::ExplainArgs),
    /// Which ranks and bands moved between two runs
    Diff(crate::score_cmd::DiffArgs),
    /// Write scores, ranks, peers, trends and city profiles (CSV, JSON, Parquet, XLSX, HTML, MD, JSON-LD)
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(crate::export::ExportArgs),
    /// Fetch official statistics (Statistics Norway) and import them
    Fetch {
        #[command(subcommand)]
        source: crate::fetch::FetchSource,
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

impl Global {
    /// The options as the plain settings a context is built from.
    pub fn settings(&self) -> crate::context::Settings {
        crate::context::Settings {
            db: self.db.clone(),
            catalog: self.catalog.clone(),
            registry: self.registry.clone(),
            limits: Limits {
                max_file_bytes: self.max_file_mb.saturating_mul(1024 * 1024),
                max_rows: self.max_rows,
                max_field_chars: self.max_field_chars,
            },
            memory_mb: self.memory_mb,
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
/// the database itself (the default one seeded with the demo on first use).
#[derive(PartialEq, Eq)]
enum DbUse {
    None,
    Populations,
    Database,
}

fn db_use(command: &Option<Command>) -> DbUse {
    match command {
        Some(
            Command::Kpis(_)
            | Command::Pipeline(_)
            | Command::Framework(_)
            | Command::Completions { .. }
            | Command::Man,
        ) => DbUse::None,
        Some(Command::Check(_) | Command::Template(_) | Command::Cities(_) | Command::Demo(_)) => {
            DbUse::Populations
        }
        _ => DbUse::Database,
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
    let dir = std::env::temp_dir().join(format!("u4ssc-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let file = dir.join("demo-17-cities.csv");
    std::fs::write(&file, &buf).map_err(|source| Error::Write {
        path: file.clone(),
        source,
    })?;
    let table = read_table(&file, &Limits::default());
    let _ = std::fs::remove_dir_all(&dir);
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
            kind: "demo",
        },
        &checked.observations,
    )?;
    let m = crate::scoring::method::RunMethod::parse(crate::scoring::method::DEFAULT, "default")?;
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
    crate::progress::set_quiet(cli.quiet);
    if let Some(command) = &cli.command {
        let mut out = crate::text::Printable::new(std::io::stdout().lock());
        if let Some(done) = generated(command, &mut out) {
            return done;
        }
    }
    let mut ctx = Ctx::new(&cli.global.settings())?;
    let needs = db_use(&cli.command);
    if needs == DbUse::Database {
        seed_demo_if_missing(&ctx)?;
    }
    if needs != DbUse::None {
        ctx = ctx.with_stored_populations();
    }
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
        Some(Command::Questions(a)) => crate::questions::run(&ctx, &a, &mut out)?,
        Some(Command::Status(a)) => status(&ctx, a.format, &mut out)?,
        Some(Command::Revisions(a)) => revisions(&ctx, a.format, &mut out)?,
        Some(Command::Verify(a)) => verify(&ctx, a.format, &mut out)?,
        Some(Command::Kpis(a)) => kpis(&ctx, &a, &mut out)?,
        Some(Command::Cities(a)) => cities(&ctx, a.format, &mut out)?,
        Some(Command::Demo(a)) => demo_cmd(&ctx, &a, &mut out)?,
        Some(Command::Pipeline(a)) => pipeline_cmd(&a, &mut out)?,
        Some(Command::Framework(a)) => framework_cmd(&a, &mut out)?,
        Some(Command::Fetch { source }) => crate::fetch::fetch(&ctx, &source, &mut out)?,
        Some(Command::Export(a)) => crate::export::export(&ctx, &a, &mut out)?,
        Some(Command::Score(a)) => crate::score_cmd::score(&ctx, &a, &mut out)?,
        Some(Command::Runs(a)) => crate::score_cmd::runs(&ctx, a.format, &mut out)?,
        Some(Command::Rank(a)) => crate::score_cmd::rank(&ctx, &a, &mut out)?,
        Some(Command::Compare(a)) => crate::score_cmd::compare(&ctx, &a, &mut out)?,
        Some(Command::Explain(a)) => crate::score_cmd::explain(&ctx, &a, &mut out)?,
        Some(Command::Diff(a)) => crate::score_cmd::diff(&ctx, &a, &mut out)?,
        Some(Command::Completions { .. } | Command::Man) => 0,
    };
    out.flush().map_err(|source| Error::Write {
        path: "<stdout>".into(),
        source,
    })?;
    Ok(code)
}

fn w(out: &mut dyn Write, text: &str) -> Result<()> {
    // a progress line on the terminal goes before the result is written
    crate::progress::clear();
    out.write_all(text.as_bytes())
        .map_err(|source| Error::Write {
            path: "<stdout>".into(),
            source,
        })
}

fn summary_line(file: &Path, findings: &[Finding]) -> String {
    let e = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let wn = findings.len() - e;
    format!("{}: {e} error(s), {wn} warning(s)\n", file.display())
}

pub fn check(ctx: &Ctx, a: &CheckArgs, out: &mut dyn Write) -> Result<i32> {
    if a.annotate.is_some() && a.files.len() != 1 {
        return Err(Error::Usage(
            "--annotate writes one workbook for one file; check one file at a time".to_string(),
        ));
    }
    let store = if ctx.db_is_default {
        None
    } else {
        Some(Store::open(&ctx.db, Access::ReadOnly)?)
    };
    let given = Given {
        city: a.city.clone(),
        year: a.year,
    };
    let previous = match &a.previous {
        Some(p) => import::previous_history(ctx, p, &given)?,
        None => validate::History::new(),
    };
    let rules = import::Rules {
        jump_factor: a.jump_factor,
        peer_factor: a.peer_factor,
        given,
        previous,
        ..import::Rules::default()
    };
    let mut all = Vec::new();
    for file in &a.files {
        let findings = import::check_file(ctx, file, &rules, store.as_ref())?.findings;
        if a.format == CheckFormat::Text {
            w(out, &crate::submission::grouped_text(&findings))?;
            w(out, &summary_line(file, &findings))?;
        }
        if let Some(dest) = &a.annotate {
            annotate(file, dest, &findings)?;
            if a.format == CheckFormat::Text {
                w(
                    out,
                    &format!(
                        "{}: the findings are marked in {}\n",
                        file.display(),
                        dest.display()
                    ),
                )?;
            }
        }
        all.extend(findings);
    }
    let errors = all.iter().filter(|f| f.severity == Severity::Error).count();
    let warnings = all.len() - errors;
    match a.format {
        CheckFormat::Json => w(
            out,
            &to_json(
                &serde_json::json!({ "errors": errors, "warnings": warnings, "findings": all }),
            ),
        )?,
        CheckFormat::Csv => w(out, &findings_csv(&all))?,
        CheckFormat::Text => {}
    }
    Ok(if errors > 0 || (a.strict && warnings > 0) {
        1
    } else {
        0
    })
}

/// Findings as CSV: severity, rule, file, line, column, message (text cells that a
/// spreadsheet would run are neutralised).
fn findings_csv(findings: &[Finding]) -> String {
    let mut wr = crate::table::CsvOut::new();
    wr.row(["severity", "rule", "file", "line", "column", "message"]);
    for f in findings {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        wr.row([
            sev,
            f.rule,
            &f.file,
            &f.line.map(|l| l.to_string()).unwrap_or_default(),
            f.column.as_deref().unwrap_or(""),
            &f.message,
        ]);
    }
    wr.into_string()
}

/// `check --annotate`: the file back as a workbook with its findings marked. The city's own
/// file is never overwritten.
fn annotate(file: &Path, dest: &Path, findings: &[Finding]) -> Result<()> {
    let same = match (std::fs::canonicalize(file), std::fs::canonicalize(dest)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(Error::Usage(format!(
            "--annotate {} is the file being checked; give another name",
            dest.display()
        )));
    }
    crate::files::require_xlsx(dest, "--annotate")?;
    let format = crate::submission::read::format_of(file).unwrap_or(crate::submission::Format::Csv);
    let bytes = crate::submission::annotate::build(file, format, findings)
        .map_err(|e| Error::Invalid(format!("the annotated workbook cannot be made: {e}")))?;
    crate::files::write_atomic_to(dest, &bytes)?;
    Ok(())
}

/// `u4ssc template`: one workbook per city, with the latest earlier values when --db is given.
pub fn template_cmd(ctx: &Ctx, a: &TemplateArgs, out: &mut dyn Write) -> Result<i32> {
    use crate::submission::template;
    let years = validate::Years::default();
    if !years.contains(a.year) {
        return Err(Error::Usage(format!(
            "--year {} is outside {}-{}",
            a.year, years.min, years.max
        )));
    }
    let all = a.city.eq_ignore_ascii_case("all");
    let cities: Vec<&crate::registry::City> = if all {
        ctx.registry.cities.iter().collect()
    } else {
        let given = import::resolve_given(
            ctx,
            &Given {
                city: Some(a.city.clone()),
                year: Some(a.year),
            },
        )?;
        let slug = given.city.unwrap_or_default();
        ctx.registry.get(&slug).into_iter().collect()
    };
    if all {
        std::fs::create_dir_all(&a.out).map_err(|source| Error::Write {
            path: a.out.clone(),
            source,
        })?;
    } else {
        crate::files::require_xlsx(&a.out, "--out")?;
    }
    // the previous values come from a database only when one is named
    let store = if ctx.db_is_default {
        None
    } else {
        Some(Store::open(&ctx.db, Access::ReadOnly)?)
    };
    for city in cities {
        let mut previous: HashMap<String, (i32, Option<f64>)> = HashMap::new();
        if let Some(s) = &store {
            for v in s.current_values_of(std::slice::from_ref(&city.slug))? {
                if v.year < a.year && previous.get(&v.data_point).is_none_or(|p| p.0 < v.year) {
                    previous.insert(v.data_point, (v.year, v.value));
                }
            }
        }
        let spec = template::Spec {
            city_name: &city.name,
            city_slug: &city.slug,
            year: a.year,
            lang: a.lang,
            previous,
        };
        let path = if all {
            a.out.join(format!("{}-{}.xlsx", city.slug, a.year))
        } else {
            a.out.clone()
        };
        let bytes = template::build(&ctx.catalog, &spec)
            .map_err(|e| Error::Invalid(format!("the template cannot be made: {e}")))?;
        crate::files::write_atomic_to(&path, &bytes)?;
        w(
            out,
            &format!(
                "wrote {} ({} {}, {} data points)\n",
                path.display(),
                city.name,
                a.year,
                ctx.catalog.data_points.len()
            ),
        )?;
    }
    Ok(0)
}

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

/// Per city and year: reported, verified and missing data points, core and advanced.
pub fn status(ctx: &Ctx, format: OutputFormat, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let revisions = store.revisions()?;
    let (core, advanced) = ctx.catalog.ids_by_type();
    let (core_total, adv_total) = (core.len(), advanced.len());
    struct Count {
        core: usize,
        adv: usize,
        verified: usize,
        not_reported: usize,
    }
    let by: BTreeMap<(String, i32), Count> = store
        .status_counts(&core, &advanced)?
        .into_iter()
        .map(|(city, year, core, adv, verified, not_reported)| {
            (
                (city, year),
                Count {
                    core: core as usize,
                    adv: adv as usize,
                    verified: verified as usize,
                    not_reported: not_reported as usize,
                },
            )
        })
        .collect();
    // the verification round: questions still open or answered but not closed
    let questions: HashMap<(String, i32), (i64, i64)> = store
        .question_counts()?
        .into_iter()
        .map(|c| ((c.city, c.year), (c.open, c.answered)))
        .collect();
    let mut t = TextTable::new(&[
        "city",
        "year",
        "core",
        "advanced",
        "verified",
        "not_reported",
        "missing",
        "open_questions",
        "answered_questions",
    ]);
    for ((city, year), c) in &by {
        let name = ctx.registry.name_of(city);
        let missing = core_total + adv_total - c.core - c.adv;
        let (open, answered) = questions
            .get(&(city.clone(), *year))
            .copied()
            .unwrap_or((0, 0));
        t.push(vec![
            name,
            year.to_string(),
            format!("{}/{core_total}", c.core),
            format!("{}/{adv_total}", c.adv),
            c.verified.to_string(),
            c.not_reported.to_string(),
            missing.to_string(),
            open.to_string(),
            answered.to_string(),
        ]);
    }
    if format == OutputFormat::Text {
        if revisions.iter().any(|r| r.kind == "demo") {
            w(out, &format!("!! {SYNTHETIC_LABEL}: this database holds the generated demo, not real city data\n"))?;
        }
        w(
            out,
            &format!(
                "database {} — {} revision(s), {} cities, {} city-years\n\n",
                store.path().display(),
                revisions.len(),
                by.keys()
                    .map(|k| &k.0)
                    .collect::<std::collections::BTreeSet<_>>()
                    .len(),
                by.len()
            ),
        )?;
        if by.is_empty() {
            w(
                out,
                "no data yet: import a submission with `u4ssc import FILE`\n",
            )?;
            return Ok(0);
        }
    }
    w(out, &t.render(format))?;
    Ok(0)
}

pub fn revisions(ctx: &Ctx, format: OutputFormat, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let mut t = TextTable::new(&["revision", "kind", "file", "rows", "imported_at", "sha256"]);
    for r in store.revisions()? {
        t.push(vec![
            r.revision_id.to_string(),
            r.kind,
            r.source_file,
            r.row_count.to_string(),
            r.imported_at,
            // the whole hash where a program reads it; 12 characters for the eye
            if format == OutputFormat::Text {
                r.content_hash[..12.min(r.content_hash.len())].to_string()
            } else {
                r.content_hash
            },
        ]);
    }
    w(out, &t.render(format))?;
    Ok(0)
}

pub fn verify(ctx: &Ctx, format: DocFormat, out: &mut dyn Write) -> Result<i32> {
    // a file that is not a readable u4ssc database is what verify is there to find: exit 1,
    // like any other inconsistency (a database in use or missing is still exit 2)
    let store = match ctx.open(Access::ReadOnly) {
        Ok(s) => s,
        Err(Error::Database { path, message }) => {
            w(
                out,
                &format!(
                    "{}: not a readable u4ssc database: {message}\n",
                    path.display()
                ),
            )?;
            return Ok(1);
        }
        Err(e) => return Err(e),
    };
    let problems = store.integrity()?;
    let revs = store.revisions()?.len();
    let runs = store.runs()?.len();
    if format == DocFormat::Json {
        w(
            out,
            &to_json(&serde_json::json!({
                "database": store.path().display().to_string(),
                "consistent": problems.is_empty(),
                "revisions": revs,
                "runs": runs,
                "problems": problems,
            })),
        )?;
        return Ok(if problems.is_empty() { 0 } else { 1 });
    }
    if problems.is_empty() {
        w(
            out,
            &format!(
                "{}: consistent ({revs} revision(s), {runs} run(s))\n",
                store.path().display()
            ),
        )?;
        return Ok(0);
    }
    for p in &problems {
        w(out, &format!("{}: {p}\n", store.path().display()))?;
    }
    Ok(1)
}

pub fn kpis(ctx: &Ctx, a: &KpisArgs, out: &mut dyn Write) -> Result<i32> {
    let list = match &a.search {
        Some(s) => ctx.catalog.search(s),
        None => ctx.catalog.data_points.iter().collect(),
    };
    if a.format == OutputFormat::Json {
        w(out, &to_json(&list))?;
        return Ok(0);
    }
    let mut t = TextTable::new(&[
        "id",
        "code",
        "data_point",
        "name",
        "type",
        "unit",
        "direction",
        "target",
        "target_basis",
    ]);
    for d in &list {
        let target = match (d.target.value, d.target.band) {
            (Some(v), _) => format!("{v}"),
            (_, Some([lo, hi])) => format!("{lo}-{hi}"),
            _ => "-".into(),
        };
        t.push(vec![
            d.id.clone(),
            d.code.clone(),
            d.part.clone(),
            d.name.clone(),
            format!("{:?}", d.kpi_type).to_lowercase(),
            d.unit.clone(),
            d.direction.as_str().into(),
            target,
            serde_json::to_value(d.target.basis)
                .ok()
                .and_then(|v| v.as_str().map(String::from))
                .unwrap_or_default(),
        ]);
    }
    w(out, &t.render(a.format))?;
    if a.format == OutputFormat::Text {
        w(
            out,
            &format!(
                "{} data point(s). Targets are the project's own, not official U4SSC targets.\n",
                list.len()
            ),
        )?;
    }
    Ok(0)
}

pub fn cities(ctx: &Ctx, format: OutputFormat, out: &mut dyn Write) -> Result<i32> {
    if format == OutputFormat::Json {
        w(out, &to_json(&ctx.registry.cities))?;
        return Ok(0);
    }
    let mut t = TextTable::new(&[
        "slug",
        "name",
        "number",
        "county",
        "population",
        "year",
        "kostra",
        "area_km2",
        "u4ssc_evaluation",
    ]);
    for c in &ctx.registry.cities {
        t.push(vec![
            c.slug.clone(),
            c.name.clone(),
            c.municipality_number.clone(),
            c.county.clone(),
            c.population.to_string(),
            c.population_year.to_string(),
            c.kostra_group.map(|k| k.to_string()).unwrap_or_default(),
            c.area_km2.map(|a| a.to_string()).unwrap_or_default(),
            if c.u4ssc_evaluation { "yes" } else { "no" }.into(),
        ]);
    }
    w(out, &t.render(format))?;
    Ok(0)
}

pub fn demo_cmd(ctx: &Ctx, a: &DemoArgs, out: &mut dyn Write) -> Result<i32> {
    if a.cities == 0 || a.years < 1 {
        return Err(Error::Usage(
            "--cities and --years must be at least 1".into(),
        ));
    }
    let cities = demo::world_cities(&ctx.registry, a.cities);
    let file = std::fs::File::create(&a.out).map_err(|source| Error::Write {
        path: a.out.clone(),
        source,
    })?;
    let mut bw = std::io::BufWriter::new(file);
    let spec = DemoSpec {
        years: (a.last_year - a.years + 1)..=a.last_year,
        seed: a.seed,
    };
    let rows = demo::write_csv(&mut bw, &ctx.catalog, &cities, &spec)
        .and_then(|n| bw.flush().map(|_| n))
        .map_err(|source| Error::Write {
            path: a.out.clone(),
            source,
        })?;
    w(
        out,
        &format!(
            "wrote {rows} rows ({SYNTHETIC_LABEL}) for {} cities to {}\n",
            cities.len(),
            a.out.display()
        ),
    )?;
    if a.cities > ctx.registry.cities.len() {
        let reg = PathBuf::from(format!("{}.cities.toml", a.out.display()));
        let text = crate::registry::EMBEDDED.to_string()
            + &demo::registry_toml(&cities[ctx.registry.cities.len()..]);
        std::fs::write(&reg, text).map_err(|source| Error::Write {
            path: reg.clone(),
            source,
        })?;
        w(
            out,
            &format!(
                "wrote the synthetic cities' registry to {} (use it with --registry)\n",
                reg.display()
            ),
        )?;
    }
    Ok(0)
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

pub fn framework_cmd(a: &FrameworkArgs, out: &mut dyn Write) -> Result<i32> {
    use crate::framework::Framework;
    use crate::pipeline::{self, Panel};
    let meta_origin = a.imeta.display().to_string();
    let fw = Framework::from_imeta(&read_text(&a.imeta)?, &meta_origin)?;
    let panel =
        Panel::from_idata_years(&read_text(&a.idata)?, &fw, &a.idata.display().to_string())?;
    let name = a.name.clone().unwrap_or_else(|| {
        a.imeta
            .canonicalize()
            .ok()
            .and_then(|p| {
                p.parent()
                    .and_then(|d| d.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "framework".into())
    });
    let c = crate::convert::convert(
        &fw,
        &pipeline::denominate(&panel, &fw),
        &name,
        &meta_origin,
        &a.idata.display().to_string(),
    )?;
    std::fs::create_dir_all(&a.out).map_err(|source| Error::Write {
        path: a.out.clone(),
        source,
    })?;
    for (file, text) in [
        ("catalog.toml", &c.catalog),
        ("registry.toml", &c.registry),
        ("values.csv", &c.values),
        ("method.toml", &c.method),
    ] {
        crate::files::write_atomic(&a.out, file, text.as_bytes())?;
    }
    for n in &c.notes {
        w(out, &format!("note: {n}\n"))?;
    }
    let d = a.out.display();
    w(
        out,
        &format!(
            "wrote catalog.toml, registry.toml, values.csv and method.toml to {d}\n\n\
             Use them with every command, e.g.:\n\
             \x20 export U4SSC_CATALOG={d}/catalog.toml U4SSC_REGISTRY={d}/registry.toml U4SSC_DB={d}/framework.duckdb\n\
             \x20 u4ssc import {d}/values.csv\n\
             \x20 u4ssc score --method {d}/method.toml\n\
             \x20 u4ssc rank --peers group=COLUMN=VALUE; u4ssc compare SLUG; u4ssc export --out DIR; u4ssc\n"
        ),
    )?;
    Ok(0)
}

pub fn pipeline_cmd(a: &PipelineArgs, out: &mut dyn Write) -> Result<i32> {
    use crate::framework::Framework;
    use crate::pipeline::{self, Method, Panel};
    let meta_origin = a.imeta.display().to_string();
    let fw = Framework::from_imeta(&read_text(&a.imeta)?, &meta_origin)?;
    let panel = Panel::from_idata(&read_text(&a.idata)?, &fw, &a.idata.display().to_string())?;
    let method = Method::parse(&read_text(&a.method)?, &a.method.display().to_string())?;
    let outcome = pipeline::run(&panel, &fw, &method)?;
    let files = outcome.write(&fw, &a.out)?;
    w(out, &format!(
        "{} units, {} indicators, {} aggregates; imputed {} cells, treated {} indicators\nwrote {} to {}\n\n",
        panel.units.len(),
        fw.indicators().count(),
        fw.aggregates_bottom_up().len(),
        outcome.imputed_cells.len(),
        outcome.treatment.iter().filter(|t| !t.changed.is_empty()).count(),
        files.join(", "),
        a.out.display()
    ))?;
    if let Some(top) = fw.aggregates_bottom_up().last() {
        let p = &outcome.aggregated;
        if let Some(j) = p.col(&top.code) {
            let col = p.column(j);
            let ranks = outcome.rank.ranks(&col);
            let mut order: Vec<usize> = (0..p.units.len()).collect();
            order.sort_by_key(|&i| ranks[i].unwrap_or(usize::MAX));
            let mut t = TextTable::new(&["rank", "unit", "name", &top.code]);
            for &i in order.iter().take(10) {
                t.push(vec![
                    ranks[i].map(|r| r.to_string()).unwrap_or_default(),
                    p.units[i].code.clone(),
                    p.units[i].name.clone().unwrap_or_default(),
                    col[i].map(|v| format!("{v:.2}")).unwrap_or_default(),
                ]);
            }
            w(out, &t.render(OutputFormat::Text))?;
        }
    }
    Ok(0)
}
