//! The SSB client against a loopback server that this test starts (no test reaches the
//! internet): recorded-shape answers built from the documented JSON-stat structure, and every
//! error case.

use crate::cli::{run, u4ssc};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: vec![],
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
}

/// A one-thread HTTP/1.1 server on 127.0.0.1. `answer` gets (path, body) and the number of the
/// request; requests are recorded.
pub struct Server {
    pub url: String,
    pub requests: Arc<Mutex<Vec<(String, String)>>>,
}

impl Server {
    pub fn start(answer: impl Fn(&str, &str, usize) -> Reply + Send + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/api/pxwebapi/v2", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let rec = requests.clone();
        std::thread::spawn(move || {
            for (n, stream) in listener.incoming().enumerate() {
                let Ok(mut stream) = stream else { break };
                stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut first = String::new();
                if reader.read_line(&mut first).is_err() {
                    continue;
                }
                let path = first.split_whitespace().nth(1).unwrap_or("").to_string();
                let mut len = 0;
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
                        break;
                    }
                    if let Some(v) = h.to_lowercase().strip_prefix("content-length:") {
                        len = v.trim().parse().unwrap_or(0);
                    }
                }
                let mut body = vec![0; len];
                reader.read_exact(&mut body).ok();
                let body = String::from_utf8_lossy(&body).into_owned();
                rec.lock().unwrap().push((path.clone(), body.clone()));
                let r = answer(&path, &body, n);
                std::thread::sleep(r.delay);
                let mut head = format!("HTTP/1.1 {} X\r\nContent-Length: {}\r\nConnection: close\r\nContent-Type: application/json\r\n", r.status, r.body.len());
                for (k, v) in &r.headers {
                    head.push_str(&format!("{k}: {v}\r\n"));
                }
                head.push_str("\r\n");
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(r.body.as_bytes());
            }
        });
        Server { url, requests }
    }
}

