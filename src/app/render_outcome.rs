//! How the CLI writes what `export` and `fetch` did: the files written, the figures
//! stored, the revision imported, and the notes on what was left out.

use crate::error::Result;
use crate::export::ExportReport;
use crate::fetch::FetchReport;
use crate::progress::write_out as w;
use crate::table::{OutputFormat, TextTable};
use std::io::Write;

pub fn export(r: &ExportReport, out: &mut dyn Write) -> Result<()> {
    w(
        out,
        &format!(
            "run {} -> {} ({} files){}\n",
            r.run,
            r.dir.display(),
            r.files.len(),
            if r.demo { "; SYNTHETIC demo data" } else { "" }
        ),
    )?;
    for n in &r.files {
        w(out, &format!("  {n}\n"))?;
    }
    for n in &r.notes {
        w(out, &format!("note: {n}\n"))?;
    }
    Ok(())
}

pub fn fetch(r: &FetchReport, out: &mut dyn Write) -> Result<()> {
    crate::progress::clear();
    match r {
        FetchReport::Population {
            rows,
            provenance,
            skipped,
        } => {
            let mut t = TextTable::new(&["city", "number", "year", "population", "registry"]);
            for p in rows {
                t.push(vec![
                    p.city.clone(),
                    p.number.clone(),
                    p.year.clone(),
                    p.population.to_string(),
                    p.registry.to_string(),
                ]);
            }
            w(out, &t.render(OutputFormat::Text))?;
            w(
                out,
                &format!(
                    "stored {} population figure(s) from SSB table 07459{provenance}\n",
                    rows.len()
                ),
            )?;
            for s in skipped {
                w(out, &format!("no population for {s}\n"))?;
            }
            Ok(())
        }
        FetchReport::Imported {
            values,
            year,
            revision,
            provenance,
            notes,
        } => {
            w(
                out,
                &format!(
                    "imported {values} value(s) for {year} from SSB as revision {revision}{provenance}\n"
                ),
            )?;
            notes_of(notes, out)
        }
        FetchReport::AlreadyStored { revision } => w(
            out,
            &format!("the same SSB values are already revision {revision}; nothing to do\n"),
        ),
        FetchReport::Nothing { notes } => {
            w(out, "SSB returned no values; nothing imported\n")?;
            notes_of(notes, out)
        }
    }
}

fn notes_of(notes: &[String], out: &mut dyn Write) -> Result<()> {
    for n in notes {
        w(out, &format!("  {n}\n"))?;
    }
    Ok(())
}
