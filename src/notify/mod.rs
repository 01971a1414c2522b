//! Event notifications (DESIGN.md decision 9): one in-process bus with a
//! bounded replay log persisted in the data directory. NETCONF
//! subscriptions (RFC 5277) and RESTCONF event streams (RFC 8040 §6) are
//! both [`Subscription`]s on it.
//!
//! - An [`Event`] is one notification: its content as namespaced XML (the
//!   notification element, with its ancestors for a nested one), the event
//!   time, a sequence number and its stream.
//! - Streams: `NETCONF` carries every event; besides it, one stream per
//!   module that defines notifications, named after the module (for
//!   example `ietf-netconf-notifications`, `occ-services`).
//! - [`Bus::publish`] logs the event (memory and file) and hands it to
//!   every subscriber through a broadcast ring of `queue` events: a
//!   publisher never waits for a subscriber, and a subscriber that falls
//!   further behind than the ring is ended with the reason.
//! - [`log`]: the file format, recovery and compaction.
//! - [`events`]: the RFC 6470 notifications the server itself sends.

pub mod events;
pub mod log;
pub mod subscription;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, SystemTime};

use tokio::sync::broadcast;
use tracing::warn;
use yang3::data::{DataFormat, DataOperation, DataPrinterFlags, DataTree};

use crate::error::{Error, ErrorType};
use crate::schema::Schema;

pub use subscription::{Item, Request, Subscription};

/// The stream of every event (RFC 5277 §3.2.3).
pub const NETCONF_STREAM: &str = "NETCONF";
/// RFC 5277 `<notification>` and `<create-subscription>`.
pub const NOTIFICATION_NS: &str = "urn:ietf:params:xml:ns:netconf:notification:1.0";
/// RFC 5277 `replayComplete`, `notificationComplete` and the streams list.
pub const NC_NOTIFICATIONS_NS: &str = "urn:ietf:params:xml:ns:netmod:notification";

/// Limits of the replay log and of subscribers.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Events kept for replay (the oldest go first).
    pub max_events: usize,
    /// Bytes of event content kept for replay.
    pub max_bytes: usize,
    /// Events older than this are not replayed; `None`: no age limit.
    pub max_age: Option<Duration>,
    /// How many events a subscriber may fall behind before it is ended.
    pub queue: usize,
    /// A subscriber whose transport accepts nothing for this long is ended.
    pub write_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 10_000,
            max_bytes: 64 << 20,
            max_age: Some(Duration::from_secs(7 * 86_400)),
            queue: 1024,
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// One notification.
#[derive(Debug)]
pub struct Event {
    /// Increases by one per event, across restarts.
    pub seq: u64,
    pub time: SystemTime,
    /// The module defining the notification: the event's own stream.
    pub stream: Arc<str>,
    /// The notification element (with its ancestors when nested), every
    /// element namespaced; no `<notification>` envelope.
    pub xml: Arc<str>,
    json: OnceLock<Option<Arc<str>>>,
}

impl Event {
    pub fn new(seq: u64, time: SystemTime, stream: Arc<str>, xml: Arc<str>) -> Event {
        Event { seq, time, stream, xml, json: OnceLock::new() }
    }

    /// The content as RFC 7951 JSON object members (no outer braces),
    /// printed once per event; `None` if libyang cannot read it.
    pub fn json(&self, schema: &'static Schema) -> Option<Arc<str>> {
        self.json.get_or_init(|| content_json(schema, &self.xml).ok().map(Arc::from)).clone()
    }

    /// Whether a subscriber of `stream` receives this event.
    pub fn on(&self, stream: &str) -> bool {
        stream == NETCONF_STREAM || *self.stream == *stream
    }
}

/// One stream as the streams lists show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    pub name: String,
    pub description: String,
}

/// The bus: publish, replay, subscribe.
pub struct Bus {
    schema: &'static Schema,
    limits: Limits,
    streams: Vec<StreamInfo>,
    tx: broadcast::Sender<Arc<Event>>,
    state: Mutex<State>,
}

struct State {
    log: VecDeque<Arc<Event>>,
    bytes: usize,
    next_seq: u64,
    created: SystemTime,
    file: Option<log::LogFile>,
}

