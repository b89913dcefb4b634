//! The TUI: `update` without a terminal, screens as insta snapshots at 80x24 and 160x48 for
//! each step of the main flows, and one end-to-end run of the real binary in tmux.

use u4ssc::context::Ctx;
use u4ssc::tui::data::{load, load_detail, Snapshot};
use u4ssc::tui::render_to_string;
use u4ssc::tui::state::{update, Action, App, Effect, View};

/// The context of the demo database in `home`.
fn demo_ctx(home: &std::path::Path) -> Ctx {
    let s = u4ssc::context::Settings {
        db: Some(home.join("demo.duckdb")),
        memory_mb: 512,
        ..Default::default()
    };
    let mut ctx = Ctx::new(&s).unwrap();
    // seeded as the CLI seeds the default database on first use
    ctx.db_is_default = true;
    u4ssc::app::seed_demo_if_missing(&ctx).unwrap();
    ctx
}

/// Apply an action and answer every load it asks for at once, as the worker thread would.
fn step(app: &mut App, ctx: &Ctx, action: Action) {
    let mut fx = update(app, action);
    while let Some(e) = fx.pop() {
        let answer = match e {
            Effect::Load { id, run, year } => Action::Loaded(
                id,
                load(ctx, run, year)
                    .map(Box::new)
                    .map_err(|e| e.to_string()),
            ),
            Effect::Detail { id, run, year, key } => Action::DetailLoaded(
                id,
                load_detail(ctx, run, year, &key).map_err(|e| e.to_string()),
            ),
            Effect::Export { .. } | Effect::Mouse(_) => continue,
            Effect::Write(op) => {
                Action::Written(u4ssc::tui::data::write(ctx, &op).map_err(|e| e.to_string()))
            }
        };
        fx.extend(update(app, answer));
    }
}

/// An app holding the scored demo (loaded through the same worker function the TUI uses).
fn demo_app(home: &std::path::Path) -> App {
    let ctx = demo_ctx(home);
    let snap: Snapshot = load(&ctx, None, None).unwrap();
    let mut app = App::new(ctx.catalog.clone(), ctx.registry.clone());
    app.color = false;
    let fx = app.start();
    let Effect::Load { id, .. } = fx[0].clone() else {
        panic!("first effect loads")
    };
    update(&mut app, Action::Loaded(id, Ok(Box::new(snap))));
    app
}

fn keys(app: &mut App, ctx: &Ctx, actions: Vec<Action>) {
    for a in actions {
        step(app, ctx, a);
    }
}

/// The flows a coordinator takes, one snapshot per step and size.
#[test]
fn main_flows_render_at_both_sizes() {
    let home = tempfile::tempdir().unwrap();
    for (w, h) in [(80u16, 24u16), (160, 48)] {
        let mut app = demo_app(home.path());
        update(&mut app, Action::Resize(w, h));
        let steps: Vec<(&str, Vec<Action>)> = vec![
            ("01_overview", vec![]),
            (
                "02_overview_subdimensions_sorted",
                vec![
                    Action::ToggleLevel,
                    Action::Right,
                    Action::Right,
                    Action::Right,
                    Action::Sort,
                ],
            ),
            (
                "03_city_bodo",
                vec![
                    Action::ToggleLevel,
                    Action::Search,
                    Action::Input('b'),
                    Action::Input('o'),
                    Action::Input('d'),
                    Action::Enter,
                ],
            ),
            (
                "04_kpi_from_city",
                vec![Action::Down, Action::Down, Action::Enter],
            ),
            ("05_explain", vec![Action::Down, Action::Enter]),
            (
                "06_peers_kostra",
                vec![Action::Back, Action::Goto(View::Overview), Action::Filter],
            ),
            (
                "07_compare",
                vec![
                    Action::Filter,
                    Action::Filter,
                    Action::Filter,
                    Action::Top,
                    Action::Mark,
                    Action::Down,
                    Action::Mark,
                    Action::Goto(View::Compare),
                ],
            ),
            ("08_submissions", vec![Action::Goto(View::Submissions)]),
            ("09_method", vec![Action::Goto(View::Method)]),
            ("10_help", vec![Action::Help]),
        ];
        for (name, actions) in steps {
            keys(&mut app, &demo_ctx(home.path()), actions);
            let screen = render_to_string(&app, w, h);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), screen);
        }
    }
}

