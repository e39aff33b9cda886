//! The reference grammar written plainly, one pass per rule: the oracle that
//! [`ImageRef::parse`](super::ImageRef::parse), which fuses the passes, is compared with.

use super::{DOCKER_HUB, ImageError, ImageRef, NAME_MAX, TAG_MAX, normalise_registry};
use crate::request::json::{find_byte, rfind_byte};
use std::borrow::Cow;

pub fn parse(image: &str) -> Result<ImageRef<'_>, ImageError> {
    if image.is_empty() {
        return Err(ImageError::Empty);
    }
    let (name_tag, digest) = match split_first(image, b'@') {
        Some((name_tag, digest)) => (name_tag, Some(digest)),
        None => (image, None),
    };
    if digest.is_some_and(|d| !valid_digest(d)) {
        return Err(ImageError::Digest);
    }
    // A `:` after the last `/` starts the tag; one before it belongs to a registry port.
    let (name, tag) = match split_last(name_tag, b':') {
        Some((name, tag)) if !has(tag, b'/') => (name, Some(tag)),
        _ => (name_tag, None),
    };
    if tag.is_some_and(|t| !valid_tag(t)) {
        return Err(ImageError::Tag);
    }
    if name.is_empty() {
        return Err(ImageError::Empty);
    }
    if name.len() > NAME_MAX {
        return Err(ImageError::TooLong);
    }
    let (registry, path) = match split_first(name, b'/') {
        Some((first, rest)) if is_registry_component(first) => {
            if !valid_registry(first) {
                return Err(ImageError::Registry);
            }
            (normalise_registry(first), rest)
        }
        _ => (Cow::Borrowed(DOCKER_HUB), name),
    };
    if !path
        .as_bytes()
        .split(|&b| b == b'/')
        .all(valid_path_component)
        || is_image_id(name)
    {
        return Err(ImageError::Repository);
    }
    Ok(ImageRef {
        registry,
        path,
        tag,
        digest,
    })
}

/// Whether a first path component names a registry rather than a repository path.
fn is_registry_component(first: &str) -> bool {
    first.bytes().any(|b| b == b'.' || b == b':')
        || first == "localhost"
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

/// `host[:port]` with a DNS name, IPv4 address or bracketed IPv6 address.
fn valid_registry(registry: &str) -> bool {
    let (host_ok, port) = if let Some(rest) = registry.strip_prefix('[') {
        let Some((inside, after)) = split_first(rest, b']') else {
            return false;
        };
        let ipv6 = !inside.is_empty()
            && inside
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        if after.is_empty() {
            return ipv6;
        }
        match after.strip_prefix(':') {
            Some(port) => (ipv6, Some(port)),
            None => return false,
        }
    } else {
        let (host, port) = match split_first(registry, b':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        };
        let labels = host.as_bytes().split(|&b| b == b'.');
        (labels.into_iter().all(valid_host_label), port)
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// `[a-zA-Z0-9]` or `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn valid_host_label(label: &[u8]) -> bool {
    label.first().is_some_and(|&b| b != b'-')
        && label.last().is_some_and(|&b| b != b'-')
        && label
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn valid_path_component(bytes: &[u8]) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(|&b| alnum(b)) || !bytes.last().is_some_and(|&b| alnum(b)) {
        return false;
    }
    // Each run of other bytes (never first or last) must be one separator.
    let mut run_start = None;
    for (i, &b) in bytes.iter().enumerate() {
        if !alnum(b) {
            run_start.get_or_insert(i);
        } else if let Some(start) = run_start.take() {
            let sep = bytes.get(start..i).unwrap_or_default();
            let ok = matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|&c| c == b'-');
            if !ok {
                return false;
            }
        }
    }
    true
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    tag.len() <= TAG_MAX
        && tag.as_bytes().first().is_some_and(|&b| word(b))
        && tag.bytes().all(|b| word(b) || b == b'.' || b == b'-')
}

/// The digests runtimes verify: `sha256:` with 64 and `sha512:` with 128 lowercase hex digits.
fn valid_digest(digest: &str) -> bool {
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    match split_first(digest, b':') {
        Some(("sha256", h)) => hex(h, 64),
        Some(("sha512", h)) => hex(h, 128),
        _ => false,
    }
}

/// A bare 64-hex name is an image ID, which runtimes refuse as a repository name.
fn is_image_id(name: &str) -> bool {
    name.len() == 64
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// `s` around its first `sep` (an ASCII byte, so both sides are `str`s). These helpers scan
/// bytes directly: core's `split_once(char)` goes through its generic searcher, which costs
/// more than the short strings of an image reference are long.
fn split_first(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = find_byte(s.as_bytes(), sep)?;
    let (before, at) = s.split_at_checked(i)?;
    Some((before, at.get(1..)?))
}

/// `s` around its last `sep` (an ASCII byte).
fn split_last(s: &str, sep: u8) -> Option<(&str, &str)> {
    let i = rfind_byte(s.as_bytes(), sep)?;
    let (before, at) = s.split_at_checked(i)?;
    Some((before, at.get(1..)?))
}

/// Whether `s` contains the ASCII byte `b`.
fn has(s: &str, b: u8) -> bool {
    find_byte(s.as_bytes(), b).is_some()
}
