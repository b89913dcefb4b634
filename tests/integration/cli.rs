use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub fn data(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(rel)
}

/// The binary with a private home, so no test touches a real user data directory.
pub fn u4ssc(home: &Path) -> Command {
    let mut c = Command::cargo_bin("u4ssc").unwrap();
    c.env_remove("U4SSC_DB")
        .env_remove("U4SSC_CATALOG")
        .env_remove("U4SSC_REGISTRY")
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"));
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn first_use_creates_the_default_database_with_the_labelled_demo() {
    let home = tempfile::tempdir().unwrap();
    let r = run(u4ssc(home.path()).arg("status"));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(home.path().join("data/u4ssc/u4ssc.duckdb").exists());
    assert!(r.stdout.contains("SYNTHETIC demo data"), "{}", r.stdout);
    assert!(r.stdout.contains("Trondheim") && r.stdout.contains("Aukra"));
    // 17 cities, years 2019-2024
    assert!(r.stdout.contains("17 cities"), "{}", r.stdout);
    // the second run finds the database and does not load the demo again
    let r2 = run(u4ssc(home.path()).args(["revisions", "--format", "csv"]));
    assert_eq!(r2.stdout.lines().count(), 2, "{}", r2.stdout);
    assert!(r2.stdout.contains("demo"));
}

#[test]
fn kpis_lists_the_whole_catalog_and_searches() {
    let home = tempfile::tempdir().unwrap();
    let r = run(u4ssc(home.path()).args(["kpis", "--format", "json"]));
    assert_eq!(r.code, 0);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), 112);
    let r = run(u4ssc(home.path()).args(["kpis", "--search", "air pollution", "--format", "csv"]));
    assert_eq!(r.stdout.lines().count(), 6, "{}", r.stdout);
    assert!(r.stdout.contains("PM2.5") && r.stdout.contains("who_eu"));
    let r = run(u4ssc(home.path()).args(["kpis", "--search", "luftforurensning"]));
    assert!(r.stdout.contains("5 data point(s)"), "{}", r.stdout);
}

#[test]
fn cities_lists_the_registry() {
    let home = tempfile::tempdir().unwrap();
    let r = run(u4ssc(home.path()).args(["cities", "--format", "csv"]));
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout.lines().count(), 18);
    assert!(r.stdout.contains("trondheim,Trondheim,5001"));
}

#[test]
fn demo_is_deterministic_and_labelled() {
    let home = tempfile::tempdir().unwrap();
    let a = home.path().join("a.csv");
    let b = home.path().join("b.csv");
    for f in [&a, &b] {
        let r = run(u4ssc(home.path())
            .args([
                "demo", "--cities", "20", "--years", "3", "--seed", "9", "--out",
            ])
            .arg(f));
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let ta = std::fs::read_to_string(&a).unwrap();
    assert_eq!(ta, std::fs::read_to_string(&b).unwrap());
    assert!(ta.lines().skip(1).all(|l| l.contains("SYNTHETIC")));
    // the synthetic cities come with a registry, and the world imports cleanly with it
    let reg = home.path().join("a.csv.cities.toml");
    assert!(reg.exists());
    let db = home.path().join("w.duckdb");
    let r = run(u4ssc(home.path())
        .arg("--db")
        .arg(&db)
        .arg("--registry")
        .arg(&reg)
        .arg("import")
        .arg(&a));
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("imported as revision 1"), "{}", r.stdout);
}

