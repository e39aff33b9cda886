// Drives headless Chromium through the DevTools protocol over --remote-debugging-pipe (no npm
// package needed) for host-tests/tests/playground.rs: opens pages, waits until the page says it
// is done (`<html data-state="ready">`, or `failed`), fills inputs, and reports what an
// expression evaluates to in each page. Waiting polls the page, so a busy machine makes the run
// slower, never wrong; only the overall limit ends it.
//
//   node browser.mjs CHROMIUM TIMEOUT_SECONDS < steps.json > results.json
//
// steps.json: [{"url": ..., "inputs": [[element id, value], ...], "expr": ..., "screenshot":
// optional PNG path}]. An input's element gets the value and an `input` event (`change` for a
// <select>), then the page is waited for again. The output holds one value of `expr` per step.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [chromium, timeoutText] = process.argv.slice(2);
const timeout = Number(timeoutText) * 1000;
if (!chromium || !(timeout > 0)) {
  console.error("usage: node browser.mjs CHROMIUM TIMEOUT_SECONDS < steps.json");
  process.exit(2);
}
const steps = JSON.parse(readFileSync(0, "utf8"));
const deadline = Date.now() + timeout;
const POLL_MS = 100;

const profile = mkdtempSync(join(tmpdir(), "runner-policy-chromium-"));
const browser = spawn(chromium, [
  "--headless=new",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  `--user-data-dir=${profile}`,
  "--remote-debugging-pipe",
  "about:blank",
], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] });

// Chromium's last words, shown when something goes wrong.
let stderr = "";
browser.stdio[2].setEncoding("utf8");
browser.stdio[2].on("data", (text) => {
  stderr = (stderr + text).slice(-4000);
});

const cleanUp = () => {
  browser.kill("SIGKILL");
  rmSync(profile, { recursive: true, force: true });
};
const fail = (message) => {
  console.error(`${message}\nChromium's stderr (last lines):\n${stderr}`);
  cleanUp();
  process.exit(1);
};
browser.on("error", (e) => fail(`cannot start ${chromium}: ${e.message}`));
browser.on("exit", (code, signal) => fail(`Chromium exited (${code ?? signal})`));
// The overall limit holds even when Chromium stops answering (the waits below report first,
// with what the page shows).
setTimeout(() => fail(`Chromium did not answer within ${timeoutText} s + 30 s`), timeout + 30000)
  .unref();

// The protocol over the pipe: JSON messages ended by NUL, Chromium reads fd 3, writes fd 4.
const pending = new Map();
let nextId = 1;
let buffer = "";
browser.stdio[4].setEncoding("utf8");
browser.stdio[4].on("data", (text) => {
  buffer += text;
  for (let end = buffer.indexOf("\0"); end >= 0; end = buffer.indexOf("\0")) {
    const message = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    const waiter = pending.get(message.id);
    if (waiter) {
      pending.delete(message.id);
      if (message.error) {
        waiter.reject(new Error(`${waiter.method}: ${message.error.message}`));
      } else {
        waiter.resolve(message.result);
      }
    }
  }
});
const send = (method, params = {}, sessionId = undefined) => new Promise((resolve, reject) => {
  const id = nextId++;
  pending.set(id, { resolve, reject, method });
  browser.stdio[3].write(`${JSON.stringify({ id, method, params, sessionId })}\0`);
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  await page("Emulation.setDeviceMetricsOverride",
    { width: 1400, height: 1000, deviceScaleFactor: 1, mobile: false });

  const evaluate = async (expression) => {
    const answer = await page("Runtime.evaluate",
      { expression, returnByValue: true, awaitPromise: true });
    if (answer.exceptionDetails) {
      throw new Error(`${expression}: ${answer.exceptionDetails.exception?.description ??
        answer.exceptionDetails.text}`);
    }
    return answer.result.value;
  };
  // Polls `test` (an expression) until it is true; a page between documents may not answer.
  const until = async (test, what) => {
    for (;;) {
      try {
        if (await evaluate(test)) return;
      } catch {
        // The document is being replaced: ask again.
      }
      if (Date.now() > deadline) {
        const shown = await evaluate(
          "`${location.href} state=${document.documentElement.dataset.state}\\n${document.body?.innerText}`",
        ).catch((e) => e.message);
        fail(`the page did not become ${what} within ${timeoutText} s; it shows:\n${shown}`);
      }
      await sleep(POLL_MS);
    }
  };
  const settled = 'document.readyState === "complete" && ' +
    '["ready", "failed"].includes(document.documentElement.dataset.state)';

  const results = [];
  for (const step of steps) {
    // Through about:blank, so that the previous page's state is never taken for this one's.
    await page("Page.navigate", { url: "about:blank" });
    await until('location.href === "about:blank"', "blank");
    const url = new URL(step.url).href;
    await page("Page.navigate", { url });
    await until(`location.href === ${JSON.stringify(url)} && ${settled}`, `ready (${url})`);
    for (const [id, value] of step.inputs ?? []) {
      await evaluate(`(() => {
        const element = document.getElementById(${JSON.stringify(id)});
        element.value = ${JSON.stringify(value)};
        const event = element.tagName === "SELECT" ? "change" : "input";
        element.dispatchEvent(new Event(event, { bubbles: true }));
      })()`);
      await until(settled, `ready after setting #${id}`);
    }
    if (step.screenshot) {
      const { data } = await page("Page.captureScreenshot", { format: "png" });
      writeFileSync(step.screenshot, Buffer.from(data, "base64"));
    }
    results.push(await evaluate(step.expr));
  }
  browser.removeAllListeners("exit");
  const exited = new Promise((resolve) => browser.on("exit", resolve));
  await send("Browser.close").catch(() => {});
  await exited;
  rmSync(profile, { recursive: true, force: true });
  process.stdout.write(JSON.stringify(results), () => process.exit(0));
}

main().catch((e) => fail(e.stack ?? String(e)));
