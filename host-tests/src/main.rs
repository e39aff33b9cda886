//! `runner-policy`: evaluate, test, replay and benchmark the runner-policy wasm module.

fn main() -> std::process::ExitCode {
    host_tests::cli::main()
}
