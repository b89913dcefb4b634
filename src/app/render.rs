//! How the CLI writes the scoring commands' reports: text for people (the demo banner, a
//! heading, aligned columns, a cut at `--top`), CSV and JSON for programs. The use cases
//! (`score_cmd`) return the facts; nothing below this layer chooses a format.

use crate::demo::SYNTHETIC_LABEL;
use crate::error::Result;
use crate::progress::write_out as w;
use crate::score_cmd::{
    Change, CompareReport, DiffReport, ExplainReport, Named, PeersReport, RankReport, ScoreReport,
    SideBySide,
};
use crate::scoring::bands::{band_glyph, band_label};
use crate::scoring::engine::{Level, NodeScore};
use crate::scoring::trends::arrow;
use crate::store::RunInfo;
use crate::table::{f1, to_json, DocFormat, OutputFormat, TextTable};
use std::io::Write;

fn dash<T: ToString>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "–".into())
}

fn banner(demo: bool, out: &mut dyn Write) -> Result<()> {
    if demo {
        w(
            out,
            &format!("!! {SYNTHETIC_LABEL}: scores of the generated demo, not of real cities\n"),
        )?;
    }
    Ok(())
}

/// How many ranks a ranking shows: `--top N` (0: all), else 20 when text goes to a
/// terminal and more than 100 cities are ranked (10 000 lines scroll by and cost seconds).
fn top_of(top: Option<usize>, text: bool, cities: usize) -> Option<usize> {
    use std::io::IsTerminal;
    match top {
        Some(0) => None,
        Some(n) => Some(n),
        None if text && cities > 100 && std::io::stdout().is_terminal() => Some(20),
        None => None,
    }
}

/// The rows within the first `top` ranks (all without a limit), and how many are left out.
fn within_top(rows: &[Named], top: Option<usize>) -> (Vec<&Named>, usize) {
    match top {
        None => (rows.iter().collect(), 0),
        Some(n) => {
            let kept: Vec<&Named> = rows
                .iter()
                .filter(|r| r.score.rank.is_some_and(|k| k <= n))
                .collect();
            let left = rows.len() - kept.len();
            (kept, left)
        }
    }
}

fn more_line(left: usize, n: Option<usize>) -> String {
    match (left, n) {
        (0, _) | (_, None) => String::new(),
        (k, Some(n)) => format!("… {k} more below rank {n} (--top 0 shows all)\n"),
    }
}

fn scores_of<'a>(rows: &[&'a Named]) -> Vec<&'a NodeScore> {
    rows.iter().map(|r| &r.score).collect()
}

/// A ranking as a table: by node, then rank, then city (slug).
fn rank_table(rows: &[&Named], level: Level, intervals: bool) -> TextTable {
    let mut head = vec!["rank"];
    if intervals {
        head.push("interval");
    }
    head.extend(["city"]);
    if level != Level::Overall {
        head.push("node");
    }
    head.extend(["score", "u4ssc_%", "band", "scored", "coverage"]);
    let mut t = TextTable::new(&head);
    let mut sorted: Vec<&&Named> = rows.iter().collect();
    fn key(n: &Named) -> (&str, usize, &str) {
        (
            n.score.node.as_str(),
            n.score.rank.unwrap_or(usize::MAX),
            n.score.city.as_str(),
        )
    }
    sorted.sort_by(|a, b| key(a).cmp(&key(b)));
    for named in sorted {
        let n = &named.score;
        let mut r = vec![dash(n.rank)];
        if intervals {
            r.push(match (n.rank_p05, n.rank_p95) {
                (Some(lo), Some(hi)) => format!("{lo:.0}-{hi:.0}"),
                _ => "–".into(),
            });
        }
        r.push(named.city.clone());
        if level != Level::Overall {
            r.push(format!("{} {}", n.node, named.node));
        }
        r.push(if n.score.is_none() && n.scored_items > 0 {
            "insufficient data".into()
        } else {
            f1(n.score)
        });
        r.push(f1(n.u4ssc_pct));
        r.push(
            n.band
                .map(|b| format!("{} {}", band_glyph(b), band_label(b)))
                .unwrap_or_else(|| "–".into()),
        );
        r.push(format!("{}/{}", n.scored_items, n.total_items));
        r.push(format!("{:.0}%", n.coverage * 100.0));
        t.push(r);
    }
    t
}

