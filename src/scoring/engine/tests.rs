use super::*;
use crate::scoring::method::{Method, DEFAULT};

fn setup(values: &[(&str, &str, f64)]) -> (Catalog, Tree, Vec<Matrix>, Method) {
    let c = Catalog::embedded().unwrap();
    let r = Registry::embedded().unwrap();
    let m = Method::parse(DEFAULT, "default").unwrap();
    let vals: Vec<CurrentValue> = values
        .iter()
        .map(|(city, dp, v)| CurrentValue {
            city: city.to_string(),
            year: 2023,
            data_point: dp.to_string(),
            value: Some(*v),
            verified: None,
            quality: None,
            source: None,
            revision_id: 1,
        })
        .collect();
    let tree = Tree::new(&c);
    let mats = matrices(&c, &r, &vals, &m);
    (c, tree, mats, m)
}

/// Outlier treatment leaves yes/no answers and saturated columns as reported (and flags
/// what it would have changed): 15 yes and 2 no once became 17 yes; 16 cities at 100 and
/// one at 81.57 once put the 81.57 at 100.
#[test]
fn outlier_treatment_skips_yes_no_and_saturated_columns() {
    let c = Catalog::embedded().unwrap();
    let r = Registry::embedded().unwrap();
    let m = Method::parse(
        include_str!("../../../kpis/methods/peer-minmax.toml"),
        "peer-minmax",
    )
    .unwrap();
    assert!(m.treats());
    let at = |id: &str| c.data_points.iter().position(|d| d.id == id).unwrap();
    let (yes_no, share) = (at("ec-i-up-2a-compact"), at("ec-ict-ict-1c"));
    let cities: Vec<String> = r.cities.iter().map(|c| c.slug.clone()).collect();
    assert_eq!(cities.len(), 17);
    let mut raw = vec![vec![None; c.data_points.len()]; cities.len()];
    for (i, row) in raw.iter_mut().enumerate() {
        row[yes_no] = Some(if i < 15 { 1.0 } else { 0.0 });
        row[share] = Some(if i == 16 { 81.57 } else { 100.0 });
    }
    let mx = matrix(&c, &r, &m, 2024, cities, raw.clone());
    for (i, (used, reported)) in mx.used.iter().zip(&raw).enumerate() {
        assert_eq!(used[yes_no], reported[yes_no], "city {i} yes/no");
        assert_eq!(used[share], reported[share], "city {i} share");
    }
    assert!(mx.flags[16][share].contains(&"treatment_skipped"));
    assert!(mx.flags[15][yes_no].contains(&"treatment_skipped"));
    // a column with enough distinct values is still treated
    let dp = &c.data_points[share];
    let spread: Vec<Option<f64>> = (0..17).map(|i| Some(i as f64)).collect();
    assert!(treatable(dp, &spread));
    assert!(!treatable(
        dp,
        &[Some(1.0), Some(2.0), Some(2.0), Some(3.0), Some(4.0)]
    ));
}

/// With `counts_per_100k`, a count (open data sets) enters composite methods per 100 000
/// inhabitants (Oslo's 268 and Aukra's 30 become 37 and 811), while U4SSC points and the
/// raw value stay as reported.
#[test]
fn counts_can_enter_composites_per_100k_inhabitants() {
    let c = Catalog::embedded().unwrap();
    let r = Registry::embedded().unwrap();
    // goalposts bound the raw count: the option needs a peer normalisation
    let text = DEFAULT.replace(
        "outliers = \"none\"",
        "outliers = \"none\"\ncounts_per_100k = true",
    );
    let e = Method::parse(&text, "m.toml").unwrap_err().to_string();
    assert!(
        e.contains("counts_per_100k needs a peer normalisation"),
        "{e}"
    );
    let m = Method::parse(
        &text.replace(
            "normalisation = \"goalposts\"",
            "normalisation = \"minmax\"",
        ),
        "m.toml",
    )
    .unwrap();
    assert!(m.counts_per_100k);
    assert!(!crate::scoring::uncertainty::draw_normalisations(&c, &m)
        .contains(&Normalisation::Goalposts));
    let j = c
        .data_points
        .iter()
        .position(|d| d.unit_kind == UnitKind::Count)
        .unwrap();
    let cities = vec!["oslo".to_string(), "aukra".to_string()];
    let mut raw = vec![vec![None; c.data_points.len()]; 2];
    raw[0][j] = Some(268.0);
    raw[1][j] = Some(30.0);
    let mx = matrix(&c, &r, &m, 2024, cities, raw.clone());
    let pop = |s: &str| r.get(s).unwrap().population as f64;
    assert!((mx.used[0][j].unwrap() - 268.0 / pop("oslo") * 1e5).abs() < 1e-9);
    assert!((mx.used[1][j].unwrap() - 30.0 / pop("aukra") * 1e5).abs() < 1e-9);
    assert!(
        mx.used[1][j] > mx.used[0][j],
        "the small city leads per inhabitant"
    );
    assert_eq!(mx.raw, raw, "the raw counts stay as reported");
    assert!(mx.flags[0][j].contains(&"per_100k"));
    // off by default: the count is used as reported
    let d = Method::parse(DEFAULT, "default").unwrap();
    assert!(!d.counts_per_100k);
    let plain = matrix(&c, &r, &d, 2024, vec!["oslo".into()], vec![raw[0].clone()]);
    assert_eq!(plain.used[0][j], Some(268.0));
}

