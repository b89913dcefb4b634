use super::*;
use crate::submission::read::{Format, Row};

fn table(header: &[&str], rows: &[&[&str]]) -> Table {
    Table {
        file: "t.csv".into(),
        format: Format::Csv,
        header: header.iter().map(|s| s.to_string()).collect(),
        column_labels: (1..=header.len()).map(|i| i.to_string()).collect(),
        template: None,
        rows: rows
            .iter()
            .enumerate()
            .map(|(i, r)| Row {
                line: i + 2,
                cells: r.iter().map(|s| s.to_string()).collect(),
                labels: Vec::new(),
            })
            .collect(),
        content_hash: String::new(),
    }
}

fn run(rows: &[&[&str]]) -> Checked {
    let c = Catalog::embedded().unwrap();
    let r = Registry::embedded().unwrap();
    validate(
        &table(
            &[
                "City",
                "YEAR",
                "kpi",
                "data_point",
                "value",
                "numerator",
                "denominator",
            ],
            rows,
        ),
        &c,
        &r,
        &Options::default(),
    )
}

fn rules(c: &Checked) -> Vec<&'static str> {
    c.findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| f.rule)
        .collect()
}

#[test]
fn good_row_becomes_an_observation() {
    let c = run(&[&["Trondheim", "2023", "EC:ICT:ICT:4C", "4g", "99,5", "", ""]]);
    assert_eq!(c.errors(), 0, "{:?}", c.findings);
    assert_eq!(c.observations[0].data_point, "ec-ict-ict-4c-4g");
    assert_eq!(c.observations[0].value, Some(99.5));
    assert_eq!(c.observations[0].city, "trondheim");
}

#[test]
fn numerator_and_denominator_compute_and_check_the_value() {
    let c = run(&[&["oslo", "2023", "EC: ICT: ICT: 1C", "", "", "90", "100"]]);
    assert_eq!(c.observations[0].value, Some(90.0));
    let c = run(&[&["oslo", "2023", "EC: ICT: ICT: 1C", "", "80", "90", "100"]]);
    assert_eq!(rules(&c), vec!["value_mismatch"]);
}

#[test]
fn each_bad_cell_is_named() {
    let c = run(&[
        &["nowhere", "2023", "EC: ICT: ICT: 1C", "", "50", "", ""],
        &["oslo", "1850", "EC: ICT: ICT: 1C", "", "50", "", ""],
        &["oslo", "2023", "EC: ICT: ICT: 1X", "", "50", "", ""],
        &["oslo", "2023", "EC: ICT: ICT: 1C", "", "-5", "", ""],
        &["oslo", "2023", "EC: ICT: ICT: 4C", "", "50", "", ""],
    ]);
    assert_eq!(
        rules(&c),
        vec![
            "unknown_city",
            "year_out_of_range",
            "unknown_kpi",
            "below_minimum",
            "unknown_data_point"
        ]
    );
    assert_eq!(c.findings[0].line, Some(2));
    assert_eq!(c.findings[0].column.as_deref(), Some("1 (City)"));
}

#[test]
fn a_mistyped_unit_gets_the_catalog_unit() {
    let t = table(
        &["city", "year", "kpi", "value", "unit"],
        &[&["oslo", "2023", "SC: SH: SA: 5A", "11", "minuets"]],
    );
    let c = validate(
        &t,
        &Catalog::embedded().unwrap(),
        &Registry::embedded().unwrap(),
        &Options::default(),
    );
    let f = c.findings.iter().find(|f| f.rule == "unit_mismatch");
    assert!(
        f.is_some_and(|f| f.message.contains("did you mean 'minutes'?")),
        "{:?}",
        c.findings
    );
}

#[test]
fn a_mistyped_data_point_gets_the_closest_one() {
    let c = run(&[&["oslo", "2023", "EN: EN: AQ: 1C", "PM 1O", "12", "", ""]]);
    assert_eq!(rules(&c), vec!["unknown_data_point"]);
    assert!(
        c.findings[0].message.contains("did you mean 'PM10'?"),
        "{}",
        c.findings[0].message
    );
}

#[test]
fn duplicate_rows_with_different_values() {
    let c = run(&[
        &["oslo", "2023", "EC: ICT: ICT: 1C", "", "50", "", ""],
        &["0301", "2023", "EC:ICT:ICT:1C", "", "60", "", ""],
    ]);
    assert_eq!(rules(&c), vec!["duplicate_row"]);
    assert!(c
        .findings
        .iter()
        .any(|f| f.message.contains("line 2 with a different value")));
}

#[test]
fn jump_from_previous_year_is_a_warning() {
    let cat = Catalog::embedded().unwrap();
    let reg = Registry::embedded().unwrap();
    let mut opts = Options::default();
    opts.history
        .insert(("oslo".into(), "ec-ict-ict-1c".into()), vec![(2022, 9.0)]);
    let t = table(
        &["city", "year", "kpi", "value"],
        &[&["oslo", "2023", "EC: ICT: ICT: 1C", "95"]],
    );
    let c = validate(&t, &cat, &reg, &opts);
    assert!(c
        .findings
        .iter()
        .any(|f| f.rule == "jump_from_previous_year" && f.severity == Severity::Warning));
    assert_eq!(c.errors(), 0);
}

#[test]
fn formula_in_a_text_cell_is_rejected() {
    let cat = Catalog::embedded().unwrap();
    let reg = Registry::embedded().unwrap();
    let t = table(
        &["city", "year", "kpi", "value", "note"],
        &[&[
            "oslo",
            "2023",
            "EC: ICT: ICT: 1C",
            "95",
            "=HYPERLINK(\"http://x\")",
        ]],
    );
    let c = validate(&t, &cat, &reg, &Options::default());
    assert_eq!(rules(&c), vec!["formula"]);
}

#[test]
fn current_year_is_sane() {
    let y = current_year();
    assert!((2024..2200).contains(&y));
}

/// A core data point whose row has a wrong value gets that error alone: "has no row (write
/// NR)" beside it would send the city looking for a row that is there (seen in a filled
/// template with a text in a value cell).
#[test]
fn a_core_row_with_a_bad_value_is_not_missing() {
    let missing = |c: &Checked| -> Vec<String> {
        c.findings
            .iter()
            .filter(|f| f.rule == "missing_core_kpi")
            .map(|f| f.message.clone())
            .collect()
    };
    let with_bad = run(&[
        &["Trondheim", "2023", "EC:ICT:ICT:5C", "", "abc", "", ""],
        &["Trondheim", "2023", "EC:ICT:ICT:1C", "", "NR", "", ""],
    ]);
    assert_eq!(rules(&with_bad), vec!["not_a_number"]);
    let listed = missing(&with_bad);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert!(!listed[0].contains("EC: ICT: ICT: 5C"), "{}", listed[0]);
    // without the row the data point is listed
    let without = run(&[&["Trondheim", "2023", "EC:ICT:ICT:1C", "", "NR", "", ""]]);
    assert!(missing(&without)[0].contains("EC: ICT: ICT: 5C"));
}
