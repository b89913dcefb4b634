//! View models: what each view shows, computed from the state. Pure functions, so that the
//! renderer only draws and the tests can check the numbers.

use super::state::App;
use crate::scoring::bands::band_label;
use crate::scoring::engine::{Level, NodeScore, Tree};
use crate::scoring::trends::arrow;
use crate::stats;
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod search;
pub use search::*;

pub struct OverviewRow {
    pub city: String,
    pub name: String,
    pub rank: Option<usize>,
    pub interval: Option<(f64, f64)>,
    /// (score, band) per column of `overview_columns`
    pub cells: Vec<(Option<f64>, Option<u8>)>,
    pub coverage: f64,
}

pub struct Overview {
    pub columns: Vec<(String, String)>,
    pub rows: Vec<OverviewRow>,
    pub average: Vec<Option<f64>>,
}

/// The level the overview shows beside the overall score: the highest aggregate level
/// (U4SSC: dimensions), or the one below it when `d` toggled (sub-dimensions).
pub fn overview_level(app: &App) -> Level {
    let tops = app.catalog.levels_top_down();
    let pick = if app.subdimensions {
        tops.get(1).or(tops.first())
    } else {
        tops.first()
    };
    pick.copied().unwrap_or(Level::Overall)
}

/// A level's name in the plural and lower case, for titles ("dimensions", "pillars").
pub fn level_plural(app: &App, level: Level) -> String {
    crate::catalog::plural(&app.catalog.level_name(level).to_lowercase())
}

/// Node columns of the overview: overall, then dimensions or sub-dimensions.
pub fn overview_columns(app: &App) -> Vec<(String, String)> {
    let tree = Tree::new(&app.catalog);
    let level = overview_level(app);
    let mut cols = vec![("overall".to_string(), "Overall".to_string())];
    for n in tree.nodes.iter().filter(|n| n.level == level) {
        let short = n.code.rsplit(':').next().unwrap_or(&n.code).to_string();
        cols.push((n.code.clone(), short));
    }
    cols
}

pub fn peer_label(app: &App) -> String {
    let g = app.peer_group();
    if g == "all" {
        return "all cities".into();
    }
    let city = app.focus_city().unwrap_or_default();
    let name = app.registry.name_of(&city);
    format!("{g} of {name}")
}

