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

use crate::app::Ctx;
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

type Loaded = (u64, std::result::Result<Box<data::Snapshot>, String>);

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
    let year = app.snap.as_ref().map(|s| s.year).unwrap_or(0);
    let name = format!("u4ssc-{}-{year}.csv", view.title().to_lowercase());
    let msg = match std::fs::write(&name, csv) {
        Ok(()) => format!("wrote {name} · from the command line: {cmd}"),
        Err(e) => format!("cannot write {name}: {e}"),
    };
    app.message = Some(msg);
}

pub fn run(ctx: &Ctx) -> Result<i32> {
    // create the default database (and its demo) before the screen is taken over
    drop(ctx.open(Access::ReadOnly)?);
    let mut app = App::new(ctx.catalog.clone(), ctx.registry.clone());
    app.color = std::env::var_os("NO_COLOR").is_none();
    let (req_tx, req_rx) = mpsc::channel::<(u64, Option<i64>, Option<i32>)>();
    let (res_tx, res_rx) = mpsc::channel::<Loaded>();
    let worker_ctx = ctx.clone();
    std::thread::spawn(move || {
        while let Ok(mut req) = req_rx.recv() {
            // latest wins: skip requests that a newer one has replaced
            while let Ok(newer) = req_rx.try_recv() {
                req = newer;
            }
            let r = data::load(&worker_ctx, req.1, req.2)
                .map(Box::new)
                .map_err(|e| e.to_string());
            if res_tx.send((req.0, r)).is_err() {
                break;
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
                        let _ = req_tx.send((id, run, year));
                    }
                    Effect::Export { view } => export(&mut app, view),
                }
            }
            terminal
                .draw(|f| view::render(f, &app))
                .map_err(|e| Error::Usage(format!("cannot draw: {e}")))?;
            if app.quit {
                return Ok(0);
            }
            while let Ok((id, r)) = res_rx.try_recv() {
                effects.extend(update(&mut app, Action::Loaded(id, r)));
            }
            if !event::poll(Duration::from_millis(40))
                .map_err(|e| Error::Usage(format!("terminal input: {e}")))?
            {
                continue;
            }
            let action =
                match event::read().map_err(|e| Error::Usage(format!("terminal input: {e}")))? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => {
                        keys::action(k, app.search.is_some())
                    }
                    Event::Mouse(m) => match m.kind {
                        MouseEventKind::ScrollDown => Some(Action::Down),
                        MouseEventKind::ScrollUp => Some(Action::Up),
                        MouseEventKind::Down(_) => Some(Action::Click(m.row)),
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
