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
fn convert_import_score(
    home: &Path,
    idata: &Path,
    imeta: &Path,
    level_names: Option<&str>,
) -> (PathBuf, PathBuf) {
    let dir = home.join("converted");
    let mut c = u4ssc(home);
    c.arg("framework")
        .arg("--idata")
        .arg(idata)
        .arg("--imeta")
        .arg(imeta)
        .arg("--out")
        .arg(&dir);
    if let Some(n) = level_names {
        c.args(["--level-names", n]);
    }
    let r = run(&mut c);
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(!r.stdout.contains("pass-through"), "{}", r.stdout);
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

/// `u4ssc pipeline` with no imputation or treatment, min-max 0-100 and arithmetic means (what
/// `u4ssc framework` gives the engine): every aggregate's (score, rank) by (unit, code).
fn pipeline_scores(
    home: &Path,
    idata: &Path,
    imeta: &Path,
) -> HashMap<(String, String), (f64, usize)> {
    pipeline_with(
        home,
        idata,
        imeta,
        &data("frameworks/asem_plain_method.toml"),
    )
}

/// `u4ssc pipeline` with a method file: every aggregate's (score, rank) by (unit, code).
fn pipeline_with(
    home: &Path,
    idata: &Path,
    imeta: &Path,
    method: &Path,
) -> HashMap<(String, String), (f64, usize)> {
    let out = home.join("pipeline");
    let r = run(u4ssc(home)
        .arg("pipeline")
        .arg("--idata")
        .arg(idata)
        .arg("--imeta")
        .arg(imeta)
        .arg("--method")
        .arg(method)
        .arg("--out")
        .arg(&out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut scores = HashMap::new();
    let text = std::fs::read_to_string(out.join("results.csv")).unwrap();
    assert!(
        text.starts_with("uCode,iCode,Level,score,rank\n"),
        "{}",
        &text[..60]
    );
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if let (Ok(v), Ok(r)) = (f[3].parse::<f64>(), f[4].parse::<usize>()) {
            scores.insert((f[0].to_lowercase(), f[1].to_string()), (v, r));
        }
    }
    scores
}

/// Every aggregate score the engine stored equals the pipeline's to 1e-9, with the same rank;
/// returns how many were compared.
fn engine_equals_pipeline(
    db: &Path,
    index: &str,
    want: &HashMap<(String, String), (f64, usize)>,
) -> usize {
    let store = Store::open(db, Access::ReadOnly).unwrap();
    let run_id = store.runs().unwrap().last().unwrap().run_id;
    let mut compared = 0;
    for n in store.node_scores(run_id, None, None).unwrap() {
        if n.level <= Level::Kpi {
            continue;
        }
        let code = if n.node == "overall" {
            index
        } else {
            n.node.as_str()
        };
        let key = (n.city.clone(), code.to_string());
        let (score, rank) = want[&key];
        let got = n.score.unwrap();
        assert!(
            (got - score).abs() < 1e-9,
            "{key:?}: engine {got}, pipeline {score}"
        );
        assert_eq!(
            n.rank,
            Some(rank),
            "{key:?}: engine rank {:?}, pipeline {rank}",
            n.rank
        );
        if n.node == "overall" {
            // and the engine's Monte Carlo gave every unit a rank interval
            assert!(n.rank_p05.is_some() && n.rank_p95.is_some());
        }
        compared += 1;
    }
    compared
}

#[test]
fn asem_scored_by_the_engine_equals_the_pipeline_with_the_same_method() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (idata, imeta) = (data("coinr_asem/iData.csv"), data("coinr_asem/iMeta.csv"));
    // COINr's own level names for ASEM
    let (dir, db) = convert_import_score(
        home,
        &idata,
        &imeta,
        Some("Indicator,Pillar,Sub-index,Index"),
    );
    let want = pipeline_scores(home, &idata, &imeta);
    // 8 pillars, 2 sub-indices and the index for each of the 51 units
    assert_eq!(engine_equals_pipeline(&db, "Index", &want), 51 * 11);
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
    // the levels go by their names: rank takes them, exports print them
    let r = run(on_framework(home, &dir, &db).args([
        "rank",
        "--level",
        "sub-index",
        "--format",
        "csv",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("Sust") && !r.stdout.contains("Physical"),
        "{}",
        r.stdout
    );
    let r = run(on_framework(home, &dir, &db).args(["rank", "--level", "dimension"]));
    assert_eq!(r.code, 2, "{}", r.stdout);
    assert!(
        r.stderr
            .contains("its levels are data-point, kpi, pillar, sub-index, overall"),
        "{}",
        r.stderr
    );
    let ex = home.join("export");
    let r = run(on_framework(home, &dir, &db)
        .args(["export", "--format", "csv", "--out"])
        .arg(&ex));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let agg = std::fs::read_to_string(ex.join("aggregate_scores.csv")).unwrap();
    assert!(
        agg.lines()
            .any(|l| l.starts_with("che,2018,sub-index,Sust,Sustainability,")),
        "{}",
        &agg[..400]
    );
    assert!(agg
        .lines()
        .any(|l| l.starts_with("che,2018,pillar,Physical,Physical,")));
    // no pass-through nodes anywhere
    assert!(!agg.contains(".sub") && !agg.contains(".dim"));
}

/// One method type for both engines: COINr's own ASEM method file (stage layout: group-mean
/// imputation within EurAsia_group, COINr treatment with winmax 6, min-max, arithmetic
/// means, ranks on 2 decimals) given to `score` on the converted framework reproduces COINr's
/// published aggregates, and the converted method (flat layout) given to `pipeline` gives
/// the engine's scores.
#[test]
fn one_method_file_means_the_same_in_both_engines() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    let (idata, imeta) = (data("coinr_asem/iData.csv"), data("coinr_asem/iMeta.csv"));
    let (dir, db) = convert_import_score(home, &idata, &imeta, None);
    // the converted flat method through the pipeline equals the engine's run of it
    let flat = pipeline_with(home, &idata, &imeta, &dir.join("method.toml"));
    assert_eq!(engine_equals_pipeline(&db, "Index", &flat), 51 * 11);

    // COINr's method through the engine
    let r = run(on_framework(home, &dir, &db).args([
        "score",
        "--draws",
        "0",
        "--method",
        data("../../kpis/methods/coinr-asem.toml").to_str().unwrap(),
    ]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let read = |file: &str| -> Vec<HashMap<String, String>> {
        let text = std::fs::read_to_string(data(&format!("coinr_asem/{file}"))).unwrap();
        let mut rdr = csv::Reader::from_reader(text.as_bytes());
        let head: Vec<String> = rdr.headers().unwrap().iter().map(String::from).collect();
        rdr.records()
            .map(|r| {
                head.iter()
                    .cloned()
                    .zip(r.unwrap().iter().map(String::from))
                    .collect()
            })
            .collect()
    };
    let (scores, ranks) = (read("stage_aggregated.csv"), read("results_ranks.csv"));
    let store = Store::open(&db, Access::ReadOnly).unwrap();
    let run_id = store.runs().unwrap().last().unwrap().run_id;
    let nodes = store.node_scores(run_id, None, None).unwrap();
    let mut compared = 0;
    for n in nodes.iter().filter(|n| n.level > Level::Kpi) {
        let code = if n.node == "overall" {
            "Index"
        } else {
            n.node.as_str()
        };
        let unit = n.city.to_uppercase();
        let want: f64 = scores.iter().find(|r| r["UnitCode"] == unit).unwrap()[code]
            .parse()
            .unwrap();
        let got = n.score.unwrap();
        assert!(
            (got - want).abs() < 1e-9,
            "{unit} {code}: engine {got}, COINr {want}"
        );
        let rank: usize = ranks.iter().find(|r| r["UnitCode"] == unit).unwrap()[code]
            .parse::<f64>()
            .unwrap() as usize;
        assert_eq!(n.rank, Some(rank), "{unit} {code}");
        compared += 1;
    }
    assert_eq!(compared, 51 * 11);
}

#[test]
fn a_framework_with_four_levels_below_its_index_equals_the_pipeline() {
    let home = tempfile::tempdir().unwrap();
    let home = home.path();
    // ASEM regrouped: pillars -> clusters -> sub-indices -> one domain -> index, with weights
    // off 1 on an indicator (LPI 2), a cluster (0.5) and a sub-index (2)
    let (idata, imeta) = (
        data("coinr_asem/iData.csv"),
        data("frameworks/asem_four_levels_below_index/iMeta.csv"),
    );
    let (dir, db) = convert_import_score(
        home,
        &idata,
        &imeta,
        Some("Indicator,Pillar,Cluster,Sub-index,Domain,Index"),
    );
    let want = pipeline_scores(home, &idata, &imeta);
    // 8 pillars, 4 clusters, 2 sub-indices, 1 domain and the index, for 51 units
    assert_eq!(engine_equals_pipeline(&db, "Index", &want), 51 * 16);
    let with = |args: &[&str]| run(on_framework(home, &dir, &db).args(args));
    // rank and compare walk the real levels, by name
    let r = with(&["rank", "--level", "cluster", "--format", "csv"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("ConnHard") && r.stdout.contains("SustSoc"),
        "{}",
        r.stdout
    );
    let r = with(&["compare", "che", "--with", "jpn"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for level in ["overall", "domain", "sub-index", "cluster", "pillar"] {
        assert!(r.stdout.contains(level), "{level}: {}", r.stdout);
    }
    let ex = home.join("export");
    let r = run(on_framework(home, &dir, &db)
        .args(["export", "--format", "csv", "--out"])
        .arg(&ex));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let ranks = std::fs::read_to_string(ex.join("ranks.csv")).unwrap();
    for level in ["overall", "domain", "sub-index", "cluster", "pillar"] {
        assert!(
            ranks
                .lines()
                .any(|l| l.starts_with(&format!("che,2018,{level},"))),
            "{level}: {}",
            &ranks[..300]
        );
    }
    // streamed, DuckDB writes the large tables' Parquet itself: the framework's level names
    // and the rows of the export built in memory
    let (mem, streamed) = (home.join("mem"), home.join("streamed"));
    for (out, stream) in [(&mem, "1000000000"), (&streamed, "0")] {
        let r = run(on_framework(home, &dir, &db)
            .env("U4SSC_EXPORT_STREAM_ROWS", stream)
            .args(["export", "--format", "parquet", "--out"])
            .arg(out));
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let store = Store::open_in_memory().unwrap();
    for table in [
        "aggregate_scores",
        "ranks",
        "data_point_scores",
        "raw_values",
    ] {
        let file = format!("{table}.parquet");
        let want = store.parquet_rows(&mem.join(&file)).unwrap();
        assert!(want.len() > 50, "{table}");
        assert!(
            want == store.parquet_rows(&streamed.join(&file)).unwrap(),
            "{table}: other rows when streamed"
        );
    }
    let ranks = store.parquet_rows(&streamed.join("ranks.parquet")).unwrap();
    for level in ["overall", "domain", "sub-index", "cluster", "pillar"] {
        assert!(ranks.iter().any(|r| r[2] == level), "{level}");
    }
}

#[test]
fn a_framework_over_two_years_has_trends() {
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
    let (_, db) =
        convert_import_score(home, &path, &data("frameworks/local_goals/iMeta.csv"), None);
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
    // which is COINr's geometric mean of indicators normalised min-max onto [1, 100], as the
    // pipeline computes it with such a method
    let method = home.join("one_to_hundred.toml");
    std::fs::write(
        &method,
        "[impute]\nmethod = \"none\"\n[treat]\nmethod = \"none\"\n[normalise]\nmethod = \"minmax\"\nlower = 1.0\nupper = 100.0\n[aggregate]\nmethod = \"arithmetic\"\n",
    )
    .unwrap();
    let out = home.join("pipeline");
    let r = run(u4ssc(home)
        .arg("pipeline")
        .arg("--idata")
        .arg(data("frameworks/local_goals/iData.csv"))
        .arg("--imeta")
        .arg(data("frameworks/local_goals/iMeta.csv"))
        .arg("--method")
        .arg(&method)
        .arg("--out")
        .arg(&out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let results = std::fs::read_to_string(out.join("results.csv")).unwrap();
    let piped: f64 = results
        .lines()
        .find(|l| l.starts_with("TRD,Mobility,"))
        .and_then(|l| l.split(',').nth(3))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{results}"));
    assert!(
        (mobility - piped).abs() < 1e-9,
        "engine {mobility}, pipeline {piped}"
    );
}
