//! The export tables, built from a stored run: the same rows feed CSV, JSON, Parquet and XLSX.

use crate::catalog::{normalise_code, KpiType};
use crate::context::Ctx;
use crate::error::Result;
use crate::rows::{CurrentValue, StatusCount};
use crate::scoring::bands::band_label;
use crate::scoring::engine::{DpScore, Level, NodeScore, Tree};
use crate::scoring::trends::Trend;
use crate::stats;
use crate::store::{RunInfo, Store};
use std::collections::{BTreeMap, BTreeSet, HashMap};

pub use crate::rows::{Cell, ColType, Column, DataTable};

fn col(name: &'static str, ty: ColType, doc: &'static str) -> Column {
    Column { name, ty, doc }
}

use ColType::{Int, Num, Text};

/// What to export.
pub struct Selection {
    pub cities: Option<BTreeSet<String>>,
    pub year: Option<i32>,
}

impl Selection {
    pub(crate) fn city(&self, c: &str) -> bool {
        self.cities.as_ref().map(|s| s.contains(c)).unwrap_or(true)
    }
    pub(crate) fn year(&self, y: i32) -> bool {
        self.year.map(|s| s == y).unwrap_or(true)
    }
}

/// Where a table's rows go: kept in the table (an export built in memory) or written out as
/// they come (a large export, streamed file by file).
pub trait Sink {
    fn row(&mut self, cells: Vec<Cell>) -> Result<()>;
}

impl Sink for DataTable {
    fn row(&mut self, cells: Vec<Cell>) -> Result<()> {
        self.rows.push(cells);
        Ok(())
    }
}

/// The tables whose rows grow with the cities and years, in the order an export holds them.
pub const LARGE: [&str; 7] = [
    "raw_values",
    "data_point_scores",
    "aggregate_scores",
    "ranks",
    "peers",
    "trends",
    "coverage",
];

pub fn revisions_of(store: &Store) -> Result<BTreeMap<i64, crate::store::RevisionInfo>> {
    Ok(store
        .revisions()?
        .into_iter()
        .map(|r| (r.revision_id, r))
        .collect())
}

/// Every table of an export, built in memory.
pub fn build(ctx: &Ctx, store: &Store, run: &RunInfo, sel: &Selection) -> Result<Vec<DataTable>> {
    let trace = crate::trace::Trace::new();
    let tree = Tree::new(&ctx.catalog);
    let revisions = revisions_of(store)?;
    // the selected year only, when there is one (every table below filters by it); the
    // selected cities only, when there are some (a few cities of a world are not read
    // whole), but the peer groups' levels and the sensitivity's year for every city
    let year = crate::store::Filter {
        year: sel.year,
        ..Default::default()
    };
    let chosen: Option<Vec<String>> = sel.cities.as_ref().map(|c| c.iter().cloned().collect());
    let (values, dps, nodes, trends, every) = match &chosen {
        None => (
            store.current_values_where(&year)?,
            store.dp_scores(run.run_id, None, sel.year)?,
            store.node_scores(run.run_id, None, sel.year)?,
            store.trends(run.run_id, None)?,
            None,
        ),
        Some(c) => {
            let mut values = store.current_values_of(c)?;
            values.retain(|v| sel.year(v.year));
            let every_value = sensitivity_values(store, sel)?;
            let levels = [Level::Overall, ctx.catalog.top_level()];
            let every_node = store.node_scores_at(run.run_id, &levels, sel.year)?;
            (
                values,
                store.dp_scores_of(run.run_id, c, sel.year)?,
                store.node_scores_of(run.run_id, c, sel.year)?,
                store.trends_of(run.run_id, c)?,
                Some((every_value, every_node)),
            )
        }
    };
    trace.mark("export: read values, scores and trends");
    let mut raw = raw_values_table();
    raw_values_rows(ctx, &revisions, &values, sel, &mut raw)?;
    let mut dp = data_point_scores_table();
    data_point_score_rows(ctx, &dps, sel, &mut dp)?;
    // the rows read are let go as soon as their table is built: a large export holds one
    // copy, not two
    drop(dps);
    let (mut agg, mut ranks) = (aggregate_scores_table(), ranks_table());
    node_rows(&tree, &nodes, sel, &mut agg, &mut ranks)?;
    let mut peers = peers_table();
    let peer_nodes = every.as_ref().map_or(&nodes, |(_, n)| n);
    peer_rows(ctx, peer_nodes, sel, &mut peers)?;
    drop(nodes);
    let mut tr = trends_table();
    trend_rows(&trends, sel, &mut tr)?;
    drop(trends);
    let mut cov = coverage_table();
    coverage_rows(ctx, &values, sel, &mut cov)?;
    trace.mark("export: built the large tables");
    let mut out = vec![raw, dp, agg, ranks, peers, tr, cov];
    let sensitivity_values = every.as_ref().map_or(&values, |(v, _)| v);
    out.extend(small_tables(ctx, store, run, sel, sensitivity_values)?);
    trace.mark("export: built the small tables");
    Ok(out)
}

