//! The submission round as cities and coordinators live it: the shapes they really send,
//! the template they fill, the annotated file they get back.

use crate::cli::{data, run, u4ssc};
use std::collections::BTreeMap;
use std::path::Path;

/// Import `file` (with extra arguments) into a fresh database and read every stored value
/// back as (city, year, data point) -> value.
fn imported(
    home: &Path,
    file: &Path,
    extra: &[&str],
) -> BTreeMap<(String, i32, String), Option<f64>> {
    let db = home.join("t.duckdb");
    let r = run(u4ssc(home)
        .arg("--db")
        .arg(&db)
        .arg("import")
        .arg(file)
        .args(extra));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let store = u4ssc::store::Store::open(&db, u4ssc::store::Access::ReadOnly).unwrap();
    store
        .current_values()
        .unwrap()
        .into_iter()
        .map(|v| ((v.city, v.year, v.data_point), v.value))
        .collect()
}

fn key(city: &str, year: i32, dp: &str) -> (String, i32, String) {
    (city.to_string(), year, dp.to_string())
}

#[test]
fn kpis_named_in_english_or_norwegian_import_as_their_codes() {
    let home = tempfile::tempdir().unwrap();
    let v = imported(
        home.path(),
        &data("valid/kpi_names_in_english_and_norwegian.csv"),
        &[],
    );
    let want = [
        ("ec-ict-ict-1c", 96.4),
        ("ec-ict-ict-2c", 88.0),
        ("en-en-aq-1c-pm10", 13.5),
        ("en-en-aq-1c-no2", 21.25),
        ("ec-i-t-4a-cycling", 7.5),
    ];
    assert_eq!(v.len(), want.len(), "{v:?}");
    for (dp, value) in want {
        assert_eq!(v[&key("tromso", 2024, dp)], Some(value), "{dp}");
    }
}

#[test]
fn years_as_columns_import_one_value_per_filled_cell() {
    let home = tempfile::tempdir().unwrap();
    let v = imported(
        home.path(),
        &data("valid/years_as_columns_one_city.csv"),
        &[],
    );
    let want = [
        (2019, "ec-ict-ict-1c", Some(95.5)),
        (2020, "ec-ict-ict-1c", Some(96.1)),
        (2021, "ec-ict-ict-1c", Some(97.0)),
        (2019, "en-en-aq-1c-pm10", Some(14.2)),
        (2021, "en-en-aq-1c-pm10", Some(12.8)),
        (2019, "ec-ict-ict-3c", Some(101234.0)),
        (2020, "ec-ict-ict-3c", None), // NR: reported as not reported
        (2021, "ec-ict-ict-3c", Some(105000.5)),
    ];
    assert_eq!(v.len(), want.len(), "an empty cell is no row: {v:?}");
    for (year, dp, value) in want {
        assert_eq!(v[&key("trondheim", year, dp)], value, "{year} {dp}");
    }
}

#[test]
fn years_as_columns_take_the_city_from_the_option() {
    let home = tempfile::tempdir().unwrap();
    let f = data("valid/years_as_columns_city_given_by_option.csv");
    // without --city the file says whose it is nowhere
    let r = run(u4ssc(home.path()).arg("check").arg(&f));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("error[missing_column]") && r.stdout.contains("--city"),
        "{}",
        r.stdout
    );
    // a mistyped --city is a usage error with a suggestion
    let r = run(u4ssc(home.path())
        .arg("check")
        .arg(&f)
        .args(["--city", "Bodoe"]));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("did you mean 'bodo'"), "{}", r.stderr);
    let v = imported(home.path(), &f, &["--city", "Bodø"]);
    assert_eq!(v.len(), 4, "{v:?}");
    assert_eq!(v[&key("bodo", 2022, "ec-ict-ict-2c")], Some(88.5));
    assert_eq!(v[&key("bodo", 2023, "ec-ict-ict-2c")], Some(90.0));
    assert_eq!(v[&key("bodo", 2022, "ec-ict-ict-1c")], Some(94.0));
    assert_eq!(v[&key("bodo", 2023, "ec-ict-ict-1c")], Some(95.25));
}

