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
        // data points under each node, bottom-up
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
        Tree {
            nodes,
            levels: c.levels.clone(),
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
