//! What the summary counts: requests, denials by rule and requester, audit events.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use super::judge::Judged;
use super::rebuild::Audited;
use crate::audit::{AuditLog, Event, Note, Rebuilt};
use crate::junit;

/// What the summary counts of the judged requests.
pub(super) struct Tally {
    pub(super) total: usize,
    pub(super) denied: usize,
    pub(super) by_rule: BTreeMap<String, RuleTally>,
    pub(super) junit: Option<junit::Report>,
}

impl Tally {
    pub(super) fn add(&mut self, judged: Judged) {
        if let (Some(report), Some(case)) = (&mut self.junit, judged.case) {
            report.cases.push(case);
        }
        self.total += 1;
        if !judged.allowed {
            self.denied += 1;
            for rule in judged.rules {
                let tally = self.by_rule.entry(rule).or_default();
                tally.count += 1;
                *tally.users.entry(judged.user.clone()).or_default() += 1;
            }
        }
    }
}

/// The denials of one rule, and whose requests they were: a rollout's first question is
/// whether one identity accounts for most of them.
#[derive(Default)]
pub(super) struct RuleTally {
    pub(super) count: usize,
    pub(super) users: BTreeMap<String, usize>,
}

impl RuleTally {
    /// The three identities denied most often, with their counts, and how many others.
    pub(super) fn top_users(&self) -> String {
        const SHOWN: usize = 3;
        let mut users: Vec<(&String, &usize)> = self.users.iter().collect();
        users.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let mut text = users
            .iter()
            .take(SHOWN)
            .map(|(user, n)| format!("{} {n}", if user.is_empty() { "(no user)" } else { user }))
            .collect::<Vec<_>>()
            .join(", ");
        match users.len().saturating_sub(SHOWN) {
            0 => {}
            1 => text.push_str(", 1 more identity"),
            more => text.push_str(&format!(", {more} more identities")),
        }
        text
    }
}

/// What became of the audit events of a replay.
#[derive(Default)]
pub(super) struct AuditTally {
    pub(super) log: AuditLog,
    pub(super) events: usize,
    pub(super) unreadable: usize,
    pub(super) notes: BTreeMap<Note, usize>,
}

impl AuditTally {
    /// The admission request an audit event was, with the note its line carries, and the event
    /// (to be freed by a worker); `None` when it is not replayed (counted) or cannot be read
    /// (warned about).
    pub(super) fn rebuild(
        &mut self,
        event: Audited,
        file: &Path,
    ) -> Option<(Box<Rebuilt>, String, Box<Event>)> {
        self.events += 1;
        let event = match event {
            Audited::Value(value) => serde_json::from_value(value).map(Box::new),
            Audited::Read(event) => event,
        };
        let event: Box<Event> = match event {
            Ok(event) => event,
            Err(e) => {
                self.unreadable += 1;
                eprintln!(
                    "warning: {}: an audit event cannot be read: {e}",
                    file.display()
                );
                return None;
            }
        };
        let request = self.log.request(&event).ok()?;
        let note = match request.note {
            Some(note) => {
                *self.notes.entry(note).or_default() += 1;
                format!("  {}", note.text())
            }
            None => String::new(),
        };
        Some((Box::new(request), note, event))
    }

    /// Adds what became of the audit events to `out`.
    pub(super) fn report(&self, out: &mut String) {
        if self.events == 0 {
            return;
        }
        let skipped: usize = self.log.skipped.values().sum();
        let _ = writeln!(
            out,
            "\naudit events: {} read, {} replayed as admission requests, {skipped} skipped, {} unreadable",
            self.events,
            self.events - skipped - self.unreadable,
            self.unreadable
        );
        for (skip, count) in &self.log.skipped {
            let _ = writeln!(out, "  {count:7}  {}", skip.reason());
        }
        for (note, count) in &self.notes {
            let _ = writeln!(out, "  {count} {}", note.summary());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RuleTally;

    #[test]
    fn a_rules_tally_names_the_identities_denied_most() {
        let cases: [(&[(&str, usize)], &str); 4] = [
            (&[("a", 1)], "a 1"),
            (&[("a", 1), ("b", 3), ("", 2)], "b 3, (no user) 2, a 1"),
            (
                &[("a", 1), ("b", 1), ("c", 1), ("d", 1)],
                "a 1, b 1, c 1, 1 more identity",
            ),
            (
                &[("a", 5), ("b", 1), ("c", 1), ("d", 1), ("e", 9)],
                "e 9, a 5, b 1, 2 more identities",
            ),
        ];
        for (users, want) in cases {
            let tally = RuleTally {
                count: users.iter().map(|(_, n)| n).sum(),
                users: users.iter().map(|(u, n)| ((*u).to_owned(), *n)).collect(),
            };
            assert_eq!(tally.top_users(), want);
        }
    }
}
