//! Incremental validation of a commit: instead of libyang's full validation
//! (every constraint of the whole datastore), re-check only the constraint
//! instances the commit's changes can affect, found through the schema
//! dependency index ([`crate::schema::deps`]).
//!
//! Running was valid before the commit, so a constraint instance whose
//! inputs did not change still holds. For each touched node `t` (created,
//! deleted, modified or moved):
//! - every expression constraint with an atom `t` hits: a local atom (scope
//!   depth `d`) selects the constraint's host instances below `t`'s ancestor
//!   at depth `d`; a global atom selects every host instance;
//! - a created subtree brings every constraint hosted in it;
//! - a created or deleted node brings the mandatory-children and
//!   element-count checks of its parent, and the `unique` checks of the
//!   list entries it belongs to.
//!
//! A global atom with bindings (see [`crate::schema::deps`]) narrows this:
//! a touched node inside an entry of a bound list selects only the host
//! instances whose bound value equals the entry's key, found in the
//! [`Index`] of those values (a host whose value changed in this commit is
//! also touched locally, so the index of the published tree suffices).
//!
//! A touched node hits an atom when the change can alter what the atom's
//! nodes are (creation or deletion at or above them) or, for a value atom,
//! their string value (any change at or below them); a move is taken to
//! alter both.
//!
//! The check only decides that a commit is valid. When anything fails, is
//! uncertain (a `when` turning false, a missing node under a `when`, a
//! shortfall in a case), would need libyang's default handling (a deleted
//! default leaf or non-presence container, a choice with defaults), or
//! fans out past the budget, the caller validates in full, and libyang's
//! full validation gives the verdict and the exact errors.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use libyang3_sys as ly;

use super::edit::Change;
use crate::schema::deps::{Cond, Constraint, Deps, KeyExpr, Kind, Req, Sch};
use crate::schema::ffi::{self, RawNode, RawSchema};

/// Why the incremental check handed over to full validation.
pub type Fallback = String;

/// Most constraint evaluations one incremental check may make.
pub const BUDGET: usize = 20_000;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Touch {
    Created,
    Deleted,
    Modified,
    Moved,
}

/// Whether a change of kind `k` at a node of schema `t` can alter what
/// `atom` reads.
fn hits(k: Touch, t: Sch, atom: Sch, value: bool) -> bool {
    match k {
        Touch::Created | Touch::Deleted => {
            t.is_ancestor_or_self_of(atom) || value && atom.is_ancestor_or_self_of(t)
        }
        Touch::Modified => value && atom.is_ancestor_or_self_of(t),
        Touch::Moved => t.is_ancestor_or_self_of(atom) || atom.is_ancestor_or_self_of(t),
    }
}

/// The ancestor-or-self of `n` at schema depth `d` (NULL: the root).
///
/// # Safety
/// `n` is a live node.
unsafe fn ancestor_at(mut n: RawNode, d: usize) -> RawNode {
    // SAFETY: contract; parents of a live node are live.
    unsafe {
        let mut depth = Sch(ffi::node_schema(n)).depth();
        while depth > d && !n.is_null() {
            n = ffi::node_parent(n);
            depth -= 1;
        }
    }
    n
}

/// The instances of schema `s` among `siblings` (any node of the sibling
/// list, or NULL): libyang keeps them adjacent (its `LYD_LIST_FOR_INST`).
///
/// # Safety
/// `siblings` is NULL or a node of a live tree that stays unchanged while
/// the iterator is used.
unsafe fn instances_of(siblings: RawNode, s: RawSchema) -> impl Iterator<Item = RawNode> {
    // SAFETY: contract (hashed lookup).
    let first = unsafe { ffi::find_sibling_val(siblings, s, None) };
    std::iter::successors(first, move |&i| {
        // SAFETY: contract: `i` is a live node of that tree.
        unsafe {
            let next = ffi::node_next(i);
            (!next.is_null() && ffi::node_schema(next) == s).then_some(next)
        }
    })
}

/// The instances of the schema chain `path` below `x` (NULL: the root,
/// whose top-level siblings start at `first`).
///
/// # Safety
/// `x` and `first` belong to one live tree.
unsafe fn instances(
    x: RawNode,
    path: &[Sch],
    first: RawNode,
    out: &mut Vec<RawNode>,
    budget: &mut usize,
) -> bool {
    let mut cur = vec![x];
    for s in path {
        let mut next = Vec::new();
        for n in cur {
            // SAFETY: contract.
            unsafe {
                let siblings = if n.is_null() { first } else { ffi::node_first_child(n) };
                for i in instances_of(siblings, s.0) {
                    next.push(i);
                    if next.len() > *budget {
                        return false;
                    }
                }
            }
        }
        cur = next;
    }
    out.extend(cur);
    true
}

