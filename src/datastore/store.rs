//! The transaction manager and the NMDA datastores (RFC 8342): running,
//! candidate, startup, intended (= running) and operational, behind one
//! handle both protocol servers share ([`Datastores`]).
//!
//! # Readers and the writer (DESIGN decision 3)
//!
//! Every datastore is published as an [`Arc<Snapshot>`]: readers clone it
//! and never wait. Writes go through one writer (a mutex held for the whole
//! transaction). Running keeps two libyang trees, left-right: the published
//! one, and a *spare* equal to the state before the last commit. A commit
//! catches the spare up by copying the subtrees the last commit changed
//! (its [`Delta`]: O(edit)), applies the edit to it in place, validates it,
//! and publishes it; the tree that was published becomes the spare. When a
//! reader still holds the spare (a slow `get-config`), or after a failed
//! commit (the working tree is then dropped), the working tree is a full
//! copy of the published one instead (O(N), the exception). Big trees are
//! freed on a background thread, never on the commit path.
//!
//! # A commit (decision 4)
//!
//! working tree ← edit (RFC 6241 §7.2, [`super::edit`]) → libyang
//! validation (full, `NO_STATE | MULTI_ERROR`) → validate hooks (bounded by
//! a timeout) → delta → journal append + `fdatasync` → publish with txid+1
//! → change event → apply hooks. Any failure before the journal write
//! leaves every datastore as it was; the caller gets the errors.
//!
//! # Choices where the RFCs leave room (documented for users in README)
//!
//! - `test-option` `set` on running validates all the same: running is
//!   always valid. `test-only` validates and discards.
//! - Candidate edits check the schema and the edit semantics, not the
//!   semantic constraints (as ConfD): the candidate may be invalid until
//!   `<validate>` or `<commit>`. `test-only` on the candidate validates.
//! - The candidate follows running until its first edit; it then holds its
//!   own tree (one full copy) and the list of edits made to it. A commit
//!   replays those edits on running when running has not changed since the
//!   candidate was made (O(edit)); otherwise running's content is replaced
//!   by the candidate's (O(N)).
//! - A session that ends while holding the candidate lock discards the
//!   candidate's changes (RFC 6241 §8.3.5.2).
//! - The rollback point of a confirmed commit is running's content printed
//!   once at the start of the chain, kept in memory and in
//!   `confirmed-commit` in the data dir: a restart reverts a pending
//!   non-persistent confirmed commit and resumes a persistent one.
//! - Apply hooks run after the commit is durable: they are told, they
//!   cannot veto. Validate hooks can veto.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;
use tokio::time::Instant;
use tracing::{debug, error, info, warn};
use yang3::context::Context;
use yang3::data::{Data, DataFormat, DataPrinterFlags, DataTree, DataTreeOwningRef};

use super::confirmed::{CommitOutcome, CommitParams, ConfirmedCommit, ConfirmedCommitError, Persisted};
use super::delta::{self, Decoded, Delta, RawTree, Recorded};
use super::edit::{self, Change, DefaultOperation};
use super::incremental;
use super::journal::{Journal, JournalError};
use super::locks::{LockContext, Lockable, Locks};
use crate::error::{Error, ErrorTag, ErrorType, Errors, Stage};
use crate::schema::deps;
use crate::schema::ffi::{self, RawNode};
use crate::schema::Schema;

pub use super::confirmed::SessionId;

/// The datastores of RFC 8342.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Datastore {
    Running,
    Candidate,
    Startup,
    Intended,
    Operational,
}

impl Datastore {
    pub const ALL: [Datastore; 5] = [
        Datastore::Running,
        Datastore::Candidate,
        Datastore::Startup,
        Datastore::Intended,
        Datastore::Operational,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Datastore::Running => "running",
            Datastore::Candidate => "candidate",
            Datastore::Startup => "startup",
            Datastore::Intended => "intended",
            Datastore::Operational => "operational",
        }
    }

    /// The `ietf-datastores` identity (`ietf-datastores:running`...).
    pub fn identity(self) -> String {
        format!("ietf-datastores:{}", self.name())
    }

    /// From an identity name, with or without the module prefix.
    pub fn from_identity(s: &str) -> Option<Datastore> {
        let name = s.rsplit(':').next().unwrap_or(s);
        Datastore::ALL.into_iter().find(|d| d.name() == name)
    }

    fn lockable(self) -> Option<Lockable> {
        match self {
            Datastore::Running => Some(Lockable::Running),
            Datastore::Candidate => Some(Lockable::Candidate),
            Datastore::Startup => Some(Lockable::Startup),
            _ => None,
        }
    }
}

/// `test-option` of `<edit-config>` (RFC 6241 §7.2, `:validate:1.1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TestOption {
    #[default]
    TestThenSet,
    Set,
    TestOnly,
}

/// One published, immutable state of a datastore.
pub struct Snapshot {
    tree: DataTree<'static>,
    txid: u64,
    time: SystemTime,
}

impl Snapshot {
    /// The data (config true only, except for operational).
    pub fn tree(&self) -> &DataTree<'static> {
        &self.tree
    }

    /// The transaction that produced it (running's txid for the datastores
    /// that follow running).
    pub fn txid(&self) -> u64 {
        self.txid
    }

    /// When that transaction was committed (or the server started).
    pub fn time(&self) -> SystemTime {
        self.time
    }

    /// The whole tree printed (siblings included) in XML or JSON with
    /// yang3's printer flags (with-defaults mode, shrink...). Empty data
    /// prints as an empty string.
    pub fn print(&self, format: DataFormat, flags: DataPrinterFlags) -> Result<String, Error> {
        print_tree(&self.tree, format, flags)
    }

    pub fn root(&self) -> RawNode {
        self.tree.raw()
    }
}

/// Prints a whole tree (see [`Snapshot::print`]).
pub fn print_tree(tree: &DataTree<'_>, format: DataFormat, flags: DataPrinterFlags) -> Result<String, Error> {
    let opts = (flags | DataPrinterFlags::WITH_SIBLINGS).bits();
    // SAFETY: a live tree, read only.
    unsafe { ffi::print_mem(tree.raw(), format == DataFormat::JSON, opts) }
        .map_err(|e| Error::operation_failed(format!("libyang could not print the data (error {e})")))
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot").field("txid", &self.txid).finish()
    }
}

/// What one commit changed, published to subscribers.
#[derive(Debug, Clone)]
pub struct ChangeEvent {
    pub txid: u64,
    pub datastore: Datastore,
    /// The session that made the change (0: the server itself, e.g. a
    /// confirmed-commit timeout).
    pub session: SessionId,
    /// Who that session is, when the protocol layer registered it
    /// ([`Datastores::set_principal`]); `None` for the server itself.
    pub by: Option<Arc<Principal>>,
    pub changes: Arc<Vec<Change>>,
}

/// The user behind a session id, as notifications report it (RFC 6470
/// common-session-parms).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user: String,
    /// The NETCONF session id; 0 for a non-NETCONF (RESTCONF) request.
    pub session_id: SessionId,
    pub source_host: Option<std::net::IpAddr>,
}

/// A step of the confirmed-commit procedure (RFC 6241 §8.4; RFC 6470
/// netconf-confirmed-commit `confirm-event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmStep {
    Start,
    Cancel,
    Timeout,
    Extend,
    Complete,
}

impl ConfirmStep {
    pub fn name(self) -> &'static str {
        match self {
            ConfirmStep::Start => "start",
            ConfirmStep::Cancel => "cancel",
            ConfirmStep::Timeout => "timeout",
            ConfirmStep::Extend => "extend",
            ConfirmStep::Complete => "complete",
        }
    }
}

/// A confirmed-commit step, published to subscribers.
#[derive(Debug, Clone)]
pub struct ConfirmEvent {
    pub step: ConfirmStep,
    /// The session that caused it; `None` for a timeout.
    pub by: Option<Arc<Principal>>,
    /// Seconds until the commit is reverted (start and extend).
    pub timeout: Option<u32>,
}

/// What hooks are shown of a commit: the changes, and the whole proposed
/// (validate) or committed (apply) configuration.
#[derive(Debug, Clone)]
pub struct CommitView {
    pub txid: u64,
    pub datastore: Datastore,
    pub session: SessionId,
    pub changes: Arc<Vec<Change>>,
    pub config: Arc<Snapshot>,
}

/// The domain layer's part in commits. Each call runs on its own thread
/// and is given [`Options::hook_timeout`]; a hook that does not answer in
/// time fails the commit (validate) or is logged (apply).
pub trait Hook: Send + Sync + 'static {
    fn name(&self) -> &str;
    /// May refuse a commit of running with errors (returned to the client).
    fn validate(&self, _view: &CommitView) -> Result<(), Errors> {
        Ok(())
    }
    /// Told about a durable commit of running.
    fn apply(&self, _view: &CommitView) {}
}

/// Decides whether a session may make an edit's changes (access control,
/// RFC 8341 §3.4.5). Asked with the edited tree before validation; a
/// refusal leaves the datastore unchanged.
pub trait WriteGuard: Send + Sync + 'static {
    /// `who`: the session's principal (`None`: the server itself). `root`:
    /// the edited tree's first top-level node. A refusal names the change.
    ///
    /// # Safety
    /// `root` is NULL or a live node of a tree nobody else uses meanwhile.
    unsafe fn check(&self, who: Option<&Principal>, root: RawNode, changes: &[Change]) -> edit::Verdict;
}

