//! Fuzz targets (compiled into the one integration-test binary from here, so DuckDB is linked
//! once). A deterministic mutation fuzzer over every parser: the submission readers (CSV, JSON, XLSX)
//! with validation, the bulk import path against the row-by-row one, the catalog loader, the
//! JSON-stat parser, the COINr table loaders and the framework conversion.
//! Seeds are the test fixtures. A panic or a hang fails the test. cargo-fuzz needs a nightly
//! toolchain, which this project's machines cannot fetch; this runs on stable, in CI with a
//! few thousand inputs per target and with `U4SSC_FUZZ_CASES=200000 cargo test --release fuzz`
//! (`just fuzz`) for long runs.

use crate::cli::data;
use std::path::Path;
use u4ssc::catalog::Catalog;
use u4ssc::demo::Rng;
use u4ssc::registry::Registry;
use u4ssc::submission::{read_table, validate, Limits};

fn cases(default: usize) -> usize {
    std::env::var("U4SSC_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const TOKENS: &[&[u8]] = &[
    b"\"",
    b",",
    b";",
    b"\n",
    b"\r\n",
    b"NaN",
    b"1e309",
    b"{",
    b"[",
    b"]",
    b"}",
    b"\0",
    "\u{feff}".as_bytes(),
    b"=SUM(",
    b"9 999",
    b"95,5",
    b"\xff",
    b"NR",
    b"-",
    b"null",
    b"\\",
];

/// One mutation of `seed`, sometimes spliced with `other`.
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for _ in 0..1 + rng.next_u64() % 4 {
        let n = v.len().max(1);
        let at = (rng.next_u64() as usize) % n;
        match rng.next_u64() % 7 {
            0 if !v.is_empty() => {
                let i = at.min(v.len() - 1);
                v[i] ^= 1 << (rng.next_u64() % 8);
            }
            1 => v.insert(at.min(v.len()), rng.next_u64() as u8),
            2 if !v.is_empty() => {
                let end = (at + 1 + (rng.next_u64() as usize) % 16).min(v.len());
                v.drain(at.min(end)..end);
            }
            3 => {
                let t = TOKENS[(rng.next_u64() as usize) % TOKENS.len()];
                let at = at.min(v.len());
                v.splice(at..at, t.iter().copied());
            }
            4 if !v.is_empty() => {
                let end = (at + 1 + (rng.next_u64() as usize) % 64).min(v.len());
                let chunk = v[at.min(end)..end].to_vec();
                let at2 = (rng.next_u64() as usize) % (v.len() + 1);
                v.splice(at2..at2, chunk);
            }
            5 if !other.is_empty() => {
                let from = (rng.next_u64() as usize) % other.len();
                let len = (rng.next_u64() as usize) % 128;
                let chunk = &other[from..(from + len).min(other.len())];
                let at = at.min(v.len());
                v.splice(at..at, chunk.iter().copied());
            }
            _ => v.truncate(at),
        }
    }
    v
}

