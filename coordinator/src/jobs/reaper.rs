//! The reaper: leases idle past the TTL go back to the queue (or, at the delivery limit, to the
//! intake as dead letters). Every coordinator runs one; concurrent reapers are safe.

use std::sync::Arc;
use std::time::Duration;

use notary_queue::JobQueue;
use tokio_util::sync::CancellationToken;

/// Reaps every half lease TTL until `stop`.
pub async fn run(
    queue: Arc<dyn JobQueue>,
    lease_ttl: Duration,
    max_deliveries: u32,
    stop: CancellationToken,
) {
    let mut tick = tokio::time::interval((lease_ttl / 2).max(Duration::from_millis(50)));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.cancelled() => return,
        }
        match queue.reap(lease_ttl, max_deliveries).await {
            Ok(report) if report.redelivered + report.dead_lettered > 0 => {
                crate::metrics::lease_reclaims(report.redelivered, report.dead_lettered);
                tracing::warn!(
                    redelivered = report.redelivered,
                    dead_lettered = report.dead_lettered,
                    "reclaimed expired leases"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::debug!(error = %e, "reap failed"),
        }
    }
}
