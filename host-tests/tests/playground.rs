//! The browser playground (`bundles/playground/`, written with the module, the official JS SDK
//! and the recorded examples to `bundles/dist/playground/` by `cargo xtask dist`), loaded in
//! headless Chromium: every recorded example gets the decision the wasmtime host gives it, and
//! the page renders the first one.
//!
//! Needs Chromium (`apt-get install chromium`; `cargo xtask test` installs it) or
//! `RUNNER_POLICY_CHROMIUM=path`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use host_tests::host::{Runtime, default_module_path, workspace_root};
use serde_json::Value;

/// Serves `dir` over HTTP on a free local port until the process ends; returns the port.
fn serve(dir: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut line = String::new();
            if BufReader::new(&stream).read_line(&mut line).is_err() {
                continue;
            }
            let path = line.split_whitespace().nth(1).unwrap_or("/");
            let path = path
                .split('?')
                .next()
                .unwrap_or("/")
                .trim_start_matches('/');
            let path = if path.is_empty() { "index.html" } else { path };
            let file = dir.join(path);
            let kind = match Path::new(path).extension().and_then(|e| e.to_str()) {
                Some("html") => "text/html",
                Some("mjs" | "js") => "text/javascript",
                Some("json") => "application/json",
                Some("wasm") => "application/wasm",
                _ => "application/octet-stream",
            };
            let response = match std::fs::read(&file) {
                Ok(body) if !path.contains("..") => {
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    [head.into_bytes(), body].concat()
                }
                _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_vec(),
            };
            let _ = stream.write_all(&response);
        }
    });
    port
}

fn chromium() -> PathBuf {
    if let Some(path) = std::env::var_os("RUNNER_POLICY_CHROMIUM") {
        return PathBuf::from(path);
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find(|name| {
            Command::new(name)
                .arg("--version")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(PathBuf::from)
        .expect("no Chromium: `apt-get install chromium` (cargo xtask test does), or set RUNNER_POLICY_CHROMIUM")
}

/// The page's DOM after its scripts ran, as headless Chromium dumps it.
fn dump_dom(url: &str) -> String {
    let mut child = Command::new(chromium())
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=30000",
            "--dump-dom",
            url,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start Chromium");
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("Chromium did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let output = child.wait_with_output().unwrap();
    String::from_utf8(output.stdout).unwrap()
}

/// The text of the element whose start tag begins with `start`, HTML entities undone.
fn text_of<'d>(dom: &'d str, start: &str) -> String {
    let from = dom
        .find(start)
        .unwrap_or_else(|| panic!("no {start} in the page:\n{dom}"));
    let body: &'d str = &dom[from..];
    let open = body.find('>').unwrap() + 1;
    let close = body[open..].find("</").unwrap() + open;
    body[open..close]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[test]
fn the_playground_decides_every_example_as_wasmtime_does() {
    let dir = workspace_root().join("bundles/dist/playground");
    let examples: Value = serde_json::from_slice(
        &std::fs::read(dir.join("examples.json")).expect("run `cargo xtask dist` first"),
    )
    .unwrap();
    let port = serve(dir);
    let dom = dump_dom(&format!("http://127.0.0.1:{port}/index.html?selftest"));
    let browser: Value = serde_json::from_str(&text_of(&dom, "<pre id=\"selftest\""))
        .unwrap_or_else(|e| panic!("the page wrote no decisions ({e}):\n{dom}"));

    let runtime = Runtime::load(&default_module_path()).unwrap();
    let mut policy = runtime.instantiate(&examples["settings"]).unwrap();
    let list = examples["examples"].as_array().unwrap();
    assert!(list.len() >= 70, "{} examples", list.len());
    for example in list {
        let name = example["name"].as_str().unwrap();
        let input = serde_json::to_vec(&example["review"]).unwrap();
        let want = policy.evaluate("runners/decision", &input).unwrap();
        assert_eq!(browser[name], want, "{name}");
        let expect = example["expect"].as_str().unwrap();
        assert_eq!(
            want["allowed"] == true,
            expect == "allow",
            "{name}: {expect}"
        );
    }

    // The page shows the first example: its verdict and one table row per violation.
    let first = &browser[list[0]["name"].as_str().unwrap()];
    let verdict = if first["allowed"] == true {
        "ALLOW"
    } else {
        "DENY"
    };
    assert_eq!(text_of(&dom, "<div id=\"verdict\""), verdict);
    assert!(
        dom.contains(&format!("<div id=\"verdict\" class=\"{verdict}\">")),
        "{dom}"
    );
    let rows = first["violations"].as_array().unwrap().len();
    assert_eq!(
        dom.matches("<tr>").count(),
        if rows == 0 { 0 } else { rows + 1 },
        "{dom}"
    );
}
