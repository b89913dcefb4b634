//! One scoring run from current values: scores for every year, rank intervals for the latest
//! year, and trends. Years are scored one at a time and every row is handed to a [`RunIo`]
//! as it is made, so that a world of cities is stored without holding its values or scores
//! in memory.

use super::engine::{self, DpRow, Flags, Names, NodeRow, RawYear, Tree};
use super::method::Method;
use super::trends::{self, Trend};
use super::uncertainty;
use crate::catalog::Catalog;
use crate::registry::Registry;
use std::collections::HashMap;

/// Where a run reads its values: one year at a time, on a thread of its own.
pub trait ValueSource: Send {
    type Error: Send;
    /// The current values of one year, as a city × data point matrix of the catalog's data
    /// points (no cities: the year has none).
    fn year(&mut self, c: &Catalog, year: i32) -> Result<RawYear, Self::Error>;
}

/// Where a run leaves its rows.
pub trait RunIo {
    type Error;
    /// A batch of one year's data-point rows; `names` says what their indices stand for.
    fn dp_rows(&mut self, names: &Names, rows: &[DpRow]) -> Result<(), Self::Error>;
    /// A batch of one year's node rows.
    fn node_rows(&mut self, names: &Names, rows: &[NodeRow]) -> Result<(), Self::Error>;
    fn trend(&mut self, row: Trend) -> Result<(), Self::Error>;
    /// The nodes whose rows the run left out (derived from their data point's rows), once,
    /// after every row; `full_year` is the year whose rows were all stored (the one with rank
    /// intervals), if any.
    fn derived(
        &mut self,
        names: &Names,
        nodes: &[engine::DerivedNode],
        full_year: Option<i32>,
    ) -> Result<(), Self::Error>;
}

/// The nodes a run leaves to be derived: none with `U4SSC_STORE_ALL_NODES=1` (to compare the
/// two ways of storing, in tests and benchmarks).
pub fn derived_nodes(c: &Catalog, tree: &Tree, m: &Method) -> Vec<engine::DerivedNode> {
    if std::env::var_os("U4SSC_STORE_ALL_NODES").is_some_and(|v| v == "1") {
        return Vec::new();
    }
    engine::derived_nodes(c, tree, m, &engine::base_weights(c, tree, m))
}

/// First and last reported value of one city and data point: all a trend needs.
#[derive(Clone, Copy)]
struct Ends {
    first: (i32, f64),
    last: (i32, f64),
    count: u32,
}

/// What the scoring thread sends back to the thread that stores.
enum Msg {
    /// the year and cities whose rows follow
    Cities(i32, Vec<String>),
    /// flag texts first used since the last message
    Flags(Vec<String>),
    Dp(Vec<DpRow>),
    Node(Vec<NodeRow>),
    /// a year is done; whether it had anything to score
    Done(i32, bool),
    Trends(Vec<Trend>),
}

/// Rows sent back at a time.
const CHUNK: usize = 16_384;

/// Chunks the scoring thread may be ahead of the storing one (about 40 MB of rows): it
/// scores the next year while the last one is still being stored.
const AHEAD: usize = 32;

