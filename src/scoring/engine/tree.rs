//! The catalog as a tree of aggregate nodes, bottom-up, with the level of each.

use super::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Hash)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    DataPoint,
    Kpi,
    Category,
    Subdimension,
    Dimension,
    Overall,
}

impl Level {
    pub const ALL: [Level; 6] = [
        Level::DataPoint,
        Level::Kpi,
        Level::Category,
        Level::Subdimension,
        Level::Dimension,
        Level::Overall,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Level::DataPoint => "data-point",
            Level::Kpi => "kpi",
            Level::Category => "category",
            Level::Subdimension => "subdimension",
            Level::Dimension => "dimension",
            Level::Overall => "overall",
        }
    }
    pub fn parse(s: &str) -> Option<Level> {
        Level::ALL
            .into_iter()
            .find(|l| l.as_str() == s || l.as_str().replace('-', "_") == s)
    }
}

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
        let cats: Vec<usize> = c
            .categories
            .iter()
            .map(|n| add(&mut nodes, n.code.clone(), n.name.clone(), Level::Category))
            .collect();
        let subs: Vec<usize> = c
            .subdimensions
            .iter()
            .map(|n| {
                add(
                    &mut nodes,
                    n.code.clone(),
                    n.name.clone(),
                    Level::Subdimension,
                )
            })
            .collect();
        let dims: Vec<usize> = c
            .dimensions
            .iter()
            .map(|n| add(&mut nodes, n.code.clone(), n.name.clone(), Level::Dimension))
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
        for (list, ids) in [(&c.categories, &cats), (&c.subdimensions, &subs)] {
            for (n, &id) in list.iter().zip(ids.iter()) {
                let parent_code = n
                    .subdimension
                    .clone()
                    .or(n.dimension.clone())
                    .unwrap_or_default();
                nodes[id].parent = find(&nodes, &parent_code);
            }
        }
        for &d in &dims {
            nodes[d].parent = Some(overall);
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
        Tree { nodes }
    }
    pub fn find(&self, code: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.code == code)
    }
}