fn seeds(exts: &[&str]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for dir in ["valid", "invalid"] {
        let mut entries: Vec<_> = std::fs::read_dir(data(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            let ext = p
                .extension()
                .and_then(|e| e.to_str())
                .unwrap_or("")
                .to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if exts.contains(&ext.as_str()) && meta.is_file() && meta.len() < 100_000 {
                out.push((ext, std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

fn submissions(exts: &[&str], n: usize, seed: u64) -> usize {
    let cat = Catalog::embedded().unwrap();
    let reg = Registry::embedded().unwrap();
    let corpus = seeds(exts);
    assert!(!corpus.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(seed);
    let limits = Limits {
        max_file_bytes: 1 << 20,
        max_rows: 10_000,
        max_field_chars: 1_000,
    };
    for i in 0..n {
        let (ext, a) = &corpus[(rng.next_u64() as usize) % corpus.len()];
        let (_, b) = &corpus[(rng.next_u64() as usize) % corpus.len()];
        let input = mutate(&mut rng, a, b);
        let path = dir.path().join(format!("case.{ext}"));
        std::fs::write(&path, &input).unwrap();
        if let Ok(t) = read_table(&path, &limits) {
            let c = validate::validate(&t, &cat, &reg, &validate::Options::default());
            // whatever the input, a finding has a rule and a message
            assert!(
                c.findings
                    .iter()
                    .all(|f| !f.rule.is_empty() && !f.message.is_empty()),
                "case {i}"
            );
        }
    }
    n
}

#[test]
fn fuzz_csv_submissions() {
    let n = submissions(&["csv"], cases(20000), 1);
    eprintln!("fuzz csv: {n} inputs ran clean");
}

#[test]
fn fuzz_json_submissions() {
    let n = submissions(&["json"], cases(20000), 2);
    eprintln!("fuzz json: {n} inputs ran clean");
}

#[test]
fn fuzz_xlsx_submissions() {
    // skip the zip bomb as a seed: its mutations are slow to write, and the guard is tested
    let cat = Catalog::embedded().unwrap();
    let reg = Registry::embedded().unwrap();
    let corpus: Vec<Vec<u8>> = seeds(&["xlsx"])
        .into_iter()
        .map(|s| s.1)
        .filter(|b| b.len() < 100_000)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut rng = Rng::new(3);
    let n = cases(5000);
    for _ in 0..n {
        let a = &corpus[(rng.next_u64() as usize) % corpus.len()];
        let input = mutate(&mut rng, a, &[]);
        let path = dir.path().join("case.xlsx");
        std::fs::write(&path, &input).unwrap();
        if let Ok(t) = read_table(&path, &Limits::default()) {
            let _ = validate::validate(&t, &cat, &reg, &validate::Options::default());
        }
    }
    eprintln!("fuzz xlsx: {n} inputs ran clean");
}

#[test]
fn fuzz_catalog_loader() {
    let text = u4ssc::catalog::EMBEDDED.as_bytes();
    let mut rng = Rng::new(4);
    let n = cases(2000);
    for _ in 0..n {
        let m = mutate(&mut rng, text, text);
        let _ = Catalog::parse(&String::from_utf8_lossy(&m), "fuzz.toml");
    }
    eprintln!("fuzz catalog: {n} inputs ran clean");
}

#[test]
fn fuzz_jsonstat_parser() {
    let seeds: Vec<Vec<u8>> = vec![
        br#"{"version":"2.0","class":"dataset","id":["Region","ContentsCode","Tid"],"size":[2,1,2],"dimension":{"Region":{"category":{"index":{"0301":0,"3005":1},"label":{"0301":"Oslo"}}},"ContentsCode":{"category":{"index":{"Personer1":0}}},"Tid":{"category":{"index":{"2025":0,"2026":1}}}},"value":[724290,728714,null,null],"status":{"2":".","3":"."}}"#.to_vec(),
        br#"{"version":"2.0","class":"dataset","id":["A"],"size":[3],"dimension":{"A":{"category":{"index":["a","b","c"]}}},"value":{"0":1.5,"2":null},"status":["","..",":"]}"#.to_vec(),
        // hostile declared sizes: huge, overflowing, zero beside huge
        br#"{"version":"2.0","class":"dataset","id":["A","B"],"size":[4294967296,4294967296],"dimension":{"A":{"category":{"index":["a"]}},"B":{"category":{"index":["b"]}}},"value":[1]}"#.to_vec(),
        br#"{"version":"2.0","class":"dataset","id":["A","B"],"size":[0,100000000000],"dimension":{"A":{"category":{"index":[]}},"B":{"category":{"index":{"b":99999999999}}}},"value":{"99999999999":1}}"#.to_vec(),
    ];
    const SIZES: &[&str] = &[
        "1000000000",
        "100000000000",
        "4294967296",
        "18446744073709551615",
        "0",
        "-1",
        "1e9",
    ];
    let mut rng = Rng::new(5);
    let n = cases(50000);
    for _ in 0..n {
        let a = &seeds[(rng.next_u64() as usize) % seeds.len()];
        let mut m = mutate(&mut rng, a, &seeds[0]);
        // every few inputs, a size or a position replaced by a hostile number
        if rng.next_u64().is_multiple_of(4) {
            let text = String::from_utf8_lossy(&m).into_owned();
            let digits: Vec<usize> = text
                .char_indices()
                .filter(|(_, c)| c.is_ascii_digit())
                .map(|(i, _)| i)
                .collect();
            if !digits.is_empty() {
                let at = digits[(rng.next_u64() as usize) % digits.len()];
                let end = text[at..]
                    .find(|c: char| !c.is_ascii_digit())
                    .map_or(text.len(), |e| at + e);
                let with = SIZES[(rng.next_u64() as usize) % SIZES.len()];
                m = format!("{}{with}{}", &text[..at], &text[end..]).into_bytes();
            }
        }
        if let Ok(c) = u4ssc::fetch::jsonstat::Cube::parse(&String::from_utf8_lossy(&m), 800_000) {
            // every cell the cube claims can be read back
            for d in &c.dims {
                for code in &d.codes {
                    let _ = c.get(&[(d.id.as_str(), code.as_str())]);
                }
            }
        }
    }
    eprintln!("fuzz json-stat: {n} inputs ran clean");
}

#[test]
fn fuzz_coinr_tables() {
    let meta = std::fs::read(data("coinr_asem/iMeta.csv")).unwrap();
    let idata = std::fs::read(data("coinr_asem/iData.csv")).unwrap();
    let fw = u4ssc::framework::Framework::from_imeta(&String::from_utf8_lossy(&meta), "m").unwrap();
    let mut rng = Rng::new(6);
    let n = cases(1000);
    for _ in 0..n {
        let m = mutate(&mut rng, &meta, &meta);
        let _ = u4ssc::framework::Framework::from_imeta(&String::from_utf8_lossy(&m), "m");
        let d = mutate(&mut rng, &idata, &idata);
        if let Ok(p) = u4ssc::pipeline::Panel::from_idata(&String::from_utf8_lossy(&d), &fw, "d") {
            let method = u4ssc::pipeline::Method::parse(
                include_str!("../kpis/methods/coinr-asem.toml"),
                "m",
            )
            .unwrap();
            let _ = u4ssc::pipeline::run(&p, &fw, &method);
        }
    }
    // the optional columns (Aggregation, dashboard thresholds, Scored) and the conversion for
    // the scoring engine, on the local-goals framework
    let meta = std::fs::read(data("frameworks/local_goals/iMeta.csv")).unwrap();
    let idata = std::fs::read(data("frameworks/local_goals/iData.csv")).unwrap();
    for _ in 0..n {
        let m = mutate(&mut rng, &meta, &meta);
        let d = mutate(&mut rng, &idata, &idata);
        let Ok(fw) = u4ssc::framework::Framework::from_imeta(&String::from_utf8_lossy(&m), "m")
        else {
            continue;
        };
        if let Ok(p) =
            u4ssc::pipeline::Panel::from_idata_years(&String::from_utf8_lossy(&d), &fw, "d")
        {
            let _ = u4ssc::convert::convert(&fw, &p, "fuzz", "m", "d", None);
        }
    }
    eprintln!("fuzz coinr tables: {n} inputs ran clean");
    let _ = Path::new("");
}

/// Whether the bulk path vouches for a file (whatever its size); when it does, the row-by-row
/// path must find no error in it, and both must give the same findings, the same hash and
/// store the same observations.
pub fn bulk_equals_rows(
    path: &Path,
    cat: &Catalog,
    reg: &Registry,
    limits: &Limits,
    rules: &u4ssc::import::Rules,
    case: &str,
) -> bool {
    let Some(layout) = u4ssc::submission::bulk::head(path, limits) else {
        return false;
    };
    let mut store = u4ssc::store::Store::open_in_memory().unwrap();
    let staged = u4ssc::import::bulk::stage(&mut store, path, &layout, cat, reg, rules, limits)
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    let Some(staged) = staged else { return false };
    let table = read_table(path, limits).unwrap_or_else(|f| panic!("{case}: {f:?}"));
    let rows = validate::validate(&table, cat, reg, &validate::Options::default());
    assert_eq!(
        rows.errors(),
        0,
        "{case}: the bulk path took a file with errors"
    );
    let shown = |f: &[u4ssc::submission::Finding]| -> Vec<String> {
        f.iter().map(|x| x.to_string()).collect()
    };
    assert_eq!(shown(&staged.findings), shown(&rows.findings), "{case}");
    assert_eq!(staged.content_hash, table.content_hash, "{case}");
    let meta = u4ssc::store::NewRevision {
        source_file: "case.csv",
        content_hash: &staged.content_hash,
        format: "csv",
        kind: u4ssc::store::RevisionKind::Submission,
    };
    let id = store
        .commit_staged(&meta, staged.rows, &staged.findings)
        .unwrap();
    assert_eq!(
        store.revision_observations(id).unwrap(),
        rows.observations,
        "{case}"
    );
    true
}

/// The bulk import path against the row-by-row path on mutated CSV submissions.
#[test]
fn fuzz_bulk_path_against_rows() {
    let cat = Catalog::embedded().unwrap();
    let reg = Registry::embedded().unwrap();
    let mut seed = Vec::new();
    let cities: Vec<_> = reg.cities.iter().take(3).cloned().collect();
    let spec = u4ssc::demo::DemoSpec {
        years: 2023..=2024,
        seed: 5,
    };
    u4ssc::demo::write_csv(&mut seed, &cat, &cities, &spec).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_file_bytes: 1 << 20,
        max_rows: 10_000,
        max_field_chars: 1_000,
    };
    let rules = u4ssc::import::Rules::default();
    let mut rng = Rng::new(11);
    let n = cases(120);
    let mut vouched = 0;
    for i in 0..n {
        // the seed itself first, then mutations of it
        let input = if i == 0 {
            seed.clone()
        } else {
            mutate(&mut rng, &seed, &seed)
        };
        let path = dir.path().join("case.csv");
        std::fs::write(&path, &input).unwrap();
        if bulk_equals_rows(&path, &cat, &reg, &limits, &rules, &format!("case {i}")) {
            vouched += 1;
        }
    }
    assert!(vouched > 0, "the unmutated seed must take the bulk path");
    eprintln!("fuzz bulk path: {n} inputs, {vouched} taken in bulk, all equal to the row path");
}

/// The HTTP layer against a loopback server that answers with mutated raw HTTP responses:
/// status lines, lying Content-Length, Retry-After in any form, redirects anywhere, bodies
/// cut or grown, hostile JSON-stat sizes. The client must return an answer or an error, never
/// panic, hang past its timeout or read past its body limit.
#[test]
fn fuzz_http_responses() {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use u4ssc::fetch::client::{Client, Config, Selection};

    let cube = br#"{"version":"2.0","class":"dataset","id":["Region","ContentsCode","Tid"],"size":[1,1,1],"dimension":{"Region":{"category":{"index":["0301"]}},"ContentsCode":{"category":{"index":["Personer1"]}},"Tid":{"category":{"index":["2024"]}}},"value":[724290]}"#;
    let seeds: Vec<Vec<u8>> = vec![
        [
            format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", cube.len()).as_bytes(),
            cube.as_slice(),
        ]
        .concat(),
        b"HTTP/1.1 429 Too Many\r\nRetry-After: 1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}".to_vec(),
        b"HTTP/1.1 503 X\r\nRetry-After: Sun, 06 Nov 2094 08:49:37 GMT\r\nConnection: close\r\n\r\n".to_vec(),
        b"HTTP/1.1 307 Moved\r\nLocation: http://127.0.0.2:9/x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
        b"HTTP/1.1 302 Moved\r\nLocation: file:///etc/passwd\r\nConnection: close\r\n\r\n".to_vec(),
        [
            b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999\r\nConnection: close\r\n\r\n".as_slice(),
            cube.as_slice(),
        ]
        .concat(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nffffffff\r\n{\"size\":[4294967296,4294967296]}".to_vec(),
    ];
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/api/pxwebapi/v2", listener.local_addr().unwrap());
    let current: Arc<Mutex<Vec<u8>>> = Arc::new(Mutex::new(Vec::new()));
    let serving = current.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            stream
                .set_read_timeout(Some(Duration::from_millis(500)))
                .ok();
            // read the request: head, then the body by its Content-Length
            let mut req = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                req.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&req).to_lowercase();
                if let Some(end) = text.find("\r\n\r\n") {
                    let len = text
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(0);
                    if req.len() >= end + 4 + len {
                        break;
                    }
                }
            }
            let answer = serving.lock().unwrap().clone();
            let _ = stream.write_all(&answer);
        }
    });
    let mut rng = Rng::new(12);
    let n = cases(150);
    let sel = [
        Selection::new("Region", &["0301"]),
        Selection::new("ContentsCode", &["Personer1"]),
        Selection::new("Tid", &["2024"]),
    ];
    for i in 0..n {
        let a = &seeds[(rng.next_u64() as usize) % seeds.len()];
        let m = if i < seeds.len() {
            seeds[i].clone()
        } else {
            mutate(&mut rng, a, cube)
        };
        *current.lock().unwrap() = m.clone();
        let mut client = Client::new(Config {
            base_url: url.clone(),
            cache_dir: None,
            timeout: Duration::from_secs(2),
            min_interval: Duration::ZERO,
            max_retries: 1,
            backoff: Duration::from_millis(1),
            max_cells: 1000,
            offline: false,
            max_body_bytes: 1 << 20,
            max_retry_wait: Duration::from_millis(50),
            cache_max_age: Duration::ZERO,
            refresh: true,
        })
        .unwrap();
        let t = std::time::Instant::now();
        let got = client.data("07459", &sel);
        assert!(
            t.elapsed() < Duration::from_secs(8),
            "case {i} took {:?}: {}",
            t.elapsed(),
            String::from_utf8_lossy(&m)
        );
        if i == 0 {
            let f = got.unwrap_or_else(|e| panic!("the honest answer failed: {e}"));
            assert_eq!(f.cubes[0].values, vec![Some(724290.0)]);
        }
    }
    eprintln!("fuzz http: {n} responses ran clean");
}
