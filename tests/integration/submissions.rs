use crate::cli::{data, run, u4ssc};
use std::path::Path;

fn import(home: &Path, db: &Path, file: &Path) -> crate::cli::Run {
    run(u4ssc(home).arg("--db").arg(db).arg("import").arg(file))
}

fn snapshot(home: &Path, db: &Path) -> String {
    let s = run(u4ssc(home)
        .arg("--db")
        .arg(db)
        .args(["status", "--format", "csv"]))
    .stdout;
    let r = run(u4ssc(home)
        .arg("--db")
        .arg(db)
        .args(["revisions", "--format", "csv"]))
    .stdout;
    s + &r
}

/// A database with one good submission in it.
fn seeded() -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("t.duckdb");
    let r = import(
        home.path(),
        &db,
        &data("valid/bergen_with_numerator_denominator.csv"),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    (home, db)
}

#[test]
fn norwegian_excel_export_is_read_right() {
    let home = tempfile::tempdir().unwrap();
    let f = data("valid/norwegian_excel_semicolon_bom_crlf.csv");
    let r = run(u4ssc(home.path()).arg("check").arg(&f));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(r.stdout.contains("0 error(s)"), "{}", r.stdout);
    // importing stores 95,01 as 95.01 and "1 024" as 1024
    let db = home.path().join("t.duckdb");
    assert_eq!(import(home.path(), &db, &f).code, 0);
    let store = u4ssc::store::Store::open(&db, u4ssc::store::Access::ReadOnly).unwrap();
    let v = store.current_values().unwrap();
    let get = |id: &str| v.iter().find(|x| x.data_point == id).unwrap().value;
    assert_eq!(get("ec-ict-ict-1c"), Some(95.01));
    assert_eq!(get("ec-ict-ps-1a-number"), Some(1024.0));
    assert_eq!(get("ec-ict-ict-4c-3g"), Some(99.9));
    assert_eq!(get("ec-i-up-2a-compact"), Some(1.0));
    assert_eq!(get("en-en-aq-1c-pm2-5"), None);
}

#[test]
fn json_and_xlsx_submissions_are_accepted() {
    let home = tempfile::tempdir().unwrap();
    let r = run(u4ssc(home.path())
        .arg("check")
        .arg(data("valid/stavanger_array_of_objects.json")));
    assert_eq!(r.code, 0, "{}", r.stdout);
    let xlsx = home.path().join("molde.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["city", "year", "kpi", "data_point", "value"]
        .iter()
        .enumerate()
    {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "Molde").unwrap();
    ws.write_number(1, 1, 2023.0).unwrap();
    ws.write_string(1, 2, "EC: ICT: ICT: 1C").unwrap();
    ws.write_number(1, 4, 97.5).unwrap();
    wb.save(&xlsx).unwrap();
    let r = run(u4ssc(home.path()).arg("check").arg(&xlsx));
    assert_eq!(r.code, 0, "{}", r.stdout);
}

#[test]
fn xlsx_with_a_formula_is_rejected_at_its_cell() {
    let home = tempfile::tempdir().unwrap();
    let xlsx = home.path().join("formula.xlsx");
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    for (c, h) in ["city", "year", "kpi", "value"].iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    ws.write_string(1, 0, "oslo").unwrap();
    ws.write_number(1, 1, 2023.0).unwrap();
    ws.write_string(1, 2, "EC: ICT: ICT: 1C").unwrap();
    ws.write_formula(1, 3, "=90+5").unwrap();
    wb.save(&xlsx).unwrap();
    let r = run(u4ssc(home.path()).arg("check").arg(&xlsx));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("formula.xlsx:2:D: error[xlsx_formula]"),
        "{}",
        r.stdout
    );
}

