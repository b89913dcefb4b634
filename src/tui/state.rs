//! TUI state and its pure `update`: keys become semantic [`Action`]s, `update` changes the
//! state and returns [`Effect`]s for the main loop (load data, export). No terminal here.

use super::data::{CityData, CompareData, Detail, DetailKey, KpiData, Snapshot, WriteOp};
use super::model;
use crate::catalog::Catalog;
use crate::registry::Registry;
use std::collections::BTreeSet;

mod input;
use input::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Overview,
    City,
    Kpi,
    Compare,
    Submissions,
    Method,
}

impl View {
    pub const ALL: [View; 6] = [
        View::Overview,
        View::City,
        View::Kpi,
        View::Compare,
        View::Submissions,
        View::Method,
    ];
    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "Overview",
            View::City => "City",
            View::Kpi => "KPI",
            View::Compare => "Compare",
            View::Submissions => "Submissions",
            View::Method => "Method",
        }
    }
    pub fn index(self) -> usize {
        View::ALL.iter().position(|v| *v == self).unwrap_or(0)
    }
}

#[derive(Debug, Clone)]
pub enum Action {
    Quit,
    Back,
    NextTab,
    PrevTab,
    Goto(View),
    Up,
    Down,
    Left,
    Right,
    Top,
    Bottom,
    PageDown,
    PageUp,
    Enter,
    Sort,
    Filter,
    Year,
    /// the next year (cycles)
    NextYear,
    /// leave the program now, from anywhere (Ctrl-C)
    Exit,
    Mark,
    Export,
    Help,
    ToggleLevel,
    Search,
    /// the next (true) or previous row matching the last search
    NextMatch(bool),
    /// type a filter that narrows the current table (empty: no filter)
    FilterRows,
    Input(char),
    Backspace,
    Resize(u16, u16),
    /// a mouse click at (column, row) of the screen
    Click(u16, u16),
    /// turn mouse capture off (so text can be selected and copied) or on again
    ToggleMouse,
    Retry,
    /// open a question on the selected value (a text input)
    Ask,
    /// the focused city's questions
    Questions,
    /// close the selected question (in the questions list)
    CloseQuestion,
    /// the worker's answer to a write: the message, or why it failed
    Written(Result<String, String>),
    Loaded(u64, Result<Box<Snapshot>, String>),
    DetailLoaded(u64, Result<Detail, String>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Load {
        id: u64,
        run: Option<i64>,
        year: Option<i32>,
    },
    Export {
        view: View,
    },
    Detail {
        id: u64,
        run: i64,
        year: i32,
        key: DetailKey,
    },
    Write(WriteOp),
    /// mouse capture on or off
    Mouse(bool),
}

/// The question being typed: about what, the text so far, and why the last try failed.
#[derive(Debug, Clone, PartialEq)]
pub struct AskState {
    pub city: String,
    pub year: i32,
    pub data_point: Option<String>,
    pub text: String,
    pub error: Option<String>,
    pub sending: bool,
}

/// The questions list of one city; `thread` shows the selected one's thread.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionList {
    pub city: String,
    pub selected: usize,
    pub thread: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SearchState {
    pub query: String,
    pub selected: usize,
}

/// What the overview's rows depend on besides the snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct OverviewKey {
    pub request: u64,
    pub filter: Option<String>,
    pub sort: Option<(usize, bool)>,
    pub subdimensions: bool,
    pub peers: String,
    pub focus: Option<String>,
}

