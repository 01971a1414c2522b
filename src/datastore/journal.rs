//! The durable journal: committed transactions as an append-only log plus a
//! compacted snapshot, and recovery of both at start (DESIGN decisions 5, 6).
//!
//! It owns two files in one directory and the order in which they change. It
//! knows nothing of YANG: payloads are opaque bytes (the datastore puts
//! serialized diffs in records and a serialized tree in the snapshot). It must
//! not rewrite the store on a commit: [`Journal::append`] costs one write of
//! the record and one `fdatasync`, whatever the size of the store. It does not
//! lock the directory; the caller holds the data-dir lock (`serve::DataDir`).
//!
//! # On-disk format (all integers little-endian, CRC-32 is IEEE, `crc32fast`)
//!
//! `journal` (the live segment):
//!
//! ```text
//! file header, 24 bytes: magic "OCCDJRNL" | version u32 | base_txid u64 | crc u32
//!                        (crc over magic, version, base_txid)
//! record, 16 + len bytes: len u32 | txid u64 | crc u32 | payload[len]
//!                        (crc over len, txid and payload)
//! ```
//!
//! `base_txid` is the transaction id of the snapshot the segment follows (0
//! for the first segment). Record txids strictly increase and are greater
//! than `base_txid`.
//!
//! `snapshot` (the full state at one transaction):
//!
//! ```text
//! magic "OCCDSNAP" | version u32 | txid u64 | len u64 | crc u32 | payload[len]
//! (crc over magic, version, txid, len and payload; file size is exactly 32 + len)
//! ```
//!
//! `journal.tmp` and `snapshot.tmp` exist only while [`Journal::snapshot`] or
//! the creation of a segment runs; they are never read and [`Journal::open`]
//! deletes them.
//!
//! # Recovery
//!
//! State = the snapshot (if any) + every complete record of `journal` whose
//! txid is greater than the snapshot's, in order. Records are read until the
//! first one that is short, longer than the configured limit, fails its CRC
//! or does not increase the txid. That record and **everything after it** are
//! dropped, even if valid records follow a corrupt one in the middle: a
//! record after a gap cannot be applied without the one that is missing. The
//! file is truncated to the last good record, so later appends are clean, and
//! one `warn` line names the file, the byte offset, the bytes dropped and the
//! last recovered txid. A torn tail is the expected result of a crash during
//! an append whose commit was never acknowledged. A corrupt file header or
//! snapshot is an error instead: those files are only ever renamed into place
//! complete and fsynced, so damage there is not a crash artefact, and the
//! records a snapshot covers are gone.
//!
//! # Compaction, and why every crash point is safe
//!
//! [`Journal::snapshot`]`(T)` with `T` at most the last appended txid:
//!
//! 1. write `snapshot.tmp` (header + state at `T`), `fsync` it;
//! 2. rename `snapshot.tmp` → `snapshot`, `fsync` the directory;
//! 3. write `journal.tmp`: header with `base_txid = T`, then the bytes of the
//!    records with txid > `T` copied from `journal` (none when `T` is the last
//!    txid), `fsync` it;
//! 4. rename `journal.tmp` → `journal`, `fsync` the directory; appends now go
//!    to the new segment.
//!
//! Crash before 2's rename is durable: old snapshot + old journal, as before
//! (a stray `snapshot.tmp` is ignored). Crash after it: new snapshot `T` + old
//! journal; recovery skips the old journal's records ≤ `T` and replays the
//! rest, the same state. Crash before 4's rename is durable: the same again
//! (stray `journal.tmp` ignored). After it: new snapshot + new segment holding
//! exactly the records after `T`. The new segment never replaces the old one
//! before the snapshot it depends on is durable, so at every instant recovery
//! yields the state of the last appended txid; `open` checks this invariant
//! (`base_txid` ≤ snapshot txid) and refuses a journal whose snapshot is
//! missing. Old files disappear only by the atomic renames, i.e. once their
//! replacements are durable.
//!
//! After a failed write or sync of the live segment the journal is poisoned:
//! what reached the disk is unknown (a failed `fsync` may have dropped dirty
//! pages), so every later call fails until the journal is reopened, which
//! recovers from what is actually on disk.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

