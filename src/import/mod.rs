//! Checking and importing submission files, in one place for both paths: large plain CSV
//! files go the bulk path ([`bulk`]: DuckDB reads the file, one pass in Rust checks it),
//! everything else row by row; both give the same findings and the same revision. One
//! [`Rules`] says how a file is checked, one [`FileReport`] says what happened to it; the
//! CLI prints reports as text or JSON.

pub mod bulk;

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::store::{CurrentValue, NewRevision, RevisionInfo, Store};
use crate::submission::layout::Given;
use crate::submission::validate::{self, Options, Years};
use crate::submission::{read_table, Finding, Observation, Severity, Table};
use std::collections::HashMap;
use std::path::Path;

/// How a file is checked besides its own rules (the one settings type of `check` and
/// `import`, on both paths).
#[derive(Debug, Clone)]
pub struct Rules {
    /// A value this many times last year's (or its fraction) is a warning.
    pub jump_factor: f64,
    /// A value this many times the network median (or its fraction) is a peer outlier;
    /// infinite turns the check off (import leaves it to `check --db`).
    pub peer_factor: f64,
    pub years: Years,
    /// The city or year a file's layout leaves out (`--city`, `--year`).
    pub given: Given,
    /// Earlier values from a file (`check --previous`), besides the database's.
    pub previous: validate::History,
}

impl Default for Rules {
    fn default() -> Self {
        let o = Options::default();
        Rules {
            jump_factor: o.jump_factor,
            peer_factor: o.peer_factor,
            years: o.years,
            given: Given::default(),
            previous: validate::History::new(),
        }
    }
}

/// What checking one file gives.
pub struct Checked {
    /// The table and its observations, when the file has no error.
    pub accepted: Option<(Table, Vec<Observation>)>,
    pub findings: Vec<Finding>,
    /// The current values of the cities the file names (for the diff of an import).
    pub current: Vec<CurrentValue>,
}

/// Read and validate one file; with a store, against the current values of the cities it
/// names (the year-to-year jump check) and the whole network's (the peer-outlier check).
pub fn check_file(ctx: &Ctx, file: &Path, rules: &Rules, store: Option<&Store>) -> Result<Checked> {
    let rejected = |findings| Checked {
        accepted: None,
        findings,
        current: Vec::new(),
    };
    let table = match read_table(file, &ctx.limits) {
        Err(findings) => return Ok(rejected(findings)),
        Ok(table) => table,
    };
    check_table(ctx, table, rules, store)
}

/// [`check_file`] of a table already read.
pub(crate) fn check_table(
    ctx: &Ctx,
    table: crate::submission::read::Table,
    rules: &Rules,
    store: Option<&Store>,
) -> Result<Checked> {
    let rejected = |findings| Checked {
        accepted: None,
        findings,
        current: Vec::new(),
    };
    let given = resolve_given(ctx, &rules.given)?;
    let table = match crate::submission::layout::to_long(table, &ctx.catalog, &ctx.registry, &given)
    {
        Err(findings) => return Ok(rejected(findings)),
        Ok((table, _shape)) => table,
    };
    let (current, peers) = match store {
        Some(s) => {
            let all = s.current_values()?;
            let mut peers = validate::Peers::new();
            for v in &all {
                if let Some(x) = v.value {
                    peers
                        .entry((v.data_point.clone(), v.year))
                        .or_default()
                        .push((v.city.clone(), x));
                }
            }
            let named = cities_named(ctx, &table);
            let current: Vec<_> = all
                .into_iter()
                .filter(|v| named.binary_search(&v.city).is_ok())
                .collect();
            (current, peers)
        }
        None => (Vec::new(), validate::Peers::new()),
    };
    let mut history = crate::store::history_of(&current);
    for (k, mut v) in rules.previous.clone() {
        history.entry(k).or_default().append(&mut v);
    }
    let opts = Options {
        jump_factor: rules.jump_factor,
        peer_factor: rules.peer_factor,
        years: rules.years,
        history,
        peers,
    };
    let checked = validate::validate(&table, &ctx.catalog, &ctx.registry, &opts);
    let ok = checked.errors() == 0;
    Ok(Checked {
        accepted: ok.then_some((table, checked.observations)),
        findings: checked.findings,
        current,
    })
}

/// Every finding of one file as `check` gives it (without --previous), with a store for the
/// jump and peer checks.
pub fn findings_of(ctx: &Ctx, file: &Path, store: Option<&Store>) -> Result<Vec<Finding>> {
    check_findings(ctx, file, &Rules::default(), store)
}

/// Every finding of one file, as `check` reports them. A large plain CSV file checked on its
/// own (no database, no `--previous`, no `--city`/`--year`) takes the bulk path, which gives
/// the same findings without holding the file in memory; anything else goes row by row.
pub fn check_findings(
    ctx: &Ctx,
    file: &Path,
    rules: &Rules,
    store: Option<&Store>,
) -> Result<Vec<Finding>> {
    let alone = store.is_none()
        && rules.previous.is_empty()
        && rules.given.city.is_none()
        && rules.given.year.is_none();
    if alone {
        if let Some(findings) = bulk::check(ctx, file, rules)? {
            return Ok(findings);
        }
    }
    Ok(check_file(ctx, file, rules, store)?.findings)
}

