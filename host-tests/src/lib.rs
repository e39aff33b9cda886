//! The test kit of runner-policy's end-to-end tests (the tests themselves are in `tests/`).
//!
//! - [`fuzzing`]: the properties every input must keep, checked by the fuzz targets in `fuzz/`
//!   and by `tests/fuzz_regressions.rs`, which replays their saved inputs on stable.

pub mod fuzzing;
