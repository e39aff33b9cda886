//! The evaluation and value exports of the ABI, one wrapper each (the heap exports live in
//! `heap`). Every wrapper accepts any i32 the host passes and answers with a well-formed value.

use alloc::{
    borrow::{Cow, ToOwned},
    format,
    string::ToString,
};

use crate::request::json::Doc;

use super::cache;
use super::heap;
use super::mem::{self, Addr};
use super::path;
use super::rego;
use super::tree::{Object, Tree};
use super::value::{self, Tagged, Value};
use crate::decision::Decision;
use crate::{Entrypoint, Outcome};

/// Output format 1 of `opa_eval`: Rego value text. Anything else is JSON (format 0).
const FORMAT_VALUE: i32 = 1;

/// An evaluation context (ABI 1.0 ctx path).
#[derive(Debug)]
struct Ctx {
    input: Addr,
    data: Addr,
    entrypoint: i32,
    result: Addr,
}

impl Tagged for Ctx {
    const MAGIC: u32 = 0x4f50_4143; // "OPAC"
}

/// The outcome for `input` (JSON text, or Rego value text) and `data`, with the entrypoint to
/// render it at.
///
/// An id that names no entrypoint gets a denial in the `runners/decision` shape: the caller
/// asked for something this module does not have, so it fails closed, and the decision shape is
/// the one that can say why. (Treating it as `runners/main` could allow a request.)
fn run(entrypoint: i32, input: &[u8], data: Option<&[u8]>) -> (Outcome, Entrypoint) {
    let Some(entrypoint) = Entrypoint::from_id(entrypoint) else {
        return (unknown_entrypoint(entrypoint), Entrypoint::Decision);
    };
    let mut outcome = cache::decide(input, data);
    // Input that is not JSON may be Rego value text (the OPA Go SDK's format).
    if outcome.not_json
        && let Some(tree) = rego::parse(input)
    {
        outcome = cache::decide(&tree.text(), data);
    }
    (outcome, entrypoint)
}

/// The result set for `input` and `data` (see [`run`]).
fn result_set(entrypoint: i32, input: &[u8], data: Option<&[u8]>) -> Value {
    let (outcome, entrypoint) = run(entrypoint, input, data);
    Value::ResultSet(outcome.render(entrypoint))
}

/// The denial for an entrypoint id this module does not have (the policy's own `valid-request`
/// decision, so the ABI layer adds no policy logic).
fn unknown_entrypoint(id: i32) -> Outcome {
    let mut msg = format!("unknown entrypoint id {id}; this module has ");
    for (i, e) in Entrypoint::ALL.iter().enumerate() {
        let sep = if i > 0 { ", " } else { "" };
        msg.push_str(&format!("{sep}{} = {}", e.name(), e.id()));
    }
    Outcome::unjudged(Decision::invalid("entrypoint", msg))
}

/// The input value at `addr` as JSON text; empty (a malformed input) if there is none.
fn input_text(addr: Addr) -> Cow<'static, [u8]> {
    match value::load_value(addr) {
        Some(Value::Json(text)) => Cow::Borrowed(text.as_slice()),
        Some(other) => Cow::Owned(other.json_text().into_owned()),
        None => Cow::Borrowed(&[]),
    }
}

/// The data value at `addr` as JSON text; `None` for no data (or an address holding no value).
fn data_text(addr: Addr) -> Option<Cow<'static, [u8]>> {
    value::load_value(addr).map(|v| v.json_text())
}

/// Writes `text` NUL-terminated and returns its address.
fn dump(text: &[u8]) -> Addr {
    mem::nul_terminated(text)
}

/// Text without the NUL terminators some hosts count in its size (matrix-org's `opa-wasm` passes
/// C strings with the NUL included; OPA's own C parser tolerates it, so this module does too).
fn without_nul(text: &[u8]) -> &[u8] {
    let end = text
        .iter()
        .rposition(|b| *b != 0)
        .map_or(0, |i| i.saturating_add(1));
    text.get(..end).unwrap_or(text)
}

