//! Search and sorting of the rows a view shows, the CSV of a view, and the question markers.

use super::*;

/// A sort key: numbers before text never mix in one column; a missing value sorts last in
/// either direction.
pub enum SortKey {
    Num(Option<f64>),
    Text(String),
}

impl SortKey {
    pub(crate) fn num(v: Option<f64>) -> SortKey {
        SortKey::Num(v.filter(|x| x.is_finite()))
    }
    pub(crate) fn text(s: &str) -> SortKey {
        SortKey::Text(s.to_lowercase())
    }
    pub(crate) fn cmp(a: &SortKey, b: &SortKey, desc: bool) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let ord = match (a, b) {
            (SortKey::Num(Some(x)), SortKey::Num(Some(y))) => x.total_cmp(y),
            (SortKey::Num(None), SortKey::Num(None)) => Ordering::Equal,
            (SortKey::Num(None), _) => return Ordering::Greater,
            (_, SortKey::Num(None)) => return Ordering::Less,
            (SortKey::Text(x), SortKey::Text(y)) => {
                if x.is_empty() != y.is_empty() {
                    return if x.is_empty() {
                        Ordering::Greater
                    } else {
                        Ordering::Less
                    };
                }
                x.cmp(y)
            }
            _ => Ordering::Equal,
        };
        if desc {
            ord.reverse()
        } else {
            ord
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Hit {
    City(String, String),
    Kpi(String, String),
}

/// Fuzzy match: every character of the query in order; shorter spans score better.
/// Fuzzy match: every character of the query, in order, folded (see `fold_char`); a shorter
/// span scores better. Returns the score and the matched characters' positions in `hay`.
pub(crate) fn fuzzy(hay: &str, needle: &str) -> Option<(usize, Vec<usize>)> {
    let h: Vec<char> = hay.chars().map(fold_char).collect();
    let mut at = Vec::new();
    let mut pos = 0;
    for c in needle.chars().filter(|c| !c.is_whitespace()).map(fold_char) {
        let found = h.get(pos..)?.iter().position(|x| *x == c)? + pos;
        at.push(found);
        pos = found + 1;
    }
    let start = at.first().copied().unwrap_or(0);
    Some((pos - start, at))
}

/// The text of each row of the current view's table, for `n`/`N` (the next row matching the
/// last search).
pub fn row_texts(app: &App) -> Vec<String> {
    use super::super::state::View;
    match app.view {
        View::Overview => overview(app).rows.iter().map(|r| r.name.clone()).collect(),
        View::City => city(app)
            .map(|c| {
                c.rows
                    .iter()
                    .map(|r| format!("{} {}", r.code, r.name))
                    .collect()
            })
            .unwrap_or_default(),
        View::Kpi => kpi(app)
            .map(|k| k.rows.iter().map(|r| r.name.clone()).collect())
            .unwrap_or_default(),
        View::Compare => compare(app).rows.iter().map(|r| r.0.clone()).collect(),
        View::Submissions => status(app).into_iter().map(|r| r.0).collect(),
        View::Method => app
            .snap
            .as_ref()
            .map(|s| s.runs.iter().map(|r| r.method_name.clone()).collect())
            .unwrap_or_default(),
    }
}

/// The next (or previous) row after `from` whose text matches `query`, wrapping around.
pub fn next_match(app: &App, query: &str, from: usize, forward: bool) -> Option<usize> {
    let texts = row_texts(app);
    let n = texts.len();
    (1..=n)
        .map(|k| {
            if forward {
                (from + k) % n
            } else {
                (from + n - k % n) % n
            }
        })
        .find(|&i| fuzzy(&texts[i], query).is_some())
}

pub fn search(app: &App, query: &str) -> Vec<Hit> {
    search_hits(app, query).into_iter().map(|h| h.0).collect()
}

/// Search hits, best first, with the characters of the shown name that matched (for
/// highlighting; empty when the match was in another name, a slug or the Norwegian name).
pub fn search_hits(app: &App, query: &str) -> Vec<(Hit, Vec<usize>)> {
    if query.trim().is_empty() {
        return vec![];
    }
    let mut hits: Vec<(usize, Hit, Vec<usize>)> = Vec::new();
    for c in &app.registry.cities {
        let found =
            fuzzy(&c.name, query).or_else(|| fuzzy(&c.slug, query).map(|(s, _)| (s, vec![])));
        if let Some((score, at)) = found {
            hits.push((score, Hit::City(c.slug.clone(), c.name.clone()), at));
        }
    }
    for d in &app.catalog.data_points {
        let shown = format!("{} {}", d.label(), d.name);
        let found =
            fuzzy(&shown, query).or_else(|| fuzzy(&d.name_nb, query).map(|(s, _)| (s, vec![])));
        if let Some((score, at)) = found {
            hits.push((score + 1, Hit::Kpi(d.id.clone(), shown), at));
        }
    }
    hits.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then_with(|| format!("{:?}", a.1).cmp(&format!("{:?}", b.1)))
    });
    hits.into_iter().take(50).map(|h| (h.1, h.2)).collect()
}

