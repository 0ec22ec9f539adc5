//! Scenario files: parsing with positions, validation before anything starts, the
//! built-in catalogue, and the runner that plays a scenario end to end.

pub mod alert_watch;
mod bounds;
pub mod builtin;
mod coherence;
pub mod load;
pub mod model;
pub mod runner;
pub mod session;

pub use load::{ScenarioError, load, resolve};
pub use model::{Check, Scenario, Step};