fn cities_in(app: &App) -> Vec<String> {
    app.snap
        .as_ref()
        .map(|s| {
            s.nodes
                .iter()
                .filter(|n| n.node == "overall")
                .map(|n| n.city.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        })
        .unwrap_or_default()
}

fn peers(app: &App) -> BTreeSet<String> {
    let cities = cities_in(app);
    let g = app.peer_group();
    match (g.as_str(), app.focus_city()) {
        ("all", _) | (_, None) => cities.into_iter().collect(),
        (g, Some(c)) => app.registry.peer_set(&c, g, &cities),
    }
}

/// The overview, computed once for each snapshot, sort, peer filter and level (a 10 000-city
/// world must not be re-sorted on every key press).
pub fn overview(app: &App) -> std::rc::Rc<Overview> {
    let key = super::state::OverviewKey {
        request: app.request,
        filter: filter_of(app, super::state::View::Overview),
        sort: app.sort,
        subdimensions: app.subdimensions,
        peers: app.peer_group(),
        focus: app.focus_city(),
    };
    if let Some((k, o)) = app.overview_cache.borrow().as_ref() {
        if *k == key {
            return o.clone();
        }
    }
    let o = std::rc::Rc::new(compute_overview(app));
    *app.overview_cache.borrow_mut() = Some((key, o.clone()));
    o
}

fn compute_overview(app: &App) -> Overview {
    let columns = overview_columns(app);
    let Some(s) = &app.snap else {
        return Overview {
            columns,
            rows: vec![],
            average: vec![],
        };
    };
    let peers = peers(app);
    let by: BTreeMap<(&str, &str), &NodeScore> = s
        .nodes
        .iter()
        .map(|n| ((n.city.as_str(), n.node.as_str()), n))
        .collect();
    let mut rows: Vec<OverviewRow> = peers
        .iter()
        .map(|c| {
            let o = by.get(&(c.as_str(), "overall"));
            OverviewRow {
                city: c.clone(),
                name: app.registry.name_of(c),
                rank: o.and_then(|o| o.rank),
                interval: o.and_then(|o| o.rank_p05.zip(o.rank_p95)),
                cells: columns
                    .iter()
                    .map(|(code, _)| {
                        by.get(&(c.as_str(), code.as_str()))
                            .map(|n| (n.score, n.band))
                            .unwrap_or((None, None))
                    })
                    .collect(),
                coverage: o.map(|o| o.coverage).unwrap_or(0.0),
            }
        })
        .collect();
    // ranks within the peer group when filtered
    if app.peer_group() != "all" {
        let sc: Vec<Option<f64>> = rows.iter().map(|r| r.cells[0].0).collect();
        for (r, k) in rows.iter_mut().zip(stats::rank_desc(&sc)) {
            r.rank = k;
            r.interval = None;
        }
    }
    let ncol = columns.len();
    match app.sort {
        None => rows.sort_by(|a, b| {
            (a.rank.unwrap_or(usize::MAX), &a.name).cmp(&(b.rank.unwrap_or(usize::MAX), &b.name))
        }),
        Some((col, desc)) => {
            let key = |r: &OverviewRow| -> f64 {
                match col {
                    0 => -(r.rank.unwrap_or(usize::MAX) as f64),
                    c if c >= 2 && c < 2 + ncol => r.cells[c - 2].0.unwrap_or(f64::NEG_INFINITY),
                    _ => r.coverage,
                }
            };
            if col == 1 {
                rows.sort_by(|a, b| {
                    if desc {
                        b.name.cmp(&a.name)
                    } else {
                        a.name.cmp(&b.name)
                    }
                });
            } else {
                rows.sort_by(|a, b| {
                    let o = key(a).total_cmp(&key(b));
                    if desc { o.reverse() } else { o }.then(a.name.cmp(&b.name))
                });
            }
        }
    }
    let average = (0..ncol)
        .map(|j| stats::mean(&rows.iter().filter_map(|r| r.cells[j].0).collect::<Vec<_>>()))
        .collect();
    // the filter narrows the rows shown; the network average stays the whole network's
    if let Some(f) = filter_of(app, super::state::View::Overview) {
        rows.retain(|r| contains(&r.name, &f) || contains(&r.city, &f));
    }
    Overview {
        columns,
        rows,
        average,
    }
}

pub struct CityRow {
    pub depth: usize,
    pub code: String,
    pub name: String,
    pub score: Option<f64>,
    pub band: Option<u8>,
    pub pct: Option<f64>,
    pub rank: Option<usize>,
    pub scored: String,
    pub first_dp: Option<String>,
    /// pending questions on the data points under this node
    pub questions: usize,
}

pub struct City {
    pub slug: String,
    pub name: String,
    pub rows: Vec<CityRow>,
    pub groups: Vec<(String, Option<usize>, usize)>,
    pub strengths: Vec<(String, f64, f64)>,
    pub weaknesses: Vec<(String, f64, f64)>,
    pub missing: Vec<String>,
    /// overall score by year
    pub history: Vec<(i32, f64)>,
    /// per dimension: (name, scores by year)
    pub dimension_history: Vec<(String, Vec<(i32, f64)>)>,
}

pub fn city(app: &App) -> Option<City> {
    let s = app.snap.as_ref()?;
    let slug = app.focus_city()?;
    // the city's details arrive from the worker; until then the view says it is loading
    let d = app.city_data.as_ref().filter(|d| d.slug == slug)?;
    let tree = Tree::new(&app.catalog);
    let mine: BTreeMap<&str, &NodeScore> = d.nodes.iter().map(|n| (n.node.as_str(), n)).collect();
    let mut rows = Vec::new();
    fn walk(tree: &Tree, k: usize, depth: usize, out: &mut Vec<(usize, usize)>) {
        out.push((k, depth));
        // down to the lowest aggregates (U4SSC: categories), not into their KPIs
        for ch in &tree.nodes[k].children {
            if let crate::scoring::engine::Child::Node(c) = ch {
                if tree.nodes[*c].level > Level::Kpi {
                    walk(tree, *c, depth + 1, out);
                }
            }
        }
    }
    let mut order = Vec::new();
    if let Some(root) = tree.find("overall") {
        walk(&tree, root, 0, &mut order);
    }
    let pending = pending_index(app);
    for (k, depth) in order {
        let n = &tree.nodes[k];
        let m = mine.get(n.code.as_str());
        rows.push(CityRow {
            depth,
            code: n.code.clone(),
            name: n.name.clone(),
            score: m.and_then(|m| m.score),
            band: m.and_then(|m| m.band),
            pct: m.and_then(|m| m.u4ssc_pct),
            rank: m.and_then(|m| m.rank),
            scored: m
                .map(|m| format!("{}/{}", m.scored_items, m.total_items))
                .unwrap_or_default(),
            first_dp: n
                .dps
                .first()
                .map(|&d| app.catalog.data_points[d].id.clone()),
            questions: n
                .dps
                .iter()
                .filter_map(|&d| {
                    pending.get(&(slug.as_str(), Some(app.catalog.data_points[d].id.as_str())))
                })
                .sum(),
        });
    }
    // sorted, the tree is flattened to its categories (a tree has no order across levels)
    if let Some((c, desc)) = app.sorts[super::state::View::City.index()] {
        let deepest = rows.iter().map(|r| r.depth).max().unwrap_or(0);
        rows.retain(|r| r.depth == deepest);
        let key = |r: &CityRow| -> SortKey {
            match c {
                0 => SortKey::text(&format!("{} {}", r.code, r.name)),
                1 | 2 => SortKey::num(r.score),
                3 => SortKey::num(r.rank.map(|x| x as f64)),
                _ => SortKey::num(r.pct),
            }
        };
        rows.sort_by(|a, b| SortKey::cmp(&key(a), &key(b), desc));
    }
    if let Some(f) = filter_of(app, super::state::View::City) {
        rows.retain(|r| contains(&format!("{} {}", r.code, r.name), &f));
    }
    let cities = cities_in(app);
    let groups = app
        .registry
        .get(&slug)
        .map(|c| app.registry.groups_of(c))
        .unwrap_or_default()
        .into_iter()
        .map(|(kind, label)| {
            let set = app.registry.group_members(&slug, &kind, &label, &cities);
            let members: Vec<&NodeScore> = s
                .nodes
                .iter()
                .filter(|n| n.node == "overall" && set.contains(&n.city))
                .collect();
            let r = stats::rank_desc(&members.iter().map(|n| n.score).collect::<Vec<_>>());
            (
                label,
                members
                    .iter()
                    .position(|n| n.city == slug)
                    .and_then(|i| r[i]),
                members.len(),
            )
        })
        .collect();
    // against the network median of each data point (all cities of the year)
    let medians: BTreeMap<&str, f64> = d.medians.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let mut rel: Vec<(f64, String, f64, f64)> = d
        .dps
        .iter()
        .filter_map(|x| {
            let score = x.score?;
            let med = *medians.get(x.data_point.as_str())?;
            let name = app
                .catalog
                .get(&x.data_point)
                .map(|c| format!("{} {}", c.label(), c.name))
                .unwrap_or_default();
            Some((score - med, name, score, med))
        })
        .collect();
    rel.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    // only data points actually above (or below) the median count as strengths (weaknesses)
    let strengths = rel
        .iter()
        .filter(|r| r.0 > 0.0)
        .take(5)
        .map(|r| (r.1.clone(), r.2, r.3))
        .collect();
    let weaknesses = rel
        .iter()
        .rev()
        .filter(|r| r.0 < 0.0)
        .take(5)
        .map(|r| (r.1.clone(), r.2, r.3))
        .collect();
    let missing = app
        .catalog
        .data_points
        .iter()
        .filter(|dp| {
            !d.values
                .iter()
                .any(|v| v.data_point == dp.id && v.value.is_some())
        })
        .map(|d| d.label())
        .collect();
    let tree2 = Tree::new(&app.catalog);
    let dimension_history = tree2
        .nodes
        .iter()
        .filter(|n| n.level == tree2.top_level())
        .map(|dim| {
            let mut h: Vec<(i32, f64)> = d
                .history
                .iter()
                .filter(|n| n.node == dim.code)
                .filter_map(|n| n.score.map(|x| (n.year, x)))
                .collect();
            h.sort_by_key(|x| x.0);
            (dim.name.clone(), h)
        })
        .collect();
    let mut history: Vec<(i32, f64)> = d
        .history
        .iter()
        .filter(|n| n.node == "overall")
        .filter_map(|n| n.score.map(|x| (n.year, x)))
        .collect();
    history.sort_by_key(|h| h.0);
    Some(City {
        name: app.registry.name_of(&slug),
        slug,
        rows,
        groups,
        strengths,
        weaknesses,
        missing,
        history,
        dimension_history,
    })
}

pub struct KpiRow {
    pub city: String,
    pub name: String,
    pub value: Option<f64>,
    pub score: Option<f64>,
    pub band: Option<u8>,
    pub rank: Option<usize>,
    pub quality: String,
    pub verified: String,
    pub trend: String,
    /// pending questions on this city's value
    pub questions: usize,
}

pub struct Kpi {
    pub id: String,
    pub label: String,
    pub name: String,
    pub unit: String,
    pub target: String,
    pub basis: String,
    pub rows: Vec<KpiRow>,
    pub count: usize,
    pub missing: usize,
    pub min: Option<f64>,
    pub median: Option<f64>,
    pub max: Option<f64>,
    pub best: Option<String>,
    pub worst: Option<String>,
}

pub fn kpi(app: &App) -> Option<Kpi> {
    let s = app.snap.as_ref()?;
    let id = app
        .kpi
        .clone()
        .unwrap_or_else(|| app.catalog.data_points[0].id.clone());
    let dp = app.catalog.get(&id)?;
    let k = app.kpi_data.as_ref().filter(|k| k.id == id)?;
    let _ = s;
    let dps: BTreeMap<&str, &crate::scoring::engine::DpScore> =
        k.dps.iter().map(|d| (d.city.as_str(), d)).collect();
    let vals: BTreeMap<&str, &crate::rows::CurrentValue> =
        k.values.iter().map(|v| (v.city.as_str(), v)).collect();
    let trends: BTreeMap<&str, &crate::scoring::trends::Trend> =
        k.trends.iter().map(|t| (t.city.as_str(), t)).collect();
    let cities = peers(app);
    let pending = pending_index(app);
    let mut rows: Vec<KpiRow> = cities
        .iter()
        .map(|c| {
            let d = dps.get(c.as_str()).copied();
            let v = vals.get(c.as_str()).copied();
            let t = trends.get(c.as_str()).copied();
            KpiRow {
                city: c.clone(),
                name: app.registry.name_of(c),
                value: d.and_then(|d| d.value),
                score: d.and_then(|d| d.score),
                band: d.and_then(|d| d.points),
                rank: d.and_then(|d| d.rank),
                quality: v.and_then(|v| v.quality.clone()).unwrap_or_default(),
                verified: v
                    .and_then(|v| v.verified)
                    .map(|b| if b { "yes" } else { "no" })
                    .unwrap_or("")
                    .to_string(),
                trend: t
                    .map(|t| format!("{} {}", arrow(t.category), t.category))
                    .unwrap_or_default(),
                questions: pending
                    .get(&(c.as_str(), Some(id.as_str())))
                    .copied()
                    .unwrap_or(0),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.rank.unwrap_or(usize::MAX), &a.name).cmp(&(b.rank.unwrap_or(usize::MAX), &b.name))
    });
    let vals: Vec<f64> = rows.iter().filter_map(|r| r.value).collect();
    let target = match (dp.target.value, dp.target.band) {
        (Some(v), _) => format!("{v}"),
        (_, Some([a, b])) => format!("{a}-{b}"),
        _ => "none".into(),
    };
    let basis = dp.target.basis.as_str().to_string();
    // the describe line is the whole peer group's; the filter and the sort only change the rows
    let count = vals.len();
    let missing = rows.len() - vals.len();
    let best = rows
        .iter()
        .find(|r| r.rank == Some(1))
        .map(|r| r.name.clone());
    let worst = rows
        .iter()
        .filter(|r| r.rank.is_some())
        .max_by_key(|r| r.rank)
        .map(|r| r.name.clone());
    if let Some(f) = filter_of(app, super::state::View::Kpi) {
        rows.retain(|r| contains(&r.name, &f) || contains(&r.city, &f));
    }
    if let Some((c, desc)) = app.sorts[super::state::View::Kpi.index()] {
        let key = |r: &KpiRow| -> SortKey {
            match c {
                0 => SortKey::num(r.rank.map(|x| x as f64)),
                1 => SortKey::text(&r.name),
                2 | 3 => SortKey::num(r.value),
                4 => SortKey::num(r.score),
                5 => SortKey::text(&r.quality),
                6 => SortKey::text(&r.verified),
                _ => SortKey::text(&r.trend),
            }
        };
        rows.sort_by(|a, b| SortKey::cmp(&key(a), &key(b), desc));
    }
    Some(Kpi {
        id: id.clone(),
        label: dp.label(),
        name: dp.name.clone(),
        unit: dp.unit.clone(),
        target,
        basis,
        count,
        missing,
        min: vals.iter().cloned().reduce(f64::min),
        median: stats::median(&vals),
        max: vals.iter().cloned().reduce(f64::max),
        best,
        worst,
        rows,
    })
}

pub struct Compare {
    pub cities: Vec<(String, String)>,
    /// (data point label, scores per city, index of the best)
    pub rows: Vec<(String, Vec<Option<f64>>, Option<usize>)>,
}

pub fn compare(app: &App) -> Compare {
    let cities: Vec<(String, String)> = app
        .marked
        .iter()
        .map(|c| (c.clone(), app.registry.name_of(c)))
        .collect();
    let keys: Vec<String> = cities.iter().map(|c| c.0.clone()).collect();
    let Some(data) = app.compare_data.as_ref().filter(|d| d.cities == keys) else {
        return Compare {
            cities,
            rows: vec![],
        };
    };
    let by: BTreeMap<(&str, &str), Option<f64>> = data
        .dps
        .iter()
        .map(|d| ((d.city.as_str(), d.data_point.as_str()), d.score))
        .collect();
    let mut rows: Vec<(String, Vec<Option<f64>>, Option<usize>)> = app
        .catalog
        .data_points
        .iter()
        .map(|dp| {
            let v: Vec<Option<f64>> = cities
                .iter()
                .map(|(c, _)| by.get(&(c.as_str(), dp.id.as_str())).copied().flatten())
                .collect();
            let best = v
                .iter()
                .enumerate()
                .filter_map(|(i, x)| x.map(|x| (i, x)))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|b| b.0);
            (format!("{} {}", dp.label(), dp.name), v, best)
        })
        .collect();
    if let Some((c, desc)) = app.sorts[super::state::View::Compare.index()] {
        let key = |r: &(String, Vec<Option<f64>>, Option<usize>)| -> SortKey {
            match c {
                0 => SortKey::text(&r.0),
                k => SortKey::num(r.1.get(k - 1).copied().flatten()),
            }
        };
        rows.sort_by(|a, b| SortKey::cmp(&key(a), &key(b), desc));
    }
    Compare { cities, rows }
}