/// `value_addr opa_json_parse(str_addr, size)`: parses JSON text; 0 if it is not JSON.
#[unsafe(no_mangle)]
pub extern "C" fn opa_json_parse(addr: Addr, len: i32) -> Addr {
    match mem::bytes(addr, len).map(without_nul) {
        Some(text) if Doc::parse(text).is_ok() => value::store_value(Value::Json(text.to_vec())),
        _ => Addr::NULL,
    }
}

/// `value_addr opa_value_parse(str_addr, size)`: parses Rego value text (JSON, sets, Go-quoted
/// and raw strings); 0 if it is not a value.
#[unsafe(no_mangle)]
pub extern "C" fn opa_value_parse(addr: Addr, len: i32) -> Addr {
    match mem::bytes(addr, len).map(without_nul).and_then(rego::parse) {
        Some(tree) => value::store_value(Value::Tree(tree)),
        None => Addr::NULL,
    }
}

/// `str_addr opa_json_dump(value_addr)`: the value as NUL-terminated JSON text (`null` for an
/// address that holds no value).
#[unsafe(no_mangle)]
pub extern "C" fn opa_json_dump(addr: Addr) -> Addr {
    match value::load_value(addr) {
        Some(value) => dump(&value.json_text()),
        None => dump(b"null"),
    }
}

/// `str_addr opa_value_dump(value_addr)`: the value as NUL-terminated Rego value text (`null`
/// for an address that holds no value).
#[unsafe(no_mangle)]
pub extern "C" fn opa_value_dump(addr: Addr) -> Addr {
    match value::load_value(addr) {
        Some(value) => dump(&value.value_text()),
        None => dump(b"null"),
    }
}

/// `void opa_value_free(value_addr)`: a no-op; values go with the next heap reset.
#[unsafe(no_mangle)]
pub extern "C" fn opa_value_free(_addr: Addr) {}

/// `int32 opa_value_add_path(base_value_addr, path_value_addr, value_addr)`.
#[unsafe(no_mangle)]
pub extern "C" fn opa_value_add_path(base: Addr, path: Addr, value: Addr) -> i32 {
    path::add(base, path, value)
}

/// `int32 opa_value_remove_path(base_value_addr, path_value_addr)`.
#[unsafe(no_mangle)]
pub extern "C" fn opa_value_remove_path(base: Addr, path: Addr) -> i32 {
    path::remove(base, path)
}

/// `value_addr entrypoints(void)`: `{"runners/main": 0, ...}`, from [`Entrypoint::ALL`].
#[unsafe(no_mangle)]
pub extern "C" fn entrypoints() -> Addr {
    let entries = Entrypoint::ALL
        .iter()
        .map(|e| (e.name().to_owned(), Tree::Number(e.id().to_string())))
        .collect();
    value::store_value(Value::Tree(Tree::Object(Object::from_entries(entries))))
}

/// `value_addr builtins(void)`: `{}` - the policy needs no host builtins.
#[unsafe(no_mangle)]
pub extern "C" fn builtins() -> Addr {
    value::store_value(Value::Tree(Tree::Object(Object::default())))
}

/// `ctx_addr opa_eval_ctx_new(void)`: a context with no input, no data and entrypoint 0.
#[unsafe(no_mangle)]
pub extern "C" fn opa_eval_ctx_new() -> Addr {
    value::store(Ctx {
        input: Addr::NULL,
        data: Addr::NULL,
        entrypoint: 0,
        result: Addr::NULL,
    })
}

/// `void opa_eval_ctx_set_input(ctx_addr, value_addr)`. Ignored for an invalid context.
#[unsafe(no_mangle)]
pub extern "C" fn opa_eval_ctx_set_input(ctx: Addr, input: Addr) {
    if let Some(ctx) = value::load::<Ctx>(ctx) {
        ctx.input = input;
    }
}

