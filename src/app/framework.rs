//! `u4ssc framework` and `u4ssc pipeline`: a COINr framework converted, or scored stage by stage.

use super::*;

pub(crate) fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
}

pub fn framework_cmd(a: &FrameworkArgs, out: &mut dyn Write) -> Result<i32> {
    use crate::framework::Framework;
    use crate::pipeline::{self, Panel};
    let meta_origin = a.imeta.display().to_string();
    let fw = Framework::from_imeta(&read_text(&a.imeta)?, &meta_origin)?;
    let panel =
        Panel::from_idata_years(&read_text(&a.idata)?, &fw, &a.idata.display().to_string())?;
    let name = a.name.clone().unwrap_or_else(|| {
        a.imeta
            .canonicalize()
            .ok()
            .and_then(|p| {
                p.parent()
                    .and_then(|d| d.file_name())
                    .map(|n| n.to_string_lossy().into_owned())
            })
            .unwrap_or_else(|| "framework".into())
    });
    let c = crate::convert::convert(
        &fw,
        &pipeline::denominate(&panel, &fw),
        &name,
        &meta_origin,
        &a.idata.display().to_string(),
        a.level_names.as_deref(),
    )?;
    std::fs::create_dir_all(&a.out).map_err(|source| Error::Write {
        path: a.out.clone(),
        source,
    })?;
    for (file, text) in [
        ("catalog.toml", &c.catalog),
        ("registry.toml", &c.registry),
        ("values.csv", &c.values),
        ("method.toml", &c.method),
    ] {
        crate::files::write_atomic(&a.out, file, text.as_bytes())?;
    }
    for n in &c.notes {
        w(out, &format!("note: {n}\n"))?;
    }
    let d = a.out.display();
    w(
        out,
        &format!(
            "wrote catalog.toml, registry.toml, values.csv and method.toml to {d}\n\n\
             Use them with every command, e.g.:\n\
             \x20 export U4SSC_CATALOG={d}/catalog.toml U4SSC_REGISTRY={d}/registry.toml U4SSC_DB={d}/framework.duckdb\n\
             \x20 u4ssc import {d}/values.csv\n\
             \x20 u4ssc score --method {d}/method.toml\n\
             \x20 u4ssc rank --peers group=COLUMN=VALUE; u4ssc compare SLUG; u4ssc export --out DIR; u4ssc\n"
        ),
    )?;
    Ok(0)
}

pub fn pipeline_cmd(a: &PipelineArgs, out: &mut dyn Write) -> Result<i32> {
    use crate::framework::Framework;
    use crate::pipeline::{self, Method, Panel};
    let meta_origin = a.imeta.display().to_string();
    let fw = Framework::from_imeta(&read_text(&a.imeta)?, &meta_origin)?;
    let panel = Panel::from_idata(&read_text(&a.idata)?, &fw, &a.idata.display().to_string())?;
    let method = Method::parse(&read_text(&a.method)?, &a.method.display().to_string())?;
    let outcome = pipeline::run(&panel, &fw, &method)?;
    let files = outcome.write(&fw, &a.out)?;
    w(out, &format!(
        "{} units, {} indicators, {} aggregates; imputed {} cells, treated {} indicators\nwrote {} to {}\n\n",
        panel.units.len(),
        fw.indicators().count(),
        fw.aggregates_bottom_up().len(),
        outcome.imputed_cells.len(),
        outcome.treatment.iter().filter(|t| !t.changed.is_empty()).count(),
        files.join(", "),
        a.out.display()
    ))?;
    if let Some(top) = fw.aggregates_bottom_up().last() {
        let p = &outcome.aggregated;
        if let Some(j) = p.col(&top.code) {
            let col = p.column(j);
            let ranks = outcome.rank.ranks(&col);
            let mut order: Vec<usize> = (0..p.units.len()).collect();
            order.sort_by_key(|&i| ranks[i].unwrap_or(usize::MAX));
            let mut t = TextTable::new(&["rank", "unit", "name", &top.code]);
            for &i in order.iter().take(10) {
                t.push(vec![
                    ranks[i].map(|r| r.to_string()).unwrap_or_default(),
                    p.units[i].code.clone(),
                    p.units[i].name.clone().unwrap_or_default(),
                    col[i].map(|v| format!("{v:.2}")).unwrap_or_default(),
                ]);
            }
            w(out, &t.render(OutputFormat::Text))?;
        }
    }
    Ok(0)
}
