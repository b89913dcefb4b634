//! The composite-indicator pipeline (COINr-compatible): denominate, impute, treat outliers,
//! normalise, aggregate, rank. Works on any [`Framework`]; every stage's data set is kept.
//! Formulas and their COINr counterparts are in METHODOLOGY.md.

use crate::error::{Error, Result};
use crate::framework::{FNode, Framework, NodeKind};
use crate::stats;
use crate::steps::{impute_column, normalise_directed, Kernel, Stat};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

/// A unit (city, country) and its non-indicator columns.
#[derive(Debug, Clone, Serialize)]
pub struct Unit {
    pub code: String,
    pub name: Option<String>,
    pub time: Option<String>,
    pub groups: BTreeMap<String, String>,
    pub denominators: BTreeMap<String, Option<f64>>,
}

/// Units x columns of values (the iData wide shape).
#[derive(Debug, Clone)]
pub struct Panel {
    pub units: Vec<Unit>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<Option<f64>>>,
}

impl Panel {
    pub fn col(&self, code: &str) -> Option<usize> {
        self.columns.iter().position(|c| c == code)
    }
    /// Every column's position by code, for loops over many columns (one look-up each,
    /// not a search of the columns each).
    pub fn col_index(&self) -> HashMap<&str, usize> {
        self.columns
            .iter()
            .enumerate()
            .map(|(j, c)| (c.as_str(), j))
            .collect()
    }
    pub fn column(&self, j: usize) -> Vec<Option<f64>> {
        self.values.iter().map(|r| r[j]).collect()
    }
    pub fn set_column(&mut self, j: usize, v: &[Option<f64>]) {
        for (r, x) in self.values.iter_mut().zip(v) {
            r[j] = *x;
        }
    }
    pub fn get(&self, unit: &str, col: &str) -> Option<f64> {
        let i = self.units.iter().position(|u| u.code == unit)?;
        self.values[i][self.col(col)?]
    }

    /// Read COINr's iData table for a framework.
    /// One row per unit (the pipeline's cross-section).
    pub fn from_idata(text: &str, fw: &Framework, origin: &str) -> Result<Panel> {
        Panel::read_idata(text, fw, origin, false)
    }

    /// One row per unit and Time (several years of the same units).
    pub fn from_idata_years(text: &str, fw: &Framework, origin: &str) -> Result<Panel> {
        Panel::read_idata(text, fw, origin, true)
    }

