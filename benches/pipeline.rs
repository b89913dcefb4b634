//! Benchmarks (never run as tests): `cargo bench --bench pipeline [-- 356]`.
//! Times the main jobs on synthetic worlds from the demo generator, medians of several runs.

use std::time::Instant;
use u4ssc::catalog::Catalog;
use u4ssc::demo::{self, DemoSpec};
use u4ssc::registry::Registry;
use u4ssc::scoring::engine::{self, Tree};
use u4ssc::scoring::method::{RunMethod, DEFAULT};
use u4ssc::scoring::{run, uncertainty};
use u4ssc::store::{Access, NewRevision, Store};

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

/// Scoring at world scale straight from the generator (no import), e.g. 10 000 x 10.
fn world_scoring(cities: usize, years: i32) {
    let catalog = Catalog::embedded().expect("catalog");
    let mut reg = Registry::embedded().expect("registry");
    let world = demo::world_cities(&reg, cities);
    reg.cities = world.clone();
    let spec = DemoSpec {
        years: (2025 - years)..=2024,
        seed: 2026,
    };
    let mut values = Vec::new();
    let t = Instant::now();
    demo::generate::<()>(&catalog, &world, &spec, |g| {
        values.push(u4ssc::store::CurrentValue {
            city: g.city.slug.clone(),
            year: g.year,
            data_point: g.data_point.id.clone(),
            value: g.value,
            verified: Some(g.verified),
            quality: None,
            source: None,
            revision_id: 1,
        });
        Ok(())
    })
    .expect("generate");
    println!(
        "world: {cities} cities x {years} years = {} values, generated in {:.1} s",
        values.len(),
        t.elapsed().as_secs_f64()
    );
    let method = RunMethod::parse(DEFAULT, "default").expect("method");
    // where the time goes
    let t = Instant::now();
    let tree = Tree::new(&catalog);
    let mats = engine::matrices(&catalog, &reg, &values, &method);
    println!(
        "{:<48} {:>10.3}",
        "  matrices (values -> year x city x data point)",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let scores = engine::score(&catalog, &tree, &mats, &method);
    println!(
        "{:<48} {:>10.3}",
        "  scores and ranks, every level and year",
        t.elapsed().as_secs_f64()
    );
    drop((scores, mats));
    let t = Instant::now();
    let out = run::compute(&catalog, &reg, &values, &method, 0);
    println!(
        "{:<48} {:>10.3}",
        "score all years and levels (no Monte Carlo)",
        t.elapsed().as_secs_f64()
    );
    println!(
        "{:<48} {:>10}",
        "scores computed (data points + nodes + trends)",
        out.dp.len() + out.nodes.len() + out.trends.len()
    );
    println!("{:<48} {:>10.0}", "peak memory (MB)", peak_mb());
    // the TUI on this world: store the values and the run, then open it
    let dir = tempfile::tempdir().expect("tempdir");
    // U4SSC_KEEP_WORLD=PATH keeps the world database, e.g. to profile `-- tui PATH` on it
    let db = std::env::var("U4SSC_KEEP_WORLD")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| dir.path().join("world.duckdb"));
    let t = Instant::now();
    {
        let obs: Vec<u4ssc::submission::Observation> = values
            .iter()
            .map(|v| u4ssc::submission::Observation {
                line: 0,
                city: v.city.clone(),
                year: v.year,
                data_point: v.data_point.clone(),
                value: v.value,
                unit: None,
                numerator: None,
                denominator: None,
                quality: None,
                origin: None,
                source: None,
                verified: v.verified,
                note: None,
            })
            .collect();
        let mut store = Store::open(&db, Access::ReadWrite).expect("open");
        store
            .insert_revision(
                &NewRevision {
                    source_file: "world",
                    content_hash: "world",
                    format: "csv",
                    kind: "demo",
                },
                &obs,
            )
            .expect("insert");
        store
            .insert_run(
                &u4ssc::store::NewRun {
                    method_name: "default",
                    method_hash: "0000000000000000",
                    method_text: DEFAULT,
                    revisions: "1",
                    seed: 2026,
                    draws: 0,
                    catalog_version: "bench",
                },
                &out.dp,
                &out.nodes,
                &out.trends,
            )
            .expect("run");
    }
    println!(
        "{:<48} {:>10.3}",
        "  store the world's values and run (setup)",
        t.elapsed().as_secs_f64()
    );
    drop(out);
    drop(values);
    tui_open(&db, &reg);
}

/// The TUI on a database: load + first frame, and keystroke to redrawn frame.
fn tui_timings(db: &std::path::Path, registry: &Registry, draws: usize) {
    let g = u4ssc::app::Global {
        db: Some(db.to_path_buf()),
        catalog: None,
        registry: None,
        max_file_mb: 100,
        max_rows: 2_000_000,
        max_field_chars: 10_000,
    };
    let mut ctx = u4ssc::app::Ctx::new(&g).expect("ctx");
    ctx.registry = registry.clone();
    {
        let mut store = Store::open(db, Access::ReadWrite).expect("open");
        let m = RunMethod::parse(DEFAULT, "default").expect("method");
        u4ssc::score_cmd::score_into(&ctx, &mut store, &m, DEFAULT, Some(draws)).expect("score");
    }
    tui_open(db, registry);
}

