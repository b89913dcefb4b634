//! Small statistics used by scoring and the pipeline. Formulas are in METHODOLOGY.md.

/// Arithmetic mean of the values; None when empty.
pub fn mean(x: &[f64]) -> Option<f64> {
    if x.is_empty() {
        None
    } else {
        Some(x.iter().sum::<f64>() / x.len() as f64)
    }
}

/// Median (mean of the two middle values for an even count).
pub fn median(x: &[f64]) -> Option<f64> {
    if x.is_empty() {
        return None;
    }
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Sample standard deviation (n - 1).
pub fn sd(x: &[f64]) -> Option<f64> {
    let m = mean(x)?;
    if x.len() < 2 {
        return None;
    }
    Some((x.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (x.len() - 1) as f64).sqrt())
}

fn central_moments(x: &[f64]) -> (f64, f64, f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let (mut m2, mut m3, mut m4) = (0.0, 0.0, 0.0);
    for v in x {
        let d = v - m;
        m2 += d * d;
        m3 += d * d * d;
        m4 += d * d * d * d;
    }
    (n, m2 / n, m3 / n, m4 / n)
}

/// Bias-corrected sample skewness (Excel SKEW, e1071 type 2). Needs 3 values.
pub fn skew(x: &[f64]) -> Option<f64> {
    if x.len() < 3 {
        return None;
    }
    let (n, m2, m3, _) = central_moments(x);
    if m2 == 0.0 {
        return Some(0.0);
    }
    let g1 = m3 / m2.powf(1.5);
    Some(g1 * (n * (n - 1.0)).sqrt() / (n - 2.0))
}

/// Bias-corrected sample excess kurtosis (Excel KURT, e1071 type 2). Needs 4 values.
pub fn kurtosis(x: &[f64]) -> Option<f64> {
    if x.len() < 4 {
        return None;
    }
    let (n, m2, _, m4) = central_moments(x);
    if m2 == 0.0 {
        return Some(0.0);
    }
    let g2 = m4 / (m2 * m2) - 3.0;
    Some(((n + 1.0) * g2 + 6.0) * (n - 1.0) / ((n - 2.0) * (n - 3.0)))
}

/// The largest magnitude a value, weight or goalpost may have: far beyond any real
/// indicator, and small enough that sums, products and squares of such numbers stay finite.
pub const MAX_MAGNITUDE: f64 = 1e100;

/// Ranks, highest value first, ties share the best (smallest) rank ("min" method).
/// A missing or non-finite score (NaN, ±infinity) gets no rank.
pub fn rank_desc(x: &[Option<f64>]) -> Vec<Option<usize>> {
    let mut idx: Vec<(usize, f64)> = x
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.filter(|v| v.is_finite()).map(|v| (i, v)))
        .collect();
    // equal values share a rank, so their order among themselves does not matter
    idx.sort_unstable_by(|a, b| b.1.total_cmp(&a.1));
    let mut out = vec![None; x.len()];
    let mut rank = 1;
    for (k, &(i, v)) in idx.iter().enumerate() {
        if k > 0 && idx[k - 1].1 != v {
            rank = k + 1;
        }
        out[i] = Some(rank);
    }
    out
}

/// Ranks as [`rank_desc`], of the values rounded to `decimals` when given (COINr's results
/// tables rank the scores as rounded for display: 6.616 and 6.619 share a rank at 2).
pub fn rank_desc_rounded(x: &[Option<f64>], decimals: Option<i32>) -> Vec<Option<usize>> {
    match decimals {
        None => rank_desc(x),
        Some(d) => {
            let f = 10f64.powi(d);
            let r: Vec<Option<f64>> = x.iter().map(|v| v.map(|x| (x * f).round() / f)).collect();
            rank_desc(&r)
        }
    }
}

/// Percentile rank on [0, 1]: share of the other values that this value beats, ties counting
/// half. Independent of how many values are missing.
pub fn percentile_rank(x: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut present: Vec<f64> = x.iter().flatten().copied().collect();
    present.sort_unstable_by(f64::total_cmp);
    let n = present.len();
    x.iter()
        .map(|v| {
            let v = (*v)?;
            if n < 2 {
                return Some(0.5);
            }
            // values below v, and values equal to v other than v itself
            let below = present.partition_point(|o| *o < v) as f64;
            let equal = (present.partition_point(|o| *o <= v) as f64 - below) - 1.0;
            Some((below + 0.5 * equal) / (n as f64 - 1.0))
        })
        .collect()
}