/// The engine prepares values in COINr's order, denominate -> impute -> treat: a missing count
/// is imputed from the other cities' counts per 100 000 inhabitants (it once took their raw
/// counts into a column of counts per inhabitant), and an imputed value is treated like a
/// reported one.
#[test]
fn values_are_denominated_then_imputed_then_treated() {
    let c = Catalog::embedded().unwrap();
    let r = Registry::embedded().unwrap();
    let text = DEFAULT
        .replace(
            "normalisation = \"goalposts\"",
            "normalisation = \"minmax\"",
        )
        .replace("impute = \"none\"", "impute = \"peer_median\"")
        .replace(
            "outliers = \"none\"",
            "outliers = \"coinr\"\ncounts_per_100k = true",
        );
    let m = Method::parse(&text, "m.toml").unwrap();
    let j = c
        .data_points
        .iter()
        .position(|d| d.unit_kind == UnitKind::Count)
        .unwrap();
    let cities: Vec<String> = r.cities.iter().map(|c| c.slug.clone()).collect();
    let pop = |s: &str| r.get(s).unwrap().population as f64;
    // every city reports 100 except the last, which reports nothing
    let mut raw = vec![vec![None; c.data_points.len()]; cities.len()];
    let last = cities.len() - 1;
    for row in raw.iter_mut().take(last) {
        row[j] = Some(100.0);
    }
    let mx = matrix(&c, &r, &m, 2024, cities.clone(), raw);
    let imputed = mx.used[last][j].unwrap();
    assert!(mx.flags[last][j].contains(&"imputed"));
    // the median of per-100k values (none of them near the raw 100)
    let group = r.get(&cities[last]).unwrap().kostra_group;
    let mut pool: Vec<f64> = cities[..last]
        .iter()
        .filter(|s| group.is_some() && r.get(s).unwrap().kostra_group == group)
        .map(|s| 100.0 / pop(s) * 1e5)
        .collect();
    if pool.is_empty() {
        pool = cities[..last]
            .iter()
            .map(|s| 100.0 / pop(s) * 1e5)
            .collect();
    }
    let want = crate::stats::median(&pool).unwrap();
    // treatment, which comes after, may have moved it only if it was an outlier
    let treated =
        mx.flags[last][j].contains(&"winsorised") || mx.flags[last][j].contains(&"log_transformed");
    assert!(
        treated || (imputed - want).abs() < 1e-9,
        "imputed {imputed}, the per-100k median {want}"
    );
    assert!(
        (imputed - 100.0).abs() > 1.0,
        "a raw count was imputed: {imputed}"
    );
    // and treatment saw the per-100k column: Oslo's 100 per 718 000 is no count of 100
    let oslo = cities.iter().position(|s| s == "oslo").unwrap();
    assert!(mx.used[oslo][j].unwrap() < 100.0);
}

#[test]
fn tree_has_every_level() {
    let c = Catalog::embedded().unwrap();
    let t = Tree::new(&c);
    let count = |l| t.nodes.iter().filter(|n| n.level == l).count();
    assert_eq!(count(Level::Kpi), 91);
    assert_eq!(count(Level::Category), 27);
    assert_eq!(count(Level::Subdimension), 7);
    assert_eq!(count(Level::Dimension), 3);
    // 112 data points, of which tourism employment (no direction) is shown, not scored
    assert_eq!(c.data_points.len(), 112);
    assert_eq!(t.nodes[t.find("overall").unwrap()].dps.len(), 111);
    assert!(t.nodes[t.find("EC:P:EM:3A").unwrap()].dps.is_empty());
    assert_eq!(t.nodes[t.find("EC:ICT:ICT:4C").unwrap()].dps.len(), 2);
}

