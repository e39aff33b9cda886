//! Rego value text back into JSON (`ast.ParseTerm`, enough for results).

use serde_json::{Map, Value};

/// A Rego value: JSON plus sets.
#[derive(Debug, Clone, PartialEq)]
pub enum Rego {
    Json(Value),
    Set(Vec<Rego>),
    Object(Vec<(Rego, Rego)>),
    Array(Vec<Rego>),
}

impl Rego {
    pub fn into_json(self) -> Value {
        match self {
            Rego::Json(v) => v,
            Rego::Set(items) | Rego::Array(items) => {
                Value::Array(items.into_iter().map(Rego::into_json).collect())
            }
            Rego::Object(pairs) => {
                let mut map = Map::new();
                for (k, v) in pairs {
                    let key = match k.into_json() {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    map.insert(key, v.into_json());
                }
                Value::Object(map)
            }
        }
    }
}

pub struct RegoParser<'a> {
    s: &'a [u8],
    i: usize,
}

impl RegoParser<'_> {
    pub fn parse(text: &str) -> Rego {
        let mut p = RegoParser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value();
        p.ws();
        assert_eq!(p.i, p.s.len(), "trailing text in {text}");
        v
    }

    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        if self.s.get(self.i) == Some(&b) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn value(&mut self) -> Rego {
        self.ws();
        let rest = &self.s[self.i..];
        match rest[0] {
            b'{' => {
                self.i += 1;
                if self.eat(b'}') {
                    return Rego::Object(Vec::new());
                }
                let first = self.value();
                if self.eat(b':') {
                    let mut pairs = vec![(first, self.value())];
                    while self.eat(b',') {
                        let k = self.value();
                        assert!(self.eat(b':'), "object key without value");
                        pairs.push((k, self.value()));
                    }
                    assert!(self.eat(b'}'), "unclosed object");
                    Rego::Object(pairs)
                } else {
                    let mut items = vec![first];
                    while self.eat(b',') {
                        items.push(self.value());
                    }
                    assert!(self.eat(b'}'), "unclosed set");
                    Rego::Set(items)
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    items.push(self.value());
                    while self.eat(b',') {
                        items.push(self.value());
                    }
                    assert!(self.eat(b']'), "unclosed array");
                }
                Rego::Array(items)
            }
            b'"' => Rego::Json(Value::String(self.string())),
            _ if rest.starts_with(b"set()") => {
                self.i += 5;
                Rego::Set(Vec::new())
            }
            _ => {
                // null, true, false or a number: a JSON scalar up to a delimiter.
                let end = rest
                    .iter()
                    .position(|b| matches!(b, b',' | b']' | b'}' | b':') || b.is_ascii_whitespace())
                    .unwrap_or(rest.len());
                let token = std::str::from_utf8(&rest[..end]).unwrap();
                self.i += end;
                Rego::Json(serde_json::from_str(token).unwrap_or_else(|_| panic!("{token}")))
            }
        }
    }

    /// `n` hex digits.
    fn hex(&mut self, n: usize) -> u32 {
        let h = std::str::from_utf8(&self.s[self.i..self.i + n]).unwrap();
        self.i += n;
        u32::from_str_radix(h, 16).unwrap()
    }

    /// A Go- or JSON-quoted string.
    fn string(&mut self) -> String {
        self.i += 1;
        let mut bytes = Vec::new();
        loop {
            let b = self.s[self.i];
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(bytes).unwrap(),
                b'\\' => {
                    let e = self.s[self.i];
                    self.i += 1;

                    let c = match e {
                        b'a' => 7,
                        b'b' => 8,
                        b'f' => 12,
                        b'n' => 10,
                        b'r' => 13,
                        b't' => 9,
                        b'v' => 11,
                        b'x' => {
                            bytes.push(u8::try_from(self.hex(2)).unwrap());
                            continue;
                        }
                        b'u' => {
                            let hi = self.hex(4);
                            if (0xd800..0xdc00).contains(&hi) && self.s[self.i] == b'\\' {
                                self.i += 2;
                                let lo = self.hex(4);
                                0x10000 + ((hi - 0xd800) << 10) + (lo - 0xdc00)
                            } else {
                                hi
                            }
                        }
                        b'U' => self.hex(8),
                        other => u32::from(other), // \" \\ \/
                    };
                    let mut buf = [0; 4];
                    let c = char::from_u32(c).unwrap();
                    bytes.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                b => bytes.push(b),
            }
        }
    }
}
