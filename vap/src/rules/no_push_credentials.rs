//! `no-push-credentials`: runner pods of projects not in `pushAllowedProjects` hold no registry
//! push credentials: no Secret of `registryCredentialSecrets` in a volume or env, and no Secret
//! or CSI volume mounted where registry clients read credentials.

use policy::rule_name::RuleName;
use policy::rules::no_push_credentials as push;

use crate::cel::{bind, bind_value, get, get_path, list, lit, present, present_path, re};

use super::Builder;
use super::items::{Items, item_of};

const RULE: RuleName = RuleName::NoPushCredentials;

/// The end of every message: the credential, then what to do.
const HOLDS: &str = "', which holds registry credentials; ' + variables.pushFix";

/// `is_registry_auth_path` of the parts list `ps`.
pub fn auth_parts(b: &Builder<'_>, ps: &str) -> String {
    let files = list(&b.private.auth_files);
    let storage = list(&b.private.storage_parents);
    let at = |i: usize| format!("(size({ps}) >= {i} ? {ps}[size({ps}) - {i}] : '')");
    let auth_dir = |i: usize| {
        format!(
            "({} == 'containers' && !({} in {storage}))",
            at(i),
            at(i + 1)
        )
    };
    format!(
        "({ps}.exists(q, q == '.docker' || q == '..') || {} in {files} || {} || ({}.matches({}) && {}) || ({} == 'registry' && {} == 'helm') || {ps} == ['root'] || (size({ps}) == 2 && {ps}[0] == 'home') || (size({ps}) == 3 && {ps}[0] == 'run' && {ps}[1] == 'user'))",
        at(1),
        auth_dir(1),
        at(1),
        re("^[0-9]+$"),
        auth_dir(2),
        at(1),
        at(2),
    )
}

pub fn build(b: &mut Builder<'_>) {
    let s = b.settings;
    let label = lit(push::PROJECT_LABEL);
    b.variable(
        "pushJudged",
        format!(
            "variables.runnersPod && !({label} in variables.labels && variables.labels[{label}] in {})",
            list(&s.push_allowed_projects)
        ),
    );
    b.variable(
        "pushFix",
        format!(
            "{label} in variables.labels ? 'project ' + variables.labels[{label}] + ' is not in pushAllowedProjects; configure push per job through CI/CD credentials, or add the project to pushAllowedProjects' : {}",
            lit(&format!(
                "the pod has no {} label in pushAllowedProjects; configure push per job through CI/CD credentials",
                push::PROJECT_LABEL
            ))
        ),
    );
    let listed =
        (!s.registry_credential_secrets.is_empty()).then(|| list(&s.registry_credential_secrets));
    if let Some(listed) = &listed {
        listed_volumes(b, listed);
    }
    mounts(b);
    if let Some(listed) = &listed {
        listed_env(b, listed);
    }
}

/// Volumes of a Secret in `registryCredentialSecrets` (`listed`), direct or projected.
fn listed_volumes(b: &mut Builder<'_>, listed: &str) {
    let direct = format!(
        "{} in {listed}",
        get_path("v", &["secret", "secretName"], "''")
    );
    let has_direct = present_path("v", &["secret", "secretName"]);
    let projected = Items::new(
        get_path("v", &["projected", "sources"], "[]"),
        "x",
        format!(
            "{} && x.secret.name in {listed}",
            present_path("x", &["secret", "name"])
        ),
    );
    let volumes = Items::new(
        "variables.volumes",
        "v",
        format!("({has_direct} && {direct}) || {}", projected.exist()),
    );
    b.item_validation(
        RULE,
        "listed Secret volumes",
        "variables.pushJudged",
        &volumes,
        &format!(
            "{} + ' mounts Secret ' + (({has_direct} && {direct}) ? v.secret.secretName : {}.secret.name) + {HOLDS}",
            item_of("volume", "v"),
            projected.first()
        ),
    );
}

/// Env vars and envFrom reading a Secret in `registryCredentialSecrets` (`listed`).
fn listed_env(b: &mut Builder<'_>, listed: &str) {
    let envs = Items::new(
        get("c", "env", "[]"),
        "e",
        format!(
            "({} && e.valueFrom.secretKeyRef.name in {listed})",
            present_path("e", &["valueFrom", "secretKeyRef", "name"])
        ),
    );
    b.item_validation(
        RULE,
        "listed Secret env",
        "variables.pushJudged",
        &Items::containers_with(&envs),
        &envs.with_first(&format!(
            "{} + ' reads ' + {} + ' from Secret ' + e.valueFrom.secretKeyRef.name + {HOLDS}",
            item_of("container", "c"),
            get("e", "name", "''")
        )),
    );
    let froms = Items::new(
        get("c", "envFrom", "[]"),
        "f",
        format!(
            "({} && f.secretRef.name in {listed})",
            present_path("f", &["secretRef", "name"])
        ),
    );
    b.item_validation(
        RULE,
        "listed Secret envFrom",
        "variables.pushJudged",
        &Items::containers_with(&froms),
        &format!(
            "{} + ' loads every key of Secret ' + {}.secretRef.name + {HOLDS}",
            item_of("container", "c"),
            froms.first()
        ),
    );
}

/// `s` (a path) as a list of its parts, without empty ones and `.`.
fn parts(s: &str) -> String {
    format!("{s}.split('/').filter(q, q != '' && q != '.')")
}

/// The parts list `l` as one string, each part followed by `/`, for prefix tests.
fn key(l: &str) -> String {
    format!("{l}.map(q, q + '/').join('')")
}

