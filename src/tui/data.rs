//! What the TUI shows, loaded by the worker thread through the store's methods (the TUI runs
//! no SQL). The snapshot holds only what the overview needs, for every city; the City, KPI and
//! Compare views ask for their details when they open, so a 10 000-city world opens fast.

use crate::context::Ctx;
use crate::error::Result;
use crate::scoring::engine::{DpScore, Level, NodeScore};
use crate::scoring::trends::Trend;
use crate::store::{
    Access, CurrentValue, Event, Filter, Question, RevisionInfo, RunInfo, StoredFinding,
};

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub demo: bool,
    pub runs: Vec<RunInfo>,
    pub run: Option<RunInfo>,
    pub years: Vec<i32>,
    pub year: i32,
    /// overall, dimension and sub-dimension scores of the year, every city
    pub nodes: Vec<NodeScore>,
    /// the first-ranked city (the first by slug when several share rank 1)
    pub top: Option<String>,
    pub revisions: Vec<RevisionInfo>,
    /// findings stored with the latest submission revision
    pub findings: Vec<StoredFinding>,
    /// the verification round's questions (every status), newest first, and their threads
    pub questions: Vec<Question>,
    pub threads: std::collections::HashMap<i64, Vec<Event>>,
}

/// A write the TUI asks the worker for (the TUI runs no SQL).
#[derive(Debug, Clone, PartialEq)]
pub enum WriteOp {
    Ask {
        city: String,
        year: i32,
        data_point: Option<String>,
        text: String,
    },
    Close {
        id: i64,
    },
}

/// Carry out a write through the store; the answer is the line the status bar shows.
pub fn write(ctx: &Ctx, op: &WriteOp) -> Result<String> {
    let by = std::env::var("USER").unwrap_or_else(|_| "coordinator".into());
    let by = crate::questions::clean_text("the name", &by, 200)?;
    let mut store = ctx.open(Access::ReadWrite)?;
    match op {
        WriteOp::Ask {
            city,
            year,
            data_point,
            text,
        } => {
            let text = crate::questions::clean_text(
                "the question",
                text,
                crate::questions::MAX_TEXT_CHARS,
            )?;
            let current = match data_point {
                Some(dp) => store
                    .current_values_of(std::slice::from_ref(city))?
                    .into_iter()
                    .find(|v| v.year == *year && &v.data_point == dp),
                None => None,
            };
            let ids = store.ask(&[crate::store::NewQuestion {
                city: city.clone(),
                year: *year,
                data_point: data_point.clone(),
                text,
                asked_by: by,
                revision_id: current.as_ref().map(|v| v.revision_id),
                value: current.and_then(|v| v.value),
                origin: "manual".into(),
            }])?;
            Ok(format!("question {} opened", ids[0]))
        }
        WriteOp::Close { id } => {
            store.act(&[(*id, crate::store::Action::Close { verified: None }, by)])?;
            Ok(format!("question {id} closed"))
        }
    }
}

/// The City view's data for one city.
#[derive(Debug, Clone, Default)]
pub struct CityData {
    pub slug: String,
    /// every node of the city in the year
    pub nodes: Vec<NodeScore>,
    pub dps: Vec<DpScore>,
    /// median score of each data point across the cities of the year
    pub medians: Vec<(String, f64)>,
    /// overall and dimension scores of every year
    pub history: Vec<NodeScore>,
    pub values: Vec<CurrentValue>,
}

/// The KPI view's data for one data point.
#[derive(Debug, Clone, Default)]
pub struct KpiData {
    pub id: String,
    pub dps: Vec<DpScore>,
    pub values: Vec<CurrentValue>,
    pub trends: Vec<Trend>,
}

