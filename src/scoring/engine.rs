//! The scoring engine: for every year, every city and every node of the catalog tree
//! (data point -> KPI -> category -> sub-dimension -> dimension -> overall) the official
//! U4SSC points and bands and a composite score by the run's method, with ranks.

use super::bands;
use super::method::{Aggregation, Impute, Normalisation, Outliers, RunMethod};
use crate::catalog::{normalise_code, Catalog, DataPoint, Direction, UnitKind};
use crate::pipeline::{treat_column, Treat, TreatMethod};
use crate::registry::Registry;
use crate::rows::CurrentValue;
use crate::stats;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    DataPoint,
    Kpi,
    Category,
    Subdimension,
    Dimension,
    Overall,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::DataPoint,
        Level::Kpi,
        Level::Category,
        Level::Subdimension,
        Level::Dimension,
        Level::Overall,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Level::DataPoint => "data-point",
            Level::Kpi => "kpi",
            Level::Category => "category",
            Level::Subdimension => "subdimension",
            Level::Dimension => "dimension",
            Level::Overall => "overall",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s || l.as_str().replace('-', "_") == s)
    }
}

#[derive(Debug, Clone, Copy)]
pub enum Child {
    Dp(usize),
    Node(usize),
}

#[derive(Debug, Clone)]
pub struct TNode {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent: Option<usize>,
    pub children: Vec<Child>,
    /// every data point under this node
    pub dps: Vec<usize>,
}

/// The catalog's aggregate nodes, bottom-up (children before parents).
#[derive(Debug, Clone)]
pub struct Tree {
    pub nodes: Vec<TNode>,
}

impl Tree {
    pub fn new(c: &Catalog) -> Tree {
        let mut nodes: Vec<TNode> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut add = |nodes: &mut Vec<TNode>, code: String, name: String, level: Level| -> usize {
            if let Some(&i) = index.get(&code) {
                return i;
            }
            nodes.push(TNode {
                code: code.clone(),
                name,
                level,
                parent: None,
                children: vec![],
                dps: vec![],
            });
            index.insert(code, nodes.len() - 1);
            nodes.len() - 1
        };
        // KPIs
        let mut kpi_of = Vec::new();
        for dp in &c.data_points {
            let name = if dp.part.is_empty() {
                dp.name.clone()
            } else {
                dp.name.split(':').next().unwrap_or(&dp.name).to_string()
            };
            kpi_of.push(add(&mut nodes, normalise_code(&dp.code), name, Level::Kpi));
        }
        let cats: Vec<usize> = c
            .categories
            .iter()
            .map(|n| add(&mut nodes, n.code.clone(), n.name.clone(), Level::Category))
            .collect();
        let subs: Vec<usize> = c
            .subdimensions
            .iter()
            .map(|n| {
                add(
                    &mut nodes,
                    n.code.clone(),
                    n.name.clone(),
                    Level::Subdimension,
                )
            })
            .collect();
        let dims: Vec<usize> = c
            .dimensions
            .iter()
            .map(|n| add(&mut nodes, n.code.clone(), n.name.clone(), Level::Dimension))
            .collect();
        let overall = add(
            &mut nodes,
            "overall".into(),
            "Overall".into(),
            Level::Overall,
        );
        let find = |nodes: &Vec<TNode>, code: &str| nodes.iter().position(|n| n.code == code);
        for (i, dp) in c.data_points.iter().enumerate() {
            let k = kpi_of[i];
            // a data point without a direction is shown, never scored: no child of its KPI
            if dp.direction != Direction::None {
                nodes[k].children.push(Child::Dp(i));
            }
            if nodes[k].parent.is_none() {
                nodes[k].parent = find(&nodes, &dp.category);
            }
        }
        for (list, ids) in [(&c.categories, &cats), (&c.subdimensions, &subs)] {
            for (n, &id) in list.iter().zip(ids.iter()) {
                let parent_code = n
                    .subdimension
                    .clone()
                    .or(n.dimension.clone())
                    .unwrap_or_default();
                nodes[id].parent = find(&nodes, &parent_code);
            }
        }
        for &d in &dims {
            nodes[d].parent = Some(overall);
        }
        for i in 0..nodes.len() {
            if let Some(p) = nodes[i].parent {
                if nodes[i].level != Level::Kpi
                    || !nodes[p]
                        .children
                        .iter()
                        .any(|c| matches!(c, Child::Node(x) if *x == i))
                {
                    nodes[p].children.push(Child::Node(i));
                }
            }
        }
        // data points under each node, bottom-up
        for i in 0..nodes.len() {
            let mut dps = Vec::new();
            let mut stack = vec![i];
            while let Some(n) = stack.pop() {
                for ch in &nodes[n].children {
                    match ch {
                        Child::Dp(d) => dps.push(*d),
                        Child::Node(m) => stack.push(*m),
                    }
                }
            }
            dps.sort_unstable();
            nodes[i].dps = dps;
        }
        Tree { nodes }
    }
    pub fn find(&self, code: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.code == code)
    }
}

