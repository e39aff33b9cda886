//! What every rule reads: the request, its object, the settings and who is asking.

use crate::request::object::raw_pod_part;
use crate::request::{AdmissionRequest, Object, Operation, PodView};
use crate::settings::{Runner, Settings};
use std::cell::OnceCell;

pub struct Context<'r, 'a> {
    pub request: &'r AdmissionRequest<'a>,
    pub operation: Operation,
    pub object: &'r Object<'a>,
    pub settings: &'r Settings,
    /// The runner whose manager is asking (from `userInfo.username` only), if any.
    pub requester: Option<&'r Runner>,
    /// The namespace acted in: the request's, else the object's; empty when cluster-scoped.
    pub namespace: &'r str,
    /// False for an UPDATE that leaves the pod spec as it was (status, finalizers, labels):
    /// it cannot add privilege, and denying it would block controllers and the kubelet.
    pub pod_changed: bool,
    /// `namespace` is the runners namespace (asked by most rules, so compared once).
    in_runners_namespace: bool,
    /// Message parts, formatted once and only when a rule reports something.
    object_ref: OnceCell<String>,
    who: OnceCell<String>,
}

impl<'r, 'a> Context<'r, 'a> {
    /// `None` when the request has no operation (the input parser refuses those already).
    pub fn new(
        request: &'r AdmissionRequest<'a>,
        object: &'r Object<'a>,
        settings: &'r Settings,
        requester: Option<&'r Runner>,
    ) -> Option<Self> {
        let operation = request.operation?;
        // A Namespace is cluster-scoped, though the API server gives its requests the
        // Namespace's own name as their namespace: acting on the runners Namespace itself (its
        // Pod Security labels, its deletion) is not acting inside it.
        let is_namespace = request.kind.group.is_empty() && request.kind.kind == "Namespace";
        let namespace = request
            .namespace
            .as_deref()
            .filter(|ns| !ns.is_empty())
            .or_else(|| object.meta().and_then(|m| m.namespace.as_deref()))
            .filter(|_| !is_namespace)
            .unwrap_or("");
        let pod_changed = match (operation, request.object, request.old_object) {
            (Operation::Update, Some(new), Some(old)) => {
                let kind = request.kind.kind.as_ref();
                match (raw_pod_part(kind, new), raw_pod_part(kind, old)) {
                    (Some(a), Some(b)) => a != b,
                    _ => true,
                }
            }
            _ => true,
        };
        Some(Context {
            request,
            operation,
            object,
            settings,
            requester,
            namespace,
            pod_changed,
            in_runners_namespace: namespace == settings.runners_namespace,
            object_ref: OnceCell::new(),
            who: OnceCell::new(),
        })
    }

    pub fn username(&self) -> &str {
        self.request.username()
    }

    pub fn in_runners_namespace(&self) -> bool {
        self.in_runners_namespace
    }

    /// The pod spec a CREATE or UPDATE would run, when it is new or changed.
    pub fn pod(&self) -> Option<PodView<'r, 'a>> {
        if self.operation.writes_object() && self.pod_changed {
            self.object.pod()
        } else {
            None
        }
    }

    /// The pod spec to judge in the runners namespace.
    pub fn runners_pod(&self) -> Option<PodView<'r, 'a>> {
        self.pod().filter(|_| self.in_runners_namespace())
    }

    /// The object a CREATE or UPDATE writes.
    pub fn written(&self) -> Option<&'r Object<'a>> {
        self.operation.writes_object().then_some(self.object)
    }

    /// [`Self::object_ref`] as a `Display` that formats only when a message is written.
    pub fn subject(&self) -> Deferred<'_, 'r, 'a> {
        Deferred(self, Self::object_ref)
    }

    /// [`Self::who`] as a `Display` that formats only when a message is written.
    pub fn requester_name(&self) -> Deferred<'_, 'r, 'a> {
        Deferred(self, Self::who)
    }

    /// `Kind namespace/name`, for messages.
    pub fn object_ref(&self) -> &str {
        self.object_ref.get_or_init(|| self.format_object_ref())
    }

    fn format_object_ref(&self) -> String {
        let kind = self.request.kind.kind.as_ref();
        let name = self
            .object
            .meta()
            .map(|m| m.display_name())
            .filter(|n| !n.is_empty())
            .or(self.request.name.as_deref())
            .unwrap_or("");
        match (self.namespace, name) {
            ("", "") => kind.to_owned(),
            ("", name) => format!("{kind} {name}"),
            (ns, "") => format!("{kind} in {ns}"),
            (ns, name) => format!("{kind} {ns}/{name}"),
        }
    }

    /// Who is asking, for messages: the username and, for runner managers, the runner type.
    pub fn who(&self) -> &str {
        self.who.get_or_init(|| match self.requester {
            Some(r) => format!(
                "{} (the {} runner)",
                self.username(),
                r.runner_type.as_str()
            ),
            None => self.username().to_owned(),
        })
    }
}

/// A message part computed from the context on first use: rules name the object and the
/// requester in every message, but most evaluations write no message at all.
#[derive(Clone, Copy)]
pub struct Deferred<'c, 'r, 'a>(&'c Context<'r, 'a>, fn(&'c Context<'r, 'a>) -> &'c str);

impl std::fmt::Display for Deferred<'_, '_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str((self.1)(self.0))
    }
}