/// The one tree a COINr framework loads into: scored indicators as data points, aggregates
/// on their own levels, children in iMeta order; a shown-only indicator is in no aggregate.
#[test]
fn a_coinr_framework_loads_into_the_same_tree() {
    let fw = crate::framework::Framework::from_imeta(
        include_str!("../../../tests/data/frameworks/local_goals/iMeta.csv"),
        "local_goals/iMeta.csv",
    )
    .unwrap();
    let t = Tree::from_framework(&fw);
    let codes: Vec<(&str, Level)> = t.nodes.iter().map(|n| (n.code.as_str(), n.level)).collect();
    assert_eq!(
        codes,
        [
            ("Mobility", Level::aggregate(0)),
            ("Nature", Level::aggregate(0)),
            ("Index", Level::aggregate(1))
        ]
    );
    // Bus, Car | Green, Trees (Birds is shown, not scored)
    assert_eq!(t.nodes[0].dps, [0, 1]);
    assert_eq!(t.nodes[1].dps, [2, 3]);
    assert_eq!(t.nodes[2].dps, [0, 1, 2, 3]);
    assert_eq!(t.nodes[0].parent, Some(2));
    assert_eq!(t.level_key(Level::aggregate(1)), "level-3");
}

#[test]
fn reversing_direction_reverses_peer_ranks() {
    let c = Catalog::embedded().unwrap();
    let hb = c.get("ec-ict-ict-1c").unwrap().clone();
    let mut lb = hb.clone();
    lb.direction = Direction::LowerBetter;
    let col = [Some(50.0), Some(70.0), Some(90.0)];
    for norm in [
        Normalisation::Minmax,
        Normalisation::Zscore,
        Normalisation::PercentileRank,
        Normalisation::Grade,
    ] {
        let a = stats::rank_desc(&normalise(&hb, &col, norm).0);
        let b = stats::rank_desc(&normalise(&lb, &col, norm).0);
        assert_eq!(a, vec![Some(3), Some(2), Some(1)], "{norm:?}");
        assert_eq!(b, vec![Some(1), Some(2), Some(3)], "{norm:?}");
    }
}

#[test]
fn scores_stay_on_their_scales() {
    let c = Catalog::embedded().unwrap();
    let dp = c.get("en-en-aq-1c-pm2-5").unwrap();
    let col = [Some(1.0), Some(5.0), Some(12.0), Some(400.0), None];
    let (g, capped) = normalise(dp, &col, Normalisation::Goalposts);
    assert!(g.iter().flatten().all(|s| (0.0..=100.0).contains(s)));
    assert_eq!(g[0], Some(100.0));
    assert!(capped[0] && capped[3] && !capped[2]);
    let grades = normalise(dp, &col, Normalisation::Grade).0;
    assert!(grades.iter().flatten().all(|s| (1.0..=6.0).contains(s)));
}

#[test]
fn adding_a_constant_leaves_minmax_and_rank_based_scores_unchanged() {
    let c = Catalog::embedded().unwrap();
    let dp = c.get("ec-ict-ict-3c").unwrap();
    let mut r = crate::demo::Rng::new(11);
    for _ in 0..50 {
        let col: Vec<Option<f64>> = (0..17)
            .map(|i| {
                if i % 7 == 3 {
                    None
                } else {
                    Some(r.f64() * 1000.0)
                }
            })
            .collect();
        let shifted: Vec<Option<f64>> = col.iter().map(|v| v.map(|x| x + 5000.0)).collect();
        for norm in [
            Normalisation::Minmax,
            Normalisation::PercentileRank,
            Normalisation::Zscore,
        ] {
            let a = normalise(dp, &col, norm).0;
            let b = normalise(dp, &shifted, norm).0;
            for (x, y) in a.iter().zip(&b) {
                assert!(
                    match (x, y) {
                        (Some(x), Some(y)) => (x - y).abs() < 1e-9,
                        (None, None) => true,
                        _ => false,
                    },
                    "{norm:?}"
                );
            }
        }
    }
}

