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
    // each name column under its own heading: the Norwegian name is the KPI, the English
    // one is marked (they were swapped before 2026-12-04)
    {
        use calamine::{open_workbook, Data, Reader, Xlsx};
        let mut wb: Xlsx<_> = open_workbook(dir.join("trondheim-2025.xlsx")).unwrap();
        let ws = wb.worksheet_range("Submission").unwrap();
        let text = |r: u32, c: u32| ws.get_value((r, c)).map(|d| d.to_string());
        let header = (0..ws.height() as u32)
            .find(|&r| text(r, 0).as_deref() == Some("Kode"))
            .unwrap();
        assert_eq!(text(header, 1).as_deref(), Some("KPI"));
        assert_eq!(text(header, 2).as_deref(), Some("KPI (engelsk)"));
        assert_eq!(
            ws.get_value((header + 1, 1)),
            Some(&Data::String("Husholdninger med internettilgang".into()))
        );
        assert_eq!(
            ws.get_value((header + 1, 2)),
            Some(&Data::String("Household Internet Access".into()))
        );
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
/// exactly the typed values. The fixture is made by tests/data/make_template_fixtures.py; its
/// headings are a Norwegian template's from before 2026-12-04 (the two name headings swapped),
/// which still reads.
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

/// The text of one part of an XLSX (a zip member), e.g. `xl/comments1.xml`.
fn xlsx_part(path: &Path, member: &str) -> String {
    let f = std::fs::File::open(path).unwrap();
    let mut zip = zip::ZipArchive::new(f).unwrap();
    let mut xml = String::new();
    let names: Vec<String> = (0..zip.len())
        .map(|i| zip.by_index_raw(i).unwrap().name().unwrap().to_string())
        .collect();
    let mut part = zip
        .by_name(member)
        .unwrap_or_else(|_| panic!("{member} not in {names:?}"));
    std::io::Read::read_to_string(&mut part, &mut xml).unwrap();
    xml
}

/// A CSV with errors comes back as a workbook: line N is row N, each bad cell holds what was
/// typed with the finding as its comment, and the Findings sheet links to every cell.
#[test]
fn check_annotate_marks_each_bad_cell_of_a_csv() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let home = tempfile::tempdir().unwrap();
    let f = home.path().join("bergen.csv");
    std::fs::write(
        &f,
        "city,year,kpi,data_point,value,unit\nbergen,2023,EC: ICT: ICT: 1C,,95.5,\nbergen,2023,EC: ICT: ICT: 2C,,9O,\natlantis,2023,EC: ICT: ICT: 3C,,100000,\nbergen,2023,EC: ICT: ICT: 3C,,5,\n",
    )
    .unwrap();
    let out = home.path().join("bergen-checked.xlsx");
    let r = run(u4ssc(home.path())
        .arg("check")
        .arg("--annotate")
        .arg(&out)
        .arg(&f));
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("the findings are marked in"),
        "{}",
        r.stdout
    );
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    assert_eq!(wb.sheet_names(), vec!["Submission", "Findings"]);
    let ws = wb.worksheet_range("Submission").unwrap();
    // line 3, column 5 (value) is E3; line 4, column 1 (city) is A4
    assert_eq!(ws.get_value((2, 4)), Some(&Data::String("9O".into())));
    assert_eq!(ws.get_value((3, 0)), Some(&Data::String("atlantis".into())));
    assert_eq!(ws.get_value((1, 4)), Some(&Data::Float(95.5)));
    let findings = wb.worksheet_range("Findings").unwrap();
    let rows: Vec<Vec<String>> = findings
        .rows()
        .map(|r| r.iter().map(|d| d.to_string()).collect())
        .collect();
    let by_rule = |rule: &str| {
        rows.iter()
            .find(|r| r[1] == rule)
            .unwrap_or_else(|| panic!("{rule} in {rows:?}"))
            .clone()
    };
    assert_eq!(by_rule("not_a_number")[2], "E3");
    assert_eq!(by_rule("unknown_city")[2], "A4");
    assert_eq!(by_rule("implausible_value")[0], "warning");
    assert_eq!(by_rule("implausible_value")[2], "E5");
    // the comments, and a red and an amber fill
    let comments = xlsx_part(&out, "xl/comments1.xml");
    assert!(
        comments.contains(r#"ref="E3""#) && comments.contains("not_a_number"),
        "{comments}"
    );
    assert!(
        comments.contains(r#"ref="A4""#) && comments.contains("atlantis"),
        "{comments}"
    );
    let styles = xlsx_part(&out, "xl/styles.xml");
    assert!(
        styles.contains("FFC7CE") && styles.contains("FFEB9C"),
        "{styles}"
    );
    // the city's own file is never overwritten
    let r = run(u4ssc(home.path())
        .arg("check")
        .arg("--annotate")
        .arg(&f)
        .arg(&f));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("is the file being checked"),
        "{}",
        r.stderr
    );
}

