//! The workbook's sheets.

use super::*;

/// A run as the workbook's tests need one: only the method file's text varies.
fn run_info(method_text: String) -> crate::store::RunInfo {
    crate::store::RunInfo {
        run_id: 1,
        created_at: String::new(),
        method_name: "m".into(),
        method_hash: "0".repeat(64),
        method_text,
        revisions: "1".into(),
        seed: 1,
        draws: 0,
        program_version: String::new(),
        catalog_version: String::new(),
    }
}

/// A table longer than a sheet goes on in continuation sheets, every row kept once, and
/// the Summary says where (here with sheets of 2 rows instead of Excel's 1 048 575).
#[test]
fn a_table_longer_than_a_sheet_goes_on_in_the_next_sheets() {
    use calamine::{Reader, Xlsx};
    let ctx = Ctx::new(&crate::context::Settings::default()).unwrap();
    let mut t = tables::ranks_table();
    for i in 0..5 {
        t.rows.push(vec![
            Cell::text(format!("c{i}")),
            Cell::Int(2024),
            Cell::text("overall"),
            Cell::text("overall"),
            Cell::Int(i + 1),
            Cell::Null,
            Cell::Null,
            Cell::Null,
        ]);
    }
    let run = run_info(String::new());
    let bytes = xlsx_bytes(&ctx, &[t], false, &run, false, &[], 2).unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let names = wb.sheet_names();
    assert!(
        names.starts_with(&[
            "Summary".to_string(),
            "Ranks".into(),
            "Ranks (2)".into(),
            "Ranks (3)".into()
        ]),
        "{names:?}"
    );
    let mut cities = Vec::new();
    for name in ["Ranks", "Ranks (2)", "Ranks (3)"] {
        let range = wb.worksheet_range(name).unwrap();
        let mut rows = range.rows();
        assert_eq!(
            rows.next().unwrap()[0].to_string(),
            "city",
            "{name}: its header"
        );
        cities.extend(rows.map(|r| r[0].to_string()));
    }
    assert_eq!(cities, ["c0", "c1", "c2", "c3", "c4"]);
    let summary = wb.worksheet_range("Summary").unwrap();
    let said = summary.rows().any(|r| {
        r.iter()
            .any(|c| c.to_string().contains("goes on in Ranks (2) to Ranks (3)"))
    });
    assert!(said, "{:?}", summary.rows().collect::<Vec<_>>());
}

/// Only CSV, JSON and Parquet: streamed past 250 000 rows (nothing needs a whole table);
/// with a workbook, linked data or pages in the set, built in memory up to 2 M rows.
#[test]
fn flat_formats_alone_are_streamed_sooner() {
    if std::env::var_os("U4SSC_EXPORT_STREAM_ROWS").is_some() {
        return;
    }
    let set = |f: &[ExportFormat]| f.iter().copied().collect::<BTreeSet<_>>();
    use ExportFormat::*;
    assert_eq!(stream_rows(&set(&[Csv, Parquet])), FLAT_STREAM_ROWS);
    assert_eq!(stream_rows(&set(&[Json])), FLAT_STREAM_ROWS);
    assert_eq!(stream_rows(&set(&[Csv, Xlsx])), STREAM_ROWS);
    assert_eq!(stream_rows(&set(&[Parquet, Html])), STREAM_ROWS);
    assert_eq!(stream_rows(&set(&[Jsonld])), STREAM_ROWS);
}

/// One sheet per city takes the city's slug, and a slug that is already a sheet's name (Excel
/// compares them without case), Excel's reserved "History", or the same first 31 characters
/// as another gets a name of its own: a framework's unit codes are any text.
#[test]
fn city_sheets_have_names_excel_takes() {
    use calamine::{Reader, Xlsx};
    let ctx = Ctx::new(&crate::context::Settings::default()).unwrap();
    let mut t = tables::aggregate_scores_table();
    let long = "a-city-whose-slug-runs-past-thirty-one";
    let slugs = [
        "summary",
        "history",
        "scores",
        "cities",
        &format!("{long}-1"),
        &format!("{long}-2"),
        "oslo",
    ];
    for s in slugs {
        let mut row = vec![Cell::text(s)];
        row.resize(t.columns.len(), Cell::Null);
        t.rows.push(row);
    }
    let run = run_info(String::new());
    let bytes = xlsx_bytes(&ctx, &[t], false, &run, true, &[], 1 << 20).unwrap();
    let wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let names = wb.sheet_names();
    let mut lower: Vec<String> = names.iter().map(|n| n.to_lowercase()).collect();
    lower.sort();
    lower.dedup();
    assert_eq!(lower.len(), names.len(), "{names:?}");
    assert!(names.iter().all(|n| n.chars().count() <= 31), "{names:?}");
    assert!(!lower.contains(&"history".to_string()), "{names:?}");
    assert!(names.contains(&"oslo".to_string()), "{names:?}");
    // every city has its sheet: the workbook's own sheets and one per slug
    assert!(names.len() >= slugs.len() + 2, "{names:?}");
}

/// A text longer than Excel's 32 767 characters (a note a city pasted, a long method file)
/// is cut in its cell with a note, and the workbook is written: it failed before.
#[test]
fn a_text_longer_than_a_cell_is_cut_with_a_note() {
    use calamine::{Reader, Xlsx};
    let ctx = Ctx::new(&crate::context::Settings::default()).unwrap();
    let mut t = tables::ranks_table();
    let mut row = vec![Cell::text("x".repeat(40_000))];
    row.resize(t.columns.len(), Cell::Null);
    t.rows.push(row);
    let run = run_info("y".repeat(50_000));
    let bytes = xlsx_bytes(&ctx, &[t], false, &run, false, &[], 1 << 20).unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let ranks = wb.worksheet_range("Ranks").unwrap();
    let cell = ranks.get_value((1, 0)).unwrap().to_string();
    assert_eq!(cell.chars().count(), 32_767);
    assert!(cell.starts_with("xxx"));
    assert!(
        cell.ends_with("40000 characters in all; the CSV and JSON files hold the whole text]"),
        "{}",
        &cell[32_600..]
    );
}
