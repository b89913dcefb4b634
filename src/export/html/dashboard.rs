//! The SDG table, the network dashboard and the JSON-LD of the HTML exports.

use super::*;

/// (SDG goal, data point, band points, trend text) for a city and year.
pub(crate) fn sdg_rows(
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
    let mut t = sdg_view_table();
    sdg_view_rows(ctx, store, run, cities, &mut t)?;
    Ok(t)
}

/// The SDG view's columns, without rows.
pub fn sdg_view_table() -> DataTable {
    let c = |name, ty, doc| Column { name, ty, doc };
    DataTable {
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
    }
}

/// Cities whose scores and trends the SDG view reads at once.
const SDG_CITIES: usize = 1024;

/// The SDG view's rows of each (city, year) in `cities`, in that order, into `out`: a
/// thousand cities' scores and trends read at a time, so a world of cities is never held.
pub fn sdg_view_rows(
    ctx: &Ctx,
    store: &Store,
    run: &RunInfo,
    cities: &[(String, i32)],
    out: &mut dyn crate::export::tables::Sink,
) -> Result<()> {
    for chunk in cities.chunks(SDG_CITIES) {
        // only the years the cities are shown in (each city's latest, as a rule one year)
        let years: std::collections::BTreeSet<i32> = chunk.iter().map(|(_, y)| *y).collect();
        let slugs: Vec<String> = chunk.iter().map(|(s, _)| s.clone()).collect();
        let mut dps = Vec::new();
        for y in years {
            dps.extend(store.dp_scores_of(run.run_id, &slugs, Some(y))?);
        }
        let trends = store.trends_of(run.run_id, &slugs)?;
        // each city's scores and trends apart first: one pass, not one per city
        let mut dps_of: HashMap<&str, Vec<&crate::scoring::engine::DpScore>> = HashMap::new();
        for d in &dps {
            dps_of.entry(d.city.as_str()).or_default().push(d);
        }
        let mut trends_of: HashMap<&str, Vec<&crate::scoring::trends::Trend>> = HashMap::new();
        for t in &trends {
            trends_of.entry(t.city.as_str()).or_default().push(t);
        }
        for (slug, year) in chunk {
            let d = dps_of
                .get(slug.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            let tr = trends_of
                .get(slug.as_str())
                .map(Vec::as_slice)
                .unwrap_or_default();
            for (goal, dp, band, trend) in sdg_rows(ctx, d, tr, slug, *year) {
                out.row(vec![
                    Cell::text(slug),
                    Cell::Int((*year).into()),
                    Cell::Int(goal.into()),
                    Cell::text(dp),
                    Cell::opt_text(band.map(band_label)),
                    Cell::text(trend),
                ])?;
            }
        }
    }
    Ok(())
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
    // the overall score and the two highest aggregate levels (U4SSC: dimension, sub-dimension)
    let shown: Vec<Level> = std::iter::once(Level::Overall)
        .chain(tree.levels_top_down().into_iter().take(2))
        .collect();
    // the selected year, else the run's latest: only that year's scores are read (a world
    // of cities over ten years is not held for one year's page)
    let year = match year {
        Some(y) => y,
        None => store.run_years(run.run_id)?.into_iter().max().unwrap_or(0),
    };
    let all = store.node_scores(run.run_id, None, Some(year))?;
    let nodes: Vec<&NodeScore> = all.iter().collect();
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
        for n in tree.nodes.iter().filter(|n| shown.contains(&n.level)) {
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
    for n in tree.nodes.iter().filter(|n| shown.contains(&n.level)) {
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
pub(crate) fn jsonld_context() -> serde_json::Value {
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
