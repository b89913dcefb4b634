//! Import of large, plain CSV files in bulk: one pass in Rust over the file (in two parts on
//! two threads) resolves its few distinct texts and checks every row, then DuckDB reads the
//! file itself and writes the revision with one `INSERT … SELECT` (see `submission::bulk`
//! and `store::stage`). The result is the same revision, with the same warnings, as the
//! row-by-row path gives; any file or row the bulk path is not sure about goes back to the
//! row-by-row path, which locates every problem. The integration tests hold the two paths
//! to the same output on every fixture.

use super::Rules;
use crate::catalog::Catalog;
use crate::error::Result;
use crate::registry::Registry;
use crate::store::Store;
use crate::submission::bulk::{self, Layout, RowWarning, Survey};
use crate::submission::validate::{implausible_message, jump_message, missing_core_finding};
use crate::submission::{Finding, Limits, Subject};
use crate::trace::Trace;
use std::collections::{BTreeMap, BTreeSet};
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

/// Survey a file while another thread computes its hash, then insert it. `Ok(None)`:
/// something is not plain or not valid; nothing is left inserted, the mapping tables are
/// dropped, and the caller takes the row-by-row path. With `Some`, the rows wait in an open
/// transaction for [`Store::commit_staged`] (or [`Store::drop_stage`]) — unless a revision
/// with the same hash exists, when nothing is inserted.
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
    let trace = Trace::new();
    // the hash is computed beside the survey, so that a file imported before is known
    // before anything is inserted
    let (survey, hash) = std::thread::scope(|s| {
        let hash = s.spawn(|| bulk::hash_file(path));
        let survey = bulk::survey(path, layout, limits, catalog, registry, rules.years);
        (survey, hash.join().ok().flatten())
    });
    let (Some(survey), Some(hash)) = (survey, hash) else {
        return Ok(None);
    };
    trace.mark("surveyed (every line read, texts resolved, rows checked) and hashed");
    if store.revision_by_hash(&hash)?.is_some() {
        // the caller says it was imported before; there is nothing to insert
        return Ok(Some(Staged {
            rows: survey.rows,
            findings: Vec::new(),
            diff: (0, 0, 0),
            content_hash: hash,
        }));
    }
    let out = match insert(store, path, layout, catalog, rules, survey) {
        Ok(Some(mut staged)) => {
            staged.content_hash = hash;
            Ok(Some(staged))
        }
        other => other,
    };
    if !matches!(out, Ok(Some(_))) {
        store.drop_stage()?;
    }
    out
}

fn insert(
    store: &mut Store,
    path: &Path,
    layout: &Layout,
    catalog: &Catalog,
    rules: &Rules,
    survey: Survey,
) -> Result<Option<Staged>> {
    let c = &layout.columns;
    let trace = Trace::new();
    store.stage_maps(&survey.cities, &survey.combos, &survey.values)?;
    if !store.stage_insert(
        path,
        layout.delimiter,
        c,
        layout.table.header.len(),
        survey.rows,
        survey.first_rows,
    )? {
        return Ok(None);
    }
    trace.mark("rows inserted (not yet committed)");
    let file = layout.table.file.as_str();
    let mut jumps = Vec::new();
    for j in store.stage_jumps(rules.jump_factor)? {
        if let Some(msg) = catalog
            .get(&j.data_point)
            .and_then(|dp| jump_message(j.value, j.prev_year, j.prev_value, dp, rules.jump_factor))
        {
            let at = Some(layout.table.column_label(c.value));
            jumps.push((
                j.line,
                Finding::warning("jump_from_previous_year", file, msg).at(j.line, at),
            ));
        }
    }
    let findings = survey_findings(layout, catalog, survey.warnings, survey.missing_core, jumps);
    trace.mark("warnings");
    let diff = store.stage_diff(survey.rows)?;
    trace.mark("compared with the current values");
    Ok(Some(Staged {
        rows: survey.rows,
        findings,
        diff,
        content_hash: String::new(),
    }))
}

/// The findings of a surveyed file in the order the row-by-row path gives them: by line,
/// then city, value and jump (`jumps`, found by the caller, by line), then the core data
/// points missing by city and year.
fn survey_findings(
    layout: &Layout,
    catalog: &Catalog,
    warnings: Vec<RowWarning>,
    missing_core: Vec<(String, i32, String)>,
    jumps: Vec<(usize, Finding)>,
) -> Vec<Finding> {
    let c = &layout.columns;
    let file = layout.table.file.as_str();
    let loc = |i: usize| Some(layout.table.column_label(i));
    let mut located: Vec<(usize, u8, Finding)> = Vec::new();
    for w in warnings {
        match w {
            RowWarning::Former { line, message } => located.push((
                line,
                0,
                Finding::warning("former_municipality_number", file, message).at(line, loc(c.city)),
            )),
            RowWarning::Implausible {
                line,
                dp,
                value,
                city,
                year,
            } => {
                let dp = &catalog.data_points[dp];
                located.push((
                    line,
                    1,
                    Finding::warning("implausible_value", file, implausible_message(value, dp))
                        .at(line, loc(c.value))
                        .about(Subject {
                            city,
                            year,
                            data_point: Some(dp.id.clone()),
                            value: Some(value),
                        }),
                ));
            }
        }
    }
    located.extend(jumps.into_iter().map(|(line, f)| (line, 2, f)));
    located.sort_by_key(|(line, seq, _)| (*line, *seq));
    let mut findings: Vec<Finding> = located.into_iter().map(|(_, _, f)| f).collect();
    let mut missing: BTreeMap<(String, i32), BTreeSet<String>> = BTreeMap::new();
    for (city, year, dp) in missing_core {
        missing.entry((city, year)).or_default().insert(dp);
    }
    for ((city, year), absent) in &missing {
        findings.extend(
            missing_core_finding(catalog, file, city, *year, |id| !absent.contains(id)).map(|f| {
                f.about(Subject {
                    city: city.clone(),
                    year: *year,
                    data_point: None,
                    value: None,
                })
            }),
        );
    }
    findings
}

