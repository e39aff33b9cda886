//! The settings read from the data document, kept between evaluations.
//!
//! Hosts load the data document once and evaluate many inputs against it, so reading the
//! settings again for each evaluation (a third of the work for a small request) is waste.
//! The entry is keyed by the data document's whole text: the same bytes always mean the same
//! settings, whatever the host did to the data value in between. It lives in the heap's pinned
//! area, which heap resets do not reach.

use core::cell::RefCell;
use core::mem::ManuallyDrop;

use super::heap;
use crate::eval::{Data, DataSettings, data_settings};
use crate::request::json::same_bytes;

/// One data document's text and its settings, built in the pinned area. `ManuallyDrop`: the
/// memory is reclaimed by the next `heap::pinned`, never by a drop.
struct Entry {
    data: Vec<u8>,
    settings: DataSettings,
}

thread_local! {
    // wasm32 without threads: one plain static.
    static ENTRY: RefCell<Option<ManuallyDrop<Entry>>> = const { RefCell::new(None) };
}

/// Calls `f` with the settings of `data`, read once per distinct data text.
pub fn with_settings<R>(data: Option<&[u8]>, f: impl FnOnce(Data<'_>) -> R) -> R {
    let Some(text) = data else {
        return f(Data::Text(None));
    };
    ENTRY.with(|slot| {
        let hit = slot
            .try_borrow()
            .is_ok_and(|entry| entry.as_ref().is_some_and(|e| same_bytes(&e.data, text)));
        if !hit {
            let Ok(mut entry) = slot.try_borrow_mut() else {
                return f(Data::Text(data));
            };
            // Forget the old entry before its memory is handed out again.
            *entry = None;
            *entry = heap::pinned(|| Entry {
                data: text.to_vec(),
                settings: data_settings(Some(text)),
            })
            .map(ManuallyDrop::new);
        }
        match slot.try_borrow() {
            Ok(entry) => match entry.as_ref() {
                Some(e) => f(Data::Read(&e.settings)),
                None => f(Data::Text(data)),
            },
            Err(_) => f(Data::Text(data)),
        }
    })
}
