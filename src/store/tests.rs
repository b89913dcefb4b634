use super::migrations::MIGRATIONS;
use super::*;

fn obs(city: &str, year: i32, dp: &str, v: Option<f64>) -> Observation {
    Observation {
        line: 2,
        city: city.into(),
        year,
        data_point: dp.into(),
        value: v,
        unit: None,
        numerator: None,
        denominator: None,
        quality: None,
        origin: None,
        source: None,
        verified: Some(true),
        note: None,
    }
}

fn meta<'a>(hash: &'a str) -> NewRevision<'a> {
    NewRevision {
        source_file: "a.csv",
        content_hash: hash,
        format: "csv",
        kind: RevisionKind::Submission,
    }
}

#[test]
fn newest_revision_wins_and_older_ones_stay_queryable() {
    let mut s = Store::open_in_memory().unwrap();
    let r1 = s
        .insert_revision(
            &meta("h1"),
            &[
                obs("oslo", 2023, "a", Some(1.0)),
                obs("oslo", 2023, "b", Some(2.0)),
            ],
        )
        .unwrap();
    let r2 = s
        .insert_revision(&meta("h2"), &[obs("oslo", 2023, "a", Some(5.0))])
        .unwrap();
    let cur = s.current_values().unwrap();
    assert_eq!(cur.len(), 2);
    assert_eq!(
        cur.iter().find(|v| v.data_point == "a").unwrap().value,
        Some(5.0)
    );
    assert_eq!(
        cur.iter()
            .find(|v| v.data_point == "b")
            .unwrap()
            .revision_id,
        r1
    );
    assert_eq!(s.revision_values(r1).unwrap().len(), 2);
    assert_eq!(s.revisions().unwrap().len(), 2);
    assert_eq!(s.revision_by_hash("h2").unwrap().unwrap().revision_id, r2);
}

#[test]
fn the_current_values_of_some_cities_are_theirs_only_and_the_newest() {
    let mut s = Store::open_in_memory().unwrap();
    s.insert_revision(
        &meta("h1"),
        &[
            obs("oslo", 2023, "a", Some(1.0)),
            obs("bergen", 2023, "a", Some(2.0)),
            obs("bodo", 2023, "a", Some(3.0)),
        ],
    )
    .unwrap();
    s.insert_revision(&meta("h2"), &[obs("oslo", 2023, "a", Some(5.0))])
        .unwrap();
    let got: Vec<(String, Option<f64>)> = s
        .current_values_of(&["oslo".into(), "bodo".into()])
        .unwrap()
        .into_iter()
        .map(|v| (v.city, v.value))
        .collect();
    assert_eq!(
        got,
        [
            ("bodo".to_string(), Some(3.0)),
            ("oslo".to_string(), Some(5.0))
        ]
    );
    assert!(s.current_values_of(&[]).unwrap().is_empty());
}

