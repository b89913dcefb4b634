//! The scoring commands: score, runs, rank, compare, explain, diff.

use crate::catalog::{normalise_code, normalise_part};
use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::registry::{PeerSpec, Registry};
use crate::scoring::bands::band_label;
use crate::scoring::engine::{Level, NodeScore, Tree};
use crate::scoring::method::{self, Method};
use crate::scoring::run;
use crate::stats;
use crate::store::{Access, NewRun, RunInfo, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

mod compare;
mod explain;
pub use compare::*;
pub use explain::*;

// ---------------------------------------------------------------- options
// What each use case takes: plain values, the CLI's clap structs (`app::args`) turned into
// them with the level resolved against the catalog.

#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// Method file [default: kpis/methods/default.toml, embedded]
    pub method: Option<PathBuf>,
    /// Monte Carlo draws for rank intervals [default: the method file's]
    pub draws: Option<usize>,
}

#[derive(Debug, Clone)]
pub struct RunSel {
    /// Scoring run [default: the latest]
    pub run: Option<i64>,
    /// Year [default: the latest year in the run]
    pub year: Option<i32>,
}

#[derive(Debug, Clone)]
pub struct RankOptions {
    /// The level ranked: overall, dimension, subdimension, category, kpi or data-point (or the
    /// level names of a framework's catalog)
    pub level: Level,
    /// Peer group: all, kostra=N, county=NAME, population=BAND, group=NAME, or like=CITY
    /// (CITY's KOSTRA group)
    pub peers: PeerSpec,
    pub sel: RunSel,
}

#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// City slug, municipality number or name
    pub city: String,
    /// Cities to put side by side
    pub with: Vec<String>,
    /// Peer group for the comparison (as in rank) [default: all]
    pub peers: PeerSpec,
    pub sel: RunSel,
}

#[derive(Debug, Clone)]
pub struct ExplainOptions {
    /// City slug, municipality number or name
    pub city: String,
    /// KPI code (spaces optional) or data-point id
    pub kpi: String,
    /// Data point of a split KPI (3G, PM2.5, ...) [default: all of them]
    pub data_point: Option<String>,
    pub sel: RunSel,
}

#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// The earlier run (see `u4ssc runs`); None: the one before the later run
    pub run_a: Option<i64>,
    /// The later run; None: the latest
    pub run_b: Option<i64>,
    /// The level ranked: overall, dimension, subdimension, category, kpi or data-point (or the
    /// level names of a framework's catalog)
    pub level: Level,
    /// Year [default: the latest year of the later run]
    pub year: Option<i32>,
}

fn city_slug(reg: &Registry, text: &str) -> Result<String> {
    reg.slug_for(text, None)
}

/// What `score` did: the run it stored and the overall ranking of the run's latest year.
#[derive(Debug)]
pub struct ScoreReport {
    pub run: RunInfo,
    /// The run's latest year (none when it scored nothing)
    pub year: Option<i32>,
    /// Whether the values scored include the generated demo's
    pub demo: bool,
    /// The overall scores of that year, each with its city's name
    pub overall: Vec<Named>,
}

/// A stored score with the names a reader needs: its city's and its node's.
#[derive(Debug, Clone)]
pub struct Named {
    pub score: NodeScore,
    pub city: String,
    pub node: String,
}

/// `u4ssc score`: score the current values with a method, store the run, report it.
pub fn score(ctx: &Ctx, a: &ScoreOptions) -> Result<ScoreReport> {
    let trace = crate::trace::Trace::new();
    let mut store = ctx.open(Access::ReadWrite)?;
    let (text, origin) = match &a.method {
        Some(p) => (
            std::fs::read_to_string(p).map_err(|source| Error::Read {
                path: p.clone(),
                source,
            })?,
            p.display().to_string(),
        ),
        None => (
            method::DEFAULT.to_string(),
            "kpis/methods/default.toml (embedded)".to_string(),
        ),
    };
    let m = Method::parse(&text, &origin)?;
    let id = score_into(ctx, &mut store, &m, &text, a.draws)?;
    trace.mark("score: run stored");
    let runs = store.runs()?;
    let info = runs
        .into_iter()
        .find(|r| r.run_id == id)
        .ok_or_else(|| Error::Invalid("the run was not stored".into()))?;
    let nodes = store.node_scores(id, Some(Level::Overall), None)?;
    let year = nodes.iter().map(|n| n.year).max();
    let namer = Namer::new(ctx);
    let overall = nodes
        .into_iter()
        .filter(|n| Some(n.year) == year)
        .map(|n| namer.named(n))
        .collect();
    let demo = is_demo(&store)?;
    trace.mark("score: ranking read");
    Ok(ScoreReport {
        run: info,
        year,
        demo,
        overall,
    })
}

