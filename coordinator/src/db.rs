//! The embedded database: one SQLite file (or an in-memory database for `--data-dir none`)
//! owned by one thread, with group commit.
//!
//! Why SQLite (through `rusqlite` with the bundled library): the embedded mode needs several
//! small tables that are read by key *and* scanned in order (unfinished jobs after a restart,
//! the event log by sequence number, webhook deliveries by due time), atomic multi-table
//! changes (a job's outcome and its final event in one step), and a file format that survives
//! a SIGKILL. SQLite gives all of that with a write-ahead log, is the most deployed embedded
//! database there is, and its bundled build needs no system library. `redb` would have given
//! ordered key-value tables only, and every scan and secondary index would have been ours.
//!
//! Every store of the embedded mode sends closures to [`Db::call`]. The database thread takes
//! whatever has queued up, runs each closure inside one `BEGIN IMMEDIATE` transaction (each in a
//! savepoint of its own, so one closure's error rolls back only its own writes) and commits once
//! for the lot: under load many jobs share one commit (and one `fsync` with
//! [`Durability::Fsync`]), which is what keeps the durable default close to the in-memory mode.
//! A caller gets its result only after the commit, so whatever it was told is on disk.
//!
//! A lock file next to the database (`<file>.lock`, an exclusive `flock` held while the
//! process runs) makes a second coordinator pointed at the same data directory fail at start
//! instead of sharing waiters and event cursors it cannot see.
//!
//! Checkpoints (copying the write-ahead log back into the database file, two `fsync`s) run on
//! a thread and connection of their own ([`start_checkpointer`]), so no caller waits for one: done by
//! SQLite's automatic checkpoint on the database thread, every 1,000 pages, they were the
//! one-client p99 (about 6 to 15 ms against a p50 under 1 ms). The automatic checkpoint stays
//! as a backstop at [`BACKSTOP_PAGES`], for a log the background checkpoints cannot restart
//! (see [`start_checkpointer`]).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// Most closures committed together.
const MAX_GROUP: usize = 256;

/// How often the background checkpointer looks at the write-ahead log.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

/// Write-ahead log pages past which the database thread checkpoints itself (SQLite's automatic
/// checkpoint; its default is 1,000). See [`start_checkpointer`] for when that happens.
pub const BACKSTOP_PAGES: u32 = 16_000;

/// How hard a commit is pushed to the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous = NORMAL` in WAL mode: a commit is written to the log before the caller is
    /// answered, so a crashed or SIGKILLed process loses nothing; an operating-system crash or
    /// power loss can lose the last commits (like Redis' `appendfsync everysec`).
    #[default]
    Process,
    /// `synchronous = FULL`: every (group) commit is `fsync`ed before callers are answered.
    Fsync,
}

type Completion = Box<dyn FnOnce(Option<&str>) + Send>;
/// A closure's work: runs it, says whether it succeeded, and how to answer after the commit.
type Work = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