/// The live journal segment, in the journal directory.
pub const JOURNAL_FILE: &str = "journal";
/// A new journal segment while it is written (compaction, first start).
pub const JOURNAL_TMP: &str = "journal.tmp";
/// The compacted state.
pub const SNAPSHOT_FILE: &str = "snapshot";
/// A new snapshot while it is written.
pub const SNAPSHOT_TMP: &str = "snapshot.tmp";

/// The format version written in both file headers.
pub const FORMAT_VERSION: u32 = 1;
/// Bytes of the `journal` file header.
pub const JOURNAL_HEADER_LEN: u64 = 24;
/// Bytes of a record header (before the payload).
pub const RECORD_HEADER_LEN: u64 = 16;
/// Bytes of the `snapshot` file header (before the payload).
pub const SNAPSHOT_HEADER_LEN: u64 = 32;
/// Default limit on a record payload: 1 GiB.
pub const DEFAULT_MAX_RECORD_LEN: u32 = 1 << 30;

const JOURNAL_MAGIC: &[u8; 8] = b"OCCDJRNL";
const SNAPSHOT_MAGIC: &[u8; 8] = b"OCCDSNAP";

/// The append buffer is kept between appends, but not when a big record grew it.
const KEEP_BUFFER: usize = 4 << 20;

/// Everything that can go wrong; each message starts with the file concerned.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: not an occd {kind} file (bad magic)", path.display())]
    BadMagic { path: PathBuf, kind: &'static str },
    #[error("{}: format version {found} is not supported (this build reads version {FORMAT_VERSION})", path.display())]
    UnsupportedVersion { path: PathBuf, found: u32 },
    #[error("{}: corrupt at byte offset {offset}: {reason}", path.display())]
    Corrupt { path: PathBuf, offset: u64, reason: String },
    #[error(
        "{}: the journal follows the snapshot of transaction {base_txid}, but the snapshot {}",
        path.display(),
        match snapshot_txid { Some(t) => format!("covers only transaction {t}"), None => "is missing".to_string() }
    )]
    MissingSnapshot { path: PathBuf, base_txid: u64, snapshot_txid: Option<u64> },
    #[error("{}: transaction id {txid} is not greater than the last one, {last_txid}", path.display())]
    TxidNotIncreasing { path: PathBuf, txid: u64, last_txid: u64 },
    #[error("{}: snapshot transaction id {txid} is outside [{min}, {max}] (last snapshot, last appended)", path.display())]
    SnapshotTxidOutOfRange { path: PathBuf, txid: u64, min: u64, max: u64 },
    #[error("{}: a record of {len} bytes exceeds the limit of {max} bytes", path.display())]
    RecordTooLarge { path: PathBuf, len: u64, max: u32 },
    #[error("{}: an earlier write or sync failed; reopen the journal to recover what is on disk", path.display())]
    Poisoned { path: PathBuf },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> JournalError + '_ {
    move |source| JournalError::Io { path: path.to_path_buf(), source }
}

/// Settings of [`Journal::open_with`].
#[derive(Debug, Clone)]
pub struct JournalOptions {
    /// Largest record payload accepted by `append` and by recovery; a longer
    /// length read from the file is corruption.
    pub max_record_len: u32,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions { max_record_len: DEFAULT_MAX_RECORD_LEN }
    }
}

/// What [`Journal::open`] found: apply `snapshot`, then `records` in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Recovered {
    /// The compacted state and the transaction id it covers.
    pub snapshot: Option<(u64, Vec<u8>)>,
    /// Records after the snapshot, txids strictly increasing.
    pub records: Vec<(u64, Vec<u8>)>,
    /// The txid of the recovered state (0 when empty).
    pub last_txid: u64,
    /// Bytes cut off a torn or corrupt journal tail (0 when clean).
    pub dropped_bytes: u64,
}

