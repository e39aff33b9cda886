//! Model structs read from JSON values: the `FromJson` trait, compile-time key tables and
//! the `from_json!` macro.

use crate::{Json, JsonError, Kind, Str, same_bytes, unescape};

/// Reading a model type from a JSON value.
///
/// The conversions below are `inline(always)`: each is used by the one [`Slot`] of its type, so
/// inlining it there makes the module smaller as well as faster (measured: 5.5 KB).
pub trait FromJson<'a>: Sized {
    /// # Errors
    /// The value does not have the expected type (the error carries the path).
    fn from_json(v: Json<'a>) -> Result<Self, JsonError>;
}

impl<'a> FromJson<'a> for Json<'a> {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        Ok(v)
    }
}

impl<'a> FromJson<'a> for Str<'a> {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        v.as_str().ok_or_else(|| v.expected("a string"))
    }
}

impl<'a> FromJson<'a> for bool {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        v.as_bool().ok_or_else(|| v.expected("a boolean"))
    }
}

impl<'a> FromJson<'a> for i64 {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        v.as_i64().ok_or_else(|| v.expected("an integer"))
    }
}

impl<'a, T: FromJson<'a>> FromJson<'a> for Option<T> {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        if v.is_null() {
            Ok(None)
        } else {
            T::from_json(v).map(Some)
        }
    }
}

impl<'a, T: FromJson<'a>> FromJson<'a> for Vec<T> {
    #[inline(always)]
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        let doc = v.doc;
        let array = doc.tok(v.at);
        if array.kind != Kind::Array {
            return Err(v.expected("an array"));
        }
        let mut out = Vec::with_capacity(usize::from(array.count));
        // The items straight from the tape (no iterator call per item).
        let mut at = v.at + 1;
        while at < array.next {
            let item = Json { doc, at };
            at = doc.tok(at).next.max(at + 1);
            let i = out.len();
            out.push(T::from_json(item).map_err(|e| e.at_index(i))?);
        }
        Ok(out)
    }
}

/// A field of a model struct, filled from its JSON value. Implemented once per field type, not
/// once per field: the struct readers that [`from_json!`] writes stay a few words per field.
pub trait Slot<'a> {
    /// # Errors
    /// The value does not have the field's type.
    fn fill(&mut self, v: Json<'a>) -> Result<(), JsonError>;
}

impl<'a, T: FromJson<'a>> Slot<'a> for T {
    #[inline(always)]
    fn fill(&mut self, v: Json<'a>) -> Result<(), JsonError> {
        // `read_fields` fills a slot once (a repeated key is an error), while it still holds its
        // `Default`, which owns no heap: not dropping it saves a call per field.
        std::mem::forget(std::mem::replace(self, T::from_json(v)?));
        Ok(())
    }
}

/// Reads the fields of an object: the value of `keys.names[i]` fills `slots[i]`. Absent and
/// `null` fields are left alone; unknown keys are skipped; a known key given twice is an error,
/// so that no reader of the same text can see a different value than the rules do. One shared
/// function (rather than code per struct) keeps the module small.
///
/// # Errors
/// Not an object, a duplicate key, or a value of the wrong type (with the key added to its path).
#[inline(never)]
pub fn read_fields<'a>(
    v: Json<'a>,
    keys: &Keys<'_>,
    slots: &mut [&mut dyn Slot<'a>],
) -> Result<(), JsonError> {
    let doc = v.doc;
    let object = doc.tok(v.at);
    if object.kind != Kind::Object {
        return Err(v.expected("an object"));
    }
    let mut seen = 0u64;
    // The entries straight from the tape: key, value, and where the next key is.
    let mut pos = v.at + 1;
    while pos < object.next {
        let key = doc.tok(pos);
        let at = pos + 1;
        let value = doc.tok(at);
        pos = value.next.max(at + 1);
        // Keys are matched on their text: only a key with escapes (rare) is unescaped first.
        let index = if key.escaped {
            keys.find(unescape(doc.inner(key)).as_bytes())
        } else {
            keys.find(doc.inner_bytes(key))
        };
        let Some(index) = index else {
            continue;
        };
        // `Keys::build` holds at most 64 keys, so the bit exists.
        let bit = 1u64.checked_shl(index as u32).unwrap_or(0);
        if seen & bit != 0 {
            return Err(duplicate_key(keys, index));
        }
        seen |= bit;
        if value.kind == Kind::Null {
            continue;
        }
        if let Some(slot) = slots.get_mut(index) {
            slot.fill(Json { doc, at })
                .map_err(|e| e.at_key(keys.name(index)))?;
        }
    }
    Ok(())
}

