//! City profiles (HTML and Markdown), the network dashboard, the SDG view and JSON-LD.
//! HTML pages are single self-contained files: inline CSS and SVG, no scripts, no network.

use super::tables::{Cell, ColType, Column, DataTable, Selection};
use crate::catalog::plural;
use crate::context::Ctx;
use crate::error::Result;
use crate::scoring::bands::{band_glyph, band_label};
use crate::scoring::engine::{Level, NodeScore, Tree};
use crate::scoring::trends::arrow;
use crate::stats;
use crate::store::{RunInfo, Store};
use crate::table::f1;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

mod dashboard;
pub use dashboard::*;

pub fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            // never a control character in a page: shown, not passed on
            c if crate::text::is_control(c, true) => o.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => o.push(c),
        }
    }
    o
}

/// What the profile says of the run's rank intervals, with the run's own number of draws.
fn variations(draws: i64) -> String {
    if draws <= 0 {
        return "this run drew no variations of the method, so it shows no rank intervals.".into();
    }
    let digits = draws.to_string();
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    let noun = if draws == 1 {
        "variation"
    } else {
        "variations"
    };
    format!("rank intervals show the 5th–95th percentile rank over {grouped} {noun} of the method.")
}

/// Markdown text: pipes and newlines escaped, and the angle brackets that would open raw
/// HTML (Markdown passes `<script>` through to the page) written as entities.
fn mdc(s: &str) -> String {
    crate::text::printable(s)
        .replace('|', "\\|")
        .replace('\n', " ")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn colour(band: Option<u8>) -> &'static str {
    match band {
        Some(4) => "#1a9850",
        Some(3) => "#a6d96a",
        Some(2) => "#fee08b",
        Some(_) => "#f46d43",
        None => "#d9d9d9",
    }
}

/// (city, year) pairs to profile: the selected cities, each in the selected or its latest year.
pub fn profile_cities(
    _ctx: &Ctx,
    store: &Store,
    run: &RunInfo,
    sel: &Selection,
) -> Result<Vec<(String, i32)>> {
    let overall = store.node_scores(run.run_id, Some(Level::Overall), sel.year)?;
    let mut latest: BTreeMap<String, i32> = BTreeMap::new();
    for n in overall {
        if sel
            .cities
            .as_ref()
            .map(|s| s.contains(&n.city))
            .unwrap_or(true)
        {
            let e = latest.entry(n.city).or_insert(n.year);
            *e = (*e).max(n.year);
        }
    }
    Ok(latest.into_iter().collect())
}

fn arc(cx: f64, cy: f64, r0: f64, r1: f64, a0: f64, a1: f64) -> String {
    let p = |r: f64, a: f64| (cx + r * a.sin(), cy - r * a.cos());
    let large = if a1 - a0 > std::f64::consts::PI { 1 } else { 0 };
    let (x0, y0) = p(r1, a0);
    let (x1, y1) = p(r1, a1);
    let (x2, y2) = p(r0, a1);
    let (x3, y3) = p(r0, a0);
    format!("M{x0:.2},{y0:.2} A{r1},{r1} 0 {large} 1 {x1:.2},{y1:.2} L{x2:.2},{y2:.2} A{r0},{r0} 0 {large} 0 {x3:.2},{y3:.2} Z")
}

