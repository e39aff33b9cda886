//! The packages `cargo xtask dist` writes next to the module (see the README, each engine):
//! - `bundles/dist/bundle.tar.gz`, an OPA bundle: `/.manifest` (revision, roots, one wasm
//!   resolver per entrypoint), `/policy.wasm` (the module itself) and `/data.json` (the example
//!   settings);
//! - `bundles/dist/kubewarden-policy.wasm`: the module plus `bundles/kubewarden/metadata.yml` in
//!   the `io.kubewarden.metadata` custom section, as `kwctl annotate` writes it;
//! - `bundles/kubewarden/cluster-admission-policy.yaml` agreeing with the metadata and settings.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use runner_policy::host::workspace_root;
use serde_json::{Value, json};
use wasmparser::{Parser, Payload};

const ENTRYPOINTS: [&str; 3] = ["runners/main", "runners/violation", "runners/decision"];

fn dist(name: &str) -> PathBuf {
    workspace_root().join("bundles/dist").join(name)
}

fn read(path: &PathBuf) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `cargo xtask dist` to build the module and its bundles",
            path.display()
        )
    })
}

fn yaml_file(relative: &str) -> Value {
    let text = std::fs::read_to_string(workspace_root().join(relative)).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

/// The tarball's regular files by name.
fn bundle_files() -> BTreeMap<String, Vec<u8>> {
    let gz = read(&dist("bundle.tar.gz"));
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(gz.as_slice()));
    let mut files = BTreeMap::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        assert!(entry.header().entry_type().is_file(), "only regular files");
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        assert!(files.insert(name.clone(), bytes).is_none(), "{name} twice");
    }
    files
}

