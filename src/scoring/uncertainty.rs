//! Rank uncertainty: Monte Carlo over method choices (normalisation, arithmetic or
//! geometric mean, weights perturbed by up to ±25 %), with a fixed seed.

use super::engine::{base_weights, composite, Matrix, Tree};
use super::method::{Method, Normalisation};
use crate::catalog::{Catalog, Direction};
use crate::demo::Rng;
use crate::stats;
use statrs::distribution::{ContinuousCDF, Uniform};

/// Per node and city: (median rank, 5th percentile, 95th percentile). [node][city]
pub type Intervals = Vec<Vec<Option<(f64, f64, f64)>>>;

/// The normalisations a draw may use: only those that score every data point the catalog
/// has, so that every draw scores the same set of items. Distance to target leaves out every
/// data point without a target (25 in the U4SSC catalog): at 65 % coverage whole categories,
/// the Productivity and Energy sub-dimensions among them, would vanish from those draws and
/// the intervals would compare unlike things. If no listed option qualifies, the run's own
/// normalisation is drawn.
pub fn draw_normalisations(c: &Catalog, m: &Method) -> Vec<Normalisation> {
    let every_target = c
        .data_points
        .iter()
        .all(|d| d.direction == Direction::TargetBand || d.target.value.is_some());
    let usable: Vec<Normalisation> = m
        .uncertainty
        .normalisations
        .iter()
        .copied()
        .filter(|n| *n != Normalisation::DistanceToTarget || every_target)
        // goalposts and targets bound raw counts, not counts per 100 000 inhabitants
        .filter(|n| {
            !m.counts_per_100k
                || !matches!(
                    n,
                    Normalisation::Goalposts | Normalisation::DistanceToTarget
                )
        })
        .collect();
    if usable.is_empty() {
        vec![m.normalisation]
    } else {
        usable
    }
}

pub fn rank_intervals(
    c: &Catalog,
    tree: &Tree,
    mat: &Matrix,
    m: &Method,
    draws: usize,
) -> Intervals {
    // a rank is a whole number up to the number of cities: kept in two bytes where that is
    // enough (a quarter of a double; 1 000 cities × 1 000 draws × every node stayed over
    // 1 GB as doubles), and the percentiles come out exactly the same
    if mat.cities.len() <= u16::MAX as usize {
        intervals_with::<u16>(c, tree, mat, m, draws)
    } else {
        intervals_with::<u32>(c, tree, mat, m, draws)
    }
}