#[test]
fn geometric_aggregates_never_exceed_arithmetic_ones() {
    let c = Catalog::embedded().unwrap();
    let r = Registry::embedded().unwrap();
    let m = Method::parse(DEFAULT, "default").unwrap();
    let cities = crate::demo::world_cities(&r, 17);
    let mut vals = Vec::new();
    crate::demo::generate::<()>(
        &c,
        &cities,
        &crate::demo::DemoSpec {
            years: 2024..=2024,
            seed: 3,
        },
        |g| {
            vals.push(CurrentValue {
                city: g.city.slug.clone(),
                year: g.year,
                data_point: g.data_point.id.clone(),
                value: g.value,
                verified: None,
                quality: None,
                source: None,
                revision_id: 1,
            });
            Ok(())
        },
    )
    .unwrap();
    let tree = Tree::new(&c);
    let mats = matrices(&c, &r, &vals, &m);
    let w = base_weights(&c, &tree, &m);
    for norm in [Normalisation::Goalposts, Normalisation::Minmax] {
        let a = composite(
            &c,
            &tree,
            &mats[0],
            norm,
            Aggregation::Arithmetic,
            &[],
            &w,
            &Rule::coverage(0.0),
        );
        let g = composite(
            &c,
            &tree,
            &mats[0],
            norm,
            Aggregation::Geometric,
            &[],
            &w,
            &Rule::coverage(0.0),
        );
        // compare on the same [1, 100] scale the geometric mean uses
        for (k, node) in tree
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.level == Level::Kpi)
        {
            for i in 0..mats[0].cities.len() {
                if let (Some(x), Some(y)) = (a.node[k][i], g.node[k][i]) {
                    assert!(
                        y <= norm.positive(x) + 1e-9,
                        "{} {norm:?}: geometric {y} > arithmetic {x}",
                        node.code
                    );
                }
            }
        }
    }
}

#[test]
fn a_node_can_be_aggregated_otherwise_than_the_rest() {
    // two KPIs of one category for one city; the category harmonic, everything else
    // arithmetic
    let (c, tree, mats, m) = setup(&[
        ("oslo", "ec-ict-ict-1c", 90.0),
        ("bergen", "ec-ict-ict-1c", 95.0),
        ("tromso", "ec-ict-ict-1c", 92.0),
        ("oslo", "ec-ict-ict-2c", 40.0),
        ("bergen", "ec-ict-ict-2c", 80.0),
        ("tromso", "ec-ict-ict-2c", 70.0),
    ]);
    let w = base_weights(&c, &tree, &m);
    let cat = tree.find("EC:ICT:ICT").expect("the ICT category");
    let mut node_agg = vec![None; tree.nodes.len()];
    node_agg[cat] = Some(Aggregation::Harmonic);
    let plain = composite(
        &c,
        &tree,
        &mats[0],
        Normalisation::Minmax,
        Aggregation::Arithmetic,
        &[],
        &w,
        &Rule::coverage(0.0),
    );
    let mixed = composite(
        &c,
        &tree,
        &mats[0],
        Normalisation::Minmax,
        Aggregation::Arithmetic,
        &node_agg,
        &w,
        &Rule::coverage(0.0),
    );
    // Tromsø: min-max 40 and 75, neither at an end
    let i = mats[0].cities.iter().position(|c| c == "tromso").unwrap();
    let kids: Vec<f64> = tree.nodes[cat]
        .children
        .iter()
        .filter_map(|ch| match ch {
            Child::Node(n) => mixed.node[*n][i],
            Child::Dp(_) => None,
        })
        .collect();
    assert_eq!(kids.len(), 2);
    assert!(
        (kids[0] - 40.0).abs() < 1e-9 && (kids[1] - 75.0).abs() < 1e-9,
        "{kids:?}"
    );
    // the harmonic mean takes its arithmetic children on [1, 100], as a harmonic run does
    let harmonic = 2.0 / kids.iter().map(|x| 1.0 / (1.0 + 0.99 * x)).sum::<f64>();
    assert!((mixed.node[cat][i].unwrap() - harmonic).abs() < 1e-9);
    assert!((plain.node[cat][i].unwrap() - (kids[0] + kids[1]) / 2.0).abs() < 1e-9);
}

