//! The scoring engine: for every year, every city and every node of the catalog tree
//! (data point -> KPI -> category -> sub-dimension -> dimension -> overall) the official
//! U4SSC points and bands and a composite score by the run's method, with ranks.

use super::bands;
use super::method::{Aggregation, CoverageOf, Impute, Method, Normalisation};
use crate::catalog::{normalise_code, Catalog, DataPoint, Direction, UnitKind};
use crate::registry::Registry;
use crate::rows::CurrentValue;
use crate::stats;
use crate::steps::{impute_column, normalise_directed, treat_column, Kernel, Stat};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

mod raw;
mod tree;
pub use raw::*;
pub use tree::*;

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
/// The peer methods are the shared kernels (`steps`) on the directed values, onto 0-100
/// (grades 1-6, z-scores mean 0 sd 1); goalposts are U4SSC's own (catalog goalposts, yes/no
/// answers, target bands).
pub fn normalise(
    dp: &DataPoint,
    col: &[Option<f64>],
    method: Normalisation,
) -> (Vec<Option<f64>>, Vec<bool>) {
    normalise_on(dp, col, method, &Scale::default())
}

/// The scale a method gives its scores: min-max, percentile rank and distance to target onto
/// [lower, upper], z-scores with this mean and sd, distance to target capped or not. U4SSC
/// method files use the defaults (0-100, mean 0 sd 1, capped); goalposts are always 0-100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub lower: f64,
    pub upper: f64,
    pub zscore_mean: f64,
    pub zscore_sd: f64,
    pub cap: bool,
}

impl Default for Scale {
    fn default() -> Scale {
        Scale {
            lower: 0.0,
            upper: 100.0,
            zscore_mean: 0.0,
            zscore_sd: 1.0,
            cap: true,
        }
    }
}

impl Scale {
    pub fn of(m: &Method) -> Scale {
        Scale {
            lower: m.lower,
            upper: m.upper,
            zscore_mean: m.zscore_mean,
            zscore_sd: m.zscore_sd,
            cap: m.cap,
        }
    }
    /// A score of `norm` on this scale moved onto [1, 100], for the geometric and harmonic
    /// means (on the default scale exactly as `Normalisation::positive`).
    pub fn positive(&self, norm: Normalisation, x: f64) -> f64 {
        if *self == Scale::default() {
            return norm.positive(x);
        }
        match norm {
            Normalisation::Minmax
            | Normalisation::PercentileRank
            | Normalisation::DistanceToTarget => {
                1.0 + 99.0 * (x - self.lower) / (self.upper - self.lower)
            }
            Normalisation::Zscore => norm.positive((x - self.zscore_mean) / self.zscore_sd),
            _ => norm.positive(x),
        }
    }
}

/// Normalise one data point on a method's scale.
pub fn normalise_on(
    dp: &DataPoint,
    col: &[Option<f64>],
    method: Normalisation,
    scale: &Scale,
) -> (Vec<Option<f64>>, Vec<bool>) {
    let d: Vec<Option<f64>> = col.iter().map(|v| v.map(|x| directed(dp, x))).collect();
    let (lower, upper) = (scale.lower, scale.upper);
    let kernel = match method {
        Normalisation::Goalposts => return goalpost_scores(dp, col),
        Normalisation::Minmax => Kernel::Minmax { lower, upper },
        Normalisation::Zscore => Kernel::Zscore {
            mean: scale.zscore_mean,
            sd: scale.zscore_sd,
        },
        Normalisation::PercentileRank => Kernel::PercentileRank { lower, upper },
        Normalisation::Grade => Kernel::Grade,
        Normalisation::Rank => Kernel::Rank,
        Normalisation::DistanceToTarget => Kernel::DistanceToTarget {
            target: match dp.direction {
                Direction::TargetBand => Some(0.0),
                _ => dp.target.value.map(|t| directed(dp, t)),
            },
            lower,
            upper,
            cap: scale.cap,
        },
    };
    normalise_directed(&d, kernel)
}

/// U4SSC goalposts: 0-100 between the worst plausible value and the target (yes/no: 100 ×
/// the answer; a target band: its achievement), clipped and flagged `capped` when clipped.
fn goalpost_scores(dp: &DataPoint, col: &[Option<f64>]) -> (Vec<Option<f64>>, Vec<bool>) {
    let mut capped = vec![false; col.len()];
    let (worst, opt) = goalposts(dp);
    let higher = dp.direction != Direction::LowerBetter;
    let out = col
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.map(|x| {
                let s = if dp.unit_kind == UnitKind::YesNo {
                    x * 100.0
                } else if dp.direction == Direction::TargetBand {
                    bands::achievement(dp, x).unwrap_or(0.0)
                } else {
                    crate::steps::goalpost_share(x, worst, opt, higher) * 100.0
                };
                if !(0.0..=100.0).contains(&s) {
                    capped[i] = true;
                }
                s.clamp(0.0, 100.0)
            })
        })
        .collect();
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

