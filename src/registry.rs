//! The city registry: which cities exist, their municipality numbers, population and peer
//! groups. Loaded from `cities/registry.toml` (embedded; `--cities` reads another file).

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::collections::HashSet;
use std::path::Path;

pub const EMBEDDED: &str = include_str!("../cities/registry.toml");

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct City {
    pub slug: String,
    pub name: String,
    pub municipality_number: String,
    #[serde(default)]
    pub former_numbers: Vec<String>,
    pub county: String,
    pub population: u64,
    pub population_year: i32,
    #[serde(default)]
    pub population_source: Option<String>,
    #[serde(default)]
    pub kostra_group: Option<u8>,
    #[serde(default)]
    pub kostra_basis: Option<String>,
    #[serde(default)]
    pub area_km2: Option<f64>,
    #[serde(default)]
    pub u4ssc_evaluation: bool,
    #[serde(default)]
    pub groups: Vec<String>,
}

impl City {
    /// Population band used as a peer group (KOSTRA's size classes).
    pub fn population_band(&self) -> &'static str {
        match self.population {
            0..=9_999 => "under 10 000",
            10_000..=19_999 => "10 000-19 999",
            20_000..=44_999 => "20 000-44 999",
            45_000..=74_999 => "45 000-74 999",
            75_000..=299_999 => "75 000-299 999",
            _ => "300 000 and more",
        }
    }

    /// Whether `number` was this city's municipality number in `year` (current or former).
    pub fn had_number(&self, number: &str, year: Option<i32>) -> bool {
        if self.municipality_number == number {
            return true;
        }
        self.former_numbers.iter().any(|f| {
            let (n, range) = f.split_once(':').unwrap_or((f.as_str(), ""));
            if n != number {
                return false;
            }
            let Some(year) = year else { return true };
            let (from, to) = range.split_once('-').unwrap_or(("", ""));
            let from = from.parse::<i32>().unwrap_or(i32::MIN);
            let to = to.parse::<i32>().unwrap_or(i32::MAX);
            (from..=to).contains(&year)
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    city: Vec<City>,
}

#[derive(Debug, Clone)]
pub struct Registry {
    pub cities: Vec<City>,
    /// slug -> position, built on first use (a world has 10 000 cities)
    index: std::sync::OnceLock<std::collections::HashMap<String, usize>>,
}

/// How a city was named in a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    Slug,
    Number,
    FormerNumber,
    Name,
}

impl Registry {
    /// A registry file's text (what `Registry::parse` reads back).
    pub fn to_toml(cities: Vec<City>) -> Result<String> {
        toml::to_string(&RegistryFile { city: cities })
            .map_err(|e| Error::Invalid(format!("the registry cannot be written: {e}")))
    }

    pub fn embedded() -> Result<Registry> {
        Registry::parse(EMBEDDED, "cities/registry.toml (embedded)")
    }

    pub fn load(path: &Path) -> Result<Registry> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Registry::parse(&text, &path.display().to_string())
    }

    pub fn parse(text: &str, origin: &str) -> Result<Registry> {
        let file: RegistryFile =
            toml::from_str(text).map_err(|e| crate::error::toml_error(origin, text, &e))?;
        let mut slugs = HashSet::new();
        let mut numbers = HashSet::new();
        for c in &file.city {
            let bad = |m: &str| Error::Invalid(format!("{origin}: city '{}': {m}", c.slug));
            if c.slug.is_empty()
                || !c
                    .slug
                    .chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
            {
                return Err(bad("slug must be lowercase ASCII letters, digits and '-'"));
            }
            let texts = [
                Some(&c.name),
                Some(&c.county),
                c.population_source.as_ref(),
                c.kostra_basis.as_ref(),
            ];
            for t in texts
                .into_iter()
                .flatten()
                .chain(&c.former_numbers)
                .chain(&c.groups)
            {
                if let Some((at, ch)) = crate::text::first_control(t, false) {
                    return Err(bad(&format!(
                        "{} holds the control character {} at character {at}; remove it",
                        crate::text::shown(t),
                        crate::text::code_point(ch)
                    )));
                }
            }
            if !slugs.insert(c.slug.clone()) {
                return Err(bad("slug is used twice"));
            }
            if !(4..=6).contains(&c.municipality_number.len())
                || !c.municipality_number.chars().all(|ch| ch.is_ascii_digit())
            {
                return Err(bad(
                    "municipality_number must be four digits (six for synthetic cities)",
                ));
            }
            if !numbers.insert(c.municipality_number.clone()) {
                return Err(bad("municipality_number is used twice"));
            }
            if let Some(g) = c.kostra_group {
                if !(1..=17).contains(&g) {
                    return Err(bad("kostra_group must be 1-17"));
                }
            }
        }
        Ok(Registry::from_cities(file.city))
    }

    pub fn from_cities(cities: Vec<City>) -> Registry {
        Registry {
            cities,
            index: std::sync::OnceLock::new(),
        }
    }

    pub fn get(&self, slug: &str) -> Option<&City> {
        let index = self.index.get_or_init(|| {
            self.cities
                .iter()
                .enumerate()
                .map(|(i, c)| (c.slug.clone(), i))
                .collect()
        });
        // the index is checked against the list, which callers may have replaced since
        match index.get(slug).and_then(|&i| self.cities.get(i)) {
            Some(c) if c.slug == slug => Some(c),
            _ => self.cities.iter().find(|c| c.slug == slug),
        }
    }

    /// The display name of a city, or the slug itself when the registry does not know it.
    pub fn name_of(&self, slug: &str) -> String {
        self.get(slug)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| slug.to_string())
    }

    /// Resolve a city as written in a submission: slug, municipality number (current, or
    /// former in the given year) or name, all case-insensitive.
    pub fn resolve(&self, text: &str, year: Option<i32>) -> Option<(&City, Match)> {
        let t = text.trim();
        let lower = t.to_lowercase();
        if let Some(c) = self.get(&lower) {
            return Some((c, Match::Slug));
        }
        if (4..=6).contains(&t.len()) && t.chars().all(|c| c.is_ascii_digit()) {
            if let Some(c) = self.cities.iter().find(|c| c.municipality_number == t) {
                return Some((c, Match::Number));
            }
            if let Some(c) = self.cities.iter().find(|c| c.had_number(t, year)) {
                return Some((c, Match::FormerNumber));
            }
            return None;
        }
        self.cities
            .iter()
            .find(|c| c.name.to_lowercase() == lower)
            .map(|c| (c, Match::Name))
    }

    /// The registry city closest to a mistyped name or slug (Bodo, bodoe, Tromso), for "did
    /// you mean": accents folded, at most 2 edits, or a name that starts the same way.
    pub fn suggest(&self, text: &str) -> Option<&City> {
        let fold = |s: &str| -> String {
            s.to_lowercase()
                .chars()
                .map(|c| match c {
                    'æ' => 'a',
                    'ø' | 'ö' => 'o',
                    'å' | 'ä' | 'á' | 'à' => 'a',
                    'é' | 'è' => 'e',
                    c => c,
                })
                .filter(|c| c.is_alphanumeric())
                .collect()
        };
        let wanted = fold(text);
        if wanted.len() < 3 {
            return None;
        }
        self.cities
            .iter()
            .map(|c| {
                let d = crate::catalog::edit_distance(&wanted, &fold(&c.name))
                    .min(crate::catalog::edit_distance(&wanted, &fold(&c.slug)));
                (d, c)
            })
            .filter(|(d, _)| *d <= 2)
            .min_by_key(|(d, _)| *d)
            .map(|(_, c)| c)
    }

    /// The slug of the city a text names (slug, name or municipality number, former ones by
    /// `year`); an unknown one is a usage error with the nearest city as a suggestion.
    pub fn slug_for(&self, text: &str, year: Option<i32>) -> Result<String> {
        if let Some((c, _)) = self.resolve(text, year) {
            return Ok(c.slug.clone());
        }
        let hint = self
            .suggest(text)
            .map(|c| format!("; did you mean '{}' ({})?", c.slug, c.name))
            .unwrap_or_else(|| "; see `u4ssc cities`".to_string());
        Err(Error::Usage(format!(
            "{} is not a city in the registry{hint}",
            crate::text::shown(text)
        )))
    }

    /// The peer groups one can cycle through for a city (the TUI's `p`): all, kostra,
    /// county, population and the city's custom groups, each a group [`Registry::peer_set`]
    /// takes.
    pub fn peer_choices(&self, city: Option<&City>) -> Vec<String> {
        let mut v = vec![
            "all".to_string(),
            "kostra".into(),
            "county".into(),
            "population".into(),
        ];
        if let Some(c) = city {
            v.extend(c.groups.iter().cloned());
        }
        v
    }

    /// The cities among `cities` that a peer group given on the command line names (`like`
    /// resolves its city; a group with no city in `cities` is a usage error).
    pub fn members_of(&self, spec: &PeerSpec, cities: &[String]) -> Result<BTreeSet<String>> {
        let set: BTreeSet<String> = match spec {
            PeerSpec::All => cities.iter().cloned().collect(),
            PeerSpec::Like(city) => {
                let slug = self.slug_for(city, None)?;
                self.peer_set(&slug, "kostra", cities)
            }
            PeerSpec::Kostra(k) => cities
                .iter()
                .filter(|c| {
                    self.get(c)
                        .and_then(|x| x.kostra_group)
                        .map(|g| g.to_string())
                        == Some(k.clone())
                })
                .cloned()
                .collect(),
            PeerSpec::County(name) => cities
                .iter()
                .filter(|c| {
                    self.get(c)
                        .is_some_and(|x| x.county.eq_ignore_ascii_case(name))
                })
                .cloned()
                .collect(),
            PeerSpec::Population(band) => cities
                .iter()
                .filter(|c| self.get(c).is_some_and(|x| x.population_band() == band))
                .cloned()
                .collect(),
            PeerSpec::Group(name) => cities
                .iter()
                .filter(|c| {
                    self.get(c)
                        .is_some_and(|x| x.groups.iter().any(|g| g == name))
                })
                .cloned()
                .collect(),
        };
        if set.is_empty() {
            return Err(Error::Usage(format!(
                "--peers '{spec}' matches no city in this run"
            )));
        }
        Ok(set)
    }

    /// The cities among `cities` in `city`'s peer group: `kind` as [`Registry::groups_of`]
    /// gives it ("all", "kostra", "population", "county", or "custom" with `label` the
    /// group's name). Every peer table, profile, comparison and TUI view asks this.
    pub fn group_members(
        &self,
        city: &str,
        kind: &str,
        label: &str,
        cities: &[String],
    ) -> BTreeSet<String> {
        match kind {
            "all" => cities.iter().cloned().collect(),
            _ => self.peer_set(city, Registry::group_name(kind, label), cities),
        }
    }

    /// The cities among `cities` that share `city`'s `group`: "all", "kostra", "population",
    /// "county", or the name of a custom group (optionally "custom:NAME").
    pub fn peer_set(&self, city: &str, group: &str, cities: &[String]) -> BTreeSet<String> {
        let me = self.get(city);
        cities
            .iter()
            .filter(|other| Registry::shares(group, me, self.get(other)))
            .cloned()
            .collect()
    }

    /// Whether `other` is in `me`'s `group` (as [`Registry::peer_set`] names groups); a city
    /// the registry does not know (`None`) shares "all" only.
    pub fn shares(group: &str, me: Option<&City>, other: Option<&City>) -> bool {
        match (group, me, other) {
            ("all", _, _) => true,
            ("kostra", Some(a), Some(b)) => {
                a.kostra_group.is_some() && a.kostra_group == b.kostra_group
            }
            ("population", Some(a), Some(b)) => a.population_band() == b.population_band(),
            ("county", Some(a), Some(b)) => a.county == b.county,
            (g, Some(a), Some(b)) => {
                let name = g.strip_prefix("custom:").unwrap_or(g);
                a.groups.iter().any(|x| x == name) && b.groups.iter().any(|x| x == name)
            }
            _ => false,
        }
    }

    /// The group [`Registry::group_members`] takes a (kind, label) pair of
    /// [`Registry::groups_of`] for, as [`Registry::shares`] names it.
    pub fn group_name<'a>(kind: &'a str, label: &'a str) -> &'a str {
        match kind {
            "custom" => label,
            k => k,
        }
    }

    /// Peer groups a city belongs to, as (group kind, group value).
    pub fn groups_of(&self, c: &City) -> Vec<(String, String)> {
        let mut g = vec![("all".to_string(), "all cities".to_string())];
        if let Some(k) = c.kostra_group {
            g.push(("kostra".to_string(), format!("KOSTRA group {k}")));
        }
        g.push(("population".to_string(), c.population_band().to_string()));
        g.push(("county".to_string(), c.county.clone()));
        for custom in &c.groups {
            g.push(("custom".to_string(), custom.clone()));
        }
        g
    }
}

