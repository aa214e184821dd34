//! The two things a run can measure, behind one call so the driver treats them alike.

use crate::node::NodeTarget;
use crate::outcome::Attempt;
use crate::service::ServiceTarget;
use crate::workload::Program;

/// What runs the jobs of a phase.
#[derive(Debug)]
pub enum Target {
    /// The Notary `/verify` API.
    Service(ServiceTarget),
    /// A `node -e` process per job.
    Node(NodeTarget),
}

impl Target {
    /// Runs one job to its final answer.
    pub async fn execute(&self, program: &Program) -> Attempt {
        match self {
            Target::Service(service) => service.execute(program).await,
            Target::Node(node) => node.execute(program).await,
        }
    }
}
