//! Grafana, optional: started by `spirelab up --grafana` where its official image can be
//! had, with the lab's Prometheus as datasource and spirelab's dashboard provisioned. The
//! dashboard JSON is written to the lab's state directory on every `up` either way, so it
//! can be imported into any Grafana by hand.

use std::path::PathBuf;

use super::{Lab, LabError};
use crate::engine::files::FileSpec;

/// The dashboard, as shipped in monitoring/grafana/dashboards.
pub const DASHBOARD: &str = include_str!("../../monitoring/grafana/dashboards/spire.json");
const DATASOURCE: &str =
    include_str!("../../monitoring/grafana/provisioning/datasources/prometheus.yml");
const PROVIDER: &str =
    include_str!("../../monitoring/grafana/provisioning/dashboards/spirelab.yml");
/// Grafana's port.
pub const GRAFANA_PORT: u16 = 3000;

/// Whether Grafana was started.
#[derive(Debug, Clone, PartialEq)]
pub enum GrafanaOutcome {
    /// Running; open it at the URL.
    Started(String),
    /// Its image could not be had; the reason says why.
    Unavailable(String),
}

/// Where the dashboard JSON of lab `lab` is written.
pub fn dashboard_path(lab: &str) -> PathBuf {
    crate::scenario::session::path(lab).with_extension("dashboard.json")
}

/// Writes the dashboard JSON next to the lab's session file and returns its path.
pub fn write_dashboard(lab: &str) -> std::io::Result<PathBuf> {
    let path = dashboard_path(lab);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&path, DASHBOARD)?;
    Ok(path)
}

impl Lab {
    /// Starts Grafana if its image is present or can be pulled; otherwise says why not.
    pub async fn start_grafana(&self, run: &str) -> Result<GrafanaOutcome, LabError> {
        let image = self.images.grafana.image.clone();
        let present = self.engine.require_image(&image).await.is_ok();
        if !present && let Err(error) = crate::images::pull(&self.engine, &image).await {
            let reason = crate::probe::watch::error_chain(&error);
            return Ok(GrafanaOutcome::Unavailable(format!(
                "image {image} cannot be had here ({reason})"
            )));
        }
        let mut plan = self.prometheus_plan(run);
        plan.name = self.container("grafana");
        plan.image = image;
        plan.entrypoint = None;
        plan.user = None;
        plan.network = Some((self.network(), "grafana".into()));
        plan.labels
            .insert(crate::engine::labels::COMPONENT.into(), "grafana".into());
        plan.env = vec![
            "GF_AUTH_ANONYMOUS_ENABLED=true".into(),
            "GF_AUTH_ANONYMOUS_ORG_ROLE=Viewer".into(),
        ];
        plan.publish = vec![GRAFANA_PORT];
        let files = [
            FileSpec::public(
                "/etc/grafana/provisioning/datasources/spirelab.yml",
                DATASOURCE,
            ),
            FileSpec::public(
                "/etc/grafana/provisioning/dashboards/spirelab.yml",
                PROVIDER,
            ),
            FileSpec::public("/var/lib/grafana/dashboards/spire.json", DASHBOARD),
        ];
        self.engine.remove_container(&plan.name).await?;
        self.start_component(&plan, &files).await?;
        let port = self
            .engine
            .published_port(&plan.name, GRAFANA_PORT)
            .await?
            .unwrap_or(GRAFANA_PORT);
        Ok(GrafanaOutcome::Started(format!("http://127.0.0.1:{port}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_uses_the_provisioned_datasource_uid() {
        let dashboard: serde_json::Value = serde_json::from_str(DASHBOARD).unwrap();
        let panels = dashboard["panels"].as_array().unwrap();
        assert!(!panels.is_empty());
        for panel in panels.iter().filter(|p| p["type"] != "row") {
            assert_eq!(
                panel["datasource"]["uid"], "prometheus",
                "panel {}",
                panel["title"]
            );
        }
        assert!(
            DATASOURCE.contains("uid: prometheus") && DATASOURCE.contains("http://prometheus:9090")
        );
    }
}