/// The open journal of one directory. One writer: the caller serializes
/// calls (the transaction manager, DESIGN decision 3).
#[derive(Debug)]
pub struct Journal {
    dir: PathBuf,
    path: PathBuf,
    file: File,
    /// Bytes of valid content in `file`; the next record is written here.
    len: u64,
    base_txid: u64,
    snapshot_txid: Option<u64>,
    last_txid: u64,
    max_record_len: u32,
    buf: Vec<u8>,
    poisoned: bool,
}

impl Journal {
    /// Opens (creating if needed) the journal in `dir` with default options
    /// and recovers its state. See the module doc for what is recovered.
    pub fn open(dir: &Path) -> Result<(Journal, Recovered), JournalError> {
        Journal::open_with(dir, JournalOptions::default())
    }

    /// [`Journal::open`] with explicit options.
    pub fn open_with(dir: &Path, options: JournalOptions) -> Result<(Journal, Recovered), JournalError> {
        if !dir.is_dir() {
            fs::create_dir_all(dir).map_err(io_err(dir))?;
            // Else the directory entry itself could vanish in a power loss,
            // and every commit with it.
            let parent = dir.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            sync_dir(parent)?;
        }
        for stray in [JOURNAL_TMP, SNAPSHOT_TMP] {
            let p = dir.join(stray);
            match fs::remove_file(&p) {
                Ok(()) => tracing::debug!("removed unfinished {}", p.display()),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&p)(e)),
            }
        }

        let snapshot = read_snapshot(&dir.join(SNAPSHOT_FILE))?;
        let snapshot_txid = snapshot.as_ref().map(|(t, _)| *t);
        let floor = snapshot_txid.unwrap_or(0);
        let path = dir.join(JOURNAL_FILE);

        let existing = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(f) => Some(f),
            Err(e) if e.kind() == io::ErrorKind::NotFound => None,
            Err(e) => return Err(io_err(&path)(e)),
        };
        let (file, len, base_txid, records, last_in_journal, dropped) = match existing {
            None => {
                if let Some(t) = snapshot_txid {
                    tracing::warn!(
                        "journal {}: missing; starting a new one after the snapshot of transaction {t} \
                         (commits after it, if there were any, are lost)",
                        path.display()
                    );
                }
                let (file, len) = create_segment(dir, floor, None)?;
                (file, len, floor, Vec::new(), floor, 0)
            }
            Some(file) => {
                let file_len = file.metadata().map_err(io_err(&path))?.len();
                if file_len < JOURNAL_HEADER_LEN {
                    // Only outside damage does this (segments are renamed in
                    // complete), but it holds no record: start a clean one.
                    warn_dropped(&path, "truncated file header", 0, file_len, floor);
                    drop(file);
                    let (file, len) = create_segment(dir, floor, None)?;
                    (file, len, floor, Vec::new(), floor, file_len)
                } else {
                    let scan = scan_journal(&path, &file, file_len, floor, options.max_record_len)?;
                    if scan.base_txid > floor {
                        return Err(JournalError::MissingSnapshot {
                            path,
                            base_txid: scan.base_txid,
                            snapshot_txid,
                        });
                    }
                    let mut dropped = 0;
                    if let Some((offset, reason)) = &scan.bad {
                        dropped = file_len - offset;
                        file.set_len(*offset).and_then(|()| file.sync_all()).map_err(io_err(&path))?;
                        warn_dropped(&path, reason, *offset, dropped, scan.last_txid.max(floor));
                    }
                    let len = scan.bad.as_ref().map_or(file_len, |(o, _)| *o);
                    (file, len, scan.base_txid, scan.records, scan.last_txid, dropped)
                }
            }
        };

        let last_txid = last_in_journal.max(floor);
        tracing::debug!(
            "journal {}: recovered snapshot {:?}, {} records, last transaction {last_txid}",
            path.display(),
            snapshot_txid,
            records.len()
        );
        let journal = Journal {
            dir: dir.to_path_buf(),
            path,
            file,
            len,
            base_txid,
            snapshot_txid,
            last_txid,
            max_record_len: options.max_record_len,
            buf: Vec::new(),
            poisoned: false,
        };
        Ok((journal, Recovered { snapshot, records, last_txid, dropped_bytes: dropped }))
    }

    /// Appends the record of transaction `txid` and makes it durable (one
    /// write, one `fdatasync`). Acknowledge the commit only after this
    /// returns `Ok`. `txid` must be greater than every txid before it.
    pub fn append(&mut self, txid: u64, payload: &[u8]) -> Result<(), JournalError> {
        self.usable()?;
        if txid <= self.last_txid {
            return Err(JournalError::TxidNotIncreasing {
                path: self.path.clone(),
                txid,
                last_txid: self.last_txid,
            });
        }
        if payload.len() as u64 > u64::from(self.max_record_len) {
            return Err(JournalError::RecordTooLarge {
                path: self.path.clone(),
                len: payload.len() as u64,
                max: self.max_record_len,
            });
        }
        self.buf.clear();
        encode_record(&mut self.buf, txid, payload);
        let written = self.file.write_all_at(&self.buf, self.len).and_then(|()| self.file.sync_data());
        if let Err(e) = written {
            self.poisoned = true;
            return Err(io_err(&self.path)(e));
        }
        self.len += self.buf.len() as u64;
        self.last_txid = txid;
        if self.buf.capacity() > KEEP_BUFFER {
            self.buf = Vec::new();
        }
        Ok(())
    }

    /// Compaction: makes `payload`, the full state at transaction `txid`, the
    /// snapshot, and starts a new segment holding only the records after
    /// `txid`. `txid` lies between the last snapshot's and the last appended
    /// txid. The order of operations and the crash argument are in the module
    /// doc. On an error before the new segment is in place, the journal stays
    /// usable and the state on disk is unchanged in meaning.
    pub fn snapshot(&mut self, txid: u64, payload: &[u8]) -> Result<(), JournalError> {
        self.usable()?;
        let min = self.snapshot_txid.unwrap_or(0);
        if txid < min || txid > self.last_txid {
            return Err(JournalError::SnapshotTxidOutOfRange {
                path: self.dir.join(SNAPSHOT_FILE),
                txid,
                min,
                max: self.last_txid,
            });
        }

        // 1-2: the snapshot, durable before anything depends on it.
        let snap_tmp = self.dir.join(SNAPSHOT_TMP);
        let snap_path = self.dir.join(SNAPSHOT_FILE);
        let header = snapshot_header(txid, payload);
        let written = write_new_file(&snap_tmp, &[&header, payload])
            .and_then(|_| fs::rename(&snap_tmp, &snap_path).map_err(io_err(&snap_path)));
        if let Err(e) = written {
            let _ = fs::remove_file(&snap_tmp);
            return Err(e);
        }
        // Either snapshot is a correct base for the live segment, so a failed
        // directory sync leaves a consistent disk; report it all the same.
        sync_dir(&self.dir)?;
        self.snapshot_txid = Some(txid);

        // 3-4: the new segment.
        let tail = self.offset_after(txid)?;
        let (file, len) = match create_segment(&self.dir, txid, Some((&self.file, tail, self.len))) {
            Ok(new) => new,
            Err(SegmentError::Before(e)) => return Err(e),
            Err(SegmentError::AfterRename(e)) => {
                // The rename happened but may not be durable: appending to the
                // new file could lose acknowledged commits.
                self.poisoned = true;
                return Err(e);
            }
        };
        self.file = file;
        self.len = len;
        self.base_txid = txid;
        Ok(())
    }

    /// The txid of the current state (last appended or recovered).
    pub fn last_txid(&self) -> u64 {
        self.last_txid
    }

    /// The txid of the current snapshot, if there is one.
    pub fn snapshot_txid(&self) -> Option<u64> {
        self.snapshot_txid
    }

    /// Bytes in the live segment: the caller compacts when this grows.
    pub fn journal_len(&self) -> u64 {
        self.len
    }

    /// The directory holding the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn usable(&self) -> Result<(), JournalError> {
        if self.poisoned {
            return Err(JournalError::Poisoned { path: self.path.clone() });
        }
        Ok(())
    }

    /// Offset in the live segment of the first record with a txid above
    /// `txid` (the end when there is none).
    fn offset_after(&self, txid: u64) -> Result<u64, JournalError> {
        if txid >= self.last_txid {
            return Ok(self.len);
        }
        let mut off = JOURNAL_HEADER_LEN;
        while off < self.len {
            let mut h = [0u8; RECORD_HEADER_LEN as usize];
            self.file.read_exact_at(&mut h, off).map_err(io_err(&self.path))?;
            let (len, rtxid, _) = decode_record_header(&h);
            if rtxid > txid {
                return Ok(off);
            }
            off += RECORD_HEADER_LEN + u64::from(len);
        }
        if off != self.len {
            return Err(JournalError::Corrupt {
                path: self.path.clone(),
                offset: off,
                reason: "record boundaries changed since the journal was opened".into(),
            });
        }
        Ok(self.len)
    }
}

