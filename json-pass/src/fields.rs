//! Model structs read in the one pass: the `Slot` trait, compile-time key tables and the
//! `from_json!` macro.

use crate::reader::{Compact, ESCAPED, FAILED, scan_string, scan_string_here, string_end_here};
use crate::{Json, JsonError, Key, Reader, Str, same_bytes};
use alloc::{format, vec::Vec};

/// A model value read from the reader's cursor, in place: `self` holds its `Default` and is
/// filled where it lies, so that large structs (a pod spec, a container) are never moved
/// while they are read. Implemented once per type; the struct readers that [`from_json!`](crate::from_json)
/// writes stay a few words per field.
pub trait Slot<'a> {
    /// # Errors
    /// The value does not have the type (the error carries the path), or is not JSON.
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError>;

    /// How [`read_fields`] fills a field of this type: strings in its own loop, others
    /// through [`Slot::fill`].
    #[inline(always)]
    fn field(&mut self) -> Field<'_, 'a>
    where
        Self: Sized,
    {
        Field::Any(self)
    }

    /// [`Slot::field`] for an `Option` of this type.
    #[inline(always)]
    fn option_field(this: &mut Option<Self>) -> Field<'_, 'a>
    where
        Self: Sized + Default,
    {
        Field::Any(this)
    }
}

/// Where [`read_fields`] puts a field's value. Most fields are strings, which the field loop
/// reads itself: no call through a vtable, no function per field type.
pub enum Field<'s, 'a> {
    Str(&'s mut Str<'a>),
    OptStr(&'s mut Option<Str<'a>>),
    Any(&'s mut dyn Slot<'a>),
}

/// Reads a `T` at the reader's cursor.
///
/// # Errors
/// As [`Slot::fill`].
#[inline(always)]
pub fn read<'a, T: Slot<'a> + Default>(r: &mut Reader<'a>) -> Result<T, JsonError> {
    let mut out = T::default();
    out.fill(r)?;
    Ok(out)
}

/// Reading a model type from a checked value kept as text (a second walk of its text).
pub trait FromJson<'a>: Sized {
    /// # Errors
    /// The value does not have the expected type (the error carries the path).
    fn from_json(v: Json<'a>) -> Result<Self, JsonError>;
}

impl<'a, T: Slot<'a> + Default> FromJson<'a> for T {
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        read(&mut Reader::over(v))
    }
}

// The scalar slots below are filled while they hold their `Default`, which owns no heap: not
// dropping it saves a call per field.

impl<'a> Slot<'a> for Json<'a> {
    #[inline(always)]
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        *self = r.raw()?;
        Ok(())
    }
}

impl<'a> Slot<'a> for Str<'a> {
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        core::mem::forget(core::mem::replace(self, r.string()?));
        Ok(())
    }

    #[inline(always)]
    fn field(&mut self) -> Field<'_, 'a> {
        Field::Str(self)
    }

    #[inline(always)]
    fn option_field(this: &mut Option<Self>) -> Field<'_, 'a> {
        Field::OptStr(this)
    }
}

impl<'a> Slot<'a> for bool {
    #[inline(always)]
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        *self = r.bool()?;
        Ok(())
    }
}

impl<'a> Slot<'a> for i64 {
    #[inline(always)]
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        *self = r.i64()?;
        Ok(())
    }
}

impl<'a, T: Slot<'a> + Default> Slot<'a> for Option<T> {
    #[inline(always)]
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        if r.null()? {
            return Ok(());
        }
        self.get_or_insert_with(T::default).fill(r)
    }

    #[inline(always)]
    fn field(&mut self) -> Field<'_, 'a> {
        T::option_field(self)
    }
}

impl<'a, T: Slot<'a> + Default> Slot<'a> for Vec<T> {
    #[inline(always)]
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        // Each item is filled where it lies in the list.
        read_items(r, &mut |r| {
            self.push(T::default());
            match self.last_mut() {
                Some(item) => item.fill(r),
                None => Ok(()),
            }
        })
    }
}

/// Reads the items of an array, each by `item`. One shared loop (rather than one per item
/// type) keeps the module small, and runs at the reader's optimisation level.
///
/// # Errors
/// Not an array, an item's error (with its index added to the path), or not JSON.
#[inline(never)]
pub fn read_items<'a>(
    r: &mut Reader<'a>,
    item: &mut dyn FnMut(&mut Reader<'a>) -> Result<(), JsonError>,
) -> Result<(), JsonError> {
    let mut inside = r.enter(b'[', "an array")?;
    let mut i = 0;
    while r.item(&mut inside)? {
        item(r).map_err(|e| e.at_index(i))?;
        i += 1;
    }
    Ok(())
}