/// Quantile by linear interpolation (R type 7), q in [0, 1].
pub fn quantile(x: &[f64], q: f64) -> Option<f64> {
    if x.is_empty() {
        return None;
    }
    let mut v = x.to_vec();
    v.sort_by(f64::total_cmp);
    let h = (v.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

/// Today's date (UTC) by the system clock: (year, month, day).
pub fn today() -> (i32, u32, u32) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    civil_from_days((secs / 86_400) as i64)
}

/// Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        (yoe + era * 400 + i64::from(m <= 2)) as i32,
        m as u32,
        d as u32,
    )
}

/// Each data point where a city's score differs from the median of the others, as
/// (score − median, data point, score, median), largest difference first. `scores` holds
/// (city, data point, score); only cities in `peers` (other than `city`) form the median.
pub fn relative_to_peers<'a>(
    scores: impl Iterator<Item = (&'a str, &'a str, f64)>,
    city: &str,
    peers: &dyn Fn(&str) -> bool,
) -> Vec<(f64, &'a str, f64, f64)> {
    let mut per: std::collections::BTreeMap<&'a str, Vec<(&'a str, f64)>> =
        std::collections::BTreeMap::new();
    for (c, dp, s) in scores {
        per.entry(dp).or_default().push((c, s));
    }
    let mut rel: Vec<(f64, &'a str, f64, f64)> = per
        .iter()
        .filter_map(|(dp, l)| {
            let mine = l.iter().find(|(c, _)| *c == city)?.1;
            let others: Vec<f64> = l
                .iter()
                .filter(|(c, _)| *c != city && peers(c))
                .map(|x| x.1)
                .collect();
            let m = median(&others)?;
            Some((mine - m, *dp, mine, m))
        })
        .collect();
    rel.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    rel
}

/// [`relative_to_peers`] of many cities of one network against every other city: each data
/// point's scores are grouped and sorted once, and a city's median of the others is read from
/// the sorted list without its own score (a world of city profiles would otherwise sort every
/// data point's scores once per city). The same results to the last bit.
pub struct PeerMedians {
    /// per data point, in order: each city's score and every score sorted
    per: std::collections::BTreeMap<String, (std::collections::HashMap<String, f64>, Vec<f64>)>,
    /// a city with two scores of one data point: [`relative_to_peers`] itself answers
    scores: Option<Vec<(String, String, f64)>>,
}

