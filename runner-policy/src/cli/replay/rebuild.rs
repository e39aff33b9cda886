//! The reading and rebuilding stages: files read in order, lines parsed on workers, requests
//! rebuilt in log order (an audit event's request depends on the events before it).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;
use serde_json::Value;

use super::judge::{Job, Origin};
use super::tally::AuditTally;
use super::{Objects, file_name};
use crate::audit::{Event, read_line};
use crate::documents::{self, Item, Stop, for_each_item, parse_line, requests};
use crate::manifest::create_review;

/// What the reading thread hands on: an item of a file (an index into the files), or the fault
/// that stopped reading one.
pub(super) enum Input {
    Item(usize, Item),
    Unreadable(usize, anyhow::Error),
}

/// An input, parsed.
pub(super) enum Parsed {
    /// A document of file `.0`.
    Document(usize, Document),
    /// A line that is not JSON, with the warning that names it.
    BadLine(anyhow::Error),
    Unreadable(usize, anyhow::Error),
}

/// A document, an audit event already read as one (on the parsing thread: the rebuilding
/// thread, which must see every event in order, is left the rebuild alone).
pub(super) enum Document {
    Value(Value),
    Event(Result<Box<Event>, serde_json::Error>),
}

impl Input {
    pub(super) fn parse(self, files: &[PathBuf]) -> Parsed {
        match self {
            Input::Item(file, Item::Document(doc)) => Parsed::Document(file, Document::Value(doc)),
            Input::Item(file, Item::Line { bytes, number, .. }) => {
                // An audit log's line, read without a tree of its objects; anything else (or
                // anything odd) is read as a `Value`, as other documents are.
                let bytes = match read_line(bytes) {
                    Ok(event) => {
                        return Parsed::Document(file, Document::Event(Ok(Box::new(event))));
                    }
                    Err(bytes) => bytes,
                };
                match parse_line(&bytes, &files[file], number) {
                    Ok(doc) if crate::audit::is_audit_event(&doc) => Parsed::Document(
                        file,
                        Document::Event(serde_json::from_value(doc).map(Box::new)),
                    ),
                    Ok(doc) => Parsed::Document(file, Document::Value(doc)),
                    Err(e) => Parsed::BadLine(e),
                }
            }
            Input::Unreadable(file, e) => Parsed::Unreadable(file, e),
        }
    }
}

/// Items read and handed on together: one hand-over per line would cost more than most
/// lines take to judge. A batch also ends where reading on might wait, so that a pipe's lines
/// are judged as they come.
const BATCH_ITEMS: usize = 32;
const BATCH_BYTES: usize = 128 * 1024;

/// Reads every file in order, in batches, counting the bytes of the lines read.
pub(super) fn read(
    files: &[PathBuf],
    out: &mut super::ordered::Feed<Vec<Input>>,
    bytes_read: &AtomicU64,
) {
    let mut batch = Vec::with_capacity(BATCH_ITEMS);
    let mut bytes = 0;
    for (index, file) in files.iter().enumerate() {
        let each = |item: Item| {
            let buffered = match &item {
                Item::Line {
                    bytes: line,
                    buffered,
                    ..
                } => {
                    bytes_read.fetch_add(line.len() as u64 + 1, Ordering::Relaxed);
                    bytes += line.len();
                    *buffered
                }
                Item::Document(_) => true,
            };
            batch.push(Input::Item(index, item));
            if buffered && batch.len() < BATCH_ITEMS && bytes < BATCH_BYTES {
                return Ok(());
            }
            bytes = 0;
            if out.send(std::mem::replace(
                &mut batch,
                Vec::with_capacity(BATCH_ITEMS),
            )) {
                Ok(())
            } else {
                Err(anyhow::anyhow!("the replay stopped"))
            }
        };
        match for_each_item(file, each) {
            Ok(()) => {}
            Err(Stop::Read(e)) => batch.push(Input::Unreadable(index, e)),
            Err(Stop::Callback(_)) => return,
        }
    }
    if !batch.is_empty() {
        out.send(batch);
    }
}