/// Reads a map of strings into `out`, in document order (labels, annotations, data keys).
///
/// # Errors
/// Not an object, a value that is not a string (with its key added to the path), or not JSON.
#[inline(never)]
pub fn read_pairs<'a>(
    r: &mut Reader<'a>,
    out: &mut Vec<(Str<'a>, Str<'a>)>,
) -> Result<(), JsonError> {
    let mut inside = r.enter(b'{', "a map of strings")?;
    let b = r.b();
    // Room for a job pod's labels or annotations at once: each growth of the list costs more
    // than the memory, which the heap reset after the evaluation takes back.
    out.reserve(16);
    loop {
        // Compact JSON's keys are scanned here; the general reader takes the rest.
        let compact = match r.compact_key(&inside) {
            Compact::End => return Ok(()),
            Compact::Quote(quote) => {
                let found = scan_string(b, quote);
                let end = found as u32 as usize;
                // `end` is past the closing quote unless the scan failed.
                (found & FAILED == 0 && b.get(end) == Some(&b':')).then(|| {
                    let key = Key {
                        start: quote + 1,
                        end: end - 1,
                        escaped: found & ESCAPED != 0,
                    };
                    (key, end + 1)
                })
            }
            Compact::Other => None,
        };
        let key = match compact {
            Some((key, value)) => {
                r.took_key(&mut inside, value);
                key
            }
            None => match r.key_slow(&mut inside)? {
                Some(key) => key,
                None => return Ok(()),
            },
        };
        let key = r.text_of(key);
        let value = r.string().map_err(|e| e.at_key(&key))?;
        out.push((key, value));
    }
}

/// A value whose type error is reported after the errors of the values around it: the
/// reader checks the rest of it and goes on (see [`Reader::deferred`]). `None`: absent or
/// `null`.
#[derive(Debug)]
pub struct Deferred<T>(pub Option<Result<T, JsonError>>);

impl<T> Default for Deferred<T> {
    fn default() -> Self {
        Deferred(None)
    }
}

impl<'a, T: Slot<'a> + Default> Slot<'a> for Deferred<T> {
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        // Filled where it is kept, as every slot is.
        let slot = self.0.insert(Ok(T::default()));
        if let Ok(value) = slot
            && let Err(e) = r.deferred(|r| value.fill(r))?
        {
            *slot = Err(e);
        }
        Ok(())
    }
}

/// Reads the fields of an object: the value of `keys.names[i]` fills `slots[i]`. Absent and
/// `null` fields are left alone; unknown keys are skipped (and checked); a known key given
/// twice is an error, so that no reader of the same text can see a different value than the
/// rules do. One shared function (rather than code per struct) keeps the module small.
///
/// # Errors
/// Not an object, a duplicate key, a value of the wrong type (with the key added to its path),
/// or not JSON.
#[inline(never)]
pub fn read_fields<'a>(
    r: &mut Reader<'a>,
    keys: &Keys<'_>,
    slots: &mut [Field<'_, 'a>],
) -> Result<(), JsonError> {
    let mut inside = r.enter(b'{', "an object")?;
    let b = r.b();
    let mut seen = 0u64;
    loop {
        // The key. A model key is found by the four bytes it starts with and then compared whole,
        // `":` included, without looking for its end; other keys are scanned. Anything but
        // compact JSON goes the general way.
        let fast = match r.compact_key(&inside) {
            Compact::End => return Ok(()),
            Compact::Quote(quote) => {
                let start = quote + 1;
                let written = b
                    .get(start..)
                    .and_then(<[u8]>::first_chunk::<4>)
                    .and_then(|bytes| keys.find_written(u32::from_le_bytes(*bytes), b, start));
                match written {
                    Some((index, n)) => Some((Some(index), start + n + 2)),
                    // Not a model key: its prefix is the four bytes just looked up (model keys
                    // are at least two bytes long), so it is unknown if it is plain and compact.
                    None => {
                        let found = scan_string_here(b, quote);
                        let end = found as u32 as usize;
                        match b.get(end..end + 2) {
                            Some(&[b':', value])
                                if found & (FAILED | ESCAPED) == 0 && value > b' ' =>
                            {
                                Some((None, end + 1))
                            }
                            _ => None,
                        }
                    }
                }
            }
            Compact::Other => None,
        };
        let index = match fast {
            Some((index, value)) => {
                r.took_key(&mut inside, value);
                index
            }
            None => match r.key_slow(&mut inside)? {
                None => return Ok(()),
                // Keys are matched on their text: a key with escapes (rare) is unescaped.
                Some(key) if key.escaped() => keys.find(r.text_of(key).as_bytes()),
                Some(key) => keys.find(r.key_bytes(key)),
            },
        };
        let field = match index {
            Some(index) => {
                // `Keys::build` holds at most 64 keys, so the bit exists.
                let bit = 1u64.checked_shl(index as u32).unwrap_or(0);
                if seen & bit != 0 {
                    return Err(duplicate_key(keys, index));
                }
                seen |= bit;
                slots.get_mut(index).map(|field| (index, field))
            }
            None => None,
        };
        // A `null` leaves the field alone. Tested only where the value is not a string: most
        // values are.
        let at = r.at;
        match field {
            Some((index, Field::Any(slot))) => {
                if !r.null()? {
                    slot.fill(r).map_err(|e| e.at_key(keys.name(index)))?
                }
            }
            // A string, read or skipped: the loop's one copy of the string scan.
            field if b.get(at) == Some(&b'"') => {
                let (end, escaped) = string_end_here(b, at)?;
                r.at = end;
                let text = || {
                    r.text_of(Key {
                        start: at + 1,
                        end: end - 1,
                        escaped,
                    })
                };
                match field {
                    Some((_, Field::Str(s))) => core::mem::forget(core::mem::replace(*s, text())),
                    Some((_, Field::OptStr(s))) => core::mem::forget(s.replace(text())),
                    _ => {}
                }
            }
            Some((index, _)) => {
                if !r.null()? {
                    return Err(r.unexpected("a string").at_key(keys.name(index)));
                }
            }
            None => r.skip_slow()?,
        }
    }
}