#[test]
fn cities_as_columns_import_one_value_per_city() {
    let home = tempfile::tempdir().unwrap();
    let v = imported(
        home.path(),
        &data("valid/cities_as_columns_one_year.csv"),
        &[],
    );
    let want = [
        ("trondheim", "ec-ict-ict-1c", Some(97.0)),
        ("bodo", "ec-ict-ict-1c", Some(95.5)),
        ("stavanger", "ec-ict-ict-1c", Some(96.0)),
        ("alesund", "ec-ict-ict-1c", Some(94.0)), // named by its municipality number
        ("trondheim", "en-en-aq-1c-pm2-5", Some(7.1)),
        ("bodo", "en-en-aq-1c-pm2-5", Some(5.9)),
        ("alesund", "en-en-aq-1c-pm2-5", Some(6.4)),
        ("trondheim", "ec-ict-ict-3c", None),
        ("bodo", "ec-ict-ict-3c", Some(120500.0)),
        ("stavanger", "ec-ict-ict-3c", Some(118000.0)),
        ("alesund", "ec-ict-ict-3c", Some(99000.0)),
    ];
    assert_eq!(v.len(), want.len(), "{v:?}");
    for (city, dp, value) in want {
        assert_eq!(v[&key(city, 2023, dp)], value, "{city} {dp}");
    }
}

#[test]
fn a_finding_in_a_wide_file_names_the_cell_the_city_typed() {
    let home = tempfile::tempdir().unwrap();
    let f = home.path().join("wide.csv");
    std::fs::write(
        &f,
        "kpi,data_point,Trondheim,Bodø\nEC: ICT: ICT: 1C,,97,9O\n",
    )
    .unwrap();
    let r = run(u4ssc(home.path())
        .arg("check")
        .arg(&f)
        .args(["--year", "2023"]));
    assert_eq!(r.code, 1);
    let want = format!("{}:2:4 (Bodø): error[not_a_number]", f.display());
    assert!(r.stdout.contains(&want), "wanted {want} in {}", r.stdout);
}

/// The template as `u4ssc template` writes it: whose it is in named cells, one row per data
/// point, drop-downs and number rules, the structure locked and the heading frozen.
#[test]
fn the_template_is_a_workbook_to_fill() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("bodo.xlsx");
    let r = run(u4ssc(home.path())
        .args(["template", "--city", "Bodø", "--year", "2025", "--out"])
        .arg(&out));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    assert_eq!(wb.sheet_names(), vec!["Submission", "Instructions"]);
    let names: Vec<(String, String)> = wb.defined_names().to_vec();
    for (n, at) in [
        ("u4ssc_city", "$B$1"),
        ("u4ssc_year", "$B$2"),
        ("u4ssc_catalog", "$B$3"),
    ] {
        assert!(
            names.iter().any(|(k, v)| k == n && v.ends_with(at)),
            "{n} in {names:?}"
        );
    }
    let ws = wb.worksheet_range("Submission").unwrap();
    assert_eq!(ws.get_value((0, 1)), Some(&Data::String("Bodø".into())));
    assert_eq!(ws.get_value((1, 1)), Some(&Data::Float(2025.0)));
    let catalog = u4ssc::catalog::Catalog::embedded().unwrap();
    // one row per data point, in catalog order, under the heading on row 6
    assert_eq!(ws.get_value((5, 8)), Some(&Data::String("Value".into())));
    for (i, dp) in catalog.data_points.iter().enumerate() {
        let r = 6 + i as u32;
        assert_eq!(
            ws.get_value((r, 0)),
            Some(&Data::String(dp.code.clone())),
            "row {}",
            r + 1
        );
        assert_eq!(ws.get_value((r, 4)), Some(&Data::String(dp.unit.clone())));
    }
    assert_eq!(catalog.data_points.len(), 112);
    // what calamine does not read: protection, frozen panes, validation lists, in the XML
    let f = std::fs::File::open(&out).unwrap();
    let mut zip = zip::ZipArchive::new(f).unwrap();
    let mut xml = String::new();
    std::io::Read::read_to_string(
        &mut zip.by_name("xl/worksheets/sheet1.xml").unwrap(),
        &mut xml,
    )
    .unwrap();
    assert!(xml.contains("<sheetProtection"), "locked structure");
    assert!(
        xml.contains(r#"topLeftCell="C7""#) && xml.contains(r#"state="frozen""#),
        "frozen heading"
    );
    assert!(
        xml.contains("accurate measurement") && xml.contains(r#""YES,NO""#),
        "drop-downs"
    );
    assert!(xml.contains("ISNUMBER(I7)"), "numbers or NR only");
}

#[test]
fn the_template_shows_last_years_value_from_the_database() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("t.duckdb");
    let f = home.path().join("bodo-2024.csv");
    std::fs::write(
        &f,
        "city,year,kpi,value\nbodo,2023,EC: ICT: ICT: 1C,91\nbodo,2024,EC: ICT: ICT: 1C,93.5\nbodo,2024,EC: ICT: ICT: 2C,NR\nbodo,2026,EC: ICT: ICT: 2C,99\n",
    )
    .unwrap();
    assert_eq!(
        run(u4ssc(home.path())
            .arg("--db")
            .arg(&db)
            .arg("import")
            .arg(&f))
        .code,
        0
    );
    let out = home.path().join("bodo.xlsx");
    let r = run(u4ssc(home.path())
        .arg("--db")
        .arg(&db)
        .args(["template", "--city", "bodo", "--year", "2025", "--out"])
        .arg(&out));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    let ws = wb.worksheet_range("Submission").unwrap();
    // the latest year before 2025, never a later one
    assert_eq!(ws.get_value((6, 6)), Some(&Data::Float(2024.0)));
    assert_eq!(ws.get_value((6, 7)), Some(&Data::Float(93.5)));
    assert_eq!(ws.get_value((7, 7)), Some(&Data::String("NR".into())));
    assert!(matches!(ws.get_value((8, 7)), None | Some(Data::Empty)));
}