/// A filtered read of the current values, and the coverage counts of some cities, are the
/// newest revision's, as the whole current values have them: a newer revision that takes a
/// value away, one that adds a city-year, a value not verified and a data point outside the
/// catalog's lists.
#[test]
fn filtered_values_and_counts_are_the_newest_revisions() {
    let mut s = Store::open_in_memory().unwrap();
    let mut unverified = obs("bergen", 2023, "b", Some(4.0));
    unverified.verified = Some(false);
    s.insert_revision(
        &meta("h1"),
        &[
            obs("oslo", 2023, "a", Some(1.0)),
            obs("oslo", 2023, "b", Some(2.0)),
            obs("oslo", 2024, "a", Some(3.0)),
            obs("bergen", 2023, "a", Some(2.0)),
            unverified,
            obs("bergen", 2023, "x", Some(9.0)),
        ],
    )
    .unwrap();
    s.insert_revision(
        &meta("h2"),
        &[
            obs("oslo", 2023, "a", None),
            obs("bergen", 2024, "a", Some(6.0)),
        ],
    )
    .unwrap();
    let all = s.current_values().unwrap();
    for f in [
        Filter {
            year: Some(2023),
            ..Default::default()
        },
        Filter {
            city: Some("oslo"),
            ..Default::default()
        },
        Filter {
            data_point: Some("a"),
            year: Some(2023),
            ..Default::default()
        },
    ] {
        let want: Vec<&CurrentValue> = all
            .iter()
            .filter(|v| f.city.is_none_or(|c| c == v.city))
            .filter(|v| f.year.is_none_or(|y| y == v.year))
            .filter(|v| f.data_point.is_none_or(|d| d == v.data_point))
            .collect();
        let got = s.current_values_where(&f).unwrap();
        assert_eq!(got.iter().collect::<Vec<_>>(), want, "{f:?}");
    }
    // oslo 2023: a taken away by h2, b reported; bergen 2023: a, b not verified, x not counted
    let (core, advanced) = (vec!["a".to_string()], vec!["b".to_string()]);
    let counts = |c: Option<&[String]>| -> Vec<(String, i32, [i64; 4])> {
        s.status_counts_of(&core, &advanced, c)
            .unwrap()
            .into_iter()
            .map(|c| {
                (
                    c.city,
                    c.year,
                    [c.core, c.advanced, c.verified, c.not_reported],
                )
            })
            .collect()
    };
    let every = counts(None);
    assert_eq!(
        every,
        [
            ("bergen".to_string(), 2023, [1, 1, 1, 0]),
            ("bergen".to_string(), 2024, [1, 0, 1, 0]),
            ("oslo".to_string(), 2023, [0, 1, 1, 1]),
            ("oslo".to_string(), 2024, [1, 0, 1, 0]),
        ]
    );
    assert_eq!(counts(Some(&["oslo".to_string()])), every[2..]);
    assert_eq!(s.status_counts(&core, &advanced).unwrap().len(), 4);
}

#[test]
fn an_export_is_sized_by_the_rows_of_its_selection() {
    let mut s = Store::open_in_memory().unwrap();
    s.insert_revision(
        &meta("h1"),
        &[
            obs("oslo", 2023, "a", Some(1.0)),
            obs("oslo", 2024, "a", Some(2.0)),
            obs("bergen", 2024, "a", Some(3.0)),
        ],
    )
    .unwrap();
    assert_eq!(s.export_rows(1, None, None).unwrap(), 3);
    assert_eq!(s.export_rows(1, Some(2024), None).unwrap(), 2);
    let oslo = ["oslo".to_string()];
    assert_eq!(s.export_rows(1, None, Some(&oslo)).unwrap(), 2);
    assert_eq!(s.export_rows(1, Some(2023), Some(&oslo)).unwrap(), 1);
}

#[test]
fn a_failed_revision_leaves_nothing() {
    let mut s = Store::open_in_memory().unwrap();
    s.insert_revision(&meta("h1"), &[obs("oslo", 2023, "a", Some(1.0))])
        .unwrap();
    // same content hash violates the unique constraint: the whole revision is refused
    assert!(s
        .insert_revision(&meta("h1"), &[obs("oslo", 2024, "a", Some(1.0))])
        .is_err());
    assert_eq!(s.revisions().unwrap().len(), 1);
    assert_eq!(s.current_values().unwrap().len(), 1);
}

#[test]
fn an_older_database_is_upgraded_even_by_a_reader() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.duckdb");
    {
        // a version-1 database, as the first release wrote it
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)").unwrap();
        conn.execute_batch(MIGRATIONS[0]).unwrap();
        conn.execute("INSERT INTO schema_version (version) VALUES (1)", [])
            .unwrap();
    }
    let s = Store::open(&path, Access::ReadOnly).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(s.runs().unwrap().is_empty());
}

/// A database as the release of schema `version` made it (its migrations only).
fn at_version(path: &Path, version: usize) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)").unwrap();
    for (i, m) in MIGRATIONS[..version].iter().enumerate() {
        conn.execute_batch(m).unwrap();
        conn.execute(
            "INSERT INTO schema_version (version) VALUES (?)",
            params![i as i64 + 1],
        )
        .unwrap();
    }
    conn
}

