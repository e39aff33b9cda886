// The runner-policy playground: the module evaluated in the browser through the official OPA
// JS SDK. `cargo xtask dist` writes it to bundles/dist/playground/ with the module, the SDK,
// js-yaml's ES module build and examples.json (the recorded requests, the example settings and
// the kind table of `runner-policy check`).
//
// URL parameters: `example=` a recorded request by case name or file path (as the README names
// them: `docker/privileged-pod.json` or `host-tests/requests/docker/privileged-pod.json`);
// `mode=manifest` opens the manifest + requester input; `selftest` evaluates every example with
// the example settings and writes the decisions into #selftest (host-tests/tests/playground.rs
// reads them). The <html> element's `data-state` is `ready` once the page has decided what it
// shows (`busy` while an edit waits to be judged, `failed` when the page cannot start).

import opa from "./opa-wasm.esm.js";
import { CORE_SCHEMA, dump, load, loadAll } from "./yaml.mjs";
import { Kinds, findObjects } from "./manifest.mjs";

// The SDK's browser build exports one default object.
const { loadPolicy } = opa;

const $ = (id) => document.getElementById(id);
const ENTRYPOINTS = ["runners/decision", "runners/main", "runners/violation"];
const REQUESTS_DIR = "host-tests/requests/";
// The core schema reads what serde_yaml reads: no timestamps, binary or merge keys.
const YAML = { schema: CORE_SCHEMA };

const setState = (state) => {
  document.documentElement.dataset.state = state;
};

/** Evaluates `input` (a JS value) at `entrypoint` with the data set last; the result of the set. */
function evaluate(policy, input, entrypoint) {
  const results = policy.evaluate(input, entrypoint);
  if (!Array.isArray(results) || results.length !== 1) {
    throw new Error(`the module answered no single result: ${JSON.stringify(results)}`);
  }
  return results[0].result;
}

