//! A client for Statistics Norway's PxWebApi v2: POST bodies, de-duplicated value codes, a
//! pre-flight cell count with automatic splitting, one request at a time and at most 30 a
//! minute, retries with backoff and jitter on 429/5xx/timeouts (honouring Retry-After), clear
//! errors for 400/403/404 with SSB's message, and an on-disk cache keyed by the request.
//! This is the only module that names `reqwest`.

use super::jsonstat::Cube;
use crate::demo::Rng;
use crate::error::{Error, Result};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub const DEFAULT_BASE_URL: &str = "https://data.ssb.no/api/pxwebapi/v2";
pub const MAX_CELLS: usize = 800_000;

#[derive(Debug, Clone)]
pub struct Config {
    pub base_url: String,
    pub cache_dir: Option<PathBuf>,
    pub timeout: Duration,
    /// at least this long between two requests (2 s = 30 a minute)
    pub min_interval: Duration,
    pub max_retries: u32,
    /// first retry wait; doubles each time, plus up to 50 % jitter
    pub backoff: Duration,
    pub max_cells: usize,
    /// answer from the cache only
    pub offline: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_url: DEFAULT_BASE_URL.into(),
            cache_dir: None,
            timeout: Duration::from_secs(60),
            min_interval: Duration::from_secs(2),
            max_retries: 4,
            backoff: Duration::from_secs(2),
            max_cells: MAX_CELLS,
            offline: false,
        }
    }
}

/// One variable's selection: codes (or expressions such as `top(1)`) and an optional codelist.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    pub variable: String,
    pub codes: Vec<String>,
    pub codelist: Option<String>,
}

impl Selection {
    pub fn new(variable: &str, codes: &[&str]) -> Selection {
        Selection {
            variable: variable.into(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
            codelist: None,
        }
    }
}

/// What a fetch returned, and whether it came from the cache.
pub struct Fetched {
    pub cubes: Vec<Cube>,
    pub from_cache: usize,
    pub requests: usize,
}

pub struct Client {
    cfg: Config,
    http: reqwest::blocking::Client,
    last: Option<Instant>,
    rng: Rng,
}

fn fetch_err(msg: String) -> Error {
    Error::Fetch(msg)
}

/// SSB's problem message: `title` (v2), `error` (v0), then `detail`.
fn ssb_message(body: &str) -> String {
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
        let parts: Vec<String> = ["title", "error", "detail"]
            .iter()
            .filter_map(|k| v.get(*k).and_then(|x| x.as_str()).map(String::from))
            .collect();
        if !parts.is_empty() {
            let mut p = parts;
            p.dedup();
            return p.join(": ");
        }
    }
    let t: String = body.trim().chars().take(200).collect();
    if t.is_empty() {
        "(empty body)".into()
    } else {
        t
    }
}

impl Client {
    pub fn new(cfg: Config) -> Result<Client> {
        let http = reqwest::blocking::Client::builder()
            .timeout(cfg.timeout)
            .user_agent(concat!("u4ssc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| fetch_err(format!("cannot start the HTTP client: {e}")))?;
        Ok(Client {
            cfg,
            http,
            last: None,
            rng: Rng::new(0x55B),
        })
    }

    /// Cells a selection asks for (an expression counts as one value).
    pub fn cells(sel: &[Selection]) -> usize {
        sel.iter().map(|s| s.codes.len().max(1)).product()
    }

    /// Split a selection so that no part asks for more than `max` cells.
    pub fn split(sel: &[Selection], max: usize) -> Vec<Vec<Selection>> {
        if Self::cells(sel) <= max {
            return vec![sel.to_vec()];
        }
        let (i, _) = sel
            .iter()
            .enumerate()
            .max_by_key(|(_, s)| s.codes.len())
            .unwrap_or((0, &sel[0]));
        let others: usize = Self::cells(sel) / sel[i].codes.len().max(1);
        let per = (max / others.max(1)).max(1);
        sel[i]
            .codes
            .chunks(per)
            .flat_map(|chunk| {
                let mut part = sel.to_vec();
                part[i].codes = chunk.to_vec();
                Self::split(&part, max)
            })
            .collect()
    }

    /// Fetch a table's data for a selection, split into requests under the cell limit.
    pub fn data(&mut self, table: &str, sel: &[Selection]) -> Result<Fetched> {
        if table.is_empty() || !table.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::Usage(format!(
                "'{table}' is not an SSB table id (five digits, e.g. 07459)"
            )));
        }
        let mut sel: Vec<Selection> = sel.to_vec();
        for s in &mut sel {
            let mut seen = std::collections::HashSet::new();
            s.codes.retain(|c| seen.insert(c.clone()));
        }
        let parts = Self::split(&sel, self.cfg.max_cells);
        let mut out = Fetched {
            cubes: vec![],
            from_cache: 0,
            requests: 0,
        };
        for (k, part) in parts.iter().enumerate() {
            let (cube, cached) = self.post(table, part).map_err(|e| match e {
                Error::Fetch(m) => Error::Fetch(format!(
                    "request {} of {} to table {table}: {m}",
                    k + 1,
                    parts.len()
                )),
                other => other,
            })?;
            if cached {
                out.from_cache += 1;
            } else {
                out.requests += 1;
            }
            out.cubes.push(cube);
        }
        Ok(out)
    }

