//! One conformance suite for the assignment store (remote workers' leases by id), in memory and
//! on Redis.

use std::sync::Arc;
use std::time::Duration;

use notary_coordinator::assignments::{
    Assignment, AssignmentStore, MemoryAssignments, RedisAssignments,
};
use notary_protocol::Address;
use notary_queue::test_utils::RedisServer;
use notary_queue::{JobEnvelope, Lease};

/// Each backend, by name.
type Stores = Vec<(&'static str, Arc<dyn AssignmentStore>)>;

fn stores() -> (Stores, RedisServer) {
    let redis = RedisServer::start();
    let prefix = format!("as{}:", uuid::Uuid::new_v4().simple());
    (
        vec![
            ("memory", Arc::new(MemoryAssignments::default())),
            (
                "redis",
                Arc::new(RedisAssignments::new_lazy(&redis.url(), &prefix).unwrap()),
            ),
        ],
        redis,
    )
}

fn assignment(id: &str) -> Assignment {
    Assignment {
        id: id.into(),
        actor: Address::from([7; 20]),
        lease: Lease {
            job: JobEnvelope::for_worker("job-1", "", "0x0707"),
            worker: "http-0x07-default".into(),
            token: "1700000000000-0".into(),
            identity: Some("0x0707".into()),
        },
    }
}

/// Kept until its TTL, renewed by `touch`, ended once by `remove`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignments_live_until_they_lapse_or_end() {
    let (stores, _redis) = stores();
    for (name, s) in stores {
        assert_eq!(s.get("a").await.unwrap(), None, "{name}");
        assert!(
            !s.touch("a", Duration::from_secs(1)).await.unwrap(),
            "{name}"
        );
        assert!(!s.remove("a").await.unwrap(), "{name}");

        s.put(&assignment("a"), Duration::from_secs(60))
            .await
            .unwrap();
        assert_eq!(s.get("a").await.unwrap(), Some(assignment("a")), "{name}");
        assert!(s.remove("a").await.unwrap(), "{name}");
        assert!(!s.remove("a").await.unwrap(), "{name}: ended once");
        assert_eq!(s.get("a").await.unwrap(), None, "{name}");

        // Lapses without a touch; a touch keeps it.
        s.put(&assignment("b"), Duration::from_millis(400))
            .await
            .unwrap();
        s.put(&assignment("c"), Duration::from_millis(400))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(
            s.touch("c", Duration::from_secs(60)).await.unwrap(),
            "{name}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(s.get("b").await.unwrap(), None, "{name}: lapsed");
        assert!(
            !s.touch("b", Duration::from_secs(60)).await.unwrap(),
            "{name}"
        );
        assert_eq!(s.get("c").await.unwrap(), Some(assignment("c")), "{name}");

        // Two concurrent ends: one wins.
        s.put(&assignment("d"), Duration::from_secs(60))
            .await
            .unwrap();
        let (x, y) = tokio::join!(s.remove("d"), s.remove("d"));
        assert!(x.unwrap() ^ y.unwrap(), "{name}");
    }
}

/// One holder per stream key: others are refused while it holds (and renews) it; it ends when
/// its holder lets go or stops renewing; another holder cannot end it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_has_one_holder_at_a_time() {
    let (stores, _redis) = stores();
    let long = Duration::from_secs(60);
    for (name, s) in stores {
        assert!(s.hold_stream("w1", "h1", long).await.unwrap(), "{name}");
        assert!(
            s.hold_stream("w1", "h1", long).await.unwrap(),
            "{name}: renewed"
        );
        assert!(
            !s.hold_stream("w1", "h2", long).await.unwrap(),
            "{name}: taken"
        );
        assert!(
            s.hold_stream("w2", "h2", long).await.unwrap(),
            "{name}: another key"
        );
        s.end_stream("w1", "h2").await.unwrap();
        assert!(
            !s.hold_stream("w1", "h2", long).await.unwrap(),
            "{name}: not h2's to end"
        );
        s.end_stream("w1", "h1").await.unwrap();
        assert!(
            s.hold_stream("w1", "h2", long).await.unwrap(),
            "{name}: free again"
        );

        // A holder that stops renewing loses it.
        let short = Duration::from_millis(300);
        assert!(s.hold_stream("w3", "h1", short).await.unwrap(), "{name}");
        assert!(!s.hold_stream("w3", "h2", short).await.unwrap(), "{name}");
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert!(
            s.hold_stream("w3", "h2", short).await.unwrap(),
            "{name}: lapsed"
        );
    }
}