/// The values the sensitivity re-scores: every city's of the selected year, else of the
/// latest (one year of the network, however many cities the export selects).
pub fn sensitivity_values(store: &Store, sel: &Selection) -> Result<Vec<CurrentValue>> {
    let year = match sel.year {
        Some(y) => Some(y),
        None => store.current_years()?.last().copied(),
    };
    store.current_values_where(&crate::store::Filter {
        year,
        ..Default::default()
    })
}

/// The tables that do not grow with the cities: catalog, method, sensitivity (one year's
/// values, `values`, are enough) and the questions log.
pub fn small_tables(
    ctx: &Ctx,
    store: &Store,
    run: &RunInfo,
    sel: &Selection,
    values: &[CurrentValue],
) -> Result<Vec<DataTable>> {
    let mut out = Vec::new();
    // 8. catalog
    let mut cat = DataTable {
        name: "catalog",
        columns: vec![
            col("data_point", Text, "catalog id"),
            col("kpi", Text, "U4SSC code"),
            col("part", Text, "data point"),
            col("kpi_node", Text, "KPI code without spaces"),
            col("name", Text, "English name"),
            col("name_nb", Text, "Norwegian name"),
            col("category", Text, "category code"),
            col("type", Text, "core or advanced"),
            col("unit", Text, "unit"),
            col(
                "direction",
                Text,
                "higher_better, lower_better, target_band",
            ),
            col("target", Num, "target value"),
            col("target_basis", Text, "basis"),
            col("target_source", Text, "source of the target"),
            col("sdg_goals", Text, "linked SDGs"),
            col("concept_uri", Text, "data.norge.no concept"),
        ],
        rows: vec![],
    };
    for dp in &ctx.catalog.data_points {
        let basis = dp.target.basis.as_str().to_string();
        cat.rows.push(vec![
            Cell::text(&dp.id),
            Cell::text(&dp.code),
            Cell::text(&dp.part),
            Cell::text(normalise_code(&dp.code)),
            Cell::text(&dp.name),
            Cell::text(&dp.name_nb),
            Cell::text(&dp.category),
            Cell::text(format!("{:?}", dp.kpi_type).to_lowercase()),
            Cell::text(&dp.unit),
            Cell::text(dp.direction.as_str()),
            Cell::opt(dp.target.value),
            Cell::text(basis),
            Cell::text(&dp.target.source),
            Cell::text(
                dp.sdg_goals
                    .iter()
                    .map(|g| g.to_string())
                    .collect::<Vec<_>>()
                    .join(";"),
            ),
            Cell::opt_text(dp.concept_uri.as_deref()),
        ]);
    }
    out.push(cat);

    // 9. method
    let mut m = DataTable {
        name: "method",
        columns: vec![col("key", Text, "what"), col("value", Text, "value")],
        rows: vec![],
    };
    for (k, v) in [
        ("run", run.run_id.to_string()),
        ("method", run.method_name.clone()),
        ("method_sha256", run.method_hash.clone()),
        ("revisions", run.revisions.clone()),
        ("seed", run.seed.to_string()),
        ("draws", run.draws.to_string()),
        ("program_version", run.program_version.clone()),
        ("catalog_version", run.catalog_version.clone()),
        ("targets", ctx.catalog.info.targets.clone()),
        ("method_file", run.method_text.clone()),
    ] {
        m.rows.push(vec![Cell::text(k), Cell::text(v)]);
    }
    out.push(m);

    // 10. sensitivity: each assumption of the run's method changed alone
    let mut sens = DataTable {
        name: "sensitivity",
        columns: vec![
            col("city", Text, "city slug"),
            col("year", Int, "year (the selected one, else the latest)"),
            col(
                "assumption",
                Text,
                "normalisation, aggregation, weights, targets or imputation",
            ),
            col(
                "variant",
                Text,
                "the alternative tried, the rest of the method kept",
            ),
            col("base_rank", Int, "overall rank with the run's method"),
            col("rank", Int, "overall rank with the alternative"),
            col("moved", Int, "places gained (positive) or lost (negative)"),
        ],
        rows: vec![],
    };
    if let Ok(method) = crate::scoring::method::Method::parse(&run.method_text, &run.method_name) {
        for x in crate::scoring::sensitivity::one_at_a_time(
            &ctx.catalog,
            &ctx.registry,
            values,
            &method,
            sel.year,
        )
        .into_iter()
        .filter(|x| sel.city(&x.city))
        {
            sens.rows.push(vec![
                Cell::text(&x.city),
                Cell::Int(x.year.into()),
                Cell::text(x.assumption),
                Cell::text(&x.variant),
                Cell::opt_int(x.base_rank.map(|r| r as i64)),
                Cell::opt_int(x.rank.map(|r| r as i64)),
                Cell::opt_int(x.moved()),
            ]);
        }
    }
    out.push(sens);

    // 11. the verification round's questions log (every status, the thread's last state)
    let mut qs = DataTable {
        name: "questions",
        columns: vec![
            col("question", Int, "question number"),
            col("city", Text, "city slug"),
            col("year", Int, "year of the value"),
            col(
                "data_point",
                Text,
                "data point id; empty for a question on the whole city-year",
            ),
            col("kpi", Text, "KPI code (data point)"),
            col(
                "value",
                Num,
                "the value asked about (empty: NR or none stored)",
            ),
            col("revision", Int, "the revision the value came from"),
            col(
                "status",
                Text,
                "open, answered (value changed in revision N), closed or withdrawn",
            ),
            col("asked_by", Text, "who asked"),
            col("asked_at", Text, "when (UTC, minutes)"),
            col(
                "origin",
                Text,
                "manual, or the check rule the question came from",
            ),
            col(
                "answers",
                Int,
                "answers so far (a changed value counts as one)",
            ),
            col("question_text", Text, "the question"),
        ],
        rows: vec![],
    };
    for q in store.questions(None, &[])?.into_iter().rev() {
        if !sel.city(&q.city) || !sel.year(q.year) {
            continue;
        }
        let kpi = q
            .data_point
            .as_deref()
            .and_then(|d| ctx.catalog.get(d))
            .map(|d| d.label());
        qs.rows.push(vec![
            Cell::Int(q.id),
            Cell::text(&q.city),
            Cell::Int(q.year.into()),
            Cell::opt_text(q.data_point.as_deref()),
            Cell::opt_text(kpi.as_deref()),
            Cell::opt(q.value),
            Cell::opt_int(q.revision_id),
            Cell::text(q.status_text()),
            Cell::text(&q.asked_by),
            Cell::text(&q.asked_at),
            Cell::text(&q.origin),
            Cell::Int(q.answers),
            Cell::text(&q.text),
        ]);
    }
    out.push(qs);
    Ok(out)
}

