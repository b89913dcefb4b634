//! The secondary screens: the submissions and method views, popups, search, asking, the questions list, help and explain.

use super::*;

pub(crate) fn submissions(f: &mut Frame, app: &App, area: Rect) {
    let Some(s) = &app.snap else { return };
    let top_h = area.height * 2 / 3;
    let [top, bottom] = Layout::vertical([
        Constraint::Length(top_h),
        Constraint::Length(area.height - top_h),
    ])
    .areas(area);
    let st = model::status(app);
    let slugs: Vec<String> = app
        .status_data
        .as_ref()
        .map(|d| {
            model::status_order(app)
                .into_iter()
                .filter_map(|k| d.get(k).map(|r| r.city.clone()))
                .collect()
        })
        .unwrap_or_default();
    let tally = model::question_tally(app);
    let rows: Vec<Row> = st
        .iter()
        .enumerate()
        .skip(app.offset())
        .take(app.visible())
        .map(|(i, r)| {
            let (open, answered, closed) = slugs
                .get(i)
                .and_then(|c| tally.get(&(c.as_str(), r.1)).copied())
                .unwrap_or((0, 0, 0));
            let questions = if open + answered + closed == 0 {
                String::new()
            } else {
                format!(
                    "{}{open} open · {answered} answered · {closed} closed",
                    if open + answered > 0 {
                        format!("{} ", model::QUESTION_MARK)
                    } else {
                        String::new()
                    }
                )
            };
            // a registry city that sent nothing for a year the others reported
            let nothing = r.2 + r.3 + r.5 == 0;
            let count = |n: &dyn ToString| match nothing {
                true => "–".to_string(),
                false => n.to_string(),
            };
            let questions = match (nothing, questions.is_empty()) {
                (true, true) => "nothing submitted".to_string(),
                (true, false) => format!("nothing submitted · {questions}"),
                (false, _) => questions,
            };
            let row = Row::new(vec![
                r.0.clone(),
                r.1.to_string(),
                count(&r.2),
                count(&r.3),
                count(&r.4),
                count(&r.5),
                questions,
            ]);
            if i == app.row() {
                row.style(sel_style(app))
            } else {
                row
            }
        })
        .collect();
    let lengths = [14, 6, 6, 9, 9, 13];
    record_header(app, top, &lengths);
    let mut widths: Vec<Constraint> = lengths.iter().map(|w| Constraint::Length(*w)).collect();
    // what is left: the question counts never squeeze the city names
    widths.push(Constraint::Fill(1));
    if let Ok(mut h) = app.header_x.try_borrow_mut() {
        let end = h.last().map(|c| c.1 + 1).unwrap_or(top.x);
        h.push((end, top.x + top.width.saturating_sub(1)));
    }
    f.render_widget(
        Table::new(rows, widths)
            .header(sortable_header(app, View::Submissions))
            .block(Block::bordered().title(format!(
                    " reported data points ({} core, {} advanced in the catalog) ",
                    app.catalog
                        .data_points
                        .iter()
                        .filter(|d| d.kpi_type == crate::catalog::KpiType::Core)
                        .count(),
                    app.catalog
                        .data_points
                        .iter()
                        .filter(|d| d.kpi_type == crate::catalog::KpiType::Advanced)
                        .count()
                ))),
        top,
    );
    let mut lines: Vec<Line> = s
        .revisions
        .iter()
        .rev()
        .take(3)
        .map(|r| {
            Line::from(format!(
                "revision {} · {} · {} · {} rows",
                r.revision_id, r.kind, r.source_file, r.row_count
            ))
        })
        .collect();
    if s.findings.is_empty() {
        lines.push(Line::from("latest submission: no findings stored"));
    }
    for f in &s.findings {
        lines.push(Line::from(format!(
            "{}[{}] {}{}: {}",
            f.severity,
            f.rule,
            f.line.map(|l| format!("line {l}")).unwrap_or_default(),
            f.column
                .clone()
                .map(|c| format!(":{c}"))
                .unwrap_or_default(),
            f.message
        )));
    }
    f.render_widget(
        Paragraph::new(lines).wrap(Wrap { trim: true }).block(
            Block::bordered().title(" revisions and the latest submission's check findings "),
        ),
        bottom,
    );
}

