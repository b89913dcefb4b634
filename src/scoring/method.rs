//! Scoring method files (`kpis/methods/*.toml`).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub const DEFAULT: &str = include_str!("../../kpis/methods/default.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Normalisation {
    Goalposts,
    Minmax,
    Zscore,
    PercentileRank,
    DistanceToTarget,
    Grade,
}

impl Normalisation {
    pub fn as_str(self) -> &'static str {
        match self {
            Normalisation::Goalposts => "goalposts",
            Normalisation::Minmax => "minmax",
            Normalisation::Zscore => "zscore",
            Normalisation::PercentileRank => "percentile_rank",
            Normalisation::DistanceToTarget => "distance_to_target",
            Normalisation::Grade => "grade",
        }
    }
    /// The score onto [1, 100], for the geometric mean.
    pub fn positive(self, x: f64) -> f64 {
        match self {
            Normalisation::Zscore => (50.0 + 10.0 * x).clamp(1.0, 100.0),
            Normalisation::Grade => 1.0 + 99.0 * (x - 1.0) / 5.0,
            _ => 1.0 + 0.99 * x,
        }
    }
}

pub use crate::steps::Aggregation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Impute {
    None,
    PeerMedian,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outliers {
    None,
    Coinr,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uncertainty {
    pub draws: usize,
    pub seed: u64,
    pub weight_perturbation: f64,
    /// every target moved by an independent Uniform(1 - q, 1 + q) factor in each draw (the
    /// targets are the project's own, its largest assumption); 0 keeps them fixed
    #[serde(default)]
    pub target_perturbation: f64,
    pub normalisations: Vec<Normalisation>,
    pub aggregations: Vec<Aggregation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunMethod {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub normalisation: Normalisation,
    pub aggregation: Aggregation,
    pub coverage: f64,
    pub impute: Impute,
    pub outliers: Outliers,
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// Nodes aggregated otherwise than `aggregation` (by node code), e.g. a framework's
    /// per-node choice; they keep it in every Monte Carlo draw too.
    #[serde(default)]
    pub aggregation_by_node: BTreeMap<String, Aggregation>,
    /// Composite methods see counts that are not per inhabitant (Wi-Fi hotspots, open data
    /// sets, e-services) per 100 000 inhabitants, so that Oslo and Aukra compare on the same
    /// footing; U4SSC points keep the raw count.
    #[serde(default)]
    pub counts_per_100k: bool,
    pub uncertainty: Uncertainty,
}

impl RunMethod {
    pub fn parse(text: &str, origin: &str) -> Result<RunMethod> {
        let m: RunMethod =
            toml::from_str(text).map_err(|e| crate::error::toml_error(origin, text, &e))?;
        if !(0.0..=1.0).contains(&m.coverage) {
            return Err(Error::Invalid(format!(
                "{origin}: coverage must be between 0 and 1 (it is {})",
                m.coverage
            )));
        }
        if m.weights.values().any(|w| !w.is_finite() || *w < 0.0) {
            return Err(Error::Invalid(format!(
                "{origin}: weights must be zero or positive numbers"
            )));
        }
        if m.counts_per_100k
            && matches!(
                m.normalisation,
                Normalisation::Goalposts | Normalisation::DistanceToTarget
            )
        {
            return Err(Error::Invalid(format!(
                "{origin}: counts_per_100k needs a peer normalisation (minmax, zscore, percentile_rank or grade): goalposts and targets bound the raw count, not the count per 100 000 inhabitants"
            )));
        }
        let u = &m.uncertainty;
        if u.normalisations.is_empty() || u.aggregations.is_empty() {
            return Err(Error::Invalid(format!(
                "{origin}: [uncertainty] needs at least one normalisation and one aggregation"
            )));
        }
        if !(0.0..1.0).contains(&u.target_perturbation) {
            return Err(Error::Invalid(format!(
                "{origin}: target_perturbation must be in [0, 1)"
            )));
        }
        if !(0.0..1.0).contains(&u.weight_perturbation) {
            return Err(Error::Invalid(format!(
                "{origin}: weight_perturbation must be in [0, 1)"
            )));
        }
        Ok(m)
    }

    pub fn weight(&self, node: &str) -> f64 {
        self.weights.get(node).copied().unwrap_or(1.0)
    }
}

/// SHA-256 of a method file's text, stored with each run.
pub fn hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