pub fn raw_values_table() -> DataTable {
    DataTable {
        name: "raw_values",
        columns: vec![
            col("city", Text, "city slug"),
            col("year", Int, "year the value refers to"),
            col("data_point", Text, "catalog id"),
            col("kpi", Text, "U4SSC code"),
            col("part", Text, "data point of a split KPI"),
            col("value", Num, "in the catalog unit; empty = not reported"),
            col("unit", Text, "catalog unit"),
            col("revision", Int, "revision the value came from"),
            col("source_file", Text, "file of that revision"),
            col("revision_kind", Text, "submission, demo (SYNTHETIC) or ssb"),
            col("source", Text, "source given in the submission"),
            col("quality", Text, "U4SSC data-quality level"),
            col("verified", Text, "yes/no"),
        ],
        rows: vec![],
    }
}

/// 1. Raw values with provenance, in the order of `values`.
pub fn raw_values_rows(
    ctx: &Ctx,
    revisions: &BTreeMap<i64, crate::store::RevisionInfo>,
    values: &[CurrentValue],
    sel: &Selection,
    out: &mut dyn Sink,
) -> Result<()> {
    for v in values
        .iter()
        .filter(|v| sel.city(&v.city) && sel.year(v.year))
    {
        let Some(dp) = ctx.catalog.get(&v.data_point) else {
            continue;
        };
        let rev = revisions.get(&v.revision_id);
        out.row(vec![
            Cell::text(&v.city),
            Cell::Int(v.year.into()),
            Cell::text(&dp.id),
            Cell::text(&dp.code),
            Cell::text(&dp.part),
            Cell::opt(v.value),
            Cell::text(&dp.unit),
            Cell::Int(v.revision_id),
            Cell::opt_text(rev.map(|r| r.source_file.as_str())),
            Cell::opt_text(rev.map(|r| r.kind.as_str())),
            Cell::opt_text(v.source.as_deref()),
            Cell::opt_text(v.quality.as_deref()),
            Cell::opt_text(v.verified.map(|b| if b { "yes" } else { "no" })),
        ])?;
    }
    Ok(())
}