pub(crate) fn method(f: &mut Frame, app: &App, area: Rect) {
    let Some(s) = &app.snap else { return };
    let list_w = 44.min(area.width / 2);
    let [list, text] = Layout::horizontal([
        Constraint::Length(list_w),
        Constraint::Length(area.width - list_w),
    ])
    .areas(area);
    let rows: Vec<Row> = model::runs_order(app)
        .into_iter()
        .filter_map(|k| s.runs.get(k))
        .enumerate()
        .map(|(i, r)| {
            let active = if s.run.as_ref().map(|x| x.run_id) == Some(r.run_id) {
                "●"
            } else {
                " "
            };
            let row = Row::new(vec![
                format!("{active} {}", r.run_id),
                r.method_name.clone(),
                r.method_hash[..8].to_string(),
                r.draws.to_string(),
            ]);
            if i == app.row() {
                row.style(sel_style(app))
            } else {
                row
            }
        })
        .collect();
    let lengths = [5, 14, 9, 6];
    record_header(app, list, &lengths);
    f.render_widget(
        Table::new(rows, lengths.map(Constraint::Length))
            .header(sortable_header(app, View::Method))
            .block(Block::bordered().title(" runs (Enter: switch) ")),
        list,
    );
    let body = s
        .run
        .as_ref()
        .map(|r| r.method_text.clone())
        .unwrap_or_default();
    f.render_widget(
        Paragraph::new(body)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" method file of the active run ")),
        text,
    );
}

pub(crate) fn popup(area: Rect, w: u16, h: u16) -> Rect {
    let w = w.min(area.width.saturating_sub(2));
    let h = h.min(area.height.saturating_sub(2));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

pub(crate) fn search(f: &mut Frame, app: &App, s: &super::super::state::SearchState, area: Rect) {
    let r = popup(area, 70, 16);
    f.render_widget(Clear, r);
    let hits = model::search_hits(app, &s.query);
    let mut lines = vec![
        Line::from(format!("/ {}▏", s.query)),
        Line::from(if hits.is_empty() {
            String::new()
        } else {
            format!("{} match(es)", hits.len())
        }),
    ];
    // the list scrolls with the selection
    let room = r.height.saturating_sub(4) as usize;
    let selected = s.selected.min(hits.len().saturating_sub(1));
    let first = selected.saturating_sub(room.saturating_sub(1));
    let hit_style = Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED);
    for (i, (h, at)) in hits.iter().enumerate().skip(first).take(room) {
        let (kind, name) = match h {
            model::Hit::City(_, n) => ("city  ", n),
            model::Hit::Kpi(_, n) => ("KPI   ", n),
        };
        let base = if i == selected {
            sel_style(app)
        } else {
            Style::new()
        };
        // matched characters stand out (bold and underlined: visible without colour)
        let mut spans = vec![Span::styled(kind, base)];
        for (k, c) in name.chars().enumerate() {
            let st = if at.contains(&k) {
                base.patch(hit_style)
            } else {
                base
            };
            spans.push(Span::styled(c.to_string(), st));
        }
        lines.push(Line::from(spans));
    }
    f.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(" search cities and KPIs (Enter opens, Esc closes) ")),
        r,
    );
}

/// The question being typed, what it is about, and the last error (the text is kept).
pub(crate) fn ask(f: &mut Frame, app: &App, a: &super::super::state::AskState, area: Rect) {
    let r = popup(area, 76, 12);
    f.render_widget(Clear, r);
    let about = match &a.data_point {
        Some(dp) => app
            .catalog
            .get(dp)
            .map(|d| format!("{} {}", d.label(), d.name))
            .unwrap_or_else(|| dp.clone()),
        None => "the whole city-year".into(),
    };
    let mut lines = vec![
        Line::styled(
            format!("{} {} · {about}", app.registry.name_of(&a.city), a.year),
            Style::new().add_modifier(Modifier::BOLD),
        ),
        Line::from(""),
        Line::from(format!("{}▏", a.text)),
    ];
    if a.sending {
        lines.push(Line::from(""));
        lines.push(Line::from("sending…"));
    }
    if let Some(e) = &a.error {
        lines.push(Line::from(""));
        lines.push(Line::from(format!(
            "! {e} — the text is kept: Enter tries again"
        )));
    }
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(" ask a question (Enter sends, Esc cancels) ")),
        r,
    );
}

