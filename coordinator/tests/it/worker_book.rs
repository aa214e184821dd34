//! One conformance suite for the worker book (jurors' votes, suspensions), on SQLite and Redis.

use std::sync::Arc;
use std::time::Duration;

use notary_coordinator::db::{Db, Durability};
use notary_coordinator::workers::{
    Booked, RedisWorkerBook, Registration, Role, SqliteWorkerBook, SuspensionRule, Vote, WorkerBook,
};
use notary_protocol::{Address, Digest32};
use notary_queue::test_utils::RedisServer;

const RULE: SuspensionRule = SuspensionRule {
    max_dissents: 2,
    window: Duration::from_secs(60),
};

async fn books() -> (Vec<(&'static str, Arc<dyn WorkerBook>)>, RedisServer) {
    let db = Arc::new(Db::open(None, Durability::Process).unwrap());
    let redis = RedisServer::start();
    let prefix = format!("wb{}:", uuid::Uuid::new_v4().simple());
    (
        vec![
            ("sqlite", SqliteWorkerBook::open(db, RULE).await.unwrap()),
            (
                "redis",
                Arc::new(RedisWorkerBook::new_lazy(&redis.url(), &prefix, RULE).unwrap()),
            ),
        ],
        redis,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dissents_in_the_window_suspend_once_until_lifted() {
    let (books, _redis) = books().await;
    let now = notary_coordinator::record::now_ms();
    let (liar, honest) = (Address::from([9; 20]), Address::from([1; 20]));
    for (name, b) in books {
        assert!(b.workers().await.unwrap().is_empty(), "{name}");
        assert_eq!(b.stats(liar).await.unwrap().jobs, 0, "{name}");
        // Old dissents fall out of the window: two long ago and two now are not three.
        for at in [now - 120_000, now - 90_000, now - 1000, now] {
            assert_eq!(
                b.record(liar, Vote::Dissented, at).await.unwrap(),
                Booked::Counted,
                "{name}"
            );
        }
        assert!(b.suspended().await.unwrap().is_empty(), "{name}");
        b.record(honest, Vote::Agreed, now).await.unwrap();
        b.record(honest, Vote::Undecided, now).await.unwrap();
        // The third in the window suspends, once.
        assert_eq!(
            b.record(liar, Vote::Dissented, now).await.unwrap(),
            Booked::Suspended,
            "{name}"
        );
        assert_eq!(
            b.record(liar, Vote::Dissented, now).await.unwrap(),
            Booked::Counted,
            "{name}: already suspended"
        );
        assert_eq!(b.suspended().await.unwrap(), [liar].into(), "{name}");
        let s = b.stats(liar).await.unwrap();
        assert_eq!((s.jobs, s.agreements, s.dissents), (6, 0, 6), "{name}");
        assert_eq!(s.recent_dissents, 4, "{name}");
        assert_eq!(s.suspended_at_ms, Some(now), "{name}");
        let h = b.stats(honest).await.unwrap();
        assert_eq!((h.jobs, h.agreements, h.dissents), (2, 1, 0), "{name}");
        assert_eq!(b.workers().await.unwrap(), vec![honest, liar], "{name}");

        assert!(b.unsuspend(liar).await.unwrap(), "{name}");
        assert!(
            !b.unsuspend(liar).await.unwrap(),
            "{name}: not suspended now"
        );
        assert!(b.suspended().await.unwrap().is_empty(), "{name}");
        let s = b.stats(liar).await.unwrap();
        assert_eq!(
            (s.dissents, s.recent_dissents),
            (6, 0),
            "{name}: forgiven, not forgotten"
        );
        assert_eq!(
            b.record(liar, Vote::Dissented, now).await.unwrap(),
            Booked::Counted,
            "{name}: a fresh window"
        );
    }
}

/// Two coordinators booking one worker's dissents at once count every one and suspend once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_bookings_count_every_dissent_and_suspend_once() {
    let (books, _redis) = books().await;
    let now = notary_coordinator::record::now_ms();
    let w = Address::from([7; 20]);
    for (name, b) in books {
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let b = b.clone();
                tokio::spawn(async move { b.record(w, Vote::Dissented, now).await.unwrap() })
            })
            .collect();
        let mut suspended = 0;
        for t in tasks {
            if t.await.unwrap() == Booked::Suspended {
                suspended += 1;
            }
        }
        assert_eq!(suspended, 1, "{name}");
        assert_eq!(b.stats(w).await.unwrap().dissents, 20, "{name}");
    }
}

fn registration(address: Address, role: Role, hash: u8, engine: &str) -> Registration {
    Registration {
        address,
        role,
        config_hash: Digest32([hash; 32]),
        engine: engine.into(),
        description: Some(format!("{engine} box")),
    }
}

