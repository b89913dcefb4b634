//! One scoring run from current values: scores for every year, rank intervals for the latest
//! year, and trends. Pure computation; the caller stores the result.

use super::engine::{self, DpScore, NodeScore, Tree};
use super::method::RunMethod;
use super::trends::{self, Trend};
use super::uncertainty;
use crate::catalog::Catalog;
use crate::registry::Registry;
use crate::store::CurrentValue;
use std::collections::BTreeMap;

pub struct RunOutput {
    pub dp: Vec<DpScore>,
    pub nodes: Vec<NodeScore>,
    pub trends: Vec<Trend>,
    pub uncertainty_year: Option<i32>,
}

pub fn compute(
    c: &Catalog,
    reg: &Registry,
    values: &[CurrentValue],
    m: &RunMethod,
    draws: usize,
) -> RunOutput {
    let tree = Tree::new(c);
    let mats = engine::matrices(c, reg, values, m);
    let mut scores = engine::score(c, &tree, &mats, m);
    // rank intervals for the latest year
    let latest = mats.last();
    if let (Some(mat), true) = (latest, draws > 0) {
        let iv = uncertainty::rank_intervals(c, &tree, mat, m, draws);
        let node_ix: BTreeMap<&str, usize> = tree
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.code.as_str(), i))
            .collect();
        let city_ix: BTreeMap<&str, usize> = mat
            .cities
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        for n in scores.nodes.iter_mut().filter(|n| n.year == mat.year) {
            if let (Some(&k), Some(&i)) =
                (node_ix.get(n.node.as_str()), city_ix.get(n.city.as_str()))
            {
                if let Some((med, lo, hi)) = iv[k][i] {
                    n.rank_median = Some(med);
                    n.rank_p05 = Some(lo);
                    n.rank_p95 = Some(hi);
                }
            }
        }
    }
    // trends per city and data point over the reported values
    let mut series: BTreeMap<(&str, &str), Vec<(i32, f64)>> = BTreeMap::new();
    for v in values {
        if let Some(x) = v.value {
            series
                .entry((v.city.as_str(), v.data_point.as_str()))
                .or_default()
                .push((v.year, x));
        }
    }
    let trends = series
        .into_iter()
        .filter_map(|((city, dp), s)| c.get(dp).and_then(|d| trends::assess(city, d, &s)))
        .collect();
    RunOutput {
        dp: scores.dp,
        nodes: scores.nodes,
        trends,
        uncertainty_year: latest.map(|m| m.year),
    }
}
