//! Any framework through the scoring engine: `u4ssc framework` turns COINr's iMeta/iData into
//! a catalog, registry, submission and method, and then import, score (with rank intervals),
//! peer groups, trends, export and the TUI's data work on it. The engine's scores must equal
//! the pipeline's for the same method.

use crate::cli::{data, run, u4ssc};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use u4ssc::scoring::engine::Level;
use u4ssc::store::{Access, Store};

/// The binary on a converted framework's catalog, registry and database.
fn on_framework(home: &Path, dir: &Path, db: &Path) -> assert_cmd::Command {
    let mut c = u4ssc(home);
    c.arg("--catalog")
        .arg(dir.join("catalog.toml"))
        .arg("--registry")
        .arg(dir.join("registry.toml"))
        .arg("--db")
        .arg(db);
    c
}

/// Convert, import and score a framework; return the output directory and the database.
fn convert_import_score(home: &Path, idata: &Path, imeta: &Path) -> (PathBuf, PathBuf) {
    let dir = home.join("converted");
    let r = run(u4ssc(home)
        .arg("framework")
        .arg("--idata")
        .arg(idata)
        .arg("--imeta")
        .arg(imeta)
        .arg("--out")
        .arg(&dir));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let db = dir.join("f.duckdb");
    let with = |args: &[&str]| run(on_framework(home, &dir, &db).args(args));
    let r = with(&["import", dir.join("values.csv").to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let r = with(&[
        "score",
        "--method",
        dir.join("method.toml").to_str().unwrap(),
    ]);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    (dir, db)
}

#[test]
fn asem_scored_by_the_engine_equals_the_pipeline_with_the_same_method() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (idata, imeta) = (data("coinr_asem/iData.csv"), data("coinr_asem/iMeta.csv"));
    let (dir, db) = convert_import_score(home, &idata, &imeta);
    // the pipeline with no imputation or treatment, min-max 0-100, arithmetic means
    let out = home.join("pipeline");
    let r = run(u4ssc(home)
        .arg("pipeline")
        .arg("--idata")
        .arg(&idata)
        .arg("--imeta")
        .arg(&imeta)
        .arg("--method")
        .arg(data("frameworks/asem_plain_method.toml"))
        .arg("--out")
        .arg(&out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut published: HashMap<(String, String), f64> = HashMap::new();
    for line in std::fs::read_to_string(out.join("results.csv"))
        .unwrap()
        .lines()
        .skip(1)
    {
        let f: Vec<&str> = line.split(',').collect();
        if let Ok(v) = f[3].parse::<f64>() {
            published.insert((f[0].to_lowercase(), f[1].to_string()), v);
        }
    }
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    let run_id = store.runs().unwrap().last().unwrap().run_id;
    let mut compared = 0;
    for (level, code) in [
        (Level::Overall, None),
        (Level::Dimension, Some("Conn")),
        (Level::Dimension, Some("Sust")),
    ] {
        for n in store.node_scores(run_id, Some(level), None).unwrap() {
            if code.is_some_and(|c| c != n.node) {
                continue;
            }
            let key = (n.city.clone(), code.unwrap_or("Index").to_string());
            let want = published[&key];
            let got = n.score.unwrap();
            assert!(
                (got - want).abs() < 1e-9,
                "{key:?}: engine {got}, pipeline {want}"
            );
            // and the engine's Monte Carlo gave every unit a rank interval
            assert!(n.rank_p05.is_some() && n.rank_p95.is_some());
            compared += 1;
        }
    }
    assert_eq!(compared, 51 * 3);
    // peer groups from the iData group columns
    let r =
        run(on_framework(home, &dir, &db).args(["rank", "--peers", "group=EurAsia_group=Asia"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("(21 cities)") && r.stdout.contains("Japan"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("Austria"), "{}", r.stdout);
    // exports name the framework's nodes
    let ex = home.join("export");
    let r = run(on_framework(home, &dir, &db)
        .args(["export", "--format", "csv", "--out"])
        .arg(&ex));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let agg = std::fs::read_to_string(ex.join("aggregate_scores.csv")).unwrap();
    assert!(
        agg.lines()
            .any(|l| l.starts_with("che,2018,dimension,Sust,Sustainability,")),
        "{}",
        &agg[..400]
    );
}

#[test]
fn a_framework_over_two_years_has_trends_and_a_deeper_one_is_refused() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    // the local-goals framework, with a 2023 year whose values are 20 % lower
    let idata = std::fs::read_to_string(data("frameworks/local_goals/iData.csv")).unwrap();
    let mut two = idata.clone();
    for line in idata.lines().skip(1) {
        let f: Vec<String> = line.split(',').map(str::to_string).collect();
        let mut g = f.clone();
        g[3] = "2023".into();
        for c in g.iter_mut().skip(4) {
            *c = format!("{}", c.parse::<f64>().unwrap() * 0.8);
        }
        two.push_str(&(g.join(",") + "\n"));
    }
    let path = home.join("iData.csv");
    std::fs::write(&path, two).unwrap();
    let (_, db) = convert_import_score(home, &path, &data("frameworks/local_goals/iMeta.csv"));
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    let run_id = store.runs().unwrap().last().unwrap().run_id;
    let trends = store.trends(run_id, Some("bod")).unwrap();
    let bus = trends
        .iter()
        .find(|t| t.data_point == "bus")
        .expect("a trend for Bus");
    assert_eq!((bus.first_year, bus.last_year), (2023, 2024));
    // Bus grew by 25 % in a year (72 -> 90)
    assert!((bus.cagr.unwrap() - 0.25).abs() < 1e-9, "{:?}", bus.cagr);
    assert_eq!(store.run_years(run_id).unwrap(), vec![2023, 2024]);
    // iMeta makes Mobility a geometric mean, and the engine follows with its one definition of
    // the geometric mean (children on [1, 100], as a geometric run takes them): Trondheim 2024,
    // min-max 0-100 within the year, Bus (70 - 40) / (90 - 40) = 60, Car (620 - 450) / (620 - 380)
    let mobility = store
        .node_scores(run_id, None, Some(2024))
        .unwrap()
        .into_iter()
        .find(|n| n.city == "trd" && n.node == "Mobility")
        .and_then(|n| n.score)
        .unwrap();
    let car = (620.0 - 450.0) / (620.0 - 380.0) * 100.0;
    let on = |x: f64| 1.0 + 0.99 * x;
    assert!(
        (mobility - (on(60.0) * on(car)).sqrt()).abs() < 1e-9,
        "{mobility}"
    );

    // five aggregate levels below the index do not fit the engine's three
    let deep = "Level,iCode,Direction,Weight,Parent,Type\n1,x,1,1,A,Indicator\n2,A,1,1,B,Aggregate\n3,B,1,1,C,Aggregate\n4,C,1,1,D,Aggregate\n5,D,1,1,E,Aggregate\n6,E,1,1,,Aggregate\n";
    std::fs::write(home.join("deep.csv"), deep).unwrap();
    std::fs::write(
        home.join("deep_data.csv"),
        "uCode,Time,x\nA1,2024,1\nA2,2024,2\n",
    )
    .unwrap();
    let r = run(u4ssc(home)
        .arg("framework")
        .arg("--idata")
        .arg(home.join("deep_data.csv"))
        .arg("--imeta")
        .arg(home.join("deep.csv"))
        .arg("--out")
        .arg(home.join("deep")));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(r.stderr.contains("three aggregate levels"), "{}", r.stderr);
}