/// Registering adds roles, replaces the runtime and keeps an approval; approving needs a
/// registration; only approved registrations are in `approved`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_accumulate_roles_and_keep_approval() {
    let (books, _redis) = books().await;
    let (a, b_addr, stranger) = (
        Address::from([3; 20]),
        Address::from([4; 20]),
        Address::from([5; 20]),
    );
    for (name, b) in books {
        assert_eq!(b.registration(a).await.unwrap(), None, "{name}");
        assert!(
            !b.approve(stranger).await.unwrap(),
            "{name}: never registered"
        );
        assert!(b.approved().await.unwrap().is_empty(), "{name}");

        let (r, first) = b
            .register(
                &registration(a, Role::Provider, 1, "cranelift"),
                false,
                1000,
            )
            .await
            .unwrap();
        assert!(first, "{name}");
        assert_eq!(r.roles, vec![Role::Provider], "{name}");
        assert!(!r.approved, "{name}");
        assert_eq!(
            (r.registered_at_ms, r.updated_at_ms),
            (1000, 1000),
            "{name}"
        );
        assert!(b.approved().await.unwrap().is_empty(), "{name}");
        assert!(b.approve(a).await.unwrap(), "{name}");
        assert_eq!(b.approved().await.unwrap(), [a].into(), "{name}");

        // Again, as verifier with a new runtime and no description: roles add up, the rest is
        // replaced, the approval stays.
        let mut again = registration(a, Role::Verifier, 2, "pulley");
        again.description = None;
        let (r, first) = b.register(&again, false, 2000).await.unwrap();
        assert!(!first, "{name}");
        assert_eq!(r.roles, vec![Role::Provider, Role::Verifier], "{name}");
        assert_eq!(r.config_hash, Digest32([2; 32]), "{name}");
        assert_eq!(r.engine, "pulley", "{name}");
        assert_eq!(r.description, None, "{name}");
        assert!(r.approved, "{name}: approval is sticky");
        assert_eq!(
            (r.registered_at_ms, r.updated_at_ms),
            (1000, 2000),
            "{name}"
        );
        assert_eq!(b.registration(a).await.unwrap(), Some(r), "{name}");

        // Open approval approves at registration.
        let (r, _) = b
            .register(
                &registration(b_addr, Role::Verifier, 1, "cranelift"),
                true,
                3000,
            )
            .await
            .unwrap();
        assert!(r.approved, "{name}");
        assert_eq!(b.approved().await.unwrap(), [a, b_addr].into(), "{name}");
        assert_eq!(b.workers().await.unwrap(), vec![a, b_addr], "{name}");
        // A booked vote does not make a registration.
        b.record(stranger, Vote::Agreed, 3000).await.unwrap();
        assert_eq!(b.registration(stranger).await.unwrap(), None, "{name}");
    }
}

/// Services: declared, replaced by target (price and update time; creation kept), listed by
/// id, withdrawn once, per worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn services_are_declared_replaced_and_withdrawn() {
    use notary_coordinator::workers::{Service, ServiceTarget};
    let (books, _redis) = books().await;
    let (a, b_addr) = (Address::from([3; 20]), Address::from([4; 20]));
    for (name, b) in books {
        assert!(b.services(a).await.unwrap().is_empty(), "{name}");
        let js = Service::new(
            ServiceTarget::Language("javascript".into()),
            "100".into(),
            1_000,
        );
        let module = Service::new(ServiceTarget::Module(Digest32([5; 32])), "7".into(), 1_500);
        let (stored, new) = b.put_service(a, &js).await.unwrap();
        assert!(new, "{name}");
        assert_eq!(stored, js, "{name}");
        assert!(b.put_service(a, &module).await.unwrap().1, "{name}");
        // The same target again: replaced, not doubled.
        let dearer = Service::new(
            ServiceTarget::Language("javascript".into()),
            "250".into(),
            2_000,
        );
        let (stored, new) = b.put_service(a, &dearer).await.unwrap();
        assert!(!new, "{name}");
        assert_eq!(
            (
                stored.price.as_str(),
                stored.created_at_ms,
                stored.updated_at_ms
            ),
            ("250", 1_000, 2_000),
            "{name}"
        );
        let listed = b.services(a).await.unwrap();
        assert_eq!(
            listed,
            vec![stored.clone(), module.clone()],
            "{name}: by id"
        );
        assert!(
            b.services(b_addr).await.unwrap().is_empty(),
            "{name}: per worker"
        );
        assert!(
            b.remove_service(a, &module.service_id).await.unwrap(),
            "{name}"
        );
        assert!(
            !b.remove_service(a, &module.service_id).await.unwrap(),
            "{name}: once"
        );
        assert!(
            !b.remove_service(b_addr, &js.service_id).await.unwrap(),
            "{name}"
        );
        assert_eq!(b.services(a).await.unwrap(), vec![stored], "{name}");
    }
}

/// Earnings: credited once per (worker, job), summed per worker.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earnings_are_credited_once_per_job() {
    let (books, _redis) = books().await;
    let (a, b_addr) = (Address::from([5; 20]), Address::from([6; 20]));
    let (j1, j2) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    for (name, b) in books {
        assert_eq!(b.earnings(a).await.unwrap(), 0, "{name}");
        assert!(b.credit(a, j1, 900).await.unwrap(), "{name}");
        assert!(!b.credit(a, j1, 900).await.unwrap(), "{name}: once per job");
        assert!(b.credit(a, j2, 1350).await.unwrap(), "{name}");
        assert!(
            b.credit(b_addr, j1, 900).await.unwrap(),
            "{name}: per worker"
        );
        assert_eq!(b.earnings(a).await.unwrap(), 2250, "{name}");
        assert_eq!(b.earnings(b_addr).await.unwrap(), 900, "{name}");
    }
}
