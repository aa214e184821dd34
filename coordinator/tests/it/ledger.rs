//! Conformance of the payment ledger: every [`PaymentLedger`] guarantee, checked the same way
//! on each backend (SQLite in memory, SQLite in a file, Redis). The file and Redis backends are
//! also reopened, as after a restart, to check that what must last does.

use std::sync::Arc;
use std::time::Duration;

use alloy::primitives::{Address, B256, U256};
use notary_coordinator::compute::onchain::OnchainRequest;
use notary_coordinator::db::{Db, Durability};
use notary_coordinator::payments::ledger::{
    Consumed, JobField, PaymentLedger, RedisLedger, SqliteLedger, StatsEntry,
};
use notary_coordinator::payments::{Payment, PaymentRequirements, PendingJob, Settlement};
use notary_coordinator::record::JobRecord;
use notary_queue::test_utils::RedisServer;
use uuid::Uuid;

use crate::support::*;

struct Subject {
    ledger: Option<Arc<dyn PaymentLedger>>,
    home: StoreHome,
}

impl Subject {
    async fn memory() -> Subject {
        let db = Arc::new(Db::open(None, Durability::Process).unwrap());
        Subject {
            ledger: Some(Arc::new(SqliteLedger::open(db).await.unwrap())),
            home: StoreHome::Memory,
        }
    }

    async fn file() -> Subject {
        let dir = tempfile::tempdir().unwrap();
        let db = reopen_db(&dir.path().join("notary.sqlite3"));
        Subject {
            ledger: Some(Arc::new(SqliteLedger::open(db).await.unwrap())),
            home: StoreHome::File(dir),
        }
    }

    async fn redis() -> Subject {
        let server = RedisServer::start();
        let prefix = format!("ledger{}:", Uuid::new_v4().simple());
        let ledger = RedisLedger::connect(&server.url(), &prefix).await.unwrap();
        Subject {
            ledger: Some(Arc::new(ledger)),
            home: StoreHome::Redis(server, prefix),
        }
    }

    fn l(&self) -> &dyn PaymentLedger {
        self.ledger.as_deref().expect("open")
    }

    /// Drops the ledger and opens it again from its storage (as a restarted coordinator
    /// does); `false` for the in-memory backend, which keeps nothing.
    async fn reopen(&mut self) -> bool {
        drop(self.ledger.take());
        let ledger: Arc<dyn PaymentLedger> = match &self.home {
            StoreHome::Memory => return false,
            StoreHome::File(dir) => {
                let db = reopen_db(&dir.path().join("notary.sqlite3"));
                Arc::new(SqliteLedger::open(db).await.unwrap())
            }
            StoreHome::Redis(server, prefix) => {
                Arc::new(RedisLedger::connect(&server.url(), prefix).await.unwrap())
            }
        };
        self.ledger = Some(ledger);
        true
    }
}

async fn record() -> JobRecord {
    hello_record().await
}

fn payment(payer: Address, amount: u64) -> Payment {
    Payment {
        scheme: "exact".into(),
        tx_hash: B256::repeat_byte(7),
        payer,
        amount: U256::from(amount),
        verified_at_ms: 1_700_000_000_000,
        asset: Address::ZERO,
    }
}

fn requirements() -> PaymentRequirements {
    PaymentRequirements {
        scheme: "exact".into(),
        network: "base-sepolia".into(),
        amount: "1000".into(),
        asset: Address::ZERO,
        pay_to: Address::repeat_byte(1),
        expiry: 1_900_000_000,
    }
}

