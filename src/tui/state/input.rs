//! Keys while typing: the question being asked, the questions list, the row filter; and the value a key acts on.

use super::*;

/// What the selected row is about, for `a`: (city, year, data point or the whole city-year).
pub(crate) fn selected_value(app: &App) -> Option<(String, i32, Option<String>)> {
    let year = app.snap.as_ref().map(|s| s.year)?;
    match app.view {
        View::City => {
            let city = app.focus_city()?;
            let dp = model::city(app)?.rows.get(app.row())?.first_dp.clone();
            // a category or higher holds several data points: ask about its first only when
            // it is a single-data-point KPI row; otherwise about the city-year
            let one = dp.as_ref().and_then(|d| {
                let code = app.catalog.get(d)?.category.clone();
                let row = model::city(app)?;
                let r = row.rows.get(app.row())?;
                (r.code == code
                    && app
                        .catalog
                        .data_points
                        .iter()
                        .filter(|x| x.category == code)
                        .count()
                        == 1)
                    .then(|| d.clone())
            });
            Some((city, year, one))
        }
        View::Kpi => {
            let row = model::kpi(app)?;
            let r = row.rows.get(app.row())?;
            Some((r.city.clone(), year, Some(row.id.clone())))
        }
        View::Submissions => {
            let k = *model::status_order(app).get(app.row())?;
            let d = app.status_data.as_ref()?.get(k)?;
            Some((d.city.clone(), d.year, None))
        }
        View::Overview => {
            let r = model::overview(app).rows.get(app.row())?.city.clone();
            Some((r, year, None))
        }
        _ => None,
    }
}

/// Keys while a question is typed: every character is text; Enter sends it through the
/// worker, Esc cancels. The text is kept until the write succeeds.
pub(crate) fn ask_input(app: &mut App, action: Action) -> Option<Vec<Effect>> {
    let ask = app.ask.as_mut()?;
    match action {
        // the text stops at the limit a question may hold
        Action::Input(c) if ask.text.chars().count() < crate::questions::MAX_TEXT_CHARS => {
            ask.text.push(c);
        }
        Action::Input(_) => {}
        Action::Backspace => {
            ask.text.pop();
        }
        Action::Back | Action::Quit => app.ask = None,
        Action::Exit => {
            app.ask = None;
            app.quit = true;
        }
        Action::Enter if !ask.sending => {
            if ask.text.trim().is_empty() {
                ask.error = Some("type the question first".into());
                return Some(vec![]);
            }
            ask.sending = true;
            ask.error = None;
            return Some(vec![Effect::Write(WriteOp::Ask {
                city: ask.city.clone(),
                year: ask.year,
                data_point: ask.data_point.clone(),
                text: ask.text.clone(),
            })]);
        }
        Action::Loaded(..)
        | Action::DetailLoaded(..)
        | Action::Resize(..)
        | Action::Written(..) => return None,
        _ => {}
    }
    Some(vec![])
}

/// Keys while a city's questions are listed: move, Enter for the thread, c closes, Esc goes
/// back (from the thread to the list, from the list to the view).
pub(crate) fn question_keys(app: &mut App, action: &Action) -> Option<Vec<Effect>> {
    let list = app.questions.as_mut()?;
    let n = app
        .snap
        .as_ref()
        .map(|s| s.questions.iter().filter(|q| q.city == list.city).count())
        .unwrap_or(0);
    match action {
        Action::Up => list.selected = list.selected.saturating_sub(1),
        Action::Down => list.selected = (list.selected + 1).min(n.saturating_sub(1)),
        Action::Enter => list.thread = !list.thread,
        Action::Back | Action::Quit | Action::Questions => {
            if list.thread {
                list.thread = false;
            } else {
                app.questions = None;
            }
        }
        Action::CloseQuestion => {
            let q = model::city_questions(app)
                .get(list_selected(app))
                .map(|q| (q.id, q.status));
            match q {
                Some((id, st)) if st.is_pending() => {
                    return Some(vec![Effect::Write(WriteOp::Close { id })])
                }
                Some((id, st)) => {
                    app.message = Some(format!("question {id} is {} already", st.as_str()))
                }
                None => app.message = Some("no question selected".into()),
            }
        }
        Action::Exit => {
            app.questions = None;
            app.quit = true;
        }
        _ => return None,
    }
    Some(vec![])
}

/// Keys while a filter is typed: characters are text, Enter narrows the table (an empty
/// filter shows every row again), Esc leaves the filter as it was.
pub(crate) fn filter_keys(app: &mut App, action: &Action) -> Option<Vec<Effect>> {
    let text = app.filter_input.as_mut()?;
    match action {
        Action::Input(c) => text.push(*c),
        Action::Backspace => {
            text.pop();
        }
        Action::Enter => {
            let f = text.trim().to_string();
            app.filter_input = None;
            let i = app.view.index();
            app.filters[i] = (!f.is_empty()).then_some(f);
            app.set_row(0);
            app.message = Some(match &app.filters[i] {
                Some(f) => format!("{} rows match '{f}'", app.row_count()),
                None => "every row shown".into(),
            });
        }
        Action::Back | Action::Quit => app.filter_input = None,
        Action::Exit => {
            app.filter_input = None;
            app.quit = true;
        }
        _ => return None,
    }
    Some(vec![])
}

pub(crate) fn list_selected(app: &App) -> usize {
    app.questions.as_ref().map(|l| l.selected).unwrap_or(0)
}
