//! The stored scores read back: one query API over the score views for every reader.

use super::*;

impl Store {
    /// The years that have current values, ascending (every observed year has some: the
    /// latest revision of each value is in the same year as the others).
    pub fn current_years(&self) -> Result<Vec<i32>> {
        self.column("SELECT DISTINCT year FROM observations ORDER BY year")
    }

    /// The first column of a query's rows.
    pub(super) fn column<T: duckdb::types::FromSql>(&self, sql: &str) -> Result<Vec<T>> {
        self.all(sql, [], |r| r.get(0))
    }

    pub fn runs(&self) -> Result<Vec<RunInfo>> {
        self.all(
            "SELECT run_id, CAST(created_at AS VARCHAR), method_name, method_hash, method_text, revisions, seed, draws, program_version, catalog_version FROM runs ORDER BY run_id",
            [], |r| {
                Ok(RunInfo {
                    run_id: r.get(0)?,
                    created_at: r.get(1)?,
                    method_name: r.get(2)?,
                    method_hash: r.get(3)?,
                    method_text: r.get(4)?,
                    revisions: r.get(5)?,
                    seed: r.get(6)?,
                    draws: r.get(7)?,
                    program_version: r.get(8)?,
                    catalog_version: r.get(9)?,
                })
            })
    }

    /// Node scores of a run, optionally for one level and/or one year.
    pub fn node_scores(
        &self,
        run: i64,
        level: Option<Level>,
        year: Option<i32>,
    ) -> Result<Vec<NodeScore>> {
        self.node_scores_where(
            run,
            &Filter {
                level,
                year,
                ..Filter::default()
            },
        )
    }

    /// Node scores of a run, by any of level, year and city.
    pub fn node_scores_where(&self, run: i64, f: &Filter) -> Result<Vec<NodeScore>> {
        let lv = f.level.map(|l| l.key().into_owned());
        self.node_scores_levels(run, lv.as_deref(), f)
    }

    /// Node scores of up to three levels of a year, in one scan.
    pub fn node_scores_in(&self, run: i64, levels: &[Level], year: i32) -> Result<Vec<NodeScore>> {
        let l = |i: usize| {
            levels
                .get(i)
                .or(levels.first())
                .map_or("overall".to_string(), |l| l.key().into_owned())
        };
        self.all(
            "SELECT city, year, level, node, u4ssc_pct, band, scored_items, total_items, score, coverage, rank, rank_median, rank_p05, rank_p95
                 FROM node_scores WHERE run_id = ? AND year = ? AND level IN (?, ?, ?)",
            params![run, year, l(0), l(1), l(2)], node_score_row)
    }

    pub(super) fn node_scores_levels(
        &self,
        run: i64,
        levels: Option<&str>,
        f: &Filter,
    ) -> Result<Vec<NodeScore>> {
        self.all(
            "SELECT city, year, level, node, u4ssc_pct, band, scored_items, total_items, score, coverage, rank, rank_median, rank_p05, rank_p95
                 FROM node_scores WHERE run_id = ? AND (? IS NULL OR list_contains(string_split(?, ','), level)) AND (? IS NULL OR year = ?) AND (? IS NULL OR city = ?)
                 ORDER BY year, level, node, city",
            params![run, levels, levels, f.year, f.year, f.city, f.city],
                node_score_row)
    }

    /// Node scores of a run at some levels, optionally of one year, every city (the peer
    /// groups of an export of a few cities), in the order of [`Store::node_scores`].
    pub fn node_scores_at(
        &self,
        run: i64,
        levels: &[Level],
        year: Option<i32>,
    ) -> Result<Vec<NodeScore>> {
        let list: Vec<String> = levels.iter().map(|l| l.key().into_owned()).collect();
        self.node_scores_levels(
            run,
            Some(&list.join(",")),
            &Filter {
                year,
                ..Filter::default()
            },
        )
    }

