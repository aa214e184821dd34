//! Virtual clocks: the guest's time is a function of how often it reads the clock and how
//! long it has asked to sleep.
//!
//! Both clocks start at a fixed instant and advance a fixed step on every read. A frozen
//! clock would be deterministic too, but a guest busy-waiting on `Date.now()` would then spin
//! until its fuel ran out; a stepping clock lets such loops finish, and the same program still
//! sees the same times on every machine.
//!
//! Sleeping is virtual as well (see `poll`): a clock subscription fires at once and both
//! clocks jump forward by the time the guest waited for, so a sleeping guest holds no slot.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

/// The wall clock's first reading: 2026-01-01T00:00:00Z, in nanoseconds since the Unix epoch.
pub const WALL_CLOCK_START_NANOS: u64 = 1_767_225_600 * 1_000_000_000;
/// The monotonic clock's first reading.
pub const MONOTONIC_CLOCK_START_NANOS: u64 = 0;
/// How far either clock advances per read: 1 µs (also the reported resolution).
pub const CLOCK_STEP_NANOS: u64 = 1_000;

/// One guest's time: per-clock read counts plus the virtual time it has slept.
///
/// Reading a clock at `start + reads·step + slept` and then stepping it keeps the figures of
/// guests that never sleep exactly what they were before sleeping became virtual.
#[derive(Debug, Default)]
pub struct VirtualTime {
    wall_reads: AtomicU64,
    monotonic_reads: AtomicU64,
    slept: AtomicU64,
}

impl VirtualTime {
    /// A fresh guest's time: no reads, nothing slept.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// What the monotonic clock's next read would return, without stepping it.
    pub fn monotonic_peek(&self) -> u64 {
        Self::at(
            MONOTONIC_CLOCK_START_NANOS,
            &self.monotonic_reads,
            &self.slept,
        )
    }

    /// What the wall clock's next read would return, without stepping it.
    pub fn wall_peek(&self) -> u64 {
        Self::at(WALL_CLOCK_START_NANOS, &self.wall_reads, &self.slept)
    }

    /// Moves both clocks forward by `nanos` (saturating: a guest may ask for `u64::MAX`).
    pub fn sleep(&self, nanos: u64) {
        // One store owns the time and calls it from one thread at a time; the atomics only
        // provide the interior mutability the `&self` clock traits need.
        let slept = self.slept.load(Ordering::Relaxed).saturating_add(nanos);
        self.slept.store(slept, Ordering::Relaxed);
    }

    /// Reads the monotonic clock (and steps it).
    pub fn monotonic_now(&self) -> u64 {
        Self::read(
            MONOTONIC_CLOCK_START_NANOS,
            &self.monotonic_reads,
            &self.slept,
        )
    }

    /// Reads the wall clock (and steps it), in nanoseconds since the Unix epoch.
    pub fn wall_now(&self) -> u64 {
        Self::read(WALL_CLOCK_START_NANOS, &self.wall_reads, &self.slept)
    }

    fn at(start: u64, reads: &AtomicU64, slept: &AtomicU64) -> u64 {
        start
            .saturating_add(
                reads
                    .load(Ordering::Relaxed)
                    .saturating_mul(CLOCK_STEP_NANOS),
            )
            .saturating_add(slept.load(Ordering::Relaxed))
    }

    fn read(start: u64, reads: &AtomicU64, slept: &AtomicU64) -> u64 {
        let now = Self::at(start, reads, slept);
        reads.fetch_add(1, Ordering::Relaxed);
        now
    }
}

/// The guest's `CLOCK_REALTIME`.
#[derive(Debug)]
pub struct VirtualWallClock(pub Arc<VirtualTime>);

impl HostWallClock for VirtualWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(CLOCK_STEP_NANOS)
    }

    fn now(&self) -> Duration {
        Duration::from_nanos(self.0.wall_now())
    }
}

/// The guest's `CLOCK_MONOTONIC`.
#[derive(Debug)]
pub struct VirtualMonotonicClock(pub Arc<VirtualTime>);

impl HostMonotonicClock for VirtualMonotonicClock {
    fn resolution(&self) -> u64 {
        CLOCK_STEP_NANOS
    }

    fn now(&self) -> u64 {
        self.0.monotonic_now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_step_per_read_and_jump_by_what_was_slept() {
        let time = VirtualTime::new();
        let (wall, mono) = (
            VirtualWallClock(time.clone()),
            VirtualMonotonicClock(time.clone()),
        );
        assert_eq!(mono.now(), 0);
        assert_eq!(mono.now(), CLOCK_STEP_NANOS);
        assert_eq!(wall.now().as_nanos() as u64, WALL_CLOCK_START_NANOS);
        assert_eq!(time.monotonic_peek(), 2 * CLOCK_STEP_NANOS);
        time.sleep(5_000_000_000);
        assert_eq!(mono.now(), 5_000_000_000 + 2 * CLOCK_STEP_NANOS);
        assert_eq!(
            wall.now().as_nanos() as u64,
            WALL_CLOCK_START_NANOS + CLOCK_STEP_NANOS + 5_000_000_000
        );
        time.sleep(u64::MAX);
        assert_eq!(mono.now(), u64::MAX);
    }
}
