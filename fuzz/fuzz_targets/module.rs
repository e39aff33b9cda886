//! Any bytes through the built module in wasmtime (`bundles/dist/policy.wasm`, or
//! `$RUNNER_POLICY_MODULE`): see `ModuleChecker::evaluation`.
#![no_main]

use std::cell::RefCell;

use host_tests::fuzzing::{ModuleChecker, must_hold};
use runner_policy::host::default_module_path;

thread_local! {
    static CHECKER: RefCell<ModuleChecker> = RefCell::new(
        ModuleChecker::new(&default_module_path()).unwrap_or_else(|e| panic!("{e:#}")),
    );
}

libfuzzer_sys::fuzz_target!(|input: &[u8]| {
    CHECKER.with_borrow_mut(|checker| must_hold(checker.evaluation(input)));
});