/// The error of a key given twice: out of line, to keep the field loop small.
#[cold]
#[inline(never)]
fn duplicate_key(keys: &Keys<'_>, index: usize) -> JsonError {
    JsonError::new(format!("duplicate key `{}`", keys.name(index)))
}

/// The keys of a model struct, with a hash table built at compile time by [`from_json!`]: a
/// field lookup is one multiply and one table read, however many fields the struct has.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'k> {
    pub names: &'k [&'k str],
    /// `signature` of each name.
    pub sigs: &'k [u32],
    /// The table: `slots[(sig * mult) >> shift]` is 1 + the index of the first key with that
    /// signature, or 0. No two different signatures share a slot.
    pub mult: u32,
    pub shift: u32,
    pub slots: &'k [u8],
}

impl<'k> Keys<'k> {
    /// The keys `names`, with their signatures and the table built over them.
    pub const fn new<const N: usize, const S: usize>(
        names: &'k [&'k str; N],
        sigs: &'k [u32; N],
        table: &'k KeyTable<S>,
    ) -> Self {
        Keys {
            names,
            sigs,
            mult: table.mult,
            shift: table.shift,
            slots: &table.slots,
        }
    }

    /// The name of key `index` (empty if there is none).
    fn name(&self, index: usize) -> &'k str {
        self.names.get(index).copied().unwrap_or_default()
    }

    /// The index of the key `key`, if it is one of these.
    #[inline(always)]
    pub(crate) fn find(&self, key: &[u8]) -> Option<usize> {
        let sig = signature(key);
        let slot = sig
            .wrapping_mul(self.mult)
            .checked_shr(self.shift)
            .unwrap_or(0);
        let mut at = usize::from(*self.slots.get(slot as usize)?).checked_sub(1)?;
        loop {
            // A slot holds one signature: another one there means an unknown key.
            if self.sigs.get(at) != Some(&sig) {
                return None;
            }
            if same_bytes(self.names.get(at)?.as_bytes(), key) {
                return Some(at);
            }
            // Keys that share a signature (rare): the next one with it, if any.
            at = find_signature(self.sigs, at + 1, sig);
        }
    }
}

/// A key table of `S` slots (a power of two), built by [`KeyTable::build`].
#[derive(Debug, Clone, Copy)]
pub struct KeyTable<const S: usize> {
    pub mult: u32,
    pub shift: u32,
    pub slots: [u8; S],
}

/// Slots for `n` keys: two per key (rounded up to a power of two), where a multiplier that
/// spreads the keys without collisions is found at compile time within a few hundred tries
/// (four per key were no faster and 350 bytes larger).
pub const fn table_size(n: usize) -> usize {
    2 * n.next_power_of_two()
}

impl<const S: usize> KeyTable<S> {
    /// Finds a multiplier under which the signatures `sigs` fall into distinct slots (equal
    /// signatures share theirs). For `from_json!`'s const items: a failure is a compile error.
    #[allow(clippy::indexing_slicing, clippy::panic)] // evaluated at compile time
    pub const fn build<const N: usize>(sigs: &[u32; N]) -> Self {
        assert!(
            N <= 64,
            "a model struct reads at most 64 keys (one bit each)"
        );
        assert!(S.is_power_of_two() && S >= 2 && S <= 256);
        let shift = 32 - S.trailing_zeros();
        let mut mult: u32 = 0x9E37_79B9;
        let mut tries = 0;
        while tries < 100_000 {
            let mut slots = [0u8; S];
            let mut ok = true;
            let mut i = 0;
            while i < N {
                let h = (sigs[i].wrapping_mul(mult) >> shift) as usize;
                if slots[h] == 0 {
                    slots[h] = (i + 1) as u8;
                } else if sigs[slots[h] as usize - 1] != sigs[i] {
                    ok = false;
                    break;
                }
                i += 1;
            }
            if ok {
                return KeyTable { mult, shift, slots };
            }
            // The next odd multiplier of a simple sequence.
            mult = mult.wrapping_mul(0x0019_660D).wrapping_add(0x3C6E_F35F) | 1;
            tries += 1;
        }
        panic!("no collision-free key table found");
    }
}

