//! The scoring commands: score, runs, rank, compare, explain, diff.

use crate::catalog::{normalise_code, normalise_part};
use crate::context::Ctx;
use crate::demo::SYNTHETIC_LABEL;
use crate::error::{Error, Result};
use crate::registry::Registry;
use crate::scoring::bands::{band_glyph, band_label};
use crate::scoring::engine::{peer_set, Level, NodeScore, Tree};
use crate::scoring::method::{self, RunMethod};
use crate::scoring::run;
use crate::scoring::trends::arrow;
use crate::stats;
use crate::store::{Access, NewRun, RunInfo, Store};
use crate::table::{to_json, DocFormat, OutputFormat, TextTable};
use clap::Args;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::PathBuf;

fn w(out: &mut dyn Write, text: &str) -> Result<()> {
    // a progress line on the terminal goes before the result is written
    crate::progress::clear();
    out.write_all(text.as_bytes())
        .map_err(|source| Error::Write {
            path: "<stdout>".into(),
            source,
        })
}

fn f1(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".into())
}

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
pub struct RunSel {
    /// Scoring run [default: the latest]
    #[arg(long)]
    pub run: Option<i64>,
    /// Year [default: the latest year in the run]
    #[arg(long)]
    pub year: Option<i32>,
}

#[derive(Debug, Args)]
pub struct RankArgs {
    /// The level ranked: overall, dimension, subdimension, category, kpi or data-point
    #[arg(long, default_value = "overall", value_parser = level_values())]
    pub level: String,
    /// Peer group: all, kostra=N, county=NAME, population=BAND, group=NAME, or like=CITY
    /// (CITY's KOSTRA group)
    #[arg(long, default_value = "all", value_parser = PeersParser, hide_possible_values = true)]
    pub peers: String,
    #[command(flatten)]
    pub sel: RunSel,
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
    pub peers: String,
    #[command(flatten)]
    pub sel: RunSel,
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
    pub sel: RunSel,
    /// Output: text (the chain, line by line) or json (one object per data point)
    #[arg(long, value_enum, default_value_t = DocFormat::Text)]
    pub format: DocFormat,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The earlier run (see `u4ssc runs`)
    pub run_a: i64,
    /// The later run
    pub run_b: i64,
    /// The level ranked: overall, dimension, subdimension, category, kpi or data-point
    #[arg(long, default_value = "overall", value_parser = level_values())]
    pub level: String,
    /// Year [default: the latest year of the later run]
    #[arg(long)]
    pub year: Option<i32>,
    /// Output: text (aligned columns), csv or json
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// The levels as clap's possible values (so completions offer them); `data_point` is
/// accepted for `data-point`.
fn level_values() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(Level::ALL.iter().map(|l| {
        let v = clap::builder::PossibleValue::new(l.as_str());
        if *l == Level::DataPoint {
            v.alias("data_point")
        } else {
            v
        }
    }))
}

