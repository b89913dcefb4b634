//! The catalog's tree levels: U4SSC's three lists (dimension, sub-dimension, category) or a
//! framework's generic `[[level]]`s and `[[node]]`s, any number of them, as one list of
//! aggregates; `Level`, a node's depth in the scoring tree.

use super::*;

/// An aggregate level between the KPIs and the overall score, as a catalog names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LevelName {
    /// A slug (`category`, `pillar`): what `--level` takes and exports print.
    pub key: String,
    /// The name shown to people (`Sub-dimension`, `Pillar`).
    pub name: String,
}

/// An aggregate of a catalog in the generic form (`[[node]]`), at any level.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeSpec {
    pub code: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name_nb: String,
    /// The key of its `[[level]]`.
    pub level: String,
    /// The aggregate above it; none: it sits directly under the overall score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
}

/// An aggregate node of the loaded catalog, whichever form the file used.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub code: String,
    pub name: String,
    pub name_nb: String,
    /// Index into `Catalog::levels` (0 = the lowest aggregate level).
    pub level: usize,
    /// The aggregate above it; none: directly under the overall score.
    pub parent: Option<String>,
}

/// The depth of a node in the scoring tree: data point, KPI, the catalog's aggregate levels
/// bottom-up, the overall score. U4SSC's three aggregate levels are category, sub-dimension and
/// dimension; a framework may have any number, named in its catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

#[allow(non_upper_case_globals)]
impl Level {
    pub const DataPoint: Level = Level(0);
    pub const Kpi: Level = Level(1);
    /// U4SSC's aggregate levels (the first three aggregate levels of any catalog).
    pub const Category: Level = Level(2);
    pub const Subdimension: Level = Level(3);
    pub const Dimension: Level = Level(4);
    pub const Overall: Level = Level(u8::MAX);
    /// The most aggregate levels a catalog may have.
    pub const MAX_AGGREGATE_LEVELS: usize = 200;

    /// Aggregate level `i` of a catalog (0 = the lowest).
    pub fn aggregate(i: usize) -> Level {
        Level((i.min(Self::MAX_AGGREGATE_LEVELS) + 2) as u8)
    }
    /// Which aggregate level of the catalog this is (0 = the lowest), if it is one.
    pub fn aggregate_index(self) -> Option<usize> {
        (self.0 >= 2 && self != Level::Overall).then(|| usize::from(self.0) - 2)
    }
    /// The key the database keeps, fixed by depth whatever the catalog calls the level:
    /// `data-point`, `kpi`, `category`, `subdimension`, `dimension`, `level-5`, …, `overall`.
    pub fn key(self) -> std::borrow::Cow<'static, str> {
        match self {
            Level::DataPoint => "data-point".into(),
            Level::Kpi => "kpi".into(),
            Level::Category => "category".into(),
            Level::Subdimension => "subdimension".into(),
            Level::Dimension => "dimension".into(),
            Level::Overall => "overall".into(),
            Level(d) => format!("level-{d}").into(),
        }
    }
    /// A stored key back to its level.
    pub fn parse(s: &str) -> Option<Level> {
        let s = s.replace('_', "-");
        match s.as_str() {
            "data-point" => Some(Level::DataPoint),
            "kpi" => Some(Level::Kpi),
            "category" => Some(Level::Category),
            "subdimension" => Some(Level::Subdimension),
            "dimension" => Some(Level::Dimension),
            "overall" => Some(Level::Overall),
            _ => s
                .strip_prefix("level-")
                .and_then(|d| d.parse::<u8>().ok())
                .filter(|d| (5..u8::MAX).contains(d))
                .map(Level),
        }
    }
}

impl Serialize for Level {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.key().replace('-', "_"))
    }
}

/// The key of a level as `levels` name it (`category`, `pillar`, `overall`): what exports
/// print and `--level` takes.
pub fn level_key(levels: &[LevelName], level: Level) -> std::borrow::Cow<'_, str> {
    match level.aggregate_index().and_then(|i| levels.get(i)) {
        Some(l) => l.key.as_str().into(),
        None => level.key(),
    }
}

/// A level's name in the plural, for titles ("Dimensions", "sub-indexes", "categories"):
/// English's regular rules, which every level name of the catalogs in use follows.
pub fn plural(name: &str) -> String {
    let lower = name.to_lowercase();
    let vowel_before = |n: usize| {
        lower
            .chars()
            .rev()
            .nth(n)
            .is_some_and(|c| "aeiou".contains(c))
    };
    if ["s", "x", "z", "ch", "sh"]
        .iter()
        .any(|e| lower.ends_with(e))
    {
        format!("{name}es")
    } else if lower.ends_with('y') && lower.len() > 1 && !vowel_before(1) {
        // category -> categories, but key -> keys
        let stem = &name[..name.len() - 1];
        let ies = if name.ends_with('Y') { "IES" } else { "ies" };
        format!("{stem}{ies}")
    } else {
        format!("{name}s")
    }
}

/// The name of a level shown to people (`Sub-dimension`, `Pillar`, `Overall`).
pub fn level_name(levels: &[LevelName], level: Level) -> String {
    match level.aggregate_index().and_then(|i| levels.get(i)) {
        Some(l) => l.name.clone(),
        None => match level {
            Level::DataPoint => "Data point".into(),
            Level::Kpi => "KPI".into(),
            _ => "Overall".into(),
        },
    }
}

