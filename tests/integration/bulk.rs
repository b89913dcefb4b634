//! The bulk import path (DuckDB's reader + SQL rules) against the row-by-row path: the same
//! files must give the same revisions, the same stored warnings and the same output, and
//! whatever the bulk path is not sure about must go to the row-by-row path.

use crate::cli::{run, u4ssc};
use std::path::{Path, PathBuf};
use u4ssc::store::{Access, Store};

/// The 17-city demo for twelve years (about 2.4 MB, above the bulk path's threshold).
fn demo(home: &Path, seed: u64) -> String {
    let csv = home.join(format!("demo-{seed}.csv"));
    let r = run(u4ssc(home)
        .args([
            "demo",
            "--years",
            "12",
            "--seed",
            &seed.to_string(),
            "--out",
        ])
        .arg(&csv));
    assert_eq!(r.code, 0, "{}", r.stderr);
    std::fs::read_to_string(&csv).unwrap()
}

fn write(home: &Path, name: &str, text: &str) -> PathBuf {
    let p = home.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Every line but the header, transformed.
fn map_rows(text: &str, f: impl Fn(usize, &str) -> String) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        out.push_str(&if i == 0 { line.to_string() } else { f(i, line) });
        out.push('\n');
    }
    out
}

/// What an import sequence leaves: each run's exit code and output, then every revision's
/// observations and findings.
type Outcome = (Vec<(i32, String)>, Vec<String>);

fn import_all(home: &Path, files: &[PathBuf], bulk: bool) -> Outcome {
    let db = home.join(format!(
        "{}-{}.duckdb",
        files.len(),
        if bulk { "bulk" } else { "rows" }
    ));
    let _ = std::fs::remove_file(&db);
    let mut runs = Vec::new();
    for f in files {
        let mut cmd = u4ssc(home);
        cmd.arg("--db").arg(&db).arg("import").arg(f);
        cmd.env("U4SSC_NO_BULK", if bulk { "0" } else { "1" });
        let r = run(&mut cmd);
        // the import time differs between the two databases
        let text = (r.stdout + &r.stderr)
            .lines()
            .map(|l| match (l.find(" ("), l.find("); nothing to do")) {
                (Some(a), Some(b)) if l.contains("already imported") => {
                    format!("{}{}", &l[..a], &l[b + 1..])
                }
                _ => l.to_string(),
            })
            .collect::<Vec<_>>()
            .join("\n");
        runs.push((r.code, text));
    }
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    let mut stored = Vec::new();
    for rev in store.revisions().unwrap() {
        stored.push(format!(
            "{} {} {} {}",
            rev.revision_id, rev.source_file, rev.format, rev.row_count
        ));
        for o in store.revision_observations(rev.revision_id).unwrap() {
            stored.push(format!("{o:?}"));
        }
        for f in store.findings(rev.revision_id).unwrap() {
            stored.push(format!("{f:?}"));
        }
    }
    (runs, stored)
}

/// Import with both paths and demand the same outcome; return it.
fn same_both_ways(home: &Path, files: &[PathBuf]) -> Outcome {
    let bulk = import_all(home, files, true);
    let rows = import_all(home, files, false);
    assert_eq!(bulk.0, rows.0, "the two paths printed different things");
    assert_eq!(
        bulk.1.len(),
        rows.1.len(),
        "different numbers of stored rows"
    );
    for (b, r) in bulk.1.iter().zip(&rows.1) {
        assert_eq!(b, r);
    }
    bulk
}

/// Whether the bulk path takes the file (it must, for plain valid files).
fn bulk_takes(home: &Path, file: &Path) -> bool {
    let catalog = u4ssc::catalog::Catalog::embedded().unwrap();
    let registry = u4ssc::registry::Registry::embedded().unwrap();
    let Some(layout) = u4ssc::import::bulk::eligible(file, &Default::default()) else {
        return false;
    };
    let mut store = Store::open(&home.join("probe.duckdb"), Access::ReadWrite).unwrap();
    let rules = u4ssc::import::Rules {
        years: u4ssc::submission::validate::Years {
            min: 1990,
            max: 2100,
        },
        ..Default::default()
    };
    u4ssc::import::bulk::stage(
        &mut store,
        file,
        &layout,
        &catalog,
        &registry,
        &rules,
        &Default::default(),
    )
    .unwrap()
    .is_some()
}