/// The rebuilding thread: turns documents into the requests to judge, in order, and counts
/// what it does not hand on.
pub(super) struct Rebuilder {
    pub(super) audit: AuditTally,
    pub(super) objects: Option<Objects>,
    /// Plain objects found (judged only with `objects`).
    pub(super) objects_seen: usize,
    pub(super) runners_namespace: String,
    /// Plain objects judged in the runners namespace.
    pub(super) in_runners_namespace: usize,
    pub(super) unreadable: usize,
    pub(super) bad_lines: usize,
    /// The file of the last document, and its number there.
    pub(super) file: usize,
    pub(super) document: usize,
}

impl Rebuilder {
    /// Adds the requests of `item` to `out`, to be judged; false when the replay stops there.
    pub(super) fn rebuild(&mut self, item: Parsed, files: &[PathBuf], out: &mut Vec<Job>) -> bool {
        let document = match item {
            Parsed::BadLine(e) => {
                self.bad_lines += 1;
                eprintln!("warning: skipping {e:#}");
                return true;
            }
            Parsed::Unreadable(file, e) => {
                self.unreadable += 1;
                eprintln!(
                    "warning: skipping {} (from the fault on): {e:#}",
                    files[file].display()
                );
                return true;
            }
            Parsed::Document(file, document) => {
                if file != self.file {
                    (self.file, self.document) = (file, 0);
                }
                self.document += 1;
                document
            }
        };
        let origin = |object| Origin {
            file: self.file,
            document: self.document,
            object,
        };
        let found = match document {
            Document::Event(event) => vec![Found::Audit(Audited::Read(event))],
            Document::Value(doc) => {
                let mut found = Vec::new();
                requests(doc, &mut found);
                found.into_iter().map(Found::from).collect()
            }
        };
        for item in found {
            if let (Some(_), Found::Review(_) | Found::Audit(_)) = (&self.objects, &item) {
                // A request names its own requester: judged under `--as` it would pass or fail
                // for an identity nobody chose. Refusing keeps the gate's verdict about USER.
                out.push(Job::Stop(anyhow::anyhow!(
                    "{}, document {}: {} names its own requester, so `check --as` \
                     cannot judge it; `runner-policy replay` judges AdmissionReviews and audit \
                     events as the identity they name",
                    file_name(&files[self.file]),
                    self.document,
                    if matches!(item, Found::Review(_)) {
                        "an AdmissionReview"
                    } else {
                        "an audit event"
                    }
                )));
                return false;
            }
            let job = match item {
                Found::Review(review) => Job::Judge {
                    review,
                    note: String::new(),
                    origin: origin(false),
                },
                Found::Audit(event) => match self.audit.rebuild(event, &files[self.file]) {
                    Some((request, note, event)) => Job::Rebuilt {
                        request,
                        note,
                        origin: origin(false),
                        spent: event,
                    },
                    None => continue,
                },
                Found::Object(object) => {
                    self.objects_seen += 1;
                    let Some(objects) = &self.objects else {
                        continue;
                    };
                    let uid = format!("{}#{}", files[self.file].display(), self.objects_seen);
                    let review = create_review(
                        object,
                        &objects.requester,
                        objects.namespace.as_deref(),
                        &uid,
                    );
                    if review["request"]["namespace"] == self.runners_namespace.as_str() {
                        self.in_runners_namespace += 1;
                    }
                    Job::Judge {
                        review,
                        note: String::new(),
                        origin: origin(true),
                    }
                }
            };
            out.push(job);
        }
        true
    }
}

/// A request found in a document, its audit event read or not.
pub(super) enum Found {
    Review(Value),
    Audit(Audited),
    Object(Value),
}

/// An audit event, as found in a document or read straight from its line.
pub(super) enum Audited {
    Value(Value),
    Read(Result<Box<Event>, serde_json::Error>),
}

impl From<documents::Found> for Found {
    fn from(found: documents::Found) -> Self {
        match found {
            documents::Found::Review(review) => Found::Review(review),
            documents::Found::Audit(event) => Found::Audit(Audited::Value(event)),
            documents::Found::Object(object) => Found::Object(object),
        }
    }
}