/// Handle of the database thread. Cheap to share (`Arc<Db>`); the thread ends when the last
/// handle is dropped.
pub struct Db {
    work: mpsc::Sender<Work>,
    path: Option<PathBuf>,
    durability: Durability,
    /// Dropped with the last handle: the checkpointer thread then ends.
    _checkpointer: Option<mpsc::Sender<()>>,
    /// Background checkpoints that left nothing in the log to copy back.
    checkpointed: Arc<AtomicU64>,
    /// The lock file, held (locked) while this handle lives.
    _lock: Option<std::fs::File>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

impl Db {
    /// Opens (creating it if needed) the database at `path`, or an in-memory one for `None`.
    pub fn open(path: Option<&Path>, durability: Durability) -> Result<Db> {
        let (conn, lock) = match path {
            Some(p) => {
                if let Some(dir) = p.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let lock = lock(p)?;
                (Connection::open(p).map_err(sql)?, Some(lock))
            }
            None => (Connection::open_in_memory().map_err(sql)?, None),
        };
        // Every store's statements are cached on this one connection (rusqlite keeps 16 by
        // default, fewer than the stores use, so they would be parsed again and again).
        conn.set_prepared_statement_cache_capacity(256);
        let sync = match durability {
            Durability::Process => "NORMAL",
            Durability::Fsync => "FULL",
        };
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = {sync};
             PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES};
             PRAGMA foreign_keys = ON;"
        ))
        .map_err(sql)?;
        let checkpointed = Arc::new(AtomicU64::new(0));
        let checkpointer = match path {
            Some(p) => Some(start_checkpointer(p, sync, checkpointed.clone())?),
            None => None,
        };
        let (work, rx) = mpsc::channel::<Work>();
        std::thread::Builder::new()
            .name("notary-db".into())
            .spawn(move || run(conn, rx))?;
        Ok(Db {
            work,
            path: path.map(Path::to_path_buf),
            durability,
            _checkpointer: checkpointer,
            checkpointed,
            _lock: lock,
        })
    }

    /// The file, if the database is not in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// How hard commits are pushed to the disk.
    pub fn durability(&self) -> Durability {
        self.durability
    }

    /// How many background checkpoints so far found the whole log copied back into the
    /// database file when they ended (0 for a database in memory).
    pub fn checkpointed(&self) -> u64 {
        self.checkpointed.load(Ordering::Relaxed)
    }

    /// Runs `f` on the database thread inside a transaction and returns its result once that
    /// transaction is committed. An `Err` from `f` rolls back `f`'s own writes only.
    pub async fn call<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.issue(f)?.await
    }

    /// Sends `f` to the database thread now, before any call made after this one (the thread
    /// runs them in order), and returns the future of its result after the commit.
    pub fn issue<T, F>(
        &self,
        f: F,
    ) -> Result<impl std::future::Future<Output = Result<T>> + Send + 'static>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (reply, rx) = oneshot::channel::<Result<T>>();
        let work: Work = Box::new(move |conn| {
            let result = f(conn);
            let ok = result.is_ok();
            let completion: Completion = Box::new(move |commit_error: Option<&str>| {
                let result = match (result, commit_error) {
                    (Ok(v), None) => Ok(v),
                    (Ok(_), Some(e)) => Err(Error::Store(format!("commit failed: {e}"))),
                    (Err(e), _) => Err(sql(e)),
                };
                let _ = reply.send(result);
            });
            (ok, completion)
        });
        self.work
            .send(work)
            .map_err(|_| Error::Store("the database thread stopped".into()))?;
        Ok(async move {
            rx.await
                .map_err(|_| Error::Store("the database thread stopped".into()))?
        })
    }

    /// Creates tables and indexes (idempotent `CREATE … IF NOT EXISTS` statements).
    pub async fn migrate(&self, schema: &'static str) -> Result<()> {
        self.call(move |c| c.execute_batch(schema)).await
    }
}

/// Takes the lock file of the database at `path`: an `Error::Config` if another process (or
/// another handle of this one) holds it.
fn lock(path: &Path) -> Result<std::fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&name)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Config(format!(
            "the database {} is in use (another coordinator on the same --data-dir?)",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(e.into()),
    }
}

/// Checkpoints the write-ahead log in the background: a thread with a connection of its own
/// runs `PRAGMA wal_checkpoint(PASSIVE)` every [`CHECKPOINT_EVERY`] (at once when there is
/// nothing to copy; back to back while the log changes was no better in an A/B). A passive
/// checkpoint never blocks the database thread (writers and a checkpointer run side by side in
/// WAL mode), so its two `fsync`s no longer land on a caller.
///
/// SQLite starts the log over (instead of growing it) at a write that finds every page of it
/// copied back; under continuous writes each checkpoint can end with a few new pages behind it,
/// and the log then grows until a pause. At [`BACKSTOP_PAGES`] the database thread's automatic
/// checkpoint copies those few pages itself and the log starts over: one short stall per that
/// many pages, instead of a long one per 1,000.
///
/// Starts the thread for the database at `path` (already in WAL mode); it ends when the
/// returned sender is dropped. A failure is logged when it starts or changes and its end once
/// (a disk fault would otherwise log ten warnings a second).
fn start_checkpointer(path: &Path, sync: &str, done: Arc<AtomicU64>) -> Result<mpsc::Sender<()>> {
    let conn = Connection::open(path).map_err(sql)?;
    conn.execute_batch(&format!("PRAGMA synchronous = {sync};"))
        .map_err(sql)?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("notary-db-checkpoint".into())
        .spawn(move || {
            let mut failing: Option<String> = None;
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY)
            {
                match checkpoint(&conn) {
                    Ok((log, copied)) => {
                        if failing.take().is_some() {
                            tracing::info!("background checkpoints succeed again");
                        }
                        if log == copied {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(e) => {
                        let error = e.to_string();
                        if failing.as_deref() != Some(error.as_str()) {
                            tracing::warn!(%error, "background checkpoint failed (logged again only when the error changes)");
                            failing = Some(error);
                        }
                    }
                }
            }
        })?;
    Ok(stop)
}

/// One passive checkpoint: `(pages in the log, pages copied back)` (equal when it is all in
/// the database file). Returns at once when nothing is left to copy.
fn checkpoint(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get(1)?, row.get(2)?))
    })
}