    /// Node scores of some cities, optionally of one year, in the order of
    /// [`Store::node_scores`] (an export of a few cities of a world).
    pub fn node_scores_of(
        &self,
        run: i64,
        cities: &[String],
        year: Option<i32>,
    ) -> Result<Vec<NodeScore>> {
        self.all(
            "SELECT city, year, level, node, u4ssc_pct, band, scored_items, total_items, score, coverage, rank, rank_median, rank_p05, rank_p95
                 FROM node_scores WHERE run_id = ? AND (? IS NULL OR year = ?)
                   AND city IN (SELECT unnest(string_split(?, chr(31))))
                 ORDER BY year, level, node, city",
            params![run, year, year, cities.join("\u{1f}")],
            node_score_row,
        )
    }

    /// Data-point scores of some cities, optionally of one year, in the order of
    /// [`Store::dp_scores`].
    pub fn dp_scores_of(
        &self,
        run: i64,
        cities: &[String],
        year: Option<i32>,
    ) -> Result<Vec<DpScore>> {
        if cities.is_empty() {
            return Ok(Vec::new());
        }
        self.all(
            "SELECT city, year, data_point, value, used_value, achievement, points, score, rank, flags
                 FROM dp_scores WHERE run_id = ? AND (? IS NULL OR year = ?)
                   AND city IN (SELECT unnest(string_split(?, chr(31))))
                 ORDER BY year, data_point, city",
            params![run, year, year, cities.join("\u{1f}")],
            dp_score_row,
        )
    }

