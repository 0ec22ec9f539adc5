//! A small client for the lab's Prometheus HTTP API: instant queries, metric names, alerts,
//! loaded rules and reloads. The grader reads alerts and rules through it; [`rules`] installs
//! a learner's rules file with it; tests use it to prove metric names and dashboard queries
//! on a live lab.

pub mod promql;
pub mod rules;

use serde::Deserialize;

use crate::lab::paths::PROMETHEUS_PORT;
use crate::lab::{Lab, LabError};

/// Failures talking to Prometheus.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    /// The lab's Prometheus publishes no port.
    #[error("lab {0} has no Prometheus port published; is it up?")]
    NoPort(String),
    /// The HTTP request failed.
    #[error("failed to query Prometheus at {url}")]
    Request {
        /// The URL.
        url: String,
        /// The cause.
        #[source]
        source: reqwest::Error,
    },
    /// Prometheus answered with an error.
    #[error("Prometheus rejected {what}: {message}")]
    Rejected {
        /// The query or path.
        what: String,
        /// Prometheus's error text.
        message: String,
    },
    /// Prometheus refused to reload its configuration.
    #[error("Prometheus at {url} refused to reload its configuration: {message}")]
    Reload {
        /// The reload URL.
        url: String,
        /// What Prometheus answered.
        message: String,
    },
    /// Finding the port failed.
    #[error(transparent)]
    Lab(#[from] LabError),
}

/// One series of an instant query's result.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Sample {
    /// The series' labels, `__name__` included when the query keeps it.
    pub metric: std::collections::BTreeMap<String, String>,
    /// Timestamp and value as Prometheus sends them.
    pub value: (f64, String),
}

/// An alert, pending or firing.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Alert {
    /// Its labels, `alertname` included.
    pub labels: std::collections::BTreeMap<String, String>,
    /// `pending` or `firing`.
    pub state: String,
}

impl Alert {
    /// The alert's name.
    pub fn name(&self) -> &str {
        self.labels
            .get("alertname")
            .map(String::as_str)
            .unwrap_or_default()
    }
}

/// A rule group as Prometheus has loaded it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RuleGroup {
    /// The group's name.
    pub name: String,
    /// The rules file it came from, as Prometheus opened it.
    pub file: String,
    /// Its rules.
    pub rules: Vec<LoadedRule>,
}

/// One loaded alerting or recording rule.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct LoadedRule {
    /// The alert's name, or the series a recording rule writes.
    pub name: String,
    /// Its PromQL expression.
    pub query: String,
    /// `ok`, `err`, or `unknown` before its first evaluation.
    pub health: String,
    /// The last evaluation's error.
    #[serde(default, rename = "lastError")]
    pub last_error: Option<String>,
    /// `alerting` or `recording`.
    #[serde(rename = "type")]
    pub kind: String,
}

impl LoadedRule {
    /// True for an alerting rule.
    pub fn is_alert(&self) -> bool {
        self.kind == "alerting"
    }
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: Deserialize<'de>"))]
struct Envelope<T> {
    status: String,
    #[serde(default = "Option::default")]
    data: Option<T>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct QueryData {
    #[serde(default)]
    result: Vec<Sample>,
}

#[derive(Deserialize)]
struct AlertData {
    alerts: Vec<Alert>,
}

#[derive(Deserialize)]
struct RuleData {
    groups: Vec<RuleGroup>,
}

/// A lab's Prometheus.
pub struct Prometheus {
    base: String,
    http: reqwest::Client,
}

impl Prometheus {
    /// The Prometheus of `lab`, at its published loopback port.
    pub async fn of(lab: &Lab) -> Result<Self, PrometheusError> {
        let container = lab.container("prometheus");
        let port = lab
            .engine
            .published_port(&container, PROMETHEUS_PORT)
            .await
            .map_err(LabError::from)?;
        let port = port.ok_or_else(|| PrometheusError::NoPort(lab.name.clone()))?;
        Ok(Prometheus::at(&format!("http://127.0.0.1:{port}")))
    }

    /// A Prometheus at `base`, such as `http://127.0.0.1:9090`.
    pub fn at(base: &str) -> Self {
        Prometheus {
            base: base.trim_end_matches('/').to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.base
    }

    async fn get<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, PrometheusError> {
        let url = format!("{}{path}", self.base);
        let request_error = |source| PrometheusError::Request {
            url: url.clone(),
            source,
        };
        let response = self
            .http
            .get(&url)
            .query(query)
            .send()
            .await
            .map_err(request_error)?;
        let envelope: Envelope<T> = response.json().await.map_err(request_error)?;
        match (envelope.status.as_str(), envelope.data) {
            ("success", Some(data)) => Ok(data),
            _ => Err(PrometheusError::Rejected {
                what: query
                    .first()
                    .map_or(path.to_string(), |(_, q)| q.to_string()),
                message: envelope.error.unwrap_or_else(|| "no data".into()),
            }),
        }
    }

    /// Runs an instant query.
    pub async fn query(&self, expr: &str) -> Result<Vec<Sample>, PrometheusError> {
        let data: QueryData = self.get("/api/v1/query", &[("query", expr)]).await?;
        Ok(data.result)
    }

    /// Every metric name Prometheus has stored.
    pub async fn metric_names(&self) -> Result<Vec<String>, PrometheusError> {
        self.get("/api/v1/label/__name__/values", &[]).await
    }

    /// Alerts that are pending or firing now.
    pub async fn alerts(&self) -> Result<Vec<Alert>, PrometheusError> {
        let data: AlertData = self.get("/api/v1/alerts", &[]).await?;
        Ok(data.alerts)
    }

    /// Every rule group Prometheus has loaded, with each rule's health.
    pub async fn rule_groups(&self) -> Result<Vec<RuleGroup>, PrometheusError> {
        let data: RuleData = self.get("/api/v1/rules", &[]).await?;
        Ok(data.groups)
    }

    /// Asks Prometheus to read its configuration and rule files again
    /// (`--web.enable-lifecycle`); fails with Prometheus's answer when it refuses.
    pub async fn reload(&self) -> Result<(), PrometheusError> {
        let url = format!("{}/-/reload", self.base);
        let request_error = |source| PrometheusError::Request {
            url: url.clone(),
            source,
        };
        let response = self.http.post(&url).send().await.map_err(request_error)?;
        if response.status().is_success() {
            return Ok(());
        }
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        Err(PrometheusError::Reload {
            url,
            message: format!("{status}: {}", body.trim()),
        })
    }
}
