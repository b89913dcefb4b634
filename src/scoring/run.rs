//! One scoring run from current values: scores for every year, rank intervals for the latest
//! year, and trends. Years are scored one at a time and every row is handed to a [`RunIo`]
//! as it is made, so that a world of cities is stored without holding its values or scores
//! in memory; [`compute`] collects the same rows into vectors.

use super::engine::{self, DpScore, NodeScore, Tree};
use super::method::RunMethod;
use super::trends::{self, Trend};
use super::uncertainty;
use crate::catalog::Catalog;
use crate::registry::Registry;
use crate::store::CurrentValue;
use std::collections::{BTreeMap, HashMap};

/// Where a run reads its values and leaves its rows.
pub trait RunIo {
    type Error;
    /// The current values of one year.
    fn values(&mut self, year: i32) -> Result<Vec<CurrentValue>, Self::Error>;
    fn dp(&mut self, row: DpScore) -> Result<(), Self::Error>;
    fn node(&mut self, row: NodeScore) -> Result<(), Self::Error>;
    fn trend(&mut self, row: Trend) -> Result<(), Self::Error>;
}

pub struct RunOutput {
    pub dp: Vec<DpScore>,
    pub nodes: Vec<NodeScore>,
    pub trends: Vec<Trend>,
    pub uncertainty_year: Option<i32>,
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
    Rows(Vec<engine::Row>),
    /// a year is done; whether it had anything to score
    Done(i32, bool),
    Trends(Vec<Trend>),
}

/// Rows sent back at a time.
const CHUNK: usize = 16_384;

/// Score `years` (ascending) one at a time; returns the years that had values to score.
/// Rank intervals (`draws` > 0) are computed for the last of them. A second thread scores
/// while this one reads the next year's values and stores the rows (the database is only
/// touched from this thread).
pub fn stream<IO: RunIo>(
    c: &Catalog,
    reg: &Registry,
    m: &RunMethod,
    draws: usize,
    years: &[i32],
    io: &mut IO,
) -> Result<Vec<i32>, IO::Error> {
    let mut years: Vec<i32> = years.to_vec();
    years.sort_unstable();
    years.dedup();
    let mut scored = Vec::new();
    std::thread::scope(|s| {
        let (to_scorer, inbox) = std::sync::mpsc::sync_channel::<(i32, Vec<CurrentValue>, bool)>(1);
        let (outbox, from_scorer) = std::sync::mpsc::sync_channel::<Msg>(4);
        s.spawn(move || scorer(c, reg, m, draws, inbox, outbox));
        let trace = crate::trace::Trace::new();
        let mut next = match years.first() {
            Some(&y) => Some(io.values(y)?),
            None => None,
        };
        for (k, &year) in years.iter().enumerate() {
            let Some(values) = next.take() else { break };
            trace.mark(&format!("{year}: {} values read", values.len()));
            if to_scorer
                .send((year, values, k + 1 == years.len()))
                .is_err()
            {
                break;
            }
            // read the next year while this one is scored
            if let Some(&y) = years.get(k + 1) {
                next = Some(io.values(y)?);
            }
            for msg in from_scorer.iter() {
                match msg {
                    Msg::Rows(rows) => {
                        for row in rows {
                            match row {
                                engine::Row::Dp(d) => io.dp(d)?,
                                engine::Row::Node(n) => io.node(n)?,
                            }
                        }
                    }
                    Msg::Done(y, any) => {
                        if any {
                            scored.push(y);
                        }
                        trace.mark(&format!("{y}: scored and stored"));
                        break;
                    }
                    Msg::Trends(_) => {}
                }
            }
        }
        drop(to_scorer);
        for msg in from_scorer.iter() {
            if let Msg::Trends(ts) = msg {
                for t in ts {
                    io.trend(t)?;
                }
            }
        }
        Ok(scored)
    })
}

