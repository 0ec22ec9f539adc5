//! Labels on everything spirelab creates, so that a lab's leftovers can always be found.
//!
//! Every container, network and volume carries the tool, the lab and the run that made it;
//! containers also carry their component's name.

use std::collections::HashMap;

/// Marks an object as made by spirelab.
pub const TOOL: &str = "io.spirelab.tool";
/// The lab an object belongs to.
pub const LAB: &str = "io.spirelab.lab";
/// The `spirelab up` run that created the object.
pub const RUN: &str = "io.spirelab.run";
/// The component a container runs, such as `server` or `agent-1`.
pub const COMPONENT: &str = "io.spirelab.component";
/// On the server container: the lab's specification, as JSON.
pub const SPEC: &str = "io.spirelab.spec";
/// On images spirelab built: a digest of what went into them.
pub const INPUTS: &str = "io.spirelab.inputs";

/// The value of [`TOOL`].
pub const TOOL_NAME: &str = "spirelab";

/// The labels of an object of `lab` made by `run`.
pub fn for_lab(lab: &str, run: &str) -> HashMap<String, String> {
    HashMap::from([
        (TOOL.to_string(), TOOL_NAME.to_string()),
        (LAB.to_string(), lab.to_string()),
        (RUN.to_string(), run.to_string()),
    ])
}

/// A list filter that matches every object of `lab`, or of every lab when `lab` is `None`.
pub fn filter(lab: Option<&str>) -> HashMap<String, Vec<String>> {
    let mut wanted = vec![format!("{TOOL}={TOOL_NAME}")];
    if let Some(lab) = lab {
        wanted.push(format!("{LAB}={lab}"));
    }
    HashMap::from([("label".to_string(), wanted)])
}

/// The lab a spirelab object belongs to, from its labels; `None` for objects spirelab did
/// not make.
pub fn lab_of(object_labels: &HashMap<String, String>) -> Option<String> {
    let ours = object_labels.get(TOOL).map(String::as_str) == Some(TOOL_NAME);
    ours.then(|| object_labels.get(LAB).cloned()).flatten()
}
