//! The catalog as a tree of aggregate nodes, bottom-up, with the level of each.

use super::*;

pub use crate::catalog::Level;

#[derive(Debug, Clone, Copy)]
pub enum Child {
    Dp(usize),
    Node(usize),
}

#[derive(Debug, Clone)]
pub struct TNode {
    pub code: String,
    pub name: String,
    pub level: Level,
    pub parent: Option<usize>,
    pub children: Vec<Child>,
    /// every data point under this node
    pub dps: Vec<usize>,
}

/// The catalog's aggregate nodes, bottom-up (children before parents).
#[derive(Debug, Clone)]
pub struct Tree {
    pub nodes: Vec<TNode>,
    /// The catalog's aggregate levels, bottom-up, for their names.
    pub levels: Vec<crate::catalog::LevelName>,
}

impl Tree {
    pub fn new(c: &Catalog) -> Tree {
        let mut nodes: Vec<TNode> = Vec::new();
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut add = |nodes: &mut Vec<TNode>, code: String, name: String, level: Level| -> usize {
            if let Some(&i) = index.get(&code) {
                return i;
            }
            nodes.push(TNode {
                code: code.clone(),
                name,
                level,
                parent: None,
                children: vec![],
                dps: vec![],
            });
            index.insert(code, nodes.len() - 1);
            nodes.len() - 1
        };
        // KPIs
        let mut kpi_of = Vec::new();
        for dp in &c.data_points {
            let name = if dp.part.is_empty() {
                dp.name.clone()
            } else {
                dp.name.split(':').next().unwrap_or(&dp.name).to_string()
            };
            kpi_of.push(add(&mut nodes, normalise_code(&dp.code), name, Level::Kpi));
        }
        // the aggregates, lowest level first, then the overall score
        let aggs: Vec<usize> = c
            .aggregates
            .iter()
            .map(|n| {
                add(
                    &mut nodes,
                    n.code.clone(),
                    n.name.clone(),
                    Level::aggregate(n.level),
                )
            })
            .collect();
        let overall = add(
            &mut nodes,
            "overall".into(),
            "Overall".into(),
            Level::Overall,
        );
        let find = |nodes: &Vec<TNode>, code: &str| nodes.iter().position(|n| n.code == code);
        for (i, dp) in c.data_points.iter().enumerate() {
            let k = kpi_of[i];
            // a data point without a direction is shown, never scored: no child of its KPI
            if dp.direction != Direction::None {
                nodes[k].children.push(Child::Dp(i));
            }
            if nodes[k].parent.is_none() {
                nodes[k].parent = find(&nodes, &dp.category);
            }
        }
        for (n, &id) in c.aggregates.iter().zip(aggs.iter()) {
            nodes[id].parent = match &n.parent {
                Some(p) => find(&nodes, p),
                None => Some(overall),
            };
        }
        for i in 0..nodes.len() {
            if let Some(p) = nodes[i].parent {
                if nodes[i].level != Level::Kpi
                    || !nodes[p]
                        .children
                        .iter()
                        .any(|c| matches!(c, Child::Node(x) if *x == i))
                {
                    nodes[p].children.push(Child::Node(i));
                }
            }
        }
        fill_dps(&mut nodes);
        Tree {
            nodes,
            levels: c.levels.clone(),
        }
    }
    /// A COINr framework as a tree: its scored indicators are the data points (in iMeta
    /// order), its aggregates the nodes on their own levels (COINr level L is aggregate
    /// level L - 2), children in iMeta order. The index keeps its code.
    pub fn from_framework(fw: &crate::framework::Framework) -> Tree {
        use crate::framework::NodeKind;
        let dps: Vec<&str> = fw.indicators().map(|n| n.code.as_str()).collect();
        let dp_index: BTreeMap<&str, usize> =
            dps.iter().enumerate().map(|(i, c)| (*c, i)).collect();
        let aggs = fw.aggregates_bottom_up();
        let node_index: BTreeMap<&str, usize> = aggs
            .iter()
            .enumerate()
            .map(|(i, n)| (n.code.as_str(), i))
            .collect();
        let mut nodes: Vec<TNode> = aggs
            .iter()
            .map(|n| TNode {
                code: n.code.clone(),
                name: n.name.clone(),
                level: Level::aggregate(n.level.saturating_sub(2) as usize),
                parent: n.parent.as_deref().and_then(|p| node_index.get(p).copied()),
                children: vec![],
                dps: vec![],
            })
            .collect();
        for n in fw.nodes.iter().filter(|n| n.scored) {
            let Some(&p) = n.parent.as_deref().and_then(|p| node_index.get(p)) else {
                continue;
            };
            let child = match n.kind {
                NodeKind::Indicator => dp_index.get(n.code.as_str()).map(|&d| Child::Dp(d)),
                NodeKind::Aggregate => node_index.get(n.code.as_str()).map(|&k| Child::Node(k)),
            };
            if let Some(ch) = child {
                nodes[p].children.push(ch);
            }
        }
        fill_dps(&mut nodes);
        let mut levels: Vec<u32> = aggs.iter().map(|n| n.level).collect();
        levels.sort_unstable();
        levels.dedup();
        Tree {
            nodes,
            levels: levels
                .iter()
                .map(|l| crate::catalog::LevelName {
                    key: format!("level-{l}"),
                    name: format!("Level {l}"),
                })
                .collect(),
        }
    }

