//! Any bytes as the settings, natively: see `Checker::settings`.
#![no_main]

use std::sync::LazyLock;

use host_tests::fuzzing::Checker;
use libfuzzer_sys::fuzz_target;

static CHECKER: LazyLock<Checker> =
    LazyLock::new(|| Checker::new().unwrap_or_else(|e| panic!("{e:#}")));

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = CHECKER.settings(data) {
        panic!("{broken}");
    }
});
