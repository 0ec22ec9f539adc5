//! Streams X509-SVID updates from the Workload API and reports each one.
//!
//! The probe never gives up: when the stream ends or cannot be opened it reports the
//! error, waits, and tries again, so a fixed lab is noticed without restarting anything.

use std::time::Duration;

use futures_util::StreamExt;
use spiffe::{WorkloadApiClient, WorkloadApiError};
use time::OffsetDateTime;

use super::metrics::ProbeMetrics;
use super::svid::SvidSummary;
use super::{ErrorKind, Event, Record};

/// How long the probe waits before reconnecting after an error.
const RETRY_DELAY: Duration = Duration::from_secs(2);

/// Watches the Workload API at `endpoint` forever, writing a record line per new SVID
/// and per failure to stdout.
pub async fn watch(workload: &str, endpoint: &str, metrics: &ProbeMetrics) {
    let reporter = Reporter {
        workload,
        uid: super::current_uid(),
        metrics,
    };
    let mut last_serial = None;
    loop {
        if let Err(error) = stream_once(endpoint, &reporter, &mut last_serial).await {
            reporter.error(&error);
        }
        tokio::time::sleep(RETRY_DELAY).await;
    }
}

/// One stream from connect to its end; returns the error that ended it.
async fn stream_once(
    endpoint: &str,
    reporter: &Reporter<'_>,
    last_serial: &mut Option<String>,
) -> Result<(), WorkloadApiError> {
    let client = WorkloadApiClient::connect_to(endpoint).await?;
    let mut updates = client.stream_x509_svids().await?;
    while let Some(update) = updates.next().await {
        let svid = update?;
        let der = svid.leaf().as_bytes();
        match SvidSummary::from_leaf_der(der) {
            Ok(summary) if last_serial.as_deref() != Some(summary.serial.as_str()) => {
                *last_serial = Some(summary.serial.clone());
                reporter.svid(summary);
            }
            Ok(_) => {}
            Err(error) => reporter.record(ErrorKind::Other, error_chain(&error)),
        }
    }
    Err(WorkloadApiError::EmptyResponse)
}

struct Reporter<'a> {
    workload: &'a str,
    uid: u32,
    metrics: &'a ProbeMetrics,
}

impl Reporter<'_> {
    fn svid(&self, summary: SvidSummary) {
        let now = OffsetDateTime::now_utc();
        self.metrics.svid_updated(&summary, now);
        self.write(now, Event::Svid(summary));
    }

    fn error(&self, error: &WorkloadApiError) {
        self.record(classify(error), error_chain(error));
    }

    fn record(&self, kind: ErrorKind, error: String) {
        self.metrics.failed(kind);
        self.write(OffsetDateTime::now_utc(), Event::Error { kind, error });
    }

    fn write(&self, time: OffsetDateTime, event: Event) {
        let record = Record {
            time,
            workload: self.workload.to_string(),
            uid: self.uid,
            event,
        };
        let line = serde_json::to_string(&record).expect("records always serialize");
        // The probe's stdout is its report: one JSON line per event, read back by spirelab.
        println!("{line}");
    }
}

/// Sorts a Workload API error into the classes hints and alerts use.
pub fn classify(error: &WorkloadApiError) -> ErrorKind {
    if matches!(error, WorkloadApiError::NoIdentityIssued) {
        return ErrorKind::NoIdentity;
    }
    let text = error_chain(error).to_lowercase();
    let dial = [
        "no such file or directory",
        "connection refused",
        "transport error",
    ];
    if dial.iter().any(|needle| text.contains(needle)) {
        ErrorKind::Dial
    } else {
        ErrorKind::Other
    }
}

/// An error and its causes on one line, as learners see them in logs.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
