//! Any indicator framework in COINr's iMeta/iData shape, turned into what the scoring engine
//! reads: a catalog (the framework's tree), a registry (its units, with their group columns
//! as peer groups), a submission (its values by unit and year) and a scoring method (its
//! weights). With them every command — `import`, `score` with Monte Carlo rank intervals,
//! `rank`, `compare` with peer groups, trends across years, `export`, the TUI — works on that
//! framework exactly as on the U4SSC catalog.
//!
//! Per-node aggregation methods carry over (`[aggregation_by_node]` in the method); dashboard
//! thresholds and shown-only indicators stay with `u4ssc pipeline`.
//!
//! The engine's tree has three aggregate levels between indicators and the index (category,
//! sub-dimension, dimension). A framework with fewer is padded with pass-through nodes (one
//! child each, so they carry their child's score unchanged under any mean); one with more is
//! refused.

use crate::catalog::{
    Catalog, CatalogInfo, DataPoint, Direction, KpiType, Node, Target, TargetBasis, UnitKind,
};
use crate::error::{Error, Result};
use crate::framework::{FNode, Framework, NodeKind};
use crate::pipeline::{AggregateMethod, Panel};
use crate::registry::{City, Registry};
use std::collections::{BTreeMap, HashSet};

/// The four files of a converted framework, as text.
pub struct Converted {
    pub catalog: String,
    pub registry: String,
    pub values: String,
    pub method: String,
    /// What the conversion could not carry over, said plainly.
    pub notes: Vec<String>,
}

fn slug_of(code: &str) -> String {
    let mut s: String = code
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() {
                c
            } else {
                '-'
            }
        })
        .collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    s.trim_matches('-').to_string()
}