/// Score the current values with a method and store the run. Used by `score` and on first use.
pub fn score_into(
    ctx: &Ctx,
    store: &mut Store,
    m: &Method,
    text: &str,
    draws: Option<usize>,
) -> Result<i64> {
    let tree = Tree::new(&ctx.catalog);
    if let Some(code) = m
        .aggregation_by_node
        .keys()
        .find(|code| tree.find(code).is_none())
    {
        return Err(Error::Invalid(format!(
            "method '{}': [aggregation_by_node] names '{code}', which is not a node of the catalog",
            m.name
        )));
    }
    // a group imputation needs its group column on the cities (a KOSTRA group, a county, or
    // a registry group such as a converted framework's)
    if let (
        crate::scoring::method::Impute::GroupMean | crate::scoring::method::Impute::GroupMedian,
        Some(g),
    ) = (m.impute, m.impute_group.as_deref())
    {
        let prefix = format!("{g}=");
        let known = g == "kostra"
            || g == "county"
            || ctx
                .registry
                .cities
                .iter()
                .any(|c| c.groups.iter().any(|x| x.starts_with(&prefix)));
        if !known {
            return Err(Error::Invalid(format!(
                "method '{}': impute group '{g}' is not a group of the registry's cities (kostra, county, or a group column such as a framework's)",
                m.name
            )));
        }
    }
    let years = store.current_years()?;
    if years.is_empty() {
        return Err(Error::Usage(
            "there is nothing to score: import a submission first (u4ssc import FILE)".into(),
        ));
    }
    let draws = draws.unwrap_or(m.uncertainty.draws);
    let (catalog, registry) = (&ctx.catalog, &ctx.registry);
    store
        .insert_run_with(
            &NewRun {
                method_name: &m.name,
                method_hash: &method::hash(text),
                method_text: text,
                // the revisions the run reads, recorded as it reads them
                revisions: "",
                seed: m.uncertainty.seed,
                draws,
                catalog_version: &ctx.catalog.info.version,
            },
            // one year at a time: a world of cities is scored without holding it in memory
            |sink, reader| run::stream(catalog, registry, m, draws, &years, reader, sink),
        )
        .inspect(|_| crate::progress::clear())
}

/// Whether the database holds the generated demo (reports then say so first).
fn is_demo(store: &Store) -> Result<bool> {
    Ok(store.revisions()?.iter().any(|r| r.is_demo()))
}

/// Names a report's rows: each city's and node's (data points included), every node's name
/// looked up once, not once per row (a world's ranking has a million rows).
struct Namer<'a> {
    ctx: &'a Ctx,
    nodes: HashMap<String, String>,
}

