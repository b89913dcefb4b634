//! Sensitivity, one assumption at a time (what a JRC audit asks after the Monte Carlo): how
//! far each city's overall rank moves when one choice of the method is changed and every other
//! is kept — the normalisation, the aggregation, the weights (each dimension removed in turn),
//! the targets (all lowered and all raised by the method's target share) and the imputation.

use super::engine::{base_weights, composite, matrices, node_aggregations, Matrix, Tree};
use super::method::{Impute, Method};
use crate::catalog::Catalog;
use crate::registry::Registry;
use crate::rows::CurrentValue;
use crate::stats;

/// The target share used when the method states none (± 10 %).
pub const DEFAULT_TARGET_SHARE: f64 = 0.10;

/// One city's overall rank under one changed assumption.
#[derive(Debug, Clone, PartialEq)]
pub struct Shift {
    pub city: String,
    pub year: i32,
    /// normalisation, aggregation, weights, targets or imputation
    pub assumption: &'static str,
    /// the alternative tried (e.g. "minmax", "without EN", "targets -10 %")
    pub variant: String,
    pub base_rank: Option<usize>,
    pub rank: Option<usize>,
}

impl Shift {
    /// Places moved: positive is better (a smaller rank number).
    pub fn moved(&self) -> Option<i64> {
        Some(self.base_rank? as i64 - self.rank? as i64)
    }
}