fn warn_dropped(path: &Path, reason: &str, offset: u64, dropped: u64, last_txid: u64) {
    tracing::warn!(
        "journal {}: {reason} at byte offset {offset}; dropped {dropped} bytes from there to the end \
         (later records, if any, are dropped too); recovered up to transaction {last_txid}",
        path.display()
    );
}

// ---- encoding ----

fn crc_of(parts: &[&[u8]]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    for p in parts {
        h.update(p);
    }
    h.finalize()
}

/// Both file headers start with an 8-byte magic and a u32 format version.
fn check_magic_and_version(
    path: &Path,
    header: &[u8],
    magic: &[u8],
    kind: &'static str,
) -> Result<(), JournalError> {
    if &header[0..8] != magic {
        return Err(JournalError::BadMagic { path: path.to_path_buf(), kind });
    }
    let version = u32_at(header, 8);
    if version != FORMAT_VERSION {
        return Err(JournalError::UnsupportedVersion { path: path.to_path_buf(), found: version });
    }
    Ok(())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(a)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(a)
}

fn journal_header(base_txid: u64) -> [u8; JOURNAL_HEADER_LEN as usize] {
    let mut h = [0u8; JOURNAL_HEADER_LEN as usize];
    h[0..8].copy_from_slice(JOURNAL_MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[12..20].copy_from_slice(&base_txid.to_le_bytes());
    let crc = crc_of(&[&h[0..20]]);
    h[20..24].copy_from_slice(&crc.to_le_bytes());
    h
}

fn encode_record(out: &mut Vec<u8>, txid: u64, payload: &[u8]) {
    // The caller checked payload.len() against max_record_len (a u32).
    let len = payload.len() as u32;
    let mut fields = [0u8; 12];
    fields[0..4].copy_from_slice(&len.to_le_bytes());
    fields[4..12].copy_from_slice(&txid.to_le_bytes());
    let crc = crc_of(&[&fields, payload]);
    out.reserve(RECORD_HEADER_LEN as usize + payload.len());
    out.extend_from_slice(&fields);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
}

/// (payload length, txid, crc) of a record header.
fn decode_record_header(h: &[u8; RECORD_HEADER_LEN as usize]) -> (u32, u64, u32) {
    (u32_at(h, 0), u64_at(h, 4), u32_at(h, 12))
}

fn snapshot_header(txid: u64, payload: &[u8]) -> [u8; SNAPSHOT_HEADER_LEN as usize] {
    let mut h = [0u8; SNAPSHOT_HEADER_LEN as usize];
    h[0..8].copy_from_slice(SNAPSHOT_MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[12..20].copy_from_slice(&txid.to_le_bytes());
    h[20..28].copy_from_slice(&(payload.len() as u64).to_le_bytes());
    let crc = crc_of(&[&h[0..28], payload]);
    h[28..32].copy_from_slice(&crc.to_le_bytes());
    h
}

// ---- reading ----

/// The snapshot file, or `None` when there is none. Any damage is an error.
fn read_snapshot(path: &Path) -> Result<Option<(u64, Vec<u8>)>, JournalError> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_err(path)(e)),
    };
    let corrupt = |offset, reason: String| JournalError::Corrupt { path: path.to_path_buf(), offset, reason };
    let file_len = file.metadata().map_err(io_err(path))?.len();
    if file_len < SNAPSHOT_HEADER_LEN {
        return Err(corrupt(0, format!("snapshot of {file_len} bytes is shorter than its header")));
    }
    let mut h = [0u8; SNAPSHOT_HEADER_LEN as usize];
    file.read_exact(&mut h).map_err(io_err(path))?;
    check_magic_and_version(path, &h, SNAPSHOT_MAGIC, "snapshot")?;
    let txid = u64_at(&h, 12);
    let len = u64_at(&h, 20);
    // Checked against the file size before allocating.
    if Some(len) != file_len.checked_sub(SNAPSHOT_HEADER_LEN) {
        return Err(corrupt(20, format!("payload length {len} does not match the file size {file_len}")));
    }
    let len = usize::try_from(len).map_err(|_| corrupt(20, format!("payload length {len} too large")))?;
    let mut payload = vec![0u8; len];
    file.read_exact(&mut payload).map_err(io_err(path))?;
    if crc_of(&[&h[0..28], &payload]) != u32_at(&h, 28) {
        return Err(corrupt(0, "checksum mismatch".into()));
    }
    Ok(Some((txid, payload)))
}