/// Convert a validated framework and its (denominated) data.
pub fn convert(
    fw: &Framework,
    panel: &Panel,
    name: &str,
    origin: &str,
    data_origin: &str,
) -> Result<Converted> {
    let bad = |m: String| Error::Invalid(format!("{origin}: {m}"));
    let mut notes = Vec::new();
    let aggregates: Vec<&FNode> = fw
        .nodes
        .iter()
        .filter(|n| n.kind == NodeKind::Aggregate && n.scored)
        .collect();
    let roots: Vec<&&FNode> = aggregates.iter().filter(|n| n.parent.is_none()).collect();
    let [root] = roots.as_slice() else {
        return Err(bad(format!(
            "the scoring engine needs one top aggregate (the index); this framework has {}",
            roots.len()
        )));
    };
    let mut levels: Vec<u32> = aggregates
        .iter()
        .filter(|n| n.parent.is_some())
        .map(|n| n.level)
        .collect();
    levels.sort_unstable();
    levels.dedup();
    if levels.len() > 3 {
        return Err(bad(format!(
            "the scoring engine has three aggregate levels between indicators and the index; this framework has {}",
            levels.len()
        )));
    }
    let by_code: BTreeMap<&str, &FNode> = fw.nodes.iter().map(|n| (n.code.as_str(), n)).collect();
    // each node's parent must sit on the next level up (the engine's levels are strict)
    let rank_of = |n: &FNode| -> usize {
        match n.kind {
            NodeKind::Indicator => 0,
            NodeKind::Aggregate if n.parent.is_none() => levels.len() + 1,
            NodeKind::Aggregate => levels.iter().position(|l| *l == n.level).unwrap_or(0) + 1,
        }
    };
    for n in fw.nodes.iter().filter(|n| n.scored) {
        if let Some(p) = n.parent.as_deref().and_then(|p| by_code.get(p)) {
            if rank_of(p) != rank_of(n) + 1 {
                return Err(bad(format!(
                    "'{}' skips a level (its parent '{}' is not on the next level up); the scoring engine needs every level filled",
                    n.code, p.code
                )));
            }
        }
    }
    let node = |code: &str, name: &str, sub: Option<String>, dim: Option<String>| Node {
        code: code.to_string(),
        name: name.to_string(),
        name_nb: name.to_string(),
        dimension: dim,
        subdimension: sub,
    };
    let on = |k: usize| -> Vec<&FNode> {
        aggregates
            .iter()
            .filter(|n| n.parent.is_some() && rank_of(n) == k)
            .copied()
            .collect()
    };
    let (mut cats, mut subs, mut dims) = (Vec::new(), Vec::new(), Vec::new());
    // the category of each indicator's parent code
    let mut category_of: BTreeMap<String, String> = BTreeMap::new();
    match levels.len() {
        3 => {
            for n in on(1) {
                cats.push(node(&n.code, &n.name, n.parent.clone(), None));
            }
            for n in on(2) {
                subs.push(node(&n.code, &n.name, None, n.parent.clone()));
            }
            for n in on(3) {
                dims.push(node(&n.code, &n.name, None, None));
            }
        }
        2 => {
            for n in on(1) {
                let sub = format!("{}.sub", n.code);
                cats.push(node(&n.code, &n.name, Some(sub.clone()), None));
                subs.push(node(&sub, &n.name, None, n.parent.clone()));
            }
            for n in on(2) {
                dims.push(node(&n.code, &n.name, None, None));
            }
        }
        1 => {
            for n in on(1) {
                let (sub, dim) = (format!("{}.sub", n.code), format!("{}.dim", n.code));
                cats.push(node(&n.code, &n.name, Some(sub.clone()), None));
                subs.push(node(&sub, &n.name, None, Some(dim.clone())));
                dims.push(node(&dim, &n.name, None, None));
            }
        }
        _ => {
            cats.push(node("all", &root.name, Some("all.sub".into()), None));
            subs.push(node("all.sub", &root.name, None, Some("all.dim".into())));
            dims.push(node("all.dim", &root.name, None, None));
            category_of.insert(root.code.clone(), "all".into());
        }
    }
    if levels.is_empty() {
        notes.push("the framework has no level between indicators and the index: one pass-through category, sub-dimension and dimension were added".into());
    } else if levels.len() < 3 {
        notes.push(format!(
            "the framework has {} aggregate level(s) below the index; pass-through levels (one child each, same score) fill the engine's three",
            levels.len()
        ));
    }
    // data points: every scored indicator
    let mut dps = Vec::new();
    let mut codes = HashSet::new();
    let mut ids = HashSet::new();
    let mut id_of: BTreeMap<String, String> = BTreeMap::new();
    for n in fw.nodes.iter().filter(|n| n.kind == NodeKind::Indicator) {
        if !n.scored {
            notes.push(format!(
                "'{}' is shown but not scored in the framework; it is left out of the catalog",
                n.code
            ));
            continue;
        }
        let parent = n.parent.clone().unwrap_or_default();
        let category = category_of.get(&parent).cloned().unwrap_or(parent);
        if !codes.insert(crate::catalog::normalise_code(&n.code)) {
            return Err(bad(format!(
                "indicator codes '{}' and another differ only in case or spaces",
                n.code
            )));
        }
        let mut id = slug_of(&n.code);
        if id.is_empty() {
            id = "indicator".into();
        }
        let base = id.clone();
        let mut k = 2;
        while !ids.insert(id.clone()) {
            id = format!("{base}-{k}");
            k += 1;
        }
        id_of.insert(n.code.clone(), id.clone());
        let unit = match &n.denominator {
            Some(d) => format!("per {d}"),
            None => "value".to_string(),
        };
        dps.push(DataPoint {
            id,
            code: n.code.clone(),
            part: String::new(),
            aliases: Vec::new(),
            name: n.name.clone(),
            name_nb: n.name.clone(),
            category,
            kpi_type: KpiType::Core,
            type_basis: Some(format!("every indicator of {origin}")),
            unit,
            unit_kind: UnitKind::Value,
            unit_basis: format!("{origin} (denominated as iMeta says)"),
            direction: if n.direction < 0.0 {
                Direction::LowerBetter
            } else {
                Direction::HigherBetter
            },
            direction_basis: format!("{origin}: Direction {}", n.direction),
            plausible: [-1e300, 1e300],
            min: None,
            max: None,
            sdg_goals: Vec::new(),
            sdg_targets: Vec::new(),
            sdg_reference: None,
            concept_uri: None,
            evidence: None,
            notes: None,
            target: match n.target {
                Some(v) => Target {
                    value: Some(v),
                    year: None,
                    band: None,
                    basis: TargetBasis::Expert,
                    source: format!("{origin}: Target column"),
                    set: None,
                },
                None => Target {
                    value: None,
                    year: None,
                    band: None,
                    basis: TargetBasis::None,
                    source: String::new(),
                    set: None,
                },
            },
        });
    }
    if fw.nodes.iter().any(|n| n.dashboard.is_some()) {
        notes.push("dashboard thresholds are used by `u4ssc pipeline` (dashboard.csv); the engine's own bands need targets".into());
    }
    let catalog = Catalog::to_toml(
        CatalogInfo {
            name: name.to_string(),
            edition: format!("converted from {origin} by u4ssc framework"),
            version: {
                let (y, m, d) = crate::stats::today();
                format!("{y}-{m:02}-{d:02}")
            },
            targets: "The framework's own targets (iMeta Target column), where it gives any."
                .into(),
        },
        dims,
        subs,
        cats,
        dps,
    )?;
    // read it back: the converted catalog must pass the same checks as any other
    Catalog::parse(&catalog, "the converted catalog")?;

    // units as cities; group columns as custom peer groups
    let years: Vec<Option<i32>> = panel
        .units
        .iter()
        .map(|u| {
            u.time
                .as_deref()
                .and_then(|t| t.trim().parse::<f64>().ok())
                .filter(|y| y.fract() == 0.0 && (1900.0..=2200.0).contains(y))
                .map(|y| y as i32)
        })
        .collect();
    if let Some(i) = years.iter().position(Option::is_none) {
        return Err(Error::Invalid(format!(
            "{data_origin}: unit '{}' has no year in the Time column; the scoring engine scores by year",
            panel.units[i].code
        )));
    }
    let latest = years.iter().flatten().max().copied().unwrap_or(2024);
    let mut cities: Vec<City> = Vec::new();
    let mut slug_by_code: BTreeMap<&str, String> = BTreeMap::new();
    let mut taken = HashSet::new();
    for u in &panel.units {
        if slug_by_code.contains_key(u.code.as_str()) {
            continue;
        }
        let mut slug = slug_of(&u.code);
        if slug.is_empty() {
            slug = "unit".into();
        }
        let base = slug.clone();
        let mut k = 2;
        while !taken.insert(slug.clone()) {
            slug = format!("{base}-{k}");
            k += 1;
        }
        let groups: Vec<String> = u.groups.iter().map(|(g, v)| format!("{g}={v}")).collect();
        cities.push(City {
            slug: slug.clone(),
            name: u.name.clone().unwrap_or_else(|| u.code.clone()),
            municipality_number: format!("{}", 900_000 + cities.len() + 1),
            former_numbers: Vec::new(),
            county: u
                .groups
                .values()
                .next()
                .cloned()
                .unwrap_or_else(|| "-".into()),
            population: 0,
            population_year: latest,
            population_source: None,
            kostra_group: None,
            kostra_basis: None,
            area_km2: None,
            u4ssc_evaluation: false,
            groups,
        });
        slug_by_code.insert(&u.code, slug);
    }
    let registry = Registry::to_toml(cities)?;
    Registry::parse(&registry, "the converted registry")?;

    // values: one row per unit, year and indicator
    let mut w = csv::Writer::from_writer(Vec::new());
    let _ = w.write_record(["city", "year", "kpi", "value", "source"]);
    let source = format!("{name} (u4ssc framework)");
    let cols = panel.col_index();
    for (i, u) in panel.units.iter().enumerate() {
        let year = years[i].unwrap_or(latest).to_string();
        for n in fw.indicators() {
            let cell = cols
                .get(n.code.as_str())
                .and_then(|&j| panel.values[i][j])
                .map(|v| format!("{v}"))
                .unwrap_or_else(|| "NR".into());
            let _ = w.write_record([
                slug_by_code
                    .get(u.code.as_str())
                    .cloned()
                    .unwrap_or_default(),
                year.clone(),
                n.code.clone(),
                cell,
                source.clone(),
            ]);
        }
    }
    let values = w
        .into_inner()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| bad(format!("the values cannot be written: {e}")))?;

    // method: min-max 0-100, arithmetic, the framework's weights
    let mut weights = String::new();
    for n in fw.nodes.iter().filter(|n| n.scored && n.weight != 1.0) {
        let key = id_of.get(&n.code).unwrap_or(&n.code);
        weights.push_str(&format!("\"{key}\" = {:?}\n", n.weight));
        if n.kind == NodeKind::Indicator {
            // the engine's KPI node above each indicator carries it into the category
            weights.push_str(&format!(
                "\"{}\" = {:?}\n",
                crate::catalog::normalise_code(&n.code),
                n.weight
            ));
        }
    }
    // the framework's per-node aggregation methods
    let mut by_node = String::new();
    for n in fw.nodes.iter().filter(|n| n.scored) {
        if let Some(a) = n.aggregation {
            let name = match a {
                AggregateMethod::Arithmetic => "arithmetic",
                AggregateMethod::Geometric => "geometric",
                AggregateMethod::Harmonic => "harmonic",
            };
            let code = if n.parent.is_none() {
                "overall"
            } else {
                n.code.as_str()
            };
            by_node.push_str(&format!("\"{code}\" = \"{name}\"\n"));
        }
    }
    let method = format!(
        "# Scoring method for {name}, written by `u4ssc framework` from {origin}.\n\
         name = \"{name}\"\n\
         description = \"min-max 0-100 across the units of each year, arithmetic means, the framework's weights\"\n\
         normalisation = \"minmax\"\n\
         aggregation = \"arithmetic\"\n\
         coverage = 0.0\n\
         impute = \"none\"\n\
         outliers = \"none\"\n\n\
         [weights]\n{weights}\n\
         [aggregation_by_node]\n{by_node}\n\
         [uncertainty]\n\
         draws = 1000\n\
         seed = 2026\n\
         weight_perturbation = 0.25\n\
         normalisations = [\"minmax\", \"percentile_rank\"]\n\
         aggregations = [\"arithmetic\", \"geometric\"]\n",
        name = name.replace('"', "'"),
    );
    crate::scoring::method::RunMethod::parse(&method, "the converted method")?;
    Ok(Converted {
        catalog,
        registry,
        values,
        method,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converted(meta: &str) -> Converted {
        let fw = Framework::from_imeta(meta, "m").unwrap();
        let mut data = String::from("uCode,Time");
        let inds: Vec<&str> = fw.indicators().map(|n| n.code.as_str()).collect();
        for i in &inds {
            data.push(',');
            data.push_str(i);
        }
        data.push('\n');
        for (u, v) in [("A", "1"), ("B", "2")] {
            data.push_str(&format!("{u},2024"));
            for _ in &inds {
                data.push(',');
                data.push_str(v);
            }
            data.push('\n');
        }
        let panel = Panel::from_idata_years(&data, &fw, "d").unwrap();
        convert(&fw, &panel, "t", "m", "d").unwrap()
    }

    #[test]
    fn indicators_straight_under_the_index_get_pass_through_levels() {
        let c = converted("Level,iCode,Direction,Weight,Parent,Type\n1,x,1,2,I,Indicator\n1,y,-1,1,I,Indicator\n2,I,1,1,,Aggregate\n");
        let cat = Catalog::parse(&c.catalog, "c").unwrap();
        assert_eq!(cat.categories.len(), 1);
        assert_eq!(cat.data_points.len(), 2);
        assert!(cat.data_points.iter().all(|d| d.category == "all"));
        assert_eq!(cat.get("y").unwrap().direction, Direction::LowerBetter);
        // the weight of x on its data point and on the KPI node above it
        assert!(c.method.contains("\"x\" = 2.0") && c.method.contains("\"X\" = 2.0"));
        assert!(c.notes.iter().any(|n| n.contains("no level between")));
    }

    #[test]
    fn three_levels_map_onto_category_subdimension_dimension() {
        let c = converted("Level,iCode,Direction,Weight,Parent,Type\n1,x,1,1,P,Indicator\n2,P,1,1,S,Aggregate\n3,S,1,1,D,Aggregate\n4,D,1,1,I,Aggregate\n5,I,1,1,,Aggregate\n");
        let cat = Catalog::parse(&c.catalog, "c").unwrap();
        assert_eq!(cat.categories[0].code, "P");
        assert_eq!(cat.categories[0].subdimension.as_deref(), Some("S"));
        assert_eq!(cat.subdimensions[0].dimension.as_deref(), Some("D"));
        assert_eq!(cat.dimensions[0].code, "D");
        assert!(c.notes.is_empty(), "{:?}", c.notes);
        let reg = Registry::parse(&c.registry, "r").unwrap();
        assert_eq!(reg.cities.len(), 2);
        assert!(c.values.contains("a,2024,x,1,"));
    }
}