/// A method choice as its method file writes it (`geometric`, `peer_median`).
fn name_of<T: serde::Serialize>(choice: T) -> String {
    serde_json::to_value(choice)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// Overall ranks of a year's matrix under a method's choices.
fn overall_ranks(
    c: &Catalog,
    tree: &Tree,
    mat: &Matrix,
    m: &Method,
    weights: &[f64],
) -> Vec<Option<usize>> {
    let node_agg = node_aggregations(tree, m);
    let comp = composite(
        c,
        tree,
        mat,
        m.normalisation,
        m.aggregation,
        &node_agg,
        weights,
        &super::engine::Rule::of(m),
    );
    let k = tree.find("overall").unwrap_or(0);
    stats::rank_desc(&comp.node[k])
}

/// Every assumption changed in turn, for `year` (the latest year of `values` when None).
/// Empty when the year has no values.
pub fn one_at_a_time(
    c: &Catalog,
    reg: &Registry,
    values: &[CurrentValue],
    m: &Method,
    year: Option<i32>,
) -> Vec<Shift> {
    let Some(year) = year.or_else(|| values.iter().map(|v| v.year).max()) else {
        return Vec::new();
    };
    // the one year only: a world's other years are not read into matrices (and values of
    // that year alone, as a large export reads them, are not copied)
    let one_year: Vec<CurrentValue>;
    let values = if values.iter().all(|v| v.year == year) {
        values
    } else {
        one_year = values.iter().filter(|v| v.year == year).cloned().collect();
        one_year.as_slice()
    };
    let tree = Tree::new(c);
    let mats = matrices(c, reg, values, m);
    let Some(mat) = mats.iter().find(|x| x.year == year) else {
        return Vec::new();
    };
    let weights = base_weights(c, &tree, m);
    let base = overall_ranks(c, &tree, mat, m, &weights);
    let mut out = Vec::new();
    let mut push = |assumption: &'static str, variant: String, ranks: &[Option<usize>]| {
        for (i, city) in mat.cities.iter().enumerate() {
            out.push(Shift {
                city: city.clone(),
                year: mat.year,
                assumption,
                variant: variant.clone(),
                base_rank: base[i],
                rank: ranks[i],
            });
        }
    };
    // normalisation: every option the Monte Carlo may draw
    for n in super::uncertainty::draw_normalisations(c, m) {
        if n != m.normalisation {
            let alt = Method {
                normalisation: n,
                ..m.clone()
            };
            push(
                "normalisation",
                n.as_str().to_string(),
                &overall_ranks(c, &tree, mat, &alt, &weights),
            );
        }
    }
    // aggregation
    for &a in &m.uncertainty.aggregations {
        if a != m.aggregation {
            let alt = Method {
                aggregation: a,
                ..m.clone()
            };
            push(
                "aggregation",
                name_of(a),
                &overall_ranks(c, &tree, mat, &alt, &weights),
            );
        }
    }
    // weights: each dimension (the highest aggregate level) removed in turn
    let n_dp = c.data_points.len();
    let top = tree.top_level();
    for (k, node) in tree.nodes.iter().enumerate() {
        if node.level != top {
            continue;
        }
        let mut w = weights.clone();
        w[n_dp + k] = 0.0;
        push(
            "weights",
            format!("without {}", node.code),
            &overall_ranks(c, &tree, mat, m, &w),
        );
    }
    // targets: all lowered, all raised
    let share = if m.uncertainty.target_perturbation > 0.0 {
        m.uncertainty.target_perturbation
    } else {
        DEFAULT_TARGET_SHARE
    };
    for sign in [-1.0, 1.0] {
        let mut moved = c.clone();
        for d in &mut moved.data_points {
            d.target.value = d.target.value.map(|t| t * (1.0 + sign * share));
        }
        push(
            "targets",
            format!(
                "targets {}{} %",
                if sign < 0.0 { "-" } else { "+" },
                (share * 100.0).round()
            ),
            &overall_ranks(&moved, &tree, mat, m, &weights),
        );
    }
    // imputation: the other choice
    let other = match m.impute {
        Impute::None => Impute::PeerMedian,
        _ => Impute::None,
    };
    let alt = Method {
        impute: other,
        ..m.clone()
    };
    if let Some(mat2) = matrices(c, reg, values, &alt)
        .into_iter()
        .find(|x| x.year == mat.year)
    {
        push(
            "imputation",
            name_of(other),
            &overall_ranks(c, &tree, &mat2, &alt, &weights),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::method::DEFAULT;

    fn values() -> Vec<CurrentValue> {
        let c = Catalog::embedded().unwrap();
        let mut out = Vec::new();
        for (k, city) in ["oslo", "bergen", "tromso", "bodo"].iter().enumerate() {
            for (j, dp) in c.data_points.iter().enumerate() {
                let [lo, hi] = dp.plausible;
                let good = ((k * 7 + j * 3) % 10) as f64 / 10.0;
                out.push(CurrentValue {
                    city: city.to_string(),
                    year: 2024,
                    data_point: dp.id.clone(),
                    value: Some(lo + good * (hi - lo)),
                    verified: None,
                    quality: None,
                    source: None,
                    revision_id: 1,
                });
            }
        }
        out
    }

    /// Every assumption is tried, for every city, from the same base ranks; removing a
    /// dimension or changing the normalisation moves someone, and the base ranks are the
    /// method's own.
    #[test]
    fn each_assumption_is_changed_once_for_every_city() {
        let c = Catalog::embedded().unwrap();
        let r = Registry::embedded().unwrap();
        let m = Method::parse(DEFAULT, "default").unwrap();
        let rows = one_at_a_time(&c, &r, &values(), &m, None);
        let mut assumptions: Vec<&str> = rows.iter().map(|s| s.assumption).collect();
        assumptions.dedup();
        assert_eq!(
            assumptions,
            vec![
                "normalisation",
                "aggregation",
                "weights",
                "targets",
                "imputation"
            ]
        );
        // 2 normalisations (distance to target is never drawn on this catalog), 1
        // aggregation, 3 dimensions, 2 target moves, 1 imputation: 9 variants x 4 cities
        assert_eq!(rows.len(), 9 * 4, "{rows:#?}");
        assert!(rows.iter().all(|s| s.base_rank.is_some() && s.year == 2024));
        let variants: Vec<&str> = rows.iter().map(|s| s.variant.as_str()).collect();
        for v in [
            "minmax",
            "geometric",
            "without EN",
            "targets -10 %",
            "targets +10 %",
        ] {
            assert!(variants.contains(&v), "{v} in {variants:?}");
        }
        // the base ranks are a permutation of 1..=4
        let mut base: Vec<usize> = rows[..4].iter().map(|s| s.base_rank.unwrap()).collect();
        base.sort_unstable();
        assert_eq!(base, vec![1, 2, 3, 4]);
        assert!(rows.iter().any(|s| s.moved() != Some(0)), "nothing moved");
    }
}