/** A JSON or YAML document: JSON is read as JSON, so that its error names the JSON mistake. */
function readDocument(text, what) {
  if (text.trim() === "") throw new Error(`${what} is empty`);
  if (/^\s*[[{]/.test(text)) {
    try {
      return JSON.parse(text);
    } catch (e) {
      // Flow-style YAML starts with a brace too.
      try {
        return load(text, YAML);
      } catch {
        throw new Error(`${what} is not JSON: ${e.message}`);
      }
    }
  }
  try {
    return load(text, YAML);
  } catch (e) {
    throw new Error(`${what} is not YAML: ${e.message}`);
  }
}

/** A violation path in <code>, breakable only before "." and "[" (never inside a name). */
function pathCode(text) {
  const code = document.createElement("code");
  text.split(/(?=[.[])/).forEach((part, i) => {
    if (i > 0) code.append(document.createElement("wbr"));
    code.append(part);
  });
  return code;
}

const COLUMNS = ["rule", "path", "container"];

/** The violations table: per violation a row of rule, path and container, and one of its
 * message below (a message is too long for a column); in the manifest mode, a heading row
 * per judged object. `rows` holds {object} or {violation}. */
function renderViolations(rows) {
  const table = $("violations");
  table.replaceChildren();
  if (rows.length === 0) return;
  const head = table.createTHead().insertRow();
  for (const name of COLUMNS) {
    const th = document.createElement("th");
    th.textContent = name;
    head.appendChild(th);
  }
  const body = table.createTBody();
  const wide = (kind, text) => {
    const row = body.insertRow();
    row.className = kind;
    const td = row.insertCell();
    td.colSpan = COLUMNS.length;
    td.textContent = text;
  };
  for (const { object, violation: v } of rows) {
    if (object !== undefined) {
      wide("object", object);
      continue;
    }
    const row = body.insertRow();
    row.className = "violation";
    const cell = (content) => {
      const td = row.insertCell();
      const code = typeof content === "string" ? document.createElement("code") : content;
      if (typeof content === "string") code.textContent = content;
      td.appendChild(code);
      return td;
    };
    cell(v.rule);
    cell(pathCode(v.path || "-")).className = "path";
    cell(v.container ?? "-");
    wide("message", v.msg);
  }
}

function renderVerdict(allowed, meta) {
  const verdict = $("verdict");
  verdict.className = allowed ? "ALLOW" : "DENY";
  verdict.textContent = allowed ? "ALLOW" : "DENY";
  $("meta").textContent = meta;
}

function showError(message) {
  const verdict = $("verdict");
  verdict.className = "ERROR";
  verdict.textContent = message;
  $("meta").textContent = "";
  $("violations").replaceChildren();
  $("raw").value = "";
  $("built").value = "";
}

function showNotice(message) {
  $("notice").textContent = message;
  $("notice").hidden = message === "";
}

/** The runners namespace the settings name, if they can be read. */
function runnersNamespace(settings) {
  if (typeof settings?.runnersNamespace === "string") return settings.runnersNamespace;
  return typeof settings?.org === "string" ? `${settings.org}-runners` : null;
}

async function main() {
  const [wasm, bundle] = await Promise.all([
    fetch("policy.wasm").then((r) => r.arrayBuffer()),
    fetch("examples.json").then((r) => r.json()),
  ]);
  const policy = await loadPolicy(wasm);
  const examples = bundle.examples;
  const kinds = new Kinds(bundle.kinds);
  const params = new URLSearchParams(location.search);

  if (params.has("selftest")) {
    const decisions = {};
    policy.setData(load(bundle.settingsYaml, YAML));
    for (const example of examples) {
      decisions[example.name] = evaluate(policy, example.review, "runners/decision");
    }
    $("selftest").textContent = JSON.stringify(decisions);
  }

  for (const example of examples) {
    const label = `${example.request}: ${example.expect}`;
    $("example").appendChild(new Option(label, example.name));
  }
  for (const entrypoint of ENTRYPOINTS) {
    $("entrypoint").appendChild(new Option(entrypoint, entrypoint));
  }
  $("settings").value = bundle.settingsYaml;

  // The data document is set again only when the settings text changes.
  let settingsText = null;
  let settings = null;
  const applySettings = () => {
    if ($("settings").value === settingsText) return;
    settingsText = null;
    settings = readDocument($("settings").value, "the settings");
    policy.setData(settings);
    settingsText = $("settings").value;
  };

  const judgeReview = (entrypoint) => {
    const input = readDocument($("request").value, "the input");
    const decision = evaluate(policy, input, "runners/decision");
    // Timed over many runs: browsers coarsen performance.now() to 5-100 us.
    const runs = 200;
    const started = performance.now();
    for (let i = 0; i < runs; i++) policy.evaluate(input, "runners/decision");
    const micros = ((performance.now() - started) * 1000) / runs;
    renderVerdict(decision.allowed,
      `runner: ${decision.runner ?? "-"} · ${micros.toFixed(1)} us per evaluation in this browser (mean of ${runs})`);
    renderViolations(decision.violations.map((violation) => ({ violation })));
    const result = entrypoint === "runners/decision" ? decision : evaluate(policy, input, entrypoint);
    $("raw").value = JSON.stringify(result, null, 2);
  };

  const judgeManifests = (entrypoint) => {
    let documents;
    try {
      documents = loadAll($("manifest").value, null, YAML);
    } catch (e) {
      throw new Error(`the manifests are not YAML or JSON: ${e.message}`);
    }
    const objects = [];
    const others = [];
    findObjects(documents, objects, others);
    const skipped = others.length === 0
      ? ""
      : ` (${others.length} ${others.length === 1 ? "document is" : "documents are"} not plain objects: ${[...new Set(others)].join(", ")}; pick the AdmissionReview input for those)`;
    if (objects.length === 0) {
      throw new Error(`no Kubernetes object (apiVersion, kind and metadata) in the manifests${skipped}`);
    }
    const username = $("as").value.trim();
    if (username === "") {
      throw new Error("name the requester: every rule depends on who applies the objects");
    }
    const requester = {
      username,
      groups: $("groups").value.split(",").map((g) => g.trim()).filter((g) => g !== ""),
    };
    const operation = $("operation").value;
    const namespace = $("namespace").value.trim();
    const reviews = objects.map((object, i) =>
      kinds.review(object, requester, namespace, `playground#${i + 1}`, operation));
    const decisions = reviews.map((review) => evaluate(policy, review, "runners/decision"));
    const rows = [];
    decisions.forEach((decision, i) => {
      const { kind, namespace: ns, name } = reviews[i].request;
      const verdict = decision.allowed ? "ALLOW" : "DENY";
      rows.push({ object: `${kind.kind} ${ns ? `${ns}/` : ""}${name ?? ""}: ${verdict}` });
      for (const violation of decision.violations) rows.push({ violation });
    });
    const denied = decisions.filter((d) => !d.allowed).length;
    const runners = runnersNamespace(settings);
    const outside = runners !== null && reviews.every((r) => r.request.namespace !== runners)
      ? ` None is in the runners namespace ${runners}, where the runner rules apply: set the namespace?`
      : "";
    const count = objects.length === 1 ? "1 object" : `${objects.length} objects`;
    renderVerdict(denied === 0,
      `${count} judged as ${operation} by ${username}: ${denied} denied.${outside}${skipped}`);
    renderViolations(rows);
    $("built").value = JSON.stringify(reviews, null, 2);
    const results = entrypoint === "runners/decision"
      ? decisions
      : reviews.map((review) => evaluate(policy, review, entrypoint));
    $("raw").value = JSON.stringify(results, null, 2);
  };

  const manifestMode = () => $("mode").value === "manifest";
  const run = () => {
    try {
      applySettings();
    } catch (e) {
      showError(e.message);
      setState("ready");
      return;
    }
    const entrypoint = $("entrypoint").value;
    try {
      if (manifestMode()) {
        judgeManifests(entrypoint);
      } else {
        judgeReview(entrypoint);
      }
    } catch (e) {
      showError(e.message);
    }
    setState("ready");
  };

  const showMode = () => {
    $("review-input").hidden = manifestMode();
    $("manifest-input").hidden = !manifestMode();
    $("built-output").hidden = !manifestMode();
  };

  /** Fills both inputs from an example: its review, and its object with its requester. */
  const fill = (example) => {
    $("request").value = JSON.stringify(example.review, null, 2);
    const request = example.review.request ?? {};
    const operation = ["CREATE", "UPDATE", "DELETE"].includes(request.operation)
      ? request.operation
      : "CREATE";
    const object = request.object ?? request.oldObject;
    $("manifest").value = object ? dump(object, { ...YAML, lineWidth: -1, noRefs: true }) : "";
    $("as").value = request.userInfo?.username ?? "";
    $("groups").value = (request.userInfo?.groups ?? [])
      .filter((g) => g !== "system:authenticated").join(", ");
    $("namespace").value = request.namespace ?? "";
    $("operation").value = operation;
  };

  const find = (wanted) => {
    const relative = wanted.replace(/^\.\//, "");
    const path = relative.startsWith(REQUESTS_DIR) ? relative.slice(REQUESTS_DIR.length) : relative;
    return examples.find((e) => e.name === wanted || e.request === path);
  };

  const pick = () => {
    const example = examples.find((e) => e.name === $("example").value);
    if (!example) return;
    showNotice("");
    fill(example);
    const mode = manifestMode() ? "&mode=manifest" : "";
    history.replaceState(null, "", `?example=${encodeURI(example.request)}${mode}`);
    run();
  };

  let timer;
  const later = () => {
    setState("busy");
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  };
  const now = (handler) => () => {
    setState("busy");
    handler();
  };
  $("example").addEventListener("change", now(pick));
  $("entrypoint").addEventListener("change", now(run));
  $("operation").addEventListener("change", now(run));
  $("mode").addEventListener("change", now(() => {
    showMode();
    run();
  }));
  for (const id of ["request", "settings", "manifest", "as", "groups", "namespace"]) {
    $(id).addEventListener("input", later);
  }

  if (params.get("mode") === "manifest") $("mode").value = "manifest";
  showMode();
  const wanted = params.get("example");
  const example = wanted === null
    ? examples.find((e) => e.name === bundle.default)
    : find(wanted);
  if (example) {
    $("example").value = example.name;
    fill(example);
    run();
  } else {
    // A link to an example that is not there says so, instead of showing another one.
    const placeholder = new Option("(choose an example)", "");
    placeholder.disabled = true;
    $("example").prepend(placeholder);
    $("example").value = "";
    const message = `No example "${wanted}": give a case name of host-tests/requests/suite.yaml ` +
      `or a file under ${REQUESTS_DIR} (for example docker/privileged-pod.json), or choose one ` +
      "from the list.";
    showNotice(message);
    showError(`example "${wanted}" not found`);
    setState("ready");
  }
}

main().catch((e) => {
  showError(`cannot start: ${e.message}`);
  setState("failed");
});
