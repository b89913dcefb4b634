//! The shapes cities and coordinators really send, turned into the long table that
//! [`super::validate`] checks (one row per city × year × data point). The shape is told by the
//! header alone:
//!
//! - **long**: a `value` column (`city, year, kpi, data_point, value, …`); `--city` and
//!   `--year` may stand in for a missing city or year column;
//! - **years as columns**: `kpi, data_point, 2019, 2020, 2021` for one city (a `city` column
//!   or `--city`);
//! - **cities as columns**: `kpi, data_point, Trondheim, Bodø, …` for one year (a `year`
//!   column or `--year`).
//!
//! Every moved cell keeps its own location, so a finding names the cell the city typed.

use super::read::{Row, Table};
use super::validate::{normalise_header, OPTIONAL, REQUIRED};
use super::Finding;
use crate::catalog::Catalog;
use crate::registry::Registry;
use crate::text::shown;

/// City and year given on the command line for files that do not name them.
#[derive(Debug, Clone, Default)]
pub struct Given {
    pub city: Option<String>,
    pub year: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    Long,
    YearsAsColumns,
    CitiesAsColumns,
    /// A workbook made by `u4ssc template`.
    Template,
}

impl Shape {
    pub fn describe(self) -> &'static str {
        match self {
            Shape::Long => "one row per value",
            Shape::YearsAsColumns => "years as columns",
            Shape::CitiesAsColumns => "cities as columns",
            Shape::Template => "the u4ssc template",
        }
    }
}

fn is_year(h: &str) -> bool {
    let h = h.trim();
    h.len() == 4
        && h.chars().all(|c| c.is_ascii_digit())
        && h.parse::<i32>().is_ok_and(|y| (1900..=2100).contains(&y))
}

/// Columns that hold one value per row, so they cannot sit beside several values.
const PER_VALUE: &[&str] = &["numerator", "denominator"];

/// The long table of any accepted shape, with the shape found. Errors are located on the
/// header cell (or name the option) that makes the shape impossible.
pub fn to_long(
    t: Table,
    catalog: &Catalog,
    registry: &Registry,
    given: &Given,
) -> Result<(Table, Shape), Vec<Finding>> {
    if let Some(meta) = &t.template {
        return from_template(&t, meta, catalog, registry, given).map(|()| (t, Shape::Template));
    }
    let names: Vec<String> = t.header.iter().map(|h| normalise_header(h)).collect();
    let known = |n: &str| REQUIRED.contains(&n) || OPTIONAL.contains(&n);
    let has = |n: &str| names.iter().any(|x| x == n);
    let file = t.file.clone();
    let header_error = |rule: &'static str, i: usize, msg: String| {
        Finding::error(rule, &file, msg).at(1, Some(t.column_label(i)))
    };
    let option_error =
        |rule: &'static str, msg: String| Finding::error(rule, &file, msg).at(1, None);

    if has("value") {
        return long_with_given(t, &names, given).map(|t| (t, Shape::Long));
    }
    let wide: Vec<usize> = (0..names.len()).filter(|&i| !known(&names[i])).collect();
    let years = wide.iter().filter(|&&i| is_year(&t.header[i])).count();
    let cities = wide
        .iter()
        .filter(|&&i| registry.resolve(&t.header[i], None).is_some())
        .count();
    let shape = if years > 0 && years >= cities {
        Shape::YearsAsColumns
    } else if cities > 0 {
        Shape::CitiesAsColumns
    } else {
        // no shape we know: validation says which columns are missing or unknown
        return Ok((t, Shape::Long));
    };
    let mut errors = Vec::new();
    for &i in &wide {
        let h = &t.header[i];
        match shape {
            Shape::YearsAsColumns if !is_year(h) => errors.push(header_error(
                "year_column_not_a_year",
                i,
                format!(
                    "{} is not a year; in a file with years as columns every column besides {} is a year of four digits",
                    shown(h),
                    known_list()
                ),
            )),
            Shape::CitiesAsColumns if registry.resolve(h, None).is_none() => {
                let hint = registry
                    .suggest(h)
                    .map(|c| format!(" (did you mean '{}'?)", c.name))
                    .unwrap_or_default();
                errors.push(header_error(
                    "city_column_not_a_city",
                    i,
                    format!(
                        "{} is not a city in the registry{hint}; in a file with cities as columns every column besides {} names a city",
                        shown(h),
                        known_list()
                    ),
                ))
            }
            _ => {}
        }
    }
    for n in PER_VALUE {
        if let Some(i) = names.iter().position(|x| x == n) {
            errors.push(header_error(
                "per_value_column_in_wide_file",
                i,
                format!(
                    "a file with {} cannot have a {n} column: a numerator and denominator belong to one value; use one row per value (city, year, kpi, data_point, value, numerator, denominator)",
                    shape.describe()
                ),
            ));
        }
    }
    // the one thing the columns do not say: the city (years as columns) or the year
    let (fixed, flag) = match shape {
        Shape::YearsAsColumns => ("city", "--city"),
        _ => ("year", "--year"),
    };
    let given_fixed = match shape {
        Shape::YearsAsColumns => given.city.clone(),
        _ => given.year.map(|y| y.to_string()),
    };
    let fixed_column = names.iter().position(|x| x == fixed);
    match (fixed_column, &given_fixed) {
        (None, None) => errors.push(option_error(
            "missing_column",
            format!(
                "the file has {}; say which {fixed} it is with a {fixed} column or {flag}",
                shape.describe()
            ),
        )),
        (Some(i), Some(_)) => errors.push(header_error(
            "given_twice",
            i,
            format!("the file has a {fixed} column and {flag} was given too; use one"),
        )),
        _ => {}
    }
    if !has("kpi") {
        errors.push(option_error(
            "missing_column",
            "the required column 'kpi' is missing".to_string(),
        ));
    }
    let other_axis = match shape {
        Shape::YearsAsColumns => "year",
        _ => "city",
    };
    if let Some(i) = names.iter().position(|x| x == other_axis) {
        errors.push(header_error(
            "given_twice",
            i,
            format!(
                "the file has {} and a {other_axis} column too; keep one",
                shape.describe()
            ),
        ));
    }
    let other_flag = match shape {
        Shape::YearsAsColumns => given.year.is_some().then_some("--year"),
        _ => given.city.is_some().then_some("--city"),
    };
    if let Some(f) = other_flag {
        errors.push(option_error(
            "given_twice",
            format!("the file has {}; {f} does not apply", shape.describe()),
        ));
    }
    if !errors.is_empty() {
        return Err(errors);
    }

    // the long header: city, year, value, then every known column of the file
    let carried: Vec<usize> = (0..names.len())
        .filter(|&i| known(&names[i]) && names[i] != fixed)
        .collect();
    let mut header = vec!["city".to_string(), "year".to_string(), "value".to_string()];
    header.extend(carried.iter().map(|&i| names[i].clone()));
    let mut column_labels = vec!["city".to_string(), "year".to_string(), "value".to_string()];
    column_labels.extend(carried.iter().map(|&i| t.column_labels[i].clone()));
    let mut rows = Vec::new();
    for (r, row) in t.rows.iter().enumerate() {
        let fixed_cell = match (fixed_column, &given_fixed) {
            (Some(i), _) => (
                row.cells.get(i).cloned().unwrap_or_default(),
                t.cell_label(r, i),
            ),
            (None, Some(g)) => (g.clone(), flag.to_string()),
            (None, None) => continue,
        };
        for &c in &wide {
            let cell = row.cells.get(c).map(|s| s.trim()).unwrap_or("");
            if cell.is_empty() {
                continue; // not filled in; "NR" says not reported
            }
            let axis = (t.header[c].trim().to_string(), t.column_label(c));
            let (city, year) = match shape {
                Shape::YearsAsColumns => (fixed_cell.clone(), axis),
                _ => (axis, fixed_cell.clone()),
            };
            let mut cells = vec![city.0, year.0, cell.to_string()];
            let mut labels = vec![city.1, year.1, t.cell_label(r, c)];
            for &k in &carried {
                cells.push(row.cells.get(k).cloned().unwrap_or_default());
                labels.push(t.cell_label(r, k));
            }
            rows.push(Row {
                line: row.line,
                cells,
                labels,
            });
        }
    }
    Ok((
        Table {
            header,
            column_labels,
            rows,
            ..t
        },
        shape,
    ))
}