pub fn data_point_scores_table() -> DataTable {
    DataTable {
        name: "data_point_scores",
        columns: vec![
            col("city", Text, "city slug"),
            col("year", Int, "year"),
            col("data_point", Text, "catalog id"),
            col("value", Num, "reported value"),
            col("target", Num, "the project's target (empty: none)"),
            col(
                "target_basis",
                Text,
                "sdg, who_eu, national, best_performer, expert, none",
            ),
            col(
                "achievement_pct",
                Num,
                "percent of target achieved, uncapped",
            ),
            col("points", Int, "U4SSC points 1-4"),
            col("band", Text, "U4SSC band"),
            col("score", Num, "composite score of the run's method"),
            col("rank", Int, "rank among the cities of the year"),
            col("flags", Text, "imputed, winsorised, capped, no_target"),
        ],
        rows: vec![],
    }
}

/// 2. Data-point scores, in the order of `dps`.
pub fn data_point_score_rows(
    ctx: &Ctx,
    dps: &[DpScore],
    sel: &Selection,
    out: &mut dyn Sink,
) -> Result<()> {
    for d in dps.iter().filter(|d| sel.city(&d.city) && sel.year(d.year)) {
        let Some(dp) = ctx.catalog.get(&d.data_point) else {
            continue;
        };
        let basis = dp.target.basis.as_str();
        out.row(vec![
            Cell::text(&d.city),
            Cell::Int(d.year.into()),
            Cell::text(&d.data_point),
            Cell::opt(d.value),
            Cell::opt(dp.target.value),
            Cell::text(basis),
            Cell::opt(d.achievement),
            Cell::opt_int(d.points),
            Cell::opt_text(d.points.map(band_label)),
            Cell::opt(d.score),
            Cell::opt_int(d.rank.map(|r| r as i64)),
            Cell::text(&d.flags),
        ])?;
    }
    Ok(())
}

pub fn aggregate_scores_table() -> DataTable {
    DataTable {
        name: "aggregate_scores",
        columns: vec![
            col("city", Text, "city slug"),
            col("year", Int, "year"),
            col(
                "level",
                Text,
                "kpi, category, subdimension, dimension, overall",
            ),
            col(
                "node",
                Text,
                "code of the KPI, category, sub-dimension or dimension",
            ),
            col("name", Text, "its name"),
            col("u4ssc_pct", Num, "points / (4 x scored items) x 100"),
            col("band", Text, "U4SSC band of u4ssc_pct"),
            col("scored_items", Int, "data points with points"),
            col("total_items", Int, "data points with a target"),
            col("score", Num, "composite score; empty = insufficient data"),
            col("coverage", Num, "share of data points with a score (0-1)"),
        ],
        rows: vec![],
    }
}

pub fn ranks_table() -> DataTable {
    DataTable {
        name: "ranks",
        columns: vec![
            col("city", Text, "city slug"),
            col("year", Int, "year"),
            col("level", Text, "level"),
            col("node", Text, "node code"),
            col("rank", Int, "rank by composite score, ties shared"),
            col(
                "rank_median",
                Num,
                "median rank over the Monte Carlo draws (latest year)",
            ),
            col("rank_p05", Num, "5th percentile rank"),
            col("rank_p95", Num, "95th percentile rank"),
        ],
        rows: vec![],
    }
}

