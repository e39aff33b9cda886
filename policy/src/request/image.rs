//! Image references, read the way container runtimes read them (the grammar of
//! `github.com/distribution/reference`, which containerd, CRI-O and the kubelet use).
//!
//! Only the registry decides whether an image may run, so the parser is strict: a reference it
//! cannot read is an error, and the caller denies it (fail closed) instead of guessing a registry.

use crate::request::json::{find_byte, is_one_of, rfind_byte, strip_prefix};
use alloc::borrow::Cow;
use core::fmt;

/// Docker Hub, the registry of references that name none.
pub const DOCKER_HUB: &str = "docker.io";

/// Other names of Docker Hub that resolve to the same registry.
const DOCKER_HUB_ALIASES: [&str; 2] = ["index.docker.io", "registry-1.docker.io"];

/// The most a repository name may hold (`NameTotalLengthMax` of distribution/reference).
const NAME_MAX: usize = 255;

/// The most a tag may hold.
const TAG_MAX: usize = 128;

/// A parsed image reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// The registry, normalised by [`normalise_registry`]: lowercase host, port kept,
    /// `docker.io` for Docker Hub under any of its names.
    pub registry: Cow<'a, str>,
    /// The repository path as written (without the registry).
    pub path: &'a str,
    pub tag: Option<&'a str>,
    /// `algorithm:hex`, as written after `@`.
    pub digest: Option<&'a str>,
}

/// Why a reference cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageError {
    Empty,
    TooLong,
    Registry,
    Repository,
    Tag,
    Digest,
}

impl ImageError {
    pub const fn reason(self) -> &'static str {
        match self {
            ImageError::Empty => "the image is empty",
            ImageError::TooLong => "the repository name is longer than 255 characters",
            ImageError::Registry => "the registry is not a valid host[:port]",
            ImageError::Repository => {
                "the repository path is not valid (lowercase letters, digits and single separators `.`, `_`, `__`, `-`)"
            }
            ImageError::Tag => {
                "the tag is not valid (letters, digits, `_`, `.`, `-`; at most 128, not starting with `.` or `-`)"
            }
            ImageError::Digest => "the digest is not valid (sha256:<64 hex> or sha512:<128 hex>)",
        }
    }
}

impl fmt::Display for ImageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

/// A registry as compared: lowercase host (DNS is case-insensitive), port kept (another port
/// is another service), Docker Hub's aliases folded into `docker.io`. Used for references and
/// for `allowedRegistries` alike, so both sides are read the same way.
/// Borrows when the registry is already in that form (the common case: no allocation).
pub fn normalise_registry(registry: &str) -> Cow<'_, str> {
    let lower = if registry.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(registry.to_ascii_lowercase())
    } else {
        Cow::Borrowed(registry)
    };
    if is_one_of(&lower, &DOCKER_HUB_ALIASES) {
        Cow::Borrowed(DOCKER_HUB)
    } else {
        lower
    }
}

impl<'a> ImageRef<'a> {
    /// Parses an image reference: `[registry/]repository[:tag][@digest]`.
    ///
    /// The first path component is the registry only when it contains `.` or `:`, is
    /// `localhost`, or has an uppercase letter (repository paths are lowercase, so runtimes
    /// read it as a host); otherwise the registry is Docker Hub.
    ///
    /// Each part is checked in one pass over its bytes, with a table of byte classes: a
    /// GitLab Runner helper image is 85 bytes, and a pass per rule of the grammar costs more
    /// than the rest of the rule.
    ///
    /// # Errors
    /// The reference is empty or breaks the reference grammar.
    pub fn parse(image: &'a str) -> Result<ImageRef<'a>, ImageError> {
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
            Some((first, rest)) => {
                let classes = classes_of(first.as_bytes());
                if classes & (DOT_COLON | UPPER) != 0 || first == "localhost" {
                    if !valid_registry(first) {
                        return Err(ImageError::Registry);
                    }
                    (normalised(first, classes & UPPER != 0), rest)
                } else {
                    (Cow::Borrowed(DOCKER_HUB), name)
                }
            }
            None => (Cow::Borrowed(DOCKER_HUB), name),
        };
        if !valid_path(path.as_bytes()) || is_image_id(name) {
            return Err(ImageError::Repository);
        }
        Ok(ImageRef {
            registry,
            path,
            tag,
            digest,
        })
    }

    /// The registry the runtime pulls from, normalised (see [`normalise_registry`]).
    pub fn registry(&self) -> &str {
        &self.registry
    }
}

