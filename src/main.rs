use clap::Parser;

fn main() {
    let cli = u4ssc::app::Cli::parse();
    let code = match u4ssc::app::run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}
