//! The delivery journal: an embedded coordinator's note that a job was handed to a slot, made
//! durable before the guest runs without a database transaction per job.
//!
//! A restart must count a delivery for a job a slot took (a job that kills its host must not
//! run again forever, [`super::JobStore::record_delivery`]). That note used to be an `UPDATE`
//! committed by the database thread while the slot waited: a thread hop and a commit on every
//! job's path, and one more transaction per job for the database thread. Here it is one
//! `write(2)` of a line (`<job id> <attempt>`) to an append-only file next to the database,
//! under a mutex, on the slot's own thread. Once `write` returns, the line is in the kernel's
//! page cache: it survives the process being killed, which is the database's own guarantee
//! under [`crate::db::Durability::Process`] (with `--fsync` the store keeps the transaction,
//! whose group commit is cheaper than an `fsync` per line).
//!
//! Files are `deliveries-<n>.log`. When the current one reaches its size limit the next note
//! starts `n + 1`, and the sealed files are folded into the `jobs` table in the background
//! (batched `UPDATE`s, a no-op for jobs already final) and then deleted; a restart folds in
//! every file before it looks for unfinished jobs. A line cut short by a crash was never
//! answered (its guest did not run) and is skipped.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use parking_lot::Mutex;
use uuid::Uuid;

const PREFIX: &str = "deliveries-";
const SUFFIX: &str = ".log";

/// A sealed file and its notes (job id, delivery attempt).
pub type Sealed = (PathBuf, Vec<(Uuid, u32)>);

/// The journal files in a directory, and the one being written.
pub struct DeliveryJournal {
    dir: PathBuf,
    rotate_at: u64,
    current: Mutex<Current>,
    /// Held while sealed files are folded in, so they are folded in order, one caller at once.
    folding: tokio::sync::Mutex<()>,
}

struct Current {
    file: File,
    seq: u64,
    len: u64,
}

impl DeliveryJournal {
    /// Opens the journal in `dir`: a new file after any left by an earlier process (those stay
    /// sealed until [`DeliveryJournal::sealed`] folds them in). A file is sealed once it holds
    /// `rotate_at` bytes.
    pub fn open(dir: &Path, rotate_at: u64) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let next = files(dir)?.last().map_or(0, |(seq, _)| seq + 1);
        Ok(DeliveryJournal {
            dir: dir.to_path_buf(),
            rotate_at: rotate_at.max(1),
            current: Mutex::new(Current {
                file: create(dir, next)?,
                seq: next,
                len: 0,
            }),
            folding: tokio::sync::Mutex::new(()),
        })
    }

    /// Notes delivery `attempt` of job `id`. Returns `true` when this note filled the current
    /// file: the next goes to a new one, and the sealed ones are due to be folded in.
    pub fn note(&self, id: Uuid, attempt: u32) -> io::Result<bool> {
        let line = format!("{} {attempt}\n", id.as_hyphenated());
        let mut current = self.current.lock();
        // One write: a crash leaves at most this line cut short. A failed write may have left
        // part of the line too: the next note goes to a new file rather than after it.
        if let Err(e) = current.file.write_all(line.as_bytes()) {
            let _ = self.start_next(&mut current);
            return Err(e);
        }
        current.len += line.len() as u64;
        if current.len < self.rotate_at {
            return Ok(false);
        }
        self.start_next(&mut current)?;
        Ok(true)
    }

    /// Seals the current file (if it holds anything) and starts the next.
    pub fn seal(&self) -> io::Result<()> {
        let mut current = self.current.lock();
        if current.len > 0 {
            self.start_next(&mut current)?;
        }
        Ok(())
    }

    fn start_next(&self, current: &mut Current) -> io::Result<()> {
        let seq = current.seq + 1;
        *current = Current {
            file: create(&self.dir, seq)?,
            seq,
            len: 0,
        };
        Ok(())
    }

    /// Takes the right to fold sealed files in (one holder at a time).
    pub async fn folding(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.folding.lock().await
    }

    /// The sealed files, oldest first, with their notes (lines cut short skipped). Delete each
    /// with [`DeliveryJournal::remove`] once its notes are committed elsewhere.
    pub fn sealed(&self) -> io::Result<Vec<Sealed>> {
        let current = self.current.lock().seq;
        files(&self.dir)?
            .into_iter()
            .filter(|(seq, _)| *seq < current)
            .map(|(_, path)| Ok((path.clone(), read(&path)?)))
            .collect()
    }

    /// Deletes a sealed file whose notes are committed.
    pub fn remove(path: &Path) -> io::Result<()> {
        match std::fs::remove_file(path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }
}

fn create(dir: &Path, seq: u64) -> io::Result<File> {
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{PREFIX}{seq}{SUFFIX}")))
}

/// The journal files in `dir` by number.
fn files(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let seq = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?.parse().ok());
        if let Some(seq) = seq {
            found.push((seq, path));
        }
    }
    found.sort();
    Ok(found)
}

/// A file's complete lines; anything else (a line cut short by a crash) is skipped.
fn read(path: &Path) -> io::Result<Vec<(Uuid, u32)>> {
    let text = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(text
        .split_inclusive(|b| *b == b'\n')
        .filter_map(|line| {
            let line = std::str::from_utf8(line.strip_suffix(b"\n")?).ok()?;
            let (id, attempt) = line.split_once(' ')?;
            Some((Uuid::parse_str(id).ok()?, attempt.parse().ok()?))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_roll_over_into_sealed_files_and_a_cut_line_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let journal = DeliveryJournal::open(dir.path(), 100).unwrap();
        let ids: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
        // 39 bytes a line: the third fills the first file.
        assert!(!journal.note(ids[0], 1).unwrap());
        assert!(!journal.note(ids[1], 2).unwrap());
        assert!(journal.note(ids[2], 3).unwrap());
        journal.note(ids[3], 1).unwrap();
        let sealed = journal.sealed().unwrap();
        assert_eq!(sealed.len(), 1);
        assert_eq!(sealed[0].1, vec![(ids[0], 1), (ids[1], 2), (ids[2], 3)]);
        DeliveryJournal::remove(&sealed[0].0).unwrap();
        // A crash in the middle of a write: the cut line is not a note.
        let current = dir.path().join(format!("{PREFIX}1{SUFFIX}"));
        let mut f = OpenOptions::new().append(true).open(&current).unwrap();
        f.write_all(&ids[4].to_string().as_bytes()[..20]).unwrap();
        drop(journal);
        // The next process seals what it finds and writes after it.
        let journal = DeliveryJournal::open(dir.path(), 100).unwrap();
        journal.note(ids[4], 2).unwrap();
        let sealed = journal.sealed().unwrap();
        assert_eq!(sealed.len(), 1);
        assert_eq!(sealed[0].1, vec![(ids[3], 1)]);
        journal.seal().unwrap();
        let sealed = journal.sealed().unwrap();
        assert_eq!(sealed.len(), 2);
        assert_eq!(sealed[1].1, vec![(ids[4], 2)]);
    }
}
