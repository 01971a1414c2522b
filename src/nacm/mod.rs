//! Access control: NACM (RFC 8341), configured through the datastore
//! (`/ietf-netconf-acm:nacm` in running) and enforced the same way for
//! NETCONF, RESTCONF and notifications.
//!
//! A [`Subject`] is what one user may do under the policy of one running
//! transaction: the rules of the user's groups in order, the defaults, and
//! memoised decisions per schema node. Rules without key predicates decide
//! per schema node, so a read of 10k list entries asks once per schema node,
//! not once per entry; a subtree whose every schema node is permitted is not
//! walked at all. Rules with key predicates are decided per instance.
//!
//! The recovery user (config `nacm.recovery-user`, default `admin`) and
//! every user while `enable-nacm` is false are unrestricted (RFC 8341
//! §3.4: the recovery session bypasses access control).

pub mod rules;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use yang3::context::Context;

use crate::datastore::edit::Change;
use crate::datastore::{Datastores, Principal};
use crate::error::Error;
use crate::schema::ffi::{self, RawNode, RawSchema};

use rules::{path_covers, Kind};
pub use rules::{Op, Policy, Rule, Step};

pub const NACM_MODULE: &str = "ietf-netconf-acm";

/// The `denied-*` counters of `/nacm` (RFC 8341 §3.2), since start.
#[derive(Debug, Default)]
pub struct Counters {
    pub denied_operations: AtomicU64,
    pub denied_data_writes: AtomicU64,
    pub denied_notifications: AtomicU64,
}

/// What does not come from the datastore.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Bypasses access control (RFC 8341 §3.4 recovery session).
    pub recovery_user: Option<String>,
    /// Groups of users from the server's config (external groups, used when
    /// `enable-external-groups` is true).
    pub user_groups: HashMap<String, Vec<String>>,
    /// No access control at all (library use and tests of other layers).
    pub off: bool,
}

struct Shared {
    counters: Counters,
    /// Schema node → (default-deny-all, default-deny-write), own or inherited.
    marks: Mutex<HashMap<usize, (bool, bool)>>,
}

/// The policy of the last running transaction looked at, and the subjects
/// made under it.
#[derive(Default)]
struct Cache {
    txid: Option<u64>,
    policy: Arc<Policy>,
    subjects: HashMap<String, Arc<Subject>>,
}

/// Access control for a set of datastores.
pub struct Nacm {
    ds: Datastores,
    settings: Settings,
    shared: Arc<Shared>,
    cache: Mutex<Cache>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Nacm {
    pub fn new(ds: Datastores, settings: Settings) -> Arc<Nacm> {
        let shared = Arc::new(Shared { counters: Counters::default(), marks: Mutex::new(HashMap::new()) });
        Arc::new(Nacm { ds, settings, shared, cache: Mutex::new(Cache::default()) })
    }

    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    pub fn is_off(&self) -> bool {
        self.settings.off
    }

    /// The cache, brought up to the current running transaction (held
    /// while a subject is looked up or made, so that a subject is always
    /// kept under the policy it was made from).
    fn current(&self) -> std::sync::MutexGuard<'_, Cache> {
        let running = self.ds.running();
        let mut c = lock(&self.cache);
        if c.txid == Some(running.txid()) {
            return c;
        }
        // SAFETY: the snapshot is immutable and held while read.
        let policy = unsafe {
            let nacm =
                ffi::find_path(running.root(), "/ietf-netconf-acm:nacm").unwrap_or(std::ptr::null_mut());
            Policy::from_node(nacm)
        };
        // A transaction that did not touch /nacm keeps the subjects (and
        // their memoised decisions).
        if *c.policy != policy {
            c.policy = Arc::new(policy);
            c.subjects.clear();
        }
        c.txid = Some(running.txid());
        c
    }

