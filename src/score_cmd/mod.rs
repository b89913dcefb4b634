//! The scoring commands: score, runs, rank, compare, explain, diff.

use crate::catalog::{normalise_code, normalise_part};
use crate::context::Ctx;
use crate::demo::SYNTHETIC_LABEL;
use crate::error::{Error, Result};
use crate::registry::{PeerSpec, Registry};
use crate::scoring::bands::{band_glyph, band_label};
use crate::scoring::engine::{Level, NodeScore, Tree};
use crate::scoring::method::{self, Method};
use crate::scoring::run;
use crate::scoring::trends::arrow;
use crate::stats;
use crate::store::{Access, NewRun, RunInfo, Store};
use crate::table::{to_json, DocFormat, OutputFormat, TextTable};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::PathBuf;

mod compare;
mod explain;
pub use compare::*;
pub use explain::*;

use crate::progress::write_out as w;

fn f1(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".into())
}

// ---------------------------------------------------------------- options
// What each use case takes: plain values, the CLI's clap structs (`app::args`) turned into
// them with the level resolved against the catalog.

#[derive(Debug, Clone)]
pub struct ScoreOptions {
    /// Method file [default: kpis/methods/default.toml, embedded]
    pub method: Option<PathBuf>,
    /// Monte Carlo draws for rank intervals [default: the method file's]
    pub draws: Option<usize>,
    /// Output: text (the run and its overall ranking) or json (the run and every overall
    /// score of its latest year)
    pub format: DocFormat,
    /// Show the first N ranks only; 0 shows all [default: 20 on a terminal when more than
    /// 100 cities are ranked, else all]
    pub top: Option<usize>,
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
    /// Output: text (aligned columns), csv or json
    pub format: OutputFormat,
    /// Show the first N ranks (of each node) only; 0 shows all [default: 20 for text on a
    /// terminal when more than 100 cities are ranked, else all]
    pub top: Option<usize>,
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
    /// Output: text (aligned columns), csv or json
    pub format: OutputFormat,
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
    /// Output: text (the chain, line by line) or json (one object per data point)
    pub format: DocFormat,
}

#[derive(Debug, Clone)]
pub struct DiffOptions {
    /// The earlier run (see `u4ssc runs`)
    pub run_a: i64,
    /// The later run
    pub run_b: i64,
    /// The level ranked: overall, dimension, subdimension, category, kpi or data-point (or the
    /// level names of a framework's catalog)
    pub level: Level,
    /// Year [default: the latest year of the later run]
    pub year: Option<i32>,
    /// Output: text (aligned columns), csv or json
    pub format: OutputFormat,
}

fn city_slug(reg: &Registry, text: &str) -> Result<String> {
    reg.slug_for(text, None)
}

pub fn score(ctx: &Ctx, a: &ScoreOptions, out: &mut dyn Write) -> Result<i32> {
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
    let runs = store.runs()?;
    let info = runs
        .iter()
        .find(|r| r.run_id == id)
        .ok_or_else(|| Error::Invalid("the run was not stored".into()))?;
    let nodes = store.node_scores(id, Some(Level::Overall), None)?;
    let year = nodes.iter().map(|n| n.year).max();
    if a.format == DocFormat::Json {
        let latest: Vec<&NodeScore> = nodes.iter().filter(|n| Some(n.year) == year).collect();
        w(
            out,
            &to_json(&serde_json::json!({ "run": info, "year": year, "overall": latest })),
        )?;
        return Ok(0);
    }
    w(
        out,
        &format!(
            "run {id}: method '{}' (sha256 {}), revisions {}, {} draws\n",
            info.method_name,
            &info.method_hash[..12],
            info.revisions,
            info.draws
        ),
    )?;
    if let Some(y) = year {
        demo_banner(&store, out)?;
        let rows: Vec<&NodeScore> = nodes.iter().filter(|n| n.year == y).collect();
        w(
            out,
            &format!(
                "\noverall ranking {y} (rank intervals: 5th-95th percentile over {} draws)\n",
                info.draws
            ),
        )?;
        let top = top_of(a.top, true, rows.len());
        let (shown, left) = within_top(&rows, top);
        w(
            out,
            &rank_table(ctx, &shown, Level::Overall, true).render(OutputFormat::Text),
        )?;
        w(out, &more_line(left, top))?;
    }
    Ok(0)
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

fn demo_banner(store: &Store, out: &mut dyn Write) -> Result<()> {
    if store.revisions()?.iter().any(|r| r.is_demo()) {
        w(
            out,
            &format!("!! {SYNTHETIC_LABEL}: scores of the generated demo, not of real cities\n"),
        )?;
    }
    Ok(())
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

fn node_name(ctx: &Ctx, tree: &Tree, code: &str) -> String {
    if let Some(dp) = ctx.catalog.get(code) {
        return dp.name.clone();
    }
    tree.find(code)
        .map(|i| tree.nodes[i].name.clone())
        .unwrap_or_else(|| code.to_string())
}

fn city_name(ctx: &Ctx, slug: &str) -> String {
    ctx.registry.name_of(slug)
}

/// How many ranks a ranking shows: `--top N` (0: all), else 20 when text goes to a
/// terminal and more than 100 cities are ranked (10 000 lines scroll by and cost seconds).
fn top_of(top: Option<usize>, text: bool, cities: usize) -> Option<usize> {
    use std::io::IsTerminal;
    match top {
        Some(0) => None,
        Some(n) => Some(n),
        None if text && cities > 100 && std::io::stdout().is_terminal() => Some(20),
        None => None,
    }
}

/// The rows within the first `top` ranks (all without a limit), and how many are left out.
fn within_top<'a>(rows: &[&'a NodeScore], top: Option<usize>) -> (Vec<&'a NodeScore>, usize) {
    match top {
        None => (rows.to_vec(), 0),
        Some(n) => {
            let kept: Vec<&NodeScore> = rows
                .iter()
                .copied()
                .filter(|r| r.rank.is_some_and(|k| k <= n))
                .collect();
            let left = rows.len() - kept.len();
            (kept, left)
        }
    }
}