/// A filled template with a bad value: the copy keeps every cell address of the template.
#[test]
fn check_annotate_keeps_the_cells_of_a_workbook_where_they_were() {
    use calamine::{open_workbook, Data, Reader, Xlsx};
    let home = tempfile::tempdir().unwrap();
    let out = home.path().join("moved.xlsx");
    let f = data("invalid/template_with_a_row_moved.xlsx");
    let r = run(u4ssc(home.path())
        .arg("check")
        .arg("--annotate")
        .arg(&out)
        .arg(&f));
    assert_eq!(r.code, 1);
    let mut wb: Xlsx<_> = open_workbook(&out).unwrap();
    let ws = wb.worksheet_range("Submission").unwrap();
    assert_eq!(ws.get_value((0, 1)), Some(&Data::String("Bodø".into())));
    assert_eq!(
        ws.get_value((6, 0)),
        Some(&Data::String("EC: ICT: ICT: 2C".into()))
    );
    let comments = xlsx_part(&out, "xl/comments1.xml");
    assert!(
        comments.contains(r#"ref="A7""#) && comments.contains("template_row_moved"),
        "{comments}"
    );
}

/// Excel's and LibreOffice's users see the marks: LibreOffice opens the annotated workbook
/// and, saving it again, keeps every comment on its cell. Needs `soffice` (run by .ci/run).
#[test]
#[ignore]
fn annotated_workbook_opens_in_libreoffice_with_its_comments() {
    let home = tempfile::tempdir().unwrap();
    let f = home.path().join("bodo.csv");
    std::fs::write(
        &f,
        "city,year,kpi,value\nbodo,2023,EC: ICT: ICT: 1C,95\nbodo,2023,EC: ICT: ICT: 2C,abc\nbodo,2023,Broadband,9\n",
    )
    .unwrap();
    let out = home.path().join("bodo-checked.xlsx");
    let r = run(u4ssc(home.path())
        .arg("check")
        .arg("--annotate")
        .arg(&out)
        .arg(&f));
    assert_eq!(r.code, 1, "{}", r.stdout);
    let lo = home.path().join("lo");
    let status = std::process::Command::new("soffice")
        .args(["--headless", "--convert-to", "xlsx", "--outdir"])
        .arg(&lo)
        .arg(&out)
        .env("HOME", home.path())
        .status()
        .expect("soffice (LibreOffice) is installed");
    assert!(status.success());
    let saved = lo.join("bodo-checked.xlsx");
    let comments = xlsx_part(&saved, "xl/comments1.xml");
    for (cell, rule) in [("D3", "not_a_number"), ("C4", "ambiguous_kpi_name")] {
        assert!(
            comments.contains(&format!(r#"ref="{cell}""#)),
            "{cell} in {comments}"
        );
        assert!(comments.contains(rule), "{rule} in {comments}");
    }
    // and it prints: a PDF of the workbook
    let status = std::process::Command::new("soffice")
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(&lo)
        .arg(&out)
        .env("HOME", home.path())
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        std::fs::metadata(lo.join("bodo-checked.pdf"))
            .unwrap()
            .len()
            > 1000
    );
}

#[test]
fn check_groups_a_rule_that_fires_on_many_rows_and_csv_lists_each() {
    let home = tempfile::tempdir().unwrap();
    let f = home.path().join("units.csv");
    let mut text = String::from("city,year,kpi,value,unit\n");
    for y in 2010..2022 {
        text.push_str(&format!("bergen,{y},EC: ICT: ICT: 1C,90,km\n"));
    }
    std::fs::write(&f, text).unwrap();
    let r = run(u4ssc(home.path()).arg("check").arg(&f));
    assert_eq!(r.code, 1);
    let lines: Vec<&str> = r
        .stdout
        .lines()
        .filter(|l| l.contains("unit_mismatch"))
        .collect();
    assert_eq!(lines.len(), 2, "{}", r.stdout);
    assert!(
        lines[1].contains("error[unit_mismatch] × 12, first at 2:5, 3:5, 4:5"),
        "{}",
        lines[1]
    );
    let r = run(u4ssc(home.path())
        .args(["check", "--format", "csv"])
        .arg(&f));
    let mut rd = csv::Reader::from_reader(r.stdout.as_bytes());
    assert_eq!(
        rd.headers().unwrap(),
        vec!["severity", "rule", "file", "line", "column", "message"]
    );
    let recs: Vec<csv::StringRecord> = rd.records().map(Result::unwrap).collect();
    assert_eq!(recs.iter().filter(|r| &r[1] == "unit_mismatch").count(), 12);
    assert_eq!(&recs[0][3], "2");
}

#[test]
fn check_previous_compares_with_last_years_file_without_a_database() {
    let home = tempfile::tempdir().unwrap();
    let last = home.path().join("bodo-2023.csv");
    std::fs::write(&last, "city,year,kpi,value\nbodo,2023,EN: EN: WS: 4C,81\n").unwrap();
    let now = home.path().join("bodo-2024.csv");
    std::fs::write(
        &now,
        "city,year,kpi,data_point,value\nbodo,2024,EN: EN: WS: 4C,secondary,8.1\n",
    )
    .unwrap();
    // last year's file has the KPI unsplit: an error there is refused, not half-compared
    let r = run(u4ssc(home.path())
        .arg("check")
        .arg("--previous")
        .arg(&last)
        .arg(&now));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("has errors"), "{}", r.stderr);
    std::fs::write(
        &last,
        "city,year,kpi,data_point,value\nbodo,2023,EN: EN: WS: 4C,secondary,81\n",
    )
    .unwrap();
    let r = run(u4ssc(home.path()).arg("check").arg(&now));
    assert!(
        !r.stdout.contains("jump_from_previous_year"),
        "{}",
        r.stdout
    );
    let r = run(u4ssc(home.path())
        .arg("check")
        .arg("--previous")
        .arg(&last)
        .arg(&now));
    assert_eq!(r.code, 0, "a warning does not fail the check: {}", r.stdout);
    assert!(
        r.stdout
            .contains("2:5 (value): warning[jump_from_previous_year]")
            && r.stdout.contains("the 2023 value 81"),
        "{}",
        r.stdout
    );
}

#[test]
fn a_value_far_outside_the_network_is_a_peer_outlier() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("t.duckdb");
    let network = home.path().join("network.csv");
    let mut text = String::from("city,year,kpi,value\n");
    for (c, v) in [
        ("oslo", 96.0),
        ("bergen", 94.5),
        ("trondheim", 97.0),
        ("stavanger", 95.0),
        ("tromso", 93.0),
    ] {
        text.push_str(&format!("{c},2024,EC: ICT: ICT: 1C,{v}\n"));
    }
    std::fs::write(&network, text).unwrap();
    assert_eq!(
        run(u4ssc(home.path())
            .arg("--db")
            .arg(&db)
            .arg("import")
            .arg(&network))
        .code,
        0
    );
    // 0.955: a share typed as a fraction, 1/100 of the network's values
    let f = home.path().join("bodo.csv");
    std::fs::write(
        &f,
        "city,year,kpi,value\nbodo,2024,EC: ICT: ICT: 1C,0.955\n",
    )
    .unwrap();
    let r = run(u4ssc(home.path()).arg("--db").arg(&db).arg("check").arg(&f));
    assert!(
        r.stdout.contains("2:4 (value): warning[peer_outlier]")
            && r.stdout.contains("network median 95"),
        "{}",
        r.stdout
    );
    // an ordinary value is no outlier, nor is one only a little outside the middle half
    std::fs::write(&f, "city,year,kpi,value\nbodo,2024,EC: ICT: ICT: 1C,89\n").unwrap();
    let r = run(u4ssc(home.path()).arg("--db").arg(&db).arg("check").arg(&f));
    assert!(!r.stdout.contains("peer_outlier"), "{}", r.stdout);
    // without a database there is no network to compare with
    std::fs::write(
        &f,
        "city,year,kpi,value\nbodo,2024,EC: ICT: ICT: 1C,0.955\n",
    )
    .unwrap();
    let r = run(u4ssc(home.path()).arg("check").arg(&f));
    assert!(!r.stdout.contains("peer_outlier"), "{}", r.stdout);
}