    /// What `user` may do now.
    pub fn subject(&self, user: &str) -> Arc<Subject> {
        let mut c = self.current();
        if let Some(s) = c.subjects.get(user) {
            return s.clone();
        }
        let policy = c.policy.clone();
        let bypass =
            self.settings.off || !policy.enabled || self.settings.recovery_user.as_deref() == Some(user);
        let external = self.settings.user_groups.get(user).map(Vec::as_slice).unwrap_or(&[]);
        let groups = policy.groups_of(user, external);
        let rules = if bypass { Vec::new() } else { policy.rules_for(&groups) };
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (bypass, &rules, policy.read_permit, policy.write_permit, policy.exec_permit).hash(&mut h);
        let subject = Arc::new(Subject {
            user: user.to_string(),
            groups,
            bypass,
            rules,
            read_permit: policy.read_permit,
            write_permit: policy.write_permit,
            exec_permit: policy.exec_permit,
            fingerprint: h.finish(),
            shared: self.shared.clone(),
            memo: Mutex::new(HashMap::new()),
            uniform: Mutex::new(HashMap::new()),
        });
        c.subjects.insert(user.to_string(), subject.clone());
        subject
    }

    /// The subject of a datastore principal; `None` (the server itself) is
    /// unrestricted.
    pub fn subject_of(&self, who: Option<&Principal>) -> Option<Arc<Subject>> {
        who.map(|p| self.subject(&p.user))
    }
}

/// A decision that may depend on list keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Permit,
    Deny,
    /// A rule with key predicates decides: ask per instance.
    Dynamic,
}

fn decision(permit: bool) -> Decision {
    if permit {
        Decision::Permit
    } else {
        Decision::Deny
    }
}

/// What one user may do under one policy.
pub struct Subject {
    pub user: String,
    pub groups: Vec<String>,
    bypass: bool,
    rules: Vec<Rule>,
    read_permit: bool,
    write_permit: bool,
    exec_permit: bool,
    fingerprint: u64,
    shared: Arc<Shared>,
    memo: Mutex<HashMap<(usize, u8), Decision>>,
    uniform: Mutex<HashMap<(usize, u8), bool>>,
}

/// The schema steps of a data node kind (choice and case left out).
unsafe fn schema_steps(mut s: RawSchema) -> Vec<Step> {
    let mut out = Vec::new();
    // SAFETY: contract of the callers: a live compiled schema node.
    unsafe {
        while !s.is_null() {
            let (kind, _) = ffi::schema_kind(s);
            if kind & (ffi::LYS_CHOICE | ffi::LYS_CASE) == 0 {
                out.push(Step {
                    module: ffi::schema_module_name(s),
                    name: ffi::schema_name(s),
                    keys: Vec::new(),
                });
            }
            s = ffi::schema_parent(s);
        }
    }
    out.reverse();
    out
}

/// The steps of a data node with its key values (and a leaf-list entry's
/// value as `.`).
unsafe fn node_steps(mut n: RawNode) -> Vec<Step> {
    let mut out = Vec::new();
    // SAFETY: contract of the callers: a live data node.
    unsafe {
        while !n.is_null() {
            let s = ffi::node_schema(n);
            if s.is_null() {
                break;
            }
            let (kind, _) = ffi::schema_kind(s);
            let mut keys = Vec::new();
            if kind == ffi::LYS_LIST {
                for c in ffi::children(n) {
                    let cs = ffi::node_schema(c);
                    if !cs.is_null() && ffi::schema_kind(cs).1 & ffi::LYS_KEY != 0 {
                        keys.push((ffi::schema_name(cs), ffi::node_value(c).unwrap_or_default()));
                    }
                }
            } else if kind == ffi::LYS_LEAFLIST {
                keys.push((".".to_string(), ffi::node_value(n).unwrap_or_default()));
            }
            out.push(Step { module: ffi::schema_module_name(s), name: ffi::schema_name(s), keys });
            n = ffi::node_parent(n);
        }
    }
    out.reverse();
    out
}

/// The error of a denied request (RFC 8341 §3.4.4/§3.4.5: access-denied).
pub fn denied(path: &str, what: &str) -> Error {
    let e = Error::access_denied(path);
    e.with_message(format!("access denied: {what}"))
}

impl Subject {
    /// Whether access control restricts this user at all.
    pub fn unrestricted(&self) -> bool {
        self.bypass
    }

    /// Identifies what this subject may read (for validators: two users
    /// with different views must not share an ETag).
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    pub fn counters(&self) -> &Counters {
        &self.shared.counters
    }

    fn default_for(&self, op: Op) -> bool {
        match op {
            Op::Read => self.read_permit,
            Op::Exec => self.exec_permit,
            _ => self.write_permit,
        }
    }

