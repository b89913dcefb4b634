//! Trends: compound annual growth and progress towards the target by the target's year (2030
//! unless the catalog says otherwise; Open SDG / Statistics Canada method), per city and data
//! point.

use crate::catalog::{DataPoint, Direction};
use serde::Serialize;

/// The year a target is for when the catalog names none.
pub const TARGET_YEAR: i32 = 2030;

/// The year a data point's target is to be met.
pub fn target_year(dp: &DataPoint) -> i32 {
    dp.target.year.unwrap_or(TARGET_YEAR)
}

#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub city: String,
    pub data_point: String,
    pub first_year: i32,
    pub last_year: i32,
    pub first_value: f64,
    pub last_value: f64,
    /// observed growth a year, direction applied (positive = better)
    pub cagr: Option<f64>,
    pub required_cagr: Option<f64>,
    pub ratio: Option<f64>,
    pub category: &'static str,
    pub reason: String,
}

fn cagr(y0: f64, y1: f64, years: f64) -> f64 {
    (y1 / y0).powf(1.0 / years) - 1.0
}

/// Assess one series of (year, value), sorted or not. Needs two years or more.
pub fn assess(city: &str, dp: &DataPoint, series: &[(i32, f64)]) -> Option<Trend> {
    let mut s: Vec<(i32, f64)> = series.to_vec();
    s.sort_by_key(|p| p.0);
    let (&(t0, raw0), &(t1, raw1)) = (s.first()?, s.last()?);
    let mut t = Trend {
        city: city.into(),
        data_point: dp.id.clone(),
        first_year: t0,
        last_year: t1,
        first_value: raw0,
        last_value: raw1,
        cagr: None,
        required_cagr: None,
        ratio: None,
        category: "cannot assess",
        reason: String::new(),
    };
    if s.len() < 2 || t1 == t0 {
        t.reason = "needs values for two or more years".into();
        return Some(t);
    }
    if dp.direction == Direction::None {
        t.reason = "no direction: a change is neither better nor worse in itself".into();
        return Some(t);
    }
    if dp.direction == Direction::TargetBand {
        // parity: distance from parity, max(y, 1/y), lower is better
        let p = |y: f64| if y > 0.0 { y.max(1.0 / y) } else { f64::NAN };
        let (a, b) = (p(raw0), p(raw1));
        if !a.is_finite() || !b.is_finite() {
            t.reason = "parity values must be positive".into();
            return Some(t);
        }
        let g = -cagr(a, b, f64::from(t1 - t0));
        t.cagr = Some(g);
        if let Some([lo, hi]) = dp.target.band {
            if (lo..=hi).contains(&raw1) {
                t.category = "target achieved";
                return Some(t);
            }
            // required growth from the base year, as for every other indicator
            let req = -cagr(a, 1.0, f64::from((target_year(dp) - t0).max(1)));
            return Some(with_ratio(t, g, req));
        }
        return Some(no_target(t, g));
    }
    if raw0.signum() != raw1.signum() && raw0 != 0.0 && raw1 != 0.0 {
        t.reason = "the values change sign".into();
        return Some(t);
    }
    if raw0 < 0.0 || raw1 < 0.0 {
        t.reason = "growth rates need positive values".into();
        return Some(t);
    }
    let fix = |v: f64| if v == 0.0 { 0.001 } else { v };
    let (y0, y1) = (fix(raw0), fix(raw1));
    let sign = if dp.direction == Direction::LowerBetter {
        -1.0
    } else {
        1.0
    };
    let g = sign * cagr(y0, y1, f64::from(t1 - t0));
    t.cagr = Some(g);
    let Some(target) = dp.target.value else {
        return Some(no_target(t, g));
    };
    let met = match dp.direction {
        Direction::LowerBetter => raw1 <= target,
        _ => raw1 >= target,
    };
    if met {
        t.category = "target achieved";
        return Some(t);
    }
    let years_left = f64::from((target_year(dp) - t0).max(1));
    let req = sign * cagr(y0, fix(target), years_left);
    Some(with_ratio(t, g, req))
}

