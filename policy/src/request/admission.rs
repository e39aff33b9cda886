//! The AdmissionRequest: who asks to do what to which object.

use alloc::{boxed::Box, format};
use core::cell::Cell;

use super::de::{List, Str};
use super::json::{Field, Json, JsonError, Reader, Slot, read_fields, same_bytes};
use super::object::{Object, Shape};
use json_pass::{from_json, keys};

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
        .find(|o| same_bytes(o.as_str().as_bytes(), name.as_bytes()))
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

/// `admission.k8s.io/v1` AdmissionRequest, holding only what the rules read.
#[derive(Debug, Clone, Default)]
pub struct AdmissionRequest<'a> {
    pub uid: Option<Str<'a>>,
    pub kind: GroupVersionKind<'a>,
    pub sub_resource: Option<Str<'a>>,
    pub name: Option<Str<'a>>,
    pub namespace: Option<Str<'a>>,
    pub operation: Option<Operation>,
    pub user_info: UserInfo<'a>,
    /// The objects' text: what an UPDATE compares, and what the object is read from when its
    /// kind came after it.
    pub object: Option<Json<'a>>,
    pub old_object: Option<Json<'a>>,
    /// The object read in the shape of its kind in the same pass, when the kind came before it
    /// (as the API server sends them): the object, or its type error, which is reported only
    /// after the request's own.
    pub read_object: Option<Result<Box<Object<'a>>, JsonError>>,
    /// An UPDATE's old Pod, read as a pod in the same pass when the kind came before it (what
    /// the UPDATE's comparison needs); other kinds' old objects are kept as text only.
    pub read_old_object: Option<Result<Box<Object<'a>>, JsonError>>,
}

impl<'a> Slot<'a> for AdmissionRequest<'a> {
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        let shape = Cell::new(None);
        let Self {
            uid,
            kind,
            sub_resource,
            name,
            namespace,
            operation,
            user_info,
            object,
            old_object,
            read_object,
            read_old_object,
        } = self;
        read_fields(
            r,
            keys!(
                "uid",
                "kind",
                "subResource",
                "name",
                "namespace",
                "operation",
                "userInfo",
                "object",
                "oldObject"
            ),
            &mut [
                uid.field(),
                Field::Any(&mut KindSlot {
                    kind,
                    shape: &shape,
                }),
                sub_resource.field(),
                name.field(),
                namespace.field(),
                Field::Any(&mut OperationSlot(operation)),
                Field::Any(user_info),
                Field::Any(&mut ObjectSlot {
                    shape: &shape,
                    pods_only: false,
                    text: object,
                    read: read_object,
                }),
                Field::Any(&mut ObjectSlot {
                    shape: &shape,
                    pods_only: true,
                    text: old_object,
                    read: read_old_object,
                }),
            ],
        )
    }
}

/// The request's kind, which also tells the object's reader its shape.
struct KindSlot<'s, 'a> {
    kind: &'s mut GroupVersionKind<'a>,
    shape: &'s Cell<Option<Shape>>,
}

impl<'a> Slot<'a> for KindSlot<'_, 'a> {
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        self.kind.fill(r)?;
        self.shape
            .set(Some(Shape::of(&self.kind.group, &self.kind.kind)));
        Ok(())
    }
}

/// An object: read in its kind's shape when the kind is known (with `pods_only`, only when it
/// is a Pod), kept as text either way.
struct ObjectSlot<'s, 'a> {
    shape: &'s Cell<Option<Shape>>,
    pods_only: bool,
    text: &'s mut Option<Json<'a>>,
    read: &'s mut Option<Result<Box<Object<'a>>, JsonError>>,
}

impl<'a> Slot<'a> for ObjectSlot<'_, 'a> {
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        let start = r.mark();
        match self.shape.get() {
            Some(shape) if !self.pods_only || matches!(shape, Shape::Pod) => {
                // Read where it is kept: a pod spec is not moved after it is read.
                let mut object = Box::new(Object::Absent);
                let read = r.deferred(|r| object.read_into(shape, r))?;
                *self.read = Some(read.map(|()| object));
            }
            _ => r.skip()?,
        }
        *self.text = Some(r.since(start));
        Ok(())
    }
}

struct OperationSlot<'s>(&'s mut Option<Operation>);

impl<'a> Slot<'a> for OperationSlot<'_> {
    fn fill(&mut self, r: &mut Reader<'a>) -> Result<(), JsonError> {
        let name = r.string()?;
        let operation = Operation::from_name(&name).ok_or_else(|| {
            JsonError::new(format!(
                "`{name}` is not an admission operation (CREATE, UPDATE, DELETE, CONNECT)"
            ))
        })?;
        *self.0 = Some(operation);
        Ok(())
    }
}

impl AdmissionRequest<'_> {
    pub fn username(&self) -> &str {
        self.user_info.username.as_deref().unwrap_or("")
    }

    pub fn sub_resource(&self) -> &str {
        self.sub_resource.as_deref().unwrap_or("")
    }
}