/// The benchmarking wheel: dimensions, sub-dimensions and categories coloured by U4SSC band.
fn wheel(tree: &Tree, scores: &BTreeMap<&str, &NodeScore>) -> String {
    let mut svg = String::from("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 360 360\" width=\"360\" height=\"360\" role=\"img\" aria-label=\"Benchmarking wheel\">");
    let top = tree.top_level();
    let total: usize = tree
        .nodes
        .iter()
        .filter(|n| n.level == top)
        .map(|n| n.dps.len())
        .sum();
    for (level, r0, r1) in rings(&tree.levels_top_down()) {
        let mut a = 0.0f64;
        // walk in tree order so that children sit under their parents
        let mut order: Vec<&crate::scoring::engine::TNode> = Vec::new();
        for d in tree.nodes.iter().filter(|n| n.level == top) {
            collect(tree, d, level, &mut order);
        }
        for n in order {
            let span = n.dps.len() as f64 / total.max(1) as f64 * std::f64::consts::TAU;
            let s = scores.get(n.code.as_str());
            let band = s.and_then(|s| s.band);
            let _ = write!(
                svg,
                "<path d=\"{}\" fill=\"{}\" stroke=\"#fff\" stroke-width=\"1\"><title>{} {}: {}</title></path>",
                arc(180.0, 180.0, r0, r1, a, a + span),
                colour(band),
                esc(&n.code),
                esc(&n.name),
                esc(&s.and_then(|s| s.u4ssc_pct).map(|p| format!("{p:.1} % of target, {}", band_label(band.unwrap_or(1)))).unwrap_or_else(|| "no score".into()))
            );
            a += span;
        }
    }
    svg.push_str("<circle cx=\"180\" cy=\"180\" r=\"38\" fill=\"#fff\"/>");
    if let Some(o) = scores.get("overall") {
        let _ = write!(svg, "<text x=\"180\" y=\"186\" text-anchor=\"middle\" font-size=\"16\" font-family=\"sans-serif\">{}</text>", esc(&f1(o.u4ssc_pct)));
    }
    svg.push_str("</svg>");
    svg
}

/// The wheel's rings, inner to outer, one per aggregate level from the top down (U4SSC:
/// dimensions, sub-dimensions, categories), between radii 40 and 172.
fn rings(levels: &[Level]) -> Vec<(Level, f64, f64)> {
    if levels.len() == 3 {
        return vec![
            (levels[0], 40.0, 85.0),
            (levels[1], 87.0, 125.0),
            (levels[2], 127.0, 172.0),
        ];
    }
    let step = 132.0 / levels.len().max(1) as f64;
    levels
        .iter()
        .enumerate()
        .map(|(i, l)| {
            (
                *l,
                40.0 + i as f64 * step,
                40.0 + (i + 1) as f64 * step - 2.0,
            )
        })
        .collect()
}

/// An aggregate and the aggregates under it, top-down and in tree order (a dimension, its
/// first sub-dimension, that one's categories, the next sub-dimension, …).
fn top_down<'a>(
    tree: &'a Tree,
    n: &'a crate::scoring::engine::TNode,
    out: &mut Vec<&'a crate::scoring::engine::TNode>,
) {
    out.push(n);
    for ch in &n.children {
        if let crate::scoring::engine::Child::Node(k) = ch {
            if tree.nodes[*k].level > Level::Kpi {
                top_down(tree, &tree.nodes[*k], out);
            }
        }
    }
}

