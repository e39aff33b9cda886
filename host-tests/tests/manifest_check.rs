//! Manifests judged as the CREATEs that apply them (`runner_policy::manifest`, `runner-policy
//! check`), against the built module: every recorded CREATE, taken apart into its object and
//! its requester and put back together by `create_review`, gets exactly its recorded decision.
//!
//! Run `cargo xtask dist` first; `RUNNER_POLICY_MODULE=path` tests another build.

use runner_policy::decision::Decision;
use runner_policy::documents::{Found, read_documents, requests};
use runner_policy::host::{Runtime, default_module_path, workspace_root};
use runner_policy::manifest::{Requester, create_review, is_object};
use serde_json::Value;

#[test]
fn every_recorded_create_is_the_check_of_its_object() {
    let log = workspace_root().join("host-tests/requests/sample-admission-log.jsonl");
    let mut found = Vec::new();
    for doc in read_documents(&log).unwrap() {
        requests(doc, &mut found);
    }
    let runtime = Runtime::load(&default_module_path()).unwrap_or_else(|e| panic!("{e:#}"));
    let mut policy = runtime
        .instantiate(&runner_policy::settings::example().unwrap())
        .unwrap();
    let mut decide = |review: &Value| {
        let input = serde_json::to_vec(review).unwrap();
        Decision::from_value(policy.evaluate("runners/decision", &input).unwrap()).unwrap()
    };
    let (mut checked, mut denied, mut defaulted) = (0, 0, 0);
    for item in found {
        let Found::Review(review) = item else {
            panic!("the admission log holds reviews only");
        };
        let request = &review["request"];
        // A subresource's CREATE (a TokenRequest) is an API call, not a manifest to apply.
        if request["operation"] != "CREATE"
            || !is_object(&request["object"])
            || request.get("subResource").is_some()
        {
            continue;
        }
        let mut object = request["object"].clone();
        let namespace = request["namespace"].as_str().map(str::to_owned);
        // A manifest usually leaves its namespace to `kubectl apply -n`: take it out where
        // the request's namespace would put it back.
        if namespace.is_some() && object["metadata"]["namespace"].as_str() == namespace.as_deref() {
            object["metadata"]
                .as_object_mut()
                .unwrap()
                .remove("namespace");
            defaulted += 1;
        }
        let groups = request["userInfo"]["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .filter(|g| *g != "system:authenticated")
            .map(str::to_owned)
            .collect();
        let requester = Requester {
            username: request["userInfo"]["username"].as_str().unwrap().to_owned(),
            groups,
        };
        let uid = request["uid"].as_str().unwrap();
        let rebuilt = create_review(object, &requester, namespace.as_deref(), uid);
        let want = decide(&review);
        assert_eq!(decide(&rebuilt), want, "request {uid}");
        checked += 1;
        denied += usize::from(!want.allowed);
    }
    assert!(checked >= 50, "{checked} CREATEs checked");
    assert!(
        denied >= 20 && denied < checked,
        "{denied} of {checked} denied"
    );
    assert!(
        defaulted >= 40,
        "{defaulted} namespaces left to the default"
    );
}