#[test]
fn opa_bundle_holds_manifest_module_and_settings() {
    let files = bundle_files();
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    // OPA's own `opa build` writes `/`-prefixed names; its bundle reader accepts them.
    assert_eq!(names, ["/.manifest", "/data.json", "/policy.wasm"]);

    assert_eq!(
        files["/policy.wasm"],
        read(&dist("policy.wasm")),
        "/policy.wasm is not the dist module: run `cargo xtask dist`"
    );

    let data: Value = serde_json::from_slice(&files["/data.json"]).unwrap();
    assert_eq!(data, yaml_file("bundles/settings.example.yaml"));

    let manifest: Value = serde_json::from_slice(&files["/.manifest"]).unwrap();
    let revision = manifest["revision"].as_str().expect("a revision string");
    assert!(
        revision.starts_with(concat!(env!("CARGO_PKG_VERSION"), "+")),
        "{revision}"
    );
    // The settings' keys sit at the top of the data document: the bundle owns the whole tree.
    assert_eq!(manifest["roots"], json!([""]));
    let resolvers: Vec<(&str, &str)> = manifest["wasm"]
        .as_array()
        .expect("a wasm list")
        .iter()
        .map(|w| {
            (
                w["entrypoint"].as_str().unwrap(),
                w["module"].as_str().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(&str, &str)> = ENTRYPOINTS.iter().map(|e| (*e, "/policy.wasm")).collect();
    assert_eq!(resolvers, expected);
}

#[test]
fn bundle_revision_follows_the_content() {
    // The revision is a content hash: rebuilding the same module gives the same bundle.
    let manifest: Value = serde_json::from_slice(&bundle_files()["/.manifest"]).unwrap();
    let source: Value = serde_json::from_str(
        &std::fs::read_to_string(workspace_root().join("bundles/opa/manifest.json")).unwrap(),
    )
    .unwrap();
    let mut without_revision = manifest.clone();
    without_revision.as_object_mut().unwrap().remove("revision");
    assert_eq!(without_revision, source, "run `cargo xtask dist`");
}

/// The custom sections of a module, and the module with them taken out (every other section
/// as its raw bytes, in order).
fn split_custom_sections(wasm: &[u8]) -> (Vec<(String, Vec<u8>)>, Vec<u8>) {
    let mut customs = Vec::new();
    let mut rest = wasm.get(..8).unwrap().to_vec();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.unwrap();
        if let Payload::CustomSection(reader) = &payload {
            customs.push((reader.name().to_owned(), reader.data().to_vec()));
            continue;
        }
        if let Some((id, range)) = payload.as_section() {
            // The section's bytes are id, LEB128 size, contents; find the header before range.
            let header_start = (0..range.start)
                .rev()
                .find(|&start| {
                    wasm[start] == id && {
                        let mut size = &wasm[start + 1..range.start];
                        leb128(&mut size) == Some(range.end - range.start) && size.is_empty()
                    }
                })
                .expect("section header");
            rest.extend_from_slice(&wasm[header_start..range.end]);
        }
    }
    (customs, rest)
}

fn leb128(bytes: &mut &[u8]) -> Option<usize> {
    let mut value = 0usize;
    for shift in (0..35).step_by(7) {
        let (&byte, tail) = bytes.split_first()?;
        *bytes = tail;
        value |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

/// What `kwctl annotate` makes of metadata.yml: Kubewarden's `Metadata` with
/// `protocolVersion: Unknown`, defaults filled in, unknown keys (the old `contextAware`) dropped.
fn kwctl_metadata(yaml: &Value) -> Value {
    let mut expected = yaml.as_object().unwrap().clone();
    expected.remove("contextAware");
    expected.insert("protocolVersion".into(), json!("Unknown"));
    expected.entry("policyType").or_insert(json!("kubernetes"));
    expected.entry("backgroundAudit").or_insert(json!(true));
    expected.entry("contextAwareResources").or_insert(json!([]));
    Value::Object(expected)
}

#[test]
fn kubewarden_module_carries_the_metadata_section() {
    let annotated = read(&dist("kubewarden-policy.wasm"));
    let module = read(&dist("policy.wasm"));
    let (customs, rest) = split_custom_sections(&annotated);
    let names: Vec<&str> = customs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["io.kubewarden.metadata"]);
    let (module_customs, module_rest) = split_custom_sections(&module);
    assert!(
        module_customs.is_empty(),
        "the dist module has no custom sections"
    );
    assert_eq!(
        rest, module_rest,
        "apart from the section it is the policy module"
    );

    let section: Value = serde_json::from_slice(&customs[0].1).expect("the section is JSON");
    let yaml = yaml_file("bundles/kubewarden/metadata.yml");
    assert_eq!(section, kwctl_metadata(&yaml), "run `cargo xtask dist`");

    // What Kubewarden relies on, spelled out.
    assert_eq!(section["executionMode"], "gatekeeper");
    assert_eq!(section["mutating"], false);
    assert_eq!(section["backgroundAudit"], false);
    assert_eq!(section["contextAwareResources"], json!([]));
    assert_eq!(
        section["annotations"]["io.kubewarden.policy.license"],
        "Apache-2.0"
    );
    for key in ["title", "description", "source"] {
        let key = format!("io.kubewarden.policy.{key}");
        assert!(section["annotations"][&key].is_string(), "{key}");
    }
}

/// The (apiGroup, resource, operation) triples the metadata's rules send to the policy.
fn triples(rules: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for rule in rules.as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                for op in rule["operations"].as_array().unwrap() {
                    out.push((
                        group.as_str().unwrap().to_owned(),
                        resource.as_str().unwrap().to_owned(),
                        op.as_str().unwrap().to_owned(),
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn kubewarden_rules_cover_what_the_rules_judge() {
    let yaml = yaml_file("bundles/kubewarden/metadata.yml");
    let have = triples(&yaml["rules"]);
    let has = |group: &str, resource: &str, op: &str| {
        have.iter()
            .any(|(g, r, o)| g == group && r == resource && o == op)
    };
    let mut missing = Vec::new();
    let mut want = |group: &str, resources: &[&str], ops: &[&str]| {
        for resource in resources {
            for op in ops {
                if !has(group, resource, op) {
                    missing.push(format!("{group}/{resource} {op}"));
                }
            }
        }
    };
    let write = ["CREATE", "UPDATE", "DELETE"];
    want("", &["pods"], &write);
    want("", &["pods/ephemeralcontainers"], &["UPDATE"]);
    want("", &["pods/exec", "pods/attach"], &["CONNECT"]);
    want("", &["replicationcontrollers", "podtemplates"], &write);
    let apps = ["deployments", "replicasets", "statefulsets", "daemonsets"];
    want("apps", &apps, &write);
    want("batch", &["jobs", "cronjobs"], &write);
    let rbac = [
        "roles",
        "rolebindings",
        "clusterroles",
        "clusterrolebindings",
    ];
    want("rbac.authorization.k8s.io", &rbac, &write);
    want("", &["secrets", "configmaps"], &write);
    want("networking.k8s.io", &["networkpolicies"], &write);
    assert!(
        missing.is_empty(),
        "metadata.yml does not send: {missing:?}"
    );
}

#[test]
fn cluster_admission_policy_matches_metadata_and_settings() {
    let policy = yaml_file("bundles/kubewarden/cluster-admission-policy.yaml");
    let metadata = yaml_file("bundles/kubewarden/metadata.yml");
    assert_eq!(policy["apiVersion"], "policies.kubewarden.io/v1");
    assert_eq!(policy["kind"], "ClusterAdmissionPolicy");
    let spec = &policy["spec"];
    assert_eq!(spec["rules"], metadata["rules"]);
    assert_eq!(spec["mutating"], metadata["mutating"]);
    assert_eq!(spec["backgroundAudit"], metadata["backgroundAudit"]);
    assert_eq!(spec["settings"], yaml_file("bundles/settings.example.yaml"));
    assert!(
        spec["module"]
            .as_str()
            .is_some_and(|m| m.starts_with("registry://")),
        "{}",
        spec["module"]
    );
}