impl<'a> Namer<'a> {
    fn new(ctx: &'a Ctx) -> Namer<'a> {
        let tree = Tree::new(&ctx.catalog);
        let mut nodes: HashMap<String, String> = tree
            .nodes
            .iter()
            .map(|n| (n.code.clone(), n.name.clone()))
            .collect();
        // a data point's name wins over a node of the same code
        nodes.extend(
            ctx.catalog
                .data_points
                .iter()
                .map(|d| (d.id.clone(), d.name.clone())),
        );
        Namer { ctx, nodes }
    }

    fn named(&self, score: NodeScore) -> Named {
        Named {
            city: city_name(self.ctx, &score.city),
            node: self
                .nodes
                .get(&score.node)
                .cloned()
                .unwrap_or_else(|| score.node.clone()),
            score,
        }
    }
}

fn pick_run(store: &Store, run: Option<i64>) -> Result<RunInfo> {
    let runs = store.runs()?;
    match run {
        Some(id) => runs
            .into_iter()
            .find(|r| r.run_id == id)
            .ok_or_else(|| Error::Usage(format!("there is no run {id}; see `u4ssc runs`"))),
        None => runs.into_iter().last().ok_or_else(|| {
            Error::Usage("there is no scoring run yet; run `u4ssc score` first".into())
        }),
    }
}

/// The run and year a command shows: the ones given, else the latest run and its latest year.
fn run_and_year(store: &Store, sel: &RunSel) -> Result<(RunInfo, i32)> {
    let run = pick_run(store, sel.run)?;
    let year = match sel.year {
        Some(y) => y,
        None => latest_year(store, run.run_id)?,
    };
    Ok((run, year))
}

fn latest_year(store: &Store, run: i64) -> Result<i32> {
    store
        .node_scores(run, Some(Level::Overall), None)?
        .iter()
        .map(|n| n.year)
        .max()
        .ok_or_else(|| Error::Usage("the run has no scores".into()))
}

fn city_name(ctx: &Ctx, slug: &str) -> String {
    ctx.registry.name_of(slug)
}

fn rerank(rows: &mut [NodeScore]) {
    let mut by_node: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_node.entry(r.node.clone()).or_default().push(i);
    }
    for idx in by_node.values() {
        let scores: Vec<Option<f64>> = idx.iter().map(|&i| rows[i].score).collect();
        for (k, r) in stats::rank_desc(&scores).into_iter().enumerate() {
            rows[idx[k]].rank = r;
        }
    }
}

/// What `rank` found: one level of one run and year, ranked among a peer group.
#[derive(Debug)]
pub struct RankReport {
    pub run: RunInfo,
    pub year: i32,
    pub level: Level,
    /// The level's name in the catalog (`dimension`, `pillar`)
    pub level_key: String,
    pub peers: PeerSpec,
    /// How many cities the peer group has
    pub peer_count: usize,
    pub demo: bool,
    /// The scores, ranked within the peer group (the run's own ranks for all cities)
    pub rows: Vec<Named>,
}

impl RankReport {
    /// Whether every city is ranked (then the rank intervals of the run apply).
    pub fn all(&self) -> bool {
        self.peers == PeerSpec::All
    }
}

pub fn rank(ctx: &Ctx, a: &RankOptions) -> Result<RankReport> {
    let store = ctx.open(Access::ReadOnly)?;
    let (run, year) = run_and_year(&store, &a.sel)?;
    let level = a.level;
    let mut rows = store.node_scores(run.run_id, Some(level), Some(year))?;
    if level == Level::DataPoint {
        rows = store
            .dp_scores(run.run_id, None, Some(year))?
            .into_iter()
            .map(|d| NodeScore {
                city: d.city,
                year: d.year,
                level,
                node: d.data_point,
                u4ssc_pct: d.achievement.map(|a| a.min(100.0)),
                band: d.points,
                scored_items: usize::from(d.points.is_some()),
                total_items: 1,
                score: d.score,
                coverage: if d.score.is_some() { 1.0 } else { 0.0 },
                rank: d.rank,
                rank_median: None,
                rank_p05: None,
                rank_p95: None,
            })
            .collect();
    }
    if rows.is_empty() {
        let years: Vec<String> = store
            .run_years(run.run_id)?
            .iter()
            .map(|y| y.to_string())
            .collect();
        return Err(Error::Usage(format!(
            "run {} has no scores for {year}; its years are {}",
            run.run_id,
            years.join(", ")
        )));
    }
    let cities: Vec<String> = rows
        .iter()
        .map(|r| r.city.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let peers = ctx.registry.members_of(&a.peers, &cities)?;
    rows.retain(|r| peers.contains(&r.city));
    if a.peers != PeerSpec::All {
        rerank(&mut rows);
    }
    let namer = Namer::new(ctx);
    Ok(RankReport {
        level_key: ctx.catalog.level_key(level).into_owned(),
        level,
        year,
        peers: a.peers.clone(),
        peer_count: peers.len(),
        demo: is_demo(&store)?,
        rows: rows.into_iter().map(|n| namer.named(n)).collect(),
        run,
    })
}

/// `u4ssc runs`: every stored scoring run, oldest first.
pub fn runs(ctx: &Ctx) -> Result<Vec<RunInfo>> {
    ctx.open(Access::ReadOnly)?.runs()
}