/// The value a [`KeyExpr`] reads at host instance `h`.
///
/// # Safety
/// `h` is a live node of schema `e.host`.
unsafe fn key_value(h: RawNode, e: &KeyExpr) -> Option<String> {
    let mut n = h;
    // SAFETY: contract; parents and children of a live node are live.
    unsafe {
        for _ in 0..e.up {
            n = ffi::node_parent(n);
            if n.is_null() {
                return None;
            }
        }
        for s in &e.down {
            n = ffi::find_sibling_val(ffi::node_first_child(n), s.0, None)?;
        }
        ffi::node_value(n)
    }
}

/// Most host values one commit may recompute in an [`Index`] entry before
/// it is dropped (and built again when next needed).
const REFRESH_LIMIT: usize = 10_000;

/// The values of [`KeyExpr`]s at their host instances, for the published
/// running tree of transaction `txid`: built for an expression the first
/// time a check needs it, brought up to date after each commit
/// ([`Index::update`]), dropped when that would cost too much.
#[derive(Default)]
pub struct Index {
    txid: u64,
    built: HashMap<usize, Values>,
    /// Lookups made so far (for statistics and tests).
    pub lookups: u64,
}

/// One expression's values: host instances (by data path) by value.
#[derive(Default)]
struct Values {
    by_value: HashMap<String, HashSet<Arc<str>>>,
    by_host: BTreeMap<Arc<str>, String>,
}

impl Values {
    /// # Safety
    /// `first` is NULL or the first top-level node of a live tree.
    unsafe fn build(e: &KeyExpr, first: RawNode) -> Values {
        let mut v = Values::default();
        let mut hosts = Vec::new();
        // SAFETY: contract.
        unsafe {
            let mut unbounded = usize::MAX;
            instances(std::ptr::null_mut(), &e.from_root, first, &mut hosts, &mut unbounded);
            for h in hosts {
                v.set(ffi::node_path(h, false).into(), key_value(h, e));
            }
        }
        v
    }

    fn set(&mut self, host: Arc<str>, value: Option<String>) {
        self.remove(&host);
        if let Some(value) = value {
            self.by_value.entry(value.clone()).or_default().insert(host.clone());
            self.by_host.insert(host, value);
        }
    }

    fn remove(&mut self, host: &str) {
        if let Some(v) = self.by_host.remove(host) {
            if let Some(set) = self.by_value.get_mut(&v) {
                set.remove(host);
                if set.is_empty() {
                    self.by_value.remove(&v);
                }
            }
        }
    }

