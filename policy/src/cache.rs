//! Settings kept between evaluations, read once per distinct JSON text.
//!
//! Hosts evaluate many inputs against the same data document, and Gatekeeper sends the same
//! constraint `parameters` with every review, so reading the settings again for each
//! evaluation is waste (a quarter of the work for a job pod). An entry is keyed by the exact
//! text it was read from and where it came from: the same bytes always mean the same settings,
//! whatever the host did in between, and any other bytes are read again. Only valid settings
//! are kept; a text whose settings are invalid is read again each time it comes.
//!
//! The last two texts are kept (a host that alternates two constraints hits both), each in its
//! own area of memory: [`Keep`] says where that memory is.

use alloc::{borrow::Cow, vec::Vec};
use core::marker::PhantomData;

use crate::request::json::same_long;
use crate::settings::{Settings, Source};

/// Where kept settings are built.
pub trait Keep {
    /// Runs `build` with its allocations made in area `area` (0 or 1) and returns its value,
    /// with whether the value may be kept: `false` when it does not fit (it is still valid
    /// until the same area is used again). Whatever was built in that area before has been
    /// dropped.
    fn keep<T>(area: usize, build: impl FnOnce() -> T) -> (T, bool);
}

/// Ordinary heap memory: native hosts and tests.
pub struct Heap;

impl Keep for Heap {
    fn keep<T>(_area: usize, build: impl FnOnce() -> T) -> (T, bool) {
        (build(), true)
    }
}

/// Settings read from one text.
struct Entry {
    area: usize,
    source: Source,
    text: Vec<u8>,
    settings: Settings,
}

impl Entry {
    fn is(&self, source: Source, text: &[u8]) -> bool {
        self.source == source && same_long(&self.text, text)
    }
}

/// The settings of the last two texts read.
pub struct SettingsCache<K: Keep = Heap> {
    recent: Option<Entry>,
    older: Option<Entry>,
    keep: PhantomData<K>,
}

impl<K: Keep> Default for SettingsCache<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Keep> SettingsCache<K> {
    /// An empty cache.
    pub const fn new() -> Self {
        SettingsCache {
            recent: None,
            older: None,
            keep: PhantomData,
        }
    }

    /// The text of the settings last read from `source`, if they are kept (empty if not).
    pub fn last_text(&self, source: Source) -> &[u8] {
        match &self.recent {
            Some(entry) if entry.source == source => &entry.text,
            _ => &[],
        }
    }

