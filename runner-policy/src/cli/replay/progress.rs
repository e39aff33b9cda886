//! Progress of a replay on standard error: a bar with the rate and the time left when standard
//! error is a terminal, an occasional plain line otherwise, or nothing. Standard output holds
//! the replay's lines; they are written between redraws of the bar, never across it.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// A bar on a terminal (standard error), a plain line now and then otherwise.
    Auto,
    /// A bar, redrawn in place.
    Bar,
    /// A plain line now and then.
    Lines,
    /// Nothing.
    Off,
}

/// What is shown, once `auto` is settled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Bar,
    Lines,
    Off,
}

/// How often the bar is redrawn and a plain line written.
const BAR_EVERY: Duration = Duration::from_millis(200);
const LINE_EVERY: Duration = Duration::from_secs(10);
/// Lines for standard output gathered before they are written while a bar is shown.
const PENDING_BYTES: usize = 32 * 1024;

/// How far a replay is.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Counts {
    /// Documents and log lines read.
    pub events: usize,
    /// Requests judged.
    pub requests: usize,
    pub denied: usize,
    /// Bytes read of the inputs whose size is known.
    pub bytes: u64,
}

/// The progress display and standard output of one replay.
pub struct Progress<W: Write> {
    style: Style,
    out: W,
    /// Standard output text not written yet (only while a bar is shown).
    pending: String,
    /// The inputs' total size, when every input's size is known (not stdin, not gzip).
    total_bytes: Option<u64>,
    start: Instant,
    /// When progress was last shown (a bar is drawn at once, the first line comes later).
    last: Option<Instant>,
    /// Whether a bar is on the screen.
    drawn: bool,
}

impl<W: Write> Progress<W> {
    /// Progress shown as `mode` asks, with the replay's lines going to `out`.
    pub fn new(mode: Mode, out: W, total_bytes: Option<u64>) -> Self {
        let style = match mode {
            Mode::Auto if std::io::stderr().is_terminal() => Style::Bar,
            Mode::Auto | Mode::Lines => Style::Lines,
            Mode::Bar => Style::Bar,
            Mode::Off => Style::Off,
        };
        let now = Instant::now();
        Progress {
            style,
            out,
            pending: String::new(),
            total_bytes,
            start: now,
            last: (style != Style::Bar).then_some(now),
            drawn: false,
        }
    }

    /// Writes a replay line (or several) to standard output.
    pub fn print(&mut self, text: &str) -> std::io::Result<()> {
        if self.style != Style::Bar {
            return self.out.write_all(text.as_bytes());
        }
        self.pending.push_str(text);
        if self.pending.len() > PENDING_BYTES {
            self.flush_pending()?;
        }
        Ok(())
    }

    /// Shows `counts` if it is time to.
    pub fn tick(&mut self, counts: Counts) -> std::io::Result<()> {
        let every = match self.style {
            Style::Bar => BAR_EVERY,
            Style::Lines => LINE_EVERY,
            Style::Off => return Ok(()),
        };
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < every)
        {
            return Ok(());
        }
        self.last = Some(now);
        let text = describe(counts, self.total_bytes, now.duration_since(self.start));
        if self.style == Style::Lines {
            eprintln!("... {text}");
            return Ok(());
        }
        self.flush_pending()?;
        let mut err = std::io::stderr().lock();
        write!(
            err,
            "\r\x1b[K{}  {text}",
            bar(counts.bytes, self.total_bytes)
        )?;
        self.drawn = true;
        err.flush()
    }

    /// Writes what standard output holds and takes the bar away: before the summary, and
    /// before the replay stops on an error.
    pub fn finish(&mut self) -> std::io::Result<()> {
        self.flush_pending()?;
        self.out.flush()
    }

    /// Writes the pending lines, under the bar: it is cleared first and drawn again next tick.
    fn flush_pending(&mut self) -> std::io::Result<()> {
        if self.drawn {
            eprint!("\r\x1b[K");
            self.drawn = false;
        }
        if !self.pending.is_empty() {
            self.out.write_all(self.pending.as_bytes())?;
            self.pending.clear();
        }
        self.out.flush()
    }
}

/// `[=====>    ]  52%`, or nothing when the total is not known.
fn bar(bytes: u64, total: Option<u64>) -> String {
    const WIDTH: usize = 24;
    let Some(total) = total.filter(|t| *t > 0) else {
        return String::new();
    };
    let done = bytes.min(total);
    let filled = usize::try_from(done * WIDTH as u64 / total).unwrap_or(WIDTH);
    let head = if filled < WIDTH { ">" } else { "" };
    format!(
        "[{}{head}{}] {:3}%",
        "=".repeat(filled),
        " ".repeat(WIDTH - filled - head.len()),
        done * 100 / total
    )
}

/// `1,200 events, 1,000 requests, 3 denied, 4,000 events/s, 0:12 left`.
fn describe(counts: Counts, total_bytes: Option<u64>, elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let rate = if seconds > 0.0 {
        counts.events as f64 / seconds
    } else {
        0.0
    };
    let mut text = format!(
        "{} events, {} requests, {} denied, {} events/s",
        thousands(counts.events as u64),
        thousands(counts.requests as u64),
        thousands(counts.denied as u64),
        thousands(rate.round() as u64)
    );
    if let Some(total) = total_bytes.filter(|t| *t > 0 && counts.bytes > 0 && seconds > 0.0) {
        let left = total.saturating_sub(counts.bytes) as f64 * seconds / counts.bytes as f64;
        text.push_str(&format!(", {} left", clock(left.round() as u64)));
    }
    text
}

/// `12:05` or `1:02:03`.
fn clock(seconds: u64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// `1234567` -> `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_gives_counts_rate_and_time_left() {
        let counts = |events, bytes| Counts {
            events,
            requests: events / 2,
            denied: 3,
            bytes,
        };
        let cases = [
            (
                counts(1_200_000, 0),
                None,
                10,
                "1,200,000 events, 600,000 requests, 3 denied, 120,000 events/s",
            ),
            (
                counts(40_000, 250),
                Some(1000),
                2,
                "40,000 events, 20,000 requests, 3 denied, 20,000 events/s, 0:06 left",
            ),
            (
                counts(10, 1),
                Some(4000),
                1,
                "10 events, 5 requests, 3 denied, 10 events/s, 1:06:39 left",
            ),
        ];
        for (counts, total, seconds, want) in cases {
            assert_eq!(describe(counts, total, Duration::from_secs(seconds)), want);
        }
    }

    #[test]
    fn the_bar_fills_with_the_bytes_read() {
        let cases = [
            (0, Some(100), "[>                       ]   0%"),
            (50, Some(100), "[============>           ]  50%"),
            (100, Some(100), "[========================] 100%"),
            (7, None, ""),
        ];
        for (bytes, total, want) in cases {
            assert_eq!(bar(bytes, total), want);
        }
    }

    #[test]
    fn lines_go_straight_out_unless_a_bar_is_shown() {
        for (mode, written) in [(Mode::Off, true), (Mode::Lines, true), (Mode::Bar, false)] {
            let mut progress = Progress::new(mode, Vec::new(), None);
            progress.print("ALLOW  CREATE\n").unwrap();
            assert_eq!(!progress.out.is_empty(), written, "{mode:?}");
            progress.finish().unwrap();
            assert_eq!(progress.out, b"ALLOW  CREATE\n", "{mode:?}");
        }
    }
}
