//! The host functions every OPA module imports (`env.opa_abort`, `env.opa_println`,
//! `env.opa_builtin0..4`), all registered here.
//!
//! The policy needs none of them: it never aborts (failures are denials) and uses no host
//! builtins (`builtins()` is `{}`). Hosts still expect to provide them, and some reject a module
//! that does not import them, so [`HOST_IMPORTS`] keeps them alive through the linker.

use super::mem::Addr;

#[link(wasm_import_module = "env")]
unsafe extern "C" {
    /// `void opa_abort(addr)`: an internal error; `addr` is a NUL-terminated message.
    fn opa_abort(addr: Addr);
    /// `void opa_println(addr)`: prints the NUL-terminated message at `addr`.
    fn opa_println(addr: Addr);
    /// `addr opa_builtin0(builtin_id, ctx)`.
    fn opa_builtin0(builtin_id: i32, ctx: Addr) -> Addr;
    /// `addr opa_builtin1(builtin_id, ctx, _1)`.
    fn opa_builtin1(builtin_id: i32, ctx: Addr, a: Addr) -> Addr;
    /// `addr opa_builtin2(builtin_id, ctx, _1, _2)`.
    fn opa_builtin2(builtin_id: i32, ctx: Addr, a: Addr, b: Addr) -> Addr;
    /// `addr opa_builtin3(builtin_id, ctx, _1, _2, _3)`.
    fn opa_builtin3(builtin_id: i32, ctx: Addr, a: Addr, b: Addr, c: Addr) -> Addr;
    /// `addr opa_builtin4(builtin_id, ctx, _1, _2, _3, _4)`.
    fn opa_builtin4(builtin_id: i32, ctx: Addr, a: Addr, b: Addr, c: Addr, d: Addr) -> Addr;
}

/// The imports, as function pointers.
#[allow(dead_code)] // only read by the linker, through `#[used]`
pub struct HostImports {
    abort: unsafe extern "C" fn(Addr),
    println: unsafe extern "C" fn(Addr),
    builtin0: unsafe extern "C" fn(i32, Addr) -> Addr,
    builtin1: unsafe extern "C" fn(i32, Addr, Addr) -> Addr,
    builtin2: unsafe extern "C" fn(i32, Addr, Addr, Addr) -> Addr,
    builtin3: unsafe extern "C" fn(i32, Addr, Addr, Addr, Addr) -> Addr,
    builtin4: unsafe extern "C" fn(i32, Addr, Addr, Addr, Addr, Addr) -> Addr,
}

/// Keeps every import in the module (a table of pointers the linker must not drop); nothing
/// calls through it.
#[used]
pub static HOST_IMPORTS: HostImports = HostImports {
    abort: opa_abort,
    println: opa_println,
    builtin0: opa_builtin0,
    builtin1: opa_builtin1,
    builtin2: opa_builtin2,
    builtin3: opa_builtin3,
    builtin4: opa_builtin4,
};