/// Supplies config false data for the operational datastore.
pub trait StateProvider: Send + Sync + 'static {
    fn name(&self) -> &str;
    /// State data (a tree of `ctx`); `None` when there is none now.
    fn state(&self, ctx: &'static Context) -> Result<Option<DataTree<'static>>, Error>;
}

/// Knobs of the datastore layer.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `:startup` capability: a startup datastore, kept in the data dir.
    pub startup: bool,
    /// At boot, copy startup to running (only with `startup`).
    pub load_startup: bool,
    pub hook_timeout: Duration,
    /// Compact the journal into a snapshot past this many bytes.
    pub compact_bytes: u64,
    /// After each commit the incremental check accepted, validate in full
    /// as well and count (and log) any disagreement; at start, validate an
    /// exactly recovered tree in full as well and refuse to start when it
    /// differs (tests; also set by the environment variable
    /// `OCCD_VERIFY_INCREMENTAL`).
    pub verify_incremental: bool,
    /// Validate the recovered running configuration in full at start even
    /// when its journal was written under the same module set (also set by
    /// the environment variable `OCCD_REVALIDATE_AT_START`).
    pub revalidate_at_start: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            startup: true,
            load_startup: false,
            hook_timeout: Duration::from_secs(10),
            compact_bytes: 64 << 20,
            verify_incremental: std::env::var_os("OCCD_VERIFY_INCREMENTAL").is_some(),
            revalidate_at_start: std::env::var_os("OCCD_REVALIDATE_AT_START").is_some(),
        }
    }
}

/// Result of a successful commit or edit.
#[derive(Debug, Clone, Default)]
pub struct CommitInfo {
    /// The new txid of running (unchanged for candidate edits and test-only).
    pub txid: u64,
    pub changes: Arc<Vec<Change>>,
}

/// A check of the content an edit starts from (see
/// [`Datastores::edit_sequence`]).
pub type Precondition<'a> = &'a dyn Fn(&Snapshot) -> Result<(), Errors>;

/// A failed [`Datastores::edit_sequence`].
#[derive(Debug, Clone)]
pub struct EditFailure {
    /// The index of the edit that failed; `None` when the edits applied
    /// and the result failed validation (or the edit was refused first).
    pub edit: Option<usize>,
    pub errors: Errors,
}

const CONFIRMED_FILE: &str = "confirmed-commit";
const STARTUP_FILE: &str = "startup.xml";
/// Startup's exact form (see [`read_startup`]).
const STARTUP_EXACT_FILE: &str = "startup.exact";
const VALIDATE_FLAGS: u32 = ffi::LYD_VALIDATE_NO_STATE | ffi::LYD_VALIDATE_MULTI_ERROR;
const EVENT_CAPACITY: usize = 1024;

/// The datastores, shared by every session (clone the handle freely).
#[derive(Clone)]
pub struct Datastores {
    inner: Arc<Inner>,
}

struct Inner {
    schema: &'static Schema,
    running: RwLock<Arc<Snapshot>>,
    /// `None`: the candidate equals running.
    candidate: RwLock<Option<Arc<Snapshot>>>,
    startup: RwLock<Option<Arc<Snapshot>>>,
    writer: Mutex<Writer>,
    events: broadcast::Sender<ChangeEvent>,
    confirm_events: broadcast::Sender<ConfirmEvent>,
    /// Who each registered session id is (see [`Datastores::set_principal`]).
    principals: RwLock<std::collections::HashMap<SessionId, Arc<Principal>>>,
    hooks: RwLock<Vec<Arc<dyn Hook>>>,
    /// Access control of writes (NACM), asked before validation.
    guard: RwLock<Option<Arc<dyn WriteGuard>>>,
    providers: RwLock<Vec<Arc<dyn StateProvider>>>,
    options: Options,
    dropper: mpsc::Sender<Box<dyn Send>>,
    /// The schema dependency index of incremental validation.
    deps: deps::Deps,
    data_dir: PathBuf,
    /// Running was rebuilt at start from the journal's exact form, not
    /// validated again.
    recovered_exactly: bool,
}

/// Where the running working tree comes from at the next commit.
struct Spare {
    snapshot: Arc<Snapshot>,
    /// What the commit after it changed.
    delta: Delta,
}

struct CandidateState {
    /// Running's txid when the candidate got its own tree.
    base_txid: u64,
    /// The edits made to it since, in order; `None` after a wholesale
    /// replace (copy-config into candidate).
    log: Option<Vec<(DataTree<'static>, DefaultOperation)>>,
}

struct Writer {
    journal: Journal,
    spare: Option<Spare>,
    locks: Locks,
    confirmed: ConfirmedCommit<Arc<String>>,
    candidate: Option<CandidateState>,
    data_dir: PathBuf,
    stats: Stats,
    /// The index of the edit of a sequence that failed in the last
    /// transaction (see [`Datastores::edit_sequence`]).
    failed_edit: Option<usize>,
    /// Host values by key of incremental validation, for running.
    keys: incremental::Index,
}

/// How commits got their working tree (see the module doc).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// The spare tree was caught up with the last commit's delta.
    pub caught_up: u64,
    /// A full copy of running was made (a reader held the spare, the last
    /// commit replaced everything, or a commit failed after its edit).
    pub copied: u64,
    /// Commits validated incrementally (the others in full).
    pub incremental: u64,
    /// With `verify_incremental`: commits the incremental check accepted
    /// and full validation refused or changed (must stay 0).
    pub disagreements: u64,
    /// Host instances looked up by key value instead of evaluating every
    /// instance of a rule (see `incremental::Index`).
    pub keyed_lookups: u64,
}

fn ctx(schema: &'static Schema) -> &'static Context {
    schema.context()
}

fn op_failed(msg: impl Into<String>) -> Errors {
    Errors::from(Error::operation_failed(msg))
}

fn journal_error(e: JournalError) -> Errors {
    op_failed(format!("the commit could not be made durable: {e}"))
}

/// What replacing the tree at `old` (NULL: empty) with `new` changes.
///
/// # Safety
/// `old` is NULL or a live node; neither tree is modified meanwhile.
unsafe fn changes_between(old: RawNode, new: &DataTree<'static>) -> Result<Vec<Change>, Errors> {
    // SAFETY: contract; the diff tree is ours and freed here.
    unsafe {
        let d = ffi::diff_siblings(old, new.raw()).map_err(|e| op_failed(format!("diff (libyang {e})")))?;
        let c = diff_changes(d, new.raw());
        ffi::free_siblings(d);
        Ok(c)
    }
}

/// A tree from raw nodes (NULL: empty).
/// Moves every node of `source` into `target`: libyang's merge for
/// top-level trees; for chains of unlinked nested instances (a RESTCONF
/// target's config and state copies), instance by instance.
pub(crate) fn merge_into(
    ctx: &'static Context,
    target: DataTree<'static>,
    source: DataTree<'static>,
) -> Result<DataTree<'static>, Errors> {
    let mut root = target.into_raw();
    let source = source.into_raw();
    // SAFETY: both trees are ours; `source` is consumed.
    let r = unsafe {
        if root.is_null() || ffi::top_level_schema(root) {
            ffi::merge_destruct(&mut root, source)
        } else {
            ffi::merge_instances(&mut root, source)
        }
    };
    let tree = tree_of(ctx, root);
    r.map_err(|e| op_failed(format!("merging trees failed (libyang {e})")))?;
    Ok(tree)
}

pub(crate) fn tree_of<'a>(ctx: &'a Context, root: RawNode) -> DataTree<'a> {
    if root.is_null() {
        return DataTree::new(ctx);
    }
    // SAFETY: `root` is a top-level node of a tree of `ctx` nobody else owns.
    std::mem::ManuallyDrop::into_inner(unsafe { DataTreeOwningRef::from_raw_node(ctx, root) }).tree
}

impl Datastores {
    /// The directory the datastores keep their files in (other layers may
    /// keep theirs beside them).
    pub fn data_dir(&self) -> &Path {
        &self.inner.data_dir
    }