/// A data point's value made "higher is better" for peer methods.
pub fn directed(dp: &DataPoint, x: f64) -> f64 {
    match dp.direction {
        Direction::HigherBetter => x,
        Direction::LowerBetter => -x,
        Direction::TargetBand => match dp.target.band {
            Some([lo, _]) if x < lo => x - lo,
            Some([_, hi]) if x > hi => hi - x,
            Some(_) => 0.0,
            None => x,
        },
        // never scored (not in the tree); kept as it is for completeness
        Direction::None => x,
    }
}

/// Goalposts of a data point: (worst, optimum) in its own unit.
pub fn goalposts(dp: &DataPoint) -> (f64, f64) {
    let [lo, hi] = dp.plausible;
    match dp.direction {
        Direction::HigherBetter => (lo, dp.target.value.unwrap_or(hi)),
        Direction::LowerBetter => (hi, dp.target.value.unwrap_or(lo)),
        Direction::TargetBand => (lo, dp.target.band.map(|b| b[0]).unwrap_or(hi)),
        Direction::None => (lo, hi),
    }
}

/// Normalise one data point across the cities of a year. Returns scores and "capped" flags.
pub fn normalise(
    dp: &DataPoint,
    col: &[Option<f64>],
    method: Normalisation,
) -> (Vec<Option<f64>>, Vec<bool>) {
    let mut capped = vec![false; col.len()];
    let d: Vec<Option<f64>> = col.iter().map(|v| v.map(|x| directed(dp, x))).collect();
    let present: Vec<f64> = d.iter().flatten().copied().collect();
    let (mn, mx) = present
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let out: Vec<Option<f64>> = match method {
        Normalisation::Goalposts => col
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.map(|x| {
                    let s = if dp.unit_kind == UnitKind::YesNo {
                        x * 100.0
                    } else if dp.direction == Direction::TargetBand {
                        bands::achievement(dp, x).unwrap_or(0.0)
                    } else {
                        let (worst, opt) = goalposts(dp);
                        if opt == worst {
                            if directed(dp, x) >= directed(dp, opt) {
                                100.0
                            } else {
                                0.0
                            }
                        } else {
                            (x - worst) / (opt - worst) * 100.0
                        }
                    };
                    if !(0.0..=100.0).contains(&s) {
                        capped[i] = true;
                    }
                    s.clamp(0.0, 100.0)
                })
            })
            .collect(),
        Normalisation::Minmax => d
            .iter()
            .map(|v| {
                v.map(|x| {
                    if mx > mn {
                        (x - mn) / (mx - mn) * 100.0
                    } else {
                        50.0
                    }
                })
            })
            .collect(),
        Normalisation::Zscore => {
            let m = stats::mean(&present).unwrap_or(0.0);
            let s = stats::sd(&present).unwrap_or(0.0);
            d.iter()
                .map(|v| v.map(|x| if s > 0.0 { (x - m) / s } else { 0.0 }))
                .collect()
        }
        Normalisation::PercentileRank => stats::percentile_rank(&d)
            .into_iter()
            .map(|p| p.map(|p| p * 100.0))
            .collect(),
        Normalisation::DistanceToTarget => {
            let target = match dp.direction {
                Direction::TargetBand => Some(0.0),
                _ => dp.target.value.map(|t| directed(dp, t)),
            };
            match target {
                None => vec![None; col.len()],
                Some(t) => d
                    .iter()
                    .enumerate()
                    .map(|(i, v)| {
                        v.map(|x| {
                            let s = if t > mn { (x - mn) / (t - mn) } else { 1.0 };
                            if s > 1.0 {
                                capped[i] = true;
                            }
                            s.min(1.0) * 100.0
                        })
                    })
                    .collect(),
            }
        }
        Normalisation::Grade => {
            let m = stats::mean(&present).unwrap_or(0.0);
            let dev = present.iter().map(|x| (x - m).abs()).fold(0.0, f64::max);
            d.iter()
                .map(|v| {
                    v.map(|x| {
                        if dev > 0.0 {
                            (3.5 + 2.5 * (x - m) / dev).clamp(1.0, 6.0)
                        } else {
                            3.5
                        }
                    })
                })
                .collect()
        }
    };
    (out, capped)
}