#[test]
fn update_is_pure_navigation_with_a_view_stack() {
    let home = tempfile::tempdir().unwrap();
    let mut app = demo_app(home.path());
    update(&mut app, Action::Resize(80, 24));
    assert_eq!(app.view, View::Overview);
    update(&mut app, Action::Bottom);
    assert_eq!(app.row(), 16);
    update(&mut app, Action::Top);
    let fx = update(&mut app, Action::Enter);
    assert_eq!(app.view, View::City);
    assert_eq!(app.city.as_deref(), Some("alesund"));
    // the City view asks for its details; until they come, Enter has nothing to open
    assert!(
        matches!(&fx[..], [Effect::Detail { key: u4ssc::tui::data::DetailKey::City(c), .. }] if c == "alesund"),
        "{fx:?}"
    );
    update(&mut app, Action::Enter);
    assert_eq!(app.view, View::City);
    let ctx = demo_ctx(home.path());
    let Effect::Detail { id, run, year, key } = fx[0].clone() else {
        unreachable!()
    };
    update(
        &mut app,
        Action::DetailLoaded(
            id,
            load_detail(&ctx, run, year, &key).map_err(|e| e.to_string()),
        ),
    );
    step(&mut app, &ctx, Action::Enter);
    assert_eq!(app.view, View::Kpi);
    assert!(app.kpi_data.is_some(), "the KPI view loaded its data point");
    update(&mut app, Action::Back);
    update(&mut app, Action::Back);
    assert_eq!(app.view, View::Overview);
    update(&mut app, Action::Quit);
    assert!(app.quit, "q on the first view quits");
    // tabs wrap around
    let mut app = demo_app(home.path());
    update(&mut app, Action::PrevTab);
    assert_eq!(app.view, View::Method);
    update(&mut app, Action::NextTab);
    assert_eq!(app.view, View::Overview);
}

#[test]
fn sorting_toggles_and_marks_are_capped_at_four() {
    let home = tempfile::tempdir().unwrap();
    let mut app = demo_app(home.path());
    update(&mut app, Action::Right); // city column
    update(&mut app, Action::Sort);
    assert_eq!(app.sort, Some((1, true)));
    update(&mut app, Action::Sort);
    assert_eq!(app.sort, Some((1, false)));
    let first = u4ssc::tui::model::overview(&app).rows[0].name.clone();
    assert_eq!(first, "Asker", "ascending by name");
    for i in 0..5 {
        update(&mut app, Action::Mark);
        if i == 4 {
            assert!(
                app.message.as_deref().unwrap_or("").contains("up to four"),
                "{:?}",
                app.message
            );
        }
        update(&mut app, Action::Down);
    }
    assert_eq!(app.marked.len(), 4);
}

#[test]
fn stale_answers_are_dropped_latest_wins() {
    let home = tempfile::tempdir().unwrap();
    let mut app = demo_app(home.path());
    let fx = update(&mut app, Action::Year);
    let Effect::Load { id, year, .. } = fx[0].clone() else {
        panic!()
    };
    assert_eq!(year, Some(2023));
    // an older answer arrives late: ignored
    update(&mut app, Action::Loaded(id - 1, Err("old".into())));
    assert!(app.error.is_none() && app.loading);
    update(
        &mut app,
        Action::Loaded(
            id,
            Err("the database /x is in use by another process".into()),
        ),
    );
    assert!(app.error.as_deref().unwrap().contains("press r to retry"));
    assert!(app.snap.is_some(), "the last data stays on screen");
    let fx = update(&mut app, Action::Retry);
    assert!(matches!(fx[0], Effect::Load { .. }));
}

#[test]
fn the_export_of_a_view_has_its_rows_and_the_equivalent_command() {
    let home = tempfile::tempdir().unwrap();
    let app = demo_app(home.path());
    let (csv, cmd) = u4ssc::tui::model::view_csv(&app, View::Overview);
    assert_eq!(csv.lines().count(), 18, "{csv}");
    assert!(
        csv.starts_with("rank,city,overall,EC,EN,SC,coverage"),
        "{csv}"
    );
    assert_eq!(cmd, "u4ssc rank --level dimension --year 2024 --format csv");
    let json: serde_json::Value =
        serde_json::from_str(&u4ssc::tui::model::csv_to_json(&csv)).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 17);
    assert_eq!(json[0]["city"], "alesund");
}

#[test]
fn no_color_keeps_the_glyphs() {
    let home = tempfile::tempdir().unwrap();
    let app = demo_app(home.path());
    let screen = render_to_string(&app, 100, 30);
    assert!(screen.contains("SYNTHETIC DEMO DATA"));
    assert!(screen.contains('◕') || screen.contains('●'), "{screen}");
}