#[test]
fn every_city_gets_its_own_template() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("templates");
    let r = run(u4ssc(home.path())
        .args([
            "template", "--city", "all", "--year", "2025", "--lang", "nb", "--out",
        ])
        .arg(&dir));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let registry = u4ssc::registry::Registry::embedded().unwrap();
    for c in &registry.cities {
        let f = dir.join(format!("{}-2025.xlsx", c.slug));
        assert!(f.exists(), "{}", f.display());
    }
    // an empty template is not a submission yet
    let r = run(u4ssc(home.path())
        .arg("check")
        .arg(dir.join("trondheim-2025.xlsx")));
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("nothing is filled in yet"),
        "{}",
        r.stdout
    );
}

/// A template filled in (Norwegian headings and lists, a decimal comma typed as text, NR,
/// numerator and denominator) and saved by LibreOffice: `check` is clean and `import` stores
/// exactly the typed values. The fixture is made by tests/data/make_template_fixtures.py.
#[test]
fn a_filled_template_imports_exactly_what_was_typed() {
    let home = tempfile::tempdir().unwrap();
    let f = data("valid/template_bodo_2025_filled.xlsx");
    let r = run(u4ssc(home.path()).arg("check").arg(&f));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("0 error(s)"), "{}", r.stdout);
    let v = imported(home.path(), &f, &[]);
    let want = [
        ("ec-ict-ict-1c", Some(96.5)),
        ("ec-ict-ict-2c", Some(88.5)),
        ("ec-ict-ict-3c", Some(110250.0)),
        ("ec-ict-ict-4c-3g", Some(99.9)),
        ("ec-ict-ict-4c-4g", Some(99.5)),
        ("ec-ict-ict-5c", None),
        ("ec-ict-ws-1c", Some(50.0)),
        ("ec-ict-ws-2a", Some(30.0)),
        ("ec-ict-d-1a", Some(12.25)),
        ("ec-ict-es-1c", Some(77.0)),
    ];
    assert_eq!(v.len(), want.len(), "empty rows are not sent: {v:?}");
    for (dp, value) in want {
        assert_eq!(v[&key("bodo", 2025, dp)], value, "{dp}");
    }
    let store = u4ssc::store::Store::open(
        &home.path().join("t.duckdb"),
        u4ssc::store::Access::ReadOnly,
    )
    .unwrap();
    let one = store
        .current_values()
        .unwrap()
        .into_iter()
        .find(|x| x.data_point == "ec-ict-ict-1c")
        .unwrap();
    assert_eq!(one.quality.as_deref(), Some("accurate measurement"));
    assert_eq!(one.verified, Some(true));
    assert_eq!(one.source.as_deref(), Some("SSB tabell 11000"));
}
