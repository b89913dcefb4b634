//! The deterministic demo generator: plausible, clearly synthetic submissions for the
//! network's cities (or for a synthetic world of any size, for benchmarks).

use crate::catalog::{Catalog, Direction, KpiType, UnitKind};
use crate::registry::{City, Registry};
use std::io::Write;

/// Written into every generated row's `source` column, and shown wherever demo data is.
pub const SYNTHETIC_LABEL: &str = "SYNTHETIC demo data";

/// SplitMix64: small, fast and the same on every platform.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn hash(parts: &[u64]) -> u64 {
    let mut r = Rng::new(0x5EED);
    for p in parts {
        r.0 ^= p.wrapping_mul(0x100_0000_01B3);
        r.next_u64();
    }
    r.next_u64()
}

fn str_hash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Cities for a world of `n`: the registry's own first, then synthetic ones.
pub fn world_cities(registry: &Registry, n: usize) -> Vec<City> {
    let mut out: Vec<City> = registry.cities.iter().take(n).cloned().collect();
    let mut i = 0;
    while out.len() < n {
        i += 1;
        out.push(City {
            slug: format!("synthetic-{i:05}"),
            name: format!("Synthetic City {i}"),
            municipality_number: format!("9{i:05}"),
            former_numbers: vec![],
            county: format!("Synthetic County {}", i % 15 + 1),
            population: 2_000 + (hash(&[i as u64]) % 300_000),
            population_year: 2024,
            population_source: Some(SYNTHETIC_LABEL.to_string()),
            kostra_group: Some((i % 17 + 1) as u8),
            kostra_basis: Some("synthetic".to_string()),
            area_km2: None,
            u4ssc_evaluation: false,
            groups: vec!["synthetic".to_string()],
        });
    }
    out
}

/// The registry file for the synthetic cities of a world (to pass with --registry).
pub fn registry_toml(cities: &[City]) -> String {
    let mut s = format!("# {SYNTHETIC_LABEL}: city registry written by `u4ssc demo`\n");
    for c in cities {
        s.push_str(&format!(
            "\n[[city]]\nslug = \"{}\"\nname = \"{}\"\nmunicipality_number = \"{}\"\ncounty = \"{}\"\npopulation = {}\npopulation_year = {}\nkostra_group = {}\nu4ssc_evaluation = {}\ngroups = [{}]\n",
            c.slug,
            c.name,
            c.municipality_number,
            c.county,
            c.population,
            c.population_year,
            c.kostra_group.unwrap_or(1),
            c.u4ssc_evaluation,
            c.groups.iter().map(|g| format!("\"{g}\"")).collect::<Vec<_>>().join(", ")
        ));
    }
    s
}

pub struct DemoSpec {
    pub years: std::ops::RangeInclusive<i32>,
    pub seed: u64,
}

/// One generated value, as the generator produces it.
pub struct Generated<'a> {
    pub city: &'a City,
    pub year: i32,
    pub data_point: &'a crate::catalog::DataPoint,
    /// None = not reported
    pub value: Option<f64>,
    pub quality: u64,
    pub verified: bool,
}

