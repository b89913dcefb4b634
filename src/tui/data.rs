//! What the TUI shows: a snapshot of one run and year, loaded by the worker thread through
//! the store's methods (the TUI itself runs no SQL).

use crate::app::Ctx;
use crate::error::Result;
use crate::scoring::engine::{DpScore, Level, NodeScore};
use crate::scoring::trends::Trend;
use crate::store::{Access, CurrentValue, RevisionInfo, RunInfo};

#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    pub demo: bool,
    pub db: String,
    pub runs: Vec<RunInfo>,
    pub run: Option<RunInfo>,
    pub years: Vec<i32>,
    pub year: i32,
    /// every node of the year
    pub nodes: Vec<NodeScore>,
    /// overall scores of every year, for sparklines
    pub overall_years: Vec<NodeScore>,
    /// dimension scores of every year
    pub dimension_years: Vec<NodeScore>,
    pub dps: Vec<DpScore>,
    pub trends: Vec<Trend>,
    /// current values of every year (status view)
    pub values: Vec<CurrentValue>,
    pub revisions: Vec<RevisionInfo>,
    /// findings stored with the latest submission revision
    pub findings: Vec<crate::store::StoredFinding>,
}

/// Load a snapshot: the given run (or the latest) and year (or the run's latest).
pub fn load(ctx: &Ctx, run: Option<i64>, year: Option<i32>) -> Result<Snapshot> {
    let store = ctx.open(Access::ReadOnly)?;
    let runs = store.runs()?;
    let run = match run {
        Some(id) => runs.iter().find(|r| r.run_id == id).cloned(),
        None => runs.last().cloned(),
    };
    let revisions = store.revisions()?;
    let values = store.current_values()?;
    let mut snap = Snapshot {
        demo: revisions.iter().any(|r| r.kind == "demo"),
        db: ctx.db.display().to_string(),
        runs: runs.clone(),
        run: run.clone(),
        values,
        ..Snapshot::default()
    };
    if let Some(latest) = revisions.iter().rev().find(|r| r.kind == "submission") {
        snap.findings = store.findings(latest.revision_id)?;
    }
    snap.revisions = revisions;
    let Some(run) = run else { return Ok(snap) };
    snap.overall_years = store.node_scores(run.run_id, Some(Level::Overall), None)?;
    snap.dimension_years = store.node_scores(run.run_id, Some(Level::Dimension), None)?;
    let mut years: Vec<i32> = snap.overall_years.iter().map(|n| n.year).collect();
    years.sort_unstable();
    years.dedup();
    let y = year
        .filter(|y| years.contains(y))
        .or(years.last().copied())
        .unwrap_or(0);
    snap.year = y;
    snap.years = years;
    snap.nodes = store.node_scores(run.run_id, None, Some(y))?;
    snap.dps = store.dp_scores(run.run_id, None, Some(y))?;
    snap.trends = store.trends(run.run_id, None)?;
    Ok(snap)
}
