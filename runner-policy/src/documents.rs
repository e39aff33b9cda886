//! Reading recorded requests: JSON, multi-document YAML and JSON lines, from files and
//! directory trees; finding every AdmissionReview and audit event in them.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow};
use serde::Deserialize;
use serde_json::Value;

/// File extensions read when walking a directory (each also gzip-compressed, `.gz`):
/// the API server writes its audit log to `audit.log` and rotates it to `audit-<time>.log`.
const EXTENSIONS: [&str; 6] = ["json", "jsonl", "ndjson", "yaml", "yml", "log"];

/// The extension of `path`, lowercase, looking through `.gz`.
fn extension(path: &Path) -> Option<String> {
    let path = if is_gzip(path) {
        Path::new(path.file_stem()?)
    } else {
        path
    };
    Some(path.extension()?.to_str()?.to_ascii_lowercase())
}

/// Whether `path` holds one request as it is (`.json`, `.yaml`, `.yml`): what `eval` and
/// `bench` read whole, where logs (JSON lines, `.log`, gzip) hold many.
pub fn is_single_document(path: &Path) -> bool {
    !is_gzip(path)
        && path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["json", "yaml", "yml"].contains(&e.to_ascii_lowercase().as_str()))
}

/// The path that stands for standard input (`helm template ... | runner-policy check ... -`).
pub const STDIN: &str = "-";

/// Whether `path` names a gzip-compressed file.
fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Every file below `paths`: files as given (`-` is standard input), directories walked
/// recursively (oldest first where names tell, only files with a JSON, YAML or log extension).
///
/// # Errors
/// When a path does not exist or a directory cannot be read.
pub fn walk(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.as_os_str() == STDIN {
            files.push(path.clone());
            continue;
        }
        let meta =
            std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
        if meta.is_dir() {
            walk_dir(path, &mut files)?;
        } else {
            files.push(path.clone());
        }
    }
    Ok(files)
}

fn walk_dir(dir: &Path, files: &mut Vec<PathBuf>) -> Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?
        .map(|entry| entry.and_then(|e| Ok((e.path(), e.file_type()?))))
        .collect::<std::io::Result<Vec<_>>>()
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    entries.sort_by_cached_key(|(path, _)| time_order(path));
    for (path, kind) in entries {
        // Symbolic links to directories are not followed: a link back up would never end.
        if kind.is_dir() {
            walk_dir(&path, files)?;
        } else if !(kind.is_symlink() && path.is_dir())
            && extension(&without_rotation(&path)).is_some_and(|e| EXTENSIONS.contains(&e.as_str()))
        {
            files.push(path);
        }
    }
    Ok(())
}

/// `audit.log.3.gz` -> (`audit.log`, 3): logrotate numbers the files it rotates; `None` for a
/// file it did not.
fn rotation(path: &Path) -> Option<(PathBuf, u64)> {
    let name = path.file_name()?.to_str()?;
    let name = name.strip_suffix(".gz").unwrap_or(name);
    let (base, n) = name.rsplit_once('.')?;
    let number = n
        .bytes()
        .all(|b| b.is_ascii_digit())
        .then(|| n.parse().ok())??;
    Some((path.with_file_name(base), number))
}

/// `audit.log.3.gz` -> `audit.log`; other paths as they are.
fn without_rotation(path: &Path) -> PathBuf {
    rotation(path).map_or_else(|| path.to_path_buf(), |(base, _)| base)
}

/// The order files are read in, oldest first where names tell: by name, except that logrotate's
/// numbered files (`audit.log.2.gz`, older the higher the number) come before the file they
/// were rotated from, highest number first. The API server's own rotated names
/// (`audit-<time>.log`) already sort in time order.
fn time_order(path: &Path) -> (PathBuf, u8, std::cmp::Reverse<u64>) {
    match rotation(path) {
        Some((base, number)) => (base, 0, std::cmp::Reverse(number)),
        None => (path.to_path_buf(), 1, std::cmp::Reverse(0)),
    }
}