pub fn score(
    r: &ScoreReport,
    format: DocFormat,
    top: Option<usize>,
    out: &mut dyn Write,
) -> Result<()> {
    let info = &r.run;
    if format == DocFormat::Json {
        let latest: Vec<&NodeScore> = r.overall.iter().map(|n| &n.score).collect();
        return w(
            out,
            &to_json(&serde_json::json!({ "run": info, "year": r.year, "overall": latest })),
        );
    }
    w(
        out,
        &format!(
            "run {}: method '{}' (sha256 {}), revisions {}, {} draws\n",
            info.run_id,
            info.method_name,
            &info.method_hash[..12.min(info.method_hash.len())],
            info.revisions,
            info.draws
        ),
    )?;
    if let Some(y) = r.year {
        banner(r.demo, out)?;
        w(
            out,
            &format!(
                "\noverall ranking {y} (rank intervals: 5th-95th percentile over {} draws)\n",
                info.draws
            ),
        )?;
        let top = top_of(top, true, r.overall.len());
        let (shown, left) = within_top(&r.overall, top);
        w(
            out,
            &rank_table(&shown, Level::Overall, true).render(OutputFormat::Text),
        )?;
        w(out, &more_line(left, top))?;
    }
    Ok(())
}

/// A stored timestamp as a listing shows it: to the second in the text (DuckDB's text drops a
/// timestamp's trailing zeros, so fractions of a second came in varying widths), whole in
/// CSV and JSON.
pub(crate) fn to_the_second(ts: String, format: OutputFormat) -> String {
    match ts.get(..19) {
        Some(second) if format == OutputFormat::Text => second.to_string(),
        _ => ts,
    }
}

pub fn runs(runs: Vec<RunInfo>, format: OutputFormat, out: &mut dyn Write) -> Result<()> {
    let mut t = TextTable::new(&[
        "run",
        "created_at",
        "method",
        "method_sha256",
        "revisions",
        "seed",
        "draws",
        "version",
    ]);
    for r in runs {
        t.push(vec![
            r.run_id.to_string(),
            to_the_second(r.created_at, format),
            r.method_name,
            if format == OutputFormat::Text {
                r.method_hash[..12.min(r.method_hash.len())].to_string()
            } else {
                r.method_hash
            },
            r.revisions,
            r.seed.to_string(),
            r.draws.to_string(),
            r.program_version,
        ]);
    }
    w(out, &t.render(format))
}

pub fn rank(
    r: &RankReport,
    format: OutputFormat,
    top: Option<usize>,
    out: &mut dyn Write,
) -> Result<()> {
    let all = r.all();
    let text = format == OutputFormat::Text;
    let top = top_of(top, text, r.peer_count);
    let (shown, left) = within_top(&r.rows, top);
    match format {
        OutputFormat::Json => w(out, &to_json(&scores_of(&shown))),
        OutputFormat::Csv => w(
            out,
            &rank_table(&shown, r.level, all).render(OutputFormat::Csv),
        ),
        OutputFormat::Text => {
            banner(r.demo, out)?;
            w(
                out,
                &format!(
                    "run {} ({}), {}, level {}, peers {} ({} cities){}\n",
                    r.run.run_id,
                    r.run.method_name,
                    r.year,
                    r.level_key,
                    r.peers,
                    r.peer_count,
                    if all {
                        "; interval = 5th-95th percentile rank over method choices"
                    } else {
                        "; ranks within the peer group"
                    }
                ),
            )?;
            w(
                out,
                &rank_table(&shown, r.level, all).render(OutputFormat::Text),
            )?;
            w(out, &more_line(left, top))?;
            w(out, "Scored against u4ssc toolkit targets, not official U4SSC targets. Rank gaps of 2-3 places are not meaningful.\n")
        }
    }
}