/// Open the TUI's data on a scored database and time the first frame and a keystroke.
fn tui_open(db: &std::path::Path, registry: &Registry) {
    use u4ssc::tui::state::{update, Action, App};
    let g = u4ssc::app::Global {
        db: Some(db.to_path_buf()),
        catalog: None,
        registry: None,
        max_file_mb: 100,
        max_rows: 2_000_000,
        max_field_chars: 10_000,
    };
    let mut ctx = u4ssc::app::Ctx::new(&g).expect("ctx");
    ctx.registry = registry.clone();
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
    let (t_key, _) = time(101, || {
        update(&mut app, Action::Down);
        u4ssc::tui::render_to_string(&app, 160, 48)
    });
    println!(
        "{:<48} {:>10.3}",
        "TUI: load the run + first full frame", t_first
    );
    println!(
        "{:<48} {:>10.4}",
        "TUI: keystroke (j) to redrawn frame", t_key
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "tui") {
        let path = std::path::PathBuf::from(args.get(i + 1).expect("tui PATH"));
        let reg = Registry::embedded().expect("registry");
        let mut reg2 = reg.clone();
        reg2.cities = demo::world_cities(&reg, 10_000);
        tui_open(&path, &reg2);
        return;
    }
    if args.iter().any(|a| a == "world") {
        let n = args.iter().find_map(|a| a.parse().ok()).unwrap_or(10_000);
        world_scoring(n, 10);
        return;
    }
    let cities: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(17);
    let years = if cities <= 17 { 6 } else { 10 };
    let catalog = Catalog::embedded().expect("catalog");
    let registry = Registry::embedded().expect("registry");
    let world = demo::world_cities(&registry, cities);
    let mut reg = registry.clone();
    reg.cities = world.clone();
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
        "world: {cities} cities x {years} years = {rows} rows ({:.1} MB)",
        std::fs::metadata(&csv)
            .map(|m| m.len() as f64 / 1e6)
            .unwrap_or(0.0)
    );
    println!("{:<48} {:>10}", "job (median)", "seconds");
    println!("{:<48} {:>10.3}", "demo generation", t_demo);
    let g = u4ssc::app::Global {
        db: None,
        catalog: None,
        registry: None,
        max_file_mb: 100_000,
        max_rows: usize::MAX,
        max_field_chars: 10_000,
    };
    let mut n = 0;
    // `u4ssc import`, as a user runs it: the bulk path, then (for comparison) row by row
    let mut import = |bulk: bool| {
        time(3, || {
            n += 1;
            let mut g = g.clone();
            g.db = Some(dir.path().join(format!("import{n}.duckdb")));
            let mut ctx = u4ssc::app::Ctx::new(&g).expect("ctx");
            ctx.registry = reg.clone();
            std::env::set_var("U4SSC_NO_BULK", if bulk { "0" } else { "1" });
            let args = u4ssc::app::ImportArgs {
                files: vec![csv.clone()],
                dry_run: false,
                jump_factor: 3.0,
            };
            let mut out = Vec::new();
            let code = u4ssc::app::import(&ctx, &args, &mut out).expect("import");
            assert_eq!(code, 0, "{}", String::from_utf8_lossy(&out));
        })
    };
    let (t_import, _) = import(true);
    let (t_rows, _) = import(false);
    std::env::remove_var("U4SSC_NO_BULK");
    let mut k = 0;
    let (t_floor, floor_rows) = time(3, || {
        k += 1;
        let store = Store::open(
            &dir.path().join(format!("floor{k}.duckdb")),
            Access::ReadWrite,
        )
        .expect("open");
        store.read_csv_floor(&csv).expect("read_csv")
    });
    let (t_floor_mem, _) = time(3, || {
        let store = Store::open_in_memory().expect("open");
        store.read_csv_floor(&csv).expect("read_csv")
    });
    assert_eq!(floor_rows as usize, rows);
    println!(
        "{:<48} {:>10.3}",
        "import (bulk path: DuckDB read_csv + SQL rules)", t_import
    );
    println!(
        "{:<48} {:>10.3}",
        "DuckDB read_csv of the file into a DB table (floor)", t_floor
    );
    println!(
        "{:<48} {:>10.3}",
        "  (into an in-memory table instead)", t_floor_mem
    );
    println!("{:<48} {:>9.1}x", "import / floor", t_import / t_floor);
    println!(
        "{:<48} {:>10.3}",
        "  (row-by-row path, for comparison)", t_rows
    );
    let store = Store::open(&dir.path().join("import1.duckdb"), Access::ReadOnly).expect("open");
    let values = store.current_values().expect("values");
    let method = RunMethod::parse(DEFAULT, "default").expect("method");
    let (t_score, out) = time(3, || run::compute(&catalog, &reg, &values, &method, 0));
    println!(
        "{:<48} {:>10.3}",
        "score all years and levels (no Monte Carlo)", t_score
    );
    let tree = Tree::new(&catalog);
    let mats = engine::matrices(&catalog, &reg, &values, &method);
    let latest = mats.last().expect("a year");
    let (t_mc, _) = time(3, || {
        uncertainty::rank_intervals(&catalog, &tree, latest, &method, 1000)
    });
    println!(
        "{:<48} {:>10.3}",
        format!("Monte Carlo, 1000 draws, {} cities", latest.cities.len()),
        t_mc
    );
    println!(
        "{:<48} {:>10}",
        "scores stored per run (data points + nodes)",
        out.dp.len() + out.nodes.len()
    );
    drop(store);
    tui_timings(
        &dir.path().join("import1.duckdb"),
        &reg,
        if cities <= 17 { 1000 } else { 0 },
    );
    println!("{:<48} {:>10.0}", "peak memory (MB)", peak_mb());
}
