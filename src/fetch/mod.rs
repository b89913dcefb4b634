//! `u4ssc fetch ssb`: official inputs from Statistics Norway, so coordinators do not type
//! numbers SSB already publishes. Nothing half-written: a fetch that fails part-way imports
//! nothing and says which request failed.

pub mod client;
pub mod jsonstat;

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::registry::City;
use crate::store::{Access, NewRevision};
use crate::submission::validate::current_year;
use crate::submission::Observation;
use client::{Client, Config, Selection};
use jsonstat::Cube;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum FetchSourceOptions {
    /// Statistics Norway's statistics bank (PxWebApi v2)
    Ssb(SsbOptions),
}

#[derive(Debug, Clone)]
pub struct SsbOptions {
    /// `population`: update every city's population from table 07459
    pub what: Option<String>,
    /// Mapping of data points to SSB tables (e.g. kpis/sources/ssb.toml)
    pub map: Option<PathBuf>,
    /// Year to fetch [population: the latest; --map: last year]
    pub year: Option<i32>,
    /// API base URL
    pub base_url: String,
    /// Cache directory [default: the user cache directory, u4ssc/ssb]
    pub cache_dir: Option<PathBuf>,
    /// Use the cache only (answers of any age); never the network
    pub offline: bool,
    /// Ask SSB again even when the cache holds a fresh answer
    pub refresh: bool,
    /// Hours a cached answer is used before SSB is asked again
    pub cache_max_age_hours: u64,
    /// Seconds before a request times out
    pub timeout_secs: u64,
    /// Milliseconds between two requests (2000 = SSB's 30 a minute)
    pub min_interval_ms: u64,
    /// First retry wait in milliseconds (doubles each retry)
    pub backoff_ms: u64,
    /// Retries after a timeout, 429 or 5xx answer, before the fetch gives up
    pub max_retries: u32,
    /// Largest number of cells in one request (SSB allows 800 000); an answer that
    /// declares more is refused
    pub max_cells: usize,
    /// Largest answer read, in MB; a longer one is an error
    pub max_body_mb: u64,
    /// Longest wait before a retry, in seconds; a server that asks for more (Retry-After)
    /// ends the fetch at once
    pub max_retry_wait_secs: u64,
}

/// The largest population a municipality can have here: above every city on earth.
pub const MAX_POPULATION: f64 = 100_000_000.0;