    /// Opens the datastores in `data_dir`: running recovered from the
    /// journal (and validated), startup from its file, the candidate equal to
    /// running. A pending non-persistent confirmed commit is reverted; a
    /// persistent one resumes with its remaining time.
    pub fn open(schema: &'static Schema, data_dir: &Path, options: Options) -> Result<Datastores, String> {
        let ctx = ctx(schema);
        let (journal, recovered) = Journal::open(&data_dir.join("journal")).map_err(|e| e.to_string())?;
        let start = std::time::Instant::now();
        let (tree, exact) = recover(schema, recovered.snapshot.as_ref(), &recovered.records, &options)?;
        let (replayed, txid) = (recovered.records.len(), recovered.last_txid);
        drop(recovered);
        info!(
            txid,
            replayed,
            exact,
            ms = start.elapsed().as_millis() as u64,
            "running configuration recovered"
        );

        let (startup, startup_exact) = if options.startup {
            match read_startup(schema, data_dir, &options)? {
                Some((t, exact)) => (Some(t), exact),
                None => (None, true),
            }
        } else {
            (None, true)
        };

        let (drop_tx, drop_rx) = mpsc::channel::<Box<dyn Send>>();
        std::thread::Builder::new()
            .name("occd-free".into())
            .spawn(move || {
                for garbage in drop_rx {
                    drop(garbage)
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let now = SystemTime::now();
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let (confirm_events, _) = broadcast::channel(64);
        let ds = Datastores {
            inner: Arc::new(Inner {
                data_dir: data_dir.to_path_buf(),
                schema,
                running: RwLock::new(Arc::new(Snapshot { tree, txid, time: now })),
                candidate: RwLock::new(None),
                startup: RwLock::new(startup.map(|t| Arc::new(Snapshot { tree: t, txid: 0, time: now }))),
                writer: Mutex::new(Writer {
                    journal,
                    spare: None,
                    locks: Locks::new(),
                    confirmed: ConfirmedCommit::new(),
                    candidate: None,
                    data_dir: data_dir.to_path_buf(),
                    stats: Stats::default(),
                    failed_edit: None,
                    keys: incremental::Index::default(),
                }),
                events,
                confirm_events,
                principals: RwLock::new(std::collections::HashMap::new()),
                hooks: RwLock::new(Vec::new()),
                guard: RwLock::new(None),
                providers: RwLock::new(Vec::new()),
                options,
                recovered_exactly: exact && startup_exact,
                dropper: drop_tx,
                deps: {
                    let d = deps::analyse(ctx);
                    for o in &d.opaque {
                        info!(constraint = %o, "commits validate in full: constraint not analysable");
                    }
                    d
                },
            }),
        };
        ds.resume_confirmed_commit()?;
        if ds.inner.options.startup && ds.inner.options.load_startup {
            if let Some(s) = ds.snapshot(Datastore::Startup) {
                let xml = print_snapshot(&s).map_err(|e| errors_line(&e))?;
                ds.replace_running(0, &xml, "startup loaded at boot").map_err(|e| errors_line(&e))?;
            }
        }
        Ok(ds)
    }

    pub fn schema(&self) -> &'static Schema {
        self.inner.schema
    }

    /// The current state of `ds` (`None` for startup when it does not exist
    /// or `:startup` is off). Operational is built on each call: see
    /// [`Datastores::operational`].
    pub fn snapshot(&self, ds: Datastore) -> Option<Arc<Snapshot>> {
        match ds {
            Datastore::Running | Datastore::Intended => Some(self.running()),
            Datastore::Candidate => Some(self.candidate()),
            Datastore::Startup => read(&self.inner.startup).clone(),
            Datastore::Operational => self.operational(false).ok(),
        }
    }

    /// Whether this server has datastore `ds` (startup only with `:startup`).
    pub fn has(&self, ds: Datastore) -> bool {
        ds != Datastore::Startup || self.inner.options.startup
    }

    pub fn running(&self) -> Arc<Snapshot> {
        read(&self.inner.running).clone()
    }

    pub fn candidate(&self) -> Arc<Snapshot> {
        match read(&self.inner.candidate).clone() {
            Some(c) => c,
            None => self.running(),
        }
    }

    /// Running's config merged with the providers' state data; with
    /// `with_origin`, each top-level config node carries
    /// `or:origin="or:intended"` (RFC 8342 §5.3.4; descendants inherit it).
    pub fn operational(&self, with_origin: bool) -> Result<Arc<Snapshot>, Errors> {
        let ctx = ctx(self.inner.schema);
        let running = self.running();
        let tree = running.tree.duplicate().map_err(|e| op_failed(format!("copy: {e}")))?;
        if with_origin {
            let mut n = tree.raw();
            while !n.is_null() {
                // SAFETY: `n` walks the top level of our own copy.
                unsafe {
                    let _ = ffi::add_meta(ctx, n, "ietf-origin", "origin", "ietf-origin:intended");
                    n = ffi::node_next(n);
                }
            }
        }
        let tree = merge_into(ctx, tree, self.state()?)?;
        Ok(Arc::new(Snapshot { tree, txid: running.txid, time: running.time }))
    }

    /// The providers' state data alone (config false nodes with the config
    /// ancestors and keys they hang under), without running's copy. Readers
    /// that select a part of operational select from running and from this.
    pub fn state(&self) -> Result<DataTree<'static>, Errors> {
        let ctx = ctx(self.inner.schema);
        let mut tree = DataTree::new(ctx);
        let providers = read(&self.inner.providers).clone();
        for p in providers {
            let name = p.name().to_string();
            let state = call_with_timeout(&name, self.inner.options.hook_timeout, move || p.state(ctx))
                .map_err(Errors::from)?
                .map_err(Errors::from)?;
            if let Some(state) = state {
                tree = merge_into(ctx, tree, state)
                    .map_err(|_| op_failed(format!("state of {name} could not be merged")))?;
            }
        }
        let _ = ffi::take_errors(ctx);
        Ok(tree)
    }

    /// Subscribes to the change events of every commit (running) and edit
    /// (candidate). A subscriber that lags more than 1024 events behind
    /// misses the oldest ones (`RecvError::Lagged`).
    pub fn subscribe(&self) -> broadcast::Receiver<ChangeEvent> {
        self.inner.events.subscribe()
    }

    /// Subscribes to the steps of confirmed commits.
    pub fn subscribe_confirmed(&self) -> broadcast::Receiver<ConfirmEvent> {
        self.inner.confirm_events.subscribe()
    }

    /// Registers (or with `None` forgets) who `session` is; change events
    /// of its commits carry it. Protocol layers register a session for as
    /// long as it can write.
    pub fn set_principal(&self, session: SessionId, who: Option<Principal>) {
        let mut p = write(&self.inner.principals);
        match who {
            Some(w) => {
                p.insert(session, Arc::new(w));
            }
            None => {
                p.remove(&session);
            }
        }
    }

    fn principal(&self, session: SessionId) -> Option<Arc<Principal>> {
        read(&self.inner.principals).get(&session).cloned()
    }

    /// Sends the change event of a commit or edit, with who made it.
    fn publish_change(&self, txid: u64, datastore: Datastore, session: SessionId, changes: Arc<Vec<Change>>) {
        let by = self.principal(session);
        let _ = self.inner.events.send(ChangeEvent { txid, datastore, session, by, changes });
    }

    fn confirm_event(&self, step: ConfirmStep, session: Option<SessionId>, timeout: Option<u32>) {
        let by = session.and_then(|s| self.principal(s));
        let _ = self.inner.confirm_events.send(ConfirmEvent { step, by, timeout });
    }

    pub fn add_hook(&self, hook: Arc<dyn Hook>) {
        write(&self.inner.hooks).push(hook);
    }

    /// Sets the access control of writes.
    pub fn set_write_guard(&self, guard: Arc<dyn WriteGuard>) {
        *write(&self.inner.guard) = Some(guard);
    }

    /// `guard` for edits of `session`: the registered write guard with the
    /// session's principal.
    fn guard_of(&self, session: SessionId) -> Option<impl Fn(RawNode, &[Change]) -> edit::Verdict> {
        let guard = read(&self.inner.guard).clone()?;
        let who = self.principal(session);
        // SAFETY: the guard is called with the tree being edited under the
        // writer lock (apply_edits_guarded, transact, check_replace).
        Some(move |root: RawNode, changes: &[Change]| unsafe { guard.check(who.as_deref(), root, changes) })
    }

    /// Applies `edits` to `tree` with the write guard of `session`.
    fn apply_guarded(
        &self,
        session: SessionId,
        tree: &mut DataTree<'static>,
        edits: &[(&DataTree<'static>, DefaultOperation)],
    ) -> Result<Vec<Change>, (usize, Error)> {
        match self.guard_of(session) {
            Some(g) => edit::apply_edits_guarded(tree, edits, &g),
            None => edit::apply_edits(tree, edits),
        }
    }

    /// [`Self::apply_guarded`] for `edits` or, when they are dropped
    /// afterwards, with their created subtrees moved rather than copied.
    fn apply_work(
        &self,
        session: SessionId,
        tree: &mut DataTree<'static>,
        edits: Edits<'_>,
    ) -> Result<Vec<Change>, (usize, Error)> {
        match edits {
            Edits::Kept(list) => {
                let refs: Vec<_> = list.iter().map(|(t, d)| (t, *d)).collect();
                self.apply_guarded(session, tree, &refs)
            }
            Edits::Consumed(list) => match self.guard_of(session) {
                Some(g) => edit::apply_edits_consuming(tree, list, &g),
                None => edit::apply_edits_consuming(tree, list, &|_, _| Ok(())),
            },
        }
    }

    pub fn add_state_provider(&self, provider: Arc<dyn StateProvider>) {
        write(&self.inner.providers).push(provider);
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        self.inner.writer.lock().unwrap_or_else(|p| p.into_inner())
    }

    // ---- edits ----

    /// `<edit-config>` / `<edit-data>` on running or candidate, with an edit
    /// tree from [`edit::parse_edit`] (or built by RESTCONF).
    pub fn edit(
        &self,
        session: SessionId,
        target: Datastore,
        edit_tree: DataTree<'static>,
        default_operation: DefaultOperation,
        test_option: TestOption,
    ) -> Result<CommitInfo, Errors> {
        self.edit_sequence(session, target, vec![(edit_tree, default_operation)], test_option, None)
            .map_err(|f| f.errors)
    }

    /// Edits applied in order as one transaction, all or nothing (RFC 8072
    /// YANG Patch): each sees the ones before it, validation runs once
    /// after the last. A failure names the edit that failed, if one did
    /// (validation failures name none).
    ///
    /// `precondition` sees the target's content (running's when the
    /// candidate has none of its own) under the writer lock, before any
    /// edit: no other edit can come between its check and this one (HTTP
    /// If-Match and friends).
    pub fn edit_sequence(
        &self,
        session: SessionId,
        target: Datastore,
        edits: Vec<(DataTree<'static>, DefaultOperation)>,
        test_option: TestOption,
        precondition: Option<Precondition<'_>>,
    ) -> Result<CommitInfo, EditFailure> {
        let mut w = self.writer();
        w.failed_edit = None;
        if let Some(check) = precondition {
            let snap = self.snapshot(target).unwrap_or_else(|| self.running());
            check(&snap).map_err(|errors| EditFailure { edit: None, errors })?;
        }
        let r = self.edit_locked(&mut w, session, target, edits, test_option);
        r.map_err(|errors| EditFailure { edit: w.failed_edit.take(), errors })
    }

    fn edit_locked(
        &self,
        w: &mut Writer,
        session: SessionId,
        target: Datastore,
        edits: Vec<(DataTree<'static>, DefaultOperation)>,
        test_option: TestOption,
    ) -> Result<CommitInfo, Errors> {
        let lockable = target.lockable().filter(|l| *l != Lockable::Startup).ok_or_else(|| {
            Errors::from(
                Error::operation_not_supported(format!("the {} datastore cannot be edited", target.name()))
                    .with_type(ErrorType::Protocol),
            )
        })?;
        w.locks.check_write(lockable, session)?;
        match target {
            Datastore::Running => {
                if test_option != TestOption::TestOnly {
                    self.check_confirmed_owner(w, session)?;
                }
                // The edits are dropped after: what they create is moved
                // out of them rather than copied.
                let mut edits = edits;
                let r = self.transact(w, session, Work::Edits(Edits::Consumed(&mut edits)), test_option);
                // A bulk edit's tree (what was not moved) is freed off the
                // request's path, like old snapshots.
                self.free_later(edits);
                r
            }
            _ => self.edit_candidate(w, session, edits, test_option),
        }
    }

    /// While a non-persistent confirmed commit of another session is
    /// pending, running is that session's to change (in-use).
    fn check_confirmed_owner(&self, w: &Writer, session: SessionId) -> Result<(), Errors> {
        match w.confirmed.owner() {
            Some(owner) if owner != session && owner != 0 => Err(Errors::from(Error::in_use(format!(
                "a confirmed commit of session {owner} is pending on running"
            )))),
            _ => Ok(()),
        }
    }

    fn edit_candidate(
        &self,
        w: &mut Writer,
        session: SessionId,
        edits: Vec<(DataTree<'static>, DefaultOperation)>,
        test_option: TestOption,
    ) -> Result<CommitInfo, Errors> {
        let ctx = ctx(self.inner.schema);
        let refs: Vec<_> = edits.iter().map(|(t, d)| (t, *d)).collect();
        let mut failed = |(i, e): (usize, Error)| {
            w.failed_edit = Some(i);
            Errors::from(e)
        };
        if test_option == TestOption::TestOnly {
            let mut copy = self.candidate().tree.duplicate().map_err(|e| op_failed(format!("copy: {e}")))?;
            let r = self
                .apply_guarded(session, &mut copy, &refs)
                .map_err(&mut failed)
                .and_then(|changes| validate_tree(ctx, &mut copy).map(|_| changes));
            self.free_later(copy);
            return r.map(|changes| CommitInfo { txid: self.running().txid, changes: Arc::new(changes) });
        }
        // Readers of the candidate wait for a candidate edit (running's
        // readers never do): the tree is edited in place when nobody holds
        // it, else a copy is edited.
        let running = self.running();
        let mut slot = write(&self.inner.candidate);
        let mut snap = match slot.take() {
            Some(s) => s,
            None => Arc::new(Snapshot {
                tree: running.tree.duplicate().map_err(|e| op_failed(format!("copy: {e}")))?,
                txid: running.txid,
                time: SystemTime::now(),
            }),
        };
        if Arc::get_mut(&mut snap).is_none() {
            let tree = snap.tree.duplicate().map_err(|e| op_failed(format!("copy: {e}")))?;
            snap = Arc::new(Snapshot { tree, txid: running.txid, time: snap.time });
        }
        let result = match Arc::get_mut(&mut snap) {
            Some(own) => self.apply_guarded(session, &mut own.tree, &refs).map_err(&mut failed),
            None => Err(op_failed("candidate is shared")),
        };
        drop(refs);
        let changes = match result {
            Ok(c) => Arc::new(c),
            Err(e) => {
                // apply_edit left the tree as it was.
                if w.candidate.is_some() {
                    *slot = Some(snap);
                } else {
                    self.free_later(snap);
                }
                return Err(e);
            }
        };
        if let Some(own) = Arc::get_mut(&mut snap) {
            own.time = SystemTime::now();
        }
        *slot = Some(snap);
        drop(slot);
        let state = w
            .candidate
            .get_or_insert_with(|| CandidateState { base_txid: running.txid, log: Some(Vec::new()) });
        if let Some(log) = &mut state.log {
            log.extend(edits);
        }
        self.publish_change(running.txid, Datastore::Candidate, session, changes.clone());
        Ok(CommitInfo { txid: running.txid, changes })
    }

    /// Publishes `tree` as the candidate, replaced wholesale (no edit log).
    fn set_candidate_tree(&self, w: &mut Writer, tree: DataTree<'static>) {
        let running = self.running();
        w.candidate = Some(CandidateState { base_txid: running.txid, log: None });
        let old = write(&self.inner.candidate).replace(Arc::new(Snapshot {
            tree,
            txid: running.txid,
            time: SystemTime::now(),
        }));
        if let Some(old) = old {
            self.free_later(old);
        }
    }

    /// Whether the candidate has uncommitted changes.
    pub fn candidate_modified(&self) -> bool {
        self.writer().candidate.is_some()
    }

    /// `<discard-changes>`: the candidate equals running again.
    pub fn discard_changes(&self, session: SessionId) -> Result<(), Errors> {
        let mut w = self.writer();
        w.locks.check_write(Lockable::Candidate, session)?;
        self.reset_candidate(&mut w);
        Ok(())
    }

    fn reset_candidate(&self, w: &mut Writer) {
        w.candidate = None;
        if let Some(old) = write(&self.inner.candidate).take() {
            self.free_later(old);
        }
    }

    /// `<validate>` of a datastore (running, candidate, startup).
    pub fn validate(&self, source: Datastore) -> Result<(), Errors> {
        let ctx = ctx(self.inner.schema);
        let Some(snap) = self.snapshot(source) else {
            return Err(missing_startup());
        };
        if source == Datastore::Running || source == Datastore::Intended {
            return Ok(()); // running is valid by construction
        }
        let mut copy = snap.tree.duplicate().map_err(|e| op_failed(format!("copy: {e}")))?;
        let r = validate_tree(ctx, &mut copy);
        self.free_later(copy);
        r.map(drop)
    }

    /// `<validate>` of an inline `<config>` document.
    pub fn validate_config(&self, xml: &str) -> Result<(), Errors> {
        let ctx = ctx(self.inner.schema);
        let mut tree = parse_config_doc(ctx, xml)?;
        validate_tree(ctx, &mut tree).map(drop)
    }

    // ---- commit ----

    /// `<commit>` (RFC 6241 §8.3.4.1, §8.4.5.1): running becomes the
    /// candidate, with the confirmed-commit rules.
    pub fn commit(&self, session: SessionId, params: &CommitParams) -> Result<CommitInfo, Errors> {
        let mut w = self.writer();
        w.locks.check_write(Lockable::Running, session)?;
        // The rollback point is taken before anything changes; the state
        // machine is changed on a copy, kept only if the commit succeeds.
        let now = Instant::now();
        let mut snapshot_err = None;
        let rollback = || match print_snapshot(&self.running()) {
            Ok(xml) => Arc::new(xml),
            Err(e) => {
                snapshot_err = Some(e);
                Arc::new(String::new())
            }
        };
        let mut trial = w.confirmed.clone();
        let outcome = trial.commit(session, params, now, rollback);
        if let Some(e) = snapshot_err {
            return Err(e);
        }
        let outcome = outcome.map_err(confirmed_error)?;
        let info = self.commit_candidate(&mut w, session)?;
        w.confirmed = trial;
        if let Err(e) = self.save_confirmed(&w) {
            warn!(error = %e, "cannot save the confirmed-commit state");
        }
        let secs = Some(params.timeout.unwrap_or(super::confirmed::DEFAULT_TIMEOUT).as_secs() as u32);
        let (step, timeout) = match outcome {
            CommitOutcome::Started { .. } => (ConfirmStep::Start, secs),
            CommitOutcome::Extended { .. } => (ConfirmStep::Extend, secs),
            CommitOutcome::Confirmed => (ConfirmStep::Complete, None),
            CommitOutcome::Plain => return Ok(info),
        };
        match step {
            ConfirmStep::Complete => info!(session, "confirmed commit confirmed"),
            _ => info!(session, txid = info.txid, "confirmed commit pending"),
        }
        self.confirm_event(step, Some(session), timeout);
        Ok(info)
    }

    fn commit_candidate(&self, w: &mut Writer, session: SessionId) -> Result<CommitInfo, Errors> {
        let Some(state) = w.candidate.take() else {
            return Ok(CommitInfo { txid: self.running().txid, changes: Arc::new(Vec::new()) });
        };
        let running = self.running();
        let result = match (&state.log, state.base_txid == running.txid) {
            (Some(log), true) => {
                self.transact(w, session, Work::Edits(Edits::Kept(log)), TestOption::TestThenSet)
            }
            _ => {
                let cand = self.candidate();
                let copy = cand.tree.duplicate().map_err(|e| op_failed(format!("copy: {e}")))?;
                self.transact(w, session, Work::Replace(copy), TestOption::TestThenSet)
            }
        };
        match result {
            Ok(info) => {
                self.reset_candidate(w);
                Ok(info)
            }
            Err(e) => {
                w.candidate = Some(state);
                Err(e)
            }
        }
    }

    /// `<cancel-commit>` (RFC 6241 §8.4.4.1): running goes back to the
    /// rollback point.
    pub fn cancel_commit(&self, session: SessionId, persist_id: Option<&str>) -> Result<CommitInfo, Errors> {
        let mut w = self.writer();
        let rollback = w.confirmed.cancel(session, persist_id).map_err(confirmed_error)?;
        let r = self.revert(&mut w, session, rollback, "confirmed commit cancelled");
        self.confirm_event(ConfirmStep::Cancel, Some(session), None);
        r
    }

    /// Runs the confirmed-commit timer: reverts running when the pending
    /// confirmed commit's timeout has passed. The server calls it when
    /// [`Datastores::confirmed_deadline`] is reached.
    pub fn expire_confirmed_commit(&self, now: Instant) -> Option<Result<CommitInfo, Errors>> {
        let mut w = self.writer();
        let rollback = w.confirmed.expire(now)?;
        let r = self.revert(&mut w, 0, rollback, "confirmed commit timed out");
        self.confirm_event(ConfirmStep::Timeout, None, None);
        Some(r)
    }

    /// When the pending confirmed commit times out.
    pub fn confirmed_deadline(&self) -> Option<Instant> {
        self.writer().confirmed.deadline()
    }

    fn revert(
        &self,
        w: &mut Writer,
        session: SessionId,
        xml: Arc<String>,
        why: &str,
    ) -> Result<CommitInfo, Errors> {
        let _ = self.save_confirmed(w);
        let ctx = ctx(self.inner.schema);
        let tree = parse_config_doc(ctx, &xml)?;
        let r = self.transact(w, session, Work::Replace(tree), TestOption::TestThenSet);
        match &r {
            Ok(info) => info!(txid = info.txid, "{why}: running restored"),
            Err(e) => warn!(error = %errors_line(e), "{why}: running could not be restored"),
        }
        r
    }

    fn replace_running(&self, session: SessionId, xml: &str, why: &str) -> Result<CommitInfo, Errors> {
        let mut w = self.writer();
        self.revert(&mut w, session, Arc::new(xml.to_string()), why)
    }

    /// A session ended or was killed: its locks go, a candidate it had
    /// locked is discarded, its non-persistent confirmed commit is reverted.
    pub fn session_ended(&self, session: SessionId) {
        let mut w = self.writer();
        let released = w.locks.release_session(session);
        if released.contains(&Lockable::Candidate) {
            self.reset_candidate(&mut w);
        }
        if let Some(rollback) = w.confirmed.session_ended(session) {
            let _ = self.revert(&mut w, 0, rollback, "session of a confirmed commit ended");
            self.confirm_event(ConfirmStep::Cancel, Some(session), None);
        }
    }

    fn resume_confirmed_commit(&self) -> Result<(), String> {
        let mut w = self.writer();
        let path = w.data_dir.join(CONFIRMED_FILE);
        let saved = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let saved: SavedConfirmed =
            serde_json::from_slice(&saved).map_err(|e| format!("{}: {e}", path.display()))?;
        match saved.persist {
            Some(persist) => {
                info!(persist = %persist, remaining_s = saved.remaining_ms / 1000, "persistent confirmed commit resumed");
                w.confirmed = ConfirmedCommit::restore(
                    Persisted {
                        persist,
                        remaining: Duration::from_millis(saved.remaining_ms),
                        rollback: Arc::new(saved.rollback),
                    },
                    Instant::now(),
                );
                Ok(())
            }
            None => self
                .revert(&mut w, 0, Arc::new(saved.rollback), "restart with a confirmed commit pending")
                .map(|_| ())
                .map_err(|e| errors_line(&e)),
        }
    }

    /// Keeps the pending confirmed commit (if any) in the data dir, so that
    /// a restart can revert or resume it.
    fn save_confirmed(&self, w: &Writer) -> Result<(), String> {
        let path = w.data_dir.join(CONFIRMED_FILE);
        let Some(pending) = w.confirmed.pending_state(Instant::now()) else {
            return match std::fs::remove_file(&path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.to_string()),
                _ => Ok(()),
            };
        };
        let saved = SavedConfirmed {
            persist: pending.persist,
            remaining_ms: pending.remaining.as_millis() as u64,
            rollback: pending.rollback.to_string(),
        };
        let bytes = serde_json::to_vec(&saved).map_err(|e| e.to_string())?;
        write_durably(&path, &bytes)
    }

    // ---- copy-config, delete-config, locks ----

    /// `<copy-config>` from a datastore to another (running, candidate,
    /// startup).
    pub fn copy_config(
        &self,
        session: SessionId,
        target: Datastore,
        source: Datastore,
    ) -> Result<CommitInfo, Errors> {
        if source == target {
            return Err(Errors::from(
                Error::invalid_value("source and target are the same datastore")
                    .with_type(ErrorType::Protocol),
            ));
        }
        let snap = match source {
            Datastore::Operational => None,
            s => self.snapshot(s),
        }
        .ok_or_else(missing_startup)?;
        let tree = snap.tree.duplicate().map_err(|e| op_failed(format!("copy: {e}")))?;
        self.copy_tree(session, target, tree)
    }

    /// `<copy-config>` of an inline `<config>` document.
    pub fn copy_config_inline(
        &self,
        session: SessionId,
        target: Datastore,
        xml: &str,
    ) -> Result<CommitInfo, Errors> {
        let tree = parse_config_doc(ctx(self.inner.schema), xml)?;
        self.copy_tree(session, target, tree)
    }

    fn copy_tree(
        &self,
        session: SessionId,
        target: Datastore,
        tree: DataTree<'static>,
    ) -> Result<CommitInfo, Errors> {
        let ctx = ctx(self.inner.schema);
        let mut w = self.writer();
        let lockable = target.lockable().ok_or_else(|| not_writable(target))?;
        w.locks.check_write(lockable, session)?;
        match target {
            Datastore::Running => {
                self.check_confirmed_owner(&w, session)?;
                self.transact(&mut w, session, Work::Replace(tree), TestOption::TestThenSet)
            }
            Datastore::Candidate => {
                self.check_replace(session, self.candidate().root(), &tree)?;
                self.set_candidate_tree(&mut w, tree);
                Ok(CommitInfo { txid: self.running().txid, changes: Arc::new(Vec::new()) })
            }
            Datastore::Startup if self.inner.options.startup => {
                let mut tree = tree;
                let old = self.snapshot(Datastore::Startup);
                self.check_replace(session, old.as_ref().map_or(std::ptr::null_mut(), |s| s.root()), &tree)?;
                validate_tree(ctx, &mut tree)?;
                self.write_startup(&w, session, Some(tree))?;
                Ok(CommitInfo { txid: self.running().txid, changes: Arc::new(Vec::new()) })
            }
            _ => Err(not_writable(target)),
        }
    }

    /// Asks the write guard about replacing the tree at `old` with `new`.
    fn check_replace(&self, session: SessionId, old: RawNode, new: &DataTree<'static>) -> Result<(), Errors> {
        let Some(g) = self.guard_of(session) else { return Ok(()) };
        // SAFETY: both trees are live and not modified meanwhile.
        let changes = unsafe { changes_between(old, new)? };
        g(new.raw(), &changes).map_err(|(_, e)| Errors::from(e))
    }

    /// Replaces (or with `None` deletes) startup; the change event lists
    /// no edits (the whole datastore was replaced).
    fn write_startup(
        &self,
        w: &Writer,
        session: SessionId,
        tree: Option<DataTree<'static>>,
    ) -> Result<(), Errors> {
        self.write_startup_tree(w, tree)?;
        self.publish_change(self.running().txid, Datastore::Startup, session, Arc::new(Vec::new()));
        Ok(())
    }

    fn write_startup_tree(&self, w: &Writer, tree: Option<DataTree<'static>>) -> Result<(), Errors> {
        let path = w.data_dir.join(STARTUP_FILE);
        match tree {
            Some(tree) => {
                // startup.xml, and beside it its exact form (XML, LYB and
                // fingerprint, as a journal snapshot) with a checksum.
                // SAFETY: our own tree, read only.
                let mut payload =
                    unsafe { delta::encode_snapshot(tree.raw(), self.inner.schema.fingerprint()) }
                        .map_err(|e| op_failed(format!("print startup ({e})")))?;
                match Delta::decode_snapshot(&payload).map(|r| r.delta) {
                    Ok(Decoded::All(f)) => write_durably(&path, f.xml.as_bytes()).map_err(op_failed)?,
                    _ => return Err(op_failed("print startup")),
                }
                payload.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
                write_durably(&w.data_dir.join(STARTUP_EXACT_FILE), &payload).map_err(op_failed)?;
                let old = write(&self.inner.startup).replace(Arc::new(Snapshot {
                    tree,
                    txid: self.running().txid,
                    time: SystemTime::now(),
                }));
                if let Some(old) = old {
                    self.free_later(old);
                }
            }
            None => {
                for path in [path, w.data_dir.join(STARTUP_EXACT_FILE)] {
                    match std::fs::remove_file(&path) {
                        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                            return Err(op_failed(e.to_string()))
                        }
                        _ => {}
                    }
                }
                if let Some(old) = write(&self.inner.startup).take() {
                    self.free_later(old);
                }
            }
        }
        Ok(())
    }

    /// `<delete-config>` (RFC 6241 §7.4): startup only (running cannot be
    /// deleted; RFC 8342 has no delete of candidate either).
    pub fn delete_config(&self, session: SessionId, target: Datastore) -> Result<(), Errors> {
        let w = self.writer();
        match target {
            Datastore::Startup if self.inner.options.startup => {
                w.locks.check_write(Lockable::Startup, session)?;
                self.write_startup(&w, session, None)
            }
            Datastore::Running => Err(Errors::from(
                Error::operation_failed("the running datastore cannot be deleted")
                    .with_type(ErrorType::Protocol),
            )),
            _ => Err(not_writable(target)),
        }
    }

    /// `<lock>` (RFC 6241 §7.5).
    pub fn lock(&self, session: SessionId, target: Datastore) -> Result<(), Errors> {
        let mut w = self.writer();
        let lockable = target.lockable().ok_or_else(|| not_writable(target))?;
        if lockable == Lockable::Startup && !self.inner.options.startup {
            return Err(not_writable(target));
        }
        let lctx = LockContext {
            candidate_modified: w.candidate.is_some(),
            confirmed_commit_by: w.confirmed.owner(),
        };
        w.locks.lock(lockable, session, lctx).map_err(Errors::from)
    }

    /// `<unlock>` (RFC 6241 §7.6).
    pub fn unlock(&self, session: SessionId, target: Datastore) -> Result<(), Errors> {
        let mut w = self.writer();
        let lockable = target.lockable().ok_or_else(|| not_writable(target))?;
        w.locks.unlock(lockable, session).map_err(Errors::from)
    }

    /// Who holds the lock of `target`.
    pub fn lock_holder(&self, target: Datastore) -> Option<SessionId> {
        target.lockable().and_then(|l| self.writer().locks.holder(l))
    }

    // ---- the transaction ----

    fn transact(
        &self,
        w: &mut Writer,
        session: SessionId,
        work: Work<'_>,
        test_option: TestOption,
    ) -> Result<CommitInfo, Errors> {
        let ctx = ctx(self.inner.schema);
        let published = self.running();
        let whole = matches!(work, Work::Replace(_));

        // 1. The edit. A failed single edit leaves the tree as it was (it
        // then stays as the next working tree).
        let (mut tree, applied) = match work {
            Work::Edits(edits) => {
                let mut tree = self.working_tree(w, &published)?;
                // A failed sequence leaves the tree as it was.
                let r = self.apply_work(session, &mut tree, edits).map_err(|(i, e)| {
                    w.failed_edit = Some(i);
                    (Errors::from(e), true)
                });
                (tree, r)
            }
            Work::Replace(new) => {
                // The whole content changes: the spare is of no use, and the
                // changes are the diff from the published tree.
                if let Some(spare) = w.spare.take() {
                    self.free_later(spare.snapshot);
                }
                // SAFETY: both trees are live and not modified meanwhile.
                let changes = unsafe { changes_between(published.root(), &new) }
                    .and_then(|c| match self.guard_of(session) {
                        Some(g) => g(new.raw(), &c).map(|()| c).map_err(|(_, e)| Errors::from(e)),
                        None => Ok(c),
                    })
                    .map_err(|e| (e, false));
                (new, changes)
            }
        };
        let changes = match applied {
            Ok(c) => c,
            Err((e, clean)) => {
                if clean {
                    self.keep_spare(w, tree, &published);
                } else {
                    self.free_later(tree);
                }
                let _ = ffi::take_errors(ctx);
                return Err(e);
            }
        };

        // An in-place edit that changed nothing (a PUT of what is there, a
        // merge of equal values) left the tree equal to the published one,
        // flags included: no validation, no new transaction.
        if changes.is_empty() && !whole {
            self.keep_spare(w, tree, &published);
            return Ok(CommitInfo { txid: published.txid, changes: Arc::new(changes) });
        }

        // 2. Validation: the incremental check of what the changes can
        // affect; libyang's full validation when it cannot decide.
        let mut bulk = false;
        let validated = match self.check_incremental(&mut w.keys, &mut tree, &changes, &published, whole) {
            Some(paths) => {
                w.stats.incremental += 1;
                if self.inner.options.verify_incremental {
                    self.verify(&mut w.stats, &mut tree, &changes).map(|()| paths)
                } else {
                    Ok(paths)
                }
            }
            // A commit that made most of the tree (a bulk load) is
            // journaled whole: listing what validation added would lead to
            // the same at a quarter more validation time.
            // SAFETY: both trees live and not modified meanwhile.
            None if unsafe { mostly_new(published.root(), tree.raw()) } => {
                bulk = true;
                validate_tree(ctx, &mut tree).map(|()| Vec::new())
            }
            None => validate_tree_listing(ctx, &mut tree),
        };
        let vpaths = match validated {
            Ok(paths) => paths,
            Err(e) => {
                self.free_later(tree);
                return Err(e);
            }
        };
        if test_option == TestOption::TestOnly {
            self.free_later(tree);
            return Ok(CommitInfo { txid: published.txid, changes: Arc::new(changes) });
        }

        let whole = whole || bulk;
        let txid = published.txid + 1;
        let changes = Arc::new(changes);
        let snapshot = Arc::new(Snapshot { tree, txid, time: SystemTime::now() });

        // 3. Validate hooks (they and the apply hooks see the same view).
        let hooks = read(&self.inner.hooks).clone();
        let view = Arc::new(CommitView {
            txid,
            datastore: Datastore::Running,
            session,
            changes: changes.clone(),
            config: snapshot.clone(),
        });
        if !hooks.is_empty() {
            for h in &hooks {
                let (h2, v2) = (h.clone(), view.clone());
                let r =
                    call_with_timeout(h.name(), self.inner.options.hook_timeout, move || h2.validate(&v2));
                let r = match r {
                    Ok(inner) => inner,
                    Err(e) => Err(Errors::from(e)),
                };
                if let Err(e) = r {
                    drop(view);
                    self.free_later(snapshot);
                    return Err(e);
                }
            }
        }

        // 4. Delta and journal.
        let paths = (!whole).then(|| {
            let mut paths = delta::change_paths(&changes);
            paths.extend(vpaths);
            paths
        });
        let delta = match &paths {
            None => Delta::All,
            // SAFETY: both trees live and not modified meanwhile.
            Some(paths) => unsafe { delta::compute(published.root(), snapshot.root(), paths) },
        };
        // SAFETY: the new tree is read only from here on.
        let payload = unsafe { delta::encode(&delta, snapshot.root(), self.inner.schema.fingerprint()) }
            .map_err(op_failed);
        let durable = payload.and_then(|p| w.journal.append(txid, &p).map_err(journal_error).map(|()| p));
        let payload = match durable {
            Ok(p) => p,
            Err(e) => {
                self.free_later(snapshot);
                return Err(e);
            }
        };

        // 5. Publish.
        // SAFETY: both trees live and read only.
        unsafe {
            let (old, new) = (ffi::first_sibling(published.root()), ffi::first_sibling(snapshot.root()));
            w.keys.update(&self.inner.deps, paths.as_deref(), old, new, published.txid, txid);
        }
        let old = std::mem::replace(&mut *write(&self.inner.running), snapshot.clone());
        w.spare = Some(Spare { snapshot: old, delta });
        self.publish_change(txid, Datastore::Running, session, changes.clone());

        // 6. Apply hooks (told, cannot veto).
        if !hooks.is_empty() {
            for h in hooks {
                let name = h.name().to_string();
                let v2 = view.clone();
                if let Err(e) =
                    call_with_timeout(&name, self.inner.options.hook_timeout, move || h.apply(&v2))
                {
                    warn!(hook = %name, error = %e, txid, "apply hook failed");
                }
            }
        }
        drop(view);
        drop(snapshot);

        // 7. Compaction. A record of the whole content (a bulk load, a
        // copy-config) is already the snapshot's payload: written again as
        // it is, not printed again.
        if w.journal.journal_len() > self.inner.options.compact_bytes {
            if whole {
                store_snapshot(w, txid, &payload);
            } else {
                self.compact(w);
            }
        }
        Ok(CommitInfo { txid, changes })
    }

    /// Writes running as the journal's snapshot.
    fn compact(&self, w: &mut Writer) {
        let running = self.running();
        // SAFETY: a published tree, read only.
        match unsafe { delta::encode_snapshot(running.root(), self.inner.schema.fingerprint()) } {
            Ok(payload) => store_snapshot(w, running.txid, &payload),
            Err(e) => warn!(error = %e, "journal compaction failed"),
        }
    }

    /// How commits got their working tree so far.
    pub fn stats(&self) -> Stats {
        let w = self.writer();
        Stats { keyed_lookups: w.keys.lookups, ..w.stats }
    }

    /// The incremental check of a commit (see [`incremental`]): the paths
    /// of the default nodes it added, or `None` to validate in full.
    fn check_incremental(
        &self,
        keys: &mut incremental::Index,
        tree: &mut DataTree<'static>,
        changes: &[Change],
        published: &Snapshot,
        whole: bool,
    ) -> Option<Vec<String>> {
        if whole || changes.is_empty() || changes.len() > delta::MAX_OPS {
            return None;
        }
        let new = tree.raw();
        if new.is_null() {
            return None;
        }
        // SAFETY: the working tree is ours alone; the published tree is
        // immutable; both belong to the context the index was built from.
        let r = unsafe {
            let old = ffi::first_sibling(published.root());
            incremental::Check::new(&self.inner.deps, ffi::first_sibling(new), old, keys, published.txid)
                .run(changes)
        };
        match r {
            Ok(paths) => Some(paths),
            Err(why) => {
                debug!(reason = %why, "full validation");
                None
            }
        }
    }

    /// `verify_incremental`: full validation after an accepted incremental
    /// check; a refusal or a change is a disagreement (logged, counted, and
    /// the commit refused).
    fn verify(
        &self,
        stats: &mut Stats,
        tree: &mut DataTree<'static>,
        changes: &[Change],
    ) -> Result<(), Errors> {
        let what = match validate_tree_listing(ctx(self.inner.schema), tree) {
            Ok(paths) if paths.is_empty() => return Ok(()),
            Ok(paths) => format!("full validation changed {paths:?}"),
            Err(e) => format!("full validation refused it: {}", errors_line(&e)),
        };
        stats.disagreements += 1;
        let paths: Vec<&str> = changes.iter().map(|c| c.path()).collect();
        error!(changes = ?paths, "incremental validation accepted a commit, but {what}");
        Err(op_failed(format!(
            "incremental validation disagreed with full validation: {what} (changes {paths:?})"
        )))
    }

    /// Whether running (and startup, when there is one) was rebuilt at start
    /// from its exact form (same module set, not validated again) rather
    /// than validated in full.
    pub fn recovered_exactly(&self) -> bool {
        self.inner.recovered_exactly
    }

    /// Forces a compaction now (tests, shutdown).
    pub fn compact_now(&self) {
        let mut w = self.writer();
        self.compact(&mut w);
    }

    /// The tree the next commit edits: the spare caught up, or a copy.
    fn working_tree(&self, w: &mut Writer, published: &Arc<Snapshot>) -> Result<DataTree<'static>, Errors> {
        let ctx = ctx(self.inner.schema);
        if let Some(spare) = w.spare.take() {
            match (Arc::try_unwrap(spare.snapshot), spare.delta) {
                (Ok(own), Delta::Ops(ops)) => {
                    let mut raw = RawTree { root: own.tree.into_raw() };
                    // SAFETY: `raw` is ours; `published` is immutable.
                    let r = unsafe { delta::apply_from_tree(&mut raw, published.root(), &ops) };
                    let tree = tree_of(ctx, raw.root);
                    match r {
                        Ok(()) => {
                            w.stats.caught_up += 1;
                            return Ok(tree);
                        }
                        Err(e) => {
                            warn!(error = %e, "spare tree could not be caught up; copying");
                            self.free_later(tree);
                        }
                    }
                }
                (Ok(own), Delta::All) => self.free_later(own),
                (Err(shared), _) => self.free_later(shared),
            }
        }
        w.stats.copied += 1;
        published.tree.duplicate().map_err(|e| op_failed(format!("copy: {e}")))
    }

    /// After a failed edit that left `tree` unchanged: keep it as a spare
    /// that is already caught up.
    fn keep_spare(&self, w: &mut Writer, tree: DataTree<'static>, published: &Arc<Snapshot>) {
        w.spare = Some(Spare {
            snapshot: Arc::new(Snapshot { tree, txid: published.txid, time: published.time }),
            delta: Delta::Ops(Vec::new()),
        });
    }

    fn free_later<T: Send + 'static>(&self, garbage: T) {
        if let Err(mpsc::SendError(g)) = self.inner.dropper.send(Box::new(garbage)) {
            drop(g);
        }
    }
}

enum Work<'a> {
    /// Edits applied in order (one edit, a YANG Patch, or the candidate's
    /// log replayed onto running).
    Edits(Edits<'a>),
    Replace(DataTree<'static>),
}

enum Edits<'a> {
    /// Edits kept after the transaction (the candidate's log).
    Kept(&'a [(DataTree<'static>, DefaultOperation)]),
    /// Edits dropped after it: created subtrees may be moved out of them.
    Consumed(&'a mut [(DataTree<'static>, DefaultOperation)]),
}