/// The values of last year's file (`check --previous`), as history for the jump check. A
/// file that does not read or has errors is refused: a comparison with half a file misleads.
pub fn previous_history(ctx: &Ctx, file: &Path, given: &Given) -> Result<validate::History> {
    let rules = Rules {
        jump_factor: f64::INFINITY,
        peer_factor: f64::INFINITY,
        given: Given {
            city: given.city.clone(),
            year: None,
        },
        ..Rules::default()
    };
    let checked = check_file(ctx, file, &rules, None)?;
    let Some((_, obs)) = checked.accepted else {
        let first = checked
            .findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .map(|f| f.to_string())
            .unwrap_or_default();
        return Err(Error::Usage(format!(
            "--previous {} has errors, so it cannot be compared with; check it first:\n{first}",
            file.display()
        )));
    };
    let mut h = validate::History::new();
    for o in obs {
        if let Some(v) = o.value {
            h.entry((o.city, o.data_point))
                .or_default()
                .push((o.year, v));
        }
    }
    Ok(h)
}

/// `--city` as a registry slug (an unknown one is a usage error with a suggestion).
pub fn resolve_given(ctx: &Ctx, given: &Given) -> Result<Given> {
    let city = match &given.city {
        None => None,
        Some(text) => Some(
            ctx.registry
                .slug_for(text, given.year)
                .map_err(|e| match e {
                    Error::Usage(m) => Error::Usage(format!("--city {m}")),
                    e => e,
                })?,
        ),
    };
    Ok(Given {
        city,
        year: given.year,
    })
}

/// The registry cities a table's rows can name: each distinct city cell resolved as
/// validation resolves it (with its row's year, for former municipality numbers, and
/// without). A cell that names none is an error validation reports.
fn cities_named(ctx: &Ctx, table: &crate::submission::Table) -> Vec<String> {
    let (col, _) = validate::header_columns(table);
    let Some(&ci) = col.get("city") else {
        return Vec::new();
    };
    let yi = col.get("year").copied();
    let mut texts: std::collections::BTreeSet<(&str, Option<i32>)> = Default::default();
    for r in &table.rows {
        let Some(city) = r.cells.get(ci) else {
            continue;
        };
        let year = yi
            .and_then(|i| r.cells.get(i))
            .and_then(|y| y.trim().parse::<i32>().ok());
        texts.insert((city.as_str(), year));
    }
    let mut slugs: std::collections::BTreeSet<String> = Default::default();
    for (text, year) in texts {
        for y in [year, None] {
            if let Some((c, _)) = ctx.registry.resolve(text, y) {
                slugs.insert(c.slug.clone());
            }
        }
    }
    slugs.into_iter().collect()
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Imported,
    /// `--dry-run`: what would change; nothing written.
    DryRun,
    /// The file has errors; nothing written.
    NotImported,
    /// A revision with the same content exists; nothing to do.
    AlreadyImported,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Imported => "imported",
            Outcome::DryRun => "dry_run",
            Outcome::NotImported => "not_imported",
            Outcome::AlreadyImported => "already_imported",
        }
    }
}

/// The one report of importing a file, whichever path took it.
#[derive(Debug, Clone)]
pub struct FileReport {
    pub file: String,
    pub outcome: Outcome,
    /// The revision written (or, when already imported, the one that holds the file).
    pub revision: Option<i64>,
    /// When the earlier revision was imported (already imported only).
    pub imported_at: Option<String>,
    /// (rows, new, changed, unchanged) against the current values.
    pub counts: Option<(usize, usize, usize, usize)>,
    pub findings: Vec<Finding>,
}

impl FileReport {
    fn new(file: &Path, outcome: Outcome) -> FileReport {
        FileReport {
            file: file.display().to_string(),
            outcome,
            revision: None,
            imported_at: None,
            counts: None,
            findings: Vec::new(),
        }
    }

    fn already(file: &Path, r: &RevisionInfo) -> FileReport {
        FileReport {
            revision: Some(r.revision_id),
            imported_at: Some(r.imported_at.clone()),
            ..FileReport::new(file, Outcome::AlreadyImported)
        }
    }

