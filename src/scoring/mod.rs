//! Scoring: official U4SSC bands, composite scores, peers, trends and rank uncertainty.

pub mod bands;
pub mod engine;
pub mod method;
pub mod run;
pub mod sensitivity;
pub mod trends;
pub mod uncertainty;
