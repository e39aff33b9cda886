//! Any bytes as the input document, natively: see `Checker::evaluation`.
#![no_main]

use host_tests::fuzzing::{Checker, must_hold};

libfuzzer_sys::fuzz_target!(|input: &[u8]| must_hold(Checker::shared().evaluation(input)));