#[test]
fn bulk_import_of_plain_files_equals_the_row_by_row_import() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let first = demo(home, 2026);
    let a = write(home, "a.csv", &first);
    // the same cities and years from another seed: changed values and jumps against `a`
    let b = write(home, "b.csv", &demo(home, 7));
    // Norwegian spreadsheet habits: semicolons, decimal commas, municipality numbers (the
    // former one in 2020-2023), quality by number, ja/nei, a note with quotes and the
    // delimiter, NR and an implausible value
    let norsk = map_rows(&first, |i, line| {
        let mut cells: Vec<String> = split_csv(line);
        alesund_by_number(&mut cells);
        cells[4] = cells[4].replace('.', ",");
        if i % 97 == 0 {
            cells[4] = "NR".into();
        }
        cells[7] = if cells[7] == "yes" {
            "ja".into()
        } else {
            "nei".into()
        };
        let note = if i % 50 == 0 {
            "\"se note; \"\"kilde\"\"\""
        } else {
            ""
        };
        let mut out = cells
            .iter()
            .map(|c| {
                if c.contains([';', '"']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect::<Vec<_>>()
            .join(";");
        out.push(';');
        out.push_str(note);
        out
    });
    let norsk = norsk.replacen(
        "city,year,kpi,data_point,value,unit,quality,verified,source",
        "By;År;kpi;data_point;value;unit;quality;verified;source;note",
        1,
    );
    let n = write(home, "norsk.csv", &norsk);
    for f in [&a, &b, &n] {
        assert!(
            bulk_takes(home, f),
            "{} should take the bulk path",
            f.display()
        );
    }
    let (runs, stored) = same_both_ways(home, &[a.clone(), b.clone()]);
    let rows = first.lines().count() - 1;
    assert!(
        runs[0]
            .1
            .contains(&format!("{rows} rows: {rows} new, 0 changed")),
        "{}",
        runs[0].1
    );
    assert!(runs[1].1.contains("changed"), "{}", runs[1].1);
    assert!(
        stored.iter().any(|s| s.contains("jump_from_previous_year")),
        "the second seed should jump somewhere"
    );
    // rows left out: core data points missing for many cities and years
    let gaps: String = first
        .lines()
        .enumerate()
        .filter(|(i, _)| *i == 0 || i % 13 != 0)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let g = write(home, "gaps.csv", &gaps);
    assert!(bulk_takes(home, &g));
    let (_, stored) = same_both_ways(home, &[g]);
    assert!(
        stored.iter().any(|s| s.contains("missing_core_kpi")),
        "every 13th row left out leaves core data points missing"
    );
    let (runs, stored) = same_both_ways(home, &[n]);
    assert_eq!(runs[0].0, 0, "{}", runs[0].1);
    assert!(
        runs[0].1.contains("former_municipality_number"),
        "{}",
        runs[0].1
    );
    assert!(stored.iter().any(|s| s.contains("kilde")));
    // a dry run says the same on both paths and leaves the database empty
    let dry = |bulk: bool| {
        let db = home.join(format!("dry-{bulk}.duckdb"));
        let mut cmd = u4ssc(home);
        cmd.arg("--db")
            .arg(&db)
            .args(["import", "--dry-run"])
            .arg(&a);
        cmd.env("U4SSC_NO_BULK", if bulk { "0" } else { "1" });
        let r = run(&mut cmd);
        let revisions = Store::open(&db, Access::ReadOnly)
            .unwrap()
            .revisions()
            .unwrap();
        (r.code, r.stdout, revisions.len())
    };
    let (bulk_dry, rows_dry) = (dry(true), dry(false));
    assert_eq!(bulk_dry, rows_dry);
    assert!(
        bulk_dry.1.contains("would import") && bulk_dry.2 == 0,
        "{bulk_dry:?}"
    );
    // re-importing the same file is recognised by its hash on both paths
    let (runs, _) = same_both_ways(home, &[a.clone(), a]);
    assert!(runs[1].1.contains("already imported"), "{}", runs[1].1);
}

#[test]
fn files_the_bulk_path_cannot_vouch_for_go_row_by_row_with_the_same_errors() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let text = demo(home, 2026);
    let cases: Vec<(&str, String)> = vec![
        (
            "unknown_city.csv",
            text.replacen("\nalesund,", "\nAtlantis,", 1),
        ),
        ("duplicate_row.csv", {
            let second = text.lines().nth(1).unwrap();
            format!("{text}{second}\n")
        }),
        (
            "negative_percentage.csv",
            map_rows(&text, |i, l| {
                if i == 1 {
                    set_cell(l, 4, "-5")
                } else {
                    l.to_string()
                }
            }),
        ),
        (
            "formula_in_source.csv",
            map_rows(&text, |i, l| {
                if i == 9 {
                    set_cell(l, 8, "=HYPERLINK(\"x\")")
                } else {
                    l.to_string()
                }
            }),
        ),
        (
            "space_around_source.csv",
            map_rows(&text, |i, l| {
                if i == 3 {
                    set_cell(l, 8, "  padded ")
                } else {
                    l.to_string()
                }
            }),
        ),
        ("crlf_line_ends.csv", text.replace('\n', "\r\n")),
        (
            "blank_line.csv",
            text.replacen('\n', "\n\n", 2).replacen("\n\n", "\n", 1),
        ),
        (
            "numerator_given.csv",
            text.replacen("source\n", "source,numerator,denominator\n", 1),
        ),
    ];
    for (name, body) in cases {
        let f = write(home, name, &body);
        assert!(!bulk_takes(home, &f), "{name} must go row by row");
        let (runs, _) = same_both_ways(home, &[f]);
        match name {
            "unknown_city.csv"
            | "duplicate_row.csv"
            | "negative_percentage.csv"
            | "formula_in_source.csv"
            | "numerator_given.csv" => {
                assert_eq!(runs[0].0, 1, "{name}: {}", runs[0].1)
            }
            _ => assert_eq!(runs[0].0, 0, "{name}: {}", runs[0].1),
        }
    }
}

/// Ålesund named by its municipality number: the former one (1507) in 2020-2023, 1508 else.
fn alesund_by_number(cells: &mut [String]) {
    if cells[0] == "alesund" {
        let year: i32 = cells[1].parse().unwrap();
        cells[0] = if (2020..=2023).contains(&year) {
            "1507"
        } else {
            "1508"
        }
        .into();
    }
}

/// A demo CSV line with one cell replaced.
fn set_cell(line: &str, i: usize, value: &str) -> String {
    let mut cells = split_csv(line);
    cells[i] = value.to_string();
    join_csv(&cells)
}

/// One CSV line of cells, quoted where they hold a comma or a quote.
fn join_csv(cells: &[String]) -> String {
    cells
        .iter()
        .map(|c| {
            if c.contains([',', '"']) {
                format!("\"{}\"", c.replace('"', "\"\""))
            } else {
                c.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Split one demo CSV line (commas, quotes only around whole fields).
fn split_csv(line: &str) -> Vec<String> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(line.as_bytes());
    r.records()
        .next()
        .unwrap()
        .unwrap()
        .iter()
        .map(str::to_string)
        .collect()
}

/// Small files forced through the bulk path: every hostile CSV fixture (each has an error)
/// must go row by row, and a small valid demo must give what the row-by-row path gives.
#[test]
fn small_files_through_the_bulk_path_equal_the_row_path_or_go_row_by_row() {
    let cat = u4ssc::catalog::Catalog::embedded().unwrap();
    let reg = u4ssc::registry::Registry::embedded().unwrap();
    let limits = u4ssc::submission::Limits::default();
    let rules = u4ssc::import::Rules::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(crate::cli::data("invalid"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "csv"))
        .collect();
    files.sort();
    assert!(files.len() > 50);
    for f in &files {
        let case = f.display().to_string();
        assert!(
            !crate::fuzz::bulk_equals_rows(f, &cat, &reg, &limits, &rules, &case),
            "{case} has an error, yet the bulk path took it"
        );
    }
    // one year of the 17 cities: about 200 KB
    let home = tempfile::tempdir().unwrap();
    let small = home.path().join("one_year.csv");
    let mut text = Vec::new();
    let spec = u4ssc::demo::DemoSpec {
        years: 2024..=2024,
        seed: 3,
    };
    u4ssc::demo::write_csv(&mut text, &cat, &reg.cities, &spec).unwrap();
    std::fs::write(&small, &text).unwrap();
    assert!(crate::fuzz::bulk_equals_rows(
        &small, &cat, &reg, &limits, &rules, "one year"
    ));
}

/// `check` of a large plain CSV file on its own takes the bulk path (the survey, no file in
/// memory) and reports exactly what the row-by-row path reports: warnings by line (former
/// municipality numbers), missing core data points, and, for a file with an error, the
/// row path's located error (the survey cannot vouch for it and hands it on).
#[test]
fn check_of_large_files_on_the_bulk_path_equals_the_row_path() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let text = demo(home, 2026);
    // Ålesund by its municipality numbers (the former one in 2020-2023) and every 13th row
    // left out: warnings by line and missing core data points
    let warned = map_rows(&text, |_, line| {
        let mut cells = split_csv(line);
        alesund_by_number(&mut cells);
        join_csv(&cells)
    });
    let gaps: String = warned
        .lines()
        .enumerate()
        .filter(|(i, _)| *i == 0 || i % 13 != 0)
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let bad = map_rows(&text, |i, l| {
        if i == 4321 {
            set_cell(l, 4, "-5")
        } else {
            l.to_string()
        }
    });
    // rows the survey cannot vouch for, among the warnings and gaps: an unknown city, a KPI
    // code that is no KPI, a row given twice (once within a half of the file, once across the
    // halves), a value that is not a number
    let lines: Vec<&str> = gaps.lines().collect();
    let n = lines.len();
    let mut rows: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    rows[300] = set_cell(&rows[300], 0, "Bodoe");
    rows[5000] = set_cell(&rows[5000], 2, "EC: ICT: ICT: 9Z");
    rows[n - 40] = set_cell(&rows[n - 40], 4, "12,5,5");
    let dup_near = rows[7000].clone();
    rows.insert(7001, dup_near);
    let dup_far = rows[100].clone();
    rows.push(dup_far);
    let located = rows.join("\n") + "\n";
    let files = [
        (write(home, "clean.csv", &text), true),
        (write(home, "warned.csv", &gaps), true),
        (write(home, "bad.csv", &bad), true),
        (write(home, "errors_among_warnings.csv", &located), true),
    ];
    for (file, takes_bulk) in &files {
        let check = |bulk: bool| {
            let mut cmd = u4ssc(home);
            cmd.args(["check", "--format", "json"])
                .arg(file)
                .env("U4SSC_TRACE", "1")
                .env("U4SSC_NO_BULK", if bulk { "0" } else { "1" });
            run(&mut cmd)
        };
        let (b, r) = (check(true), check(false));
        assert_eq!(
            (b.code, &b.stdout),
            (r.code, &r.stdout),
            "{}: the bulk check differs",
            file.display()
        );
        assert_eq!(
            b.stderr.contains("check: surveyed on the bulk path"),
            *takes_bulk,
            "{}: {}",
            file.display(),
            b.stderr
        );
    }
    for f in &files[2..] {
        let mut cmd = u4ssc(home);
        cmd.args(["check", "--format", "json"])
            .arg(&f.0)
            .env("U4SSC_TRACE", "1");
        let r = run(&mut cmd);
        assert!(
            r.stderr.contains("check: doubtful rows checked row by row"),
            "{}: {}",
            f.0.display(),
            r.stderr
        );
    }
    let errors_json = run(u4ssc(home)
        .args(["check", "--format", "json"])
        .arg(&files[3].0))
    .stdout;
    for rule in [
        "unknown_city",
        "duplicate",
        "missing_core_kpi",
        "former_municipality_number",
    ] {
        assert!(
            errors_json.contains(rule),
            "{rule}: {}",
            &errors_json[..2000.min(errors_json.len())]
        );
    }
    let warned_json = {
        let mut cmd = u4ssc(home);
        cmd.args(["check", "--format", "json"]).arg(&files[1].0);
        run(&mut cmd).stdout
    };
    assert!(
        warned_json.contains("former_municipality_number")
            && warned_json.contains("missing_core_kpi"),
        "{}",
        &warned_json[..400.min(warned_json.len())]
    );
    let bad_json = run(u4ssc(home)
        .args(["check", "--format", "json"])
        .arg(&files[2].0))
    .stdout;
    assert!(
        bad_json.contains("\"line\": 4322"),
        "{}",
        &bad_json[..600.min(bad_json.len())]
    );
}