/// One definition of the geometric mean: a geometric node under an arithmetic run takes
/// its children on [1, 100] like a geometric run does, so one child at 0 no longer zeroes
/// it.
#[test]
fn a_geometric_node_is_not_zeroed_by_one_child_at_zero() {
    let (c, tree, mats, m) = setup(&[
        ("oslo", "ec-ict-ict-1c", 90.0),
        ("bergen", "ec-ict-ict-1c", 95.0),
        ("tromso", "ec-ict-ict-1c", 92.0),
        ("oslo", "ec-ict-ict-2c", 80.0),
        ("bergen", "ec-ict-ict-2c", 40.0),
        ("tromso", "ec-ict-ict-2c", 70.0),
    ]);
    let w = base_weights(&c, &tree, &m);
    let cat = tree.find("EC:ICT:ICT").unwrap();
    let mut node_agg = vec![None; tree.nodes.len()];
    node_agg[cat] = Some(Aggregation::Geometric);
    let mixed = composite(
        &c,
        &tree,
        &mats[0],
        Normalisation::Minmax,
        Aggregation::Arithmetic,
        &node_agg,
        &w,
        &Rule::coverage(0.0),
    );
    // Oslo is the worst on 1C (min-max 0) and the best on 2C (100)
    let i = mats[0].cities.iter().position(|c| c == "oslo").unwrap();
    let score = mixed.node[cat][i].unwrap();
    assert!(score > 9.9, "one child at 0 zeroed the node: {score}");
    let kids: Vec<f64> = tree.nodes[cat]
        .children
        .iter()
        .filter_map(|ch| match ch {
            Child::Node(n) => mixed.node[*n][i],
            Child::Dp(_) => None,
        })
        .collect();
    let want = kids.iter().map(|x| (1.0 + 0.99 * x).ln()).sum::<f64>() / kids.len() as f64;
    assert!(
        (score - want.exp()).abs() < 1e-9,
        "{score} vs {}",
        want.exp()
    );
}

#[test]
fn grade_puts_the_network_mean_at_3_5() {
    let c = Catalog::embedded().unwrap();
    let dp = c.get("ec-ict-ict-1c").unwrap();
    let g = normalise(
        dp,
        &[Some(80.0), Some(90.0), Some(100.0)],
        Normalisation::Grade,
    )
    .0;
    assert_eq!(g, vec![Some(1.0), Some(3.5), Some(6.0)]);
}

#[test]
fn insufficient_coverage_gives_no_aggregate_not_zero() {
    // one of the many ICT data points: far below 65 % coverage
    let (c, tree, mats, m) = setup(&[
        ("oslo", "ec-ict-ict-1c", 90.0),
        ("bergen", "ec-ict-ict-1c", 95.0),
    ]);
    let s = score(&c, &tree, &mats, &m);
    let cat = s
        .nodes
        .iter()
        .find(|n| n.node == "EC:ICT:ICT" && n.city == "oslo")
        .unwrap();
    assert_eq!(cat.score, None);
    assert_eq!(cat.u4ssc_pct, Some(75.0)); // one item, 3 points of 4
    assert_eq!(cat.scored_items, 1);
    let kpi = s
        .nodes
        .iter()
        .find(|n| n.node == "EC:ICT:ICT:1C" && n.city == "oslo")
        .unwrap();
    // goalposts: worst plausible 50 % -> 0, target 100 % -> 100
    assert_eq!(kpi.score, Some(80.0));
}

#[test]
fn u4ssc_points_aggregate_over_the_group() {
    let (c, tree, mats, m) = setup(&[
        ("oslo", "ec-ict-ict-4c-3g", 100.0), // 4 points
        ("oslo", "ec-ict-ict-4c-4g", 50.0),  // 2 points
    ]);
    let s = score(&c, &tree, &mats, &m);
    let kpi = s.nodes.iter().find(|n| n.node == "EC:ICT:ICT:4C").unwrap();
    assert_eq!(kpi.u4ssc_pct, Some(75.0));
    assert_eq!(kpi.band, Some(3));
    assert_eq!(kpi.total_items, 2);
}

#[test]
fn peer_groups_from_the_registry() {
    let r = Registry::embedded().unwrap();
    let all: Vec<String> = r.cities.iter().map(|c| c.slug.clone()).collect();
    let nordland = r.peer_set("bodo", "county", &all);
    assert_eq!(
        nordland.into_iter().collect::<Vec<_>>(),
        vec!["bodo", "narvik", "rana"]
    );
    assert!(r.peer_set("bodo", "northern", &all).contains("tromso"));
}

/// Every year scored into rows in memory (the stored run streams them instead).
struct Scores {
    nodes: Vec<NodeScore>,
}

