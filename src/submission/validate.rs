//! The rules of a valid submission. Every rule has a name (shown in brackets in `check`
//! output) and a sentence a city officer understands. Errors stop an import; warnings do not.

use super::read::Table;
use super::values::{parse_number, parse_value, yes_no, Value};
use super::{Finding, Severity};
use crate::catalog::{normalise_part, Catalog, DataPoint, KpiType, NameMatch, UnitKind};
use crate::registry::{Match, Registry};
use crate::text::shown;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

mod messages;
pub use messages::*;

pub const REQUIRED: &[&str] = &["city", "year", "kpi", "value"];
pub const OPTIONAL: &[&str] = &[
    "data_point",
    "unit",
    "numerator",
    "denominator",
    "quality",
    "origin",
    "source",
    "verified",
    "note",
];

/// The six U4SSC data-quality levels, best to worst (VM p162-166).
pub const QUALITY_LEVELS: &[&str] = &[
    "accurate measurement",
    "extrapolated from an inhabitant survey",
    "extrapolated from higher-level data",
    "estimate based on assumptions",
    "personal estimate",
    "unknown method / not traceable",
];

/// The same six levels in Norwegian (bokmål), as the Norwegian template offers them.
pub const QUALITY_LEVELS_NB: &[&str] = &[
    "nøyaktig måling",
    "ekstrapolert fra innbyggerundersøkelse",
    "ekstrapolert fra data på høyere nivå",
    "estimat basert på forutsetninger",
    "personlig estimat",
    "ukjent metode / ikke sporbar",
];

/// One validated value, ready to store.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Observation {
    pub line: usize,
    pub city: String,
    pub year: i32,
    pub data_point: String,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub numerator: Option<f64>,
    pub denominator: Option<f64>,
    pub quality: Option<String>,
    pub origin: Option<String>,
    pub source: Option<String>,
    pub verified: Option<bool>,
    pub note: Option<String>,
}

#[derive(Debug, Default)]
pub struct Checked {
    pub observations: Vec<Observation>,
    pub findings: Vec<Finding>,
}

impl Checked {
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }
}

/// A city as a submission named it, once resolved.
type Resolved<'a> = Option<(&'a crate::registry::City, Match)>;

/// Earlier values to compare against: (city, data point) -> [(year, value)].
pub type History = HashMap<(String, String), Vec<(i32, f64)>>;

/// Other cities' values to compare against: (data point, year) -> [(city, value)].
pub type Peers = HashMap<(String, i32), Vec<(String, f64)>>;

pub struct Options {
    pub history: History,
    pub jump_factor: f64,
    /// The network's values (from --db), for the peer-outlier check.
    pub peers: Peers,
    /// How many times the network median a value must be (or its fraction) to be a peer
    /// outlier, besides lying beyond 3 × the interquartile range.
    pub peer_factor: f64,
    pub years: Years,
}

/// The years a submission may give (a year outside is an error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Years {
    pub min: i32,
    pub max: i32,
}

impl Default for Years {
    fn default() -> Self {
        Years {
            min: 1990,
            max: current_year() + 1,
        }
    }
}

impl Years {
    pub fn contains(&self, year: i32) -> bool {
        (self.min..=self.max).contains(&year)
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            history: History::new(),
            jump_factor: 3.0,
            peers: Peers::new(),
            peer_factor: 10.0,
            years: Years::default(),
        }
    }
}

/// This year by the system clock (UTC).
pub fn current_year() -> i32 {
    crate::stats::today().0
}

pub(crate) fn normalise_header(h: &str) -> String {
    let n: String = h
        .trim()
        .trim_start_matches('\u{feff}')
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect();
    // Norwegian (bokmål) headers, as municipal templates write them
    match n.as_str() {
        "by" | "kommune" => "city",
        "år" | "aar" | "årstall" => "year",
        "datapunkt" => "data_point",
        "verdi" => "value",
        "enhet" => "unit",
        "teller" => "numerator",
        "nevner" => "denominator",
        "kvalitet" | "datakvalitet" => "quality",
        "opprinnelse" => "origin",
        "kilde" => "source",
        "verifisert" => "verified",
        "merknad" | "kommentar" => "note",
        other => other,
    }
    .to_string()
}

