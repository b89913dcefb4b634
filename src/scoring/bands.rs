//! Official U4SSC scoring: percentage of target achieved, 1-4 points, and group scores as
//! points / (4 x scored items), banded the same way. The rules ITU did not publish (lower-is-
//! better, zero targets, band edges, capping, yes/no, parity) are the project's, documented in
//! METHODOLOGY.md and tested here.

use crate::catalog::{DataPoint, Direction, UnitKind};

/// Band labels as U4SSC city snapshots print them, best first.
pub const BAND_LABELS: [&str; 4] = [
    "Less than 33% of Target",
    "33-66% of Target",
    "66-95% of Target",
    "95%+ Target",
];

/// Percent of target achieved, uncapped; None when the data point has no target.
pub fn achievement(dp: &DataPoint, value: f64) -> Option<f64> {
    let t = &dp.target;
    if dp.unit_kind == UnitKind::YesNo {
        // yes meets the target, no does not
        return t.value.map(|_| if value >= 0.5 { 100.0 } else { 0.0 });
    }
    match dp.direction {
        Direction::None => None,
        Direction::HigherBetter => {
            let target = t.value?;
            if target <= 0.0 {
                return Some(if value >= target { 100.0 } else { 0.0 });
            }
            Some((value / target * 100.0).max(0.0))
        }
        Direction::LowerBetter => {
            let target = t.value?;
            if target > 0.0 {
                if value <= 0.0 {
                    return Some(100.0);
                }
                Some(target / value * 100.0)
            } else {
                // zero target (e.g. traffic deaths): the distance from the worst plausible
                // value, so that one death does not score 0 %
                let worst = dp.plausible[1];
                if worst <= target {
                    return Some(if value <= target { 100.0 } else { 0.0 });
                }
                Some(((worst - value) / (worst - target) * 100.0).max(0.0))
            }
        }
        Direction::TargetBand => {
            let [lo, hi] = t.band?;
            Some(if value < lo {
                (value / lo * 100.0).max(0.0)
            } else if value > hi {
                if value > 0.0 {
                    hi / value * 100.0
                } else {
                    100.0
                }
            } else {
                100.0
            })
        }
    }
}

/// How far below a band edge a percentage may fall through floating point and still count as
/// on it: `52.8 / 80 * 100` is 65.99999999999999, not 66.
const EDGE_TOLERANCE: f64 = 1e-9;

/// Points for a percentage: half-open bands [0,33) -> 1, [33,66) -> 2, [66,95) -> 3, >=95 -> 4.
/// A value exactly on an edge (as a decimal) lands in the upper band, whatever rounding the
/// division left (within [`EDGE_TOLERANCE`] percentage points).
pub fn points(achievement_pct: f64) -> u8 {
    let a = achievement_pct.min(100.0) + EDGE_TOLERANCE;
    if a >= 95.0 {
        4
    } else if a >= 66.0 {
        3
    } else if a >= 33.0 {
        2
    } else {
        1
    }
}

/// A group's score: (percentage, band points) from the sum of its scored items' points
/// and their number; None if no item scored.
pub fn group_score_of(sum: u32, n: usize) -> Option<(f64, u8)> {
    if n == 0 {
        return None;
    }
    let pct = f64::from(sum) / (4.0 * n as f64) * 100.0;
    Some((pct, points(pct)))
}

pub fn band_label(points: u8) -> &'static str {
    BAND_LABELS[usize::from(points.clamp(1, 4)) - 1]
}

