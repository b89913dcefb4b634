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
    /// COINr's `n_rank`: ascending ranks, the best the highest (the pipeline's; the engine
    /// takes it too)
    Rank,
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
            Normalisation::Rank => "rank",
        }
    }
    /// The score onto [1, 100], for the geometric mean.
    pub fn positive(self, x: f64) -> f64 {
        match self {
            Normalisation::Zscore => (50.0 + 10.0 * x).clamp(1.0, 100.0),
            Normalisation::Grade => 1.0 + 99.0 * (x - 1.0) / 5.0,
            // ranks start at 1
            Normalisation::Rank => x.max(1.0),
            _ => 1.0 + 0.99 * x,
        }
    }
}

pub use crate::steps::Aggregation;
pub use crate::steps::{Treat, TreatMethod};

/// How missing values are filled before composite scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Impute {
    /// No imputation; aggregates use the available values.
    #[default]
    None,
    /// The median of the city's KOSTRA group, else of every city (U4SSC engine).
    PeerMedian,
    /// The mean or median of every unit (COINr `i_mean`, `i_median`).
    Mean,
    Median,
    /// The mean or median of the unit's group, `impute_group` naming the group column (COINr
    /// `indgroup_mean`, `indgroup_median`); a unit without one stays missing.
    GroupMean,
    GroupMedian,
}

impl Impute {
    pub fn as_str(self) -> &'static str {
        match self {
            Impute::None => "none",
            Impute::PeerMedian => "peer_median",
            Impute::Mean => "mean",
            Impute::Median => "median",
            Impute::GroupMean => "group_mean",
            Impute::GroupMedian => "group_median",
        }
    }
}

/// What the coverage share of an aggregate counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoverageOf {
    /// The data points (indicators) anywhere under the node: U4SSC's and the JRC's rule of
    /// thumb ("65 % of the data"), the default of the U4SSC method files.
    DataPoints,
    /// The node's direct children: COINr's `dat_thresh`, the default of the stage layout.
    Children,
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

/// A scoring method: one type for the U4SSC engine (`score`) and the COINr stage runner
/// (`pipeline`), read from either layout of a method file — the flat U4SSC keys
/// (`normalisation`, `aggregation`, `coverage`, `impute`, `outliers`, …) or COINr's stages
/// (`[denominate]`, `[impute]`, `[treat]`, `[normalise]`, `[aggregate]`, `[rank]`).
#[derive(Debug, Clone, Serialize)]
pub struct Method {
    pub name: String,
    pub description: String,
    pub normalisation: Normalisation,
    /// The scale of min-max, percentile rank and distance to target (COINr's `l_u`).
    pub lower: f64,
    pub upper: f64,
    /// The mean and standard deviation z-scores are given.
    pub zscore_mean: f64,
    pub zscore_sd: f64,
    /// Distance to target capped at the target.
    pub cap: bool,
    pub aggregation: Aggregation,
    /// Nodes aggregated otherwise than `aggregation` (by node code), e.g. a framework's
    /// per-node choice; they keep it in every Monte Carlo draw too.
    pub aggregation_by_node: BTreeMap<String, Aggregation>,
    pub coverage: f64,
    pub coverage_of: CoverageOf,
    pub impute: Impute,
    /// The group column of `group_mean` / `group_median`.
    pub impute_group: Option<String>,
    pub treat: Treat,
    /// The pipeline divides indicators by iMeta's denominators.
    pub denominate: bool,
    /// Composite methods see counts that are not per inhabitant (Wi-Fi hotspots, open data
    /// sets, e-services) per 100 000 inhabitants, so that Oslo and Aukra compare on the same
    /// footing; U4SSC points keep the raw count.
    pub counts_per_100k: bool,
    pub weights: BTreeMap<String, f64>,
    /// Rank the scores rounded to this many decimals (COINr's results tables).
    pub rank_decimals: Option<i32>,
    pub uncertainty: Uncertainty,
}

/// The flat U4SSC layout, as `kpis/methods/default.toml` writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Flat {
    name: String,
    #[serde(default)]
    description: String,
    normalisation: Normalisation,
    aggregation: Aggregation,
    coverage: f64,
    #[serde(default)]
    coverage_of: Option<CoverageOf>,
    impute: Impute,
    #[serde(default)]
    impute_group: Option<String>,
    outliers: TreatMethod,
    #[serde(default)]
    weights: BTreeMap<String, f64>,
    #[serde(default)]
    aggregation_by_node: BTreeMap<String, Aggregation>,
    #[serde(default)]
    counts_per_100k: bool,
    uncertainty: Uncertainty,
}