/// Per city and year: (name, year, core reported, advanced reported, verified, not reported).
pub fn status(app: &App) -> Vec<(String, i32, usize, usize, usize, usize)> {
    let Some(st) = &app.status_data else {
        return vec![];
    };
    status_order(app)
        .into_iter()
        .filter_map(|k| st.get(k))
        .map(
            |crate::store::StatusCount {
                 city: c,
                 year: y,
                 core,
                 advanced: adv,
                 verified: ver,
                 not_reported: nr,
             }| {
                let name = app.registry.name_of(c);
                (
                    name,
                    *y,
                    *core as usize,
                    *adv as usize,
                    *ver as usize,
                    *nr as usize,
                )
            },
        )
        .collect()
}

/// Whether `text` holds `part`, both folded as search folds them (`bodo` in Bodø).
fn contains(text: &str, part: &str) -> bool {
    let t: String = text.chars().map(fold_char).collect();
    let p: String = part.chars().map(fold_char).collect();
    t.contains(&p)
}

/// The filter (`&`) of a view, if one is set.
pub fn filter_of(app: &App, view: super::state::View) -> Option<String> {
    app.filters[view.index()].clone()
}

/// The order of the Submissions rows: the store's (city, year), or the chosen sort.
pub fn status_order(app: &App) -> Vec<usize> {
    let Some(st) = &app.status_data else {
        return vec![];
    };
    let mut order: Vec<usize> = (0..st.len()).collect();
    if let Some(f) = filter_of(app, super::state::View::Submissions) {
        order.retain(|&k| {
            let crate::store::StatusCount { city, year, .. } = &st[k];
            contains(&format!("{} {year}", app.registry.name_of(city)), &f)
        });
    }
    if let Some((c, desc)) = app.sorts[super::state::View::Submissions.index()] {
        let tally = question_tally(app);
        let key = |k: usize| -> SortKey {
            let crate::store::StatusCount {
                city,
                year: y,
                core,
                advanced: adv,
                verified: ver,
                not_reported: nr,
            } = &st[k];
            match c {
                0 => SortKey::text(&app.registry.name_of(city)),
                1 => SortKey::num(Some(*y as f64)),
                2 => SortKey::num(Some(*core as f64)),
                3 => SortKey::num(Some(*adv as f64)),
                4 => SortKey::num(Some(*ver as f64)),
                5 => SortKey::num(Some(*nr as f64)),
                _ => {
                    let (open, answered, _) =
                        tally.get(&(city.as_str(), *y)).copied().unwrap_or_default();
                    SortKey::num(Some((open + answered) as f64))
                }
            }
        };
        order.sort_by(|a, b| SortKey::cmp(&key(*a), &key(*b), desc));
    }
    order
}