#[derive(Serialize, Deserialize)]
struct SavedConfirmed {
    persist: Option<String>,
    remaining_ms: u64,
    rollback: String,
}

fn confirmed_error(e: ConfirmedCommitError) -> Errors {
    let msg = e.to_string();
    let err = match e.error_tag() {
        "in-use" => Error::in_use(msg),
        "invalid-value" => Error::invalid_value(msg).with_type(ErrorType::Protocol),
        _ => Error::operation_failed(msg).with_type(ErrorType::Protocol),
    };
    Errors::from(err)
}

fn missing_startup() -> Errors {
    Errors::from(
        Error::new(ErrorType::Application, ErrorTag::InvalidValue)
            .with_message("the startup datastore does not exist"),
    )
}

fn not_writable(ds: Datastore) -> Errors {
    Errors::from(
        Error::invalid_value(format!("the {} datastore cannot be used here", ds.name()))
            .with_type(ErrorType::Protocol),
    )
}

fn errors_line(e: &Errors) -> String {
    e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("; ")
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

/// Full libyang validation of a config tree (defaults added, nodes with a
/// false `when` auto-deleted).
fn validate_tree(ctx: &'static Context, tree: &mut DataTree<'static>) -> Result<(), Errors> {
    validate(ctx, tree, false).map(drop)
}

/// [`validate_tree`], listing the data paths validation changed (default
/// nodes added, nodes auto-deleted), from libyang's diff (which costs a
/// quarter of a bulk load's validation: only where the paths are used).
fn validate_tree_listing(ctx: &'static Context, tree: &mut DataTree<'static>) -> Result<Vec<String>, Errors> {
    validate(ctx, tree, true)
}

fn validate(ctx: &'static Context, tree: &mut DataTree<'static>, list: bool) -> Result<Vec<String>, Errors> {
    let mut raw = RawTree { root: std::mem::replace(tree, DataTree::new(ctx)).into_raw() };
    let _ = ffi::take_errors(ctx);
    // SAFETY: our own tree; the diff is ours, read then freed.
    let (valid, paths) = unsafe {
        let (valid, diff) = ffi::validate_all(&mut raw.root, ctx, VALIDATE_FLAGS, list);
        let paths = delta::diff_paths(diff);
        ffi::free_siblings(diff);
        (valid, paths)
    };
    let records = ffi::take_errors(ctx);
    *tree = tree_of(ctx, raw.root);
    match valid {
        Ok(()) => Ok(paths),
        Err(_) => {
            let errs = Errors::from_libyang(&records, Stage::Validate);
            Err(if errs.has_errors() { errs } else { op_failed("validation failed") })
        }
    }
}

/// Makes `payload` (running's whole content at `txid`, as
/// [`delta::encode_snapshot`] gives it) the journal's snapshot.
fn store_snapshot(w: &mut Writer, txid: u64, payload: &[u8]) {
    match w.journal.snapshot(txid, payload) {
        Ok(()) => info!(txid, bytes = payload.len(), "journal compacted"),
        Err(e) => warn!(error = %e, "journal compaction failed"),
    }
}

/// Whether the tree of `new` has at least twice the nodes of the tree of
/// `old` (first top-level nodes, or NULL): a commit that made most of the
/// tree. Counts `old` only up to that point.
///
/// # Safety
/// Both trees live and not modified during the call.
unsafe fn mostly_new(old: RawNode, new: RawNode) -> bool {
    // SAFETY: contract.
    unsafe {
        let n = ffi::count_nodes(new, usize::MAX);
        ffi::count_nodes(old, n / 2 + 1) <= n / 2
    }
}

/// A `<config>` document (its content: top-level data nodes, XML).
fn parse_config_doc(ctx: &'static Context, xml: &str) -> Result<DataTree<'static>, Errors> {
    if xml.contains('\0') {
        return Err(Errors::from(Error::malformed_message("NUL character in the document")));
    }
    let _ = ffi::take_errors(ctx);
    match delta::parse_config(ctx, xml) {
        Ok(t) => Ok(t),
        Err(msg) => {
            let records = ffi::take_errors(ctx);
            let errs = Errors::from_libyang(&records, Stage::Parse);
            Err(if errs.has_errors() { errs } else { Errors::from(Error::invalid_value(msg)) })
        }
    }
}

/// Running's content as XML (explicit nodes), for the snapshot and the
/// confirmed-commit rollback point.
fn print_snapshot(s: &Snapshot) -> Result<String, Errors> {
    // SAFETY: a published tree, read only.
    unsafe { ffi::print_xml(s.root(), true) }.map_err(|e| op_failed(format!("print (libyang {e})")))
}

/// The running configuration from the journal's snapshot and records, and
/// whether it was rebuilt exactly from the LYB forms (same module set, not
/// validated again) rather than from XML and then validated in full.
fn recover(
    schema: &'static Schema,
    snapshot: Option<&(u64, Vec<u8>)>,
    records: &[(u64, Vec<u8>)],
    options: &Options,
) -> Result<(DataTree<'static>, bool), String> {
    let ctx = ctx(schema);
    let snapshot =
        snapshot.map(|(_, p)| Delta::decode_snapshot(p)).transpose().map_err(|e| format!("snapshot: {e}"))?;
    let records = records
        .iter()
        .map(|(txid, p)| {
            Delta::decode(p).map(|r| (*txid, r)).map_err(|e| format!("journal record {txid}: {e}"))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let fingerprint = schema.fingerprint();
    let older = snapshot.iter().chain(records.iter().map(|(_, r)| r)).find(|r| !r.exact_under(fingerprint));
    let why_not = match older {
        _ if options.revalidate_at_start => Some("full validation at start is asked for"),
        Some(r) if r.schema.is_none() => Some("the journal was written by an older occd"),
        Some(_) => Some("the module set changed since the journal was written"),
        None => None,
    };
    match why_not {
        None => {
            // Every commit was validated before it was journaled, under this
            // same module set, and the LYB keeps default nodes and libyang's
            // flags: the replay is the last committed tree as it was.
            let exact =
                exactly(ctx, options, "the journal", || replay(ctx, snapshot.as_ref(), &records, true));
            if let Some(tree) = exact {
                return tree.map(|t| (t, true));
            }
        }
        Some(why) => info!("validating the recovered configuration in full: {why}"),
    }
    let mut tree = replay(ctx, snapshot.as_ref(), &records, false)?;
    validate_tree(ctx, &mut tree)
        .map_err(|e| format!("the recovered running configuration is not valid: {}", errors_line(&e)))?;
    Ok((tree, false))
}

/// A tree rebuilt from its exact form (`build`), checked against a full
/// validation in verify mode; `None` (logged) when the exact form cannot
/// be read, for the caller to validate the XML form instead.
fn exactly(
    ctx: &'static Context,
    options: &Options,
    what: &str,
    build: impl FnOnce() -> Result<DataTree<'static>, String>,
) -> Option<Result<DataTree<'static>, String>> {
    match build() {
        Ok(tree) if options.verify_incremental => Some(verify_recovered(ctx, tree)),
        Ok(tree) => Some(Ok(tree)),
        Err(e) => {
            warn!(error = %e, "{what}'s exact form is unreadable: validating it in full");
            None
        }
    }
}

/// The startup datastore from `startup.xml`, and whether it came from its
/// exact form: `startup.exact` holds, with a checksum, the XML written
/// with it, its LYB and the module set's fingerprint; when the XML is the
/// file's (nobody edited it) and the fingerprint is this module set's, the
/// LYB is the tree as it was validated when written. Otherwise the XML is
/// validated in full.
fn read_startup(
    schema: &'static Schema,
    data_dir: &Path,
    options: &Options,
) -> Result<Option<(DataTree<'static>, bool)>, String> {
    let ctx = ctx(schema);
    let path = data_dir.join(STARTUP_FILE);
    let xml = match std::fs::read_to_string(&path) {
        Ok(xml) => xml,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let exact = std::fs::read(data_dir.join(STARTUP_EXACT_FILE)).unwrap_or_default();
    let exact_tree = exact.split_last_chunk::<4>().and_then(|(payload, crc)| {
        if crc32fast::hash(payload) != u32::from_le_bytes(*crc) || options.revalidate_at_start {
            return None;
        }
        let r = Delta::decode_snapshot(payload).ok()?;
        let Decoded::All(f) = &r.delta else { return None };
        if !r.exact_under(schema.fingerprint()) || f.xml != xml.as_str() {
            return None;
        }
        exactly(ctx, options, "startup.xml", || delta::parse_fragment(ctx, f, true))
    });
    if let Some(t) = exact_tree {
        return t.map(|t| Some((t, true))).map_err(|e| format!("{}: {e}", path.display()));
    }
    let mut t = delta::parse_config(ctx, &xml).map_err(|e| format!("{}: {e}", path.display()))?;
    validate_tree(ctx, &mut t).map_err(|e| format!("{}: {}", path.display(), errors_line(&e)))?;
    Ok(Some((t, false)))
}

/// The tree of the snapshot and records, from their LYB forms when
/// `exact` (not validated: see [`recover`]), else from their XML forms
/// (explicit nodes, to be validated).
fn replay(
    ctx: &'static Context,
    snapshot: Option<&Recorded<'_>>,
    records: &[(u64, Recorded<'_>)],
    exact: bool,
) -> Result<DataTree<'static>, String> {
    let mut tree = match snapshot.map(|r| &r.delta) {
        Some(Decoded::All(f)) => {
            delta::parse_fragment(ctx, f, exact).map_err(|e| format!("snapshot: {e}"))?
        }
        _ => {
            // The first state: empty, with its default nodes.
            let mut empty = DataTree::new(ctx);
            if exact {
                validate_tree(ctx, &mut empty)
                    .map_err(|e| format!("the empty configuration: {}", errors_line(&e)))?;
            }
            empty
        }
    };
    for (txid, record) in records {
        tree = replay_record(ctx, tree, &record.delta, exact)
            .map_err(|e| format!("journal record {txid}: {e}"))?;
    }
    Ok(tree)
}

fn replay_record(
    ctx: &'static Context,
    tree: DataTree<'static>,
    record: &Decoded<'_>,
    exact: bool,
) -> Result<DataTree<'static>, String> {
    match record {
        Decoded::All(f) => delta::parse_fragment(ctx, f, exact),
        Decoded::Ops(ops) => {
            let mut raw = RawTree { root: tree.into_raw() };
            // SAFETY: our own tree.
            let r = unsafe { delta::apply_from_journal(ctx, &mut raw, ops, exact) };
            let tree = tree_of(ctx, raw.root);
            r.map(|()| tree)
        }
    }
}

/// Checks an exactly recovered tree against libyang's full validation of
/// a copy: valid, nothing added or removed, the same default and `when`
/// flags (`verify_incremental`).
fn verify_recovered(ctx: &'static Context, tree: DataTree<'static>) -> Result<DataTree<'static>, String> {
    let mut copy = tree.duplicate().map_err(|e| format!("copy: {e}"))?;
    let changed = validate_tree_listing(ctx, &mut copy)
        .map_err(|e| format!("the exactly recovered configuration is not valid: {}", errors_line(&e)))?;
    if !changed.is_empty() {
        return Err(format!("full validation changed the exactly recovered configuration: {changed:?}"));
    }
    // SAFETY: both trees live and ours.
    if let Some(d) = unsafe { delta::first_difference(tree.raw(), copy.raw()) } {
        return Err(format!("the exactly recovered configuration differs from its validated copy at {d}"));
    }
    Ok(tree)
}

/// Writes a file atomically and durably (temp file, fsync, rename, fsync
/// of the directory).
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let tmp = path.with_extension("tmp");
    let r = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        if let Some(dir) = path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok::<(), std::io::Error>(())
    })();
    r.map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `f` on its own thread and waits at most `timeout` for it.
fn call_with_timeout<T: Send + 'static>(
    name: &str,
    timeout: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Error> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name(format!("occd-hook {name}"))
        .spawn(move || {
            let _ = tx.send(f());
        })
        .map_err(|e| Error::operation_failed(format!("cannot run hook {name}: {e}")))?;
    match rx.recv_timeout(timeout) {
        Ok(v) => Ok(v),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(Error::operation_failed(format!("{name} did not answer within {} ms", timeout.as_millis())))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(Error::operation_failed(format!("{name} failed (panic)")))
        }
    }
}

