//! Conformance of the module registry's storage: every [`ModuleStore`] guarantee, checked the
//! same way on each backend (SQLite in memory, SQLite in a file, Redis); the file and Redis
//! backends are reopened, as after a restart, and must still have every module.

use std::sync::Arc;

use notary_coordinator::db::{Db, Durability};
use notary_coordinator::modules::{
    ModuleStore, Put, RedisModules, RegisteredModule, SqliteModules,
};
use notary_protocol::{sha256, ModuleLanguage, ModuleManifest};
use notary_queue::test_utils::RedisServer;

use crate::support::{reopen_db, StoreHome};

struct Subject {
    store: Option<Arc<dyn ModuleStore>>,
    home: StoreHome,
}

impl Subject {
    async fn open(home: StoreHome) -> Subject {
        let store: Arc<dyn ModuleStore> = match &home {
            StoreHome::Memory => Arc::new(
                SqliteModules::open(Arc::new(Db::open(None, Durability::Process).unwrap()))
                    .await
                    .unwrap(),
            ),
            StoreHome::File(dir) => Arc::new(
                SqliteModules::open(reopen_db(&dir.path().join("notary.sqlite3")))
                    .await
                    .unwrap(),
            ),
            StoreHome::Redis(server, prefix) => {
                Arc::new(RedisModules::new_lazy(&server.url(), prefix).unwrap())
            }
        };
        Subject {
            store: Some(store),
            home,
        }
    }

    fn m(&self) -> &dyn ModuleStore {
        self.store.as_deref().expect("open")
    }

    /// Opens the store again from its storage; `false` in memory.
    async fn reopen(self) -> Option<Subject> {
        let Subject { store, home } = self;
        drop(store);
        match home {
            StoreHome::Memory => None,
            home => Some(Subject::open(home).await),
        }
    }
}

fn module(name: &str, bytes: &[u8], published_at_ms: u64) -> RegisteredModule {
    RegisteredModule {
        manifest: ModuleManifest {
            name: name.into(),
            version: "1.0.0".into(),
            sha256: sha256(bytes),
            language: ModuleLanguage::Javascript,
            source_language: None,
            description: format!("module {name}"),
            fuel: None,
            input: String::new(),
            output: String::new(),
            size: bytes.len() as u64,
        },
        published_at_ms,
    }
}

async fn conformance(s: Subject) {
    let (b1, b2, b3) = (
        b"console.log(1)".as_slice(),
        b"console.log(2)".as_slice(),
        b"console.log(3)".as_slice(),
    );
    let m1 = module("one", b1, 2_000);
    let m2 = module("two", b2, 3_000);
    let m3 = module("three", b3, 1_000);
    assert!(s.m().list().await.unwrap().is_empty());
    assert!(s.m().manifest(&m1.manifest.sha256).await.unwrap().is_none());
    assert!(s.m().bytes(&m1.manifest.sha256).await.unwrap().is_none());

    // Put is idempotent: the first manifest for a hash wins, the bytes stay.
    assert_eq!(s.m().put(&m1, b1).await.unwrap(), Put::Created);
    let mut renamed = m1.clone();
    renamed.manifest.name = "impostor".into();
    renamed.published_at_ms = 9_000;
    assert_eq!(s.m().put(&renamed, b1).await.unwrap(), Put::Exists);
    assert_eq!(
        s.m().manifest(&m1.manifest.sha256).await.unwrap(),
        Some(m1.clone())
    );
    assert_eq!(
        s.m().bytes(&m1.manifest.sha256).await.unwrap().as_deref(),
        Some(b1)
    );

    // Concurrent puts of one new module: stored once.
    let stored = futures::future::join_all((0..8).map(|_| s.m().put(&m2, b2)))
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap() == Put::Created)
        .count();
    assert_eq!(stored, 1);

    // A name@version belongs to its first module: other bytes under it are refused, even
    // when several race for it; a new version is free.
    let b4 = b"console.log(4)".as_slice();
    let usurper = module("one", b4, 4_000);
    assert_eq!(
        s.m().put(&usurper, b4).await.unwrap(),
        Put::NameTaken(m1.manifest.sha256)
    );
    assert!(s
        .m()
        .manifest(&usurper.manifest.sha256)
        .await
        .unwrap()
        .is_none());
    let racers: Vec<(RegisteredModule, Vec<u8>)> = (0..6)
        .map(|n| {
            let bytes = format!("console.log('race {n}')").into_bytes();
            (module("raced", &bytes, 5_000), bytes)
        })
        .collect();
    let outcomes = futures::future::join_all(racers.iter().map(|(m, b)| s.m().put(m, b))).await;
    let winners: Vec<usize> = outcomes
        .iter()
        .enumerate()
        .filter(|(_, r)| *r.as_ref().unwrap() == Put::Created)
        .map(|(n, _)| n)
        .collect();
    assert_eq!(winners.len(), 1, "{outcomes:?}");
    let owner = racers[winners[0]].0.manifest.sha256;
    for (n, r) in outcomes.into_iter().enumerate() {
        if n != winners[0] {
            assert_eq!(r.unwrap(), Put::NameTaken(owner));
        }
    }
    let mut next_version = usurper.clone();
    next_version.manifest.version = "1.0.1".into();
    assert_eq!(s.m().put(&next_version, b4).await.unwrap(), Put::Created);

    // List: oldest first by publish time, each module once.
    assert_eq!(s.m().put(&m3, b3).await.unwrap(), Put::Created);
    let names = |list: Vec<RegisteredModule>| {
        list.into_iter()
            .map(|m| m.manifest.name)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(s.m().list().await.unwrap()),
        vec!["three", "one", "two", "one", "raced"]
    );

    // After a restart every module is still there, byte for byte.
    if let Some(s) = s.reopen().await {
        assert_eq!(
            names(s.m().list().await.unwrap()),
            vec!["three", "one", "two", "one", "raced"]
        );
        let b5 = b"console.log(5)".as_slice();
        assert_eq!(
            s.m().put(&module("one", b5, 6_000), b5).await.unwrap(),
            Put::NameTaken(m1.manifest.sha256),
            "the owner is still the owner"
        );
        assert_eq!(
            s.m().bytes(&m2.manifest.sha256).await.unwrap().as_deref(),
            Some(b2)
        );
        assert_eq!(
            s.m().put(&renamed, b1).await.unwrap(),
            Put::Exists,
            "still there"
        );
        assert_eq!(s.m().manifest(&m1.manifest.sha256).await.unwrap(), Some(m1));
    }
}

#[tokio::test]
async fn module_store_conformance_sqlite_in_memory() {
    conformance(Subject::open(StoreHome::Memory).await).await;
}

#[tokio::test]
async fn module_store_conformance_sqlite_file() {
    let dir = tempfile::tempdir().unwrap();
    conformance(Subject::open(StoreHome::File(dir)).await).await;
}

#[tokio::test]
async fn module_store_conformance_redis() {
    let server = RedisServer::start();
    let prefix = format!("modules{}:", uuid::Uuid::new_v4().simple());
    conformance(Subject::open(StoreHome::Redis(server, prefix)).await).await;
}