/// `void opa_eval_ctx_set_data(ctx_addr, value_addr)`. Ignored for an invalid context.
#[unsafe(no_mangle)]
pub extern "C" fn opa_eval_ctx_set_data(ctx: Addr, data: Addr) {
    if let Some(ctx) = value::load::<Ctx>(ctx) {
        ctx.data = data;
    }
}

/// `void opa_eval_ctx_set_entrypoint(ctx_addr, entrypoint_id)`. Ignored for an invalid context.
#[unsafe(no_mangle)]
pub extern "C" fn opa_eval_ctx_set_entrypoint(ctx: Addr, entrypoint: i32) {
    if let Some(ctx) = value::load::<Ctx>(ctx) {
        ctx.entrypoint = entrypoint;
    }
}

/// Evaluates a context and stores its result set in it.
fn eval_ctx(ctx: &mut Ctx) -> Addr {
    let input = input_text(ctx.input);
    let data = data_text(ctx.data);
    ctx.result = value::store_value(result_set(ctx.entrypoint, &input, data.as_deref()));
    ctx.result
}

/// `int32 eval(ctx_addr)`: evaluates; 0, or 1 (`OPA_ERR_INTERNAL`) for an invalid context.
#[unsafe(no_mangle)]
pub extern "C" fn eval(ctx: Addr) -> i32 {
    match value::load::<Ctx>(ctx) {
        Some(ctx) => {
            eval_ctx(ctx);
            0
        }
        None => path::INTERNAL,
    }
}

/// `value_addr opa_eval_ctx_get_result(ctx_addr)`: the result set. A context not evaluated yet
/// is evaluated now, and an invalid one answers as a context without input (a denial), so the
/// host always gets a result set.
#[unsafe(no_mangle)]
pub extern "C" fn opa_eval_ctx_get_result(ctx: Addr) -> Addr {
    match value::load::<Ctx>(ctx) {
        Some(ctx) if !ctx.result.is_null() => ctx.result,
        Some(ctx) => eval_ctx(ctx),
        None => value::store_value(result_set(0, &[], None)),
    }
}

/// `str_addr opa_eval(reserved, entrypoint_id, data_value_addr, input_str_addr, input_len,
/// heap_ptr, format)`: one-off evaluation (ABI 1.2).
///
/// Sets the heap pointer to `heap_ptr` (0 keeps it; it is raised past the input if the two
/// overlap), evaluates the input text (JSON or Rego value text) against the data value
/// (0: none) and returns the NUL-terminated result set: `[{"result":X}]` in format 0 (JSON),
/// `{{"result":X}}` in format 1 (Rego value text).
#[unsafe(no_mangle)]
pub extern "C" fn opa_eval(
    _reserved: i32,
    entrypoint: i32,
    data: Addr,
    input: Addr,
    input_len: i32,
    heap_ptr: Addr,
    format: i32,
) -> Addr {
    if !heap_ptr.is_null() {
        heap::set_top(heap_ptr.to_usize());
    }
    let input = mem::bytes(input, input_len).map_or(&[][..], without_nul);
    // Never hand out the input's own bytes as heap.
    let input_end = (input.as_ptr() as usize).saturating_add(input.len());
    if !input.is_empty() && input_end > heap::top() {
        heap::set_top(input_end);
    }
    let data = data_text(data);
    let (outcome, entrypoint) = run(entrypoint, input, data.as_deref());
    // The result is rendered inside its frame: no copy of it into a result set, then another
    // to add the NUL.
    let frame = if format == FORMAT_VALUE {
        &value::VALUE_SET
    } else {
        &value::JSON_SET
    };
    let text = outcome.render_between(entrypoint, frame.head, frame.tail_nul);
    Addr::from_ptr(text.leak().as_ptr())
}
