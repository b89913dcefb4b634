//! A client for Statistics Norway's PxWebApi v2: POST bodies, de-duplicated value codes, a
//! pre-flight cell count with automatic splitting, one request at a time and at most 30 a
//! minute, retries with backoff and jitter on 429/5xx/timeouts (honouring Retry-After), clear
//! errors for 400/403/404 with SSB's message, and an on-disk cache keyed by the request.
//! The server is not trusted: a body is read up to a size limit, a declared cube size is
//! checked before anything is allocated, Retry-After is capped, and redirects are followed
//! only within the configured scheme, host and port.
//! This is the only module that names `reqwest`.

use super::jsonstat::Cube;
use crate::demo::Rng;
use crate::error::{Error, Result};
use std::io::Read;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

pub const DEFAULT_BASE_URL: &str = "https://data.ssb.no/api/pxwebapi/v2";
pub const MAX_CELLS: usize = 800_000;
/// The largest answer read (SSB's largest, 800 000 cells, is about 20 MB of JSON-stat).
pub const MAX_BODY_MB: u64 = 64;
/// The longest wait a Retry-After may ask for before u4ssc gives up instead.
pub const MAX_RETRY_WAIT_SECS: u64 = 60;

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
    /// the largest body read; a longer answer is an error
    pub max_body_bytes: u64,
    /// the longest wait before a retry (Retry-After or backoff); a server asking for more
    /// is an error at once
    pub max_retry_wait: Duration,
    /// how long a cached answer is used before SSB is asked again (offline: any age)
    pub cache_max_age: Duration,
    /// ask SSB even when the cache has a fresh answer (and cache the new one)
    pub refresh: bool,
}

/// How long a cached answer is used by default: SSB publishes at most daily.
pub const CACHE_MAX_AGE_HOURS: u64 = 24;

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
            max_body_bytes: MAX_BODY_MB * 1024 * 1024,
            max_retry_wait: Duration::from_secs(MAX_RETRY_WAIT_SECS),
            cache_max_age: Duration::from_secs(CACHE_MAX_AGE_HOURS * 3600),
            refresh: false,
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
    /// when the oldest answer taken from the cache was fetched
    pub oldest_cached: Option<SystemTime>,
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

/// A Retry-After value: seconds, or an HTTP-date (RFC 9110 §10.2.3) turned into the time
/// left until then (zero if it has passed). None if it is neither.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_http_date(v)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// An HTTP-date in any of its three forms: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`),
/// RFC 850 (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    let tokens: Vec<&str> = s.split([' ', ',', '-']).filter(|t| !t.is_empty()).collect();
    if tokens.len() < 5 || tokens.len() > 6 {
        return None;
    }
    let month = tokens
        .iter()
        .find_map(|t| MONTHS.iter().position(|m| t.eq_ignore_ascii_case(m)))?
        as i64
        + 1;
    let time: Vec<i64> = tokens
        .iter()
        .find(|t| t.contains(':'))?
        .split(':')
        .map(|x| x.parse().ok())
        .collect::<Option<_>>()?;
    let numbers: Vec<i64> = tokens
        .iter()
        .filter(|t| !t.is_empty() && t.len() <= 4 && t.bytes().all(|b| b.is_ascii_digit()))
        .map(|t| t.parse().ok())
        .collect::<Option<_>>()?;
    let [day, year] = numbers[..] else {
        return None;
    };
    let year = match year {
        0..=69 => year + 2000,
        70..=99 => year + 1900,
        y => y,
    };
    let [h, m, sec] = time[..] else { return None };
    if !(1..=31).contains(&day) || h > 23 || m > 59 || sec > 60 || year < 1970 {
        return None;
    }
    // days since 1970-01-01 of a civil date (Howard Hinnant's algorithm)
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + h * 3600 + m * 60 + sec;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).ok()?))
}

/// Read at most `limit` bytes of an answer; a longer one is an error, before it fills memory.
fn read_limited(resp: reqwest::blocking::Response, limit: u64, url: &str) -> Result<String> {
    let too_long = || {
        fetch_err(format!(
            "{url}: the answer is longer than {} MB; nothing was read past that (raise --max-body-mb if SSB really sends this much)",
            limit / (1024 * 1024)
        ))
    };
    if resp.content_length().is_some_and(|n| n > limit) {
        return Err(too_long());
    }
    let mut buf = Vec::new();
    resp.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| fetch_err(format!("{url}: the answer could not be read: {e}")))?;
    if buf.len() as u64 > limit {
        return Err(too_long());
    }
    String::from_utf8(buf).map_err(|e| {
        fetch_err(format!(
            "{url}: the answer is not UTF-8 text (byte {} is not)",
            e.utf8_error().valid_up_to()
        ))
    })
}

