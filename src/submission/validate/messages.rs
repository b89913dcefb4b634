//! The messages of the value checks (former numbers, implausible values, jumps, peer outliers, missing core data points) and the small tests they rest on.

use super::*;

/// Whether a submitted unit says the same as the catalog's (every spelling of the same
/// unit is accepted; see [`super::units`]).
pub fn unit_matches(given: &str, dp: &DataPoint) -> bool {
    super::super::units::unit_matches(given, dp)
}

/// Whether a unit reads as the catalog unit mistyped: every word of it is one of the catalog
/// unit's words or within two edits of one (`minuets`, `Servics`).
pub(crate) fn unit_typo(given: &str, catalog_unit: &str) -> bool {
    let fold = crate::text::fold;
    let words: Vec<String> = fold(catalog_unit).split(' ').map(str::to_string).collect();
    let given = fold(given);
    !given.is_empty()
        && given.split(' ').all(|g| {
            words.iter().any(|w| {
                w == g || (g.chars().count() >= 4 && crate::catalog::edit_distance(g, w) <= 2)
            })
        })
}

/// Text that a spreadsheet would run as a formula when the file is opened.
pub fn looks_like_formula(s: &str) -> bool {
    let t = s.trim_start();
    match t.chars().next() {
        Some('=') | Some('@') => true,
        // "+cmd|..." runs as a formula; "-5" and "- see note" do not
        Some('+') => t
            .chars()
            .nth(1)
            .map(|c| c.is_alphabetic() || c == '(' || c == '=')
            .unwrap_or(false),
        _ => false,
    }
}

pub(crate) fn close(a: f64, b: f64) -> bool {
    let diff = (a - b).abs();
    diff <= 0.01 || diff <= 0.005 * a.abs().max(b.abs())
}

/// Validate a table. Returns every finding; observations are only meaningful when there
/// are no errors.
/// A quality cell (trimmed, not empty) as one of the six levels: by number 1-6 or by name.
pub fn quality_level(text: &str) -> Option<&'static str> {
    match text.parse::<usize>() {
        Ok(n) => (1..=6).contains(&n).then(|| QUALITY_LEVELS[n - 1]),
        Err(_) => {
            let q = text.to_lowercase();
            QUALITY_LEVELS
                .iter()
                .zip(QUALITY_LEVELS_NB)
                .find(|(en, nb)| **en == q || **nb == q)
                .map(|(en, _)| *en)
        }
    }
}

/// A `verified` cell (trimmed, not empty): yes/no in English or Norwegian, or 1/0.
pub fn verified(text: &str) -> Option<bool> {
    yes_no(&text.to_lowercase()).or(match text {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    })
}

/// The warning for a city named by its number from before the 2024 municipal reform.
pub fn former_number_message(text: &str, c: &crate::registry::City) -> String {
    format!(
        "{} is {}'s municipality number before the reform; {} is used from 2024",
        shown(text),
        c.name,
        c.municipality_number
    )
}

/// The warning for a possible but unlikely value.
pub fn implausible_message(v: f64, dp: &DataPoint) -> String {
    let [lo, hi] = dp.plausible;
    format!(
        "{v} is outside the plausible range {lo}-{hi} {} for {}; check it",
        dp.unit,
        dp.label()
    )
}

/// The warning for a value that moved by more than `factor` times from the latest earlier
/// year `py` (value `pv`), or None when the move is ordinary.
pub fn jump_message(v: f64, py: i32, pv: f64, dp: &DataPoint, factor: f64) -> Option<String> {
    if pv == 0.0 || v == 0.0 || pv.signum() != v.signum() {
        return None;
    }
    let ratio = (v / pv).abs();
    (ratio > factor || ratio < 1.0 / factor).then(|| format!(
        "{v} is {ratio:.1}× the {py} value {pv} for {}; a change by more than {factor}× is unusual, check the unit and the decimal separator",
        dp.label()))
}

/// The warning for a value far outside the other cities' values for the same data point and
/// year: beyond 3 × the interquartile range from the quartiles, and at least `factor` times
/// the median (or a `factor`-th of it), as far as a unit or decimal slip puts a value
/// (× 100 for a share typed as a fraction, × 1 000 for thousands). Needs four other cities.
pub fn peer_outlier_message(
    v: f64,
    others: &[f64],
    dp: &DataPoint,
    year: i32,
    factor: f64,
) -> Option<String> {
    if others.len() < 4 || v == 0.0 {
        return None;
    }
    let q1 = crate::stats::quantile(others, 0.25)?;
    let q3 = crate::stats::quantile(others, 0.75)?;
    let median = crate::stats::median(others)?;
    let iqr = q3 - q1;
    let outside = v < q1 - 3.0 * iqr || v > q3 + 3.0 * iqr;
    if !outside || median == 0.0 || median.signum() != v.signum() {
        return None;
    }
    let ratio = (v / median).abs();
    let times = if ratio >= 1.0 { ratio } else { 1.0 / ratio };
    (times >= factor).then(|| {
        format!(
            "{v} is {} the network median {median} {} for {} in {year} ({} other cities, middle half {q1}-{q3}); a unit or decimal slip?",
            if ratio >= 1.0 {
                format!("{times:.0}×")
            } else {
                format!("1/{times:.0} of")
            },
            dp.unit,
            dp.label(),
            others.len()
        )
    })
}

/// The warning for a city and year that lack rows for core data points.
pub fn missing_core_finding(
    catalog: &Catalog,
    file: &str,
    city: &str,
    year: i32,
    present: impl Fn(&str) -> bool,
) -> Option<Finding> {
    let missing: Vec<String> = catalog
        .data_points
        .iter()
        .filter(|d| d.kpi_type == KpiType::Core && !present(&d.id))
        .map(|d| d.label())
        .collect();
    if missing.is_empty() {
        return None;
    }
    let shown_list: Vec<&str> = missing.iter().take(8).map(String::as_str).collect();
    Some(Finding::warning(
        "missing_core_kpi",
        file,
        format!(
            "{city} {year}: {} core data point(s) have no row (write NR if not reported): {}{}",
            missing.len(),
            shown_list.join(", "),
            if missing.len() > 8 { ", …" } else { "" }
        ),
    ))
}
