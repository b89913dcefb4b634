//! The command line's arguments of `u4ssc fetch`, and their turning into the plain options
//! the fetch takes.

use crate::fetch::{client, FetchSourceOptions, SsbOptions};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum FetchSource {
    /// Statistics Norway's statistics bank (PxWebApi v2)
    Ssb(SsbArgs),
}

#[derive(Debug, Args)]
pub struct SsbArgs {
    /// `population`: update every city's population from table 07459
    #[arg(value_parser = ["population"])]
    pub what: Option<String>,
    /// Mapping of data points to SSB tables (e.g. kpis/sources/ssb.toml)
    #[arg(long)]
    pub map: Option<PathBuf>,
    /// Year to fetch [population: the latest; --map: last year]
    #[arg(long)]
    pub year: Option<i32>,
    /// API base URL
    #[arg(long, env = "U4SSC_SSB_URL", default_value = client::DEFAULT_BASE_URL)]
    pub base_url: String,
    /// Cache directory [default: the user cache directory, u4ssc/ssb]
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Use the cache only (answers of any age); never the network
    #[arg(long, conflicts_with = "refresh")]
    pub offline: bool,
    /// Ask SSB again even when the cache holds a fresh answer
    #[arg(long)]
    pub refresh: bool,
    /// Hours a cached answer is used before SSB is asked again
    #[arg(long, default_value_t = client::CACHE_MAX_AGE_HOURS)]
    pub cache_max_age_hours: u64,
    /// Seconds before a request times out
    #[arg(long, default_value_t = 60)]
    pub timeout_secs: u64,
    /// Milliseconds between two requests (2000 = SSB's 30 a minute)
    #[arg(long, default_value_t = 2000)]
    pub min_interval_ms: u64,
    /// First retry wait in milliseconds (doubles each retry)
    #[arg(long, default_value_t = 2000)]
    pub backoff_ms: u64,
    /// Retries after a timeout, 429 or 5xx answer, before the fetch gives up
    #[arg(long, default_value_t = 4)]
    pub max_retries: u32,
    /// Largest number of cells in one request (SSB allows 800 000); an answer that
    /// declares more is refused
    #[arg(long, default_value_t = client::MAX_CELLS)]
    pub max_cells: usize,
    /// Largest answer read, in MB; a longer one is an error
    #[arg(long, default_value_t = client::MAX_BODY_MB)]
    pub max_body_mb: u64,
    /// Longest wait before a retry, in seconds; a server that asks for more (Retry-After)
    /// ends the fetch at once
    #[arg(long, default_value_t = client::MAX_RETRY_WAIT_SECS)]
    pub max_retry_wait_secs: u64,
}

impl SsbArgs {
    pub fn options(&self) -> SsbOptions {
        SsbOptions {
            what: self.what.clone(),
            map: self.map.clone(),
            year: self.year,
            base_url: self.base_url.clone(),
            cache_dir: self.cache_dir.clone(),
            offline: self.offline,
            refresh: self.refresh,
            cache_max_age_hours: self.cache_max_age_hours,
            timeout_secs: self.timeout_secs,
            min_interval_ms: self.min_interval_ms,
            backoff_ms: self.backoff_ms,
            max_retries: self.max_retries,
            max_cells: self.max_cells,
            max_body_mb: self.max_body_mb,
            max_retry_wait_secs: self.max_retry_wait_secs,
        }
    }
}

impl FetchSource {
    pub fn options(&self) -> FetchSourceOptions {
        match self {
            FetchSource::Ssb(x) => FetchSourceOptions::Ssb(x.options()),
        }
    }
}