impl Bus {
    /// A bus whose replay log lives in `dir` (recovered from it when it
    /// exists), or only in memory when `dir` is `None`.
    pub fn open(schema: &'static Schema, dir: Option<&Path>, limits: Limits) -> Result<Arc<Bus>, String> {
        let (file, recovered, created) = match dir {
            Some(d) => {
                let (f, events, created) = log::LogFile::open(d)?;
                (Some(f), events, created)
            }
            None => (None, Vec::new(), SystemTime::now()),
        };
        Ok(Bus::build(schema, limits, file, recovered, created))
    }

    /// A bus with no file and default limits (tests, tools).
    pub fn in_memory(schema: &'static Schema) -> Arc<Bus> {
        Bus::build(schema, Limits::default(), None, Vec::new(), SystemTime::now())
    }

    fn build(
        schema: &'static Schema,
        limits: Limits,
        file: Option<log::LogFile>,
        recovered: Vec<Event>,
        created: SystemTime,
    ) -> Arc<Bus> {
        let next_seq = recovered.last().map_or(1, |e| e.seq + 1);
        let (tx, _) = broadcast::channel(limits.queue.max(1));
        let bus = Arc::new(Bus {
            schema,
            streams: streams(schema),
            limits,
            tx,
            state: Mutex::new(State { log: VecDeque::new(), bytes: 0, next_seq, created, file }),
        });
        {
            let mut st = bus.state();
            for e in recovered {
                st.bytes += e.xml.len();
                st.log.push_back(Arc::new(e));
            }
            bus.trim(&mut st);
        }
        bus
    }

    pub fn schema(&self) -> &'static Schema {
        self.schema
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The streams: `NETCONF` first, then one per module with notifications.
    pub fn streams(&self) -> &[StreamInfo] {
        &self.streams
    }

    pub fn has_stream(&self, name: &str) -> bool {
        self.streams.iter().any(|s| s.name == name)
    }

    /// When the replay log was created (the oldest time a replay can reach).
    pub fn log_created(&self) -> SystemTime {
        self.state().created
    }

    /// Number of live subscribers.
    pub fn subscribers(&self) -> usize {
        self.tx.receiver_count()
    }

    /// Logs and delivers one event of `stream` (the module defining the
    /// notification) with content `xml`, built by the server itself.
    pub fn publish(&self, stream: &str, xml: String) -> Arc<Event> {
        let mut st = self.state();
        // Event times never go backwards, so replay by time equals replay
        // by sequence even if the clock is stepped back.
        let now = SystemTime::now();
        let time = st.log.back().map_or(now, |last| now.max(last.time));
        let ev = Arc::new(Event::new(st.next_seq, time, Arc::from(stream), Arc::from(xml)));
        st.next_seq += 1;
        if let Some(f) = st.file.as_mut() {
            if let Err(e) = f.append(&ev) {
                warn!("notification log: {e}; the event is delivered but not logged");
            }
        }
        st.bytes += ev.xml.len();
        st.log.push_back(ev.clone());
        self.trim(&mut st);
        if st.file.as_ref().is_some_and(|f| f.wants_compaction(st.log.len(), st.bytes)) {
            let events: Vec<Arc<Event>> = st.log.iter().cloned().collect();
            let created = st.created;
            if let Some(f) = st.file.as_mut() {
                if let Err(e) = f.compact(created, &events) {
                    warn!("notification log: compaction failed: {e}");
                }
            }
        }
        // Sent under the lock: a subscriber taking the log and its
        // receiver under the same lock sees each event exactly once.
        let _ = self.tx.send(ev.clone());
        ev
    }

    /// Sends a notification defined by a loaded module (the domain layer's
    /// entry point): `xml` is the notification element, with its ancestors
    /// for a nested one. libyang validates it (types, mandatory nodes,
    /// musts; references with no data to point into fail, see
    /// [`Bus::send_against`]); it is logged in libyang's canonical form.
    pub fn send(&self, xml: &str) -> Result<Arc<Event>, Error> {
        self.send_against(xml, None)
    }

