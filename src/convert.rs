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
//! The catalog takes the framework's tree as it is: its aggregate levels below the index, any
//! number of them, named as COINr's `level_names` name them (`--level-names`) or by COINr's
//! level numbers; the index is the overall score.

use crate::catalog::{
    Catalog, CatalogInfo, DataPoint, Direction, KpiType, LevelName, NodeSpec, Target, TargetBasis,
    UnitKind,
};
use crate::error::{Error, Result};
use crate::framework::{FNode, Framework, NodeKind};
use crate::pipeline::{Aggregation, Panel};
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
    level_names: Option<&[String]>,
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
    // the framework's aggregate levels below the index, bottom-up, as COINr numbers them
    let mut levels: Vec<u32> = aggregates
        .iter()
        .filter(|n| n.parent.is_some())
        .map(|n| n.level)
        .collect();
    levels.sort_unstable();
    levels.dedup();
    let level_names: Vec<LevelName> = match level_names {
        Some(names) => {
            // COINr's level_names: one per level, indicators (1) to the index
            let want = root.level as usize;
            if names.len() != want {
                return Err(Error::Usage(format!(
                    "--level-names gives {} name(s); the framework has {want} levels (indicators on level 1 to the index on level {want}), one name each",
                    names.len()
                )));
            }
            levels
                .iter()
                .map(|l| {
                    let name = names[*l as usize - 1].trim().to_string();
                    LevelName {
                        key: slug_of(&name),
                        name,
                    }
                })
                .collect()
        }
        None => levels
            .iter()
            .map(|l| LevelName {
                key: format!("level-{l}"),
                name: format!("Level {l}"),
            })
            .collect(),
    };
    {
        let mut keys = HashSet::new();
        for l in &level_names {
            if l.key.is_empty()
                || ["data-point", "kpi", "overall"].contains(&l.key.as_str())
                || !keys.insert(l.key.clone())
            {
                return Err(Error::Usage(format!(
                    "--level-names: '{}' cannot name a level (each needs letters or digits, differs from the others, and is not data-point, kpi or overall)",
                    l.name
                )));
            }
        }
    }
    let mut nodes: Vec<NodeSpec> = Vec::new();
    for n in aggregates.iter().filter(|n| n.parent.is_some()) {
        if n.code.eq_ignore_ascii_case("overall") {
            return Err(bad(format!(
                "aggregate '{}' takes the name of the overall score; rename it",
                n.code
            )));
        }
        let level = levels.iter().position(|l| *l == n.level).unwrap_or(0);
        nodes.push(NodeSpec {
            code: n.code.clone(),
            name: n.name.clone(),
            name_nb: String::new(),
            level: level_names[level].key.clone(),
            // the index is the overall score: its children sit directly under it
            parent: n.parent.clone().filter(|p| *p != root.code),
        });
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
        // an indicator directly under the index sits directly under the overall score
        let category = if parent == root.code {
            "overall".to_string()
        } else {
            parent
        };
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
        level_names,
        nodes,
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
                Aggregation::Arithmetic => "arithmetic",
                Aggregation::Geometric => "geometric",
                Aggregation::Harmonic => "harmonic",
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
    crate::scoring::method::Method::parse(&method, "the converted method")?;
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

    fn converted(meta: &str, level_names: Option<&[String]>) -> Converted {
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
        convert(&fw, &panel, "t", "m", "d", level_names).unwrap()
    }

    #[test]
    fn indicators_straight_under_the_index_sit_under_the_overall_score() {
        let c = converted("Level,iCode,Direction,Weight,Parent,Type\n1,x,1,2,I,Indicator\n1,y,-1,1,I,Indicator\n2,I,1,1,,Aggregate\n", None);
        let cat = Catalog::parse(&c.catalog, "c").unwrap();
        // no pass-through nodes: the index is the overall score, the indicators its children
        assert!(cat.aggregates.is_empty(), "{:?}", cat.aggregates);
        assert_eq!(cat.data_points.len(), 2);
        assert!(cat.data_points.iter().all(|d| d.category == "overall"));
        let tree = crate::scoring::engine::Tree::new(&cat);
        let overall = tree.find("overall").unwrap();
        let x = tree.find("X").unwrap();
        assert_eq!(tree.nodes[x].parent, Some(overall));
        assert_eq!(tree.nodes[overall].dps.len(), 2);
        assert_eq!(cat.get("y").unwrap().direction, Direction::LowerBetter);
        // the weight of x on its data point and on the KPI node above it
        assert!(c.method.contains("\"x\" = 2.0") && c.method.contains("\"X\" = 2.0"));
        assert!(c.notes.is_empty(), "{:?}", c.notes);
    }

    /// Five aggregate levels below the index (COINr levels 2-6, the index on 7).
    const DEEP: &str = "Level,iCode,Direction,Weight,Parent,Type\n1,x,1,1,A,Indicator\n1,y,1,1,B,Indicator\n2,A,1,1,B,Aggregate\n3,B,1,1,C,Aggregate\n4,C,1,1,D,Aggregate\n5,D,1,1,E,Aggregate\n6,E,1,1,I,Aggregate\n7,I,1,1,,Aggregate\n";

    #[test]
    fn a_framework_of_any_depth_keeps_its_levels_and_their_names() {
        let c = converted(DEEP, None);
        let cat = Catalog::parse(&c.catalog, "c").unwrap();
        let keys: Vec<&str> = cat.levels.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(
            keys,
            ["level-2", "level-3", "level-4", "level-5", "level-6"]
        );
        let parent = |code: &str| cat.aggregate(code).unwrap().parent.clone();
        assert_eq!(parent("A").as_deref(), Some("B"));
        assert_eq!(
            parent("E"),
            None,
            "the index's children sit under the overall score"
        );
        // y skips level 2: its KPI goes straight into B
        assert_eq!(cat.get("y").unwrap().category, "B");
        let tree = crate::scoring::engine::Tree::new(&cat);
        assert_eq!(tree.levels_top_down().len(), 5);
        let b = tree.find("B").unwrap();
        assert_eq!(tree.level_key(tree.nodes[b].level), "level-3");
        assert_eq!(tree.nodes[b].dps.len(), 2);
        assert!(c.notes.is_empty(), "{:?}", c.notes);
        // COINr's level_names name them, indicators to index
        let names: Vec<String> = [
            "Indicator",
            "Pillar",
            "Sub-pillar",
            "Area",
            "Sector",
            "Sub-index",
            "Index",
        ]
        .map(String::from)
        .to_vec();
        let c = converted(DEEP, Some(&names));
        let cat = Catalog::parse(&c.catalog, "c").unwrap();
        let keys: Vec<&str> = cat.levels.iter().map(|l| l.key.as_str()).collect();
        assert_eq!(
            keys,
            ["pillar", "sub-pillar", "area", "sector", "sub-index"]
        );
        assert_eq!(
            cat.level_name(crate::catalog::Level::aggregate(4)),
            "Sub-index"
        );
        // one name short is refused, with the count
        let fw = Framework::from_imeta(DEEP, "m").unwrap();
        let data = "uCode,Time,x,y\nA,2024,1,2\nB,2024,2,3\n";
        let panel = Panel::from_idata_years(data, &fw, "d").unwrap();
        let e = convert(&fw, &panel, "t", "m", "d", Some(&names[1..]))
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("gives 6 name(s); the framework has 7 levels"),
            "{e}"
        );
    }

    #[test]
    fn three_levels_keep_their_parents() {
        let c = converted("Level,iCode,Direction,Weight,Parent,Type\n1,x,1,1,P,Indicator\n2,P,1,1,S,Aggregate\n3,S,1,1,D,Aggregate\n4,D,1,1,I,Aggregate\n5,I,1,1,,Aggregate\n", None);
        let cat = Catalog::parse(&c.catalog, "c").unwrap();
        let codes: Vec<(&str, usize, Option<&str>)> = cat
            .aggregates
            .iter()
            .map(|a| (a.code.as_str(), a.level, a.parent.as_deref()))
            .collect();
        assert_eq!(
            codes,
            [("P", 0, Some("S")), ("S", 1, Some("D")), ("D", 2, None)]
        );
        assert!(c.notes.is_empty(), "{:?}", c.notes);
        let reg = Registry::parse(&c.registry, "r").unwrap();
        assert_eq!(reg.cities.len(), 2);
        assert!(c.values.contains("a,2024,x,1,"));
    }
}
