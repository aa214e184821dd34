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
//! The file is opened with `locking_mode = EXCLUSIVE`: a second coordinator pointed at the same
//! data directory fails at start instead of sharing waiters and event cursors it cannot see.

use std::path::{Path, PathBuf};
use std::sync::mpsc;

use rusqlite::Connection;
use tokio::sync::oneshot;

use crate::error::{Error, Result};

/// Most closures committed together.
const MAX_GROUP: usize = 256;

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
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("path", &self.path).finish()
    }
}

impl Db {
    /// Opens (creating it if needed) the database at `path`, or an in-memory one for `None`.
    pub fn open(path: Option<&Path>, durability: Durability) -> Result<Db> {
        let conn = match path {
            Some(p) => {
                if let Some(dir) = p.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                Connection::open(p).map_err(sql)?
            }
            None => Connection::open_in_memory().map_err(sql)?,
        };
        // Every store's statements are cached on this one connection (rusqlite keeps 16 by
        // default, fewer than the stores use, so they would be parsed again and again).
        conn.set_prepared_statement_cache_capacity(256);
        let sync = match durability {
            Durability::Process => "NORMAL",
            Durability::Fsync => "FULL",
        };
        // The first write takes the exclusive lock (EXCLUSIVE locking mode keeps it), so a
        // second coordinator on the same file fails here, at start.
        conn.execute_batch(&format!(
            "PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA journal_mode = WAL;
             PRAGMA synchronous = {sync};
             PRAGMA foreign_keys = ON;
             BEGIN IMMEDIATE; COMMIT;"
        ))
        .map_err(|e| match (path, &e) {
            (Some(p), rusqlite::Error::SqliteFailure(f, _))
                if matches!(
                    f.code,
                    rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                ) =>
            {
                Error::Config(format!(
                    "the database {} is in use (another coordinator on the same --data-dir?): {e}",
                    p.display()
                ))
            }
            _ => sql(e),
        })?;
        let (work, rx) = mpsc::channel::<Work>();
        std::thread::Builder::new()
            .name("notary-db".into())
            .spawn(move || run(conn, rx))?;
        Ok(Db {
            work,
            path: path.map(Path::to_path_buf),
            durability,
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
}
