//! The replay log file, `<data-dir>/notifications.log`.
//!
//! Layout: an 16-byte header (`OCCDNTF1`, then the log's creation time in
//! microseconds since the epoch, little-endian), then one record per event:
//!
//! ```text
//! u32 length of the body | u32 CRC-32 of the body | body
//! body = u64 seq | i64 event time (µs since the epoch) | u16 stream length | stream | content XML
//! ```
//!
//! Appends are written through at once but not fsynced: a notification is
//! not a transaction, and a crash may lose the newest few (the page cache
//! usually keeps them). At start, records are read until the first one
//! whose length or checksum is wrong; the file is cut there (with one
//! warning line). When the file holds about twice what the limits keep, it
//! is rewritten from the events still kept (written to a temporary file,
//! fsynced, renamed).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use tracing::warn;

use super::Event;

const MAGIC: &[u8; 8] = b"OCCDNTF1";
const HEADER: usize = 16;
/// A record body larger than this is corruption, not an event.
const MAX_RECORD: usize = 1 << 30;
pub const FILE_NAME: &str = "notifications.log";

/// The open log file.
pub struct LogFile {
    path: PathBuf,
    file: File,
    /// Records and content bytes in the file (for compaction).
    records: usize,
    bytes: usize,
}

fn micros(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_micros()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX),
    }
}

fn from_micros(us: i64) -> SystemTime {
    let d = Duration::from_micros(us.unsigned_abs());
    if us >= 0 {
        SystemTime::UNIX_EPOCH + d
    } else {
        SystemTime::UNIX_EPOCH - d
    }
}

fn header(created: SystemTime) -> Vec<u8> {
    let mut h = MAGIC.to_vec();
    h.extend_from_slice(&micros(created).to_le_bytes());
    h
}

fn record(e: &Event) -> Vec<u8> {
    let stream = e.stream.as_bytes();
    let stream_len = u16::try_from(stream.len()).unwrap_or(u16::MAX);
    let stream = &stream[..usize::from(stream_len)];
    let mut body = Vec::with_capacity(18 + stream.len() + e.xml.len());
    body.extend_from_slice(&e.seq.to_le_bytes());
    body.extend_from_slice(&micros(e.time).to_le_bytes());
    body.extend_from_slice(&stream_len.to_le_bytes());
    body.extend_from_slice(stream);
    body.extend_from_slice(e.xml.as_bytes());
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&u32::try_from(body.len()).unwrap_or(u32::MAX).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn le_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(..4)?.try_into().ok()?))
}

fn le_u64(b: &[u8]) -> Option<u64> {
    Some(u64::from_le_bytes(b.get(..8)?.try_into().ok()?))
}

/// Decodes one record body.
fn decode(body: &[u8]) -> Option<Event> {
    let seq = le_u64(body)?;
    let time = from_micros(le_u64(body.get(8..)?)? as i64);
    let slen = usize::from(u16::from_le_bytes(body.get(16..18)?.try_into().ok()?));
    let stream = std::str::from_utf8(body.get(18..18 + slen)?).ok()?;
    let xml = std::str::from_utf8(body.get(18 + slen..)?).ok()?;
    Some(Event::new(seq, time, Arc::from(stream), Arc::from(xml)))
}

/// The events of a log file's bytes (after the header), and where the
/// valid part ends.
fn read_records(bytes: &[u8]) -> (Vec<Event>, usize) {
    let mut events = Vec::new();
    let mut at = HEADER;
    while at < bytes.len() {
        let Some(len) = le_u32(&bytes[at..]).map(|l| l as usize) else { break };
        let Some(crc) = bytes.get(at + 4..).and_then(le_u32) else { break };
        if len > MAX_RECORD {
            break;
        }
        let Some(body) = bytes.get(at + 8..at + 8 + len) else { break };
        if crc32fast::hash(body) != crc {
            break;
        }
        let Some(e) = decode(body) else { break };
        // Sequence numbers only grow; anything else is a damaged file.
        if events.last().is_some_and(|p: &Event| p.seq >= e.seq) {
            break;
        }
        events.push(e);
        at += 8 + len;
    }
    (events, at)
}

