//! Rank uncertainty: Monte Carlo over method choices (normalisation, arithmetic or
//! geometric mean, weights perturbed by up to ±25 %), with a fixed seed.

use super::engine::{base_weights, Matrix, Tree};
use super::method::{Method, Normalisation};
use crate::catalog::{Catalog, Direction};
use crate::demo::Rng;
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

/// One draw's method choices, drawn in order from the seeded generator before any draw is
/// scored, so that the draws come out the same however many threads score them.
struct Draw {
    norm: Normalisation,
    agg: super::method::Aggregation,
    weights: Vec<f64>,
    /// every data point's moved target, when targets move
    targets: Option<Vec<Option<f64>>>,
}

fn intervals_with<R: Rank>(
    c: &Catalog,
    tree: &Tree,
    mat: &Matrix,
    m: &Method,
    draws: usize,
) -> Intervals {
    intervals_on::<R>(c, tree, mat, m, draws, workers(draws))
}

/// The intervals with the draws shared among `threads` threads.
fn intervals_on<R: Rank>(
    c: &Catalog,
    tree: &Tree,
    mat: &Matrix,
    m: &Method,
    draws: usize,
    threads: usize,
) -> Intervals {
    let threads = threads.max(1);
    let u = &m.uncertainty;
    let options = draw_normalisations(c, m);
    let base = base_weights(c, tree, m);
    let node_agg = super::engine::node_aggregations(tree, m);
    let rule = super::engine::Rule::of(m);
    let mut rng = Rng::new(u.seed);
    let p = u.weight_perturbation;
    let jitter = Uniform::new(1.0 - p, 1.0 + p).ok();
    // targets move too when the method says so: each thread's catalog copy gets the draw's
    let q = u.target_perturbation;
    let target_jitter = (q > 0.0)
        .then(|| Uniform::new(1.0 - q, 1.0 + q).ok())
        .flatten();
    let base_targets: Vec<Option<f64>> = c.data_points.iter().map(|d| d.target.value).collect();
    let plan: Vec<Draw> = (0..draws)
        .map(|_| {
            let norm = options[(rng.next_u64() % options.len() as u64) as usize];
            let agg = u.aggregations[(rng.next_u64() % u.aggregations.len() as u64) as usize];
            let weights = base
                .iter()
                .map(|b| match &jitter {
                    Some(d) => b * d.inverse_cdf(rng.f64()),
                    None => *b,
                })
                .collect();
            let targets = target_jitter.as_ref().map(|d| {
                base_targets
                    .iter()
                    .map(|t| t.map(|t| t * d.inverse_cdf(rng.f64())))
                    .collect()
            });
            Draw {
                norm,
                agg,
                weights,
                targets,
            }
        })
        .collect();
    let n_city = mat.cities.len();
    let n_node = tree.nodes.len();
    let cols = super::engine::columns(mat, c.data_points.len());
    // every draw's ranks, [draw][node][city], 0 where a city has no score; each thread fills
    // the draws of its own share
    let per_draw = n_node * n_city;
    let mut ranks: Vec<R> = vec![R::NONE; draws * per_draw];
    let share = draws.div_ceil(threads).max(1);
    let done = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for (t, (chunk, plan)) in ranks
            .chunks_mut(share * per_draw.max(1))
            .zip(plan.chunks(share))
            .enumerate()
        {
            let (cols, node_agg, rule, done) = (&cols, &node_agg, &rule, &done);
            s.spawn(move || {
                let mut moved = c.clone();
                let mut scratch = Vec::with_capacity(n_city);
                for (d, out) in plan.iter().zip(chunk.chunks_mut(per_draw.max(1))) {
                    let cat = match &d.targets {
                        Some(ts) => {
                            for (dp, t) in moved.data_points.iter_mut().zip(ts) {
                                dp.target.value = *t;
                            }
                            &moved
                        }
                        None => c,
                    };
                    let comp = super::engine::composite_of_columns(
                        cat, tree, cols, n_city, d.norm, d.agg, node_agg, &d.weights, rule,
                    );
                    for (scores, out) in comp.node.iter().zip(out.chunks_mut(n_city.max(1))) {
                        rank_into(scores, &mut scratch, out);
                    }
                    let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    if t == 0 {
                        crate::progress::step(
                            "score: rank intervals over method variations",
                            n as u64,
                            draws as u64,
                        );
                    }
                }
            });
        }
    });
    // the percentiles of each node's ranks, node by node on the same threads
    let mut out: Intervals = vec![Vec::new(); n_node];
    let per_thread = n_node.div_ceil(threads).max(1);
    std::thread::scope(|s| {
        for (t, slots) in out.chunks_mut(per_thread).enumerate() {
            let ranks = &ranks;
            s.spawn(move || {
                // a block of cities at a time, its ranks copied out draw by draw (rows of
                // the block are adjacent in memory), then each city's sorted
                const BLOCK: usize = 64;
                let mut block: Vec<R> = vec![R::NONE; BLOCK * draws];
                let mut rs: Vec<R> = Vec::with_capacity(draws);
                for (j, slot) in slots.iter_mut().enumerate() {
                    let k = t * per_thread + j;
                    let mut node = Vec::with_capacity(n_city);
                    for first in (0..n_city).step_by(BLOCK) {
                        let width = BLOCK.min(n_city - first);
                        for d in 0..draws {
                            let row = d * per_draw + k * n_city + first;
                            for (b, r) in ranks[row..row + width].iter().enumerate() {
                                block[b * draws + d] = *r;
                            }
                        }
                        for b in 0..width {
                            rs.clear();
                            rs.extend(
                                block[b * draws..(b + 1) * draws]
                                    .iter()
                                    .filter(|r| **r != R::NONE),
                            );
                            rs.sort_unstable();
                            node.push(percentiles(&rs));
                        }
                    }
                    *slot = node;
                }
            });
        }
    });
    out
}