/// The documents of one text: a single JSON value, JSON lines, or a multi-document YAML
/// stream (tried in that order).
///
/// # Errors
/// When the text is none of those.
pub fn parse_documents(text: &str) -> Result<Vec<Value>> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(vec![value]);
    }
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if !lines.is_empty()
        && let Ok(values) = lines
            .iter()
            .map(|line| serde_json::from_str(line))
            .collect::<Result<Vec<Value>, _>>()
    {
        return Ok(values);
    }
    let mut docs = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(text) {
        let value = Value::deserialize(doc).context("neither JSON, JSON lines nor YAML")?;
        if !value.is_null() {
            docs.push(value);
        }
    }
    Ok(docs)
}

/// Why [`for_each_document`] stopped.
#[derive(Debug)]
pub enum Stop {
    /// The file cannot be read or parsed (documents before the fault were handed over).
    Read(anyhow::Error),
    /// The callback failed.
    Callback(anyhow::Error),
}

/// Extensions of files read as JSON lines whatever their first line holds (a log's first line
/// may be cut short by rotation).
const LINE_EXTENSIONS: [&str; 3] = ["jsonl", "ndjson", "log"];

/// Hands every document of one file to `each`, in order. JSON lines (an audit log rotated at
/// hundreds of megabytes) are read and handed over a line at a time, and a line that is not
/// JSON (cut short, not UTF-8) goes to `bad_line`, named by its number, and the next line is
/// read; other files are read whole. A `.gz` file is decompressed as it is read.
///
/// # Errors
/// [`Stop::Read`] when the file cannot be read or parsed, [`Stop::Callback`] when `each` fails.
pub fn for_each_document(
    path: &Path,
    mut each: impl FnMut(Value) -> Result<()>,
    mut bad_line: impl FnMut(anyhow::Error),
) -> Result<(), Stop> {
    for_each_item(path, |item| match item {
        Item::Document(doc) => each(doc),
        Item::Line { bytes, number, .. } => match parse_line(&bytes, path, number) {
            Ok(doc) => each(doc),
            Err(e) => {
                bad_line(e);
                Ok(())
            }
        },
    })
}

/// What a file holds, as [`for_each_item`] hands it over.
#[derive(Debug)]
pub enum Item {
    /// A line of JSON lines, not parsed yet (see [`parse_line`]): parsing is the costly part of
    /// reading a log, and can be done on other threads.
    Line {
        bytes: Vec<u8>,
        /// Its number in the file, from 1.
        number: usize,
        /// Whether the input after it is already read into memory: when it is not, reading on
        /// may wait (a pipe with nothing more yet), and a reader that gathers lines should hand
        /// on what it has.
        buffered: bool,
    },
    /// A document of a file read whole.
    Document(Value),
}

/// The document a line of JSON lines holds, or the warning that names it.
///
/// # Errors
/// When the line is not JSON.
pub fn parse_line(bytes: &[u8], path: &Path, number: usize) -> Result<Value> {
    serde_json::from_slice(bytes)
        .map_err(|e| anyhow!("{}:{number}: not a JSON line: {e}", path.display()))
}

/// Hands every line of a JSON lines file, or every document of another file, to `each`, in
/// order; as [`for_each_document`], without parsing the lines.
///
/// # Errors
/// [`Stop::Read`] when the file cannot be read or parsed, [`Stop::Callback`] when `each` fails.
pub fn for_each_item(path: &Path, mut each: impl FnMut(Item) -> Result<()>) -> Result<(), Stop> {
    let read = |e: std::io::Error| {
        Stop::Read(anyhow!(e).context(format!("cannot read {}", path.display())))
    };
    let file: Box<dyn Read> = if path.as_os_str() == STDIN {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(File::open(path).map_err(read)?)
    };
    let file: Box<dyn Read> = if is_gzip(path) {
        Box::new(flate2::read::MultiGzDecoder::new(file))
    } else {
        file
    };
    let mut lines = Lines {
        reader: BufReader::with_capacity(256 * 1024, file),
        number: 0,
    };
    let mut line = Vec::new();
    if !lines.next(&mut line).map_err(read)? {
        return Ok(());
    }
    if let Some(rest) = line.strip_prefix(b"\xEF\xBB\xBF") {
        line = rest.to_vec();
    }
    let by_extension =
        extension(&without_rotation(path)).is_some_and(|e| LINE_EXTENSIONS.contains(&e.as_str()));
    // A first line that is a whole JSON object or array: JSON lines (or one JSON value).
    if by_extension
        || (serde_json::from_slice::<serde::de::IgnoredAny>(&line).is_ok()
            && matches!(
                line.iter().find(|b| !b.is_ascii_whitespace()),
                Some(b'{' | b'[')
            ))
    {
        loop {
            // The next line is likely as long as this one: room for it saves growing it.
            let room = line.len() + 1024;
            let bytes = std::mem::replace(&mut line, Vec::with_capacity(room));
            each(Item::Line {
                bytes,
                number: lines.number,
                buffered: !lines.reader.buffer().is_empty(),
            })
            .map_err(Stop::Callback)?;
            if !lines.next(&mut line).map_err(read)? {
                return Ok(());
            }
        }
    }
    let mut bytes = line;
    lines.reader.read_to_end(&mut bytes).map_err(read)?;
    let text = String::from_utf8(bytes)
        .map_err(|e| Stop::Read(anyhow!("{} is not UTF-8 text: {e}", path.display())))?;
    let docs = parse_documents(&text)
        .map_err(|e| Stop::Read(e.context(format!("cannot parse {}", path.display()))))?;
    docs.into_iter()
        .try_for_each(|doc| each(Item::Document(doc)).map_err(Stop::Callback))
}