/// 3. Aggregate scores and 4. ranks, in the order of `nodes`.
pub fn node_rows(
    tree: &Tree,
    nodes: &[NodeScore],
    sel: &Selection,
    agg_out: &mut dyn Sink,
    ranks_out: &mut dyn Sink,
) -> Result<()> {
    // each node's name looked up once per call, not searched for on every row
    let mut names: HashMap<&str, &str> = HashMap::new();
    for t in &tree.nodes {
        names.entry(t.code.as_str()).or_insert(t.name.as_str());
    }
    for n in nodes
        .iter()
        .filter(|n| sel.city(&n.city) && sel.year(n.year))
    {
        let name = names.get(n.node.as_str()).copied().unwrap_or_default();
        agg_out.row(vec![
            Cell::text(&n.city),
            Cell::Int(n.year.into()),
            Cell::text(tree.level_key(n.level)),
            Cell::text(&n.node),
            Cell::text(name),
            Cell::opt(n.u4ssc_pct),
            Cell::opt_text(n.band.map(band_label)),
            Cell::Int(n.scored_items as i64),
            Cell::Int(n.total_items as i64),
            Cell::opt(n.score),
            Cell::Num(n.coverage),
        ])?;
        // every aggregate level and the overall score are ranked
        if n.level > Level::Kpi {
            ranks_out.row(vec![
                Cell::text(&n.city),
                Cell::Int(n.year.into()),
                Cell::text(tree.level_key(n.level)),
                Cell::text(&n.node),
                Cell::opt_int(n.rank.map(|r| r as i64)),
                Cell::opt(n.rank_median),
                Cell::opt(n.rank_p05),
                Cell::opt(n.rank_p95),
            ])?;
        }
    }
    Ok(())
}

pub fn peers_table() -> DataTable {
    DataTable {
        name: "peers",
        columns: vec![
            col("city", Text, "city slug"),
            col("year", Int, "year"),
            col("node", Text, "overall or dimension code"),
            col("group", Text, "peer group"),
            col("group_size", Int, "cities in the group with a score"),
            col("rank_in_group", Int, "rank within the group"),
            col("score", Num, "composite score"),
            col(
                "group_median",
                Num,
                "median score of the other group members",
            ),
            col("group_best", Num, "best score of the other group members"),
        ],
        rows: vec![],
    }
}

/// Peers (table 5): each city's rank within each of its groups, overall and per dimension,
/// by year and node (`nodes` holds every city of the years it covers).
pub fn peer_rows(
    ctx: &Ctx,
    nodes: &[NodeScore],
    sel: &Selection,
    out: &mut dyn Sink,
) -> Result<()> {
    let mut by_key: BTreeMap<(i32, &str), Vec<&NodeScore>> = BTreeMap::new();
    let top = ctx.catalog.top_level();
    for n in nodes
        .iter()
        .filter(|n| n.level == Level::Overall || n.level == top)
    {
        by_key.entry((n.year, n.node.as_str())).or_default().push(n);
    }
    for ((year, node), rows) in &by_key {
        if !sel.year(*year) {
            continue;
        }
        // each row's city in the registry, looked up once; groups by the rows' positions
        let known: Vec<Option<&crate::registry::City>> =
            rows.iter().map(|r| ctx.registry.get(&r.city)).collect();
        // a group's members depend on the group only (its kind and label), so each group is
        // ranked once, not once per member: a world of cities stays linear
        let mut groups: HashMap<(String, String), Group> = HashMap::new();
        for (at, me) in rows.iter().enumerate().filter(|(_, r)| sel.city(&r.city)) {
            let Some(c) = known[at] else {
                continue;
            };
            for (kind, label) in ctx.registry.groups_of(c) {
                let g = groups
                    .entry((kind.clone(), label.clone()))
                    .or_insert_with(|| {
                        let name = crate::registry::Registry::group_name(&kind, &label);
                        let members: Vec<usize> = (0..rows.len())
                            .filter(|&i| crate::registry::Registry::shares(name, Some(c), known[i]))
                            .collect();
                        Group::of(rows, &members)
                    });
                let pos = g.rank.get(&at).copied().flatten();
                out.row(vec![
                    Cell::text(&me.city),
                    Cell::Int((*year).into()),
                    Cell::text(*node),
                    Cell::text(label),
                    Cell::Int(g.sorted.len() as i64),
                    Cell::opt_int(pos.map(|p| p as i64)),
                    Cell::opt(me.score),
                    Cell::opt(g.median_without(me.score)),
                    Cell::opt(g.best_without(me.score)),
                ])?;
            }
        }
    }
    Ok(())
}

