//! One integration-test binary (so DuckDB is linked once): drives the real `u4ssc` binary on
//! temporary databases, the way city staff and coordinators use it.

// tests stop at the first surprise, with the reason: unwrap and expect are their assertions
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod bulk;
mod cli;
mod export;
mod fetch;
mod framework;
#[path = "../../fuzz/targets.rs"]
mod fuzz;
mod pipeline;
mod questions;
mod reliability;
mod round;
mod scoring;
mod submissions;
mod tui;
