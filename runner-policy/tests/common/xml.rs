//! A small XML reader, enough to check the structure of a JUnit report: elements, attributes,
//! text, the five entities and character references; it panics on anything malformed.

#[derive(Debug, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The root element of `text`.
pub fn parse(text: &str) -> Element {
    let rest = text
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .expect("an XML declaration");
    let (root, rest) = parse_element(rest.trim_start());
    assert!(
        rest.trim().is_empty(),
        "text after the root element: {rest}"
    );
    root
}

fn parse_element(text: &str) -> (Element, &str) {
    let text = text.strip_prefix('<').expect("an element");
    let end = text
        .find(|c: char| c.is_whitespace() || c == '>' || c == '/')
        .unwrap();
    let mut element = Element {
        name: text[..end].to_owned(),
        ..Element::default()
    };
    let mut rest = text[end..].trim_start();
    loop {
        if let Some(after) = rest.strip_prefix("/>") {
            return (element, after);
        }
        if let Some(after) = rest.strip_prefix('>') {
            rest = after;
            break;
        }
        let (name, after) = rest.split_once("=\"").expect("an attribute");
        let (value, after) = after.split_once('"').expect("a closed attribute value");
        element
            .attrs
            .push((name.trim().to_owned(), unescape(value)));
        rest = after.trim_start();
    }
    loop {
        let close = format!("</{}>", element.name);
        if let Some(after) = rest.strip_prefix(close.as_str()) {
            return (element, after);
        }
        if rest.starts_with("</") {
            panic!("mismatched closing tag for {}: {rest}", element.name);
        }
        if rest.starts_with('<') {
            let (child, after) = parse_element(rest);
            element.children.push(child);
            rest = after.trim_start();
        } else {
            let end = rest.find('<').expect("a closing tag");
            element.text.push_str(&unescape(&rest[..end]));
            rest = &rest[end..];
        }
    }
}

fn unescape(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let (entity, after) = rest[start + 1..].split_once(';').expect("a closed entity");
        match entity {
            "amp" => out.push('&'),
            "lt" => out.push('<'),
            "gt" => out.push('>'),
            "quot" => out.push('"'),
            "apos" => out.push('\''),
            n => {
                let code = n.strip_prefix('#').expect("a known entity");
                out.push(char::from_u32(code.parse().unwrap()).unwrap());
            }
        }
        rest = after;
    }
    assert!(!rest.contains('<'), "a raw `<` in text: {text}");
    out.push_str(rest);
    out
}
