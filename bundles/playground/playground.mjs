// The runner-policy playground: the module evaluated in the browser through the official OPA
// JS SDK. `cargo xtask dist` writes it, with the module, the SDK and the recorded examples, to
// bundles/dist/playground/. `?example=NAME` opens that example. With `?selftest` the page
// evaluates every example with the example settings and writes the decisions into #selftest
// (host-tests/tests/playground.rs reads them).

// The SDK's browser build exports one default object.
import opa from "./opa-wasm.esm.js";

const { loadPolicy } = opa;

const $ = (id) => document.getElementById(id);
const ENTRYPOINTS = ["runners/decision", "runners/main", "runners/violation"];

/** Evaluates `input` (a JS value) at `entrypoint` with the data set last; the result of the set. */
function evaluate(policy, input, entrypoint) {
  const results = policy.evaluate(input, entrypoint);
  if (!Array.isArray(results) || results.length !== 1) {
    throw new Error(`the module answered no single result: ${JSON.stringify(results)}`);
  }
  return results[0].result;
}

function render(decision, result, micros) {
  const verdict = $("verdict");
  verdict.className = decision.allowed ? "ALLOW" : "DENY";
  verdict.textContent = decision.allowed ? "ALLOW" : "DENY";
  $("meta").textContent =
    `runner: ${decision.runner ?? "-"} · ${micros.toFixed(1)} us per evaluation in this browser (mean of 200)`;
  const table = $("violations");
  table.replaceChildren();
  if (decision.violations.length > 0) {
    const head = table.insertRow();
    for (const name of ["rule", "path", "container", "message"]) {
      const th = document.createElement("th");
      th.textContent = name;
      head.appendChild(th);
    }
  }
  for (const v of decision.violations) {
    const row = table.insertRow();
    for (const text of [v.rule, v.path || "-", v.container ?? "-", v.msg]) {
      const cell = row.insertCell();
      const code = document.createElement("code");
      code.textContent = text;
      cell.appendChild(code);
    }
  }
  $("raw").value = JSON.stringify(result, null, 2);
}

function showError(message) {
  const verdict = $("verdict");
  verdict.className = "ERROR";
  verdict.textContent = message;
  $("meta").textContent = "";
  $("violations").replaceChildren();
  $("raw").value = "";
}

async function main() {
  const [wasm, examples] = await Promise.all([
    fetch("policy.wasm").then((r) => r.arrayBuffer()),
    fetch("examples.json").then((r) => r.json()),
  ]);
  const policy = await loadPolicy(wasm);

  if (new URLSearchParams(location.search).has("selftest")) {
    const decisions = {};
    policy.setData(examples.settings);
    for (const example of examples.examples) {
      decisions[example.name] = evaluate(policy, example.review, "runners/decision");
    }
    $("selftest").textContent = JSON.stringify(decisions);
  }

  for (const example of examples.examples) {
    const option = new Option(`${example.name} (${example.expect})`, example.name);
    $("example").appendChild(option);
  }
  for (const entrypoint of ENTRYPOINTS) {
    $("entrypoint").appendChild(new Option(entrypoint, entrypoint));
  }
  $("settings").value = JSON.stringify(examples.settings, null, 2);

  // The data document is set again only when the settings text changes.
  let settingsText = null;
  const run = () => {
    let input;
    if ($("settings").value !== settingsText) {
      try {
        policy.setData(JSON.parse($("settings").value));
        settingsText = $("settings").value;
      } catch (e) {
        settingsText = null;
        return showError(`settings are not JSON: ${e.message}`);
      }
    }
    try {
      input = JSON.parse($("request").value);
    } catch (e) {
      return showError(`the input is not JSON: ${e.message}`);
    }
    const entrypoint = $("entrypoint").value;
    try {
      const decision = evaluate(policy, input, "runners/decision");
      // Timed over many runs: browsers coarsen performance.now() to 5-100 us.
      const runs = 200;
      const started = performance.now();
      for (let i = 0; i < runs; i++) policy.evaluate(input, "runners/decision");
      const micros = ((performance.now() - started) * 1000) / runs;
      const result = entrypoint === "runners/decision"
        ? decision
        : evaluate(policy, input, entrypoint);
      render(decision, result, micros);
    } catch (e) {
      showError(`the module failed: ${e.message}`);
    }
  };
  const pick = () => {
    const example = examples.examples.find((e) => e.name === $("example").value);
    $("request").value = JSON.stringify(example.review, null, 2);
    run();
  };
  let timer;
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  };
  // `?example=NAME` opens that example: a link to a decision.
  const wanted = new URLSearchParams(location.search).get("example");
  if (examples.examples.some((e) => e.name === wanted)) {
    $("example").value = wanted;
  }
  $("example").addEventListener("change", pick);
  $("entrypoint").addEventListener("change", run);
  $("request").addEventListener("input", later);
  $("settings").addEventListener("input", later);
  pick();
}

main().catch((e) => showError(`cannot start: ${e.message}`));