pub fn diff(r: &DiffReport, format: OutputFormat, out: &mut dyn Write) -> Result<()> {
    let mut t = TextTable::new(&[
        "city", "node", "rank_a", "rank_b", "change", "band_a", "band_b", "score_a", "score_b",
    ]);
    for c in &r.changes {
        let Change {
            city,
            node,
            rank_a,
            rank_b,
            change,
            band_a,
            band_b,
            score_a,
            score_b,
        } = c;
        t.push(vec![
            city.clone(),
            node.clone(),
            dash(*rank_a),
            dash(*rank_b),
            format!("{change:+}"),
            band_a.map(band_label).unwrap_or("–").into(),
            band_b.map(band_label).unwrap_or("–").into(),
            f1(*score_a),
            f1(*score_b),
        ]);
    }
    if format == OutputFormat::Text {
        w(
            out,
            &format!(
                "run {} ({}) -> run {} ({}), {}, level {}: {} change(s) in rank or band\n",
                r.run_a.run_id,
                r.run_a.method_name,
                r.run_b.run_id,
                r.run_b.method_name,
                r.year,
                r.level_key,
                r.changes.len()
            ),
        )?;
    }
    w(out, &t.render(format))
}

pub fn compare(r: &CompareReport, format: OutputFormat, out: &mut dyn Write) -> Result<()> {
    match r {
        CompareReport::SideBySide(s) => side_by_side(s, format, out),
        CompareReport::Peers(p) => peers(p, format, out),
    }
}

fn side_by_side(s: &SideBySide, format: OutputFormat, out: &mut dyn Write) -> Result<()> {
    // the text marks a large gap beside the number; CSV and JSON keep the gap a number and
    // say so in a column of its own, so that a program reads one type per column
    let text = format == OutputFormat::Text;
    let mut head: Vec<String> = vec!["level".into(), "node".into()];
    head.extend(s.cities.iter().cloned());
    head.push("largest gap".into());
    if !text {
        head.push("gap of 15 or more".into());
    }
    let mut t = TextTable {
        header: head,
        rows: vec![],
    };
    for row in &s.rows {
        let large = row.gap >= 15.0;
        let mut cells = vec![row.level_key.clone(), format!("{} {}", row.node, row.name)];
        cells.extend(row.scores.iter().map(|v| f1(*v)));
        cells.push(if large && text {
            format!("{:.1} !", row.gap)
        } else {
            format!("{:.1}", row.gap)
        });
        if !text {
            cells.push(if large { "yes" } else { "no" }.into());
        }
        t.push(cells);
    }
    // CSV and JSON are the table alone, for a program to read
    if format == OutputFormat::Text {
        banner(s.demo, out)?;
        w(
            out,
            &format!(
                "run {}, {}; '!' marks gaps of 15 points or more\n",
                s.run_id, s.year
            ),
        )?;
    }
    w(out, &t.render(format))
}

