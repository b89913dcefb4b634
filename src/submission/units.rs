//! Units as cities write them. Published U4SSC reports print units their own way
//! (`/ 100 000 inhabitants`, `FTE / 100 000 inhabitants`, `% GDP`, `Minutes`,
//! `Ratio Female: Male`, `t CO2e / capita`); a city that copies its units from its own report
//! must not be refused. A unit is read into what it says — a percentage, a rate per N, physical
//! units (km, m², t, CO2e, µg, m³, kWh, minutes …) and the words around them — and it matches
//! the catalog's when nothing it says conflicts: `per 1 000` is not `per 100 000`, `%` is not
//! a count, `km` is not `m`, `mg/m³` is not `µg/m³`.

use crate::catalog::{DataPoint, UnitKind};

/// What a unit text says.
#[derive(Debug, Default, PartialEq)]
struct Reading {
    percent: bool,
    /// N of a rate "per N" / "/ N" (100 000 for "per 100k")
    per: Option<u64>,
    /// physical units, canonical and sorted
    physical: Vec<&'static str>,
    /// every other word, lower case
    words: Vec<String>,
}

/// Words that say nothing about the unit (who is counted, filler).
const FILLER: &[&str] = &[
    "of",
    "equivalent",
    "eq",
    "eqv",
    "the",
    "a",
    "an",
    "in",
    "by",
    "and",
    "for",
    "with",
    "to",
    "on",
    "at",
    "inhabitants",
    "inhabitant",
    "residents",
    "resident",
    "people",
    "persons",
    "population",
    "innbyggere",
    "innbyggjarar",
    "city",
    "total",
    "number",
    "count",
    "no",
    "antall",
    "value",
    "per",
    "pr",
    "annual",
    "mean",
    "average",
    "share",
    "rate",
    "units",
    "unit",
    "levels",
    "level",
];

fn physical(word: &str) -> Option<&'static str> {
    Some(match word {
        "km" | "kilometre" | "kilometres" | "kilometer" | "kilometers" => "km",
        "m" | "metre" | "metres" | "meter" | "meters" => "m",
        "m2" | "sqm" => "m2",
        "km2" => "km2",
        "m3" => "m3",
        "ha" | "hectare" | "hectares" => "ha",
        "kwh" => "kwh",
        "mwh" => "mwh",
        "gwh" => "gwh",
        "gj" | "gigajoule" | "gigajoules" => "gj",
        "mj" => "mj",
        "t" | "tonne" | "tonnes" | "ton" | "tons" | "tonn" => "t",
        "kg" | "kilogram" | "kilograms" | "kilo" => "kg",
        "co2e" | "co2" | "co2eq" | "co2ekv" => "co2e",
        "ug" | "microgram" | "micrograms" => "ug",
        "mg" | "milligram" | "milligrams" => "mg",
        "ppm" => "ppm",
        "ppb" => "ppb",
        "min" | "mins" | "minute" | "minutes" | "minutter" => "min",
        "h" | "hr" | "hrs" | "hour" | "hours" | "timer" => "h",
        "s" | "sec" | "second" | "seconds" => "s",
        "l" | "litre" | "litres" | "liter" | "liters" => "l",
        "db" | "dba" => "db",
        "nok" | "kr" => "nok",
        "usd" => "usd",
        "eur" => "eur",
        _ => return None,
    })
}

/// Tokens of a unit text: words, numbers (digit groups joined: `100 000` → `100000`), `%`.
fn tokens(text: &str) -> Vec<String> {
    let lower = text
        .to_lowercase()
        .replace(['\u{a0}', '\u{202f}', '\u{2009}'], " ")
        .replace("m²", "m2")
        .replace("m³", "m3")
        .replace(['µ', 'μ'], "u")
        .replace("co₂", "co2")
        .replace("tco2", "t co2")
        .replace("kgco2", "kg co2")
        .replace("kilowatt-hours", "kwh")
        .replace("kilowatt hours", "kwh")
        .replace("kilowatt-hour", "kwh")
        .replace("kilowatt hour", "kwh")
        .replace("megawatt hours", "mwh")
        .replace("megawatt hour", "mwh")
        .replace("gigawatt hours", "gwh")
        .replace("gigawatt hour", "gwh")
        .replace("square kilometres", "km2")
        .replace("square kilometers", "km2")
        .replace("square metres", "m2")
        .replace("square meters", "m2")
        .replace("square metre", "m2")
        .replace("square meter", "m2")
        .replace("cubic metres", "m3")
        .replace("cubic meters", "m3")
        .replace("km²", "km2")
        // as plain text writes them: m^2, sq m, sq. km
        .replace("m^2", "m2")
        .replace("m^3", "m3")
        .replace("sq. km", "km2")
        .replace("sq km", "km2")
        .replace("sq. m", "m2")
        .replace("sq m", "m2")
        .replace("prosent", "%")
        .replace("percentage", "%")
        .replace("percent", "%")
        .replace("pct", "%");
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    for c in lower.chars() {
        if c.is_alphanumeric() {
            cur.push(c);
        } else {
            flush(&mut cur, &mut out);
            match c {
                '%' => out.push("%".into()),
                '/' => out.push("per".into()),
                _ => {}
            }
        }
    }
    flush(&mut cur, &mut out);
    // 100 000 or 100,000 written as groups: join a number with following groups of three
    let mut joined: Vec<String> = Vec::new();
    for t in out {
        if t == "lpcd" {
            // the water sector's litres per capita per day
            joined.extend(["l", "per", "capita", "per", "day"].map(String::from));
            continue;
        }
        let is_group = t.len() == 3 && t.bytes().all(|b| b.is_ascii_digit());
        match joined.last_mut() {
            Some(prev) if is_group && prev.bytes().all(|b| b.is_ascii_digit()) => prev.push_str(&t),
            _ => joined.push(t),
        }
    }
    joined
}