    /// (default-deny-all, default-deny-write) of `s` or an ancestor.
    unsafe fn marks(&self, s: RawSchema) -> (bool, bool) {
        if s.is_null() {
            return (false, false);
        }
        if let Some(m) = lock(&self.shared.marks).get(&(s as usize)) {
            return *m;
        }
        // SAFETY: contract.
        let (mut all, mut write) = unsafe { self.marks(ffi::schema_parent(s)) };
        // SAFETY: contract.
        for (module, name) in unsafe { ffi::schema_extensions(s) } {
            if module == NACM_MODULE {
                all |= name == "default-deny-all";
                write |= name == "default-deny-write";
            }
        }
        lock(&self.shared.marks).insert(s as usize, (all, write));
        (all, write)
    }

    unsafe fn fallback(&self, s: RawSchema, op: Op) -> bool {
        // SAFETY: contract.
        let (all, write) = unsafe { self.marks(s) };
        if all || (write && op.is_write()) {
            return false;
        }
        self.default_for(op)
    }

    /// The decision of the first matching rule for a data node with
    /// `steps` (RFC 8341 §3.4.5), else `fallback`'s. Without key values
    /// (`keyed` false) a rule with key predicates may or may not match an
    /// instance: the outcome is fixed anyway when every way it can go ends
    /// the same (a permit of one entry where the default permits too), else
    /// it is `Dynamic`.
    fn data_decision(
        &self,
        steps: &[Step],
        op: Op,
        keyed: bool,
        fallback: impl FnOnce() -> bool,
    ) -> Decision {
        let module = steps.last().map_or("", |l| l.module.as_str());
        let mut undecided = Vec::new();
        let mut settled = None;
        for r in &self.rules {
            if !r.applies(op, module) {
                continue;
            }
            let covers = match &r.kind {
                Kind::Any => Some(true),
                Kind::Data(Some(p)) => path_covers(p, steps, keyed),
                _ => Some(false),
            };
            match covers {
                Some(true) => {
                    settled = Some(r.permit);
                    break;
                }
                Some(false) => {}
                None => undecided.push(r.permit),
            }
        }
        let last = settled.unwrap_or_else(fallback);
        if undecided.iter().all(|o| *o == last) {
            decision(last)
        } else {
            Decision::Dynamic
        }
    }

    /// The decision for every instance of schema node `s`, if one holds.
    unsafe fn static_decision(&self, s: RawSchema, op: Op) -> Decision {
        if let Some(d) = lock(&self.memo).get(&(s as usize, op.bit())) {
            return *d;
        }
        // SAFETY: contract.
        let steps = unsafe { schema_steps(s) };
        // SAFETY: contract.
        let d = self.data_decision(&steps, op, false, || unsafe { self.fallback(s, op) });
        lock(&self.memo).insert((s as usize, op.bit()), d);
        d
    }

    /// Whether the user may do `op` on data node `n`.
    ///
    /// # Safety
    /// `n` is a live node of a tree nobody modifies meanwhile.
    pub unsafe fn may_node(&self, n: RawNode, op: Op) -> bool {
        // SAFETY: contract.
        unsafe { self.may_node_under(n, op, &[]) }
    }

    /// [`Subject::may_node`] for a node whose tree lacks its ancestors (a
    /// copy): `above` are the steps of the ancestors it had.
    unsafe fn may_node_under(&self, n: RawNode, op: Op, above: &[Step]) -> bool {
        if self.bypass {
            return true;
        }
        // SAFETY: contract.
        unsafe {
            let s = ffi::node_schema(n);
            if s.is_null() {
                return true;
            }
            match self.static_decision(s, op) {
                Decision::Permit => true,
                Decision::Deny => false,
                Decision::Dynamic => {
                    let steps = [above, &node_steps(n)].concat();
                    self.data_decision(&steps, op, true, || self.fallback(s, op)) == Decision::Permit
                }
            }
        }
    }

    /// Whether `op` is permitted on `s` and on every schema node below it
    /// for every instance (a subtree that need not be walked).
    unsafe fn uniform(&self, s: RawSchema, op: Op) -> bool {
        if let Some(u) = lock(&self.uniform).get(&(s as usize, op.bit())) {
            return *u;
        }
        // SAFETY: contract.
        let u = unsafe {
            let (kind, _) = ffi::schema_kind(s);
            let own = kind & (ffi::LYS_CHOICE | ffi::LYS_CASE) != 0
                || self.static_decision(s, op) == Decision::Permit;
            own && ffi::schema_children(s).into_iter().all(|c| self.uniform(c, op))
        };
        lock(&self.uniform).insert((s as usize, op.bit()), u);
        u
    }

