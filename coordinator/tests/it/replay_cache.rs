//! One conformance suite for the replay cache of actor-signed requests, on SQLite and Redis.

use std::sync::Arc;

use notary_coordinator::actors::{RedisReplayCache, ReplayCache, SqliteReplayCache};
use notary_coordinator::db::{Db, Durability};
use notary_queue::test_utils::RedisServer;

async fn caches() -> (Vec<(&'static str, Arc<dyn ReplayCache>)>, RedisServer) {
    let db = Arc::new(Db::open(None, Durability::Process).unwrap());
    let redis = RedisServer::start();
    let prefix = format!("rc{}:", uuid::Uuid::new_v4().simple());
    (
        vec![
            ("sqlite", SqliteReplayCache::open(db).await.unwrap()),
            (
                "redis",
                Arc::new(RedisReplayCache::new_lazy(&redis.url(), &prefix).unwrap()),
            ),
        ],
        redis,
    )
}

/// A digest is accepted once until it expires; others are independent; concurrent first uses
/// of one digest let exactly one through.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_digest_is_accepted_once_until_it_expires() {
    let (caches, _redis) = caches().await;
    let now = notary_coordinator::record::now_ms();
    for (name, c) in caches {
        assert!(
            c.first_use("aa", now + 60_000, now).await.unwrap(),
            "{name}"
        );
        assert!(
            !c.first_use("aa", now + 60_000, now).await.unwrap(),
            "{name}: replay"
        );
        assert!(
            c.first_use("bb", now + 60_000, now).await.unwrap(),
            "{name}"
        );
        // Short-lived: gone once expired (Redis expires it on its own clock).
        assert!(c.first_use("cc", now + 300, now).await.unwrap(), "{name}");
        tokio::time::sleep(std::time::Duration::from_millis(600)).await;
        let later = notary_coordinator::record::now_ms();
        assert!(
            c.first_use("cc", later + 300, later).await.unwrap(),
            "{name}: expired"
        );
        assert!(
            !c.first_use("aa", later + 60_000, later).await.unwrap(),
            "{name}"
        );

        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let c = c.clone();
                tokio::spawn(async move { c.first_use("dd", now + 60_000, now).await.unwrap() })
            })
            .collect();
        let mut firsts = 0;
        for t in tasks {
            firsts += usize::from(t.await.unwrap());
        }
        assert_eq!(firsts, 1, "{name}");
    }
}