/// [`CLASS`] bit: `[a-z0-9]`, the letters of a repository path.
const PATH: u8 = 1;
/// [`CLASS`] bit: `[A-Za-z0-9-]`, the letters of a host name.
const HOST: u8 = 2;
/// [`CLASS`] bit: `[A-Za-z0-9_.-]`, the letters of a tag.
const TAG: u8 = 4;
/// [`CLASS`] bit: `[A-Z]`.
const UPPER: u8 = 8;
/// [`CLASS`] bit: `.` or `:`, which make a first path component a registry.
const DOT_COLON: u8 = 16;
/// [`CLASS`] bit: `[0-9a-f]`, the digits of a digest.
const HEX: u8 = 32;
/// [`CLASS`] bit: `[0-9]`.
const DIGIT: u8 = 64;

/// The classes of each byte: one table read per byte instead of a comparison per range.
#[allow(clippy::indexing_slicing)] // `b` < 256, checked by the loop, in a constant
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let mut bits = 0;
        if c.is_ascii_digit() {
            bits |= PATH | HOST | TAG | HEX | DIGIT;
        }
        if c.is_ascii_lowercase() {
            bits |= PATH | HOST | TAG;
            if c <= b'f' {
                bits |= HEX;
            }
        }
        if c.is_ascii_uppercase() {
            bits |= HOST | TAG | UPPER;
        }
        match c {
            b'-' => bits |= HOST | TAG,
            b'_' => bits |= TAG,
            b'.' => bits |= TAG | DOT_COLON,
            b':' => bits |= DOT_COLON,
            _ => {}
        }
        t[b] = bits;
        b += 1;
    }
    t
};

/// The class bits of `b`.
#[inline(always)]
fn class(b: u8) -> u8 {
    CLASS.get(usize::from(b)).copied().unwrap_or(0)
}

/// The class bits found anywhere in `bytes`.
fn classes_of(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |found, &b| found | class(b))
}

/// Whether every byte of `bytes` has the class bit `bit`.
fn all_of(bytes: &[u8], bit: u8) -> bool {
    bytes.iter().all(|&b| class(b) & bit != 0)
}

/// [`normalise_registry`] of a registry whose uppercase letters were already looked for.
fn normalised(registry: &str, upper: bool) -> Cow<'_, str> {
    if upper {
        return normalise_registry(registry);
    }
    if is_one_of(registry, &DOCKER_HUB_ALIASES) {
        Cow::Borrowed(DOCKER_HUB)
    } else {
        Cow::Borrowed(registry)
    }
}

/// `host[:port]` with a DNS name, IPv4 address or bracketed IPv6 address.
fn valid_registry(registry: &str) -> bool {
    let (host_ok, port) = if let Some(rest) = strip_prefix(registry, "[") {
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
        match strip_prefix(after, ":") {
            Some(port) => (ipv6, Some(port)),
            None => return false,
        }
    } else {
        let (host, port) = match split_first(registry, b':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        };
        (valid_host(host.as_bytes()), port)
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && all_of(p.as_bytes(), DIGIT));
    host_ok && port_ok
}

/// Dot-separated labels, each `[a-zA-Z0-9]` or `[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn valid_host(host: &[u8]) -> bool {
    // The byte before, `.` at the start: a label may neither start nor end with `-` or `.`.
    let mut prev = b'.';
    for &b in host {
        let ok = if b == b'.' {
            prev != b'.' && prev != b'-'
        } else {
            class(b) & HOST != 0 && !(b == b'-' && prev == b'.')
        };
        if !ok {
            return false;
        }
        prev = b;
    }
    prev != b'.' && prev != b'-'
}

/// Where [`valid_path`] is in the path.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PathAt {
    /// At a component's start or after a separator: a letter or digit must come.
    Start,
    /// After a letter or digit.
    Letters,
    /// After one `_`.
    Underscore,
    /// After one or more `-`.
    Dashes,
}

/// `/`-separated components, each `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn valid_path(path: &[u8]) -> bool {
    let mut at = PathAt::Start;
    for &b in path {
        at = match (at, b) {
            _ if class(b) & PATH != 0 => PathAt::Letters,
            (PathAt::Letters, b'.' | b'/') | (PathAt::Underscore, b'_') => PathAt::Start,
            (PathAt::Letters, b'_') => PathAt::Underscore,
            (PathAt::Letters | PathAt::Dashes, b'-') => PathAt::Dashes,
            _ => return false,
        };
    }
    at == PathAt::Letters
}

