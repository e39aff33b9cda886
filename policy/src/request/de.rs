//! Model building blocks for Kubernetes JSON: absent and `null` lists and maps are empty.

use super::json::{JsonError, Reader, Slot, read_pairs, same_bytes, signature};
use alloc::{format, vec::Vec};

/// A string borrowed from the input when it has no escapes.
pub use super::json::Str;

/// A list that may be absent or `null` (Kubernetes omits and nulls empty lists).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct List<T>(pub Vec<T>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(Vec::new())
    }
}

impl<T> core::ops::Deref for List<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<'a, T: Slot<'a> + Default> Slot<'a> for List<T> {
    #[inline(always)] // one use per element type, inside its field slot
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        if r.null()? {
            return Ok(());
        }
        self.0.fill(r)
    }
}

/// A string map kept as pairs in document order (labels, annotations, Secret data).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pairs<'a>(pub Vec<(Str<'a>, Str<'a>)>);

impl<'a> Pairs<'a> {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| same_bytes(k.as_bytes(), key.as_bytes()))
            .map(|(_, v)| v.as_ref())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
    }

    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_ref())
    }
}

impl<'a> Slot<'a> for Pairs<'a> {
    /// A duplicate key is an error: a label read twice must not mean two things.
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        if r.null()? {
            return Ok(());
        }
        read_pairs(r, &mut self.0)?;
        if let Some(key) = duplicate_key(&self.0) {
            return Err(JsonError::new(format!("duplicate key `{key}`")));
        }
        Ok(())
    }
}

/// A key given twice, if any. Maps of up to 32 keys (labels and annotations, almost always)
/// keep a 64-bit filter of the keys' signatures (length, first and last byte): only a key whose
/// signature's bit is already set is compared with the earlier keys, so a map without
/// duplicates costs one pass. Larger maps are ordered first, so that many keys cost n log n,
/// not n².
fn duplicate_key<'p>(pairs: &'p [(Str<'_>, Str<'_>)]) -> Option<&'p str> {
    const PAIRWISE: usize = 32;
    let key = |at: usize| pairs.get(at).map_or("", |(k, _)| k.as_ref());
    if pairs.len() <= PAIRWISE {
        let mut filter = 0u64;
        // Plain slice loops: iterator adapters are not inlined in the size-optimised module.
        for (i, (k, _)) in pairs.iter().enumerate() {
            let spread = signature(k.as_bytes()).wrapping_mul(0x9E37_79B9);
            let bit = 1u64
                .checked_shl(spread.checked_shr(26).unwrap_or(0))
                .unwrap_or(0);
            if filter & bit != 0 {
                for (earlier, _) in pairs.get(..i).unwrap_or_default() {
                    if same_bytes(earlier.as_bytes(), k.as_bytes()) {
                        return Some(k);
                    }
                }
            }
            filter |= bit;
        }
        return None;
    }
    let order = crate::order::sorted_order(pairs.len(), &key);
    order.windows(2).find_map(|w| match w {
        [a, b] if key(*a) == key(*b) => Some(key(*a)),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::request::json::{Doc, FromJson};
    use rstest::rstest;

    fn map(keys: &[String]) -> String {
        let entries: Vec<String> = keys.iter().map(|k| format!("\"{k}\": \"v\"")).collect();
        format!("{{{}}}", entries.join(", "))
    }

    #[rstest]
    #[case::small_unique(3, None)]
    #[case::small_duplicate(3, Some(1))]
    // k10, k20 and k30 share a signature (length, first and last byte) but differ.
    #[case::signatures_collide_keys_differ(31, None)]
    #[case::at_the_pairwise_limit(32, Some(31))]
    #[case::past_the_pairwise_limit(33, Some(32))]
    #[case::large_unique(40, None)]
    #[case::large_duplicate(40, Some(39))]
    fn a_key_given_twice_is_refused(#[case] n: usize, #[case] repeat_at: Option<usize>) {
        let mut keys: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
        if let Some(at) = repeat_at {
            keys[at] = "k0".to_owned();
        }
        let text = map(&keys);
        let doc = Doc::parse(text.as_bytes()).unwrap();
        match (Pairs::from_json(doc.root()), repeat_at) {
            (Ok(pairs), None) => assert_eq!(pairs.0.len(), n),
            (Err(e), Some(_)) => assert_eq!(e.message(), "duplicate key `k0`"),
            (got, want) => panic!("{text}: got {got:?}, expected a duplicate: {want:?}"),
        }
    }
}
