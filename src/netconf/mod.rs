//! NETCONF (RFC 6241) over SSH (RFC 6242).
//!
//! - `framing`: the sans-IO message framing (EOM and chunked).
//! - `xml`: the namespace-aware element tree messages are read into.
//! - `session`: one session over any byte stream: hello, then rpc/reply.
//! - `ops`: the operations, onto [`Datastores`].
//! - `filter`: subtree and XPath filters, evaluated inside the snapshot.
//! - `monitoring`: ietf-netconf-monitoring and ietf-yang-library state,
//!   `<get-schema>`.
//! - `ssh`: the russh server, host keys; `auth`: users and password hashes.
//!
//! Nothing here knows OCC: RPCs of loaded modules go to handlers that other
//! layers register with [`Server::register_rpc`].

pub mod auth;
pub mod filter;
pub mod framing;
pub mod monitoring;
pub mod ops;
pub mod session;
pub mod ssh;
pub mod xml;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime};

use tokio::sync::Notify;

use crate::datastore::confirmed::SessionId;
use crate::datastore::{Datastore, Datastores, Principal};
use crate::error::Errors;
use crate::nacm::{self, Nacm};
use crate::notify::events::{self, Termination};
use crate::notify::Bus;
use crate::schema::Schema;

pub const BASE_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
pub const BASE_1_0: &str = "urn:ietf:params:netconf:base:1.0";
pub const BASE_1_1: &str = "urn:ietf:params:netconf:base:1.1";
pub const MONITORING_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";
pub const WITH_DEFAULTS_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults";
pub const NMDA_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-nmda";
pub const DATASTORES_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-datastores";
pub const YANG_NS: &str = "urn:ietf:params:xml:ns:yang:1";

/// Limits of the NETCONF server.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_bytes: usize,
    pub max_sessions: u32,
    /// A session silent this long is closed; `None`: never.
    pub idle_timeout: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 64 << 20,
            max_sessions: 64,
            idle_timeout: Some(Duration::from_secs(3600)),
        }
    }
}

/// What an RPC handler is given: the session and the RPC's input as a
/// libyang tree (the operation node and its validated input).
pub struct RpcCall<'a> {
    pub session: SessionId,
    pub user: &'a str,
    /// The operation as XML (the `<rpc>` child), self-contained.
    pub input_xml: &'a str,
    pub input: &'a yang3::data::DataTree<'static>,
}

/// Serves one RPC or action of a loaded module. Returns the content of
/// `<rpc-reply>` (output nodes as XML; empty means `<ok/>`).
pub trait RpcHandler: Send + Sync + 'static {
    fn call(&self, call: &RpcCall<'_>) -> Result<String, Errors>;
}

/// Counters of ietf-netconf-monitoring `statistics` and per session.
#[derive(Debug, Default)]
pub struct Counters {
    pub in_rpcs: AtomicU32,
    pub in_bad_rpcs: AtomicU32,
    pub out_rpc_errors: AtomicU32,
    pub out_notifications: AtomicU32,
}

impl Counters {
    fn get(c: &AtomicU32) -> u32 {
        c.load(Ordering::Relaxed)
    }
}

/// One live session, as monitoring shows it.
#[derive(Debug)]
pub struct SessionEntry {
    pub user: String,
    pub transport: &'static str,
    pub source_host: Option<SocketAddr>,
    pub login_time: SystemTime,
    pub handles: SessionHandles,
}

/// What the server and a session's task share about the session.
#[derive(Debug, Clone, Default)]
pub struct SessionHandles {
    pub counters: Arc<Counters>,
    pub kill: Arc<Notify>,
    /// The session that killed this one (0: none).
    pub killed_by: Arc<AtomicU32>,
    /// Whether the session has an active notification subscription.
    pub subscribed: Arc<AtomicBool>,
}

/// What [`Server::open_session`] gives the session task.
#[derive(Debug)]
pub struct Opened {
    pub id: SessionId,
    pub handles: SessionHandles,
    /// Who the session is, as its notifications name it.
    pub who: Principal,
}

/// One session as ietf-netconf-monitoring lists it.
#[derive(Debug, Clone)]
pub struct SessionView {
    pub id: SessionId,
    pub user: String,
    pub transport: &'static str,
    pub source_host: Option<SocketAddr>,
    pub login_time: SystemTime,
    pub in_rpcs: u32,
    pub in_bad_rpcs: u32,
    pub out_rpc_errors: u32,
    pub out_notifications: u32,
}

/// How many printed views of running the print cache keeps.
const PRINT_CACHE_VIEWS: usize = 4;

