//! u4ssc: benchmark cities on the U4SSC Key Performance Indicators for Smart Sustainable
//! Cities (ITU-T Y.4903). See ARCHITECTURE.md for the pipeline and its seams.

pub mod app;
pub mod catalog;
pub mod context;
pub mod convert;
pub mod demo;
pub mod error;
pub mod export;
pub mod fetch;
pub mod files;
pub mod framework;
pub mod import;
pub mod pipeline;
pub mod progress;
pub mod questions;
pub mod registry;
pub mod rows;
pub mod score_cmd;
pub mod scoring;
pub mod stats;
pub mod store;
pub mod submission;
pub mod table;
pub mod text;
pub mod trace;
pub mod tui;

pub use error::{Error, Result};
