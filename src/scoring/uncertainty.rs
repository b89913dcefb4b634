//! Rank uncertainty: Monte Carlo over method choices (normalisation, arithmetic or
//! geometric mean, weights perturbed by up to ±25 %), with a fixed seed.

use super::engine::{base_weights, composite, Matrix, Tree};
use super::method::RunMethod;
use crate::catalog::Catalog;
use crate::demo::Rng;
use crate::stats;
use statrs::distribution::{ContinuousCDF, Uniform};

/// Per node and city: (median rank, 5th percentile, 95th percentile). [node][city]
pub type Intervals = Vec<Vec<Option<(f64, f64, f64)>>>;

pub fn rank_intervals(
    c: &Catalog,
    tree: &Tree,
    mat: &Matrix,
    m: &RunMethod,
    draws: usize,
) -> Intervals {
    let u = &m.uncertainty;
    let base = base_weights(c, tree, m);
    let node_agg = super::engine::node_aggregations(tree, m);
    let mut rng = Rng::new(u.seed);
    let p = u.weight_perturbation;
    let jitter = Uniform::new(1.0 - p, 1.0 + p).ok();
    let n_city = mat.cities.len();
    let mut ranks: Vec<Vec<Vec<f64>>> =
        vec![vec![Vec::with_capacity(draws); n_city]; tree.nodes.len()];
    for _ in 0..draws {
        let norm = u.normalisations[(rng.next_u64() % u.normalisations.len() as u64) as usize];
        let agg = u.aggregations[(rng.next_u64() % u.aggregations.len() as u64) as usize];
        let w: Vec<f64> = base
            .iter()
            .map(|b| match &jitter {
                Some(d) => b * d.inverse_cdf(rng.f64()),
                None => *b,
            })
            .collect();
        let comp = composite(c, tree, mat, norm, agg, &node_agg, &w, m.coverage);
        for (k, scores) in comp.node.iter().enumerate() {
            for (i, r) in stats::rank_desc(scores).into_iter().enumerate() {
                if let Some(r) = r {
                    ranks[k][i].push(r as f64);
                }
            }
        }
    }
    ranks
        .into_iter()
        .map(|per_city| {
            per_city
                .into_iter()
                .map(|rs| {
                    if rs.is_empty() {
                        return None;
                    }
                    Some((
                        stats::quantile(&rs, 0.5)?,
                        stats::quantile(&rs, 0.05)?,
                        stats::quantile(&rs, 0.95)?,
                    ))
                })
                .collect()
        })
        .collect()
}