    fn read_idata(text: &str, fw: &Framework, origin: &str, years: bool) -> Result<Panel> {
        let mut rdr = csv::ReaderBuilder::new().from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| Error::Invalid(format!("{origin}: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        // every indicator, scored or only shown
        let indicators: Vec<String> = fw
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Indicator)
            .map(|n| n.code.clone())
            .collect();
        let positions: HashMap<&str, usize> = header
            .iter()
            .enumerate()
            .rev()
            .map(|(i, h)| (h.as_str(), i))
            .collect();
        let pos = |name: &str| positions.get(name).copied();
        let known_indicators: HashSet<&str> = indicators.iter().map(String::as_str).collect();
        let c_code = pos("uCode")
            .ok_or_else(|| Error::Invalid(format!("{origin}:1: the column uCode is missing")))?;
        for (i, h) in header.iter().enumerate() {
            let known = ["uCode", "uName", "Time"].contains(&h.as_str())
                || fw.groups.contains(h)
                || fw.denominators.contains(h)
                || known_indicators.contains(h.as_str());
            if !known {
                return Err(Error::Invalid(format!(
                    "{origin}:1:{}: column '{h}' is not described in iMeta",
                    i + 1
                )));
            }
        }
        for ind in &indicators {
            if pos(ind).is_none() {
                return Err(Error::Invalid(format!(
                    "{origin}:1: indicator '{ind}' from iMeta has no column"
                )));
            }
        }
        let indicator_cols: Vec<usize> = indicators.iter().map(|i| pos(i).unwrap_or(0)).collect();
        let mut seen_units: HashSet<(String, Option<String>)> = HashSet::new();
        let mut panel = Panel {
            units: vec![],
            columns: indicators.clone(),
            values: vec![],
        };
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| Error::Invalid(format!("{origin}:{line}: {e}")))?;
            let cell = |c: usize| {
                rec.get(c)
                    .map(str::trim)
                    .filter(|s| !s.is_empty() && *s != "NA")
            };
            for (c, text) in rec.iter().enumerate() {
                if let Some((at, ch)) = crate::text::first_control(text, false) {
                    return Err(Error::Invalid(format!(
                        "{origin}:{line}:{}: {} holds the control character {} at character {at}; remove it",
                        c + 1,
                        crate::text::shown(text),
                        crate::text::code_point(ch)
                    )));
                }
            }
            let num = |c: usize| -> Result<Option<f64>> {
                match cell(c) {
                    None => Ok(None),
                    Some(s) => match s.parse::<f64>() {
                        Ok(v) if v.is_finite() && v.abs() <= stats::MAX_MAGNITUDE => Ok(Some(v)),
                        Ok(_) => Err(Error::Invalid(format!(
                            "{origin}:{line}:{}: '{s}' is out of range: values beyond ±1e100 would overflow the arithmetic",
                            c + 1
                        ))),
                        Err(_) => Err(Error::Invalid(format!(
                            "{origin}:{line}:{}: '{s}' is not a number",
                            c + 1
                        ))),
                    },
                }
            };
            let mut unit = Unit {
                code: cell(c_code)
                    .ok_or_else(|| Error::Invalid(format!("{origin}:{line}: uCode is empty")))?
                    .to_string(),
                name: pos("uName").and_then(&cell).map(String::from),
                time: pos("Time").and_then(&cell).map(String::from),
                groups: BTreeMap::new(),
                denominators: BTreeMap::new(),
            };
            for g in &fw.groups {
                if let Some(c) = pos(g) {
                    if let Some(v) = cell(c) {
                        unit.groups.insert(g.clone(), v.to_string());
                    }
                }
            }
            for d in &fw.denominators {
                if let Some(c) = pos(d) {
                    unit.denominators.insert(d.clone(), num(c)?);
                }
            }
            let mut row = Vec::with_capacity(indicators.len());
            for &c in &indicator_cols {
                row.push(num(c)?);
            }
            let key = (
                unit.code.clone(),
                if years { unit.time.clone() } else { None },
            );
            if !seen_units.insert(key) {
                return Err(Error::Invalid(format!(
                    "{origin}:{line}: unit '{}' appears twice{}",
                    unit.code,
                    if years {
                        " for the same Time"
                    } else {
                        " (several years of the same units: `u4ssc framework` scores each year)"
                    }
                )));
            }
            panel.units.push(unit);
            panel.values.push(row);
        }
        Ok(panel)
    }

    /// Write the iData wide shape: unit columns, groups, then the given columns.
    pub fn to_csv(&self, groups: &[String]) -> String {
        let mut w = crate::table::CsvOut::new();
        let mut head = vec!["uCode".to_string(), "uName".to_string(), "Time".to_string()];
        head.extend(groups.iter().cloned());
        head.extend(self.columns.iter().cloned());
        w.row(&head);
        for (u, row) in self.units.iter().zip(&self.values) {
            let mut rec = vec![
                u.code.clone(),
                u.name.clone().unwrap_or_default(),
                u.time.clone().unwrap_or_default(),
            ];
            for g in groups {
                rec.push(u.groups.get(g).cloned().unwrap_or_default());
            }
            rec.extend(
                row.iter()
                    .map(|v| v.map(|x| format!("{x}")).unwrap_or_default()),
            );
            w.row(&rec);
        }
        w.into_string()
    }
}

// ---------------------------------------------------------------- method

pub use crate::scoring::method::{CoverageOf, Impute, Method, Normalisation};
pub use crate::steps::Aggregation;
pub use crate::steps::{treat_column, Treat, TreatMethod, TreatReport};

