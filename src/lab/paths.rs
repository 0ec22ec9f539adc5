//! Where things live inside the lab's containers. Configs, the fault steps and the grader
//! all refer to these, so they are defined once.

/// The SPIRE binaries, as in SPIRE's official images.
pub const SPIRE_SERVER_BIN: &str = "/opt/spire/bin/spire-server";
/// See [`SPIRE_SERVER_BIN`].
pub const SPIRE_AGENT_BIN: &str = "/opt/spire/bin/spire-agent";
/// The workload probe.
pub const PROBE_BIN: &str = "/usr/local/bin/spirelab-probe";
/// The Prometheus binary, as in Prometheus's official image.
pub const PROMETHEUS_BIN: &str = "/bin/prometheus";
/// promtool, next to Prometheus as in its official image.
pub const PROMTOOL_BIN: &str = "/bin/promtool";

/// The server's config file.
pub const SERVER_CONF: &str = "/etc/spire/server.conf";
/// The CA that signs the agents' x509pop certificates, as the server sees it.
pub const X509POP_CA: &str = "/etc/spire/x509pop-ca.pem";
/// The server's data directory (sqlite datastore and keys), a volume.
pub const SERVER_DATA: &str = "/var/lib/spire/server";
/// The server's registration API socket.
pub const SERVER_SOCKET: &str = "/tmp/spire-server/private/api.sock";

/// An agent's config file.
pub const AGENT_CONF: &str = "/etc/spire/agent.conf";
/// An agent's x509pop certificate.
pub const AGENT_CERT: &str = "/etc/spire/agent.crt.pem";
/// An agent's x509pop private key.
pub const AGENT_KEY: &str = "/etc/spire/agent.key.pem";
/// The trust bundle an agent bootstraps from.
pub const AGENT_BUNDLE: &str = "/etc/spire/bundle.pem";
/// An agent's data directory, a volume.
pub const AGENT_DATA: &str = "/var/lib/spire/agent";
/// The directory holding an agent's Workload API socket, a volume shared with workloads.
pub const SOCKET_DIR: &str = "/run/spire/sockets";
/// The Workload API socket.
pub const SOCKET: &str = "/run/spire/sockets/agent.sock";

/// Prometheus's config file.
pub const PROMETHEUS_CONF: &str = "/etc/prometheus/prometheus.yml";
/// Prometheus's alert rules.
pub const PROMETHEUS_RULES: &str = "/etc/prometheus/rules/spire.yml";
/// The directory of a learner's own rule files: Prometheus loads every `*.yml` and `*.yaml`
/// in it, besides [`PROMETHEUS_RULES`].
pub const PROMETHEUS_RULES_DIR: &str = "/etc/prometheus/rules.d";
/// A file placed in [`PROMETHEUS_RULES_DIR`] at `up`, so the directory exists for
/// `docker cp` and says what it is for.
pub const PROMETHEUS_RULES_README: &str = "/etc/prometheus/rules.d/README";

/// SPIRE's telemetry port on the server and agents.
pub const TELEMETRY_PORT: u16 = 9988;
/// SPIRE's health check port on the server and agents.
pub const HEALTH_PORT: u16 = 8080;
/// The probe's metrics port.
pub const PROBE_METRICS_PORT: u16 = 9102;
/// Prometheus's port.
pub const PROMETHEUS_PORT: u16 = 9090;
/// The server's agent API port.
pub const SERVER_PORT: u16 = 8081;