    /// Removes the hosts at or below the node at `path`.
    fn remove_below(&mut self, path: &str) {
        let doomed: Vec<Arc<str>> = self
            .by_host
            .range::<str, _>((std::ops::Bound::Included(path), std::ops::Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(path))
            .filter(|k| k.len() == path.len() || k.as_bytes()[path.len()] == b'/')
            .cloned()
            .collect();
        for k in doomed {
            self.remove(&k);
        }
    }

    /// Recomputes the host values at or below `x` (a node of `new` at or
    /// above the host's depth); false past `budget`.
    ///
    /// # Safety
    /// `x` is a live node of the tree starting at `new`.
    unsafe fn refresh_below(&mut self, e: &KeyExpr, x: RawNode, new: RawNode, budget: &mut usize) -> bool {
        // SAFETY: contract.
        unsafe {
            let depth = Sch(ffi::node_schema(x)).depth();
            let mut hosts = Vec::new();
            if !instances(x, e.from_root.get(depth..).unwrap_or(&[]), new, &mut hosts, budget) {
                return false;
            }
            if hosts.len() > *budget {
                return false;
            }
            *budget -= hosts.len();
            for h in hosts {
                self.set(ffi::node_path(h, false).into(), key_value(h, e));
            }
        }
        true
    }
}

/// A changed node, in the new tree and (if it was there) the old one.
struct Located {
    schema: Sch,
    path: String,
    new: Option<RawNode>,
    old: Option<RawNode>,
}

impl Index {
    /// Brings the index from the published tree of transaction `from`
    /// (`old`) to that of `to` (`new`), whose differences are the nodes at
    /// `paths` (each the top of a created, deleted or changed subtree);
    /// `None`: everything may have changed.
    ///
    /// # Safety
    /// `old` and `new` are NULL or the first top-level nodes of two live
    /// trees of the context `deps` was built from, unchanged meanwhile.
    pub unsafe fn update(
        &mut self,
        deps: &Deps,
        paths: Option<&[String]>,
        old: RawNode,
        new: RawNode,
        from: u64,
        to: u64,
    ) {
        let stale = self.txid != from;
        self.txid = to;
        let Some(paths) = paths.filter(|p| !stale && p.len() <= REFRESH_LIMIT) else {
            self.built.clear();
            return;
        };
        if self.built.is_empty() {
            return;
        }
        // SAFETY: contract; hashed lookups in live trees.
        unsafe {
            // A path found in neither tree (libyang cannot read back a key
            // with both quote characters) leaves the index unsure: drop it.
            let located: Option<Vec<Located>> = paths
                .iter()
                .map(|p| {
                    let (n, o) = (ffi::find_path(new, p), ffi::find_path(old, p));
                    let any = n.or(o)?;
                    Some(Located {
                        schema: Sch(ffi::node_schema(any)),
                        path: ffi::node_path(any, false),
                        new: n,
                        old: o,
                    })
                })
                .collect();
            let Some(located) = located else {
                self.built.clear();
                return;
            };
            self.built.retain(|&e, values| values.follow(&deps.key_exprs[e], &located, new));
        }
    }
}

impl Values {
    /// Applies one commit's changes; false when the values should be
    /// dropped instead.
    ///
    /// # Safety
    /// See [`Index::update`].
    unsafe fn follow(&mut self, e: &KeyExpr, changes: &[Located], new: RawNode) -> bool {
        let mut budget = REFRESH_LIMIT;
        let (anchor, leaf) = (e.anchor(), e.leaf());
        // SAFETY: contract.
        unsafe {
            for c in changes {
                if c.schema.is_ancestor_or_self_of(e.host) {
                    // Hosts created, deleted or replaced.
                    self.remove_below(&c.path);
                    if let Some(n) = c.new {
                        if !self.refresh_below(e, n, new, &mut budget) {
                            return false;
                        }
                    }
                } else if c.schema.depth() > anchor && c.schema.is_ancestor_or_self_of(leaf) {
                    // The value read changed for the hosts below the anchor.
                    let x = match (c.new, c.old) {
                        (Some(n), _) => Some(ancestor_at(n, anchor)),
                        (None, Some(o)) => {
                            ffi::find_path(new, &ffi::node_path(ancestor_at(o, anchor), false))
                        }
                        _ => None,
                    };
                    if let Some(x) = x {
                        if !self.refresh_below(e, x, new, &mut budget) {
                            return false;
                        }
                    }
                }
            }
        }
        true
    }
}

/// What a constraint must be evaluated at.
#[derive(Default)]
struct Targets {
    all: bool,
    /// Scope instances (ancestor, its depth) whose host instances below
    /// are evaluated.
    scopes: HashSet<(usize, usize)>,
    nodes: HashSet<usize>,
    /// Host instances selected by key: the (binding, key value) pairs they
    /// must match, the innermost list first (looked up in the index).
    keyed: HashSet<Vec<(usize, String)>>,
}

/// The incremental check of one commit on the new tree.
pub struct Check<'a> {
    deps: &'a Deps,
    /// First top-level node of the new and of the published tree.
    new: RawNode,
    old: RawNode,
    index: &'a mut Index,
    work: HashMap<usize, Targets>,
    /// The atoms a kind of change at a schema node hits (an edit touching
    /// many entries of one list asks the same question for each).
    hit: HashMap<(Touch, Sch), Vec<usize>>,
}