/// How the results rank the scores.
#[derive(Debug, Clone, Default)]
pub struct Rank {
    /// Rank the scores rounded to this many decimals (COINr's results tables rank the scores
    /// as rounded for display, so that 6.616 and 6.619 share a rank at 2 decimals).
    pub decimals: Option<i32>,
}

impl Rank {
    pub fn ranks(&self, col: &[Option<f64>]) -> Vec<Option<usize>> {
        stats::rank_desc_rounded(col, self.decimals)
    }
}

// ---------------------------------------------------------------- stages

pub fn denominate(panel: &Panel, fw: &Framework) -> Panel {
    let mut out = panel.clone();
    let cols = panel.col_index();
    for n in fw.indicators() {
        let (Some(d), Some(&j)) = (&n.denominator, cols.get(n.code.as_str())) else {
            continue;
        };
        for (i, u) in panel.units.iter().enumerate() {
            let den = u.denominators.get(d).copied().flatten();
            out.values[i][j] = match (panel.values[i][j], den) {
                // a ratio that overflows (a tiny denominator) is no value, never ±infinity
                (Some(x), Some(den)) if den != 0.0 => Some(x / den).filter(|v| v.is_finite()),
                _ => None,
            };
        }
    }
    out
}

/// Fill missing values. Returns the panel and the (unit, column) cells that were imputed.
pub fn impute(panel: &Panel, m: &Method) -> Result<(Panel, Vec<(usize, usize)>)> {
    let mut out = panel.clone();
    let mut filled = Vec::new();
    let group = match m.impute {
        Impute::None => return Ok((out, filled)),
        Impute::PeerMedian => {
            return Err(Error::Invalid(
                "impute 'peer_median' takes the registry's KOSTRA groups, which a framework has not; the pipeline imputes with group_median and [impute] group = a group column".into(),
            ))
        }
        Impute::GroupMean | Impute::GroupMedian => Some(m.impute_group.clone().ok_or_else(|| {
            Error::Invalid("the method imputes by group but names no [impute] group".into())
        })?),
        Impute::Mean | Impute::Median => None,
    };
    let keys: Option<Vec<Option<String>>> = group.as_ref().map(|g| {
        panel
            .units
            .iter()
            .map(|u| u.groups.get(g).cloned())
            .collect()
    });
    let stat = match m.impute {
        Impute::Mean | Impute::GroupMean => Stat::Mean,
        _ => Stat::Median,
    };
    for j in 0..panel.columns.len() {
        // COINr leaves a unit without a group, or whose group has no value, missing
        for (i, v) in impute_column(&panel.column(j), keys.as_deref(), stat, false) {
            out.values[i][j] = Some(v);
            filled.push((i, j));
        }
    }
    Ok((out, filled))
}

pub fn treat(panel: &Panel, t: &Treat) -> (Panel, Vec<TreatReport>) {
    let mut out = panel.clone();
    let mut reps = Vec::new();
    for j in 0..panel.columns.len() {
        let (v, mut r) = treat_column(&panel.column(j), t);
        r.column = panel.columns[j].clone();
        out.set_column(j, &v);
        reps.push(r);
    }
    (out, reps)
}

