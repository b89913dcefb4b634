//! Arrow batches inserted by one `INSERT … SELECT` that DuckDB runs on several threads: a
//! table function (`u4ssc_batches(token)`) that hands out vector-sized slices of batches
//! the caller registered, to whichever of DuckDB's threads asks next. Inside the caller's
//! transaction, unlike a second connection: a run stays one transaction.

use duckdb::arrow::record_batch::RecordBatch;
use duckdb::core::{DataChunkHandle, LogicalTypeHandle, LogicalTypeId};
use duckdb::vtab::{
    record_batch_to_duckdb_data_chunk, to_duckdb_logical_type_for_field, BindInfo, InitInfo,
    TableFunctionInfo, VTab,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError};

/// The name the table function is registered under.
pub(super) const FUNCTION: &str = "u4ssc_batches";

type Slices = Arc<Vec<RecordBatch>>;

/// Registered slices by token: a table function is not tied to a connection, so the slices
/// are found by a number passed as its argument.
static REGISTERED: LazyLock<Mutex<HashMap<u64, Slices>>> = LazyLock::new(Default::default);
static NEXT_TOKEN: AtomicU64 = AtomicU64::new(1);

fn registered() -> MutexGuard<'static, HashMap<u64, Slices>> {
    REGISTERED.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Batches of one table's columns, cut into slices of at most one DuckDB vector.
pub(super) struct Pending {
    table: &'static str,
    slices: Vec<RecordBatch>,
    rows: usize,
}

impl Pending {
    pub(super) fn new(table: &'static str) -> Pending {
        Pending {
            table,
            slices: Vec::new(),
            rows: 0,
        }
    }

    /// Gather `batch`, and insert what is gathered once it holds `every` rows or more.
    pub(super) fn add(
        &mut self,
        conn: &duckdb::Connection,
        batch: RecordBatch,
        every: usize,
    ) -> duckdb::Result<()> {
        self.push(batch);
        if self.rows >= every {
            self.insert(conn)?;
        }
        Ok(())
    }

    fn push(&mut self, batch: RecordBatch) {
        // DuckDB's vector size (STANDARD_VECTOR_SIZE)
        const VECTOR: usize = 2048;
        let n = batch.num_rows();
        self.rows += n;
        let mut at = 0;
        while at < n {
            let len = VECTOR.min(n - at);
            self.slices.push(batch.slice(at, len));
            at += len;
        }
    }

    /// Insert every pending slice into the table with one statement on all of DuckDB's
    /// threads, then set both settings back; the rows' order in the table is then
    /// not theirs.
    pub(super) fn insert(&mut self, conn: &duckdb::Connection) -> duckdb::Result<()> {
        if self.slices.is_empty() {
            return Ok(());
        }
        // set back after the insert (a run keeps DuckDB on one thread)
        let (threads, ordered): (i64, bool) = conn.query_row(
            "SELECT current_setting('threads'), current_setting('preserve_insertion_order')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let slices = std::mem::take(&mut self.slices);
        self.rows = 0;
        let token = NEXT_TOKEN.fetch_add(1, Ordering::Relaxed);
        registered().insert(token, Arc::new(slices));
        // DuckDB inserts in parallel only with more than one thread and the rows' order left
        // to it (every reader orders what it reads). The settings are the database's, so
        // they are lifted for this statement alone and then set back as they were.
        let out = conn
            .execute_batch("RESET threads; SET preserve_insertion_order = false")
            .and_then(|()| {
                conn.execute(
                    &format!("INSERT INTO {} SELECT * FROM {FUNCTION}(?)", self.table),
                    duckdb::params![token],
                )
            });
        registered().remove(&token);
        let back = conn.execute_batch(&format!(
            "SET threads = {threads}; SET preserve_insertion_order = {ordered}"
        ));
        out.and(back).map(|_| ())
    }
}

/// The table function.
pub(super) struct BatchScan;

pub(super) struct BindData {
    slices: Slices,
}

pub(super) struct InitData {
    next: AtomicUsize,
}

impl VTab for BatchScan {
    type BindData = BindData;
    type InitData = InitData;

    fn bind(bind: &BindInfo) -> std::result::Result<BindData, Box<dyn std::error::Error>> {
        let token = bind.get_parameter(0).to_uint64();
        let slices = registered()
            .get(&token)
            .cloned()
            .ok_or_else(|| format!("no batches are registered as {token}"))?;
        let first = slices.first().ok_or("no batches to insert")?;
        for f in first.schema().fields() {
            bind.add_result_column(f.name(), to_duckdb_logical_type_for_field(f)?);
        }
        Ok(BindData { slices })
    }

    fn init(init: &InitInfo) -> std::result::Result<InitData, Box<dyn std::error::Error>> {
        // as many as DuckDB's `threads` setting gives the statement
        init.set_max_threads(u16::MAX.into());
        Ok(InitData {
            next: AtomicUsize::new(0),
        })
    }

    fn func(
        func: &TableFunctionInfo<Self>,
        output: &mut DataChunkHandle,
    ) -> std::result::Result<(), Box<dyn std::error::Error>> {
        let slices = &func.get_bind_data().slices;
        let i = func.get_init_data().next.fetch_add(1, Ordering::Relaxed);
        match slices.get(i) {
            Some(slice) => record_batch_to_duckdb_data_chunk(slice, output)?,
            None => output.set_len(0),
        }
        Ok(())
    }

    fn parameters() -> Option<Vec<LogicalTypeHandle>> {
        Some(vec![LogicalTypeHandle::from(LogicalTypeId::UBigint)])
    }
}