    /// Whether a protocol operation (RPC) may be invoked (RFC 8341 §3.4.4).
    /// `schema`: the RPC's schema node, for its default-deny extensions.
    pub fn may_exec(&self, module: &str, rpc: &str, schema: Option<RawSchema>) -> bool {
        if self.bypass || (module == "ietf-netconf" && rpc == "close-session") {
            return true;
        }
        for r in &self.rules {
            if !r.applies(Op::Exec, module) {
                continue;
            }
            match &r.kind {
                Kind::Any => return r.permit,
                Kind::Rpc(name) if name.as_deref().is_none_or(|n| n == rpc) => return r.permit,
                _ => {}
            }
        }
        // RFC 8341 §3.2.? and §4: kill-session and delete-config are
        // denied by default (default-deny-all in the NACM text).
        if module == "ietf-netconf" && matches!(rpc, "kill-session" | "delete-config") {
            return false;
        }
        match schema {
            // SAFETY: a schema node of the live context.
            Some(s) if !s.is_null() => unsafe { self.fallback(s, Op::Exec) },
            _ => self.exec_permit,
        }
    }

    /// Whether an action on data node `n` (the action's node in an
    /// instance tree) may be invoked: exec on the action node, data rules
    /// matching by path (RFC 8341 §3.4.4).
    ///
    /// # Safety
    /// `n` is a live node of a tree nobody modifies meanwhile.
    pub unsafe fn may_action(&self, n: RawNode) -> bool {
        // SAFETY: contract.
        unsafe { self.may_node(n, Op::Exec) }
    }

    /// Whether a notification may be delivered (RFC 8341 §3.4.6): read
    /// access through notification-name rules, data rules naming it (a
    /// nested notification) or module rules.
    pub fn may_receive(
        &self,
        module: &str,
        name: &str,
        nested: Option<&[Step]>,
        schema: Option<RawSchema>,
    ) -> bool {
        if self.bypass {
            return true;
        }
        for r in &self.rules {
            if !r.applies(Op::Read, module) {
                continue;
            }
            match &r.kind {
                Kind::Any => return r.permit,
                Kind::Notification(n) if n.as_deref().is_none_or(|n| n == name) => return r.permit,
                Kind::Data(Some(p)) => {
                    if let Some(steps) = nested {
                        if path_covers(p, steps, true) == Some(true) {
                            return r.permit;
                        }
                    } else if p.len() == 1 && p[0].module == module && p[0].name == name {
                        return r.permit;
                    }
                }
                _ => {}
            }
        }
        match schema {
            // SAFETY: a schema node of the live context.
            Some(s) if !s.is_null() => unsafe { self.fallback(s, Op::Read) },
            _ => self.read_permit,
        }
    }

    /// Whether a read of the tree starting at `first` (top-level siblings)
    /// may show all of it: nothing to prune.
    ///
    /// # Safety
    /// `first` is NULL or a live top-level node of a tree nobody modifies.
    pub unsafe fn reads_all(&self, first: RawNode) -> bool {
        if self.bypass {
            return true;
        }
        // SAFETY: contract.
        unsafe { ffi::siblings(first).into_iter().all(|n| self.whole_readable(n)) }
    }

    /// Whether every node of the subtree of `n` (a node of kind with
    /// per-schema decisions) is readable: nothing to prune below it.
    ///
    /// # Safety
    /// `n` is a live node.
    pub unsafe fn whole_readable(&self, n: RawNode) -> bool {
        if self.bypass {
            return true;
        }
        // SAFETY: contract of the callers.
        unsafe {
            let s = ffi::node_schema(n);
            s.is_null() || self.uniform(s, Op::Read)
        }
    }

    /// Removes from the tree at `first` (top-level siblings; the caller
    /// owns it) every node this user may not read, with its descendants
    /// (RFC 8341 §3.4.5: silently omitted). Returns the new first node
    /// (NULL when nothing is left).
    ///
    /// # Safety
    /// The tree is the caller's own, used by no one else.
    pub unsafe fn prune(&self, first: RawNode) -> RawNode {
        // SAFETY: contract.
        unsafe { self.prune_under(first, &[]) }
    }

