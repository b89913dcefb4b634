//! Indicator frameworks as data: a tree of any depth (indicators -> aggregates -> index).
//! Loaded from COINr's iMeta table; the scoring tree both engines aggregate over
//! (`scoring::engine::Tree`) is built from it as from the U4SSC catalog.

use crate::error::{Error, Result};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

pub use crate::steps::Aggregation;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeKind {
    Indicator,
    Aggregate,
}

#[derive(Debug, Clone, Serialize)]
pub struct Goalposts {
    pub lower: f64,
    pub upper: f64,
    pub scale: f64,
    pub truncate: bool,
}

/// Traffic-light thresholds on an indicator's raw values, in its own unit: at or beyond
/// `green` (in the indicator's direction) is green, at or short of `red` is red, between is
/// amber.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Dashboard {
    pub red: f64,
    pub green: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Light {
    Red,
    Amber,
    Green,
}

impl Light {
    pub fn as_str(self) -> &'static str {
        match self {
            Light::Red => "red",
            Light::Amber => "amber",
            Light::Green => "green",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FNode {
    pub code: String,
    pub name: String,
    /// 1 = indicator level; aggregates above.
    pub level: u32,
    pub parent: Option<String>,
    pub kind: NodeKind,
    /// +1 higher is better, -1 lower is better.
    pub direction: f64,
    pub weight: f64,
    pub denominator: Option<String>,
    pub target: Option<f64>,
    pub goalposts: Option<Goalposts>,
    /// How an aggregate combines its children; `None`: the method file's choice.
    pub aggregation: Option<Aggregation>,
    /// Dashboard thresholds of an indicator.
    pub dashboard: Option<Dashboard>,
    /// False: shown (kept in every stage) but not normalised or aggregated.
    pub scored: bool,
    /// The iMeta line the node was read from, for located errors.
    pub line: Option<usize>,
}

impl FNode {
    /// The dashboard light of a raw value, if the indicator has thresholds.
    pub fn light(&self, x: f64) -> Option<Light> {
        let d = self.dashboard?;
        // in the indicator's direction, so that "more" is always better
        let (x, red, green) = (
            x * self.direction,
            d.red * self.direction,
            d.green * self.direction,
        );
        Some(if x >= green {
            Light::Green
        } else if x <= red {
            Light::Red
        } else {
            Light::Amber
        })
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Framework {
    pub nodes: Vec<FNode>,
    /// Group columns (peer groups) and denominator columns named by the framework.
    pub groups: Vec<String>,
    pub denominators: Vec<String>,
}

impl Framework {
    pub fn indicators(&self) -> impl Iterator<Item = &FNode> {
        self.nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Indicator && n.scored)
    }
    pub fn node(&self, code: &str) -> Option<&FNode> {
        self.nodes.iter().find(|n| n.code == code)
    }
    /// Every node by code, for loops over many nodes.
    pub fn by_code(&self) -> HashMap<&str, &FNode> {
        self.nodes.iter().map(|n| (n.code.as_str(), n)).collect()
    }
    /// The scored children of every aggregate, in node order, from one pass over the nodes.
    pub fn children_map(&self) -> HashMap<&str, Vec<&FNode>> {
        let mut m: HashMap<&str, Vec<&FNode>> = HashMap::new();
        for n in self.nodes.iter().filter(|n| n.scored) {
            if let Some(p) = &n.parent {
                m.entry(p.as_str()).or_default().push(n);
            }
        }
        m
    }
    pub fn children(&self, code: &str) -> Vec<&FNode> {
        self.nodes
            .iter()
            .filter(|n| n.parent.as_deref() == Some(code) && n.scored)
            .collect()
    }
    /// Aggregates from the lowest level up, so children are computed before parents.
    pub fn aggregates_bottom_up(&self) -> Vec<&FNode> {
        let mut a: Vec<&FNode> = self
            .nodes
            .iter()
            .filter(|n| n.kind == NodeKind::Aggregate)
            .collect();
        a.sort_by_key(|n| n.level);
        a
    }

    /// Check the tree: unique codes, parents exist and are aggregates, no cycles, weights
    /// usable, denominators known.
    pub fn validate(&self, origin: &str) -> Result<()> {
        // located by the node's iMeta line where it has one
        let bad = |n: &FNode, m: String| {
            Err(Error::Invalid(match n.line {
                Some(l) => format!("{origin}:{l}: {m}"),
                None => format!("{origin}: {m}"),
            }))
        };
        let mut seen = HashSet::new();
        for n in &self.nodes {
            if !seen.insert(n.code.as_str()) {
                return bad(n, format!("code '{}' is used twice", n.code));
            }
        }
        let by: HashMap<&str, &FNode> = self.nodes.iter().map(|n| (n.code.as_str(), n)).collect();
        for n in &self.nodes {
            if let Some(p) = &n.parent {
                match by.get(p.as_str()) {
                    None => return bad(n, format!("'{}' names parent '{p}', which does not exist", n.code)),
                    Some(pn) if pn.kind == NodeKind::Indicator => {
                        return bad(n, format!("'{}' names parent '{p}', which is an indicator, not an aggregate", n.code))
                    }
                    Some(pn) if pn.level <= n.level => {
                        return bad(n, format!("'{}' (level {}) has parent '{p}' at level {}; a parent must be at a higher level", n.code, n.level, pn.level))
                    }
                    _ => {}
                }
            } else if n.kind == NodeKind::Indicator {
                return bad(
                    n,
                    format!("indicator '{}' has no parent (an orphan)", n.code),
                );
            }
            // cycle check: walk up at most nodes.len() steps
            let mut cur = n;
            for _ in 0..=self.nodes.len() {
                match cur.parent.as_deref().and_then(|p| by.get(p)) {
                    Some(p) => cur = p,
                    None => break,
                }
                if cur.code == n.code {
                    return bad(n, format!("'{}' is its own ancestor (a cycle)", n.code));
                }
            }
            if !n.weight.is_finite() || n.weight < 0.0 {
                return bad(
                    n,
                    format!(
                        "'{}' has weight {}; weights must be zero or positive",
                        n.code, n.weight
                    ),
                );
            }
            if let Some(d) = n.dashboard {
                if !d.red.is_finite()
                    || !d.green.is_finite()
                    || d.red * n.direction >= d.green * n.direction
                {
                    return bad(n, format!(
                        "'{}' has dashboard thresholds red {} and green {}; with direction {} red must be {} green",
                        n.code,
                        d.red,
                        d.green,
                        n.direction,
                        if n.direction < 0.0 { "above" } else { "below" }
                    ));
                }
            }
            if let Some(d) = &n.denominator {
                if !self.denominators.contains(d) {
                    return bad(
                        n,
                        format!(
                            "'{}' names denominator '{d}', which is not a Denominator row",
                            n.code
                        ),
                    );
                }
            }
        }
        let children = self.children_map();
        for a in self.nodes.iter().filter(|n| n.kind == NodeKind::Aggregate) {
            let kids = children.get(a.code.as_str()).cloned().unwrap_or_default();
            if kids.is_empty() {
                return bad(a, format!("aggregate '{}' has no children", a.code));
            }
            if kids.iter().map(|k| k.weight).sum::<f64>() <= 0.0 {
                return bad(
                    a,
                    format!(
                        "the weights under '{}' sum to zero and cannot be normalised",
                        a.code
                    ),
                );
            }
        }
        Ok(())
    }

    /// Load COINr's iMeta table (CSV).
    pub fn from_imeta(text: &str, origin: &str) -> Result<Framework> {
        let mut rdr = csv::ReaderBuilder::new()
            .flexible(false)
            .from_reader(text.as_bytes());
        let header: Vec<String> = rdr
            .headers()
            .map_err(|e| Error::Invalid(format!("{origin}: {e}")))?
            .iter()
            .map(|h| h.trim().to_string())
            .collect();
        let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let need = |name: &str| {
            col(name).ok_or_else(|| {
                Error::Invalid(format!("{origin}:1: the iMeta column '{name}' is missing"))
            })
        };
        let (c_code, c_type) = (need("iCode")?, need("Type")?);
        let (c_level, c_parent, c_dir, c_weight) =
            (col("Level"), col("Parent"), col("Direction"), col("Weight"));
        let (c_name, c_den, c_target) = (col("iName"), col("Denominator"), col("Target"));
        let (c_agg, c_red, c_green, c_scored) = (
            col("Aggregation"),
            col("dashboard_red"),
            col("dashboard_green"),
            col("Scored"),
        );
        let gp = [
            col("goalpost_lower"),
            col("goalpost_upper"),
            col("goalpost_scale"),
            col("goalpost_trunc2posts"),
        ];
        let mut fw = Framework {
            nodes: vec![],
            groups: vec![],
            denominators: vec![],
        };
        for (i, rec) in rdr.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| Error::Invalid(format!("{origin}:{line}: {e}")))?;
            let get = |c: Option<usize>| {
                c.and_then(|c| rec.get(c))
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
            };
            let num = |c: Option<usize>, what: &str| -> Result<Option<f64>> {
                match get(c) {
                    None => Ok(None),
                    Some(s) => match s.parse::<f64>() {
                        Ok(v) if v.is_finite() && v.abs() <= crate::stats::MAX_MAGNITUDE => {
                            Ok(Some(v))
                        }
                        Ok(_) => Err(Error::Invalid(format!(
                            "{origin}:{line}: {what} '{s}' is out of range: numbers beyond ±1e100 would overflow the arithmetic"
                        ))),
                        Err(_) => Err(Error::Invalid(format!(
                            "{origin}:{line}: {what} '{s}' is not a number"
                        ))),
                    },
                }
            };
            let code = get(Some(c_code))
                .ok_or_else(|| Error::Invalid(format!("{origin}:{line}: iCode is empty")))?
                .to_string();
            // a code becomes a column name and a cell of every output: no formula, no control
            if crate::submission::validate::looks_like_formula(&code) {
                return Err(Error::Invalid(format!(
                    "{origin}:{line}: iCode {} starts like a spreadsheet formula; codes start with a letter or digit",
                    crate::text::shown(&code)
                )));
            }
            for (what, text) in [("iCode", Some(code.as_str())), ("iName", get(c_name))] {
                if let Some((at, ch)) = text.and_then(|t| crate::text::first_control(t, false)) {
                    return Err(Error::Invalid(format!(
                        "{origin}:{line}: {what} {} holds the control character {} at character {at}; remove it",
                        crate::text::shown(text.unwrap_or_default()),
                        crate::text::code_point(ch)
                    )));
                }
            }
            let kind = match get(Some(c_type)).unwrap_or("") {
                "Indicator" => NodeKind::Indicator,
                "Aggregate" => NodeKind::Aggregate,
                "Group" => {
                    fw.groups.push(code);
                    continue;
                }
                "Denominator" => {
                    fw.denominators.push(code);
                    continue;
                }
                "Other" => continue,
                t => return Err(Error::Invalid(format!("{origin}:{line}: Type '{t}' is not Indicator, Aggregate, Group, Denominator or Other"))),
            };
            let level = num(c_level, "Level")?.ok_or_else(|| {
                Error::Invalid(format!("{origin}:{line}: Level is empty for '{code}'"))
            })?;
            let goalposts = match (num(gp[0], "goalpost_lower")?, num(gp[1], "goalpost_upper")?) {
                (Some(lower), Some(upper)) => Some(Goalposts {
                    lower,
                    upper,
                    scale: num(gp[2], "goalpost_scale")?.unwrap_or(1.0),
                    truncate: get(gp[3])
                        .map(|s| s.eq_ignore_ascii_case("true"))
                        .unwrap_or(true),
                }),
                _ => None,
            };
            let aggregation = match get(c_agg).map(str::to_ascii_lowercase).as_deref() {
                None => None,
                Some("arithmetic") => Some(Aggregation::Arithmetic),
                Some("geometric") => Some(Aggregation::Geometric),
                Some("harmonic") => Some(Aggregation::Harmonic),
                Some(other) => {
                    return Err(Error::Invalid(format!(
                        "{origin}:{line}: Aggregation '{other}' of '{code}' is not arithmetic, geometric or harmonic"
                    )))
                }
            };
            if aggregation.is_some() && kind == NodeKind::Indicator {
                return Err(Error::Invalid(format!(
                    "{origin}:{line}: '{code}' is an indicator; only aggregates have an Aggregation"
                )));
            }
            let dashboard = match (num(c_red, "dashboard_red")?, num(c_green, "dashboard_green")?) {
                (None, None) => None,
                (Some(red), Some(green)) => Some(Dashboard { red, green }),
                _ => {
                    return Err(Error::Invalid(format!(
                        "{origin}:{line}: '{code}' needs both dashboard_red and dashboard_green, or neither"
                    )))
                }
            };
            let scored = match get(c_scored).map(str::to_ascii_lowercase).as_deref() {
                None | Some("true") | Some("yes") | Some("1") => true,
                Some("false") | Some("no") | Some("0") => false,
                Some(other) => {
                    return Err(Error::Invalid(format!(
                        "{origin}:{line}: Scored '{other}' of '{code}' is not TRUE or FALSE"
                    )))
                }
            };
            fw.nodes.push(FNode {
                name: get(c_name).unwrap_or(&code).to_string(),
                code,
                level: level as u32,
                parent: get(c_parent).map(String::from),
                kind,
                direction: num(c_dir, "Direction")?.unwrap_or(1.0),
                weight: num(c_weight, "Weight")?.unwrap_or(1.0),
                denominator: get(c_den).map(String::from),
                target: num(c_target, "Target")?,
                goalposts,
                aggregation,
                dashboard,
                scored,
                line: Some(line),
            });
        }
        fw.validate(origin)?;
        Ok(fw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const META: &str = "Level,iCode,iName,Direction,Weight,Parent,Type,Denominator\n1,a,A,1,1,P,Indicator,\n1,b,B,-1,1,P,Indicator,Pop\n2,P,Pillar,1,1,,Aggregate,\n,Pop,Population,,,,Denominator,\n,G,Group,,,,Group,\n";

    #[test]
    fn imeta_loads_tree_groups_and_denominators() {
        let f = Framework::from_imeta(META, "m").unwrap();
        assert_eq!(f.indicators().count(), 2);
        assert_eq!(f.children("P").len(), 2);
        assert_eq!(f.groups, vec!["G"]);
        assert_eq!(f.node("b").unwrap().direction, -1.0);
    }

    #[test]
    fn broken_trees_are_refused_with_a_reason() {
        let orphan = META.replace("1,a,A,1,1,P,Indicator,", "1,a,A,1,1,,Indicator,");
        assert!(Framework::from_imeta(&orphan, "m")
            .unwrap_err()
            .to_string()
            .contains("orphan"));
        let under_indicator =
            META.replace("1,b,B,-1,1,P,Indicator,Pop", "1,b,B,-1,1,a,Indicator,Pop");
        assert!(Framework::from_imeta(&under_indicator, "m")
            .unwrap_err()
            .to_string()
            .contains("is an indicator"));
        let unknown_den = META.replace(",Pop\n2", ",Area\n2");
        assert!(Framework::from_imeta(&unknown_den, "m")
            .unwrap_err()
            .to_string()
            .contains("denominator 'Area'"));
        let zero = META
            .replace("1,a,A,1,1,P", "1,a,A,1,0,P")
            .replace("1,b,B,-1,1,P", "1,b,B,-1,0,P");
        assert!(Framework::from_imeta(&zero, "m")
            .unwrap_err()
            .to_string()
            .contains("sum to zero"));
    }

    #[test]
    fn dashboard_lights_follow_the_direction() {
        let meta = "Level,iCode,Direction,Weight,Parent,Type,dashboard_red,dashboard_green\n1,up,1,1,P,Indicator,10,20\n1,down,-1,1,P,Indicator,20,10\n2,P,1,1,,Aggregate,,\n";
        let f = Framework::from_imeta(meta, "m").unwrap();
        let (up, down) = (f.node("up").unwrap(), f.node("down").unwrap());
        assert_eq!(up.light(25.0), Some(Light::Green));
        assert_eq!(up.light(20.0), Some(Light::Green));
        assert_eq!(up.light(15.0), Some(Light::Amber));
        assert_eq!(up.light(10.0), Some(Light::Red));
        assert_eq!(down.light(5.0), Some(Light::Green));
        assert_eq!(down.light(15.0), Some(Light::Amber));
        assert_eq!(down.light(30.0), Some(Light::Red));
        assert_eq!(f.node("P").unwrap().light(1.0), None);
    }
}
