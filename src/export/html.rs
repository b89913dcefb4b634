//! City profiles (HTML and Markdown), the network dashboard, the SDG view and JSON-LD.
//! HTML pages are single self-contained files: inline CSS and SVG, no scripts, no network.

use super::tables::{Cell, ColType, Column, DataTable, Selection};
use crate::context::Ctx;
use crate::error::Result;
use crate::scoring::bands::{band_glyph, band_label};
use crate::scoring::engine::{Level, NodeScore, Tree};
use crate::scoring::trends::arrow;
use crate::stats;
use crate::store::{RunInfo, Store};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

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

fn f1(v: Option<f64>) -> String {
    v.map(|x| format!("{x:.1}")).unwrap_or_else(|| "–".into())
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
    let total: usize = tree
        .nodes
        .iter()
        .filter(|n| n.level == Level::Dimension)
        .map(|n| n.dps.len())
        .sum();
    let rings = [
        (Level::Dimension, 40.0, 85.0),
        (Level::Subdimension, 87.0, 125.0),
        (Level::Category, 127.0, 172.0),
    ];
    for (level, r0, r1) in rings {
        let mut a = 0.0f64;
        // walk in tree order so that children sit under their parents
        let mut order: Vec<&crate::scoring::engine::TNode> = Vec::new();
        for d in tree.nodes.iter().filter(|n| n.level == Level::Dimension) {
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

const CSS: &str = "body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}h1{margin-bottom:.2em}.warn{background:#b00020;color:#fff;padding:.5em 1em;font-weight:bold}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;font-size:.92em}th{background:#eef2f7}.num{text-align:right}.legend span{display:inline-block;margin-right:1em}.sw{display:inline-block;width:.9em;height:.9em;vertical-align:middle;margin-right:.3em;border:1px solid #999}.bar{fill:#3b6ea5}.avg{stroke:#222;stroke-width:2}.small{color:#555;font-size:.85em}";

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
}

impl YearData {
    pub fn load(store: &Store, run: &RunInfo, year: i32) -> Result<YearData> {
        Ok(YearData {
            nodes: store.node_scores(run.run_id, None, Some(year))?,
            dps: store.dp_scores(run.run_id, None, Some(year))?,
            trends: store.trends(run.run_id, None)?,
            values: store
                .current_values()?
                .into_iter()
                .filter(|v| v.year == year)
                .collect(),
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
    let mine: BTreeMap<&str, &NodeScore> = nodes
        .iter()
        .filter(|n| n.city == slug)
        .map(|n| (n.node.as_str(), n))
        .collect();
    let dps = &data.dps;
    let trends: Vec<crate::scoring::trends::Trend> = data
        .trends
        .iter()
        .filter(|t| t.city == slug)
        .cloned()
        .collect();
    let values: Vec<&crate::rows::CurrentValue> = data
        .values
        .iter()
        .filter(|v| v.city == slug && v.year == year)
        .collect();
    // strengths and weaknesses against the network median
    let rel = stats::relative_to_peers(
        dps.iter()
            .filter_map(|d| d.score.map(|s| (d.city.as_str(), d.data_point.as_str(), s))),
        slug,
        &|_| true,
    );
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
    let avg = |code: &str| {
        let s: Vec<f64> = nodes
            .iter()
            .filter(|n| n.node == code)
            .filter_map(|n| n.score)
            .collect();
        stats::mean(&s)
    };
    let dims: Vec<&crate::scoring::engine::TNode> = tree
        .nodes
        .iter()
        .filter(|n| n.level == Level::Dimension)
        .collect();
    let subs: Vec<&crate::scoring::engine::TNode> = tree
        .nodes
        .iter()
        .filter(|n| n.level == Level::Subdimension)
        .collect();
    let peer_groups: Vec<(String, Option<usize>, usize)> = city
        .map(|c| ctx.registry.groups_of(c))
        .unwrap_or_default()
        .into_iter()
        .map(|(kind, label)| {
            let cities: Vec<String> = nodes
                .iter()
                .filter(|n| n.node == "overall")
                .map(|n| n.city.clone())
                .collect();
            let set = match kind.as_str() {
                "all" => cities.iter().cloned().collect(),
                "custom" => crate::scoring::engine::peer_set(&ctx.registry, slug, &label, &cities),
                k => crate::scoring::engine::peer_set(&ctx.registry, slug, k, &cities),
            };
            let members: Vec<&NodeScore> = nodes
                .iter()
                .filter(|n| n.node == "overall" && set.contains(&n.city))
                .collect();
            let sc: Vec<Option<f64>> = members.iter().map(|n| n.score).collect();
            let r = stats::rank_desc(&sc);
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
    let sdg = sdg_rows(
        ctx,
        &dps.iter().collect::<Vec<_>>(),
        &trends.iter().collect::<Vec<_>>(),
        slug,
        year,
    );
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
        let _ = writeln!(s, "## Dimensions and sub-dimensions\n\n| level | node | U4SSC % | band | scored items | score | network average |\n|---|---|---|---|---|---|---|");
        for n in dims.iter().chain(subs.iter()) {
            let m = mine.get(n.code.as_str());
            let _ = writeln!(
                s,
                "| {} | {} {} | {} | {} | {}/{} | {} | {} |",
                n.level.as_str(),
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
    h.push_str("<h2>Benchmarking wheel</h2><p class=\"small\">Inner ring: dimensions; middle: sub-dimensions; outer: categories. Colour and the glyphs in the table below give the U4SSC band.</p>");
    h.push_str(&wheel(&tree, &mine));
    h.push_str(&legend());
    h.push_str("<table><tr><th>level</th><th>node</th><th>U4SSC %</th><th>band</th><th>scored</th><th>score</th><th>network avg</th></tr>");
    // top-down: each dimension, its sub-dimensions, their categories
    let mut order: Vec<&crate::scoring::engine::TNode> = Vec::new();
    for d in tree.nodes.iter().filter(|n| n.level == Level::Dimension) {
        order.push(d);
        let mut subs = Vec::new();
        collect(&tree, d, Level::Subdimension, &mut subs);
        for sd in subs {
            order.push(sd);
            collect(&tree, sd, Level::Category, &mut order);
        }
    }
    for n in order {
        let m = mine.get(n.code.as_str());
        let _ = write!(h, "<tr><td>{}</td><td>{} {}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}/{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            n.level.as_str(), esc(&n.code), esc(&n.name), f1(m.and_then(|m| m.u4ssc_pct)),
            m.and_then(|m| m.band).map(|b| format!("{} {}", band_glyph(b), esc(band_label(b)))).unwrap_or_else(|| "–".into()),
            m.map(|m| m.scored_items).unwrap_or(0), m.map(|m| m.total_items).unwrap_or(0), f1(m.and_then(|m| m.score)), f1(avg(&n.code)));
    }
    h.push_str("</table><h2>Dimensions against the network average</h2>");
    let bar_h = 26.0;
    let _ = write!(h, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"640\" height=\"{}\" role=\"img\" aria-label=\"Scores by dimension\">", (dims.len() as f64) * bar_h + 10.0);
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
        let _ = write!(h, "<tr><td>{}</td><td>{}–{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{} {}</td></tr>", esc(&dp_name(&t.data_point)), t.first_year, t.last_year, t.first_value, t.last_value, arrow(t.category), esc(t.category));
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

/// (SDG goal, data point, band points, trend text) for a city and year.
fn sdg_rows(
    ctx: &Ctx,
    dps: &[&crate::scoring::engine::DpScore],
    trends: &[&crate::scoring::trends::Trend],
    slug: &str,
    year: i32,
) -> Vec<(u8, String, Option<u8>, String)> {
    // the city's points and trends by data point, the first of each kept
    let mut points: HashMap<&str, Option<u8>> = HashMap::new();
    for d in dps.iter().filter(|d| d.city == slug && d.year == year) {
        points.entry(d.data_point.as_str()).or_insert(d.points);
    }
    let mut trend_of: HashMap<&str, &crate::scoring::trends::Trend> = HashMap::new();
    for t in trends.iter().filter(|t| t.city == slug) {
        trend_of.entry(t.data_point.as_str()).or_insert(t);
    }
    let mut out = Vec::new();
    for goal in 1..=17u8 {
        for dp in ctx
            .catalog
            .data_points
            .iter()
            .filter(|d| d.sdg_goals.contains(&goal))
        {
            let band = points.get(dp.id.as_str()).copied().flatten();
            let trend = trend_of
                .get(dp.id.as_str())
                .map(|t| format!("{} {}", arrow(t.category), t.category))
                .unwrap_or_else(|| "–".into());
            out.push((goal, dp.id.clone(), band, trend));
        }
    }
    out
}

/// The SDG view for Voluntary Local Reviews, as a table for CSV/JSON.
pub fn sdg_table(
    ctx: &Ctx,
    store: &Store,
    run: &RunInfo,
    cities: &[(String, i32)],
) -> Result<DataTable> {
    let dps = store.dp_scores(run.run_id, None, None)?;
    let trends = store.trends(run.run_id, None)?;
    let c = |name, ty, doc| Column { name, ty, doc };
    let mut t = DataTable {
        name: "sdg_view",
        columns: vec![
            c("city", ColType::Text, "city slug"),
            c("year", ColType::Int, "year"),
            c("sdg", ColType::Int, "SDG goal"),
            c("data_point", ColType::Text, "catalog id"),
            c("band", ColType::Text, "U4SSC band"),
            c("trend", ColType::Text, "trend category"),
        ],
        rows: vec![],
    };
    // each city's scores and trends apart first: one pass over the run, not one per city
    let mut dps_of: HashMap<&str, Vec<&crate::scoring::engine::DpScore>> = HashMap::new();
    for d in &dps {
        dps_of.entry(d.city.as_str()).or_default().push(d);
    }
    let mut trends_of: HashMap<&str, Vec<&crate::scoring::trends::Trend>> = HashMap::new();
    for t in &trends {
        trends_of.entry(t.city.as_str()).or_default().push(t);
    }
    for (slug, year) in cities {
        let d = dps_of
            .get(slug.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let tr = trends_of
            .get(slug.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        for (goal, dp, band, trend) in sdg_rows(ctx, d, tr, slug, *year) {
            t.rows.push(vec![
                Cell::text(slug),
                Cell::Int((*year).into()),
                Cell::Int(goal.into()),
                Cell::text(dp),
                Cell::opt_text(band.map(band_label)),
                Cell::text(trend),
            ]);
        }
    }
    Ok(t)
}

pub fn dashboard(
    ctx: &Ctx,
    store: &Store,
    run: &RunInfo,
    year: Option<i32>,
    demo: bool,
    md: bool,
) -> Result<String> {
    let tree = Tree::new(&ctx.catalog);
    let all = store.node_scores(run.run_id, None, year)?;
    let year = year
        .or_else(|| all.iter().map(|n| n.year).max())
        .unwrap_or(0);
    let nodes: Vec<&NodeScore> = all.iter().filter(|n| n.year == year).collect();
    let mean_of = |code: &str, f: &dyn Fn(&NodeScore) -> Option<f64>| {
        stats::mean(
            &nodes
                .iter()
                .filter(|n| n.node == code)
                .filter_map(|n| f(n))
                .collect::<Vec<_>>(),
        )
    };
    let mut overall: Vec<&&NodeScore> = nodes.iter().filter(|n| n.node == "overall").collect();
    overall.sort_by_key(|n| (n.rank.unwrap_or(usize::MAX), n.city.clone()));
    let dps = store.dp_scores(run.run_id, None, Some(year))?;
    let mut gap: Vec<(f64, String)> = ctx
        .catalog
        .data_points
        .iter()
        .filter_map(|d| {
            let a: Vec<f64> = dps
                .iter()
                .filter(|x| x.data_point == d.id)
                .filter_map(|x| x.achievement.map(|a| a.min(100.0)))
                .collect();
            stats::mean(&a).map(|m| (m, format!("{} {}", d.label(), d.name)))
        })
        .collect();
    gap.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let name = |s: &str| ctx.registry.name_of(s);
    if md {
        let mut s = format!("# Network dashboard {year}\n\n");
        if demo {
            s.push_str("> **SYNTHETIC demo data — not real city data.**\n\n");
        }
        s.push_str("## Average of the city evaluations\n\n| node | mean U4SSC % | mean score |\n|---|---|---|\n");
        for n in tree.nodes.iter().filter(|n| {
            matches!(
                n.level,
                Level::Overall | Level::Dimension | Level::Subdimension
            )
        }) {
            let _ = writeln!(
                s,
                "| {} {} | {} | {} |",
                n.code,
                mdc(&n.name),
                f1(mean_of(&n.code, &|x| x.u4ssc_pct)),
                f1(mean_of(&n.code, &|x| x.score))
            );
        }
        s.push_str(
            "\n## Ranking\n\n| rank | interval | city | score | U4SSC % |\n|---|---|---|---|---|\n",
        );
        for n in &overall {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                n.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()),
                n.rank_p05
                    .zip(n.rank_p95)
                    .map(|(a, b)| format!("{a:.0}–{b:.0}"))
                    .unwrap_or_else(|| "–".into()),
                mdc(&name(&n.city)),
                f1(n.score),
                f1(n.u4ssc_pct)
            );
        }
        s.push_str("\n## Furthest from target across the network\n\n| data point | mean % of target |\n|---|---|\n");
        for (m, d) in gap.iter().take(10) {
            let _ = writeln!(s, "| {} | {m:.1} |", mdc(d));
        }
        return Ok(s);
    }
    let mut h = format!("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>U4SSC network dashboard {year}</title><style>{CSS}</style></head><body>");
    if demo {
        h.push_str("<p class=\"warn\">SYNTHETIC demo data — not real city data</p>");
    }
    let _ = write!(h, "<h1>Network dashboard {year}</h1><p>{} cities, run {} (method '{}'). Scored against u4ssc toolkit targets, not official U4SSC targets.</p>", overall.len(), run.run_id, esc(&run.method_name));
    h.push_str("<h2>Average of the city evaluations</h2><table><tr><th>node</th><th>mean U4SSC %</th><th>mean score</th></tr>");
    for n in tree.nodes.iter().filter(|n| {
        matches!(
            n.level,
            Level::Overall | Level::Dimension | Level::Subdimension
        )
    }) {
        let _ = write!(
            h,
            "<tr><td>{} {}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
            esc(&n.code),
            esc(&n.name),
            f1(mean_of(&n.code, &|x| x.u4ssc_pct)),
            f1(mean_of(&n.code, &|x| x.score))
        );
    }
    h.push_str("</table><h2>Ranking</h2><table><tr><th>rank</th><th>interval (5th–95th)</th><th>city</th><th>score</th><th>U4SSC %</th><th>band</th></tr>");
    for n in &overall {
        let _ = write!(h, "<tr><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td></tr>",
            n.rank.map(|r| r.to_string()).unwrap_or_else(|| "–".into()), n.rank_p05.zip(n.rank_p95).map(|(a, b)| format!("{a:.0}–{b:.0}")).unwrap_or_else(|| "–".into()),
            esc(&name(&n.city)), f1(n.score), f1(n.u4ssc_pct), n.band.map(|b| format!("{} {}", band_glyph(b), esc(band_label(b)))).unwrap_or_else(|| "–".into()));
    }
    h.push_str("</table><h2>Furthest from target across the network</h2><table><tr><th>data point</th><th>mean % of target</th></tr>");
    for (m, d) in gap.iter().take(10) {
        let _ = write!(
            h,
            "<tr><td>{}</td><td class=\"num\">{m:.1}</td></tr>",
            esc(d)
        );
    }
    h.push_str("</table></body></html>\n");
    Ok(h)
}

/// Values and scores as JSON-LD, pointing at data.norge.no concepts where they exist.
/// The JSON-LD context: every term an IRI of the RDF Data Cube vocabulary, its SDMX
/// dimensions, measures and attributes, SKOS, or u4ssc's own (`urn:u4ssc:def:`), so that a
/// JSON-LD processor keeps every value.
fn jsonld_context() -> serde_json::Value {
    serde_json::json!({
        "qb": "http://purl.org/linked-data/cube#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "sdmx-dimension": "http://purl.org/linked-data/sdmx/2009/dimension#",
        "sdmx-measure": "http://purl.org/linked-data/sdmx/2009/measure#",
        "sdmx-attribute": "http://purl.org/linked-data/sdmx/2009/attribute#",
        "u4ssc": "urn:u4ssc:def:",
        "label": "rdfs:label",
        "notation": "skos:notation",
        "dataSet": {"@id": "qb:dataSet", "@type": "@id"},
        "city": {"@id": "sdmx-dimension:refArea", "@type": "@id"},
        "year": {"@id": "sdmx-dimension:refPeriod", "@type": "xsd:gYear"},
        "dataPoint": {"@id": "u4ssc:dataPoint", "@type": "@id"},
        "dataPointId": {"@id": "u4ssc:dataPointId"},
        "value": {"@id": "sdmx-measure:obsValue", "@type": "xsd:double"},
        "unit": {"@id": "sdmx-attribute:unitMeasure"},
        "score": {"@id": "u4ssc:score", "@type": "xsd:double"},
        "band": {"@id": "u4ssc:band"}
    })
}

/// Data-point values and scores as RDF Data Cube observations of one data set: dimensions
/// city (`urn:u4ssc:city:SLUG`), year and data point (its data.norge.no concept where the
/// catalog has one), measures value and score, attributes unit and band.
pub fn jsonld(ctx: &Ctx, tables: &[DataTable]) -> Vec<u8> {
    let Some(t) = tables.iter().find(|t| t.name == "data_point_scores") else {
        return b"{}\n".to_vec();
    };
    let idx = |n: &str| t.columns.iter().position(|c| c.name == n);
    let (ci, yi, di, vi, si, bi) = (
        idx("city"),
        idx("year"),
        idx("data_point"),
        idx("value"),
        idx("score"),
        idx("band"),
    );
    let get = |r: &Vec<Cell>, i: Option<usize>| -> serde_json::Value {
        match i.and_then(|i| r.get(i)) {
            Some(Cell::Text(s)) if !s.is_empty() => serde_json::Value::String(s.clone()),
            Some(Cell::Num(x)) if x.is_finite() => serde_json::json!(x),
            Some(Cell::Int(x)) => serde_json::json!(x),
            _ => serde_json::Value::Null,
        }
    };
    let dataset = "urn:u4ssc:dataset:data-point-scores";
    let mut graph: Vec<serde_json::Value> = vec![serde_json::json!({
        "@id": dataset,
        "@type": "qb:DataSet",
        "label": "U4SSC data-point values and scores (u4ssc)",
    })];
    graph.extend(t.rows.iter().map(|r| {
        let dp = match get(r, di) {
            serde_json::Value::String(s) => s,
            _ => String::new(),
        };
        let d = ctx.catalog.get(&dp);
        let city = match get(r, ci) {
            serde_json::Value::String(s) => format!("urn:u4ssc:city:{s}"),
            _ => "urn:u4ssc:city:unknown".into(),
        };
        let year = match get(r, yi) {
            serde_json::Value::Null => serde_json::Value::Null,
            y => serde_json::Value::String(y.to_string().trim_matches('"').to_string()),
        };
        serde_json::json!({
            "@type": "qb:Observation",
            "dataSet": dataset,
            "city": city,
            "year": year,
            "dataPoint": d
                .and_then(|d| d.concept_uri.clone())
                .unwrap_or_else(|| format!("urn:u4ssc:datapoint:{dp}")),
            "dataPointId": dp,
            "notation": d.map(|d| d.code.clone()),
            "value": get(r, vi),
            "unit": d.map(|d| d.unit.clone()),
            "score": get(r, si),
            "band": get(r, bi),
        })
    }));
    let doc = serde_json::json!({ "@context": jsonld_context(), "@graph": graph });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The profile names the run's own number of draws, not always "1 000".
    #[test]
    fn the_profile_says_how_many_variations_the_run_drew() {
        assert!(variations(1000).contains("over 1 000 variations"));
        assert!(variations(250).contains("over 250 variations"));
        assert!(variations(12345).contains("over 12 345 variations"));
        assert!(variations(1).contains("over 1 variation of"));
        assert!(variations(0).contains("no rank intervals"));
    }
}