/// A version-5 database with one run, as the releases before numbered scores wrote it.
fn version_5_with_a_run(path: &Path) {
    let conn = at_version(path, 5);
    conn.execute_batch(
        "INSERT INTO runs VALUES (1, now(), 'default', 'h', 't', '1', 2026, 0, '0.1.0', '1', '2023');
         INSERT INTO dp_scores VALUES
           (1, 'oslo', 2023, 'EC.ICT.1C', 95, 95, 1.0, 4, 70.5, 1, ''),
           (1, 'bergen', 2023, 'EC.ICT.1C', 80, 80, 0.8, 3, 40.0, 2, 'no_target'),
           (1, 'bergen', 2023, 'EC.ICT.2C', NULL, 61, NULL, NULL, 55.0, 1, 'imputed');
         INSERT INTO node_scores VALUES
           (1, 'oslo', 2023, 'overall', 'U4SSC', 75, 4, 1, 1, 70.5, 1.0, 1, 1.0, 1.0, 1.5),
           (1, 'bergen', 2023, 'overall', 'U4SSC', 50, 3, 1, 1, 47.5, 1.0, 2, 2.0, 1.5, 2.0),
           (1, 'bergen', 2023, 'kpi', 'EC.ICT.1C', 50, 3, 1, 1, 40.0, 1.0, 2, NULL, NULL, NULL);",
    )
    .unwrap();
}

#[test]
fn scores_kept_as_texts_are_numbered_on_upgrade_and_read_back_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.duckdb");
    version_5_with_a_run(&path);
    let (dp_before, nodes_before) = {
        let conn = Connection::open(&path).unwrap();
        let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
        (
            count("SELECT count(*) FROM dp_scores"),
            count("SELECT count(*) FROM node_scores"),
        )
    };
    let s = Store::open(&path, Access::ReadWrite).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    let dp = s.dp_scores(1, None, None).unwrap();
    let nodes = s.node_scores(1, None, None).unwrap();
    assert_eq!(
        (dp.len() as i64, nodes.len() as i64),
        (dp_before, nodes_before)
    );
    let bergen: Vec<(&str, Option<f64>, &str)> = dp
        .iter()
        .filter(|d| d.city == "bergen")
        .map(|d| (d.data_point.as_str(), d.used_value, d.flags.as_str()))
        .collect();
    assert_eq!(
        bergen,
        [
            ("EC.ICT.1C", Some(80.0), "no_target"),
            ("EC.ICT.2C", Some(61.0), "imputed")
        ]
    );
    let kpi = nodes.iter().find(|n| n.level == Level::Kpi).unwrap();
    assert_eq!(
        (kpi.city.as_str(), kpi.node.as_str(), kpi.score),
        ("bergen", "EC.ICT.1C", Some(40.0))
    );
    assert_eq!(s.integrity().unwrap(), Vec::<String>::new());
}

#[test]
fn verify_finds_scores_whose_city_is_no_longer_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v5.duckdb");
    version_5_with_a_run(&path);
    drop(Store::open(&path, Access::ReadWrite).unwrap());
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute("DELETE FROM score_cities WHERE city = 'bergen'", [])
            .unwrap();
    }
    let s = Store::open(&path, Access::ReadOnly).unwrap();
    let problems = s.integrity().unwrap();
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].contains("2 scores of run 1 name a city"),
        "{problems:?}"
    );
}

#[test]
fn schema_is_versioned() {
    let s = Store::open_in_memory().unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
}

