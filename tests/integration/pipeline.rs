//! Exact reproduction of a published composite index: COINr's ASEM example, every stage.

use crate::cli::{data, run, u4ssc};
use std::collections::HashMap;
use u4ssc::framework::Framework;
use u4ssc::pipeline::{self, Method, Panel};

/// Published stage file: (unit code, column) -> value, and the list of value columns.
fn published(name: &str) -> (HashMap<(String, String), f64>, Vec<String>) {
    let text = std::fs::read_to_string(data(&format!("coinr_asem/{name}"))).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let head: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    let skip = |h: &str| {
        h == "UnitCode" || h == "UnitName" || h == "Year" || h.starts_with("Group_") || h == "Rank"
    };
    let cols: Vec<String> = head.iter().filter(|h| !skip(h)).cloned().collect();
    let mut out = HashMap::new();
    for rec in r.records() {
        let rec = rec.unwrap();
        let unit = rec.get(0).unwrap().to_string();
        for (h, v) in head.iter().zip(rec.iter()) {
            if !skip(h) {
                if let Ok(x) = v.parse::<f64>() {
                    out.insert((unit.clone(), h.clone()), x);
                }
            }
        }
    }
    (out, cols)
}

fn asem() -> (Framework, Panel, Method) {
    let meta = std::fs::read_to_string(data("coinr_asem/iMeta.csv")).unwrap();
    let idata = std::fs::read_to_string(data("coinr_asem/iData.csv")).unwrap();
    let fw = Framework::from_imeta(&meta, "iMeta.csv").unwrap();
    let panel = Panel::from_idata(&idata, &fw, "iData.csv").unwrap();
    let method_text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kpis/methods/coinr-asem.toml"),
    )
    .unwrap();
    (
        fw,
        panel,
        Method::parse(&method_text, "coinr-asem.toml").unwrap(),
    )
}

fn compare(stage: &Panel, file: &str) {
    let (want, cols) = published(file);
    assert!(!cols.is_empty());
    let mut checked = 0;
    for ((unit, col), w) in &want {
        let got = stage
            .get(unit, col)
            .unwrap_or_else(|| panic!("{file}: {unit}/{col} missing, published {w}"));
        let tol = 1e-9 * w.abs().max(1.0);
        assert!(
            (got - w).abs() <= tol,
            "{file}: {unit}/{col}: got {got}, published {w}"
        );
        checked += 1;
    }
    // every published cell of every column, 51 units
    assert_eq!(checked, want.len());
    // 51 units x 49 indicators, less the cells missing at that stage
    assert!(checked >= 51 * 49 - 70, "{file}: only {checked} cells");
}

#[test]
fn asem_raw_input_reads_as_published() {
    let (_, panel, _) = asem();
    assert_eq!(panel.units.len(), 51);
    assert_eq!(panel.columns.len(), 49);
    let (want, _) = published("stage_raw.csv");
    let missing = panel
        .values
        .iter()
        .flatten()
        .filter(|v| v.is_none())
        .count();
    assert_eq!(missing, 63);
    for ((unit, col), w) in want {
        assert_eq!(panel.get(&unit, &col), Some(w), "{unit}/{col}");
    }
}

#[test]
fn asem_every_stage_reproduces_coinr_to_1e9() {
    let (fw, panel, method) = asem();
    let out = pipeline::run(&panel, &fw, &method).unwrap();
    compare(&out.denominated, "stage_denominated.csv");
    assert_eq!(out.imputed_cells.len(), 65);
    compare(&out.imputed, "stage_imputed.csv");
    compare(&out.treated, "stage_treated.csv");
    compare(&out.normalised, "stage_normalised.csv");
    compare(&out.aggregated, "stage_aggregated.csv");
}

#[test]
fn asem_treatment_matches_the_published_summary() {
    let (fw, panel, method) = asem();
    let out = pipeline::run(&panel, &fw, &method).unwrap();
    let text = std::fs::read_to_string(data("coinr_asem/treat_summary.csv")).unwrap();
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let mut treated = 0;
    for rec in r.records() {
        let rec = rec.unwrap();
        let code = rec.get(0).unwrap();
        let low: f64 = rec.get(1).unwrap().parse().unwrap();
        let high: f64 = rec.get(2).unwrap().parse().unwrap();
        let rep = out.treatment.iter().find(|t| t.column == code).unwrap();
        assert_eq!((rep.low as f64, rep.high as f64), (low, high), "{code}");
        assert!(!rep.log);
        if low + high > 0.0 {
            treated += 1;
        }
    }
    assert_eq!(treated, 15);
}