fn collect<'a>(
    tree: &'a Tree,
    n: &'a crate::scoring::engine::TNode,
    level: Level,
    out: &mut Vec<&'a crate::scoring::engine::TNode>,
) {
    if n.level == level {
        out.push(n);
        return;
    }
    for ch in &n.children {
        if let crate::scoring::engine::Child::Node(k) = ch {
            collect(tree, &tree.nodes[*k], level, out);
        }
    }
}

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}h1{margin-bottom:.2em}.warn{background:#b00020;color:#fff;padding:.5em 1em;font-weight:bold}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;font-size:.92em}th{background:#eef2f7}.num{text-align:right}.legend span{display:inline-block;margin-right:1em}.sw{display:inline-block;width:.9em;height:.9em;vertical-align:middle;margin-right:.3em;border:1px solid #999}.bar{fill:#3b6ea5}.avg{stroke:#222;stroke-width:2}.small{color:#555;font-size:.85em}.nw{white-space:nowrap}";

fn legend() -> String {
    let mut s = String::from("<p class=\"legend\">");
    for p in (1..=4u8).rev() {
        let _ = write!(
            s,
            "<span><i class=\"sw\" style=\"background:{}\"></i>{} {}</span>",
            colour(Some(p)),
            band_glyph(p),
            esc(band_label(p))
        );
    }
    let _ = write!(
        s,
        "<span><i class=\"sw\" style=\"background:{}\"></i>no score</span></p>",
        colour(None)
    );
    s
}

/// What the profiles of one year need, read from the store once for all cities.
pub struct YearData {
    pub nodes: Vec<NodeScore>,
    pub dps: Vec<crate::scoring::engine::DpScore>,
    pub trends: Vec<crate::scoring::trends::Trend>,
    pub values: Vec<crate::rows::CurrentValue>,
    /// Questions of the verification round still open or answered but not closed.
    pub questions: Vec<crate::store::Question>,
    /// each city's rows of the lists above (their positions, in order): a profile reads its
    /// city's rows without going through the network's
    by_city: HashMap<String, CityRows>,
    /// the network's mean composite score of each node
    node_means: HashMap<String, Option<f64>>,
    /// the overall scores' positions in `nodes`, in order (the peer groups)
    overall: Vec<usize>,
    /// every data point's scores sorted once (strengths and weaknesses)
    medians: stats::PeerMedians,
    /// each peer group's ranks (by kind and label: the cities sharing a label share the
    /// group), ranked for the first of its members profiled
    peer_ranks: std::cell::RefCell<HashMap<(String, String), PeerRanks>>,
}

/// The overall ranks within one peer group, and its size.
struct PeerRanks {
    rank: HashMap<String, Option<usize>>,
    size: usize,
}

/// One city's rows of a [`YearData`], as positions in its lists.
#[derive(Default)]
struct CityRows {
    nodes: Vec<usize>,
    dps: Vec<usize>,
    trends: Vec<usize>,
    values: Vec<usize>,
}

impl YearData {
    /// Every city's scores of the year (the network's medians and peer groups need them);
    /// values and trends of the cities profiled, `cities` (`None`: every city).
    pub fn load(
        store: &Store,
        run: &RunInfo,
        year: i32,
        cities: Option<&[String]>,
    ) -> Result<YearData> {
        let (values, trends) = match cities {
            Some(c) => {
                let mut values = store.current_values_of(c)?;
                values.retain(|v| v.year == year);
                (values, store.trends_of(run.run_id, c)?)
            }
            None => (
                store.current_values_where(&crate::store::Filter {
                    year: Some(year),
                    ..Default::default()
                })?,
                store.trends(run.run_id, None)?,
            ),
        };
        let nodes = store.node_scores(run.run_id, None, Some(year))?;
        let dps = store.dp_scores(run.run_id, None, Some(year))?;
        let mut by_city: HashMap<String, CityRows> = HashMap::new();
        fn rows<'m>(by_city: &'m mut HashMap<String, CityRows>, city: &str) -> &'m mut CityRows {
            by_city.entry(city.to_string()).or_default()
        }
        for (i, n) in nodes.iter().enumerate() {
            rows(&mut by_city, &n.city).nodes.push(i);
        }
        for (i, d) in dps.iter().enumerate() {
            rows(&mut by_city, &d.city).dps.push(i);
        }
        for (i, t) in trends.iter().enumerate() {
            rows(&mut by_city, &t.city).trends.push(i);
        }
        for (i, v) in values.iter().enumerate() {
            rows(&mut by_city, &v.city).values.push(i);
        }
        // each node's scores in the order of `nodes`, so the means are the ones a scan gives
        let mut per_node: HashMap<&str, Vec<f64>> = HashMap::new();
        for n in &nodes {
            let scores = per_node.entry(n.node.as_str()).or_default();
            scores.extend(n.score);
        }
        let node_means = per_node
            .into_iter()
            .map(|(code, s)| (code.to_string(), stats::mean(&s)))
            .collect();
        let overall = (0..nodes.len())
            .filter(|&i| nodes[i].node == "overall")
            .collect();
        let medians = stats::PeerMedians::new(
            dps.iter()
                .filter_map(|d| d.score.map(|s| (d.city.as_str(), d.data_point.as_str(), s))),
        );
        Ok(YearData {
            peer_ranks: Default::default(),
            by_city,
            node_means,
            overall,
            medians,
            nodes,
            dps,
            trends,
            values,
            questions: store
                .questions(
                    None,
                    &[crate::store::Status::Open, crate::store::Status::Answered],
                )?
                .into_iter()
                .filter(|q| q.year == year)
                .collect(),
        })
    }
}

