//! `u4ssc compare`: a city beside its peers, node by node.

use super::*;

#[derive(serde::Serialize)]
pub(crate) struct PeerLine {
    level: String,
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

pub fn compare(ctx: &Ctx, a: &CompareOptions, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let (run, year) = run_and_year(&store, &a.sel)?;
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
    let peers = ctx.registry.members_of(&a.peers, &cities)?;
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
        // the overall score, then every aggregate level from the top down
        let levels: Vec<Level> = std::iter::once(Level::Overall)
            .chain(tree.levels_top_down())
            .collect();
        for level in levels {
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
                    tree.level_key(level).into_owned(),
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
            let set = ctx.registry.group_members(&me, &kind, &label, &cities);
            (label, set)
        })
        .collect();
    let mut lines = Vec::new();
    // the overall score and the two highest aggregate levels (U4SSC: dimension, sub-dimension)
    let levels: Vec<Level> = std::iter::once(Level::Overall)
        .chain(tree.levels_top_down().into_iter().take(2))
        .collect();
    for level in levels {
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
                level: tree.level_key(level).into_owned(),
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
                &serde_json::json!({"city": me, "year": year, "run": run.run_id, "peers": a.peers.to_string(), "levels": lines, "strengths": strengths, "weaknesses": weaknesses, "most_similar": similar}),
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
            l.level.clone(),
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
