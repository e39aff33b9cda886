//! Any bytes, read by the policy's JSON reader and by a model of Go's decoder: see
//! `json_readers_agree`.
#![no_main]

use host_tests::fuzzing::{json_readers_agree, must_hold};

libfuzzer_sys::fuzz_target!(|text: &[u8]| must_hold(json_readers_agree(text)));
