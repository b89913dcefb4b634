//! `u4ssc explain` and `u4ssc diff`: how one score came about, and what changed between two runs.

use super::*;

/// How one city's score of one KPI (each of its data points) came about.
#[derive(Debug)]
pub struct ExplainReport {
    pub demo: bool,
    pub city: String,
    pub year: i32,
    pub run: RunInfo,
    /// The method's normalisation (`goalposts`, `minmax`, …)
    pub normalisation: String,
    pub data_points: Vec<Explained>,
}

/// One data point's chain: value, its source, target, band, composite score, and the
/// scores of every node above it.
#[derive(Debug)]
pub struct Explained {
    /// Everything below as one JSON object (`explain --format json`)
    pub record: serde_json::Value,
    pub label: String,
    pub name: String,
    pub id: String,
    pub unit: String,
    /// What a numerator / denominator pair is multiplied by (100, 100 000)
    pub scale: String,
    pub value: Option<(crate::submission::Observation, crate::store::RevisionInfo)>,
    pub direction: String,
    pub direction_basis: String,
    /// The target as said: "100 % by 2030", "0-5 % by 2030" or "none"
    pub target: String,
    pub target_basis: String,
    pub target_source: String,
    pub score: Option<crate::scoring::engine::DpScore>,
    /// Goalposts (worst -> 0, optimum -> 100) when the method scores by goalposts
    pub goalposts: Option<(f64, f64)>,
    /// The nodes above, the KPI first and the overall score last
    pub up: Vec<UpLevel>,
}

/// One node above a data point, with the city's score there.
#[derive(Debug)]
pub struct UpLevel {
    pub level_key: String,
    pub code: String,
    pub name: String,
    pub score: NodeScore,
}

pub fn explain(ctx: &Ctx, a: &ExplainOptions) -> Result<ExplainReport> {
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
                up.push(UpLevel {
                    level_key: tree.level_key(n.level).into_owned(),
                    code: n.code.clone(),
                    name: n.name.clone(),
                    score: ns.clone(),
                });
            }
            cur = n.parent;
        }
        j["levels"] = serde_json::Value::Array(
            up.iter()
                .map(|u| {
                    serde_json::json!({
                        "level": u.level_key, "node": u.code, "name": u.name, "score": u.score.score,
                        "u4ssc_pct": u.score.u4ssc_pct, "scored_items": u.score.scored_items,
                        "total_items": u.score.total_items, "rank": u.score.rank,
                    })
                })
                .collect(),
        );
        let by = crate::scoring::trends::target_year(dp);
        let target = match (dp.target.value, dp.target.band) {
            (Some(v), _) => format!("{v} {} by {by}", dp.unit),
            (_, Some([lo, hi])) => format!("{lo}-{hi} {} by {by}", dp.unit),
            _ => "none".into(),
        };
        let target_basis = dp.target.basis.as_str().to_string();
        let goalposts = (m.normalisation == crate::scoring::method::Normalisation::Goalposts)
            .then(|| crate::scoring::engine::goalposts(dp));
        all.push(Explained {
            record: j,
            label: dp.label(),
            name: dp.name.clone(),
            id: dp.id.clone(),
            unit: dp.unit.clone(),
            scale: dp.unit_kind.scale().to_string(),
            value: obs,
            direction: dp.direction.as_str().to_string(),
            direction_basis: dp.direction_basis.to_string(),
            target,
            target_basis,
            target_source: dp.target.source.to_string(),
            score: s.cloned(),
            goalposts,
            up,
        });
    }
    Ok(ExplainReport {
        demo: is_demo(&store)?,
        city: city_name(ctx, &me),
        year,
        normalisation: m.normalisation.as_str().to_string(),
        run,
        data_points: all,
    })
}

/// What changed between two runs at one level and year.
#[derive(Debug)]
pub struct DiffReport {
    pub run_a: RunInfo,
    pub run_b: RunInfo,
    pub year: i32,
    pub level_key: String,
    /// Every city and node whose rank or band changed, the largest rank change first
    pub changes: Vec<Change>,
}

/// One city and node whose rank or band differs between the two runs.
#[derive(Debug)]
pub struct Change {
    pub city: String,
    pub node: String,
    pub rank_a: Option<usize>,
    pub rank_b: Option<usize>,
    /// Places gained (positive) or lost; 0 when either rank is missing
    pub change: i64,
    pub band_a: Option<u8>,
    pub band_b: Option<u8>,
    pub score_a: Option<f64>,
    pub score_b: Option<f64>,
}

pub fn diff(ctx: &Ctx, a: &DiffOptions) -> Result<DiffReport> {
    let store = ctx.open(Access::ReadOnly)?;
    let rb = pick_run(&store, a.run_b)?;
    let ra = match a.run_a {
        Some(id) => pick_run(&store, Some(id))?,
        // the run before the later one
        None => store
            .runs()?
            .into_iter()
            .rev()
            .find(|r| r.run_id < rb.run_id)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "there is no run before run {}: score again (another method, newer data) and diff the two, or name both runs",
                    rb.run_id
                ))
            })?,
    };
    let level = a.level;
    let year = match a.year {
        Some(y) => y,
        None => latest_year(&store, rb.run_id)?,
    };
    let old = store.node_scores(ra.run_id, Some(level), Some(year))?;
    let new = store.node_scores(rb.run_id, Some(level), Some(year))?;
    // each city's node of the older run found by key, not by a scan of the older run for
    // every row of the newer one (a world's KPI level is 910 000 rows a run)
    let mut older: HashMap<(&str, &str), &NodeScore> = HashMap::with_capacity(old.len());
    for o in &old {
        older.entry((o.city.as_str(), o.node.as_str())).or_insert(o);
    }
    let mut changes = Vec::new();
    for n in &new {
        let o = older.get(&(n.city.as_str(), n.node.as_str())).copied();
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
            changes.push(Change {
                city: city_name(ctx, &n.city),
                node: n.node.clone(),
                rank_a: or,
                rank_b: n.rank,
                change,
                band_a: ob,
                band_b: n.band,
                score_a: os,
                score_b: n.score,
            });
        }
    }
    // the largest moves first, then by city name and node
    changes.sort_by(|a, b| {
        b.change
            .abs()
            .cmp(&a.change.abs())
            .then_with(|| (&a.city, &a.node).cmp(&(&b.city, &b.node)))
    });
    Ok(DiffReport {
        level_key: ctx.catalog.level_key(level).into_owned(),
        run_a: ra,
        run_b: rb,
        year,
        changes,
    })
}
