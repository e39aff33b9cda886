//! The `runner-policy` CLI and the wasmtime host of the OPA Wasm ABI it runs the module in.
//!
//! - [`host`]: the ABI host ([`host::Runtime`], [`host::Policy`]).
//! - [`settings`]: settings files (YAML or JSON) and the bundled example settings.
//! - [`documents`]: reading JSON, multi-document YAML and JSON lines; finding AdmissionReviews
//!   and audit events.
//! - [`audit`]: Kubernetes audit events rebuilt as the admission requests they were.
//! - [`manifest`]: plain Kubernetes objects as the CREATE requests that apply them.
//! - [`k8s`]: kinds, resources and scopes, and AdmissionReviews built from their parts.
//! - [`decision`]: the typed `runners/decision` result.
//! - [`suite`]: the golden-case suite format of `host-tests/requests/suite.yaml`.
//! - [`junit`]: JUnit XML reports for CI (GitLab's `artifacts:reports:junit`).
//! - [`conformance`]: agreement with the Pod Security Admission and gatekeeper-library corpora.
//! - [`vap`]: the rules as a Kubernetes ValidatingAdmissionPolicy (CEL), evaluated in-process.
//! - [`cli`]: the `runner-policy` commands.

pub mod audit;
pub mod cli;
pub mod conformance;
pub mod decision;
pub mod documents;
pub mod host;
pub mod junit;
pub mod k8s;
pub mod manifest;
pub mod rego;
pub mod settings;
pub mod suite;
pub mod vap;