/// `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    tag.len() <= TAG_MAX
        && tag
            .as_bytes()
            .first()
            .is_some_and(|&b| b != b'.' && b != b'-')
        && all_of(tag.as_bytes(), TAG)
}

/// The digests runtimes verify: `sha256:` with 64 and `sha512:` with 128 lowercase hex digits.
fn valid_digest(digest: &str) -> bool {
    let hex = |s: &str, len: usize| s.len() == len && all_of(s.as_bytes(), HEX);
    match split_first(digest, b':') {
        Some(("sha256", h)) => hex(h, 64),
        Some(("sha512", h)) => hex(h, 128),
        _ => false,
    }
}

/// A bare 64-hex name is an image ID, which runtimes refuse as a repository name.
fn is_image_id(name: &str) -> bool {
    name.len() == 64 && all_of(name.as_bytes(), HEX)
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

#[cfg(test)]
mod reference;

#[cfg(test)]
mod tests {
    use super::{DOCKER_HUB, ImageError, ImageRef, normalise_registry, reference};
    use rstest::rstest;

    const SHA: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    /// The repository a runtime pulls: official Docker Hub images get their implicit `library/`.
    fn repository_of(r: &ImageRef<'_>) -> String {
        if r.registry == DOCKER_HUB && !r.path.contains('/') {
            format!("library/{}", r.path)
        } else {
            r.path.to_owned()
        }
    }

    #[rstest]
    #[case::official("alpine", "docker.io", "library/alpine", None)]
    #[case::official_tag("alpine:3.20", "docker.io", "library/alpine", Some("3.20"))]
    #[case::library_explicit("library/alpine:3.20", "docker.io", "library/alpine", Some("3.20"))]
    #[case::hub_user("bitnami/kubectl:1.31", "docker.io", "bitnami/kubectl", Some("1.31"))]
    #[case::hub_explicit("docker.io/alpine", "docker.io", "library/alpine", None)]
    #[case::hub_uppercase("Docker.IO/library/alpine", "docker.io", "library/alpine", None)]
    #[case::hub_index(
        "index.docker.io/library/alpine:3",
        "docker.io",
        "library/alpine",
        Some("3")
    )]
    #[case::hub_registry_1("registry-1.docker.io/bitnami/git", "docker.io", "bitnami/git", None)]
    #[case::hub_port_kept(
        "docker.io:443/library/alpine",
        "docker.io:443",
        "library/alpine",
        None
    )]
    #[case::gitlab(
        "registry.gitlab.com/gitlab-org/gitlab-runner/gitlab-runner-helper:x86_64-v17.5.0",
        "registry.gitlab.com",
        "gitlab-org/gitlab-runner/gitlab-runner-helper",
        Some("x86_64-v17.5.0")
    )]
    #[case::gitlab_case(
        "Registry.GitLab.com/group/app",
        "registry.gitlab.com",
        "group/app",
        None
    )]
    #[case::gitlab_port(
        "registry.gitlab.com:443/group/app",
        "registry.gitlab.com:443",
        "group/app",
        None
    )]
    #[case::lookalike_suffix(
        "registry.gitlab.com.evil.io/group/app",
        "registry.gitlab.com.evil.io",
        "group/app",
        None
    )]
    #[case::lookalike_hub("docker.io.evil.io/alpine", "docker.io.evil.io", "alpine", None)]
    #[case::host_in_path(
        "evil.io/registry.gitlab.com/app",
        "evil.io",
        "registry.gitlab.com/app",
        None
    )]
    #[case::localhost("localhost/app", "localhost", "app", None)]
    #[case::localhost_port("localhost:5000/app:1", "localhost:5000", "app", Some("1"))]
    #[case::uppercase_first("MyOrg/app", "myorg", "app", None)]
    #[case::ipv4("10.0.0.1:5000/app", "10.0.0.1:5000", "app", None)]
    #[case::ipv6("[fd00::1]:5000/app", "[fd00::1]:5000", "app", None)]
    #[case::separators("ghcr.io/a-b__c.d/e--f_g", "ghcr.io", "a-b__c.d/e--f_g", None)]
    fn parses(
        #[case] image: &str,
        #[case] registry: &str,
        #[case] repository: &str,
        #[case] tag: Option<&str>,
    ) {
        let r = ImageRef::parse(image).unwrap();
        assert_eq!(
            (r.registry.as_ref(), repository_of(&r).as_str(), r.tag),
            (registry, repository, tag),
            "{image}"
        );
        assert_eq!(r.digest, None);
    }

    #[test]
    fn digests_with_and_without_tags() {
        let image = format!("alpine@{SHA}");
        let r = ImageRef::parse(&image).unwrap();
        assert_eq!(
            (
                r.registry.as_ref(),
                repository_of(&r).as_str(),
                r.tag,
                r.digest
            ),
            ("docker.io", "library/alpine", None, Some(SHA))
        );
        let image = format!("registry.gitlab.com:5050/g/a:1.0@{SHA}");
        let r = ImageRef::parse(&image).unwrap();
        assert_eq!(
            (r.registry.as_ref(), r.tag, r.digest),
            ("registry.gitlab.com:5050", Some("1.0"), Some(SHA))
        );
    }

    #[rstest]
    #[case::empty("", ImageError::Empty)]
    #[case::only_tag(":latest", ImageError::Empty)]
    #[case::space(" alpine", ImageError::Repository)]
    #[case::uppercase_path("docker.io/Library/alpine", ImageError::Repository)]
    #[case::trailing_dot_host("registry.gitlab.com./g/a", ImageError::Registry)]
    #[case::empty_port("registry.gitlab.com:/g/a", ImageError::Registry)]
    #[case::userinfo_like("registry.gitlab.com@evil.io/g/a", ImageError::Digest)]
    #[case::short_digest("alpine@sha256:abc", ImageError::Digest)]
    #[case::unknown_digest("alpine@md5:0123456789abcdef0123456789abcdef", ImageError::Digest)]
    #[case::bad_tag("alpine:-x", ImageError::Tag)]
    #[case::scheme("https://registry.gitlab.com/g/a", ImageError::Registry)]
    #[case::double_slash("docker.io//alpine", ImageError::Repository)]
    #[case::trailing_slash("docker.io/alpine/", ImageError::Repository)]
    #[case::triple_underscore("a___b", ImageError::Repository)]
    #[case::image_id(
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ImageError::Repository
    )]
    #[case::unclosed_ipv6("[fd00::1/app", ImageError::Registry)]
    fn rejects(#[case] image: &str, #[case] error: ImageError) {
        assert_eq!(ImageRef::parse(image), Err(error), "{image}");
    }

    #[test]
    fn long_names_and_tags_are_rejected() {
        assert_eq!(ImageRef::parse(&"a".repeat(256)), Err(ImageError::TooLong));
        assert!(ImageRef::parse(&"a".repeat(255)).is_ok());
        assert_eq!(
            ImageRef::parse(&format!("alpine:{}", "t".repeat(129))),
            Err(ImageError::Tag)
        );
    }

    #[rstest]
    #[case("docker.io", "docker.io")]
    #[case("INDEX.docker.io", "docker.io")]
    #[case("registry-1.docker.io", "docker.io")]
    #[case("Registry.GitLab.com", "registry.gitlab.com")]
    #[case("registry.gitlab.com:443", "registry.gitlab.com:443")]
    fn registries_are_normalised(#[case] given: &str, #[case] normal: &str) {
        assert_eq!(normalise_registry(given), normal);
    }

    /// Pieces that references are built from: every byte class of the grammar, and the
    /// words that change how a part is read.
    const PIECES: &[&str] = &[
        "a",
        "z",
        "0",
        "9",
        "f",
        "A",
        "Z",
        ".",
        "-",
        "_",
        "__",
        "/",
        ":",
        "@",
        "[",
        "]",
        "é",
        " ",
        "localhost",
        "docker.io",
        "index.docker.io",
        "Registry.GitLab.com",
        "sha256:",
        "sha512:",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ":5000",
        "[fd00::1]",
        "x86_64-v17.5.0",
    ];

    /// The fused parser reads every reference as the plain one-pass-per-rule grammar does:
    /// the same parts, the same error, on references built at random from [`PIECES`]
    /// (a fixed seed, so a failure repeats).
    #[test]
    fn reads_every_reference_as_the_plain_grammar_does() {
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut ok = 0;
        for _ in 0..200_000 {
            let pieces = 1 + next() % 12;
            let image: String = (0..pieces)
                .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
                .collect();
            let fused = ImageRef::parse(&image);
            let parts = fused.clone().map(|r| (r.registry, r.path, r.tag, r.digest));
            assert_eq!(parts, reference::parse(&image), "{image:?}");
            ok += usize::from(fused.is_ok());
        }
        // The pieces make valid references too, not only errors.
        assert!(ok > 10_000, "only {ok} valid references");
    }
}