/// The real binary in tmux: open, drill into a city, search, help, quit; the terminal comes back.
#[test]
#[ignore = "needs tmux; .ci/run installs it and runs this test"]
fn end_to_end_in_tmux() {
    let home = tempfile::tempdir().unwrap();
    let bin = assert_cmd::cargo::cargo_bin("u4ssc");
    let session = format!("u4ssc-e2e-{}", std::process::id());
    let tmux = |args: &[&str]| {
        std::process::Command::new("tmux")
            .args(args)
            .output()
            .expect("tmux is needed for this test")
    };
    let cmd = format!(
        "HOME={0} XDG_DATA_HOME={0}/data {1} tui; echo EXITED-$?; sleep 30",
        home.path().display(),
        bin.display()
    );
    let out = tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "120",
        "-y",
        "36",
        &cmd,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let screen = |pat: &str| -> String {
        for _ in 0..100 {
            let s = String::from_utf8_lossy(&tmux(&["capture-pane", "-t", &session, "-p"]).stdout)
                .into_owned();
            if s.contains(pat) {
                return s;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let s = String::from_utf8_lossy(&tmux(&["capture-pane", "-t", &session, "-p"]).stdout)
            .into_owned();
        tmux(&["kill-session", "-t", &session]);
        panic!("'{pat}' never appeared:\n{s}");
    };
    let s = screen("network average");
    assert!(s.contains("SYNTHETIC DEMO DATA") && s.contains("Ålesund"));
    tmux(&["send-keys", "-t", &session, "j", "Enter"]);
    screen("peer groups");
    tmux(&[
        "send-keys",
        "-t",
        &session,
        "/",
        "n",
        "a",
        "r",
        "v",
        "Enter",
    ]);
    screen("Narvik ─");
    // the verification round: ask Narvik a question, see it listed, read its thread, close it
    tmux(&["send-keys", "-t", &session, "a"]);
    screen("ask a question (Enter sends");
    tmux(&[
        "send-keys",
        "-t",
        &session,
        "-l",
        "Will the missing core data come?",
    ]);
    tmux(&["send-keys", "-t", &session, "Enter"]);
    screen("question 1 opened");
    tmux(&["send-keys", "-t", &session, "A"]);
    // the list fills in when the snapshot after the write arrives
    let s = screen("Will the missing core data come?");
    assert!(s.contains("Narvik: questions"), "{s}");
    tmux(&["send-keys", "-t", &session, "Enter"]);
    screen("question 1 · open");
    tmux(&["send-keys", "-t", &session, "c"]);
    screen("question 1 closed");
    // one Escape at a time: two at once may arrive as one Alt-Escape
    tmux(&["send-keys", "-t", &session, "Escape"]);
    screen("questions (Enter: thread");
    std::thread::sleep(std::time::Duration::from_millis(300));
    tmux(&["send-keys", "-t", &session, "Escape"]);
    for _ in 0..50 {
        let s = String::from_utf8_lossy(&tmux(&["capture-pane", "-t", &session, "-p"]).stdout)
            .into_owned();
        if !s.contains("questions (Enter: thread") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    tmux(&["send-keys", "-t", &session, "?"]);
    screen("(any key closes)");
    tmux(&[
        "send-keys",
        "-t",
        &session,
        "Escape",
        "Escape",
        "Escape",
        "Escape",
        "q",
    ]);
    let s = screen("EXITED-0");
    assert!(
        !s.contains("network average"),
        "the alternate screen was left: {s}"
    );
    tmux(&["kill-session", "-t", &session]);
    // what the TUI wrote is in the database, for the command line too
    let r = crate::cli::run(crate::cli::u4ssc(home.path()).args([
        "questions",
        "list",
        "--status",
        "closed",
    ]));
    assert!(
        r.stdout.contains("closed") && r.stdout.contains("Narvik"),
        "{}{}",
        r.stdout,
        r.stderr
    );
}

/// An app on a scored 30-city world (17 registry cities and 13 synthetic ones), as the TUI
/// loads it.
fn thirty_city_app(home: &std::path::Path) -> (App, Ctx, Vec<u4ssc::registry::City>) {
    let mut ctx = demo_ctx(home);
    ctx.db_is_default = false;
    ctx.db = home.join("thirty.duckdb");
    let world = u4ssc::demo::world_cities(&ctx.registry, 30);
    ctx.registry = u4ssc::registry::Registry::from_cities(world.clone());
    let csv = home.join("thirty.csv");
    let mut text = Vec::new();
    let spec = u4ssc::demo::DemoSpec {
        years: 2024..=2024,
        seed: 9,
    };
    u4ssc::demo::write_csv(&mut text, &ctx.catalog, &world, &spec).unwrap();
    std::fs::write(&csv, &text).unwrap();
    let args = u4ssc::app::ImportArgs {
        files: vec![csv],
        dry_run: false,
        jump_factor: 3.0,
        city: None,
        year: None,
        format: u4ssc::table::DocFormat::Text,
    };
    assert_eq!(
        u4ssc::app::import(&ctx, &args, &mut std::io::sink()).unwrap(),
        0
    );
    let mut store = ctx.open(u4ssc::store::Access::ReadWrite).unwrap();
    let m =
        u4ssc::scoring::method::Method::parse(u4ssc::scoring::method::DEFAULT, "default").unwrap();
    u4ssc::score_cmd::score_into(
        &ctx,
        &mut store,
        &m,
        u4ssc::scoring::method::DEFAULT,
        Some(0),
    )
    .unwrap();
    drop(store);
    let mut app = App::new(ctx.catalog.clone(), ctx.registry.clone());
    app.color = false;
    let fx = app.start();
    let Effect::Load { id, .. } = fx[0].clone() else {
        panic!("first effect loads")
    };
    update(
        &mut app,
        Action::Loaded(id, Ok(Box::new(load(&ctx, None, None).unwrap()))),
    );
    (app, ctx, world)
}

/// With many cities the names differ at their ends ("Synthetic City 12", "… 13"): the
/// overview's city column widens to show them whole when the terminal has room.
#[test]
fn long_city_names_are_shown_whole_in_a_wide_overview() {
    let home = tempfile::tempdir().unwrap();
    let (mut app, _, world) = thirty_city_app(home.path());
    update(&mut app, Action::Resize(160, 48));
    let screen = render_to_string(&app, 160, 48);
    let long: Vec<&str> = world
        .iter()
        .map(|c| c.name.as_str())
        .filter(|n| n.chars().count() > 14)
        .collect();
    assert!(long.len() > 5, "{long:?}");
    for name in long {
        assert!(screen.contains(name), "{name} is cut short:\n{screen}");
    }
}

/// Moving down a table longer than the screen keeps the selected row on the screen, in every
/// view with a table (the KPI view's table sits under the data point's description, the
/// submissions' in the top two thirds).
#[test]
fn the_selection_stays_on_screen_when_a_table_scrolls() {
    let home = tempfile::tempdir().unwrap();
    let (mut app, ctx, _) = thirty_city_app(home.path());
    update(&mut app, Action::Resize(80, 24));
    let on_screen = |app: &App, what: &str| {
        assert!(
            app.row() >= app.offset() && app.row() < app.offset() + app.visible(),
            "{what}: row {} outside {}..{}",
            app.row(),
            app.offset(),
            app.offset() + app.visible()
        );
    };
    // Overview, then a city, then one of its KPIs, then the submissions
    for _ in 0..25 {
        step(&mut app, &ctx, Action::Down);
        on_screen(&app, "overview");
    }
    keys(&mut app, &ctx, vec![Action::Top, Action::Enter]);
    for _ in 0..25 {
        step(&mut app, &ctx, Action::Down);
        on_screen(&app, "city");
    }
    keys(
        &mut app,
        &ctx,
        vec![
            Action::Top,
            Action::Down,
            Action::Down,
            Action::Down,
            Action::Enter,
        ],
    );
    assert!(matches!(app.view, View::Kpi), "{:?}", app.view);
    for _ in 0..25 {
        step(&mut app, &ctx, Action::Down);
        on_screen(&app, "kpi");
    }
    // the view draws exactly the rows the state scrolls through: the last of them is ranked
    let screen = render_to_string(&app, 80, 24);
    let ranked = screen
        .lines()
        .filter(|l| l.starts_with('│') && l.chars().nth(1).is_some_and(|c| c.is_ascii_digit()))
        .count();
    assert_eq!(ranked, app.visible(), "{screen}");
    keys(&mut app, &ctx, vec![Action::Goto(View::Submissions)]);
    for _ in 0..25 {
        step(&mut app, &ctx, Action::Down);
        on_screen(&app, "submissions");
    }
}

/// The TUI's `e` export neutralises cells a spreadsheet would run, as every other CSV
/// writer does: a city named `=HYPERLINK("x")` comes out with a leading apostrophe.
#[test]
fn the_export_of_a_view_neutralises_formula_cells() {
    let home = tempfile::tempdir().unwrap();
    let mut app = demo_app(home.path());
    let evil = "=HYPERLINK(\"x\")";
    if let Some(s) = app.snap.as_mut() {
        for n in s.nodes.iter_mut().filter(|n| n.city == "alesund") {
            n.city = evil.to_string();
        }
    }
    *app.overview_cache.borrow_mut() = None;
    let (csv, _) = u4ssc::tui::model::view_csv(&app, View::Overview);
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
    assert!(
        !csv.lines().any(|l| l
            .split(',')
            .any(|c| c.starts_with('=') || c.starts_with("\"="))),
        "{csv}"
    );
}

/// `u4ssc tui` with its output in a pipe refuses cleanly instead of drawing into it; NO_COLOR
/// turns colour off only when it is set to something (no-color.org).
#[test]
fn tui_needs_a_terminal_and_no_color_needs_a_value() {
    let home = tempfile::tempdir().unwrap();
    let r = crate::cli::run(crate::cli::u4ssc(home.path()).arg("tui"));
    assert_eq!(r.code, 2, "{}{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("needs a terminal"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "something was drawn into the pipe");
    use std::ffi::OsStr;
    assert!(u4ssc::tui::color_wanted(None));
    assert!(u4ssc::tui::color_wanted(Some(OsStr::new(""))));
    assert!(!u4ssc::tui::color_wanted(Some(OsStr::new("1"))));
}

/// y goes to the previous year and Y to the next (both cycle); Ctrl-C quits even from the
/// search box, where every other key is input.
#[test]
fn y_and_shift_y_move_through_the_years_and_ctrl_c_quits_from_search() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
    let home = tempfile::tempdir().unwrap();
    let mut app = demo_app(home.path());
    let year_of = |fx: Vec<Effect>| match fx.first() {
        Some(Effect::Load { year, .. }) => *year,
        other => panic!("no load: {other:?}"),
    };
    assert_eq!(
        year_of(update(&mut app, Action::NextYear)),
        Some(2019),
        "2024 + 1 cycles to 2019"
    );
    let key = |c: char, m: KeyModifiers| KeyEvent::new(KeyCode::Char(c), m);
    assert!(matches!(
        u4ssc::tui::keys::action(key('Y', KeyModifiers::SHIFT), false),
        Some(Action::NextYear)
    ));
    assert!(matches!(
        u4ssc::tui::keys::action(key('y', KeyModifiers::NONE), false),
        Some(Action::Year)
    ));
    assert!(matches!(
        u4ssc::tui::keys::action(key('c', KeyModifiers::CONTROL), true),
        Some(Action::Exit)
    ));
    // and it leaves the program, search box open or not, deep in a view or not
    update(&mut app, Action::Search);
    assert!(app.search.is_some());
    update(&mut app, Action::Exit);
    assert!(app.quit && app.search.is_none());
    assert!(matches!(
        u4ssc::tui::keys::action(key('c', KeyModifiers::NONE), true),
        Some(Action::Input('c'))
    ));
}

/// The verification round in the TUI: `a` on a city's value opens a question (typed in a
/// popup, written by the worker), the value carries a marker in the KPI and City views, the
/// Submissions view counts it, `A` lists the city's questions, Enter shows the thread, `c`
/// closes it. A failed write keeps the typed text.
#[test]
fn a_question_is_asked_marked_listed_and_closed() {
    let home = tempfile::tempdir().unwrap();
    let ctx = demo_ctx(home.path());
    let mut app = demo_app(home.path());
    app.size = (160, 48);
    let id = app.catalog.data_points[0].id.clone();
    app.kpi = Some(id.clone());
    keys(&mut app, &ctx, vec![Action::Goto(View::Kpi), Action::Down]);
    let screen = render_to_string(&app, 160, 48);
    assert!(
        !screen.contains(u4ssc::tui::model::QUESTION_MARK),
        "{screen}"
    );
    let city = u4ssc::tui::model::kpi(&app).unwrap().rows[1].city.clone();
    keys(&mut app, &ctx, vec![Action::Ask]);
    let ask = app.ask.clone().expect("a opens the question popup");
    assert_eq!(
        (ask.city.as_str(), ask.data_point.as_deref()),
        (city.as_str(), Some(id.as_str()))
    );
    let text = "Is this a decimal slip?";
    let mut typed: Vec<Action> = text.chars().map(Action::Input).collect();
    // q and j are text here, not keys
    typed.extend([
        Action::Input(' '),
        Action::Input('q'),
        Action::Input('j'),
        Action::Backspace,
        Action::Backspace,
        Action::Backspace,
    ]);
    keys(&mut app, &ctx, typed);
    assert_eq!(app.ask.as_ref().unwrap().text, text);
    assert!(render_to_string(&app, 160, 48).contains("ask a question (Enter sends, Esc cancels)"));
    // the database is held by another process: the message shows and the text stays
    update(&mut app, Action::Enter);
    update(
        &mut app,
        Action::Written(Err("the database is in use by another process".into())),
    );
    let a = app.ask.as_ref().expect("the popup stays open");
    assert_eq!(a.text, text);
    assert!(
        render_to_string(&app, 160, 48).contains("in use by another process — the text is kept")
    );
    // sent again, it is stored and the value is marked
    keys(&mut app, &ctx, vec![Action::Enter]);
    assert!(app.ask.is_none(), "{:?}", app.ask);
    assert_eq!(app.message.as_deref(), Some("question 1 opened"));
    let screen = render_to_string(&app, 160, 48);
    let marked: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains(u4ssc::tui::model::QUESTION_MARK))
        .collect();
    assert_eq!(marked.len(), 1, "{screen}");
    assert!(
        marked[0].contains(&app.registry.name_of(&city)),
        "{}",
        marked[0]
    );
    // the City view marks the category holding the data point
    app.city = Some(city.clone());
    keys(&mut app, &ctx, vec![Action::Goto(View::City)]);
    let screen = render_to_string(&app, 160, 48);
    assert!(
        screen.contains(&format!("{} ", u4ssc::tui::model::QUESTION_MARK)),
        "{screen}"
    );
    // Submissions counts it
    keys(&mut app, &ctx, vec![Action::Goto(View::Submissions)]);
    let screen = render_to_string(&app, 160, 48);
    assert!(
        screen.contains("1 open · 0 answered · 0 closed"),
        "{screen}"
    );
    // A lists the city's questions, Enter shows the thread, c closes it
    keys(
        &mut app,
        &ctx,
        vec![Action::Goto(View::City), Action::Questions],
    );
    let screen = render_to_string(&app, 160, 48);
    assert!(
        screen.contains("questions (Enter: thread") && screen.contains(text),
        "{screen}"
    );
    keys(&mut app, &ctx, vec![Action::Enter]);
    let screen = render_to_string(&app, 160, 48);
    assert!(screen.contains("question 1 · open"), "{screen}");
    keys(&mut app, &ctx, vec![Action::CloseQuestion]);
    assert_eq!(app.message.as_deref(), Some("question 1 closed"));
    let snap = app.snap.as_ref().unwrap();
    assert_eq!(snap.questions[0].status, u4ssc::store::Status::Closed);
    keys(&mut app, &ctx, vec![Action::Back, Action::Back]);
    assert!(app.questions.is_none());
    assert!(!render_to_string(&app, 160, 48).contains(u4ssc::tui::model::QUESTION_MARK));
}

/// A click selects the row under the pointer in every view (the KPI table starts lower than
/// the others), a click on a tab opens it, and M turns the mouse off and on.
#[test]
fn a_click_selects_the_row_under_the_pointer() {
    let home = tempfile::tempdir().unwrap();
    let ctx = demo_ctx(home.path());
    let mut app = demo_app(home.path());
    app.size = (160, 48);
    for view in [View::Overview, View::Kpi, View::Submissions] {
        keys(&mut app, &ctx, vec![Action::Goto(view), Action::Top]);
        let screen = render_to_string(&app, 160, 48);
        let lines: Vec<&str> = screen.lines().collect();
        // the fifth row's text, as the screen shows it
        let rows: Vec<(usize, &str)> = match view {
            View::Kpi => u4ssc::tui::model::kpi(&app)
                .unwrap()
                .rows
                .iter()
                .map(|r| r.name.clone())
                .enumerate()
                .map(|(i, n)| (i, Box::leak(n.into_boxed_str()) as &str))
                .collect(),
            View::Overview => u4ssc::tui::model::overview(&app)
                .rows
                .iter()
                .map(|r| app.registry.name_of(&r.city))
                .enumerate()
                .map(|(i, n)| (i, Box::leak(n.into_boxed_str()) as &str))
                .collect(),
            _ => u4ssc::tui::model::status(&app)
                .iter()
                .map(|r| format!("{}  {}", r.0, r.1))
                .enumerate()
                .map(|(i, n)| (i, Box::leak(n.into_boxed_str()) as &str))
                .collect(),
        };
        let fifth = rows[4].1;
        let y = lines
            .iter()
            .position(|l| {
                if view == View::Submissions {
                    let parts: Vec<&str> = fifth.split("  ").collect();
                    l.contains(parts[0]) && l.contains(parts[1])
                } else {
                    l.contains(&format!(" {fifth} "))
                }
            })
            .unwrap_or_else(|| panic!("{view:?}: '{fifth}' not on\n{screen}"));
        update(&mut app, Action::Click(20, y as u16));
        assert_eq!(app.row(), 4, "{view:?}: a click on line {y} ({fifth})");
        // below the last row: nothing changes
        update(&mut app, Action::Click(20, 47));
        assert_eq!(app.row(), 4, "{view:?}");
    }
    // the tab bar
    let screen = render_to_string(&app, 160, 48);
    let tabs = screen.lines().nth(1).unwrap();
    let x = tabs.find("6 Method").unwrap();
    let x = tabs[..x].chars().count() as u16;
    update(&mut app, Action::Click(x + 2, 1));
    assert_eq!(app.view, View::Method);
    let fx = update(&mut app, Action::ToggleMouse);
    assert!(matches!(fx[..], [Effect::Mouse(false)]), "{fx:?}");
    assert!(app
        .message
        .as_deref()
        .unwrap()
        .contains("selects and copies"));
    let fx = update(&mut app, Action::ToggleMouse);
    assert!(matches!(fx[..], [Effect::Mouse(true)]), "{fx:?}");
}

/// Search as people type: `bodo` finds Bodø and `alesund` Ålesund (accents folded), the
/// matched letters are known for highlighting, the list scrolls with the selection, and n/N
/// step through the rows of the current table that match the last search.
#[test]
fn search_folds_accents_scrolls_and_n_steps_through_matches() {
    let home = tempfile::tempdir().unwrap();
    let ctx = demo_ctx(home.path());
    let mut app = demo_app(home.path());
    app.size = (160, 48);
    let hits = u4ssc::tui::model::search_hits(&app, "bodo");
    assert!(
        matches!(&hits[0].0, u4ssc::tui::model::Hit::City(slug, name) if slug == "bodo" && name == "Bodø"),
        "{hits:?}"
    );
    assert_eq!(hits[0].1, vec![0, 1, 2, 3], "B, o, d and ø are highlighted");
    let hits = u4ssc::tui::model::search(&app, "alesund");
    assert!(matches!(&hits[0], u4ssc::tui::model::Hit::City(slug, _) if slug == "alesund"));
    // a long list: the selection stays in the popup
    let mut typed = vec![Action::Search, Action::Input('e')];
    typed.extend(std::iter::repeat_n(Action::Down, 30));
    keys(&mut app, &ctx, typed);
    let all = u4ssc::tui::model::search(&app, "e");
    assert!(all.len() > 30, "{}", all.len());
    let selected = match &all[30] {
        u4ssc::tui::model::Hit::City(_, n) | u4ssc::tui::model::Hit::Kpi(_, n) => n.clone(),
    };
    let screen = render_to_string(&app, 160, 48);
    // the popup is 70 wide: the start of the name is on screen
    let start: String = selected.chars().take(40).collect();
    assert!(screen.contains(&start), "'{start}' not in\n{screen}");
    // Enter opens it; / then n/N step through the overview's matching rows
    keys(
        &mut app,
        &ctx,
        vec![Action::Back, Action::Goto(View::Overview), Action::Top],
    );
    keys(
        &mut app,
        &ctx,
        vec![
            Action::Search,
            Action::Input('t'),
            Action::Input('r'),
            Action::Input('o'),
        ],
    );
    keys(
        &mut app,
        &ctx,
        vec![Action::Enter, Action::Goto(View::Overview)],
    );
    let names: Vec<String> = u4ssc::tui::model::overview(&app)
        .rows
        .iter()
        .map(|r| r.name.clone())
        .collect();
    update(&mut app, Action::Top);
    update(&mut app, Action::NextMatch(true));
    let first = names[app.row()].clone();
    update(&mut app, Action::NextMatch(true));
    let second = names[app.row()].clone();
    let mut got = vec![first.clone(), second.clone()];
    got.sort();
    assert_eq!(
        got,
        vec!["Tromsø".to_string(), "Trondheim".to_string()],
        "{names:?}"
    );
    update(&mut app, Action::NextMatch(false));
    assert_eq!(names[app.row()], first);
}

/// `s` sorts the KPI and Submissions tables by the focused column (h/l), ▲/▼ in the
/// header; a missing value sorts last both ways, and `a` still asks about the row shown.
#[test]
fn kpi_and_submissions_tables_sort_by_the_focused_column() {
    let home = tempfile::tempdir().unwrap();
    let ctx = demo_ctx(home.path());
    let mut app = demo_app(home.path());
    app.size = (160, 48);
    app.kpi = Some(app.catalog.data_points[0].id.clone());
    // KPI view: value column (2), descending, then ascending
    keys(
        &mut app,
        &ctx,
        vec![
            Action::Goto(View::Kpi),
            Action::Right,
            Action::Right,
            Action::Sort,
        ],
    );
    let values: Vec<Option<f64>> = u4ssc::tui::model::kpi(&app)
        .unwrap()
        .rows
        .iter()
        .map(|r| r.value)
        .collect();
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    assert!(present.windows(2).all(|w| w[0] >= w[1]), "{values:?}");
    assert!(
        values
            .iter()
            .skip_while(|v| v.is_some())
            .all(|v| v.is_none()),
        "{values:?}"
    );
    assert!(render_to_string(&app, 160, 48).contains("value ▼"));
    keys(&mut app, &ctx, vec![Action::Sort]);
    let values: Vec<f64> = u4ssc::tui::model::kpi(&app)
        .unwrap()
        .rows
        .iter()
        .filter_map(|r| r.value)
        .collect();
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
    assert!(render_to_string(&app, 160, 48).contains("value ▲"));
    // Submissions: by not reported (column 5), most first; `a` asks about the row shown
    keys(&mut app, &ctx, vec![Action::Goto(View::Submissions)]);
    let mut go = vec![];
    go.extend(std::iter::repeat_n(Action::Right, 5));
    go.push(Action::Sort);
    keys(&mut app, &ctx, go);
    let rows = u4ssc::tui::model::status(&app);
    assert!(
        rows.windows(2).all(|w| w[0].5 >= w[1].5),
        "{:?}",
        &rows[..5]
    );
    keys(
        &mut app,
        &ctx,
        vec![Action::Down, Action::Down, Action::Ask],
    );
    let shown = &u4ssc::tui::model::status(&app)[2];
    let ask = app.ask.clone().unwrap();
    assert_eq!(
        (app.registry.name_of(&ask.city), ask.year),
        (shown.0.clone(), shown.1)
    );
}

/// A click on a column header sorts by that column (a second click turns the order).
#[test]
fn a_click_on_a_column_header_sorts_by_it() {
    let home = tempfile::tempdir().unwrap();
    let ctx = demo_ctx(home.path());
    let mut app = demo_app(home.path());
    app.size = (160, 48);
    app.kpi = Some(app.catalog.data_points[0].id.clone());
    keys(&mut app, &ctx, vec![Action::Goto(View::Kpi)]);
    let screen = render_to_string(&app, 160, 48);
    let header = screen.lines().nth(7).unwrap();
    let x = header[..header.find("value").unwrap()].chars().count() as u16;
    update(&mut app, Action::Click(x + 1, 7));
    assert_eq!(app.sorts[View::Kpi.index()], Some((2, true)));
    assert!(render_to_string(&app, 160, 48).contains("value ▼"));
    update(&mut app, Action::Click(x + 1, 7));
    assert_eq!(app.sorts[View::Kpi.index()], Some((2, false)));
    // the Overview: the EC column
    keys(&mut app, &ctx, vec![Action::Goto(View::Overview)]);
    let screen = render_to_string(&app, 160, 48);
    let header = screen.lines().nth(3).unwrap();
    let x = header[..header.find("EC").unwrap()].chars().count() as u16;
    update(&mut app, Action::Click(x, 3));
    assert_eq!(app.sort, Some((3, true)));
    let o = u4ssc::tui::model::overview(&app);
    let ec: Vec<f64> = o.rows.iter().filter_map(|r| r.cells[1].0).collect();
    assert!(ec.windows(2).all(|w| w[0] >= w[1]), "{ec:?}");
}

/// `&` narrows the current table to the rows holding a text (accents folded); the Overview's
/// network average stays the whole network's; an empty filter shows every row again.
#[test]
fn a_filter_narrows_the_table_and_an_empty_one_restores_it() {
    let home = tempfile::tempdir().unwrap();
    let ctx = demo_ctx(home.path());
    let mut app = demo_app(home.path());
    app.size = (160, 48);
    let all = u4ssc::tui::model::overview(&app);
    let mut typed = vec![Action::FilterRows];
    typed.extend("tro".chars().map(Action::Input));
    typed.push(Action::Enter);
    keys(&mut app, &ctx, typed);
    let o = u4ssc::tui::model::overview(&app);
    let names: Vec<&str> = o.rows.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["Tromsø", "Trondheim"]);
    assert_eq!(o.average, all.average, "the average is the network's");
    let screen = render_to_string(&app, 160, 48);
    assert!(screen.contains("2 rows match 'tro'"), "{screen}");
    // `bodo` finds Bodø in the Submissions table too, every year of it
    keys(
        &mut app,
        &ctx,
        vec![Action::Goto(View::Submissions), Action::FilterRows],
    );
    let mut typed: Vec<Action> = "bodo".chars().map(Action::Input).collect();
    typed.push(Action::Enter);
    keys(&mut app, &ctx, typed);
    let rows = u4ssc::tui::model::status(&app);
    assert!(
        !rows.is_empty() && rows.iter().all(|r| r.0 == "Bodø"),
        "{rows:?}"
    );
    // in the KPI view the describe line stays the whole group's
    app.kpi = Some(app.catalog.data_points[0].id.clone());
    keys(&mut app, &ctx, vec![Action::Goto(View::Kpi)]);
    let whole = u4ssc::tui::model::kpi(&app).unwrap();
    keys(
        &mut app,
        &ctx,
        vec![
            Action::FilterRows,
            Action::Input('t'),
            Action::Input('r'),
            Action::Input('o'),
            Action::Enter,
        ],
    );
    let narrowed = u4ssc::tui::model::kpi(&app).unwrap();
    assert_eq!(narrowed.rows.len(), 2);
    assert_eq!(
        (narrowed.median, narrowed.count, narrowed.best.clone()),
        (whole.median, whole.count, whole.best.clone())
    );
    // the Overview's filter is its own; an empty filter shows every row again
    keys(
        &mut app,
        &ctx,
        vec![Action::Goto(View::Overview), Action::FilterRows],
    );
    assert_eq!(app.filter_input.as_deref(), Some("tro"));
    keys(
        &mut app,
        &ctx,
        vec![
            Action::Backspace,
            Action::Backspace,
            Action::Backspace,
            Action::Enter,
        ],
    );
    assert_eq!(u4ssc::tui::model::overview(&app).rows.len(), all.rows.len());
}

/// Every table sorts: Compare by a marked city's scores, Method by its runs, City by its
/// categories (the tree flattened, since a tree has no order across levels).
#[test]
fn compare_method_and_city_sort_too() {
    let home = tempfile::tempdir().unwrap();
    let ctx = demo_ctx(home.path());
    let mut app = demo_app(home.path());
    app.size = (160, 48);
    keys(
        &mut app,
        &ctx,
        vec![
            Action::Mark,
            Action::Down,
            Action::Mark,
            Action::Goto(View::Compare),
        ],
    );
    keys(&mut app, &ctx, vec![Action::Right, Action::Sort]);
    let c = u4ssc::tui::model::compare(&app);
    let first: Vec<f64> = c.rows.iter().filter_map(|r| r.1[0]).collect();
    assert!(
        first.len() > 10 && first.windows(2).all(|w| w[0] >= w[1]),
        "{first:?}"
    );
    // City: categories by score
    app.city = Some("bodo".into());
    keys(
        &mut app,
        &ctx,
        vec![Action::Goto(View::City), Action::Right, Action::Sort],
    );
    let city = u4ssc::tui::model::city(&app).unwrap();
    assert!(
        city.rows.iter().all(|r| r.code.matches(':').count() == 2),
        "categories only"
    );
    let scores: Vec<f64> = city.rows.iter().filter_map(|r| r.score).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert!(render_to_string(&app, 160, 48).contains("score ▼"));
    // Method: by run, newest first
    keys(
        &mut app,
        &ctx,
        vec![Action::Goto(View::Method), Action::Sort],
    );
    assert_eq!(
        u4ssc::tui::model::runs_order(&app).len(),
        app.snap.as_ref().unwrap().runs.len()
    );
    assert!(render_to_string(&app, 160, 48).contains("run ▼"));
}
