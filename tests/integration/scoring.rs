//! Scoring through the CLI on the 17-city demo: runs, ranks, compare, explain, diff.

use crate::cli::{run, u4ssc};

/// A home whose default database holds the scored demo.
pub fn demo_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let r = run(u4ssc(home.path()).arg("runs"));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    home
}

#[test]
fn first_use_scores_the_demo_and_rank_shows_intervals() {
    let home = demo_home();
    // runs as text shows when to the second; as CSV to the microsecond DuckDB keeps
    let text = run(u4ssc(home.path()).arg("runs"));
    let row = text.stdout.lines().nth(1).unwrap();
    let when: Vec<&str> = row.split_whitespace().skip(1).take(3).collect();
    assert_eq!(when[0].len(), 10, "{row}");
    assert_eq!(when[1].len(), 8, "{row}");
    assert_eq!(when[2], "default", "{row}");
    let csv = run(u4ssc(home.path()).args(["runs", "--format", "csv"]));
    let created = csv
        .stdout
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(1)
        .unwrap();
    assert!(
        created.starts_with(&format!("{} {}", when[0], when[1])),
        "{created}"
    );
    let r = run(u4ssc(home.path()).arg("rank"));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("SYNTHETIC"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("2024, level overall, peers all (17 cities)"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("interval"), "{}", r.stdout);
    let csv = run(u4ssc(home.path()).args(["rank", "--format", "csv"]));
    let rows: Vec<&str> = csv.stdout.lines().collect();
    assert_eq!(
        rows[0],
        "rank,interval,city,score,u4ssc_%,band,scored,coverage"
    );
    assert_eq!(rows.len(), 18);
    // every city has an interval that contains its rank
    for row in &rows[1..] {
        let f: Vec<&str> = row.split(',').collect();
        let rank: f64 = f[0].parse().unwrap();
        let (lo, hi) = f[1].split_once('-').unwrap();
        assert!(
            lo.parse::<f64>().unwrap() <= rank + 3.0 && rank - 3.0 <= hi.parse::<f64>().unwrap(),
            "{row}"
        );
    }
}

#[test]
fn golden_ranking_of_the_demo() {
    let home = demo_home();
    let r = run(u4ssc(home.path()).args(["rank", "--level", "dimension", "--format", "csv"]));
    crate::export::golden("golden/demo_rank_dimension_2024.csv", &r.stdout);
}

#[test]
fn peers_rerank_within_the_group() {
    let home = demo_home();
    let r = run(u4ssc(home.path()).args(["rank", "--peers", "county=Nordland", "--format", "csv"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let rows: Vec<&str> = r.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{}", r.stdout);
    let mut ranks: Vec<&str> = rows.iter().map(|r| r.split(',').next().unwrap()).collect();
    ranks.sort();
    assert_eq!(ranks, vec!["1", "2", "3"]);
    let bad = run(u4ssc(home.path()).args(["rank", "--peers", "planet=mars"]));
    assert_eq!(bad.code, 2);
    // refused when the command line is read, with the forms it takes
    assert!(
        bad.stderr.contains("invalid value 'planet=mars'") && bad.stderr.contains("kostra=VALUE"),
        "{}",
        bad.stderr
    );
}

#[test]
fn compare_shows_peer_groups_strengths_and_similar_cities() {
    let home = demo_home();
    let r = run(u4ssc(home.path()).args(["compare", "Bodø"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        "KOSTRA group 11",
        "Nordland",
        "strongest relative to peers",
        "weakest relative to peers",
        "most similar cities",
        "peer median",
    ] {
        assert!(r.stdout.contains(want), "{want} missing in\n{}", r.stdout);
    }
    let j = run(u4ssc(home.path()).args(["compare", "bodo", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&j.stdout).unwrap();
    assert_eq!(v["strengths"].as_array().unwrap().len(), 5);
    assert_eq!(v["weaknesses"].as_array().unwrap().len(), 5);
    assert_eq!(v["most_similar"].as_array().unwrap().len(), 3);
    let side = run(u4ssc(home.path()).args(["compare", "oslo", "--with", "bergen", "trondheim"]));
    assert!(
        side.stdout.contains("Oslo")
            && side.stdout.contains("Bergen")
            && side.stdout.contains("largest gap"),
        "{}",
        side.stdout
    );
    // side by side as JSON: the largest gap is a number on every row (the text's "!" is a
    // column of its own), never a string like "23.6 !"
    let j =
        run(u4ssc(home.path()).args(["compare", "oslo", "--with", "bergen", "--format", "json"]));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&j.stdout).unwrap();
    assert!(!rows.is_empty());
    for r in &rows {
        let gap = r["largest gap"].as_f64().unwrap_or_else(|| panic!("{r}"));
        let large = r["gap of 15 or more"].as_str().unwrap();
        assert_eq!(large, if gap >= 15.0 { "yes" } else { "no" }, "{r}");
    }
    // --format csv is CSV a program reads: a header, then rows of the same width, no banner
    for args in [
        vec!["compare", "bodo", "--format", "csv"],
        vec!["compare", "oslo", "--with", "bergen", "--format", "csv"],
    ] {
        let c = run(u4ssc(home.path()).args(&args));
        assert_eq!(c.code, 0, "{}", c.stderr);
        let mut rd = csv::Reader::from_reader(c.stdout.as_bytes());
        let header = rd.headers().unwrap().clone();
        assert!(
            header.get(0) == Some("city") || header.get(0) == Some("level"),
            "{args:?}: {}",
            c.stdout
        );
        let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
        assert!(rows.len() >= 4, "{args:?}: {}", c.stdout);
        assert!(!c.stdout.contains("SYNTHETIC"), "{}", c.stdout);
    }
    let c = run(u4ssc(home.path()).args(["compare", "bodo", "--format", "csv"]));
    let mut rd = csv::Reader::from_reader(c.stdout.as_bytes());
    let first = rd.records().next().unwrap().unwrap();
    assert_eq!((&first[0], &first[2]), ("bodo", "overall"));
    // the score unrounded, as JSON gives it
    let score: f64 = first[4].parse().unwrap();
    let overall = &v["levels"][0]["score"];
    assert_eq!(Some(score), overall.as_f64(), "{}", c.stdout);
}

#[test]
fn explain_traces_a_score_to_its_raw_value_and_target() {
    let home = demo_home();
    let r = run(u4ssc(home.path()).args([
        "explain",
        "trondheim",
        "EN:EN:AQ:1C",
        "--data-point",
        "PM2.5",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    for want in [
        "value",
        "revision 1",
        "WHO Air Quality Guidelines 2021",
        "who_eu",
        "of target",
        "point(s)",
        "goalposts",
        "category",
        "dimension",
        "overall",
    ] {
        assert!(r.stdout.contains(want), "{want} missing in\n{}", r.stdout);
    }
    let bad = run(u4ssc(home.path()).args(["explain", "trondheim", "EN:EN:AQ:1X"]));
    assert_eq!(bad.code, 2);
    assert!(
        bad.stderr.contains("did you mean 'EN: EN: AQ: 1C'"),
        "{}",
        bad.stderr
    );
}

#[test]
fn the_same_inputs_and_method_give_identical_numbers_and_diff_shows_moves() {
    let home = demo_home();
    // one run: nothing to diff it against, and the message says what to do
    let alone = run(u4ssc(home.path()).arg("diff"));
    assert_eq!(alone.code, 2, "{}", alone.stdout);
    assert!(
        alone.stderr.contains("there is no run before run 1"),
        "{}",
        alone.stderr
    );
    // a year the run has no scores for: the run's years are named
    let no_year = run(u4ssc(home.path()).args(["rank", "--year", "1999"]));
    assert_eq!(no_year.code, 2);
    assert!(
        no_year
            .stderr
            .contains("run 1 has no scores for 1999; its years are 2019, 2020"),
        "{}",
        no_year.stderr
    );
    let again = run(u4ssc(home.path()).args(["score", "--draws", "1000"]));
    assert_eq!(again.code, 0, "{}", again.stderr);
    let d = run(u4ssc(home.path()).args(["diff", "1", "2", "--level", "subdimension"]));
    assert!(d.stdout.contains(": 0 change(s)"), "{}", d.stdout);
    let a = run(u4ssc(home.path()).args([
        "rank", "--run", "1", "--level", "category", "--format", "json",
    ]));
    let b = run(u4ssc(home.path()).args([
        "rank", "--run", "2", "--level", "category", "--format", "json",
    ]));
    assert_eq!(a.stdout, b.stdout);
    // another method moves ranks
    let m = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kpis/methods/peer-minmax.toml");
    let r = run(u4ssc(home.path())
        .arg("score")
        .arg("--method")
        .arg(&m)
        .args(["--draws", "50"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let d = run(u4ssc(home.path()).args(["diff", "1", "3"]));
    assert!(!d.stdout.contains(": 0 change(s)"), "{}", d.stdout);
    // without runs named, the latest two (2 and 3); with one, that one against the latest
    let latest_two = run(u4ssc(home.path()).arg("diff"));
    assert_eq!(
        latest_two.stdout,
        run(u4ssc(home.path()).args(["diff", "2", "3"])).stdout
    );
    assert!(
        latest_two
            .stdout
            .contains("run 2 (default) -> run 3 (peer-minmax)"),
        "{}",
        latest_two.stdout
    );
    assert_eq!(run(u4ssc(home.path()).args(["diff", "1"])).stdout, d.stdout);
    let runs = run(u4ssc(home.path()).args(["runs", "--format", "csv"]));
    assert_eq!(runs.stdout.lines().count(), 4);
    assert!(runs.stdout.contains("peer-minmax"));
}

/// `--top N` shows the first N ranks; on a terminal a ranking of more than 100 cities shows
/// the first 20 and says how many more there are; a pipe gets every line.
#[test]
fn top_keeps_a_long_ranking_readable_on_a_terminal() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let csv = h.join("w.csv");
    let r = run(u4ssc(h)
        .args([
            "demo", "--cities", "120", "--years", "2", "--seed", "5", "--out",
        ])
        .arg(&csv));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let reg = h.join("w.csv.cities.toml");
    let db = h.join("w.duckdb");
    let with = |args: &[&str]| {
        run(u4ssc(h)
            .arg("--db")
            .arg(&db)
            .arg("--registry")
            .arg(&reg)
            .args(args))
    };
    assert_eq!(with(&["import", csv.to_str().unwrap()]).code, 0);
    assert_eq!(with(&["score", "--draws", "0"]).code, 0);
    let r = with(&["rank", "--top", "3", "--format", "csv"]);
    assert_eq!(r.stdout.lines().count(), 4, "{}", r.stdout);
    let r = with(&["rank", "--format", "csv"]);
    assert_eq!(r.stdout.lines().count(), 121, "a pipe gets every rank");
    let r = with(&["rank", "--top", "5"]);
    assert!(
        r.stdout
            .contains("… 115 more below rank 5 (--top 0 shows all)"),
        "{}",
        r.stdout
    );
    // on a terminal (script gives the command one) the first 20
    let log = h.join("rank.typescript");
    let cmd = format!(
        "HOME={0} XDG_DATA_HOME={0}/data {1} --db {2} --registry {3} rank",
        h.display(),
        assert_cmd::cargo::cargo_bin("u4ssc").display(),
        db.display(),
        reg.display()
    );
    let status = std::process::Command::new("script")
        .args(["-qec", &cmd])
        .arg(&log)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("script (util-linux)");
    assert!(status.success());
    let shown = String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned();
    assert!(shown.contains("… 100 more below rank 20"), "{shown}");
}

/// A COINr stage method runs on the U4SSC demo too; an imputation group the cities do not
/// have is refused with the reason, not silently left unimputed.
#[test]
fn a_stage_method_scores_the_demo_and_an_unknown_group_is_refused() {
    let home = demo_home();
    let method = home.path().join("stages.toml");
    std::fs::write(
        &method,
        "name = \"stages\"\n[impute]\nmethod = \"group_median\"\ngroup = \"kostra\"\n\
         [normalise]\nmethod = \"percentile_rank\"\n[aggregate]\nmethod = \"arithmetic\"\ncoverage = 0.65\n\
         [uncertainty]\ndraws = 20\nseed = 1\nweight_perturbation = 0.25\nnormalisations = [\"percentile_rank\"]\naggregations = [\"arithmetic\"]\n",
    )
    .unwrap();
    let r = run(u4ssc(home.path()).arg("score").arg("--method").arg(&method));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("method 'stages'"), "{}", r.stdout);
    let text = std::fs::read_to_string(&method)
        .unwrap()
        .replace("group = \"kostra\"", "group = \"region\"");
    std::fs::write(&method, text).unwrap();
    let r = run(u4ssc(home.path()).arg("score").arg("--method").arg(&method));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr
            .contains("impute group 'region' is not a group of the registry's cities"),
        "{}",
        r.stderr
    );
}

/// The scoring use cases answer with reports a program can read without the CLI: a peer
/// ranking ranked within its group, a comparison that names the city, and the same ranking
/// the CLI prints (CSV) from the same report.
#[test]
fn the_use_cases_return_reports_the_cli_only_renders() {
    let home = tempfile::tempdir().unwrap();
    let s = u4ssc::context::Settings {
        db: Some(home.path().join("demo.duckdb")),
        memory_mb: 512,
        ..Default::default()
    };
    let mut ctx = u4ssc::context::Ctx::new(&s).unwrap();
    ctx.db_is_default = true;
    u4ssc::app::seed_demo_if_missing(&ctx).unwrap();
    let sel = || u4ssc::score_cmd::RunSel {
        run: None,
        year: None,
    };
    let report = u4ssc::score_cmd::rank(
        &ctx,
        &u4ssc::score_cmd::RankOptions {
            level: u4ssc::scoring::engine::Level::Dimension,
            peers: u4ssc::registry::PeerSpec::parse("county=Nordland").unwrap(),
            sel: sel(),
        },
    )
    .unwrap();
    assert!(report.demo, "the demo database says so");
    assert_eq!(
        (report.peer_count, report.level_key.as_str()),
        (3, "dimension")
    );
    // three cities, three dimensions, ranks 1..3 within each dimension
    assert_eq!(report.rows.len(), 9);
    for dim in ["EC", "EN", "SC"] {
        let mut ranks: Vec<usize> = report
            .rows
            .iter()
            .filter(|r| r.score.node == dim)
            .filter_map(|r| r.score.rank)
            .collect();
        ranks.sort();
        assert_eq!(ranks, vec![1, 2, 3], "{dim}");
    }
    let names: std::collections::BTreeSet<&str> =
        report.rows.iter().map(|r| r.city.as_str()).collect();
    assert_eq!(
        names.into_iter().collect::<Vec<_>>(),
        ["Bodø", "Narvik", "Rana"]
    );
    // the CLI prints the same ranking from the same report
    let cli = run(u4ssc(home.path()).args([
        "--db",
        home.path().join("demo.duckdb").to_str().unwrap(),
        "rank",
        "--level",
        "dimension",
        "--peers",
        "county=Nordland",
        "--format",
        "csv",
    ]));
    assert_eq!(cli.code, 0, "{}", cli.stderr);
    for r in &report.rows {
        let line = format!(
            "{},{},{} {}",
            r.score.rank.unwrap(),
            r.city,
            r.score.node,
            r.node
        );
        assert!(cli.stdout.contains(&line), "{line} not in\n{}", cli.stdout);
    }
    let cmp = u4ssc::score_cmd::compare(
        &ctx,
        &u4ssc::score_cmd::CompareOptions {
            city: "1804".into(),
            with: vec![],
            peers: u4ssc::registry::PeerSpec::All,
            sel: sel(),
        },
    )
    .unwrap();
    let u4ssc::score_cmd::CompareReport::Peers(p) = cmp else {
        panic!("without --with a city is compared with its peers")
    };
    assert_eq!((p.city.as_str(), p.city_name.as_str()), ("bodo", "Bodø"));
    assert_eq!(p.lines[0].node, "overall");
    assert!(p.most_similar.len() <= 3 && !p.most_similar.is_empty());
}

/// A run leaves out the rows of single-data-point KPIs (derived from their data point's in
/// the store's view, but in the year with rank intervals): what every reader sees, every year,
/// is what a run storing every row gives.
#[test]
fn derived_kpi_rows_read_the_same_as_stored_ones_in_every_year() {
    let full = tempfile::tempdir().unwrap();
    let lean = tempfile::tempdir().unwrap();
    let export = |home: &std::path::Path, all: bool| {
        let mut c = u4ssc(home);
        if all {
            c.env("U4SSC_STORE_ALL_NODES", "1");
        }
        let out = home.join("out");
        let r = run(c.args(["export", "--out", out.to_str().unwrap(), "--format", "csv"]));
        assert_eq!(r.code, 0, "{}", r.stderr);
        out
    };
    let (a, b) = (export(full.path(), true), export(lean.path(), false));
    for table in [
        "aggregate_scores",
        "data_point_scores",
        "ranks",
        "coverage",
        "peers",
        "sdg_view",
    ] {
        let x = std::fs::read_to_string(a.join(format!("{table}.csv"))).unwrap();
        let y = std::fs::read_to_string(b.join(format!("{table}.csv"))).unwrap();
        assert!(x.lines().count() > 1, "{table} is empty");
        assert!(x == y, "{table} differs");
    }
    // a KPI of an earlier year (derived) and of the latest (stored, with its interval)
    for year in ["2019", "2024"] {
        let args = ["rank", "--level", "kpi", "--year", year, "--format", "json"];
        let x = run(u4ssc(full.path()).args(args));
        let y = run(u4ssc(lean.path()).args(args));
        assert_eq!(x.code, 0, "{}", x.stderr);
        assert!(
            x.stdout == y.stdout,
            "rank --level kpi --year {year} differs"
        );
    }
}
