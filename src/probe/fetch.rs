//! A one-shot fetch of the calling workload's X509-SVID, as the grader runs it with
//! `docker exec` under the workload's uid.

use serde::{Deserialize, Serialize};
use spiffe::WorkloadApiClient;

use super::ErrorKind;
use super::svid::SvidSummary;
use super::watch::{classify, error_chain};

/// What `spirelab-probe fetch` prints: the SVID and its chain, or the error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum FetchResult {
    /// The Workload API issued an SVID.
    Issued {
        /// The leaf's facts.
        svid: SvidSummary,
        /// The chain, leaf first, PEM-encoded.
        chain_pem: Vec<String>,
    },
    /// The fetch failed.
    Failed {
        /// The class of failure.
        kind: ErrorKind,
        /// The error text.
        error: String,
    },
}

/// How long a one-shot fetch may take, like `spire-agent api fetch x509`'s timeout.
const FETCH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Fetches the default X509-SVID from the Workload API at `endpoint`, giving up after
/// [`FETCH_TIMEOUT`].
pub async fn fetch(endpoint: &str) -> FetchResult {
    tokio::time::timeout(FETCH_TIMEOUT, fetch_unbounded(endpoint))
        .await
        .unwrap_or_else(|_| FetchResult::Failed {
            kind: ErrorKind::Other,
            error: format!(
                "no answer from the Workload API within {}s",
                FETCH_TIMEOUT.as_secs()
            ),
        })
}

async fn fetch_unbounded(endpoint: &str) -> FetchResult {
    let fetched = match WorkloadApiClient::connect_to(endpoint).await {
        Ok(client) => client.fetch_x509_svid().await,
        Err(error) => Err(error),
    };
    let svid = match fetched {
        Ok(svid) => svid,
        Err(error) => {
            return FetchResult::Failed {
                kind: classify(&error),
                error: error_chain(&error),
            };
        }
    };
    let chain_pem = svid
        .cert_chain()
        .iter()
        .map(|cert| pem("CERTIFICATE", cert.as_bytes()))
        .collect();
    match SvidSummary::from_leaf_der(svid.leaf().as_bytes()) {
        Ok(summary) => FetchResult::Issued {
            svid: summary,
            chain_pem,
        },
        Err(error) => FetchResult::Failed {
            kind: ErrorKind::Other,
            error: error_chain(&error),
        },
    }
}

/// PEM-encodes DER bytes.
pub fn pem(label: &str, der: &[u8]) -> String {
    ::pem::encode(&::pem::Pem::new(label, der))
}