/// A Secret or CSI volume mounted where registry clients read credentials: at the mount path
/// (with the subPath's backsteps), or a Secret item below it; or where an env var of the
/// container says they are read.
fn mounts(b: &mut Builder<'_>) {
    let sources = get_path("v", &["projected", "sources"], "[]");
    let secret_source = format!(
        "({} || {sources}.exists(x, {}))",
        present("v", "secret"),
        present("x", "secret")
    );
    b.variable(
        "credentialVolumes",
        format!(
            "variables.allVolumes.filter(v, ({secret_source} || {}))",
            present("v", "csi")
        ),
    );
    b.variable(
        "credentialVolumeNames",
        format!(
            "variables.credentialVolumes.map(v, {})",
            get("v", "name", "''")
        ),
    );
    // `f`: where files land (a parts list); at an auth path, or (the second validation)
    // under or above a location an env var names.
    let at_auth = auth_parts(b, "f");
    mounts_where(b, "auth path mounts", &at_auth, None, &secret_source);
    let near_declared = bind(
        "kf",
        &key("f"),
        "dl.exists(ks, ks.exists(k, kf.startsWith(k) || k.startsWith(kf)))",
    );
    let declared = declared_locations(b);
    mounts_where(
        b,
        "mounts where an env var reads credentials",
        &near_declared,
        Some(&declared),
        &secret_source,
    );
}

/// Per container `c`: for each env var naming an auth location, the keys of the locations
/// (`''`: anywhere, when the spec shows no literal absolute path). `ae` and `w` name the
/// filtered env vars and pairs (the cost estimate sizes them as such).
fn declared_locations(b: &Builder<'_>) -> String {
    let vars: Vec<String> = b
        .private
        .auth_vars
        .iter()
        .map(|(v, under)| format!("[{}, {}]", lit(v), lit(under)))
        .collect();
    let var_names: Vec<&str> = b
        .private
        .auth_vars
        .iter()
        .map(|(v, _)| v.as_str())
        .collect();
    let loc = parts("(ae.value + '/' + w[1])");
    format!(
        "{}.filter(ae, {} in {} && ({} != '' || {})).map(ae, [[{}]].map(pv, pv.filter(w, w[0] == ae.name).map(w, {} != '' && ae.value.startsWith('/') && !ae.value.contains('$') ? {} : ''))[0])",
        get("c", "env", "[]"),
        get("ae", "name", "''"),
        list(&var_names),
        get("ae", "value", "''"),
        present("ae", "valueFrom"),
        vars.join(", "),
        get("ae", "value", "''"),
        bind_value("loc", &loc, &format!("'..' in loc ? '' : {}", key("loc"))),
    )
}

/// The validation `part`: a container mounts a credential volume so that files land where
/// `lands_bad` (reading `f`, a parts list) holds. With `declared` (the locations env vars of
/// the container name, bound as `dl`), only containers whose env names some are judged.
/// `secret_source`: whether volume `v` is a Secret one (else CSI), for the message.
fn mounts_where(
    b: &mut Builder<'_>,
    part: &str,
    lands_bad: &str,
    declared: Option<&str>,
    secret_source: &str,
) {
    let placed_item = format!(
        "kir.startsWith(ksp) ? mp + {} : mp + ir",
        parts("kir.replace(ksp, '', 1)")
    );
    let item_bad = bind(
        "ir",
        &parts(&get("i", "path", "''")),
        &bind(
            "kir",
            &key("ir"),
            &format!(
                "(kir.startsWith(ksp) || '..' in ir) && {}",
                bind("f", &placed_item, lands_bad)
            ),
        ),
    );
    let vol_bad = format!(
        "{} || {}.exists(i, {item_bad}) || {}.exists(x, {} && {}.exists(i, {item_bad}))",
        bind("f", "mp + sp.filter(q, q == '..')", lands_bad),
        get_path("vs[0]", &["secret", "items"], "[]"),
        get_path("vs[0]", &["projected", "sources"], "[]"),
        present("x", "secret"),
        get("x.secret", "items", "[]"),
    );
    let bad_mount = bind(
        "vs",
        &format!(
            "variables.credentialVolumes.filter(v, {} == {})",
            get("v", "name", "''"),
            get("m", "name", "''")
        ),
        &format!(
            "size(vs) > 0 && {}",
            bind(
                "mp",
                &parts(&get("m", "mountPath", "''")),
                &bind(
                    "sp",
                    &parts(&get("m", "subPath", "''")),
                    &bind("ksp", &key("sp"), &vol_bad)
                )
            )
        ),
    );
    // Only mounts of Secret and CSI volumes can bring credentials (`cm`: the cost estimate
    // sizes them as such).
    let mounts = Items::new(
        format!(
            "{}.filter(cm, {} in variables.credentialVolumeNames)",
            get("c", "volumeMounts", "[]"),
            get("cm", "name", "''"),
        ),
        "m",
        bad_mount,
    );
    let message = mounts.with_first(&format!(
        "{} + ' mounts ' + (variables.volumes.exists(v, {} == {} && {secret_source}) ? 'a Secret' : 'a CSI volume, whose driver can mount any stored credential,') + ' at ' + m.mountPath + ', where registry clients read push credentials{}; ' + variables.pushFix",
        item_of("container", "c"),
        get("v", "name", "''"),
        get("m", "name", "''"),
        if declared.is_some() {
            " (an env var of the container names it)"
        } else {
            ""
        },
    ));
    let (bad_container, message) = match declared {
        Some(declared) => (
            bind(
                "dl",
                declared,
                &format!("size(dl) > 0 && {}", mounts.exist()),
            ),
            bind_value("dl", declared, &message),
        ),
        None => (mounts.exist(), message),
    };
    b.item_validation(
        RULE,
        part,
        "variables.pushJudged",
        &Items::new("variables.containers", "c", bad_container),
        &message,
    );
}