fn parse_level(s: &str) -> Result<Level> {
    Level::parse(s).ok_or_else(|| {
        Error::Usage(format!(
            "unknown level '{s}'; use one of: {}",
            Level::ALL
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

fn city_slug(reg: &Registry, text: &str) -> Result<String> {
    reg.resolve(text, None)
        .map(|(c, _)| c.slug.clone())
        .ok_or_else(|| {
            Error::Usage(format!(
                "'{text}' is not a city in the registry; see `u4ssc cities`"
            ))
        })
}

pub fn score(ctx: &Ctx, a: &ScoreArgs, out: &mut dyn Write) -> Result<i32> {
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
    let m = RunMethod::parse(&text, &origin)?;
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
    m: &RunMethod,
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
    if store.revisions()?.iter().any(|r| r.kind == "demo") {
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

/// The kinds of peer group `--peers` takes: `all`, or `KIND=VALUE`.
const PEER_KINDS: &[&str] = &["kostra", "county", "population", "group", "like"];
/// The same, as completions offer them.
const PEER_STARTS: &[&str] = &["kostra=", "county=", "population=", "group=", "like="];

/// `--peers`: `all` or `KIND=VALUE` with a known kind, checked when the command line is
/// read; completions offer `all` and every `KIND=` to go on from.
#[derive(Clone)]
struct PeersParser;

impl clap::builder::TypedValueParser for PeersParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<String, clap::Error> {
        let text = value.to_string_lossy().into_owned();
        let ok = text == "all"
            || text
                .split_once(['=', ':'])
                .is_some_and(|(k, v)| !v.is_empty() && (PEER_KINDS.contains(&k) || k == "custom"));
        if ok {
            return Ok(text);
        }
        let mut err = clap::Error::new(clap::error::ErrorKind::InvalidValue).with_cmd(cmd);
        use clap::error::{ContextKind, ContextValue};
        if let Some(a) = arg {
            err.insert(ContextKind::InvalidArg, ContextValue::String(a.to_string()));
        }
        err.insert(ContextKind::InvalidValue, ContextValue::String(text));
        err.insert(
            ContextKind::ValidValue,
            ContextValue::Strings(
                std::iter::once("all".to_string())
                    .chain(PEER_KINDS.iter().map(|k| format!("{k}=VALUE")))
                    .collect(),
            ),
        );
        Err(err)
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

/// Resolve a --peers expression to the set of cities (given the run's cities).
fn peers_of(ctx: &Ctx, spec: &str, cities: &[String]) -> Result<BTreeSet<String>> {
    if spec == "all" {
        return Ok(cities.iter().cloned().collect());
    }
    let (kind, value) = spec.split_once(['=', ':']).ok_or_else(|| Error::Usage(format!("--peers '{spec}': use all, kostra=N, county=NAME, population=BAND, group=NAME or like=CITY")))?;
    let set: BTreeSet<String> = match kind {
        "like" => {
            let slug = city_slug(&ctx.registry, value)?;
            peer_set(&ctx.registry, &slug, "kostra", cities)
        }
        "kostra" => cities.iter().filter(|c| ctx.registry.get(c).and_then(|x| x.kostra_group).map(|g| g.to_string()) == Some(value.to_string())).cloned().collect(),
        "county" => cities.iter().filter(|c| ctx.registry.get(c).map(|x| x.county.eq_ignore_ascii_case(value)).unwrap_or(false)).cloned().collect(),
        "population" => cities.iter().filter(|c| ctx.registry.get(c).map(|x| x.population_band() == value).unwrap_or(false)).cloned().collect(),
        "group" | "custom" => cities.iter().filter(|c| ctx.registry.get(c).map(|x| x.groups.iter().any(|g| g == value)).unwrap_or(false)).cloned().collect(),
        _ => return Err(Error::Usage(format!("--peers '{spec}': unknown kind '{kind}'; use all, kostra, county, population, group or like"))),
    };
    if set.is_empty() {
        return Err(Error::Usage(format!(
            "--peers '{spec}' matches no city in this run"
        )));
    }
    Ok(set)
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

pub fn rank(ctx: &Ctx, a: &RankArgs, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let run = pick_run(&store, a.sel.run)?;
    let level = parse_level(&a.level)?;
    let year = match a.sel.year {
        Some(y) => y,
        None => latest_year(&store, run.run_id)?,
    };
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
    let peers = peers_of(ctx, &a.peers, &cities)?;
    let all = a.peers == "all";
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
                    level.as_str(),
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

#[derive(serde::Serialize)]
struct PeerLine {
    level: &'static str,
    node: String,
    name: String,
    score: Option<f64>,
    band: Option<u8>,
    rank: Option<usize>,
    rank_interval: Option<(f64, f64)>,
    group_ranks: Vec<(String, Option<usize>, usize)>,
    percentile: Option<f64>,
    peer_median: Option<f64>,
    best: Option<f64>,
}

pub fn compare(ctx: &Ctx, a: &CompareArgs, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let run = pick_run(&store, a.sel.run)?;
    let year = match a.sel.year {
        Some(y) => y,
        None => latest_year(&store, run.run_id)?,
    };
    let me = city_slug(&ctx.registry, &a.city)?;
    let tree = Tree::new(&ctx.catalog);
    let all_nodes = store.node_scores(run.run_id, None, Some(year))?;
    let cities: Vec<String> = all_nodes
        .iter()
        .map(|r| r.city.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if !cities.contains(&me) {
        return Err(Error::Usage(format!(
            "{} has no scores in run {} for {year}",
            city_name(ctx, &me),
            run.run_id
        )));
    }
    let peers = peers_of(ctx, &a.peers, &cities)?;
    if !a.with.is_empty() {
        let mut list = vec![me.clone()];
        for c in &a.with {
            list.push(city_slug(&ctx.registry, c)?);
        }
        let mut head: Vec<String> = vec!["level".into(), "node".into()];
        head.extend(list.iter().map(|c| city_name(ctx, c)));
        head.push("largest gap".into());
        let mut t = TextTable {
            header: head,
            rows: vec![],
        };
        for level in [
            Level::Overall,
            Level::Dimension,
            Level::Subdimension,
            Level::Category,
        ] {
            for node in tree.nodes.iter().filter(|n| n.level == level) {
                let vals: Vec<Option<f64>> = list
                    .iter()
                    .map(|c| {
                        all_nodes
                            .iter()
                            .find(|n| n.node == node.code && &n.city == c)
                            .and_then(|n| n.score)
                    })
                    .collect();
                let present: Vec<f64> = vals.iter().flatten().copied().collect();
                let gap = if present.len() >= 2 {
                    present.iter().cloned().fold(f64::MIN, f64::max)
                        - present.iter().cloned().fold(f64::MAX, f64::min)
                } else {
                    0.0
                };
                let mut r = vec![
                    level.as_str().to_string(),
                    format!("{} {}", node.code, node.name),
                ];
                r.extend(vals.iter().map(|v| f1(*v)));
                r.push(if gap >= 15.0 {
                    format!("{gap:.1} !")
                } else {
                    format!("{gap:.1}")
                });
                t.push(r);
            }
        }
        demo_banner(&store, out)?;
        w(
            out,
            &format!(
                "run {}, {year}; '!' marks gaps of 15 points or more\n",
                run.run_id
            ),
        )?;
        w(out, &t.render(a.format))?;
        return Ok(0);
    }
    let groups: Vec<(String, BTreeSet<String>)> = ctx
        .registry
        .get(&me)
        .map(|c| ctx.registry.groups_of(c))
        .unwrap_or_default()
        .into_iter()
        .map(|(kind, label)| {
            let set = match kind.as_str() {
                "all" => cities.iter().cloned().collect(),
                "custom" => peer_set(&ctx.registry, &me, &label, &cities),
                k => peer_set(&ctx.registry, &me, k, &cities),
            };
            (label, set)
        })
        .collect();
    let mut lines = Vec::new();
    for level in [Level::Overall, Level::Dimension, Level::Subdimension] {
        for node in tree.nodes.iter().filter(|n| n.level == level) {
            let rows: Vec<&NodeScore> = all_nodes.iter().filter(|n| n.node == node.code).collect();
            let Some(mine) = rows.iter().find(|n| n.city == me) else {
                continue;
            };
            let in_peers: Vec<f64> = rows
                .iter()
                .filter(|n| peers.contains(&n.city) && n.city != me)
                .filter_map(|n| n.score)
                .collect();
            let group_ranks = groups
                .iter()
                .map(|(label, set)| {
                    let sub: Vec<&&NodeScore> =
                        rows.iter().filter(|n| set.contains(&n.city)).collect();
                    let sc: Vec<Option<f64>> = sub.iter().map(|n| n.score).collect();
                    let r = stats::rank_desc(&sc);
                    let pos = sub.iter().position(|n| n.city == me).and_then(|i| r[i]);
                    (label.clone(), pos, sub.len())
                })
                .collect();
            let all_scores: Vec<Option<f64>> = rows.iter().map(|n| n.score).collect();
            let pct = stats::percentile_rank(&all_scores);
            lines.push(PeerLine {
                level: level.as_str(),
                node: node.code.clone(),
                name: node.name.clone(),
                score: mine.score,
                band: mine.band,
                rank: mine.rank,
                rank_interval: mine.rank_p05.zip(mine.rank_p95),
                group_ranks,
                percentile: rows
                    .iter()
                    .position(|n| n.city == me)
                    .and_then(|i| pct[i])
                    .map(|p| p * 100.0),
                peer_median: stats::median(&in_peers),
                best: in_peers
                    .iter()
                    .cloned()
                    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v)))),
            });
        }
    }
    // strengths and weaknesses: data points furthest above / below the peer median
    let dps = store.dp_scores(run.run_id, None, Some(year))?;
    let mut by_dp: BTreeMap<&str, Vec<(&str, f64)>> = BTreeMap::new();
    for d in &dps {
        if let Some(s) = d.score {
            by_dp
                .entry(d.data_point.as_str())
                .or_default()
                .push((d.city.as_str(), s));
        }
    }
    let rel = stats::relative_to_peers(
        dps.iter()
            .filter_map(|d| d.score.map(|s| (d.city.as_str(), d.data_point.as_str(), s))),
        &me,
        &|c| peers.contains(c),
    );
    // most similar cities: root mean square difference over shared data-point scores (each
    // city's scores by data point first, so that 10 000 cities are compared in one pass)
    let mut by_city: HashMap<&str, Vec<Option<f64>>> = HashMap::new();
    for (j, list) in by_dp.values().enumerate() {
        for (c, s) in list {
            by_city.entry(c).or_insert_with(|| vec![None; by_dp.len()])[j] = Some(*s);
        }
    }
    let mut sim: Vec<(f64, String, usize)> = Vec::new();
    let mine = by_city.get(me.as_str());
    for other in &cities {
        if *other == me {
            continue;
        }
        let (Some(mine), Some(theirs)) = (mine, by_city.get(other.as_str())) else {
            continue;
        };
        let mut sq = 0.0;
        let mut n = 0;
        for (a, b) in mine.iter().zip(theirs) {
            if let (Some(a), Some(b)) = (a, b) {
                sq += (a - b).powi(2);
                n += 1;
            }
        }
        if n >= 10 {
            sim.push(((sq / n as f64).sqrt(), other.clone(), n));
        }
    }
    sim.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let trends = store.trends(run.run_id, Some(&me))?;
    if a.format == OutputFormat::Json {
        let strengths: Vec<_> = rel
            .iter()
            .filter(|r| r.0 > 0.0)
            .take(5)
            .map(|r| serde_json::json!({"data_point": r.1, "score": r.2, "peer_median": r.3}))
            .collect();
        let weaknesses: Vec<_> = rel
            .iter()
            .rev()
            .filter(|r| r.0 < 0.0)
            .take(5)
            .map(|r| serde_json::json!({"data_point": r.1, "score": r.2, "peer_median": r.3}))
            .collect();
        let similar: Vec<_> = sim
            .iter()
            .take(3)
            .map(|s| serde_json::json!({"city": s.1, "rms_difference": s.0, "shared": s.2}))
            .collect();
        w(
            out,
            &to_json(
                &serde_json::json!({"city": me, "year": year, "run": run.run_id, "peers": a.peers, "levels": lines, "strengths": strengths, "weaknesses": weaknesses, "most_similar": similar}),
            ),
        )?;
        return Ok(0);
    }
    demo_banner(&store, out)?;
    w(
        out,
        &format!(
            "{} — run {} ({}), {year}, peers {} ({} cities)\n\n",
            city_name(ctx, &me),
            run.run_id,
            run.method_name,
            a.peers,
            peers.len()
        ),
    )?;
    let mut t = TextTable::new(&[
        "level",
        "node",
        "score",
        "band",
        "rank",
        "interval",
        "percentile",
        "peer median",
        "best peer",
        "peer-group ranks",
    ]);
    for l in &lines {
        t.push(vec![
            l.level.into(),
            format!("{} {}", l.node, l.name),
            f1(l.score),
            l.band
                .map(|b| format!("{} {}", band_glyph(b), band_label(b)))
                .unwrap_or_else(|| "–".into()),
            l.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
            l.rank_interval
                .map(|(a, b)| format!("{a:.0}-{b:.0}"))
                .unwrap_or_else(|| "–".into()),
            f1(l.percentile),
            l.peer_median
                .zip(l.score)
                .map(|(m, s)| format!("{m:.1} ({:+.1})", s - m))
                .unwrap_or_else(|| "–".into()),
            l.best
                .zip(l.score)
                .map(|(b, s)| format!("{b:.1} ({:+.1})", s - b))
                .unwrap_or_else(|| "–".into()),
            l.group_ranks
                .iter()
                .skip(1)
                .map(|(g, r, n)| {
                    format!(
                        "{g}: {}/{n}",
                        r.map(|r| r.to_string()).unwrap_or_else(|| "–".into())
                    )
                })
                .collect::<Vec<_>>()
                .join("; "),
        ]);
    }
    w(out, &t.render(OutputFormat::Text))?;
    let name = |id: &str| {
        ctx.catalog
            .get(id)
            .map(|d| format!("{} {}", d.label(), d.name))
            .unwrap_or_else(|| id.to_string())
    };
    let trend_of = |id: &str| {
        trends
            .iter()
            .find(|t| t.data_point == id)
            .map(|t| format!(" {} {}", arrow(t.category), t.category))
            .unwrap_or_default()
    };
    w(
        out,
        "\nstrongest relative to peers (score vs peer median):\n",
    )?;
    for r in rel.iter().filter(|r| r.0 > 0.0).take(5) {
        w(
            out,
            &format!(
                "  + {} {:.1} vs {:.1}{}\n",
                name(r.1),
                r.2,
                r.3,
                trend_of(r.1)
            ),
        )?;
    }
    w(out, "weakest relative to peers:\n")?;
    for r in rel.iter().rev().filter(|r| r.0 < 0.0).take(5) {
        w(
            out,
            &format!(
                "  - {} {:.1} vs {:.1}{}\n",
                name(r.1),
                r.2,
                r.3,
                trend_of(r.1)
            ),
        )?;
    }
    w(
        out,
        "most similar cities by profile (root mean square difference of data-point scores):\n",
    )?;
    for s in sim.iter().take(3) {
        w(
            out,
            &format!(
                "  {} ({:.1} over {} shared data points)\n",
                city_name(ctx, &s.1),
                s.0,
                s.2
            ),
        )?;
    }
    let missing: Vec<String> = ctx
        .catalog
        .data_points
        .iter()
        .filter(|d| {
            !by_dp
                .get(d.id.as_str())
                .map(|l| l.iter().any(|(c, _)| *c == me))
                .unwrap_or(false)
        })
        .map(|d| d.label())
        .collect();
    w(
        out,
        &format!("data points without a score: {}\n", missing.len()),
    )?;
    Ok(0)
}

pub fn explain(ctx: &Ctx, a: &ExplainArgs, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let run = pick_run(&store, a.sel.run)?;
    let year = match a.sel.year {
        Some(y) => y,
        None => latest_year(&store, run.run_id)?,
    };
    let me = city_slug(&ctx.registry, &a.city)?;
    let mut dps: Vec<_> = match ctx.catalog.get(&a.kpi) {
        Some(d) => vec![d],
        None => ctx.catalog.by_code(&a.kpi),
    };
    if dps.is_empty() {
        let hint = ctx
            .catalog
            .suggest_code(&a.kpi)
            .map(|c| format!("; did you mean '{c}'?"))
            .unwrap_or_default();
        return Err(Error::Usage(format!(
            "'{}' is not a KPI code or data-point id{hint}",
            a.kpi
        )));
    }
    if let Some(p) = &a.data_point {
        dps.retain(|d| normalise_part(&d.part) == normalise_part(p));
        if dps.is_empty() {
            return Err(Error::Usage(format!(
                "'{p}' is not a data point of {}",
                a.kpi
            )));
        }
    }
    let m = RunMethod::parse(&run.method_text, "stored method")?;
    let tree = Tree::new(&ctx.catalog);
    let scores = store.dp_scores(run.run_id, Some(&me), Some(year))?;
    let nodes = store.node_scores(run.run_id, None, Some(year))?;
    let text = a.format == DocFormat::Text;
    if text {
        demo_banner(&store, out)?;
    }
    let mut all = Vec::new();
    for dp in dps {
        let mut j = serde_json::json!({
            "city": me, "year": year, "data_point": dp.id, "kpi": dp.label(), "name": dp.name,
            "unit": dp.unit, "direction": dp.direction.as_str(),
            "target": dp.target.value, "target_band": dp.target.band,
            "target_year": crate::scoring::trends::target_year(dp),
            "target_basis": dp.target.basis, "target_source": dp.target.source,
            "run": run.run_id, "method": run.method_name, "method_sha256": run.method_hash,
        });
        if text {
            w(
                out,
                &format!(
                    "\n{} — {} {} ({}), {year}\n",
                    city_name(ctx, &me),
                    dp.label(),
                    dp.name,
                    dp.id
                ),
            )?;
        }
        let obs = store.observation(&me, year, &dp.id)?;
        if let Some((o, rev)) = &obs {
            j["value"] = serde_json::json!(o.value);
            j["numerator"] = serde_json::json!(o.numerator);
            j["denominator"] = serde_json::json!(o.denominator);
            j["revision"] = serde_json::json!(rev.revision_id);
            j["source_file"] = serde_json::json!(rev.source_file);
            j["line"] = serde_json::json!(o.line);
            j["source"] = serde_json::json!(o.source);
            j["quality"] = serde_json::json!(o.quality);
            j["verified"] = serde_json::json!(o.verified);
        }
        let s = scores.iter().find(|s| s.data_point == dp.id);
        if let Some(s) = s {
            j["achievement_pct"] = serde_json::json!(s.achievement);
            j["points"] = serde_json::json!(s.points);
            j["band"] = serde_json::json!(s.points.map(band_label));
            j["score"] = serde_json::json!(s.score);
            j["rank"] = serde_json::json!(s.rank);
            j["flags"] = serde_json::json!(s.flags);
        }
        let mut up = Vec::new();
        let mut cur = tree.find(&normalise_code(&dp.code));
        while let Some(k) = cur {
            let n = &tree.nodes[k];
            if let Some(ns) = nodes.iter().find(|x| x.node == n.code && x.city == me) {
                up.push(serde_json::json!({
                    "level": n.level.as_str(), "node": n.code, "name": n.name, "score": ns.score,
                    "u4ssc_pct": ns.u4ssc_pct, "scored_items": ns.scored_items,
                    "total_items": ns.total_items, "rank": ns.rank,
                }));
            }
            cur = n.parent;
        }
        j["levels"] = serde_json::Value::Array(up);
        all.push(j);
        if !text {
            continue;
        }
        match &obs {
            None => {
                w(
                    out,
                    "  value        not in any revision for this year (missing)\n",
                )?;
            }
            Some((o, rev)) => {
                w(out, &format!(
                    "  value        {} {}{}\n  from         revision {} ({}, {} line {}, imported {})\n  source       {}\n  quality      {}; verified: {}\n",
                    o.value.map(|v| v.to_string()).unwrap_or_else(|| "not reported".into()),
                    dp.unit,
                    match (o.numerator, o.denominator) { (Some(n), Some(d)) => format!(" (= {n} / {d} x {})", dp.unit_kind.scale()), _ => String::new() },
                    rev.revision_id, rev.kind, rev.source_file, o.line, rev.imported_at,
                    o.source.clone().unwrap_or_else(|| "–".into()),
                    o.quality.clone().unwrap_or_else(|| "–".into()),
                    o.verified.map(|v| if v { "yes" } else { "no" }).unwrap_or("–"),
                ))?;
            }
        }
        let by = crate::scoring::trends::target_year(dp);
        let target = match (dp.target.value, dp.target.band) {
            (Some(v), _) => format!("{v} {} by {by}", dp.unit),
            (_, Some([lo, hi])) => format!("{lo}-{hi} {} by {by}", dp.unit),
            _ => "none".into(),
        };
        let basis = serde_json::to_value(dp.target.basis)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        w(
            out,
            &format!(
                "  direction    {} ({})\n  target       {target}; basis {basis}: {}\n",
                dp.direction.as_str(),
                dp.direction_basis,
                dp.target.source
            ),
        )?;
        let s = scores.iter().find(|s| s.data_point == dp.id);
        match s {
            None => w(out, "  score        none (no value)\n")?,
            Some(s) => {
                w(
                    out,
                    &format!(
                        "  U4SSC        {} of target -> {} point(s), band {}\n",
                        s.achievement
                            .map(|a| format!(
                                "{a:.1} %{}",
                                if a > 100.0 {
                                    " (capped at 100 % for banding)"
                                } else {
                                    ""
                                }
                            ))
                            .unwrap_or_else(|| "not scored (no target)".into()),
                        s.points
                            .map(|p| p.to_string())
                            .unwrap_or_else(|| "–".into()),
                        s.points.map(band_label).unwrap_or("–"),
                    ),
                )?;
                w(out, &format!(
                    "  composite    {} by {} (run {}, method '{}', sha256 {}); rank {} of the year{}\n",
                    f1(s.score), m.normalisation.as_str(), run.run_id, run.method_name, &run.method_hash[..12],
                    s.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
                    if s.flags.is_empty() { String::new() } else { format!("; flags: {}", s.flags) }
                ))?;
                if m.normalisation == crate::scoring::method::Normalisation::Goalposts {
                    let (worst, opt) = crate::scoring::engine::goalposts(dp);
                    w(
                        out,
                        &format!(
                            "               goalposts: worst {worst} -> 0, optimum {opt} -> 100\n"
                        ),
                    )?;
                }
            }
        }
        // up the tree
        let mut cur = tree.find(&normalise_code(&dp.code));
        while let Some(k) = cur {
            let n = &tree.nodes[k];
            if let Some(ns) = nodes.iter().find(|x| x.node == n.code && x.city == me) {
                w(
                    out,
                    &format!(
                        "  {:<12} {} {}: score {}, U4SSC {} % ({} of {} items), rank {}\n",
                        n.level.as_str(),
                        n.code,
                        n.name,
                        f1(ns.score),
                        f1(ns.u4ssc_pct),
                        ns.scored_items,
                        ns.total_items,
                        ns.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into())
                    ),
                )?;
            }
            cur = n.parent;
        }
    }
    if !text {
        w(out, &to_json(&all))?;
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

pub fn diff(ctx: &Ctx, a: &DiffArgs, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let ra = pick_run(&store, Some(a.run_a))?;
    let rb = pick_run(&store, Some(a.run_b))?;
    let level = parse_level(&a.level)?;
    let year = match a.year {
        Some(y) => y,
        None => latest_year(&store, rb.run_id)?,
    };
    let old = store.node_scores(ra.run_id, Some(level), Some(year))?;
    let new = store.node_scores(rb.run_id, Some(level), Some(year))?;
    let mut t = TextTable::new(&[
        "city", "node", "rank_a", "rank_b", "change", "band_a", "band_b", "score_a", "score_b",
    ]);
    let mut rows = Vec::new();
    for n in &new {
        let o = old.iter().find(|o| o.city == n.city && o.node == n.node);
        let (or, ob, os) = (
            o.and_then(|o| o.rank),
            o.and_then(|o| o.band),
            o.and_then(|o| o.score),
        );
        if or != n.rank || ob != n.band {
            let change = match (or, n.rank) {
                (Some(a), Some(b)) => a as i64 - b as i64,
                _ => 0,
            };
            rows.push((
                change.abs(),
                vec![
                    city_name(ctx, &n.city),
                    n.node.clone(),
                    or.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
                    n.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
                    format!("{change:+}"),
                    ob.map(band_label).unwrap_or("–").into(),
                    n.band.map(band_label).unwrap_or("–").into(),
                    f1(os),
                    f1(n.score),
                ],
            ));
        }
    }
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let moved = rows.len();
    for (_, r) in rows {
        t.push(r);
    }
    if a.format == OutputFormat::Text {
        w(
            out,
            &format!(
                "run {} ({}) -> run {} ({}), {year}, level {}: {moved} change(s) in rank or band\n",
                ra.run_id,
                ra.method_name,
                rb.run_id,
                rb.method_name,
                level.as_str()
            ),
        )?;
    }
    w(out, &t.render(a.format))?;
    Ok(0)
}
