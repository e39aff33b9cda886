//! The heap: one bump allocator the host can reset.
//!
//! OPA hosts save the heap pointer after loading data (`opa_heap_ptr_get`) and set it back
//! before every evaluation (`opa_heap_ptr_set`), so everything an evaluation allocates is
//! reclaimed at once. A bump allocator is the natural fit: allocation moves a pointer up,
//! `dealloc` only reclaims the most recent block, and `realloc` grows the most recent block in
//! place (a 3 MiB input read into a growing buffer costs linear, not quadratic, copying).
//!
//! The heap starts at the linker's `__heap_base` and memory grows on demand with
//! `memory.grow`. The host may grow the memory too (the JS SDK does, to write the input), so
//! the size is read from the memory itself every time, never cached.
//!
//! No static may own heap memory: a heap reset would clobber it behind its back. What must
//! outlive resets (the settings kept between evaluations, see `cache`) is built by [`pinned`]
//! in small areas of static memory instead, below `__heap_base`, where no host writes and no
//! reset reaches.

use core::alloc::{GlobalAlloc, Layout};
use core::arch::wasm32;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::mem::Addr;

/// Bytes in one wasm page.
const PAGE: usize = 65536;

/// The next free byte; 0 until first use, then never below `__heap_base`.
/// (wasm32 has no threads here: the atomic is a plain load/store, and keeps the static `Sync`
/// without `unsafe`.)
static TOP: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" {
    /// Defined by `wasm-ld`: the first byte after the stack and the static data.
    static __heap_base: u8;
}

/// The first byte the heap may use.
fn heap_base() -> usize {
    // SAFETY: only the address of the linker-defined symbol is taken; it is never read.
    (&raw const __heap_base) as usize
}

/// The current top of the heap.
#[inline(always)]
pub fn top() -> usize {
    match TOP.load(Ordering::Relaxed) {
        0 => heap_base(),
        top => top,
    }
}

/// Sets the top of the heap (`opa_heap_ptr_set`). Addresses below `__heap_base` would hand out
/// the stack and static data, so they are raised to it.
pub fn set_top(addr: usize) {
    TOP.store(addr.max(heap_base()), Ordering::Relaxed);
}

/// Makes sure memory reaches `end` (exclusive), growing it if needed. In place in the
/// allocator: one call fewer for every allocation.
#[inline(always)]
fn ensure(end: usize) -> bool {
    let size = wasm32::memory_size::<0>().saturating_mul(PAGE);
    end <= size || grow(end, size)
}

/// Grows memory from `size` bytes to reach `end` (exclusive).
#[cold]
#[inline(never)]
fn grow(end: usize, size: usize) -> bool {
    let missing = end.saturating_sub(size);
    let pages = missing.div_ceil(PAGE);
    wasm32::memory_grow::<0>(pages) != usize::MAX
}

/// Bytes of one pinned area: one kept settings entry with its text. Settings with a dozen
/// runners take about 4 KiB; larger ones are simply read again for every evaluation.
const AREA_BYTES: usize = 16 * 1024;

/// The pinned areas, one per kept entry. (They count towards the memory the module needs at
/// start, which must stay within 2 pages.)
const AREAS: usize = 2;

/// Bytes of all pinned areas.
const PINNED_BYTES: usize = AREA_BYTES * AREAS;

/// The pinned areas: static memory handed out only by [`pinned`].
#[repr(align(16))]
struct Pinned(UnsafeCell<[u8; PINNED_BYTES]>);

// SAFETY: wasm32 here has no threads; the bytes are only reached through the allocator.
unsafe impl Sync for Pinned {}

static PINNED: Pinned = Pinned(UnsafeCell::new([0; PINNED_BYTES]));
/// Where the pinned area in use starts, from the first one's first byte.
static AREA_OFFSET: AtomicUsize = AtomicUsize::new(0);
/// Bytes of the pinned area in use taken.
static PINNED_USED: AtomicUsize = AtomicUsize::new(0);
/// Allocations go to the pinned area (inside [`pinned`]).
static PINNING: AtomicBool = AtomicBool::new(false);
/// An allocation made while pinning landed outside the pinned area.
static SPILLED: AtomicBool = AtomicBool::new(false);

/// The first byte of the pinned area in use.
fn pinned_start() -> usize {
    (PINNED.0.get() as usize).saturating_add(AREA_OFFSET.load(Ordering::Relaxed))
}

/// The end (exclusive) of the pinned area in use.
fn pinned_end() -> usize {
    pinned_start().saturating_add(AREA_BYTES)
}

/// Whether `ptr` lies in a pinned area.
fn is_pinned(ptr: *mut u8) -> bool {
    (ptr as usize)
        .checked_sub(PINNED.0.get() as usize)
        .is_some_and(|offset| offset < PINNED_BYTES)
}

/// The top of the pinned area in use.
fn pinned_top() -> usize {
    pinned_start().saturating_add(PINNED_USED.load(Ordering::Relaxed))
}

/// Sets the top of the pinned area in use.
fn set_pinned_top(addr: usize) {
    PINNED_USED.store(addr.saturating_sub(pinned_start()), Ordering::Relaxed);
}

/// Allocates from the pinned area; null if it is full.
fn bump_pinned(size: usize, align: usize) -> *mut u8 {
    let mask = align.saturating_sub(1);
    let end_of_area = pinned_end();
    match pinned_top().checked_add(mask).map(|a| a & !mask) {
        Some(start)
            if start
                .checked_add(size)
                .is_some_and(|end| end <= end_of_area) =>
        {
            set_pinned_top(start.saturating_add(size));
            start as *mut u8
        }
        _ => core::ptr::null_mut(),
    }
}