/// One year's values: cities x data points.
pub struct Matrix {
    pub year: i32,
    pub cities: Vec<String>,
    pub raw: Vec<Vec<Option<f64>>>,
    /// after outlier treatment and imputation (what composite scores use)
    pub used: Vec<Vec<Option<f64>>>,
    pub flags: Vec<Vec<Vec<&'static str>>>,
}

/// Composite scores of every node for every city: [node][city], plus data-point scores [dp][city].
pub struct Composite {
    pub dp: Vec<Vec<Option<f64>>>,
    pub node: Vec<Vec<Option<f64>>>,
    pub coverage: Vec<Vec<f64>>,
    pub capped: Vec<Vec<bool>>,
}

/// weights: one per data point, then one per tree node.
/// `node_agg`: per tree node, an aggregation that replaces `agg` there (may be empty).
#[allow(clippy::too_many_arguments)]
pub fn composite(
    c: &Catalog,
    tree: &Tree,
    m: &Matrix,
    norm: Normalisation,
    agg: Aggregation,
    node_agg: &[Option<Aggregation>],
    weights: &[f64],
    coverage: f64,
) -> Composite {
    let n_dp = c.data_points.len();
    let n_city = m.cities.len();
    let mut dp_scores = Vec::with_capacity(n_dp);
    let mut capped = Vec::with_capacity(n_dp);
    for (j, dp) in c.data_points.iter().enumerate() {
        let col: Vec<Option<f64>> = (0..n_city).map(|i| m.used[i][j]).collect();
        let (s, cap) = normalise(dp, &col, norm);
        dp_scores.push(s);
        capped.push(cap);
    }
    let mut node_scores: Vec<Vec<Option<f64>>> = vec![vec![None; n_city]; tree.nodes.len()];
    let mut cov: Vec<Vec<f64>> = vec![vec![0.0; n_city]; tree.nodes.len()];
    // nodes are stored with KPIs first, then categories, sub-dimensions, dimensions, overall:
    // children always come before parents
    let mut order: Vec<usize> = (0..tree.nodes.len()).collect();
    order.sort_by_key(|&i| tree.nodes[i].level);
    let mut pairs: Vec<(f64, f64)> = Vec::new();
    for &k in &order {
        let node = &tree.nodes[k];
        for i in 0..n_city {
            let have = node
                .dps
                .iter()
                .filter(|&&d| dp_scores[d][i].is_some())
                .count();
            let share = if node.dps.is_empty() {
                0.0
            } else {
                have as f64 / node.dps.len() as f64
            };
            cov[k][i] = share;
            if have == 0 || share + 1e-12 < coverage {
                continue;
            }
            pairs.clear();
            pairs.extend(node.children.iter().filter_map(|ch| match ch {
                Child::Dp(d) => dp_scores[*d][i].map(|x| (x, weights[*d])),
                Child::Node(n) => node_scores[*n][i].map(|x| (x, weights[n_dp + *n])),
            }));
            let wsum: f64 = pairs.iter().map(|p| p.1).sum();
            if pairs.is_empty() || wsum <= 0.0 {
                continue;
            }
            // one definition of the geometric and harmonic means, whether the run or only this
            // node asks for them: every child on [1, 100]. Data-point scores are moved there;
            // an aggregate child already is when it is itself a geometric or harmonic mean,
            // and is moved there when it is an arithmetic mean (once, one child at 0 zeroed a
            // geometric node under an arithmetic run)
            let on_1_100 = |n: usize| {
                !matches!(
                    node_agg.get(n).copied().flatten().unwrap_or(agg),
                    Aggregation::Arithmetic
                )
            };
            let positive = || {
                node.children.iter().filter_map(|ch| match ch {
                    Child::Dp(d) => dp_scores[*d][i].map(|x| (norm.positive(x), weights[*d])),
                    Child::Node(n) => node_scores[*n][i].map(|x| {
                        let x = if on_1_100(*n) { x } else { norm.positive(x) };
                        (x, weights[n_dp + *n])
                    }),
                })
            };
            node_scores[k][i] = Some(match node_agg.get(k).copied().flatten().unwrap_or(agg) {
                Aggregation::Arithmetic => pairs.iter().map(|(x, w)| x * w).sum::<f64>() / wsum,
                Aggregation::Geometric => {
                    let lnsum: f64 = positive().map(|(x, w)| w * x.ln()).sum();
                    (lnsum / wsum).exp()
                }
                Aggregation::Harmonic => {
                    let inv: f64 = positive().map(|(x, w)| w / x).sum();
                    wsum / inv
                }
            });
        }
    }
    Composite {
        dp: dp_scores,
        node: node_scores,
        coverage: cov,
        capped,
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct DpScore {
    pub city: String,
    pub year: i32,
    pub data_point: String,
    pub value: Option<f64>,
    pub used_value: Option<f64>,
    pub achievement: Option<f64>,
    pub points: Option<u8>,
    pub score: Option<f64>,
    pub rank: Option<usize>,
    pub flags: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct NodeScore {
    pub city: String,
    pub year: i32,
    pub level: Level,
    pub node: String,
    pub u4ssc_pct: Option<f64>,
    pub band: Option<u8>,
    pub scored_items: usize,
    pub total_items: usize,
    pub score: Option<f64>,
    pub coverage: f64,
    pub rank: Option<usize>,
    pub rank_median: Option<f64>,
    pub rank_p05: Option<f64>,
    pub rank_p95: Option<f64>,
}

pub struct Scores {
    pub dp: Vec<DpScore>,
    pub nodes: Vec<NodeScore>,
}

/// Build each year's matrix from the current values, with outlier treatment and imputation.
pub fn matrices(
    c: &Catalog,
    reg: &Registry,
    values: &[CurrentValue],
    m: &RunMethod,
) -> Vec<Matrix> {
    let dp_index: BTreeMap<&str, usize> = c
        .data_points
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    let mut by_year: BTreeMap<i32, BTreeMap<&str, Vec<Option<f64>>>> = BTreeMap::new();
    for v in values {
        let Some(&j) = dp_index.get(v.data_point.as_str()) else {
            continue;
        };
        let row = by_year
            .entry(v.year)
            .or_default()
            .entry(v.city.as_str())
            .or_insert_with(|| vec![None; c.data_points.len()]);
        row[j] = v.value;
    }
    by_year
        .into_iter()
        .map(|(year, rows)| {
            let cities: Vec<String> = rows.keys().map(|s| s.to_string()).collect();
            let raw: Vec<Vec<Option<f64>>> = rows.into_values().collect();
            matrix(c, reg, m, year, cities, raw)
        })
        .collect()
}

/// One year's reported values as a city × data point matrix (cities sorted, data points in
/// catalog order). A city is in it when it has a row for one of the catalog's data points.
pub struct RawYear {
    pub year: i32,
    pub cities: Vec<String>,
    pub raw: Vec<Vec<Option<f64>>>,
}

impl RawYear {
    /// The matrix of a year's current values (values of other years are left out).
    pub fn of<'a>(
        c: &Catalog,
        year: i32,
        values: impl Iterator<Item = &'a CurrentValue>,
    ) -> RawYear {
        let mut b = RawYearBuilder::new(c, year);
        for v in values.filter(|v| v.year == year) {
            b.add(&v.city, &v.data_point, v.value);
        }
        b.finish()
    }
}

/// Builds a [`RawYear`] one value at a time, in any order.
pub struct RawYearBuilder<'a> {
    year: i32,
    dp_index: HashMap<&'a str, usize>,
    n_dp: usize,
    city_index: HashMap<String, usize>,
    last: Option<(String, usize)>,
    cities: Vec<String>,
    raw: Vec<Vec<Option<f64>>>,
}

impl<'a> RawYearBuilder<'a> {
    pub fn new(c: &'a Catalog, year: i32) -> RawYearBuilder<'a> {
        RawYearBuilder {
            year,
            dp_index: c
                .data_points
                .iter()
                .enumerate()
                .map(|(i, d)| (d.id.as_str(), i))
                .collect(),
            n_dp: c.data_points.len(),
            city_index: HashMap::new(),
            last: None,
            cities: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// A value of a city and data point (one not in the catalog is left out).
    pub fn add(&mut self, city: &str, data_point: &str, value: Option<f64>) {
        let Some(&j) = self.dp_index.get(data_point) else {
            return;
        };
        let i = match &self.last {
            Some((c, i)) if c == city => *i,
            _ => {
                let i = match self.city_index.get(city) {
                    Some(&i) => i,
                    None => {
                        self.cities.push(city.to_string());
                        self.raw.push(vec![None; self.n_dp]);
                        self.city_index
                            .insert(city.to_string(), self.cities.len() - 1);
                        self.cities.len() - 1
                    }
                };
                self.last = Some((city.to_string(), i));
                i
            }
        };
        self.raw[i][j] = value;
    }

    /// The matrix, cities sorted.
    pub fn finish(self) -> RawYear {
        let mut rows: Vec<(String, Vec<Option<f64>>)> =
            self.cities.into_iter().zip(self.raw).collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let (cities, raw) = rows.into_iter().unzip();
        RawYear {
            year: self.year,
            cities,
            raw,
        }
    }
}

/// Fewest distinct values an indicator needs before outlier treatment applies to it.
pub const MIN_DISTINCT_FOR_TREATMENT: usize = 5;

/// Whether outlier treatment may change a data point's column: not a yes/no answer, and at
/// least [`MIN_DISTINCT_FOR_TREATMENT`] distinct reported values.
pub fn treatable(dp: &crate::catalog::DataPoint, col: &[Option<f64>]) -> bool {
    if dp.unit_kind == crate::catalog::UnitKind::YesNo {
        return false;
    }
    let mut xs: Vec<f64> = col.iter().flatten().copied().collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs.len() >= MIN_DISTINCT_FOR_TREATMENT
}

/// A year's matrix from its reported values, with outlier treatment and imputation.
pub fn matrix(
    c: &Catalog,
    reg: &Registry,
    m: &RunMethod,
    year: i32,
    cities: Vec<String>,
    raw: Vec<Vec<Option<f64>>>,
) -> Matrix {
    let mut used = raw.clone();
    let mut flags = vec![vec![Vec::new(); c.data_points.len()]; cities.len()];
    if m.outliers == Outliers::Coinr {
        let t = Treat {
            method: TreatMethod::Coinr,
            winmax: 5,
            skew: 2.0,
            kurtosis: 3.5,
        };
        for j in 0..c.data_points.len() {
            let col: Vec<Option<f64>> = used.iter().map(|r| r[j]).collect();
            let (treated, rep) = treat_column(&col, &t);
            // a yes/no answer, or a column of few distinct values (16 cities at 100 % and one
            // at 81.57), is skewed by nature, not by an outlier: winsorising would turn every
            // "no" into "yes" and the one city below 100 into 100. COINr's documentation
            // advises against treating such indicators, so they are left as reported and the
            // cells treatment would have changed are flagged.
            if !rep.changed.is_empty() && !treatable(&c.data_points[j], &col) {
                for (i, _) in rep.changed {
                    flags[i][j].push("treatment_skipped");
                }
                continue;
            }
            for (i, side) in rep.changed {
                flags[i][j].push(if side == "log" {
                    "log_transformed"
                } else {
                    "winsorised"
                });
            }
            for (r, v) in used.iter_mut().zip(treated) {
                r[j] = v;
            }
        }
    }
    if m.counts_per_100k {
        // after treatment and imputation, before any normalisation: composite methods only
        for (j, dp) in c.data_points.iter().enumerate() {
            if dp.unit_kind != UnitKind::Count {
                continue;
            }
            for (i, city) in cities.iter().enumerate() {
                let Some(v) = used[i][j] else { continue };
                let people = reg.get(city).map(|c| c.population).filter(|&p| p > 0);
                used[i][j] = people.map(|p| v / p as f64 * 100_000.0);
                flags[i][j].push(if people.is_some() {
                    "per_100k"
                } else {
                    "no_population"
                });
            }
        }
    }
    if m.impute == Impute::PeerMedian {
        let group = |slug: &str| reg.get(slug).and_then(|c| c.kostra_group);
        for j in 0..c.data_points.len() {
            for i in 0..cities.len() {
                if used[i][j].is_some() {
                    continue;
                }
                let g = group(&cities[i]);
                let peers: Vec<f64> = (0..cities.len())
                    .filter(|&o| o != i && g.is_some() && group(&cities[o]) == g)
                    .filter_map(|o| raw[o][j])
                    .collect();
                let pool: Vec<f64> = if peers.is_empty() {
                    (0..cities.len())
                        .filter(|&o| o != i)
                        .filter_map(|o| raw[o][j])
                        .collect()
                } else {
                    peers
                };
                if let Some(v) = stats::median(&pool) {
                    used[i][j] = Some(v);
                    flags[i][j].push("imputed");
                }
            }
        }
    }
    Matrix {
        year,
        cities,
        raw,
        used,
        flags,
    }
}

/// The method's per-node aggregations, by tree node (None: the method's own).
pub fn node_aggregations(tree: &Tree, m: &RunMethod) -> Vec<Option<Aggregation>> {
    tree.nodes
        .iter()
        .map(|n| m.aggregation_by_node.get(&n.code).copied())
        .collect()
}

pub fn base_weights(c: &Catalog, tree: &Tree, m: &RunMethod) -> Vec<f64> {
    c.data_points
        .iter()
        .map(|d| m.weight(&d.id))
        .chain(tree.nodes.iter().map(|n| m.weight(&n.code)))
        .collect()
}

/// Score every year. U4SSC points use reported values only (never imputed ones).
pub fn score(c: &Catalog, tree: &Tree, mats: &[Matrix], m: &RunMethod) -> Scores {
    let weights = base_weights(c, tree, m);
    let mut dp_rows = Vec::new();
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
                Row::Dp(d) => dp_rows.push(names.dp(&d)),
                Row::Node(n) => node_rows.push(names.node_score(&n)),
            }
        }
    }
    Scores {
        dp: dp_rows,
        nodes: node_rows,
    }
}

/// One data point's scores for one city, by index: the city into the year's cities, the
/// data point into the catalog's, the flags into the run's [`Flags`]. Rows of a world of
/// cities are made and stored without a string each.
#[derive(Debug, Clone, Copy)]
pub struct DpRow {
    pub city: u32,
    pub dp: u32,
    pub value: Option<f64>,
    pub used_value: Option<f64>,
    pub achievement: Option<f64>,
    pub points: Option<u8>,
    pub score: Option<f64>,
    pub rank: Option<u32>,
    pub flags: u32,
}

/// One tree node's scores for one city, by index (the node into [`Tree::nodes`]).
#[derive(Debug, Clone, Copy)]
pub struct NodeRow {
    pub city: u32,
    pub node: u32,
    pub u4ssc_pct: Option<f64>,
    pub band: Option<u8>,
    pub scored_items: u32,
    pub total_items: u32,
    pub score: Option<f64>,
    pub coverage: f64,
    pub rank: Option<u32>,
    pub rank_median: Option<f64>,
    pub rank_p05: Option<f64>,
    pub rank_p95: Option<f64>,
}

/// One row of scores, as [`score_year`] hands them on.
#[derive(Debug, Clone, Copy)]
pub enum Row {
    Dp(DpRow),
    Node(NodeRow),
}

/// The flag texts of a run's rows ("capped", "imputed no_target", …), each kept once; index
/// 0 is no flag.
pub struct Flags {
    names: Vec<String>,
    index: HashMap<String, u32>,
    /// the index of (capped, no target) when a cell has no flag of its own
    plain: [[u32; 2]; 2],
}

impl Default for Flags {
    fn default() -> Flags {
        let mut f = Flags {
            names: Vec::new(),
            index: HashMap::new(),
            plain: [[0; 2]; 2],
        };
        f.index_of(String::new());
        for capped in [false, true] {
            for no_target in [false, true] {
                f.plain[usize::from(capped)][usize::from(no_target)] =
                    f.index_of(Flags::text(&[], capped, no_target));
            }
        }
        f
    }
}

impl Flags {
    /// The texts by index.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// A cell's flags: its own, then "capped", then "no_target".
    fn text(own: &[&'static str], capped: bool, no_target: bool) -> String {
        own.iter()
            .copied()
            .chain(capped.then_some("capped"))
            .chain(no_target.then_some("no_target"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn index_of(&mut self, text: String) -> u32 {
        if let Some(&i) = self.index.get(&text) {
            return i;
        }
        let i = self.names.len() as u32;
        self.index.insert(text.clone(), i);
        self.names.push(text);
        i
    }

    /// The index of a cell's flags (no text is built for a cell without flags of its own).
    fn intern(&mut self, own: &[&'static str], capped: bool, no_target: bool) -> u32 {
        if own.is_empty() {
            return self.plain[usize::from(capped)][usize::from(no_target)];
        }
        self.index_of(Flags::text(own, capped, no_target))
    }
}

/// What the indices of [`DpRow`]s and [`NodeRow`]s of one year stand for.
pub struct Names<'a> {
    pub catalog: &'a Catalog,
    pub tree: &'a Tree,
    pub year: i32,
    pub cities: &'a [String],
    pub flags: &'a [String],
}

impl Names<'_> {
    pub fn city(&self, i: u32) -> &str {
        self.cities.get(i as usize).map_or("", |s| s.as_str())
    }

    pub fn data_point(&self, j: u32) -> &str {
        self.catalog
            .data_points
            .get(j as usize)
            .map_or("", |d| d.id.as_str())
    }

    pub fn node(&self, k: u32) -> Option<&TNode> {
        self.tree.nodes.get(k as usize)
    }

    pub fn flags(&self, f: u32) -> &str {
        self.flags.get(f as usize).map_or("", |s| s.as_str())
    }

    pub fn dp(&self, r: &DpRow) -> DpScore {
        DpScore {
            city: self.city(r.city).to_string(),
            year: self.year,
            data_point: self.data_point(r.dp).to_string(),
            value: r.value,
            used_value: r.used_value,
            achievement: r.achievement,
            points: r.points,
            score: r.score,
            rank: r.rank.map(|x| x as usize),
            flags: self.flags(r.flags).to_string(),
        }
    }

    pub fn node_score(&self, r: &NodeRow) -> NodeScore {
        let node = self.node(r.node);
        NodeScore {
            city: self.city(r.city).to_string(),
            year: self.year,
            level: node.map_or(Level::Overall, |n| n.level),
            node: node.map_or(String::new(), |n| n.code.clone()),
            u4ssc_pct: r.u4ssc_pct,
            band: r.band,
            scored_items: r.scored_items as usize,
            total_items: r.total_items as usize,
            score: r.score,
            coverage: r.coverage,
            rank: r.rank.map(|x| x as usize),
            rank_median: r.rank_median,
            rank_p05: r.rank_p05,
            rank_p95: r.rank_p95,
        }
    }
}

/// Score one year's matrix and hand every row on as it is made (with the run's flag texts so
/// far), so that a caller can store a world of cities without holding its scores.
/// `intervals` ([node][city] rank median, 5th and 95th percentile) fill the node rows' rank
/// intervals.
#[allow(clippy::too_many_arguments)]
pub fn score_year<E>(
    c: &Catalog,
    tree: &Tree,
    mat: &Matrix,
    m: &RunMethod,
    weights: &[f64],
    intervals: Option<&super::uncertainty::Intervals>,
    flags: &mut Flags,
    emit: &mut dyn FnMut(Row, &Flags) -> Result<(), E>,
) -> Result<(), E> {
    let comp = composite(
        c,
        tree,
        mat,
        m.normalisation,
        m.aggregation,
        &node_aggregations(tree, m),
        weights,
        m.coverage,
    );
    let pts: Vec<Vec<Option<u8>>> = mat
        .raw
        .iter()
        .map(|row| {
            c.data_points
                .iter()
                .zip(row)
                .map(|(dp, v)| v.and_then(|x| bands::achievement(dp, x)).map(bands::points))
                .collect()
        })
        .collect();
    for (j, dp) in c.data_points.iter().enumerate() {
        let ranks = stats::rank_desc(&comp.dp[j]);
        for i in 0..mat.cities.len() {
            let raw = mat.raw[i][j];
            if raw.is_none() && mat.used[i][j].is_none() {
                continue;
            }
            let f = flags.intern(&mat.flags[i][j], comp.capped[j][i], !dp.has_target());
            emit(
                Row::Dp(DpRow {
                    city: i as u32,
                    dp: j as u32,
                    value: raw,
                    used_value: mat.used[i][j],
                    achievement: raw.and_then(|x| bands::achievement(dp, x)),
                    points: pts[i][j],
                    score: comp.dp[j][i],
                    rank: ranks[i].map(|x| x as u32),
                    flags: f,
                }),
                flags,
            )?;
        }
    }
    for (k, node) in tree.nodes.iter().enumerate() {
        let ranks = stats::rank_desc(&comp.node[k]);
        let total_items = node
            .dps
            .iter()
            .filter(|&&d| c.data_points[d].has_target())
            .count();
        for i in 0..mat.cities.len() {
            let (mut sum, mut n) = (0u32, 0usize);
            for &d in &node.dps {
                if let Some(p) = pts[i][d] {
                    sum += u32::from(p);
                    n += 1;
                }
            }
            let g = bands::group_score_of(sum, n);
            let iv = intervals
                .and_then(|iv| iv.get(k))
                .and_then(|row| row.get(i).copied().flatten());
            emit(
                Row::Node(NodeRow {
                    city: i as u32,
                    node: k as u32,
                    u4ssc_pct: g.map(|x| x.0),
                    band: g.map(|x| x.1),
                    scored_items: n as u32,
                    total_items: total_items as u32,
                    score: comp.node[k][i],
                    coverage: comp.coverage[k][i],
                    rank: ranks[i].map(|x| x as u32),
                    rank_median: iv.map(|x| x.0),
                    rank_p05: iv.map(|x| x.1),
                    rank_p95: iv.map(|x| x.2),
                }),
                flags,
            )?;
        }
    }
    Ok(())
}

/// Cities that share a peer group with `city`. `group` is `all`, `kostra`, `population`,
/// `county`, a custom group name, or `custom:NAME`.
pub fn peer_set(reg: &Registry, city: &str, group: &str, cities: &[String]) -> BTreeSet<String> {
    let me = reg.get(city);
    cities
        .iter()
        .filter(|other| {
            let o = reg.get(other);
            match (group, me, o) {
                ("all", _, _) => true,
                ("kostra", Some(a), Some(b)) => {
                    a.kostra_group.is_some() && a.kostra_group == b.kostra_group
                }
                ("population", Some(a), Some(b)) => a.population_band() == b.population_band(),
                ("county", Some(a), Some(b)) => a.county == b.county,
                (g, Some(a), Some(b)) => {
                    let name = g.strip_prefix("custom:").unwrap_or(g);
                    a.groups.iter().any(|x| x == name) && b.groups.iter().any(|x| x == name)
                }
                _ => false,
            }
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::method::{RunMethod, DEFAULT};

    fn setup(values: &[(&str, &str, f64)]) -> (Catalog, Tree, Vec<Matrix>, RunMethod) {
        let c = Catalog::embedded().unwrap();
        let r = Registry::embedded().unwrap();
        let m = RunMethod::parse(DEFAULT, "default").unwrap();
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
        let m = RunMethod::parse(
            include_str!("../../kpis/methods/peer-minmax.toml"),
            "peer-minmax",
        )
        .unwrap();
        assert_eq!(m.outliers, Outliers::Coinr);
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
        let e = RunMethod::parse(&text, "m.toml").unwrap_err().to_string();
        assert!(
            e.contains("counts_per_100k needs a peer normalisation"),
            "{e}"
        );
        let m = RunMethod::parse(
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
        let d = RunMethod::parse(DEFAULT, "default").unwrap();
        assert!(!d.counts_per_100k);
        let plain = matrix(&c, &r, &d, 2024, vec!["oslo".into()], vec![raw[0].clone()]);
        assert_eq!(plain.used[0][j], Some(268.0));
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
        let m = RunMethod::parse(DEFAULT, "default").unwrap();
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
                0.0,
            );
            let g = composite(
                &c,
                &tree,
                &mats[0],
                norm,
                Aggregation::Geometric,
                &[],
                &w,
                0.0,
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
            0.0,
        );
        let mixed = composite(
            &c,
            &tree,
            &mats[0],
            Normalisation::Minmax,
            Aggregation::Arithmetic,
            &node_agg,
            &w,
            0.0,
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
            0.0,
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
        let nordland = peer_set(&r, "bodo", "county", &all);
        assert_eq!(
            nordland.into_iter().collect::<Vec<_>>(),
            vec!["bodo", "narvik", "rana"]
        );
        assert!(peer_set(&r, "bodo", "northern", &all).contains("tromso"));
    }
}