    /// The report as people read it: the findings, then one line of what happened.
    pub fn text(&self) -> String {
        let f = &self.file;
        if self.outcome == Outcome::AlreadyImported {
            // to the second, as `revisions` prints it
            let at = self.imported_at.as_deref().unwrap_or("");
            return format!(
                "{f}: already imported as revision {} ({}); nothing to do\n",
                self.revision.unwrap_or_default(),
                at.get(..19).unwrap_or(at)
            );
        }
        let mut text = crate::submission::grouped_text(&self.findings);
        let what = match self.counts {
            Some((rows, new, changed, same)) => {
                format!("{rows} rows: {new} new, {changed} changed, {same} unchanged values")
            }
            None => String::new(),
        };
        text.push_str(&match self.outcome {
            Outcome::NotImported => {
                format!("{f}: not imported: fix the errors above and import again\n")
            }
            Outcome::DryRun => format!("{f}: would import {what} (dry run: nothing written)\n"),
            _ => format!(
                "{f}: imported as revision {}, {what}\n",
                self.revision.unwrap_or_default()
            ),
        });
        text
    }

    /// The report for `import --format json` (keys in alphabetical order, as before).
    pub fn json(&self) -> serde_json::Value {
        let (rows, new, changed, unchanged) = match self.counts {
            Some((r, n, c, u)) => (Some(r), Some(n), Some(c), Some(u)),
            None => (None, None, None, None),
        };
        serde_json::json!({
            "file": self.file, "outcome": self.outcome.as_str(), "revision": self.revision,
            "rows": rows, "new": new, "changed": changed, "unchanged": unchanged,
            "findings": self.findings,
        })
    }
}

/// Import one file as one revision (all or nothing): the bulk path when the file is large
/// and plain and the bulk path is sure of it, row by row otherwise.
pub fn import_file(
    ctx: &Ctx,
    store: &mut Store,
    file: &Path,
    rules: &Rules,
    dry_run: bool,
) -> Result<FileReport> {
    if let Some(report) = import_bulk(ctx, store, file, rules, dry_run)? {
        return Ok(report);
    }
    let checked = check_file(ctx, file, rules, Some(store))?;
    // a file imported before is said so, without its warnings again
    if let Some((table, _)) = &checked.accepted {
        if let Some(r) = store.revision_by_hash(&table.content_hash)? {
            return Ok(FileReport::already(file, &r));
        }
    }
    let findings = checked.findings;
    let Some((table, obs)) = checked.accepted else {
        return Ok(FileReport {
            findings,
            ..FileReport::new(file, Outcome::NotImported)
        });
    };
    // one read of the current values of the file's cities served the jump check and
    // serves the diff
    let current: HashMap<(String, i32, String), Option<f64>> = checked
        .current
        .into_iter()
        .map(|v| ((v.city, v.year, v.data_point), v.value))
        .collect();
    let (mut new, mut changed, mut same) = (0, 0, 0);
    for o in &obs {
        match current.get(&(o.city.clone(), o.year, o.data_point.clone())) {
            None => new += 1,
            Some(v) if *v == o.value => same += 1,
            Some(_) => changed += 1,
        }
    }
    let counts = Some((obs.len(), new, changed, same));
    if dry_run {
        return Ok(FileReport {
            counts,
            findings,
            ..FileReport::new(file, Outcome::DryRun)
        });
    }
    crate::progress::note("import", &format!("storing {}", file.display()));
    let id = store.insert_revision_with_findings(
        &NewRevision {
            source_file: &file_name(file),
            content_hash: &table.content_hash,
            format: table.format.as_str(),
            kind: crate::store::RevisionKind::Submission,
        },
        &obs,
        &findings,
    )?;
    Ok(FileReport {
        revision: Some(id),
        counts,
        findings,
        ..FileReport::new(file, Outcome::Imported)
    })
}

fn file_name(file: &Path) -> String {
    file.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Import a large plain CSV file through the bulk path. `None`: the file is small or not
/// plain, or something in it needs the row-by-row path to be located and explained.
fn import_bulk(
    ctx: &Ctx,
    store: &mut Store,
    file: &Path,
    rules: &Rules,
    dry_run: bool,
) -> Result<Option<FileReport>> {
    let trace = crate::trace::Trace::new();
    let Some(layout) = bulk::eligible(file, &ctx.limits) else {
        return Ok(None);
    };
    let Some(staged) = bulk::stage(
        store,
        file,
        &layout,
        &ctx.catalog,
        &ctx.registry,
        rules,
        &ctx.limits,
    )?
    else {
        return Ok(None);
    };
    if let Some(r) = store.revision_by_hash(&staged.content_hash)? {
        store.drop_stage()?;
        return Ok(Some(FileReport::already(file, &r)));
    }
    let (new, changed, same) = staged.diff;
    let counts = Some((staged.rows, new, changed, same));
    if dry_run {
        store.drop_stage()?;
        return Ok(Some(FileReport {
            counts,
            findings: staged.findings,
            ..FileReport::new(file, Outcome::DryRun)
        }));
    }
    let id = store.commit_staged(
        &NewRevision {
            source_file: &file_name(file),
            content_hash: &staged.content_hash,
            format: "csv",
            kind: crate::store::RevisionKind::Submission,
        },
        staged.rows,
        &staged.findings,
    )?;
    trace.mark("stored");
    Ok(Some(FileReport {
        revision: Some(id),
        counts,
        findings: staged.findings,
        ..FileReport::new(file, Outcome::Imported)
    }))
}