/// The changes a libyang diff to the tree of `new` describes; a moved
/// user-ordered entry gets its position in `new`.
///
/// # Safety
/// `diff` is NULL or a live diff tree; `new` is a live tree.
unsafe fn diff_changes(diff: RawNode, new: RawNode) -> Vec<Change> {
    let mut out = Vec::new();
    // SAFETY: contract.
    unsafe {
        delta::walk_diff(diff, |node, op| {
            let meta = ffi::node_metadata(node);
            let get = |name: &str| {
                meta.iter().find(|(m, n, _)| m == "yang" && n == name).map(|(_, _, v)| v.clone())
            };
            let path = ffi::node_path(node, false);
            let placed = || ffi::find_path(new, &path).and_then(|n| edit::position_of(n));
            out.push(match op {
                "create" => {
                    Change::Created { path: path.clone(), value: ffi::node_value(node), position: placed() }
                }
                "delete" => Change::Deleted { path, value: ffi::node_value(node) },
                _ => match (get("orig-value"), ffi::node_value(node)) {
                    (Some(old), Some(new)) if get("key").is_none() && get("value").is_none() => {
                        Change::Modified { path, old, new }
                    }
                    _ => match placed() {
                        Some(position) => Change::Moved { path, position },
                        None => Change::Moved { path, position: edit::Position::First },
                    },
                },
            });
        });
    }
    out
}