/// A peer group as the command line names it: `all`, or `KIND=VALUE` (`:` also taken).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerSpec {
    All,
    /// a KOSTRA group number
    Kostra(String),
    County(String),
    /// a population band as `cities` shows it
    Population(String),
    /// a custom group (`group=` or `custom=`)
    Group(String),
    /// the KOSTRA group of a city
    Like(String),
}

impl PeerSpec {
    /// The kinds `KIND=VALUE` may name.
    pub const KINDS: [&'static str; 5] = ["kostra", "county", "population", "group", "like"];

    /// Parse `all` or `KIND=VALUE`; `None` for anything else.
    pub fn parse(text: &str) -> Option<PeerSpec> {
        if text == "all" {
            return Some(PeerSpec::All);
        }
        let (kind, value) = text.split_once(['=', ':'])?;
        if value.is_empty() {
            return None;
        }
        let v = value.to_string();
        Some(match kind {
            "kostra" => PeerSpec::Kostra(v),
            "county" => PeerSpec::County(v),
            "population" => PeerSpec::Population(v),
            "group" | "custom" => PeerSpec::Group(v),
            "like" => PeerSpec::Like(v),
            _ => return None,
        })
    }
}

impl std::fmt::Display for PeerSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PeerSpec::All => write!(f, "all"),
            PeerSpec::Kostra(v) => write!(f, "kostra={v}"),
            PeerSpec::County(v) => write!(f, "county={v}"),
            PeerSpec::Population(v) => write!(f, "population={v}"),
            PeerSpec::Group(v) => write!(f, "group={v}"),
            PeerSpec::Like(v) => write!(f, "like={v}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--peers` is read into a typed group and written back in one spelling.
    #[test]
    fn peer_specs_parse_and_print() {
        assert_eq!(PeerSpec::parse("all"), Some(PeerSpec::All));
        assert_eq!(
            PeerSpec::parse("kostra:12"),
            Some(PeerSpec::Kostra("12".into()))
        );
        assert_eq!(
            PeerSpec::parse("custom=northern").map(|p| p.to_string()),
            Some("group=northern".into())
        );
        for bad in ["", "kostra=", "planet=mars", "nordland"] {
            assert_eq!(PeerSpec::parse(bad), None, "{bad}");
        }
        let r = Registry::embedded().unwrap();
        let all: Vec<String> = r.cities.iter().map(|c| c.slug.clone()).collect();
        let like = r.members_of(&PeerSpec::Like("Bodø".into()), &all).unwrap();
        assert!(like.contains("bodo"));
        assert!(r
            .members_of(&PeerSpec::County("Atlantis".into()), &all)
            .is_err());
    }

    #[test]
    fn embedded_registry_has_the_17_network_cities() {
        let r = Registry::embedded().unwrap();
        assert_eq!(r.cities.len(), 17);
        assert_eq!(r.cities.iter().filter(|c| c.u4ssc_evaluation).count(), 14);
        assert!(r.get("oslo").is_some() && r.get("bergen").is_some());
    }

    #[test]
    fn resolves_slug_number_name_and_former_number_by_year() {
        let r = Registry::embedded().unwrap();
        assert_eq!(r.resolve("Tromsø", None).unwrap().0.slug, "tromso");
        assert_eq!(r.resolve("5501", Some(2024)).unwrap().0.slug, "tromso");
        let (c, m) = r.resolve("5401", Some(2021)).unwrap();
        assert_eq!((c.slug.as_str(), m), ("tromso", Match::FormerNumber));
        // 5401 was Tromsø only in 2020-2023
        assert!(r.resolve("5401", Some(2024)).is_none());
        assert!(r.resolve("../etc", None).is_none());
        // Narvik was 1805 until the 2020 merger with Ballangen and part of Tysfjord
        let (c, m) = r.resolve("1805", Some(2019)).unwrap();
        assert_eq!((c.slug.as_str(), m), ("narvik", Match::FormerNumber));
        assert!(r.resolve("1805", Some(2020)).is_none());
        assert_eq!(r.resolve("1806", Some(2024)).unwrap().0.slug, "narvik");
    }

    /// KOSTRA groups 7-12 are population bands of the 2020 grouping (methods.md §4.1); a
    /// city's group must fit its population. Asker and Bærum were typed as group 17 (the 8
    /// small municipalities with the highest tax income) though both are in the 75 000 -
    /// 300 000 band of group 12.
    #[test]
    fn kostra_groups_fit_the_population_bands() {
        let r = Registry::embedded().unwrap();
        let band = |p: u64| match p {
            2_000..=9_999 => 1..=6,
            10_000..=19_999 => 7..=8,
            20_000..=29_999 => 9..=9,
            30_000..=44_999 => 10..=10,
            45_000..=74_999 => 11..=11,
            75_000..=300_000 => 12..=12,
            _ => 13..=17,
        };
        for c in &r.cities {
            let g = c.kostra_group.unwrap();
            if c.slug == "oslo" {
                assert_eq!(g, 13);
                continue;
            }
            assert!(
                band(c.population).contains(&g),
                "{} ({} inhabitants) is in KOSTRA group {g}",
                c.slug,
                c.population
            );
            assert!(c.kostra_basis.is_some(), "{}", c.slug);
        }
        assert_eq!(r.get("asker").unwrap().kostra_group, Some(12));
        assert_eq!(r.get("baerum").unwrap().kostra_group, Some(12));
    }

    #[test]
    fn mistyped_cities_get_a_suggestion() {
        let r = Registry::embedded().unwrap();
        assert_eq!(r.suggest("Bodoe").unwrap().slug, "bodo");
        assert_eq!(r.suggest("tromso").unwrap().slug, "tromso");
        assert_eq!(r.suggest("Trondhiem").unwrap().slug, "trondheim");
        assert_eq!(r.suggest("Baerum").unwrap().slug, "baerum");
        assert!(r.suggest("Atlantis").is_none());
    }

    #[test]
    fn registry_accepts_more_cities_without_code_changes() {
        let text = format!(
            "{}\n[[city]]\nslug = \"sandnes\"\nname = \"Sandnes\"\nmunicipality_number = \"1108\"\ncounty = \"Rogaland\"\npopulation = 83000\npopulation_year = 2024\n",
            EMBEDDED
        );
        let r = Registry::parse(&text, "x").unwrap();
        assert_eq!(r.cities.len(), 18);
        assert_eq!(r.resolve("1108", None).unwrap().0.name, "Sandnes");
    }

    #[test]
    fn duplicate_slug_is_rejected() {
        let text = format!("{}\n[[city]]\nslug = \"oslo\"\nname = \"Oslo 2\"\nmunicipality_number = \"9999\"\ncounty = \"x\"\npopulation = 1\npopulation_year = 2024\n", EMBEDDED);
        assert!(Registry::parse(&text, "x")
            .unwrap_err()
            .to_string()
            .contains("slug is used twice"));
    }
}
