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

/// Ranks, highest value first, ties share the best (smallest) rank ("min" method).
/// Missing values get no rank.
pub fn rank_desc(x: &[Option<f64>]) -> Vec<Option<usize>> {
    let mut idx: Vec<(usize, f64)> = x
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    idx.sort_by(|a, b| b.1.total_cmp(&a.1));
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

/// Percentile rank on [0, 1]: share of the other values that this value beats, ties counting
/// half. Independent of how many values are missing.
pub fn percentile_rank(x: &[Option<f64>]) -> Vec<Option<f64>> {
    let mut present: Vec<f64> = x.iter().flatten().copied().collect();
    present.sort_by(f64::total_cmp);
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let x: Vec<Option<f64>> = (0..500)
            .map(|i| {
                if i % 17 == 0 {
                    None
                } else {
                    Some((r.f64() * 20.0).floor())
                }
            })
            .collect();
        let slow: Vec<Option<usize>> = x
            .iter()
            .map(|v| v.map(|v| 1 + x.iter().filter(|o| matches!(o, Some(o) if *o > v)).count()))
            .collect();
        assert_eq!(rank_desc(&x), slow);
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
