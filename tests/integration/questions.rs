//! The verification round on the command line: a warning from `check` becomes a question,
//! the questions log goes out as a workbook and comes back answered, a corrected file answers
//! a question by itself, the coordinator closes it, and status and profiles say so.

use crate::cli::{run, u4ssc, Run};
use std::path::Path;

fn q(home: &Path, db: &Path, args: &[&str]) -> Run {
    run(u4ssc(home).arg("--db").arg(db).args(args))
}

/// A database where Bodø's wastewater share fell from 81 % to 8.1 % (a decimal slip).
fn slipped() -> (tempfile::TempDir, std::path::PathBuf) {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("t.duckdb");
    for (name, text) in [
        ("bodo-2023.csv", "city,year,kpi,data_point,value\nbodo,2023,EN: EN: WS: 4C,secondary,81\nbodo,2023,EC: ICT: ICT: 1C,,95\n"),
        ("bodo-2024.csv", "city,year,kpi,data_point,value\nbodo,2024,EN: EN: WS: 4C,secondary,8.1\nbodo,2024,EC: ICT: ICT: 1C,,96\n"),
    ] {
        let f = home.path().join(name);
        std::fs::write(&f, text).unwrap();
        let r = q(home.path(), &db, &["import", f.to_str().unwrap()]);
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    }
    (home, db)
}

/// An answered questions log as a city's office suite saves it: the export's columns, the
/// answers typed in column M.
fn answered_log(path: &Path, rows: &[(&str, &str, &str)]) {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet().set_name("Questions").unwrap();
    for (c, h) in u4ssc::questions::LOG_COLUMNS.iter().enumerate() {
        ws.write_string(0, c as u16, *h).unwrap();
    }
    for (i, (id, city, answer)) in rows.iter().enumerate() {
        let r = i as u32 + 1;
        match id.parse::<f64>() {
            Ok(n) => ws.write_number(r, 0, n).unwrap(),
            Err(_) => ws.write_string(r, 0, *id).unwrap(),
        };
        ws.write_string(r, 1, *city).unwrap();
        ws.write_string(r, 12, *answer).unwrap();
    }
    wb.save(path).unwrap();
}

