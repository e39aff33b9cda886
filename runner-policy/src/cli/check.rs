//! `runner-policy check --as USER PATH...`: manifests (`helm template` output, a GitOps tree,
//! `List`s) judged as the CREATE requests that would apply them, before they reach a cluster.
//! AdmissionReviews and audit events are refused: they name their own requester, which `--as`
//! would contradict (`replay` judges them).

use anyhow::Result;

use super::replay::{Common, Objects, judge_all};
use super::{Cli, Outcome};
use crate::manifest::Requester;

/// Arguments of `check`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The user who applies the objects, as the API server will see them
    /// (`system:serviceaccount:<namespace>:<name>` for a CI or GitOps ServiceAccount). Required:
    /// every rule depends on who asks.
    #[arg(long = "as", value_name = "USER")]
    pub user: String,
    /// A group of that user (repeatable); `system:authenticated` is always added.
    #[arg(long = "as-group", value_name = "GROUP")]
    pub groups: Vec<String>,
    /// The namespace of namespaced objects that name none (`kubectl apply -n`,
    /// `helm install -n`) [default: default]. A warning says when no object landed in the
    /// runners namespace.
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

/// Exit 1 when any object is denied: `check` is a gate.
pub(super) fn run(cli: &Cli, args: &Args) -> Result<Outcome> {
    let objects = Objects {
        requester: Requester {
            username: args.user.clone(),
            groups: args.groups.clone(),
        },
        namespace: args.namespace.clone(),
    };
    judge_all(cli, &args.common, Some(objects), true)
}