/// What a composite run holds fixed whatever its normalisation and aggregation: the coverage
/// rule and the scores' scale.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    pub coverage: f64,
    pub coverage_of: CoverageOf,
    pub scale: Scale,
}

impl Rule {
    pub fn of(m: &Method) -> Rule {
        Rule {
            coverage: m.coverage,
            coverage_of: m.coverage_of,
            scale: Scale::of(m),
        }
    }
    /// A share of the data points under a node, on the default scale.
    pub fn coverage(coverage: f64) -> Rule {
        Rule {
            coverage,
            coverage_of: CoverageOf::DataPoints,
            scale: Scale::default(),
        }
    }
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
    rule: &Rule,
) -> Composite {
    let cols = columns(m, c.data_points.len());
    composite_of_columns(
        c,
        tree,
        &cols,
        m.cities.len(),
        norm,
        agg,
        node_agg,
        weights,
        rule,
    )
}

/// A matrix's used values by data point, [dp][city]: what normalisation reads, taken out
/// once where many composites score the same matrix.
pub fn columns(m: &Matrix, n_dp: usize) -> Vec<Vec<Option<f64>>> {
    (0..n_dp)
        .map(|j| m.used.iter().map(|row| row[j]).collect())
        .collect()
}

/// [`composite`] of a matrix's [`columns`].
#[allow(clippy::too_many_arguments)]
pub fn composite_of_columns(
    c: &Catalog,
    tree: &Tree,
    cols: &[Vec<Option<f64>>],
    n_city: usize,
    norm: Normalisation,
    agg: Aggregation,
    node_agg: &[Option<Aggregation>],
    weights: &[f64],
    rule: &Rule,
) -> Composite {
    let scale = &rule.scale;
    let n_dp = c.data_points.len();
    let mut dp_scores = Vec::with_capacity(n_dp);
    let mut capped = Vec::with_capacity(n_dp);
    for (dp, col) in c.data_points.iter().zip(cols) {
        let (s, cap) = normalise_on(dp, col, norm, scale);
        dp_scores.push(s);
        capped.push(cap);
    }
    // every node's mean: the run's or the node's own; geometric and harmonic children moved
    // onto [1, 100] first
    let how: Vec<Aggregation> = (0..tree.nodes.len())
        .map(|k| node_agg.get(k).copied().flatten().unwrap_or(agg))
        .collect();
    let positive = |x: f64| scale.positive(norm, x);
    let Aggregated {
        node: node_scores,
        coverage: cov,
    } = aggregate_tree(
        tree,
        &dp_scores,
        n_city,
        weights,
        &how,
        rule,
        Some(&positive),
    );
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

/// Build each year's matrix from the current values, with outlier treatment and imputation.
pub fn matrices(c: &Catalog, reg: &Registry, values: &[CurrentValue], m: &Method) -> Vec<Matrix> {
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
    m: &Method,
    year: i32,
    cities: Vec<String>,
    raw: Vec<Vec<Option<f64>>>,
) -> Matrix {
    let mut used = raw.clone();
    let mut flags = vec![vec![Vec::new(); c.data_points.len()]; cities.len()];
    // COINr's order: denominate (counts per 100 000), impute, treat
    if m.counts_per_100k {
        // composite methods only; U4SSC points keep the raw count
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
    if m.impute != Impute::None {
        // PeerMedian: the median of the city's KOSTRA group, else of every city; the group
        // methods: within the registry group named by `impute_group` (a KOSTRA group, a
        // county, or a custom group column such as a framework's), COINr's way
        let group_of = |slug: &str| -> Option<String> {
            let city = reg.get(slug)?;
            match (m.impute, m.impute_group.as_deref()) {
                (Impute::PeerMedian, _) | (_, Some("kostra")) => {
                    city.kostra_group.map(|g| g.to_string())
                }
                (_, Some("county")) => Some(city.county.clone()),
                (_, Some(column)) => city
                    .groups
                    .iter()
                    .find_map(|g| g.strip_prefix(&format!("{column}=")).map(str::to_string)),
                _ => None,
            }
        };
        let groups: Vec<Option<String>> = cities.iter().map(|s| group_of(s)).collect();
        let grouped = !matches!(m.impute, Impute::Mean | Impute::Median);
        let stat = match m.impute {
            Impute::Mean | Impute::GroupMean => Stat::Mean,
            _ => Stat::Median,
        };
        let fall_back = m.impute == Impute::PeerMedian;
        for j in 0..c.data_points.len() {
            let col: Vec<Option<f64>> = used.iter().map(|r| r[j]).collect();
            let pools = grouped.then_some(groups.as_slice());
            for (i, v) in impute_column(&col, pools, stat, fall_back) {
                used[i][j] = Some(v);
                flags[i][j].push("imputed");
            }
        }
    }
    if m.treats() {
        let t = &m.treat;
        for j in 0..c.data_points.len() {
            let col: Vec<Option<f64>> = used.iter().map(|r| r[j]).collect();
            let (treated, rep) = treat_column(&col, t);
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
    Matrix {
        year,
        cities,
        raw,
        used,
        flags,
    }
}

/// The method's per-node aggregations, by tree node (None: the method's own).
pub fn node_aggregations(tree: &Tree, m: &Method) -> Vec<Option<Aggregation>> {
    tree.nodes
        .iter()
        .map(|n| m.aggregation_by_node.get(&n.code).copied())
        .collect()
}

/// A node whose stored row would only repeat its one data point's: a KPI (or any node) with
/// a single data point as its only child, averaged arithmetically with weight 1, so that its
/// score, rank and coverage are the data point's bit for bit and its U4SSC share is the data
/// point's points (× 25 %). A run does not store such rows (but those with rank intervals);
/// the store's `node_scores` view derives them from the data point's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DerivedNode {
    pub node: u32,
    pub dp: u32,
    /// Whether the data point has a target (U4SSC points), so the node counts one item
    pub banded: bool,
}

/// The nodes of the tree whose rows `DerivedNode` derives, under this method and weights.
pub fn derived_nodes(c: &Catalog, tree: &Tree, m: &Method, weights: &[f64]) -> Vec<DerivedNode> {
    let aggs = node_aggregations(tree, m);
    tree.nodes
        .iter()
        .enumerate()
        .filter_map(|(k, n)| {
            let [Child::Dp(d)] = n.children.as_slice() else {
                return None;
            };
            let how = aggs[k].unwrap_or(m.aggregation);
            (n.dps == [*d]
                && how == Aggregation::Arithmetic
                && weights.get(*d) == Some(&1.0)
                && m.coverage <= 1.0)
                .then(|| DerivedNode {
                    node: k as u32,
                    dp: *d as u32,
                    banded: c.data_points[*d].has_target(),
                })
        })
        .collect()
}

pub fn base_weights(c: &Catalog, tree: &Tree, m: &Method) -> Vec<f64> {
    c.data_points
        .iter()
        .map(|d| m.weight(&d.id))
        .chain(tree.nodes.iter().map(|n| m.weight(&n.code)))
        .collect()
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

    /// The index of "no flags".
    pub fn none(&mut self) -> u32 {
        self.intern(&[], false, false)
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
    m: &Method,
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
        &Rule::of(m),
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
    // The rows go out data point by data point, city by city; the matrices are a row per
    // city. Read down a column, every value is a cache miss (at 10 000 cities, half of this
    // function's time), so the cells the rows need are first copied a few data points at a
    // time, each matrix read along its rows.
    const BLOCK: usize = 16;
    let n = mat.cities.len();
    let mut raw_by_dp = vec![None; BLOCK * n];
    let mut used_by_dp = vec![None; BLOCK * n];
    let mut flagged_by_dp = vec![false; BLOCK * n];
    for j0 in (0..c.data_points.len()).step_by(BLOCK) {
        let block = &c.data_points[j0..(j0 + BLOCK).min(c.data_points.len())];
        for i in 0..n {
            for b in 0..block.len() {
                raw_by_dp[b * n + i] = mat.raw[i][j0 + b];
                used_by_dp[b * n + i] = mat.used[i][j0 + b];
                flagged_by_dp[b * n + i] = !mat.flags[i][j0 + b].is_empty();
            }
        }
        for (b, dp) in block.iter().enumerate() {
            let j = j0 + b;
            let ranks = stats::rank_desc_rounded(&comp.dp[j], m.rank_decimals);
            let (raw_col, used_col) = (&raw_by_dp[b * n..][..n], &used_by_dp[b * n..][..n]);
            for i in 0..n {
                let raw = raw_col[i];
                if raw.is_none() && used_col[i].is_none() {
                    continue;
                }
                let own: &[&'static str] = match flagged_by_dp[b * n + i] {
                    true => &mat.flags[i][j],
                    false => &[],
                };
                let f = flags.intern(own, comp.capped[j][i], !dp.has_target());
                let achievement = raw.and_then(|x| bands::achievement(dp, x));
                emit(
                    Row::Dp(DpRow {
                        city: i as u32,
                        dp: j as u32,
                        value: raw,
                        used_value: used_col[i],
                        achievement,
                        points: achievement.map(bands::points),
                        score: comp.dp[j][i],
                        rank: ranks[i].map(|x| x as u32),
                        flags: f,
                    }),
                    flags,
                )?;
            }
        }
    }
    for (k, node) in tree.nodes.iter().enumerate() {
        let ranks = stats::rank_desc_rounded(&comp.node[k], m.rank_decimals);
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

#[cfg(test)]
mod tests;
