//! Any bytes as the settings, natively: see `Checker::settings`.
#![no_main]

use host_tests::fuzzing::{Checker, must_hold};

libfuzzer_sys::fuzz_target!(|data: &[u8]| must_hold(Checker::shared().settings(data)));