#[test]
fn asem_scores_and_every_rank_match() {
    let (fw, panel, method) = asem();
    let out = pipeline::run(&panel, &fw, &method).unwrap();
    let (scores, cols) = published("results_scores.csv");
    for ((unit, col), w) in &scores {
        let got = out.aggregated.get(unit, col).unwrap();
        // published scores are rounded to 2 decimals
        assert!(
            (got - w).abs() <= 0.005 + 1e-9,
            "{unit}/{col}: {got} vs {w}"
        );
    }
    let (ranks, rank_cols) = published("results_ranks.csv");
    assert_eq!(cols, rank_cols);
    for col in &rank_cols {
        let j = out.aggregated.col(col).unwrap();
        let r = out.rank.ranks(&out.aggregated.column(j));
        for (i, u) in out.aggregated.units.iter().enumerate() {
            assert_eq!(
                r[i].map(|x| x as f64),
                ranks.get(&(u.code.clone(), col.clone())).copied(),
                "{}/{col}",
                u.code
            );
        }
    }
    // ranked on exact scores, RUS (6.616) and JPN (6.619) would not share rank 47
    let exact = u4ssc::stats::rank_desc(
        &out.aggregated
            .column(out.aggregated.col("ConEcFin").unwrap()),
    );
    assert_ne!(
        exact,
        out.rank.ranks(
            &out.aggregated
                .column(out.aggregated.col("ConEcFin").unwrap())
        )
    );
    let che = out.aggregated.get("CHE", "Index").unwrap();
    assert!((che - 68.38).abs() < 0.005);
}

#[test]
fn pipeline_command_writes_every_stage() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("asem");
    let r = run(u4ssc(home.path())
        .arg("pipeline")
        .arg("--idata")
        .arg(data("coinr_asem/iData.csv"))
        .arg("--imeta")
        .arg(data("coinr_asem/iMeta.csv"))
        .arg("--method")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kpis/methods/coinr-asem.toml"))
        .arg("--out")
        .arg(&dir));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    for f in [
        "stage_denominated.csv",
        "stage_imputed.csv",
        "stage_treated.csv",
        "stage_normalised.csv",
        "stage_aggregated.csv",
        "results.csv",
    ] {
        assert!(dir.join(f).exists(), "{f}");
    }
    let results = std::fs::read_to_string(dir.join("results.csv")).unwrap();
    assert!(
        results
            .lines()
            .any(|l| l.starts_with("CHE,Index,4,68.38") && l.ends_with(",1")),
        "{}",
        &results[..300]
    );
    assert!(r.stdout.contains("Switzerland"), "{}", r.stdout);
}

#[test]
fn pipeline_refuses_a_broken_framework_with_the_reason() {
    let home = tempfile::tempdir().unwrap();
    let meta = home.path().join("iMeta.csv");
    let text = std::fs::read_to_string(data("coinr_asem/iMeta.csv"))
        .unwrap()
        .replace(",Physical,Indicator", ",Nowhere,Indicator");
    std::fs::write(&meta, text).unwrap();
    let r = run(u4ssc(home.path())
        .arg("pipeline")
        .arg("--idata")
        .arg(data("coinr_asem/iData.csv"))
        .arg("--imeta")
        .arg(&meta)
        .arg("--method")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kpis/methods/coinr-asem.toml"))
        .arg("--out")
        .arg(home.path().join("o")));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("iMeta.csv:2: 'LPI' names parent 'Nowhere', which does not exist"),
        "{}",
        r.stderr
    );
}

#[test]
fn per_node_aggregation_dashboard_lights_and_shown_only_indicators() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path().join("local");
    let fw = |f: &str| data(&format!("frameworks/local_goals/{f}"));
    let r = run(u4ssc(home.path())
        .arg("pipeline")
        .arg("--idata")
        .arg(fw("iData.csv"))
        .arg("--imeta")
        .arg(fw("iMeta.csv"))
        .arg("--method")
        .arg(fw("method.toml"))
        .arg("--out")
        .arg(&dir));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let score = |unit: &str, node: &str| -> f64 {
        read("results.csv")
            .lines()
            .find(|l| l.starts_with(&format!("{unit},{node},")))
            .and_then(|l| l.split(',').nth(3))
            .and_then(|s| s.parse().ok())
            .unwrap()
    };
    // Trondheim, normalised to 1-100: Bus 60.4, Car 71.125 (fewer cars is better),
    // Green 25.75, Trees 100; Birds is in the stages but in no aggregate
    let normalised = read("stage_normalised.csv");
    assert!(normalised.starts_with("uCode,uName,Time,Region,Bus,Car,Green,Trees,Birds"));
    let mobility = (60.4_f64 * 71.125).sqrt(); // geometric, as iMeta asks for this node
    let nature = (25.75 + 100.0) / 2.0; // arithmetic, the method file's default
    assert!((score("TRD", "Mobility") - mobility).abs() < 1e-9);
    assert!((score("TRD", "Nature") - nature).abs() < 1e-9);
    assert!((score("TRD", "Index") - (mobility + nature) / 2.0).abs() < 1e-9);
    // lights: Bus 80 green / 50 red; Car (lower is better) 400 green / 600 red
    let dashboard = read("dashboard.csv");
    for line in [
        "BOD,2024,Bus,90,green",
        "TRD,2024,Bus,70,amber",
        "BGO,2024,Bus,40,red",
        "BOD,2024,Car,380,green",
        "TRD,2024,Car,450,amber",
        "SVG,2024,Car,620,red",
    ] {
        assert!(
            dashboard.lines().any(|l| l == line),
            "{line} in\n{dashboard}"
        );
    }
    assert!(!dashboard.contains(",Green,"), "Green has no thresholds");
}

