//! `u4ssc compare`: a city beside its peers, node by node.

use super::*;

/// One node of a city beside its peers.
#[derive(Debug, serde::Serialize)]
pub struct PeerLine {
    pub level: String,
    pub node: String,
    pub name: String,
    pub score: Option<f64>,
    pub band: Option<u8>,
    pub rank: Option<usize>,
    pub rank_interval: Option<(f64, f64)>,
    /// (group, the city's rank in it, the group's size), the city's own groups
    pub group_ranks: Vec<(String, Option<usize>, usize)>,
    pub percentile: Option<f64>,
    pub peer_median: Option<f64>,
    pub best: Option<f64>,
}

/// What `compare` found: a city beside its peer group, or cities side by side (`--with`).
#[derive(Debug)]
pub enum CompareReport {
    Peers(Box<PeersReport>),
    SideBySide(SideBySide),
}

/// A city beside its peers: its nodes, its strongest and weakest data points relative to
/// the peers' median, the cities most like it, and how many data points it has no score for.
#[derive(Debug)]
pub struct PeersReport {
    pub demo: bool,
    pub city: String,
    pub city_name: String,
    pub run: RunInfo,
    pub year: i32,
    pub peers: PeerSpec,
    pub peer_count: usize,
    pub lines: Vec<PeerLine>,
    pub strengths: Vec<Relative>,
    pub weaknesses: Vec<Relative>,
    pub most_similar: Vec<Similar>,
    pub unscored: usize,
}

/// A data point's score against the peers' median, and the city's trend on it.
#[derive(Debug)]
pub struct Relative {
    pub data_point: String,
    /// Label and name (`EC: ICT: ICT: 1C Household Internet Access`)
    pub name: String,
    pub score: f64,
    pub peer_median: f64,
    /// The trend category (`on track`, `deteriorating`), when the run has one
    pub trend: Option<&'static str>,
}

/// A city whose data-point scores are closest to the compared city's.
#[derive(Debug)]
pub struct Similar {
    pub city: String,
    pub name: String,
    pub rms_difference: f64,
    pub shared: usize,
}

/// Cities side by side, node by node, with the largest gap between them.
#[derive(Debug)]
pub struct SideBySide {
    pub demo: bool,
    pub run_id: i64,
    pub year: i32,
    /// The cities' names, the compared city first
    pub cities: Vec<String>,
    pub rows: Vec<SideRow>,
}

#[derive(Debug)]
pub struct SideRow {
    pub level_key: String,
    pub node: String,
    pub name: String,
    pub scores: Vec<Option<f64>>,
    /// Highest minus lowest score present (0 with fewer than two)
    pub gap: f64,
}

pub fn compare(ctx: &Ctx, a: &CompareOptions) -> Result<CompareReport> {
    let store = ctx.open(Access::ReadOnly)?;
    let (run, year) = run_and_year(&store, &a.sel)?;
    let me = city_slug(&ctx.registry, &a.city)?;
    let tree = Tree::new(&ctx.catalog);
    // the overall score and the two highest aggregate levels (U4SSC: dimension, sub-dimension)
    // of every city: the levels the peer lines show (a world's every node is not read)
    let levels: Vec<Level> = std::iter::once(Level::Overall)
        .chain(tree.levels_top_down().into_iter().take(2))
        .collect();
    let shown = store.node_scores_at(run.run_id, &levels, Some(year))?;
    let cities: Vec<String> = shown
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
        // every level, of these cities only
        let all_nodes = store.node_scores_of(run.run_id, &list, Some(year))?;
        let mut rows = Vec::new();
        // the overall score, then every aggregate level from the top down
        let levels: Vec<Level> = std::iter::once(Level::Overall)
            .chain(tree.levels_top_down())
            .collect();
        for level in levels {
            for node in tree.nodes.iter().filter(|n| n.level == level) {
                let scores: Vec<Option<f64>> = list
                    .iter()
                    .map(|c| {
                        all_nodes
                            .iter()
                            .find(|n| n.node == node.code && &n.city == c)
                            .and_then(|n| n.score)
                    })
                    .collect();
                let present: Vec<f64> = scores.iter().flatten().copied().collect();
                let gap = if present.len() >= 2 {
                    present.iter().cloned().fold(f64::MIN, f64::max)
                        - present.iter().cloned().fold(f64::MAX, f64::min)
                } else {
                    0.0
                };
                rows.push(SideRow {
                    level_key: tree.level_key(level).into_owned(),
                    node: node.code.clone(),
                    name: node.name.clone(),
                    scores,
                    gap,
                });
            }
        }
        return Ok(CompareReport::SideBySide(SideBySide {
            demo: is_demo(&store)?,
            run_id: run.run_id,
            year,
            cities: list.iter().map(|c| city_name(ctx, c)).collect(),
            rows,
        }));
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
    for level in levels {
        for node in tree.nodes.iter().filter(|n| n.level == level) {
            let rows: Vec<&NodeScore> = shown.iter().filter(|n| n.node == node.code).collect();
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
    let dps = store.dp_score_values(run.run_id, year)?;
    let mut by_dp: BTreeMap<&str, Vec<(&str, f64)>> = BTreeMap::new();
    for (city, dp, s) in &dps {
        by_dp
            .entry(dp.as_str())
            .or_default()
            .push((city.as_str(), *s));
    }
    let rel = stats::relative_to_peers(
        dps.iter()
            .map(|(city, dp, s)| (city.as_str(), dp.as_str(), *s)),
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
    let name = |id: &str| {
        ctx.catalog
            .get(id)
            .map(|d| format!("{} {}", d.label(), d.name))
            .unwrap_or_else(|| id.to_string())
    };
    let relative = |r: &(f64, &str, f64, f64)| Relative {
        data_point: r.1.to_string(),
        name: name(r.1),
        score: r.2,
        peer_median: r.3,
        trend: trends
            .iter()
            .find(|t| t.data_point == r.1)
            .map(|t| t.category),
    };
    let unscored = ctx
        .catalog
        .data_points
        .iter()
        .filter(|d| {
            !by_dp
                .get(d.id.as_str())
                .map(|l| l.iter().any(|(c, _)| *c == me))
                .unwrap_or(false)
        })
        .count();
    Ok(CompareReport::Peers(Box::new(PeersReport {
        demo: is_demo(&store)?,
        city_name: city_name(ctx, &me),
        run,
        year,
        peers: a.peers.clone(),
        peer_count: peers.len(),
        lines,
        strengths: rel
            .iter()
            .filter(|r| r.0 > 0.0)
            .take(5)
            .map(relative)
            .collect(),
        weaknesses: rel
            .iter()
            .rev()
            .filter(|r| r.0 < 0.0)
            .take(5)
            .map(relative)
            .collect(),
        most_similar: sim
            .iter()
            .take(3)
            .map(|s| Similar {
                city: s.1.clone(),
                name: city_name(ctx, &s.1),
                rms_difference: s.0,
                shared: s.2,
            })
            .collect(),
        unscored,
        city: me,
    })))
}