/// Score `years` (ascending) one at a time; returns the years that had values to score, and
/// the source. Rank intervals (`draws` > 0) are computed for the last of them. Three threads
/// make a pipeline: one reads each year's values from `source`, one scores them, and this one
/// stores the rows as they come (it alone touches `io`).
pub fn stream<S: ValueSource, IO: RunIo<Error = S::Error>>(
    c: &Catalog,
    reg: &Registry,
    m: &Method,
    draws: usize,
    years: &[i32],
    mut source: S,
    io: &mut IO,
) -> Result<(Vec<i32>, S), IO::Error> {
    let mut years: Vec<i32> = years.to_vec();
    years.sort_unstable();
    years.dedup();
    let mut scored = Vec::new();
    let tree = Tree::new(c);
    let derived = derived_nodes(c, &tree, m);
    let full_year = years.last().copied().filter(|_| draws > 0);
    std::thread::scope(|s| {
        // the reader holds the next year until the scorer takes it
        let (to_scorer, inbox) = std::sync::mpsc::sync_channel::<(RawYear, bool)>(0);
        let (outbox, from_scorer) = std::sync::mpsc::sync_channel::<Msg>(AHEAD);
        let years = &years;
        let reader = s.spawn(move || -> Result<S, S::Error> {
            let trace = crate::trace::Trace::new();
            for (k, &y) in years.iter().enumerate() {
                let values = source.year(c, y)?;
                trace.mark(&format!("{y}: {} cities read", values.cities.len()));
                if to_scorer.send((values, k + 1 == years.len())).is_err() {
                    break; // the scorer has stopped
                }
            }
            Ok(source)
        });
        let derived = &derived;
        s.spawn(move || scorer(c, reg, m, draws, derived, inbox, outbox));
        let trace = crate::trace::Trace::new();
        let (mut year, mut cities, mut flags) = (0, Vec::new(), Vec::new());
        for msg in from_scorer.iter() {
            let names = |cities, flags| Names {
                catalog: c,
                tree: &tree,
                year,
                cities,
                flags,
            };
            match msg {
                Msg::Cities(y, v) => (year, cities) = (y, v),
                Msg::Flags(v) => flags.extend(v),
                Msg::Dp(rows) => io.dp_rows(&names(&cities, &flags), &rows)?,
                Msg::Node(rows) => io.node_rows(&names(&cities, &flags), &rows)?,
                Msg::Done(y, any) => {
                    if any {
                        scored.push(y);
                    }
                    trace.mark(&format!("{y}: scored and stored"));
                }
                Msg::Trends(ts) => {
                    for t in ts {
                        io.trend(t)?;
                    }
                }
            }
        }
        // the scorer is done; so is the reader, or it failed
        let source = match reader.join() {
            Ok(r) => r?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        if !scored.is_empty() && !derived.is_empty() {
            let names = Names {
                catalog: c,
                tree: &tree,
                year,
                cities: &cities,
                flags: &flags,
            };
            io.derived(&names, derived, full_year)?;
        }
        Ok((scored, source))
    })
}

/// The scoring thread: each year's values in, rows out; trends at the end.
fn scorer(
    c: &Catalog,
    reg: &Registry,
    m: &Method,
    draws: usize,
    derived: &[engine::DerivedNode],
    inbox: std::sync::mpsc::Receiver<(RawYear, bool)>,
    outbox: std::sync::mpsc::SyncSender<Msg>,
) {
    let tree = Tree::new(c);
    let weights = engine::base_weights(c, &tree, m);
    let mut left_out = vec![false; tree.nodes.len()];
    for d in derived {
        left_out[d.node as usize] = true;
    }
    // trends
    let mut city_ix: HashMap<String, usize> = HashMap::new();
    let mut ends: Vec<Option<Ends>> = Vec::new();
    let n_dp = c.data_points.len();
    let mut flags = Flags::default();
    let mut flags_sent = 0;
    for (values, last) in inbox.iter() {
        let year = values.year;
        for (city, row) in values.cities.iter().zip(&values.raw) {
            // the city's place, looked up once per city (and only when it has a value)
            let mut place = None;
            for (j, x) in row.iter().enumerate() {
                let Some(x) = *x else { continue };
                let i = *place.get_or_insert_with(|| match city_ix.get(city.as_str()) {
                    Some(&i) => i,
                    None => {
                        let i = city_ix.len();
                        city_ix.insert(city.clone(), i);
                        ends.resize((i + 1) * n_dp, None);
                        i
                    }
                });
                let e = &mut ends[i * n_dp + j];
                *e = Some(match *e {
                    None => Ends {
                        first: (year, x),
                        last: (year, x),
                        count: 1,
                    },
                    Some(mut e) => {
                        if year < e.first.0 {
                            e.first = (year, x);
                        }
                        if year > e.last.0 {
                            e.last = (year, x);
                        }
                        e.count += 1;
                        e
                    }
                });
            }
        }
        // every value is in: the trends go now, to be stored while the last year is scored
        if last && !send_trends(c, &city_ix, &ends, &outbox) {
            return;
        }
        if values.cities.is_empty() {
            if outbox.send(Msg::Done(year, false)).is_err() {
                return;
            }
            continue;
        }
        let mat = engine::matrix(c, reg, m, year, values.cities, values.raw);
        let intervals =
            (last && draws > 0).then(|| uncertainty::rank_intervals(c, &tree, &mat, m, draws));
        if outbox.send(Msg::Cities(year, mat.cities.clone())).is_err() {
            return;
        }
        let mut dp = Vec::with_capacity(CHUNK);
        let mut nodes = Vec::with_capacity(CHUNK);
        // which data points under a left-out node have a row, by city: the others get an
        // empty one, so that the store derives the node's row from data-point rows alone
        // (kept by data point, the order the rows come in)
        let derive = intervals.is_none() && !derived.is_empty();
        let n_cities = mat.cities.len();
        let mut has_row = if derive {
            vec![false; mat.cities.len() * n_dp]
        } else {
            Vec::new()
        };
        // sends the flag texts first used since the last send, then the rows
        let send = |msg: Msg, f: &Flags, sent: &mut usize| {
            if f.names().len() > *sent {
                outbox.send(Msg::Flags(f.names()[*sent..].to_vec()))?;
                *sent = f.names().len();
            }
            outbox.send(msg)
        };
        let done = engine::score_year::<std::sync::mpsc::SendError<Msg>>(
            c,
            &tree,
            &mat,
            m,
            &weights,
            intervals.as_ref(),
            &mut flags,
            &mut |row, f| {
                match row {
                    engine::Row::Dp(d) => {
                        if derive {
                            has_row[d.dp as usize * n_cities + d.city as usize] = true;
                        }
                        dp.push(d);
                        if dp.len() >= CHUNK {
                            let full = std::mem::replace(&mut dp, Vec::with_capacity(CHUNK));
                            send(Msg::Dp(full), f, &mut flags_sent)?;
                        }
                    }
                    // a row the store derives is left out, but where it has rank intervals
                    engine::Row::Node(n) if intervals.is_none() && left_out[n.node as usize] => {}
                    engine::Row::Node(n) => {
                        nodes.push(n);
                        if nodes.len() >= CHUNK {
                            let full = std::mem::replace(&mut nodes, Vec::with_capacity(CHUNK));
                            send(Msg::Node(full), f, &mut flags_sent)?;
                        }
                    }
                }
                Ok(())
            },
        );
        if derive {
            let none = flags.none();
            for i in 0..mat.cities.len() {
                for d in derived {
                    if !has_row[d.dp as usize * n_cities + i] {
                        dp.push(engine::DpRow {
                            city: i as u32,
                            dp: d.dp,
                            value: None,
                            used_value: None,
                            achievement: None,
                            points: None,
                            score: None,
                            rank: None,
                            flags: none,
                        });
                    }
                }
            }
        }
        if done.is_err()
            || send(Msg::Dp(dp), &flags, &mut flags_sent).is_err()
            || outbox.send(Msg::Node(nodes)).is_err()
            || outbox.send(Msg::Done(year, true)).is_err()
        {
            return; // the storing side has stopped
        }
    }
}

/// Assess and send every trend, in (city, data point) order; false when the storing side
/// has stopped.
fn send_trends(
    c: &Catalog,
    city_ix: &HashMap<String, usize>,
    ends: &[Option<Ends>],
    outbox: &std::sync::mpsc::SyncSender<Msg>,
) -> bool {
    let n_dp = c.data_points.len();
    let mut cities: Vec<(&String, &usize)> = city_ix.iter().collect();
    cities.sort();
    let mut dps: Vec<(usize, &str)> = c
        .data_points
        .iter()
        .enumerate()
        .map(|(j, d)| (j, d.id.as_str()))
        .collect();
    dps.sort_by_key(|p| p.1);
    let mut trends = Vec::with_capacity(CHUNK);
    for (city, &i) in cities {
        for &(j, _) in &dps {
            let Some(e) = ends.get(i * n_dp + j).copied().flatten() else {
                continue;
            };
            let series: Vec<(i32, f64)> = if e.count > 1 {
                vec![e.first, e.last]
            } else {
                vec![e.first]
            };
            if let Some(t) = trends::assess(city, &c.data_points[j], &series) {
                trends.push(t);
                if trends.len() >= CHUNK {
                    let full = std::mem::replace(&mut trends, Vec::with_capacity(CHUNK));
                    if outbox.send(Msg::Trends(full)).is_err() {
                        return false;
                    }
                }
            }
        }
    }
    outbox.send(Msg::Trends(trends)).is_ok()
}