/// A population figure as SSB should send it: a whole number from 0 to
/// [`MAX_POPULATION`]. Anything else is a server error, never stored.
pub fn population(v: f64) -> std::result::Result<u64, String> {
    if v.is_finite() && v >= 0.0 && v.fract() == 0.0 && v <= MAX_POPULATION {
        Ok(v as u64)
    } else {
        Err(format!(
            "the population {v}, which is not a population (a whole number from 0 to {MAX_POPULATION})"
        ))
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapFile {
    map: Vec<MapEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MapEntry {
    data_point: String,
    verified: bool,
    #[serde(default)]
    note: String,
    #[serde(default = "one")]
    scale: f64,
    #[serde(default)]
    quality: Option<String>,
    numerator: Side,
    #[serde(default)]
    denominator: Option<Side>,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Side {
    table: String,
    contents: String,
    #[serde(default)]
    select: BTreeMap<String, Vec<String>>,
}

fn client(a: &SsbOptions) -> Result<Client> {
    let cache_dir = a
        .cache_dir
        .clone()
        .or_else(|| dirs::cache_dir().map(|d| d.join("u4ssc").join("ssb")));
    Client::new(Config {
        base_url: a.base_url.clone(),
        cache_dir,
        timeout: Duration::from_secs(a.timeout_secs),
        min_interval: Duration::from_millis(a.min_interval_ms),
        max_retries: a.max_retries,
        backoff: Duration::from_millis(a.backoff_ms),
        max_cells: a.max_cells,
        offline: a.offline,
        max_body_bytes: a.max_body_mb.max(1).saturating_mul(1024 * 1024),
        max_retry_wait: Duration::from_secs(a.max_retry_wait_secs),
        cache_max_age: Duration::from_secs(a.cache_max_age_hours.saturating_mul(3600)),
        refresh: a.refresh,
    })
}

/// The municipality number a city had in `year`; None if none of its numbers was valid then.
pub fn number_in(c: &City, year: Option<i32>) -> Option<String> {
    let Some(y) = year else {
        return Some(c.municipality_number.clone());
    };
    let current_from = c
        .former_numbers
        .iter()
        .filter_map(|f| {
            f.split_once(':')
                .and_then(|(_, r)| r.split_once('-'))
                .and_then(|(_, to)| to.parse::<i32>().ok())
        })
        .max()
        .map(|to| to + 1)
        .unwrap_or(i32::MIN);
    if y >= current_from {
        return Some(c.municipality_number.clone());
    }
    c.former_numbers.iter().find_map(|f| {
        let (n, range) = f.split_once(':')?;
        c.had_number(n, Some(y))
            .then(|| n.to_string())
            .filter(|_| !range.is_empty())
    })
}

/// Sum of the cells for one region and year over every other dimension; None with the status
/// symbols when a cell is missing.
fn region_value(
    cubes: &[Cube],
    region: &str,
    year: Option<&str>,
) -> std::result::Result<Option<(f64, String)>, String> {
    for cube in cubes {
        let Some(rd) = cube.dim("Region") else {
            continue;
        };
        if !rd.codes.iter().any(|c| c == region) {
            continue;
        }
        let td = cube.dim("Tid");
        let tcode = match (year, td) {
            (Some(y), _) => y.to_string(),
            (None, Some(t)) => t.codes.last().cloned().unwrap_or_default(),
            (None, None) => String::new(),
        };
        // iterate every combination of the other dimensions
        let others: Vec<&jsonstat::Dim> = cube
            .dims
            .iter()
            .filter(|d| d.id != "Region" && d.id != "Tid")
            .collect();
        let mut idx = vec![0usize; others.len()];
        let mut sum = 0.0;
        let mut symbols = Vec::new();
        loop {
            let mut at: Vec<(&str, &str)> = vec![("Region", region)];
            if td.is_some() {
                at.push(("Tid", tcode.as_str()));
            }
            for (d, &i) in others.iter().zip(&idx) {
                at.push((d.id.as_str(), d.codes[i].as_str()));
            }
            match cube.get(&at) {
                Some(c) => match c.value {
                    Some(v) => sum += v,
                    None => symbols.push(c.status.unwrap_or_else(|| "missing".into())),
                },
                None => {
                    return Err(format!(
                        "the answer has no cell for region {region} and year {tcode}"
                    ))
                }
            }
            let mut k = 0;
            loop {
                if k == idx.len() {
                    if symbols.is_empty() {
                        return Ok(Some((sum, tcode)));
                    }
                    return Err(format!("no value (SSB status '{}')", symbols.join("', '")));
                }
                idx[k] += 1;
                if idx[k] < others[k].codes.len() {
                    break;
                }
                idx[k] = 0;
                k += 1;
            }
        }
    }
    Ok(None)
}

/// Where the numbers came from, said honestly: fetched now, or from the cache (offline or
/// not) with the time the oldest cached answer was fetched.
fn provenance(
    cached: usize,
    requests: usize,
    oldest: Option<std::time::SystemTime>,
    offline: bool,
) -> String {
    if cached == 0 {
        return String::new();
    }
    let when = oldest
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| {
            let secs = d.as_secs() as i64;
            let (y, m, day) = crate::stats::civil_from_days(secs.div_euclid(86_400));
            let s = secs.rem_euclid(86_400);
            format!(
                "{y:04}-{m:02}-{day:02} {:02}:{:02} UTC",
                s / 3600,
                s % 3600 / 60
            )
        })
        .unwrap_or_else(|| "an unknown time".into());
    let how = if offline { "offline, " } else { "" };
    if requests == 0 {
        format!(" ({how}from the cache: SSB's answer of {when}; --refresh asks again)")
    } else {
        format!(
            " ({cached} answer(s) from the cache, the oldest of {when}; {requests} fetched now)"
        )
    }
}

fn fetch_side(
    cl: &mut Client,
    side: &Side,
    regions: &[String],
    year: Option<i32>,
) -> Result<(Vec<Cube>, usize, usize, Option<std::time::SystemTime>)> {
    let mut sel = vec![
        Selection {
            variable: "Region".into(),
            codes: regions.to_vec(),
            codelist: None,
        },
        Selection::new("ContentsCode", &[side.contents.as_str()]),
        Selection {
            variable: "Tid".into(),
            codes: vec![year
                .map(|y| y.to_string())
                .unwrap_or_else(|| "top(1)".into())],
            codelist: None,
        },
    ];
    for (var, codes) in &side.select {
        sel.push(Selection {
            variable: var.clone(),
            codes: codes.clone(),
            codelist: None,
        });
    }
    let f = cl.data(&side.table, &sel)?;
    Ok((f.cubes, f.from_cache, f.requests, f.oldest_cached))
}

/// What a fetch did; the CLI writes it.
#[derive(Debug)]
pub enum FetchReport {
    /// Population figures stored (`fetch ssb population`)
    Population {
        rows: Vec<PopulationRow>,
        /// Where the answers came from: requests made, answers from the cache
        provenance: String,
        /// Cities without a figure, and why
        skipped: Vec<String>,
    },
    /// Values imported as a new revision (`fetch ssb --map`)
    Imported {
        values: usize,
        year: i32,
        revision: i64,
        provenance: String,
        notes: Vec<String>,
    },
    /// The same values are already stored as this revision
    AlreadyStored { revision: i64 },
    /// SSB gave no value to import; the notes say why
    Nothing { notes: Vec<String> },
}

impl FetchReport {
    /// The exit status: 1 when nothing could be imported.
    pub fn code(&self) -> i32 {
        match self {
            FetchReport::Nothing { .. } => 1,
            _ => 0,
        }
    }
}

/// One city's population as SSB gives it, beside the registry's.
#[derive(Debug)]
pub struct PopulationRow {
    pub city: String,
    pub number: String,
    pub year: String,
    pub population: u64,
    pub registry: u64,
}

pub fn fetch(ctx: &Ctx, src: &FetchSourceOptions) -> Result<FetchReport> {
    let FetchSourceOptions::Ssb(a) = src;
    let mut cl = client(a)?;
    match (a.what.as_deref(), &a.map) {
        (Some("population"), None) => {
            let mut regions = Vec::new();
            let mut skipped = Vec::new();
            for c in &ctx.registry.cities {
                match number_in(c, a.year) {
                    Some(n) => regions.push((c, n)),
                    None => skipped.push(c.name.clone()),
                }
            }
            let codes: Vec<String> = regions.iter().map(|(_, n)| n.clone()).collect();
            let side = Side { table: "07459".into(), contents: "Personer1".into(), select: BTreeMap::new() };
            let (cubes, cached, requests, oldest) = fetch_side(&mut cl, &side, &codes, a.year)?;
            let mut rows = Vec::new();
            let mut shown = Vec::new();
            for (c, n) in &regions {
                let y = a.year.map(|y| y.to_string());
                match region_value(&cubes, n, y.as_deref()) {
                    Ok(Some((v, year))) => {
                        // a server that sends nonsense is refused whole: nothing is stored
                        let people = population(v).map_err(|m| {
                            Error::Fetch(format!("SSB table 07459 gives {} ({n}) {m}", c.name))
                        })?;
                        let year_number = year.parse::<i32>().ok().filter(|y| (1700..=2200).contains(y)).ok_or_else(|| {
                            Error::Fetch(format!("SSB table 07459 gives {} ({n}) the year {}, which is not a year", c.name, crate::text::shown(&year)))
                        })?;
                        rows.push((c.slug.clone(), year_number, people as i64));
                        shown.push(PopulationRow { city: c.name.clone(), number: n.clone(), year, population: people, registry: c.population });
                    }
                    Ok(None) => skipped.push(format!("{} ({n}: not in SSB's answer)", c.name)),
                    Err(m) => skipped.push(format!("{} ({n}: {m})", c.name)),
                }
            }
            let mut store = ctx.open(Access::ReadWrite)?;
            store.insert_populations(&rows, "SSB table 07459")?;
            Ok(FetchReport::Population { rows: shown, provenance: provenance(cached, requests, oldest, a.offline), skipped })
        }
        (None, Some(map)) => {
            let text = std::fs::read_to_string(map).map_err(|source| Error::Read { path: map.clone(), source })?;
            let file: MapFile = toml::from_str(&text).map_err(|e| Error::Invalid(format!("{}: {}", map.display(), e.message())))?;
            let year = a.year.unwrap_or(current_year() - 1);
            let mut obs = Vec::new();
            let (mut cached, mut requests, mut oldest) = (0, 0, None::<std::time::SystemTime>);
            let mut notes = Vec::new();
            let regions: Vec<(&City, String)> = ctx.registry.cities.iter().filter_map(|c| number_in(c, Some(year)).map(|n| (c, n))).collect();
            let codes: Vec<String> = regions.iter().map(|(_, n)| n.clone()).collect();
            let today = today();
            for m in &file.map {
                let dp = ctx.catalog.get(&m.data_point).ok_or_else(|| Error::Invalid(format!("{}: data point '{}' is not in the catalog", map.display(), m.data_point)))?;
                let (num, c1, r1, o1) = fetch_side(&mut cl, &m.numerator, &codes, Some(year))?;
                let den = match &m.denominator {
                    Some(d) => Some(fetch_side(&mut cl, d, &codes, Some(year))?),
                    None => None,
                };
                cached += c1 + den.as_ref().map(|d| d.1).unwrap_or(0);
                requests += r1 + den.as_ref().map(|d| d.2).unwrap_or(0);
                for o in [o1, den.as_ref().and_then(|d| d.3)].into_iter().flatten() {
                    oldest = Some(oldest.map_or(o, |x: std::time::SystemTime| x.min(o)));
                }
                let y = year.to_string();
                for (c, n) in &regions {
                    let nv = region_value(&num, n, Some(&y));
                    let dv = den.as_ref().map(|(cubes, ..)| region_value(cubes, n, Some(&y)));
                    let value = match (nv, dv) {
                        (Ok(Some((x, _))), None) => Some(x * m.scale),
                        (Ok(Some((x, _))), Some(Ok(Some((d, _))))) if d != 0.0 => Some(x / d * m.scale),
                        (Err(e), _) | (_, Some(Err(e))) => {
                            notes.push(format!("{} {}: {e}", c.name, dp.label()));
                            None
                        }
                        _ => {
                            notes.push(format!("{} {}: not in SSB's answer", c.name, dp.label()));
                            None
                        }
                    };
                    let Some(v) = value else { continue };
                    let tables = match &m.denominator {
                        Some(d) if d.table != m.numerator.table => format!("SSB tables {} and {}", m.numerator.table, d.table),
                        _ => format!("SSB table {}", m.numerator.table),
                    };
                    obs.push(Observation {
                        line: 0,
                        city: c.slug.clone(),
                        year,
                        data_point: dp.id.clone(),
                        value: Some((v * 1e6).round() / 1e6),
                        unit: None,
                        numerator: None,
                        denominator: None,
                        quality: Some(m.quality.clone().unwrap_or_else(|| "accurate measurement".into())),
                        origin: Some("official statistics".into()),
                        source: Some(format!("{tables}, fetched {today}{}", if m.verified { "" } else { " (mapping unverified)" })),
                        verified: None,
                        note: (!m.note.is_empty()).then(|| m.note.clone()),
                    });
                }
            }
            // the same validation as a submission: impossible values stop the fetch
            let obs = validate_fetched(ctx, obs, &mut notes)?;
            if obs.is_empty() {
                return Ok(FetchReport::Nothing { notes });
            }
            let hash = {
                use sha2::{Digest, Sha256};
                let j = serde_json::to_string(&obs.iter().map(|o| (&o.city, o.year, &o.data_point, o.value)).collect::<Vec<_>>()).unwrap_or_default();
                Sha256::digest(j.as_bytes()).iter().map(|b| format!("{b:02x}")).collect::<String>()
            };
            let mut store = ctx.open(Access::ReadWrite)?;
            if let Some(r) = store.revision_by_hash(&hash)? {
                return Ok(FetchReport::AlreadyStored { revision: r.revision_id });
            }
            let name = format!("SSB fetch {year} ({})", map.display());
            let id = store.insert_revision(&NewRevision { source_file: &name, content_hash: &hash, format: "ssb", kind: crate::store::RevisionKind::Ssb }, &obs)?;
            Ok(FetchReport::Imported { values: obs.len(), year, revision: id, provenance: provenance(cached, requests, oldest, a.offline), notes })
        }
        _ => Err(Error::Usage("say what to fetch: `u4ssc fetch ssb population [--year Y]` or `u4ssc fetch ssb --map kpis/sources/ssb.toml [--year Y]`".into())),
    }
}

/// Fetched values through the submission rules (limits, impossible values, plausible
/// ranges): an error refuses the whole fetch with the first problems named; warnings become
/// notes. Returns the observations as validation makes them.
fn validate_fetched(
    ctx: &Ctx,
    obs: Vec<Observation>,
    notes: &mut Vec<String>,
) -> Result<Vec<Observation>> {
    use crate::submission::read::{Format, Row, Table};
    use crate::submission::Severity;
    if obs.is_empty() {
        return Ok(obs);
    }
    let header = [
        "city",
        "year",
        "kpi",
        "data_point",
        "value",
        "quality",
        "origin",
        "source",
        "note",
    ];
    let mut rows = Vec::with_capacity(obs.len());
    for (i, o) in obs.iter().enumerate() {
        let dp = ctx.catalog.get(&o.data_point).ok_or_else(|| {
            Error::Invalid(format!(
                "data point '{}' is not in the catalog",
                o.data_point
            ))
        })?;
        rows.push(Row {
            line: i + 1,
            cells: vec![
                o.city.clone(),
                o.year.to_string(),
                dp.code.clone(),
                dp.part.clone(),
                o.value
                    .map(|v| format!("{v}"))
                    .unwrap_or_else(|| "NR".into()),
                o.quality.clone().unwrap_or_default(),
                o.origin.clone().unwrap_or_default(),
                o.source.clone().unwrap_or_default(),
                o.note.clone().unwrap_or_default(),
            ],
            labels: Vec::new(),
        });
    }
    let table = Table {
        file: "SSB's answer".into(),
        format: Format::Csv,
        header: header.iter().map(|h| h.to_string()).collect(),
        column_labels: header.iter().map(|h| h.to_string()).collect(),
        rows,
        template: None,
        content_hash: String::new(),
    };
    let checked = crate::submission::validate::validate(
        &table,
        &ctx.catalog,
        &ctx.registry,
        &crate::submission::validate::Options::default(),
    );
    let describe = |f: &crate::submission::Finding| {
        let o = f.line.and_then(|l| obs.get(l - 1));
        match o {
            Some(o) => format!("{} {} {}: {}", o.city, o.year, o.data_point, f.message),
            None => f.message.clone(),
        }
    };
    let errors: Vec<String> = checked
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(describe)
        .collect();
    if !errors.is_empty() {
        let more = if errors.len() > 5 {
            format!(" (and {} more)", errors.len() - 5)
        } else {
            String::new()
        };
        return Err(Error::Fetch(format!(
            "SSB's answer holds values a submission could not: {}{more}",
            errors[..errors.len().min(5)].join("; ")
        )));
    }
    notes.extend(
        checked
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Warning && f.line.is_some())
            .map(describe),
    );
    let mut out = checked.observations;
    for o in &mut out {
        o.line = 0;
    }
    Ok(out)
}

fn today() -> String {
    let (y, m, d) = crate::stats::today();
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Registry;

    #[test]
    fn municipality_number_for_the_year_asked() {
        let r = Registry::embedded().unwrap();
        let tromso = r.get("tromso").unwrap();
        assert_eq!(number_in(tromso, Some(2024)).as_deref(), Some("5501"));
        assert_eq!(number_in(tromso, Some(2021)).as_deref(), Some("5401"));
        assert_eq!(number_in(tromso, Some(2015)).as_deref(), Some("1902"));
        let oslo = r.get("oslo").unwrap();
        assert_eq!(number_in(oslo, Some(2015)).as_deref(), Some("0301"));
    }

    #[test]
    fn today_is_a_date() {
        let t = today();
        assert_eq!(t.len(), 10);
        assert_eq!(&t[4..5], "-");
    }
}