/// A version-7 database whose run stored every node row, as the releases before derived rows
/// wrote it: upgraded, its `node_scores` read the same rows.
#[test]
fn a_run_stored_in_full_reads_the_same_after_the_upgrade_that_derives_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v7.duckdb");
    {
        let conn = at_version(&path, 7);
        conn.execute_batch(
            "INSERT INTO runs (run_id, method_name, method_hash, method_text, revisions, seed, draws, program_version, catalog_version, years)
                 VALUES (1, 'default', 'h', 't', '1', 2026, 0, '0.1.0', '1', '2022,2023');
             INSERT INTO score_cities VALUES (1, 'bergen'), (2, 'oslo');
             INSERT INTO score_items VALUES (1, 'data_point', 'ec-ict-ict-1c'), (2, 'kpi', 'EC:ICT:ICT:1C'), (3, 'overall', 'overall');
             INSERT INTO score_flags VALUES (1, '');
             INSERT INTO dp_score_rows VALUES (1, 1, 2023, 1, 80, 80, 80, 3, 40.0, 2, 1), (1, 2, 2023, 1, 95, 95, 95, 4, 70.5, 1, 1);
             INSERT INTO node_score_rows VALUES
               (1, 1, 2023, 2, 75, 3, 1, 1, 40.0, 1.0, 2, NULL, NULL, NULL),
               (1, 2, 2023, 2, 100, 4, 1, 1, 70.5, 1.0, 1, NULL, NULL, NULL),
               (1, 1, 2023, 3, 75, 3, 1, 1, 40.0, 1.0, 2, NULL, NULL, NULL),
               (1, 2, 2023, 3, 100, 4, 1, 1, 70.5, 1.0, 1, NULL, NULL, NULL),
               (1, 1, 2022, 3, NULL, NULL, 0, 1, NULL, 0.0, NULL, NULL, NULL, NULL);",
        )
        .unwrap();
    }
    // every column of every row, as text
    let rows = |conn: &Connection| -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT * FROM node_scores ORDER BY ALL")
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                Ok((0..15)
                    .map(|k| format!("{:?}", r.get_ref(k).unwrap()))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .unwrap();
        rows.map(|r| r.unwrap()).collect()
    };
    let before = rows(&Connection::open(&path).unwrap());
    assert_eq!(before.len(), 5);
    let s = Store::open(&path, Access::ReadWrite).unwrap();
    assert_eq!(s.schema_version().unwrap(), SCHEMA_VERSION);
    assert_eq!(rows(&s.conn), before);
    assert_eq!(s.integrity().unwrap(), Vec::<String>::new());
}

/// The database derives U4SSC points from a percentage as `bands::points` does, on every band
/// edge (reached within 1e-9, as a division may leave it), above 100 and at 0.
#[test]
fn points_derived_in_the_database_are_the_scorings_on_every_edge() {
    let dir = tempfile::tempdir().unwrap();
    let s = Store::open(&dir.path().join("p.duckdb"), Access::ReadWrite).unwrap();
    let edges = [
        0.0,
        -0.0,
        12.5,
        32.999_999_99,
        52.8 / 80.0 * 100.0, // 65.99999999999999
        33.0 - 2e-9,
        33.0,
        65.999_999_999_5,
        66.0,
        94.999_999,
        95.0 - 1e-10,
        95.0,
        100.0,
        250.0,
        f64::MAX,
    ];
    for x in edges {
        let sql: i8 = s
            .conn
            .query_row("SELECT band_points(?::DOUBLE)", params![x], |r| r.get(0))
            .unwrap();
        assert_eq!(sql as u8, crate::scoring::bands::points(x), "{x}");
    }
    let none: Option<i8> = s
        .conn
        .query_row("SELECT band_points(NULL::DOUBLE)", [], |r| r.get(0))
        .unwrap();
    assert_eq!(none, None);
}

/// A query read a batch at a time gives every row once, in the query's order, whatever the
/// batch size; the temporary table it goes through is gone afterwards, and a second
/// connection reads the same.
#[test]
fn rows_read_a_batch_at_a_time_keep_their_order() {
    let mut s = Store::open_in_memory().unwrap();
    let rows: Vec<Observation> = (0..23)
        .map(|i| {
            obs(
                &format!("city{:02}", (i * 7) % 23),
                2020 + i % 3,
                "a",
                Some(i as f64),
            )
        })
        .collect();
    s.insert_revision(&meta("h1"), &rows).unwrap();
    let sql = "SELECT city, year, value FROM observations ORDER BY year DESC, city";
    let map = |r: &duckdb::Row| -> duckdb::Result<(String, i32, f64)> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    };
    let want = s.all(sql, [], map).unwrap();
    assert_eq!(want.len(), 23);
    for batch in [1, 4, 23, 100] {
        let mut got = Vec::new();
        let mut calls = 0;
        s.each(sql, [], map, batch, |part| {
            assert!(part.len() <= batch);
            calls += 1;
            got.extend(part);
            Ok(())
        })
        .unwrap();
        assert_eq!(got, want, "batch {batch}");
        assert_eq!(calls, 23usize.div_ceil(batch), "batch {batch}");
    }
    let left: i64 = scalar(
        &s,
        "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'batch_read'",
    );
    assert_eq!(left, 0);
    let other = s.another().unwrap();
    assert_eq!(other.all(sql, [], map).unwrap(), want);
    // an error of the reader's own is returned, and the temporary table still dropped
    let err = s.each(sql, [], map, 5, |_| {
        Err(crate::error::Error::Invalid("stop".into()))
    });
    assert!(err.is_err());
    assert_eq!(
        s.conn
            .query_row(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'batch_read'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .unwrap(),
        0
    );
}