/// The non-blank lines of a text, counted.
struct Lines<R> {
    reader: BufReader<R>,
    /// The number of the line last read (from 1).
    number: usize,
}

impl<R: Read> Lines<R> {
    /// Reads the next non-blank line into `line`; false at the end.
    fn next(&mut self, line: &mut Vec<u8>) -> std::io::Result<bool> {
        loop {
            line.clear();
            if read_until_newline(&mut self.reader, line)? == 0 {
                return Ok(false);
            }
            self.number += 1;
            if !line.iter().all(u8::is_ascii_whitespace) {
                return Ok(true);
            }
        }
    }
}

/// `BufRead::read_until(b'\n')`, finding the newline with `memchr`'s vector search: a log's
/// lines are kilobytes long, and every byte of them passes here.
fn read_until_newline<R: BufRead>(reader: &mut R, line: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut read = 0;
    loop {
        let buffer = match reader.fill_buf() {
            Ok(buffer) => buffer,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let (done, used) = match memchr::memchr(b'\n', buffer) {
            Some(i) => (true, i + 1),
            None => (buffer.is_empty(), buffer.len()),
        };
        line.extend_from_slice(&buffer[..used]);
        reader.consume(used);
        read += used;
        if done {
            return Ok(read);
        }
    }
}

/// Reads the documents of one file.
///
/// # Errors
/// When the file cannot be read or parsed, or a line of JSON lines is not JSON.
pub fn read_documents(path: &Path) -> Result<Vec<Value>> {
    let mut docs = Vec::new();
    let mut bad = None;
    let result = for_each_document(
        path,
        |doc| {
            docs.push(doc);
            Ok(())
        },
        |e| {
            bad.get_or_insert(e);
        },
    );
    match (result, bad) {
        (Err(Stop::Read(e) | Stop::Callback(e)), _) | (Ok(()), Some(e)) => Err(e),
        (Ok(()), None) => Ok(docs),
    }
}

/// Whether `value` is an AdmissionReview carrying a request.
pub fn is_admission_review(value: &Value) -> bool {
    value.get("kind").and_then(Value::as_str) == Some("AdmissionReview")
        && value.get("request").is_some_and(Value::is_object)
}

/// A request found in a document.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    /// An AdmissionReview carrying a request.
    Review(Value),
    /// A Kubernetes audit event, to be rebuilt as the request it was ([`crate::audit`]).
    Audit(Value),
    /// A plain Kubernetes object (a manifest), judged as the CREATE applying it
    /// ([`crate::manifest`]).
    Object(Value),
}