/// The most rows a `check` on the bulk path leaves to the row-by-row path before it gives the
/// whole file to it, and the most lines their cities and years may hold.
const MAX_DOUBTS: usize = 1000;
const MAX_DOUBT_LINES: usize = 200_000;

/// `check` of a large plain CSV file on the bulk path: the survey alone, with no database,
/// gives the row-by-row path's findings without holding the file in memory. Rows the survey
/// cannot vouch for (an unknown city, a value out of its limits, a duplicate, …) are checked
/// row by row with every other row of their city and year, so a world-size file with a bad
/// line is located without reading it into memory; their findings take the places the row
/// path gives them. `None`: the file is small or not plain, or has too many such rows (the
/// row-by-row path then takes the whole file).
pub fn check(
    ctx: &crate::context::Ctx,
    path: &Path,
    rules: &Rules,
) -> Result<Option<Vec<Finding>>> {
    let (catalog, registry, limits) = (&ctx.catalog, &ctx.registry, &ctx.limits);
    let trace = Trace::new();
    let Some(layout) = eligible(path, limits) else {
        return Ok(None);
    };
    let Some(survey) = bulk::survey_collecting(
        path,
        &layout,
        limits,
        catalog,
        registry,
        rules.years,
        MAX_DOUBTS,
    ) else {
        return Ok(None);
    };
    trace.mark("check: surveyed on the bulk path");
    if survey.doubts.is_empty() && survey.conflicts.is_empty() {
        return Ok(Some(survey_findings(
            &layout,
            catalog,
            survey.warnings,
            survey.missing_core,
            Vec::new(),
        )));
    }
    // the cities and years of the doubtful rows, by their texts and by what they name
    let mut texts = std::collections::HashSet::new();
    let mut groups: std::collections::HashSet<(String, i32)> =
        survey.conflicts.iter().cloned().collect();
    for (_, city, year) in &survey.doubts {
        if let Some(g) = bulk::city_year_of(city, year, registry, rules.years) {
            groups.insert(g);
        }
        texts.insert((city.clone(), year.clone()));
    }
    let wanted = bulk::Wanted {
        texts,
        groups,
        years: rules.years,
    };
    let Some((bytes, lines)) =
        bulk::lines_of(path, &layout, limits, registry, &wanted, MAX_DOUBT_LINES)
    else {
        return Ok(None);
    };
    let file = path.display().to_string();
    let Ok(mut table) = crate::submission::read::read_csv(&file, &bytes, limits) else {
        return Ok(None);
    };
    if table.rows.len() != lines.len() {
        return Ok(None);
    }
    for (row, line) in table.rows.iter_mut().zip(&lines) {
        row.line = *line;
    }
    let checked = super::check_table(ctx, table, rules, None)?;
    trace.mark("check: doubtful rows checked row by row");
    // the survey's findings for every other line and city-year, the row path's for these
    let taken: std::collections::HashSet<usize> = lines.iter().copied().collect();
    let warnings = survey
        .warnings
        .into_iter()
        .filter(|w| !taken.contains(&w.line()))
        .collect();
    let missing = survey
        .missing_core
        .into_iter()
        .filter(|(c, y, _)| !wanted.groups.contains(&(c.clone(), *y)))
        .collect();
    let mine = survey_findings(&layout, catalog, warnings, missing, Vec::new());
    Ok(Some(merge(mine, checked.findings)))
}

/// Two lists of findings in the row-by-row path's order, merged: findings on a line by line,
/// then the core data points missing by city and year.
fn merge(a: Vec<Finding>, b: Vec<Finding>) -> Vec<Finding> {
    let key = |f: &Finding| match f.line {
        Some(l) => (0, l, String::new(), 0),
        None => (
            1,
            0,
            f.subject
                .as_ref()
                .map(|s| s.city.clone())
                .unwrap_or_default(),
            f.subject.as_ref().map(|s| s.year).unwrap_or(0),
        ),
    };
    let mut all: Vec<Finding> = a.into_iter().chain(b).collect();
    // stable: within one line, or one city and year, the findings keep their order
    all.sort_by_key(key);
    all
}
