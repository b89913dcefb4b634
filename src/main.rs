use clap::Parser;
use std::io::Write;

fn main() {
    let cli = u4ssc::app::Cli::parse();
    let code = match u4ssc::app::run(cli) {
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