fn intervals_with<R: Copy + Into<f64> + TryFrom<usize>>(
    c: &Catalog,
    tree: &Tree,
    mat: &Matrix,
    m: &Method,
    draws: usize,
) -> Intervals {
    let u = &m.uncertainty;
    let options = draw_normalisations(c, m);
    let base = base_weights(c, tree, m);
    let node_agg = super::engine::node_aggregations(tree, m);
    let rule = super::engine::Rule::of(m);
    let mut rng = Rng::new(u.seed);
    let p = u.weight_perturbation;
    let jitter = Uniform::new(1.0 - p, 1.0 + p).ok();
    // targets move too when the method says so: one catalog copy, its targets redrawn
    let q = u.target_perturbation;
    let target_jitter = (q > 0.0)
        .then(|| Uniform::new(1.0 - q, 1.0 + q).ok())
        .flatten();
    let base_targets: Vec<Option<f64>> = c.data_points.iter().map(|d| d.target.value).collect();
    let mut moved = c.clone();
    let n_city = mat.cities.len();
    let mut ranks: Vec<Vec<Vec<R>>> = vec![vec![Vec::new(); n_city]; tree.nodes.len()];
    for draw in 0..draws {
        crate::progress::step(
            "score: rank intervals over method variations",
            draw as u64,
            draws as u64,
        );
        let norm = options[(rng.next_u64() % options.len() as u64) as usize];
        let agg = u.aggregations[(rng.next_u64() % u.aggregations.len() as u64) as usize];
        let w: Vec<f64> = base
            .iter()
            .map(|b| match &jitter {
                Some(d) => b * d.inverse_cdf(rng.f64()),
                None => *b,
            })
            .collect();
        let cat = match &target_jitter {
            Some(d) => {
                for (dp, t) in moved.data_points.iter_mut().zip(&base_targets) {
                    dp.target.value = t.map(|t| t * d.inverse_cdf(rng.f64()));
                }
                &moved
            }
            None => c,
        };
        let comp = composite(cat, tree, mat, norm, agg, &node_agg, &w, &rule);
        for (k, scores) in comp.node.iter().enumerate() {
            for (i, r) in stats::rank_desc(scores).into_iter().enumerate() {
                if let Some(r) = r.and_then(|r| R::try_from(r).ok()) {
                    let v = &mut ranks[k][i];
                    if v.capacity() == 0 {
                        v.reserve_exact(draws);
                    }
                    v.push(r);
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
                    let rs: Vec<f64> = rs.into_iter().map(Into::into).collect();
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scoring::method::DEFAULT;

    /// Draws score the same items: distance to target, which drops every target-less data
    /// point, is not drawn on the U4SSC catalog; on a catalog where every data point has a
    /// target it is.
    #[test]
    fn every_draw_scores_the_same_items() {
        let mut c = Catalog::embedded().unwrap();
        let m = Method::parse(DEFAULT, "default").unwrap();
        assert!(m
            .uncertainty
            .normalisations
            .contains(&Normalisation::DistanceToTarget));
        let drawn = draw_normalisations(&c, &m);
        assert!(
            !drawn.contains(&Normalisation::DistanceToTarget),
            "{drawn:?}"
        );
        assert_eq!(drawn.len(), m.uncertainty.normalisations.len() - 1);
        for d in &mut c.data_points {
            if d.target.value.is_none() && d.direction != Direction::TargetBand {
                d.target.value = Some(1.0);
            }
        }
        assert!(draw_normalisations(&c, &m).contains(&Normalisation::DistanceToTarget));
    }

    /// With a target share, every draw moves every target (the project's largest
    /// assumption); without one, the draws are exactly those of before.
    #[test]
    fn target_uncertainty_widens_the_draws() {
        let c = Catalog::embedded().unwrap();
        let r = crate::registry::Registry::embedded().unwrap();
        let mut vals = Vec::new();
        for (k, city) in ["oslo", "bergen", "tromso", "bodo", "molde"]
            .iter()
            .enumerate()
        {
            for (j, dp) in c.data_points.iter().enumerate() {
                let [lo, hi] = dp.plausible;
                let good = ((k * 3 + j * 7) % 11) as f64 / 10.0;
                vals.push(crate::rows::CurrentValue {
                    city: city.to_string(),
                    year: 2024,
                    data_point: dp.id.clone(),
                    value: Some(lo + good.min(1.0) * (hi - lo)),
                    verified: None,
                    quality: None,
                    source: None,
                    revision_id: 1,
                });
            }
        }
        let mut m = Method::parse(DEFAULT, "default").unwrap();
        m.uncertainty.normalisations = vec![Normalisation::Goalposts];
        m.uncertainty.weight_perturbation = 0.0;
        let tree = Tree::new(&c);
        let mats = super::super::engine::matrices(&c, &r, &vals, &m);
        m.uncertainty.target_perturbation = 0.0;
        let fixed = rank_intervals(&c, &tree, &mats[0], &m, 200);
        assert_eq!(fixed, rank_intervals(&c, &tree, &mats[0], &m, 200));
        m.uncertainty.target_perturbation = 0.5;
        let moved = rank_intervals(&c, &tree, &mats[0], &m, 200);
        assert_ne!(fixed, moved, "moving the targets changed no interval");
        // ranks kept in two bytes or in four give the same intervals
        assert_eq!(
            intervals_with::<u16>(&c, &tree, &mats[0], &m, 200),
            intervals_with::<u32>(&c, &tree, &mats[0], &m, 200)
        );
        let bad = DEFAULT.replace(
            "weight_perturbation = 0.25",
            "weight_perturbation = 0.25\ntarget_perturbation = 1.5",
        );
        assert!(Method::parse(&bad, "m").is_err());
    }
}