/// `export_num`, the function a large table's CSV writes its numbers with inside DuckDB's
/// query, writes every double as Rust's `{}` does: random bit patterns (every exponent,
/// subnormals, NaN), values as reports give them, the edges of DuckDB's exponent form, and a
/// tie between two 17-digit texts, where DuckDB's own text is the other one.
#[test]
fn numbers_written_by_duckdb_for_csv_are_rusts_to_the_byte() {
    let s = Store::open_in_memory().unwrap();
    s.large_begin(&LargeLookups::default(), &LargeSelection::default())
        .unwrap();
    let mut values = vec![
        0.0,
        -0.0,
        5.0,
        -5.0,
        0.1,
        1.0 / 3.0,
        0.1 + 0.2,
        1e-4,
        1e-5,
        2.5e-7,
        1e15,
        1e16,
        9_999_999_999_999_998.0,
        1e21,
        1e22,
        123_456_789_012_345_680.0,
        f64::MIN_POSITIVE,
        5e-324,
        f64::MAX,
        f64::MIN,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        1_658_206_780_088_562.2,
    ];
    let tie: String = scalar(&s, "SELECT CAST(1658206780088562.25::DOUBLE AS VARCHAR)");
    assert_eq!(
        (tie.as_str(), format!("{}", 1_658_206_780_088_562.2f64)),
        ("1658206780088562.2", "1658206780088562.3".to_string()),
        "DuckDB and Rust break this tie differently"
    );
    // a fixed xorshift: the same values every run
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..100_000 {
        values.push(f64::from_bits(next()));
    }
    for _ in 0..50_000 {
        // two decimals, as reports give them
        values.push((next() % 10_000_000) as f64 / 100.0);
    }
    s.conn
        .execute_batch("CREATE TEMP TABLE nums (i BIGINT, v DOUBLE)")
        .unwrap();
    {
        let mut a = s.conn.appender("nums").unwrap();
        for (i, v) in values.iter().enumerate() {
            a.append_row(params![i as i64, v]).unwrap();
        }
    }
    let mut stmt = s
        .conn
        .prepare("SELECT i, export_num(v) FROM nums ORDER BY i")
        .unwrap();
    let got: Vec<(i64, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(got.len(), values.len());
    let wrong: Vec<(f64, &str, String)> = got
        .iter()
        .map(|(i, text)| (values[*i as usize], text.as_str()))
        .filter(|(v, text)| *text != format!("{v}"))
        .map(|(v, text)| (v, text, format!("{v}")))
        .take(10)
        .collect();
    assert!(wrong.is_empty(), "(value, DuckDB, Rust): {wrong:?}");
}

/// A run of one year with one city: `nodes` node rows (the first tree nodes) go to the sink,
/// one at a time and inserted two at a time, then `fail` decides whether the run's filling
/// fails after them.
fn run_with_node_rows(s: &mut Store, nodes: u32, fail: bool) -> Result<i64> {
    use crate::scoring::engine::Tree;
    let catalog = crate::catalog::Catalog::embedded().unwrap();
    let tree = Tree::new(&catalog);
    let cities = vec!["oslo".to_string()];
    let run = NewRun {
        method_name: "default",
        method_hash: "h",
        method_text: "t",
        revisions: "1",
        seed: 1,
        draws: 0,
        catalog_version: "1",
    };
    s.insert_run_with(&run, |sink, reader| {
        let names = Names {
            catalog: &catalog,
            tree: &tree,
            year: 2024,
            cities: &cities,
            flags: &[],
        };
        let rows: Vec<NodeRow> = (0..nodes)
            .map(|node| NodeRow {
                city: 0,
                node,
                u4ssc_pct: Some(50.0),
                band: None,
                scored_items: 1,
                total_items: 1,
                score: Some(50.0),
                coverage: 1.0,
                rank: Some(1),
                rank_median: None,
                rank_p05: None,
                rank_p95: None,
            })
            .collect();
        // a row at a time, inserted two at a time: the first two are in the table before
        // the run ends
        sink.insert_every(2);
        for row in &rows {
            sink.append_node_rows(&names, std::slice::from_ref(row))?;
        }
        assert_eq!(
            sink.rows_seen("node_score_rows"),
            i64::from(nodes / 2 * 2),
            "rows inserted as they came"
        );
        if fail {
            return Err(Error::Invalid("the scoring failed halfway".into()));
        }
        Ok((vec![2024], reader))
    })
}

/// The one value a query answers.
fn scalar<T: duckdb::types::FromSql>(s: &Store, sql: &str) -> T {
    s.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// A run is one transaction: a run that fails after handing over some rows leaves none of
/// them, and no run.
#[test]
fn a_run_that_fails_halfway_leaves_nothing() {
    let mut s = Store::open_in_memory().unwrap();
    let err = run_with_node_rows(&mut s, 3, true).unwrap_err();
    assert!(err.to_string().contains("halfway"), "{err}");
    assert_eq!(scalar::<i64>(&s, "SELECT count(*) FROM node_score_rows"), 0);
    assert_eq!(scalar::<i64>(&s, "SELECT count(*) FROM runs"), 0);
    // the next run is stored whole, under the first number
    let id = run_with_node_rows(&mut s, 3, false).unwrap();
    assert_eq!(id, 1);
    assert_eq!(
        scalar::<i64>(&s, "SELECT count(*) FROM node_scores WHERE run_id = 1"),
        3
    );
}

/// A run reads each year's values with cities and data points as numbers; the matrix is the
/// one the current values make: a newer revision's value and one it takes away, a city only
/// the newer revision adds, cities in byte order ("Zagreb" before "bergen", "ålesund" last),
/// and data points outside the catalog left out (with a city that has only such values).
#[test]
fn a_runs_year_reader_reads_the_current_values_matrix() {
    use crate::scoring::engine::RawYear;
    let catalog = crate::catalog::Catalog::embedded().unwrap();
    let (a, b) = (
        catalog.data_points[0].id.as_str(),
        catalog.data_points[5].id.as_str(),
    );
    let mut s = Store::open_in_memory().unwrap();
    let first = s
        .insert_revision(
            &meta("h1"),
            &[
                obs("oslo", 2023, a, Some(1.0)),
                obs("oslo", 2023, b, Some(2.0)),
                obs("bergen", 2023, a, Some(2.0)),
                obs("bergen", 2023, "not-a-data-point", Some(9.0)),
                obs("aukra", 2023, "not-a-data-point", Some(1.0)),
                obs("ålesund", 2023, b, Some(5.0)),
                obs("Zagreb", 2023, a, Some(3.0)),
                obs("ålesund", 2024, b, Some(4.0)),
            ],
        )
        .unwrap();
    let second = s
        .insert_revision(
            &meta("h2"),
            &[
                obs("oslo", 2023, a, None),
                obs("oslo", 2023, b, Some(7.0)),
                obs("drammen", 2023, b, Some(6.0)),
            ],
        )
        .unwrap();
    let all = s.current_values().unwrap();
    let mut reader = runs::YearReader::new(s.conn.try_clone().unwrap(), s.path.clone());
    for year in [2023, 2024] {
        let want = RawYear::of(&catalog, year, all.iter());
        let got = reader.raw_year(&catalog, year).unwrap();
        assert_eq!(got.cities, want.cities, "{year}");
        assert_eq!(got.raw, want.raw, "{year}");
    }
    let got = reader.raw_year(&catalog, 2023).unwrap();
    assert_eq!(
        got.cities,
        ["Zagreb", "bergen", "drammen", "oslo", "ålesund"]
    );
    let oslo = &got.raw[3];
    assert_eq!((oslo[0], oslo[5]), (None, Some(7.0)));
    assert_eq!(
        reader.revisions.iter().copied().collect::<Vec<_>>(),
        [first, second]
    );
}