pub fn city_profile(
    ctx: &Ctx,
    data: &YearData,
    run: &RunInfo,
    slug: &str,
    year: i32,
    demo: bool,
    md: bool,
) -> Result<String> {
    let tree = Tree::new(&ctx.catalog);
    let city = ctx.registry.get(slug);
    let name = ctx.registry.name_of(slug);
    let nodes = &data.nodes;
    // the city's rows, in the order of the network's lists
    let none = CityRows::default();
    let own = data.by_city.get(slug).unwrap_or(&none);
    let mine: BTreeMap<&str, &NodeScore> = own
        .nodes
        .iter()
        .map(|&i| &nodes[i])
        .map(|n| (n.node.as_str(), n))
        .collect();
    let dps: Vec<&crate::scoring::engine::DpScore> =
        own.dps.iter().map(|&i| &data.dps[i]).collect();
    let trends: Vec<crate::scoring::trends::Trend> =
        own.trends.iter().map(|&i| data.trends[i].clone()).collect();
    let values: Vec<&crate::rows::CurrentValue> = own
        .values
        .iter()
        .map(|&i| &data.values[i])
        .filter(|v| v.year == year)
        .collect();
    // strengths and weaknesses against the network median
    let rel = data.medians.relative(slug);
    let dp_name = |id: &str| {
        ctx.catalog
            .get(id)
            .map(|d| format!("{} {}", d.label(), d.name))
            .unwrap_or_else(|| id.to_string())
    };
    let not_reported: Vec<String> = ctx
        .catalog
        .data_points
        .iter()
        .filter(|d| {
            !values
                .iter()
                .any(|v| v.data_point == d.id && v.value.is_some())
        })
        .map(|d| format!("{} {}", d.label(), d.name))
        .collect();
    // values the verification round still asks about: published, but not as final
    let under_question: Vec<String> = data
        .questions
        .iter()
        .filter(|q| q.city == slug)
        .map(|q| {
            let what = match q.data_point.as_deref() {
                Some(id) => dp_name(id),
                None => "the whole city-year".to_string(),
            };
            let value = values
                .iter()
                .find(|v| Some(v.data_point.as_str()) == q.data_point.as_deref())
                .map(|v| {
                    v.value
                        .map(|x| format!("{x}"))
                        .unwrap_or_else(|| "NR".into())
                })
                .map(|v| format!(": value {v}"))
                .unwrap_or_default();
            format!(
                "{what}{value} — question {} ({}): {}",
                q.id,
                q.status_text(),
                crate::text::printable(&q.text)
            )
        })
        .collect();
    let mut quality: BTreeMap<String, usize> = BTreeMap::new();
    for v in values.iter().filter(|v| v.value.is_some()) {
        *quality
            .entry(v.quality.clone().unwrap_or_else(|| "not stated".into()))
            .or_default() += 1;
    }
    let verified = values
        .iter()
        .filter(|v| v.value.is_some() && v.verified == Some(true))
        .count();
    let reported = values.iter().filter(|v| v.value.is_some()).count();
    // network averages per dimension
    let avg = |code: &str| data.node_means.get(code).copied().flatten();
    // the two highest aggregate levels (U4SSC: dimensions and sub-dimensions)
    let tops = tree.levels_top_down();
    let on = |l: Option<&Level>| -> Vec<&crate::scoring::engine::TNode> {
        l.map(|l| tree.nodes.iter().filter(|n| n.level == *l).collect())
            .unwrap_or_default()
    };
    let (dims, subs) = (on(tops.first()), on(tops.get(1)));
    let heading = match (tops.first(), tops.get(1)) {
        (Some(a), Some(b)) => format!(
            "{} and {}",
            plural(&tree.level_name(*a)),
            plural(&tree.level_name(*b)).to_lowercase()
        ),
        (Some(a), None) => plural(&tree.level_name(*a)),
        _ => "Overall".into(),
    };
    let peer_groups: Vec<(String, Option<usize>, usize)> = city
        .map(|c| ctx.registry.groups_of(c))
        .unwrap_or_default()
        .into_iter()
        .map(|(kind, label)| {
            let mut cache = data.peer_ranks.borrow_mut();
            let g = cache
                .entry((kind.clone(), label.clone()))
                .or_insert_with(|| {
                    let overall = data.overall.iter().map(|&i| &nodes[i]);
                    let cities: Vec<String> = overall.clone().map(|n| n.city.clone()).collect();
                    let set = ctx.registry.group_members(slug, &kind, &label, &cities);
                    let members: Vec<&NodeScore> =
                        overall.filter(|n| set.contains(&n.city)).collect();
                    let sc: Vec<Option<f64>> = members.iter().map(|n| n.score).collect();
                    let mut rank = HashMap::new();
                    for (n, r) in members.iter().zip(stats::rank_desc(&sc)) {
                        // a city's first place, as a search through the members finds it
                        rank.entry(n.city.clone()).or_insert(r);
                    }
                    PeerRanks {
                        rank,
                        size: members.len(),
                    }
                });
            (label, g.rank.get(slug).copied().flatten(), g.size)
        })
        .collect();
    let sdg = sdg_rows(ctx, &dps, &trends.iter().collect::<Vec<_>>(), slug, year);
    let method_text = format!(
        "Scores use the method '{}' (run {}, sha256 {}): each data point is scored against the project's own target — U4SSC never published its targets — and each target has a basis (SDG target, WHO/EU limit, Norwegian national target, best performer or expert choice) and a source listed in the KPI table. U4SSC points follow ITU's four bands (under 33 %, 33–66 %, 66–95 %, 95 % or more of target); a group's percentage is its points over four times the number of scored items. Composite scores and ranks come from the method's normalisation; {}",
        run.method_name,
        run.run_id,
        &run.method_hash[..12],
        variations(run.draws)
    );
    if md {
        let mut s = String::new();
        let _ = writeln!(s, "# {} — U4SSC city profile {year}\n", mdc(&name));
        if demo {
            let _ = writeln!(s, "> **SYNTHETIC demo data — not real city data.**\n");
        }
        let o = mine.get("overall");
        let _ = writeln!(
            s,
            "Overall: U4SSC {} % of target ({}), composite score {}, rank {} (interval {}).\n",
            f1(o.and_then(|o| o.u4ssc_pct)),
            o.and_then(|o| o.band).map(band_label).unwrap_or("–"),
            f1(o.and_then(|o| o.score)),
            o.and_then(|o| o.rank)
                .map(|r| r.to_string())
                .unwrap_or_else(|| "–".into()),
            o.and_then(|o| o.rank_p05.zip(o.rank_p95))
                .map(|(a, b)| format!("{a:.0}–{b:.0}"))
                .unwrap_or_else(|| "–".into())
        );
        if !under_question.is_empty() {
            let _ = writeln!(
                s,
                "> **⚠ Under question ({}): these values are not final until the city answers and the coordinator closes the question.**\n",
                under_question.len()
            );
            for q in &under_question {
                let _ = writeln!(s, "> - ⚠ {}", mdc(q));
            }
            s.push('\n');
        }
        let _ = writeln!(s, "## {heading}\n\n| level | node | U4SSC % | band | scored items | score | network average |\n|---|---|---|---|---|---|---|");
        for n in dims.iter().chain(subs.iter()) {
            let m = mine.get(n.code.as_str());
            let _ = writeln!(
                s,
                "| {} | {} {} | {} | {} | {}/{} | {} | {} |",
                tree.level_key(n.level),
                n.code,
                mdc(&n.name),
                f1(m.and_then(|m| m.u4ssc_pct)),
                m.and_then(|m| m.band)
                    .map(|b| format!("{} {}", band_glyph(b), band_label(b)))
                    .unwrap_or_else(|| "–".into()),
                m.map(|m| m.scored_items).unwrap_or(0),
                m.map(|m| m.total_items).unwrap_or(0),
                f1(m.and_then(|m| m.score)),
                f1(avg(&n.code))
            );
        }
        let _ = writeln!(s, "\n## Strengths (against the network median)\n");
        for r in rel.iter().filter(|r| r.0 > 0.0).take(5) {
            let _ = writeln!(s, "- {} — {:.1} vs {:.1}", mdc(&dp_name(r.1)), r.2, r.3);
        }
        let _ = writeln!(s, "\n## Weaknesses\n");
        for r in rel.iter().rev().filter(|r| r.0 < 0.0).take(5) {
            let _ = writeln!(s, "- {} — {:.1} vs {:.1}", mdc(&dp_name(r.1)), r.2, r.3);
        }
        let _ = writeln!(
            s,
            "\n## Peer groups\n\n| group | rank | of |\n|---|---|---|"
        );
        for (g, r, n) in &peer_groups {
            let _ = writeln!(
                s,
                "| {} | {} | {n} |",
                mdc(g),
                r.map(|r| r.to_string()).unwrap_or_else(|| "–".into())
            );
        }
        let _ = writeln!(
            s,
            "\n## Trends\n\n| data point | years | first | last | trend |\n|---|---|---|---|---|"
        );
        for t in trends.iter().filter(|t| t.category != "cannot assess") {
            let _ = writeln!(
                s,
                "| {} | {}–{} | {} | {} | {} {} |",
                mdc(&dp_name(&t.data_point)),
                t.first_year,
                t.last_year,
                t.first_value,
                t.last_value,
                arrow(t.category),
                t.category
            );
        }
        let _ = writeln!(
            s,
            "\n## SDG view\n\n| SDG | data point | band | trend |\n|---|---|---|---|"
        );
        for r in &sdg {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                r.0,
                mdc(&dp_name(&r.1)),
                r.2.map(|b| format!("{} {}", band_glyph(b), band_label(b)))
                    .unwrap_or_else(|| "–".into()),
                r.3
            );
        }
        let _ = writeln!(
            s,
            "\n## Data quality\n\n{reported} values reported, {verified} verified.\n"
        );
        for (q, n) in &quality {
            let _ = writeln!(s, "- {}: {n}", mdc(q));
        }
        let _ = writeln!(
            s,
            "\n## Not reported ({})\n\n{}\n",
            not_reported.len(),
            not_reported
                .iter()
                .map(|x| mdc(x))
                .collect::<Vec<_>>()
                .join("; ")
        );
        let _ = writeln!(s, "## Method\n\n{method_text}");
        return Ok(s);
    }
    let mut h = String::new();
    let _ = write!(h, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} — U4SSC city profile {year}</title><style>{CSS}</style></head><body>", esc(&name));
    if demo {
        h.push_str("<p class=\"warn\">SYNTHETIC demo data — not real city data</p>");
    }
    if !under_question.is_empty() {
        let _ = write!(
            h,
            "<div class=\"warn\"><p>⚠ Under question ({}): these values are not final until the city answers and the coordinator closes the question.</p><ul>",
            under_question.len()
        );
        for q in &under_question {
            let _ = write!(h, "<li>⚠ {}</li>", esc(q));
        }
        h.push_str("</ul></div>");
    }
    let o = mine.get("overall");
    let _ = write!(h, "<h1>{}</h1><p>U4SSC city profile, {year}. Overall: <b>{} %</b> of target ({}), composite score {}, rank {} of {} (interval {}).</p>",
        esc(&name), f1(o.and_then(|o| o.u4ssc_pct)), esc(o.and_then(|o| o.band).map(band_label).unwrap_or("–")), f1(o.and_then(|o| o.score)),
        o.and_then(|o| o.rank).map(|r| r.to_string()).unwrap_or_else(|| "–".into()), nodes.iter().filter(|n| n.node == "overall").count(),
        o.and_then(|o| o.rank_p05.zip(o.rank_p95)).map(|(a, b)| format!("{a:.0}–{b:.0}")).unwrap_or_else(|| "–".into()));
    let ring_names: Vec<String> = tops
        .iter()
        .map(|l| plural(&tree.level_name(*l)).to_lowercase())
        .collect();
    let ring_text = match ring_names.as_slice() {
        [a, b, c] => format!("Inner ring: {a}; middle: {b}; outer: {c}."),
        [a] => format!("One ring: {a}."),
        [a, rest @ ..] => format!("Inner ring: {a}; outwards: {}.", rest.join(", ")),
        [] => String::new(),
    };
    let _ = write!(h, "<h2>Benchmarking wheel</h2><p class=\"small\">{ring_text} Colour and the glyphs in the table below give the U4SSC band.</p>");
    h.push_str(&wheel(&tree, &mine));
    h.push_str(&legend());
    h.push_str("<table><tr><th>level</th><th>node</th><th>U4SSC %</th><th>band</th><th>scored</th><th>score</th><th>network avg</th></tr>");
    // top-down: each dimension, its sub-dimensions, their categories
    let mut order: Vec<&crate::scoring::engine::TNode> = Vec::new();
    for d in &dims {
        top_down(&tree, d, &mut order);
    }
    for n in order {
        let m = mine.get(n.code.as_str());
        let _ = write!(h, "<tr><td>{}</td><td>{} {}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}/{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&tree.level_key(n.level)), esc(&n.code), esc(&n.name), f1(m.and_then(|m| m.u4ssc_pct)),
            m.and_then(|m| m.band).map(|b| format!("{} {}", band_glyph(b), esc(band_label(b)))).unwrap_or_else(|| "–".into()),
            m.map(|m| m.scored_items).unwrap_or(0), m.map(|m| m.total_items).unwrap_or(0), f1(m.and_then(|m| m.score)), f1(avg(&n.code)));
    }
    let top_name = tops
        .first()
        .map_or("Overall".into(), |l| tree.level_name(*l));
    let _ = write!(
        h,
        "</table><h2>{} against the network average</h2>",
        esc(&plural(&top_name))
    );
    let bar_h = 26.0;
    let _ = write!(h, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"{}\" role=\"img\" aria-label=\"Scores by {}\">", (dims.len() as f64) * bar_h + 10.0, esc(&top_name.to_lowercase()));
    for (i, d) in dims.iter().enumerate() {
        let y = i as f64 * bar_h + 4.0;
        let s = mine
            .get(d.code.as_str())
            .and_then(|m| m.score)
            .unwrap_or(0.0)
            .clamp(0.0, 100.0);
        let _ = write!(h, "<text x=\"0\" y=\"{:.1}\" font-size=\"13\" font-family=\"sans-serif\">{}</text><rect class=\"bar\" x=\"170\" y=\"{y:.1}\" width=\"{:.1}\" height=\"18\"><title>{:.1}</title></rect>", y + 14.0, esc(&d.name), s * 4.0, s);
        if let Some(a) = avg(&d.code) {
            let x = 170.0 + a.clamp(0.0, 100.0) * 4.0;
            let _ = write!(h, "<line class=\"avg\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"><title>network average {a:.1}</title></line>", y - 2.0, y + 20.0);
        }
    }
    h.push_str("</svg><p class=\"small\">Bar: the city's composite score (0–100); black line: the network average.</p>");
    h.push_str("<h2>Strengths and weaknesses</h2><table><tr><th></th><th>data point</th><th>score</th><th>network median</th></tr>");
    for r in rel.iter().filter(|r| r.0 > 0.0).take(5) {
        let _ = write!(h, "<tr><td>+</td><td>{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{:.1}</td></tr>", esc(&dp_name(r.1)), r.2, r.3);
    }
    for r in rel.iter().rev().filter(|r| r.0 < 0.0).take(5) {
        let _ = write!(h, "<tr><td>−</td><td>{}</td><td class=\"num\">{:.1}</td><td class=\"num\">{:.1}</td></tr>", esc(&dp_name(r.1)), r.2, r.3);
    }
    h.push_str(
        "</table><h2>Peer groups</h2><table><tr><th>group</th><th>rank</th><th>of</th></tr>",
    );
    for (g, r, n) in &peer_groups {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{n}</td></tr>",
            esc(g),
            r.map(|r| r.to_string()).unwrap_or_else(|| "–".into())
        );
    }
    h.push_str("</table><h2>Trends</h2><table><tr><th>data point</th><th>years</th><th>first</th><th>last</th><th>trend</th></tr>");
    for t in trends.iter().filter(|t| t.category != "cannot assess") {
        let _ = write!(h, "<tr><td>{}</td><td class=\"nw\">{}–{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"nw\">{} {}</td></tr>", esc(&dp_name(&t.data_point)), t.first_year, t.last_year, t.first_value, t.last_value, arrow(t.category), esc(t.category));
    }
    h.push_str("</table><h2>SDG view</h2><table><tr><th>SDG</th><th>data point</th><th>band</th><th>trend</th></tr>");
    for r in &sdg {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.0,
            esc(&dp_name(&r.1)),
            r.2.map(|b| format!("{} {}", band_glyph(b), esc(band_label(b))))
                .unwrap_or_else(|| "–".into()),
            esc(&r.3)
        );
    }
    let _ = write!(
        h,
        "</table><h2>Data quality</h2><p>{reported} values reported, {verified} verified.</p><ul>"
    );
    for (q, n) in &quality {
        let _ = write!(h, "<li>{}: {n}</li>", esc(q));
    }
    let _ = write!(
        h,
        "</ul><h2>Not reported ({})</h2><p class=\"small\">{}</p>",
        not_reported.len(),
        esc(&not_reported.join("; "))
    );
    let _ = writeln!(
        h,
        "<h2>Method</h2><p>{}</p></body></html>",
        esc(&method_text)
    );
    Ok(h)
}

#[cfg(test)]
mod tests;