pub struct App {
    pub catalog: Catalog,
    pub registry: Registry,
    pub snap: Option<Snapshot>,
    pub city_data: Option<CityData>,
    pub kpi_data: Option<KpiData>,
    pub compare_data: Option<CompareData>,
    pub status_data: Option<Vec<crate::store::StatusCount>>,
    /// the overview's rows, computed once per snapshot, sort, filter and level
    pub overview_cache:
        std::cell::RefCell<Option<(OverviewKey, std::rc::Rc<super::model::Overview>)>>,
    pub detail_request: u64,
    pub detail_pending: Option<DetailKey>,
    pub loading: bool,
    pub error: Option<String>,
    pub message: Option<String>,
    pub request: u64,
    pub view: View,
    pub stack: Vec<View>,
    /// selected row per view
    pub rows: [usize; 6],
    /// first visible row per view
    pub offsets: [usize; 6],
    pub column: usize,
    pub sort: Option<(usize, bool)>,
    /// the x-ranges of the current table's columns, as last drawn (for header clicks)
    pub header_x: std::cell::RefCell<Vec<(u16, u16)>>,
    /// per view (besides Overview's `column`/`sort`): the focused column and the sort
    pub cols: [usize; 6],
    pub sorts: [Option<(usize, bool)>; 6],
    /// per view: the text the table's rows are narrowed to (`&`), and the one being typed
    pub filters: [Option<String>; 6],
    pub filter_input: Option<String>,
    pub subdimensions: bool,
    pub city: Option<String>,
    pub kpi: Option<String>,
    pub marked: BTreeSet<String>,
    pub peers: usize,
    pub run: Option<i64>,
    pub year: Option<i32>,
    pub search: Option<SearchState>,
    /// the last search's query, for n/N
    pub last_search: Option<String>,
    pub ask: Option<AskState>,
    pub questions: Option<QuestionList>,
    pub help: bool,
    pub explain: bool,
    pub quit: bool,
    /// whether the UI captures the mouse (M toggles)
    pub mouse: bool,
    pub size: (u16, u16),
    pub color: bool,
}

impl App {
    pub fn new(catalog: Catalog, registry: Registry) -> App {
        App {
            catalog,
            registry,
            snap: None,
            city_data: None,
            kpi_data: None,
            compare_data: None,
            status_data: None,
            overview_cache: std::cell::RefCell::new(None),
            detail_request: 0,
            detail_pending: None,
            loading: false,
            error: None,
            message: None,
            request: 0,
            view: View::Overview,
            stack: vec![],
            rows: [0; 6],
            offsets: [0; 6],
            column: 0,
            sort: None,
            header_x: std::cell::RefCell::new(Vec::new()),
            cols: [0; 6],
            sorts: [None; 6],
            filters: Default::default(),
            filter_input: None,
            subdimensions: false,
            city: None,
            kpi: None,
            marked: BTreeSet::new(),
            peers: 0,
            run: None,
            year: None,
            search: None,
            last_search: None,
            ask: None,
            questions: None,
            help: false,
            explain: false,
            quit: false,
            mouse: true,
            size: (80, 24),
            color: true,
        }
    }

    /// The first request, sent before the first frame.
    pub fn start(&mut self) -> Vec<Effect> {
        self.reload()
    }

    fn reload(&mut self) -> Vec<Effect> {
        self.request += 1;
        self.loading = true;
        vec![Effect::Load {
            id: self.request,
            run: self.run,
            year: self.year,
        }]
    }

    /// Rows in the current view's main list.
    pub fn row_count(&self) -> usize {
        match self.view {
            View::Overview => model::overview(self).rows.len(),
            View::City => model::city(self).map(|c| c.rows.len()).unwrap_or(0),
            View::Kpi => model::kpi(self).map(|k| k.rows.len()).unwrap_or(0),
            View::Compare => model::compare(self).rows.len(),
            View::Submissions => model::status(self).len(),
            View::Method => self.snap.as_ref().map(|s| s.runs.len()).unwrap_or(0),
        }
    }

    /// Rows that fit in the body (the table area less borders and header).
    pub fn page(&self) -> usize {
        (self.size.1 as usize).saturating_sub(8).max(1)
    }

    /// Rows the current view's table shows at once; scrolling keeps the selection among them.
    pub fn visible(&self) -> usize {
        let page = self.page();
        match self.view {
            // the network average takes a line
            View::Overview => page.saturating_sub(1),
            // the data point's description (four lines) stands above the table
            View::Kpi => page.saturating_sub(3),
            // the table has the top two thirds of the body (borders and header off)
            View::Submissions => {
                ((self.size.1 as usize).saturating_sub(4) * 2 / 3).saturating_sub(3)
            }
            _ => page,
        }
        .max(1)
    }

