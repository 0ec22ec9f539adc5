//! spirelab runs hands-on SPIRE operations labs against real components.
//!
//! A lab is a real SPIRE deployment in Docker: one server, agents attested with x509pop,
//! workloads that watch the Workload API through their agent's socket, and Prometheus.
//! spirelab breaks a lab on purpose, checks that it is broken the way a learner would see
//! it, and grades whether a fix restored SVID rotation without weakening identity.
//!
//! The modules follow that flow:
//! - [`engine`] talks to the Docker engine: containers, networks, volumes, exec, files;
//! - [`images`] builds or picks the image each component runs;
//! - [`lab`] renders SPIRE's configs and brings a lab up, reports on it and tears it down;
//! - [`spire`] drives the SPIRE CLIs inside the lab (entries, bundles, agents);
//! - [`probe`] is the workload probe's record format and its Workload API watcher;
//! - [`scenario`] reads scenario files: the lab, the fault, hints, the fix and the checks;
//! - [`faults`] applies a scenario's steps to a running lab;
//! - [`grader`] runs the checks and collects evidence;
//! - [`prometheus`] queries the lab's Prometheus for metrics and alerts;
//! - [`report`] prints results as a table, JSON or JUnit;
//! - [`cli`] is the command line, and the one place errors become exit codes.

pub mod cli;
pub mod engine;
pub mod faults;
pub mod grader;
pub mod images;
pub mod lab;
pub mod probe;
pub mod prometheus;
pub mod report;
pub mod scenario;
pub mod spire;