    fn post(&mut self, table: &str, sel: &[Selection]) -> Result<(Cube, bool)> {
        let url = format!(
            "{}/tables/{table}/data?lang=no&outputFormat=json-stat2",
            self.cfg.base_url.trim_end_matches('/')
        );
        let selection: Vec<serde_json::Value> = sel
            .iter()
            .map(|s| {
                let mut o = serde_json::json!({"variableCode": s.variable, "valueCodes": s.codes});
                if let Some(cl) = &s.codelist {
                    o["codelist"] = serde_json::Value::String(cl.clone());
                }
                o
            })
            .collect();
        let body = serde_json::json!({ "selection": selection }).to_string();
        let key = {
            use sha2::{Digest, Sha256};
            // the request itself (table, format, selection), not the server that answered it
            let d = Sha256::digest(
                format!("tables/{table}/data?lang=no&outputFormat=json-stat2\n{body}").as_bytes(),
            );
            d.iter().map(|b| format!("{b:02x}")).collect::<String>()
        };
        let cache = self
            .cfg
            .cache_dir
            .as_ref()
            .map(|d| d.join(format!("{key}.json")));
        if let Some(path) = &cache {
            if let Ok(text) = std::fs::read_to_string(path) {
                if let Ok(cube) = Cube::parse(&text) {
                    return Ok((cube, true));
                }
            }
        }
        if self.cfg.offline {
            return Err(fetch_err(
                "not in the cache, and --offline forbids the network".into(),
            ));
        }
        let mut attempt = 0;
        loop {
            if let Some(last) = self.last {
                let since = last.elapsed();
                if since < self.cfg.min_interval {
                    std::thread::sleep(self.cfg.min_interval - since);
                }
            }
            self.last = Some(Instant::now());
            let res = self
                .http
                .post(&url)
                .header("Content-Type", "application/json")
                .body(body.clone())
                .send();
            let wait = match res {
                Err(e) => {
                    let what = if e.is_timeout() {
                        "timed out".to_string()
                    } else {
                        format!("failed: {e}")
                    };
                    if attempt >= self.cfg.max_retries {
                        return Err(fetch_err(format!(
                            "{url} {what} ({} attempts)",
                            attempt + 1
                        )));
                    }
                    None
                }
                Ok(resp) => {
                    let status = resp.status().as_u16();
                    let retry_after = resp
                        .headers()
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.trim().parse::<u64>().ok());
                    let text = resp.text().map_err(|e| {
                        fetch_err(format!("{url}: the answer could not be read: {e}"))
                    })?;
                    match status {
                        200 => {
                            let cube =
                                Cube::parse(&text).map_err(|m| fetch_err(format!("{url}: {m}")))?;
                            if let Some(path) = &cache {
                                if let Some(dir) = path.parent() {
                                    let _ = std::fs::create_dir_all(dir);
                                }
                                let tmp = path.with_extension("tmp");
                                if std::fs::write(&tmp, &text).is_ok() {
                                    let _ = std::fs::rename(&tmp, path);
                                }
                            }
                            return Ok((cube, false));
                        }
                        400 | 403 => {
                            let msg = ssb_message(&text);
                            let hint = if msg.to_lowercase().contains("too many") {
                                " (the selection is too large; u4ssc splits at --max-cells)"
                            } else {
                                ""
                            };
                            return Err(fetch_err(format!(
                                "SSB refused the request ({status}): {msg}{hint}"
                            )));
                        }
                        404 => {
                            return Err(fetch_err(format!(
                                "SSB does not know table {table} or the address ({status}): {}",
                                ssb_message(&text)
                            )))
                        }
                        429 | 500 | 502 | 503 | 504 => {
                            if attempt >= self.cfg.max_retries {
                                return Err(fetch_err(format!(
                                    "SSB answered {status} {} times; last answer: {}",
                                    attempt + 1,
                                    ssb_message(&text)
                                )));
                            }
                            retry_after.map(Duration::from_secs)
                        }
                        other => {
                            return Err(fetch_err(format!(
                                "SSB answered {other}: {}",
                                ssb_message(&text)
                            )))
                        }
                    }
                }
            };
            let base = self.cfg.backoff.saturating_mul(1 << attempt.min(6));
            let jitter = base.mul_f64(self.rng.f64() * 0.5);
            std::thread::sleep(wait.unwrap_or(base + jitter));
            attempt += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_under_the_cell_limit_on_the_largest_variable() {
        let regions: Vec<String> = (0..1000).map(|i| format!("{i:04}")).collect();
        let years: Vec<String> = (1990..2026).map(|y| y.to_string()).collect();
        let sel = vec![
            Selection {
                variable: "Region".into(),
                codes: regions,
                codelist: None,
            },
            Selection {
                variable: "ContentsCode".into(),
                codes: vec!["Personer1".into()],
                codelist: None,
            },
            Selection {
                variable: "Tid".into(),
                codes: years,
                codelist: None,
            },
        ];
        assert_eq!(Client::cells(&sel), 36_000);
        let parts = Client::split(&sel, 10_000);
        assert!(parts.iter().all(|p| Client::cells(p) <= 10_000));
        let total: usize = parts.iter().map(|p| Client::cells(p)).sum();
        assert_eq!(total, 36_000);
    }

    #[test]
    fn problem_messages() {
        assert_eq!(
            ssb_message(r#"{"type":"Parameter error","title":"Non-existent table","status":404}"#),
            "Non-existent table"
        );
        assert_eq!(
            ssb_message(r#"{"error":"Too many values selected"}"#),
            "Too many values selected"
        );
        assert_eq!(ssb_message(""), "(empty body)");
    }
}
