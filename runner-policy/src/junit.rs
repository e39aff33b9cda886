//! JUnit XML reports, as GitLab reads them (`artifacts:reports:junit`): one `<testsuite>` per
//! run inside `<testsuites>`, one `<testcase>` per judged object, request or golden case, and a
//! `<failure>` on each one that was denied or did not match.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};

/// A report: one test suite.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// The suite's name (`runner-policy check`, ...).
    pub name: String,
    /// The test cases, in the order they were judged.
    pub cases: Vec<Case>,
}

/// One test case.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Case {
    /// Where it came from (the file): GitLab groups test cases by it.
    pub classname: String,
    /// What was judged (`Deployment example-runners/build`, a case name).
    pub name: String,
    /// Why it failed; `None` when it passed.
    pub failure: Option<Failure>,
}

/// Why a test case failed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    /// One line: the rules broken, or the mismatch.
    pub message: String,
    /// Every detail, one line each (each denial's rule, path, container and message).
    pub text: String,
}

impl Report {
    /// A report named `name` with no cases yet.
    pub fn new(name: &str) -> Self {
        Report {
            name: name.to_owned(),
            cases: Vec::new(),
        }
    }

    /// The number of failed cases.
    pub fn failures(&self) -> usize {
        self.cases.iter().filter(|c| c.failure.is_some()).count()
    }

    /// The report as JUnit XML.
    ///
    /// # Examples
    /// ```
    /// use runner_policy::junit::{Case, Failure, Report};
    /// let mut report = Report::new("runner-policy check");
    /// report.cases.push(Case {
    ///     classname: "chart.yaml".into(),
    ///     name: "Pod ci/a&b".into(),
    ///     failure: Some(Failure { message: "dind-only-privilege".into(), text: "<why>".into() }),
    /// });
    /// let xml = report.to_xml();
    /// assert!(xml.contains(r#"<testsuite name="runner-policy check" tests="1" failures="1""#));
    /// assert!(xml.contains(r#"name="Pod ci/a&amp;b""#));
    /// assert!(xml.contains("&lt;why&gt;</failure>"));
    /// ```
    pub fn to_xml(&self) -> String {
        let (tests, failures) = (self.cases.len(), self.failures());
        let name = escape(&self.name);
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\">"
        );
        let _ = writeln!(
            out,
            "  <testsuite name=\"{name}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">"
        );
        for case in &self.cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\"",
                escape(&case.classname),
                escape(&case.name)
            );
            match &case.failure {
                None => out.push_str("/>\n"),
                Some(failure) => {
                    let _ = write!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"denied\">{}</failure>\n    </testcase>\n",
                        escape(&failure.message),
                        escape(&failure.text)
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n</testsuites>\n");
        out
    }

    /// Writes the XML to `path`.
    ///
    /// # Errors
    /// When the file cannot be written.
    pub fn write(&self, path: &Path) -> Result<()> {
        std::fs::write(path, self.to_xml())
            .with_context(|| format!("cannot write the JUnit report {}", path.display()))
    }
}

/// `text` as XML character data or attribute value: the five markup characters as entities,
/// line breaks and tabs as character references (attribute values would fold them into
/// spaces), and characters XML 1.0 cannot carry at all (other control characters, lone
/// surrogates cannot occur in a `str`, U+FFFE and U+FFFF) as U+FFFD.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{Case, Failure, Report, escape};

    #[test]
    fn markup_and_characters_xml_cannot_carry_are_escaped() {
        assert_eq!(
            escape("a<b>&\"c\"'d'\n\t\r\u{1}\u{FFFF}é"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;&#10;&#9;&#13;\u{FFFD}\u{FFFD}é"
        );
    }

    #[test]
    fn passed_and_failed_cases_are_counted() {
        let case = |name: &str, failed: bool| Case {
            classname: "f.yaml".into(),
            name: name.into(),
            failure: failed.then(|| Failure {
                message: "m".into(),
                text: "t".into(),
            }),
        };
        let report = Report {
            name: "s".into(),
            cases: vec![case("a", false), case("b", true), case("c", true)],
        };
        let xml = report.to_xml();
        assert!(
            xml.contains("<testsuites name=\"s\" tests=\"3\" failures=\"2\" errors=\"0\">"),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase classname=\"f.yaml\" name=\"a\"/>"),
            "{xml}"
        );
        assert_eq!(xml.matches("<failure ").count(), 2, "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 3, "{xml}");
    }
}