/// A glyph per band, so that no reader depends on colour.
pub fn band_glyph(points: u8) -> &'static str {
    match points {
        4 => "●",
        3 => "◕",
        2 => "◑",
        _ => "○",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn dp(id: &str) -> DataPoint {
        Catalog::embedded().unwrap().get(id).unwrap().clone()
    }

    /// A group's score: (percentage, band points) from its items' points; None if no item scored.
    fn group_score(item_points: &[u8]) -> Option<(f64, u8)> {
        group_score_of(
            item_points.iter().map(|&p| u32::from(p)).sum(),
            item_points.len(),
        )
    }

    #[test]
    fn published_worked_examples() {
        // Kristiansund 2020 p12: 4 Education KPIs score 1+3+4+1 = 9 -> 9/16 = 56.25 % -> 33-66 %
        let (pct, band) = group_score(&[1, 3, 4, 1]).unwrap();
        assert_eq!(pct, 56.25);
        assert_eq!(band_label(band), "33-66% of Target");
        // only 3 reported: 3+4+2 = 9 -> 9/12 = 75 % -> 66-95 %
        let (pct, band) = group_score(&[3, 4, 2]).unwrap();
        assert_eq!(pct, 75.0);
        assert_eq!(band_label(band), "66-95% of Target");
        assert_eq!(group_score(&[]), None);
    }

    #[test]
    fn band_edges_are_half_open() {
        assert_eq!(points(32.999), 1);
        assert_eq!(points(33.0), 2);
        assert_eq!(points(66.0), 3);
        assert_eq!(points(94.999), 3);
        assert_eq!(points(95.0), 4);
        assert_eq!(points(250.0), 4);
    }

    /// Values exactly at 33, 66 and 95 % of their target score the upper band, although the
    /// division lands a hair below the edge (52.8 / 80 * 100 = 65.99999999999999).
    #[test]
    fn exact_decimal_edges_land_in_the_upper_band() {
        let mut d = dp("ec-ict-ict-1c");
        d.target.value = Some(80.0);
        assert_eq!(points(achievement(&d, 52.8).unwrap()), 3);
        assert_eq!(points(achievement(&d, 76.0).unwrap()), 4);
        assert_eq!(points(achievement(&d, 26.4).unwrap()), 2);
        d.target.value = Some(10.0);
        for (v, want) in [
            (3.3, 2),
            (6.6, 3),
            (9.5, 4),
            (3.29, 1),
            (6.59, 2),
            (9.49, 3),
        ] {
            assert_eq!(points(achievement(&d, v).unwrap()), want, "{v} of 10");
        }
        // lower is better: target 33, value 100 -> 33 %; target 66, value 100 -> 66 %
        let mut l = dp("en-en-aq-1c-pm2-5");
        for (t, want) in [(33.0, 2), (66.0, 3), (95.0, 4)] {
            l.target.value = Some(t);
            assert_eq!(points(achievement(&l, 100.0).unwrap()), want, "target {t}");
        }
        // group scores at the edges: 33 % is not reachable from quarter points, 66 % neither,
        // but 95 % of 20 items (76 of 80 points) is
        assert_eq!(group_score_of(76, 20), Some((95.0, 4)));
    }

    #[test]
    fn higher_better_is_value_over_target() {
        let d = dp("ec-ict-ict-1c"); // target 100 %
        assert_eq!(achievement(&d, 80.0), Some(80.0));
        assert_eq!(points(achievement(&d, 80.0).unwrap()), 3);
    }

    #[test]
    fn lower_better_is_target_over_value_and_above_target_caps_for_bands() {
        let d = dp("en-en-aq-1c-pm2-5"); // WHO 5 ug/m3
        assert_eq!(achievement(&d, 10.0), Some(50.0));
        assert_eq!(achievement(&d, 2.5), Some(200.0));
        assert_eq!(points(200.0), 4);
        assert_eq!(achievement(&d, 0.0), Some(100.0));
    }

    #[test]
    fn zero_target_uses_the_worst_plausible_value_as_bound() {
        let d = dp("sc-sh-sa-9c"); // traffic deaths, target 0, plausible up to 10
        assert_eq!(achievement(&d, 0.0), Some(100.0));
        assert_eq!(achievement(&d, 2.0), Some(80.0));
        assert_eq!(achievement(&d, 50.0), Some(0.0));
    }

    #[test]
    fn parity_band_and_yes_no() {
        let d = dp("sc-sh-si-1c"); // band 0.95-1.05
        assert_eq!(achievement(&d, 1.0), Some(100.0));
        assert!((achievement(&d, 0.855).unwrap() - 90.0).abs() < 1e-9);
        assert!((achievement(&d, 1.4).unwrap() - 75.0).abs() < 1e-9);
        let y = dp("ec-i-up-2a-compact");
        assert_eq!(achievement(&y, 1.0), Some(100.0));
        assert_eq!(achievement(&y, 0.0), Some(0.0));
    }

    #[test]
    fn no_target_no_score() {
        assert_eq!(achievement(&dp("ec-ict-ps-2a"), 246.0), None);
    }
}
