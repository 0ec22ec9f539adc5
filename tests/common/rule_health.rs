//! What Prometheus's `/api/v1/rules` says about each loaded rule: whether its last
//! evaluation worked. `spirelab::prometheus` does not read this endpoint, so the test reads it
//! with reqwest directly.

use serde::Deserialize;

/// One loaded rule's evaluation health.
#[derive(Debug, Clone, Deserialize)]
pub struct RuleHealth {
    /// The alert's or recording rule's name.
    pub name: String,
    /// `ok`, `err` or `unknown` (not evaluated yet).
    pub health: String,
    /// The last evaluation error, if any.
    #[serde(default, rename = "lastError")]
    pub last_error: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    groups: Vec<Group>,
}

#[derive(Deserialize)]
struct Group {
    rules: Vec<RuleHealth>,
}

/// Every rule Prometheus at `base` has loaded.
pub async fn rules(base: &str) -> Vec<RuleHealth> {
    let url = format!("{base}/api/v1/rules");
    let response = reqwest::get(&url)
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    let envelope: Envelope = response
        .json()
        .await
        .unwrap_or_else(|e| panic!("{url}: {e}"));
    envelope
        .data
        .groups
        .into_iter()
        .flat_map(|g| g.rules)
        .collect()
}