/// Every malformed fixture: a located message, exit 1, and the database unchanged.
#[test]
fn every_invalid_fixture_is_rejected_with_a_location_and_changes_nothing() {
    let (home, db) = seeded();
    let before = snapshot(home.path(), &db);
    let expected: &[(&str, &str, &str)] = &[
        ("empty_file.csv", "empty_file", ""),
        ("header_only.csv", "no_rows", ""),
        ("unknown_column.csv", "unknown_column", ":1:6"),
        ("missing_required_column_year.csv", "missing_column", ":1"),
        ("wrong_delimiter_pipe.csv", "wrong_delimiter", ":1"),
        ("too_many_fields_in_row.csv", "too_many_fields", ":3:6"),
        ("non_utf8_latin1_city.csv", "encoding", ":3:character 4"),
        ("kpi_code_typo.csv", "unknown_kpi", ":3:3"),
        ("kpi_name_ambiguous.csv", "ambiguous_kpi_name", ":3:3"),
        (
            "template_with_a_row_deleted.xlsx",
            "template_row_missing",
            ":9:A",
        ),
        (
            "template_with_a_row_moved.xlsx",
            "template_row_moved",
            ":7:A",
        ),
        (
            "template_of_another_catalog_version.xlsx",
            "template_catalog_version",
            ":3:B",
        ),
        (
            "year_column_not_a_year.csv",
            "year_column_not_a_year",
            ":1:6",
        ),
        (
            "city_column_not_a_city.csv",
            "city_column_not_a_city",
            ":1:6",
        ),
        ("city_not_in_registry.csv", "unknown_city", ":2:1"),
        ("negative_percentage.csv", "below_minimum", ":2:5"),
        ("number_1e309.csv", "number_out_of_range", ":2:5"),
        ("nan_value.csv", "not_a_number", ":2:5"),
        (
            "duplicate_rows_different_values.csv",
            "duplicate_row",
            ":4:3",
        ),
        ("formula_in_text_cell.csv", "formula", ":2:6"),
        (
            "city_name_with_quotes_and_dotdot.csv",
            "unknown_city",
            ":2:1",
        ),
        (
            "decimal_comma_unquoted_in_comma_file.csv",
            "too_many_fields",
            ":2:6",
        ),
        (
            "mixed_thousands_and_decimal_separators.csv",
            "ambiguous_separators",
            ":2:5",
        ),
        ("yes_no_kpi_with_other_answer.csv", "not_yes_no", ":2:5"),
        (
            "percent_sign_on_non_percentage.csv",
            "percent_sign_not_allowed",
            ":2:5",
        ),
        ("unit_mismatch.csv", "unit_mismatch", ":2:6"),
        ("year_out_of_range.csv", "year_out_of_range", ":2:2"),
        (
            "split_kpi_without_data_point.csv",
            "unknown_data_point",
            ":2:4",
        ),
        (
            "value_disagrees_with_numerator_denominator.csv",
            "value_mismatch",
            ":2:5",
        ),
        ("json_object_not_array.json", "json_not_array", ":1"),
        ("json_nested_value.json", "json_nested", ":2:[1].value"),
        ("json_truncated.json", "malformed_json", ":2"),
        ("json_deeply_nested.json", "malformed_json", ":1"),
        ("utf16_le_bom.csv", "encoding", ""),
        ("utf16_be_bom.csv", "encoding", ""),
        ("overlong_utf8_sequence.csv", "encoding", ":2:character 30"),
        ("header_duplicate_column.csv", "duplicate_column", ":1:5"),
        ("header_of_empty_names.csv", "unknown_column", ":1:1"),
        ("too_few_fields_in_row.csv", "too_few_fields", ":2:5"),
        ("quote_never_closed.csv", "too_few_fields", ":2:4"),
        ("percentage_above_100.csv", "above_maximum", ":2:5"),
        (
            "percentage_above_100_with_sign.csv",
            "above_maximum",
            ":2:5",
        ),
        ("year_letter_o_for_zero.csv", "bad_year", ":2:2"),
        ("year_with_decimals.csv", "bad_year", ":2:2"),
        ("year_in_the_future.csv", "year_out_of_range", ":2:2"),
        ("numerator_without_denominator.csv", "half_ratio", ":2"),
        ("zero_denominator.csv", "zero_denominator", ":2:6"),
        ("quality_level_out_of_range.csv", "unknown_quality", ":2:5"),
        ("quality_not_a_u4ssc_level.csv", "unknown_quality", ":2:5"),
        ("verified_not_yes_or_no.csv", "bad_verified", ":2:5"),
        (
            "yes_answer_on_a_percentage.csv",
            "yes_no_not_allowed",
            ":2:5",
        ),
        ("formula_at_sign_in_note.csv", "formula", ":2:5"),
        ("formula_plus_command_in_source.csv", "formula", ":2:5"),
        ("formula_in_kpi_cell.csv", "formula", ":2:3"),
        (
            "data_point_on_an_unsplit_kpi.csv",
            "unknown_data_point",
            ":2:4",
        ),
        (
            "data_point_that_does_not_exist.csv",
            "unknown_data_point",
            ":2:4",
        ),
        ("empty_city.csv", "unknown_city", ":2:1"),
        ("empty_kpi_code.csv", "unknown_kpi", ":2:3"),
        ("negative_count.csv", "below_minimum", ":2:5"),
        ("infinity_value.csv", "not_a_number", ":2:5"),
        ("thousands_groups_of_two.csv", "not_a_number", ":2:5"),
        ("two_decimal_commas.csv", "ambiguous_separators", ":2:5"),
        ("value_with_currency.csv", "not_a_number", ":2:5"),
        ("tab_inside_number.csv", "not_a_number", ":2:5"),
        ("nul_byte_inside_number.csv", "not_a_number", ":2:5"),
        ("percent_unit_on_per_100k_kpi.csv", "unit_mismatch", ":2:5"),
        ("mixed_units_in_one_file.csv", "unit_mismatch", ":3:6"),
        (
            "former_number_outside_its_years.csv",
            "unknown_city",
            ":2:1",
        ),
        ("duplicate_rows_same_value.csv", "duplicate_row", ":3:3"),
        ("huge_field_20000_characters.csv", "field_too_long", ":2:6"),
        ("submission.ods", "unknown_format", ""),
        ("json_array_of_numbers.json", "json_not_object", ":1"),
        ("json_bare_string.json", "json_not_array", ":1"),
        ("json_empty_array.json", "no_rows", ":1"),
        ("json_duplicate_keys.json", "json_duplicate_key", ":1:city"),
        ("json_year_as_words.json", "bad_year", ":1:[0].year"),
        ("not_a_workbook.xlsx", "malformed_xlsx", ""),
        ("symlink_to_a_valid_file.csv", "symlink", ""),
        ("xlsx_data_on_a_hidden_sheet.xlsx", "xlsx_hidden_sheet", ""),
        ("xlsx_merged_city_cells.xlsx", "unknown_city", ":3:A"),
        ("xlsx_date_in_value_cell.xlsx", "xlsx_cell", ":2:D"),
        ("xlsx_formula_in_value_cell.xlsx", "xlsx_formula", ":2:D"),
        ("xlsx_zip_bomb.xlsx", "zip_bomb", ""),
        ("control_escape_in_source.csv", "control_character", ":2:6"),
        (
            "text_after_closing_quote.csv",
            "text_after_quote",
            ":2:character 46",
        ),
        ("crlf_error_on_line_3.csv", "unknown_city", ":3:1"),
        (
            "json_one_line_bad_value_in_element_1.json",
            "not_a_number",
            ":1:[1].value",
        ),
    ];
    let dir = data("invalid");
    // at least 60 malformed files, one rule each
    assert!(expected.len() >= 60, "{} fixtures", expected.len());
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut listed: Vec<String> = expected.iter().map(|e| e.0.to_string()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "every fixture in tests/data/invalid has an expectation here"
    );
    for (file, rule, at) in expected {
        let path = dir.join(file);
        let r = import(home.path(), &db, &path);
        assert_eq!(r.code, 1, "{file}: {}{}", r.stdout, r.stderr);
        let shown = path.display().to_string();
        let located = format!("{shown}{at}");
        assert!(
            r.stdout.contains(&located),
            "{file}: wanted {located} in\n{}",
            r.stdout
        );
        assert!(
            r.stdout.contains(&format!("error[{rule}]")),
            "{file}: wanted rule {rule} in\n{}",
            r.stdout
        );
        assert!(r.stdout.contains("not imported"), "{file}");
        // check says the same, without a database
        let c = run(u4ssc(home.path()).arg("check").arg(&path));
        assert_eq!(c.code, 1, "{file}");
        assert!(
            c.stdout.contains(&format!("error[{rule}]")),
            "{file}: {}",
            c.stdout
        );
    }
    assert_eq!(snapshot(home.path(), &db), before);
}