/// Normalise one column of an indicator (direction applied).
pub fn normalise_column(col: &[Option<f64>], node: &FNode, n: &Method) -> Result<Vec<Option<f64>>> {
    let d = node.direction;
    let directed: Vec<Option<f64>> = col.iter().map(|v| v.map(|v| v * d)).collect();
    let (lower, upper) = (n.lower, n.upper);
    let kernel = match n.normalisation {
        Normalisation::Minmax => Kernel::Minmax { lower, upper },
        Normalisation::Zscore => Kernel::Zscore {
            mean: n.zscore_mean,
            sd: n.zscore_sd,
        },
        Normalisation::Rank => Kernel::Rank,
        Normalisation::Grade => Kernel::Grade,
        Normalisation::PercentileRank => Kernel::PercentileRank { lower, upper },
        Normalisation::DistanceToTarget => Kernel::DistanceToTarget {
            target: Some(
                node.target.ok_or_else(|| {
                    Error::Invalid(format!(
                        "indicator '{}' has no target for distance-to-target normalisation",
                        node.code
                    ))
                })? * d,
            ),
            lower,
            upper,
            cap: n.cap,
        },
        Normalisation::Goalposts => {
            let gp = node.goalposts.clone().ok_or_else(|| {
                Error::Invalid(format!(
                    "indicator '{}' has no goalposts for goalpost normalisation",
                    node.code
                ))
            })?;
            let (worst, best) = if d > 0.0 {
                (gp.lower, gp.upper)
            } else {
                (gp.upper, gp.lower)
            };
            return Ok(col
                .iter()
                .map(|v| {
                    v.map(|v| {
                        let mut s = crate::steps::goalpost_share(v, worst, best, d > 0.0);
                        if gp.truncate {
                            s = s.clamp(0.0, 1.0);
                        }
                        s * gp.scale
                    })
                })
                .collect());
        }
    };
    Ok(normalise_directed(&directed, kernel).0)
}

pub fn normalise(panel: &Panel, fw: &Framework, n: &Method) -> Result<Panel> {
    let mut out = panel.clone();
    let nodes = fw.by_code();
    for (j, code) in panel.columns.iter().enumerate() {
        let Some(node) = nodes.get(code.as_str()) else {
            continue;
        };
        let v = normalise_column(&panel.column(j), node, n)?;
        out.set_column(j, &v);
    }
    Ok(out)
}

pub use crate::steps::weighted_mean;

/// Add every aggregate as a column, bottom-up, by the one aggregation both engines use
/// (`aggregate_tree`). A node takes iMeta's `Aggregation`, else the method's
/// `[aggregation_by_node]` (`overall` names the index), else the method's; a weight is the
/// method's `[weights]` entry for the code, else iMeta's.
pub fn aggregate(panel: &Panel, fw: &Framework, m: &Method) -> Panel {
    use crate::scoring::engine::{aggregate_tree, Rule, Scale, Tree};
    let mut out = panel.clone();
    let tree = Tree::from_framework(fw);
    let cols = panel.col_index();
    let by_code = fw.by_code();
    let indicators: Vec<&FNode> = fw.indicators().collect();
    let dp_scores: Vec<Vec<Option<f64>>> = indicators
        .iter()
        .map(|n| match cols.get(n.code.as_str()) {
            Some(&j) => panel.column(j),
            None => vec![None; panel.units.len()],
        })
        .collect();
    let weight = |code: &str| {
        m.weights
            .get(code)
            .copied()
            .or_else(|| by_code.get(code).map(|n| n.weight))
            .unwrap_or(1.0)
    };
    let weights: Vec<f64> = indicators
        .iter()
        .map(|n| weight(&n.code))
        .chain(tree.nodes.iter().map(|n| weight(&n.code)))
        .collect();
    let how: Vec<Aggregation> = tree
        .nodes
        .iter()
        .map(|n| {
            let node = by_code.get(n.code.as_str());
            let key = match node {
                Some(f) if f.parent.is_none() => "overall",
                _ => n.code.as_str(),
            };
            node.and_then(|f| f.aggregation)
                .or_else(|| m.aggregation_by_node.get(key).copied())
                .unwrap_or(m.aggregation)
        })
        .collect();
    let rule = Rule {
        coverage: m.coverage,
        coverage_of: m.coverage_of,
        scale: Scale::default(),
    };
    let scores = aggregate_tree(
        &tree,
        &dp_scores,
        panel.units.len(),
        &weights,
        &how,
        &rule,
        None,
    );
    for (n, col) in tree.nodes.iter().zip(scores.node) {
        out.columns.push(n.code.clone());
        for (r, v) in out.values.iter_mut().zip(col) {
            r.push(v);
        }
    }
    out
}