fn read(text: &str) -> Reading {
    let toks = tokens(text);
    let mut r = Reading::default();
    for (i, t) in toks.iter().enumerate() {
        if t == "%" {
            r.percent = true;
            continue;
        }
        if t == "per" {
            // a rate: the number that follows (`per 100 000`, `/ 100k`)
            if let Some(n) = toks.get(i + 1).and_then(|n| rate(n)) {
                r.per = Some(n);
            }
            continue;
        }
        if rate(t).is_some() && i > 0 && toks[i - 1] == "per" {
            continue;
        }
        if let Some(p) = physical(t) {
            r.physical.push(p);
        } else if !FILLER.contains(&t.as_str())
            && !t.bytes().all(|b| b.is_ascii_digit())
            // a lone letter that is no unit (the e of e-services, the A of dB(A))
            && t.chars().count() > 1
        {
            r.words.push(t.clone());
        }
    }
    r.physical.sort_unstable();
    r.physical.dedup();
    r
}

/// `100000`, `100k`, `1000`: the N of a rate.
fn rate(t: &str) -> Option<u64> {
    if let Some(k) = t.strip_suffix('k') {
        return k.parse::<u64>().ok().map(|n| n * 1000);
    }
    t.parse::<u64>().ok().filter(|&n| n >= 10)
}

/// Whether a unit written in a submission says the same as the data point's catalog unit.
pub fn unit_matches(given: &str, dp: &DataPoint) -> bool {
    let g = read(given);
    let c = read(&dp.unit);
    if g == c {
        return true;
    }
    let generic =
        |words: &[String], allowed: &[&str]| words.iter().all(|w| allowed.contains(&w.as_str()));
    match dp.unit_kind {
        // a share: any text that says % (`% GDP`, `% / City GDP`, `% of households`) and
        // no rate or physical unit
        UnitKind::Percent => g.percent && g.per.is_none() && physical_agree(&g, &c),
        // a rate per 100 000 (of inhabitants, of live births): whatever is counted
        UnitKind::Per100k => !g.percent && g.per == Some(100_000) && physical_agree(&g, &c),
        UnitKind::YesNo => {
            !g.percent
                && g.per.is_none()
                && g.physical.is_empty()
                && (generic(
                    &g.words,
                    &["yes", "no", "ja", "nei", "y", "n", "boolean", "binary"],
                ) || g.words.is_empty())
        }
        UnitKind::Count | UnitKind::Ratio | UnitKind::Value => {
            if g.percent != c.percent || g.per != c.per || !physical_agree(&g, &c) {
                return false;
            }
            // the same physical units (t CO2e per capita, minutes) are enough; otherwise
            // the words must be the catalog's (`Services` for "number of public services
            // delivered electronically", `Ratio Female: Male`) or say only "number"
            if !g.physical.is_empty() {
                return true;
            }
            let generic: &[&str] = match dp.unit_kind {
                UnitKind::Ratio => &["ratio", "index", "coefficient"],
                _ => &[],
            };
            g.words
                .iter()
                .all(|w| c.words.contains(w) || generic.contains(&w.as_str()))
        }
    }
}