    /// The screen row of the current table's first data row: below the title, the tabs, the
    /// table's border and its header; the KPI view has its four-line description above.
    pub fn first_row_y(&self) -> u16 {
        match self.view {
            View::Kpi => 8,
            _ => 4,
        }
    }

    pub fn row(&self) -> usize {
        self.rows[self.view.index()]
    }

    fn set_row(&mut self, r: usize) {
        let n = self.row_count();
        let i = self.view.index();
        self.rows[i] = if n == 0 { 0 } else { r.min(n - 1) };
        let page = self.visible();
        if self.rows[i] < self.offsets[i] {
            self.offsets[i] = self.rows[i];
        } else if self.rows[i] >= self.offsets[i] + page {
            self.offsets[i] = self.rows[i] + 1 - page;
        }
    }

    pub fn offset(&self) -> usize {
        self.offsets[self.view.index()]
    }

    fn go(&mut self, v: View) {
        if v != self.view {
            self.stack.push(self.view);
            self.view = v;
        }
        self.explain = false;
    }

    /// The peer-group choices for the filter key, relative to the focused city.
    pub fn peer_choices(&self) -> Vec<String> {
        let city = self.focus_city();
        self.registry
            .peer_choices(city.as_deref().and_then(|c| self.registry.get(c)))
    }

    pub fn peer_group(&self) -> String {
        let c = self.peer_choices();
        c.get(self.peers % c.len().max(1))
            .cloned()
            .unwrap_or_else(|| "all".into())
    }

    /// The city the peer filter and the City view are about.
    pub fn focus_city(&self) -> Option<String> {
        self.city
            .clone()
            .or_else(|| self.snap.as_ref().and_then(|s| s.top.clone()))
    }
}

/// The whole behaviour of the TUI, without a terminal: the action, then whatever details the
/// view now on screen still needs.
pub fn update(app: &mut App, action: Action) -> Vec<Effect> {
    let mut fx = apply(app, action);
    fx.extend(want_detail(app));
    fx
}

/// The detail the current view needs, if it is neither loaded nor on its way.
fn want_detail(app: &mut App) -> Vec<Effect> {
    let Some((run, year)) = app
        .snap
        .as_ref()
        .and_then(|s| s.run.as_ref().map(|r| (r.run_id, s.year)))
    else {
        return vec![];
    };
    let key = match app.view {
        View::City => app.focus_city().map(DetailKey::City),
        View::Kpi => Some(DetailKey::Kpi(
            app.kpi
                .clone()
                .unwrap_or_else(|| app.catalog.data_points[0].id.clone()),
        )),
        View::Compare if app.marked.len() >= 2 => {
            Some(DetailKey::Compare(app.marked.iter().cloned().collect()))
        }
        View::Submissions => Some(DetailKey::Status),
        _ => None,
    };
    let Some(key) = key else { return vec![] };
    let loaded = match &key {
        DetailKey::City(c) => app.city_data.as_ref().is_some_and(|d| &d.slug == c),
        DetailKey::Kpi(k) => app.kpi_data.as_ref().is_some_and(|d| &d.id == k),
        DetailKey::Compare(cs) => app.compare_data.as_ref().is_some_and(|d| &d.cities == cs),
        DetailKey::Status => app.status_data.is_some(),
    };
    if loaded || app.detail_pending.as_ref() == Some(&key) {
        return vec![];
    }
    app.detail_request += 1;
    app.detail_pending = Some(key.clone());
    vec![Effect::Detail {
        id: app.detail_request,
        run,
        year,
        key,
    }]
}

