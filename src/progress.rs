//! Progress on long work (import, score, export, fetch) as one line on standard error that
//! redraws itself: shown only when standard error is a terminal and `--quiet` was not given,
//! so pipes, files and scripts never see it. Like `trace`, a hook any module may call; it
//! writes nothing but that line.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

static QUIET: AtomicBool = AtomicBool::new(false);
/// When the line was last drawn, and whether one is on screen.
static DRAWN: Mutex<Option<Instant>> = Mutex::new(None);

/// `--quiet`: no progress at all.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed) && std::io::stderr().is_terminal()
}

/// The line for `done` of `total` steps: a bar, the count and the share.
pub fn line(label: &str, done: u64, total: u64) -> String {
    let total = total.max(1);
    let done = done.min(total);
    let width = 24;
    let filled = (done * width / total) as usize;
    format!(
        "{label} [{}{}] {done}/{total} ({:.0} %)",
        "#".repeat(filled),
        "·".repeat(width as usize - filled),
        done as f64 * 100.0 / total as f64
    )
}

fn draw(text: &str, force: bool) {
    if !enabled() {
        return;
    }
    let Ok(mut last) = DRAWN.lock() else { return };
    // at most ten redraws a second
    if !force && last.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
        return;
    }
    let mut e = std::io::stderr().lock();
    let _ = write!(e, "\r\x1b[2K{}", crate::text::printable(text));
    let _ = e.flush();
    *last = Some(Instant::now());
}

/// `done` of `total` steps of `label`.
pub fn step(label: &str, done: u64, total: u64) {
    draw(&line(label, done, total), done >= total);
}

/// A phase without a count (`import: checking bodo.xlsx`, `waiting 2 s for SSB`).
pub fn note(label: &str, what: &str) {
    draw(&format!("{label}: {what}"), true);
}

/// Take the line away (before the command prints its result).
pub fn clear() {
    let Ok(mut last) = DRAWN.lock() else { return };
    if last.take().is_some() && enabled() {
        let mut e = std::io::stderr().lock();
        let _ = write!(e, "\r\x1b[2K");
        let _ = e.flush();
    }
}

/// Write a command's output: any progress line on the terminal is cleared first, so the two
/// never mix. The one output helper of the commands (`w` where they use it).
pub fn write_out(out: &mut dyn Write, text: &str) -> crate::error::Result<()> {
    clear();
    out.write_all(text.as_bytes())
        .map_err(|source| crate::error::Error::Write {
            path: "<stdout>".into(),
            source,
        })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_line_has_a_bar_a_count_and_a_share() {
        assert_eq!(
            super::line("score", 50, 200),
            "score [######··················] 50/200 (25 %)"
        );
        assert!(super::line("x", 9, 0).contains("1/1"));
    }
}