/// A rank as kept for every draw: two bytes where the cities fit, else four; `NONE` (0) for
/// a city without a score, since ranks start at 1.
trait Rank: Copy + Ord + Send + Sync + Into<f64> + TryFrom<usize> {
    const NONE: Self;
}
impl Rank for u16 {
    const NONE: Self = 0;
}
impl Rank for u32 {
    const NONE: Self = 0;
}

/// The threads the draws are shared among: the machine's cores, and at least a few draws each.
fn workers(draws: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    cores.min(draws / 8).clamp(1, 16)
}

/// [`crate::stats::rank_desc`] of one node's scores into `out`, without allocating: the highest
/// score ranks 1, ties share the best rank, no score (or one not finite) is `R::NONE`.
fn rank_into<R: Rank>(scores: &[Option<f64>], scratch: &mut Vec<(u32, f64)>, out: &mut [R]) {
    scratch.clear();
    scratch.extend(
        scores
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (i as u32, v))),
    );
    // ties are equal values: their order among themselves changes no rank
    scratch.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
    out.fill(R::NONE);
    let mut rank = 1;
    for (k, &(i, v)) in scratch.iter().enumerate() {
        if k > 0 && scratch[k - 1].1 != v {
            rank = k + 1;
        }
        out[i as usize] = R::try_from(rank).unwrap_or(R::NONE);
    }
}

/// Median, 5th and 95th percentile of sorted ranks; `None` without any.
fn percentiles<R: Rank>(sorted: &[R]) -> Option<(f64, f64, f64)> {
    Some((
        sorted_quantile(sorted, 0.5)?,
        sorted_quantile(sorted, 0.05)?,
        sorted_quantile(sorted, 0.95)?,
    ))
}