struct Scan {
    base_txid: u64,
    /// Records with a txid above the snapshot's.
    records: Vec<(u64, Vec<u8>)>,
    /// Txid of the last good record (`base_txid` when there is none).
    last_txid: u64,
    /// Offset of the first bad record and why it is bad.
    bad: Option<(u64, String)>,
}

/// Reads the journal header and its records up to the first bad one.
fn scan_journal(
    path: &Path,
    file: &File,
    file_len: u64,
    snapshot_txid: u64,
    max_record_len: u32,
) -> Result<Scan, JournalError> {
    let mut r = BufReader::with_capacity(1 << 20, file);
    r.seek(SeekFrom::Start(0)).map_err(io_err(path))?;
    let mut h = [0u8; JOURNAL_HEADER_LEN as usize];
    r.read_exact(&mut h).map_err(io_err(path))?;
    check_magic_and_version(path, &h, JOURNAL_MAGIC, "journal")?;
    if crc_of(&[&h[0..20]]) != u32_at(&h, 20) {
        return Err(JournalError::Corrupt {
            path: path.to_path_buf(),
            offset: 0,
            reason: "file header checksum mismatch".into(),
        });
    }
    let base_txid = u64_at(&h, 12);

    let mut scan = Scan { base_txid, records: Vec::new(), last_txid: base_txid, bad: None };
    let mut off = JOURNAL_HEADER_LEN;
    while off < file_len {
        let remaining = file_len - off;
        if remaining < RECORD_HEADER_LEN {
            scan.bad =
                Some((off, format!("truncated record header ({remaining} of {RECORD_HEADER_LEN} bytes)")));
            break;
        }
        let mut rh = [0u8; RECORD_HEADER_LEN as usize];
        r.read_exact(&mut rh).map_err(io_err(path))?;
        let (len, txid, crc) = decode_record_header(&rh);
        if len > max_record_len {
            scan.bad =
                Some((off, format!("record length {len} exceeds the limit of {max_record_len} bytes")));
            break;
        }
        if u64::from(len) > remaining - RECORD_HEADER_LEN {
            scan.bad = Some((
                off,
                format!("truncated record (length {len}, {} bytes left)", remaining - RECORD_HEADER_LEN),
            ));
            break;
        }
        let mut payload = vec![0u8; len as usize];
        r.read_exact(&mut payload).map_err(io_err(path))?;
        if crc_of(&[&rh[0..12], &payload]) != crc {
            scan.bad = Some((off, "record checksum mismatch".into()));
            break;
        }
        if txid <= scan.last_txid {
            scan.bad = Some((off, format!("transaction id {txid} does not follow {}", scan.last_txid)));
            break;
        }
        scan.last_txid = txid;
        if txid > snapshot_txid {
            scan.records.push((txid, payload));
        }
        off += RECORD_HEADER_LEN + u64::from(len);
    }
    Ok(scan)
}

