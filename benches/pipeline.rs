//! Benchmarks (never run as tests): `cargo bench --bench pipeline [-- 356 | -- world]`.
//! Times the main jobs on synthetic worlds from the demo generator, medians of several runs.

// a benchmark stops at the first failure, with the reason: expect is its error handling
#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::time::Instant;
use u4ssc::catalog::Catalog;
use u4ssc::demo::{self, DemoSpec};
use u4ssc::export::ExportFormat;
use u4ssc::registry::Registry;
use u4ssc::scoring::engine::{self, Tree};
use u4ssc::scoring::method::{Method, DEFAULT};
use u4ssc::scoring::uncertainty;
use u4ssc::store::{Access, Store};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut times = Vec::new();
    let mut last = None;
    for _ in 0..runs {
        let t = Instant::now();
        last = Some(f());
        times.push(t.elapsed().as_secs_f64());
    }
    (median(times), last.expect("at least one run"))
}

fn peak_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse::<f64>()
                    .unwrap_or(0.0)
                    / 1024.0
            })
        })
        .unwrap_or(0.0)
}

/// Open the TUI's data on a scored database and time the first frame and a keystroke.
fn tui_open(db: &std::path::Path, registry: &Registry) {
    use u4ssc::tui::state::{update, Action, App};
    let mut ctx = u4ssc::context::Ctx::new(&global(Some(db.to_path_buf()))).expect("ctx");
    ctx.registry = registry.clone();
    reset_peak();
    let (t_first, mut app) = time(5, || {
        let snap = u4ssc::tui::data::load(&ctx, None, None).expect("load");
        let mut app = App::new(ctx.catalog.clone(), ctx.registry.clone());
        let _ = app.start();
        let id = app.request;
        update(&mut app, Action::Resize(160, 48));
        update(&mut app, Action::Loaded(id, Ok(Box::new(snap))));
        let _ = u4ssc::tui::render_to_string(&app, 160, 48);
        app
    });
    let p_first = peak_mb();
    let (t_key, _) = time(101, || {
        update(&mut app, Action::Down);
        u4ssc::tui::render_to_string(&app, 160, 48)
    });
    row("TUI: load the run + first full frame", t_first, p_first);
    println!(
        "{:<52} {:>9.4} {:>9.0}",
        "TUI: keystroke (j) to redrawn frame",
        t_key,
        peak_mb()
    );
}

/// The latest run of a store.
fn run_id(store: &Store) -> i64 {
    store.runs().expect("runs").last().expect("a run").run_id
}

/// Reset the peak resident set size, so that each job's peak is its own.
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn global(db: Option<std::path::PathBuf>) -> u4ssc::context::Settings {
    u4ssc::context::Settings {
        db,
        catalog: None,
        registry: None,
        limits: u4ssc::submission::Limits {
            max_file_bytes: u64::MAX,
            max_rows: usize::MAX,
            max_field_chars: 10_000,
        },
        memory_mb: 256,
    }
}