/// [`crate::stats::quantile`] of values already sorted (the same interpolation).
fn sorted_quantile<R: Rank>(v: &[R], q: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    let (a, b): (f64, f64) = (v[lo].into(), v[hi].into());
    Some(a + (h - lo as f64) * (b - a))
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

    /// The intervals are those of the definition (each draw's composite ranked with
    /// `stats::rank_desc`, the ranks' `stats::quantile`s), whatever the threads, with the
    /// draws taken from the generator in order: checked on a small world with missing values
    /// (cities without a score in some nodes) and moving targets.
    #[test]
    fn intervals_are_the_definitions_on_any_number_of_threads() {
        use crate::scoring::engine::{composite, node_aggregations, Rule};
        use crate::stats;
        let c = Catalog::embedded().unwrap();
        let r = crate::registry::Registry::embedded().unwrap();
        let mut vals = Vec::new();
        for (k, city) in r.cities.iter().enumerate() {
            for (j, dp) in c.data_points.iter().enumerate() {
                // city k misses every (k + 2)-th data point: some nodes lose their coverage
                if (j + k) % (k + 2) == 0 {
                    continue;
                }
                let [lo, hi] = dp.plausible;
                let good = ((k * 5 + j * 3) % 13) as f64 / 12.0;
                vals.push(crate::rows::CurrentValue {
                    city: city.slug.clone(),
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
        let m = Method::parse(DEFAULT, "default").unwrap();
        let tree = Tree::new(&c);
        let mats = super::super::engine::matrices(&c, &r, &vals, &m);
        let mat = &mats[0];
        let draws = 60;
        // the definition, draw by draw, as the method describes it
        let u = &m.uncertainty;
        let options = draw_normalisations(&c, &m);
        let base = base_weights(&c, &tree, &m);
        let node_agg = node_aggregations(&tree, &m);
        let rule = Rule::of(&m);
        let mut rng = Rng::new(u.seed);
        let jitter =
            Uniform::new(1.0 - u.weight_perturbation, 1.0 + u.weight_perturbation).unwrap();
        let q = u.target_perturbation;
        assert!(q > 0.0, "the default method moves its targets");
        let tj = Uniform::new(1.0 - q, 1.0 + q).unwrap();
        let mut moved = c.clone();
        let mut ranks = vec![vec![Vec::new(); mat.cities.len()]; tree.nodes.len()];
        for _ in 0..draws {
            let norm = options[(rng.next_u64() % options.len() as u64) as usize];
            let agg = u.aggregations[(rng.next_u64() % u.aggregations.len() as u64) as usize];
            let w: Vec<f64> = base
                .iter()
                .map(|b| b * jitter.inverse_cdf(rng.f64()))
                .collect();
            for (dp, orig) in moved.data_points.iter_mut().zip(&c.data_points) {
                dp.target.value = orig.target.value.map(|t| t * tj.inverse_cdf(rng.f64()));
            }
            let comp = composite(&moved, &tree, mat, norm, agg, &node_agg, &w, &rule);
            for (k, scores) in comp.node.iter().enumerate() {
                for (i, rank) in stats::rank_desc(scores).into_iter().enumerate() {
                    if let Some(rank) = rank {
                        ranks[k][i].push(rank as f64);
                    }
                }
            }
        }
        let want: Intervals = ranks
            .iter()
            .map(|per_city| {
                per_city
                    .iter()
                    .map(|rs| {
                        Some((
                            stats::quantile(rs, 0.5)?,
                            stats::quantile(rs, 0.05)?,
                            stats::quantile(rs, 0.95)?,
                        ))
                    })
                    .collect()
            })
            .collect();
        let missing = want.iter().flatten().filter(|x| x.is_none()).count();
        assert!(missing > 0, "some city lacks a score somewhere");
        let spread = want
            .iter()
            .flatten()
            .flatten()
            .filter(|(_, lo, hi)| hi > lo)
            .count();
        assert!(spread > 0, "some interval is wider than one rank");
        for threads in [1, 2, 3, 7] {
            assert_eq!(
                intervals_on::<u16>(&c, &tree, mat, &m, draws, threads),
                want,
                "{threads} threads"
            );
        }
        assert_eq!(intervals_on::<u32>(&c, &tree, mat, &m, draws, 2), want);
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