fn score(c: &Catalog, tree: &Tree, mats: &[Matrix], m: &Method) -> Scores {
    let weights = base_weights(c, tree, m);
    let mut node_rows = Vec::new();
    let mut flags = Flags::default();
    for mat in mats {
        let mut rows = Vec::new();
        let done: Result<(), std::convert::Infallible> = score_year(
            c,
            tree,
            mat,
            m,
            &weights,
            None,
            &mut flags,
            &mut |row, _| {
                rows.push(row);
                Ok(())
            },
        );
        if let Err(never) = done {
            match never {}
        }
        let names = Names {
            catalog: c,
            tree,
            year: mat.year,
            cities: &mat.cities,
            flags: flags.names(),
        };
        for row in rows {
            match row {
                Row::Dp(_) => {}
                Row::Node(n) => node_rows.push(names.node_score(&n)),
            }
        }
    }
    Scores { nodes: node_rows }
}

/// Only rows that repeat their data point's are left to be derived: a single-data-point KPI
/// averaged arithmetically with weight 1; not under a geometric mean (children moved onto
/// [1, 100]) nor with another weight (x·w/w need not be x).
#[test]
fn only_nodes_that_repeat_their_one_data_point_are_derived() {
    let c = Catalog::embedded().unwrap();
    let tree = Tree::new(&c);
    let m = Method::parse(DEFAULT, "default").unwrap();
    let derived = derived_nodes(&c, &tree, &m, &base_weights(&c, &tree, &m));
    assert!(derived.len() > 50, "{}", derived.len());
    for d in &derived {
        let n = &tree.nodes[d.node as usize];
        assert_eq!(
            (n.level, n.dps.as_slice()),
            (Level::Kpi, &[d.dp as usize][..])
        );
    }
    // a KPI of two data points repeats neither
    let split = tree.find("EC:ICT:ICT:4C").unwrap();
    assert!(derived.iter().all(|d| d.node as usize != split));
    let geo = Method::parse(
        &DEFAULT.replace(
            "aggregation = \"arithmetic\"",
            "aggregation = \"geometric\"",
        ),
        "g",
    )
    .unwrap();
    assert_eq!(geo.aggregation, Aggregation::Geometric);
    assert!(derived_nodes(&c, &tree, &geo, &base_weights(&c, &tree, &geo)).is_empty());
    let d0 = derived[0];
    let mut w = base_weights(&c, &tree, &m);
    w[d0.dp as usize] = 0.3;
    assert!(derived_nodes(&c, &tree, &m, &w)
        .iter()
        .all(|d| d.node != d0.node));
}

/// The matrix of a year is the same whatever order its values come in: city by city in the
/// catalog's order or shuffled, with a data point the catalog lacks (left out), cities
/// sorted.
#[test]
fn a_years_matrix_does_not_depend_on_the_order_of_its_values() {
    let c = Catalog::embedded().unwrap();
    let ids: Vec<&str> = c.data_points.iter().map(|d| d.id.as_str()).collect();
    let mut values: Vec<(String, &str, Option<f64>)> = Vec::new();
    for (k, city) in ["oslo", "bergen", "molde"].iter().enumerate() {
        for (j, id) in ids.iter().enumerate() {
            // each city skips some data points
            if (j + k) % 5 != 0 {
                values.push((city.to_string(), id, Some((k * 1000 + j) as f64)));
            }
        }
        values.push((city.to_string(), "not-in-the-catalog", Some(1.0)));
    }
    let build = |rows: &[(String, &str, Option<f64>)]| {
        let mut b = RawYearBuilder::new(&c, 2024);
        for (city, dp, v) in rows {
            b.add(city, dp, *v);
        }
        b.finish()
    };
    let in_order = build(&values);
    assert_eq!(in_order.cities, ["bergen", "molde", "oslo"]);
    let bergen = &in_order.raw[0];
    assert_eq!(bergen[1], Some(1001.0));
    assert_eq!(bergen[4], None);
    // a fixed shuffle: every seventh row first, then the rest backwards
    let mut shuffled: Vec<_> = values.iter().step_by(7).cloned().collect();
    shuffled.extend(
        values
            .iter()
            .enumerate()
            .rev()
            .filter(|(i, _)| i % 7 != 0)
            .map(|(_, v)| v.clone()),
    );
    assert_eq!(shuffled.len(), values.len());
    let other = build(&shuffled);
    assert_eq!(other.cities, in_order.cities);
    assert_eq!(other.raw, in_order.raw);
}
