//! One year's raw values of every city, read into a matrix by data point.

use super::*;

/// One year's reported values as a city × data point matrix (cities sorted, data points in
/// catalog order). A city is in it when it has a row for one of the catalog's data points.
pub struct RawYear {
    pub year: i32,
    pub cities: Vec<String>,
    pub raw: Vec<Vec<Option<f64>>>,
}

impl RawYear {
    /// The matrix of a year's current values (values of other years are left out).
    pub fn of<'a>(
        c: &Catalog,
        year: i32,
        values: impl Iterator<Item = &'a CurrentValue>,
    ) -> RawYear {
        let mut b = RawYearBuilder::new(c, year);
        for v in values.filter(|v| v.year == year) {
            b.add(&v.city, &v.data_point, v.value);
        }
        b.finish()
    }
}

/// Builds a [`RawYear`] one value at a time, in any order.
pub struct RawYearBuilder<'a> {
    year: i32,
    dp_index: HashMap<&'a str, usize>,
    n_dp: usize,
    city_index: HashMap<String, usize>,
    last: Option<(String, usize)>,
    cities: Vec<String>,
    raw: Vec<Vec<Option<f64>>>,
}

impl<'a> RawYearBuilder<'a> {
    pub fn new(c: &'a Catalog, year: i32) -> RawYearBuilder<'a> {
        RawYearBuilder {
            year,
            dp_index: c
                .data_points
                .iter()
                .enumerate()
                .map(|(i, d)| (d.id.as_str(), i))
                .collect(),
            n_dp: c.data_points.len(),
            city_index: HashMap::new(),
            last: None,
            cities: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// A value of a city and data point (one not in the catalog is left out).
    pub fn add(&mut self, city: &str, data_point: &str, value: Option<f64>) {
        let Some(&j) = self.dp_index.get(data_point) else {
            return;
        };
        let i = match &self.last {
            Some((c, i)) if c == city => *i,
            _ => {
                let i = match self.city_index.get(city) {
                    Some(&i) => i,
                    None => {
                        self.cities.push(city.to_string());
                        self.raw.push(vec![None; self.n_dp]);
                        self.city_index
                            .insert(city.to_string(), self.cities.len() - 1);
                        self.cities.len() - 1
                    }
                };
                self.last = Some((city.to_string(), i));
                i
            }
        };
        self.raw[i][j] = value;
    }

    /// The matrix, cities sorted.
    pub fn finish(self) -> RawYear {
        let mut rows: Vec<(String, Vec<Option<f64>>)> =
            self.cities.into_iter().zip(self.raw).collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        let (cities, raw) = rows.into_iter().unzip();
        RawYear {
            year: self.year,
            cities,
            raw,
        }
    }
}

/// Builds a [`RawYear`] from values numbered rather than named: a city by its place in one
/// ascending list of names, a data point by its place in the catalog (as the store reads
/// them, so that a million values cost no text each).
pub struct IndexedYearBuilder<'a> {
    year: i32,
    names: &'a [String],
    n_dp: usize,
    /// the matrix row of each city of `names`, `u32::MAX` while it has none
    row_of: Vec<u32>,
    /// the city of each matrix row, by its place in `names`
    city_of: Vec<u32>,
    raw: Vec<Vec<Option<f64>>>,
}

impl<'a> IndexedYearBuilder<'a> {
    /// `names` ascending (as `String`s compare), without repeats.
    pub fn new(c: &Catalog, year: i32, names: &'a [String]) -> IndexedYearBuilder<'a> {
        IndexedYearBuilder {
            year,
            names,
            n_dp: c.data_points.len(),
            row_of: vec![u32::MAX; names.len()],
            city_of: Vec::new(),
            raw: Vec::new(),
        }
    }

    /// A value of city `names[city]` and catalog data point `dp`; false (and nothing added)
    /// when either is out of range.
    pub fn add(&mut self, city: usize, dp: usize, value: Option<f64>) -> bool {
        if dp >= self.n_dp {
            return false;
        }
        let Some(row) = self.row_of.get_mut(city) else {
            return false;
        };
        if *row == u32::MAX {
            *row = self.city_of.len() as u32;
            self.city_of.push(city as u32);
            self.raw.push(vec![None; self.n_dp]);
        }
        self.raw[*row as usize][dp] = value;
        true
    }

    /// The matrix, cities sorted.
    pub fn finish(self) -> RawYear {
        let mut rows: Vec<(u32, Vec<Option<f64>>)> =
            self.city_of.into_iter().zip(self.raw).collect();
        rows.sort_unstable_by_key(|r| r.0);
        let (cities, raw) = rows
            .into_iter()
            .map(|(i, r)| (self.names[i as usize].clone(), r))
            .unzip();
        RawYear {
            year: self.year,
            cities,
            raw,
        }
    }
}
