//! The steps every scoring path shares, one implementation each: imputation, outlier
//! treatment, the normalisation kernels and the weighted means. The U4SSC engine
//! (`scoring::engine`) and the COINr stage runner (`pipeline`) both call these; neither has a
//! copy of its own. Where the two once differed, COINr's documented behaviour was taken
//! (METHODOLOGY.md says where and why).

use crate::stats;
use serde::{Deserialize, Serialize};

// ---------------------------------------------------------------- aggregate

/// How a node combines its children (a method's choice, or a per-node override).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    #[default]
    Arithmetic,
    Geometric,
    Harmonic,
}

impl Aggregation {
    pub fn as_str(self) -> &'static str {
        match self {
            Aggregation::Arithmetic => "arithmetic",
            Aggregation::Geometric => "geometric",
            Aggregation::Harmonic => "harmonic",
        }
    }
}

/// Weighted mean of (value, weight) pairs, COINr's `a_amean`, `a_gmean`, `a_hmean`: weights
/// relative (divided by their sum); the geometric and harmonic means need every value above
/// zero and give no mean otherwise (COINr stops there; normalise onto [1, 100] first). No
/// pairs, or weights summing to zero: no mean.
pub fn weighted_mean(pairs: &[(f64, f64)], m: Aggregation) -> Option<f64> {
    let wsum: f64 = pairs.iter().map(|p| p.1).sum();
    if pairs.is_empty() || wsum <= 0.0 {
        return None;
    }
    Some(match m {
        Aggregation::Arithmetic => pairs.iter().map(|(x, w)| x * w).sum::<f64>() / wsum,
        Aggregation::Geometric => {
            if pairs.iter().any(|(x, _)| *x <= 0.0) {
                return None;
            }
            (pairs.iter().map(|(x, w)| w * x.ln()).sum::<f64>() / wsum).exp()
        }
        Aggregation::Harmonic => {
            if pairs.iter().any(|(x, _)| *x <= 0.0) {
                return None;
            }
            wsum / pairs.iter().map(|(x, w)| w / x).sum::<f64>()
        }
    })
}

// ---------------------------------------------------------------- impute

/// The statistic an imputed value takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Mean,
    Median,
}

/// The values to impute a column's missing cells with: for each missing cell `i`, the mean or
/// median of the reported values of the units in its pool. With `groups`, the pool is the
/// units of the same group (COINr's `indgroup_mean`/`indgroup_median`); a unit without a
/// group, or whose group has no value, takes the whole column when `fall_back` is set and is
/// left missing otherwise (COINr leaves it). Without `groups`, the pool is the whole column.
pub fn impute_column(
    col: &[Option<f64>],
    groups: Option<&[Option<String>]>,
    stat: Stat,
    fall_back: bool,
) -> Vec<(usize, f64)> {
    let of = |pool: &[f64]| match stat {
        Stat::Mean => stats::mean(pool),
        Stat::Median => stats::median(pool),
    };
    let all: Vec<f64> = col.iter().flatten().copied().collect();
    let whole = of(&all);
    let mut out = Vec::new();
    for i in (0..col.len()).filter(|&i| col[i].is_none()) {
        let v = match groups {
            None => whole,
            Some(g) => {
                let pool: Vec<f64> = match &g[i] {
                    Some(k) => (0..col.len())
                        .filter(|&o| g[o].as_ref() == Some(k))
                        .filter_map(|o| col[o])
                        .collect(),
                    None => Vec::new(),
                };
                match of(&pool) {
                    Some(v) => Some(v),
                    None if fall_back => whole,
                    None => None,
                }
            }
        };
        if let Some(v) = v {
            out.push((i, v));
        }
    }
    out
}