/// The known columns of a header by name, and what is wrong with it (unknown, doubled or
/// missing columns, all located on line 1).
pub fn header_columns(t: &Table) -> (HashMap<&'static str, usize>, Vec<Finding>) {
    let file = t.file.as_str();
    let mut findings = Vec::new();
    let mut col: HashMap<&'static str, usize> = HashMap::new();
    for (i, h) in t.header.iter().enumerate() {
        let n = normalise_header(h);
        let known = REQUIRED.iter().chain(OPTIONAL.iter()).find(|k| **k == n);
        match known {
            Some(k) => {
                if col.insert(k, i).is_some() {
                    findings.push(
                        Finding::error(
                            "duplicate_column",
                            file,
                            format!("column {} appears twice", shown(h)),
                        )
                        .at(1, Some(t.column_label(i))),
                    );
                }
            }
            None => findings.push(
                Finding::error(
                    "unknown_column",
                    file,
                    format!(
                        "unknown column {}; the columns are {} (required) and {}",
                        shown(h),
                        REQUIRED.join(", "),
                        OPTIONAL.join(", ")
                    ),
                )
                .at(1, Some(t.column_label(i))),
            ),
        }
    }
    for r in REQUIRED {
        if !col.contains_key(r) {
            findings.push(
                Finding::error(
                    "missing_column",
                    file,
                    format!(
                        "the required column '{r}' is missing; the header must have {}",
                        REQUIRED.join(", ")
                    ),
                )
                .at(1, None),
            );
        }
    }
    (col, findings)
}

/// What a kpi cell names: a whole KPI (its data points, the data_point column chooses) or,
/// by a data point's own name, one data point.
#[derive(Clone)]
enum KpiRef<'a> {
    Kpi(Vec<&'a DataPoint>),
    DataPoint(&'a DataPoint),
}

/// Mark the last finding as being about this value.
fn about(findings: &mut [Finding], city: &str, year: i32, dp: &DataPoint, value: Option<f64>) {
    if let Some(f) = findings.last_mut() {
        f.subject = Some(super::Subject {
            city: city.to_string(),
            year,
            data_point: Some(dp.id.clone()),
            value,
        });
    }
}

/// A kpi cell resolved: by code (`EC: ICT: ICT: 1C`, any spacing and case), else by English
/// or Norwegian name. An unknown or ambiguous one is (rule, message) with suggestions.
fn resolve_kpi<'a>(catalog: &'a Catalog, code: &str) -> Result<KpiRef<'a>, (&'static str, String)> {
    if code.is_empty() {
        return Err(("unknown_kpi", "the KPI code is empty".to_string()));
    }
    let by_code = catalog.by_code(code);
    if !by_code.is_empty() {
        return Ok(KpiRef::Kpi(by_code));
    }
    if let Some(c) = catalog.suggest_code(code) {
        return Err((
            "unknown_kpi",
            format!("unknown KPI code {}; did you mean '{c}'?", shown(code)),
        ));
    }
    match catalog.by_name(code) {
        NameMatch::DataPoint(d) => Ok(KpiRef::DataPoint(d)),
        NameMatch::Kpi(dps) => Ok(KpiRef::Kpi(dps)),
        NameMatch::Ambiguous(names) => Err((
            "ambiguous_kpi_name",
            format!(
                "{} could name {} KPIs: {}{}; write the KPI code or the full name",
                shown(code),
                names.len(),
                names.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
                if names.len() > 5 { ", …" } else { "" }
            ),
        )),
        NameMatch::Unknown(near) if !near.is_empty() => Err((
            "unknown_kpi",
            format!(
                "{} is neither a KPI code nor a KPI name; did you mean {}?",
                shown(code),
                near.join(" or ")
            ),
        )),
        NameMatch::Unknown(_) => Err((
            "unknown_kpi",
            format!(
                "unknown KPI code {}; give the code (`EC: ICT: ICT: 1C`) or the KPI's English or Norwegian name; see `u4ssc kpis`",
                shown(code)
            ),
        )),
    }
}