    /// Every city's data-point scores of a year, as (city, data point, score), only those
    /// with a score, in the order of [`Store::dp_scores`]: what comparing one city with all
    /// the others needs, without a world's values, flags and ranks.
    pub fn dp_score_values(&self, run: i64, year: i32) -> Result<Vec<(String, String, f64)>> {
        self.all(
            "SELECT city, data_point, score FROM dp_scores
                 WHERE run_id = ? AND year = ? AND score IS NOT NULL
                 ORDER BY data_point, city",
            params![run, year],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
    }

    /// Data-point scores of a run, optionally for one city and/or year.
    pub fn dp_scores(
        &self,
        run: i64,
        city: Option<&str>,
        year: Option<i32>,
    ) -> Result<Vec<DpScore>> {
        self.dp_scores_where(
            run,
            &Filter {
                city,
                year,
                ..Filter::default()
            },
        )
    }

    /// Data-point scores of a run, by any of city, year and data point.
    pub fn dp_scores_where(&self, run: i64, f: &Filter) -> Result<Vec<DpScore>> {
        self.all(
            "SELECT city, year, data_point, value, used_value, achievement, points, score, rank, flags
                 FROM dp_scores WHERE run_id = ? AND (? IS NULL OR city = ?) AND (? IS NULL OR year = ?) AND (? IS NULL OR data_point = ?)
                 ORDER BY year, data_point, city",
            params![
                    run,
                    f.city,
                    f.city,
                    f.year,
                    f.year,
                    f.data_point,
                    f.data_point
                ],
                dp_score_row)
    }

    pub fn trends(&self, run: i64, city: Option<&str>) -> Result<Vec<Trend>> {
        self.trends_where(
            run,
            &Filter {
                city,
                ..Filter::default()
            },
        )
    }

    /// Trends of a run, by city and/or data point.
    pub fn trends_where(&self, run: i64, f: &Filter) -> Result<Vec<Trend>> {
        self.all(
            "SELECT city, data_point, first_year, last_year, first_value, last_value, cagr, required_cagr, ratio, category, reason
                 FROM trends WHERE run_id = ? AND (? IS NULL OR city = ?) AND (? IS NULL OR data_point = ?) ORDER BY city, data_point",
            params![run, f.city, f.city, f.data_point, f.data_point],
            trend_row,
        )
    }

    /// Trends of some cities, in the order of [`Store::trends`] (an export streamed city by
    /// city).
    pub fn trends_of(&self, run: i64, cities: &[String]) -> Result<Vec<Trend>> {
        if cities.is_empty() {
            return Ok(Vec::new());
        }
        self.all(
            "SELECT city, data_point, first_year, last_year, first_value, last_value, cagr, required_cagr, ratio, category, reason
                 FROM trends WHERE run_id = ? AND city IN (SELECT unnest(string_split(?, chr(31)))) ORDER BY city, data_point",
            params![run, cities.join("\u{1f}")],
            trend_row,
        )
    }

    /// [`Store::node_scores`] of a year handed to `f` a batch at a time, in the same order
    /// (an export of a world of cities never holds a year's scores); only the `levels` given
    /// (their stored keys), if any.
    pub fn node_scores_each(
        &self,
        run: i64,
        year: i32,
        levels: Option<&[Level]>,
        batch: usize,
        f: impl FnMut(Vec<NodeScore>) -> Result<()>,
    ) -> Result<()> {
        let levels = levels.map(|l| {
            l.iter()
                .map(|l| l.key().into_owned())
                .collect::<Vec<_>>()
                .join("\u{1f}")
        });
        self.each(
            "SELECT city, year, level, node, u4ssc_pct, band, scored_items, total_items, score, coverage, rank, rank_median, rank_p05, rank_p95
                 FROM node_scores WHERE run_id = ? AND year = ?
                   AND (? IS NULL OR level IN (SELECT unnest(string_split(?, chr(31)))))
                 ORDER BY year, level, node, city",
            params![run, year, levels, levels],
            node_score_row,
            batch,
            f,
        )
    }

    /// [`Store::dp_scores`] of a year handed to `f` a batch at a time, in the same order.
    pub fn dp_scores_each(
        &self,
        run: i64,
        year: i32,
        batch: usize,
        f: impl FnMut(Vec<DpScore>) -> Result<()>,
    ) -> Result<()> {
        self.each(
            "SELECT city, year, data_point, value, used_value, achievement, points, score, rank, flags
                 FROM dp_scores WHERE run_id = ? AND year = ?
                 ORDER BY year, data_point, city",
            params![run, year],
            dp_score_row,
            batch,
            f,
        )
    }

    /// Every city with a stored value, in the order the tables list them.
    pub fn value_cities(&self) -> Result<Vec<String>> {
        self.column("SELECT DISTINCT city FROM observations ORDER BY city")
    }

    /// The revision each current value came from, for `explain`.
    pub fn observation(
        &self,
        city: &str,
        year: i32,
        data_point: &str,
    ) -> Result<Option<(crate::submission::Observation, RevisionInfo)>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT o.line, o.city, o.year, o.data_point, o.value, o.unit, o.numerator, o.denominator, o.quality, o.origin, o.source, o.verified, o.note, o.revision_id
                 FROM current_observations o WHERE o.city = ? AND o.year = ? AND o.data_point = ?",
            )
            .map_err(|e| self.err(e))?;
        let mut rows = stmt
            .query_map(params![city, year, data_point], |r| {
                Ok((observation_row(r)?, r.get::<_, i64>(13)?))
            })
            .map_err(|e| self.err(e))?;
        let Some(first) = rows.next() else {
            return Ok(None);
        };
        let (obs, rev) = first.map_err(|e| self.err(e))?;
        let info = self.revisions()?.into_iter().find(|r| r.revision_id == rev);
        Ok(info.map(|i| (obs, i)))
    }
}

fn trend_row(r: &duckdb::Row) -> std::result::Result<Trend, duckdb::Error> {
    let category: String = r.get(9)?;
    Ok(Trend {
        city: r.get(0)?,
        data_point: r.get(1)?,
        first_year: r.get(2)?,
        last_year: r.get(3)?,
        first_value: r.get(4)?,
        last_value: r.get(5)?,
        cagr: r.get(6)?,
        required_cagr: r.get(7)?,
        ratio: r.get(8)?,
        category: crate::scoring::trends::category_static(&category),
        reason: r.get(10)?,
    })
}

fn dp_score_row(r: &duckdb::Row) -> std::result::Result<DpScore, duckdb::Error> {
    Ok(DpScore {
        city: r.get(0)?,
        year: r.get(1)?,
        data_point: r.get(2)?,
        value: r.get(3)?,
        used_value: r.get(4)?,
        achievement: r.get(5)?,
        points: r.get(6)?,
        score: r.get(7)?,
        rank: r.get::<_, Option<i64>>(8)?.map(|x| x as usize),
        flags: r.get(9)?,
    })
}