// ---------------------------------------------------------------- treat

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TreatMethod {
    #[default]
    None,
    Coinr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Treat {
    pub method: TreatMethod,
    pub winmax: usize,
    pub skew: f64,
    pub kurtosis: f64,
}
impl Default for Treat {
    fn default() -> Self {
        Treat {
            method: TreatMethod::None,
            winmax: 5,
            skew: 2.0,
            kurtosis: 3.5,
        }
    }
}

impl Treat {
    /// COINr's default treatment (`Treat()`: winmax 5, |skew| 2, kurtosis 3.5).
    pub fn coinr() -> Treat {
        Treat {
            method: TreatMethod::Coinr,
            ..Treat::default()
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct TreatReport {
    pub column: String,
    pub low: usize,
    pub high: usize,
    pub log: bool,
    /// Cells changed: (unit index, "high" / "low" / "log")
    pub changed: Vec<(usize, &'static str)>,
}

pub(crate) fn passes(x: &[f64], t: &Treat) -> bool {
    match (stats::skew(x), stats::kurtosis(x)) {
        (Some(s), Some(k)) => s.abs() < t.skew || k < t.kurtosis,
        _ => true,
    }
}

/// COINr outlier treatment of one column (missing values left as they are).
pub fn treat_column(col: &[Option<f64>], t: &Treat) -> (Vec<Option<f64>>, TreatReport) {
    let idx: Vec<usize> = (0..col.len()).filter(|&i| col[i].is_some()).collect();
    let mut x: Vec<f64> = idx.iter().filter_map(|&i| col[i]).collect();
    let mut rep = TreatReport::default();
    if t.method == TreatMethod::None || passes(&x, t) {
        return (col.to_vec(), rep);
    }
    let mut side = vec![None::<&'static str>; x.len()];
    while !passes(&x, t) && side.iter().filter(|s| s.is_some()).count() < t.winmax {
        let skew = stats::skew(&x).unwrap_or(0.0);
        let high = skew >= 0.0;
        let extreme = if high {
            x.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        } else {
            x.iter().copied().fold(f64::INFINITY, f64::min)
        };
        let others = x.iter().copied().filter(|v| *v != extreme);
        let next = if high {
            others.fold(f64::NEG_INFINITY, f64::max)
        } else {
            others.fold(f64::INFINITY, f64::min)
        };
        if !next.is_finite() {
            break; // all values equal
        }
        for (v, s) in x.iter_mut().zip(side.iter_mut()) {
            if *v == extreme {
                *v = next;
                *s = Some(if high { "high" } else { "low" });
            }
        }
    }
    let mut out = col.to_vec();
    if passes(&x, t) {
        for (k, &i) in idx.iter().enumerate() {
            out[i] = Some(x[k]);
            if let Some(s) = side[k] {
                rep.changed.push((i, s));
                if s == "high" {
                    rep.high += 1
                } else {
                    rep.low += 1
                }
            }
        }
    } else {
        // winsorising could not pass: log transform of the untreated values
        let orig: Vec<f64> = idx.iter().filter_map(|&i| col[i]).collect();
        let skew = stats::skew(&orig).unwrap_or(0.0);
        let (mn, mx) = min_max(&orig);
        for &i in &idx {
            let v = col[i].unwrap_or(0.0);
            out[i] = Some(if skew >= 0.0 {
                (v - mn + 0.01 * (mx - mn)).ln()
            } else {
                -((mx - v + 0.01 * (mx - mn)).ln())
            });
            rep.changed.push((i, "log"));
        }
        rep.log = true;
    }
    (out, rep)
}

// ---------------------------------------------------------------- normalise

fn min_max(x: &[f64]) -> (f64, f64) {
    x.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        })
}

/// A normalisation of one column of *directed* values (higher is better: the value times
/// its direction, or a distance to a band), across the units of a year.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kernel {
    /// `(d − min d) / (max d − min d)` onto [lower, upper]; the middle when all are equal
    /// (COINr `n_minmax`).
    Minmax { lower: f64, upper: f64 },
    /// `(d − mean d) / sd d · sd + mean`, sample sd; `mean` when sd is 0 (COINr `n_zscore`).
    Zscore { mean: f64, sd: f64 },
    /// `(#below + ½ #tied) / (n − 1)` onto [lower, upper] (COINr `n_prank`).
    PercentileRank { lower: f64, upper: f64 },
    /// Ascending rank, ties sharing the lowest: the best gets the highest (COINr `n_rank`).
    Rank,
    /// Kommunebarometer grade: `3.5 + 2.5 (d − mean d) / max |d − mean d|`, clipped to [1, 6].
    Grade,
    /// `(d − min d) / (target − min d)` onto [lower, upper], capped at the upper end when
    /// `cap` (COINr `n_dist2targ`); a target at or below every value has been reached by all
    /// (1, where COINr's formula divides by zero or goes negative). No target: no score.
    DistanceToTarget {
        target: Option<f64>,
        lower: f64,
        upper: f64,
        cap: bool,
    },
}

/// Normalise a column of directed values. Returns the scores and which cells were capped.
pub fn normalise_directed(d: &[Option<f64>], k: Kernel) -> (Vec<Option<f64>>, Vec<bool>) {
    let mut capped = vec![false; d.len()];
    let present: Vec<f64> = d.iter().flatten().copied().collect();
    let (mn, mx) = min_max(&present);
    let out = match k {
        Kernel::Minmax { lower, upper } => d
            .iter()
            .map(|v| {
                v.map(|x| {
                    if mx > mn {
                        (x - mn) / (mx - mn) * (upper - lower) + lower
                    } else {
                        (upper + lower) / 2.0
                    }
                })
            })
            .collect(),
        Kernel::Zscore { mean, sd } => {
            let m = stats::mean(&present).unwrap_or(0.0);
            let s = stats::sd(&present).unwrap_or(0.0);
            d.iter()
                .map(|v| {
                    v.map(|x| {
                        if s > 0.0 {
                            (x - m) / s * sd + mean
                        } else {
                            mean
                        }
                    })
                })
                .collect()
        }
        Kernel::PercentileRank { lower, upper } => stats::percentile_rank(d)
            .into_iter()
            .map(|p| p.map(|p| p * (upper - lower) + lower))
            .collect(),
        Kernel::Rank => {
            // ascending ranks of d are descending ranks of -d
            let neg: Vec<Option<f64>> = d.iter().map(|v| v.map(|x| -x)).collect();
            stats::rank_desc(&neg)
                .into_iter()
                .map(|r| r.map(|r| r as f64))
                .collect()
        }
        Kernel::Grade => {
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
        Kernel::DistanceToTarget {
            target,
            lower,
            upper,
            cap,
        } => match target {
            None => vec![None; d.len()],
            Some(t) => d
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    v.map(|x| {
                        let s = if t > mn { (x - mn) / (t - mn) } else { 1.0 };
                        let s = if cap && s > 1.0 {
                            capped[i] = true;
                            1.0
                        } else {
                            s
                        };
                        s * (upper - lower) + lower
                    })
                })
                .collect(),
        },
    };
    (out, capped)
}

/// The share of the way from `worst` to `best` (goalposts): 0 at worst, 1 at best, in either
/// direction, unclipped (COINr `n_goalposts` before its truncation). Equal goalposts: 1 when
/// the value reaches them in the better direction, else 0.
pub fn goalpost_share(x: f64, worst: f64, best: f64, higher_better: bool) -> f64 {
    if best == worst {
        if (higher_better && x >= best) || (!higher_better && x <= best) {
            1.0
        } else {
            0.0
        }
    } else {
        (x - worst) / (best - worst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometric_and_harmonic_means_need_values_above_zero() {
        let p = [(4.0, 1.0), (9.0, 1.0)];
        assert!((weighted_mean(&p, Aggregation::Geometric).unwrap() - 6.0).abs() < 1e-12);
        assert!((weighted_mean(&p, Aggregation::Harmonic).unwrap() - 72.0 / 13.0).abs() < 1e-12);
        assert_eq!(
            weighted_mean(&[(0.0, 1.0), (9.0, 1.0)], Aggregation::Geometric),
            None
        );
        assert_eq!(weighted_mean(&[(-1.0, 1.0)], Aggregation::Harmonic), None);
        // weights relative: 3:1
        let w = weighted_mean(&[(10.0, 3.0), (20.0, 1.0)], Aggregation::Arithmetic).unwrap();
        assert!((w - 12.5).abs() < 1e-12);
        assert_eq!(weighted_mean(&[(1.0, 0.0)], Aggregation::Arithmetic), None);
    }

    #[test]
    fn imputation_pools_by_group_and_falls_back_only_when_asked() {
        let col = [Some(1.0), None, Some(5.0), None, Some(9.0)];
        let g: Vec<Option<String>> = ["a", "a", "b", "c", "b"]
            .iter()
            .map(|s| Some(s.to_string()))
            .collect();
        // unit 1 takes group a's value; unit 3's group c has none
        assert_eq!(
            impute_column(&col, Some(&g), Stat::Median, false),
            [(1, 1.0)]
        );
        assert_eq!(
            impute_column(&col, Some(&g), Stat::Median, true),
            [(1, 1.0), (3, 5.0)]
        );
        assert_eq!(
            impute_column(&col, None, Stat::Mean, false),
            [(1, 5.0), (3, 5.0)]
        );
    }

    #[test]
    fn distance_to_target_of_a_target_everyone_passed_is_reached() {
        let d = [Some(5.0), Some(7.0)];
        let k = |t| Kernel::DistanceToTarget {
            target: Some(t),
            lower: 0.0,
            upper: 100.0,
            cap: true,
        };
        let (s, capped) = normalise_directed(&d, k(6.0));
        assert_eq!(s, [Some(0.0), Some(100.0)]);
        assert_eq!(capped, [false, true]);
        // at or below the worst value: everyone has reached it
        assert_eq!(normalise_directed(&d, k(5.0)).0, [Some(100.0), Some(100.0)]);
        assert_eq!(normalise_directed(&d, k(1.0)).0, [Some(100.0), Some(100.0)]);
    }
}
