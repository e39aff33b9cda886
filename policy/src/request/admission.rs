//! The AdmissionRequest: who asks to do what to which object.

use super::de::{List, Str};
use super::json::{FromJson, Json, JsonError};
use json_tape::from_json;

/// The admission operations the API server sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Update,
    Delete,
    Connect,
}

impl Operation {
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "CREATE",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Connect => "CONNECT",
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [
            Operation::Create,
            Operation::Update,
            Operation::Delete,
            Operation::Connect,
        ]
        .into_iter()
        .find(|o| o.as_str() == name)
    }

    /// CREATE and UPDATE carry a new object to judge.
    pub const fn writes_object(self) -> bool {
        matches!(self, Operation::Create | Operation::Update)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupVersionKind<'a> {
    pub group: Str<'a>,
    pub version: Str<'a>,
    pub kind: Str<'a>,
}

from_json!(GroupVersionKind<'a> { group: "group", version: "version", kind: "kind" });

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserInfo<'a> {
    pub username: Option<Str<'a>>,
    pub groups: List<Str<'a>>,
}

from_json!(UserInfo<'a> { username: "username", groups: "groups" });

/// `admission.k8s.io/v1` AdmissionRequest, holding only what the rules read. The objects stay
/// raw until the kind is known, so each is parsed once into the shape of its kind.
#[derive(Debug, Clone, Default)]
pub struct AdmissionRequest<'a> {
    pub uid: Option<Str<'a>>,
    pub kind: GroupVersionKind<'a>,
    pub sub_resource: Option<Str<'a>>,
    pub name: Option<Str<'a>>,
    pub namespace: Option<Str<'a>>,
    pub operation: Option<Operation>,
    pub user_info: UserInfo<'a>,
    pub object: Option<Json<'a>>,
    pub old_object: Option<Json<'a>>,
}

from_json!(AdmissionRequest<'a> { uid: "uid", kind: "kind", sub_resource: "subResource", name: "name", namespace: "namespace", operation: "operation", user_info: "userInfo", object: "object", old_object: "oldObject" });

impl AdmissionRequest<'_> {
    pub fn username(&self) -> &str {
        self.user_info.username.as_deref().unwrap_or("")
    }

    pub fn sub_resource(&self) -> &str {
        self.sub_resource.as_deref().unwrap_or("")
    }
}

impl<'a> FromJson<'a> for Operation {
    fn from_json(v: Json<'a>) -> Result<Self, JsonError> {
        let name = v.as_str().ok_or_else(|| v.expected("a string"))?;
        Operation::from_name(&name).ok_or_else(|| {
            JsonError::new(format!(
                "`{name}` is not an admission operation (CREATE, UPDATE, DELETE, CONNECT)"
            ))
        })
    }
}
