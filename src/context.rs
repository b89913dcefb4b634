//! What every command works with: the catalog, the registry, where the database is, the
//! limits. Built from plain values (the CLI converts its options); opening it opens no
//! database. The database is opened by [`Ctx::open`] when a command needs it, and the
//! registry takes the populations fetched from SSB only when the CLI asks
//! ([`Ctx::with_stored_populations`]).

use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::registry::Registry;
use crate::store::{Access, Store};
use crate::submission::Limits;
use std::path::PathBuf;

/// The settings a context is built from (the CLI's global options, as plain values).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The database file; `None` is the user data directory's `u4ssc/u4ssc.duckdb`.
    pub db: Option<PathBuf>,
    /// A catalog file; `None` is the embedded catalog.
    pub catalog: Option<PathBuf>,
    /// A registry file; `None` is the embedded registry.
    pub registry: Option<PathBuf>,
    pub limits: Limits,
    /// Memory the database engine may use for data, in MB (at least 64).
    pub memory_mb: u64,
}

/// What every command needs: the catalog, the registry, where the database is, the limits.
#[derive(Clone)]
pub struct Ctx {
    /// The database as [`Ctx::with_stored_populations`] opened it, kept for the command's
    /// first [`Ctx::open`] with the same access: opening DuckDB costs ~25 ms, once is enough.
    kept: std::sync::Arc<std::sync::Mutex<Option<(Access, Store)>>>,
    pub catalog: Catalog,
    pub registry: Registry,
    pub db: PathBuf,
    /// No `--db` was given: the database is the user's default one (the demo on first use).
    pub db_is_default: bool,
    pub limits: Limits,
    pub memory_mb: u64,
}

impl Ctx {
    /// Load the catalog and the registry; nothing is opened.
    pub fn new(s: &Settings) -> Result<Ctx> {
        let catalog = match &s.catalog {
            Some(p) => Catalog::load(p)?,
            None => Catalog::embedded()?,
        };
        let registry = match &s.registry {
            Some(p) => Registry::load(p)?,
            None => Registry::embedded()?,
        };
        let (db, db_is_default) = match &s.db {
            Some(p) => (p.clone(), false),
            None => (default_db_path()?, true),
        };
        Ok(Ctx {
            kept: Default::default(),
            catalog,
            registry,
            db,
            db_is_default,
            limits: s.limits,
            memory_mb: s.memory_mb.max(64),
        })
    }

    /// The registry with the populations fetched from SSB in place of its typed ones (best
    /// effort: a database that is busy or absent leaves the registry as it is). With `keep`,
    /// the database is opened with that access and kept for the command's first
    /// [`Ctx::open`] with it; without, it is opened read-only and closed again.
    pub fn with_stored_populations(mut self, keep: Option<Access>) -> Ctx {
        if !self.db.exists() {
            return self;
        }
        let Ok(store) = Store::open(&self.db, keep.unwrap_or(Access::ReadOnly)) else {
            return self;
        };
        if let Ok(pops) = store.latest_populations() {
            for c in self.registry.cities.iter_mut() {
                if let Some((year, pop, source)) = pops.get(&c.slug) {
                    if *year >= c.population_year {
                        c.population = *pop as u64;
                        c.population_year = *year;
                        c.population_source = Some(source.clone());
                    }
                }
            }
        }
        if let Some(access) = keep {
            self.kept = std::sync::Arc::new(std::sync::Mutex::new(Some((access, store))));
        }
        self
    }

    /// Open the database with the context's memory limit (the one kept open, when its access
    /// is the one asked for; a kept one of the other access is closed first).
    pub fn open(&self, access: Access) -> Result<Store> {
        let kept = self.kept.lock().ok().and_then(|mut k| k.take());
        let store = match kept {
            Some((a, store)) if a == access => store,
            other => {
                drop(other);
                Store::open(&self.db, access)?
            }
        };
        store.set_memory_limit_mb(self.memory_mb)?;
        Ok(store)
    }
}

/// The default database: `u4ssc/u4ssc.duckdb` in the user's data directory.
pub fn default_db_path() -> Result<PathBuf> {
    dirs::data_dir()
        .map(|d| d.join("u4ssc").join("u4ssc.duckdb"))
        .ok_or_else(|| {
            Error::Usage(
                "cannot find a data directory for the database; give --db PATH or set U4SSC_DB"
                    .into(),
            )
        })
}