/// A Python snippet or script run to the end; its standard output, or why it was skipped.
fn python(args: &[&str]) -> std::result::Result<String, String> {
    let out = std::process::Command::new("python3")
        .args(args)
        .output()
        .map_err(|e| format!("no python3 ({e})"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err.lines().last().unwrap_or("failed").to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The official DuckDB (the Python wheel users install) running the floor's SQL on the
/// same file, into a table of a database file, timed from connecting to closing.
fn wheel_floor(
    csv: &std::path::Path,
    db: &std::path::Path,
) -> std::result::Result<(f64, String), String> {
    let code = format!(
        "import duckdb, time\n\
         t = time.perf_counter()\n\
         c = duckdb.connect({db:?})\n\
         c.execute(\"SET enable_progress_bar = false\")\n\
         c.execute(\"SET memory_limit = '256MB'\")\n\
         c.execute(\"CREATE TABLE floor AS SELECT * FROM read_csv(?, header = true, all_varchar = true)\", [{csv:?}])\n\
         c.close()\n\
         print(time.perf_counter() - t, duckdb.__version__)\n",
        db = db.display().to_string(),
        csv = csv.display().to_string(),
    );
    let out = python(&["-c", &code])?;
    let mut f = out.split_whitespace();
    let t = f
        .next()
        .and_then(|t| t.parse().ok())
        .ok_or_else(|| format!("unexpected output {out:?}"))?;
    Ok((t, f.next().unwrap_or("?").to_string()))
}

/// The same-work pandas pipeline (`../shared/bench/baseline_pandas_full.py`): import and
/// score --draws 0 of the same file, its own timing (interpreter start and imports excluded).
fn pandas_pipeline(
    csv: &std::path::Path,
    kpis_json: &std::path::Path,
    out: &std::path::Path,
) -> std::result::Result<f64, String> {
    let script = std::path::Path::new("../shared/bench/baseline_pandas_full.py");
    if !script.exists() {
        return Err(format!("{} not found", script.display()));
    }
    python(&["-c", "import pandas, pyarrow"])?;
    let text = python(&[
        &script.display().to_string(),
        &csv.display().to_string(),
        &kpis_json.display().to_string(),
        &out.display().to_string(),
    ])?;
    text.split_whitespace()
        .find_map(|w| w.strip_prefix("seconds=")?.parse().ok())
        .ok_or_else(|| format!("unexpected output {text:?}"))
}

/// A row for a job in another process, whose peak memory this process cannot see.
fn row_no_peak(what: &str, seconds: f64) {
    println!("{what:<52} {seconds:>9.3} {:>9}", "-");
}

fn skipped(what: &str, why: &str) {
    println!("{what:<52} {:>9} ({why})", "skipped");
}

fn row(what: &str, seconds: f64, peak: f64) {
    println!("{what:<52} {seconds:>9.3} {peak:>9.0}");
}

/// Every job on one synthetic world, as a user runs it: generate, import (bulk path; row by
/// row for comparison), DuckDB's own read_csv as the floor, score, Monte Carlo, export, TUI.
fn measure(cities: usize, years: i32, runs: usize) {
    let catalog = Catalog::embedded().expect("catalog");
    let registry = Registry::embedded().expect("registry");
    let world = demo::world_cities(&registry, cities);
    let reg = Registry::from_cities(world.clone());
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("world.csv");
    let spec = DemoSpec {
        years: (2025 - years)..=2024,
        seed: 2026,
    };
    let (t_demo, rows) = time(1, || {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&csv).expect("create"));
        demo::write_csv(&mut f, &catalog, &world, &spec).expect("write")
    });
    println!(
        "world: {cities} cities x {years} years = {rows} rows ({:.1} MB); medians of {runs} run(s)",
        std::fs::metadata(&csv)
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(0.0)
    );
    println!("{:<52} {:>9} {:>9}", "job", "seconds", "peak MB");
    row("demo generation", t_demo, peak_mb());
    let ctx_for = |db: &std::path::Path| {
        let mut ctx = u4ssc::context::Ctx::new(&global(Some(db.to_path_buf()))).expect("ctx");
        ctx.registry = reg.clone();
        ctx
    };
    let mut n = 0;
    // `u4ssc import` into an existing (empty) database
    let mut import = |bulk: bool| {
        let mut peak: f64 = 0.0;
        let mut times = Vec::new();
        for _ in 0..runs {
            // set-up (untimed): an empty database and the context, as a user has them
            n += 1;
            let db = dir.path().join(format!("import{n}.duckdb"));
            drop(Store::open(&db, Access::ReadWrite).expect("create"));
            let ctx = ctx_for(&db);
            std::env::set_var("U4SSC_NO_BULK", if bulk { "0" } else { "1" });
            let args = u4ssc::app::ImportArgs {
                files: vec![csv.clone()],
                dry_run: false,
                jump_factor: 3.0,
                city: None,
                year: None,
                format: u4ssc::table::DocFormat::Text,
            };
            let mut out = std::io::sink();
            reset_peak();
            let t = Instant::now();
            let code = u4ssc::app::import(&ctx, &args, &mut out).expect("import");
            times.push(t.elapsed().as_secs_f64());
            peak = peak.max(peak_mb());
            assert_eq!(code, 0);
        }
        (median(times), peak)
    };
    let (t_import, p_import) = import(true);
    let rows_path = (cities <= 356).then(|| import(false));
    std::env::remove_var("U4SSC_NO_BULK");
    let mut p_floor: f64 = 0.0;
    let mut floor_times = Vec::new();
    let mut floor_rows = 0;
    for k in 0..runs {
        // set-up (untimed): an empty database, as the import has it
        let db = dir.path().join(format!("floor{k}.duckdb"));
        drop(Store::open(&db, Access::ReadWrite).expect("create"));
        reset_peak();
        // timed from opening the database to closing it (its checkpoint), as an import is
        let t = Instant::now();
        let store = Store::open(&db, Access::ReadWrite).expect("open");
        store.set_memory_limit_mb(256).expect("limit");
        floor_rows = store.read_csv_floor(&csv).expect("read_csv");
        drop(store);
        floor_times.push(t.elapsed().as_secs_f64());
        p_floor = p_floor.max(peak_mb());
    }
    let t_floor = median(floor_times);
    assert_eq!(floor_rows as usize, rows);
    row(
        "import (bulk: survey, one INSERT from read_csv)",
        t_import,
        p_import,
    );
    row(
        "DuckDB read_csv into a table of a DB file (floor)",
        t_floor,
        p_floor,
    );
    println!("{:<52} {:>8.1}x", "import / floor", t_import / t_floor);
    match wheel_floor(&csv, &dir.path().join("wheel_floor.duckdb")) {
        Ok((t, version)) => {
            row_no_peak(
                &format!("official DuckDB {version} (Python wheel), same SQL"),
                t,
            );
            println!(
                "{:<52} {:>8.1}x",
                "import / official DuckDB floor",
                t_import / t
            );
            println!(
                "{:<52} {:>8.1}x",
                "bundled DuckDB floor / official floor",
                t_floor / t
            );
        }
        Err(why) => skipped("official DuckDB (Python wheel), same SQL", &why),
    }
    if let Some((t, p)) = rows_path {
        row("  row-by-row import, for comparison", t, p);
    }
    // score every year and level and store the run (what `u4ssc score --draws 0` does)
    let db = dir.path().join("import1.duckdb");
    let ctx = ctx_for(&db);
    let m = Method::parse(DEFAULT, "default").expect("method");
    let mut p_score: f64 = 0.0;
    let (t_score, _) = time(runs, || {
        let mut store = ctx.open(Access::ReadWrite).expect("open");
        reset_peak();
        let id =
            u4ssc::score_cmd::score_into(&ctx, &mut store, &m, DEFAULT, Some(0)).expect("score");
        p_score = p_score.max(peak_mb());
        id
    });
    row("score all years and levels, stored", t_score, p_score);
    // the floor for storing: DuckDB inserting as many rows of the same shape itself
    let (dp_rows, node_rows) = {
        let store = ctx.open(Access::ReadOnly).expect("open");
        let run = store.runs().expect("runs").last().expect("a run").run_id;
        store.run_row_counts(run).expect("counts")
    };
    let mut p_store: f64 = 0.0;
    let (t_store, _) = time(runs, || {
        let mut store =
            Store::open(&dir.path().join("store_floor.duckdb"), Access::ReadWrite).expect("open");
        store.set_memory_limit_mb(256).expect("limit");
        reset_peak();
        store
            .insert_scores_floor(dp_rows, node_rows)
            .expect("insert");
        p_store = p_store.max(peak_mb());
    });
    row(
        &format!(
            "DuckDB INSERT of the run's {:.2} M rows (floor)",
            (dp_rows + node_rows) as f64 / 1e6
        ),
        t_store,
        p_store,
    );
    println!("{:<52} {:>8.1}x", "score / floor", t_score / t_store);
    // what a user would do instead: the same work in pandas
    let kpis_json = dir.path().join("kpis.json");
    {
        let mut text = Vec::new();
        let args = u4ssc::app::KpisArgs {
            search: None,
            format: u4ssc::table::OutputFormat::Json,
        };
        u4ssc::app::kpis(&ctx, &args, &mut text).expect("kpis");
        std::fs::write(&kpis_json, text).expect("write kpis.json");
    }
    match pandas_pipeline(&csv, &kpis_json, &dir.path().join("pandas")) {
        Ok(t) => {
            row_no_peak("pandas pipeline, same work (import + score)", t);
            println!(
                "{:<52} {:>8.1}x",
                "pandas / u4ssc (import + score --draws 0)",
                t / (t_import + t_score)
            );
        }
        Err(why) => skipped("pandas pipeline, same work (import + score)", &why),
    }
    // rank intervals up to 1 000 cities (the goal's scale: `-- 1000`)
    if cities <= 1000 {
        let store = ctx.open(Access::ReadOnly).expect("open");
        let latest = store
            .current_years()
            .expect("years")
            .last()
            .copied()
            .expect("a year");
        let values = store
            .current_values_where(&u4ssc::store::Filter {
                level: None,
                year: Some(latest),
                city: None,
                data_point: None,
            })
            .expect("values");
        drop(store);
        let tree = Tree::new(&catalog);
        let mats = engine::matrices(&catalog, &reg, &values, &m);
        let mat = mats.last().expect("a year");
        reset_peak();
        let (t_mc, _) = time(runs, || {
            uncertainty::rank_intervals(&catalog, &tree, mat, &m, 1000)
        });
        row(
            &format!("Monte Carlo, 1000 draws, {} cities", mat.cities.len()),
            t_mc,
            peak_mb(),
        );
    }
    if cities > 17 {
        // the analysts' batch export of everything (streamed past 2 M rows) beside DuckDB's
        // own COPY of the same rows
        let out = dir.path().join("export_flat");
        let args = u4ssc::export::ExportOptions {
            out: out.clone(),
            format: vec![ExportFormat::Csv, ExportFormat::Parquet],
            city: Vec::new(),
            year: None,
            run: None,
            xlsx_city_sheets: false,
            partition_by: None,
        };
        // with the memory the command gives an export (and the floor beside it the same)
        let mut ctx = ctx.clone();
        ctx.memory_mb = u4ssc::app::EXPORT_MEMORY_MB;
        reset_peak();
        let (t_export, _) = time(1, || u4ssc::export::export(&ctx, &args).expect("export"));
        let p_export = peak_mb();
        row(
            "export --format csv,parquet (everything)",
            t_export,
            p_export,
        );
        let floor_dir = dir.path().join("copy_floor");
        std::fs::create_dir_all(&floor_dir).expect("floor dir");
        let store = ctx.open(Access::ReadOnly).expect("open");
        reset_peak();
        let (t_copy, copied) = time(1, || {
            store.copy_floor(run_id(&store), &floor_dir).expect("copy")
        });
        row(
            &format!(
                "DuckDB COPY of the {:.2} M rows to CSV + Parquet (floor)",
                copied as f64 / 1e6
            ),
            t_copy,
            peak_mb(),
        );
        println!("{:<52} {:>8.1}x", "export / floor", t_export / t_copy);
    }
    if cities <= 17 {
        let out = dir.path().join("export");
        let mut p_export: f64 = 0.0;
        let (t_export, _) = time(runs, || {
            let _ = std::fs::remove_dir_all(&out);
            let args = u4ssc::export::ExportOptions {
                out: out.clone(),
                format: vec![
                    ExportFormat::Csv,
                    ExportFormat::Json,
                    ExportFormat::Parquet,
                    ExportFormat::Xlsx,
                    ExportFormat::Html,
                    ExportFormat::Md,
                    ExportFormat::Jsonld,
                ],
                city: Vec::new(),
                year: None,
                run: None,
                xlsx_city_sheets: false,
                partition_by: None,
            };
            reset_peak();
            u4ssc::export::export(&ctx, &args).expect("export");
            p_export = p_export.max(peak_mb());
        });
        row("export everything, every format", t_export, p_export);
    }
    tui_open(&db, &reg);
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "tui") {
        let path = std::path::PathBuf::from(args.get(i + 1).expect("tui PATH"));
        let reg = Registry::embedded().expect("registry");
        tui_open(
            &path,
            &Registry::from_cities(demo::world_cities(&reg, 10_000)),
        );
        return;
    }
    if args.iter().any(|a| a == "world") {
        let n = args.iter().find_map(|a| a.parse().ok()).unwrap_or(10_000);
        measure(n, 10, 1);
        return;
    }
    let cities: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(17);
    measure(cities, if cities <= 17 { 6 } else { 10 }, 3);
}