/// Runs every check on one backend.
async fn conformance(mut s: Subject) {
    let payer = Address::repeat_byte(0xaa);

    // Pending jobs: readable until they expire; replaced by a second put.
    let rec = record().await;
    let id = rec.id();
    assert!(s.l().pending(id).await.unwrap().is_none());
    let pending = PendingJob {
        record: rec.clone(),
        requirements: requirements(),
        payer: Some(Address::repeat_byte(4)),
    };
    s.l()
        .put_pending(&pending, Duration::from_secs(60))
        .await
        .unwrap();
    let got = s.l().pending(id).await.unwrap().expect("pending");
    assert_eq!(got.record.id(), id);
    assert_eq!(got.requirements, requirements());
    assert_eq!(
        got.payer,
        Some(Address::repeat_byte(4)),
        "a prepared job keeps its payer"
    );
    let short = PendingJob {
        record: record().await,
        requirements: requirements(),
        payer: None,
    };
    s.l()
        .put_pending(&short, Duration::from_millis(100))
        .await
        .unwrap();
    assert!(s.l().pending(short.record.id()).await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        s.l().pending(short.record.id()).await.unwrap().is_none(),
        "a pending job expires"
    );

    // Reservations: one job per used-record; again by the same job is fine; by another job
    // fails with the holder's id; unreserve frees it.
    let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
    let k = "used:auth:test";
    assert_eq!(s.l().used_by(k).await.unwrap(), None);
    assert_eq!(s.l().reserve(k, a).await.unwrap(), Ok(()));
    assert_eq!(s.l().reserve(k, a).await.unwrap(), Ok(()));
    assert_eq!(s.l().reserve(k, b).await.unwrap(), Err(a.to_string()));
    assert_eq!(s.l().used_by(k).await.unwrap(), Some(a.to_string()));
    s.l().unreserve(k).await.unwrap();
    assert_eq!(s.l().used_by(k).await.unwrap(), None);
    assert_eq!(s.l().reserve(k, b).await.unwrap(), Ok(()));

    // Consume: the payment becomes the job's, the job is open and no longer pending.
    let used = "used:0xfeed";
    let pay = payment(payer, 1000);
    assert_eq!(s.l().job_payment(id).await.unwrap(), None);
    assert_eq!(s.l().consume(id, &pay, used).await.unwrap(), Consumed::Done);
    assert_eq!(s.l().used_by(used).await.unwrap(), Some(id.to_string()));
    assert_eq!(
        s.l().job_payment(id).await.unwrap(),
        Some((pay.clone(), Settlement::default()))
    );
    assert!(s.l().open_jobs().await.unwrap().contains(&id));
    assert!(
        s.l().pending(id).await.unwrap().is_none(),
        "no longer pending"
    );
    // Again for the same job: already paid, nothing changes.
    assert_eq!(
        s.l()
            .consume(id, &payment(payer, 5), "used:other")
            .await
            .unwrap(),
        Consumed::AlreadyPaid
    );
    assert_eq!(s.l().used_by("used:other").await.unwrap(), None);
    assert_eq!(s.l().job_payment(id).await.unwrap().unwrap().0, pay);
    // The same payment for another job: refused with the first job's id, nothing stored.
    let other = Uuid::new_v4();
    assert_eq!(
        s.l().consume(other, &pay, used).await.unwrap(),
        Consumed::UsedBy(id.to_string())
    );
    assert_eq!(s.l().job_payment(other).await.unwrap(), None);
    assert!(!s.l().open_jobs().await.unwrap().contains(&other));
    // A reservation made by the job itself is consumed by it, and by no other.
    assert_eq!(
        s.l().consume(b, &pay, k).await.unwrap(),
        Consumed::Done,
        "b reserved k above"
    );
    assert_eq!(
        s.l().consume(a, &pay, k).await.unwrap(),
        Consumed::UsedBy(b.to_string())
    );
    // Racing consumers of one payment: exactly one wins, every other is told who.
    let race_key = "used:race";
    let racers: Vec<Uuid> = (0..8).map(|_| Uuid::new_v4()).collect();
    let results =
        futures::future::join_all(racers.iter().map(|j| s.l().consume(*j, &pay, race_key))).await;
    let winners: Vec<_> = racers
        .iter()
        .zip(&results)
        .filter(|(_, r)| matches!(r, Ok(Consumed::Done)))
        .map(|(j, _)| *j)
        .collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for r in &results {
        let r = r.as_ref().unwrap();
        assert!(
            *r == Consumed::Done || *r == Consumed::UsedBy(winners[0].to_string()),
            "{r:?}"
        );
    }

    // Settlement and the crash-recovery fields.
    let settled = Settlement {
        registry_tx_hash: Some(B256::repeat_byte(3)),
        registry_error: None,
        refund_tx_hash: None,
        settled: true,
        release_tx_hash: Some(B256::repeat_byte(5)),
        payouts: vec![notary_coordinator::payments::Payout {
            to: Address::repeat_byte(6),
            amount: "900".into(),
            role: "seat".into(),
        }],
    };
    s.l().save_settlement(id, &settled).await.unwrap();
    assert_eq!(
        s.l().job_payment(id).await.unwrap(),
        Some((pay.clone(), settled.clone()))
    );
    assert_eq!(
        s.l()
            .job_field(id, JobField::RegistryAttempt)
            .await
            .unwrap(),
        None
    );
    s.l()
        .set_job_field(id, JobField::RegistryAttempt, "123")
        .await
        .unwrap();
    s.l()
        .set_job_field(id, JobField::RefundRaw, "{\"hash\":1}")
        .await
        .unwrap();
    s.l()
        .set_job_field(id, JobField::RefundRaw, "{\"hash\":2}")
        .await
        .unwrap();
    assert_eq!(
        s.l().job_field(id, JobField::RefundRaw).await.unwrap(),
        Some("{\"hash\":2}".into())
    );
    s.l()
        .clear_job_field(id, JobField::RefundRaw)
        .await
        .unwrap();
    assert_eq!(
        s.l().job_field(id, JobField::RefundRaw).await.unwrap(),
        None
    );
    assert_eq!(
        s.l()
            .job_field(id, JobField::RegistryAttempt)
            .await
            .unwrap(),
        Some("123".into()),
        "clearing one field keeps the other"
    );
    assert_eq!(
        s.l().job_payment(id).await.unwrap().unwrap().1,
        settled,
        "fields do not touch the settlement"
    );
    // A field of a job that was never paid does not make it paid.
    let unpaid = Uuid::new_v4();
    s.l()
        .set_job_field(unpaid, JobField::RegistryAttempt, "1")
        .await
        .unwrap();
    assert_eq!(s.l().job_payment(unpaid).await.unwrap(), None);

    // Payer slots: at most `max` jobs; a holder asking again keeps its slot; other payers are
    // not affected; a released slot is free again.
    let slots: Vec<Uuid> = (0..4).map(|_| Uuid::new_v4()).collect();
    for j in &slots[..3] {
        assert!(s.l().take_payer_slot(payer, *j, 3).await.unwrap());
    }
    assert!(!s.l().take_payer_slot(payer, slots[3], 3).await.unwrap());
    assert!(s.l().take_payer_slot(payer, slots[0], 3).await.unwrap());
    let other_payer = Address::repeat_byte(0xbb);
    assert!(s
        .l()
        .take_payer_slot(other_payer, slots[3], 3)
        .await
        .unwrap());
    s.l().release_payer_slot(payer, slots[0]).await.unwrap();
    assert!(s.l().take_payer_slot(payer, slots[3], 3).await.unwrap());
    assert!(!s.l().take_payer_slot(payer, slots[0], 3).await.unwrap());
    // Racing for slots: never more than the cap.
    let racer = Address::repeat_byte(0xcc);
    let jobs: Vec<Uuid> = (0..10).map(|_| Uuid::new_v4()).collect();
    let taken = futures::future::join_all(jobs.iter().map(|j| s.l().take_payer_slot(racer, *j, 3)))
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(taken, 3);

    // Close: the job leaves the open set and its payer slot is freed, in one step.
    let closing = Uuid::new_v4();
    assert_eq!(
        s.l()
            .consume(closing, &payment(other_payer, 1), "used:closing")
            .await
            .unwrap(),
        Consumed::Done
    );
    for j in [Uuid::new_v4(), Uuid::new_v4()] {
        assert!(s.l().take_payer_slot(other_payer, j, 3).await.unwrap());
    }
    assert!(!s
        .l()
        .take_payer_slot(other_payer, closing, 3)
        .await
        .unwrap());
    s.l()
        .release_payer_slot(other_payer, slots[3])
        .await
        .unwrap();
    assert!(s
        .l()
        .take_payer_slot(other_payer, closing, 3)
        .await
        .unwrap());
    assert!(s.l().open_jobs().await.unwrap().contains(&closing));
    s.l().close(closing, other_payer).await.unwrap();
    assert!(!s.l().open_jobs().await.unwrap().contains(&closing));
    assert!(s
        .l()
        .take_payer_slot(other_payer, Uuid::new_v4(), 3)
        .await
        .unwrap());

    // Settling lock: exclusive; only its owner releases it; it expires.
    let j = Uuid::new_v4();
    let long = Duration::from_secs(30);
    assert!(s.l().lock_settling(j, "a", long).await.unwrap());
    assert!(!s.l().lock_settling(j, "b", long).await.unwrap());
    assert!(
        !s.l().lock_settling(j, "a", long).await.unwrap(),
        "not reentrant"
    );
    s.l().unlock_settling(j, "b").await.unwrap();
    assert!(
        !s.l().lock_settling(j, "c", long).await.unwrap(),
        "another owner cannot release it"
    );
    s.l().unlock_settling(j, "a").await.unwrap();
    assert!(s.l().lock_settling(j, "b", long).await.unwrap());
    let j = Uuid::new_v4();
    assert!(s
        .l()
        .lock_settling(j, "a", Duration::from_millis(100))
        .await
        .unwrap());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        s.l().lock_settling(j, "b", long).await.unwrap(),
        "an expired lock is free"
    );
    s.l().unlock_settling(j, "a").await.unwrap();
    assert!(
        !s.l().lock_settling(j, "c", long).await.unwrap(),
        "the late first owner does not release the new owner's lock"
    );
    let j = Uuid::new_v4();
    let owners: Vec<String> = (0..8).map(|i| format!("o{i}")).collect();
    let got = futures::future::join_all(owners.iter().map(|o| s.l().lock_settling(j, o, long)))
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(got, 1, "one of eight racers gets the lock");

    // Statistics: each job counted once, also when settled again.
    let before = s.l().counters().await.unwrap();
    assert_eq!(before.total, 0);
    assert_eq!(before.up_since, None);
    let e1 = StatsEntry {
        delivered: true,
        duration_ms: 40,
        revenue_gwei: 1_000_000,
        revenue_token_units: 0,
    };
    let e2 = StatsEntry {
        delivered: false,
        duration_ms: 60,
        revenue_gwei: 0,
        revenue_token_units: 0,
    };
    let e3 = StatsEntry {
        delivered: true,
        duration_ms: 20,
        revenue_gwei: 0,
        revenue_token_units: 1000,
    };
    assert!(s.l().count(a, e1).await.unwrap());
    assert!(!s.l().count(a, e1).await.unwrap(), "counted once per job");
    assert!(!s.l().count(a, e2).await.unwrap());
    assert!(s.l().count(b, e2).await.unwrap());
    let racing = futures::future::join_all((0..6).map(|_| s.l().count(id, e3)))
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(racing, 1, "concurrent counts of one job count once");
    let c = s.l().counters().await.unwrap();
    assert_eq!(
        (
            c.total,
            c.delivered,
            c.duration_ms,
            c.revenue_gwei,
            c.revenue_token_units
        ),
        (3, 2, 120, 1_000_000, 1000)
    );

    // Uptime: the first minute served, and distinct minutes.
    let m = 29_000_000;
    s.l().beat(m).await.unwrap();
    s.l().beat(m).await.unwrap();
    s.l().beat(m + 2).await.unwrap();
    let c = s.l().counters().await.unwrap();
    assert_eq!((c.up_since, c.up_minutes), (Some(m), 2));

    // On-chain requests: stored once per id with the cursor, listed by id, closed for good.
    let (contract, other) = (Address::repeat_byte(0xc1), Address::repeat_byte(0xc2));
    assert_eq!(s.l().onchain_cursor(contract).await.unwrap(), None);
    assert!(s.l().open_onchain(contract).await.unwrap().is_empty());
    let (r2, r10) = (onchain_request(2, 5), onchain_request(10, 6));
    s.l()
        .record_onchain(contract, &[r10.clone(), r2.clone()], 7)
        .await
        .unwrap();
    assert_eq!(s.l().onchain_cursor(contract).await.unwrap(), Some(7));
    assert_eq!(
        s.l().open_onchain(contract).await.unwrap(),
        vec![r2.clone(), r10.clone()],
        "by request id (10 after 2, not as text)"
    );
    // Scanning again keeps the stored request and never moves the cursor back.
    let mut changed = r2.clone();
    changed.frequency = 99;
    s.l().record_onchain(contract, &[changed], 3).await.unwrap();
    assert_eq!(s.l().onchain_cursor(contract).await.unwrap(), Some(7));
    assert_eq!(s.l().open_onchain(contract).await.unwrap()[0], r2);
    s.l().record_onchain(contract, &[], 9).await.unwrap();
    assert_eq!(s.l().onchain_cursor(contract).await.unwrap(), Some(9));
    // Closed: not open again, even when its block is scanned again.
    s.l().close_onchain(contract, r2.request_id).await.unwrap();
    s.l()
        .record_onchain(contract, std::slice::from_ref(&r2), 9)
        .await
        .unwrap();
    assert_eq!(
        s.l().open_onchain(contract).await.unwrap(),
        vec![r10.clone()]
    );
    // Another contract's requests and cursor are its own.
    assert_eq!(s.l().onchain_cursor(other).await.unwrap(), None);
    assert!(s.l().open_onchain(other).await.unwrap().is_empty());

    // After a restart: used payments stay used (also for consume), payments, settlements,
    // fields, open jobs, slots and statistics are all still there.
    if s.reopen().await {
        assert_eq!(s.l().used_by(used).await.unwrap(), Some(id.to_string()));
        assert_eq!(
            s.l().consume(Uuid::new_v4(), &pay, used).await.unwrap(),
            Consumed::UsedBy(id.to_string())
        );
        assert_eq!(
            s.l().reserve(used, Uuid::new_v4()).await.unwrap(),
            Err(id.to_string())
        );
        assert_eq!(
            s.l().job_payment(id).await.unwrap(),
            Some((pay.clone(), settled.clone()))
        );
        assert_eq!(
            s.l()
                .job_field(id, JobField::RegistryAttempt)
                .await
                .unwrap(),
            Some("123".into())
        );
        assert!(s.l().open_jobs().await.unwrap().contains(&id));
        assert!(!s
            .l()
            .take_payer_slot(racer, Uuid::new_v4(), 3)
            .await
            .unwrap());
        let c = s.l().counters().await.unwrap();
        assert_eq!((c.total, c.up_since, c.up_minutes), (3, Some(m), 2));
        assert!(!s.l().count(a, e1).await.unwrap(), "still counted once");
        assert_eq!(s.l().onchain_cursor(contract).await.unwrap(), Some(9));
        assert_eq!(s.l().open_onchain(contract).await.unwrap(), vec![r10]);
        s.l().record_onchain(contract, &[r2], 9).await.unwrap();
        assert_eq!(s.l().open_onchain(contract).await.unwrap().len(), 1);
    }
}

fn onchain_request(id: u64, block: u64) -> OnchainRequest {
    OnchainRequest {
        request_id: U256::from(id),
        consumer: Address::repeat_byte(0xcc),
        containers_hash: B256::repeat_byte(7),
        containers: vec![B256::repeat_byte(id as u8); 2],
        input: alloy::primitives::Bytes::from_static(b"{\"n\":1}"),
        max_fuel: 1_000_000,
        redundancy: 1,
        frequency: 3,
        period: 10,
        created_at: 1_700_000_000,
        block,
    }
}

#[tokio::test]
async fn ledger_conformance_sqlite_in_memory() {
    conformance(Subject::memory().await).await;
}

#[tokio::test]
async fn ledger_conformance_sqlite_file() {
    conformance(Subject::file().await).await;
}

#[tokio::test]
async fn ledger_conformance_redis() {
    conformance(Subject::redis().await).await;
}
