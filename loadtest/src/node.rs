//! The baseline a user might pick instead of Notary: one fresh `node -e <code>` process per
//! job, its stdout hashed and compared with the expected hash. It isolates jobs by process
//! only, and attests nothing; it is here to put the service's numbers in proportion.

use std::path::PathBuf;
use std::process::Stdio;

use tokio::process::Command;

use crate::outcome::{Attempt, Class};
use crate::workload::{sha256_hex, Program};

/// Runs jobs as `node -e` processes.
#[derive(Debug)]
pub struct NodeTarget {
    node: PathBuf,
}

impl NodeTarget {
    /// Uses the `node` executable at `node` (a bare name is looked up on `PATH`).
    pub fn new(node: PathBuf) -> Self {
        NodeTarget { node }
    }

    /// Runs one job. The process is killed if the caller's timeout drops this future.
    pub async fn execute(&self, program: &Program) -> Attempt {
        let output = Command::new(&self.node)
            .arg("-e")
            .arg(program.kind.code())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .output()
            .await;
        let output = match output {
            Ok(output) => output,
            Err(e) => {
                return Attempt::error(
                    Class::Spawn,
                    format!("starting {}: {e}", self.node.display()),
                )
            }
        };
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
            return Attempt::error(
                Class::Exit(output.status.code()),
                format!("node {}: {first}", output.status),
            );
        }
        let actual = sha256_hex(&output.stdout);
        if actual == program.expected_hash {
            Attempt::valid()
        } else {
            Attempt::error(
                Class::Result("INVALID".into()),
                format!(
                    "stdout hash {actual} is not the expected {}",
                    program.expected_hash
                ),
            )
        }
    }
}