/// One peer group of one node and year: its members' ranks and their scores in order.
struct Group {
    /// rank by the member's position among the node's rows
    rank: HashMap<usize, Option<usize>>,
    /// the members' scores, ascending (members without a score left out)
    sorted: Vec<f64>,
}

impl Group {
    /// The group of the rows at `members` (positions, in the rows' order).
    fn of(rows: &[&NodeScore], members: &[usize]) -> Group {
        let scores: Vec<Option<f64>> = members.iter().map(|&i| rows[i].score).collect();
        let rk = stats::rank_desc(&scores);
        let mut sorted: Vec<f64> = scores.iter().flatten().copied().collect();
        sorted.sort_by(f64::total_cmp);
        Group {
            rank: members.iter().copied().zip(rk).collect(),
            sorted,
        }
    }

    /// Where one occurrence of `mine` is among the sorted scores (none: no score of mine).
    fn position(&self, mine: Option<f64>) -> Option<usize> {
        mine.and_then(|v| self.sorted.binary_search_by(|x| x.total_cmp(&v)).ok())
    }

    /// The median of the other members' scores, as `stats::median` gives it.
    fn median_without(&self, mine: Option<f64>) -> Option<f64> {
        let skip = self.position(mine);
        let n = self.sorted.len() - usize::from(skip.is_some());
        if n == 0 {
            return None;
        }
        // the k-th of the others, in ascending order
        let at = |k: usize| match skip {
            Some(s) if k >= s => self.sorted[k + 1],
            _ => self.sorted[k],
        };
        Some(if n % 2 == 1 {
            at(n / 2)
        } else {
            (at(n / 2 - 1) + at(n / 2)) / 2.0
        })
    }

    /// The best of the other members' scores.
    fn best_without(&self, mine: Option<f64>) -> Option<f64> {
        let n = self.sorted.len();
        match self.position(mine) {
            // mine is the best (or ties it): the next one down
            Some(s) if s + 1 == n => n.checked_sub(2).map(|k| self.sorted[k]),
            _ => self.sorted.last().copied(),
        }
    }
}

pub fn trends_table() -> DataTable {
    DataTable {
        name: "trends",
        columns: vec![
            col("city", Text, "city slug"), col("data_point", Text, "catalog id"), col("first_year", Int, "first year"), col("last_year", Int, "last year"),
            col("first_value", Num, "value in the first year"), col("last_value", Num, "value in the last year"),
            col("cagr", Num, "growth a year, direction applied (positive = better)"), col("required_cagr", Num, "growth a year needed to reach the target by its year (2030 unless the catalog says otherwise)"),
            col("ratio", Num, "cagr / required_cagr"), col("category", Text, "target achieved, on track, moderate progress, limited progress, deteriorating, cannot assess"),
            col("reason", Text, "why it cannot be assessed, or the thresholds used"),
        ],
        rows: vec![],
    }
}

/// 6. Trends, in the order of `trends`.
pub fn trend_rows(trends: &[Trend], sel: &Selection, out: &mut dyn Sink) -> Result<()> {
    for x in trends.iter().filter(|x| sel.city(&x.city)) {
        out.row(vec![
            Cell::text(&x.city),
            Cell::text(&x.data_point),
            Cell::Int(x.first_year.into()),
            Cell::Int(x.last_year.into()),
            Cell::Num(x.first_value),
            Cell::Num(x.last_value),
            Cell::opt(x.cagr),
            Cell::opt(x.required_cagr),
            Cell::opt(x.ratio),
            Cell::text(x.category),
            Cell::text(&x.reason),
        ])?;
    }
    Ok(())
}

