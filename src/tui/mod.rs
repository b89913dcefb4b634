//! The terminal UI for network coordinators (`u4ssc tui`, or `u4ssc` in a terminal).
//! State, update and render are apart: keys become actions (`keys`), `state::update` is pure,
//! `view` only reads the state. Database work runs on a worker thread (latest request wins);
//! this module names ratatui/crossterm and never runs SQL. The terminal is restored on exit,
//! on error and on panic.

pub mod data;
pub mod keys;
pub mod model;
pub mod state;
pub mod view;

use crate::context::Ctx;
use crate::error::{Error, Result};
use crate::store::Access;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind, MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::Terminal;
use state::{update, Action, App, Effect};
use std::sync::mpsc;
use std::time::Duration;

/// What the UI asks the worker for.
enum Request {
    Snapshot {
        id: u64,
        run: Option<i64>,
        year: Option<i32>,
    },
    Detail {
        id: u64,
        run: i64,
        year: i32,
        key: data::DetailKey,
    },
    Write(data::WriteOp),
}

/// Draw the state onto an in-memory terminal and return the screen as text (for tests and
/// benchmarks).
pub fn render_to_string(app: &App, width: u16, height: u16) -> String {
    let Ok(mut term) = Terminal::new(TestBackend::new(width, height));
    if term.draw(|f| view::render(f, app)).is_err() {
        return String::new();
    }
    let buf = term.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let mut line = String::new();
        for x in 0..buf.area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn export(app: &mut App, view: state::View) {
    let (csv, cmd) = model::view_csv(app, view);
    let json = model::csv_to_json(&csv);
    let year = app.snap.as_ref().map(|s| s.year).unwrap_or(0);
    let stem = format!("u4ssc-{}-{year}", view.title().to_lowercase());
    let written = std::fs::write(format!("{stem}.csv"), csv)
        .and_then(|_| std::fs::write(format!("{stem}.json"), json));
    app.message = Some(match written {
        Ok(()) => format!("wrote {stem}.csv and {stem}.json · from the command line: {cmd}"),
        Err(e) => format!("cannot write {stem}.csv/.json: {e}"),
    });
}

/// Colour unless NO_COLOR is set to a non-empty value (no-color.org: an empty NO_COLOR
/// means colour).
pub fn color_wanted(no_color: Option<&std::ffi::OsStr>) -> bool {
    no_color.is_none_or(|v| v.is_empty())
}

pub fn run(ctx: &Ctx) -> Result<i32> {
    use std::io::IsTerminal;
    if !std::io::stdout().is_terminal() {
        return Err(crate::error::Error::Usage(
            "u4ssc tui needs a terminal (standard output is a pipe or a file); for text use `u4ssc status`, `u4ssc rank` or `u4ssc export`".into(),
        ));
    }
    // create the default database (and its demo) before the screen is taken over
    drop(ctx.open(Access::ReadOnly)?);
    let mut app = App::new(ctx.catalog.clone(), ctx.registry.clone());
    app.color = color_wanted(std::env::var_os("NO_COLOR").as_deref());
    let (req_tx, req_rx) = mpsc::channel::<Request>();
    let (res_tx, res_rx) = mpsc::channel::<Action>();
    let worker_ctx = ctx.clone();
    std::thread::spawn(move || {
        while let Ok(first) = req_rx.recv() {
            // latest wins, per kind: skip requests that a newer one of the same kind replaced
            // writes are never skipped, and go first
            let (mut snap, mut detail, mut writes) = (None, None, Vec::new());
            for req in std::iter::once(first).chain(req_rx.try_iter()) {
                match req {
                    Request::Snapshot { .. } => snap = Some(req),
                    Request::Detail { .. } => detail = Some(req),
                    Request::Write(_) => writes.push(req),
                }
            }
            for req in writes.into_iter().chain(snap).chain(detail) {
                let answer = match req {
                    Request::Snapshot { id, run, year } => Action::Loaded(
                        id,
                        data::load(&worker_ctx, run, year)
                            .map(Box::new)
                            .map_err(|e| e.to_string()),
                    ),
                    Request::Detail { id, run, year, key } => Action::DetailLoaded(
                        id,
                        data::load_detail(&worker_ctx, run, year, &key).map_err(|e| e.to_string()),
                    ),
                    Request::Write(op) => {
                        Action::Written(data::write(&worker_ctx, &op).map_err(|e| e.to_string()))
                    }
                };
                if res_tx.send(answer).is_err() {
                    return;
                }
            }
        }
    });
    let mut terminal =
        ratatui::try_init().map_err(|e| Error::Usage(format!("cannot open the terminal: {e}")))?;
    let _ = execute!(std::io::stdout(), EnableMouseCapture);
    let result = (|| -> Result<i32> {
        let size = terminal
            .size()
            .map_err(|e| Error::Usage(format!("terminal size: {e}")))?;
        update(&mut app, Action::Resize(size.width, size.height));
        let mut effects = app.start();
        loop {
            for e in effects.drain(..) {
                match e {
                    Effect::Load { id, run, year } => {
                        let _ = req_tx.send(Request::Snapshot { id, run, year });
                    }
                    Effect::Detail { id, run, year, key } => {
                        let _ = req_tx.send(Request::Detail { id, run, year, key });
                    }
                    Effect::Export { view } => export(&mut app, view),
                    Effect::Write(op) => {
                        let _ = req_tx.send(Request::Write(op));
                    }
                    Effect::Mouse(on) => {
                        let _ = if on {
                            execute!(std::io::stdout(), EnableMouseCapture)
                        } else {
                            execute!(std::io::stdout(), DisableMouseCapture)
                        };
                    }
                }
            }
            terminal
                .draw(|f| view::render(f, &app))
                .map_err(|e| Error::Usage(format!("cannot draw: {e}")))?;
            if app.quit {
                return Ok(0);
            }
            while let Ok(answer) = res_rx.try_recv() {
                effects.extend(update(&mut app, answer));
            }
            if !event::poll(Duration::from_millis(40))
                .map_err(|e| Error::Usage(format!("terminal input: {e}")))?
            {
                continue;
            }
            let action =
                match event::read().map_err(|e| Error::Usage(format!("terminal input: {e}")))? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => keys::action(
                        k,
                        app.search.is_some() || app.ask.is_some() || app.filter_input.is_some(),
                    ),
                    Event::Mouse(m) => match m.kind {
                        MouseEventKind::ScrollDown => Some(Action::Down),
                        MouseEventKind::ScrollUp => Some(Action::Up),
                        MouseEventKind::Down(_) => Some(Action::Click(m.column, m.row)),
                        _ => None,
                    },
                    Event::Resize(w, h) => Some(Action::Resize(w, h)),
                    _ => None,
                };
            if let Some(a) = action {
                effects.extend(update(&mut app, a));
            }
        }
    })();
    let _ = execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}
