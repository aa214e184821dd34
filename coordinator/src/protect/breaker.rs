//! The circuit breaker in front of `POST /verify` (source document 002: "Circuit breaker
//! opens after 10 failures in 60 seconds"; 503 "Circuit breaker open").
//!
//! Closed: requests pass; each infrastructure failure (a backend error, a job that could not
//! run) is remembered for the window. At the threshold it opens: new jobs get 503 with
//! `Retry-After` without touching the backends, which gives them room to recover. After the
//! cooldown it is half-open: exactly one request, the probe, goes through; its success closes
//! the breaker, its failure opens it for another cooldown. A probe that ends without a verdict
//! (a 4xx, a dropped connection) frees the slot for the next request to probe.
//!
//! The state is per coordinator replica, on purpose: it reacts to what this replica sees, and
//! it must keep working when the shared backend (Redis) is exactly what is failing.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// The breaker's state, as the `notary_circuit_breaker_state` gauge reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Requests pass.
    Closed = 0,
    /// One probe is allowed through.
    HalfOpen = 1,
    /// Requests are refused.
    Open = 2,
}

impl BreakerState {
    /// Lower-case name for JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::HalfOpen => "half-open",
            BreakerState::Open => "open",
        }
    }
}

#[derive(Debug)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { probing: bool },
}

#[derive(Debug)]
struct Inner {
    phase: Phase,
    failures: VecDeque<Instant>,
}

/// A circuit breaker.
#[derive(Debug)]
pub struct CircuitBreaker {
    threshold: u32,
    window: Duration,
    cooldown: Duration,
    inner: Mutex<Inner>,
}

/// May this request go through?
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Yes (closed).
    Pass,
    /// Yes, as the half-open probe: report its outcome.
    Probe,
    /// No: retry after this long.
    Reject {
        /// Time until the next probe may go.
        retry_after: Duration,
    },
}

impl CircuitBreaker {
    /// Opens after `threshold` failures within `window`; probes after `cooldown`.
    pub fn new(threshold: u32, window: Duration, cooldown: Duration) -> Self {
        let breaker = CircuitBreaker {
            threshold: threshold.max(1),
            window,
            cooldown,
            inner: Mutex::new(Inner {
                phase: Phase::Closed,
                failures: VecDeque::new(),
            }),
        };
        crate::metrics::breaker_state(BreakerState::Closed as u8);
        breaker
    }

    /// The current state.
    pub fn state(&self) -> BreakerState {
        let inner = self.inner.lock();
        match inner.phase {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { until } if Instant::now() < until => BreakerState::Open,
            Phase::Open { .. } | Phase::HalfOpen { .. } => BreakerState::HalfOpen,
        }
    }

    /// Decides whether a request may go through.
    pub fn admit(&self) -> Admission {
        let mut inner = self.inner.lock();
        let now = Instant::now();
        match inner.phase {
            Phase::Closed => Admission::Pass,
            Phase::Open { until } if now < until => Admission::Reject {
                retry_after: until - now,
            },
            Phase::Open { .. } | Phase::HalfOpen { probing: false } => {
                inner.phase = Phase::HalfOpen { probing: true };
                crate::metrics::breaker_state(BreakerState::HalfOpen as u8);
                tracing::info!("circuit breaker half-open: letting one probe through");
                Admission::Probe
            }
            Phase::HalfOpen { probing: true } => Admission::Reject {
                retry_after: Duration::from_secs(1),
            },
        }
    }

    /// A request that went through succeeded.
    pub fn success(&self, probe: bool) {
        if !probe {
            return;
        }
        let mut inner = self.inner.lock();
        if matches!(inner.phase, Phase::HalfOpen { .. }) {
            inner.phase = Phase::Closed;
            inner.failures.clear();
            crate::metrics::breaker_state(BreakerState::Closed as u8);
            tracing::info!("circuit breaker closed: the probe succeeded");
        }
    }

    /// A probe ended without telling anything (a client error, a dropped request): the next
    /// request probes instead.
    pub fn inconclusive(&self, probe: bool) {
        if !probe {
            return;
        }
        let mut inner = self.inner.lock();
        if matches!(inner.phase, Phase::HalfOpen { probing: true }) {
            inner.phase = Phase::HalfOpen { probing: false };
        }
    }

    /// An infrastructure failure (of a request that went through, or seen elsewhere).
    pub fn failure(&self, probe: bool) {
        crate::metrics::infrastructure_failure();
        let mut inner = self.inner.lock();
        let now = Instant::now();
        match inner.phase {
            Phase::HalfOpen { .. } if probe => {
                inner.phase = Phase::Open {
                    until: now + self.cooldown,
                };
                crate::metrics::breaker_state(BreakerState::Open as u8);
                tracing::warn!(
                    cooldown_ms = self.cooldown.as_millis() as u64,
                    "circuit breaker re-opened: the probe failed"
                );
            }
            Phase::Closed => {
                inner.failures.push_back(now);
                while inner
                    .failures
                    .front()
                    .is_some_and(|t| now.duration_since(*t) > self.window)
                {
                    inner.failures.pop_front();
                }
                if inner.failures.len() >= self.threshold as usize {
                    inner.failures.clear();
                    inner.phase = Phase::Open {
                        until: now + self.cooldown,
                    };
                    crate::metrics::breaker_state(BreakerState::Open as u8);
                    tracing::error!(
                        threshold = self.threshold,
                        window_s = self.window.as_secs(),
                        cooldown_ms = self.cooldown.as_millis() as u64,
                        "circuit breaker opened: too many infrastructure failures; new jobs get 503"
                    );
                }
            }
            // Already open, or a late failure while a probe is out: nothing to add.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_at_the_threshold_and_closes_after_a_good_probe() {
        let b = CircuitBreaker::new(3, Duration::from_secs(60), Duration::from_millis(50));
        for _ in 0..2 {
            assert_eq!(b.admit(), Admission::Pass);
            b.failure(false);
        }
        assert_eq!(b.state(), BreakerState::Closed);
        b.failure(false);
        assert_eq!(b.state(), BreakerState::Open);
        assert!(matches!(b.admit(), Admission::Reject { .. }));
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(b.admit(), Admission::Probe);
        // Only one probe at a time.
        assert!(matches!(b.admit(), Admission::Reject { .. }));
        b.failure(true);
        assert_eq!(b.state(), BreakerState::Open);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(b.admit(), Admission::Probe);
        b.inconclusive(true);
        assert_eq!(b.admit(), Admission::Probe);
        b.success(true);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.admit(), Admission::Pass);
    }

    #[test]
    fn old_failures_leave_the_window() {
        let b = CircuitBreaker::new(2, Duration::from_millis(30), Duration::from_secs(10));
        b.failure(false);
        std::thread::sleep(Duration::from_millis(40));
        b.failure(false);
        assert_eq!(b.state(), BreakerState::Closed);
        b.failure(false);
        assert_eq!(b.state(), BreakerState::Open);
    }
}
