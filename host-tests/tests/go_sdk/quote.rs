//! Go's `strconv.Quote` and `ast.Value.String()`: how the Go SDK writes its input as Rego text.

use serde_json::Value;

/// `strconv.Quote`: printable runes stay raw UTF-8; `\a \b \f \n \r \t \v`, `\\`, `\"`;
/// other control characters and DEL as `\xHH`; other non-printable runes as `\uHHHH` or
/// `\UHHHHHHHH`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if go_printable(c) => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// Go's `strconv.IsPrint`, closely enough for these inputs: letters, marks, numbers,
/// punctuation, symbols and the ASCII space; not controls, other spaces, format characters
/// (such as U+200B..U+200F, U+FEFF), surrogates or private use.
fn go_printable(c: char) -> bool {
    let u = c as u32;
    match u {
        0x20..=0x7e => true,
        0..=0x1f | 0x7f..=0xa0 | 0xad => false,
        0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x206f | 0x3000 | 0xfeff => false,
        0xe000..=0xf8ff | 0xfff0..=0xfffb | 0xf0000.. => false,
        _ => !c.is_control() && !c.is_whitespace(),
    }
}

/// `ast.Value.String()` of a JSON value (Rego text, Go-quoted strings).
pub fn rego_text(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => go_quote(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(rego_text).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(map) => {
            let items: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", go_quote(k), rego_text(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}
