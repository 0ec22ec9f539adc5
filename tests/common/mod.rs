//! Helpers for the monitoring tests: metric names in PromQL, the shipped rules file and
//! dashboard, Prometheus's rule health, a join_token agent to add to a live lab, and what a
//! removed lab must not leave behind.

pub mod grafana;
pub mod join_agent;
pub mod leftovers;
pub mod promql;
pub mod rule_health;
pub mod rules;
