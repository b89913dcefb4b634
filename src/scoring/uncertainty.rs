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
    intervals_on::<R>(c, tree, mat, m, draws, workers(draws), RANKS_IN_MEMORY)
}

/// Every draw's ranks are kept in memory up to this many bytes (1 000 cities × 1 000 draws
/// take 270 MB); beyond, they go to a temporary file and are read back a node at a time, so
/// that rank intervals stay in bounded memory at any number of cities (10 000 cities: 2.7 GB
/// of ranks).
const RANKS_IN_MEMORY: usize = 512 << 20;

/// The intervals with the draws shared among `threads` threads, the ranks in a temporary
/// file when they would take more than `in_memory` bytes (in memory after all if the file
/// cannot be written or read).
fn intervals_on<R: Rank>(
    c: &Catalog,
    tree: &Tree,
    mat: &Matrix,
    m: &Method,
    draws: usize,
    threads: usize,
    in_memory: usize,
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
    let job = Job {
        c,
        tree,
        cols: &cols,
        n_city,
        n_node,
        plan: &plan,
        node_agg: &node_agg,
        rule: &rule,
        threads,
    };
    let bytes = draws * n_node * n_city * R::SIZE;
    if bytes > in_memory {
        if let Ok(out) = job.on_file::<R>() {
            return out;
        }
    }
    job.in_memory::<R>()
}

/// What every draw scores, and how it is shared among threads.
struct Job<'a> {
    c: &'a Catalog,
    tree: &'a Tree,
    /// the matrix's used values by data point
    cols: &'a [Vec<Option<f64>>],
    n_city: usize,
    n_node: usize,
    plan: &'a [Draw],
    node_agg: &'a [Option<super::method::Aggregation>],
    rule: &'a super::engine::Rule,
    threads: usize,
}