fn apply(app: &mut App, action: Action) -> Vec<Effect> {
    // a key clears the last message; data arriving from the worker does not
    if !matches!(
        action,
        Action::Loaded(..) | Action::DetailLoaded(..) | Action::Resize(..)
    ) {
        app.message = None;
    }
    if let Some(fx) = ask_input(app, action.clone()) {
        return fx;
    }
    if let Some(fx) = question_keys(app, &action) {
        return fx;
    }
    if let Some(fx) = filter_keys(app, &action) {
        return fx;
    }
    if let Some(search) = app.search.as_mut() {
        match action {
            Action::Input(c) => {
                search.query.push(c);
                search.selected = 0;
                return vec![];
            }
            Action::Backspace => {
                search.query.pop();
                return vec![];
            }
            Action::Up => {
                search.selected = search.selected.saturating_sub(1);
                return vec![];
            }
            Action::Down => {
                let q = search.query.clone();
                let n = model::search(app, &q).len();
                if let Some(search) = app.search.as_mut() {
                    search.selected = (search.selected + 1).min(n.saturating_sub(1));
                }
                return vec![];
            }
            Action::Back | Action::Quit => {
                app.search = None;
                return vec![];
            }
            // Ctrl-C: close the search and go on to leave
            Action::Exit => app.search = None,
            Action::Enter => {
                let (query, selected) = (search.query.clone(), search.selected);
                app.search = None;
                if !query.trim().is_empty() {
                    app.last_search = Some(query.clone());
                }
                let hits = model::search(app, &query);
                let pick = hits
                    .get(selected.min(hits.len().saturating_sub(1)))
                    .cloned();
                match pick {
                    Some(model::Hit::City(slug, _)) => {
                        app.city = Some(slug);
                        app.go(View::City);
                    }
                    Some(model::Hit::Kpi(id, _)) => {
                        app.kpi = Some(id);
                        app.go(View::Kpi);
                    }
                    None => app.message = Some("nothing matches".into()),
                }
                return vec![];
            }
            Action::Loaded(..) | Action::DetailLoaded(..) | Action::Resize(..) => {}
            _ => return vec![],
        }
    }
    if app.help
        && !matches!(
            action,
            Action::Loaded(..) | Action::DetailLoaded(..) | Action::Resize(..)
        )
    {
        app.help = false;
        if matches!(action, Action::Help | Action::Back | Action::Quit) {
            return vec![];
        }
    }
    match action {
        Action::Exit => app.quit = true,
        Action::Quit => {
            if app.explain {
                app.explain = false;
            } else if let Some(prev) = app.stack.pop() {
                app.view = prev;
            } else {
                app.quit = true;
            }
        }
        Action::Back => {
            if app.explain {
                app.explain = false;
            } else if let Some(prev) = app.stack.pop() {
                app.view = prev;
            }
        }
        Action::NextTab => {
            let i = (app.view.index() + 1) % View::ALL.len();
            app.go(View::ALL[i]);
        }
        Action::PrevTab => {
            let i = (app.view.index() + View::ALL.len() - 1) % View::ALL.len();
            app.go(View::ALL[i]);
        }
        Action::Goto(v) => app.go(v),
        Action::Up => {
            let r = app.row().saturating_sub(1);
            app.set_row(r);
        }
        Action::Down => {
            let r = app.row() + 1;
            app.set_row(r);
        }
        Action::Top => app.set_row(0),
        Action::Bottom => app.set_row(usize::MAX),
        Action::PageDown => {
            let r = app.row() + app.page() / 2;
            app.set_row(r);
        }
        Action::PageUp => {
            let r = app.row().saturating_sub(app.page() / 2);
            app.set_row(r);
        }
        Action::Left if app.view == View::Overview => app.column = app.column.saturating_sub(1),
        Action::Right if app.view == View::Overview => {
            let n = model::overview_columns(app).len() + 2;
            app.column = (app.column + 1).min(n);
        }
        Action::Left => {
            let i = app.view.index();
            app.cols[i] = app.cols[i].saturating_sub(1);
        }
        Action::Right => {
            let i = app.view.index();
            let n = model::sortable_columns(app, app.view).len();
            app.cols[i] = (app.cols[i] + 1).min(n.saturating_sub(1));
        }
        Action::Click(x, y) => {
            if y == 1 {
                // the tab bar: " 1 Overview │ 2 City │ …", one space of padding each side
                let mut left = 0u16;
                for (i, v) in View::ALL.iter().enumerate() {
                    let w = format!("{} {}", i + 1, v.title()).chars().count() as u16 + 2;
                    if x >= left && x < left + w {
                        app.go(*v);
                        break;
                    }
                    left += w + 1;
                }
            } else if y + 1 == app.first_row_y() {
                // a column header: focus that column and sort by it (again: the other way)
                let hit = app
                    .header_x
                    .borrow()
                    .iter()
                    .position(|(a, b)| x >= *a && x < *b);
                let sortable = app.view == View::Overview
                    || !model::sortable_columns(app, app.view).is_empty();
                if let (Some(c), true) = (hit, sortable) {
                    if app.view == View::Overview {
                        app.column = c;
                    } else {
                        let n = model::sortable_columns(app, app.view).len();
                        app.cols[app.view.index()] = c.min(n.saturating_sub(1));
                    }
                    return apply(app, Action::Sort);
                }
            } else if y >= app.first_row_y() {
                // only a row that is on screen
                let r = (y - app.first_row_y()) as usize;
                if r < app.visible() && app.offset() + r < app.row_count() {
                    let r = app.offset() + r;
                    app.set_row(r);
                }
            }
        }
        Action::ToggleMouse => {
            app.mouse = !app.mouse;
            app.message = Some(if app.mouse {
                "mouse on: click selects, scroll moves".into()
            } else {
                "mouse off: the terminal selects and copies text; M turns the mouse back on".into()
            });
            return vec![Effect::Mouse(app.mouse)];
        }
        Action::Enter => match app.view {
            View::Overview => {
                if let Some(row) = model::overview(app).rows.get(app.row()) {
                    app.city = Some(row.city.clone());
                    app.go(View::City);
                }
            }
            View::City => {
                if let Some(dp) = model::city(app)
                    .and_then(|c| c.rows.get(app.row()).and_then(|r| r.first_dp.clone()))
                {
                    app.kpi = Some(dp);
                    app.go(View::Kpi);
                }
            }
            View::Kpi => app.explain = !app.explain,
            View::Method => {
                let k = model::runs_order(app).get(app.row()).copied();
                if let Some(run) = app
                    .snap
                    .as_ref()
                    .and_then(|s| k.and_then(|k| s.runs.get(k)).map(|r| r.run_id))
                {
                    app.run = Some(run);
                    app.message = Some(format!("switching to run {run}"));
                    return app.reload();
                }
            }
            _ => {}
        },
        Action::Sort => {
            if app.view == View::Overview {
                app.sort = match app.sort {
                    Some((c, desc)) if c == app.column => Some((c, !desc)),
                    _ => Some((app.column, true)),
                };
            } else if !model::sortable_columns(app, app.view).is_empty() {
                let i = app.view.index();
                let c = app.cols[i];
                app.sorts[i] = match app.sorts[i] {
                    Some((k, desc)) if k == c => Some((k, !desc)),
                    _ => Some((c, true)),
                };
                app.message = Some(format!(
                    "sorted by {} {}",
                    model::sortable_columns(app, app.view)[c],
                    if app.sorts[i].is_some_and(|s| s.1) {
                        "▼"
                    } else {
                        "▲"
                    }
                ));
            } else {
                app.message = Some("this view keeps its own order".into());
            }
        }
        Action::Filter => {
            app.peers = (app.peers + 1) % app.peer_choices().len().max(1);
            app.set_row(0);
            app.message = Some(format!("peers: {}", model::peer_label(app)));
        }
        Action::Year | Action::NextYear => {
            if let Some(s) = &app.snap {
                if !s.years.is_empty() {
                    let i = s.years.iter().position(|y| *y == s.year).unwrap_or(0);
                    let step = if matches!(action, Action::NextYear) {
                        1
                    } else {
                        s.years.len() - 1
                    };
                    let next = s.years[(i + step) % s.years.len()];
                    app.year = Some(next);
                    app.message = Some(format!("year {next}"));
                    return app.reload();
                }
            }
        }
        Action::Mark => {
            let slug = match app.view {
                View::Overview => model::overview(app)
                    .rows
                    .get(app.row())
                    .map(|r| r.city.clone()),
                _ => app.city.clone(),
            };
            if let Some(slug) = slug {
                if !app.marked.remove(&slug) {
                    if app.marked.len() >= 4 {
                        app.message =
                            Some("Compare takes up to four cities; unmark one first".into());
                    } else {
                        app.marked.insert(slug);
                    }
                }
            }
        }
        Action::Export => return vec![Effect::Export { view: app.view }],
        Action::Help => app.help = true,
        Action::ToggleLevel => {
            app.subdimensions = !app.subdimensions;
            app.column = 0;
            app.sort = None;
        }
        Action::Search => app.search = Some(SearchState::default()),
        Action::FilterRows => {
            app.filter_input = Some(app.filters[app.view.index()].clone().unwrap_or_default())
        }
        Action::NextMatch(forward) => match app.last_search.clone() {
            None => {
                app.message = Some(
                    "search first with /; n and N then step through the rows that match".into(),
                )
            }
            Some(q) => match model::next_match(app, &q, app.row(), forward) {
                Some(r) => {
                    app.set_row(r);
                    app.message = Some(format!("/{q}"));
                }
                None => app.message = Some(format!("no row here matches '{q}'")),
            },
        },
        Action::Input(_) | Action::Backspace => {}
        Action::Resize(w, h) => {
            app.size = (w, h);
            let r = app.row();
            app.set_row(r);
        }
        Action::Retry => return app.reload(),
        Action::Ask => {
            match selected_value(app) {
                Some((city, year, data_point)) => {
                    app.ask = Some(AskState {
                        city,
                        year,
                        data_point,
                        text: String::new(),
                        error: None,
                        sending: false,
                    })
                }
                None => app.message = Some(
                    "select a value first: a city in Overview or Submissions, a row in City or KPI"
                        .into(),
                ),
            }
        }
        Action::Questions => match selected_value(app).map(|v| v.0).or(app.focus_city()) {
            Some(city) => {
                app.questions = Some(QuestionList {
                    city,
                    selected: 0,
                    thread: false,
                })
            }
            None => app.message = Some("select a city first".into()),
        },
        Action::CloseQuestion => {
            app.message = Some("c closes a question in the questions list (A)".into())
        }
        Action::Written(result) => match result {
            Ok(msg) => {
                app.ask = None;
                app.message = Some(msg);
                return app.reload();
            }
            Err(e) => match app.ask.as_mut() {
                // the typed text stays: the coordinator can try again
                Some(ask) => {
                    ask.sending = false;
                    ask.error = Some(e);
                }
                None => app.error = Some(e),
            },
        },
        Action::DetailLoaded(id, result) => {
            if id != app.detail_request {
                return vec![];
            }
            app.detail_pending = None;
            match result {
                Ok(Detail::City(d)) => app.city_data = Some(*d),
                Ok(Detail::Kpi(d)) => app.kpi_data = Some(*d),
                Ok(Detail::Compare(d)) => app.compare_data = Some(*d),
                Ok(Detail::Status(d)) => app.status_data = Some(d),
                Err(e) => app.error = Some(e),
            }
            let r = app.row();
            app.set_row(r);
        }
        Action::Loaded(id, result) => {
            if id != app.request {
                return vec![]; // a newer request is on its way: latest wins
            }
            app.loading = false;
            match result {
                Ok(s) => {
                    app.error = None;
                    app.year = Some(s.year);
                    app.snap = Some(*s);
                    // details belong to the old run or year
                    app.city_data = None;
                    app.kpi_data = None;
                    app.compare_data = None;
                    app.status_data = None;
                    app.detail_pending = None;
                    let r = app.row();
                    app.set_row(r);
                }
                Err(e) => {
                    app.error = Some(if e.contains("in use by another process") {
                        format!("{e} — showing the last data read; press r to retry")
                    } else {
                        e
                    });
                }
            }
        }
    }
    vec![]
}