impl<'a> Check<'a> {
    /// # Safety
    /// `new` and `old` are the first top-level nodes (or NULL) of two live
    /// trees of the context `deps` was built from; `new` is not used by
    /// anything else during the check; `old` is the published tree of
    /// transaction `txid`.
    pub unsafe fn new(
        deps: &'a Deps,
        new: RawNode,
        old: RawNode,
        index: &'a mut Index,
        txid: u64,
    ) -> Check<'a> {
        if index.txid != txid {
            index.built.clear();
            index.txid = txid;
        }
        Check { deps, new, old, index, work: HashMap::new(), hit: HashMap::new() }
    }

    fn add(&mut self, c: usize) -> &mut Targets {
        self.work.entry(c).or_default()
    }

    /// Relocates a node of the published tree in the new tree (`None`: it
    /// was deleted).
    ///
    /// # Safety
    /// `n` is a live node of the published tree.
    unsafe fn in_new(&self, n: RawNode) -> Result<Option<RawNode>, Fallback> {
        if n.is_null() {
            return Ok(Some(std::ptr::null_mut()));
        }
        // SAFETY: contract; paths are looked up by hash.
        unsafe { self.locate(&ffi::node_path(n, false)) }
    }

    /// The node at `path` in the new tree, `None` if it is only in the
    /// published one; an error if libyang cannot find it in either (a
    /// path it prints but cannot read back, with both quote characters in
    /// a key).
    ///
    /// # Safety
    /// See [`Check::run`].
    unsafe fn locate(&self, path: &str) -> Result<Option<RawNode>, Fallback> {
        // SAFETY: contract; hashed lookups.
        unsafe {
            match ffi::find_path(self.new, path) {
                Some(n) => Ok(Some(n)),
                None if ffi::find_path(self.old, path).is_some() => Ok(None),
                None => Err(format!("{path} cannot be looked up")),
            }
        }
    }

    /// Runs the check: `Ok` with the paths of the default nodes it added
    /// (below created nodes), or the reason to validate in full.
    ///
    /// # Safety
    /// See [`Check::new`].
    pub unsafe fn run(mut self, changes: &[Change]) -> Result<Vec<String>, Fallback> {
        if let Some(o) = self.deps.opaque.first() {
            return Err(format!("a constraint could not be analysed ({o})"));
        }
        let mut implicit = Vec::new();
        // SAFETY: the function contract covers every node used below.
        unsafe {
            let mut touched: Vec<(Touch, RawNode, bool)> = Vec::new();
            for c in changes {
                let (k, in_old) = match c {
                    Change::Created { .. } => (Touch::Created, false),
                    Change::Deleted { .. } => (Touch::Deleted, true),
                    Change::Modified { .. } => (Touch::Modified, false),
                    Change::Moved { .. } => (Touch::Moved, false),
                };
                let root = if in_old { self.old } else { self.new };
                let Some(n) = ffi::find_path(root, c.path()) else {
                    return Err(format!("{} not found", c.path()));
                };
                let s = Sch(ffi::node_schema(n));
                if k == Touch::Deleted && self.deps.implicit_on_delete.contains(&s)
                    || k == Touch::Created && self.deps.implicit_on_create.contains(&s)
                {
                    return Err(format!("{} may change default nodes", s.path()));
                }
                touched.push((k, n, in_old));
                if k == Touch::Created && s.nodetype() & (ly::LYS_CONTAINER | ly::LYS_LIST) != 0 {
                    let diff = ffi::new_implicit_tree(n)
                        .map_err(|e| format!("adding default nodes failed ({e})"))?;
                    implicit.extend(super::delta::diff_paths(diff));
                    ffi::free_siblings(diff);
                }
            }
            for &(k, n, in_old) in &touched {
                self.touch(k, n, in_old)?;
            }
            self.evaluate()?;
        }
        Ok(implicit)
    }

    /// Collects the constraint instances one touched node brings.
    ///
    /// # Safety
    /// `n` is a live node of the new tree (the published one if `in_old`).
    unsafe fn touch(&mut self, k: Touch, n: RawNode, in_old: bool) -> Result<(), Fallback> {
        let deps = self.deps;
        // SAFETY: contract.
        unsafe {
            let t = Sch(ffi::node_schema(n));
            let depth = t.depth();
            let hit = self.hit.entry((k, t)).or_insert_with(|| {
                deps.atoms
                    .iter()
                    .enumerate()
                    .filter(|(_, a)| hits(k, t, a.schema, a.value))
                    .map(|(i, _)| i)
                    .collect()
            });
            // Taken out while `self` is updated, put back after.
            let hit = std::mem::take(hit);
            for a in hit.iter().map(|&i| &deps.atoms[i]) {
                match a.scope {
                    None => match self.narrow(&a.bindings, t, n) {
                        Some(key) => {
                            self.add(a.constraint).keyed.insert(key);
                        }
                        None => self.add(a.constraint).all = true,
                    },
                    Some(d) if depth >= d => {
                        let x = ancestor_at(n, d);
                        let x = if in_old { self.in_new(x)? } else { Some(x) };
                        if let Some(x) = x {
                            self.add(a.constraint).scopes.insert((x as usize, d));
                        }
                    }
                    // The touched node is above the scope: a created one
                    // brings its host instances below (walked next).
                    Some(_) => {}
                }
            }
            self.hit.insert((k, t), hit);
            if k == Touch::Created {
                // Every constraint hosted in the new subtree.
                let mut stack = vec![n];
                while let Some(m) = stack.pop() {
                    if let Some(cs) = deps.by_host.get(&Sch(ffi::node_schema(m))) {
                        for &c in cs {
                            self.add(c).nodes.insert(m as usize);
                        }
                    }
                    stack.extend(ffi::children(m));
                }
            }
            if matches!(k, Touch::Created | Touch::Deleted) {
                // The parent's mandatory children and counts.
                let p = ffi::node_parent(n);
                let p = if in_old { self.in_new(p)? } else { Some(p) };
                if let (Some(p), Some(cs)) = (p, deps.by_host.get(&t.parent())) {
                    for &c in cs {
                        if matches!(deps.constraints[c].kind, Kind::Mandatory(_) | Kind::Count { .. }) {
                            self.add(c).nodes.insert(p as usize);
                        }
                    }
                }
            }
            if matches!(k, Touch::Created | Touch::Modified) {
                // `unique` of the list entries the node is in or below.
                let mut e = n;
                while !e.is_null() {
                    let s = Sch(ffi::node_schema(e));
                    for &c in deps.by_host.get(&s).map(Vec::as_slice).unwrap_or(&[]) {
                        if let Kind::Unique(stmts) = &deps.constraints[c].kind {
                            if s == t || stmts.iter().flatten().flatten().any(|l| *l == t) {
                                self.add(c).nodes.insert(e as usize);
                            }
                        }
                    }
                    e = ffi::node_parent(e);
                }
            }
        }
        Ok(())
    }

    /// The key values the touched node `n` (of schema `t`) is under, for
    /// the bindings that apply to it, innermost first; `None` when none
    /// does.
    ///
    /// # Safety
    /// `n` is a live node.
    unsafe fn narrow(&self, bindings: &[usize], t: Sch, n: RawNode) -> Option<Vec<(usize, String)>> {
        let mut out = Vec::new();
        for &b in bindings {
            let binding = &self.deps.bindings[b];
            if !binding.list.is_ancestor_or_self_of(t) {
                continue;
            }
            // SAFETY: contract; an entry always has its keys.
            unsafe {
                let entry = ancestor_at(n, binding.list.depth());
                let key = ffi::find_sibling_val(ffi::node_first_child(entry), binding.key.0, None)?;
                out.push((b, ffi::node_value(key)?));
            }
        }
        out.sort_by_key(|(b, _)| std::cmp::Reverse(self.deps.bindings[*b].list.depth()));
        (!out.is_empty()).then_some(out)
    }

    /// The host instances in the new tree matching every (binding, key
    /// value) of `key`.
    ///
    /// # Safety
    /// See [`Check::run`].
    unsafe fn keyed(
        &mut self,
        key: &[(usize, String)],
        out: &mut Vec<RawNode>,
        budget: usize,
    ) -> Result<(), Fallback> {
        let deps = self.deps;
        let Some((b, value)) = key.first() else { return Ok(()) };
        let e = deps.bindings[*b].expr;
        self.index.lookups += 1;
        let old = self.old;
        let values =
            self.index.built.entry(e).or_insert_with(|| unsafe { Values::build(&deps.key_exprs[e], old) });
        let Some(hosts) = values.by_value.get(value) else { return Ok(()) };
        if hosts.len() > budget {
            return Err(format!("{} hosts have the key {value}", hosts.len()));
        }
        let hosts: Vec<Arc<str>> = hosts.iter().cloned().collect();
        // SAFETY: contract: paths looked up in the new tree.
        unsafe {
            for h in hosts {
                // Deleted by this commit: nothing to check there.
                let Some(n) = self.locate(&h)? else { continue };
                let rest = key[1..].iter().all(|(b, v)| {
                    key_value(n, &deps.key_exprs[deps.bindings[*b].expr]).as_deref() == Some(v.as_str())
                });
                if rest {
                    out.push(n);
                }
            }
        }
        Ok(())
    }

    /// Evaluates every collected constraint instance.
    ///
    /// # Safety
    /// See [`Check::run`].
    unsafe fn evaluate(&mut self) -> Result<(), Fallback> {
        let mut budget = BUDGET;
        let over = |c: &Constraint| format!("{} would be checked at more than {BUDGET} places", c.describe());
        let work = std::mem::take(&mut self.work);
        for (ci, targets) in work {
            let c = &self.deps.constraints[ci];
            // A `when` of a node holding defaults is checked at the parent
            // instances (the node may be absent).
            let at_parent = matches!(c.kind, Kind::When { implicit: true, .. });
            let host_path = if at_parent {
                &c.from_root[..c.from_root.len().saturating_sub(1)]
            } else {
                &c.from_root[..]
            };
            let mut at: Vec<RawNode> = Vec::new();
            // SAFETY: nodes of the new tree (contract).
            unsafe {
                if targets.all {
                    if !instances(std::ptr::null_mut(), host_path, self.new, &mut at, &mut budget) {
                        return Err(over(c));
                    }
                } else {
                    for key in &targets.keyed {
                        self.keyed(key, &mut at, budget).map_err(|why| format!("{}: {why}", c.describe()))?;
                    }
                    for (x, d) in targets.scopes {
                        let below = host_path.get(d..).unwrap_or(&[]);
                        if !instances(x as RawNode, below, self.new, &mut at, &mut budget) {
                            return Err(over(c));
                        }
                    }
                    at.extend(targets.nodes.into_iter().map(|n| {
                        let n = n as RawNode;
                        if at_parent {
                            ffi::node_parent(n)
                        } else {
                            n
                        }
                    }));
                }
                at.sort_unstable();
                at.dedup();
                for n in at {
                    if budget == 0 {
                        return Err(over(c));
                    }
                    budget -= 1;
                    self.holds(c, n).map_err(|why| format!("{}: {why}", c.describe()))?;
                }
            }
        }
        Ok(())
    }

    /// Checks one constraint at one host instance.
    ///
    /// # Safety
    /// `n` is a node of the new tree (NULL: the root) whose schema is the
    /// constraint's host.
    unsafe fn holds(&self, c: &Constraint, n: RawNode) -> Result<(), String> {
        // SAFETY: contract.
        unsafe {
            match &c.kind {
                Kind::Must(cond) => {
                    if !self.boolean(n, c, cond)? {
                        return Err("false".into());
                    }
                }
                Kind::When { cond, on_parent, implicit } => {
                    if *implicit {
                        // `n` is a parent instance: libyang keeps the node
                        // (it holds defaults) exactly when the condition holds.
                        if !*on_parent || n.is_null() {
                            return Err("a default node depends on it".into());
                        }
                        let node = ffi::find_sibling_val(ffi::node_first_child(n), c.host.0, None);
                        let holds = self.boolean(n, c, cond)?;
                        if holds != node.is_some() {
                            return Err(format!(
                                "{holds} with the node {}",
                                if holds { "absent" } else { "present" }
                            ));
                        }
                        if let Some(node) = node {
                            ffi::set_node_flags(node, ffi::node_flags(node) | ffi::LYD_WHEN_TRUE);
                        }
                        return Ok(());
                    }
                    let ctx = if *on_parent { ffi::node_parent(n) } else { n };
                    if !self.boolean(ctx, c, cond)? {
                        return Err("false".into());
                    }
                    ffi::set_node_flags(n, ffi::node_flags(n) | ffi::LYD_WHEN_TRUE);
                }
                Kind::Leafref(cond) => {
                    let want = ffi::node_value(n);
                    let found = self.node_set(n, c, cond)?.into_iter().any(|t| ffi::node_value(t) == want);
                    if !found {
                        return Err("no instance".into());
                    }
                }
                Kind::Mandatory(reqs) => {
                    let first = self.first_child(n);
                    let exists = |s: &Sch| ffi::find_sibling_val(first, s.0, None).is_some();
                    for (req, case, when) in reqs {
                        if case.as_ref().is_some_and(|nodes| !nodes.iter().any(exists)) {
                            continue;
                        }
                        let ok = match req {
                            Req::Node(s) => exists(s),
                            Req::Choice(nodes) => nodes.iter().any(exists),
                        };
                        if !ok {
                            return Err(if *when { "missing, under a when" } else { "missing" }.into());
                        }
                    }
                }
                Kind::Count { list, min, max, case, .. } => {
                    let first = self.first_child(n);
                    let exists = |s: &Sch| ffi::find_sibling_val(first, s.0, None).is_some();
                    if case.as_ref().is_some_and(|nodes| !nodes.iter().any(exists)) {
                        return Ok(());
                    }
                    let count = instances_of(first, list.0).count();
                    if count < *min as usize || count > *max as usize {
                        return Err(format!("{count} {}", list.name()));
                    }
                }
                Kind::Unique(stmts) => {
                    for leaves in stmts {
                        let Some(mine) = tuple(n, leaves) else { continue };
                        for i in instances_of(n, ffi::node_schema(n)) {
                            if i != n && tuple(i, leaves).as_ref() == Some(&mine) {
                                return Err("not unique".into());
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The first child of `n` (NULL: the first top-level node).
    ///
    /// # Safety
    /// `n` is NULL or a node of the new tree.
    unsafe fn first_child(&self, n: RawNode) -> RawNode {
        // SAFETY: contract.
        if n.is_null() {
            self.new
        } else {
            unsafe { ffi::node_first_child(n) }
        }
    }

    /// Evaluates `cond` from `ctx` in the new tree: its boolean value, or
    /// (with `set`) the node set it selects.
    ///
    /// # Safety
    /// `ctx` is a node of the new tree or NULL (the root).
    unsafe fn eval(
        &self,
        ctx: RawNode,
        c: &Constraint,
        cond: &Cond,
        set: Option<&mut *mut ly::ly_set>,
    ) -> Result<bool, String> {
        let mut b: ly::ly_bool = 0;
        let wants_set = set.is_some();
        let (set, boolean) = match set {
            Some(set) => (set as *mut _, std::ptr::null_mut()),
            None => (std::ptr::null_mut(), &mut b as *mut _),
        };
        // SAFETY: contract; exactly one result (set or boolean) is asked for.
        let r = unsafe {
            ly::lyd_eval_xpath4(
                ctx,
                self.new,
                c.module,
                cond.text.as_ptr(),
                ly::LY_VALUE_FORMAT::LY_VALUE_SCHEMA_RESOLVED,
                cond.prefixes.cast_mut().cast(),
                std::ptr::null(),
                std::ptr::null_mut(),
                set,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                boolean,
            )
        };
        // SAFETY: `set` points at the caller's out pointer when asked for.
        if r != ly::LY_ERR::LY_SUCCESS || wants_set && unsafe { (*set).is_null() } {
            return Err(format!("evaluation failed ({r})"));
        }
        Ok(b != 0)
    }

    /// # Safety
    /// `ctx` is a node of the new tree or NULL (the root).
    unsafe fn boolean(&self, ctx: RawNode, c: &Constraint, cond: &Cond) -> Result<bool, String> {
        // SAFETY: contract.
        unsafe { self.eval(ctx, c, cond, None) }
    }

    /// # Safety
    /// `ctx` is a node of the new tree.
    unsafe fn node_set(&self, ctx: RawNode, c: &Constraint, cond: &Cond) -> Result<Vec<RawNode>, String> {
        let mut set: *mut ly::ly_set = std::ptr::null_mut();
        // SAFETY: contract; the set is read then freed.
        unsafe {
            self.eval(ctx, c, cond, Some(&mut set))?;
            let out = (0..(*set).count as usize).map(|i| *(*set).__bindgen_anon_1.dnodes.add(i)).collect();
            ly::ly_set_free(set, None);
            Ok(out)
        }
    }
}

/// The values of a `unique` statement's leaves in entry `e`, or `None` if
/// one is missing (the statement then does not apply to the entry).
///
/// # Safety
/// `e` is a live list entry.
unsafe fn tuple(e: RawNode, leaves: &[Vec<Sch>]) -> Option<Vec<String>> {
    let mut out = Vec::with_capacity(leaves.len());
    for chain in leaves {
        let mut n = e;
        for s in chain {
            // SAFETY: contract; children of a live node.
            n = unsafe { ffi::find_sibling_val(ffi::node_first_child(n), s.0, None)? };
        }
        // SAFETY: as above.
        out.push(unsafe { ffi::node_value(n)? });
    }
    Some(out)
}