impl Job<'_> {
    /// Score every draw on the threads, each thread a contiguous share of the draws, and
    /// hand each draw's ranks ([node][city], `R::NONE` where a city has no score) to `keep`
    /// with the draw's number.
    fn draw<R: Rank, E: Send>(
        &self,
        keep: impl Fn(usize, &[R]) -> Result<(), E> + Sync,
    ) -> Result<(), E> {
        let draws = self.plan.len();
        let share = draws.div_ceil(self.threads).max(1);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let (n_city, n_node) = (self.n_city, self.n_node);
        std::thread::scope(|s| {
            let handles: Vec<_> = self
                .plan
                .chunks(share)
                .enumerate()
                .map(|(t, plan)| {
                    let (done, keep) = (&done, &keep);
                    s.spawn(move || -> Result<(), E> {
                        let mut moved = self.c.clone();
                        let mut scratch = Vec::with_capacity(n_city);
                        let mut ranks = vec![R::NONE; n_node * n_city];
                        for (j, d) in plan.iter().enumerate() {
                            let cat = match &d.targets {
                                Some(ts) => {
                                    for (dp, t) in moved.data_points.iter_mut().zip(ts) {
                                        dp.target.value = *t;
                                    }
                                    &moved
                                }
                                None => self.c,
                            };
                            let comp = super::engine::composite_of_columns(
                                cat,
                                self.tree,
                                self.cols,
                                n_city,
                                d.norm,
                                d.agg,
                                self.node_agg,
                                &d.weights,
                                self.rule,
                            );
                            for (scores, out) in
                                comp.node.iter().zip(ranks.chunks_mut(n_city.max(1)))
                            {
                                rank_into(scores, &mut scratch, out);
                            }
                            keep(t * share + j, &ranks)?;
                            let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if t == 0 {
                                crate::progress::step(
                                    "score: rank intervals over method variations",
                                    n as u64,
                                    draws as u64,
                                );
                            }
                        }
                        Ok(())
                    })
                })
                .collect();
            join_all(handles)
        })
    }

    /// The percentiles of every node's ranks, node by node on the threads; `node_ranks`
    /// fills a node's ranks of every draw, [draw][city].
    fn percentiles<R: Rank, E: Send>(
        &self,
        node_ranks: impl Fn(usize, &mut [R]) -> Result<(), E> + Sync,
    ) -> Result<Intervals, E> {
        let (draws, n_city) = (self.plan.len(), self.n_city);
        let mut out: Intervals = vec![Vec::new(); self.n_node];
        let per_thread = self.n_node.div_ceil(self.threads).max(1);
        std::thread::scope(|s| {
            let handles: Vec<_> = out
                .chunks_mut(per_thread)
                .enumerate()
                .map(|(t, slots)| {
                    let node_ranks = &node_ranks;
                    s.spawn(move || -> Result<(), E> {
                        // a block of cities at a time, its ranks copied out draw by draw
                        // (the rows of a block are adjacent), then each city's sorted
                        const BLOCK: usize = 64;
                        let mut all: Vec<R> = vec![R::NONE; draws * n_city];
                        let mut block: Vec<R> = vec![R::NONE; BLOCK * draws];
                        let mut rs: Vec<R> = Vec::with_capacity(draws);
                        for (j, slot) in slots.iter_mut().enumerate() {
                            node_ranks(t * per_thread + j, &mut all)?;
                            let mut node = Vec::with_capacity(n_city);
                            for first in (0..n_city).step_by(BLOCK) {
                                let width = BLOCK.min(n_city - first);
                                for d in 0..draws {
                                    let row = d * n_city + first;
                                    for (b, r) in all[row..row + width].iter().enumerate() {
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
                        Ok(())
                    })
                })
                .collect();
            join_all(handles)
        })?;
        Ok(out)
    }

    /// Every draw's ranks in memory, one buffer per draw ([node][city]).
    fn in_memory<R: Rank>(&self) -> Intervals {
        let ranks: Vec<std::sync::Mutex<Vec<R>>> = (0..self.plan.len())
            .map(|_| std::sync::Mutex::new(Vec::new()))
            .collect();
        let kept = self.draw::<R, std::convert::Infallible>(|d, r| {
            if let Some(slot) = ranks.get(d) {
                *slot
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = r.to_vec();
            }
            Ok(())
        });
        let ranks: Vec<Vec<R>> = ranks
            .into_iter()
            .map(|m| {
                m.into_inner()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
            })
            .collect();
        let n_city = self.n_city;
        let out = kept.and_then(|()| {
            self.percentiles::<R, std::convert::Infallible>(|k, all| {
                for (d, row) in ranks.iter().enumerate() {
                    if let Some(src) = row.get(k * n_city..(k + 1) * n_city) {
                        all[d * n_city..(d + 1) * n_city].copy_from_slice(src);
                    }
                }
                Ok(())
            })
        });
        match out {
            Ok(iv) => iv,
            Err(never) => match never {},
        }
    }

    /// Every draw's ranks in a temporary file (deleted when closed), read back a node at a
    /// time.
    fn on_file<R: Rank>(&self) -> std::io::Result<Intervals> {
        use std::os::unix::fs::FileExt;
        let file = tempfile::tempfile()?;
        let per_draw = self.n_node * self.n_city;
        let at = |d: usize, k: usize| ((d * per_draw + k * self.n_city) * R::SIZE) as u64;
        self.draw::<R, std::io::Error>(|d, r| {
            let mut bytes = vec![0u8; r.len() * R::SIZE];
            for (x, b) in r.iter().zip(bytes.chunks_mut(R::SIZE)) {
                x.put(b);
            }
            file.write_all_at(&bytes, at(d, 0))
        })?;
        let n_city = self.n_city;
        self.percentiles::<R, std::io::Error>(|k, all| {
            let mut bytes = vec![0u8; n_city * R::SIZE];
            for d in 0..self.plan.len() {
                file.read_exact_at(&mut bytes, at(d, k))?;
                for (x, b) in all[d * n_city..(d + 1) * n_city]
                    .iter_mut()
                    .zip(bytes.chunks(R::SIZE))
                {
                    *x = R::get(b);
                }
            }
            Ok(())
        })
    }
}

/// Wait for every thread; the first failure is returned, a panic goes on as one.
fn join_all<E>(handles: Vec<std::thread::ScopedJoinHandle<'_, Result<(), E>>>) -> Result<(), E> {
    for h in handles {
        match h.join() {
            Ok(r) => r?,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
    Ok(())
}

/// A rank as kept for every draw: two bytes where the cities fit, else four; `NONE` (0) for
/// a city without a score, since ranks start at 1.
trait Rank: Copy + Ord + Send + Sync + Into<f64> + TryFrom<usize> {
    const NONE: Self;
    /// bytes in a file
    const SIZE: usize;
    fn put(self, out: &mut [u8]);
    fn get(b: &[u8]) -> Self;
}
/// Two- and four-byte ranks, little-endian on file.
macro_rules! rank_as {
    ($t:ty) => {
        impl Rank for $t {
            const NONE: Self = 0;
            const SIZE: usize = std::mem::size_of::<$t>();
            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            fn get(b: &[u8]) -> Self {
                let mut a = [0u8; std::mem::size_of::<$t>()];
                a.copy_from_slice(b);
                <$t>::from_le_bytes(a)
            }
        }
    };
}
rank_as!(u16);
rank_as!(u32);

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
    /// `stats::rank_desc`, the ranks' `stats::quantile`s), whatever the threads and whether
    /// the ranks are kept in memory or in a temporary file, with the
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
                intervals_on::<u16>(&c, &tree, mat, &m, draws, threads, usize::MAX),
                want,
                "{threads} threads"
            );
            // the ranks through a temporary file, as for a world of cities
            assert_eq!(
                intervals_on::<u16>(&c, &tree, mat, &m, draws, threads, 0),
                want,
                "{threads} threads, ranks on file"
            );
        }
        assert_eq!(
            intervals_on::<u32>(&c, &tree, mat, &m, draws, 2, usize::MAX),
            want
        );
        assert_eq!(intervals_on::<u32>(&c, &tree, mat, &m, draws, 2, 0), want);
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
