//! What the database and the definitions hold: `status`, `revisions`, `verify`, `kpis`, `cities`, and the synthetic `demo`.

use super::*;

/// Per city and year: reported, verified and missing data points, core and advanced.
pub fn status(ctx: &Ctx, format: OutputFormat, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let revisions = store.revisions()?;
    let (core, advanced) = ctx.catalog.ids_by_type();
    let (core_total, adv_total) = (core.len(), advanced.len());
    struct Count {
        core: usize,
        adv: usize,
        verified: usize,
        not_reported: usize,
    }
    let counts = store.status_counts(&core, &advanced)?;
    // the city-years some city reported: the registry's cities that sent nothing for one
    // of them are listed too, with nothing reported
    let (submitted, cities) = (
        counts.len(),
        counts
            .iter()
            .map(|c| c.city.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
    );
    let by: BTreeMap<(String, i32), Count> =
        crate::rows::with_unsubmitted(counts, ctx.registry.cities.iter().map(|c| c.slug.as_str()))
            .into_iter()
            .map(
                |crate::store::StatusCount {
                     city,
                     year,
                     core,
                     advanced: adv,
                     verified,
                     not_reported,
                 }| {
                    (
                        (city, year),
                        Count {
                            core: core as usize,
                            adv: adv as usize,
                            verified: verified as usize,
                            not_reported: not_reported as usize,
                        },
                    )
                },
            )
            .collect();
    // the verification round: questions still open or answered but not closed
    let questions: HashMap<(String, i32), (i64, i64)> = store
        .question_counts()?
        .into_iter()
        .map(|c| ((c.city, c.year), (c.open, c.answered)))
        .collect();
    let mut t = TextTable::new(&[
        "city",
        "year",
        "core",
        "advanced",
        "verified",
        "not_reported",
        "missing",
        "open_questions",
        "answered_questions",
    ]);
    for ((city, year), c) in &by {
        let name = ctx.registry.name_of(city);
        let missing = core_total + adv_total - c.core - c.adv;
        let (open, answered) = questions
            .get(&(city.clone(), *year))
            .copied()
            .unwrap_or((0, 0));
        t.push(vec![
            name,
            year.to_string(),
            format!("{}/{core_total}", c.core),
            format!("{}/{adv_total}", c.adv),
            c.verified.to_string(),
            c.not_reported.to_string(),
            missing.to_string(),
            open.to_string(),
            answered.to_string(),
        ]);
    }
    if format == OutputFormat::Text {
        if revisions.iter().any(|r| r.is_demo()) {
            w(out, &format!("!! {SYNTHETIC_LABEL}: this database holds the generated demo, not real city data\n"))?;
        }
        w(
            out,
            &format!(
                "database {} — {} revision(s), {}, {} city-years{}\n\n",
                store.path().display(),
                revisions.len(),
                match cities {
                    1 => "1 city".to_string(),
                    n => format!("{n} cities"),
                },
                submitted,
                match by.len() - submitted {
                    0 => String::new(),
                    n => format!(
                        "; {n} city-year(s) of registry cities with nothing submitted (listed with 0)"
                    ),
                }
            ),
        )?;
        if by.is_empty() {
            w(
                out,
                "no data yet: import a submission with `u4ssc import FILE`\n",
            )?;
            return Ok(0);
        }
    }
    w(out, &t.render(format))?;
    Ok(0)
}

pub fn revisions(ctx: &Ctx, format: OutputFormat, out: &mut dyn Write) -> Result<i32> {
    let store = ctx.open(Access::ReadOnly)?;
    let mut t = TextTable::new(&["revision", "kind", "file", "rows", "imported_at", "sha256"]);
    for r in store.revisions()? {
        t.push(vec![
            r.revision_id.to_string(),
            r.kind,
            r.source_file,
            r.row_count.to_string(),
            super::render::to_the_second(r.imported_at, format),
            // the whole hash where a program reads it; 12 characters for the eye
            if format == OutputFormat::Text {
                r.content_hash[..12.min(r.content_hash.len())].to_string()
            } else {
                r.content_hash
            },
        ]);
    }
    w(out, &t.render(format))?;
    Ok(0)
}

pub fn verify(ctx: &Ctx, format: DocFormat, out: &mut dyn Write) -> Result<i32> {
    // a file that is not a readable u4ssc database is what verify is there to find: exit 1,
    // like any other inconsistency (a database in use or missing is still exit 2)
    let store = match ctx.open(Access::ReadOnly) {
        Ok(s) => s,
        Err(Error::Database { path, message }) => {
            w(
                out,
                &format!(
                    "{}: not a readable u4ssc database: {message}\n",
                    path.display()
                ),
            )?;
            return Ok(1);
        }
        Err(e) => return Err(e),
    };
    let problems = store.integrity()?;
    let revs = store.revisions()?.len();
    let runs = store.runs()?.len();
    if format == DocFormat::Json {
        w(
            out,
            &to_json(&serde_json::json!({
                "database": store.path().display().to_string(),
                "consistent": problems.is_empty(),
                "revisions": revs,
                "runs": runs,
                "problems": problems,
            })),
        )?;
        return Ok(if problems.is_empty() { 0 } else { 1 });
    }
    if problems.is_empty() {
        w(
            out,
            &format!(
                "{}: consistent ({revs} revision(s), {runs} run(s))\n",
                store.path().display()
            ),
        )?;
        return Ok(0);
    }
    for p in &problems {
        w(out, &format!("{}: {p}\n", store.path().display()))?;
    }
    Ok(1)
}

pub fn kpis(ctx: &Ctx, a: &KpisArgs, out: &mut dyn Write) -> Result<i32> {
    let list = match &a.search {
        Some(s) => ctx.catalog.search(s),
        None => ctx.catalog.data_points.iter().collect(),
    };
    if a.format == OutputFormat::Json {
        w(out, &to_json(&list))?;
        return Ok(0);
    }
    let mut t = TextTable::new(&[
        "id",
        "code",
        "data_point",
        "name",
        "type",
        "unit",
        "direction",
        "target",
        "target_basis",
    ]);
    for d in &list {
        let target = match (d.target.value, d.target.band) {
            (Some(v), _) => format!("{v}"),
            (_, Some([lo, hi])) => format!("{lo}-{hi}"),
            _ => "-".into(),
        };
        t.push(vec![
            d.id.clone(),
            d.code.clone(),
            d.part.clone(),
            d.name.clone(),
            format!("{:?}", d.kpi_type).to_lowercase(),
            d.unit.clone(),
            d.direction.as_str().into(),
            target,
            d.target.basis.as_str().to_string(),
        ]);
    }
    w(out, &t.render(a.format))?;
    if a.format == OutputFormat::Text {
        w(
            out,
            &format!(
                "{} data point(s). Targets are the project's own, not official U4SSC targets.\n",
                list.len()
            ),
        )?;
    }
    Ok(0)
}

pub fn cities(ctx: &Ctx, format: OutputFormat, out: &mut dyn Write) -> Result<i32> {
    if format == OutputFormat::Json {
        w(out, &to_json(&ctx.registry.cities))?;
        return Ok(0);
    }
    let mut t = TextTable::new(&[
        "slug",
        "name",
        "number",
        "county",
        "population",
        "year",
        "kostra",
        "area_km2",
        "u4ssc_evaluation",
    ]);
    for c in &ctx.registry.cities {
        t.push(vec![
            c.slug.clone(),
            c.name.clone(),
            c.municipality_number.clone(),
            c.county.clone(),
            c.population.to_string(),
            c.population_year.to_string(),
            c.kostra_group.map(|k| k.to_string()).unwrap_or_default(),
            c.area_km2.map(|a| a.to_string()).unwrap_or_default(),
            if c.u4ssc_evaluation { "yes" } else { "no" }.into(),
        ]);
    }
    w(out, &t.render(format))?;
    Ok(0)
}

pub fn demo_cmd(ctx: &Ctx, a: &DemoArgs, out: &mut dyn Write) -> Result<i32> {
    if a.cities == 0 || a.years < 1 {
        return Err(Error::Usage(
            "--cities and --years must be at least 1".into(),
        ));
    }
    let cities = demo::world_cities(&ctx.registry, a.cities);
    let file = std::fs::File::create(&a.out).map_err(|source| Error::Write {
        path: a.out.clone(),
        source,
    })?;
    let mut bw = std::io::BufWriter::new(file);
    let spec = DemoSpec {
        years: (a.last_year - a.years + 1)..=a.last_year,
        seed: a.seed,
    };
    let rows = demo::write_csv(&mut bw, &ctx.catalog, &cities, &spec)
        .and_then(|n| bw.flush().map(|_| n))
        .map_err(|source| Error::Write {
            path: a.out.clone(),
            source,
        })?;
    w(
        out,
        &format!(
            "wrote {rows} rows ({SYNTHETIC_LABEL}) for {} cities to {}\n",
            cities.len(),
            a.out.display()
        ),
    )?;
    if a.cities > ctx.registry.cities.len() {
        let reg = PathBuf::from(format!("{}.cities.toml", a.out.display()));
        let text = crate::registry::EMBEDDED.to_string()
            + &demo::registry_toml(&cities[ctx.registry.cities.len()..]);
        std::fs::write(&reg, text).map_err(|source| Error::Write {
            path: reg.clone(),
            source,
        })?;
        w(
            out,
            &format!(
                "wrote the synthetic cities' registry to {} (use it with --registry)\n",
                reg.display()
            ),
        )?;
    }
    Ok(0)
}
