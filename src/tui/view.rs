//! Rendering: reads the state, draws it. Colour always comes with a glyph or text, so NO_COLOR
//! and colour-blind users lose nothing.

use super::keys::BINDINGS;
use super::model;
use super::state::{App, View};
use crate::scoring::bands::{band_glyph, band_label};
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Sparkline, Table, Tabs, Wrap};
use ratatui::Frame;

mod panels;
use panels::*;

fn band_style(app: &App, band: Option<u8>) -> Style {
    if !app.color {
        return Style::new();
    }
    match band {
        Some(4) => Style::new().fg(Color::Black).bg(Color::Green),
        Some(3) => Style::new().fg(Color::Black).bg(Color::LightGreen),
        Some(2) => Style::new().fg(Color::Black).bg(Color::Yellow),
        Some(_) => Style::new().fg(Color::Black).bg(Color::LightRed),
        None => Style::new().fg(Color::DarkGray),
    }
}

fn score_cell(app: &App, score: Option<f64>, band: Option<u8>) -> Cell<'static> {
    let text = match score {
        Some(s) => format!("{} {s:5.1}", band.map(band_glyph).unwrap_or(" ")),
        None => "  –".to_string(),
    };
    Cell::from(text).style(band_style(app, band))
}

fn sel_style(app: &App) -> Style {
    if app.color {
        Style::new().add_modifier(Modifier::REVERSED)
    } else {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }
}