#[test]
fn the_whole_round_on_the_command_line() {
    let (home, db) = slipped();
    let h = home.path();
    // check finds the jump; its JSON says which value each warning is about
    let r = q(
        h,
        &db,
        &[
            "check",
            "--format",
            "json",
            h.join("bodo-2024.csv").to_str().unwrap(),
        ],
    );
    let findings = h.join("findings.json");
    std::fs::write(&findings, &r.stdout).unwrap();
    let r = q(
        h,
        &db,
        &[
            "questions",
            "ask",
            "--from-findings",
            findings.to_str().unwrap(),
            "--by",
            "Kari",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains(
            "question 1 opened: Bodø 2024 EN: EN: WS: 4C (secondary) [jump_from_previous_year]"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("[missing_core_kpi]"), "{}", r.stdout);
    // asking again opens no duplicate
    let r = q(
        h,
        &db,
        &[
            "questions",
            "ask",
            "--from-findings",
            findings.to_str().unwrap(),
        ],
    );
    assert!(
        r.stdout.contains("0 question(s) opened, 2 already asked"),
        "{}",
        r.stdout
    );
    // `questions` alone lists the open ones, with the value asked about
    let r = q(h, &db, &["questions", "list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let first = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == 1)
        .unwrap()
        .clone();
    assert_eq!(first["value"], 8.1);
    assert_eq!(first["revision_id"], 2);
    assert_eq!(first["status"], "open");
    assert_eq!(first["asked_by"], "Kari");
    // the log goes out as a workbook the city fills
    let log = h.join("bodo-questions.xlsx");
    let r = q(
        h,
        &db,
        &[
            "questions",
            "export",
            "--city",
            "Bodø",
            "--out",
            log.to_str().unwrap(),
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    {
        use calamine::{open_workbook, Data, Reader, Xlsx};
        let mut wb: Xlsx<_> = open_workbook(&log).unwrap();
        let ws = wb.worksheet_range("Questions").unwrap();
        assert_eq!(ws.get_value((0, 12)), Some(&Data::String("Answer".into())));
        let ids: Vec<String> = (1..=2)
            .map(|r| ws.get_value((r, 0)).unwrap().to_string())
            .collect();
        assert!(
            ids.contains(&"1".to_string()) && ids.contains(&"2".to_string()),
            "{ids:?}"
        );
    }
    // it comes back answered
    let back = h.join("bodo-questions-answered.xlsx");
    answered_log(
        &back,
        &[(
            "1",
            "Bodø",
            "Yes, a decimal slip: the share is 81.0 %. A corrected file follows.",
        )],
    );
    let r = q(
        h,
        &db,
        &["questions", "answer", "--from", back.to_str().unwrap()],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 answer(s) recorded"), "{}", r.stdout);
    // the corrected file answers the question by itself
    let fixed = h.join("bodo-2024-fixed.csv");
    std::fs::write(
        &fixed,
        "city,year,kpi,data_point,value\nbodo,2024,EN: EN: WS: 4C,secondary,81.0\n",
    )
    .unwrap();
    assert_eq!(q(h, &db, &["import", fixed.to_str().unwrap()]).code, 0);
    let r = q(h, &db, &["questions", "list", "--status", "answered"]);
    assert!(
        r.stdout.contains("answered (value changed in revision 3)"),
        "{}",
        r.stdout
    );
    let r = q(h, &db, &["questions", "show", "1"]);
    assert!(
        r.stdout.contains("value changed in revision 3: 8.1 → 81.0"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("Yes, a decimal slip"), "{}", r.stdout);
    // the workbook left Answered by empty: the answer is the city's, not whoever read it in
    assert!(r.stdout.contains("Bodø answered on"), "{}", r.stdout);
    // status counts the pending questions; the profile marks the values under question
    let r = q(h, &db, &["status", "--format", "csv"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l == "Bodø,2024,2/67,0/45,0,0,110,1,1"),
        "{}",
        r.stdout
    );
    assert_eq!(q(h, &db, &["score"]).code, 0);
    let out = h.join("out");
    let r = q(
        h,
        &db,
        &[
            "export",
            "--out",
            out.to_str().unwrap(),
            "--city",
            "bodo",
            "--year",
            "2024",
            "--format",
            "md,csv",
        ],
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let profile = std::fs::read_to_string(out.join("profile-bodo-2024.md")).unwrap();
    assert!(profile.contains("⚠ Under question (2)"), "{profile}");
    assert!(
        profile.contains("question 1 (answered (value changed in revision 3))"),
        "{profile}"
    );
    let table = std::fs::read_to_string(out.join("questions.csv")).unwrap();
    assert!(
        table.contains("1,bodo,2024,en-en-ws-4c-secondary"),
        "{table}"
    );
    // the coordinator closes it: no longer pending, and closed takes no more answers
    let r = q(h, &db, &["questions", "close", "1", "--verified", "yes"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = q(
        h,
        &db,
        &["questions", "answer", "1", "--text", "one more thing"],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("question 1 is closed"), "{}", r.stderr);
    let r = q(h, &db, &["status", "--format", "csv"]);
    assert!(
        r.stdout
            .lines()
            .any(|l| l == "Bodø,2024,2/67,0/45,0,0,110,1,0"),
        "{}",
        r.stdout
    );
    let r = q(
        h,
        &db,
        &[
            "export",
            "--out",
            out.to_str().unwrap(),
            "--city",
            "bodo",
            "--year",
            "2024",
            "--format",
            "md",
        ],
    );
    assert_eq!(r.code, 0);
    let profile = std::fs::read_to_string(out.join("profile-bodo-2024.md")).unwrap();
    assert!(
        profile.contains("⚠ Under question (1)") && !profile.contains("question 1 ("),
        "{profile}"
    );
    let r = q(h, &db, &["verify"]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
}

#[test]
fn a_questions_log_with_mistakes_records_nothing_and_says_where() {
    let (home, db) = slipped();
    let h = home.path();
    q(
        h,
        &db,
        &[
            "questions",
            "ask",
            "bodo",
            "EN: EN: WS: 4C",
            "--data-point",
            "secondary",
            "--year",
            "2024",
            "--text",
            "A decimal slip?",
        ],
    );
    q(
        h,
        &db,
        &[
            "questions",
            "ask",
            "oslo",
            "--year",
            "2024",
            "--text",
            "Where is your file?",
        ],
    );
    let back = h.join("bad.xlsx");
    answered_log(
        &back,
        &[
            ("1", "Bodø", "It is 81 %."),
            ("two", "Bodø", "?"),
            ("2", "Bodø", "Oslo's question, answered in Bodø's log"),
            ("99", "Bodø", "no such question"),
            ("1", "Bodø", "bell \u{7} in the answer"),
        ],
    );
    let r = q(
        h,
        &db,
        &["questions", "answer", "--from", back.to_str().unwrap()],
    );
    assert_eq!(r.code, 1, "{}{}", r.stdout, r.stderr);
    let shown = back.display().to_string();
    for want in [
        format!("{shown}:3:A: error[bad_question_id]"),
        format!("{shown}:4:B: error[question_of_another_city]"),
        format!("{shown}:5:A: error[unknown_question]"),
        format!("{shown}:6:M: error[bad_answer]"),
    ] {
        assert!(r.stdout.contains(&want), "wanted {want} in {}", r.stdout);
    }
    assert!(r.stdout.contains("no answer recorded"), "{}", r.stdout);
    let r = q(h, &db, &["questions", "list", "--status", "answered"]);
    assert!(r.stdout.contains("no answered questions"), "{}", r.stdout);
}

#[test]
fn hostile_question_text_is_refused_or_neutralised() {
    let (home, db) = slipped();
    let h = home.path();
    let ask = |text: &str| {
        q(
            h,
            &db,
            &["questions", "ask", "bodo", "--year", "2024", "--text", text],
        )
    };
    let r = ask("clear \u{1b}[2J the screen");
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("control character U+001B"),
        "{}",
        r.stderr
    );
    // 1 MB of text, through standard input (no shell passes it as an argument)
    let r = run(u4ssc(h)
        .arg("--db")
        .arg(&db)
        .args(["questions", "ask", "bodo", "--year", "2024", "--text", "-"])
        .write_stdin("x".repeat(1 << 20)));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("more than 10000"), "{}", r.stderr);
    let r = ask("   ");
    assert_eq!(r.code, 2);
    // a formula is kept as text, and never runs in a spreadsheet
    let r = ask("=HYPERLINK(\"http://evil\",\"click\")");
    assert_eq!(r.code, 0, "{}", r.stderr);
    let r = q(h, &db, &["questions", "list", "--format", "csv"]);
    assert!(r.stdout.contains("\"'=HYPERLINK("), "{}", r.stdout);
    let r = q(
        h,
        &db,
        &[
            "questions",
            "ask",
            "bodo",
            "Broadband",
            "--year",
            "2024",
            "--text",
            "which?",
        ],
    );
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("could name several KPIs"), "{}", r.stderr);
    // nothing but the one good question was stored
    let r = q(
        h,
        &db,
        &["questions", "list", "--status", "all", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 1, "{v}");
}

/// import, score, explain and verify speak JSON too: numbers as numbers, one document.
#[test]
fn import_score_explain_and_verify_answer_in_json() {
    let (home, db) = slipped();
    let h = home.path();
    let f = h.join("bodo-2025.csv");
    std::fs::write(&f, "city,year,kpi,value\nbodo,2025,EC: ICT: ICT: 1C,97\n").unwrap();
    let json = |args: &[&str]| -> serde_json::Value {
        let r = q(h, &db, args);
        serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", r.stdout, r.stderr))
    };
    let v = json(&["import", "--format", "json", f.to_str().unwrap()]);
    assert_eq!(v[0]["outcome"], "imported");
    assert_eq!(v[0]["revision"], 3);
    assert_eq!(v[0]["rows"], 1);
    assert_eq!(v[0]["findings"][0]["rule"], "missing_core_kpi");
    let v = json(&["import", "--format", "json", f.to_str().unwrap()]);
    assert_eq!(v[0]["outcome"], "already_imported");
    let v = json(&["score", "--format", "json"]);
    assert_eq!(v["run"]["run_id"], 1);
    assert_eq!(v["year"], 2025);
    let v = json(&["explain", "bodo", "EC: ICT: ICT: 1C", "--format", "json"]);
    assert_eq!(v[0]["value"], 97.0);
    assert_eq!(v[0]["revision"], 3);
    assert!(v[0]["levels"].as_array().unwrap().len() >= 4, "{v}");
    let v = json(&["verify", "--format", "json"]);
    assert_eq!(v["consistent"], true);
    assert_eq!(v["revisions"], 3);
}