pub fn coverage_table() -> DataTable {
    DataTable {
        name: "coverage",
        columns: vec![
            col("city", Text, "city slug"),
            col("year", Int, "year"),
            col("core_reported", Int, "core data points with a value"),
            col("core_total", Int, "core data points in the catalog"),
            col(
                "advanced_reported",
                Int,
                "advanced data points with a value",
            ),
            col("advanced_total", Int, "advanced data points in the catalog"),
            col("verified", Int, "values marked verified"),
            col("not_reported", Int, "rows saying not reported"),
        ],
        rows: vec![],
    }
}

/// 7. Coverage by city and year, from the current values of whole cities.
pub fn coverage_rows(
    ctx: &Ctx,
    values: &[CurrentValue],
    sel: &Selection,
    out: &mut dyn Sink,
) -> Result<()> {
    let mut counts: BTreeMap<(&str, i32), [i64; 4]> = BTreeMap::new();
    for v in values
        .iter()
        .filter(|v| sel.city(&v.city) && sel.year(v.year))
    {
        let Some(dp) = ctx.catalog.get(&v.data_point) else {
            continue;
        };
        let c = counts.entry((v.city.as_str(), v.year)).or_default();
        match (v.value.is_some(), dp.kpi_type) {
            (false, _) => c[3] += 1,
            (true, KpiType::Core) => c[0] += 1,
            (true, KpiType::Advanced) => c[1] += 1,
        }
        if v.value.is_some() && v.verified == Some(true) {
            c[2] += 1;
        }
    }
    coverage_out(ctx, counts, out)
}

/// Coverage by city and year (table 7), from the counts the database made of them (the
/// export of a world, which does not read its values for them): the same rows as
/// [`coverage_rows`].
pub fn coverage_count_rows(
    ctx: &Ctx,
    counts: &[StatusCount],
    sel: &Selection,
    out: &mut dyn Sink,
) -> Result<()> {
    let counts = counts
        .iter()
        .filter(|c| sel.city(&c.city) && sel.year(c.year))
        .map(|c| {
            (
                (c.city.as_str(), c.year),
                [c.core, c.advanced, c.verified, c.not_reported],
            )
        })
        .collect();
    coverage_out(ctx, counts, out)
}

/// Coverage rows: city and year, core and advanced values reported out of the catalog's,
/// verified, not reported.
fn coverage_out(
    ctx: &Ctx,
    counts: BTreeMap<(&str, i32), [i64; 4]>,
    out: &mut dyn Sink,
) -> Result<()> {
    let core_total = ctx
        .catalog
        .data_points
        .iter()
        .filter(|d| d.kpi_type == KpiType::Core)
        .count() as i64;
    let adv_total = ctx.catalog.data_points.len() as i64 - core_total;
    for ((city, year), c) in counts {
        out.row(vec![
            Cell::text(city),
            Cell::Int(year.into()),
            Cell::Int(c[0]),
            Cell::Int(core_total),
            Cell::Int(c[1]),
            Cell::Int(adv_total),
            Cell::Int(c[2]),
            Cell::Int(c[3]),
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each member's median and best of the others, from one sorted list, equal the naive
    /// computation over the other members (ties, one member, no score of mine).
    #[test]
    fn a_group_gives_each_member_the_median_and_best_of_the_others() {
        for scores in [
            vec![3.0, 1.0, 2.0, 2.0, 5.0],
            vec![7.5],
            vec![4.0, 4.0],
            vec![9.0, 1.0, 9.0, 3.5, 0.0, 2.25],
        ] {
            let g = Group {
                rank: HashMap::new(),
                sorted: {
                    let mut s = scores.clone();
                    s.sort_by(f64::total_cmp);
                    s
                },
            };
            for (i, mine) in scores.iter().enumerate() {
                let others: Vec<f64> = scores
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, x)| *x)
                    .collect();
                assert_eq!(g.median_without(Some(*mine)), stats::median(&others));
                assert_eq!(
                    g.best_without(Some(*mine)),
                    others.iter().cloned().reduce(f64::max)
                );
            }
            // a member without a score: every score is another's
            assert_eq!(g.median_without(None), stats::median(&scores));
            assert_eq!(
                g.best_without(None),
                scores.iter().cloned().reduce(f64::max)
            );
        }
    }
}
