//! Small builders for rule tests: requests from a few facts, decisions as rule lists.

use crate::decision::{Decision, RuleName};
use serde_json::{Value, json};

pub const NS: &str = "acme-runners";

pub fn settings() -> Value {
    json!({
        "org": "acme",
        "runners": [
            {"type": "dind", "serviceAccount": "gitlab-runner-dind"},
            {"type": "docker", "serviceAccount": "gitlab-runner-docker"},
            {"type": "rocky8", "serviceAccount": "gitlab-runner-rocky8"},
            {"type": "rocky9", "serviceAccount": "gitlab-runner-rocky9"},
            {"type": "nix", "serviceAccount": "gitlab-runner-nix"},
        ],
        "registryCredentialSecrets": ["registry-push"],
        "pushAllowedProjects": ["42"],
        "exemptUsers": ["cluster-operator"],
    })
}

/// The username of a runner manager of this type.
pub fn runner(t: &str) -> String {
    format!("system:serviceaccount:{NS}:gitlab-runner-{t}")
}

pub const ADMIN: &str = "kubernetes-admin";

/// A job pod with the given containers, as the runner creates it.
pub fn pod(containers: Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "runner-abc-project-42-concurrent-0",
            "namespace": NS,
            "labels": {"job.runner.gitlab.com/pod": "runner-abc", "project.runner.gitlab.com/id": "7"}
        },
        "spec": {"containers": containers}
    })
}

/// A job pod with one `build` container and these extra pod spec fields.
pub fn pod_with_spec(extra: Value) -> Value {
    let mut p = pod(json!([container("build", json!({}))]));
    if let (Some(spec), Some(extra)) = (p["spec"].as_object_mut(), extra.as_object()) {
        spec.extend(extra.clone());
    }
    p
}

pub fn container(name: &str, extra: Value) -> Value {
    let mut c = json!({"name": name, "image": "alpine:3.20"});
    if let (Some(c), Some(extra)) = (c.as_object_mut(), extra.as_object()) {
        c.extend(extra.clone());
    }
    c
}

/// One admission request, built from what a test cares about: by default an admin's request
/// in the runners namespace for a core-group Pod; `by`, `ns`, `group`, `kind` and the rest
/// change one fact each. Turned into a Gatekeeper-dialect input by [`Req::input`].
#[derive(Debug, Clone)]
pub struct Req {
    op: String,
    user: String,
    namespace: String,
    group: String,
    kind: String,
    object: Value,
    old_object: Option<Value>,
    subresource: Option<String>,
    name: Option<String>,
}

impl Req {
    /// A request of operation `op` (`CREATE`, `UPDATE`, `DELETE`, `CONNECT`) for `object`.
    pub fn op(op: &str, object: Value) -> Req {
        Req {
            op: op.to_owned(),
            user: ADMIN.to_owned(),
            namespace: NS.to_owned(),
            group: String::new(),
            kind: "Pod".to_owned(),
            object,
            old_object: None,
            subresource: None,
            name: None,
        }
    }

    pub fn create(object: Value) -> Req {
        Req::op("CREATE", object)
    }

    /// An UPDATE without an `oldObject` (see [`Req::old`]).
    pub fn update(object: Value) -> Req {
        Req::op("UPDATE", object)
    }

    /// A DELETE, whose `object` is null.
    pub fn delete() -> Req {
        Req::op("DELETE", Value::Null)
    }

    pub fn by(mut self, user: &str) -> Req {
        user.clone_into(&mut self.user);
        self
    }

    /// The request's namespace (`""` for a cluster-scoped object).
    pub fn ns(mut self, namespace: &str) -> Req {
        namespace.clone_into(&mut self.namespace);
        self
    }

    /// The kind's API group (`""`, the core group, by default).
    pub fn group(mut self, group: &str) -> Req {
        group.clone_into(&mut self.group);
        self
    }

    pub fn kind(mut self, kind: &str) -> Req {
        kind.clone_into(&mut self.kind);
        self
    }

    /// The `oldObject` of an UPDATE.
    pub fn old(mut self, old_object: Value) -> Req {
        self.old_object = Some(old_object);
        self
    }

    pub fn subresource(mut self, subresource: &str) -> Req {
        self.subresource = Some(subresource.to_owned());
        self
    }

    /// The request's `name` (the object's name, which the body may leave out).
    pub fn name(mut self, name: &str) -> Req {
        self.name = Some(name.to_owned());
        self
    }

    /// The Gatekeeper-dialect input, with the [`settings`] as parameters.
    pub fn input(&self) -> Value {
        let mut review = json!({
            "uid": "0000",
            "kind": {"group": self.group, "version": "v1", "kind": self.kind},
            "namespace": self.namespace,
            "operation": self.op,
            "userInfo": {"username": self.user, "groups": ["system:authenticated"]},
            "object": self.object,
        });
        if let Some(old) = &self.old_object {
            review["oldObject"] = old.clone();
        }
        if let Some(sub) = &self.subresource {
            review["subResource"] = json!(sub);
        }
        if let Some(name) = &self.name {
            review["name"] = json!(name);
        }
        json!({"parameters": settings(), "review": review})
    }
}

impl Req {
    /// [`Req::input`] as text with the request's `kind` written after its objects, where the
    /// API server writes it before them: the objects are then kept as text in the request's
    /// pass and read once the kind is known.
    pub fn text_kind_last(&self) -> Vec<u8> {
        self.text_with_last("kind", |kind| kind.to_string())
    }

    /// [`Req::input`] as text with the `oldObject` written by `write` (another spelling of the
    /// same JSON, say).
    pub fn text_old_written(&self, write: impl FnOnce(&Value) -> String) -> Vec<u8> {
        self.text_with_last("oldObject", |old| write(&old))
    }

    /// [`Req::input`] as text, the request's `key` moved to its end and written by `write`.
    fn text_with_last(&self, key: &str, write: impl FnOnce(Value) -> String) -> Vec<u8> {
        let mut input = self.input();
        let review = &mut input["review"];
        let value = review.as_object_mut().and_then(|r| r.remove(key)).unwrap();
        let review = serde_json::to_string(review).unwrap();
        let review = review.strip_suffix('}').unwrap();
        format!(
            r#"{{"parameters": {}, "review": {review}, "{key}": {}}}}}"#,
            input["parameters"],
            write(value)
        )
        .into_bytes()
    }
}

/// What the deciding helpers accept: a built [`Req`] or an input document.
pub trait AsInput {
    fn to_input(&self) -> Value;
}

impl AsInput for Req {
    fn to_input(&self) -> Value {
        self.input()
    }
}

impl AsInput for Value {
    fn to_input(&self) -> Value {
        self.clone()
    }
}

/// A job pod created by `user` in the runners namespace.
pub fn create_pod(user: &str, pod: Value) -> Value {
    Req::create(pod).by(user).input()
}

pub fn decide(input: &impl AsInput) -> Decision {
    decide_text(&serde_json::to_vec(&input.to_input()).unwrap())
}

/// The decision on an input given as text (for inputs no JSON value can hold).
pub fn decide_text(text: &[u8]) -> Decision {
    crate::eval::decide(text, None).decision
}

/// The rules a request breaks, sorted and distinct.
pub fn rules(input: &impl AsInput) -> Vec<RuleName> {
    decide(input).rules()
}

/// The (rule, path) pairs of a decision.
pub fn paths(input: &impl AsInput) -> Vec<(RuleName, String)> {
    decide(input)
        .violations
        .into_iter()
        .map(|v| (v.rule, v.path))
        .collect()
}