/// A JSON-stat answer for a 07459-style request: every requested region gets a population,
/// region 1547 (Aukra) gets the ".." status, regions listed in an unusual index order.
pub fn population_answer(body: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let sel = v["selection"].as_array().unwrap();
    let codes = |var: &str| -> Vec<String> {
        sel.iter()
            .find(|s| s["variableCode"] == var)
            .map(|s| {
                s["valueCodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let regions = codes("Region");
    let year = codes("Tid").first().cloned().unwrap_or_default();
    let year = if year.starts_with("top") {
        "2026".to_string()
    } else {
        year
    };
    let n = regions.len();
    // positions in reverse of key order
    let index: Vec<String> = regions
        .iter()
        .enumerate()
        .map(|(i, r)| format!("\"{r}\": {}", n - 1 - i))
        .collect();
    let mut values = vec!["null".to_string(); n];
    let mut status = Vec::new();
    for (i, r) in regions.iter().enumerate() {
        let pos = n - 1 - i;
        if r == "1547" {
            status.push(format!("\"{pos}\": \"..\""));
        } else {
            values[pos] = format!("{}", 10_000 + r.parse::<u32>().unwrap_or(0));
        }
    }
    format!(
        r#"{{"version":"2.0","class":"dataset","label":"07459","id":["Region","ContentsCode","Tid"],"size":[{n},1,1],
        "dimension":{{"Region":{{"category":{{"index":{{{}}}}}}},"ContentsCode":{{"category":{{"index":{{"Personer1":0}}}}}},"Tid":{{"category":{{"index":{{"{year}":0}}}}}}}},
        "value":[{}],"status":{{{}}}}}"#,
        index.join(","),
        values.join(","),
        status.join(",")
    )
}

fn fetch_args(home: &Path, db: &Path, url: &str) -> assert_cmd::Command {
    let mut c = u4ssc(home);
    c.arg("--db")
        .arg(db)
        .args(["fetch", "ssb"])
        .arg("--base-url")
        .arg(url)
        .arg("--cache-dir")
        .arg(home.join("cache"))
        .args([
            "--min-interval-ms",
            "0",
            "--backoff-ms",
            "10",
            "--timeout-secs",
            "2",
        ]);
    c
}

fn empty_db(home: &Path) -> std::path::PathBuf {
    let db = home.join("t.duckdb");
    let f = home.join("one.csv");
    std::fs::write(&f, "city,year,kpi,value\noslo,2023,EC: ICT: ICT: 1C,95\n").unwrap();
    assert_eq!(
        run(u4ssc(home).arg("--db").arg(&db).arg("import").arg(&f)).code,
        0
    );
    db
}

fn revisions(home: &Path, db: &Path) -> String {
    run(u4ssc(home)
        .arg("--db")
        .arg(db)
        .args(["revisions", "--format", "csv"]))
    .stdout
}

#[test]
fn population_fetch_updates_every_city_and_reports_the_missing_one() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let server = Server::start(|path, body, _| {
        assert!(
            path.starts_with("/api/pxwebapi/v2/tables/07459/data"),
            "{path}"
        );
        Reply::new(200, population_answer(body))
    });
    let r = run(fetch_args(home.path(), &db, &server.url).args(["population", "--year", "2024"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("stored 16 population figure(s)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("no population for Aukra (1547: no value (SSB status '..'))"),
        "{}",
        r.stdout
    );
    // the request: POST body with deduplicated region codes, Kjonn and Alder eliminated
    let reqs = server.requests.lock().unwrap().clone();
    assert_eq!(reqs.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&reqs[0].1).unwrap();
    let vars: Vec<&str> = body["selection"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["variableCode"].as_str().unwrap())
        .collect();
    assert_eq!(vars, vec!["Region", "ContentsCode", "Tid"]);
    // the registry now shows SSB's numbers (Oslo 0301 -> 10301)
    let cities = run(u4ssc(home.path())
        .arg("--db")
        .arg(&db)
        .args(["cities", "--format", "csv"]));
    assert!(
        cities.stdout.contains("oslo,Oslo,0301,Oslo,10301,2024"),
        "{}",
        cities.stdout
    );
}

#[test]
fn population_for_an_earlier_year_asks_for_the_numbers_valid_then() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let server = Server::start(|_, body, _| Reply::new(200, population_answer(body)));
    let r = run(fetch_args(home.path(), &db, &server.url).args(["population", "--year", "2021"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let reqs = server.requests.lock().unwrap().clone();
    assert!(
        reqs[0].1.contains("\"5401\"") && !reqs[0].1.contains("\"5501\""),
        "Tromsø was 5401 in 2021: {}",
        reqs[0].1
    );
}

#[test]
fn a_repeated_fetch_is_answered_from_the_cache_offline() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let server = Server::start(|_, body, _| Reply::new(200, population_answer(body)));
    assert_eq!(
        run(fetch_args(home.path(), &db, &server.url).args(["population", "--year", "2024"])).code,
        0
    );
    let r = run(
        fetch_args(home.path(), &db, "http://127.0.0.1:9/none").args([
            "population",
            "--year",
            "2024",
            "--offline",
        ]),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("(offline, from the cache: SSB's answer of "),
        "{}",
        r.stdout
    );
    assert_eq!(server.requests.lock().unwrap().len(), 1);
}

/// The cache is honest and expires: a second fetch within the day says it is SSB's answer of
/// that time (not "offline"), --refresh asks SSB again, and an answer older than
/// --cache-max-age-hours is fetched anew (it once answered from the first fetch forever).
#[test]
fn the_cache_says_when_its_answer_is_from_and_expires() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let server = Server::start(|_, body, _| Reply::new(200, population_answer(body)));
    let fetch = |extra: &[&str]| {
        run(fetch_args(home.path(), &db, &server.url)
            .args(["population", "--year", "2024"])
            .args(extra))
    };
    let first = fetch(&[]);
    assert_eq!(first.code, 0, "{}{}", first.stdout, first.stderr);
    assert!(!first.stdout.contains("cache"), "{}", first.stdout);
    let again = fetch(&[]);
    assert!(
        again.stdout.contains("(from the cache: SSB's answer of ")
            && !again.stdout.contains("offline"),
        "{}",
        again.stdout
    );
    assert_eq!(server.requests.lock().unwrap().len(), 1);
    let refreshed = fetch(&["--refresh"]);
    assert_eq!(refreshed.code, 0);
    assert!(!refreshed.stdout.contains("cache"), "{}", refreshed.stdout);
    assert_eq!(server.requests.lock().unwrap().len(), 2);
    // two days old: expired
    for entry in std::fs::read_dir(home.path().join("cache")).unwrap() {
        let f = std::fs::File::options()
            .write(true)
            .open(entry.unwrap().path())
            .unwrap();
        f.set_modified(std::time::SystemTime::now() - Duration::from_secs(48 * 3600))
            .unwrap();
    }
    let expired = fetch(&[]);
    assert_eq!(expired.code, 0);
    assert!(!expired.stdout.contains("cache"), "{}", expired.stdout);
    assert_eq!(server.requests.lock().unwrap().len(), 3);
    // offline still takes it, whatever its age
    let offline = run(
        fetch_args(home.path(), &db, "http://127.0.0.1:9/none").args([
            "population",
            "--year",
            "2024",
            "--offline",
        ]),
    );
    assert_eq!(offline.code, 0, "{}{}", offline.stdout, offline.stderr);
}

#[test]
fn map_fetch_imports_one_revision_labelled_with_its_source() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let server = Server::start(|path, body, _| map_answer(path, body));
    let map = Path::new(env!("CARGO_MANIFEST_DIR")).join("kpis/sources/ssb.toml");
    let r = run(fetch_args(home.path(), &db, &server.url)
        .arg("--map")
        .arg(&map)
        .args(["--year", "2024"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("imported 34 value(s) for 2024 from SSB as revision 2"),
        "{}",
        r.stdout
    );
    let store = u4ssc::store::Store::open(&db, u4ssc::store::Access::ReadOnly).unwrap();
    let v = store.current_values().unwrap();
    let ev = v
        .iter()
        .find(|x| x.city == "bodo" && x.data_point == "ec-i-t-8a")
        .unwrap();
    assert_eq!(ev.value, Some(25.0));
    assert!(
        ev.source
            .as_deref()
            .unwrap()
            .starts_with("SSB table 07849, fetched "),
        "{:?}",
        ev.source
    );
    assert_eq!(ev.quality.as_deref(), Some("accurate measurement"));
    // two levels (03a + 04a) summed: 500 / 1000 x 100 000
    let deg = v
        .iter()
        .find(|x| x.city == "bodo" && x.data_point == "sc-eh-ed-3c")
        .unwrap();
    assert_eq!(deg.value, Some(50_000.0));
    assert!(deg
        .source
        .as_deref()
        .unwrap()
        .contains("SSB tables 09429 and 07459"));
}

type Answer = Box<dyn Fn(&str, &str, usize) -> Reply + Send>;

/// Every error answer: a clear message naming the request, exit 2, nothing imported.
#[test]
fn error_answers_import_nothing_and_say_why() {
    let cases: Vec<(&str, Answer, &str)> = vec![
        (
            "400",
            Box::new(|_, _, _| {
                Reply::new(
                    400,
                    r#"{"type":"Parameter error","title":"Non-existent value","status":400}"#,
                )
            }),
            "SSB refused the request (400): Non-existent value",
        ),
        (
            "403",
            Box::new(|_, _, _| Reply::new(403, r#"{"error":"Too many values selected"}"#)),
            "Too many values selected (the selection is too large",
        ),
        (
            "404",
            Box::new(|_, _, _| {
                Reply::new(
                    404,
                    r#"{"type":"Parameter error","title":"Non-existent table","status":404}"#,
                )
            }),
            "SSB does not know table 07849",
        ),
        (
            "500",
            Box::new(|_, _, _| Reply::new(500, "")),
            "SSB answered 500 3 times; last answer: (empty body)",
        ),
        (
            "px",
            Box::new(|_, _, _| Reply::new(200, "CHARSET=\"ANSI\";\nAXIS-VERSION=\"2010\";")),
            "not JSON-stat",
        ),
        (
            "truncated",
            Box::new(|_, b, _| {
                let full = population_answer(b);
                Reply::new(200, full[..full.len() / 2].to_string())
            }),
            "cannot be read",
        ),
        (
            "slow",
            Box::new(|_, b, _| Reply {
                delay: Duration::from_secs(4),
                ..Reply::new(200, population_answer(b))
            }),
            "timed out",
        ),
    ];
    for (name, answer, want) in cases {
        let home = tempfile::tempdir().unwrap();
        let db = empty_db(home.path());
        let before = revisions(home.path(), &db);
        let server = Server::start(answer);
        let map = Path::new(env!("CARGO_MANIFEST_DIR")).join("kpis/sources/ssb.toml");
        let r = run(fetch_args(home.path(), &db, &server.url)
            .arg("--map")
            .arg(&map)
            .args([
                "--year",
                "2024",
                "--max-retries",
                if name == "slow" { "0" } else { "2" },
            ]));
        assert_eq!(r.code, 2, "{name}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(want),
            "{name}: wanted '{want}' in {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("nothing was imported")
                && r.stderr.contains("request 1 of 1 to table"),
            "{name}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"));
        assert_eq!(
            revisions(home.path(), &db),
            before,
            "{name}: the database changed"
        );
    }
}

#[test]
fn rate_limit_429_then_success_honours_retry_after() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let server = Server::start(|_, body, n| {
        if n == 0 {
            Reply {
                headers: vec![("Retry-After", "1".into())],
                ..Reply::new(429, r#"{"title":"Too many requests","status":429}"#)
            }
        } else {
            Reply::new(200, population_answer(body))
        }
    });
    let t = std::time::Instant::now();
    let r = run(fetch_args(home.path(), &db, &server.url).args(["population", "--year", "2024"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(server.requests.lock().unwrap().len(), 2);
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "Retry-After: 1 was not honoured"
    );
}

/// A JSON-stat answer for any request of kpis/sources/ssb.toml: 250 in every numerator cell,
/// 1000 in every denominator cell.
pub fn map_answer(path: &str, body: &str) -> Reply {
    let v: serde_json::Value = serde_json::from_str(body).unwrap();
    let sel = v["selection"].as_array().unwrap();
    let regions: Vec<String> = sel[0]["valueCodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    let extra: Vec<(String, Vec<String>)> = sel[3..]
        .iter()
        .map(|s| {
            (
                s["variableCode"].as_str().unwrap().to_string(),
                s["valueCodes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    let n = regions.len();
    let mut ids = vec![
        "\"Region\"".to_string(),
        "\"ContentsCode\"".to_string(),
        "\"Tid\"".to_string(),
    ];
    let mut sizes = vec![n.to_string(), "1".into(), "1".into()];
    let mut dims = vec![
        format!(
            "\"Region\":{{\"category\":{{\"index\":[{}]}}}}",
            regions
                .iter()
                .map(|r| format!("\"{r}\""))
                .collect::<Vec<_>>()
                .join(",")
        ),
        "\"ContentsCode\":{\"category\":{\"index\":[\"X\"]}}".to_string(),
        "\"Tid\":{\"category\":{\"index\":[\"2024\"]}}".to_string(),
    ];
    let mut cells = n;
    for (var, codes) in &extra {
        ids.push(format!("\"{var}\""));
        sizes.push(codes.len().to_string());
        dims.push(format!(
            "\"{var}\":{{\"category\":{{\"index\":[{}]}}}}",
            codes
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(",")
        ));
        cells *= codes.len();
    }
    // numerators 250 per cell, denominators 1000
    let v = if path.contains("07459") || (path.contains("07849") && extra.is_empty()) {
        1000
    } else {
        250
    };
    let values = vec![v.to_string(); cells].join(",");
    Reply::new(200, format!("{{\"version\":\"2.0\",\"class\":\"dataset\",\"id\":[{}],\"size\":[{}],\"dimension\":{{{}}},\"value\":[{values}]}}", ids.join(","), sizes.join(","), dims.join(",")))
}

/// Stored populations of the registry cities, as `cities --format csv` shows them.
/// A server that is not there: the error says why (the connection was refused), not only
/// that sending failed, and nothing is imported.
#[test]
fn an_unreachable_server_is_named_with_the_reason() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let before = revisions(home.path(), &db);
    // a port that was free a moment ago: nothing listens on it
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/api/pxwebapi/v2");
    let r = run(fetch_args(home.path(), &db, &url).args(["population", "--max-retries", "0"]));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("Connection refused"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was imported"), "{}", r.stderr);
    assert_eq!(revisions(home.path(), &db), before);
}

fn cities_csv(home: &Path, db: &Path) -> String {
    run(u4ssc(home)
        .arg("--db")
        .arg(db)
        .args(["cities", "--format", "csv"]))
    .stdout
}

/// A population answer with one region's figure replaced by `value`.
fn population_with(body: &str, region: &str, value: &str) -> String {
    let good = population_answer(body);
    let honest = format!("{}", 10_000 + region.parse::<u32>().unwrap());
    assert!(good.contains(&honest));
    good.replacen(&honest, value, 1)
}

/// A server that lies: each case must end with exit 2, a message that says what was wrong,
/// no panic, no memory blow-up, and nothing stored.
#[test]
fn a_lying_server_is_refused_and_nothing_is_stored() {
    let cases: Vec<(&str, Answer, &str)> = vec![
        (
            "huge declared size",
            Box::new(|_, _, _| {
                Reply::new(
                    200,
                    r#"{"version":"2.0","class":"dataset","id":["Region","ContentsCode","Tid"],"size":[1000000000,1,1],"dimension":{"Region":{"category":{"index":["0301"]}},"ContentsCode":{"category":{"index":["Personer1"]}},"Tid":{"category":{"index":["2024"]}}},"value":[1]}"#,
                )
            }),
            "not trusted",
        ),
        (
            "overflowing declared size",
            Box::new(|_, _, _| {
                Reply::new(
                    200,
                    r#"{"version":"2.0","class":"dataset","id":["Region","ContentsCode","Tid"],"size":[4294967296,4294967296,1],"dimension":{"Region":{"category":{"index":["0301"]}},"ContentsCode":{"category":{"index":["Personer1"]}},"Tid":{"category":{"index":["2024"]}}},"value":[1]}"#,
                )
            }),
            "not trusted",
        ),
        (
            "negative population",
            Box::new(|_, b, _| Reply::new(200, population_with(b, "0301", "-5"))),
            "Oslo (0301) the population -5, which is not a population",
        ),
        (
            "astronomical population",
            Box::new(|_, b, _| Reply::new(200, population_with(b, "0301", "1e308"))),
            "which is not a population",
        ),
        (
            "fractional population",
            Box::new(|_, b, _| Reply::new(200, population_with(b, "4601", "12.5"))),
            "Bergen (4601) the population 12.5, which",
        ),
        (
            "endless Retry-After",
            Box::new(|_, _, _| Reply {
                headers: vec![("Retry-After", "100000".into())],
                ..Reply::new(429, r#"{"title":"Too many requests"}"#)
            }),
            "asks to wait 100000 s",
        ),
        (
            "Retry-After as a far HTTP-date",
            Box::new(|_, _, _| Reply {
                headers: vec![("Retry-After", "Fri, 31 Dec 2083 23:59:59 GMT".into())],
                ..Reply::new(503, "")
            }),
            "longer than the 60 s u4ssc waits",
        ),
        (
            "redirect to a file",
            Box::new(|_, _, _| Reply {
                headers: vec![("Location", "file:///etc/passwd".into())],
                ..Reply::new(307, "")
            }),
            "redirected (307) to 'file:///etc/passwd'",
        ),
    ];
    for (name, answer, want) in cases {
        let home = tempfile::tempdir().unwrap();
        let db = empty_db(home.path());
        let before = (revisions(home.path(), &db), cities_csv(home.path(), &db));
        let server = Server::start(answer);
        let t = std::time::Instant::now();
        let r = run(fetch_args(home.path(), &db, &server.url).args([
            "population",
            "--year",
            "2024",
            "--max-retries",
            "1",
        ]));
        assert_eq!(r.code, 2, "{name}: {}{}", r.stdout, r.stderr);
        assert!(
            r.stderr.contains(want),
            "{name}: wanted '{want}' in {}",
            r.stderr
        );
        assert!(
            r.stderr.contains("nothing was imported"),
            "{name}: {}",
            r.stderr
        );
        assert!(!r.stderr.contains("panicked"), "{name}: {}", r.stderr);
        assert!(
            t.elapsed() < Duration::from_secs(20),
            "{name} took {:?}",
            t.elapsed()
        );
        assert_eq!(
            (revisions(home.path(), &db), cities_csv(home.path(), &db)),
            before,
            "{name}: the database changed"
        );
    }
}

#[test]
fn retry_after_as_an_http_date_is_honoured() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let server = Server::start(|_, body, n| {
        if n == 0 {
            // two seconds from now, in the IMF-fixdate form
            let at = std::time::SystemTime::now() + Duration::from_secs(2);
            Reply {
                headers: vec![("Retry-After", http_date(at))],
                ..Reply::new(503, "")
            }
        } else {
            Reply::new(200, population_answer(body))
        }
    });
    let t = std::time::Instant::now();
    let r = run(fetch_args(home.path(), &db, &server.url).args(["population", "--year", "2024"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert_eq!(server.requests.lock().unwrap().len(), 2);
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "the HTTP-date was not honoured: {:?}",
        t.elapsed()
    );
}

/// `Sun, 06 Nov 1994 08:49:37 GMT` for a time.
fn http_date(t: std::time::SystemTime) -> String {
    let secs = t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64;
    let (y, m, d) = u4ssc::stats::civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
        [(secs.div_euclid(86_400)).rem_euclid(7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][m as usize - 1];
    format!(
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} GMT",
        s / 3600,
        s % 3600 / 60,
        s % 60
    )
}

/// A redirect to another server is not followed: the POST never reaches it, and nothing of
/// its answer is imported. A redirect within the same server is followed.
#[test]
fn redirects_are_followed_only_within_the_configured_server() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let before = revisions(home.path(), &db);
    let elsewhere = Server::start(|_, body, _| Reply::new(200, population_answer(body)));
    let target = format!("{}/tables/07459/data?lang=no", elsewhere.url);
    let server = Server::start(move |_, _, _| Reply {
        headers: vec![("Location", target.clone())],
        ..Reply::new(307, "")
    });
    let r = run(fetch_args(home.path(), &db, &server.url).args(["population", "--year", "2024"]));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("redirected (307)") && r.stderr.contains("another server"),
        "{}",
        r.stderr
    );
    assert!(
        elsewhere.requests.lock().unwrap().is_empty(),
        "the POST was re-sent"
    );
    assert_eq!(revisions(home.path(), &db), before);

    // the same server under another path: followed
    let same = Server::start(|path, body, _| {
        if path.contains("/moved/") {
            Reply::new(200, population_answer(body))
        } else {
            Reply {
                headers: vec![("Location", "/moved/tables/07459/data".into())],
                ..Reply::new(307, "")
            }
        }
    });
    let r = run(fetch_args(home.path(), &db, &same.url).args(["population", "--year", "2024"]));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stdout.contains("stored 16 population figure(s)"),
        "{}",
        r.stdout
    );
}

/// An answer that never ends is cut at --max-body-mb, not read into memory.
#[test]
fn an_endless_answer_is_cut_at_the_body_limit() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let before = revisions(home.path(), &db);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/pxwebapi/v2", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        // bounded: at most two connections and 256 MB each
        for stream in listener.incoming().take(2) {
            let Ok(mut stream) = stream else { break };
            let mut buf = [0u8; 65536];
            stream
                .set_read_timeout(Some(Duration::from_millis(200)))
                .ok();
            let _ = stream.read(&mut buf);
            let _ = stream.write_all(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[",
            );
            let chunk = "1,".repeat(512 * 1024);
            for _ in 0..256 {
                if stream.write_all(chunk.as_bytes()).is_err() {
                    break;
                }
            }
        }
    });
    let t = std::time::Instant::now();
    let r = run(fetch_args(home.path(), &db, &url).args([
        "population",
        "--year",
        "2024",
        "--max-body-mb",
        "2",
    ]));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("longer than 2 MB"), "{}", r.stderr);
    assert!(t.elapsed() < Duration::from_secs(20));
    assert_eq!(revisions(home.path(), &db), before);
}

/// Values fetched for data points pass the submission rules: an impossible share is refused.
#[test]
fn fetched_data_points_are_validated_like_a_submission() {
    let home = tempfile::tempdir().unwrap();
    let db = empty_db(home.path());
    let before = revisions(home.path(), &db);
    // every numerator cell -250: a negative share of a percentage data point
    let server = Server::start(|path, body, _| {
        let r = map_answer(path, body);
        Reply::new(200, r.body.replace("250", "-250"))
    });
    let map = Path::new(env!("CARGO_MANIFEST_DIR")).join("kpis/sources/ssb.toml");
    let r = run(fetch_args(home.path(), &db, &server.url)
        .arg("--map")
        .arg(&map)
        .args(["--year", "2024"]));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(
        r.stderr.contains("holds values a submission could not") && r.stderr.contains("impossible"),
        "{}",
        r.stderr
    );
    assert_eq!(revisions(home.path(), &db), before);
}