/// The columns `s` sorts by in a view (empty: the view keeps its own order). Overview has
/// its own, from its score columns; Compare's are the marked cities.
pub fn sortable_columns(app: &App, view: super::state::View) -> Vec<String> {
    use super::state::View;
    let fixed: &[&str] = match view {
        View::Kpi => &[
            "rank", "city", "value", "value", "score", "quality", "ver", "trend",
        ],
        View::Submissions => &[
            "city",
            "year",
            "core",
            "advanced",
            "verified",
            "not reported",
            "questions",
        ],
        View::City => &["node", "score", "band", "rank", "items"],
        View::Method => &["run", "method", "sha256", "draws"],
        View::Compare => {
            let mut c = vec!["data point".to_string()];
            c.extend(app.marked.iter().map(|m| app.registry.name_of(m)));
            return c;
        }
        View::Overview => &[],
    };
    fixed.iter().map(|s| s.to_string()).collect()
}

/// The order of the Method view's runs: the store's, or the chosen sort.
pub fn runs_order(app: &App) -> Vec<usize> {
    let Some(s) = &app.snap else { return vec![] };
    let mut order: Vec<usize> = (0..s.runs.len()).collect();
    if let Some((c, desc)) = app.sorts[super::state::View::Method.index()] {
        let key = |k: usize| -> SortKey {
            let r = &s.runs[k];
            match c {
                0 => SortKey::num(Some(r.run_id as f64)),
                1 => SortKey::text(&r.method_name),
                2 => SortKey::text(&r.method_hash),
                _ => SortKey::num(Some(r.draws as f64)),
            }
        };
        order.sort_by(|a, b| SortKey::cmp(&key(*a), &key(*b), desc));
    }
    order
}