fn peers(p: &PeersReport, format: OutputFormat, out: &mut dyn Write) -> Result<()> {
    if format == OutputFormat::Json {
        let rel = |r: &crate::score_cmd::Relative| serde_json::json!({"data_point": r.data_point, "score": r.score, "peer_median": r.peer_median});
        let strengths: Vec<_> = p.strengths.iter().map(rel).collect();
        let weaknesses: Vec<_> = p.weaknesses.iter().map(rel).collect();
        let similar: Vec<_> = p
            .most_similar
            .iter()
            .map(|s| serde_json::json!({"city": s.city, "rms_difference": s.rms_difference, "shared": s.shared}))
            .collect();
        return w(
            out,
            &to_json(
                &serde_json::json!({"city": p.city, "year": p.year, "run": p.run.run_id, "peers": p.peers.to_string(), "levels": p.lines, "strengths": strengths, "weaknesses": weaknesses, "most_similar": similar}),
            ),
        );
    }
    if format == OutputFormat::Csv {
        return w(out, &peer_csv(p));
    }
    banner(p.demo, out)?;
    w(
        out,
        &format!(
            "{} — run {} ({}), {}, peers {} ({} cities)\n\n",
            p.city_name, p.run.run_id, p.run.method_name, p.year, p.peers, p.peer_count
        ),
    )?;
    let mut t = TextTable::new(&[
        "level",
        "node",
        "score",
        "band",
        "rank",
        "interval",
        "percentile",
        "peer median",
        "best peer",
        "peer-group ranks",
    ]);
    for l in &p.lines {
        t.push(vec![
            l.level.clone(),
            format!("{} {}", l.node, l.name),
            f1(l.score),
            l.band
                .map(|b| format!("{} {}", band_glyph(b), band_label(b)))
                .unwrap_or_else(|| "–".into()),
            dash(l.rank),
            l.rank_interval
                .map(|(a, b)| format!("{a:.0}-{b:.0}"))
                .unwrap_or_else(|| "–".into()),
            f1(l.percentile),
            l.peer_median
                .zip(l.score)
                .map(|(m, s)| format!("{m:.1} ({:+.1})", s - m))
                .unwrap_or_else(|| "–".into()),
            l.best
                .zip(l.score)
                .map(|(b, s)| format!("{b:.1} ({:+.1})", s - b))
                .unwrap_or_else(|| "–".into()),
            l.group_ranks
                .iter()
                .skip(1)
                .map(|(g, r, n)| format!("{g}: {}/{n}", dash(*r)))
                .collect::<Vec<_>>()
                .join("; "),
        ]);
    }
    w(out, &t.render(OutputFormat::Text))?;
    let trend = |t: Option<&str>| t.map(|c| format!(" {} {c}", arrow(c))).unwrap_or_default();
    w(
        out,
        "\nstrongest relative to peers (score vs peer median):\n",
    )?;
    for r in &p.strengths {
        w(
            out,
            &format!(
                "  + {} {:.1} vs {:.1}{}\n",
                r.name,
                r.score,
                r.peer_median,
                trend(r.trend)
            ),
        )?;
    }
    w(out, "weakest relative to peers:\n")?;
    for r in &p.weaknesses {
        w(
            out,
            &format!(
                "  - {} {:.1} vs {:.1}{}\n",
                r.name,
                r.score,
                r.peer_median,
                trend(r.trend)
            ),
        )?;
    }
    w(
        out,
        "most similar cities by profile (root mean square difference of data-point scores):\n",
    )?;
    for s in &p.most_similar {
        w(
            out,
            &format!(
                "  {} ({:.1} over {} shared data points)\n",
                s.name, s.rms_difference, s.shared
            ),
        )?;
    }
    w(
        out,
        &format!("data points without a score: {}\n", p.unscored),
    )
}

/// A city beside its peers as CSV: one row per node, numbers unformatted.
fn peer_csv(p: &PeersReport) -> String {
    let mut t = TextTable::new(&[
        "city",
        "level",
        "node",
        "name",
        "score",
        "band",
        "rank",
        "rank_p05",
        "rank_p95",
        "percentile",
        "peer_median",
        "best_peer",
    ]);
    let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
    for l in &p.lines {
        t.push(vec![
            p.city.clone(),
            l.level.clone(),
            l.node.clone(),
            l.name.clone(),
            num(l.score),
            l.band.map(band_label).unwrap_or_default().to_string(),
            l.rank.map(|r| r.to_string()).unwrap_or_default(),
            num(l.rank_interval.map(|r| r.0)),
            num(l.rank_interval.map(|r| r.1)),
            num(l.percentile),
            num(l.peer_median),
            num(l.best),
        ]);
    }
    t.render(OutputFormat::Csv)
}

