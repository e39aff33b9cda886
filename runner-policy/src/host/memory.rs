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
}

pub(crate) fn len_u32(len: usize) -> HostResult<u32> {
    u32::try_from(len).map_err(|_| HostError::TooLarge("longer than 4 GiB"))
}
