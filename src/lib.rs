//! u4ssc: benchmark cities on the U4SSC Key Performance Indicators for Smart Sustainable
//! Cities (ITU-T Y.4903). See ARCHITECTURE.md for the pipeline and its seams.
//!
//! A module is `pub` when the integration tests, benchmarks or fuzz targets use it; the
//! others are private, so the compiler reports what nothing calls.

pub mod app;
pub mod catalog;
pub mod context;
pub mod convert;
pub mod demo;
mod error;
pub mod export;
pub mod fetch;
mod files;
pub mod framework;
pub mod import;
pub mod pipeline;
pub mod progress;
pub mod questions;
pub mod registry;
mod rows;
pub mod score_cmd;
pub mod scoring;
pub mod stats;
pub mod steps;
pub mod store;
pub mod submission;
pub mod table;
mod text;
mod trace;
pub mod tui;

pub use error::{Error, Result};
