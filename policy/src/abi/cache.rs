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

/// The cache of the module's one thread.
struct OneThread(RefCell<SettingsCache<Pinned>>);

// SAFETY: the module is built without the `atomics` target feature (wasm threads), so it runs
// one thread and no two threads can reach the static at once.
#[cfg(not(target_feature = "atomics"))]
unsafe impl Sync for OneThread {}

static CACHE: OneThread = OneThread(RefCell::new(SettingsCache::new()));

/// Judges `input` against `data`, each settings text read once while it is one of the last two.
pub fn decide(input: &[u8], data: Option<&[u8]>) -> Outcome {
    match CACHE.0.try_borrow_mut() {
        Ok(mut cache) => cache.decide(input, data),
        // Only a call from inside an evaluation could find the cache in use, and none makes one.
        Err(_) => Outcome::unjudged(Decision::invalid(
            "input",
            "the module is already evaluating",
        )),
    }
}