/// The scoring thread: each year's values in, rows out; trends at the end.
fn scorer(
    c: &Catalog,
    reg: &Registry,
    m: &RunMethod,
    draws: usize,
    inbox: std::sync::mpsc::Receiver<(i32, Vec<CurrentValue>, bool)>,
    outbox: std::sync::mpsc::SyncSender<Msg>,
) {
    let tree = Tree::new(c);
    let weights = engine::base_weights(c, &tree, m);
    let dp_index: HashMap<&str, usize> = c
        .data_points
        .iter()
        .enumerate()
        .map(|(i, d)| (d.id.as_str(), i))
        .collect();
    // trends: first and last value per (city, data point), cities interned
    let mut city_ix: HashMap<String, usize> = HashMap::new();
    let mut ends: Vec<Option<Ends>> = Vec::new();
    let n_dp = c.data_points.len();
    for (year, values, last) in inbox.iter() {
        for v in &values {
            let (Some(x), Some(&j)) = (v.value, dp_index.get(v.data_point.as_str())) else {
                continue;
            };
            let next = city_ix.len();
            let i = *city_ix.entry(v.city.clone()).or_insert(next);
            if i == next {
                ends.resize((i + 1) * n_dp, None);
            }
            let e = &mut ends[i * n_dp + j];
            *e = Some(match *e {
                None => Ends {
                    first: (v.year, x),
                    last: (v.year, x),
                    count: 1,
                },
                Some(mut e) => {
                    if v.year < e.first.0 {
                        e.first = (v.year, x);
                    }
                    if v.year > e.last.0 {
                        e.last = (v.year, x);
                    }
                    e.count += 1;
                    e
                }
            });
        }
        let mats = engine::matrices(c, reg, &values, m);
        drop(values);
        let Some(mat) = mats.into_iter().next() else {
            if outbox.send(Msg::Done(year, false)).is_err() {
                return;
            }
            continue;
        };
        let intervals =
            (last && draws > 0).then(|| uncertainty::rank_intervals(c, &tree, &mat, m, draws));
        let mut chunk = Vec::with_capacity(CHUNK);
        let sent = engine::score_year::<std::sync::mpsc::SendError<Msg>>(
            c,
            &tree,
            &mat,
            m,
            &weights,
            intervals.as_ref(),
            &mut |row| {
                chunk.push(row);
                if chunk.len() >= CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                    outbox.send(Msg::Rows(full))?;
                }
                Ok(())
            },
        );
        if sent.is_err()
            || outbox.send(Msg::Rows(chunk)).is_err()
            || outbox.send(Msg::Done(year, true)).is_err()
        {
            return; // the storing side has stopped
        }
    }
    // trends in (city, data point) order
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
                        return;
                    }
                }
            }
        }
    }
    let _ = outbox.send(Msg::Trends(trends));
}

/// Values held in memory, rows collected into vectors.
struct InMemory<'a> {
    by_year: BTreeMap<i32, Vec<&'a CurrentValue>>,
    out: RunOutput,
}

impl RunIo for InMemory<'_> {
    type Error = std::convert::Infallible;
    fn values(&mut self, year: i32) -> Result<Vec<CurrentValue>, Self::Error> {
        Ok(self
            .by_year
            .get(&year)
            .map(|v| v.iter().map(|x| (*x).clone()).collect())
            .unwrap_or_default())
    }
    fn dp(&mut self, row: DpScore) -> Result<(), Self::Error> {
        self.out.dp.push(row);
        Ok(())
    }
    fn node(&mut self, row: NodeScore) -> Result<(), Self::Error> {
        self.out.nodes.push(row);
        Ok(())
    }
    fn trend(&mut self, row: Trend) -> Result<(), Self::Error> {
        self.out.trends.push(row);
        Ok(())
    }
}

/// The whole run in memory.
pub fn compute(
    c: &Catalog,
    reg: &Registry,
    values: &[CurrentValue],
    m: &RunMethod,
    draws: usize,
) -> RunOutput {
    let mut by_year: BTreeMap<i32, Vec<&CurrentValue>> = BTreeMap::new();
    for v in values {
        by_year.entry(v.year).or_default().push(v);
    }
    let years: Vec<i32> = by_year.keys().copied().collect();
    let mut io = InMemory {
        by_year,
        out: RunOutput {
            dp: Vec::new(),
            nodes: Vec::new(),
            trends: Vec::new(),
            uncertainty_year: None,
        },
    };
    let scored = match stream(c, reg, m, draws, &years, &mut io) {
        Ok(s) => s,
        Err(never) => match never {},
    };
    io.out.uncertainty_year = scored.last().copied();
    io.out
}