/// Generate the values of a world, calling `f` for each (in city, year, catalog order).
pub fn generate<E>(
    catalog: &Catalog,
    cities: &[City],
    spec: &DemoSpec,
    mut f: impl FnMut(Generated) -> Result<(), E>,
) -> Result<usize, E> {
    let first_year = *spec.years.start();
    let mut rows = 0;
    for c in cities {
        let ch = str_hash(&c.slug);
        // a city-wide tendency: some cities lead, some lag
        let city_level = (hash(&[spec.seed, ch, 1]) % 1000) as f64 / 1000.0;
        for year in spec.years.clone() {
            // about one city-year in twenty is missing, never the first or the latest year
            if year > first_year
                && year < *spec.years.end()
                && hash(&[spec.seed, ch, year as u64, 2]).is_multiple_of(20)
            {
                continue;
            }
            for dp in &catalog.data_points {
                let dh = str_hash(&dp.id);
                // a city reports about 70 % of advanced data points, the same ones every year
                if dp.kpi_type == KpiType::Advanced && hash(&[spec.seed, ch, dh, 3]) % 10 < 3 {
                    continue;
                }
                let mut r = Rng::new(hash(&[spec.seed, ch, dh, year as u64]));
                let not_reported = r.f64() < 0.03;
                let own = (hash(&[spec.seed, ch, dh, 4]) % 1000) as f64 / 1000.0;
                let progress = f64::from(year - first_year) * 0.015;
                let good = (0.55 * city_level + 0.45 * own + progress + (r.f64() - 0.5) * 0.04)
                    .clamp(0.0, 1.0);
                let [lo, hi] = dp.plausible;
                let value = match (dp.unit_kind, dp.direction) {
                    (UnitKind::YesNo, _) => {
                        if good > 0.45 {
                            1.0
                        } else {
                            0.0
                        }
                    }
                    (_, Direction::LowerBetter) => hi - good * (hi - lo),
                    (_, Direction::TargetBand) => 0.80 + good * 0.22,
                    (_, Direction::HigherBetter | Direction::None) => lo + good * (hi - lo),
                };
                let value = match dp.unit_kind {
                    UnitKind::Count => value.round(),
                    _ => (value * 100.0).round() / 100.0,
                };
                f(Generated {
                    city: c,
                    year,
                    data_point: dp,
                    value: (!not_reported).then_some(value),
                    quality: 1 + (hash(&[spec.seed, ch, dh, 5]) % 4),
                    verified: !hash(&[spec.seed, ch, dh, year as u64, 6]).is_multiple_of(5),
                })?;
                rows += 1;
            }
        }
    }
    Ok(rows)
}

/// Write a submission CSV for `cities` over `spec.years`. Returns the number of rows.
pub fn write_csv<W: Write>(
    out: &mut W,
    catalog: &Catalog,
    cities: &[City],
    spec: &DemoSpec,
) -> std::io::Result<usize> {
    writeln!(
        out,
        "city,year,kpi,data_point,value,unit,quality,verified,source"
    )?;
    let source = format!("{SYNTHETIC_LABEL} (u4ssc demo, seed {})", spec.seed);
    generate(catalog, cities, spec, |g| {
        let dp = g.data_point;
        let cell = match g.value {
            None => "NR".to_string(),
            Some(v) if dp.unit_kind == UnitKind::YesNo => {
                if v > 0.5 { "yes" } else { "no" }.to_string()
            }
            Some(v) => format!("{v}"),
        };
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            g.city.slug,
            g.year,
            dp.code,
            dp.part,
            cell,
            csv_field(&dp.unit),
            g.quality,
            if g.verified { "yes" } else { "no" },
            csv_field(&source)
        )
    })
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gen(seed: u64) -> String {
        let cat = Catalog::embedded().unwrap();
        let reg = Registry::embedded().unwrap();
        let mut buf = Vec::new();
        write_csv(
            &mut buf,
            &cat,
            &world_cities(&reg, 17),
            &DemoSpec {
                years: 2019..=2024,
                seed,
            },
        )
        .unwrap();
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        assert_eq!(gen(7), gen(7));
        assert_ne!(gen(7), gen(8));
    }

    #[test]
    fn every_row_is_labelled_synthetic_and_has_gaps() {
        let text = gen(2026);
        let rows: Vec<&str> = text.lines().skip(1).collect();
        assert!(rows.iter().all(|r| r.contains(SYNTHETIC_LABEL)));
        let full = 17 * 6 * 112;
        assert!(rows.len() < full && rows.len() > full / 2, "{}", rows.len());
        assert!(rows.iter().any(|r| r.contains(",NR,")));
    }

    #[test]
    fn world_has_requested_size_with_unique_slugs() {
        let reg = Registry::embedded().unwrap();
        let w = world_cities(&reg, 40);
        assert_eq!(w.len(), 40);
        let slugs: std::collections::HashSet<_> = w.iter().map(|c| &c.slug).collect();
        assert_eq!(slugs.len(), 40);
        let back = Registry::parse(&registry_toml(&w[17..]), "w").unwrap();
        assert_eq!(back.cities.len(), 23);
    }
}
