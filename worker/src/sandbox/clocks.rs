//! Virtual clocks: the guest's time is a function of how often it reads the clock.
//!
//! Both clocks start at a fixed instant and advance a fixed step on every read. A frozen
//! clock would be deterministic too, but a guest busy-waiting on `Date.now()` would then spin
//! until its fuel ran out; a stepping clock lets such loops finish, and the same program still
//! sees the same times on every machine.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// The wall clock's first reading: 2026-01-01T00:00:00Z, in nanoseconds since the Unix epoch.
pub const WALL_CLOCK_START_NANOS: u64 = 1_767_225_600 * 1_000_000_000;
/// The monotonic clock's first reading.
pub const MONOTONIC_CLOCK_START_NANOS: u64 = 0;
/// How far either clock advances per read: 1 µs (also the reported resolution).
pub const CLOCK_STEP_NANOS: u64 = 1_000;

/// A clock that returns `start`, `start + step`, `start + 2·step`, ... on successive reads.
#[derive(Debug)]
struct SteppingClock {
    next: AtomicU64,
}

impl SteppingClock {
    fn new(start: u64) -> Self {
        Self {
            next: AtomicU64::new(start),
        }
    }

    fn read(&self) -> u64 {
        // One store owns each clock and calls it from one thread at a time; the atomic only
        // provides the interior mutability the `&self` trait methods need.
        self.next.fetch_add(CLOCK_STEP_NANOS, Ordering::Relaxed)
    }
}

/// The guest's `CLOCK_REALTIME`.
#[derive(Debug)]
pub struct VirtualWallClock(SteppingClock);

impl VirtualWallClock {
    /// A wall clock at [`WALL_CLOCK_START_NANOS`].
    pub fn new() -> Self {
        Self(SteppingClock::new(WALL_CLOCK_START_NANOS))
    }
}

impl Default for VirtualWallClock {
    fn default() -> Self {
        Self::new()
    }
}

impl HostWallClock for VirtualWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(CLOCK_STEP_NANOS)
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.read())
    }
}

/// The guest's `CLOCK_MONOTONIC`.
#[derive(Debug)]
pub struct VirtualMonotonicClock(SteppingClock);

impl VirtualMonotonicClock {
    /// A monotonic clock at [`MONOTONIC_CLOCK_START_NANOS`].
    pub fn new() -> Self {
        Self(SteppingClock::new(MONOTONIC_CLOCK_START_NANOS))
    }
}

impl Default for VirtualMonotonicClock {
    fn default() -> Self {
        Self::new()
    }
}

impl HostMonotonicClock for VirtualMonotonicClock {
    fn resolution(&self) -> u64 {
        CLOCK_STEP_NANOS
    }

    fn now(&self) -> u64 {
        self.0.read()
    }
}
