//! Values on the heap, addressed by an i32 as OPA's `value_addr`.
//!
//! A value lives in a [`Slot`]: a tag derived from its own address, then the payload. Lookups
//! check alignment, bounds and the tag, so a null, garbage or stale address is refused instead
//! of being read as a value.

use alloc::{borrow::Cow, boxed::Box, string::String, vec::Vec};

use super::mem::{self, Addr};
use super::rego;
use super::tree::Tree;

/// An OPA value as this module keeps it.
#[derive(Debug)]
pub enum Value {
    /// Validated JSON text (`opa_json_parse`). Most values are only ever passed back to
    /// [`crate::decide`] as text, so the tree is built only when something needs it.
    Json(Vec<u8>),
    /// A parsed value (Rego sets are arrays here, as `opa_json_dump` prints them).
    Tree(Tree),
    /// A result set with one binding of `result`: the JSON text of that result.
    ResultSet(String),
}

impl Value {
    /// The value's JSON text (`opa_json_dump`): a result set is `[{"result":X}]`.
    pub fn json_text(&self) -> Cow<'_, [u8]> {
        match self {
            Value::Json(text) => Cow::Borrowed(text),
            Value::Tree(tree) => Cow::Owned(tree.text()),
            Value::ResultSet(result) => Cow::Owned(JSON_SET.wrap(result)),
        }
    }

    /// The value's Rego value text (`opa_value_dump`): a result set is `{{"result":X}}`.
    /// JSON text is Rego value text, and sets were turned into arrays when parsed.
    pub fn value_text(&self) -> Cow<'_, [u8]> {
        match self {
            Value::ResultSet(result) => Cow::Owned(VALUE_SET.wrap(result)),
            other => other.json_text(),
        }
    }

    /// The value as a tree, parsing JSON text if needed; `None` if it cannot be one.
    pub fn tree(&self) -> Option<Cow<'_, Tree>> {
        match self {
            Value::Json(text) => rego::parse_json(text).map(Cow::Owned),
            Value::Tree(tree) => Some(Cow::Borrowed(tree)),
            Value::ResultSet(_) => rego::parse_json(&self.json_text()).map(Cow::Owned),
        }
    }

    /// Turns JSON text into a tree in place (for the mutating path operations); `None` if the
    /// value is not a tree and cannot become one.
    pub fn tree_mut(&mut self) -> Option<&mut Tree> {
        if !matches!(self, Value::Tree(_)) {
            let tree = self.tree()?.into_owned();
            *self = Value::Tree(tree);
        }
        match self {
            Value::Tree(tree) => Some(tree),
            Value::Json(_) | Value::ResultSet(_) => None,
        }
    }
}

/// The text around a result set's one result `X`.
pub struct Frame {
    pub head: &'static str,
    /// The tail, then the NUL that ends a string the module hands out.
    pub tail_nul: &'static str,
}

/// `[{"result":X}]`: a result set as JSON text.
pub const JSON_SET: Frame = Frame {
    head: "[{\"result\":",
    tail_nul: "}]\0",
};

/// `{{"result":X}}`: a result set as Rego value text.
pub const VALUE_SET: Frame = Frame {
    head: "{{\"result\":",
    tail_nul: "}}\0",
};

impl Frame {
    /// The tail without its NUL.
    fn tail(&self) -> &'static str {
        self.tail_nul.strip_suffix('\0').unwrap_or(self.tail_nul)
    }

    /// `body` framed, in one buffer.
    fn wrap(&self, body: &str) -> Vec<u8> {
        let (head, tail) = (self.head.as_bytes(), self.tail().as_bytes());
        let len = head
            .len()
            .saturating_add(body.len())
            .saturating_add(tail.len());
        let mut out = Vec::with_capacity(len);
        out.extend_from_slice(head);
        out.extend_from_slice(body.as_bytes());
        out.extend_from_slice(tail);
        out
    }
}

/// Something kept on the heap behind a checked address.
pub trait Tagged: Sized + 'static {
    /// Distinguishes this kind of slot from others and from random memory.
    const MAGIC: u32;
}

impl Tagged for Value {
    const MAGIC: u32 = 0x4f50_4156; // "OPAV"
}

/// A heap slot: a tag (the kind's magic xor the slot's address) and the payload.
#[repr(C)]
struct Slot<T> {
    tag: u32,
    payload: T,
}

/// The tag a slot of kind `T` at `addr` carries.
fn tag_of<T: Tagged>(addr: Addr) -> u32 {
    T::MAGIC ^ (addr.to_usize() as u32)
}

/// Moves `payload` into a new heap slot and returns its address.
pub fn store<T: Tagged>(payload: T) -> Addr {
    let slot: &'static mut Slot<T> = Box::leak(Box::new(Slot { tag: 0, payload }));
    let addr = Addr::from_ptr(&raw const *slot);
    slot.tag = tag_of::<T>(addr);
    addr
}

/// The payload of the slot of kind `T` at `addr`, if there is one.
///
/// The reference is only valid until the host resets the heap below `addr`; callers use it
/// within one export call and never hold two references to the same slot at once.
pub fn load<T: Tagged>(addr: Addr) -> Option<&'static mut T> {
    let align = core::mem::align_of::<Slot<T>>();
    if addr.to_usize().checked_rem(align) != Some(0)
        || !mem::in_bounds(addr, core::mem::size_of::<Slot<T>>())
    {
        return None;
    }
    let ptr = addr.to_usize() as *mut Slot<T>;
    // SAFETY: the slot's range is non-null, aligned and inside memory (checked above); the tag
    // is a plain u32, valid for any bit pattern.
    let tag = unsafe { (&raw const (*ptr).tag).read() };
    if tag != tag_of::<T>(addr) {
        return None;
    }
    // SAFETY: the tag matches, so `store` wrote a `Slot<T>` here and it has not been
    // overwritten (the tag would be gone). Wasm has no threads here and callers hold no other
    // reference to this slot (see above).
    Some(unsafe { &mut (*ptr).payload })
}

/// Stores a value; shorthand for `store::<Value>`.
pub fn store_value(value: Value) -> Addr {
    store(value)
}

/// Loads a value; shorthand for `load::<Value>`.
pub fn load_value(addr: Addr) -> Option<&'static mut Value> {
    load::<Value>(addr)
}