    /// The aggregate levels from the top down (U4SSC: dimension, sub-dimension, category), the
    /// levels a view walks from the overall score.
    pub fn levels_top_down(&self) -> Vec<Level> {
        let mut v: Vec<Level> = self
            .nodes
            .iter()
            .map(|n| n.level)
            .filter(|l| l.aggregate_index().is_some())
            .collect();
        v.sort_unstable();
        v.dedup();
        v.reverse();
        v
    }
    /// The highest level below the overall score (U4SSC: dimension).
    pub fn top_level(&self) -> Level {
        self.levels_top_down()
            .first()
            .copied()
            .unwrap_or(Level::Kpi)
    }
    /// A level's key as the catalog names it (`category`, `pillar`): what exports print.
    pub fn level_key(&self, level: Level) -> std::borrow::Cow<'_, str> {
        crate::catalog::level_key(&self.levels, level)
    }
    /// A level's name shown to people (`Sub-dimension`, `Pillar`).
    pub fn level_name(&self, level: Level) -> String {
        crate::catalog::level_name(&self.levels, level)
    }
    pub fn find(&self, code: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.code == code)
    }
}

/// Every data point under each node.
fn fill_dps(nodes: &mut [TNode]) {
    for i in 0..nodes.len() {
        let mut dps = Vec::new();
        let mut stack = vec![i];
        while let Some(n) = stack.pop() {
            for ch in &nodes[n].children {
                match ch {
                    Child::Dp(d) => dps.push(*d),
                    Child::Node(m) => stack.push(*m),
                }
            }
        }
        dps.sort_unstable();
        nodes[i].dps = dps;
    }
}

/// Every node's score for every unit, [node][unit], and its coverage share.
pub struct Aggregated {
    pub node: Vec<Vec<Option<f64>>>,
    pub coverage: Vec<Vec<f64>>,
}