fn known_list() -> String {
    let mut all: Vec<&str> = REQUIRED.iter().chain(OPTIONAL.iter()).copied().collect();
    all.retain(|n| *n != "value");
    all.join(", ")
}

/// A long file that lacks a city or year column takes it from `--city`/`--year`.
fn long_with_given(mut t: Table, names: &[String], given: &Given) -> Result<Table, Vec<Finding>> {
    let mut errors = Vec::new();
    let fills = [
        ("city", "--city", given.city.clone()),
        ("year", "--year", given.year.map(|y| y.to_string())),
    ];
    for (name, flag, value) in fills {
        let Some(value) = value else { continue };
        if let Some(i) = names.iter().position(|x| x == name) {
            errors.push(
                Finding::error(
                    "given_twice",
                    &t.file,
                    format!("the file has a {name} column and {flag} was given too; use one"),
                )
                .at(1, Some(t.column_label(i))),
            );
            continue;
        }
        let width = t.header.len();
        t.header.push(name.to_string());
        t.column_labels.push(flag.to_string());
        for row in &mut t.rows {
            row.cells.resize(width, String::new());
            row.cells.push(value.clone());
        }
    }
    if errors.is_empty() {
        Ok(t)
    } else {
        Err(errors)
    }
}

/// A filled template: its city and year cells name a registry city and a year, it was made
/// for this catalog, and its rows are the catalog's, in order.
fn from_template(
    t: &Table,
    meta: &super::template::Meta,
    catalog: &Catalog,
    registry: &Registry,
    given: &Given,
) -> Result<(), Vec<Finding>> {
    let file = &t.file;
    let mut errors = Vec::new();
    if given.city.is_some() || given.year.is_some() {
        errors.push(
            Finding::error(
                "given_twice",
                file,
                "the template names its city and year (cells B1 and B2); --city and --year do not apply",
            )
            .at(1, Some("B".to_string())),
        );
    }
    let year = meta.year.parse::<i32>().ok();
    if year.is_none() {
        errors.push(
            Finding::error(
                "bad_year",
                file,
                format!(
                    "the template's year cell holds {}; write the year as four digits",
                    shown(&meta.year)
                ),
            )
            .at(2, Some("B".to_string())),
        );
    }
    if registry.resolve(&meta.city, year).is_none() {
        let hint = registry
            .suggest(&meta.city)
            .map(|c| format!("; did you mean '{}'?", c.name))
            .unwrap_or_default();
        errors.push(
            Finding::error(
                "unknown_city",
                file,
                format!(
                    "the template's city cell holds {}, which is not a city in the registry{hint}",
                    shown(&meta.city)
                ),
            )
            .at(1, Some("B".to_string())),
        );
    }
    errors.extend(super::template::check_rows(file, meta, catalog));
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
