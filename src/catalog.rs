//! The KPI catalog: every U4SSC KPI and data point, its place in the hierarchy, unit,
//! direction, plausible range and the project's target with its basis. Loaded from
//! `kpis/catalog.toml` (embedded in the binary; `--catalog` reads another file).

use crate::error::{toml_error, Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;

mod levels;
pub use levels::*;

/// The catalog shipped with the program.
pub const EMBEDDED: &str = include_str!("../kpis/catalog.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherBetter,
    LowerBetter,
    TargetBand,
    /// Neither more nor less is better in itself (tourism's share of employment): the data
    /// point is collected and shown, never scored and never given a trend label.
    None,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::HigherBetter => "higher_better",
            Direction::LowerBetter => "lower_better",
            Direction::TargetBand => "target_band",
            Direction::None => "none",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Percent,
    #[serde(rename = "per_100k")]
    Per100k,
    Count,
    Ratio,
    YesNo,
    Value,
}

impl UnitKind {
    /// Factor that turns numerator / denominator into the KPI's unit.
    pub fn scale(self) -> f64 {
        match self {
            UnitKind::Percent => 100.0,
            UnitKind::Per100k => 100_000.0,
            _ => 1.0,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KpiType {
    Core,
    Advanced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetBasis {
    Sdg,
    WhoEu,
    National,
    BestPerformer,
    Expert,
    None,
}

impl TargetBasis {
    /// The basis as files and screens name it: its key in the catalog (`sdg`, `who_eu`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            TargetBasis::Sdg => "sdg",
            TargetBasis::WhoEu => "who_eu",
            TargetBasis::National => "national",
            TargetBasis::BestPerformer => "best_performer",
            TargetBasis::Expert => "expert",
            TargetBasis::None => "none",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    pub value: Option<f64>,
    /// the year the target is to be met (2030 for SDG-horizon targets, 2050 for the climate
    /// path); trends measure the growth needed by then. None reads as 2030.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year: Option<i32>,
    pub band: Option<[f64; 2]>,
    pub basis: TargetBasis,
    pub source: String,
    pub set: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataPoint {
    pub id: String,
    pub code: String,
    #[serde(default)]
    pub part: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub name: String,
    pub name_nb: String,
    pub category: String,
    #[serde(rename = "type")]
    pub kpi_type: KpiType,
    #[serde(default)]
    pub type_basis: Option<String>,
    pub unit: String,
    pub unit_kind: UnitKind,
    pub unit_basis: String,
    pub direction: Direction,
    pub direction_basis: String,
    pub plausible: [f64; 2],
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    #[serde(default)]
    pub sdg_goals: Vec<u8>,
    #[serde(default)]
    pub sdg_targets: Vec<String>,
    #[serde(default)]
    pub sdg_reference: Option<String>,
    #[serde(default)]
    pub concept_uri: Option<String>,
    #[serde(default)]
    pub evidence: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
    pub target: Target,
}

impl DataPoint {
    /// `EC: ICT: ICT: 4C (3G)` or just the code for an unsplit KPI.
    pub fn label(&self) -> String {
        if self.part.is_empty() {
            self.code.clone()
        } else {
            format!("{} ({})", self.code, self.part)
        }
    }
    pub fn has_target(&self) -> bool {
        self.target.basis != TargetBasis::None
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    pub code: String,
    pub name: String,
    pub name_nb: String,
    #[serde(default)]
    pub dimension: Option<String>,
    #[serde(default)]
    pub subdimension: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogInfo {
    pub name: String,
    pub edition: String,
    pub version: String,
    pub targets: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    catalog: CatalogInfo,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    dimension: Vec<Node>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    subdimension: Vec<Node>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    category: Vec<Node>,
    /// The generic form: aggregate levels bottom-up, and nodes on them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    level: Vec<LevelName>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    node: Vec<NodeSpec>,
    data_point: Vec<DataPoint>,
}

/// The loaded, validated catalog with its look-up indexes.
#[derive(Debug, Clone)]
pub struct Catalog {
    pub info: CatalogInfo,
    /// The aggregate levels between KPIs and the overall score, bottom-up.
    pub levels: Vec<LevelName>,
    /// Every aggregate below the overall score, lowest level first (file order within a level).
    pub aggregates: Vec<Aggregate>,
    pub data_points: Vec<DataPoint>,
    by_id: HashMap<String, usize>,
    /// normalised code -> indexes of its data points
    by_code: HashMap<String, Vec<usize>>,
}

/// Code compared without whitespace and case: `EC: ICT: ICT: 4C` == `ec:ict:ict:4c`.
pub fn normalise_code(code: &str) -> String {
    code.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}

/// Data-point key compared without case, spaces and punctuation: `PM2.5` == `pm 2,5` == `pm25`.
pub fn normalise_part(part: &str) -> String {
    part.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

impl Catalog {
    /// A catalog file's text in the generic form (what `Catalog::parse` reads back).
    pub fn to_toml(
        info: CatalogInfo,
        level: Vec<LevelName>,
        node: Vec<NodeSpec>,
        data_point: Vec<DataPoint>,
    ) -> Result<String> {
        toml::to_string(&CatalogFile {
            catalog: info,
            dimension: vec![],
            subdimension: vec![],
            category: vec![],
            level,
            node,
            data_point,
        })
        .map_err(|e| Error::Invalid(format!("the catalog cannot be written: {e}")))
    }

    pub fn embedded() -> Result<Catalog> {
        Catalog::parse(EMBEDDED, "kpis/catalog.toml (embedded)")
    }

    pub fn load(path: &Path) -> Result<Catalog> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Catalog::parse(&text, &path.display().to_string())
    }

    /// Parse and validate. Errors name the file, line and column, or the data point.
    pub fn parse(text: &str, origin: &str) -> Result<Catalog> {
        let mut file: CatalogFile =
            toml::from_str(text).map_err(|e| toml_error(origin, text, &e))?;
        let invalid = |msg: String| Error::Invalid(format!("{origin}: {msg}"));
        if let Ok(value) = toml::from_str::<toml::Value>(text) {
            if let Some((key, s, at, c)) = crate::text::control_in_toml(&value, "") {
                return Err(invalid(format!(
                    "{key} = {} holds the control character {} at character {at}; remove it",
                    crate::text::shown(&s),
                    crate::text::code_point(c)
                )));
            }
        }
        let (levels, aggregates) = aggregates_of(&mut file, origin)?;
        let mut by_id = HashMap::new();
        let mut by_code: HashMap<String, Vec<usize>> = HashMap::new();
        let mut keys = HashSet::new();
        for (i, dp) in file.data_point.iter().enumerate() {
            let at = format!("data point '{}' ({})", dp.id, dp.label());
            if dp.id.is_empty()
                || !dp
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(invalid(format!(
                    "{at}: id must be lowercase letters, digits and '-'"
                )));
            }
            if by_id.insert(dp.id.clone(), i).is_some() {
                return Err(invalid(format!("{at}: id is used twice")));
            }
            if !keys.insert((normalise_code(&dp.code), normalise_part(&dp.part))) {
                return Err(invalid(format!("{at}: code and part are used twice")));
            }
            // a data point sits under an aggregate, or (a framework's indicator directly
            // under its index) under the overall score
            if dp.category != "overall" && !aggregates.iter().any(|c| c.code == dp.category) {
                return Err(invalid(format!(
                    "{at}: category '{}' is not in the catalog",
                    dp.category
                )));
            }
            if dp.unit.trim().is_empty() {
                return Err(invalid(format!("{at}: unit is empty")));
            }
            if dp.plausible[0].partial_cmp(&dp.plausible[1]) == Some(std::cmp::Ordering::Greater)
                || dp.plausible.iter().any(|v| v.is_nan())
            {
                return Err(invalid(format!(
                    "{at}: plausible range [{}, {}] is empty",
                    dp.plausible[0], dp.plausible[1]
                )));
            }
            if let (Some(lo), Some(hi)) = (dp.min, dp.max) {
                if lo > hi {
                    return Err(invalid(format!("{at}: min {lo} is above max {hi}")));
                }
            }
            let t = &dp.target;
            match (t.basis, t.value, t.band, dp.direction) {
                (TargetBasis::None, None, None, _) => {}
                (_, _, _, Direction::None) => {
                    return Err(invalid(format!(
                        "{at}: a data point with direction 'none' cannot have a target (a target says which way is better)"
                    )))
                }
                (TargetBasis::None, _, _, _) => {
                    return Err(invalid(format!(
                        "{at}: target basis is 'none' but a target value is given"
                    )))
                }
                (_, Some(v), None, Direction::HigherBetter | Direction::LowerBetter) => {
                    if !v.is_finite() {
                        return Err(invalid(format!("{at}: target is not a finite number")));
                    }
                }
                (_, None, Some([lo, hi]), Direction::TargetBand) if lo <= hi => {}
                _ => {
                    return Err(invalid(format!(
                        "{at}: a {} data point needs {} in its target",
                        dp.direction.as_str(),
                        if dp.direction == Direction::TargetBand {
                            "band = [low, high]"
                        } else {
                            "value"
                        }
                    )))
                }
            }
            if t.basis != TargetBasis::None && t.source.trim().is_empty() {
                return Err(invalid(format!("{at}: target has no source")));
            }
            for code in std::iter::once(&dp.code).chain(dp.aliases.iter()) {
                let entry = by_code.entry(normalise_code(code)).or_default();
                if !entry.contains(&i) {
                    entry.push(i);
                }
            }
        }
        Ok(Catalog {
            info: file.catalog,
            levels,
            aggregates,
            data_points: file.data_point,
            by_id,
            by_code,
        })
    }

    /// The ids of the core and of the advanced data points.
    pub fn ids_by_type(&self) -> (Vec<String>, Vec<String>) {
        let (core, advanced): (Vec<_>, Vec<_>) = self
            .data_points
            .iter()
            .partition(|d| d.kpi_type == KpiType::Core);
        let ids = |v: Vec<&DataPoint>| v.into_iter().map(|d| d.id.clone()).collect();
        (ids(core), ids(advanced))
    }

    pub fn get(&self, id: &str) -> Option<&DataPoint> {
        self.by_id.get(id).map(|&i| &self.data_points[i])
    }

    /// Data points filed under a code (after normalisation; aliases included).
    pub fn by_code(&self, code: &str) -> Vec<&DataPoint> {
        self.by_code
            .get(&normalise_code(code))
            .map(|v| v.iter().map(|&i| &self.data_points[i]).collect())
            .unwrap_or_default()
    }

    /// The catalog code closest to a mistyped one, for "did you mean".
    pub fn suggest_code(&self, code: &str) -> Option<&str> {
        let wanted = normalise_code(code);
        self.data_points
            .iter()
            .map(|dp| {
                (
                    edit_distance(&wanted, &normalise_code(&dp.code)),
                    dp.code.as_str(),
                )
            })
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d)
            .map(|(_, c)| c)
    }

    /// The data points a KPI is named by, in English or Norwegian (case, accents and
    /// punctuation folded): a data point's own name (`Air Pollution: PM10`) gives that data
    /// point; a split KPI's common name (`Air Pollution`, `Luftforurensning`) gives all its data
    /// points, and the data_point column chooses. Text that only part of several names holds
    /// is ambiguous; anything else gets the closest names as suggestions.
    pub fn by_name(&self, text: &str) -> NameMatch<'_> {
        let wanted = crate::text::fold(text);
        if wanted.is_empty() {
            return NameMatch::Unknown(Vec::new());
        }
        let exact: Vec<&DataPoint> = self
            .data_points
            .iter()
            .filter(|d| {
                crate::text::fold(&d.name) == wanted || crate::text::fold(&d.name_nb) == wanted
            })
            .collect();
        if !exact.is_empty() {
            return NameMatch::DataPoint(exact[0]);
        }
        // a split KPI's common name
        let mut codes: Vec<&str> = Vec::new();
        for d in &self.data_points {
            if !codes.contains(&d.code.as_str()) {
                codes.push(&d.code);
            }
        }
        for code in &codes {
            let dps = self.by_code(code);
            if dps.len() < 2 {
                continue;
            }
            for names in [
                dps.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(),
                dps.iter().map(|d| d.name_nb.as_str()).collect(),
            ] {
                if common_name(&names).as_deref() == Some(wanted.as_str()) {
                    return NameMatch::Kpi(dps);
                }
            }
        }
        let label = |d: &DataPoint| format!("'{}' ({})", d.name, d.label());
        // text inside several names, as whole words
        let padded = format!(" {wanted} ");
        let inside: Vec<&DataPoint> = self
            .data_points
            .iter()
            .filter(|d| {
                format!(" {} ", crate::text::fold(&d.name)).contains(&padded)
                    || format!(" {} ", crate::text::fold(&d.name_nb)).contains(&padded)
            })
            .collect();
        if inside.len() > 1 {
            return NameMatch::Ambiguous(inside.iter().map(|d| label(d)).collect());
        }
        let mut near: Vec<(usize, &DataPoint)> = self
            .data_points
            .iter()
            .map(|d| {
                let dist = edit_distance(&wanted, &crate::text::fold(&d.name))
                    .min(edit_distance(&wanted, &crate::text::fold(&d.name_nb)));
                (dist, d)
            })
            .filter(|(dist, _)| *dist <= (wanted.chars().count() / 4).max(2))
            .collect();
        near.sort_by_key(|(dist, _)| *dist);
        let mut out: Vec<String> = inside.iter().map(|d| label(d)).collect();
        out.extend(near.iter().take(3).map(|(_, d)| label(d)));
        out.dedup();
        NameMatch::Unknown(out)
    }

    /// An aggregate by code.
    pub fn aggregate(&self, code: &str) -> Option<&Aggregate> {
        self.aggregates.iter().find(|c| c.code == code)
    }

    /// The key of a level as this catalog names it (`category`, `pillar`, `overall`).
    pub fn level_key(&self, level: Level) -> std::borrow::Cow<'_, str> {
        level_key(&self.levels, level)
    }

    /// The aggregate levels that hold nodes, from the top down (U4SSC: dimension,
    /// sub-dimension, category): the levels a view walks from the overall score.
    pub fn levels_top_down(&self) -> Vec<Level> {
        let mut v: Vec<usize> = self.aggregates.iter().map(|a| a.level).collect();
        v.sort_unstable();
        v.dedup();
        v.into_iter().rev().map(Level::aggregate).collect()
    }

    /// A level's name shown to people (`Sub-dimension`, `Pillar`).
    pub fn level_name(&self, level: Level) -> String {
        level_name(&self.levels, level)
    }

    /// The highest aggregate level (U4SSC: dimension), the one views and peer tables take
    /// below the overall score.
    pub fn top_level(&self) -> Level {
        self.aggregates
            .iter()
            .map(|a| a.level)
            .max()
            .map_or(Level::Kpi, Level::aggregate)
    }

    /// A level by the key this catalog gives it, for `--level`.
    pub fn level_by_key(&self, key: &str) -> Option<Level> {
        let k = key.trim().to_lowercase().replace('_', "-");
        match self.levels.iter().position(|l| l.key == k) {
            Some(i) => Some(Level::aggregate(i)),
            None => [Level::DataPoint, Level::Kpi, Level::Overall]
                .into_iter()
                .find(|l| l.key() == k),
        }
    }

    /// Every level's key, bottom-up: data-point, kpi, the aggregate levels, overall.
    pub fn level_keys(&self) -> Vec<String> {
        let mut v = vec!["data-point".to_string(), "kpi".to_string()];
        v.extend(self.levels.iter().map(|l| l.key.clone()));
        v.push("overall".into());
        v
    }

    /// Case-insensitive search over id, code, part and both names.
    pub fn search(&self, text: &str) -> Vec<&DataPoint> {
        let needle = text.to_lowercase();
        let code_needle = normalise_code(text);
        self.data_points
            .iter()
            .filter(|dp| {
                dp.id.contains(&needle)
                    || normalise_code(&dp.code).contains(&code_needle)
                    || dp.part.to_lowercase().contains(&needle)
                    || dp.name.to_lowercase().contains(&needle)
                    || dp.name_nb.to_lowercase().contains(&needle)
            })
            .collect()
    }
}

/// Edit distance (Levenshtein) between two texts, by strsim (the crate clap uses for its own
/// suggestions), for every "did you mean".
pub fn edit_distance(a: &str, b: &str) -> usize {
    strsim::levenshtein(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_has_every_kpi_and_data_point() {
        let c = Catalog::embedded().unwrap();
        assert_eq!(c.data_points.len(), 112);
        let codes: HashSet<String> = c
            .data_points
            .iter()
            .map(|d| normalise_code(&d.code))
            .collect();
        assert_eq!(codes.len(), 91);
        let on = |l: usize| c.aggregates.iter().filter(|a| a.level == l).count();
        assert_eq!((on(0), on(1), on(2)), (27, 7, 3));
        // every blank unit and direction was filled
        assert!(c
            .data_points
            .iter()
            .all(|d| !d.unit.is_empty() && !d.unit_basis.is_empty()));
        // the three items U4SSC shows as N/A have no target
        for (code, part) in [
            ("EC:ICT:ICT:5C", ""),
            ("EC:ICT:PS:1A", "number"),
            ("EC:ICT:PS:2A", ""),
        ] {
            let dp = c
                .by_code(code)
                .into_iter()
                .find(|d| normalise_part(&d.part) == part)
                .unwrap();
            assert!(!dp.has_target(), "{code} {part}");
        }
    }

    #[test]
    fn codes_match_without_whitespace_and_aliases_resolve() {
        let c = Catalog::embedded().unwrap();
        assert_eq!(c.by_code("ec:ict:ict:4c").len(), 2);
        assert_eq!(c.by_code("SC: EH: H:6A")[0].id, "sc-eh-ed-5a");
        assert_eq!(c.by_code("EC: ICT: ICT: 5A")[0].id, "ec-ict-ict-5c");
        assert_eq!(c.suggest_code("EC: ICT: ICT: 1X"), Some("EC: ICT: ICT: 1C"));
    }

    #[test]
    fn broken_catalog_gives_located_error() {
        let err =
            Catalog::parse("[catalog]\nname = \"x\"\nedition = 3 3\n", "bad.toml").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("bad.toml:3:"), "{msg}");
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        let mut text = EMBEDDED.to_string();
        text = text.replacen("id = \"ec-ict-ict-2c\"", "id = \"ec-ict-ict-1c\"", 1);
        let msg = Catalog::parse(&text, "dup.toml").unwrap_err().to_string();
        assert!(msg.contains("id is used twice"), "{msg}");
    }

    /// A generic catalog: two levels, one data point, with `extra` inserted before it.
    fn generic(nodes: &str) -> String {
        format!(
            "[catalog]\nname = \"g\"\nedition = \"e\"\nversion = \"1\"\ntargets = \"t\"\n\n\
             [[level]]\nkey = \"pillar\"\nname = \"Pillar\"\n\n[[level]]\nkey = \"sub-index\"\nname = \"Sub-index\"\n\n\
             {nodes}\n\
             [[data_point]]\nid = \"x\"\ncode = \"x\"\npart = \"\"\nname = \"X\"\nname_nb = \"X\"\ncategory = \"P\"\n\
             type = \"core\"\nunit = \"value\"\nunit_kind = \"value\"\nunit_basis = \"b\"\ndirection = \"higher_better\"\n\
             direction_basis = \"b\"\nplausible = [0.0, 1.0]\n\n[data_point.target]\nbasis = \"none\"\nsource = \"\"\n"
        )
    }

    #[test]
    fn a_generic_catalog_names_its_levels_and_refuses_a_broken_tree() {
        let ok = "[[node]]\ncode = \"P\"\nname = \"P\"\nlevel = \"pillar\"\nparent = \"S\"\n\n\
                  [[node]]\ncode = \"S\"\nname = \"S\"\nlevel = \"sub-index\"\n";
        let c = Catalog::parse(&generic(ok), "g.toml").unwrap();
        assert_eq!(
            c.level_keys(),
            ["data-point", "kpi", "pillar", "sub-index", "overall"]
        );
        assert_eq!(c.level_by_key("Sub_index"), Some(Level::aggregate(1)));
        assert_eq!(c.level_by_key("category"), None);
        assert_eq!(c.top_level(), Level::aggregate(1));
        assert_eq!(c.level_name(Level::aggregate(0)), "Pillar");
        // the database key stays fixed by depth
        assert_eq!(Level::aggregate(0).key(), "category");
        assert_eq!(Level::aggregate(3).key(), "level-5");
        assert_eq!(Level::parse("level-5"), Some(Level::aggregate(3)));
        for (nodes, says) in [
            (
                "[[node]]\ncode = \"P\"\nname = \"P\"\nlevel = \"area\"\n",
                "node P names level 'area', which is not a [[level]] (the levels are pillar, sub-index)",
            ),
            (
                "[[node]]\ncode = \"P\"\nname = \"P\"\nlevel = \"sub-index\"\nparent = \"S\"\n\n[[node]]\ncode = \"S\"\nname = \"S\"\nlevel = \"pillar\"\n",
                "node P (level sub-index) names parent 'S' on level pillar; a parent must be on a higher level",
            ),
            (
                "[[node]]\ncode = \"P\"\nname = \"P\"\nlevel = \"pillar\"\nparent = \"Q\"\n",
                "node P names parent 'Q', which is not in the catalog",
            ),
            (
                "[[dimension]]\ncode = \"D\"\nname = \"D\"\nname_nb = \"D\"\n\n[[node]]\ncode = \"P\"\nname = \"P\"\nlevel = \"pillar\"\n",
                "either as [[dimension]], [[subdimension]] and [[category]] or as [[level]] and [[node]]",
            ),
        ] {
            let e = Catalog::parse(&generic(nodes), "g.toml").unwrap_err().to_string();
            assert!(e.starts_with("g.toml: ") && e.contains(says), "{e}");
        }
    }

    #[test]
    fn part_normalisation() {
        assert_eq!(normalise_part("PM2.5"), normalise_part("pm 2,5"));
        assert_eq!(normalise_part("Private Vehicles"), "privatevehicles");
    }
}

/// What a KPI name matched: see [`Catalog::by_name`].
#[derive(Debug)]
pub enum NameMatch<'a> {
    DataPoint(&'a DataPoint),
    Kpi(Vec<&'a DataPoint>),
    /// The names it could mean, as `'name' (code)`.
    Ambiguous(Vec<String>),
    /// The closest names, possibly none.
    Unknown(Vec<String>),
}

/// The folded words that every name of a split KPI starts with (`Air Pollution` of
/// `Air Pollution: PM10`, `Mobildekning` of `Mobildekning 3G`), when that is a name at all.
fn common_name(names: &[&str]) -> Option<String> {
    let folded: Vec<Vec<String>> = names
        .iter()
        .map(|n| {
            crate::text::fold(n)
                .split(' ')
                .map(str::to_string)
                .collect()
        })
        .collect();
    let first = folded.first()?;
    let n = (0..first.len())
        .take_while(|&i| folded.iter().all(|f| f.get(i) == first.get(i)))
        .count();
    let common = first[..n].join(" ");
    (common.chars().count() >= 4).then_some(common)
}

#[cfg(test)]
mod name_tests {
    use super::*;

    /// Level names in the plural as English writes them: the profile's wheel said
    /// "outer: categorys" for U4SSC's third level.
    #[test]
    fn level_names_take_english_plurals() {
        for (one, many) in [
            ("Category", "Categories"),
            ("category", "categories"),
            ("Dimension", "Dimensions"),
            ("Sub-dimension", "Sub-dimensions"),
            ("Sub-index", "Sub-indexes"),
            ("Pillar", "Pillars"),
            ("Key", "Keys"),
            ("Policy", "Policies"),
            ("Focus", "Focuses"),
            ("Branch", "Branches"),
            ("CATEGORY", "CATEGORIES"),
            ("y", "ys"),
        ] {
            assert_eq!(plural(one), many, "{one}");
        }
    }

    /// A basis is named as the catalog file spells it (serde's key), for every basis.
    #[test]
    fn a_target_basis_is_named_as_the_catalog_spells_it() {
        for b in [
            TargetBasis::Sdg,
            TargetBasis::WhoEu,
            TargetBasis::National,
            TargetBasis::BestPerformer,
            TargetBasis::Expert,
            TargetBasis::None,
        ] {
            assert_eq!(serde_json::to_value(b).unwrap(), b.as_str(), "{b:?}");
        }
    }

    #[test]
    fn kpis_are_found_by_english_or_norwegian_name() {
        let c = Catalog::embedded().unwrap();
        match c.by_name("household internet access") {
            NameMatch::DataPoint(d) => assert_eq!(d.id, "ec-ict-ict-1c"),
            other => panic!("{other:?}"),
        }
        match c.by_name("Husholdninger med internettilgang") {
            NameMatch::DataPoint(d) => assert_eq!(d.id, "ec-ict-ict-1c"),
            other => panic!("{other:?}"),
        }
        match c.by_name("LUFTFORURENSNING") {
            NameMatch::Kpi(d) => assert_eq!(d.len(), 5),
            other => panic!("{other:?}"),
        }
        match c.by_name("Broadband") {
            NameMatch::Ambiguous(names) => assert!(names.len() >= 2, "{names:?}"),
            other => panic!("{other:?}"),
        }
        match c.by_name("Houshold Internet Acess") {
            NameMatch::Unknown(near) => {
                assert!(near[0].contains("Household Internet Access"), "{near:?}")
            }
            other => panic!("{other:?}"),
        }
    }
}