    /// The steps of `n`'s ancestors (for [`Subject::prune_under`] of a copy
    /// of `n`).
    ///
    /// # Safety
    /// `n` is a live node of a tree nobody modifies meanwhile.
    pub unsafe fn ancestors(n: RawNode) -> Vec<Step> {
        // SAFETY: contract.
        unsafe { node_steps(ffi::node_parent(n)) }
    }

    /// [`Subject::prune`] of a tree copied from below ancestors `above`.
    ///
    /// # Safety
    /// As [`Subject::prune`].
    pub unsafe fn prune_under(&self, first: RawNode, above: &[Step]) -> RawNode {
        if self.bypass || first.is_null() {
            return first;
        }
        // SAFETY: contract.
        unsafe { self.prune_nodes(ffi::siblings(first), above) }
    }

    /// Prunes each of `nodes` (siblings) and frees the unreadable ones;
    /// returns the first one kept (or NULL).
    unsafe fn prune_nodes(&self, nodes: Vec<RawNode>, above: &[Step]) -> RawNode {
        let mut kept: RawNode = std::ptr::null_mut();
        // SAFETY: contract of `prune`; a node is freed only after its walk.
        unsafe {
            for n in nodes {
                if self.prune_node(n, above) {
                    if kept.is_null() {
                        kept = n;
                    }
                } else {
                    let _ = ffi::unlink(n);
                    ffi::free_tree(n);
                }
            }
        }
        kept
    }

    unsafe fn prune_node(&self, n: RawNode, above: &[Step]) -> bool {
        // SAFETY: contract of `prune`.
        unsafe {
            let s = ffi::node_schema(n);
            if s.is_null() {
                return true;
            }
            if ffi::schema_kind(s).1 & ffi::LYS_KEY != 0 {
                return true;
            }
            if !self.may_node_under(n, Op::Read, above) {
                return false;
            }
            if self.uniform(s, Op::Read) {
                return true;
            }
            self.prune_nodes(ffi::children(n), above);
            true
        }
    }

    /// When every top-level subtree at `first` is either wholly readable or
    /// not readable at all: the readable ones (printed in place, no copy).
    /// `None` when some subtree must be pruned inside.
    ///
    /// # Safety
    /// `first` is NULL or a live top-level node of a tree nobody modifies.
    pub unsafe fn readable_parts(&self, first: RawNode) -> Option<Vec<RawNode>> {
        let mut out = Vec::new();
        // SAFETY: contract.
        unsafe {
            for n in ffi::siblings(first) {
                if !self.may_node(n, Op::Read) {
                    continue;
                }
                if !self.whole_readable(n) {
                    return None;
                }
                out.push(n);
            }
        }
        Some(out)
    }

    /// A copy of what this user may read of the tree at `first` (only the
    /// readable top-level subtrees are copied, then pruned inside).
    ///
    /// # Safety
    /// `first` is NULL or a live top-level node of a tree nobody modifies.
    pub unsafe fn readable_copy(&self, first: RawNode) -> Result<RawNode, u32> {
        let mut out: RawNode = std::ptr::null_mut();
        // SAFETY: contract; copies are ours.
        unsafe {
            for n in ffi::siblings(first) {
                if !self.may_node(n, Op::Read) {
                    continue;
                }
                let mut c = ffi::dup_exact(n)?;
                if !self.whole_readable(n) {
                    c = self.prune(c);
                    if c.is_null() {
                        continue;
                    }
                }
                if out.is_null() {
                    out = c;
                } else {
                    ffi::insert_sibling(out, c)?;
                }
            }
        }
        Ok(out)
    }

