//! Addresses in the shared memory, and bounds-checked views of what the host wrote there.
//!
//! Every address a host passes is untrusted: it may be 0, garbage, or past the end of memory.
//! Reads go through [`bytes`], which checks the range against the current memory size.

use alloc::vec::Vec;
use core::arch::wasm32;

/// A byte address in the module's memory, as it crosses the ABI (an `i32` on the wire).
#[repr(transparent)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Addr(u32);

impl Addr {
    /// OPA's "no value" / "no address".
    pub const NULL: Addr = Addr(0);

    /// The address of a pointer into memory (null stays null).
    pub fn from_ptr<T>(ptr: *const T) -> Addr {
        Addr::from_usize(ptr as usize)
    }

    /// An address from a `usize` (wasm32 addresses always fit in 32 bits).
    pub fn from_usize(addr: usize) -> Addr {
        Addr(u32::try_from(addr).unwrap_or(0))
    }

    /// The address as a `usize`.
    pub fn to_usize(self) -> usize {
        self.0 as usize
    }

    /// True for the null address.
    pub fn is_null(self) -> bool {
        self.0 == 0
    }
}

/// The current size of the memory in bytes.
pub fn memory_len() -> usize {
    wasm32::memory_size::<0>().saturating_mul(65536)
}

/// True when `[addr, addr + len)` is a non-null range inside the memory.
pub fn in_bounds(addr: Addr, len: usize) -> bool {
    !addr.is_null()
        && addr
            .to_usize()
            .checked_add(len)
            .is_some_and(|end| end <= memory_len())
}

/// The `len` bytes at `addr`, if that range lies in memory. A zero length is always the empty
/// slice (even at address 0); a negative length is rejected.
pub fn bytes(addr: Addr, len: i32) -> Option<&'static [u8]> {
    let len = usize::try_from(len).ok()?;
    if len == 0 {
        return Some(&[]);
    }
    if !in_bounds(addr, len) {
        return None;
    }
    // SAFETY: the range is non-null and inside linear memory, which is never unmapped (it only
    // grows). The host owns these bytes; they stay readable until the host reuses them, and
    // every caller copies or consumes them before returning to the host.
    Some(unsafe { core::slice::from_raw_parts(addr.to_usize() as *const u8, len) })
}

/// Writes `text` and a terminating NUL into a new heap block; returns its address.
pub fn nul_terminated(text: &[u8]) -> Addr {
    let mut out: Vec<u8> = Vec::with_capacity(text.len().saturating_add(1));
    out.extend_from_slice(text);
    out.push(0);
    Addr::from_ptr(out.leak().as_ptr())
}