/// The aggregate levels and nodes of a catalog file, from U4SSC's three lists (dimension,
/// sub-dimension, category) or from the generic `[[level]]` and `[[node]]`, checked.
pub(super) fn aggregates_of(
    file: &mut CatalogFile,
    origin: &str,
) -> Result<(Vec<LevelName>, Vec<Aggregate>)> {
    let invalid = |msg: String| Error::Invalid(format!("{origin}: {msg}"));
    let lists =
        !file.dimension.is_empty() || !file.subdimension.is_empty() || !file.category.is_empty();
    if lists && (!file.node.is_empty() || !file.level.is_empty()) {
        return Err(invalid(
            "a catalog lists its aggregates either as [[dimension]], [[subdimension]] and [[category]] or as [[level]] and [[node]], not both".into(),
        ));
    }
    let mut seen = HashSet::new();
    if !file.node.is_empty() || !file.level.is_empty() {
        let levels = std::mem::take(&mut file.level);
        if levels.is_empty() {
            return Err(invalid("[[node]] needs the [[level]]s it names".into()));
        }
        if levels.len() > Level::MAX_AGGREGATE_LEVELS {
            return Err(invalid(format!(
                "{} aggregate levels; at most {} are supported",
                levels.len(),
                Level::MAX_AGGREGATE_LEVELS
            )));
        }
        let mut keys = HashSet::new();
        for l in &levels {
            let slug = !l.key.is_empty()
                && l.key
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !slug {
                return Err(invalid(format!(
                    "level key '{}' must be lowercase letters, digits and '-'",
                    l.key
                )));
            }
            if ["data-point", "kpi", "overall"].contains(&l.key.as_str()) {
                return Err(invalid(format!(
                    "level key '{}' is the name of another level; choose another",
                    l.key
                )));
            }
            if !keys.insert(l.key.as_str()) {
                return Err(invalid(format!("level '{}' is listed twice", l.key)));
            }
        }
        let mut aggregates = Vec::new();
        for n in std::mem::take(&mut file.node) {
            let Some(level) = levels.iter().position(|l| l.key == n.level) else {
                return Err(invalid(format!(
                    "node {} names level '{}', which is not a [[level]] (the levels are {})",
                    n.code,
                    n.level,
                    levels
                        .iter()
                        .map(|l| l.key.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            };
            if !seen.insert(n.code.clone()) {
                return Err(invalid(format!("node {} is listed twice", n.code)));
            }
            if n.code == "overall" {
                return Err(invalid(
                    "a node cannot be called 'overall': that is the overall score's code".into(),
                ));
            }
            aggregates.push(Aggregate {
                code: n.code,
                name: n.name.clone(),
                name_nb: if n.name_nb.is_empty() {
                    n.name
                } else {
                    n.name_nb
                },
                level,
                parent: n.parent,
            });
        }
        for n in &aggregates {
            if let Some(p) = &n.parent {
                match aggregates.iter().find(|a| &a.code == p) {
                    None => {
                        return Err(invalid(format!(
                            "node {} names parent '{p}', which is not in the catalog",
                            n.code
                        )))
                    }
                    Some(a) if a.level <= n.level => {
                        return Err(invalid(format!(
                            "node {} (level {}) names parent '{p}' on level {}; a parent must be on a higher level",
                            n.code, levels[n.level].key, levels[a.level].key
                        )))
                    }
                    Some(_) => {}
                }
            }
        }
        // children before parents: lowest level first, file order within a level
        aggregates.sort_by_key(|a| a.level);
        return Ok((levels, aggregates));
    }
    for d in &file.dimension {
        if !seen.insert(d.code.clone()) {
            return Err(invalid(format!("dimension {} is listed twice", d.code)));
        }
    }
    for s in &file.subdimension {
        let parent = s.dimension.as_deref().unwrap_or_default();
        if !file.dimension.iter().any(|d| d.code == parent) {
            return Err(invalid(format!(
                "sub-dimension {} names dimension '{parent}', which is not in the catalog",
                s.code
            )));
        }
        if !seen.insert(s.code.clone()) {
            return Err(invalid(format!("sub-dimension {} is listed twice", s.code)));
        }
    }
    for c in &file.category {
        let parent = c.subdimension.as_deref().unwrap_or_default();
        if !file.subdimension.iter().any(|s| s.code == parent) {
            return Err(invalid(format!(
                "category {} names sub-dimension '{parent}', which is not in the catalog",
                c.code
            )));
        }
        if !seen.insert(c.code.clone()) {
            return Err(invalid(format!("category {} is listed twice", c.code)));
        }
    }
    let levels = [
        ("category", "Category"),
        ("subdimension", "Sub-dimension"),
        ("dimension", "Dimension"),
    ]
    .map(|(key, name)| LevelName {
        key: key.into(),
        name: name.into(),
    })
    .to_vec();
    let node = |n: &Node, level: usize, parent: Option<String>| Aggregate {
        code: n.code.clone(),
        name: n.name.clone(),
        name_nb: n.name_nb.clone(),
        level,
        parent,
    };
    let mut aggregates: Vec<Aggregate> = Vec::new();
    aggregates.extend(
        file.category
            .iter()
            .map(|c| node(c, 0, c.subdimension.clone())),
    );
    aggregates.extend(
        file.subdimension
            .iter()
            .map(|s| node(s, 1, s.dimension.clone())),
    );
    aggregates.extend(file.dimension.iter().map(|d| node(d, 2, None)));
    Ok((levels, aggregates))
}