fn more_line(left: usize, n: Option<usize>) -> String {
    match (left, n) {
        (0, _) | (_, None) => String::new(),
        (k, Some(n)) => format!("… {k} more below rank {n} (--top 0 shows all)\n"),
    }
}

fn rank_table(ctx: &Ctx, rows: &[&NodeScore], level: Level, intervals: bool) -> TextTable {
    let tree = Tree::new(&ctx.catalog);
    let mut head = vec!["rank"];
    if intervals {
        head.push("interval");
    }
    head.extend(["city"]);
    if level != Level::Overall {
        head.push("node");
    }
    head.extend(["score", "u4ssc_%", "band", "scored", "coverage"]);
    let mut t = TextTable::new(&head);
    let mut sorted: Vec<&&NodeScore> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        (
            a.node.as_str(),
            a.rank.unwrap_or(usize::MAX),
            a.city.as_str(),
        )
            .cmp(&(
                b.node.as_str(),
                b.rank.unwrap_or(usize::MAX),
                b.city.as_str(),
            ))
    });
    for n in sorted {
        let mut r = vec![n.rank.map(|x| x.to_string()).unwrap_or_else(|| "–".into())];
        if intervals {
            r.push(match (n.rank_p05, n.rank_p95) {
                (Some(lo), Some(hi)) => format!("{lo:.0}-{hi:.0}"),
                _ => "–".into(),
            });
        }
        r.push(city_name(ctx, &n.city));
        if level != Level::Overall {
            r.push(format!("{} {}", n.node, node_name(ctx, &tree, &n.node)));
        }
        r.push(if n.score.is_none() && n.scored_items > 0 {
            "insufficient data".into()
        } else {
            f1(n.score)
        });
        r.push(f1(n.u4ssc_pct));
        r.push(
            n.band
                .map(|b| format!("{} {}", band_glyph(b), band_label(b)))
                .unwrap_or_else(|| "–".into()),
        );
        r.push(format!("{}/{}", n.scored_items, n.total_items));
        r.push(format!("{:.0}%", n.coverage * 100.0));
        t.push(r);
    }
    t
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

pub fn rank(ctx: &Ctx, a: &RankOptions, out: &mut dyn Write) -> Result<i32> {
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
        return Err(Error::Usage(format!(
            "run {} has no scores for {year}",
            run.run_id
        )));
    }
    let cities: Vec<String> = rows
        .iter()
        .map(|r| r.city.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let peers = ctx.registry.members_of(&a.peers, &cities)?;
    let all = a.peers == PeerSpec::All;
    rows.retain(|r| peers.contains(&r.city));
    if !all {
        rerank(&mut rows);
    }
    match a.format {
        OutputFormat::Json => {
            let refs: Vec<&NodeScore> = rows.iter().collect();
            let (shown, _) = within_top(&refs, top_of(a.top, false, peers.len()));
            w(out, &to_json(&shown))?
        }
        OutputFormat::Csv => {
            let refs: Vec<&NodeScore> = rows.iter().collect();
            let (shown, _) = within_top(&refs, top_of(a.top, false, peers.len()));
            w(
                out,
                &rank_table(ctx, &shown, level, all).render(OutputFormat::Csv),
            )?
        }
        OutputFormat::Text => {
            demo_banner(&store, out)?;
            w(
                out,
                &format!(
                    "run {} ({}), {year}, level {}, peers {} ({} cities){}\n",
                    run.run_id,
                    run.method_name,
                    ctx.catalog.level_key(level),
                    a.peers,
                    peers.len(),
                    if all {
                        "; interval = 5th-95th percentile rank over method choices"
                    } else {
                        "; ranks within the peer group"
                    }
                ),
            )?;
            let refs: Vec<&NodeScore> = rows.iter().collect();
            let top = top_of(a.top, true, peers.len());
            let (shown, left) = within_top(&refs, top);
            w(
                out,
                &rank_table(ctx, &shown, level, all).render(OutputFormat::Text),
            )?;
            w(out, &more_line(left, top))?;
            w(out, "Scored against u4ssc toolkit targets, not official U4SSC targets. Rank gaps of 2-3 places are not meaningful.\n")?;
        }
    }
    Ok(0)
}

pub fn runs(ctx: &Ctx, format: OutputFormat, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let mut t = TextTable::new(&[
        "run",
        "created_at",
        "method",
        "method_sha256",
        "revisions",
        "seed",
        "draws",
        "version",
    ]);
    for r in store.runs()? {
        t.push(vec![
            r.run_id.to_string(),
            r.created_at,
            r.method_name,
            if format == OutputFormat::Text {
                r.method_hash[..12.min(r.method_hash.len())].to_string()
            } else {
                r.method_hash
            },
            r.revisions,
            r.seed.to_string(),
            r.draws.to_string(),
            r.program_version,
        ]);
    }
    w(out, &t.render(format))?;
    Ok(0)
}
