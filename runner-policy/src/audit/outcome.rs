//! What replaying an event gives: a request, a skip with its reason, notes.

use serde_json::Value;

/// Why an event is not replayed as an admission request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Skip {
    /// `RequestReceived` or `ResponseStarted`: the same request's last stage is replayed.
    EarlierStage,
    /// `get`, `list`, `watch` and other verbs that admission never sees.
    NotAdmitted,
    /// Refused before admission ran: by authentication or authorization, or as not found,
    /// malformed or invalid.
    RefusedBeforeAdmission,
    /// A `patch` whose result the log does not hold (logged below `RequestResponse`, or
    /// refused): the request body is a patch, not an object.
    PatchWithoutResult,
    /// A `create` or `update` logged without its object (level `Metadata`).
    NoObject,
    /// No `objectRef`: not a request on a resource.
    NoObjectRef,
    /// No user: the log does not say who asked.
    NoUser,
}

impl Skip {
    /// Why, for the replay's summary.
    pub const fn reason(self) -> &'static str {
        match self {
            Skip::EarlierStage => "an earlier stage of a request logged again when it completed",
            Skip::NotAdmitted => "reads and other verbs admission does not see",
            Skip::RefusedBeforeAdmission => {
                "requests refused before admission (authentication, authorization, not found, invalid)"
            }
            Skip::PatchWithoutResult => {
                "patches whose result the log does not hold (logged below RequestResponse, or refused)"
            }
            Skip::NoObject => {
                "writes logged without their object (log them at level Request or above)"
            }
            Skip::NoObjectRef => "requests on no resource",
            Skip::NoUser => "events that do not say who asked",
        }
    }
}

/// What a replayed request's line should add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Note {
    /// An UPDATE of a pod-bearing object whose previous state the log did not show (or showed
    /// out of date): judged as if its pod spec changed.
    WithoutPreviousState,
    /// A `deletecollection`: judged once, as a DELETE of the collection, where admission judges
    /// each object deleted (the log does not list them).
    WholeCollection,
}

impl Note {
    /// The words a replay line ends with.
    pub const fn text(self) -> &'static str {
        match self {
            Note::WithoutPreviousState => "(previous state not in the log)",
            Note::WholeCollection => "(deletecollection, judged once for the collection)",
        }
    }

    /// What the replay's summary says of the requests with this note, after their count.
    pub const fn summary(self) -> &'static str {
        match self {
            Note::WithoutPreviousState => {
                "UPDATEs of pod-bearing objects were judged as if their pod spec changed: the log does not show their previous state"
            }
            Note::WholeCollection => {
                "deletecollection requests were judged once each, as a DELETE of the collection"
            }
        }
    }
}

/// An event rebuilt as an admission request.
#[derive(Debug, Clone, PartialEq)]
pub struct Replayed {
    /// An `admission.k8s.io/v1` AdmissionReview; its request uid is the event's `auditID`.
    pub review: Value,
    /// What the request's line should add, if anything.
    pub note: Option<Note>,
}