#[test]
fn a_200_mb_file_is_refused_before_it_is_read() {
    let (home, db) = seeded();
    let before = snapshot(home.path(), &db);
    let big = home.path().join("huge_200mb.csv");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(200 * 1024 * 1024).unwrap(); // sparse: costs no disk
    let r = import(home.path(), &db, &big);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout.contains("error[file_too_large]") && r.stdout.contains("--max-file-mb"),
        "{}",
        r.stdout
    );
    assert_eq!(snapshot(home.path(), &db), before);
}

#[test]
fn check_reports_every_problem_as_json() {
    let home = tempfile::tempdir().unwrap();
    let r = run(u4ssc(home.path())
        .args(["check", "--format", "json"])
        .arg(data("invalid/kpi_code_typo.csv")));
    assert_eq!(r.code, 1);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["errors"], 1);
    let f = &v["findings"][0];
    assert_eq!(f["rule"], "unknown_kpi");
    assert_eq!(f["line"], 3);
    assert_eq!(f["column"], "3 (kpi)");
    assert!(f["message"]
        .as_str()
        .unwrap()
        .contains("did you mean 'EC: ICT: ICT: 1C'"));
}

#[test]
fn check_with_db_warns_about_a_jump_from_last_year() {
    let (home, db) = seeded();
    let f = home.path().join("jump.csv");
    std::fs::write(&f, "city,year,kpi,value\nbergen,2024,EC: ICT: ICT: 2C,9\n").unwrap();
    let r = run(u4ssc(home.path()).arg("--db").arg(&db).arg("check").arg(&f));
    assert_eq!(r.code, 0, "{}", r.stdout);
    assert!(
        r.stdout.contains("warning[jump_from_previous_year]"),
        "{}",
        r.stdout
    );
    let strict = run(u4ssc(home.path())
        .arg("--db")
        .arg(&db)
        .args(["check", "--strict"])
        .arg(&f));
    assert_eq!(strict.code, 1);
}