/// Aggregate a tree bottom-up: the one implementation of aggregation, for the U4SSC engine and
/// the COINr pipeline alike. `dp_scores` are the normalised data points (indicators) [dp][unit];
/// `weights` one per data point, then one per node; `how` each node's mean. A node is computed
/// when the share the rule counts (data points under it, or its children) that have a score
/// reaches `rule.coverage`, as COINr's weighted means (`steps::weighted_mean`) over the children
/// that have one. With `positive`, the children of a geometric or harmonic node are moved onto
/// [1, 100] first (an aggregate child only when it is an arithmetic mean; a geometric or
/// harmonic one already is).
#[allow(clippy::too_many_arguments)]
pub fn aggregate_tree(
    tree: &Tree,
    dp_scores: &[Vec<Option<f64>>],
    n_unit: usize,
    weights: &[f64],
    how: &[Aggregation],
    rule: &Rule,
    positive: Option<&dyn Fn(f64) -> f64>,
) -> Aggregated {
    let n_dp = dp_scores.len();
    let mut node_scores: Vec<Vec<Option<f64>>> = vec![vec![None; n_unit]; tree.nodes.len()];
    let mut cov: Vec<Vec<f64>> = vec![vec![0.0; n_unit]; tree.nodes.len()];
    // children always come before parents in level order
    let mut order: Vec<usize> = (0..tree.nodes.len()).collect();
    order.sort_by_key(|&i| tree.nodes[i].level);
    // the data points with a score under each node, [node][unit], summed from its children
    // (a node's data points are exactly its children's)
    let mut scored: Vec<Vec<u32>> = match rule.coverage_of {
        CoverageOf::DataPoints => vec![vec![0; n_unit]; tree.nodes.len()],
        CoverageOf::Children => Vec::new(),
    };
    // a node at a time, child by child over every unit: the weighted mean of
    // `steps::weighted_mean`, its sums taken in the same order from the same start
    // (`Iterator::sum` starts at -0.0), so that every score is the same to the last bit
    let start: f64 = std::iter::empty::<f64>().sum();
    let mut wsum = vec![start; n_unit];
    let mut xsum = vec![start; n_unit];
    let mut present = vec![0u32; n_unit];
    let mut not_positive = vec![false; n_unit];
    for &k in &order {
        let node = &tree.nodes[k];
        let mean = how.get(k).copied().unwrap_or_default();
        let moved = positive.filter(|_| mean != Aggregation::Arithmetic);
        wsum.fill(start);
        xsum.fill(start);
        present.fill(0);
        not_positive.fill(false);
        let mut dps_scored = match rule.coverage_of {
            CoverageOf::DataPoints => vec![0u32; n_unit],
            CoverageOf::Children => Vec::new(),
        };
        for ch in &node.children {
            let (col, w, moved) = match ch {
                Child::Dp(d) => {
                    for (s, v) in dps_scored.iter_mut().zip(&dp_scores[*d]) {
                        *s += u32::from(v.is_some());
                    }
                    (&dp_scores[*d], weights[*d], moved)
                }
                Child::Node(n) => {
                    for (s, v) in dps_scored
                        .iter_mut()
                        .zip(scored.get(*n).into_iter().flatten())
                    {
                        *s += v;
                    }
                    // a geometric or harmonic child is on [1, 100] already
                    let on_1_100 =
                        how.get(*n).copied().unwrap_or_default() != Aggregation::Arithmetic;
                    (
                        &node_scores[*n],
                        weights[n_dp + *n],
                        moved.filter(|_| !on_1_100),
                    )
                }
            };
            for (i, x) in col.iter().enumerate() {
                let Some(x) = *x else { continue };
                let x = moved.map_or(x, |p| p(x));
                present[i] += 1;
                wsum[i] += w;
                match mean {
                    Aggregation::Arithmetic => xsum[i] += x * w,
                    Aggregation::Geometric => {
                        not_positive[i] |= x <= 0.0;
                        xsum[i] += w * x.ln();
                    }
                    Aggregation::Harmonic => {
                        not_positive[i] |= x <= 0.0;
                        xsum[i] += w / x;
                    }
                }
            }
        }
        for i in 0..n_unit {
            // the share of the data points under the node (U4SSC, JRC) or of its children
            // (COINr's dat_thresh) that have a score
            let (have, total) = match rule.coverage_of {
                CoverageOf::DataPoints => (dps_scored[i] as usize, node.dps.len()),
                CoverageOf::Children => (present[i] as usize, node.children.len()),
            };
            let share = if total == 0 {
                0.0
            } else {
                have as f64 / total as f64
            };
            cov[k][i] = share;
            if have == 0 || share + 1e-12 < rule.coverage {
                continue;
            }
            if present[i] == 0 || wsum[i] <= 0.0 {
                continue;
            }
            node_scores[k][i] = match mean {
                Aggregation::Arithmetic => Some(xsum[i] / wsum[i]),
                _ if not_positive[i] => None,
                Aggregation::Geometric => Some((xsum[i] / wsum[i]).exp()),
                Aggregation::Harmonic => Some(wsum[i] / xsum[i]),
            };
        }
        if rule.coverage_of == CoverageOf::DataPoints {
            scored[k] = dps_scored;
        }
    }
    Aggregated {
        node: node_scores,
        coverage: cov,
    }
}
