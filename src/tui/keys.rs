//! One keymap: it turns keys into actions, and the footer hints and the `?` help are generated
//! from it, so they can never disagree.

use super::state::{Action, View};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

pub struct Binding {
    pub keys: &'static str,
    pub help: &'static str,
    pub footer: bool,
    /// the views where the keys do something (empty: every view); `?` shows only these
    pub views: &'static [View],
}

impl Binding {
    pub fn works_in(&self, view: View) -> bool {
        self.views.is_empty() || self.views.contains(&view)
    }
}

use View::{City as CITY, Kpi as KPI, Overview as OVERVIEW, Submissions as SUBMISSIONS};

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: "Tab/S-Tab 1-6",
        help: "switch view",
        footer: true,
        views: &[],
    },
    Binding {
        keys: "j/k ↑/↓",
        help: "move",
        footer: false,
        views: &[],
    },
    Binding {
        keys: "h/l ←/→",
        help: "focus column (for s)",
        footer: false,
        views: &[],
    },
    Binding {
        keys: "g/G",
        help: "first / last row",
        footer: false,
        views: &[],
    },
    Binding {
        keys: "C-d/C-u",
        help: "half page down / up",
        footer: false,
        views: &[],
    },
    Binding {
        keys: "Enter",
        help: "drill down: city → KPI → explain",
        footer: true,
        views: &[OVERVIEW, CITY, KPI, View::Method],
    },
    Binding {
        keys: "Esc/q",
        help: "back (q on the first view quits)",
        footer: true,
        views: &[],
    },
    Binding {
        keys: "/",
        help: "search cities and KPIs",
        footer: true,
        views: &[],
    },
    Binding {
        keys: "&",
        help: "filter: narrow this table to rows matching a text",
        footer: false,
        views: &[OVERVIEW, CITY, KPI, SUBMISSIONS],
    },
    Binding {
        keys: "n/N",
        help: "next / previous row matching the last search",
        footer: false,
        views: &[],
    },
    Binding {
        keys: "s",
        help: "sort by the focused column (▲/▼)",
        footer: true,
        views: &[],
    },
    Binding {
        keys: "f",
        help: "filter by peer group of the selected city",
        footer: true,
        views: &[OVERVIEW, CITY, KPI],
    },
    Binding {
        keys: "y/Y",
        help: "previous / next year (cycles)",
        footer: false,
        views: &[],
    },
    Binding {
        keys: "d",
        help: "dimensions / sub-dimensions (Overview)",
        footer: false,
        views: &[OVERVIEW],
    },
    Binding {
        keys: "m",
        help: "mark city for Compare (up to 4)",
        footer: true,
        views: &[OVERVIEW, CITY],
    },
    Binding {
        keys: "e",
        help: "export this view as CSV and JSON, and show the CLI command",
        footer: true,
        views: &[],
    },
    Binding {
        keys: "r",
        help: "reload from the database",
        footer: false,
        views: &[],
    },
    Binding {
        keys: "a",
        help: "ask the city a question about the selected value (⚑ marks them)",
        footer: false,
        views: &[OVERVIEW, CITY, KPI, SUBMISSIONS],
    },
    Binding {
        keys: "A / c",
        help: "the city's questions (Enter: thread) / close the selected one",
        footer: false,
        views: &[OVERVIEW, CITY, KPI, SUBMISSIONS],
    },
    Binding {
        keys: "M",
        help: "mouse on/off (off: select and copy text)",
        footer: false,
        views: &[],
    },
    Binding {
        keys: "?",
        help: "this help",
        footer: true,
        views: &[],
    },
];

/// The action for a key press, if any. In the search box every character is input.
pub fn action(key: KeyEvent, searching: bool) -> Option<Action> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if searching {
        return match key.code {
            // Ctrl-C quits from the search box too
            KeyCode::Char('c') if ctrl => Some(Action::Exit),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Enter => Some(Action::Enter),
            KeyCode::Backspace => Some(Action::Backspace),
            KeyCode::Up => Some(Action::Up),
            KeyCode::Down => Some(Action::Down),
            KeyCode::Char(c) if !ctrl => Some(Action::Input(c)),
            _ => None,
        };
    }
    Some(match key.code {
        KeyCode::Char('c') if ctrl => Action::Exit,
        KeyCode::Char('d') if ctrl => Action::PageDown,
        KeyCode::Char('u') if ctrl => Action::PageUp,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Esc => Action::Back,
        KeyCode::Tab => Action::NextTab,
        KeyCode::BackTab => Action::PrevTab,
        KeyCode::Char(c @ '1'..='6') => Action::Goto(View::ALL[(c as u8 - b'1') as usize]),
        KeyCode::Char('j') | KeyCode::Down => Action::Down,
        KeyCode::Char('k') | KeyCode::Up => Action::Up,
        KeyCode::Char('h') | KeyCode::Left => Action::Left,
        KeyCode::Char('l') | KeyCode::Right => Action::Right,
        KeyCode::Char('g') | KeyCode::Home => Action::Top,
        KeyCode::Char('G') | KeyCode::End => Action::Bottom,
        KeyCode::PageDown => Action::PageDown,
        KeyCode::PageUp => Action::PageUp,
        KeyCode::Enter => Action::Enter,
        KeyCode::Char('/') => Action::Search,
        KeyCode::Char('n') => Action::NextMatch(true),
        KeyCode::Char('&') => Action::FilterRows,
        KeyCode::Char('N') => Action::NextMatch(false),
        KeyCode::Char('s') => Action::Sort,
        KeyCode::Char('f') => Action::Filter,
        KeyCode::Char('y') => Action::Year,
        KeyCode::Char('Y') => Action::NextYear,
        KeyCode::Char('d') => Action::ToggleLevel,
        KeyCode::Char('m') => Action::Mark,
        KeyCode::Char('e') => Action::Export,
        KeyCode::Char('r') => Action::Retry,
        KeyCode::Char('a') => Action::Ask,
        KeyCode::Char('A') => Action::Questions,
        KeyCode::Char('M') => Action::ToggleMouse,
        KeyCode::Char('c') => Action::CloseQuestion,
        KeyCode::Char('?') => Action::Help,
        _ => return None,
    })
}