impl LogFile {
    /// Opens (or creates) the log in `dir`: the file, its events and the
    /// log's creation time. A damaged tail is cut off with a warning.
    pub fn open(dir: &Path) -> Result<(LogFile, Vec<Event>, SystemTime), String> {
        let path = dir.join(FILE_NAME);
        let shown = path.display().to_string();
        let mut bytes = Vec::new();
        match File::open(&path) {
            Ok(mut f) => {
                f.read_to_end(&mut bytes).map_err(|e| format!("{shown}: {e}"))?;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("{shown}: {e}")),
        }
        let valid_header = bytes.len() >= HEADER && &bytes[..8] == MAGIC;
        if !valid_header {
            if !bytes.is_empty() {
                warn!("{shown}: not a notification log (bad header); starting a new one");
            }
            let created = SystemTime::now();
            let mut file = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(&path)
                .map_err(|e| format!("{shown}: {e}"))?;
            file.write_all(&header(created)).map_err(|e| format!("{shown}: {e}"))?;
            return Ok((LogFile { path, file, records: 0, bytes: 0 }, Vec::new(), created));
        }
        let created = from_micros(le_u64(&bytes[8..]).unwrap_or(0) as i64);
        let (events, end) = read_records(&bytes);
        let file = OpenOptions::new().write(true).open(&path).map_err(|e| format!("{shown}: {e}"))?;
        if end < bytes.len() {
            warn!(
                "{shown}: damaged record at byte {end} of {}; {} events recovered, the rest dropped",
                bytes.len(),
                events.len()
            );
            file.set_len(end as u64).map_err(|e| format!("{shown}: {e}"))?;
        }
        let mut file = file;
        use std::io::Seek;
        file.seek(std::io::SeekFrom::End(0)).map_err(|e| format!("{shown}: {e}"))?;
        let bytes_total = events.iter().map(|e| e.xml.len()).sum();
        Ok((LogFile { path, file, records: events.len(), bytes: bytes_total }, events, created))
    }

    pub fn append(&mut self, e: &Event) -> std::io::Result<()> {
        self.file.write_all(&record(e))?;
        self.records += 1;
        self.bytes += e.xml.len();
        Ok(())
    }

    /// Whether the file holds about twice what the log keeps.
    pub fn wants_compaction(&self, kept: usize, kept_bytes: usize) -> bool {
        (self.records > 2 * kept.max(64)) || (self.bytes > 2 * kept_bytes.max(1 << 20))
    }

    /// Rewrites the file with `events` only.
    pub fn compact(&mut self, created: SystemTime, events: &[Arc<Event>]) -> std::io::Result<()> {
        let tmp = self.path.with_extension("log.tmp");
        let mut f = File::create(&tmp)?;
        let mut buf = header(created);
        for e in events {
            buf.extend_from_slice(&record(e));
        }
        f.write_all(&buf)?;
        f.sync_all()?;
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        self.file = OpenOptions::new().append(true).open(&self.path)?;
        self.records = events.len();
        self.bytes = events.iter().map(|e| e.xml.len()).sum();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u64, xml: &str) -> Event {
        Event::new(seq, SystemTime::UNIX_EPOCH + Duration::from_secs(seq), Arc::from("s"), Arc::from(xml))
    }

    #[test]
    fn records_survive_reopen_and_a_damaged_tail_is_cut() {
        let dir = tempfile::tempdir().unwrap();
        let (mut f, events, created) = LogFile::open(dir.path()).unwrap();
        assert!(events.is_empty());
        for i in 1..=3 {
            f.append(&ev(i, &format!("<e{i}/>"))).unwrap();
        }
        drop(f);
        let (_, events, created2) = LogFile::open(dir.path()).unwrap();
        assert_eq!(events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert_eq!(&*events[2].xml, "<e3/>");
        assert_eq!(micros(created), micros(created2));
        // Flip a byte in the last record: it and nothing else is lost.
        let path = dir.path().join(FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        let n = bytes.len();
        bytes[n - 2] ^= 0xff;
        bytes.extend_from_slice(b"junk");
        std::fs::write(&path, &bytes).unwrap();
        let (mut f, events, _) = LogFile::open(dir.path()).unwrap();
        assert_eq!(events.len(), 2);
        f.append(&ev(3, "<again/>")).unwrap();
        drop(f);
        let (_, events, _) = LogFile::open(dir.path()).unwrap();
        assert_eq!(
            events.iter().map(|e| e.xml.to_string()).collect::<Vec<_>>(),
            ["<e1/>", "<e2/>", "<again/>"]
        );
    }

    #[test]
    fn compaction_keeps_what_is_given() {
        let dir = tempfile::tempdir().unwrap();
        let (mut f, _, created) = LogFile::open(dir.path()).unwrap();
        let all: Vec<Arc<Event>> = (1..=200).map(|i| Arc::new(ev(i, "<x/>"))).collect();
        for e in &all {
            f.append(e).unwrap();
        }
        assert!(f.wants_compaction(50, 200));
        f.compact(created, &all[150..]).unwrap();
        f.append(&ev(201, "<y/>")).unwrap();
        drop(f);
        let (_, events, _) = LogFile::open(dir.path()).unwrap();
        assert_eq!(events.len(), 51);
        assert_eq!(events[0].seq, 151);
        assert_eq!(events[50].seq, 201);
    }
}
