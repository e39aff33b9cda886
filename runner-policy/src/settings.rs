//! Settings files: the data document of the module.

use std::path::Path;

use anyhow::{Context, Result};
use policy::settings::Settings;
use serde_json::Value;

/// `bundles/settings.example.yaml` (org `example`), embedded at build time.
pub const EXAMPLE_YAML: &str = include_str!("../../bundles/settings.example.yaml");

/// Parses settings text, JSON or YAML (JSON is tried first: it is stricter and faster).
///
/// # Errors
/// When the text is neither valid JSON nor valid YAML.
pub fn parse(text: &str) -> Result<Value> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    serde_yaml::from_str(text).context("settings are neither valid JSON nor valid YAML")
}

/// The bundled example settings.
///
/// # Errors
/// Never in practice: the file is checked by the tests.
pub fn example() -> Result<Value> {
    parse(EXAMPLE_YAML).context("bundled bundles/settings.example.yaml")
}

/// Reads settings from `path`, or the bundled example settings when `path` is `None`.
///
/// # Errors
/// When the file cannot be read or parsed.
///
/// # Examples
/// ```
/// let settings = runner_policy::settings::load(None)?;
/// assert_eq!(settings["org"], "example");
/// # anyhow::Ok(())
/// ```
pub fn load(path: Option<&Path>) -> Result<Value> {
    match path {
        None => example(),
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read settings file {}", path.display()))?;
            parse(&text).with_context(|| format!("in settings file {}", path.display()))
        }
    }
}

/// What the user calls the settings at `path`: the file, or the bundled example.
pub fn name(path: Option<&Path>) -> String {
    path.map_or_else(
        || "the bundled example settings".to_owned(),
        |p| p.display().to_string(),
    )
}

/// Validates settings as the module reads its data document (the same Rust code).
///
/// # Errors
/// Every problem, one sentence each, naming the setting (`settings.allowedRegistries: ...`).
pub fn validate(value: &Value) -> Result<Settings, Vec<String>> {
    let text = serde_json::to_vec(value).map_err(|e| vec![e.to_string()])?;
    policy::eval::data_settings(Some(&text)).map_err(|violations| {
        violations
            .into_iter()
            .map(|violation| {
                // The module's messages name the rule and the engine's settings document; a
                // person reading about one file needs neither.
                let msg = violation.msg.as_str();
                let msg = msg
                    .strip_prefix(&format!("{}: ", violation.rule.as_str()))
                    .unwrap_or(msg);
                suggest(msg.strip_prefix("invalid policy settings: ").unwrap_or(msg))
            })
            .collect()
    })
}

/// An `unknown setting (known: a, b, ...)` problem (or unknown field) with the known name the
/// unknown one most likely misspells put first, `did you mean `a`?`; other problems as they are.
/// Done here, not in the module, whose size budget has no room for it.
fn suggest(problem: &str) -> String {
    let Some((head, known)) = problem
        .strip_suffix(')')
        .and_then(|p| p.split_once(" (known: "))
    else {
        return problem.to_owned();
    };
    let unknown = head
        .split_once(": unknown ")
        .map(|(path, _)| path.rsplit(['.', ']']).next().unwrap_or(path));
    match unknown.and_then(|key| closest(key, known.split(", "))) {
        Some(name) => format!("{head}; did you mean `{name}`?"),
        None => problem.to_owned(),
    }
}

/// The name among `known` that `key` most likely misspells: the nearest by edit distance (ASCII
/// case ignored), if at most a third of its letters differ.
pub fn closest<'k>(key: &str, known: impl IntoIterator<Item = &'k str>) -> Option<&'k str> {
    known
        .into_iter()
        .map(|name| (edit_distance(key, name), name))
        .filter(|(distance, name)| *distance <= name.len() / 3)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// Levenshtein distance over bytes, ASCII case ignored.
fn edit_distance(a: &str, b: &str) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, x) in a.bytes().enumerate() {
        let mut row = vec![i + 1];
        for (j, y) in b.bytes().enumerate() {
            let substitution = previous[j] + usize::from(!x.eq_ignore_ascii_case(&y));
            row.push(substitution.min(previous[j + 1] + 1).min(row[j] + 1));
        }
        previous = row;
    }
    previous[b.len()]
}

/// The report on invalid settings that every command gives: `NAME: invalid, N problems` and
/// one `  - problem` line each.
pub fn report(name: &str, problems: &[String]) -> String {
    let mut out = match problems.len() {
        1 => format!("{name}: invalid, 1 problem\n"),
        n => format!("{name}: invalid, {n} problems\n"),
    };
    for problem in problems {
        out.push_str(&format!("  - {problem}\n"));
    }
    out
}

/// [`load`], then [`validate`]: the settings as JSON and as the module reads them.
///
/// # Errors
/// When the file cannot be read or parsed, or the settings are invalid (the error is the
/// [`report`]).
///
/// # Examples
/// ```
/// let (value, settings) = runner_policy::settings::load_valid(None)?;
/// assert_eq!(settings.runners_namespace, "example-runners");
/// assert_eq!(value["org"], "example");
/// # anyhow::Ok(())
/// ```
pub fn load_valid(path: Option<&Path>) -> Result<(Value, Settings)> {
    let value = load(path)?;
    match validate(&value) {
        Ok(settings) => Ok((value, settings)),
        Err(problems) => Err(anyhow::anyhow!(
            "{}",
            report(&name(path), &problems).trim_end()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{closest, edit_distance, validate};
    use serde_json::json;

    #[test]
    fn an_unknown_key_names_the_setting_it_most_likely_misspells() {
        let known = [
            "org",
            "runnersNamespace",
            "allowedRegistries",
            "exemptUsers",
        ];
        let cases = [
            ("allowedRegistry", Some("allowedRegistries")),
            ("AllowedRegistries", Some("allowedRegistries")),
            ("runnerNamespace", Some("runnersNamespace")),
            ("orgs", Some("org")),
            ("exemptusers", Some("exemptUsers")),
            ("typo", None),
            ("", None),
        ];
        for (key, want) in cases {
            assert_eq!(closest(key, known), want, "{key}");
        }
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }

    #[test]
    fn validation_reports_suggestions_for_settings_and_runner_fields() {
        let mut settings = super::example().unwrap();
        settings["allowedRegistrie"] = json!(["quay.io"]);
        settings["colour"] = json!("blue");
        settings["runners"][0]["serviceAcount"] = json!("x");
        let problems = validate(&settings).unwrap_err();
        let joined = problems.join("\n");
        for want in [
            "settings.allowedRegistrie: unknown setting; did you mean `allowedRegistries`?",
            "settings.runners[0].serviceAcount: unknown field; did you mean `serviceAccount`?",
            "settings.colour: unknown setting (known: org, runnersNamespace, ",
        ] {
            assert!(joined.contains(want), "{want}\n{joined}");
        }
        // The module's wording is left out: the rule name and the engine's settings document.
        assert!(
            problems.iter().all(|p| p.starts_with("settings.")),
            "{joined}"
        );
    }
}
