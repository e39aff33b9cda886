//! Any bytes as the input document, natively: see `Checker::evaluation`.
#![no_main]

use std::sync::LazyLock;

use host_tests::fuzzing::Checker;
use libfuzzer_sys::fuzz_target;

static CHECKER: LazyLock<Checker> =
    LazyLock::new(|| Checker::new().unwrap_or_else(|e| panic!("{e:#}")));

fuzz_target!(|input: &[u8]| {
    if let Err(broken) = CHECKER.evaluation(input) {
        panic!("{broken}");
    }
});
