use clap::{CommandFactory, FromArgMatches, Parser};
use std::io::Write;

fn main() {
    // --version says more than the program's version; it is worked out only when asked for
    let wants_version = std::env::args_os()
        .skip(1)
        .any(|a| a == "--version" || a == "-V");
    let cli = if wants_version {
        let text: &'static str = Box::leak(u4ssc::app::long_version().into_boxed_str());
        let matches = u4ssc::app::Cli::command().version(text).get_matches();
        u4ssc::app::Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    } else {
        u4ssc::app::Cli::parse()
    };
    let result = u4ssc::app::run(cli);
    // the progress line never outlives the command
    u4ssc::progress::clear();
    let code = match result {
        Ok(code) => code,
        // the reader went away (`u4ssc rank | head`): that is the reader's choice, not an
        // error, and stderr may be the same closed pipe
        Err(u4ssc::Error::Write { path, source })
            if source.kind() == std::io::ErrorKind::BrokenPipe
                && path.as_os_str() == "<stdout>" =>
        {
            0
        }
        Err(e) => {
            // never panic on a closed stderr
            let _ = writeln!(std::io::stderr(), "error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