/// The database thread: group commits until every handle is gone.
fn run(conn: Connection, rx: mpsc::Receiver<Work>) {
    while let Ok(first) = rx.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(w) => group.push(w),
                Err(_) => break,
            }
        }
        let began = exec_cached(&conn, "BEGIN IMMEDIATE");
        let mut done = Vec::with_capacity(group.len());
        for work in group {
            if began.is_err() {
                done.push(work(&conn).1);
                continue;
            }
            let _ = exec_cached(&conn, "SAVEPOINT one");
            let (ok, completion) = work(&conn);
            if !ok {
                // The closure's error goes to its caller; its writes are undone, the others'
                // stay.
                let _ = exec_cached(&conn, "ROLLBACK TO one");
            }
            let _ = exec_cached(&conn, "RELEASE one");
            done.push(completion);
        }
        let commit_error = match began {
            Err(e) => Some(e.to_string()),
            Ok(()) => exec_cached(&conn, "COMMIT").err().map(|e| {
                let _ = exec_cached(&conn, "ROLLBACK");
                e.to_string()
            }),
        };
        for completion in done {
            completion(commit_error.as_deref());
        }
    }
}

/// Runs a statement without parameters or rows through the statement cache: the transaction
/// statements run several times per job, and parsing them each time showed in profiles.
fn exec_cached(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// A SQLite error as the crate's error.
pub fn sql(e: rusqlite::Error) -> Error {
    Error::Store(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An issued write is on its way before its future is polled: a call made after it sees
    /// it, which is what lets an unpaid job run while its record commits.
    #[tokio::test]
    async fn an_issued_write_comes_before_every_later_call() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(Some(&dir.path().join("t.sqlite3")), Durability::Process).unwrap();
        db.call(|c| c.execute_batch("CREATE TABLE t (v INTEGER)"))
            .await
            .unwrap();
        let issued = db
            .issue(|c| c.execute("INSERT INTO t (v) VALUES (7)", []).map(|_| ()))
            .unwrap();
        let seen: i64 = db
            .call(|c| c.query_row("SELECT v FROM t", [], |r| r.get(0)))
            .await
            .unwrap();
        assert_eq!(seen, 7);
        issued.await.unwrap();
        // A failed write says so through its future.
        let failed = db
            .issue(|c| {
                c.execute("INSERT INTO missing (v) VALUES (1)", [])
                    .map(|_| ())
            })
            .unwrap();
        assert!(failed.await.is_err());
    }

    /// The log is copied back by the background checkpointer, not at the backstop (the
    /// database file grows while the writes go on), and starts over instead of growing: three
    /// rounds of writes with a pause between them leave a log about one round long.
    #[tokio::test]
    async fn the_log_is_checkpointed_in_the_background_and_starts_over() {
        const ROUND: usize = 600;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let wal = dir.path().join("t.sqlite3-wal");
        let db = Db::open(Some(&path), Durability::Process).unwrap();
        db.call(|c| c.execute_batch("CREATE TABLE t (v BLOB)"))
            .await
            .unwrap();
        let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
        let mut round_size = 0;
        for round in 1..=3u64 {
            for _ in 0..ROUND {
                // Two pages each (a 6 KiB row spills into an overflow page).
                db.call(|c| c.execute("INSERT INTO t (v) VALUES (zeroblob(6144))", []))
                    .await
                    .unwrap();
            }
            // Well below the backstop: only the background checkpointer copies it back.
            assert!(size(&wal) < u64::from(BACKSTOP_PAGES) * 4096 / 4);
            // The second checkpoint from now began after the last write: it copies all of it.
            let wanted = db.checkpointed() + 2;
            notary_queue::test_utils::eventually(
                Duration::from_secs(30),
                || db.checkpointed() >= wanted,
                || format!("round {round}: no checkpoint"),
            )
            .await;
            let copied = round * ROUND as u64 * 6144;
            assert!(
                size(&path) >= copied,
                "round {round}: the database file holds {} of {copied} bytes",
                size(&path)
            );
            if round == 1 {
                round_size = size(&wal);
            }
        }
        assert!(
            size(&wal) < round_size * 3 / 2,
            "the log grew from {round_size} to {} bytes",
            size(&wal)
        );
    }

    /// The lock file refuses a second handle on the same database and is free again once the
    /// first is gone.
    #[test]
    fn the_lock_file_refuses_a_second_handle_until_the_first_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let first = Db::open(Some(&path), Durability::Process).unwrap();
        let err = Db::open(Some(&path), Durability::Process).unwrap_err();
        assert!(err.to_string().contains("in use"), "{err}");
        drop(first);
        Db::open(Some(&path), Durability::Process).unwrap();
    }
}
