//! Image references already found to come from an allowed registry, kept with the settings
//! they were judged under.
//!
//! Reading a reference by the runtimes' grammar costs about 2,300 instructions, and job pods
//! carry the same few images again and again (GitLab's helper image in two containers of every
//! job pod). Whether an image is allowed depends only on its text and on `allowedRegistries`,
//! so a text found allowed once stays allowed for as long as the same settings are in use.
//!
//! The slots are allocated once, with the settings, and written in place afterwards: kept
//! settings are built in memory that the heap resets between evaluations do not reach (see
//! `abi::heap::pinned`), and nothing allocated during an evaluation could be kept. Settings read
//! again (another text) start with none.

use alloc::boxed::Box;
use core::cell::{Cell, RefCell};
use core::fmt;

use crate::request::json::same_bytes;

/// How many texts are remembered; the oldest gives way.
const SLOTS: usize = 8;

/// The longest text remembered. Longer references (most with a digest) are read every time.
const TEXT_MAX: usize = 128;

/// One remembered text.
#[derive(Clone, Copy)]
struct Text {
    len: u8,
    bytes: [u8; TEXT_MAX],
}

impl Text {
    const EMPTY: Text = Text {
        len: 0,
        bytes: [0; TEXT_MAX],
    };

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or_default()
    }
}

/// Image references found to come from an allowed registry under the settings that hold
/// this. Not part of what the settings mean: two settings are equal whatever each remembers,
/// and a copy remembers nothing.
pub struct AllowedImages {
    /// Allocated with the settings, never again: writing a text into a slot allocates nothing.
    texts: RefCell<Box<[Text; SLOTS]>>,
    /// The slot the next text goes to.
    next: Cell<usize>,
}

impl AllowedImages {
    pub fn new() -> Self {
        AllowedImages {
            texts: RefCell::new(Box::new([Text::EMPTY; SLOTS])),
            next: Cell::new(0),
        }
    }

    /// Whether `image` was found allowed before.
    pub fn contains(&self, image: &str) -> bool {
        let Ok(texts) = self.texts.try_borrow() else {
            return false;
        };
        let image = image.as_bytes();
        // The empty text is never remembered, so empty slots never match.
        // The length first, in place: most slots differ in it.
        !image.is_empty()
            && texts.iter().any(|text| {
                usize::from(text.len) == image.len() && same_bytes(text.as_bytes(), image)
            })
    }

    /// Remembers that `image` comes from an allowed registry. A text too long to hold is not
    /// remembered.
    pub fn insert(&self, image: &str) {
        let image = image.as_bytes();
        let Ok(len) = u8::try_from(image.len()) else {
            return;
        };
        let Ok(mut texts) = self.texts.try_borrow_mut() else {
            return;
        };
        let at = self.next.get();
        if !image.is_empty()
            && let Some(text) = texts.get_mut(at)
            // None for a text longer than a slot.
            && let Some(slot) = text.bytes.get_mut(..image.len())
        {
            slot.copy_from_slice(image);
            text.len = len;
            self.next
                .set(at.checked_add(1).filter(|&n| n < SLOTS).unwrap_or(0));
        }
    }
}

impl Default for AllowedImages {
    fn default() -> Self {
        AllowedImages::new()
    }
}

impl Clone for AllowedImages {
    /// A copy remembers nothing: cheap, and never wrong.
    fn clone(&self) -> Self {
        AllowedImages::new()
    }
}

impl PartialEq for AllowedImages {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for AllowedImages {}

impl fmt::Debug for AllowedImages {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let held = self
            .texts
            .try_borrow()
            .map_or(0, |texts| texts.iter().filter(|t| t.len > 0).count());
        write!(f, "AllowedImages({held} remembered)")
    }
}

#[cfg(test)]
mod tests {
    use super::{AllowedImages, SLOTS, TEXT_MAX};

    const HELPER: &str =
        "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.11.0";

    #[test]
    fn a_remembered_image_is_found_and_no_other() {
        let images = AllowedImages::new();
        assert!(!images.contains(HELPER));
        images.insert(HELPER);
        assert!(images.contains(HELPER));
        // The same text but for one byte, shorter, longer: not found.
        assert!(!images.contains(&HELPER.replace("v17", "v18")));
        assert!(!images.contains(&HELPER[..HELPER.len() - 1]));
        assert!(!images.contains(&format!("{HELPER}0")));
        assert!(!images.contains(""));
        images.insert("");
        assert!(!images.contains(""));
    }

    #[test]
    fn the_oldest_gives_way_and_long_texts_are_not_held() {
        let images = AllowedImages::new();
        let names: Vec<String> = (0..=SLOTS).map(|i| format!("docker:{i}")).collect();
        for name in &names {
            images.insert(name);
        }
        assert!(!images.contains(&names[0]), "the oldest gave way");
        assert!(names[1..].iter().all(|n| images.contains(n)));
        let long = format!("a/{}", "b".repeat(TEXT_MAX - 1));
        images.insert(&long);
        assert!(!images.contains(&long));
        let longest = format!("a/{}", "b".repeat(TEXT_MAX - 2));
        images.insert(&longest);
        assert!(images.contains(&longest));
    }

    #[test]
    fn a_copy_remembers_nothing_and_equals_the_original() {
        let images = AllowedImages::new();
        images.insert(HELPER);
        let copy = images.clone();
        assert!(!copy.contains(HELPER));
        assert_eq!(copy, images);
    }
}
