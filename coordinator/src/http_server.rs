//! The HTTP/1.1 server loop: accepts connections within limits and times out the slow ones.
//!
//! `axum::serve` gives every connection unlimited time: a silent connection, an idle
//! keep-alive one or a request line sent a byte per second stays open forever, and about a
//! thousand of them exhaust the descriptors (`accept` then fails with "Too many open files"
//! and even `/health` stops answering). Here:
//!
//! | bound | default | what happens past it |
//! |---|---|---|
//! | request head (line and headers) read time, from the first wait for it | 10 s | connection closed |
//! | idle keep-alive between requests (the same timer: waiting for the next head) | 10 s | connection closed |
//! | request body read time, whole body | 30 s | `408 Request Timeout`, connection closed |
//! | open connections | `--max-connections` (10,000) | new ones accepted and closed at once |
//! | open connections per client IP | `--max-connections-per-ip` (256) | same, for that IP only |
//!
//! The per-IP bound keeps one client from taking every slot: others, and the health checks,
//! still get in. At start the soft descriptor limit is raised to the hard limit (logged), and
//! the global bound is clamped below it. HTTP/2 is not served (clients speak HTTP/1.1 here).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{ConnectInfo, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use parking_lot::Mutex;
use tokio::net::TcpListener;

/// How long a graceful stop waits for open connections to finish their requests.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);
/// Descriptors kept free for everything else (Redis, SQLite, the webhook client, logs).
const SPARE_DESCRIPTORS: u64 = 256;

/// Connection limits of one listener.
#[derive(Clone, Copy, Debug)]
pub struct ConnectionLimits {
    /// Open connections at most.
    pub max_connections: usize,
    /// Open connections at most from one client IP (the TCP peer).
    pub max_per_ip: usize,
    /// The largest request body of `POST /modules` (module packages).
    pub max_package_bytes: usize,
    /// The largest request body of every other route (bodies are read whole within
    /// `body_read_timeout`; larger ones get 413 without being read further).
    pub max_body_bytes: usize,
    /// Longest wait for a request's line and headers, including the wait for the next
    /// request on an idle keep-alive connection.
    pub header_read_timeout: Duration,
    /// Longest a request body may take to arrive, whole.
    pub body_read_timeout: Duration,
}

/// Open connections, in total and per peer IP.
#[derive(Default)]
struct Open {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// A slot held by one open connection; freed on drop.
struct Slot {
    open: Arc<Mutex<Open>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock();
        open.total -= 1;
        if let Some(n) = open.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                open.per_ip.remove(&self.ip);
            }
        }
        crate::metrics::set_open_connections(open.total);
    }
}

/// Raises the soft descriptor limit to the hard one and returns the connection bound that
/// fits under it.
fn fit_descriptors(limits: ConnectionLimits) -> ConnectionLimits {
    let available = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(soft) => {
            tracing::info!(nofile = soft, "descriptor limit raised to the hard limit");
            soft
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the descriptor limit");
            rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _)| soft)
        }
    };
    let fit = available.saturating_sub(SPARE_DESCRIPTORS).max(16) as usize;
    if limits.max_connections > fit {
        tracing::warn!(
            max_connections = limits.max_connections,
            fit,
            "--max-connections lowered to fit the descriptor limit"
        );
    }
    ConnectionLimits {
        max_connections: limits.max_connections.min(fit),
        max_per_ip: limits.max_per_ip.min(limits.max_connections.min(fit)),
        ..limits
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting and gives open
/// connections up to 30 s to finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let limits = fit_descriptors(limits);
    let app = app.layer(axum::middleware::from_fn(move |req: Request, next| {
        // Only module packages may be large: every other body stops being read at its limit
        // (one client must not make the server buffer megabytes per connection for nothing).
        let limit = if req.uri().path() == "/modules" {
            limits.max_package_bytes
        } else {
            limits.max_body_bytes
        };
        read_body_within_deadline(req, next, limit, limits.body_read_timeout)
    }));
    let open = Arc::new(Mutex::new(Open::default()));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: not fatal.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(slot) = take_slot(&open, peer.ip(), limits) else {
            crate::metrics::connection_refused();
            drop(stream); // closed at once: the client sees a reset, not a hang
            continue;
        };
        let _ = stream.set_nodelay(true);
        // What `into_make_service_with_connect_info` did: the peer address for the handlers.
        let service = tower::ServiceExt::map_request(
            app.clone().into_service::<hyper::body::Incoming>(),
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            },
        );
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _slot = slot;
            if let Err(e) = conn.await {
                tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the drain timeout; closing them");
    }
    Ok(())
}

/// A slot for a new connection from `ip`, if the limits allow one.
fn take_slot(open: &Arc<Mutex<Open>>, ip: IpAddr, limits: ConnectionLimits) -> Option<Slot> {
    let mut o = open.lock();
    let from_ip = o.per_ip.get(&ip).copied().unwrap_or(0);
    if o.total >= limits.max_connections || from_ip >= limits.max_per_ip {
        return None;
    }
    o.total += 1;
    *o.per_ip.entry(ip).or_insert(0) += 1;
    crate::metrics::set_open_connections(o.total);
    Some(Slot {
        open: open.clone(),
        ip,
    })
}

/// Buffers the request body with a deadline for all of it, so a body trickling in a byte at a
/// time cannot hold a connection (and a handler) forever. A body past `limit` gets the API's
/// 413; the handlers keep their own checks.
async fn read_body_within_deadline(
    req: Request,
    next: Next,
    limit: usize,
    deadline: Duration,
) -> Response {
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, axum::body::Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => crate::api::error::ApiError::PayloadTooLarge {
            message: format!("the request body is over {limit} bytes, or it could not be read"),
            params: serde_json::json!({ "limit": limit }),
        }
        .into_response(),
        Err(_) => {
            let mut response = crate::api::error::ApiError::RequestTimeout(format!(
                "the request body did not arrive within {} ms",
                deadline.as_millis()
            ))
            .into_response();
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
            debug_assert_eq!(response.status(), StatusCode::REQUEST_TIMEOUT);
            response
        }
    }
}