pub fn validate(t: &Table, catalog: &Catalog, registry: &Registry, opts: &Options) -> Checked {
    let mut out = Checked::default();
    let file = t.file.as_str();
    let (col, header_findings) = header_columns(t);
    out.findings = header_findings;
    if t.rows.is_empty() {
        out.findings.push(Finding::error(
            "no_rows",
            file,
            "the file has a header but no rows; add one row per city, year and KPI",
        ));
    }
    if out.errors() > 0 {
        return out;
    }
    let get = |row: &super::read::Row, name: &str| -> String {
        col.get(name)
            .and_then(|&i| row.cells.get(i))
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let loc = |r: usize, name: &str| col.get(name).map(|&i| t.cell_label(r, i));
    let mut city_cache: HashMap<(String, Option<i32>), Resolved> = HashMap::new();
    let mut code_cache: HashMap<String, Result<KpiRef, (&'static str, String)>> = HashMap::new();
    // whether a unit text says a data point's unit, by data point: a file repeats them
    let mut unit_cache: HashMap<&str, HashMap<String, bool>> = HashMap::new();

    // key -> (line, value) for duplicate detection
    let mut seen: HashMap<(String, i32, String), (usize, Option<f64>)> = HashMap::new();
    let mut covered: BTreeMap<(String, i32), BTreeSet<String>> = BTreeMap::new();
    // free text may hold line breaks and tabs; every other cell holds none
    let free_text: Vec<bool> = (0..t.header.len())
        .map(|i| {
            ["origin", "source", "note"]
                .iter()
                .any(|n| col.get(n) == Some(&i))
        })
        .collect();
    // numbers are parsed strictly, and their messages say what is wrong in them
    let numeric: Vec<bool> = (0..t.header.len())
        .map(|i| {
            ["year", "value", "numerator", "denominator"]
                .iter()
                .any(|n| col.get(n) == Some(&i))
        })
        .collect();

    for (r, row) in t.rows.iter().enumerate() {
        let line = row.line;
        let before = out.findings.len();
        let push =
            |v: &mut Vec<Finding>, sev: Severity, rule: &'static str, column: &str, msg: String| {
                let f = match sev {
                    Severity::Error => Finding::error(rule, file, msg),
                    Severity::Warning => Finding::warning(rule, file, msg),
                };
                v.push(f.at(line, loc(r, column)));
            };
        // formulas in any text cell
        for (i, cell) in row.cells.iter().enumerate() {
            if looks_like_formula(cell) {
                out.findings.push(
                    Finding::error(
                        "formula",
                        file,
                        format!("{} looks like a spreadsheet formula; remove the leading '{}' or paste the value", shown(cell), cell.trim_start().chars().next().unwrap_or('=')),
                    )
                    .at(line, Some(t.cell_label(r, i))),
                );
            } else if let Some((at, c)) = crate::text::first_control_but(
                if numeric.get(i).copied().unwrap_or(false) {
                    ""
                } else {
                    cell
                },
                // a tab is harmless and has its own message in a number; line breaks
                // belong only in free text
                if free_text.get(i).copied().unwrap_or(false) {
                    &['\t', '\n', '\r']
                } else {
                    &['\t']
                },
            ) {
                out.findings.push(
                    Finding::error(
                        "control_character",
                        file,
                        format!(
                            "{} holds the control character {} at character {at}; a terminal or spreadsheet could run it, so remove it",
                            shown(cell),
                            crate::text::code_point(c)
                        ),
                    )
                    .at(line, Some(t.cell_label(r, i))),
                );
            }
        }
        if out.findings.len() > before {
            continue;
        }
        // year
        let year_text = get(row, "year");
        let year = match year_text.parse::<i32>() {
            Ok(y) if opts.years.contains(y) => Some(y),
            Ok(y) => {
                push(
                    &mut out.findings,
                    Severity::Error,
                    "year_out_of_range",
                    "year",
                    format!("year {y} is outside {}-{}", opts.years.min, opts.years.max),
                );
                None
            }
            Err(_) => {
                push(
                    &mut out.findings,
                    Severity::Error,
                    "bad_year",
                    "year",
                    format!(
                        "{} is not a year; write it as four digits, e.g. 2024",
                        shown(&year_text)
                    ),
                );
                None
            }
        };
        // city
        let city_text = get(row, "city");
        // a file names the same few cities thousands of times: resolve each once
        let resolved = city_cache
            .entry((city_text.clone(), year))
            .or_insert_with(|| registry.resolve(&city_text, year))
            .to_owned();
        let city = match resolved {
            Some((c, m)) => {
                if m == Match::FormerNumber {
                    push(
                        &mut out.findings,
                        Severity::Warning,
                        "former_municipality_number",
                        "city",
                        former_number_message(&city_text, c),
                    );
                }
                Some(c.slug.clone())
            }
            None => {
                let msg = if city_text.is_empty() {
                    "the city is empty; give its slug, municipality number or name".to_string()
                } else {
                    match registry.suggest(&city_text) {
                        Some(c) => format!(
                            "{} is not a city in the registry; did you mean '{}' ({})?",
                            shown(&city_text),
                            c.slug,
                            c.name
                        ),
                        None => format!("{} is not a city in the registry; use a slug, municipality number or name from `u4ssc cities`", shown(&city_text)),
                    }
                };
                push(
                    &mut out.findings,
                    Severity::Error,
                    "unknown_city",
                    "city",
                    msg,
                );
                None
            }
        };
        // kpi + data point
        let code = get(row, "kpi");
        let part = get(row, "data_point");
        let resolved_kpi = code_cache
            .entry(code.clone())
            .or_insert_with(|| resolve_kpi(catalog, &code))
            .clone();
        let dp: Option<&DataPoint> = match resolved_kpi {
            Err((rule, msg)) => {
                push(&mut out.findings, Severity::Error, rule, "kpi", msg);
                None
            }
            // a data point's own name: the data_point column may repeat it or stay empty
            Ok(KpiRef::DataPoint(d))
                if part.is_empty() || normalise_part(&part) == normalise_part(&d.part) =>
            {
                Some(d)
            }
            Ok(KpiRef::DataPoint(d)) => {
                push(
                    &mut out.findings,
                    Severity::Error,
                    "unknown_data_point",
                    "data_point",
                    format!(
                        "the KPI is named as the data point {}, but data_point says {}; leave data_point empty or name the KPI",
                        d.label(),
                        shown(&part)
                    ),
                );
                None
            }
            Ok(KpiRef::Kpi(candidates)) => {
                let split = candidates.iter().any(|d| !d.part.is_empty());
                let wanted = normalise_part(&part);
                let found = candidates
                    .iter()
                    .find(|d| normalise_part(&d.part) == wanted)
                    .copied();
                if found.is_none() {
                    let parts: Vec<&str> = candidates.iter().map(|d| d.part.as_str()).collect();
                    let msg = if split && part.is_empty() {
                        format!(
                            "KPI {} is reported per data point; set data_point to one of: {}",
                            candidates[0].code,
                            parts.join(", ")
                        )
                    } else if !split {
                        format!(
                        "KPI {} is not split into data points; leave data_point empty (it is {})",
                        candidates[0].code,
                        shown(&part)
                    )
                    } else {
                        let near = parts
                            .iter()
                            .map(|p| {
                                (
                                    crate::catalog::edit_distance(&wanted, &normalise_part(p)),
                                    p,
                                )
                            })
                            .filter(|(d, _)| *d <= 2)
                            .min_by_key(|(d, _)| *d)
                            .map(|(_, p)| format!("did you mean '{p}'? "))
                            .unwrap_or_default();
                        format!(
                            "{} is not a data point of {}; {near}use one of: {}",
                            shown(&part),
                            candidates[0].code,
                            parts.join(", ")
                        )
                    };
                    push(
                        &mut out.findings,
                        Severity::Error,
                        "unknown_data_point",
                        "data_point",
                        msg,
                    );
                }
                found
            }
        };
        let Some(dp) = dp else { continue };
        // the row is there even when a cell of it is wrong: that cell's error says so, and a
        // warning that the data point "has no row" would not be true
        if let (Some(city), Some(year)) = (&city, year) {
            covered
                .entry((city.clone(), year))
                .or_default()
                .insert(dp.id.clone());
        }
        // unit
        let unit = get(row, "unit");
        let known = unit_cache.entry(dp.id.as_str()).or_default();
        let matches = match known.get(&unit) {
            Some(&m) => m,
            None => *known
                .entry(unit.clone())
                .or_insert_with(|| unit_matches(&unit, dp)),
        };
        if !unit.is_empty() && !matches {
            // a slip of the keyboard gets the unit meant; anything else is a conversion to do
            let typo = unit_typo(&unit, &dp.unit);
            let msg = if typo {
                format!(
                    "unit {} does not match the catalog unit of {}; did you mean '{}'?",
                    shown(&unit),
                    dp.label(),
                    dp.unit
                )
            } else {
                format!(
                    "unit {} does not match the catalog unit of {} ({}); convert the value or fix the unit",
                    shown(&unit),
                    dp.label(),
                    dp.unit
                )
            };
            push(
                &mut out.findings,
                Severity::Error,
                "unit_mismatch",
                "unit",
                msg,
            );
        }
        // value, numerator, denominator
        let raw_value = get(row, "value");
        let mut value = match parse_value(&raw_value, dp.unit_kind, &dp.unit) {
            Ok(Value::Number(v)) => Some(v),
            Ok(Value::NotReported) => None,
            Err(e) => {
                push(
                    &mut out.findings,
                    Severity::Error,
                    e.rule,
                    "value",
                    e.message,
                );
                continue;
            }
        };
        let mut num_den = [None, None];
        for (slot, name) in num_den.iter_mut().zip(["numerator", "denominator"]) {
            let text = get(row, name);
            if text.is_empty()
                || parse_value(&text, UnitKind::Value, "").ok() == Some(Value::NotReported)
            {
                continue;
            }
            match parse_number(&text) {
                Ok(n) => *slot = Some(n),
                Err(e) => push(&mut out.findings, Severity::Error, e.rule, name, e.message),
            }
        }
        let [numerator, denominator] = num_den;
        match (numerator, denominator) {
            (Some(_), Some(0.0)) => {
                push(
                    &mut out.findings,
                    Severity::Error,
                    "zero_denominator",
                    "denominator",
                    "the denominator is 0".to_string(),
                );
            }
            (Some(n), Some(d)) => {
                let computed = n / d * dp.unit_kind.scale();
                match value {
                    Some(v) if !close(v, computed) => push(&mut out.findings, Severity::Error, "value_mismatch", "value", format!(
                        "value {v} does not match numerator / denominator = {n} / {d} = {computed:.4} {}; correct one of them",
                        dp.unit)),
                    Some(_) => {}
                    None => value = Some(computed),
                }
            }
            (Some(_), None) | (None, Some(_)) => push(
                &mut out.findings,
                Severity::Error,
                "half_ratio",
                if numerator.is_some() {
                    "denominator"
                } else {
                    "numerator"
                },
                "give both numerator and denominator, or neither".to_string(),
            ),
            (None, None) => {}
        }
        if let Some(v) = value {
            if let Some(min) = dp.min {
                if v < min {
                    let what = if dp.unit_kind == UnitKind::Percent {
                        "a percentage cannot be negative".to_string()
                    } else {
                        format!("the smallest possible value is {min}")
                    };
                    push(
                        &mut out.findings,
                        Severity::Error,
                        "below_minimum",
                        "value",
                        format!("{v} is impossible for {} ({}): {what}", dp.label(), dp.unit),
                    );
                }
            }
            if let Some(max) = dp.max {
                if v > max {
                    push(
                        &mut out.findings,
                        Severity::Error,
                        "above_maximum",
                        "value",
                        format!(
                            "{v} is impossible for {} ({}): the largest possible value is {max}",
                            dp.label(),
                            dp.unit
                        ),
                    );
                }
            }
            let [lo, hi] = dp.plausible;
            if (v < lo || v > hi) && dp.min.is_none_or(|m| v >= m) && dp.max.is_none_or(|m| v <= m)
            {
                push(
                    &mut out.findings,
                    Severity::Warning,
                    "implausible_value",
                    "value",
                    implausible_message(v, dp),
                );
            }
        }
        // quality, verified, text
        let quality_text = get(row, "quality");
        let quality = if quality_text.is_empty() {
            None
        } else if let Some(level) = quality_level(&quality_text) {
            Some(level.to_string())
        } else {
            let msg = match quality_text.parse::<usize>() {
                Ok(n) => format!(
                    "quality level {n} does not exist; use 1-6 or one of: {}",
                    QUALITY_LEVELS.join("; ")
                ),
                Err(_) => format!(
                    "{} is not a U4SSC data-quality level; use 1-6 or one of: {}",
                    shown(&quality_text),
                    QUALITY_LEVELS.join("; ")
                ),
            };
            push(
                &mut out.findings,
                Severity::Error,
                "unknown_quality",
                "quality",
                msg,
            );
            None
        };
        let verified_text = get(row, "verified");
        let verified = if verified_text.is_empty() {
            None
        } else {
            match verified(&verified_text) {
                Some(b) => Some(b),
                None => {
                    push(
                        &mut out.findings,
                        Severity::Error,
                        "bad_verified",
                        "verified",
                        format!("{} is not yes or no", shown(&verified_text)),
                    );
                    None
                }
            }
        };
        let (Some(city), Some(year)) = (city, year) else {
            continue;
        };
        if out.findings[before..]
            .iter()
            .any(|f| f.severity == Severity::Error)
        {
            continue;
        }
        // duplicates
        let key = (city.clone(), year, dp.id.clone());
        if let Some((first, first_value)) = seen.get(&key) {
            let differs = *first_value != value;
            push(
                &mut out.findings,
                Severity::Error,
                "duplicate_row",
                "kpi",
                format!(
                    "{} for {city} {year} is also on line {first}{}; keep one row",
                    dp.label(),
                    if differs {
                        " with a different value"
                    } else {
                        ""
                    }
                ),
            );
            continue;
        }
        seen.insert(key, (line, value));
        // the row's implausible-value warning is about this city, year and data point
        for f in out.findings[before..].iter_mut() {
            if f.rule == "implausible_value" {
                f.subject = Some(super::Subject {
                    city: city.clone(),
                    year,
                    data_point: Some(dp.id.clone()),
                    value,
                });
            }
        }
        // jump from an earlier year
        if let Some(v) = value {
            if let Some(prev) = opts
                .history
                .get(&(city.clone(), dp.id.clone()))
                .and_then(|h| {
                    h.iter()
                        .filter(|(y, _)| *y < year)
                        .max_by_key(|(y, _)| *y)
                        .copied()
                })
            {
                let (py, pv) = prev;
                if let Some(msg) = jump_message(v, py, pv, dp, opts.jump_factor) {
                    push(
                        &mut out.findings,
                        Severity::Warning,
                        "jump_from_previous_year",
                        "value",
                        msg,
                    );
                    about(&mut out.findings, &city, year, dp, value);
                }
            }
        }
        // far outside the other cities' values
        if let Some(v) = value {
            if let Some(others) = opts.peers.get(&(dp.id.clone(), year)) {
                let values: Vec<f64> = others
                    .iter()
                    .filter(|(c, _)| *c != city)
                    .map(|(_, x)| *x)
                    .collect();
                if let Some(msg) = peer_outlier_message(v, &values, dp, year, opts.peer_factor) {
                    push(
                        &mut out.findings,
                        Severity::Warning,
                        "peer_outlier",
                        "value",
                        msg,
                    );
                    about(&mut out.findings, &city, year, dp, value);
                }
            }
        }
        let text = |name: &str| Some(get(row, name)).filter(|s| !s.is_empty());
        out.observations.push(Observation {
            line,
            city,
            year,
            data_point: dp.id.clone(),
            value,
            unit: text("unit"),
            numerator,
            denominator,
            quality,
            origin: text("origin"),
            source: text("source"),
            verified,
            note: text("note"),
        });
    }
    // missing core data points per city and year
    for ((city, year), present) in &covered {
        out.findings.extend(
            missing_core_finding(catalog, file, city, *year, |id| present.contains(id)).map(|f| {
                f.about(super::Subject {
                    city: city.clone(),
                    year: *year,
                    data_point: None,
                    value: None,
                })
            }),
        );
    }
    out
}

#[cfg(test)]
mod tests;