impl PeerMedians {
    pub fn new<'s>(scores: impl Iterator<Item = (&'s str, &'s str, f64)>) -> PeerMedians {
        let all: Vec<(&str, &str, f64)> = scores.collect();
        let mut per: std::collections::BTreeMap<
            String,
            (std::collections::HashMap<String, f64>, Vec<f64>),
        > = std::collections::BTreeMap::new();
        let mut twice = false;
        for (c, dp, s) in &all {
            if !per.contains_key(*dp) {
                per.insert(dp.to_string(), Default::default());
            }
            if let Some((mine, sorted)) = per.get_mut(*dp) {
                twice |= mine.insert(c.to_string(), *s).is_some();
                sorted.push(*s);
            }
        }
        for (_, sorted) in per.values_mut() {
            sorted.sort_by(f64::total_cmp);
        }
        let scores = twice.then(|| {
            all.iter()
                .map(|(c, dp, s)| (c.to_string(), dp.to_string(), *s))
                .collect()
        });
        PeerMedians { per, scores }
    }

    /// `city`'s scores against the median of every other city's, as [`relative_to_peers`]
    /// gives them with every city a peer.
    pub fn relative(&self, city: &str) -> Vec<(f64, &str, f64, f64)> {
        if let Some(all) = &self.scores {
            let scores = all.iter().map(|(c, dp, s)| (c.as_str(), dp.as_str(), *s));
            return relative_to_peers(scores, city, &|_| true);
        }
        let mut rel: Vec<(f64, &str, f64, f64)> = self
            .per
            .iter()
            .filter_map(|(dp, (mine, sorted))| {
                let mine = *mine.get(city)?;
                // the others: the sorted scores without one equal to mine
                let skip = sorted.binary_search_by(|x| x.total_cmp(&mine)).ok()?;
                let n = sorted.len() - 1;
                if n == 0 {
                    return None;
                }
                let at = |k: usize| sorted[if k < skip { k } else { k + 1 }];
                let m = if n % 2 == 1 {
                    at(n / 2)
                } else {
                    (at(n / 2 - 1) + at(n / 2)) / 2.0
                };
                Some((mine - m, dp.as_str(), mine, m))
            })
            .collect();
        rel.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
        rel
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every city's strengths from the sorted lists equal [`relative_to_peers`]'s, bit for
    /// bit: odd and even counts, ties, one city alone on a data point, a city without a score.
    #[test]
    fn peer_medians_equal_relative_to_peers_for_every_city() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        let cities: Vec<String> = (0..9).map(|i| format!("c{i}")).collect();
        let dps: Vec<String> = (0..6).map(|i| format!("d{i}")).collect();
        let mut scores: Vec<(&str, &str, f64)> = Vec::new();
        for (j, dp) in dps.iter().enumerate() {
            for (i, c) in cities.iter().enumerate() {
                // d0: one city only; d1: every score tied; others: some cities missing
                let keep = match j {
                    0 => i == 3,
                    1 => true,
                    _ => next() > 0.25,
                };
                if keep {
                    let v = if j == 1 {
                        50.0
                    } else {
                        (next() * 100.0).round() / 4.0
                    };
                    scores.push((c, dp, v));
                }
            }
        }
        let pm = PeerMedians::new(scores.iter().copied());
        for c in &cities {
            let want = relative_to_peers(scores.iter().copied(), c, &|_| true);
            let got = pm.relative(c);
            assert_eq!(want.len(), got.len(), "{c}");
            for (w, g) in want.iter().zip(&got) {
                assert_eq!(w.1, g.1, "{c}");
                assert_eq!(
                    (w.0.to_bits(), w.2.to_bits(), w.3.to_bits()),
                    (g.0.to_bits(), g.2.to_bits(), g.3.to_bits()),
                    "{c} {}",
                    w.1
                );
            }
        }
        assert!(pm.relative("nobody").is_empty());
    }

    #[test]
    fn skew_and_kurtosis_match_excel() {
        // Excel: SKEW(1,2,3,4,10) = 1.69706, KURT(...) = 3.152
        let x = [1.0, 2.0, 3.0, 4.0, 10.0];
        assert!(
            (skew(&x).unwrap() - 1.697_056_274_8).abs() < 1e-9,
            "{:?}",
            skew(&x)
        );
        assert!(
            (kurtosis(&x).unwrap() - 3.152).abs() < 1e-9,
            "{:?}",
            kurtosis(&x)
        );
        assert_eq!(skew(&[1.0, 2.0]), None);
    }

    #[test]
    fn fast_ranks_agree_with_the_definition() {
        let mut r = crate::demo::Rng::new(7);
        // ties, negatives, 0.0 beside -0.0 (equal as floats), and non-finite values
        let x: Vec<Option<f64>> = (0..500)
            .map(|i| match i % 17 {
                0 => None,
                5 => Some(-0.0),
                6 => Some(0.0),
                7 if i % 3 == 0 => Some([f64::NAN, f64::INFINITY, f64::NEG_INFINITY][i % 9 / 3]),
                _ => Some((r.f64() * 20.0 - 10.0).floor()),
            })
            .collect();
        let finite = |v: &Option<f64>| v.filter(|v| v.is_finite());
        let slow: Vec<Option<usize>> = x
            .iter()
            .map(|v| {
                finite(v).map(|v| {
                    1 + x
                        .iter()
                        .filter(|o| matches!(finite(o), Some(o) if o > v))
                        .count()
                })
            })
            .collect();
        assert_eq!(rank_desc(&x), slow);
        let x: Vec<Option<f64>> = x.iter().map(finite).collect();
        let present: Vec<f64> = x.iter().flatten().copied().collect();
        let n = present.len() as f64;
        for (p, v) in percentile_rank(&x).iter().zip(&x) {
            if let (Some(p), Some(v)) = (p, v) {
                let below = present.iter().filter(|o| *o < v).count() as f64;
                let equal = present.iter().filter(|o| *o == v).count() as f64 - 1.0;
                assert!((p - (below + 0.5 * equal) / (n - 1.0)).abs() < 1e-12);
            }
        }
    }

    #[test]
    fn dates_from_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_604), (2026, 5, 31));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn relative_to_peers_orders_strengths_first() {
        let s = [
            ("a", "x", 90.0),
            ("b", "x", 50.0),
            ("c", "x", 70.0),
            ("a", "y", 10.0),
            ("b", "y", 50.0),
        ];
        let r = relative_to_peers(s.iter().copied(), "a", &|_| true);
        assert_eq!(r[0], (30.0, "x", 90.0, 60.0));
        assert_eq!(r[1], (-40.0, "y", 10.0, 50.0));
    }

    #[test]
    fn ranks_share_ties() {
        let r = rank_desc(&[Some(3.0), Some(5.0), Some(3.0), None, Some(1.0)]);
        assert_eq!(r, vec![Some(2), Some(1), Some(2), None, Some(4)]);
    }

    #[test]
    fn percentile_and_quantile() {
        let p = percentile_rank(&[Some(1.0), Some(2.0), Some(3.0), None]);
        assert_eq!(p, vec![Some(0.0), Some(0.5), Some(1.0), None]);
        assert_eq!(quantile(&[1.0, 2.0, 3.0, 4.0], 0.5), Some(2.5));
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
    }
}