    /// [`Bus::send`], resolving the notification's leafrefs and
    /// instance-identifiers in `data` (for example the operational state).
    pub fn send_against(&self, xml: &str, data: Option<&DataTree<'_>>) -> Result<Arc<Event>, Error> {
        let ctx = self.schema.context();
        let bad = |why: String| Error::invalid_value(why).with_type(ErrorType::Application);
        let _ = crate::schema::ffi::take_errors(ctx);
        let tree = parse_content(self.schema, xml)
            .map_err(|e| bad(format!("not a notification of a loaded module: {e}")))?;
        let root = tree.reference().map_or(std::ptr::null_mut(), |n| n.as_raw());
        let dep = data.and_then(|d| d.reference()).map_or(std::ptr::null_mut(), |n| n.as_raw());
        // SAFETY: both trees are live for the call and of one context.
        if unsafe { crate::schema::ffi::validate_op(root, dep, crate::schema::ffi::OpType::Notification) }
            .is_err()
        {
            let records = crate::schema::ffi::take_errors(ctx);
            let why =
                records.last().map_or_else(|| "invalid notification".to_string(), |e| e.message.clone());
            return Err(bad(why));
        }
        let module = tree
            .traverse()
            .find(|n| n.schema().kind() == yang3::schema::SchemaNodeKind::Notification)
            .map(|n| n.schema().module().name().to_string())
            .ok_or_else(|| bad("no notification in the document".into()))?;
        let canonical =
            print(&tree, false).map_err(|e| bad(format!("cannot print the notification: {e}")))?;
        Ok(self.publish(&module, canonical))
    }

    /// Drops what exceeds the limits from the front of the log.
    fn trim(&self, st: &mut State) {
        let cutoff = self.limits.max_age.and_then(|a| SystemTime::now().checked_sub(a));
        while let Some(front) = st.log.front() {
            let old = cutoff.is_some_and(|c| front.time < c);
            if st.log.len() > self.limits.max_events || st.bytes > self.limits.max_bytes || old {
                st.bytes -= front.xml.len();
                st.log.pop_front();
            } else {
                break;
            }
        }
    }

    /// The logged events of `stream` from `start` (to `stop`), and a
    /// receiver of every event published after them.
    fn replay_and_receiver(
        &self,
        stream: &str,
        start: Option<SystemTime>,
        stop: Option<SystemTime>,
    ) -> (VecDeque<Arc<Event>>, broadcast::Receiver<Arc<Event>>) {
        let mut st = self.state();
        self.trim(&mut st);
        let rx = self.tx.subscribe();
        let replay = match start {
            None => VecDeque::new(),
            Some(start) => st
                .log
                .iter()
                .filter(|e| e.on(stream) && e.time >= start && stop.is_none_or(|s| e.time <= s))
                .cloned()
                .collect(),
        };
        (replay, rx)
    }

    /// The events logged for replay, oldest first (tests, diagnostics).
    pub fn logged(&self) -> Vec<Arc<Event>> {
        self.state().log.iter().cloned().collect()
    }
}

/// The streams of a schema: NETCONF, then each implemented module that
/// defines a notification (top-level or nested), by name.
fn streams(schema: &Schema) -> Vec<StreamInfo> {
    let ctx = schema.context();
    let mut modules: Vec<String> = Vec::new();
    for m in ctx.modules(true).filter(|m| m.is_implemented()) {
        for n in m.notifications() {
            modules.push(n.module().name().to_string());
        }
        for node in m.data().flat_map(|n| n.traverse()) {
            if matches!(
                node.kind(),
                yang3::schema::SchemaNodeKind::Container | yang3::schema::SchemaNodeKind::List
            ) {
                for n in node.notifications() {
                    modules.push(n.module().name().to_string());
                }
            }
        }
    }
    modules.sort();
    modules.dedup();
    // replayComplete and notificationComplete end subscriptions; they are
    // not events of a stream.
    modules.retain(|m| m != "nc-notifications");
    let mut out = vec![StreamInfo {
        name: NETCONF_STREAM.into(),
        description: "Every event notification of the server.".into(),
    }];
    out.extend(
        modules.into_iter().map(|m| StreamInfo {
            description: format!("The notifications defined by module {m}."),
            name: m,
        }),
    );
    out
}

fn print(tree: &DataTree<'_>, json: bool) -> Result<String, String> {
    let flags = DataPrinterFlags::WITH_SIBLINGS | DataPrinterFlags::SHRINK;
    let format = if json { DataFormat::JSON } else { DataFormat::XML };
    // libyang's own printer (yang3's print_bytes keeps the C string's NUL).
    crate::datastore::print_tree(tree, format, flags).map_err(|e| format!("{e:?}"))
}

