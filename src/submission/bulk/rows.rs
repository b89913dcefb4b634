//! One line of the survey (its row checked, or noted as a doubt), and the second reading of a
//! file that takes the rows of the doubtful cities and years for the row-by-row path.

use super::*;

/// What a part keeps between lines: the fields of the line, and the last keys looked up.
pub(super) struct RowState {
    fields: Vec<Field>,
    key: Vec<u8>,
    /// the last (city, year) texts and their entry
    last_city: Option<(String, String, usize)>,
}

impl RowState {
    pub(super) fn new(cx: &SurveyCtx) -> RowState {
        RowState {
            fields: Vec::with_capacity(cx.layout.table.header.len()),
            key: Vec::new(),
            last_city: None,
        }
    }

    pub(super) fn line(
        &mut self,
        cx: &SurveyCtx,
        part: &mut Part,
        line: &[u8],
        header: bool,
    ) -> Option<()> {
        let line = std::str::from_utf8(line).ok()?;
        split_line(
            line.as_bytes(),
            cx.layout.delimiter,
            cx.limits.max_field_chars,
            &mut self.fields,
        )?;
        if self.fields.len() != cx.layout.table.header.len() {
            return None;
        }
        part.lines += 1;
        if header {
            return Some(());
        }
        let at = part.rows; // the row's index in this part
        part.rows += 1;
        if self.row(cx, part, line, at).is_some() {
            return Some(());
        }
        // a row it cannot vouch for: given up, or noted for the caller to check row by row
        if part.doubts.len() >= cx.collect {
            return None;
        }
        let c = &cx.layout.columns;
        let city = cell(line, &self.fields, Some(c.city)).to_string();
        let year = cell(line, &self.fields, Some(c.year)).to_string();
        part.doubts.push((at, city, year));
        self.last_city = None;
        Some(())
    }

    /// The checks of one data row (`at`: its index in the part); `None` when the survey cannot
    /// vouch for it.
    fn row(&mut self, cx: &SurveyCtx, part: &mut Part, line: &str, at: usize) -> Option<()> {
        let c = &cx.layout.columns;
        let fields = &self.fields;
        // city and year
        let city = cell(line, fields, Some(c.city));
        let year = cell(line, fields, Some(c.year));
        let cy = match &self.last_city {
            Some((lc, ly, i)) if *lc == *city && *ly == *year => *i,
            _ => {
                self.key.clear();
                self.key.extend_from_slice(city.as_bytes());
                self.key.push(0xFF);
                self.key.extend_from_slice(year.as_bytes());
                let i = match part.city_ix.get(self.key.as_slice()) {
                    Some(&i) => i,
                    None => {
                        let cy = resolve_city(&city, &year, cx.registry, cx.years)?;
                        part.cities.push((cy, vec![0; cx.words]));
                        part.city_ix
                            .insert(self.key.clone().into_boxed_slice(), part.cities.len() - 1);
                        part.cities.len() - 1
                    }
                };
                self.last_city = Some((city.to_string(), year.to_string(), i));
                i
            }
        };
        if let Some(message) = &part.cities[cy].0.former {
            part.warnings.push(RowWarning::Former {
                line: at + 2,
                message: message.clone(),
            });
        }
        // kpi, data point, unit, quality, verified
        self.key.clear();
        for col in [Some(c.kpi), c.data_point, c.unit, c.quality, c.verified] {
            self.key
                .extend_from_slice(cell(line, fields, col).as_bytes());
            self.key.push(0xFF);
        }
        let combo = match part.combo_ix.get(self.key.as_slice()) {
            Some(&i) => i,
            None => {
                let mut texts = self.key[..self.key.len() - 1]
                    .split(|&b| b == 0xFF)
                    .map(utf8);
                let mut next = || texts.next().flatten();
                let texts = [next()?, next()?, next()?, next()?, next()?];
                let combo = resolve_combo(texts, cx.catalog)?;
                let dp = *cx.dp_ix.get(combo.dp.as_str())?;
                part.combos.push((combo, dp));
                part.combo_ix
                    .insert(self.key.clone().into_boxed_slice(), part.combos.len() - 1);
                part.combos.len() - 1
            }
        };
        let dp_i = part.combos[combo].1;
        let dp = &cx.catalog.data_points[dp_i];
        // each data point once per city and year
        let bits = &mut part.cities[cy].1;
        let bit = 1u64 << (dp_i % 64);
        if bits[dp_i / 64] & bit != 0 {
            return None;
        }
        bits[dp_i / 64] |= bit;
        // the value, within its limits
        let t = cell(line, fields, Some(c.value));
        let value = if is_plain_decimal(t.as_bytes()) {
            Some(t.parse::<f64>().ok()?)
        } else {
            let key = (dp_i, Box::<[u8]>::from(t.as_bytes()));
            match part.values.get(&key) {
                Some(v) => *v,
                None => {
                    let v = resolve_value(&t, dp)?;
                    part.values.insert(key, v);
                    v
                }
            }
        };
        if let Some(x) = value {
            if dp.unit_kind == crate::catalog::UnitKind::YesNo && x != 0.0 && x != 1.0 {
                return None;
            }
            if dp.min.is_some_and(|m| x < m) || dp.max.is_some_and(|m| x > m) {
                return None;
            }
            if x < dp.plausible[0] || x > dp.plausible[1] {
                part.warnings.push(RowWarning::Implausible {
                    line: at + 2,
                    dp: dp_i,
                    value: x,
                    city: part.cities[cy].0.slug.clone(),
                    year: part.cities[cy].0.year,
                });
            }
        }
        // no ratios; free text stored as written
        for col in [c.numerator, c.denominator] {
            if !cell(line, fields, col).is_empty() {
                return None;
            }
        }
        for col in [c.origin, c.source, c.note] {
            if !text_is_plain(&cell(line, fields, col)) {
                return None;
            }
        }
        Some(())
    }
}

