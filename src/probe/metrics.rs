//! The probe's metrics endpoint: what SPIRE does not expose about a workload's SVID.
//!
//! SPIRE has no metric for a workload SVID's expiry or last rotation, so the probe exports
//! them per workload, with counters of updates and errors, for Prometheus to scrape.

use std::net::SocketAddr;
use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

use super::ErrorKind;
use super::svid::SvidSummary;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SvidLabels {
    workload: String,
    spiffe_id: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WorkloadLabels {
    workload: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    workload: String,
    kind: String,
}

type TimeGauge = Family<SvidLabels, Gauge<f64, AtomicU64>>;

/// The probe's metrics, shared between the watcher and the endpoint.
pub struct ProbeMetrics {
    workload: String,
    registry: Registry,
    expiry: TimeGauge,
    last_update: TimeGauge,
    updates: Family<WorkloadLabels, Counter>,
    errors: Family<ErrorLabels, Counter>,
}

impl ProbeMetrics {
    /// Registers the probe's metrics for `workload`.
    pub fn new(workload: &str) -> Self {
        let mut registry = Registry::default();
        let (expiry, last_update) = (TimeGauge::default(), TimeGauge::default());
        let updates = Family::<WorkloadLabels, Counter>::default();
        let errors = Family::<ErrorLabels, Counter>::default();
        let up = Family::<WorkloadLabels, Gauge>::default();
        registry.register(
            "spirelab_probe_svid_expiry_timestamp_seconds",
            "NotAfter of the workload's current X509-SVID, in Unix seconds",
            expiry.clone(),
        );
        registry.register(
            "spirelab_probe_svid_last_update_timestamp_seconds",
            "When the probe last received an X509-SVID with a new serial, in Unix seconds",
            last_update.clone(),
        );
        registry.register(
            "spirelab_probe_svid_updates",
            "X509-SVIDs with a new serial",
            updates.clone(),
        );
        registry.register(
            "spirelab_probe_errors",
            "Workload API failures by kind",
            errors.clone(),
        );
        registry.register("spirelab_probe_up", "1 while the probe runs", up.clone());
        up.get_or_create(&WorkloadLabels {
            workload: workload.into(),
        })
        .set(1);
        let workload = workload.to_string();
        ProbeMetrics {
            workload,
            registry,
            expiry,
            last_update,
            updates,
            errors,
        }
    }

    /// Records a new SVID.
    pub fn svid_updated(&self, svid: &SvidSummary, seen_at: time::OffsetDateTime) {
        let labels = SvidLabels {
            workload: self.workload.clone(),
            spiffe_id: svid.spiffe_id.clone(),
        };
        self.expiry.clear();
        self.last_update.clear();
        self.expiry
            .get_or_create(&labels)
            .set(svid.not_after.unix_timestamp() as f64);
        self.last_update
            .get_or_create(&labels)
            .set(seen_at.unix_timestamp() as f64);
        self.updates
            .get_or_create(&WorkloadLabels {
                workload: self.workload.clone(),
            })
            .inc();
    }

    /// Records a Workload API failure.
    pub fn failed(&self, kind: ErrorKind) {
        let labels = ErrorLabels {
            workload: self.workload.clone(),
            kind: kind.as_str().into(),
        };
        self.errors.get_or_create(&labels).inc();
    }

    /// The metrics in Prometheus's text format.
    pub fn render(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// Serves the metrics at every path of `addr` until the process ends.
pub async fn serve(addr: SocketAddr, metrics: Arc<ProbeMetrics>) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_request| {
                let body = Full::new(Bytes::from(metrics.render()));
                async move { Ok::<_, std::convert::Infallible>(hyper::Response::new(body)) }
            });
            let connection = hyper::server::conn::http1::Builder::new();
            if let Err(error) = connection
                .serve_connection(TokioIo::new(stream), service)
                .await
            {
                tracing::debug!(%error, "metrics connection ended");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_expiry_updates_and_errors() {
        let metrics = ProbeMetrics::new("workload-1");
        let svid = SvidSummary {
            spiffe_id: "spiffe://lab.test/workload-1".into(),
            serial: "01".into(),
            not_before: time::macros::datetime!(2026-12-03 19:00 UTC),
            not_after: time::macros::datetime!(2026-12-03 19:01 UTC),
        };
        metrics.svid_updated(&svid, time::macros::datetime!(2026-12-03 19:00:10 UTC));
        metrics.failed(ErrorKind::NoIdentity);
        let text = metrics.render();
        let expiry = concat!(
            r#"spirelab_probe_svid_expiry_timestamp_seconds{workload="workload-1","#,
            r#"spiffe_id="spiffe://lab.test/workload-1"} 1796324460"#
        );
        assert!(text.contains(expiry), "{text}");
        assert!(
            text.contains(r#"spirelab_probe_svid_updates_total{workload="workload-1"} 1"#),
            "{text}"
        );
        assert!(text.contains(
            r#"spirelab_probe_errors_total{workload="workload-1",kind="no_identity"} 1"#
        ));
        assert!(text.contains(r#"spirelab_probe_up{workload="workload-1"} 1"#));
    }
}