/// Everything the sessions share.
pub struct Server {
    pub ds: Datastores,
    /// The notification bus (RFC 5277 subscriptions, RFC 6470 events).
    pub bus: Arc<Bus>,
    pub limits: Limits,
    capabilities: Vec<String>,
    sessions: Mutex<HashMap<SessionId, SessionEntry>>,
    next_id: AtomicU32,
    pub start_time: SystemTime,
    pub stats: Counters,
    pub in_sessions: AtomicU32,
    pub in_bad_hellos: AtomicU32,
    pub dropped_sessions: AtomicU32,
    handlers: RwLock<HashMap<(String, String), Arc<dyn RpcHandler>>>,
    lock_times: Mutex<HashMap<Datastore, (SessionId, SystemTime)>>,
    /// Running's printed text per view, newest transaction only (a few
    /// entries: the whole datastore and some restricted users' views).
    print_cache: Mutex<Vec<(ops::PrintKey, Arc<Vec<u8>>)>>,
    /// Access control (RFC 8341), shared with RESTCONF and the subscriptions.
    pub nacm: Arc<Nacm>,
}

impl Server {
    /// A server with an in-memory notification bus (no replay log file).
    pub fn new(ds: Datastores, limits: Limits) -> Arc<Server> {
        let bus = Bus::in_memory(ds.schema());
        Server::with_bus(ds, limits, bus)
    }

    /// A server publishing to `bus`. Inside a tokio runtime this also
    /// starts the RFC 6470 producer (config-change, confirmed-commit).
    pub fn with_bus(ds: Datastores, limits: Limits, bus: Arc<Bus>) -> Arc<Server> {
        Server::with_access(ds, limits, bus, nacm::Settings { off: true, ..Default::default() })
    }

    /// A server publishing to `bus` and enforcing NACM with `access`
    /// (unless it is off): writes are checked by the datastore's write
    /// guard, operations, reads and notifications by the protocol layers.
    pub fn with_access(ds: Datastores, limits: Limits, bus: Arc<Bus>, access: nacm::Settings) -> Arc<Server> {
        let nacm = Nacm::new(ds.clone(), access);
        if !nacm.is_off() {
            ds.set_write_guard(nacm.clone());
            ds.add_state_provider(Arc::new(nacm::CountersProvider::new(nacm.clone())));
        }
        let capabilities = capabilities(ds.schema());
        let _ = events::spawn(bus.clone(), &ds);
        let server = Arc::new(Server {
            bus,
            ds,
            limits,
            capabilities,
            sessions: Mutex::new(HashMap::new()),
            next_id: AtomicU32::new(1),
            start_time: SystemTime::now(),
            stats: Counters::default(),
            in_sessions: AtomicU32::new(0),
            in_bad_hellos: AtomicU32::new(0),
            dropped_sessions: AtomicU32::new(0),
            handlers: RwLock::new(HashMap::new()),
            lock_times: Mutex::new(HashMap::new()),
            print_cache: Mutex::new(Vec::new()),
            nacm,
        });
        server.ds.add_state_provider(Arc::new(monitoring::Provider::new(Arc::downgrade(&server))));
        server.ds.add_state_provider(Arc::new(monitoring::StreamsProvider::new(server.bus.clone())));
        server
    }