/// Physical units agree when every one the given text names is one of the catalog's (`t` for
/// "tonnes CO2e"); one the catalog does not name (`km` for `m`, `mg` for `µg`) conflicts.
fn physical_agree(g: &Reading, c: &Reading) -> bool {
    g.physical.iter().all(|p| c.physical.contains(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn dp(unit: &str, kind: UnitKind) -> DataPoint {
        let mut d = Catalog::embedded().unwrap().data_points[0].clone();
        d.unit = unit.into();
        d.unit_kind = kind;
        d
    }

    #[test]
    fn units_as_published_reports_print_them() {
        use UnitKind::*;
        let cases: &[(&str, &str, UnitKind)] = &[
            ("/ 100 000 inhabitants", "per 100 000 inhabitants", Per100k),
            (
                "FTE / 100 000 inhabitants",
                "FTE per 100 000 inhabitants",
                Per100k,
            ),
            (
                "FTE / 100 000 inhabitants",
                "police officers per 100 000 inhabitants",
                Per100k,
            ),
            ("per 100 000", "per 100 000 inhabitants", Per100k),
            ("per 100k", "per 100 000 inhabitants", Per100k),
            (
                "per 100,000 inhabitants",
                "per 100 000 inhabitants",
                Per100k,
            ),
            (
                "/ 100 000 live births",
                "deaths per 100 000 live births",
                Per100k,
            ),
            (
                "km / 100 000 inhabitants",
                "km of bicycle paths and lanes per 100 000 inhabitants",
                Per100k,
            ),
            ("% GDP", "% of GDP", Percent),
            ("% / City GDP", "% of GDP", Percent),
            ("%", "% of households", Percent),
            ("Percent", "% of households", Percent),
            ("Minutes", "minutes", Value),
            (
                "min",
                "minutes (CAIDI: customer interruption minutes / interruptions)",
                Value,
            ),
            ("Ratio Female: Male", "ratio female:male", Ratio),
            (
                "Services",
                "number of public services delivered electronically",
                Count,
            ),
            ("Number", "number of open data sets published", Count),
            ("t CO2e / capita", "tonnes CO2e per capita", Value),
            ("tCO2e/capita", "tonnes CO2e per capita", Value),
            ("kWh/m²/year", "kWh per m² per year", Value),
            ("µg/m3", "µg/m³ annual mean", Value),
            ("Yes / No", "yes/no", YesNo),
            (
                "m2 per capita",
                "m² of public recreational facilities per capita",
                Value,
            ),
            ("Tonnes / capita", "tonnes CO2e per capita", Value),
            (
                "Index",
                "ratio (peak travel time / free-flow travel time)",
                Ratio,
            ),
            ("Years", "years at birth", Value),
            (
                "Interruptions / customer",
                "number of interruptions per customer per year (SAIFI)",
                Value,
            ),
            (
                "% > 55 dB",
                "% of population exposed to road noise above 55 dB Lden",
                Percent,
            ),
            (
                "Number / 100 000 inhabitants",
                "cultural facilities per 100 000 inhabitants",
                Per100k,
            ),
            ("Litres/capita/day", "litres per capita per day", Value),
            ("Gigajoules/year/capita", "GJ per capita per year", Value),
            (
                "kilowatt hours per square metre",
                "kWh per m² per year",
                Value,
            ),
            (
                "kilowatt-hours/capita/year",
                "kWh per capita per year",
                Value,
            ),
            (
                "Number of e-services",
                "number of public services delivered electronically",
                Count,
            ),
            (
                "tonnes of CO2 equivalent per capita",
                "tonnes CO2e per capita",
                Value,
            ),
            ("t CO2-eq/capita", "tonnes CO2e per capita", Value),
            (
                "% of population exposed > 55 dB(A)",
                "% of population exposed to road noise above 55 dB Lden",
                Percent,
            ),
            (
                "Square metres per capita",
                "m² of public recreational facilities per capita",
                Value,
            ),
            (
                "Minutes/customer/year",
                "minutes (CAIDI: customer interruption minutes / interruptions)",
                Value,
            ),
            (
                "Interruptions/customer/year",
                "number of interruptions per customer per year (SAIFI)",
                Value,
            ),
            // as plain text and the water sector write them
            (
                "m^2/capita",
                "m² of public recreational facilities per capita",
                Value,
            ),
            (
                "sq m per capita",
                "m² of public recreational facilities per capita",
                Value,
            ),
            ("lpcd", "litres per capita per day", Value),
            ("l/capita/day", "litres per capita per day", Value),
        ];
        for (given, unit, kind) in cases {
            assert!(
                unit_matches(given, &dp(unit, *kind)),
                "{given:?} for {unit:?}"
            );
        }
    }

    #[test]
    fn a_real_conflict_is_still_refused() {
        use UnitKind::*;
        let cases: &[(&str, &str, UnitKind)] = &[
            ("per 1 000", "per 100 000 inhabitants", Per100k),
            ("/ 1000 inhabitants", "per 100 000 inhabitants", Per100k),
            ("%", "per 100 000 inhabitants", Per100k),
            ("%", "number of open data sets published", Count),
            ("count", "% of households", Percent),
            ("per 100 000", "% of households", Percent),
            (
                "m",
                "km of bicycle paths and lanes per 100 000 inhabitants",
                Per100k,
            ),
            (
                "km per 100 000",
                "hectares of green area per 100 000 inhabitants",
                Per100k,
            ),
            ("mg/m³", "µg/m³ annual mean", Value),
            ("m^3/capita/day", "litres per capita per day", Value),
            (
                "km^2",
                "m² of public recreational facilities per capita",
                Value,
            ),
            ("ppm", "µg/m³ annual mean", Value),
            ("hours", "minutes", Value),
            ("kg CO2e per capita", "tonnes CO2e per capita", Value),
            ("GJ per capita per year", "kWh per capita per year", Value),
            (
                "Buses",
                "number of public services delivered electronically",
                Count,
            ),
            ("%", "yes/no", YesNo),
            ("m³ per capita per day", "litres per capita per day", Value),
            (
                "% within 0.5 km",
                "% of population within 300 m of a green area",
                Percent,
            ),
            ("kWh", "GJ per capita per year", Value),
        ];
        for (given, unit, kind) in cases {
            assert!(
                !unit_matches(given, &dp(unit, *kind)),
                "{given:?} for {unit:?}"
            );
        }
    }
}
