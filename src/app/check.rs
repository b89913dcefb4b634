//! `u4ssc check` and `u4ssc template`: the findings of a file, marked where they are, and the workbook a city fills.

use super::*;

pub(crate) fn summary_line(file: &Path, findings: &[Finding]) -> String {
    let e = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let wn = findings.len() - e;
    format!("{}: {e} error(s), {wn} warning(s)\n", file.display())
}

pub fn check(ctx: &Ctx, a: &CheckArgs, out: &mut dyn Write) -> Result<i32> {
    if a.annotate.is_some() && a.files.len() != 1 {
        return Err(Error::Usage(
            "--annotate writes one workbook for one file; check one file at a time".to_string(),
        ));
    }
    let store = if ctx.db_is_default {
        None
    } else {
        Some(Store::open(&ctx.db, Access::ReadOnly)?)
    };
    let given = Given {
        city: a.city.clone(),
        year: a.year,
    };
    let previous = match &a.previous {
        Some(p) => import::previous_history(ctx, p, &given)?,
        None => validate::History::new(),
    };
    let rules = import::Rules {
        jump_factor: a.jump_factor,
        peer_factor: a.peer_factor,
        given,
        previous,
        ..import::Rules::default()
    };
    let mut all = Vec::new();
    for file in &a.files {
        let findings = import::check_findings(ctx, file, &rules, store.as_ref())?;
        if a.format == CheckFormat::Text {
            w(out, &crate::submission::grouped_text(&findings))?;
            w(out, &summary_line(file, &findings))?;
        }
        if let Some(dest) = &a.annotate {
            annotate(file, dest, &findings)?;
            if a.format == CheckFormat::Text {
                w(
                    out,
                    &format!(
                        "{}: the findings are marked in {}\n",
                        file.display(),
                        dest.display()
                    ),
                )?;
            }
        }
        all.extend(findings);
    }
    let errors = all.iter().filter(|f| f.severity == Severity::Error).count();
    let warnings = all.len() - errors;
    match a.format {
        CheckFormat::Json => w(
            out,
            &to_json(
                &serde_json::json!({ "errors": errors, "warnings": warnings, "findings": all }),
            ),
        )?,
        CheckFormat::Csv => w(out, &findings_csv(&all))?,
        CheckFormat::Text => {}
    }
    Ok(if errors > 0 || (a.strict && warnings > 0) {
        1
    } else {
        0
    })
}

/// Findings as CSV: severity, rule, file, line, column, message (text cells that a
/// spreadsheet would run are neutralised).
pub(crate) fn findings_csv(findings: &[Finding]) -> String {
    let mut wr = crate::table::CsvOut::new();
    wr.row(["severity", "rule", "file", "line", "column", "message"]);
    for f in findings {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        wr.row([
            sev,
            f.rule,
            &f.file,
            &f.line.map(|l| l.to_string()).unwrap_or_default(),
            f.column.as_deref().unwrap_or(""),
            &f.message,
        ]);
    }
    wr.into_string()
}

/// `check --annotate`: the file back as a workbook with its findings marked. The city's own
/// file is never overwritten.
pub(crate) fn annotate(file: &Path, dest: &Path, findings: &[Finding]) -> Result<()> {
    let same = match (std::fs::canonicalize(file), std::fs::canonicalize(dest)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same {
        return Err(Error::Usage(format!(
            "--annotate {} is the file being checked; give another name",
            dest.display()
        )));
    }
    crate::files::require_xlsx(dest, "--annotate")?;
    let format = crate::submission::read::format_of(file).unwrap_or(crate::submission::Format::Csv);
    let bytes = crate::submission::annotate::build(file, format, findings)
        .map_err(|e| Error::Invalid(format!("the annotated workbook cannot be made: {e}")))?;
    crate::files::write_atomic_to(dest, &bytes)?;
    Ok(())
}

/// `u4ssc template`: one workbook per city, with the latest earlier values when --db is given.
pub fn template_cmd(ctx: &Ctx, a: &TemplateArgs, out: &mut dyn Write) -> Result<i32> {
    use crate::submission::template;
    let years = validate::Years::default();
    if !years.contains(a.year) {
        return Err(Error::Usage(format!(
            "--year {} is outside {}-{}",
            a.year, years.min, years.max
        )));
    }
    let all = a.city.eq_ignore_ascii_case("all");
    let cities: Vec<&crate::registry::City> = if all {
        ctx.registry.cities.iter().collect()
    } else {
        let given = import::resolve_given(
            ctx,
            &Given {
                city: Some(a.city.clone()),
                year: Some(a.year),
            },
        )?;
        let slug = given.city.unwrap_or_default();
        ctx.registry.get(&slug).into_iter().collect()
    };
    if all {
        std::fs::create_dir_all(&a.out).map_err(|source| Error::Write {
            path: a.out.clone(),
            source,
        })?;
    } else {
        crate::files::require_xlsx(&a.out, "--out")?;
    }
    // the previous values come from a database only when one is named
    let store = if ctx.db_is_default {
        None
    } else {
        Some(Store::open(&ctx.db, Access::ReadOnly)?)
    };
    for city in cities {
        let mut previous: HashMap<String, (i32, Option<f64>)> = HashMap::new();
        if let Some(s) = &store {
            for v in s.current_values_of(std::slice::from_ref(&city.slug))? {
                if v.year < a.year && previous.get(&v.data_point).is_none_or(|p| p.0 < v.year) {
                    previous.insert(v.data_point, (v.year, v.value));
                }
            }
        }
        let spec = template::Spec {
            city_name: &city.name,
            city_slug: &city.slug,
            year: a.year,
            lang: a.lang,
            previous,
        };
        let path = if all {
            a.out.join(format!("{}-{}.xlsx", city.slug, a.year))
        } else {
            a.out.clone()
        };
        let bytes = template::build(&ctx.catalog, &spec)
            .map_err(|e| Error::Invalid(format!("the template cannot be made: {e}")))?;
        crate::files::write_atomic_to(&path, &bytes)?;
        w(
            out,
            &format!(
                "wrote {} ({} {}, {} data points)\n",
                path.display(),
                city.name,
                a.year,
                ctx.catalog.data_points.len()
            ),
        )?;
    }
    Ok(0)
}
