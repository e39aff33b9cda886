//! The module's settings cache: settings kept between evaluations (see [`SettingsCache`]), in
//! the heap's pinned areas, which heap resets do not reach.

use core::cell::RefCell;

use super::heap;
use crate::cache::{Keep, SettingsCache};
use crate::decision::Decision;
use crate::eval::Outcome;

/// Entries built in the heap's pinned areas.
pub struct Pinned;

impl Keep for Pinned {
    fn keep<T>(area: usize, build: impl FnOnce() -> T) -> (T, bool) {
        heap::pinned(area, build)
    }
}

thread_local! {
    // wasm32 without threads: one plain static.
    static CACHE: RefCell<SettingsCache<Pinned>> = const { RefCell::new(SettingsCache::new()) };
}

/// Judges `input` against `data`, each settings text read once while it is one of the last two.
pub fn decide(input: &[u8], data: Option<&[u8]>) -> Outcome {
    CACHE.with(|cache| match cache.try_borrow_mut() {
        Ok(mut cache) => cache.decide(input, data),
        // Only a call from inside an evaluation could find the cache in use, and none makes one.
        Err(_) => Outcome {
            not_json: false,
            dialect: None,
            uid: String::new(),
            decision: Decision::invalid("input", "the module is already evaluating"),
        },
    })
}