/// The error of a key given twice: out of line, to keep the field loop small.
#[cold]
#[inline(never)]
fn duplicate_key(keys: &Keys<'_>, index: usize) -> JsonError {
    JsonError::new(format!("duplicate key `{}`", keys.name(index)))
}

/// The keys of a model struct, with a hash table built at compile time by [`from_json!`](crate::from_json): a
/// field lookup is one multiply and one table read, however many fields the struct has.
#[derive(Debug, Clone, Copy)]
pub struct Keys<'k> {
    pub names: &'k [&'k str],
    /// [`prefix`] of each name.
    pub prefixes: &'k [u32],
    /// The table: `slots[(sig * mult) >> shift]` is 1 + the index of the first key with that
    /// prefix, or 0. No two different prefixes share a slot.
    pub mult: u32,
    pub shift: u32,
    pub slots: &'k [u8],
}

impl<'k> Keys<'k> {
    /// The keys `names`, with their prefixes and the table built over them.
    pub const fn new<const N: usize, const S: usize>(
        names: &'k [&'k str; N],
        prefixes: &'k [u32; N],
        table: &'k KeyTable<S>,
    ) -> Self {
        Keys {
            names,
            prefixes,
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
    #[inline(never)]
    pub(crate) fn find(&self, key: &[u8]) -> Option<usize> {
        self.find_where(prefix(key), |name| same_bytes(name, key))
    }

    /// The model key written at `start` in `b` followed by `":`, if the text starts with one
    /// there, found by `first4`, the four bytes at `start`: its index and length.
    #[inline(always)]
    pub(crate) fn find_written(
        &self,
        first4: u32,
        b: &[u8],
        start: usize,
    ) -> Option<(usize, usize)> {
        let index = self.find_where(first4, |name| {
            let end = start + name.len();
            b.get(start..end).is_some_and(|key| same_bytes(name, key))
                && b.get(end..end + 2) == Some(b"\":")
        })?;
        Some((index, self.name(index).len()))
    }

    /// The first key with the prefix `prefix` whose name passes `is`.
    #[inline(always)]
    fn find_where(&self, prefix: u32, is: impl Fn(&[u8]) -> bool) -> Option<usize> {
        let slot = prefix
            .wrapping_mul(self.mult)
            .checked_shr(self.shift)
            .unwrap_or(0);
        let mut at = usize::from(*self.slots.get(slot as usize)?).checked_sub(1)?;
        loop {
            // A slot holds one prefix: another one there means an unknown key.
            if self.prefixes.get(at) != Some(&prefix) {
                return None;
            }
            if is(self.names.get(at)?.as_bytes()) {
                return Some(at);
            }
            // Keys that share a prefix are listed together (`KeyTable::build` refuses others).
            at += 1;
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
    /// Finds a multiplier under which the prefixes `sigs` fall into distinct slots (equal
    /// prefixes share theirs). For `from_json!`'s const items: a failure is a compile error.
    #[allow(clippy::indexing_slicing, clippy::panic)] // evaluated at compile time
    pub const fn build<const N: usize>(sigs: &[u32; N]) -> Self {
        assert!(
            N <= 64,
            "a model struct reads at most 64 keys (one bit each)"
        );
        assert!(S.is_power_of_two() && S >= 2 && S <= 256);
        // A lookup walks the keys after the first with a prefix for as long as they have it.
        let mut i = 1;
        while i < N {
            let mut j = 0;
            while j + 1 < i {
                assert!(
                    sigs[j] != sigs[i] || sigs[i - 1] == sigs[i],
                    "keys that share their first four bytes must be listed together"
                );
                j += 1;
            }
            i += 1;
        }
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

/// A key's prefix: its first four bytes as compact JSON writes them before the value (`name":`,
/// `ab":`), little-endian; what key tables hash. A key of one byte leaves the fourth byte 0.
#[allow(clippy::indexing_slicing)] // every index is below the length it is checked against
pub const fn prefix(key: &[u8]) -> u32 {
    const AFTER: [u8; 4] = [b'"', b':', 0, 0];
    let mut bytes = [0u8; 4];
    let mut i = 0;
    while i < 4 {
        bytes[i] = if i < key.len() {
            key[i]
        } else {
            AFTER[i - key.len()]
        };
        i += 1;
    }
    u32::from_le_bytes(bytes)
}

/// The prefixes of `keys`, computed at compile time by [`keys!`](crate::keys). Model keys are at least two
/// bytes long, so that their prefix is theirs alone (a compile error otherwise).
#[allow(clippy::indexing_slicing, clippy::panic)] // evaluated at compile time
pub const fn prefixes<const N: usize>(keys: &[&str; N]) -> [u32; N] {
    let mut out = [0; N];
    let mut i = 0;
    while i < N {
        assert!(keys[i].len() >= 2, "model keys are at least two bytes long");
        out[i] = prefix(keys[i].as_bytes());
        i += 1;
    }
    out
}

/// A key's signature: its length, first and last byte, which tells most keys of a map apart
/// (the duplicate filter of string maps).
#[inline]
pub const fn signature(key: &[u8]) -> u32 {
    match (key.first(), key.last()) {
        (Some(&first), Some(&last)) => {
            ((key.len() as u32) << 16) | ((first as u32) << 8) | last as u32
        }
        _ => 0,
    }
}

/// The [`Keys`] of a model struct, built at compile time: `keys!("name", "image")`.
#[macro_export]
macro_rules! keys {
    ($($key:literal),* $(,)?) => {{
        const N: usize = [$($key),*].len();
        const KEYS: [&str; N] = [$($key),*];
        const PREFIXES: [u32; N] = $crate::prefixes(&KEYS);
        const SIZE: usize = $crate::table_size(N);
        const TABLE: $crate::KeyTable<SIZE> = $crate::KeyTable::build(&PREFIXES);
        const FIELDS: $crate::Keys<'static> = $crate::Keys::new(&KEYS, &PREFIXES, &TABLE);
        &FIELDS
    }};
}

/// Implements [`Slot`] (and so [`FromJson`]) for a model struct whose fields all have a
/// `Default` (absent and `null` fields keep it), through [`read_fields`]. The struct's first
/// lifetime is the text's (`'a`); others are written `'_`.
///
/// The struct is destructured without `..`, so every field must be given its JSON key here: a
/// field added to the struct but not to its key list is a compile error (E0027), not a field
/// that silently keeps its default and reads as "absent" to a rule.
///
/// Keys that share their first four bytes (`name`, `namespace`) must be listed next to each
/// other: a lookup walks on from the first of them, and a list with them apart is a compile
/// error.
///
/// ```
/// use json_pass::{Doc, FromJson, Str, from_json};
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
/// use json_pass::{Doc, FromJson, Str, from_json};
/// #[derive(Default)]
/// struct Meta<'a> { name: Option<Str<'a>>, namespace: Option<Str<'a>> }
/// from_json!(Meta<'a> { name: "name" });
/// let doc = Doc::parse(br#"{"name": "a", "namespace": "b"}"#).unwrap();
/// let meta = Meta::from_json(doc.root()).unwrap();
/// assert_eq!(meta.namespace.as_deref(), Some("b"));
/// ```
#[macro_export]
macro_rules! from_json {
    ($name:ident $(<$($lt:lifetime),+>)? { $($field:ident : $key:literal),* $(,)? }) => {
        impl<'a> $crate::Slot<'a> for $name $(<$($lt),+>)? {
            fn fill(&mut self, r: &mut $crate::Reader<'a>) -> Result<(), $crate::JsonError> {
                let Self { $($field,)* } = self;
                $crate::read_fields(r, $crate::keys!($($key),*), &mut [$($crate::Slot::field($field)),*])
            }
        }
    };
}
