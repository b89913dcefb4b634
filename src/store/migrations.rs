//! The schema: forward migrations, applied in order, and the upgrade of an opened database.

use super::*;

/// Forward migrations; schema version N is MIGRATIONS[..N] applied in order.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: revisions and observations
    "CREATE TABLE revisions (
        revision_id BIGINT PRIMARY KEY,
        source_file VARCHAR NOT NULL,
        content_hash VARCHAR NOT NULL UNIQUE,
        format VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        row_count BIGINT NOT NULL
    );
    CREATE TABLE observations (
        revision_id BIGINT NOT NULL,
        line BIGINT NOT NULL,
        city VARCHAR NOT NULL,
        year INTEGER NOT NULL,
        data_point VARCHAR NOT NULL,
        value DOUBLE,
        unit VARCHAR,
        numerator DOUBLE,
        denominator DOUBLE,
        quality VARCHAR,
        origin VARCHAR,
        source VARCHAR,
        verified BOOLEAN,
        note VARCHAR
    );
    CREATE VIEW current_observations AS
        SELECT * FROM observations
        QUALIFY row_number() OVER (PARTITION BY city, year, data_point ORDER BY revision_id DESC) = 1;",
    // 2: scoring runs and their results
    "CREATE TABLE runs (
        run_id BIGINT PRIMARY KEY,
        created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
        method_name VARCHAR NOT NULL,
        method_hash VARCHAR NOT NULL,
        method_text VARCHAR NOT NULL,
        revisions VARCHAR NOT NULL,
        seed BIGINT NOT NULL,
        draws BIGINT NOT NULL,
        program_version VARCHAR NOT NULL,
        catalog_version VARCHAR NOT NULL
    );
    CREATE TABLE dp_scores (
        run_id BIGINT NOT NULL, city VARCHAR NOT NULL, year INTEGER NOT NULL, data_point VARCHAR NOT NULL,
        value DOUBLE, used_value DOUBLE, achievement DOUBLE, points TINYINT, score DOUBLE, rank INTEGER, flags VARCHAR NOT NULL
    );
    CREATE TABLE node_scores (
        run_id BIGINT NOT NULL, city VARCHAR NOT NULL, year INTEGER NOT NULL, level VARCHAR NOT NULL, node VARCHAR NOT NULL,
        u4ssc_pct DOUBLE, band TINYINT, scored_items INTEGER NOT NULL, total_items INTEGER NOT NULL,
        score DOUBLE, coverage DOUBLE NOT NULL, rank INTEGER, rank_median DOUBLE, rank_p05 DOUBLE, rank_p95 DOUBLE
    );
    CREATE TABLE trends (
        run_id BIGINT NOT NULL, city VARCHAR NOT NULL, data_point VARCHAR NOT NULL, first_year INTEGER NOT NULL,
        last_year INTEGER NOT NULL, first_value DOUBLE NOT NULL, last_value DOUBLE NOT NULL, cagr DOUBLE,
        required_cagr DOUBLE, ratio DOUBLE, category VARCHAR NOT NULL, reason VARCHAR NOT NULL
    );",
    // 3: populations fetched from Statistics Norway
    "CREATE TABLE populations (
        city VARCHAR NOT NULL, year INTEGER NOT NULL, population BIGINT NOT NULL,
        source VARCHAR NOT NULL, fetched_at TIMESTAMP NOT NULL DEFAULT current_timestamp
    );",
    // 4: the warnings `check` gave a revision when it was imported
    "CREATE TABLE findings (
        revision_id BIGINT NOT NULL, severity VARCHAR NOT NULL, rule VARCHAR NOT NULL,
        line BIGINT, col VARCHAR, message VARCHAR NOT NULL
    );",
    // 5: the years a run scored, so that readers need not scan its scores for them
    "ALTER TABLE runs ADD COLUMN years VARCHAR;",
    // 6: scores keyed by number: a run of 10 000 cities stores 2.3 M rows a year, and their
    // city, data point, node and flag texts cost more to append than all their numbers; the
    // texts are kept once each, and views give readers the tables as they were
    "CREATE TABLE score_cities (city_id INTEGER PRIMARY KEY, city VARCHAR NOT NULL UNIQUE);
    CREATE TABLE score_items (item_id INTEGER PRIMARY KEY, level VARCHAR NOT NULL, item VARCHAR NOT NULL, UNIQUE (level, item));
    CREATE TABLE score_flags (flags_id INTEGER PRIMARY KEY, flags VARCHAR NOT NULL UNIQUE);
    INSERT INTO score_cities
        SELECT row_number() OVER (ORDER BY city), city FROM (SELECT city FROM dp_scores UNION SELECT city FROM node_scores);
    INSERT INTO score_items
        SELECT row_number() OVER (ORDER BY level, item), level, item
        FROM (SELECT 'data_point' AS level, data_point AS item FROM dp_scores UNION SELECT level, node FROM node_scores);
    INSERT INTO score_flags SELECT row_number() OVER (ORDER BY flags), flags FROM (SELECT DISTINCT flags FROM dp_scores);
    CREATE TABLE dp_score_rows (
        run_id BIGINT NOT NULL, city_id INTEGER NOT NULL, year INTEGER NOT NULL, item_id INTEGER NOT NULL,
        value DOUBLE, used_value DOUBLE, achievement DOUBLE, points TINYINT, score DOUBLE, rank INTEGER, flags_id INTEGER NOT NULL
    );
    INSERT INTO dp_score_rows
        SELECT d.run_id, c.city_id, d.year, i.item_id, d.value, d.used_value, d.achievement, d.points, d.score, d.rank, f.flags_id
        FROM dp_scores d JOIN score_cities c ON c.city = d.city
        JOIN score_items i ON i.level = 'data_point' AND i.item = d.data_point
        JOIN score_flags f ON f.flags = d.flags;
    CREATE TABLE node_score_rows (
        run_id BIGINT NOT NULL, city_id INTEGER NOT NULL, year INTEGER NOT NULL, item_id INTEGER NOT NULL,
        u4ssc_pct DOUBLE, band TINYINT, scored_items INTEGER NOT NULL, total_items INTEGER NOT NULL,
        score DOUBLE, coverage DOUBLE NOT NULL, rank INTEGER, rank_median DOUBLE, rank_p05 DOUBLE, rank_p95 DOUBLE
    );
    INSERT INTO node_score_rows
        SELECT n.run_id, c.city_id, n.year, i.item_id, n.u4ssc_pct, n.band, n.scored_items, n.total_items,
               n.score, n.coverage, n.rank, n.rank_median, n.rank_p05, n.rank_p95
        FROM node_scores n JOIN score_cities c ON c.city = n.city
        JOIN score_items i ON i.level = n.level AND i.item = n.node;
    DROP TABLE dp_scores;
    DROP TABLE node_scores;
    CREATE VIEW dp_scores AS
        SELECT r.run_id, c.city, r.year, i.item AS data_point, r.value, r.used_value, r.achievement,
               r.points, r.score, r.rank, f.flags
        FROM dp_score_rows r JOIN score_cities c ON c.city_id = r.city_id
        JOIN score_items i ON i.item_id = r.item_id JOIN score_flags f ON f.flags_id = r.flags_id;
    CREATE VIEW node_scores AS
        SELECT r.run_id, c.city, r.year, i.level, i.item AS node, r.u4ssc_pct, r.band, r.scored_items,
               r.total_items, r.score, r.coverage, r.rank, r.rank_median, r.rank_p05, r.rank_p95
        FROM node_score_rows r JOIN score_cities c ON c.city_id = r.city_id
        JOIN score_items i ON i.item_id = r.item_id;",
    // 7: the questions log of the verification round
    questions::MIGRATION,
    // 8: a run stores what it must. The row of a node that only repeats its one data point's
    // (a single-data-point KPI averaged with weight 1) is not stored but derived from the
    // data point's row (a run stores an empty one, value and used value NULL, where the data
    // point has no value; `dp_scores` does not show those), but in the year stored in full
    // (the one with rank intervals). U4SSC points and band are derived from the stored
    // percentage (`bands::points`: capped at 100, edges within 1e-9 counted as reached); a
    // run stores them as NULL. Runs stored before keep their rows and values (no entry in
    // run_derived_nodes, coalesce), so they read as before.
    "CREATE TABLE run_derived_nodes (
        run_id BIGINT NOT NULL, node_item_id INTEGER NOT NULL, dp_item_id INTEGER NOT NULL,
        banded BOOLEAN NOT NULL, full_year INTEGER
    );
    CREATE MACRO band_points(pct) AS CASE
        WHEN pct IS NULL THEN NULL
        WHEN least(pct, 100.0) + 1e-9 >= 95.0 THEN 4
        WHEN least(pct, 100.0) + 1e-9 >= 66.0 THEN 3
        WHEN least(pct, 100.0) + 1e-9 >= 33.0 THEN 2
        ELSE 1 END::TINYINT;
    CREATE OR REPLACE VIEW dp_scores AS
        SELECT r.run_id, c.city, r.year, i.item AS data_point, r.value, r.used_value, r.achievement,
               coalesce(r.points, band_points(r.achievement)) AS points, r.score, r.rank, f.flags
        FROM dp_score_rows r JOIN score_cities c ON c.city_id = r.city_id
        JOIN score_items i ON i.item_id = r.item_id JOIN score_flags f ON f.flags_id = r.flags_id
        WHERE r.value IS NOT NULL OR r.used_value IS NOT NULL;
    CREATE OR REPLACE VIEW node_scores AS
        SELECT r.run_id, c.city, r.year, i.level, i.item AS node, r.u4ssc_pct,
               coalesce(r.band, band_points(r.u4ssc_pct)) AS band, r.scored_items,
               r.total_items, r.score, r.coverage, r.rank, r.rank_median, r.rank_p05, r.rank_p95
        FROM node_score_rows r JOIN score_cities c ON c.city_id = r.city_id
        JOIN score_items i ON i.item_id = r.item_id
        UNION ALL
        SELECT run_id, city, year, level, node,
               CASE WHEN pts IS NOT NULL THEN CAST(pts AS DOUBLE) / 4.0 * 100.0 END,
               pts, CAST(pts IS NOT NULL AS INTEGER), total_items, score, coverage, rank,
               NULL::DOUBLE, NULL::DOUBLE, NULL::DOUBLE
        FROM (
            SELECT d.run_id, c.city, d.year, ni.level, ni.item AS node,
                   coalesce(d.points, band_points(d.achievement)) AS pts,
                   CAST(m.banded AS INTEGER) AS total_items, d.score,
                   CASE WHEN d.score IS NOT NULL THEN 1.0 ELSE 0.0 END::DOUBLE AS coverage, d.rank
            FROM dp_score_rows d
            JOIN run_derived_nodes m ON m.run_id = d.run_id AND m.dp_item_id = d.item_id
                AND d.year IS DISTINCT FROM m.full_year
            JOIN score_cities c ON c.city_id = d.city_id
            JOIN score_items ni ON ni.item_id = m.node_item_id
        );",
];

pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

impl Store {
    /// Upgrade from version `found` (what [`Store::schema_version`] read) to the newest.
    pub(super) fn migrate(&self, access: Access, found: i64) -> Result<()> {
        if found > SCHEMA_VERSION {
            return Err(Error::SchemaTooNew {
                path: self.path.clone(),
                found,
                known: SCHEMA_VERSION,
            });
        }
        if found == SCHEMA_VERSION {
            return Ok(());
        }
        if access == Access::ReadOnly {
            return Err(Error::Usage(format!(
                "the database {} is at schema version {found}; open it once for writing (e.g. u4ssc status) to upgrade it to {SCHEMA_VERSION}",
                self.path.display()
            )));
        }
        self.conn
            .execute_batch("BEGIN TRANSACTION")
            .map_err(|e| self.err(e))?;
        let run = || -> std::result::Result<(), duckdb::Error> {
            self.conn.execute_batch(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)",
            )?;
            for (i, m) in MIGRATIONS.iter().enumerate().skip(found as usize) {
                self.conn.execute_batch(m)?;
                self.conn.execute(
                    "INSERT INTO schema_version (version) VALUES (?)",
                    params![i as i64 + 1],
                )?;
            }
            Ok(())
        };
        match run() {
            Ok(()) => self.conn.execute_batch("COMMIT").map_err(|e| self.err(e)),
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                Err(self.err(e))
            }
        }
    }
}
