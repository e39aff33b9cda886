// Plain Kubernetes objects (manifests) as the admission requests applying them, built as
// `runner-policy check` builds them (runner-policy/src/manifest.rs and k8s.rs). The kind table is
// not copied here: `cargo xtask dist` writes runner-policy/src/kinds.rs into examples.json.

const isMap = (v) => v !== null && typeof v === "object" && !Array.isArray(v);

/** Whether `value` is a Kubernetes object: a string apiVersion and kind and an object metadata
 * (an AdmissionReview, an audit Event and a `*List` are not). */
export function isObject(value) {
  if (!isMap(value)) return false;
  const kind = typeof value.kind === "string" ? value.kind : "";
  return typeof value.apiVersion === "string" && kind !== "" && !kind.endsWith("List") &&
    isMap(value.metadata);
}

const isAdmissionReview = (v) => isMap(v) && v.kind === "AdmissionReview" && isMap(v.request);
const isAuditEvent = (v) => isMap(v) && v.kind === "Event" &&
  typeof v.apiVersion === "string" && v.apiVersion.startsWith("audit.k8s.io/");

/** Every object in `value` (itself, or nested in lists and other documents), in document order,
 * into `objects`; AdmissionReviews and audit events, which this mode does not judge, into
 * `others`. An object's own contents are not searched. */
export function findObjects(value, objects, others) {
  if (isAdmissionReview(value)) {
    others.push("an AdmissionReview");
  } else if (isAuditEvent(value)) {
    others.push("an audit event");
  } else if (isObject(value)) {
    objects.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) findObjects(item, objects, others);
  } else if (isMap(value)) {
    for (const item of Object.values(value)) findObjects(item, objects, others);
  }
}

/** Lowercases ASCII letters only, as Rust's `to_ascii_lowercase`. */
const asciiLower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

/** The kind mapping of `runner-policy check`: `kinds` is [[group, resource, kind, namespaced]]. */
export class Kinds {
  constructor(kinds) {
    this.kinds = kinds;
  }

  /** The resource a kind is served as: the table's, else the lowercase plural the API server's
   * naming convention gives (`Gateway` -> `gateways`, `Policy` -> `policies`). */
  resourceOf(group, kind) {
    const known = this.kinds.find(([g, , k]) => g === group && k === kind);
    if (known) return known[1];
    const lower = asciiLower(kind);
    if (lower.endsWith("y") && !/[aeiou]$/.test(lower.slice(0, -1))) {
      return `${lower.slice(0, -1)}ies`;
    }
    return lower.endsWith("s") ? `${lower}es` : `${lower}s`;
  }

  /** Whether objects of this kind have no namespace (unlisted kinds are taken as namespaced). */
  isClusterScoped(group, kind) {
    return this.kinds.some(([g, , k, namespaced]) => g === group && k === kind && !namespaced);
  }

  /** The AdmissionReview that `operation` (CREATE, UPDATE or DELETE) of `manifest` by
   * `requester` ({username, groups}) sends. A namespaced object without a namespace gets
   * `namespace` (else `default`), in the request and in its metadata. CREATE is what
   * `runner-policy check` sends; UPDATE carries the object as old and new object (an unchanged
   * re-apply), DELETE only as old object. */
  review(manifest, requester, namespace, uid, operation = "CREATE") {
    const object = structuredClone(manifest);
    const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "v1";
    const kind = typeof object.kind === "string" ? object.kind : "";
    const slash = apiVersion.indexOf("/");
    const [group, version] = slash < 0
      ? ["", apiVersion]
      : [apiVersion.slice(0, slash), apiVersion.slice(slash + 1)];
    const metadata = isMap(object.metadata) ? object.metadata : null;
    let ns = metadata?.namespace;
    if (typeof ns !== "string" || ns === "") {
      if (this.isClusterScoped(group, kind)) {
        ns = "";
      } else {
        ns = namespace || "default";
        if (metadata) metadata.namespace = ns;
      }
    }
    const name = [metadata?.name, metadata?.generateName].find((n) => typeof n === "string") ?? "";
    const resource = this.resourceOf(group, kind);
    // The API server gives a Namespace's requests its own name as their namespace.
    const requestNamespace = group === "" && resource === "namespaces" ? name : ns;
    const gvk = { group, version, kind };
    const gvr = { group, version, resource };
    const request = { uid, kind: gvk, resource: gvr, requestKind: gvk, requestResource: gvr };
    if (name !== "") request.name = name;
    if (requestNamespace !== "") request.namespace = requestNamespace;
    request.operation = operation;
    request.userInfo = {
      username: requester.username,
      groups: [...requester.groups, "system:authenticated"],
    };
    request.object = operation === "DELETE" ? null : object;
    request.oldObject = operation === "CREATE" ? null : object;
    request.dryRun = false;
    return { kind: "AdmissionReview", apiVersion: "admission.k8s.io/v1", request };
  }
}
