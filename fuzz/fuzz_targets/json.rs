//! Any bytes, read by the policy's JSON reader and by a model of Go's decoder: see
//! `json_readers_agree`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &[u8]| {
    if let Err(broken) = host_tests::fuzzing::json_readers_agree(text) {
        panic!("{broken}");
    }
});