    /// The settings of `text` from `source`: kept ones, or what `read` makes of it (kept when
    /// valid). `last`: the caller found `text` to be [`SettingsCache::last_text`] of `source`
    /// (and nothing changed the cache since), so it is not compared again.
    ///
    /// # Errors
    /// `read`'s error, which is never kept.
    pub fn settings<E>(
        &mut self,
        source: Source,
        text: &[u8],
        last: bool,
        read: impl FnOnce() -> Result<Settings, E>,
    ) -> Result<Cow<'_, Settings>, E> {
        let hit = last || self.recent.as_ref().is_some_and(|e| e.is(source, text));
        if !hit {
            if self.older.as_ref().is_some_and(|e| e.is(source, text)) {
                core::mem::swap(&mut self.recent, &mut self.older);
            } else {
                // The older entry goes first, before its area is used again.
                let area = match (self.older.take(), &self.recent) {
                    (Some(older), _) => older.area,
                    (None, Some(recent)) => recent.area ^ 1,
                    (None, None) => 0,
                };
                let (entry, kept) = K::keep(area, || {
                    read().map(|settings| Entry {
                        area,
                        source,
                        text: text.to_vec(),
                        settings,
                    })
                });
                let entry = entry?;
                if !kept {
                    return Ok(Cow::Owned(entry.settings));
                }
                self.older = self.recent.take();
                return Ok(Cow::Borrowed(&self.recent.insert(entry).settings));
            }
        }
        match &self.recent {
            Some(entry) => Ok(Cow::Borrowed(&entry.settings)),
            None => read().map(Cow::Owned), // never: a hit or a swap leaves an entry here
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::cell::Cell;

    /// A settings text per org (`a`, `b`...); `bad` is invalid.
    fn text(org: &str) -> Vec<u8> {
        if org == "bad" {
            return br#"{"org":"Bad Org","runners":[]}"#.to_vec();
        }
        format!(r#"{{"org":"{org}","runners":[{{"type":"dind","serviceAccount":"sa"}}]}}"#)
            .into_bytes()
    }

    /// Looks `org`'s text up as `source`, counting reads; the runners namespace, or `error`.
    fn look_up(
        cache: &mut SettingsCache,
        reads: &Cell<usize>,
        source: Source,
        org: &str,
    ) -> String {
        let text = text(org);
        let read = || {
            reads.set(reads.get() + 1);
            let doc = crate::request::json::Doc::parse(&text).unwrap();
            Settings::from_json(doc.root(), Source::Data)
        };
        match cache.settings(source, &text, false, read) {
            Ok(settings) => settings.runners_namespace.clone(),
            Err(_) => "error".to_owned(),
        }
    }

    /// Texts looked up in order, as (source, org); the results; how many reads in all.
    type Case<'a> = (&'a [(Source, &'a str)], &'a [&'a str], usize);

    #[test]
    fn each_text_is_read_once_while_it_is_one_of_the_last_two() {
        use Source::{Data as D, Parameters as P};
        let cases: &[Case] = &[
            // The same text: read once.
            (&[(P, "a"), (P, "a"), (P, "a")], &["a-runners"; 3], 1),
            // A changed text is read; the one before is still kept.
            (
                &[(P, "a"), (P, "b"), (P, "a"), (P, "b")],
                &["a-runners", "b-runners", "a-runners", "b-runners"],
                2,
            ),
            // Invalid settings are read every time, and cost no kept entry.
            (
                &[(P, "bad"), (P, "bad"), (P, "a"), (P, "bad"), (P, "a")],
                &["error", "error", "a-runners", "error", "a-runners"],
                4,
            ),
            // Three texts in turn: each evicts the oldest, so each look-up reads.
            (
                &[(P, "a"), (P, "b"), (P, "c"), (P, "a"), (P, "b"), (P, "c")],
                &[
                    "a-runners",
                    "b-runners",
                    "c-runners",
                    "a-runners",
                    "b-runners",
                    "c-runners",
                ],
                6,
            ),
            // The least recently used goes: `a` was used after `b`, so `c` evicts `b`.
            (
                &[(P, "a"), (P, "b"), (P, "a"), (P, "c"), (P, "a"), (P, "b")],
                &[
                    "a-runners",
                    "b-runners",
                    "a-runners",
                    "c-runners",
                    "a-runners",
                    "b-runners",
                ],
                4,
            ),
            // The same bytes from another source are another entry.
            (
                &[(D, "a"), (P, "a"), (D, "a"), (P, "a")],
                &["a-runners"; 4],
                2,
            ),
        ];
        for (i, (lookups, expected, reads_expected)) in cases.iter().enumerate() {
            let mut cache = SettingsCache::new();
            let reads = Cell::new(0);
            let got: Vec<String> = lookups
                .iter()
                .map(|(source, org)| look_up(&mut cache, &reads, *source, org))
                .collect();
            assert_eq!(got, *expected, "case {i}");
            assert_eq!(reads.get(), *reads_expected, "case {i}: reads");
        }
    }

    /// A `Keep` whose area holds nothing: every value is used once and never kept.
    struct Full;

    impl Keep for Full {
        fn keep<T>(_area: usize, build: impl FnOnce() -> T) -> (T, bool) {
            (build(), false)
        }
    }

    #[test]
    fn settings_that_do_not_fit_are_used_and_read_again() {
        let mut cache = SettingsCache::<Full>::new();
        let text = text("a");
        for _ in 0..3 {
            let settings = cache
                .settings(Source::Parameters, &text, false, || {
                    let doc = crate::request::json::Doc::parse(&text).unwrap();
                    Settings::from_json(doc.root(), Source::Parameters)
                })
                .unwrap();
            assert_eq!(settings.runners_namespace, "a-runners");
            assert!(matches!(settings, Cow::Owned(_)));
        }
    }

    thread_local! {
        static AREAS: core::cell::RefCell<Vec<usize>> = const { core::cell::RefCell::new(Vec::new()) };
    }

    /// A `Keep` that records the area of each entry built.
    struct Recording;

    impl Keep for Recording {
        fn keep<T>(area: usize, build: impl FnOnce() -> T) -> (T, bool) {
            AREAS.with(|areas| areas.borrow_mut().push(area));
            (build(), true)
        }
    }

    #[test]
    fn a_new_entry_takes_the_area_of_the_one_it_evicts() {
        let mut cache = SettingsCache::<Recording>::new();
        for org in ["a", "b", "c", "a", "a", "c", "d"] {
            let text = text(org);
            cache
                .settings(Source::Parameters, &text, false, || {
                    let doc = crate::request::json::Doc::parse(&text).unwrap();
                    Settings::from_json(doc.root(), Source::Parameters)
                })
                .unwrap();
            let (recent, older) = (cache.recent.as_ref().unwrap(), cache.older.as_ref());
            assert!(older.is_none_or(|older| older.area != recent.area));
        }
        // a: 0; b: 1; c evicts a: 0; a evicts b: 1; a, c: kept; d evicts a: 1.
        assert_eq!(AREAS.with(|areas| areas.take()), [0, 1, 0, 1, 1]);
    }
}