pub fn render(f: &mut Frame, app: &App) {
    let body_h = f.area().height.saturating_sub(4);
    let [title, tabs, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(1),
        Constraint::Length(body_h),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(f.area());
    // title bar
    let mut t = vec![Span::styled(
        " u4ssc ",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if let Some(s) = &app.snap {
        if s.demo {
            let warn = if app.color {
                Style::new()
                    .fg(Color::White)
                    .bg(Color::Red)
                    .add_modifier(Modifier::BOLD)
            } else {
                Style::new().add_modifier(Modifier::BOLD)
            };
            t.push(Span::styled(" SYNTHETIC DEMO DATA ", warn));
        }
        let run = s
            .run
            .as_ref()
            .map(|r| format!(" run {} ({})", r.run_id, r.method_name))
            .unwrap_or_else(|| " no scoring run".into());
        t.push(Span::raw(format!(
            "{run} · {} · peers: {}",
            s.year,
            model::peer_label(app)
        )));
    }
    if app.loading {
        t.push(Span::raw(" · loading…"));
    }
    f.render_widget(Paragraph::new(Line::from(t)), title);
    let titles: Vec<Line> = View::ALL
        .iter()
        .enumerate()
        .map(|(i, v)| Line::from(format!("{} {}", i + 1, v.title())))
        .collect();
    let sel = View::ALL.iter().position(|v| *v == app.view).unwrap_or(0);
    f.render_widget(
        Tabs::new(titles)
            .select(sel)
            .highlight_style(Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)),
        tabs,
    );
    if app.snap.is_none() {
        let msg = app
            .error
            .clone()
            .unwrap_or_else(|| "loading the database…".into());
        f.render_widget(
            Paragraph::new(msg)
                .block(Block::bordered())
                .wrap(Wrap { trim: true }),
            body,
        );
    } else {
        match app.view {
            View::Overview => overview(f, app, body),
            View::City => city(f, app, body),
            View::Kpi => kpi(f, app, body),
            View::Compare => compare(f, app, body),
            View::Submissions => submissions(f, app, body),
            View::Method => method(f, app, body),
        }
    }
    let line = match &app.filter_input {
        Some(t) => {
            format!("& {t}▏ (filter this table: Enter applies, empty shows every row, Esc cancels)")
        }
        None => app
            .error
            .clone()
            .map(|e| format!("! {e}"))
            .or_else(|| app.message.clone())
            .or_else(|| {
                model::filter_of(app, app.view)
                    .map(|f| format!("filtered: rows matching '{f}' (& changes it)"))
            })
            .unwrap_or_default(),
    };
    f.render_widget(Paragraph::new(line), status);
    let hints: Vec<String> = BINDINGS
        .iter()
        .filter(|b| b.footer)
        .map(|b| format!("{} {}", b.keys, b.help.split(':').next().unwrap_or(b.help)))
        .collect();
    f.render_widget(
        Paragraph::new(hints.join(" │ ")).style(Style::new().add_modifier(Modifier::DIM)),
        footer,
    );
    if let Some(s) = &app.search {
        search(f, app, s, f.area());
    }
    if let Some(list) = &app.questions {
        questions(f, app, list, f.area());
    }
    if let Some(a) = &app.ask {
        ask(f, app, a, f.area());
    }
    if app.help {
        help(f, app.view, f.area());
    }
    if app.explain && app.view == View::Kpi {
        explain(f, app, body);
    }
}

fn overview(f: &mut Frame, app: &App, area: Rect) {
    let o = model::overview(app);
    let mut head = vec!["rank".to_string(), "city".to_string()];
    head.extend(o.columns.iter().map(|c| c.1.clone()));
    head.push("cover".into());
    let head: Vec<Cell> = head
        .into_iter()
        .enumerate()
        .map(|(i, h)| {
            let mark = match app.sort {
                Some((c, desc)) if c == i => {
                    if desc {
                        " ▼"
                    } else {
                        " ▲"
                    }
                }
                _ => "",
            };
            let st = if i == app.column {
                Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED)
            } else {
                Style::new().add_modifier(Modifier::BOLD)
            };
            Cell::from(format!("{h}{mark}")).style(st)
        })
        .collect();
    let mut rows: Vec<Row> = o
        .rows
        .iter()
        .enumerate()
        .skip(app.offset())
        .take(app.visible())
        .map(|(i, r)| {
            let rank = match (r.rank, r.interval) {
                (Some(k), Some((a, b))) => format!("{k:>2} {a:.0}-{b:.0}"),
                (Some(k), None) => format!("{k:>2}"),
                _ => " –".into(),
            };
            let marked = if app.marked.contains(&r.city) {
                "✓ "
            } else {
                "  "
            };
            let mut cells = vec![Cell::from(rank), Cell::from(format!("{marked}{}", r.name))];
            cells.extend(r.cells.iter().map(|(s, b)| score_cell(app, *s, *b)));
            cells.push(Cell::from(format!("{:3.0}%", r.coverage * 100.0)));
            let row = Row::new(cells);
            if i == app.row() {
                row.style(sel_style(app))
            } else {
                row
            }
        })
        .collect();
    let mut avg = vec![
        Cell::from(""),
        Cell::from("network average").style(Style::new().add_modifier(Modifier::ITALIC)),
    ];
    avg.extend(
        o.average
            .iter()
            .map(|a| Cell::from(a.map(|x| format!("  {x:5.1}")).unwrap_or_default())),
    );
    rows.push(Row::new(avg));
    // the city column fits the longest name (and its mark) where the terminal allows: with
    // many cities, names such as "Synthetic City 1236" differ only at the end
    let others = 8 + 8 * o.columns.len() as u16 + 6 + (o.columns.len() as u16 + 3) + 2;
    let longest = o
        .rows
        .iter()
        .map(|r| r.name.chars().count() + 2)
        .max()
        .unwrap_or(0)
        .min(40) as u16;
    let name_w = longest.clamp(16, area.width.saturating_sub(others).max(16));
    let mut lengths = vec![8, name_w];
    lengths.extend(o.columns.iter().map(|_| 8));
    lengths.push(6);
    record_header(app, area, &lengths);
    let widths: Vec<Constraint> = lengths.iter().map(|w| Constraint::Length(*w)).collect();
    let title = format!(
        " cities × {} — U4SSC band glyph and composite score ",
        super::model::level_plural(app, super::model::overview_level(app))
    );
    f.render_widget(
        Table::new(rows, widths)
            .header(Row::new(head))
            .block(Block::bordered().title(title)),
        area,
    );
}

fn bar(v: Option<f64>, width: usize) -> String {
    let n = v
        .map(|x| (x.clamp(0.0, 100.0) / 100.0 * width as f64).round() as usize)
        .unwrap_or(0);
    format!("{}{}", "█".repeat(n), "·".repeat(width - n))
}

/// A one-line sparkline of 0-100 scores.
fn spark_text(h: &[(i32, f64)]) -> String {
    const TICKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    h.iter()
        .map(|(_, v)| TICKS[((v.clamp(0.0, 100.0) / 100.0 * 7.0).round()) as usize])
        .collect()
}

/// A value bar on a shared scale, with the target (┃) and the median (┊) marked.
fn marked_bar(
    v: f64,
    scale: f64,
    target: Option<f64>,
    median: Option<f64>,
    width: usize,
) -> String {
    let pos = |x: f64| ((x / scale).clamp(0.0, 1.0) * (width - 1) as f64).round() as usize;
    let n = if scale > 0.0 { pos(v) + 1 } else { 0 };
    let mut cells: Vec<char> = (0..width).map(|i| if i < n { '█' } else { '·' }).collect();
    if let Some(m) = median {
        cells[pos(m)] = '┊';
    }
    if let Some(t) = target {
        cells[pos(t)] = '┃';
    }
    cells.into_iter().collect()
}

fn city(f: &mut Frame, app: &App, area: Rect) {
    let Some(c) = model::city(app) else {
        let msg = match app.focus_city() {
            Some(c) => format!("loading {c}…"),
            None => "no city selected: pick one in Overview (Enter) or search with /".into(),
        };
        f.render_widget(Paragraph::new(msg).block(Block::bordered()), area);
        return;
    };
    let left_w = area.width * 3 / 5;
    let [left, right] = Layout::horizontal([
        Constraint::Length(left_w),
        Constraint::Length(area.width - left_w),
    ])
    .areas(area);
    let rows: Vec<Row> = c
        .rows
        .iter()
        .enumerate()
        .skip(app.offset())
        .take(app.visible())
        .map(|(i, r)| {
            let mark = if r.questions > 0 {
                format!("{} ", model::QUESTION_MARK)
            } else {
                String::new()
            };
            let name = format!("{}{mark}{} {}", "  ".repeat(r.depth), r.code, r.name);
            let row = Row::new(vec![
                Cell::from(name),
                Cell::from(bar(r.score, 10)),
                score_cell(app, r.score, r.band),
                Cell::from(r.rank.map(|k| format!("#{k}")).unwrap_or_default()),
                Cell::from(r.scored.clone()),
            ]);
            if i == app.row() {
                row.style(sel_style(app))
            } else {
                row
            }
        })
        .collect();
    // explicit widths: the layout solver is free to split a Min() differently between runs
    let name_w = left.width.saturating_sub(2 + 10 + 8 + 4 + 6 + 4).max(8);
    let lengths = [name_w, 10, 8, 4, 6];
    record_header(app, left, &lengths);
    let widths = lengths.map(Constraint::Length);
    f.render_widget(
        Table::new(rows, widths)
            .header(sortable_header(app, View::City))
            .block(Block::bordered().title(format!(" {} ", c.name))),
        left,
    );
    let [spark, info] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(right.height.saturating_sub(4)),
    ])
    .areas(right);
    let data: Vec<u64> = c
        .history
        .iter()
        .map(|h| h.1.max(0.0).round() as u64)
        .collect();
    let years = match (c.history.first(), c.history.last()) {
        (Some(a), Some(b)) => format!(" overall {}–{}: {:.1} → {:.1} ", a.0, b.0, a.1, b.1),
        _ => " overall by year ".into(),
    };
    f.render_widget(
        Sparkline::default()
            .data(&data)
            .max(100)
            .block(Block::bordered().title(years)),
        spark,
    );
    let mut lines: Vec<Line> = Vec::new();
    lines.push(Line::styled(
        format!(
            "trends by {} (score by year)",
            app.catalog
                .level_name(app.catalog.top_level())
                .to_lowercase()
        ),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for (name, h) in &c.dimension_history {
        let last = h
            .last()
            .map(|x| format!("{:.1}", x.1))
            .unwrap_or_else(|| "–".into());
        lines.push(Line::from(format!("  {} {name} {last}", spark_text(h))));
    }
    lines.push(Line::styled(
        "peer groups",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for (g, r, n) in &c.groups {
        lines.push(Line::from(format!(
            "  {g}: {}/{n}",
            r.map(|r| r.to_string()).unwrap_or_else(|| "–".into())
        )));
    }
    lines.push(Line::styled(
        "strengths (vs network median)",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for (n, s, m) in &c.strengths {
        lines.push(Line::from(format!("  + {n} {s:.0} vs {m:.0}")));
    }
    lines.push(Line::styled(
        "weaknesses",
        Style::new().add_modifier(Modifier::BOLD),
    ));
    for (n, s, m) in &c.weaknesses {
        lines.push(Line::from(format!("  − {n} {s:.0} vs {m:.0}")));
    }
    lines.push(Line::styled(
        format!("not reported: {}", c.missing.len()),
        Style::new().add_modifier(Modifier::BOLD),
    ));
    lines.push(Line::from(format!("  {}", c.missing.join(", "))));
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered()),
        info,
    );
}

fn kpi(f: &mut Frame, app: &App, area: Rect) {
    let Some(k) = model::kpi(app) else {
        f.render_widget(
            Paragraph::new("loading the data point…").block(Block::bordered()),
            area,
        );
        return;
    };
    let [top, table] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(area.height.saturating_sub(4)),
    ])
    .areas(area);
    let fmt = |v: Option<f64>| v.map(|x| format!("{x}")).unwrap_or_else(|| "–".into());
    let describe = vec![
        Line::from(vec![
            Span::styled(
                format!("{} {}", k.label, k.name),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Span::raw(format!("  [{}]", k.unit)),
        ]),
        Line::from(format!(
            "target {} ({}) · n {} · missing {} · min {} · median {} · max {} · best {} · worst {}",
            k.target,
            k.basis,
            k.count,
            k.missing,
            fmt(k.min),
            fmt(k.median),
            fmt(k.max),
            k.best.clone().unwrap_or_default(),
            k.worst.clone().unwrap_or_default()
        )),
    ];
    f.render_widget(
        Paragraph::new(describe)
            .wrap(Wrap { trim: true })
            .block(Block::bordered()),
        top,
    );
    let target = app.catalog.get(&k.id).and_then(|d| d.target.value);
    let max = k
        .max
        .unwrap_or(1.0)
        .max(target.unwrap_or(0.0))
        .max(k.min.unwrap_or(0.0).abs())
        .max(1e-9);
    // rank and city fit their longest text (ranks run to 10 000 and more, names such as
    // "Synthetic City 1236" differ at the end) while the trend keeps some room
    let rank_w = k
        .rows
        .iter()
        .filter_map(|r| r.rank)
        .max()
        .map_or(1, |r| r.to_string().len())
        .max(4) as u16;
    // the longest text of a column, up to 40
    let longest_of = |text: fn(&model::KpiRow) -> &str| {
        k.rows
            .iter()
            .map(|r| text(r).chars().count())
            .max()
            .unwrap_or(0)
            .min(40) as u16
    };
    let fixed = 2 + rank_w + 10 + 12 + 8 + 18 + 4 + 7;
    let name_w = longest_of(|r| &r.name).clamp(14, table.width.saturating_sub(fixed + 20).max(14));
    // the quality's whole text where the trend keeps its 20 columns, else cut with "…"
    let quality_longest = longest_of(|r| &r.quality);
    let spare = table.width.saturating_sub(fixed + name_w + 20);
    let quality_w = 18 + quality_longest.saturating_sub(18).min(spare);
    let trend_w = table
        .width
        .saturating_sub(fixed - 18 + quality_w + name_w)
        .max(4);
    let lengths = [rank_w, name_w, 10, 12, 8, quality_w, 4, trend_w];
    let rows: Vec<Row> = k
        .rows
        .iter()
        .enumerate()
        .skip(app.offset())
        .take(app.visible())
        .map(|(i, r)| {
            let b = r
                .value
                .map(|v| marked_bar(v, max, target, k.median, 12))
                .unwrap_or_else(|| "not reported".into());
            let row = Row::new(vec![
                Cell::from(r.rank.map(|x| x.to_string()).unwrap_or_else(|| "–".into())),
                Cell::from(if r.questions > 0 {
                    format!("{} {}", model::QUESTION_MARK, r.name)
                } else {
                    r.name.clone()
                }),
                Cell::from(fmt(r.value)),
                Cell::from(b),
                score_cell(app, r.score, r.band),
                Cell::from(clipped(&r.quality, quality_w)),
                Cell::from(r.verified.clone()),
                Cell::from(r.trend.clone()),
            ]);
            if i == app.row() {
                row.style(sel_style(app))
            } else {
                row
            }
        })
        .collect();
    record_header(app, table, &lengths);
    let widths = lengths.map(Constraint::Length);
    let title = format!(
        " value: bar, ┃ target {}, ┊ median {} ",
        k.target,
        fmt(k.median)
    );
    f.render_widget(
        Table::new(rows, widths)
            .header(sortable_header(app, View::Kpi))
            .block(Block::bordered().title(title)),
        table,
    );
}

fn compare(f: &mut Frame, app: &App, area: Rect) {
    let c = model::compare(app);
    if c.cities.len() < 2 {
        f.render_widget(
            Paragraph::new(
                "mark two to four cities with m (in Overview or City), then come back here",
            )
            .block(Block::bordered().title(" Compare ")),
            area,
        );
        return;
    }
    let rows: Vec<Row> = c
        .rows
        .iter()
        .enumerate()
        .skip(app.offset())
        .take(app.page())
        .map(|(i, (name, vals, best))| {
            let mut cells = vec![Cell::from(name.clone())];
            for (j, v) in vals.iter().enumerate() {
                let star = if Some(j) == *best && vals.iter().flatten().count() > 1 {
                    "★"
                } else {
                    " "
                };
                let st = if Some(j) == *best {
                    Style::new().add_modifier(Modifier::BOLD)
                } else {
                    Style::new()
                };
                cells.push(
                    Cell::from(
                        v.map(|x| format!("{star}{x:5.1}"))
                            .unwrap_or_else(|| "   –".into()),
                    )
                    .style(st),
                );
            }
            let row = Row::new(cells);
            if i == app.row() {
                row.style(sel_style(app))
            } else {
                row
            }
        })
        .collect();
    let name_w = area
        .width
        .saturating_sub(2 + 13 * c.cities.len() as u16)
        .max(10);
    let mut lengths = vec![name_w];
    lengths.extend(c.cities.iter().map(|_| 12));
    record_header(app, area, &lengths);
    let widths: Vec<Constraint> = lengths.iter().map(|w| Constraint::Length(*w)).collect();
    f.render_widget(
        Table::new(rows, widths)
            .header(sortable_header(app, View::Compare))
            .block(
                Block::bordered().title(" composite score per data point; ★ = best of the marked "),
            ),
        area,
    );
}

/// Where each column of the table on screen starts and ends (the table's border and the
/// one-cell spacing between columns counted), so a click on the header can sort by it.
/// `text` in at most `width` columns: cut with "…" when longer.
fn clipped(text: &str, width: u16) -> String {
    let width = usize::from(width);
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn record_header(app: &App, area: Rect, lengths: &[u16]) {
    let Ok(mut h) = app.header_x.try_borrow_mut() else {
        return;
    };
    h.clear();
    let mut x = area.x + 1;
    for w in lengths {
        h.push((x, x + w));
        x += w + 1;
    }
}

/// A table header whose focused column (h/l) is underlined and whose sorted column (s) has
/// ▲ or ▼ (both visible without colour).
fn sortable_header(app: &App, view: View) -> Row<'static> {
    let i = view.index();
    let names = model::sortable_columns(app, view);
    let cells: Vec<Cell> = names
        .iter()
        .enumerate()
        .map(|(c, name)| {
            // the value bar's column has no heading of its own
            let name = if view == View::Kpi && c == 3 {
                ""
            } else {
                name
            };
            let arrow = match app.sorts[i] {
                Some((k, desc)) if k == c => {
                    if desc {
                        " ▼"
                    } else {
                        " ▲"
                    }
                }
                _ => "",
            };
            let mut st = Style::new().add_modifier(Modifier::BOLD);
            if app.cols[i] == c && app.sorts[i].is_some() {
                st = st.add_modifier(Modifier::UNDERLINED);
            }
            Cell::from(format!("{name}{arrow}")).style(st)
        })
        .collect();
    Row::new(cells)
}