// ---- writing ----

/// Creates `path` (replacing a stray one), writes `parts` and fsyncs it.
fn write_new_file(path: &Path, parts: &[&[u8]]) -> Result<File, JournalError> {
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(io_err(path))?;
    for p in parts {
        f.write_all(p).map_err(io_err(path))?;
    }
    f.sync_all().map_err(io_err(path))?;
    Ok(f)
}

fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))
}

enum SegmentError {
    /// Nothing changed on disk that matters (the temp file is removed).
    Before(JournalError),
    /// The new segment was renamed into place but may not be durable.
    AfterRename(JournalError),
}

impl From<SegmentError> for JournalError {
    fn from(e: SegmentError) -> Self {
        match e {
            SegmentError::Before(e) | SegmentError::AfterRename(e) => e,
        }
    }
}

/// Copies the bytes `[from, to)` of `src` to the end of `dst`.
fn copy_range(src: &File, from: u64, to: u64, dst: &mut File, dst_path: &Path) -> Result<(), JournalError> {
    let mut buf = vec![0u8; ((to - from).min(1 << 20)) as usize];
    let mut off = from;
    while off < to {
        let n = ((to - off).min(buf.len() as u64)) as usize;
        // The source is the live segment, read under its own name.
        src.read_exact_at(&mut buf[..n], off)
            .map_err(|e| JournalError::Io { path: dst_path.with_file_name(JOURNAL_FILE), source: e })?;
        dst.write_all(&buf[..n]).map_err(io_err(dst_path))?;
        off += n as u64;
    }
    Ok(())
}