/// COINr's stage layout, as `kpis/methods/coinr-asem.toml` writes it.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct Stages {
    name: Option<String>,
    description: String,
    denominate: StageDenominate,
    impute: StageImpute,
    treat: Treat,
    normalise: StageNormalise,
    aggregate: StageAggregate,
    rank: StageRank,
    weights: BTreeMap<String, f64>,
    aggregation_by_node: BTreeMap<String, Aggregation>,
    counts_per_100k: bool,
    uncertainty: Option<Uncertainty>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct StageDenominate {
    enabled: bool,
}
impl Default for StageDenominate {
    fn default() -> Self {
        StageDenominate { enabled: true }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct StageImpute {
    method: Impute,
    group: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct StageNormalise {
    method: Normalisation,
    lower: f64,
    upper: f64,
    mean: f64,
    sd: f64,
    cap: bool,
}
impl Default for StageNormalise {
    fn default() -> Self {
        StageNormalise {
            method: Normalisation::Minmax,
            lower: 0.0,
            upper: 100.0,
            mean: 0.0,
            sd: 1.0,
            cap: true,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct StageAggregate {
    method: Aggregation,
    coverage: f64,
    coverage_of: CoverageOf,
}
impl Default for StageAggregate {
    fn default() -> Self {
        StageAggregate {
            method: Aggregation::Arithmetic,
            coverage: 0.0,
            coverage_of: CoverageOf::Children,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
struct StageRank {
    decimals: Option<i32>,
}

/// The keys only the flat layout has: a file with any of them is read as flat.
const FLAT_KEYS: [&str; 4] = ["normalisation", "aggregation", "coverage", "outliers"];

impl Default for Method {
    /// COINr's defaults: denominate, no imputation or treatment, min-max 0-100, arithmetic
    /// means, no coverage threshold.
    fn default() -> Method {
        Method::from_stages(Stages::default(), "method")
    }
}

impl Method {
    fn from_stages(s: Stages, origin: &str) -> Method {
        let n = s.normalise;
        let a = s.aggregate;
        Method {
            name: s.name.unwrap_or_else(|| {
                std::path::Path::new(origin)
                    .file_stem()
                    .map(|f| f.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "method".into())
            }),
            description: s.description,
            normalisation: n.method,
            lower: n.lower,
            upper: n.upper,
            zscore_mean: n.mean,
            zscore_sd: n.sd,
            cap: n.cap,
            aggregation: a.method,
            aggregation_by_node: s.aggregation_by_node,
            coverage: a.coverage,
            coverage_of: a.coverage_of,
            impute: s.impute.method,
            impute_group: s.impute.group,
            treat: s.treat,
            denominate: s.denominate.enabled,
            counts_per_100k: s.counts_per_100k,
            weights: s.weights,
            rank_decimals: s.rank.decimals,
            uncertainty: s.uncertainty.unwrap_or(Uncertainty {
                draws: 1000,
                seed: 2026,
                weight_perturbation: 0.25,
                target_perturbation: 0.0,
                normalisations: vec![n.method],
                aggregations: vec![a.method],
            }),
        }
    }

    fn from_flat(f: Flat) -> Method {
        Method {
            name: f.name,
            description: f.description,
            normalisation: f.normalisation,
            lower: 0.0,
            upper: 100.0,
            zscore_mean: 0.0,
            zscore_sd: 1.0,
            cap: true,
            aggregation: f.aggregation,
            aggregation_by_node: f.aggregation_by_node,
            coverage: f.coverage,
            coverage_of: f.coverage_of.unwrap_or(CoverageOf::DataPoints),
            impute: f.impute,
            impute_group: f.impute_group,
            treat: Treat {
                method: f.outliers,
                ..Treat::default()
            },
            denominate: true,
            counts_per_100k: f.counts_per_100k,
            weights: f.weights,
            rank_decimals: None,
            uncertainty: f.uncertainty,
        }
    }

    /// Read a method file of either layout and check it.
    pub fn parse(text: &str, origin: &str) -> Result<Method> {
        let value: toml::Value =
            toml::from_str(text).map_err(|e| crate::error::toml_error(origin, text, &e))?;
        let flat = value
            .as_table()
            .is_some_and(|t| FLAT_KEYS.iter().any(|k| t.contains_key(*k)));
        let m = if flat {
            let f: Flat =
                toml::from_str(text).map_err(|e| crate::error::toml_error(origin, text, &e))?;
            Method::from_flat(f)
        } else {
            let s: Stages =
                toml::from_str(text).map_err(|e| crate::error::toml_error(origin, text, &e))?;
            Method::from_stages(s, origin)
        };
        m.check(origin)?;
        Ok(m)
    }

    fn check(&self, origin: &str) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(format!("{origin}: {m}")));
        if !(0.0..=1.0).contains(&self.coverage) {
            return bad(format!(
                "coverage must be between 0 and 1 (it is {})",
                self.coverage
            ));
        }
        if self.weights.values().any(|w| !w.is_finite() || *w < 0.0) {
            return bad("weights must be zero or positive numbers".into());
        }
        if !(self.lower.is_finite() && self.upper.is_finite() && self.lower < self.upper) {
            return bad(format!(
                "the normalisation scale needs lower below upper (it is {} to {})",
                self.lower, self.upper
            ));
        }
        if !(self.zscore_sd.is_finite() && self.zscore_sd > 0.0 && self.zscore_mean.is_finite()) {
            return bad("z-scores need a finite mean and a positive sd".into());
        }
        if let Some(d) = self.rank_decimals.filter(|d| !(-15..=15).contains(d)) {
            return bad(format!(
                "[rank] decimals = {d}: ranks round the scores to between -15 and 15 decimals"
            ));
        }
        if matches!(self.impute, Impute::GroupMean | Impute::GroupMedian)
            && self.impute_group.is_none()
        {
            return bad(format!(
                "impute '{}' needs the group column it imputes within (impute_group, or group in [impute])",
                self.impute.as_str()
            ));
        }
        if self.counts_per_100k
            && matches!(
                self.normalisation,
                Normalisation::Goalposts | Normalisation::DistanceToTarget
            )
        {
            return bad("counts_per_100k needs a peer normalisation (minmax, zscore, percentile_rank or grade): goalposts and targets bound the raw count, not the count per 100 000 inhabitants".into());
        }
        let u = &self.uncertainty;
        if u.normalisations.is_empty() || u.aggregations.is_empty() {
            return bad(
                "[uncertainty] needs at least one normalisation and one aggregation".into(),
            );
        }
        if !(0.0..1.0).contains(&u.target_perturbation) {
            return bad("target_perturbation must be in [0, 1)".into());
        }
        if !(0.0..1.0).contains(&u.weight_perturbation) {
            return bad("weight_perturbation must be in [0, 1)".into());
        }
        Ok(())
    }

    pub fn weight(&self, node: &str) -> f64 {
        self.weights.get(node).copied().unwrap_or(1.0)
    }

    /// Whether outlier treatment is on.
    pub fn treats(&self) -> bool {
        self.treat.method == TreatMethod::Coinr
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_layouts_read_into_one_method() {
        // the U4SSC default (flat keys) and COINr's ASEM method (stages)
        let d = Method::parse(DEFAULT, "default.toml").unwrap();
        assert_eq!(d.normalisation, Normalisation::Goalposts);
        assert_eq!(d.coverage_of, CoverageOf::DataPoints);
        assert_eq!((d.lower, d.upper), (0.0, 100.0));
        assert!(!d.treats());
        let a = Method::parse(
            include_str!("../../kpis/methods/coinr-asem.toml"),
            "kpis/methods/coinr-asem.toml",
        )
        .unwrap();
        assert_eq!(a.name, "coinr-asem");
        assert_eq!(a.impute, Impute::GroupMean);
        assert_eq!(a.impute_group.as_deref(), Some("EurAsia_group"));
        assert!(a.treats() && a.treat.winmax == 6);
        assert_eq!(a.coverage_of, CoverageOf::Children);
        assert_eq!(a.rank_decimals, Some(2));
        // a stage file run by the engine draws its own method when it names no uncertainty
        assert_eq!(a.uncertainty.normalisations, [Normalisation::Minmax]);
        // the same choice written both ways is the same method
        let flat = Method::parse(
            "name = \"m\"\nnormalisation = \"zscore\"\naggregation = \"geometric\"\ncoverage = 0.5\n\
             coverage_of = \"children\"\nimpute = \"median\"\noutliers = \"coinr\"\n\
             [uncertainty]\ndraws = 1000\nseed = 2026\nweight_perturbation = 0.25\n\
             normalisations = [\"zscore\"]\naggregations = [\"geometric\"]\n",
            "flat.toml",
        )
        .unwrap();
        let stages = Method::parse(
            "name = \"m\"\n[impute]\nmethod = \"median\"\n[treat]\nmethod = \"coinr\"\n\
             [normalise]\nmethod = \"zscore\"\n[aggregate]\nmethod = \"geometric\"\ncoverage = 0.5\n",
            "stages.toml",
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(&flat).unwrap(),
            serde_json::to_value(&stages).unwrap()
        );
    }

    #[test]
    fn a_method_that_makes_no_sense_is_refused_with_the_reason() {
        for (text, says) in [
            (
                "[impute]\nmethod = \"group_median\"\n",
                "impute 'group_median' needs the group column",
            ),
            (
                "[normalise]\nmethod = \"minmax\"\nlower = 100.0\nupper = 0.0\n",
                "needs lower below upper",
            ),
            ("[aggregate]\ncoverage = 1.5\n", "coverage must be between 0 and 1"),
            ("[rank]\ndecimals = 400\n", "[rank] decimals = 400"),
            // a flat file with a stage table: its line and the key
            (
                "name = \"m\"\nnormalisation = \"minmax\"\naggregation = \"arithmetic\"\ncoverage = 0.5\nimpute = \"none\"\noutliers = \"none\"\n[normalise]\nlower = 1.0\n",
                "unknown field `normalise`",
            ),
        ] {
            let e = Method::parse(text, "m.toml").unwrap_err().to_string();
            assert!(e.starts_with("m.toml") && e.contains(says), "{e}");
        }
    }
}
