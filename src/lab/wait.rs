//! Bounded waits with progress on stderr.
//!
//! Every wait in spirelab polls a condition until it holds or a deadline passes, showing
//! what it waits for and for how long, and on timeout says what it saw last. On a terminal
//! the progress is a spinner; elsewhere (CI logs, pipes) it is a plain line now and then.

use std::future::Future;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::LabError;

/// How often conditions are polled.
pub const POLL: Duration = Duration::from_secs(1);

/// How often a wait says what it sees when stderr is not a terminal.
const PLAIN_EVERY: Duration = Duration::from_secs(15);

/// What one poll found.
pub enum Poll<T> {
    /// The condition holds.
    Ready(T),
    /// Not yet; the text says what was seen, for progress and for the timeout error.
    Pending(String),
}

/// Polls `check` every second until it is ready or `timeout` passes.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, LabError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Poll<T>, LabError>>,
{
    let started = Instant::now();
    let mut progress = Progress::start(what, timeout);
    let mut last = None;
    while started.elapsed() < timeout {
        match check().await? {
            Poll::Ready(value) => {
                progress.finish();
                tracing::info!(waited = ?started.elapsed(), "{what}: done");
                return Ok(value);
            }
            Poll::Pending(seen) => {
                progress.show(&format!(
                    "{what} ({}s; {seen})",
                    started.elapsed().as_secs()
                ));
                last = Some(seen);
            }
        }
        tokio::time::sleep(POLL).await;
    }
    progress.finish();
    Err(LabError::Timeout {
        what: what.to_string(),
        waited: timeout,
        last,
    })
}

/// What a wait shows while it waits.
enum Progress {
    /// A spinner on a terminal.
    Spinner(ProgressBar),
    /// Plain lines elsewhere, at most one every [`PLAIN_EVERY`].
    Lines { last_shown: Instant },
}

impl Progress {
    fn start(what: &str, timeout: Duration) -> Self {
        if std::io::stderr().is_terminal() {
            return Progress::Spinner(spinner(what));
        }
        plain_line(&format!("waiting up to {}s: {what}", timeout.as_secs()));
        Progress::Lines {
            last_shown: Instant::now(),
        }
    }

    fn show(&mut self, text: &str) {
        match self {
            Progress::Spinner(bar) => bar.set_message(text.to_string()),
            Progress::Lines { last_shown } if last_shown.elapsed() >= PLAIN_EVERY => {
                plain_line(&format!("still waiting: {text}"));
                *last_shown = Instant::now();
            }
            Progress::Lines { .. } => {}
        }
    }

    fn finish(&self) {
        if let Progress::Spinner(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// A line of progress on stderr, between waits.
pub fn progress(text: &str) {
    plain_line(text);
}

fn plain_line(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("static template"));
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