#[test]
fn framework_options_that_make_no_sense_are_refused_on_their_line() {
    let home = tempfile::tempdir().unwrap();
    let meta = std::fs::read_to_string(data("frameworks/local_goals/iMeta.csv")).unwrap();
    for (from, to, says) in [
        (
            "Index,Aggregate,geometric",
            "Index,Aggregate,median",
            ":7: Aggregation 'median'",
        ),
        (
            "Mobility,Indicator,,50,80,",
            "Mobility,Indicator,,80,50,",
            "red must be below green",
        ),
        (
            "Mobility,Indicator,,600,400,",
            "Mobility,Indicator,,600,,",
            ":3: 'Car' needs both",
        ),
        (
            "Nature,Indicator,,,,FALSE",
            "Nature,Indicator,,,,maybe",
            ":6: Scored 'maybe'",
        ),
        (
            "Nature,Indicator,,,,",
            "Nature,Indicator,harmonic,,,",
            "only aggregates have an Aggregation",
        ),
    ] {
        assert!(meta.contains(from), "{from}");
        let path = home.path().join("iMeta.csv");
        std::fs::write(&path, meta.replacen(from, to, 1)).unwrap();
        let r = run(u4ssc(home.path())
            .arg("pipeline")
            .arg("--idata")
            .arg(data("frameworks/local_goals/iData.csv"))
            .arg("--imeta")
            .arg(&path)
            .arg("--method")
            .arg(data("frameworks/local_goals/method.toml"))
            .arg("--out")
            .arg(home.path().join("o")));
        assert_eq!(r.code, 2, "{to}: {}", r.stdout);
        assert!(r.stderr.contains(says), "{to}: {}", r.stderr);
    }
}