#[test]
fn importing_the_same_file_twice_is_a_no_op_and_a_correction_is_a_new_revision() {
    let (home, db) = seeded();
    let again = import(
        home.path(),
        &db,
        &data("valid/bergen_with_numerator_denominator.csv"),
    );
    assert_eq!(again.code, 0);
    assert!(
        again.stdout.contains("already imported as revision 1"),
        "{}",
        again.stdout
    );
    // when, to the second: "(2026-12-04 01:32:22); nothing to do"
    let when = again
        .stdout
        .split('(')
        .nth(1)
        .and_then(|t| t.split(')').next());
    assert_eq!(when.map(str::len), Some(19), "{}", again.stdout);
    let fixed = home.path().join("bergen_corrected.csv");
    std::fs::write(
        &fixed,
        "city,year,kpi,value\nbergen,2023,EC: ICT: ICT: 1C,94\n",
    )
    .unwrap();
    let dry = run(u4ssc(home.path())
        .arg("--db")
        .arg(&db)
        .args(["import", "--dry-run"])
        .arg(&fixed));
    assert!(
        dry.stdout.contains("would import 1 rows: 0 new, 1 changed"),
        "{}",
        dry.stdout
    );
    let revs = run(u4ssc(home.path())
        .arg("--db")
        .arg(&db)
        .args(["revisions", "--format", "csv"]));
    assert_eq!(revs.stdout.lines().count(), 2, "dry run wrote nothing");
    let r = import(home.path(), &db, &fixed);
    assert!(r.stdout.contains("imported as revision 2"), "{}", r.stdout);
    let store = u4ssc::store::Store::open(&db, u4ssc::store::Access::ReadOnly).unwrap();
    let cur = store.current_values().unwrap();
    let v = cur
        .iter()
        .find(|v| v.year == 2023 && v.data_point == "ec-ict-ict-1c")
        .unwrap();
    assert_eq!((v.value, v.revision_id), (Some(94.0), 2));
    // the older revision is still there
    assert_eq!(
        store
            .revision_values(1)
            .unwrap()
            .iter()
            .find(|v| v.year == 2023)
            .unwrap()
            .value,
        Some(93.0)
    );
    // numerator/denominator computed the 2022 value
    assert_eq!(
        cur.iter()
            .find(|v| v.year == 2022 && v.data_point == "ec-ict-ict-1c")
            .unwrap()
            .value,
        Some(91.2)
    );
}