/// Every AdmissionReview with a request, audit event and other Kubernetes object inside `value`
/// (itself, or nested in arrays and objects such as lists, logs and audit EventLists), in
/// document order. An object's own contents are not searched.
pub fn requests(value: Value, out: &mut Vec<Found>) {
    if is_admission_review(&value) {
        out.push(Found::Review(value));
        return;
    }
    if crate::audit::is_audit_event(&value) {
        out.push(Found::Audit(value));
        return;
    }
    if crate::manifest::is_object(&value) {
        out.push(Found::Object(value));
        return;
    }
    match value {
        Value::Array(items) => items.into_iter().for_each(|v| requests(v, out)),
        Value::Object(map) => map.into_iter().for_each(|(_, v)| requests(v, out)),
        _ => {}
    }
}

/// A one-line summary of an AdmissionReview's request:
/// `(operation, kind, namespace/name, username)`.
pub fn summary(review: &Value) -> (String, String, String, String) {
    let request = review.get("request").unwrap_or(&Value::Null);
    let text = |pointer: &str| {
        request
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let name = [
        "/name",
        "/object/metadata/name",
        "/oldObject/metadata/name",
        "/object/metadata/generateName",
    ]
    .iter()
    .map(|p| text(p))
    .find(|n| !n.is_empty())
    .unwrap_or_else(|| "-".into());
    let namespace = text("/namespace");
    let target = if namespace.is_empty() {
        name
    } else {
        format!("{namespace}/{name}")
    };
    (
        text("/operation"),
        text("/kind/kind"),
        target,
        text("/userInfo/username"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_each_format() {
        let review = json!({"kind": "AdmissionReview", "request": {"uid": "1"}});
        let event = json!({"kind": "Event", "apiVersion": "audit.k8s.io/v1", "verb": "create"});
        let cases = [
            (review.to_string(), 1),
            (format!("{review}\n\n{review}\n"), 2),
            (
                "kind: AdmissionReview\nrequest: {uid: a}\n---\nkind: AdmissionReview\nrequest: {uid: b}\n"
                    .to_string(),
                2,
            ),
            (json!({"items": [review, review, {"kind": "Pod"}]}).to_string(), 2),
            (
                json!({"kind": "EventList", "apiVersion": "audit.k8s.io/v1", "items": [event, event]})
                    .to_string(),
                2,
            ),
            (format!("{event}\n{review}\n"), 2),
        ];
        for (text, expected) in cases {
            let mut found = Vec::new();
            for doc in parse_documents(&text).unwrap() {
                requests(doc, &mut found);
            }
            assert_eq!(found.len(), expected, "{text}");
        }
    }

    #[test]
    fn summarises_a_request() {
        let review = json!({"kind": "AdmissionReview", "request": {
            "operation": "CREATE", "kind": {"kind": "Pod"}, "namespace": "ns",
            "object": {"metadata": {"name": "p"}}, "userInfo": {"username": "u"}}});
        assert_eq!(
            summary(&review),
            ("CREATE".into(), "Pod".into(), "ns/p".into(), "u".into())
        );
    }

    fn temp(name: &str, bytes: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("runner-policy-docs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn gzip(text: &str) -> Vec<u8> {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(text.as_bytes()).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn a_line_says_whether_more_is_read_already() {
        // A small file is read whole at once: its lines have more behind them, but the last.
        let cases: [(&str, Vec<bool>); 3] = [
            ("{}\n{}\n{}\n", vec![true, true, false]),
            ("{}\n\n{}", vec![true, false]),
            // Blank lines after the last are input read already.
            ("{}\n\n\n", vec![true]),
        ];
        for (text, want) in cases {
            let path = temp("buffered.jsonl", text.as_bytes());
            let mut seen = Vec::new();
            let read = for_each_item(&path, |item| {
                if let Item::Line { buffered, .. } = item {
                    seen.push(buffered);
                }
                Ok(())
            });
            assert!(read.is_ok());
            assert_eq!(seen, want, "{text:?}");
        }
    }

    #[test]
    fn files_are_read_whole_or_a_line_at_a_time_and_gzip_is_undone() {
        let lines = "\n{\"n\": 1}\n\n{\"n\": 2}\n[3]\n";
        let pretty = "{\n  \"n\": 1\n}\n";
        let yaml = "# a comment\nn: 1\n---\nn: 2\n";
        let cases: [(&str, Vec<u8>, usize); 6] = [
            ("lines.jsonl", lines.as_bytes().to_vec(), 3),
            ("audit.log.gz", gzip(lines), 3),
            ("pretty.json", pretty.as_bytes().to_vec(), 1),
            ("docs.yaml", yaml.as_bytes().to_vec(), 2),
            ("docs.yaml.gz", gzip(yaml), 2),
            ("empty.log", b"\n\n".to_vec(), 0),
        ];
        for (name, bytes, count) in cases {
            let docs = read_documents(&temp(name, &bytes)).unwrap();
            assert_eq!(docs.len(), count, "{name}: {docs:?}");
        }
    }

    #[test]
    fn a_bad_line_is_named_and_the_next_one_read() {
        let cut = b"{\"n\": 1}\n\n{\"n\": \n\xff\xfe{\"n\": 2}\n{\"n\": 3}\n";
        // (name, bytes, documents read, bad lines)
        type Case = (&'static str, Vec<u8>, Vec<i64>, Vec<&'static str>);
        let cases: [Case; 4] = [
            (
                "cut.jsonl",
                cut.to_vec(),
                vec![1, 3],
                vec!["cut.jsonl:3:", "cut.jsonl:4:"],
            ),
            // A log's first line cut short by rotation: still read a line at a time.
            (
                "audit.log",
                b"\"n\": 0}\n{\"n\": 1}\n".to_vec(),
                vec![1],
                vec!["audit.log:1:"],
            ),
            (
                "audit.log.1",
                b"{\"n\"\n{\"n\": 1}\n".to_vec(),
                vec![1],
                vec!["audit.log.1:1:"],
            ),
            // A byte order mark before the first line.
            (
                "bom.json",
                b"\xEF\xBB\xBF{\"n\": 1}\n{\"n\": 2}\n".to_vec(),
                vec![1, 2],
                vec![],
            ),
        ];
        for (name, bytes, want, bad) in cases {
            let path = temp(name, &bytes);
            let (mut seen, mut errors) = (Vec::new(), Vec::new());
            let result = for_each_document(
                &path,
                |doc| {
                    seen.push(doc["n"].as_i64().unwrap());
                    Ok(())
                },
                |e| errors.push(e.to_string()),
            );
            assert!(result.is_ok(), "{name}: {result:?}");
            assert_eq!(seen, want, "{name}");
            assert_eq!(errors.len(), bad.len(), "{name}: {errors:?}");
            for (error, prefix) in errors.iter().zip(bad) {
                assert!(
                    error.contains(prefix) && error.contains("not a JSON line"),
                    "{error}"
                );
            }
        }
        assert!(
            read_documents(&temp("cut2.jsonl", cut)).is_err(),
            "read_documents reports a bad line"
        );
        // A failing callback stops the file and is told apart from a bad file.
        let stopped = for_each_document(
            &temp("ok.jsonl", b"{}\n{}\n"),
            |_| Err(anyhow!("engine failed")),
            |_| {},
        );
        assert!(matches!(stopped, Err(Stop::Callback(e)) if e.to_string() == "engine failed"));
    }

    #[test]
    fn directories_yield_logs_oldest_first_and_no_link_loops() {
        let dir = std::env::temp_dir().join(format!("runner-policy-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        let names = [
            "audit.log",
            "audit.log.1",
            "audit.log.2.gz",
            "audit.log.10.gz",
            "sub/audit-2026-11-20T10-00-00.000.log.gz",
            "sub/audit-2026-11-19T10-00-00.000.log",
            "a.json",
            "notes.txt",
            "x.gz",
            "notes.txt.1",
        ];
        for name in names {
            std::fs::write(dir.join(name), "{}").unwrap();
        }
        #[cfg(unix)]
        std::os::unix::fs::symlink(&dir, dir.join("sub/loop")).unwrap();
        let found: Vec<String> = walk(std::slice::from_ref(&dir))
            .unwrap()
            .iter()
            .map(|p| p.strip_prefix(&dir).unwrap().display().to_string())
            .collect();
        assert_eq!(
            found,
            [
                "a.json",
                "audit.log.10.gz",
                "audit.log.2.gz",
                "audit.log.1",
                "audit.log",
                "sub/audit-2026-11-19T10-00-00.000.log",
                "sub/audit-2026-11-20T10-00-00.000.log.gz",
            ]
        );
    }
}
