//! Import of large, plain CSV files in bulk: DuckDB reads the file, the few distinct texts
//! are resolved in Rust, the per-row rules run as SQL (see `store::stage` and
//! `submission::bulk`). The result is the same revision, with the same warnings, as the
//! row-by-row path gives; any file or row the bulk path is not sure about goes back to the
//! row-by-row path, which locates every problem. The integration tests hold the two paths
//! to the same output on every fixture.

use crate::catalog::{Catalog, KpiType};
use crate::error::Result;
use crate::registry::Registry;
use crate::store::{DpFacts, StagedWarning, Store};
use crate::submission::bulk::{self, Layout};
use crate::submission::validate::{implausible_message, jump_message, missing_core_finding};
use crate::submission::{Finding, Limits};
use crate::trace::Trace;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

/// A file staged and checked in the database, ready for [`Store::commit_staged`].
#[derive(Debug)]
pub struct Staged {
    pub rows: usize,
    pub findings: Vec<Finding>,
    /// (new, changed, unchanged) against the current values
    pub diff: (usize, usize, usize),
    /// the file's SHA-256, as the row-by-row reader computes it
    pub content_hash: String,
}

/// The rules' settings the bulk path needs.
pub struct Rules {
    pub min_year: i32,
    pub max_year: i32,
    pub jump_factor: f64,
}

/// The layout of a file for the bulk path (from its first line), or `None` when it is small or
/// not plain (take the row-by-row path). `U4SSC_NO_BULK=1` turns the bulk path off.
pub fn eligible(path: &Path, limits: &Limits) -> Option<Layout> {
    if std::env::var_os("U4SSC_NO_BULK").is_some_and(|v| v != "0") {
        return None;
    }
    let len = std::fs::symlink_metadata(path).ok()?.len();
    if len < bulk::BULK_MIN_BYTES {
        return None;
    }
    bulk::head(path, limits)
}

/// Stage and check a file while another thread reads it once more for its hash and for the
/// plainness of every line. `Ok(None)`: something is not plain or not valid; the staged rows
/// are rolled back, the staging tables dropped, and the caller takes the row-by-row path.
/// With `Some`, the rows wait in an open transaction for [`Store::commit_staged`] (or
/// [`Store::drop_stage`]).
#[allow(clippy::too_many_arguments)]
pub fn stage(
    store: &mut Store,
    path: &Path,
    layout: &Layout,
    catalog: &Catalog,
    registry: &Registry,
    rules: &Rules,
    limits: &Limits,
) -> Result<Option<Staged>> {
    let (scanned, out) = std::thread::scope(|s| {
        let scan = s.spawn(|| bulk::scan(path, layout, limits));
        let out = stage_inner(store, path, layout, catalog, registry, rules);
        let scanned = scan.join().ok().flatten();
        Trace::new().mark("scan joined (hash, UTF-8, quoting, rows)");
        (scanned, out)
    });
    let out = match (scanned, out) {
        (Some((rows, hash)), Ok(Some(mut staged))) if rows == staged.rows => {
            staged.content_hash = hash;
            Ok(Some(staged))
        }
        (_, Err(e)) => Err(e),
        _ => Ok(None),
    };
    if !matches!(out, Ok(Some(_))) {
        store.drop_stage()?;
    }
    out
}