    /// Checks that this user may make `changes` (RFC 8341 §3.4.5): create
    /// for every node an edit created, update for changed values and moved
    /// entries, delete for deleted nodes. `root` is the tree after the
    /// changes. On a denial: the index of the change and the error
    /// (counted in denied-data-writes).
    ///
    /// # Safety
    /// `root` is NULL or a live node of a tree nobody else uses meanwhile.
    pub unsafe fn check_writes(
        &self,
        ctx: &Context,
        root: RawNode,
        changes: &[Change],
    ) -> Result<(), (usize, Error)> {
        if self.bypass {
            return Ok(());
        }
        for (i, c) in changes.iter().enumerate() {
            // SAFETY: contract.
            let denied_path = unsafe {
                match c {
                    Change::Created { path, .. } => match ffi::find_path(root, path) {
                        Some(n) => self.denied_create(n),
                        None => None,
                    },
                    Change::Modified { path, .. } | Change::Moved { path, .. } => {
                        match ffi::find_path(root, path) {
                            Some(n) if !self.may_node(n, Op::Update) => Some(path.clone()),
                            _ => None,
                        }
                    }
                    Change::Deleted { path, .. } => (!self.may_delete(ctx, path)).then(|| path.clone()),
                }
            };
            if let Some(p) = denied_path {
                self.shared.counters.denied_data_writes.fetch_add(1, Ordering::Relaxed);
                let what = match c {
                    Change::Created { .. } => "create",
                    Change::Deleted { .. } => "delete",
                    _ => "update",
                };
                return Err((i, denied(&p, &format!("{} may not {what} {p}", self.user))));
            }
        }
        Ok(())
    }

    /// The first node of a created subtree the user may not create.
    unsafe fn denied_create(&self, n: RawNode) -> Option<String> {
        // SAFETY: contract of `check_writes`.
        unsafe {
            let s = ffi::node_schema(n);
            if s.is_null() || ffi::node_flags(n) & ffi::LYD_DEFAULT != 0 {
                return None;
            }
            if !self.may_node(n, Op::Create) {
                return Some(ffi::node_path(n, false));
            }
            if self.uniform(s, Op::Create) {
                return None;
            }
            ffi::children(n).into_iter().find_map(|c| self.denied_create(c))
        }
    }

    /// Whether the node at data path `path` may be deleted.
    fn may_delete(&self, ctx: &Context, path: &str) -> bool {
        let Some(steps) = rules::parse_path(path) else { return false };
        let schema_path: String = steps.iter().map(|s| format!("/{}:{}", s.module, s.name)).collect();
        let schema = ctx.find_path(&schema_path).ok().map(|n| n.as_raw() as RawSchema);
        let fallback = || match schema {
            // SAFETY: a schema node of the live context.
            Some(s) => unsafe { self.fallback(s, Op::Delete) },
            None => self.write_permit,
        };
        self.data_decision(&steps, Op::Delete, true, fallback) == Decision::Permit
    }

    /// The access-denied error of an operation this user may not invoke
    /// (RFC 8341 §3.4.4: error-type protocol, the operation's path),
    /// counted in denied-operations.
    pub fn refuse_operation(&self, path: &str, name: &str) -> Error {
        self.shared.counters.denied_operations.fetch_add(1, Ordering::Relaxed);
        denied(path, &format!("{} may not invoke {name}", self.user))
            .with_type(crate::error::ErrorType::Protocol)
    }

    /// Counts an undelivered notification.
    pub fn count_denied_notification(&self) {
        self.shared.counters.denied_notifications.fetch_add(1, Ordering::Relaxed);
    }
}

impl crate::datastore::WriteGuard for Nacm {
    unsafe fn check(
        &self,
        who: Option<&Principal>,
        root: RawNode,
        changes: &[Change],
    ) -> crate::datastore::edit::Verdict {
        let Some(subject) = self.subject_of(who) else { return Ok(()) };
        // SAFETY: contract of the trait.
        unsafe { subject.check_writes(self.ds.schema().context(), root, changes) }
    }
}

/// The `denied-*` counters as state data of `/nacm` (RFC 8341 §3.2).
pub struct CountersProvider {
    nacm: Arc<Nacm>,
}

impl CountersProvider {
    pub fn new(nacm: Arc<Nacm>) -> CountersProvider {
        CountersProvider { nacm }
    }
}

impl crate::datastore::StateProvider for CountersProvider {
    fn name(&self) -> &str {
        NACM_MODULE
    }