/// The category of a series that has not met its target in its last year, from the observed
/// growth `g` and the growth `req` the base year needed to reach the target by 2030.
fn with_ratio(mut t: Trend, g: f64, req: f64) -> Trend {
    t.required_cagr = Some(req);
    if req <= 0.0 {
        // the base year already met the target (no growth was needed), yet the last year
        // misses it: the series moved away from a target it once met (Open SDG counts a
        // series moving away from its target as deterioration); never "target achieved"
        t.category = "deteriorating";
        t.reason = format!(
            "met the target in {} but not in {}: moving away from it",
            t.first_year, t.last_year
        );
        return t;
    }
    let r = g / req;
    t.ratio = Some(r);
    t.category = if r >= 0.95 {
        "on track"
    } else if r >= 0.60 {
        "moderate progress"
    } else if r >= 0.0 {
        "limited progress"
    } else {
        "deteriorating"
    };
    t
}

fn no_target(mut t: Trend, g: f64) -> Trend {
    t.category = if g >= 0.015 {
        "on track"
    } else if g >= 0.005 {
        "moderate progress"
    } else if g >= 0.0 {
        "limited progress"
    } else {
        "deteriorating"
    };
    t.reason = "no target: fixed growth thresholds (1.5 % / 0.5 % / 0 a year)".into();
    t
}

/// The static name of a stored category.
pub fn category_static(s: &str) -> &'static str {
    ASSESSED
        .into_iter()
        .find(|c| *c == s)
        .unwrap_or(CANNOT_ASSESS)
}

/// The categories of a trend that could be assessed, best first.
pub const ASSESSED: [&str; 5] = [
    "target achieved",
    "on track",
    "moderate progress",
    "limited progress",
    "deteriorating",
];
/// The category of a trend that could not be assessed.
pub const CANNOT_ASSESS: &str = "cannot assess";