/// Runs `f` with every allocation it makes served from pinned area `area` (0 or 1), which is
/// emptied first: whatever was built there before must have been dropped or forgotten by the
/// caller. Returns `f`'s result and whether all of it fits in the area, so that it may be kept;
/// a result that does not fit is valid only until the heap is reset or the area used again.
pub fn pinned<T>(area: usize, f: impl FnOnce() -> T) -> (T, bool) {
    AREA_OFFSET.store(
        AREA_BYTES.saturating_mul(area.min(AREAS.saturating_sub(1))),
        Ordering::Relaxed,
    );
    PINNED_USED.store(0, Ordering::Relaxed);
    SPILLED.store(false, Ordering::Relaxed);
    PINNING.store(true, Ordering::Relaxed);
    let value = f();
    PINNING.store(false, Ordering::Relaxed);
    (value, !SPILLED.load(Ordering::Relaxed))
}

/// Allocates `size` bytes aligned to `align` (a power of two); null if memory is exhausted.
pub fn bump(size: usize, align: usize) -> *mut u8 {
    if PINNING.load(Ordering::Relaxed) {
        let ptr = bump_pinned(size, align);
        if !ptr.is_null() {
            return ptr;
        }
        // Served from the heap: correct for now, but a heap reset would take it.
        SPILLED.store(true, Ordering::Relaxed);
    }
    let mask = align.saturating_sub(1);
    let Some(start) = top().checked_add(mask).map(|a| a & !mask) else {
        return core::ptr::null_mut();
    };
    let Some(end) = start.checked_add(size) else {
        return core::ptr::null_mut();
    };
    if !ensure(end) {
        return core::ptr::null_mut();
    }
    TOP.store(end, Ordering::Relaxed);
    start as *mut u8
}

/// The global allocator of the module.
pub struct BumpAllocator;

// SAFETY: `bump` returns blocks that are in bounds of the memory, aligned as asked and
// disjoint from every live block (the top only moves down over the most recent block when
// that block is freed, or when the host resets the heap - which, by the ABI, frees everything
// allocated after the saved pointer).
unsafe impl GlobalAlloc for BumpAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(layout.size(), layout.align())
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // Only the most recent block can be given back; the rest waits for a heap reset (or,
        // in the pinned area, for the next `pinned`).
        if is_pinned(ptr) {
            if (ptr as usize).checked_add(layout.size()) == Some(pinned_top()) {
                set_pinned_top(ptr as usize);
            }
            return;
        }
        if (ptr as usize).checked_add(layout.size()) == Some(top()) {
            TOP.store(ptr as usize, Ordering::Relaxed);
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let start = ptr as usize;
        let pinning = PINNING.load(Ordering::Relaxed);
        if is_pinned(ptr) {
            let end_of_area = pinned_end();
            if pinning
                && start.checked_add(layout.size()) == Some(pinned_top())
                && start
                    .checked_add(new_size)
                    .is_some_and(|end| end <= end_of_area)
            {
                set_pinned_top(start.saturating_add(new_size));
                return ptr;
            }
        } else if start.checked_add(layout.size()) == Some(top()) {
            if pinning {
                // A heap block grown while pinning stays on the heap.
                SPILLED.store(true, Ordering::Relaxed);
            }
            // The most recent block grows or shrinks in place.
            let Some(end) = start.checked_add(new_size) else {
                return core::ptr::null_mut();
            };
            if !ensure(end) {
                return core::ptr::null_mut();
            }
            TOP.store(end, Ordering::Relaxed);
            return ptr;
        }
        let new = bump(new_size, layout.align());
        if !new.is_null() {
            // SAFETY: both blocks are live, in bounds and disjoint (a fresh block lies above
            // the top of its area, and the old block is below that top or in the other area).
            unsafe { core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
        }
        new
    }
}

#[global_allocator]
static ALLOCATOR: BumpAllocator = BumpAllocator;

/// `addr opa_malloc(int32 size)`: allocates `size` bytes; 0 for a negative size or when memory
/// is exhausted.
#[unsafe(no_mangle)]
pub extern "C" fn opa_malloc(size: i32) -> Addr {
    let Ok(size) = usize::try_from(size) else {
        return Addr::NULL;
    };
    Addr::from_ptr(bump(size, 8))
}

/// `void opa_free(addr)`: a no-op. A bump heap frees everything at the next heap reset.
#[unsafe(no_mangle)]
pub extern "C" fn opa_free(_addr: Addr) {}

/// `addr opa_heap_ptr_get(void)`: the current top of the heap.
#[unsafe(no_mangle)]
pub extern "C" fn opa_heap_ptr_get() -> Addr {
    Addr::from_usize(top())
}

/// `void opa_heap_ptr_set(addr)`: moves the top of the heap (hosts reset it between
/// evaluations). Raised to `__heap_base` if lower.
#[unsafe(no_mangle)]
pub extern "C" fn opa_heap_ptr_set(addr: Addr) {
    set_top(addr.to_usize());
}

/// `void opa_heap_blocks_stash(void)`: a no-op. OPA's allocator keeps a free list that a heap
/// reset would corrupt, so hosts stash it around resets; a bump heap has no free list.
#[unsafe(no_mangle)]
pub extern "C" fn opa_heap_blocks_stash() {}

/// `void opa_heap_blocks_restore(void)`: a no-op, for the same reason as `opa_heap_blocks_stash`.
#[unsafe(no_mangle)]
pub extern "C" fn opa_heap_blocks_restore() {}

/// `void opa_heap_stash_clear(void)`: a no-op, for the same reason as `opa_heap_blocks_stash`.
#[unsafe(no_mangle)]
pub extern "C" fn opa_heap_stash_clear() {}
