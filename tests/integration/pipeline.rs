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
            .contains("names parent 'Nowhere', which does not exist"),
        "{}",
        r.stderr
    );
}