    pub fn schema(&self) -> &'static Schema {
        self.ds.schema()
    }

    /// The capabilities of the server hello, in order.
    pub fn capabilities(&self) -> &[String] {
        &self.capabilities
    }

    /// Registers the handler of the RPC or action `name` of the module with
    /// namespace `ns` (for an action: its name, the data path being in the
    /// input tree). A later registration replaces an earlier one.
    pub fn register_rpc(&self, ns: &str, name: &str, handler: Arc<dyn RpcHandler>) {
        write(&self.handlers).insert((ns.to_string(), name.to_string()), handler);
    }

    pub(crate) fn handler(&self, ns: &str, name: &str) -> Option<Arc<dyn RpcHandler>> {
        read(&self.handlers).get(&(ns.to_string(), name.to_string())).cloned()
    }

    fn sessions(&self) -> MutexGuard<'_, HashMap<SessionId, SessionEntry>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a new session, or `None` past `max_sessions`.
    pub fn open_session(&self, user: &str, source_host: Option<SocketAddr>) -> Option<Opened> {
        let mut sessions = self.sessions();
        if sessions.len() >= self.limits.max_sessions as usize {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let handles = SessionHandles::default();
        sessions.insert(
            id,
            SessionEntry {
                user: user.to_string(),
                transport: "netconf-ssh",
                source_host,
                login_time: SystemTime::now(),
                handles: handles.clone(),
            },
        );
        drop(sessions);
        self.in_sessions.fetch_add(1, Ordering::Relaxed);
        let who =
            Principal { user: user.to_string(), session_id: id, source_host: source_host.map(|a| a.ip()) };
        self.bus.publish(events::MODULE, events::session_start(&who));
        self.ds.set_principal(id, Some(who.clone()));
        Some(Opened { id, handles, who })
    }

    /// Forgets a session and releases what it held (locks, its candidate
    /// changes under lock, a non-persistent confirmed commit), then sends
    /// netconf-session-end.
    pub fn close_session(&self, who: &Principal, why: Termination) {
        let id = who.session_id;
        self.sessions().remove(&id);
        self.ds.session_ended(id);
        self.ds.set_principal(id, None);
        self.bus.publish(events::MODULE, events::session_end(who, why));
    }

    /// Marks `id` as subscribed; false if it already was (RFC 5277: one
    /// subscription per session).
    pub(crate) fn claim_subscription(&self, id: SessionId) -> bool {
        self.sessions().get(&id).is_some_and(|e| !e.handles.subscribed.swap(true, Ordering::SeqCst))
    }

    /// `<kill-session>` from session `by`: ends session `id` now. Its locks
    /// are released before this returns; its task stops at its next await.
    pub fn kill_session(&self, id: SessionId, by: SessionId) -> bool {
        let entry = self.sessions().remove(&id);
        match entry {
            Some(e) => {
                e.handles.killed_by.store(by, Ordering::SeqCst);
                e.handles.kill.notify_one();
                self.dropped_sessions.fetch_add(1, Ordering::Relaxed);
                self.ds.session_ended(id);
                true
            }
            None => false,
        }
    }

    /// Running's printed text for `key`, if kept.
    pub(crate) fn cached_print(&self, key: ops::PrintKey) -> Option<Arc<Vec<u8>>> {
        let c = self.print_cache.lock().unwrap_or_else(|p| p.into_inner());
        c.iter().find(|(k, _)| *k == key).map(|(_, b)| b.clone())
    }

    /// Keeps running's printed text: prints of older transactions go, and
    /// at most [`PRINT_CACHE_VIEWS`] views stay (the oldest kept goes).
    pub(crate) fn keep_print(&self, key: ops::PrintKey, body: Vec<u8>) {
        let mut c = self.print_cache.lock().unwrap_or_else(|p| p.into_inner());
        if c.iter().any(|(k, _)| k.txid > key.txid) {
            return;
        }
        c.retain(|(k, _)| k.txid == key.txid && *k != key);
        if c.len() >= PRINT_CACHE_VIEWS {
            c.remove(0);
        }
        c.push((key, Arc::new(body)));
    }

    /// Records when `session` took the lock of `ds` (monitoring shows it).
    pub(crate) fn note_lock(&self, ds: Datastore, session: SessionId) {
        let mut t = self.lock_times.lock().unwrap_or_else(|p| p.into_inner());
        t.insert(ds, (session, SystemTime::now()));
    }

    /// The holder of the lock of `ds` and since when.
    pub fn lock_info(&self, ds: Datastore) -> Option<(SessionId, SystemTime)> {
        let holder = self.ds.lock_holder(ds)?;
        let t = self.lock_times.lock().unwrap_or_else(|p| p.into_inner());
        let since = t.get(&ds).filter(|(s, _)| *s == holder).map_or_else(SystemTime::now, |(_, at)| *at);
        Some((holder, since))
    }

    /// A snapshot of the live sessions, by id.
    pub fn session_list(&self) -> Vec<SessionView> {
        let mut v: Vec<_> = self
            .sessions()
            .iter()
            .map(|(id, e)| {
                let c = &e.handles.counters;
                SessionView {
                    id: *id,
                    user: e.user.clone(),
                    transport: e.transport,
                    source_host: e.source_host,
                    login_time: e.login_time,
                    in_rpcs: Counters::get(&c.in_rpcs),
                    in_bad_rpcs: Counters::get(&c.in_bad_rpcs),
                    out_rpc_errors: Counters::get(&c.out_rpc_errors),
                    out_notifications: Counters::get(&c.out_notifications),
                }
            })
            .collect();
        v.sort_by_key(|s| s.id);
        v
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

/// The server's capabilities (RFC 6241 §8, RFC 7950 §5.6.4, RFC 8526 §2).
fn capabilities(schema: &Schema) -> Vec<String> {
    let mut caps: Vec<String> = [
        BASE_1_0,
        BASE_1_1,
        "urn:ietf:params:netconf:capability:writable-running:1.0",
        "urn:ietf:params:netconf:capability:candidate:1.0",
        "urn:ietf:params:netconf:capability:confirmed-commit:1.1",
        "urn:ietf:params:netconf:capability:rollback-on-error:1.0",
        "urn:ietf:params:netconf:capability:validate:1.1",
        "urn:ietf:params:netconf:capability:startup:1.0",
        "urn:ietf:params:netconf:capability:xpath:1.0",
        "urn:ietf:params:netconf:capability:notification:1.0",
        "urn:ietf:params:netconf:capability:interleave:1.0",
        "urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit&also-supported=report-all,report-all-tagged,trim",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    caps.push(format!(
        "urn:ietf:params:netconf:capability:yang-library:1.1?revision=2019-01-04&content-id={}",
        monitoring::content_id(schema)
    ));
    caps.extend(monitoring::module_capabilities(schema));
    caps
}