/// A year with two revisions: the run scores the newer value and names both revisions.
#[test]
fn a_run_scores_the_newest_revision_of_a_value() {
    let home = tempfile::tempdir().unwrap();
    let db = home.path().join("two.duckdb");
    let first = home.path().join("first.csv");
    let second = home.path().join("second.csv");
    std::fs::write(
        &first,
        "city,year,kpi,value\noslo,2023,EC: ICT: ICT: 1C,60\nbergen,2023,EC: ICT: ICT: 1C,70\n",
    )
    .unwrap();
    std::fs::write(
        &second,
        "city,year,kpi,value\noslo,2023,EC: ICT: ICT: 1C,90\n",
    )
    .unwrap();
    for f in [&first, &second] {
        let r = crate::cli::run(
            crate::cli::u4ssc(home.path())
                .arg("--db")
                .arg(&db)
                .arg("import")
                .arg(f),
        );
        assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    }
    let r = crate::cli::run(
        crate::cli::u4ssc(home.path())
            .arg("--db")
            .arg(&db)
            .args(["score", "--draws", "0"]),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let store = u4ssc::store::Store::open(&db, u4ssc::store::Access::ReadOnly).unwrap();
    let run = store.runs().unwrap().pop().unwrap();
    assert_eq!(run.revisions, "1,2");
    let values: Vec<(String, Option<f64>, Option<usize>)> = store
        .dp_scores(run.run_id, None, Some(2023))
        .unwrap()
        .into_iter()
        .filter(|d| d.data_point == "ec-ict-ict-1c")
        .map(|d| (d.city, d.value, d.rank))
        .collect();
    assert_eq!(
        values,
        [
            ("bergen".to_string(), Some(70.0), Some(2)),
            ("oslo".to_string(), Some(90.0), Some(1))
        ]
    );
}

/// Numbers that would overflow the arithmetic (and once gave NaN composites that were still
/// ranked 1-4) are refused on their iMeta or iData line; a code that a spreadsheet would run
/// as a formula is refused before `framework` writes a values.csv its own import refuses.
#[test]
fn overflowing_numbers_and_formula_codes_are_refused_on_their_line() {
    let home = tempfile::tempdir().unwrap();
    let meta = std::fs::read_to_string(data("frameworks/local_goals/iMeta.csv")).unwrap();
    let idata = std::fs::read_to_string(data("frameworks/local_goals/iData.csv")).unwrap();
    let cases = [
        (
            "iMeta",
            "1,Bus,Bus stops within 300 m (%),1,1,",
            "1,Bus,Bus stops within 300 m (%),1,1e308,",
            "iMeta.csv:2: Weight '1e308' is out of range",
        ),
        (
            "iMeta",
            "1,Green,Green area",
            "1,=HYPERLINK(\"x\"),Green area",
            "iMeta.csv:4: iCode '=HYPERLINK(\"x\")' starts like a spreadsheet formula",
        ),
        (
            "iData",
            "BOD,Bodø,North,2024,90,",
            "BOD,Bodø,North,2024,1e308,",
            "iData.csv:2:5: '1e308' is out of range",
        ),
        (
            "iData",
            "TRD,Trondheim,Mid,2024,70,450,",
            "TRD,Trondheim,Mid,2024,70,-1e300,",
            "iData.csv:3:6: '-1e300' is out of range",
        ),
    ];
    for (which, from, to, says) in cases {
        let (m, d) = if which == "iMeta" {
            assert!(meta.contains(from), "{from}");
            (meta.replacen(from, to, 1), idata.clone())
        } else {
            assert!(idata.contains(from), "{from}");
            (meta.clone(), idata.replacen(from, to, 1))
        };
        std::fs::write(home.path().join("iMeta.csv"), m).unwrap();
        std::fs::write(home.path().join("iData.csv"), d).unwrap();
        for cmd in ["pipeline", "framework"] {
            let mut c = u4ssc(home.path());
            c.arg(cmd)
                .arg("--idata")
                .arg(home.path().join("iData.csv"))
                .arg("--imeta")
                .arg(home.path().join("iMeta.csv"))
                .arg("--out")
                .arg(home.path().join(format!("out-{cmd}")));
            if cmd == "pipeline" {
                c.arg("--method")
                    .arg(data("frameworks/local_goals/method.toml"));
            }
            let r = run(&mut c);
            assert_eq!(r.code, 2, "{cmd} {to}: {}{}", r.stdout, r.stderr);
            assert!(r.stderr.contains(says), "{cmd} {to}: {}", r.stderr);
            assert!(
                !home.path().join(format!("out-{cmd}")).exists(),
                "{cmd} wrote output"
            );
        }
    }
}

/// Scores that are not finite never get a rank, in the pipeline or the engine.
#[test]
fn a_non_finite_score_gets_no_rank() {
    let r = u4ssc::stats::rank_desc(&[
        Some(f64::NAN),
        Some(3.0),
        Some(f64::INFINITY),
        None,
        Some(5.0),
        Some(f64::NEG_INFINITY),
    ]);
    assert_eq!(r, vec![None, Some(2), None, None, Some(1), None]);
}

/// A framework of 20 000 indicators runs through every stage (the stage look-ups were once a
/// search of every column per indicator: 100 000 indicators took 104 s). Timings are in the
/// bench; this checks the large case stays correct.
#[test]
fn a_framework_of_twenty_thousand_indicators_runs_every_stage() {
    let n = 20_000;
    let mut meta = String::from("Level,iCode,iName,Direction,Weight,Parent,Type\n");
    for i in 0..n {
        meta.push_str(&format!(
            "1,i{i},Indicator {i},1,1,g{},Indicator\n",
            i % 100
        ));
    }
    for g in 0..100 {
        meta.push_str(&format!("2,g{g},Group {g},1,1,Index,Aggregate\n"));
    }
    meta.push_str("3,Index,Index,1,1,,Aggregate\n");
    let fw = u4ssc::framework::Framework::from_imeta(&meta, "iMeta.csv").unwrap();
    let mut idata = String::from("uCode");
    for i in 0..n {
        idata.push_str(&format!(",i{i}"));
    }
    idata.push('\n');
    for u in 0..5 {
        idata.push_str(&format!("U{u}"));
        for i in 0..n {
            idata.push_str(&format!(",{}", (u * 7 + i) % 11));
        }
        idata.push('\n');
    }
    let panel = u4ssc::pipeline::Panel::from_idata(&idata, &fw, "iData.csv").unwrap();
    let method = u4ssc::pipeline::Method::parse(
        &std::fs::read_to_string(data("frameworks/local_goals/method.toml")).unwrap(),
        "m",
    )
    .unwrap();
    let out = u4ssc::pipeline::run(&panel, &fw, &method).unwrap();
    let j = out.aggregated.col("Index").unwrap();
    let scores: Vec<f64> = out
        .aggregated
        .values
        .iter()
        .map(|r| r[j].unwrap())
        .collect();
    assert_eq!(scores.len(), 5);
    assert!(
        scores.iter().all(|s| (0.0..=100.0).contains(s)),
        "{scores:?}"
    );
}