pub fn explain(r: &ExplainReport, format: DocFormat, out: &mut dyn Write) -> Result<()> {
    if format == DocFormat::Json {
        let all: Vec<&serde_json::Value> = r.data_points.iter().map(|d| &d.record).collect();
        return w(out, &to_json(&all));
    }
    banner(r.demo, out)?;
    let run = &r.run;
    for d in &r.data_points {
        w(
            out,
            &format!(
                "\n{} — {} {} ({}), {}\n",
                r.city, d.label, d.name, d.id, r.year
            ),
        )?;
        match &d.value {
            None => w(
                out,
                "  value        not in any revision for this year (missing)\n",
            )?,
            Some((o, rev)) => w(
                out,
                &format!(
                    "  value        {} {}{}\n  from         revision {} ({}, {} line {}, imported {})\n  source       {}\n  quality      {}; verified: {}\n",
                    o.value.map(|v| v.to_string()).unwrap_or_else(|| "not reported".into()),
                    d.unit,
                    match (o.numerator, o.denominator) {
                        (Some(n), Some(den)) => format!(" (= {n} / {den} x {})", d.scale),
                        _ => String::new(),
                    },
                    rev.revision_id,
                    rev.kind,
                    rev.source_file,
                    o.line,
                    to_the_second(rev.imported_at.clone(), OutputFormat::Text),
                    o.source.clone().unwrap_or_else(|| "–".into()),
                    o.quality.clone().unwrap_or_else(|| "–".into()),
                    o.verified.map(|v| if v { "yes" } else { "no" }).unwrap_or("–"),
                ),
            )?,
        }
        w(
            out,
            &format!(
                "  direction    {} ({})\n  target       {}; basis {}: {}\n",
                d.direction, d.direction_basis, d.target, d.target_basis, d.target_source
            ),
        )?;
        match &d.score {
            None => w(out, "  score        none (no value)\n")?,
            Some(s) => {
                w(
                    out,
                    &format!(
                        "  U4SSC        {} of target -> {} point(s), band {}\n",
                        s.achievement
                            .map(|a| format!(
                                "{a:.1} %{}",
                                if a > 100.0 {
                                    " (capped at 100 % for banding)"
                                } else {
                                    ""
                                }
                            ))
                            .unwrap_or_else(|| "not scored (no target)".into()),
                        dash(s.points),
                        s.points.map(band_label).unwrap_or("–"),
                    ),
                )?;
                w(
                    out,
                    &format!(
                        "  composite    {} by {} (run {}, method '{}', sha256 {}); rank {} of the year{}\n",
                        f1(s.score),
                        r.normalisation,
                        run.run_id,
                        run.method_name,
                        &run.method_hash[..12.min(run.method_hash.len())],
                        dash(s.rank),
                        if s.flags.is_empty() {
                            String::new()
                        } else {
                            format!("; flags: {}", s.flags)
                        }
                    ),
                )?;
                if let Some((worst, opt)) = d.goalposts {
                    w(
                        out,
                        &format!(
                            "               goalposts: worst {worst} -> 0, optimum {opt} -> 100\n"
                        ),
                    )?;
                }
            }
        }
        for u in &d.up {
            let ns = &u.score;
            w(
                out,
                &format!(
                    "  {:<12} {} {}: score {}, U4SSC {} % ({} of {} items), rank {}\n",
                    u.level_key,
                    u.code,
                    u.name,
                    f1(ns.score),
                    f1(ns.u4ssc_pct),
                    ns.scored_items,
                    ns.total_items,
                    dash(ns.rank)
                ),
            )?;
        }
    }
    Ok(())
}