/// Parses notification content (XML) into a libyang tree (not validated);
/// a failure leaves no libyang error records behind.
pub fn parse_content(schema: &'static Schema, xml: &str) -> Result<DataTree<'static>, String> {
    let ctx = schema.context();
    DataTree::parse_op_string(ctx, xml, DataFormat::XML, DataOperation::NotificationYang).map_err(|e| {
        let _ = crate::schema::ffi::take_errors(ctx);
        e.to_string()
    })
}

/// Notification content printed as RFC 7951 JSON members (no braces).
pub fn content_json(schema: &'static Schema, xml: &str) -> Result<String, String> {
    let tree = parse_content(schema, xml)?;
    tree_json_members(&tree)
}

/// A tree printed as RFC 7951 JSON object members (no outer braces).
pub fn tree_json_members(tree: &DataTree<'_>) -> Result<String, String> {
    let text = print(tree, true)?;
    let t = text.trim();
    let inner = t.strip_prefix('{').and_then(|t| t.strip_suffix('}')).unwrap_or("");
    Ok(inner.to_string())
}

/// A NETCONF `<notification>` message (RFC 5277 §4).
pub fn netconf_message(time: SystemTime, content: &str) -> String {
    format!(
        "<notification xmlns=\"{NOTIFICATION_NS}\"><eventTime>{}</eventTime>{content}</notification>",
        event_time(time)
    )
}

/// An `ietf-restconf:notification` object (RFC 8040 §6.4).
pub fn json_message(time: SystemTime, members: &str) -> String {
    format!("{{\"ietf-restconf:notification\":{{\"eventTime\":\"{}\",{members}}}}}", event_time(time))
}

/// The content of `replayComplete` / `notificationComplete`.
pub fn complete_xml(replay: bool) -> String {
    let name = if replay { "replayComplete" } else { "notificationComplete" };
    format!("<{name} xmlns=\"{NC_NOTIFICATIONS_NS}\"/>")
}

/// The same as JSON members.
pub fn complete_json(replay: bool) -> String {
    let name = if replay { "replayComplete" } else { "notificationComplete" };
    format!("\"nc-notifications:{name}\":[null]")
}

/// An event time in RFC 3339 with microseconds, UTC.
pub fn event_time(t: SystemTime) -> String {
    let d = t.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let secs = crate::netconf::monitoring::date_time(t);
    format!("{}.{:06}Z", &secs[..secs.len() - 1], d.subsec_micros())
}

/// Reads a yang:date-and-time value (RFC 3339 / RFC 6991:
/// `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`).
pub fn parse_date_time(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let part = s.get(from..from + len)?;
        part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 2)?, num(8, 2)?);
    let (hour, min, sec) = (num(11, 2)?, num(14, 2)?, num(17, 2)?);
    if !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    if hour > 23 || min > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u64::from(b[i] - b'0');
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start).min(9)..9 {
            nanos *= 10;
        }
    }
    let offset = match &s[i..] {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && &tz[3..4] == ":" => {
            let h = num(i + 1, 2)?;
            let m = num(i + 4, 2)?;
            if h > 23 || m > 59 {
                return None;
            }
            let v = h * 3600 + m * 60;
            if tz.starts_with('-') {
                -v
            } else {
                v
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + min * 60 + sec.min(59) - offset;
    let secs = u64::try_from(secs).ok()?;
    SystemTime::UNIX_EPOCH.checked_add(Duration::new(secs, nanos as u32))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_times_round_trip_and_offsets() {
        let t = SystemTime::UNIX_EPOCH + Duration::new(1_795_000_000, 123_456_000);
        let s = event_time(t);
        assert!(s.ends_with(".123456Z"), "{s}");
        assert_eq!(parse_date_time(&s), Some(t));
        let z = parse_date_time("2026-11-24T06:00:00Z");
        assert_eq!(parse_date_time("2026-11-24T08:30:00+02:30"), z);
        assert_eq!(parse_date_time("2026-11-24T01:00:00-05:00"), z);
        assert_eq!(parse_date_time("1970-01-01T00:00:00Z"), Some(SystemTime::UNIX_EPOCH));
        assert_eq!(
            parse_date_time("2000-03-01T00:00:00.5Z"),
            Some(SystemTime::UNIX_EPOCH + Duration::new(951_868_800, 500_000_000))
        );
        for bad in [
            "",
            "2026-11-24",
            "2026-11-24T06:00:00",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-11-24T24:00:00Z",
            "2026-11-24T06:00:00.Z",
            "2026-11-24T06:00:00+0200",
            "2026-11-24 06:00:00Z",
            "x026-11-24T06:00:00Z",
        ] {
            assert_eq!(parse_date_time(bad), None, "{bad}");
        }
    }
}
