//! What a run produced, and how wasmtime's errors map onto it.
//!
//! Guest outcomes and infrastructure failures stay separate types all the way up: a trap is a
//! [`GuestStatus`] (a result the client paid for), a host problem is a
//! [`SandboxError`] (refundable).

use std::time::Duration;

use wasmtime::{PoolConcurrencyLimitError, Trap};
use wasmtime_wasi::I32Exit;

use super::error::SandboxError;
use super::guest::GuestOutputs;
use super::guest::MemoryLimitError;

/// The result of running one job to the end (whatever the guest did).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// How the guest ended.
    pub status: GuestStatus,
    /// Everything the guest wrote to stdout (up to the limit).
    pub stdout: Vec<u8>,
    /// Everything the guest wrote to stderr (up to the limit).
    pub stderr: Vec<u8>,
    /// Fuel consumed: the request's budget minus what was left, on every path.
    ///
    /// Compiled code keeps its fuel counter in a register and writes it back to the store at
    /// calls, returns, `unreachable` and when fuel runs out. So: exact on exit and
    /// `OutOfFuel` (the whole budget); deterministic but possibly short of the last few
    /// operators on other traps (e.g. an out-of-bounds load); and on `TimedOut` neither exact
    /// nor deterministic: the fuel burnt up to the last slice boundary
    /// ([`FUEL_FLUSH_INTERVAL`](super::FUEL_FLUSH_INTERVAL)), never more than was burnt. A
    /// TIMEOUT's fuel depends on the machine, so it is never part of an agreement between
    /// workers.
    pub fuel_used: u64,
    /// Wall time of instantiation plus execution (compilation excluded).
    pub elapsed: Duration,
}

/// How the guest ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuestStatus {
    /// `_start` returned (0) or the guest called `proc_exit(n)`. 0 means success.
    Exited(i32),
    /// The guest trapped, or was refused before it could start (an invalid module, a start
    /// function that trapped, imports that do not link): `kind` says which.
    Trapped {
        /// The class of trap.
        kind: TrapKind,
        /// A deterministic description (no addresses or timings).
        message: String,
    },
    /// The guest wrote past the stdout or stderr limit and was stopped at that write.
    OutputLimitExceeded {
        /// `"stdout"` or `"stderr"`.
        stream: &'static str,
    },
    /// The wall-clock backstop ended the run (a sleeping or very long guest). Unlike the
    /// other statuses this depends on the machine: treat it as an infrastructure-class
    /// outcome (TIMEOUT), not a verdict on the code.
    TimedOut,
}

impl GuestStatus {
    /// Whether the guest ran to completion and exited with status 0.
    pub fn is_success(&self) -> bool {
        matches!(self, GuestStatus::Exited(0))
    }
}

/// The class of a guest trap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrapKind {
    /// The job's fuel budget ran out.
    OutOfFuel,
    /// The wasm stack limit was reached (e.g. unbounded recursion).
    StackOverflow,
    /// A load or store outside linear memory.
    MemoryOutOfBounds,
    /// The `unreachable` instruction (also how Rust panics and C `abort` end in wasm).
    Unreachable,
    /// The guest tried to grow its memory past the sandbox limit.
    MemoryLimit,
    /// Anything else: other traps (integer divide by zero, bad indirect call...), a module
    /// refused before instantiation, a WASI call the host refused.
    Other,
}

/// Maps a wasmtime error from running (or instantiating) a guest to its status.
///
/// `instantiating` says whether the error came from instantiation, where a host resource
/// failure is possible (pool exhausted, memory mapping); during execution every error is the
/// guest's doing.
pub(crate) fn classify(
    error: &wasmtime::Error,
    outputs: &GuestOutputs,
    instantiating: bool,
) -> Result<GuestStatus, SandboxError> {
    // An output overflow surfaces as a trap wrapped by WASI; the flag is the reliable signal.
    if let Some(stream) = outputs.overflowed() {
        return Ok(GuestStatus::OutputLimitExceeded { stream });
    }
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        return Ok(GuestStatus::Exited(exit.0));
    }
    if let Some(limit) = error.downcast_ref::<MemoryLimitError>() {
        return Ok(GuestStatus::Trapped {
            kind: TrapKind::MemoryLimit,
            message: limit.to_string(),
        });
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        let kind = match trap {
            Trap::OutOfFuel => TrapKind::OutOfFuel,
            Trap::StackOverflow => TrapKind::StackOverflow,
            Trap::MemoryOutOfBounds => TrapKind::MemoryOutOfBounds,
            Trap::UnreachableCodeReached => TrapKind::Unreachable,
            // The epoch callback interrupts a guest that is past its deadline.
            Trap::Interrupt => return Ok(GuestStatus::TimedOut),
            _ => TrapKind::Other,
        };
        return Ok(GuestStatus::Trapped {
            kind,
            message: trap.to_string(),
        });
    }
    if instantiating {
        if error.downcast_ref::<PoolConcurrencyLimitError>().is_some() {
            return Err(SandboxError::PoolExhausted);
        }
        if error.chain().any(|e| e.is::<std::io::Error>()) {
            return Err(SandboxError::Instantiate(format!("{error:#}")));
        }
        return Ok(GuestStatus::Trapped {
            kind: TrapKind::Other,
            message: format!("instantiation failed: {error:#}"),
        });
    }
    Ok(GuestStatus::Trapped {
        kind: TrapKind::Other,
        message: format!("{error:#}"),
    })
}
