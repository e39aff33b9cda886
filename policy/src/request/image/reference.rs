//! The reference grammar written plainly with the standard library's string methods, one pass
//! per rule: the oracle that [`ImageRef::parse`](super::ImageRef::parse), which fuses the
//! passes and scans bytes itself, is compared with.

use super::{DOCKER_HUB, ImageError, NAME_MAX, TAG_MAX, normalise_registry};
use alloc::{borrow::Cow, string::String, vec::Vec};

/// An image reference's registry, path, tag and digest.
pub type Parts<'a> = (Cow<'a, str>, &'a str, Option<&'a str>, Option<&'a str>);

/// `[registry/]repository[:tag][@digest]`, rule by rule in the order of
/// [`ImageRef::parse`](super::ImageRef::parse)'s errors.
pub fn parse(image: &str) -> Result<Parts<'_>, ImageError> {
    if image.is_empty() {
        return Err(ImageError::Empty);
    }
    let (rest, digest) = image
        .split_once('@')
        .map_or((image, None), |(r, d)| (r, Some(d)));
    if let Some(d) = digest {
        let ok = match d.split_once(':') {
            Some(("sha256", hex)) => hex.len() == 64 && lower_hex(hex),
            Some(("sha512", hex)) => hex.len() == 128 && lower_hex(hex),
            _ => false,
        };
        if !ok {
            return Err(ImageError::Digest);
        }
    }
    let (name, tag) = match rest.rsplit_once(':') {
        Some((n, t)) if !t.contains('/') => (n, Some(t)),
        _ => (rest, None),
    };
    if let Some(t) = tag {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let ok = t.len() <= TAG_MAX
            && t.starts_with(word)
            && t.chars().all(|c| word(c) || c == '.' || c == '-');
        if !ok {
            return Err(ImageError::Tag);
        }
    }
    match name.len() {
        0 => return Err(ImageError::Empty),
        n if n > NAME_MAX => return Err(ImageError::TooLong),
        _ => {}
    }
    let first = name.split_once('/');
    let names_registry = |f: &str| {
        f.contains(['.', ':']) || f == "localhost" || f.chars().any(|c| c.is_ascii_uppercase())
    };
    let (registry, path) = match first {
        Some((f, p)) if names_registry(f) => {
            if !registry_ok(f) {
                return Err(ImageError::Registry);
            }
            (normalise_registry(f), p)
        }
        _ => (Cow::Borrowed(DOCKER_HUB), name),
    };
    let image_id = name.len() == 64 && lower_hex(name);
    if image_id || !path.split('/').all(component_ok) {
        return Err(ImageError::Repository);
    }
    Ok((registry, path, tag, digest))
}

fn lower_hex(s: &str) -> bool {
    s.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f'))
}

/// `host[:port]`: DNS labels or `[ipv6]`, then digits.
fn registry_ok(registry: &str) -> bool {
    let (host_ok, port) = match registry.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once(']') {
            None => return false,
            Some((inside, "")) => return ipv6_ok(inside),
            Some((inside, after)) => match after.strip_prefix(':') {
                Some(port) => (ipv6_ok(inside), Some(port)),
                None => return false,
            },
        },
        None => {
            let (host, port) = registry
                .split_once(':')
                .map_or((registry, None), |(h, p)| (h, Some(p)));
            (host.split('.').all(label_ok), port)
        }
    };
    host_ok && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn ipv6_ok(inside: &str) -> bool {
    !inside.is_empty()
        && inside
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.')
}

/// `[a-zA-Z0-9]` or `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn label_ok(label: &str) -> bool {
    !label.is_empty()
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`: alternating runs of letters and separators.
fn component_ok(component: &str) -> bool {
    let letter = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    let mut runs = Vec::new();
    let mut run = String::new();
    for c in component.chars() {
        if !run.is_empty() && letter(c) != run.chars().all(letter) {
            runs.push(core::mem::take(&mut run));
        }
        run.push(c);
    }
    runs.push(run);
    // Letters first and last, so an odd number of runs, every other one a separator.
    runs.len() % 2 == 1
        && runs.iter().enumerate().all(|(i, r)| {
            if i % 2 == 0 {
                !r.is_empty() && r.chars().all(letter)
            } else {
                matches!(r.as_str(), "." | "_" | "__") || r.chars().all(|c| c == '-')
            }
        })
}