/// Arrow for a trend category (glyph, so colour is never needed).
pub fn arrow(category: &str) -> &'static str {
    match category {
        "target achieved" | "on track" => "↑",
        "moderate progress" => "↗",
        "limited progress" => "→",
        "deteriorating" => "↓",
        _ => "·",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn dp(id: &str) -> DataPoint {
        Catalog::embedded().unwrap().get(id).unwrap().clone()
    }

    #[test]
    fn on_track_when_growth_meets_the_required_rate() {
        // internet access 80 -> 90 over 2020-2024 (target 100 by 2030)
        let t = assess("x", &dp("ec-ict-ict-1c"), &[(2020, 80.0), (2024, 90.0)]).unwrap();
        let g = (90f64 / 80.0).powf(0.25) - 1.0;
        let req = (100f64 / 80.0).powf(0.1) - 1.0;
        assert!((t.cagr.unwrap() - g).abs() < 1e-12);
        assert!((t.required_cagr.unwrap() - req).abs() < 1e-12);
        assert_eq!(t.category, "on track");
    }

    #[test]
    fn lower_is_better_and_deterioration() {
        // PM2.5 rising from 8 to 10: getting worse
        let t = assess("x", &dp("en-en-aq-1c-pm2-5"), &[(2020, 8.0), (2023, 10.0)]).unwrap();
        assert!(t.cagr.unwrap() < 0.0);
        assert_eq!(t.category, "deteriorating");
        // falling slowly: limited progress
        let t = assess("x", &dp("en-en-aq-1c-pm2-5"), &[(2020, 10.0), (2023, 9.8)]).unwrap();
        assert_eq!(t.category, "limited progress");
    }

    #[test]
    fn target_met_and_cannot_assess() {
        assert_eq!(
            assess("x", &dp("ec-ict-ict-1c"), &[(2020, 96.0), (2024, 100.0)])
                .unwrap()
                .category,
            "target achieved"
        );
        let one = assess("x", &dp("ec-ict-ict-1c"), &[(2024, 90.0)]).unwrap();
        assert_eq!(one.category, "cannot assess");
        assert!(one.reason.contains("two or more years"));
    }

    #[test]
    fn without_target_fixed_thresholds() {
        let t = assess("x", &dp("ec-ict-ps-2a"), &[(2020, 100.0), (2022, 110.0)]).unwrap();
        assert_eq!(t.category, "on track");
        assert!(t.reason.contains("no target"));
    }

    /// A series that met its target in the base year and misses it now is moving away from
    /// it: "deteriorating", never "target achieved" (which the required growth, ≤ 0 from such
    /// a base year, once produced).
    #[test]
    fn a_target_met_once_and_missed_now_is_deterioration() {
        // physicians 420 -> 390 per 100 000 with a target of 400
        let mut hb = dp("ec-ict-ict-1c");
        hb.target.value = Some(400.0);
        let t = assess("x", &hb, &[(2019, 420.0), (2024, 390.0)]).unwrap();
        assert_eq!(t.category, "deteriorating", "{t:?}");
        assert!(t.reason.contains("met the target in 2019 but not in 2024"));
        // unemployment 4 -> 6 % with a target of 5 (lower is better)
        let mut lb = dp("en-en-aq-1c-pm2-5");
        lb.target.value = Some(5.0);
        let t = assess("x", &lb, &[(2019, 4.0), (2024, 6.0)]).unwrap();
        assert_eq!(t.category, "deteriorating", "{t:?}");
        // exactly at the target in the base year, below it now
        let t = assess("x", &hb, &[(2019, 400.0), (2024, 399.0)]).unwrap();
        assert_eq!(t.category, "deteriorating", "{t:?}");
    }

    /// Parity series take their required growth from the base year, like every other series.
    #[test]
    fn parity_required_growth_runs_from_the_base_year() {
        let d = dp("sc-sh-si-1c"); // band 0.95-1.05
        let t = assess("x", &d, &[(2018, 0.80), (2024, 0.85)]).unwrap();
        let a = 1.0 / 0.80;
        let req = -((1.0f64 / a).powf(1.0 / 12.0) - 1.0);
        assert!((t.required_cagr.unwrap() - req).abs() < 1e-12, "{t:?}");
        assert_ne!(t.category, "target achieved");
        // inside the band in the last year: achieved
        let t = assess("x", &d, &[(2018, 0.80), (2024, 0.97)]).unwrap();
        assert_eq!(t.category, "target achieved");
    }

    /// A long-horizon target (GHG, 1 t CO2e per capita by 2050) measures the growth needed by
    /// its own year, not by 2030.
    #[test]
    fn required_growth_runs_to_the_target_year() {
        let d = dp("en-en-aq-2c");
        assert_eq!(d.target.year, Some(2050));
        let t = assess("x", &d, &[(2019, 4.0), (2024, 3.6)]).unwrap();
        let req = -((1.0f64 / 4.0).powf(1.0 / 31.0) - 1.0);
        assert!((t.required_cagr.unwrap() - req).abs() < 1e-12, "{t:?}");
        // a data point with no year in the catalog reads as 2030
        let mut e = dp("ec-ict-ict-1c");
        e.target.year = None;
        assert_eq!(target_year(&e), 2030);
    }

    /// A data point without a direction gets no trend label, only its growth's absence of
    /// judgement: "cannot assess" with the reason.
    #[test]
    fn no_direction_no_trend_label() {
        let d = dp("ec-p-em-3a");
        assert_eq!(d.direction, Direction::None);
        let t = assess("x", &d, &[(2019, 5.0), (2024, 9.0)]).unwrap();
        assert_eq!(t.category, "cannot assess");
        assert!(t.reason.contains("no direction"), "{t:?}");
    }
}
