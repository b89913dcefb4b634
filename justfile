# One profile (release) for running, testing and linting, and one target directory that
# outlives clones, so DuckDB's C++ is compiled once.
export CARGO_TARGET_DIR := env_var_or_default("CARGO_TARGET_DIR", env_var("HOME") + "/.cache/u4ssc-target")

# the main job on the embedded default database (created with the 17-city demo on first use)
run *ARGS="rank":
    cargo run --release -- {{ARGS}}

test:
    cargo test --release

lint:
    cargo clippy --release --all-targets -- -D warnings

fmt:
    cargo fmt

# benchmarks (never part of the tests): `just bench` or `just bench world` for 10 000 cities
bench *ARGS:
    cargo bench --bench pipeline -- {{ARGS}}

ci:
    bash .ci/run

# long fuzzing runs (deterministic mutation fuzzer over every parser)
fuzz CASES="200000":
    U4SSC_FUZZ_CASES={{CASES}} cargo test --release --test integration fuzz -- --nocapture

# the long crash-consistency variant: import and score killed 100 times each
crash:
    cargo test --release --test integration killed_100_times -- --ignored

# the manual page and bash completions, installed for the current user
install-docs:
    cargo run --release -- man > u4ssc.1 && mkdir -p ~/.local/share/man/man1 && mv u4ssc.1 ~/.local/share/man/man1/
    mkdir -p ~/.local/share/bash-completion/completions && cargo run --release -- completions bash > ~/.local/share/bash-completion/completions/u4ssc