    fn state(&self, ctx: &'static Context) -> Result<Option<yang3::data::DataTree<'static>>, Error> {
        if ctx.get_module_implemented(NACM_MODULE).is_none() {
            return Ok(None);
        }
        let c = self.nacm.counters();
        let xml = format!(
            "<nacm xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-acm\">\
             <denied-operations>{}</denied-operations><denied-data-writes>{}</denied-data-writes>\
             <denied-notifications>{}</denied-notifications></nacm>",
            c.denied_operations.load(Ordering::Relaxed),
            c.denied_data_writes.load(Ordering::Relaxed),
            c.denied_notifications.load(Ordering::Relaxed),
        );
        crate::netconf::monitoring::state_tree(ctx, &xml, "nacm counters").map(Some)
    }
}

impl Nacm {
    /// The gate of a subscription of `user` (RFC 8341 §3.4.6): an event
    /// the user may not read is not delivered and counted in
    /// denied-notifications. The policy in force when each event is
    /// delivered applies. `None` when access control is off.
    pub fn notification_gate(self: &Arc<Self>, user: &str) -> Option<crate::notify::subscription::Gate> {
        if self.is_off() {
            return None;
        }
        let nacm = self.clone();
        let user = user.to_string();
        Some(Arc::new(move |ev: &crate::notify::Event| {
            let subject = nacm.subject(&user);
            if subject.unrestricted() || nacm.event_allowed(&subject, ev) {
                return true;
            }
            subject.count_denied_notification();
            false
        }))
    }

    fn event_allowed(&self, subject: &Subject, ev: &crate::notify::Event) -> bool {
        let schema = self.ds.schema();
        let ctx = schema.context();
        let module = &*ev.stream;
        let top = top_element(&ev.xml);
        let found = ctx.find_path(&format!("/{module}:{top}")).ok().map(|n| n.as_raw() as RawSchema);
        let _ = ffi::take_errors(ctx);
        // SAFETY: schema nodes of the live context; the parsed tree is ours
        // and outlives the nodes read from it.
        unsafe {
            if found.is_some_and(|s| ffi::schema_kind(s).0 != ffi::LYS_NOTIF) {
                // A notification inside a data node: found in the content,
                // matched by its module, name and path.
                let tree = crate::notify::parse_content(schema, &ev.xml).ok();
                let root =
                    tree.as_ref().and_then(|t| t.reference()).map_or(std::ptr::null_mut(), |r| r.as_raw());
                if let Some(n) = ffi::operation_node(root, ffi::LYS_NOTIF) {
                    let s = ffi::node_schema(n);
                    let steps = node_steps(n);
                    return subject.may_receive(
                        &ffi::schema_module_name(s),
                        &ffi::schema_name(s),
                        Some(&steps),
                        Some(s),
                    );
                }
                return subject.may_receive(module, top, None, None);
            }
            subject.may_receive(module, top, None, found)
        }
    }
}

/// The local name of the first element of an XML fragment.
fn top_element(xml: &str) -> &str {
    let start = xml.find('<').map_or(0, |i| i + 1);
    let rest = &xml[start..];
    let end = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(rest.len());
    let name = &rest[..end];
    name.split_once(':').map_or(name, |(_, n)| n)
}

/// The rules installed on first start (see [`install_default_rules`]).
pub const DEFAULT_RULES: &str = include_str!("default-rules.xml");

/// On first start (running never committed, no `/nacm`), installs
/// [`DEFAULT_RULES`] in running as the server itself.
pub fn install_default_rules(ds: &Datastores) -> Result<(), String> {
    let running = ds.running();
    // SAFETY: the snapshot is held while read.
    // (An implicit /nacm of defaults, which libyang adds, does not count.)
    let has_nacm = unsafe {
        ffi::find_path(running.root(), "/ietf-netconf-acm:nacm")
            .is_some_and(|n| ffi::node_flags(n) & ffi::LYD_DEFAULT == 0)
    };
    if running.txid() != 0 || has_nacm || ds.schema().context().get_module_implemented(NACM_MODULE).is_none()
    {
        return Ok(());
    }
    drop(running);
    let ctx = ds.schema().context();
    let tree = crate::datastore::edit::parse_edit(ctx, DEFAULT_RULES)
        .map_err(|e| format!("nacm default rules: {e:?}"))?;
    ds.edit(
        0,
        crate::datastore::Datastore::Running,
        tree,
        crate::datastore::edit::DefaultOperation::Merge,
        crate::datastore::TestOption::TestThenSet,
    )
    .map_err(|e| format!("nacm default rules: {e:?}"))?;
    tracing::info!("installed the default NACM rules (groups admin and operator)");
    Ok(())
}
