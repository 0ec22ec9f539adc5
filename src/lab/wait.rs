//! Bounded waits with progress on stderr.
//!
//! Every wait in spirelab polls a condition until it holds or a deadline passes, showing
//! what it waits for and for how long, and on timeout says what it saw last.

use std::future::Future;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::LabError;

/// How often conditions are polled.
pub const POLL: Duration = Duration::from_secs(1);

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
    let bar = spinner(what);
    let mut last = None;
    while started.elapsed() < timeout {
        match check().await? {
            Poll::Ready(value) => {
                bar.finish_and_clear();
                tracing::info!(waited = ?started.elapsed(), "{what}: done");
                return Ok(value);
            }
            Poll::Pending(seen) => {
                bar.set_message(format!("{what} ({}s; {seen})", started.elapsed().as_secs()));
                last = Some(seen);
            }
        }
        tokio::time::sleep(POLL).await;
    }
    bar.finish_and_clear();
    Err(LabError::Timeout {
        what: what.to_string(),
        waited: timeout,
        last,
    })
}

fn spinner(what: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("static template"));
    bar.set_message(what.to_string());
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
