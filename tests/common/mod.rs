//! Helpers for the monitoring tests: metric names in PromQL, the shipped rules file and
//! dashboard, Prometheus's rule health, and a join_token agent to add to a live lab.

pub mod grafana;
pub mod join_agent;
pub mod promql;
pub mod rule_health;
pub mod rules;