fn utf8(b: &[u8]) -> Option<String> {
    String::from_utf8(b.to_vec()).ok()
}

/// The cities and years whose lines [`lines_of`] takes: by their texts, or by the (city,
/// year) the texts name.
pub struct Wanted {
    pub texts: std::collections::HashSet<(String, String)>,
    pub groups: std::collections::HashSet<(String, i32)>,
    pub years: crate::submission::validate::Years,
}

/// The lines of a plain file (header first) whose (city, year) texts are in `texts` or name a
/// (city, year) in `groups`, as a small CSV file of their bytes with each line's number in the
/// original: what the row-by-row path checks when a collecting survey had doubts. `None`
/// when more than `max_lines` lines are taken or a line is not plain.
pub fn lines_of(
    path: &Path,
    layout: &Layout,
    limits: &Limits,
    registry: &Registry,
    wanted: &Wanted,
    max_lines: usize,
) -> Option<(Vec<u8>, Vec<usize>)> {
    let (texts, groups, years) = (&wanted.texts, &wanted.groups, wanted.years);
    let text = std::io::BufReader::new(std::fs::File::open(path).ok()?);
    let c = &layout.columns;
    let mut out: Vec<u8> = Vec::new();
    let mut numbers = Vec::new();
    let mut fields = Vec::new();
    let mut resolved: HashMap<(String, String), Option<(String, i32)>> = HashMap::new();
    for (i, line) in std::io::BufRead::split(text, b'\n').enumerate() {
        let line = line.ok()?;
        if i == 0 {
            out.extend_from_slice(&line);
            out.push(b'\n');
            continue;
        }
        let line = std::str::from_utf8(&line).ok()?;
        split_line(
            line.as_bytes(),
            layout.delimiter,
            limits.max_field_chars,
            &mut fields,
        )?;
        let key = (
            cell(line, &fields, Some(c.city)).into_owned(),
            cell(line, &fields, Some(c.year)).into_owned(),
        );
        let take = texts.contains(&key)
            || resolved
                .entry(key.clone())
                .or_insert_with(|| {
                    resolve_city(&key.0, &key.1, registry, years).map(|cy| (cy.slug, cy.year))
                })
                .as_ref()
                .is_some_and(|g| groups.contains(g));
        if take {
            if numbers.len() >= max_lines {
                return None;
            }
            out.extend_from_slice(line.as_bytes());
            out.push(b'\n');
            numbers.push(i + 1);
        }
    }
    Some((out, numbers))
}

/// The (city, year) a pair of texts names, if it names one.
pub fn city_year_of(
    city: &str,
    year: &str,
    registry: &Registry,
    years: crate::submission::validate::Years,
) -> Option<(String, i32)> {
    resolve_city(city, year, registry, years).map(|cy| (cy.slug, cy.year))
}