/// A city's questions, or the selected one's thread.
pub(crate) fn questions(
    f: &mut Frame,
    app: &App,
    list: &super::super::state::QuestionList,
    area: Rect,
) {
    let r = popup(area, 100, 20);
    f.render_widget(Clear, r);
    let qs = model::city_questions(app);
    let name = app.registry.name_of(&list.city);
    let label = |q: &crate::store::Question| match &q.data_point {
        Some(dp) => app
            .catalog
            .get(dp)
            .map(|d| d.label())
            .unwrap_or_else(|| dp.clone()),
        None => "(city-year)".into(),
    };
    if list.thread {
        let Some(q) = qs.get(list.selected) else {
            return;
        };
        let mut lines = vec![
            Line::styled(
                format!(
                    "question {} · {} · {} {} · value {}",
                    q.id,
                    q.status_text(),
                    q.year,
                    label(q),
                    q.value.map(|v| v.to_string()).unwrap_or_else(|| "–".into())
                ),
                Style::new().add_modifier(Modifier::BOLD),
            ),
            Line::from(format!("{} asked on {}:", q.asked_by, q.asked_at)),
            Line::from(format!("  {}", q.text)),
        ];
        let events = app
            .snap
            .as_ref()
            .and_then(|s| s.threads.get(&q.id))
            .cloned()
            .unwrap_or_default();
        for e in events {
            lines.push(Line::from(format!(
                "{} · {} on {}",
                e.author,
                e.kind.replace('_', " "),
                e.at
            )));
            if let Some(t) = e.text {
                lines.push(Line::from(format!("  {t}")));
            }
        }
        f.render_widget(
            Paragraph::new(lines)
                .wrap(Wrap { trim: false })
                .block(Block::bordered().title(format!(
                    " {name}: question {} (Esc: the list, c closes it) ",
                    q.id
                ))),
            r,
        );
        return;
    }
    let mut lines = Vec::new();
    if qs.is_empty() {
        lines.push(Line::from(
            "no questions yet: a asks one about the selected value",
        ));
    }
    for (i, q) in qs
        .iter()
        .enumerate()
        .take(r.height.saturating_sub(2) as usize)
    {
        let mark = if q.status.is_pending() {
            model::QUESTION_MARK
        } else {
            " "
        };
        let text: String = q.text.split_whitespace().collect::<Vec<_>>().join(" ");
        let st = if i == list.selected {
            sel_style(app)
        } else {
            Style::new()
        };
        lines.push(Line::styled(
            format!(
                "{mark} {:>3} {:<10} {} {:<24} {}",
                q.id,
                q.status.as_str(),
                q.year,
                label(q),
                text
            ),
            st,
        ));
    }
    f.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(format!(
            " {name}: questions (Enter: thread, c: close, Esc: back) "
        ))),
        r,
    );
}

/// The keys that work in the current view (one keymap: the footer and this never disagree).
pub(crate) fn help(f: &mut Frame, view: View, area: Rect) {
    let here: Vec<&crate::tui::keys::Binding> =
        BINDINGS.iter().filter(|b| b.works_in(view)).collect();
    let r = popup(area, 64, here.len() as u16 + 2);
    f.render_widget(Clear, r);
    let lines: Vec<Line> = here
        .iter()
        .map(|b| Line::from(format!("{:<16} {}", b.keys, b.help)))
        .collect();
    f.render_widget(
        Paragraph::new(lines).block(
            Block::bordered()
                .borders(Borders::ALL)
                .title(format!(" keys in {} (any key closes) ", view.title())),
        ),
        r,
    );
}

pub(crate) fn explain(f: &mut Frame, app: &App, area: Rect) {
    let Some(k) = model::kpi(app) else { return };
    let Some(row) = k.rows.get(app.row()) else {
        return;
    };
    let Some(dp) = app.catalog.get(&k.id) else {
        return;
    };
    let r = popup(area, 76, 12);
    f.render_widget(Clear, r);
    let lines = vec![
        Line::from(format!("{} — {} {}", row.name, k.label, k.name)),
        Line::from(format!(
            "value     {} {}",
            row.value
                .map(|v| v.to_string())
                .unwrap_or_else(|| "not reported".into()),
            k.unit
        )),
        Line::from(format!(
            "quality   {} · verified {}",
            row.quality, row.verified
        )),
        Line::from(format!(
            "target    {} ({}): {}",
            k.target, k.basis, dp.target.source
        )),
        Line::from(format!(
            "direction {} ({})",
            dp.direction.as_str(),
            dp.direction_basis
        )),
        Line::from(format!(
            "U4SSC     {}",
            row.band.map(band_label).unwrap_or("not scored")
        )),
        Line::from(format!(
            "score     {} · rank {}",
            row.score
                .map(|s| format!("{s:.1}"))
                .unwrap_or_else(|| "–".into()),
            row.rank
                .map(|x| x.to_string())
                .unwrap_or_else(|| "–".into())
        )),
        Line::from(format!("trend     {}", row.trend)),
        Line::from(format!(
            "full chain: u4ssc explain {} {}{}",
            row.city,
            dp.code.replace(' ', ""),
            if dp.part.is_empty() {
                String::new()
            } else {
                format!(" --data-point '{}'", dp.part)
            }
        )),
    ];
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::bordered().title(" explain (Enter/Esc closes) ")),
        r,
    );
}
