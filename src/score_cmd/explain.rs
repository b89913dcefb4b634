//! `u4ssc explain` and `u4ssc diff`: how one score came about, and what changed between two runs.

use super::*;

pub fn explain(ctx: &Ctx, a: &ExplainOptions, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let (run, year) = run_and_year(&store, &a.sel)?;
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
    let m = Method::parse(&run.method_text, "stored method")?;
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
                    "level": tree.level_key(n.level), "node": n.code, "name": n.name, "score": ns.score,
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
                        tree.level_key(n.level),
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

pub fn diff(ctx: &Ctx, a: &DiffOptions, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let ra = pick_run(&store, Some(a.run_a))?;
    let rb = pick_run(&store, Some(a.run_b))?;
    let level = a.level;
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
                ctx.catalog.level_key(level)
            ),
        )?;
    }
    w(out, &t.render(a.format))?;
    Ok(0)
}