#[test]
fn status_counts_reported_and_missing_per_city_and_year() {
    let (home, db) = seeded();
    let r = run(u4ssc(home.path())
        .arg("--db")
        .arg(&db)
        .args(["status", "--format", "csv"]));
    assert_eq!(r.code, 0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(
        lines[0],
        "city,year,core,advanced,verified,not_reported,missing,open_questions,answered_questions"
    );
    // Bergen's two years, and every other city of the registry, which sent nothing for
    // those years, listed with all missing
    for want in [
        "Bergen,2022,2/67,0/45,0,0,110,0,0",
        "Bergen,2023,1/67,0/45,0,0,111,0,0",
        "Oslo,2022,0/67,0/45,0,0,112,0,0",
        "Tromsø,2023,0/67,0/45,0,0,112,0,0",
    ] {
        assert!(lines.contains(&want), "{want} in {lines:?}");
    }
    let cities = u4ssc::registry::Registry::embedded().unwrap().cities.len();
    assert_eq!(lines.len(), 1 + 2 * cities, "{lines:?}");
    let text = run(u4ssc(home.path()).arg("--db").arg(&db).arg("status")).stdout;
    assert!(
        text.contains(&format!(
            "1 city, 2 city-years; {} city-year(s) of registry cities with nothing submitted",
            2 * (cities - 1)
        )),
        "{text}"
    );
}

#[test]
#[ignore = "needs python3 (to hold a lock from another process); .ci/run runs it"]
fn a_database_held_by_another_process_gives_a_clear_message() {
    let (home, db) = seeded();
    // hold the same kind of lock DuckDB takes (fcntl, whole file) from another process
    let mut holder = std::process::Command::new("python3")
        .arg("-c")
        .arg("import fcntl,sys,time\nf=open(sys.argv[1],'r+')\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint('locked',flush=True)\ntime.sleep(30)")
        .arg(&db)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed for this test");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(holder.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(line.trim(), "locked");
    let f = home.path().join("x.csv");
    std::fs::write(&f, "city,year,kpi,value\noslo,2023,EC: ICT: ICT: 1C,95\n").unwrap();
    let r = import(home.path(), &db, &f);
    holder.kill().ok();
    holder.wait().ok();
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("in use by another process"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("panicked"));
}

/// Writes the XLSX fixtures of tests/data/invalid (run once with `--ignored` when they change).
#[test]
#[ignore]
fn make_xlsx_fixtures() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let dir = data("invalid");
    let head = |ws: &mut rust_xlsxwriter::Worksheet| {
        for (c, h) in ["city", "year", "kpi", "value"].iter().enumerate() {
            ws.write_string(0, c as u16, *h).unwrap();
        }
    };
    // the data sits on a hidden sheet; the visible one is empty
    let mut wb = Workbook::new();
    wb.add_worksheet().set_name("Cover").unwrap();
    let ws = wb.add_worksheet().set_name("Data").unwrap();
    head(ws);
    ws.write_string(1, 0, "oslo").unwrap();
    ws.write_number(1, 1, 2023.0).unwrap();
    ws.write_string(1, 2, "EC: ICT: ICT: 1C").unwrap();
    ws.write_number(1, 3, 95.0).unwrap();
    ws.set_hidden(true);
    wb.save(dir.join("xlsx_data_on_a_hidden_sheet.xlsx"))
        .unwrap();
    // one city cell merged over two rows: the second row has no city
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    head(ws);
    ws.merge_range(1, 0, 2, 0, "oslo", &Format::new()).unwrap();
    for (r, code) in [(1, "EC: ICT: ICT: 1C"), (2, "EC: ICT: ICT: 2C")] {
        ws.write_number(r, 1, 2023.0).unwrap();
        ws.write_string(r, 2, code).unwrap();
        ws.write_number(r, 3, 90.0).unwrap();
    }
    wb.save(dir.join("xlsx_merged_city_cells.xlsx")).unwrap();
    // a date where a number belongs
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    head(ws);
    ws.write_string(1, 0, "oslo").unwrap();
    ws.write_number(1, 1, 2023.0).unwrap();
    ws.write_string(1, 2, "EC: ICT: ICT: 1C").unwrap();
    ws.write_datetime_with_format(
        1,
        3,
        ExcelDateTime::from_ymd(2023, 5, 1).unwrap(),
        &Format::new().set_num_format("yyyy-mm-dd"),
    )
    .unwrap();
    wb.save(dir.join("xlsx_date_in_value_cell.xlsx")).unwrap();
    // a formula in the value cell
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    head(ws);
    ws.write_string(1, 0, "oslo").unwrap();
    ws.write_number(1, 1, 2023.0).unwrap();
    ws.write_string(1, 2, "EC: ICT: ICT: 1C").unwrap();
    ws.write_formula(1, 3, "=90+5").unwrap();
    wb.save(dir.join("xlsx_formula_in_value_cell.xlsx"))
        .unwrap();
}

