//! Issue 22, defect 3: idle, silent and slow connections are timed out, connections are
//! capped in total and per client IP, and the descriptor limit is raised at start; `/health`
//! keeps answering other clients meanwhile. Real TCP against a real server.

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::support::*;

fn addr(c: &Coordinator) -> SocketAddr {
    c.url.trim_start_matches("http://").parse().unwrap()
}

/// Blocks until the server closes `stream` (EOF or reset), at most `limit`; the time it took.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return started.elapsed(),
            Ok(_) => {} // a response (e.g. 408) before the close
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return started.elapsed(),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) => panic!("read: {e}"),
        }
        assert!(
            started.elapsed() < limit,
            "connection still open after {limit:?}"
        );
    }
}

/// Whether the server has closed `stream` (a non-blocking peek).
fn is_closed(stream: &mut TcpStream) -> bool {
    stream.set_nonblocking(true).unwrap();
    let mut probe = [0u8; 64];
    let closed = match stream.read(&mut probe) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => e.kind() != ErrorKind::WouldBlock,
    };
    stream.set_nonblocking(false).unwrap();
    closed
}

async fn short_timeouts(max_per_ip: usize) -> Coordinator {
    let mut config = test_config(None, 1, vec![]);
    config.protect.header_read_timeout = Duration::from_millis(800);
    config.protect.body_read_timeout = Duration::from_millis(800);
    config.protect.max_connections_per_ip = max_per_ip;
    Coordinator::start(config).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_slow_and_idle_connections_are_closed() {
    let c = short_timeouts(256).await;
    let a = addr(&c);
    tokio::task::spawn_blocking(move || {
        // Silent: connects and sends nothing.
        let mut silent = TcpStream::connect(a).unwrap();
        closed_within(&mut silent, Duration::from_secs(20));

        // Slow headers: a byte every 100 ms never completes the head in time.
        let mut slow = TcpStream::connect(a).unwrap();
        slow.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
        let started = Instant::now();
        while !is_closed(&mut slow) && slow.write_all(b"X").is_ok() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "a trickled head kept its connection"
            );
            std::thread::sleep(Duration::from_millis(100));
        }

        // Idle keep-alive: one request answered, then silence.
        let mut idle = TcpStream::connect(a).unwrap();
        idle.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            .unwrap();
        let mut buf = [0u8; 1024];
        idle.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let n = idle.read(&mut buf).unwrap();
        assert!(buf[..n].starts_with(b"HTTP/1.1 200"), "{:?}", &buf[..n]);
        closed_within(&mut idle, Duration::from_secs(20));

        // A body that stops arriving: 408, then the connection closes.
        let mut body = TcpStream::connect(a).unwrap();
        body.write_all(
            b"POST /verify HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"code\":",
        )
        .unwrap();
        body.set_read_timeout(Some(Duration::from_secs(20)))
            .unwrap();
        let n = body.read(&mut buf).unwrap();
        let head = String::from_utf8_lossy(&buf[..n]).to_string();
        assert!(head.starts_with("HTTP/1.1 408"), "{head}");
        assert!(head.contains("Request Timeout"), "{head}");
        closed_within(&mut body, Duration::from_secs(20));
    })
    .await
    .unwrap();
    // The server is fine afterwards.
    let (status, _) = c.get("/health").await;
    assert_eq!(status, 200);
    c.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_client_cannot_take_every_connection() {
    let mut config = test_config(None, 1, vec![]);
    config.protect.max_connections_per_ip = 20;
    let c = Coordinator::start(config).await;
    let a = addr(&c);
    // Another client, as the per-IP limit sees it: connections from 127.0.0.2.
    let other = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .unwrap();
    // 20 silent connections from 127.0.0.1 (they would stay 10 s).
    let hogs: Vec<TcpStream> = (0..20).map(|_| TcpStream::connect(a).unwrap()).collect();
    // Give the server a moment to accept them all (bounded wait on its gauge).
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = other
            .get(format!("http://{a}/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if text.contains("notary_http_open_connections 21") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the hogs were never all accepted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The 21st from the same IP is closed at once...
    let started = Instant::now();
    let mut extra = TcpStream::connect(a).unwrap();
    extra
        .write_all(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        .ok();
    let took =
        tokio::task::spawn_blocking(move || closed_within(&mut extra, Duration::from_secs(5)))
            .await
            .unwrap();
    assert!(took < Duration::from_secs(5), "{:?}", started.elapsed());
    // ...while another client still gets /health and /ready.
    for path in ["/health", "/ready"] {
        let status = other
            .get(format!("http://{a}{path}"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status, 200, "{path}");
    }
    let metrics = other
        .get(format!("http://{a}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !metrics.contains("notary_http_connections_refused_total 0"),
        "the refusal is counted"
    );
    drop(hogs);
    c.shutdown().await;
}

/// The real binary started with a low soft descriptor limit raises it to the hard limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_binary_raises_its_descriptor_limit() {
    worker_bin(); // builds the coordinator too
    let hard = std::fs::read_to_string("/proc/self/limits")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(4).map(str::to_string))
        .unwrap();
    let (mut child, _url) = spawn_serving(|port| {
        let mut c = std::process::Command::new("prlimit");
        c.arg(format!("--nofile=256:{hard}"))
            .arg(target_dir().join("notary-coordinator"))
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--data-dir", "none", "--workers", "0"])
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::null());
        c
    })
    .await;
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", child.id())).unwrap();
    let _ = child.kill();
    let _ = child.wait();
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3).map(str::to_string))
        .unwrap();
    assert_eq!(soft, hard, "{limits}");
}
