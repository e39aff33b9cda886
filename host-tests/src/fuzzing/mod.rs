//! Properties that must hold for every input, whatever its bytes.
//!
//! The fuzz targets in `fuzz/` (cargo-fuzz, nightly) call these on generated inputs, and
//! `tests/fuzz_regressions.rs` (stable, part of `cargo xtask test`) calls them on the recorded
//! requests and on every input kept under `fuzz/regressions/`. Each check returns the broken
//! property as an `Err` with the input it broke on, so that a fuzzer's crash report and a failing
//! test say the same thing.

mod checker;
mod json;
mod module;
mod rewritings;

pub use checker::Checker;
pub use json::{go_reads_json, json_readers_agree};
pub use module::ModuleChecker;
pub use rewritings::rewritings;

/// How a fuzz target reports a broken property: a panic (libFuzzer keeps the input).
///
/// # Panics
/// When `result` is an `Err`, with its message.
pub fn must_hold(result: Result<(), String>) {
    if let Err(broken) = result {
        panic!("{broken}");
    }
}

/// The message of a broken property, with the input (lossily, shortened).
fn broken(what: &str, input: &[u8]) -> String {
    let text = String::from_utf8_lossy(input);
    let shown: String = text.chars().take(600).collect();
    let more = if shown.len() < text.len() { " ..." } else { "" };
    format!("{what}\ninput ({} bytes): {shown:?}{more}", input.len())
}

#[cfg(test)]
mod tests {
    use super::{Checker, broken};

    #[test]
    fn a_broken_property_is_reported_with_its_input() {
        let checker = Checker::new().unwrap();
        assert!(checker.evaluation(b"{").is_ok());
        let message = broken("something broke", b"{\"a\":1}");
        assert!(message.contains("something broke") && message.contains("7 bytes"));
    }
}