/// Line numbers as an editor shows them, whatever ends the lines: LF, CRLF (what Excel
/// writes), carriage returns alone, and line breaks inside a quoted field.
#[test]
fn errors_are_on_the_right_line_for_every_line_ending() {
    let home = tempfile::tempdir().unwrap();
    let rows = [
        "city,year,kpi,data_point,value,note",
        "oslo,2023,EC: ICT: ICT: 1C,,95,",
        "bergen,2023,EC: ICT: ICT: 1C,,90,",
        "atlantis,2023,EC: ICT: ICT: 1C,,90,",
    ];
    for (name, end) in [("lf", "\n"), ("crlf", "\r\n"), ("cr", "\r")] {
        let f = home.path().join(format!("line_end_{name}.csv"));
        std::fs::write(&f, rows.join(end) + end).unwrap();
        let r = run(u4ssc(home.path()).arg("check").arg(&f));
        assert_eq!(r.code, 1, "{name}: {}", r.stdout);
        let want = format!("{}:4:1 (city): error[unknown_city]", f.display());
        assert!(
            r.stdout.contains(&want),
            "{name}: wanted {want} in {}",
            r.stdout
        );
    }
    // a note over two lines (CR, CRLF or LF inside quotes) moves the next rows down a line
    for (name, inner) in [("cr", "\r"), ("crlf", "\r\n"), ("lf", "\n")] {
        let f = home.path().join(format!("quoted_{name}.csv"));
        let text = format!(
            "{}\r\noslo,2023,EC: ICT: ICT: 1C,,95,\"first{inner}second\"\r\n{}\r\n{}\r\n",
            rows[0], rows[2], rows[3]
        );
        std::fs::write(&f, text).unwrap();
        let r = run(u4ssc(home.path()).arg("check").arg(&f));
        let line = if inner == "\r" { 4 } else { 5 };
        let want = format!("{}:{line}:1 (city): error[unknown_city]", f.display());
        assert!(
            r.stdout.contains(&want),
            "{name}: wanted {want} in {}",
            r.stdout
        );
    }
}

/// Units as published U4SSC reports print them are the same units: the file imports and the
/// values read back as typed. A real conflict (per 1 000 for per 100 000) is still an error
/// that names the unit expected.
#[test]
fn units_as_published_reports_print_them_are_accepted() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("t.duckdb");
    let f = data("valid/units_as_published_reports_print_them.csv");
    let r = import(home.path(), &db, &f);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("unit_mismatch"), "{}", r.stdout);
    let store = u4ssc::store::Store::open(&db, u4ssc::store::Access::ReadOnly).unwrap();
    let v = store.current_values().unwrap();
    let get = |id: &str| v.iter().find(|x| x.data_point == id).unwrap().value;
    for (id, want) in [
        ("sc-sh-sa-7c", 180.5),
        ("ec-ict-ict-3c", 118000.0),
        ("sc-eh-c-2a", 31.2),
        ("sc-sh-sa-5a", 11.0),
        ("sc-sh-si-1c", 0.89),
        ("ec-ict-ps-2a", 240.0),
        ("en-en-aq-2c", 3.4),
        ("ec-ict-ict-1c", 97.5),
    ] {
        assert_eq!(get(id), Some(want), "{id}");
    }
    drop(store);
    let bad = home.path().join("per_thousand.csv");
    std::fs::write(
        &bad,
        "city,year,kpi,value,unit\ntrondheim,2023,SC: SH: SA: 7C,1.8,FTE / 1 000 inhabitants\n",
    )
    .unwrap();
    let r = run(u4ssc(home.path()).arg("check").arg(&bad));
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(
        r.stdout.contains("error[unit_mismatch]")
            && r.stdout.contains("FTE per 100 000 inhabitants"),
        "{}",
        r.stdout
    );
}