/// One character as search compares it: lower case, accents and Norwegian letters folded to
/// their base letter (ø → o, å → a, æ → a, é → e), so `bodo` finds Bodø and `alesund` Ålesund.
pub(crate) fn fold_char(c: char) -> char {
    let l = c.to_lowercase().next().unwrap_or(c);
    match l {
        'æ' | 'å' | 'ä' | 'á' | 'à' | 'â' => 'a',
        'ø' | 'ö' | 'ó' | 'ò' | 'ô' => 'o',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'ü' | 'ú' | 'ù' => 'u',
        'í' | 'ì' | 'ï' => 'i',
        other => other,
    }
}

/// A CSV table as a JSON array of objects, one per row (text values).
pub fn csv_to_json(csv_text: &str) -> String {
    let mut r = csv::Reader::from_reader(csv_text.as_bytes());
    let head: Vec<String> = r
        .headers()
        .map(|h| h.iter().map(String::from).collect())
        .unwrap_or_default();
    let rows: Vec<serde_json::Map<String, serde_json::Value>> = r
        .records()
        .flatten()
        .map(|rec| {
            head.iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.clone(), serde_json::Value::String(v.to_string())))
                .collect()
        })
        .collect();
    serde_json::to_string_pretty(&rows).unwrap_or_default() + "\n"
}

/// The current view as a CSV table (for `e`).
pub fn view_csv(app: &App, view: super::super::state::View) -> (String, String) {
    use super::super::state::View;
    let mut w = crate::table::CsvOut::new();
    let cmd;
    let y = app.snap.as_ref().map(|s| s.year).unwrap_or(0);
    match view {
        View::Overview | View::Compare | View::Submissions | View::Method => {
            let o = overview(app);
            let mut head = vec!["rank".to_string(), "city".to_string()];
            head.extend(o.columns.iter().map(|c| c.0.clone()));
            head.push("coverage".into());
            w.row(&head);
            for r in &o.rows {
                let mut rec = vec![
                    r.rank.map(|x| x.to_string()).unwrap_or_default(),
                    r.city.clone(),
                ];
                rec.extend(
                    r.cells
                        .iter()
                        .map(|c| c.0.map(|x| format!("{x:.2}")).unwrap_or_default()),
                );
                rec.push(format!("{:.2}", r.coverage));
                w.row(&rec);
            }
            cmd = format!(
                "u4ssc rank --level {} --year {y} --format csv",
                app.catalog.level_key(super::overview_level(app))
            );
        }
        View::City => {
            w.row(["node", "name", "score", "u4ssc_band", "rank"]);
            if let Some(c) = city(app) {
                for r in &c.rows {
                    w.row([
                        r.code.clone(),
                        r.name.clone(),
                        r.score.map(|x| format!("{x:.2}")).unwrap_or_default(),
                        r.band.map(band_label).unwrap_or("").to_string(),
                        r.rank.map(|x| x.to_string()).unwrap_or_default(),
                    ]);
                }
                cmd = format!("u4ssc compare {} --year {y} --format json", c.slug);
            } else {
                cmd = String::new();
            }
        }
        View::Kpi => {
            w.row([
                "city", "value", "score", "band", "rank", "quality", "verified", "trend",
            ]);
            let mut c = String::new();
            if let Some(k) = kpi(app) {
                for r in &k.rows {
                    w.row([
                        r.city.clone(),
                        r.value.map(|x| x.to_string()).unwrap_or_default(),
                        r.score.map(|x| format!("{x:.2}")).unwrap_or_default(),
                        r.band.map(band_label).unwrap_or("").to_string(),
                        r.rank.map(|x| x.to_string()).unwrap_or_default(),
                        r.quality.clone(),
                        r.verified.clone(),
                        r.trend.clone(),
                    ]);
                }
                c = format!(
                    "u4ssc rank --level data-point --year {y} --format csv  (data point {})",
                    k.id
                );
            }
            cmd = c;
        }
    }
    (w.into_string(), cmd)
}

/// The glyph that marks a value with a pending question (not only a colour).
pub const QUESTION_MARK: &str = "⚑";

/// The questions of the city the questions list shows, newest first.
pub fn city_questions(app: &App) -> Vec<&crate::store::Question> {
    let (Some(s), Some(list)) = (&app.snap, &app.questions) else {
        return vec![];
    };
    s.questions.iter().filter(|q| q.city == list.city).collect()
}

/// Pending (open or answered) questions in the snapshot's year, counted once per view
/// build (not once per row: a world of cities times a round of questions): by (city, data
/// point; None for a question on the whole city-year).
pub fn pending_index(app: &App) -> HashMap<(&str, Option<&str>), usize> {
    let mut out = HashMap::new();
    if let Some(s) = &app.snap {
        for q in s
            .questions
            .iter()
            .filter(|q| q.year == s.year && q.status.is_pending())
        {
            *out.entry((q.city.as_str(), q.data_point.as_deref()))
                .or_default() += 1;
        }
    }
    out
}

/// Questions of every city-year by state: (open, answered, closed or withdrawn).
pub fn question_tally(app: &App) -> HashMap<(&str, i32), (usize, usize, usize)> {
    let mut out: HashMap<(&str, i32), (usize, usize, usize)> = HashMap::new();
    if let Some(s) = &app.snap {
        for q in &s.questions {
            let c = out.entry((q.city.as_str(), q.year)).or_default();
            match q.status {
                crate::store::Status::Open => c.0 += 1,
                crate::store::Status::Answered => c.1 += 1,
                _ => c.2 += 1,
            }
        }
    }
    out
}