/// The Compare view's data for the marked cities.
#[derive(Debug, Clone, Default)]
pub struct CompareData {
    pub cities: Vec<String>,
    pub dps: Vec<DpScore>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DetailKey {
    City(String),
    Kpi(String),
    Compare(Vec<String>),
    Status,
}

#[derive(Debug, Clone)]
pub enum Detail {
    City(Box<CityData>),
    Kpi(Box<KpiData>),
    Compare(Box<CompareData>),
    /// per city and year: (city, year, core, advanced, verified, not reported)
    Status(Vec<crate::store::StatusCount>),
}

/// Load a snapshot: the given run (or the latest) and year (or the run's latest).
pub fn load(ctx: &Ctx, run: Option<i64>, year: Option<i32>) -> Result<Snapshot> {
    let store = ctx.open(Access::ReadOnly)?;
    let runs = store.runs()?;
    let run = match run {
        Some(id) => runs.iter().find(|r| r.run_id == id).cloned(),
        None => runs.last().cloned(),
    };
    let revisions = store.revisions()?;
    let mut snap = Snapshot {
        demo: revisions.iter().any(|r| r.is_demo()),
        runs: runs.clone(),
        run: run.clone(),
        ..Snapshot::default()
    };
    if let Some(latest) = revisions.iter().rev().find(|r| r.kind == "submission") {
        snap.findings = store.findings(latest.revision_id)?;
    }
    snap.revisions = revisions;
    snap.questions = store.questions(None, &[])?;
    snap.threads = store.all_question_events()?;
    let Some(run) = run else { return Ok(snap) };
    let years = store.run_years(run.run_id)?;
    let y = year
        .filter(|y| years.contains(y))
        .or(years.last().copied())
        .unwrap_or(0);
    snap.year = y;
    snap.years = years;
    snap.nodes = store.node_scores_in(
        run.run_id,
        // the overall score and the two highest aggregate levels (U4SSC: dimension and
        // sub-dimension), what the overview shows
        &std::iter::once(Level::Overall)
            .chain(ctx.catalog.levels_top_down().into_iter().take(2))
            .collect::<Vec<_>>(),
        y,
    )?;
    snap.top = snap
        .nodes
        .iter()
        .filter(|n| n.node == "overall" && n.rank == Some(1))
        .map(|n| &n.city)
        .min()
        .cloned();
    Ok(snap)
}

/// Load the details one view needs, for the snapshot's run and year.
pub fn load_detail(ctx: &Ctx, run: i64, year: i32, key: &DetailKey) -> Result<Detail> {
    let store = ctx.open(Access::ReadOnly)?;
    Ok(match key {
        DetailKey::City(slug) => {
            let city = Some(slug.as_str());
            let mut history = store.node_scores_where(
                run,
                &Filter {
                    level: Some(Level::Overall),
                    city,
                    ..Filter::default()
                },
            )?;
            history.extend(store.node_scores_where(
                run,
                &Filter {
                    level: Some(ctx.catalog.top_level()),
                    city,
                    ..Filter::default()
                },
            )?);
            Detail::City(Box::new(CityData {
                slug: slug.clone(),
                nodes: store.node_scores_where(
                    run,
                    &Filter {
                        year: Some(year),
                        city,
                        ..Filter::default()
                    },
                )?,
                dps: store.dp_scores_where(
                    run,
                    &Filter {
                        year: Some(year),
                        city,
                        ..Filter::default()
                    },
                )?,
                medians: store.dp_medians(run, year)?,
                history,
                values: store.current_values_where(&Filter {
                    year: Some(year),
                    city,
                    ..Filter::default()
                })?,
            }))
        }
        DetailKey::Kpi(id) => {
            let data_point = Some(id.as_str());
            Detail::Kpi(Box::new(KpiData {
                id: id.clone(),
                dps: store.dp_scores_where(
                    run,
                    &Filter {
                        year: Some(year),
                        data_point,
                        ..Filter::default()
                    },
                )?,
                values: store.current_values_where(&Filter {
                    year: Some(year),
                    data_point,
                    ..Filter::default()
                })?,
                trends: store.trends_where(
                    run,
                    &Filter {
                        data_point,
                        ..Filter::default()
                    },
                )?,
            }))
        }
        DetailKey::Status => {
            let (core, advanced) = ctx.catalog.ids_by_type();
            Detail::Status(crate::rows::with_unsubmitted(
                store.status_counts(&core, &advanced)?,
                ctx.registry.cities.iter().map(|c| c.slug.as_str()),
            ))
        }
        DetailKey::Compare(cities) => {
            let mut dps = Vec::new();
            for c in cities {
                dps.extend(store.dp_scores_where(
                    run,
                    &Filter {
                        year: Some(year),
                        city: Some(c),
                        ..Filter::default()
                    },
                )?);
            }
            Detail::Compare(Box::new(CompareData {
                cities: cities.clone(),
                dps,
            }))
        }
    })
}