fn stage_inner(
    store: &mut Store,
    path: &Path,
    layout: &Layout,
    catalog: &Catalog,
    registry: &Registry,
    rules: &Rules,
) -> Result<Option<Staged>> {
    let c = &layout.columns;
    let trace = Trace::new();
    let Some(rows) = store.stage_csv(path, layout.delimiter, layout.table.header.len())? else {
        return Ok(None);
    };
    trace.mark("staged with read_csv");
    let Some(cities) = bulk::resolve_cities(
        &store.stage_city_years(c)?,
        registry,
        rules.min_year,
        rules.max_year,
    ) else {
        return Ok(None);
    };
    let Some(codes) = bulk::resolve_codes(&store.stage_codes(c)?, catalog) else {
        return Ok(None);
    };
    let facts: Vec<DpFacts> = catalog
        .data_points
        .iter()
        .map(|d| DpFacts {
            id: &d.id,
            yes_no: d.unit_kind == crate::catalog::UnitKind::YesNo,
            core: d.kpi_type == KpiType::Core,
            min: d.min,
            max: d.max,
            plausible: d.plausible,
        })
        .collect();
    store.stage_maps(&cities, &codes, &facts)?;
    trace.mark("cities and codes resolved");
    let mut maps = crate::store::StageMaps::default();
    let Some(values) = bulk::resolve_values(&store.stage_values(c)?, catalog) else {
        return Ok(None);
    };
    maps.values = values;
    // (kpi, data point, unit, quality, verified): each column's distinct texts resolved once
    let combos = store.stage_combos(c)?;
    let dp_of: HashMap<(&str, &str), &str> = codes
        .iter()
        .map(|(k, p, d)| ((k.as_str(), p.as_str()), d.as_str()))
        .collect();
    let mut unit_texts: Vec<(String, String)> = Vec::new();
    for [k, p, u, _, _] in &combos {
        let Some(dp) = dp_of.get(&(k.as_str(), p.as_str())) else {
            return Ok(None);
        };
        unit_texts.push((dp.to_string(), u.clone()));
    }
    unit_texts.sort();
    unit_texts.dedup();
    let distinct = |i: usize| -> Vec<String> {
        let mut v: Vec<String> = combos.iter().map(|t| t[i].clone()).collect();
        v.sort();
        v.dedup();
        v
    };
    let (Some(units), Some(quality), Some(verified)) = (
        bulk::resolve_units(&unit_texts, catalog),
        bulk::resolve_quality(&distinct(3)),
        bulk::resolve_verified(&distinct(4)),
    ) else {
        return Ok(None);
    };
    let units: HashMap<(String, String), Option<String>> =
        units.into_iter().map(|(d, t, u)| ((d, t), u)).collect();
    let quality: HashMap<String, Option<String>> = quality.into_iter().collect();
    let verified: HashMap<String, Option<bool>> = verified.into_iter().collect();
    for texts in combos {
        let dp = dp_of
            .get(&(texts[0].as_str(), texts[1].as_str()))
            .map(|d| d.to_string())
            .unwrap_or_default();
        let (Some(unit), Some(q), Some(v)) = (
            units.get(&(dp.clone(), texts[2].clone())),
            quality.get(&texts[3]),
            verified.get(&texts[4]),
        ) else {
            return Ok(None);
        };
        maps.combos.push(crate::store::Combo {
            dp,
            unit: unit.clone(),
            quality: q.clone(),
            verified: *v,
            texts,
        });
    }
    // free text is stored as written: it must need no trimming and must not be a formula
    for column in [c.origin, c.source, c.note] {
        if !bulk::free_text_is_plain(&store.stage_texts(column)?) {
            return Ok(None);
        }
    }
    if store.stage_has_ratios(c)? {
        return Ok(None);
    }
    trace.mark("units, values, quality, free text resolved");
    if !store.stage_insert(c, rows, &maps)? {
        return Ok(None);
    }
    trace.mark("rows inserted (not yet committed) and checked");
    // warnings in the order the row-by-row path gives them: by line, then city, value, jump
    let file = layout.table.file.as_str();
    let loc = |i: usize| Some(layout.table.column_label(i));
    let mut located: Vec<(usize, u8, Finding)> = Vec::new();
    for w in store.stage_warnings(c, rules.jump_factor)? {
        match w {
            StagedWarning::Former { line, message } => located.push((
                line,
                0,
                Finding::warning("former_municipality_number", file, message).at(line, loc(c.city)),
            )),
            StagedWarning::Implausible {
                line,
                data_point,
                value,
            } => {
                if let Some(dp) = catalog.get(&data_point) {
                    located.push((
                        line,
                        1,
                        Finding::warning("implausible_value", file, implausible_message(value, dp))
                            .at(line, loc(c.value)),
                    ));
                }
            }
            StagedWarning::Jump {
                line,
                data_point,
                value,
                prev_year,
                prev_value,
            } => {
                if let Some(msg) = catalog.get(&data_point).and_then(|dp| {
                    jump_message(value, prev_year, prev_value, dp, rules.jump_factor)
                }) {
                    located.push((
                        line,
                        2,
                        Finding::warning("jump_from_previous_year", file, msg)
                            .at(line, loc(c.value)),
                    ));
                }
            }
        }
    }
    located.sort_by_key(|(line, seq, _)| (*line, *seq));
    let mut findings: Vec<Finding> = located.into_iter().map(|(_, _, f)| f).collect();
    trace.mark("warnings");
    let mut missing: BTreeMap<(String, i32), BTreeSet<String>> = BTreeMap::new();
    for (city, year, dp) in store.stage_missing_core()? {
        missing.entry((city, year)).or_default().insert(dp);
    }
    for ((city, year), absent) in &missing {
        findings.extend(missing_core_finding(catalog, file, city, *year, |id| {
            !absent.contains(id)
        }));
    }
    trace.mark("missing core data points");
    let diff = store.stage_diff(rows)?;
    trace.mark("compared with the current values");
    Ok(Some(Staged {
        rows,
        findings,
        diff,
        content_hash: String::new(),
    }))
}