/// Everything a pipeline run produced.
pub struct Outcome {
    pub rank: Rank,
    pub denominated: Panel,
    pub imputed: Panel,
    pub imputed_cells: Vec<(usize, usize)>,
    pub treated: Panel,
    pub treatment: Vec<TreatReport>,
    pub normalised: Panel,
    pub aggregated: Panel,
}

pub fn run(raw: &Panel, fw: &Framework, m: &Method) -> Result<Outcome> {
    let denominated = if m.denominate {
        denominate(raw, fw)
    } else {
        raw.clone()
    };
    let (imputed, imputed_cells) = impute(&denominated, m)?;
    let (treated, treatment) = treat(&imputed, &m.treat);
    let normalised = normalise(&treated, fw, m)?;
    let aggregated = aggregate(&normalised, fw, m);
    Ok(Outcome {
        rank: Rank {
            decimals: m.rank_decimals,
        },
        denominated,
        imputed,
        imputed_cells,
        treated,
        treatment,
        normalised,
        aggregated,
    })
}

impl Outcome {
    /// results.csv: one row per unit and aggregate: unit, node, score, rank.
    pub fn results_csv(&self, fw: &Framework) -> String {
        let mut w = crate::table::CsvOut::new();
        w.row(["uCode", "iCode", "Level", "score", "rank"]);
        let p = &self.aggregated;
        for node in fw.aggregates_bottom_up().into_iter().rev() {
            let Some(j) = p.col(&node.code) else { continue };
            let col = p.column(j);
            let ranks = self.rank.ranks(&col);
            for (i, u) in p.units.iter().enumerate() {
                w.row([
                    u.code.clone(),
                    node.code.clone(),
                    node.level.to_string(),
                    col[i].map(|v| format!("{v}")).unwrap_or_default(),
                    ranks[i].map(|r| r.to_string()).unwrap_or_default(),
                ]);
            }
        }
        w.into_string()
    }

    /// dashboard.csv: one row per unit and indicator with dashboard thresholds: the value
    /// (after denomination) and its light. Empty when no indicator has thresholds.
    pub fn dashboard_csv(&self, fw: &Framework) -> Option<String> {
        let nodes: Vec<&FNode> = fw.nodes.iter().filter(|n| n.dashboard.is_some()).collect();
        if nodes.is_empty() {
            return None;
        }
        let mut w = crate::table::CsvOut::new();
        w.row(["uCode", "Time", "iCode", "value", "light"]);
        let p = &self.denominated;
        let cols = p.col_index();
        for u in 0..p.units.len() {
            for n in &nodes {
                let value = cols.get(n.code.as_str()).and_then(|&j| p.values[u][j]);
                w.row([
                    p.units[u].code.clone(),
                    p.units[u].time.clone().unwrap_or_default(),
                    n.code.clone(),
                    value.map(|v| format!("{v}")).unwrap_or_default(),
                    value
                        .and_then(|v| n.light(v))
                        .map(|l| l.as_str().to_string())
                        .unwrap_or_default(),
                ]);
            }
        }
        Some(w.into_string())
    }

    /// Write every stage and the results into `dir`.
    pub fn write(&self, fw: &Framework, dir: &Path) -> Result<Vec<String>> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Write {
            path: dir.into(),
            source,
        })?;
        let mut files = vec![
            ("stage_denominated.csv", self.denominated.to_csv(&fw.groups)),
            ("stage_imputed.csv", self.imputed.to_csv(&fw.groups)),
            ("stage_treated.csv", self.treated.to_csv(&fw.groups)),
            ("stage_normalised.csv", self.normalised.to_csv(&fw.groups)),
            ("stage_aggregated.csv", self.aggregated.to_csv(&fw.groups)),
            ("results.csv", self.results_csv(fw)),
        ];
        if let Some(d) = self.dashboard_csv(fw) {
            files.push(("dashboard.csv", d));
        }
        let mut written = Vec::new();
        for (name, text) in files {
            crate::files::write_atomic(dir, name, text.as_bytes())?;
            written.push(name.to_string());
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests;