/// The first index at or after `from` whose signature is `sig` (`sigs.len()` if none).
#[inline(never)]
fn find_signature(sigs: &[u32], from: usize, sig: u32) -> usize {
    let rest = sigs.get(from..).unwrap_or_default();
    from + rest.iter().position(|&s| s == sig).unwrap_or(rest.len())
}

/// A key's signature: its length, first and last byte. Model keys are short and distinct, so
/// two keys rarely share one; comparing signatures first makes a field lookup a scan of words.
#[inline]
pub const fn signature(key: &[u8]) -> u32 {
    match (key.first(), key.last()) {
        (Some(&first), Some(&last)) => {
            ((key.len() as u32) << 16) | ((first as u32) << 8) | last as u32
        }
        _ => 0,
    }
}

/// The signatures of `keys`, computed at compile time by [`from_json!`] (an index out of range
/// would be a compile error, not a panic).
#[allow(clippy::indexing_slicing)]
pub const fn signatures<const N: usize>(keys: &[&str; N]) -> [u32; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        out[i] = signature(keys[i].as_bytes());
        i += 1;
    }
    out
}

/// Implements [`FromJson`] for a model struct whose fields all have a `Default` (absent and
/// `null` fields take it), through [`read_fields`].
///
/// The struct is destructured without `..`, so every field must be given its JSON key here: a
/// field added to the struct but not to its key list is a compile error (E0027), not a field
/// that silently keeps its default and reads as "absent" to a rule.
///
/// ```
/// use json_tape::{Doc, FromJson, Str, from_json};
/// #[derive(Default)]
/// struct Meta<'a> { name: Option<Str<'a>>, namespace: Option<Str<'a>> }
/// from_json!(Meta<'a> { name: "name", namespace: "namespace" });
/// let doc = Doc::parse(br#"{"name": "a", "namespace": "b"}"#).unwrap();
/// let meta = Meta::from_json(doc.root()).unwrap();
/// assert_eq!(meta.namespace.as_deref(), Some("b"));
/// ```
///
/// The same struct with `namespace` left out of the key list does not compile:
///
/// ```compile_fail
/// use json_tape::{Doc, FromJson, Str, from_json};
/// #[derive(Default)]
/// struct Meta<'a> { name: Option<Str<'a>>, namespace: Option<Str<'a>> }
/// from_json!(Meta<'a> { name: "name" });
/// let doc = Doc::parse(br#"{"name": "a", "namespace": "b"}"#).unwrap();
/// let meta = Meta::from_json(doc.root()).unwrap();
/// assert_eq!(meta.namespace.as_deref(), Some("b"));
/// ```
#[macro_export]
macro_rules! from_json {
    ($name:ident $(<$lt:lifetime>)? { $($field:ident : $key:literal),* $(,)? }) => {
        impl<'a> $crate::FromJson<'a> for $name $(<$lt>)? {
            fn from_json(v: $crate::Json<'a>) -> Result<Self, $crate::JsonError> {
                const N: usize = [$($key),*].len();
                const KEYS: [&str; N] = [$($key),*];
                const SIGS: [u32; N] = $crate::signatures(&KEYS);
                const SIZE: usize = $crate::table_size(N);
                const TABLE: $crate::KeyTable<SIZE> = $crate::KeyTable::build(&SIGS);
                const FIELDS: $crate::Keys<'static> = $crate::Keys::new(&KEYS, &SIGS, &TABLE);
                let mut out = Self::default();
                let Self { $($field,)* } = &mut out;
                $crate::read_fields(v, &FIELDS, &mut [$($field as &mut dyn $crate::Slot<'a>),*])?;
                Ok(out)
            }
        }
    };
}