#[test]
fn unknown_subcommand_and_bad_option_exit_2() {
    let home = tempfile::tempdir().unwrap();
    assert_eq!(run(u4ssc(home.path()).arg("frobnicate")).code, 2);
    let r = run(u4ssc(home.path()).args(["kpis", "--format", "yaml"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("text") && r.stderr.contains("json"),
        "{}",
        r.stderr
    );
}

#[test]
fn broken_catalog_file_gives_a_located_error() {
    let home = tempfile::tempdir().unwrap();
    let bad = home.path().join("catalog.toml");
    std::fs::write(&bad, "[catalog]\nname = \"x\"\nedition = \n").unwrap();
    let r = run(u4ssc(home.path()).arg("--catalog").arg(&bad).arg("kpis"));
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("catalog.toml:3:"), "{}", r.stderr);
}

/// Completions and the manual page from the one clap definition: bash loads the script and
/// knows the command; the page is roff that `man -l` renders with every subcommand.
#[test]
fn completions_load_in_bash_and_the_man_page_renders() {
    let home = tempfile::tempdir().unwrap();
    let r = run(u4ssc(home.path()).args(["completions", "bash"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let script = home.path().join("u4ssc.bash");
    std::fs::write(&script, &r.stdout).unwrap();
    let bash = std::process::Command::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}' && complete -p u4ssc",
            script.display()
        ))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&bash.stdout);
    assert!(
        bash.status.success() && said.contains("-F _u4ssc u4ssc"),
        "{said}"
    );
    // and it completes what a user types: the levels after --level, the questions commands
    let complete = |line: &str, words: &str, cword: usize, cur: &str, prev: &str| {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!(
                "source '{}'; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{line}'; COMP_POINT=${{#COMP_LINE}}; _u4ssc u4ssc '{cur}' '{prev}'; echo \"${{COMPREPLY[*]}}\"",
                script.display()
            ))
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(
        complete(
            "u4ssc rank --level ",
            "u4ssc rank --level ''",
            3,
            "",
            "--level"
        ),
        "data-point kpi category subdimension dimension overall"
    );
    assert_eq!(
        complete(
            "u4ssc rank --peers ",
            "u4ssc rank --peers ''",
            3,
            "",
            "--peers"
        ),
        "all kostra= county= population= group= like="
    );
    let q = complete("u4ssc questions ", "u4ssc questions ''", 2, "", "questions");
    for sub in ["list", "ask", "answer", "close", "withdraw", "export"] {
        assert!(q.split(' ').any(|w| w == sub), "{sub} in {q}");
    }
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let r = run(u4ssc(home.path()).args(["completions", shell]));
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(
            r.stdout.contains("u4ssc") && r.stdout.contains("import"),
            "{shell}"
        );
    }
    let r = run(u4ssc(home.path()).arg("man"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.starts_with(".ie") || r.stdout.contains(".TH u4ssc 1"),
        "{}",
        &r.stdout[..200]
    );
    for sub in ["check", "import", "rank", "export", "fetch"] {
        assert!(r.stdout.contains(sub), "{sub} not in the page");
    }
    let page = home.path().join("u4ssc.1");
    std::fs::write(&page, &r.stdout).unwrap();
    match std::process::Command::new("man")
        .arg("-l")
        .arg(&page)
        .env("MANWIDTH", "80")
        .output()
    {
        Ok(out) => {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(text.contains("NAME") && text.contains("SYNOPSIS"), "{text}");
        }
        // a machine without man-db: the roff was checked above
        Err(e) => eprintln!("man is not installed ({e}); the roff was checked as text"),
    }
}

/// `--version` names the catalog, the database schema and the bundled DuckDB.
#[test]
fn version_names_catalog_schema_and_duckdb() {
    let home = tempfile::tempdir().unwrap();
    let r = run(u4ssc(home.path()).arg("--version"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("u4ssc "), "{}", r.stdout);
    for want in ["catalog 2026.11", "database schema ", "DuckDB v"] {
        assert!(r.stdout.contains(want), "{want} missing: {}", r.stdout);
    }
    // and it opens no database: the default one is not created
    assert!(!home.path().join("data/u4ssc/u4ssc.duckdb").exists());
}

/// Every option and argument of every subcommand says what it is for in `--help`.
#[test]
fn every_option_of_every_subcommand_has_a_description() {
    use clap::CommandFactory;
    fn walk(cmd: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in cmd.get_arguments() {
            let id = arg.get_id().as_str();
            if id == "help" || id == "version" {
                continue;
            }
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {id}"));
            }
        }
        for sub in cmd.get_subcommands() {
            walk(sub, &format!("{path} {}", sub.get_name()), missing);
        }
    }
    let mut missing = Vec::new();
    walk(&u4ssc::app::Cli::command(), "u4ssc", &mut missing);
    assert!(
        missing.is_empty(),
        "options without a description: {missing:#?}"
    );
}

/// The help of check, import, rank and export shows examples; the global options stand under
/// their own heading instead of crowding each command's own.
#[test]
fn help_shows_examples_and_groups_the_global_options() {
    let home = tempfile::tempdir().unwrap();
    for cmd in ["check", "import", "rank", "export"] {
        let r = run(u4ssc(home.path()).args([cmd, "--help"]));
        assert_eq!(r.code, 0, "{cmd}");
        assert!(
            r.stdout.contains("Examples:\n  u4ssc "),
            "{cmd}: {}",
            r.stdout
        );
        let global = r
            .stdout
            .find("Global options:")
            .expect("a Global options heading");
        assert!(r.stdout[global..].contains("--max-file-mb"), "{cmd}");
        let own = r.stdout.find("Options:").unwrap();
        assert!(!r.stdout[own..global].contains("--max-file-mb"), "{cmd}");
    }
}

/// Machine-readable output a program can trust: numbers as JSON numbers, the whole SHA-256.
#[test]
fn json_output_has_numbers_and_whole_hashes() {
    let home = tempfile::tempdir().unwrap();
    let r = run(u4ssc(home.path()).args(["revisions", "--format", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(v[0]["rows"].is_u64(), "{}", r.stdout);
    assert!(v[0]["revision"].is_u64(), "{}", r.stdout);
    assert_eq!(v[0]["sha256"].as_str().unwrap().len(), 64, "{}", r.stdout);
    let csv = run(u4ssc(home.path()).args(["runs", "--format", "csv"]));
    let line = csv.stdout.lines().nth(1).unwrap();
    assert!(line.split(',').any(|f| f.len() == 64), "{line}");
    // municipality numbers stay text
    let c = run(u4ssc(home.path()).args(["cities", "--format", "json"]));
    let v: serde_json::Value = serde_json::from_str(&c.stdout).unwrap();
    assert!(
        c.stdout.contains("\"0301\""),
        "{}",
        &c.stdout[..300.min(c.stdout.len())]
    );
    assert!(v.as_array().unwrap().len() == 17);
}