/// Steps 3-4 of compaction (and the first segment): writes `journal.tmp`
/// with `base_txid` and the bytes `[from, to)` of `copy_from`, fsyncs it,
/// renames it to `journal` and fsyncs the directory. Returns the new file
/// and its length.
fn create_segment(
    dir: &Path,
    base_txid: u64,
    copy_from: Option<(&File, u64, u64)>,
) -> Result<(File, u64), SegmentError> {
    let tmp = dir.join(JOURNAL_TMP);
    let path = dir.join(JOURNAL_FILE);
    let before = |e| {
        let _ = fs::remove_file(&tmp);
        SegmentError::Before(e)
    };
    let header = journal_header(base_txid);
    let mut file = write_new_file(&tmp, &[&header]).map_err(before)?;
    let mut len = JOURNAL_HEADER_LEN;
    if let Some((src, from, to)) = copy_from {
        if from < to {
            copy_range(src, from, to, &mut file, &tmp).map_err(before)?;
            file.sync_all().map_err(io_err(&tmp)).map_err(before)?;
            len += to - from;
        }
    }
    fs::rename(&tmp, &path).map_err(io_err(&path)).map_err(before)?;
    sync_dir(dir).map_err(SegmentError::AfterRename)?;
    Ok((file, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn record_layout_is_the_documented_one() {
        let mut buf = Vec::new();
        encode_record(&mut buf, 0x0102_0304_0506_0708, b"abc");
        assert_eq!(buf.len() as u64, RECORD_HEADER_LEN + 3);
        assert_eq!(&buf[0..4], &3u32.to_le_bytes());
        assert_eq!(&buf[4..12], &0x0102_0304_0506_0708u64.to_le_bytes());
        assert_eq!(u32_at(&buf, 12), crc_of(&[&buf[0..12], b"abc"]));
        assert_eq!(&buf[16..], b"abc");
        let mut h = [0u8; RECORD_HEADER_LEN as usize];
        h.copy_from_slice(&buf[..16]);
        assert_eq!(decode_record_header(&h), (3, 0x0102_0304_0506_0708, u32_at(&buf, 12)));
    }

    #[test]
    fn file_headers_are_the_documented_ones() {
        let h = journal_header(42);
        assert_eq!(&h[0..8], b"OCCDJRNL");
        assert_eq!(u32_at(&h, 8), FORMAT_VERSION);
        assert_eq!(u64_at(&h, 12), 42);
        assert_eq!(u32_at(&h, 20), crc_of(&[&h[0..20]]));
        let s = snapshot_header(7, b"state");
        assert_eq!(&s[0..8], b"OCCDSNAP");
        assert_eq!(u32_at(&s, 8), FORMAT_VERSION);
        assert_eq!((u64_at(&s, 12), u64_at(&s, 20)), (7, 5));
        assert_eq!(u32_at(&s, 28), crc_of(&[&s[0..28], b"state"]));
    }

    #[test]
    fn offset_after_finds_the_first_later_record() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path()).unwrap();
        for t in [3, 5, 9] {
            j.append(t, &[0u8; 10]).unwrap();
        }
        let rec = RECORD_HEADER_LEN + 10;
        assert_eq!(j.offset_after(0).unwrap(), JOURNAL_HEADER_LEN);
        assert_eq!(j.offset_after(3).unwrap(), JOURNAL_HEADER_LEN + rec);
        assert_eq!(j.offset_after(4).unwrap(), JOURNAL_HEADER_LEN + rec);
        assert_eq!(j.offset_after(8).unwrap(), JOURNAL_HEADER_LEN + 2 * rec);
        assert_eq!(j.offset_after(9).unwrap(), JOURNAL_HEADER_LEN + 3 * rec);
    }

    #[test]
    fn a_poisoned_journal_refuses_every_call_until_reopened() {
        let dir = tempfile::tempdir().unwrap();
        let (mut j, _) = Journal::open(dir.path()).unwrap();
        j.append(1, b"one").unwrap();
        j.poisoned = true;
        assert!(matches!(j.append(2, b"two"), Err(JournalError::Poisoned { .. })));
        assert!(matches!(j.snapshot(1, b"state"), Err(JournalError::Poisoned { .. })));
        drop(j);
        let (_, rec) = Journal::open(dir.path()).unwrap();
        assert_eq!(rec.records, vec![(1, b"one".to_vec())]);
    }

    /// A directory on the disk of the build (not tmpfs), for the timings.
    fn bench_dir() -> tempfile::TempDir {
        let base = std::env::var_os("OCCD_BENCH_DIR")
            .map_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target")), PathBuf::from);
        tempfile::tempdir_in(base).unwrap()
    }

    fn median(mut v: Vec<Duration>) -> Duration {
        v.sort();
        v[v.len() / 2]
    }

    /// `cargo test --lib datastore -- --ignored --nocapture bench`
    #[test]
    #[ignore = "timing, run by hand"]
    fn bench_append_200_bytes() {
        let dir = bench_dir();
        let (mut j, _) = Journal::open(dir.path()).unwrap();
        let payload = [0x5au8; 200];
        let mut times = Vec::new();
        for t in 1..=2000 {
            let start = Instant::now();
            j.append(t, &payload).unwrap();
            times.push(start.elapsed());
        }
        times.sort();
        eprintln!(
            "append 200 B + fdatasync: median {:?}, p90 {:?}, p99 {:?} over {} appends",
            times[times.len() / 2],
            times[times.len() * 9 / 10],
            times[times.len() * 99 / 100],
            times.len()
        );
    }

    #[test]
    #[ignore = "timing, run by hand"]
    fn bench_open_100k_records() {
        let dir = bench_dir();
        drop(Journal::open(dir.path()).unwrap());
        let mut bytes = journal_header(0).to_vec();
        for t in 1..=100_000u64 {
            encode_record(&mut bytes, t, &[(t % 251) as u8; 200]);
        }
        fs::write(dir.path().join(JOURNAL_FILE), &bytes).unwrap();
        let mut times = Vec::new();
        for _ in 0..7 {
            let start = Instant::now();
            let (_, rec) = Journal::open(dir.path()).unwrap();
            times.push(start.elapsed());
            assert_eq!(rec.records.len(), 100_000);
        }
        eprintln!(
            "open, 100k records of 200 B ({} MB journal): median {:?}",
            bytes.len() / 1_000_000,
            median(times)
        );
        let (mut j, _) = Journal::open(dir.path()).unwrap();
        let state = vec![0u8; 20 << 20];
        let start = Instant::now();
        j.snapshot(100_000, &state).unwrap();
        eprintln!("snapshot of 20 MB (write, fsync, rename, new segment): {:?}", start.elapsed());
        let start = Instant::now();
        drop(Journal::open(dir.path()).unwrap());
        eprintln!("open, 20 MB snapshot and no records: {:?}", start.elapsed());
    }
}
