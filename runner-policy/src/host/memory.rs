//! Bounds-checked access to the module's linear memory.

use super::PAGE;
use super::error::{HostError, HostResult, WasmError};
use super::imports::read_cstr;
use super::policy::Policy;
use super::types::Addr;

impl Policy {
    /// Copies `bytes` into linear memory at `addr`, bounds-checked.
    ///
    /// # Errors
    /// When the range is outside memory.
    pub fn write(&mut self, addr: Addr, bytes: &[u8]) -> HostResult<()> {
        self.memory
            .write(&mut self.store, addr.offset(), bytes)
            .map_err(|_| {
                HostError::memory(format!(
                    "writing {} bytes at {:#x} runs past memory ({} bytes)",
                    bytes.len(),
                    addr.0,
                    self.memory_bytes()
                ))
            })
    }

    /// The NUL-terminated string at `addr` (without the NUL), bounds-checked.
    ///
    /// # Errors
    /// When `addr` is outside memory or no NUL follows it.
    pub fn read_cstr(&self, addr: Addr) -> HostResult<&[u8]> {
        read_cstr(self.memory.data(&self.store), addr)
    }

    /// Grows memory so that `end` bytes fit.
    pub(crate) fn ensure_memory(&mut self, end: u64) -> HostResult<()> {
        let have = self.memory.data_size(&self.store) as u64;
        if end > have {
            let pages = (end - have).div_ceil(PAGE);
            self.memory
                .grow(&mut self.store, pages)
                .map_err(|e| HostError::Memory {
                    what: format!("cannot grow memory to {end} bytes (limit reached?)"),
                    source: Some(WasmError::from(e)),
                })?;
        }
        Ok(())
    }

    /// Fills the module's stack with [`STACK_PAINT`], so that [`Policy::stack_used`] can tell
    /// how deep the calls after it went. Call it between calls only: the stack is dead then.
    pub fn paint_stack(&mut self) {
        let memory = self.memory.data_mut(&mut self.store);
        let end = STACK_BYTES.min(memory.len());
        if let Some(stack) = memory.get_mut(..end) {
            stack.fill(STACK_PAINT);
        }
    }

    /// The most stack the calls since [`Policy::paint_stack`] used, in bytes: from the top of the
    /// stack down to the lowest byte they changed.
    pub fn stack_used(&self) -> usize {
        let memory = self.memory.data(&self.store);
        let stack = memory
            .get(..STACK_BYTES.min(memory.len()))
            .unwrap_or_default();
        stack
            .iter()
            .position(|&b| b != STACK_PAINT)
            .map_or(0, |lowest| stack.len() - lowest)
    }
}

/// The module's stack: the first 64 KiB of memory, growing down from 65,536 towards 0, below the
/// data (the linker's `-zstack-size=65536` in `.cargo/config.toml`; wasm-ld puts the stack first).
/// Nothing guards its bottom: a call deeper than this wraps the stack pointer and traps. The
/// module is optimised on the assumption that the lowest 1 KiB is never reached
/// (`--low-memory-unused` in `xtask/src/dist.rs`); `host-tests/tests/host.rs` checks the depth.
pub const STACK_BYTES: usize = 65_536;

/// The byte [`Policy::paint_stack`] fills the stack with: not 0, which the stack's own writes
/// often are.
pub const STACK_PAINT: u8 = 0xa5;

pub(crate) fn len_u32(len: usize) -> HostResult<u32> {
    u32::try_from(len).map_err(|_| HostError::TooLarge("longer than 4 GiB"))
}