impl Client {
    pub fn new(cfg: Config) -> Result<Client> {
        let base = reqwest::Url::parse(&cfg.base_url).map_err(|e| {
            Error::Usage(format!(
                "--base-url {}: not an address ({e})",
                crate::text::shown(&cfg.base_url)
            ))
        })?;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(Error::Usage(format!(
                "--base-url {}: only http:// and https:// addresses with a host are fetched",
                crate::text::shown(&cfg.base_url)
            )));
        }
        // follow a redirect only to the same scheme, host and port: never another server
        // (which would get the request re-sent), never file: or another scheme
        let origin = (
            base.scheme().to_string(),
            base.host_str().map(str::to_string),
            base.port_or_known_default(),
        );
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            let u = attempt.url();
            let same = u.scheme() == origin.0
                && u.host_str().map(str::to_string) == origin.1
                && u.port_or_known_default() == origin.2;
            if !same {
                attempt.stop()
            } else if attempt.previous().len() >= 5 {
                attempt.error("more than 5 redirects")
            } else {
                attempt.follow()
            }
        });
        let http = reqwest::blocking::Client::builder()
            .timeout(cfg.timeout)
            .redirect(policy)
            .user_agent(concat!("u4ssc/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| fetch_err(format!("cannot start the HTTP client: {e}")))?;
        // jitter that differs between processes, so clients that failed together do not
        // retry together
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
            ^ (u64::from(std::process::id()) << 32);
        Ok(Client {
            cfg,
            http,
            last: None,
            rng: Rng::new(seed),
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
            oldest_cached: None,
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
            match cached {
                Some(at) => {
                    out.from_cache += 1;
                    out.oldest_cached = Some(out.oldest_cached.map_or(at, |o| o.min(at)));
                }
                None => out.requests += 1,
            }
            out.cubes.push(cube);
        }
        Ok(out)
    }

    /// The cube, and when it was fetched if it came from the cache.
    fn post(&mut self, table: &str, sel: &[Selection]) -> Result<(Cube, Option<SystemTime>)> {
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
            let fetched_at = std::fs::metadata(path).and_then(|m| m.modified()).ok();
            // offline takes any age; otherwise a fresh answer unless --refresh
            let usable = fetched_at.is_some_and(|at| {
                self.cfg.offline
                    || (!self.cfg.refresh
                        && at.elapsed().unwrap_or(Duration::ZERO) <= self.cfg.cache_max_age)
            });
            if usable {
                if let Ok(text) = std::fs::read_to_string(path) {
                    if let Ok(cube) = Cube::parse(&text, self.cfg.max_cells) {
                        return Ok((cube, fetched_at));
                    }
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
                    let wait = self.cfg.min_interval - since;
                    crate::progress::note(
                        "fetch",
                        &format!(
                            "waiting {:.1} s between requests (SSB's rate limit)",
                            wait.as_secs_f64()
                        ),
                    );
                    std::thread::sleep(wait);
                }
            }
            self.last = Some(Instant::now());
            crate::progress::note("fetch", "asking SSB");
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
                        format!("failed: {}", with_causes(&e))
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
                    let header = |name: &str| {
                        resp.headers()
                            .get(name)
                            .and_then(|v| v.to_str().ok())
                            .map(str::to_string)
                    };
                    let retry_after_text = header("retry-after");
                    let location = header("location");
                    let text = read_limited(resp, self.cfg.max_body_bytes, &url)?;
                    match status {
                        200 => {
                            let cube = Cube::parse(&text, self.cfg.max_cells)
                                .map_err(|m| fetch_err(format!("{url}: {m}")))?;
                            if let Some(path) = &cache {
                                if let Some(dir) = path.parent() {
                                    let _ = std::fs::create_dir_all(dir);
                                }
                                let tmp = path.with_extension("tmp");
                                if std::fs::write(&tmp, &text).is_ok() {
                                    let _ = std::fs::rename(&tmp, path);
                                }
                            }
                            return Ok((cube, None));
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
                            match retry_after_text {
                                None => None,
                                Some(v) => match retry_after(&v, SystemTime::now()) {
                                    Some(d) if d > self.cfg.max_retry_wait => {
                                        return Err(fetch_err(format!(
                                            "SSB answered {status} and asks to wait {} s before trying again (Retry-After: {}), longer than the {} s u4ssc waits (--max-retry-wait-secs); try again later",
                                            d.as_secs(),
                                            crate::text::shown(&v),
                                            self.cfg.max_retry_wait.as_secs()
                                        )));
                                    }
                                    Some(d) => Some(d),
                                    // an unreadable Retry-After: the usual backoff
                                    None => None,
                                },
                            }
                        }
                        301 | 302 | 303 | 307 | 308 => {
                            return Err(fetch_err(format!(
                                "{url} redirected ({status}) to {}, another server or scheme; u4ssc follows redirects only within {}",
                                crate::text::shown(location.as_deref().unwrap_or("(no Location)")),
                                self.cfg.base_url
                            )))
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
            let pause = wait.unwrap_or(base + jitter).min(self.cfg.max_retry_wait);
            crate::progress::note(
                "fetch",
                &format!(
                    "SSB asked to wait: retry {} in {:.1} s",
                    attempt + 1,
                    pause.as_secs_f64()
                ),
            );
            std::thread::sleep(pause);
            attempt += 1;
        }
    }
}

/// An error with the causes under it (`error sending request: … dns error: failed to lookup
/// address …`): reqwest's own text stops at the first, which does not say why.
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
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
    fn retry_after_in_seconds_and_as_an_http_date() {
        let now = parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            now.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            784_111_777
        );
        assert_eq!(retry_after(" 120 ", now), Some(Duration::from_secs(120)));
        assert_eq!(
            retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            retry_after("Sunday, 06-Nov-94 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            retry_after("Sun Nov  6 08:49:38 1994", now),
            Some(Duration::from_secs(1))
        );
        // a date in the past: no wait
        assert_eq!(
            retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in ["soon", "-5", "Sun, 32 Nov 1994 08:49:37 GMT", "1e9", ""] {
            assert_eq!(retry_after(bad, now), None, "{bad}");
        }
        assert_eq!(
            parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(SystemTime::UNIX_EPOCH)
        );
        assert_eq!(
            parse_http_date("Tue, 29 Feb 2028 12:00:00 GMT")
                .unwrap()
                .duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs(),
            1_835_438_400
        );
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
