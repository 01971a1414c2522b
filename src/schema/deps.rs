//! The schema dependency index of incremental validation: every constraint
//! libyang checks on configuration data (`must`, `when`, leafref
//! `require-instance`, `mandatory`, mandatory choices, `min-elements`,
//! `max-elements`, `unique`), with what it reads, so that a commit can
//! re-check only the constraint instances its changes can affect
//! (`crate::datastore::incremental`).
//!
//! What an expression reads is found by parsing it ([`super::xpath`]) and
//! walking its location paths over the compiled schema:
//! - a **local** route starts at the context node (a relative path,
//!   `current()`) and only moves along tree edges: it climbs to an ancestor
//!   of the context node and reads nodes below it. Each node it reaches by
//!   going down is a *local atom* with the depth of the highest ancestor the
//!   route climbed to so far: a change can only matter to the context nodes
//!   below the same ancestor instance (ancestors themselves exist as long as
//!   the context node does, so climbing reads nothing that can change).
//! - a **global** route starts at the root (an absolute path), follows a
//!   `deref()`, or climbs to the root. Every schema node it visits is an
//!   *atom*: `exist` when only the node set matters, `value` when the string
//!   value of the nodes is read (a comparison, `sum()`, `deref()`'s argument).
//!
//! A global route that enters a list only through entries whose key equals
//! a value taken from the context node (`list[key = current()/../x]`, or
//! `deref(x)` landing on a list key; a leafref whose target is a key) gives
//! its atoms at or below that list a *binding*: a change inside one entry of
//! the list can only matter to the constraint instances whose value equals
//! the entry's key. The check finds those through an index of the values
//! (`crate::datastore::incremental::Index`) instead of evaluating every
//! instance.
//!
//! Anything the analysis does not understand (a variable, an unknown
//! function, the `following`/`preceding` axes, an unresolvable name, an
//! instance-identifier or a union with a leafref) makes the constraint
//! *opaque*: commits then validate in full.
//!
//! Safety: the index holds pointers into the compiled schema of a context
//! that lives for the whole process (`Schema` is leaked at start) and is never
//! modified after compilation; the walk below only reads it.

use std::collections::HashMap;
use std::ffi::{CStr, CString};

use libyang3_sys as ffi;
use yang3::context::Context;

use super::ffi::RawSchema;
use super::xpath::{self, Axis, Expr, Path, Start, Step, Test};

/// A compiled schema node (NULL stands for the data tree's root).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sch(pub RawSchema);

// SAFETY: see the module comment: compiled schema nodes are immutable and
// outlive every user of the index.
unsafe impl Send for Sch {}
unsafe impl Sync for Sch {}

impl Sch {
    pub const ROOT: Sch = Sch(std::ptr::null());

    pub fn is_root(self) -> bool {
        self.0.is_null()
    }

    /// The data parent (choices and cases skipped); ROOT for a top-level node.
    pub fn parent(self) -> Sch {
        if self.is_root() {
            return Sch::ROOT;
        }
        // SAFETY: live compiled node (module comment).
        unsafe {
            let mut p = (*self.0).parent.cast_const();
            while !p.is_null() && u32::from((*p).nodetype) & (ffi::LYS_CHOICE | ffi::LYS_CASE) != 0 {
                p = (*p).parent;
            }
            Sch(p)
        }
    }

    /// Number of data nodes from the root down to this one (root: 0).
    pub fn depth(self) -> usize {
        let mut d = 0;
        let mut s = self;
        while !s.is_root() {
            d += 1;
            s = s.parent();
        }
        d
    }

    /// Whether `self` is `other` or one of its data ancestors.
    pub fn is_ancestor_or_self_of(self, other: Sch) -> bool {
        let mut s = other;
        loop {
            if s == self {
                return true;
            }
            if s.is_root() {
                return false;
            }
            s = s.parent();
        }
    }

    pub fn nodetype(self) -> u32 {
        if self.is_root() {
            return 0;
        }
        // SAFETY: live compiled node.
        unsafe { u32::from((*self.0).nodetype) }
    }

    pub fn flags(self) -> u32 {
        if self.is_root() {
            return 0;
        }
        // SAFETY: live compiled node.
        unsafe { u32::from((*self.0).flags) }
    }

    pub fn name(self) -> String {
        if self.is_root() {
            return "/".into();
        }
        // SAFETY: live compiled node.
        unsafe { cstr((*self.0).name) }
    }

    fn module(self) -> *const ffi::lys_module {
        // SAFETY: live compiled node.
        unsafe { (*self.0).module }
    }

    /// The data children (through choices and cases), in schema order.
    pub fn data_children(self) -> Vec<Sch> {
        let mut out = Vec::new();
        if self.is_root() {
            return out;
        }
        // SAFETY: live compiled node.
        unsafe { push_data_nodes(ffi::lysc_node_child(self.0), &mut out) };
        out
    }

    /// A readable schema path (for logs and tests).
    pub fn path(self) -> String {
        if self.is_root() {
            return "/".into();
        }
        // SAFETY: NULL buffer: libyang allocates, we copy and free.
        unsafe {
            let p = ffi::lysc_path(self.0, ffi::LYSC_PATH_TYPE::LYSC_PATH_DATA, std::ptr::null_mut(), 0);
            let s = cstr(p);
            libc_free(p.cast());
            s
        }
    }
}

unsafe extern "C" {
    #[link_name = "free"]
    fn libc_free(p: *mut std::ffi::c_void);
}

/// # Safety
/// `p` is NULL or a NUL-terminated string.
unsafe fn cstr(p: *const std::os::raw::c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: contract.
    unsafe { CStr::from_ptr(p).to_string_lossy().into_owned() }
}

/// The data nodes of a sibling list, descending into choices and cases.
///
/// # Safety
/// `first` is NULL or a live compiled node.
unsafe fn push_data_nodes(mut n: *const ffi::lysc_node, out: &mut Vec<Sch>) {
    // SAFETY: contract; siblings are NULL-terminated.
    unsafe {
        while !n.is_null() {
            if u32::from((*n).nodetype) & (ffi::LYS_CHOICE | ffi::LYS_CASE) != 0 {
                push_data_nodes(ffi::lysc_node_child(n), out);
            } else {
                out.push(Sch(n));
            }
            n = (*n).next;
        }
    }
}

/// `LY_ARRAY_COUNT` of a libyang sized array.
///
/// # Safety
/// `array` is NULL or a libyang sized array.
unsafe fn count<T>(array: *const T) -> usize {
    if array.is_null() {
        return 0;
    }
    // SAFETY: the count (u64) precedes the first item.
    unsafe { *(array.cast::<u64>().sub(1)) as usize }
}

/// A libyang XPath condition with what is needed to evaluate it.
#[derive(Debug)]
pub struct Cond {
    /// The expression text (prefixes as in its module).
    pub text: CString,
    /// Its `lysc_prefix` array (`LY_VALUE_SCHEMA_RESOLVED` prefix data).
    pub prefixes: *const ffi::lysc_prefix,
}

/// One requirement of [`Kind::Mandatory`].
#[derive(Debug)]
pub enum Req {
    /// A mandatory leaf, anydata or anyxml must exist.
    Node(Sch),
    /// One data node of a mandatory choice must exist.
    Choice(Vec<Sch>),
}

/// What kind of constraint, with its data.
#[derive(Debug)]
pub enum Kind {
    Must(Cond),
    /// A `when` (of the node, or of a choice/case above it); `on_parent`
    /// when its context is the node's parent. `implicit`: the node is or
    /// holds default nodes, which libyang adds or removes with the
    /// condition (a commit that may change it validates in full).
    When {
        cond: Cond,
        on_parent: bool,
        implicit: bool,
    },
    /// A leafref with `require-instance true`.
    Leafref(Cond),
    /// Mandatory children of the host, checked at a host instance: each
    /// with the data nodes of its case (the requirement applies only if the
    /// case is selected) and whether it is under a `when`.
    Mandatory(Vec<(Req, Option<Vec<Sch>>, bool)>),
    /// `min-elements`/`max-elements` of the list or leaf-list `list`, child
    /// of the host, with the data nodes of its case (it applies only if the
    /// case is selected) and whether it is under a `when`.
    Count {
        list: Sch,
        min: u32,
        max: u32,
        case: Option<Vec<Sch>>,
        when: bool,
    },
    /// `unique` statements of the host list: per statement, per leaf, the
    /// schema path from the list entry down to the leaf.
    Unique(Vec<Vec<Vec<Sch>>>),
}

/// A constraint and where it is evaluated.
#[derive(Debug)]
pub struct Constraint {
    /// The node the constraint is checked at (ROOT for top-level
    /// mandatory nodes and counts).
    pub host: Sch,
    pub kind: Kind,
    /// Data schema nodes from the root down to the host (the node at depth
    /// `d` is `from_root[d - 1]`).
    pub from_root: Vec<Sch>,
    /// The module expressions are evaluated in (the host's).
    pub module: *const ffi::lys_module,
}

// SAFETY: module comment (schema pointers; the prefix arrays belong to the
// compiled schema too).
unsafe impl Send for Constraint {}
unsafe impl Sync for Constraint {}

impl Constraint {
    /// A short description for logs and tests.
    pub fn describe(&self) -> String {
        let what = match &self.kind {
            Kind::Must(c) => format!("must \"{}\"", c.text.to_string_lossy()),
            Kind::When { cond, .. } => format!("when \"{}\"", cond.text.to_string_lossy()),
            Kind::Leafref(c) => format!("leafref \"{}\"", c.text.to_string_lossy()),
            Kind::Mandatory(r) => format!("{} mandatory children", r.len()),
            Kind::Count { list, min, max, .. } => format!("{min}..{max} {}", list.name()),
            Kind::Unique(u) => format!("{} unique", u.len()),
        };
        format!("{} {what}", self.host.path())
    }
}

/// A schema node an expression reads.
#[derive(Debug, Clone)]
pub struct Atom {
    pub schema: Sch,
    /// The string value is read (not only existence).
    pub value: bool,
    /// For a local atom, the depth of the ancestor of the context node below
    /// which it is read; `None` for a global atom.
    pub scope: Option<usize>,
    pub constraint: usize,
    /// For a global atom, the [`Binding`]s of the route that read it (see
    /// the module comment).
    pub bindings: Vec<usize>,
}

/// A value read from an instance of `host` in one fixed way: climb `up`
/// data parents, then go down through `down` (containers, ending at a
/// leaf; a leaf or leaf-list host itself when both are empty). It selects
/// at most one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyExpr {
    pub host: Sch,
    pub up: usize,
    pub down: Vec<Sch>,
    /// Data schema nodes from the root down to the host.
    pub from_root: Vec<Sch>,
}

impl KeyExpr {
    /// Depth of the ancestor the value is read below.
    pub fn anchor(&self) -> usize {
        self.from_root.len().saturating_sub(self.up)
    }

    /// The leaf read.
    pub fn leaf(&self) -> Sch {
        self.down.last().copied().unwrap_or(self.host)
    }
}

/// A route that enters the entries of `list` only where the key leaf `key`
/// equals the value of [`Deps::key_exprs`]`[expr]` at the host instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub list: Sch,
    pub key: Sch,
    pub expr: usize,
}

/// The dependency index of a module set.
#[derive(Debug, Default)]
pub struct Deps {
    pub constraints: Vec<Constraint>,
    /// Constraints by host.
    pub by_host: HashMap<Sch, Vec<usize>>,
    /// What the expression constraints (`must`, `when`, leafref) read.
    pub atoms: Vec<Atom>,
    /// The bindings of global atoms, and the host values they compare keys
    /// with.
    pub bindings: Vec<Binding>,
    pub key_exprs: Vec<KeyExpr>,
    /// Constraints that could not be analysed: any commit validates in full.
    pub opaque: Vec<String>,
    /// Schema nodes whose deletion makes libyang add default nodes (a leaf
    /// or leaf-list with a default, a non-presence container, a node in a
    /// choice whose cases hold defaults or that has a default case).
    pub implicit_on_delete: std::collections::HashSet<Sch>,
    /// Schema nodes whose creation can make libyang remove default nodes
    /// (a node in such a choice).
    pub implicit_on_create: std::collections::HashSet<Sch>,
}

/// Builds the index of every implemented module's configuration data.
pub fn analyse(ctx: &Context) -> Deps {
    let mut deps = Deps::default();
    let Some(c) = super::ffi::raw_context(ctx) else {
        deps.opaque.push("no context".into());
        return deps;
    };
    let mut top: Vec<Sch> = Vec::new();
    // SAFETY: read-only walk of the compiled context (module comment).
    unsafe {
        let mut idx = 0u32;
        loop {
            let m = ffi::ly_ctx_get_module_iter(c, &mut idx);
            if m.is_null() {
                break;
            }
            if (*m).implemented == 0 || (*m).compiled.is_null() {
                continue;
            }
            let mut mine = Vec::new();
            push_data_nodes((*(*m).compiled).data, &mut mine);
            top.extend(mine);
            // Top-level requirements (the root is their host).
            let first = (*(*m).compiled).data;
            deps.structural(Sch::ROOT, first);
        }
    }
    let mut stack: Vec<Sch> = top.into_iter().filter(|s| s.flags() & ffi::LYS_CONFIG_W != 0).collect();
    while let Some(s) = stack.pop() {
        deps.node(s);
        for c in s.data_children() {
            if c.flags() & ffi::LYS_CONFIG_W != 0 {
                stack.push(c);
            }
        }
    }
    for (i, c) in deps.constraints.iter().enumerate() {
        deps.by_host.entry(c.host).or_default().push(i);
    }
    deps
}

impl Deps {
    fn push(&mut self, host: Sch, kind: Kind) -> usize {
        let mut from_root = Vec::new();
        let mut s = host;
        while !s.is_root() {
            from_root.push(s);
            s = s.parent();
        }
        from_root.reverse();
        let module = if host.is_root() { std::ptr::null() } else { host.module() };
        self.constraints.push(Constraint { host, kind, from_root, module });
        self.constraints.len() - 1
    }

    /// Adds an expression constraint after analysing `text` from `ctx_node`.
    fn expression(
        &mut self,
        host: Sch,
        ctx_node: Sch,
        cond: Cond,
        make: impl FnOnce(Cond) -> Kind,
        value: bool,
    ) {
        let text = cond.text.to_string_lossy().into_owned();
        let parsed = match xpath::parse(&text) {
            Ok(e) => e,
            Err(e) => {
                self.opaque.push(format!("{}: {text}: {e}", host.path()));
                return;
            }
        };
        let mut w = Walk::new(ctx_node, host.module(), cond.prefixes);
        if value {
            // A leafref compares its own value with the targets: when they
            // are the key of a list, only the entry with that key matters
            // (bound where the path itself, not a predicate, enters it).
            if let [t] = lref_targets(host)[..] {
                if let Some(list) = key_of(t) {
                    let b = w.bind(list, t, (0, Vec::new()));
                    w.lref = Some((list, b));
                }
            }
        }
        let ctx = w.start();
        w.expr(&parsed, &ctx, value);
        if let Some(why) = w.opaque {
            self.opaque.push(format!("{}: {text}: {why}", host.path()));
            return;
        }
        if value {
            w.atoms.push((host, true, Some(host.depth()), Vec::new()));
        }
        let c = self.push(host, make(cond));
        // Bindings need host instances whose paths do not change with other
        // entries (no keyless list above) and that are the instances
        // evaluated (not a `when` checked at the parent).
        let bindable = !self.constraints[c].from_root.iter().any(|s| s.flags() & ffi::LYS_KEYLESS != 0)
            && !matches!(self.constraints[c].kind, Kind::When { implicit: true, .. });
        // Walk bindings, relative to the context node, as the index's.
        let shift = usize::from(ctx_node != host);
        let mut ids = Vec::new();
        for (list, key, (up, down)) in std::mem::take(&mut w.bindings) {
            let e = KeyExpr { host, up: up + shift, down, from_root: self.constraints[c].from_root.clone() };
            let expr = intern(&mut self.key_exprs, e);
            ids.push(intern(&mut self.bindings, Binding { list, key, expr }));
        }
        for (schema, value, scope, bs) in w.atoms {
            let bindings =
                if bindable && scope.is_none() { bs.iter().map(|&b| ids[b]).collect() } else { Vec::new() };
            self.atoms.push(Atom { schema, value, scope, constraint: c, bindings });
        }
    }

    /// The constraints of one configuration data node.
    fn node(&mut self, s: Sch) {
        let nt = s.nodetype();
        // SAFETY: live compiled nodes; sized arrays read within their counts.
        unsafe {
            let musts = ffi::lysc_node_musts(s.0);
            for i in 0..count(musts) {
                let m = musts.add(i);
                let cond = Cond { text: expr_text((*m).cond), prefixes: (*m).prefixes };
                self.expression(s, s, cond, Kind::Must, false);
            }
            // The node's whens and those of the choices and cases above it.
            let implicit = self.holds_defaults(s);
            let mut w = s.0;
            loop {
                let whens = ffi::lysc_node_when(w);
                for i in 0..count(whens) {
                    let wh = *whens.add(i);
                    let on_parent = (*wh).context.cast_const() != s.0;
                    let ctx_node = if on_parent { s.parent() } else { s };
                    let cond = Cond { text: expr_text((*wh).cond), prefixes: (*wh).prefixes };
                    self.expression(
                        s,
                        ctx_node,
                        cond,
                        |cond| Kind::When { cond, on_parent, implicit },
                        false,
                    );
                }
                let p = (*w).parent.cast_const();
                if p.is_null() || u32::from((*p).nodetype) & (ffi::LYS_CHOICE | ffi::LYS_CASE) == 0 {
                    break;
                }
                w = p;
            }
            if nt & (ffi::LYS_LEAF | ffi::LYS_LEAFLIST) != 0 {
                let t = if nt & ffi::LYS_LEAF != 0 {
                    (*s.0.cast::<ffi::lysc_node_leaf>()).type_
                } else {
                    (*s.0.cast::<ffi::lysc_node_leaflist>()).type_
                };
                match (*t).basetype {
                    ffi::LY_DATA_TYPE::LY_TYPE_LEAFREF => {
                        let l = t.cast::<ffi::lysc_type_leafref>();
                        if (*l).require_instance != 0 {
                            let cond = Cond { text: expr_text((*l).path), prefixes: (*l).prefixes };
                            self.expression(s, s, cond, Kind::Leafref, true);
                        }
                    }
                    ffi::LY_DATA_TYPE::LY_TYPE_INST
                        if (*t.cast::<ffi::lysc_type_instanceid>()).require_instance != 0 =>
                    {
                        self.opaque.push(format!("{}: instance-identifier", s.path()));
                    }
                    ffi::LY_DATA_TYPE::LY_TYPE_UNION if union_references(t) => {
                        self.opaque.push(format!("{}: union with a reference", s.path()));
                    }
                    _ => {}
                }
            }
            if nt & (ffi::LYS_CONTAINER | ffi::LYS_LIST) != 0 {
                self.structural(s, ffi::lysc_node_child(s.0));
            }
            if nt & ffi::LYS_LIST != 0 {
                let l = s.0.cast::<ffi::lysc_node_list>();
                let uniques = (*l).uniques;
                let mut stmts = Vec::new();
                for i in 0..count(uniques) {
                    let leaves = *uniques.add(i);
                    let mut paths = Vec::new();
                    for j in 0..count(leaves) {
                        let leaf = Sch((*leaves.add(j)).cast::<ffi::lysc_node>().cast_const());
                        let mut chain = Vec::new();
                        let mut x = leaf;
                        while x != s && !x.is_root() {
                            chain.push(x);
                            x = x.parent();
                        }
                        chain.reverse();
                        paths.push(chain);
                    }
                    stmts.push(paths);
                }
                if !stmts.is_empty() {
                    self.push(s, Kind::Unique(stmts));
                }
            }
            let in_choice = self.in_defaulting_choice(s);
            if in_choice {
                self.implicit_on_create.insert(s);
            }
            if in_choice
                || nt & (ffi::LYS_LEAF | ffi::LYS_LEAFLIST) != 0 && self.holds_defaults(s)
                || nt & ffi::LYS_CONTAINER != 0 && s.flags() & ffi::LYS_PRESENCE == 0
            {
                self.implicit_on_delete.insert(s);
            }
        }
    }

    /// Whether `s` (a data node) is, or holds outside lists and presence
    /// containers, a node libyang creates implicitly.
    fn holds_defaults(&self, s: Sch) -> bool {
        let nt = s.nodetype();
        // SAFETY: live compiled nodes.
        unsafe {
            if nt & ffi::LYS_LEAF != 0 {
                return !(*s.0.cast::<ffi::lysc_node_leaf>()).dflt.is_null();
            }
            if nt & ffi::LYS_LEAFLIST != 0 {
                return count((*s.0.cast::<ffi::lysc_node_leaflist>()).dflts) > 0;
            }
        }
        if nt & ffi::LYS_CONTAINER != 0 {
            return s.flags() & ffi::LYS_PRESENCE == 0
                || s.data_children().iter().any(|c| self.holds_defaults(*c));
        }
        false
    }

    /// Whether `s` sits in a choice (below its data parent) whose cases
    /// hold default nodes or which has a default case.
    fn in_defaulting_choice(&self, s: Sch) -> bool {
        // SAFETY: live compiled nodes.
        unsafe {
            let mut p = (*s.0).parent.cast_const();
            while !p.is_null() && u32::from((*p).nodetype) & (ffi::LYS_CHOICE | ffi::LYS_CASE) != 0 {
                if u32::from((*p).nodetype) & ffi::LYS_CHOICE != 0 {
                    let ch = p.cast::<ffi::lysc_node_choice>();
                    let mut nodes = Vec::new();
                    push_data_nodes(ffi::lysc_node_child(p), &mut nodes);
                    if !(*ch).dflt.is_null() || nodes.iter().any(|n| self.holds_defaults(*n)) {
                        return true;
                    }
                }
                p = (*p).parent;
            }
        }
        false
    }

    /// Mandatory children and child counts of `host`, whose schema children
    /// start at `first`.
    fn structural(&mut self, host: Sch, first: *const ffi::lysc_node) {
        let mut reqs = Vec::new();
        let mut counts = Vec::new();
        // SAFETY: live compiled nodes.
        unsafe { collect_reqs(first, None, false, &mut reqs, &mut counts) };
        if !reqs.is_empty() {
            self.push(host, Kind::Mandatory(reqs));
        }
        for (list, min, max, case, when) in counts {
            self.push(host, Kind::Count { list, min, max, case, when });
        }
    }
}

type Counts = Vec<(Sch, u32, u32, Option<Vec<Sch>>, bool)>;

/// Walks a schema sibling list below one data parent (through choices and
/// cases), collecting requirements and counted lists. `case` is the data
/// nodes of the innermost enclosing case; `when` whether a `when` is above.
///
/// # Safety
/// `n` is NULL or a live compiled node.
unsafe fn collect_reqs(
    mut n: *const ffi::lysc_node,
    case: Option<&Vec<Sch>>,
    when: bool,
    reqs: &mut Vec<(Req, Option<Vec<Sch>>, bool)>,
    counts: &mut Counts,
) {
    // SAFETY: contract.
    unsafe {
        while !n.is_null() {
            let nt = u32::from((*n).nodetype);
            let flags = u32::from((*n).flags);
            let config = flags & ffi::LYS_CONFIG_W != 0;
            let w = when || count(ffi::lysc_node_when(n)) > 0;
            if !config {
                // State data is not validated (NO_STATE).
            } else if nt & ffi::LYS_CHOICE != 0 {
                let mut all = Vec::new();
                push_data_nodes(ffi::lysc_node_child(n), &mut all);
                if flags & ffi::LYS_MAND_TRUE != 0 {
                    reqs.push((Req::Choice(all), case.cloned(), w));
                }
                let mut c = ffi::lysc_node_child(n);
                while !c.is_null() {
                    let mut nodes = Vec::new();
                    push_data_nodes(ffi::lysc_node_child(c), &mut nodes);
                    let cw = w || count(ffi::lysc_node_when(c)) > 0;
                    collect_reqs(ffi::lysc_node_child(c), Some(&nodes), cw, reqs, counts);
                    c = (*c).next;
                }
            } else if nt & (ffi::LYS_LIST | ffi::LYS_LEAFLIST) != 0 {
                let (min, max) = if nt & ffi::LYS_LIST != 0 {
                    let l = n.cast::<ffi::lysc_node_list>();
                    ((*l).min, (*l).max)
                } else {
                    let l = n.cast::<ffi::lysc_node_leaflist>();
                    ((*l).min, (*l).max)
                };
                if min > 0 || max != u32::MAX {
                    counts.push((Sch(n), min, max, case.cloned(), w));
                }
            } else if flags & ffi::LYS_MAND_TRUE != 0
                && nt & (ffi::LYS_LEAF | ffi::LYS_ANYDATA | ffi::LYS_ANYXML) != 0
            {
                reqs.push((Req::Node(Sch(n)), case.cloned(), w));
            }
            n = (*n).next;
        }
    }
}

/// # Safety
/// `t` is a live compiled union type.
unsafe fn union_references(t: *const ffi::lysc_type) -> bool {
    // SAFETY: a union's `types` is a sized array of compiled types.
    unsafe {
        let u = t.cast::<ffi::lysc_type_union>();
        let types = (*u).types;
        (0..count(types)).any(|i| {
            let m = *types.add(i);
            match (*m).basetype {
                ffi::LY_DATA_TYPE::LY_TYPE_LEAFREF | ffi::LY_DATA_TYPE::LY_TYPE_INST => true,
                ffi::LY_DATA_TYPE::LY_TYPE_UNION => union_references(m),
                _ => false,
            }
        })
    }
}

/// # Safety
/// `e` is a live compiled expression.
unsafe fn expr_text(e: *const ffi::lyxp_expr) -> CString {
    // SAFETY: contract; the text is NUL-terminated.
    unsafe { CStr::from_ptr(ffi::lyxp_get_expr(e)).to_owned() }
}

/// A set of schema positions a route is at: global, or local with the
/// depth of the highest ancestor of the context node it climbed to.
#[derive(Debug, Clone)]
struct Route {
    pos: Vec<Sch>,
    global: bool,
    scope: usize,
    /// The route is exactly the context node (a relative path from it).
    at_ctx: bool,
    /// Walk bindings of the lists the route entered by key (see the module
    /// comment); all positions are at or below each list.
    bindings: Vec<usize>,
}

impl Route {
    fn global(pos: Vec<Sch>, bindings: Vec<usize>) -> Route {
        Route { pos, global: true, scope: 0, at_ctx: false, bindings }
    }
}

/// A value relative to the context node: `..` steps, then child steps.
type LocalPath = (usize, Vec<Sch>);

/// The list `t` is a key of.
fn key_of(t: Sch) -> Option<Sch> {
    let list = t.parent();
    (t.flags() & ffi::LYS_KEY != 0 && list.nodetype() & ffi::LYS_LIST != 0).then_some(list)
}

/// The operands of an `and` chain.
fn conjuncts(e: &Expr) -> Vec<&Expr> {
    match e {
        Expr::Binary(xpath::BinOp::And, a, b) => {
            let mut v = conjuncts(a);
            v.extend(conjuncts(b));
            v
        }
        other => vec![other],
    }
}

/// The index of `x` in `v`, pushed there if absent.
fn intern<T: PartialEq>(v: &mut Vec<T>, x: T) -> usize {
    match v.iter().position(|y| *y == x) {
        Some(i) => i,
        None => {
            v.push(x);
            v.len() - 1
        }
    }
}

/// Whether `position()` or `last()` occurs anywhere in `e`.
fn mentions_position(e: &Expr) -> bool {
    let path = |p: &Path| {
        let start = match &p.start {
            Start::Filter(f, preds) => mentions_position(f) || preds.iter().any(mentions_position),
            _ => false,
        };
        start || p.steps.iter().flat_map(|s| &s.preds).any(mentions_position)
    };
    match e {
        Expr::Binary(_, a, b) | Expr::Union(a, b) => mentions_position(a) || mentions_position(b),
        Expr::Neg(a) => mentions_position(a),
        Expr::Call(name, args) => name == "position" || name == "last" || args.iter().any(mentions_position),
        Expr::Path(p) => path(p),
        Expr::Literal(_) | Expr::Number(_) | Expr::Var(_) => false,
    }
}

/// The base type of a leaf or leaf-list, through leafrefs to their target's.
fn base_type(s: Sch) -> Option<ffi::LY_DATA_TYPE::Type> {
    if s.nodetype() & (ffi::LYS_LEAF | ffi::LYS_LEAFLIST) == 0 {
        return None;
    }
    // SAFETY: live compiled leaf or leaf-list (module comment).
    unsafe {
        let mut t = if s.nodetype() & ffi::LYS_LEAF != 0 {
            (*s.0.cast::<ffi::lysc_node_leaf>()).type_
        } else {
            (*s.0.cast::<ffi::lysc_node_leaflist>()).type_
        };
        while !t.is_null() && (*t).basetype == ffi::LY_DATA_TYPE::LY_TYPE_LEAFREF {
            t = (*t.cast::<ffi::lysc_type_leafref>()).realtype;
        }
        (!t.is_null()).then(|| (*t).basetype)
    }
}

/// Whether `a` and `b` have one base type whose equal values have equal
/// canonical strings and that libyang compares without conversion.
fn same_plain_type(a: Sch, b: Sch) -> bool {
    use ffi::LY_DATA_TYPE::*;
    match (base_type(a), base_type(b)) {
        (Some(x), Some(y)) => {
            x == y
                && matches!(
                    x,
                    LY_TYPE_STRING
                        | LY_TYPE_BOOL
                        | LY_TYPE_ENUM
                        | LY_TYPE_IDENT
                        | LY_TYPE_INT8
                        | LY_TYPE_INT16
                        | LY_TYPE_INT32
                        | LY_TYPE_INT64
                        | LY_TYPE_UINT8
                        | LY_TYPE_UINT16
                        | LY_TYPE_UINT32
                        | LY_TYPE_UINT64
                )
        }
        _ => false,
    }
}

/// The targets of a leafref leaf (none for other nodes).
fn lref_targets(s: Sch) -> Vec<Sch> {
    let mut out = Vec::new();
    // SAFETY: live compiled node; the set is freed here.
    unsafe {
        let mut set: *mut ffi::ly_set = std::ptr::null_mut();
        if ffi::lysc_node_lref_targets(s.0, &mut set) == ffi::LY_ERR::LY_SUCCESS && !set.is_null() {
            for i in 0..(*set).count as usize {
                out.push(Sch(*(*set).__bindgen_anon_1.snodes.add(i)));
            }
            ffi::ly_set_free(set, None);
        }
    }
    out
}

fn is_current(e: &Expr) -> bool {
    matches!(e, Expr::Call(n, a) if n == "current" && a.is_empty())
}

/// The analysis of one expression.
struct Walk {
    ctx_node: Sch,
    cur_mod: *const ffi::lys_module,
    prefixes: *const ffi::lysc_prefix,
    /// (node, value read, scope depth of a local atom, walk bindings).
    atoms: Vec<(Sch, bool, Option<usize>, Vec<usize>)>,
    /// (list, key leaf, value compared with the key).
    bindings: Vec<(Sch, Sch, LocalPath)>,
    /// A leafref's target list and binding, given to the main path's step
    /// into that list.
    lref: Option<(Sch, usize)>,
    /// How many predicates the walk is inside.
    in_pred: usize,
    opaque: Option<String>,
}

impl Walk {
    fn new(ctx_node: Sch, cur_mod: *const ffi::lys_module, prefixes: *const ffi::lysc_prefix) -> Walk {
        Walk {
            ctx_node,
            cur_mod,
            prefixes,
            atoms: Vec::new(),
            bindings: Vec::new(),
            lref: None,
            in_pred: 0,
            opaque: None,
        }
    }

    /// The route at the context node (`current()`, a relative path).
    fn start(&self) -> Route {
        Route {
            pos: vec![self.ctx_node],
            global: self.ctx_node.is_root(),
            scope: self.ctx_node.depth(),
            at_ctx: true,
            bindings: Vec::new(),
        }
    }

    fn atom(&mut self, s: Sch, value: bool, r: &Route) {
        if !s.is_root() {
            let bindings = if r.global {
                r.bindings.iter().copied().filter(|&b| self.bindings[b].0.is_ancestor_or_self_of(s)).collect()
            } else {
                Vec::new()
            };
            self.atoms.push((s, value, (!r.global).then_some(r.scope), bindings));
        }
    }

    fn bind(&mut self, list: Sch, key: Sch, value: LocalPath) -> usize {
        self.bindings.push((list, key, value));
        self.bindings.len() - 1
    }

    /// `e` as a [`LocalPath`] when it is `current()`, or a path from
    /// `current()` (or from the context node when `ctx` is it) through
    /// parents and single containers to one leaf.
    fn local_path(&mut self, e: &Expr, ctx: &Route) -> Option<LocalPath> {
        let steps: &[Step] = match e {
            e if is_current(e) => &[],
            Expr::Path(p) => match &p.start {
                Start::Context if ctx.at_ctx => &p.steps,
                Start::Filter(f, preds) if preds.is_empty() && is_current(f) => &p.steps,
                _ => return None,
            },
            _ => return None,
        };
        let (mut up, mut down, mut at) = (0, Vec::new(), self.ctx_node);
        for st in steps {
            if !st.preds.is_empty() {
                return None;
            }
            match (st.axis, &st.test) {
                (Axis::SelfAxis, Test::Node) => {}
                (Axis::Parent, Test::Node) if !at.is_root() => {
                    if down.pop().is_none() {
                        up += 1;
                    }
                    at = at.parent();
                }
                (Axis::Child, Test::Name(..)) if !at.is_root() => {
                    let [c] = self.children(at, &st.test)?[..] else { return None };
                    if c.nodetype() & (ffi::LYS_CONTAINER | ffi::LYS_LEAF) == 0 {
                        return None;
                    }
                    down.push(c);
                    at = c;
                }
                _ => return None,
            }
        }
        let leaf = if up == 0 && down.is_empty() { ffi::LYS_LEAF | ffi::LYS_LEAFLIST } else { ffi::LYS_LEAF };
        (at.nodetype() & leaf != 0).then_some((up, down))
    }

    /// A conjunct `key = value` of the first predicate of a step into
    /// `list` (later predicates only filter the entries with that key; a
    /// position in the first would depend on the other entries).
    fn key_binding(&mut self, list: Sch, pred: &Expr) -> Option<usize> {
        if mentions_position(pred) {
            return None;
        }
        // Inside a predicate the context is the list entry: only values
        // from `current()` qualify.
        let entries = Route::global(vec![list], Vec::new());
        for e in conjuncts(pred) {
            let Expr::Binary(xpath::BinOp::Eq, a, b) = e else { continue };
            for (k, v) in [(a, b), (b, a)] {
                let Expr::Path(Path { start: Start::Context, steps }) = &**k else { continue };
                let [Step { axis: Axis::Child, test: test @ Test::Name(..), preds }] = &steps[..] else {
                    continue;
                };
                if !preds.is_empty() {
                    continue;
                }
                let children = self.children(list, test)?;
                let [key] = children[..] else { continue };
                if key_of(key) != Some(list) {
                    continue;
                }
                let Some(value) = self.local_path(v, &entries) else { continue };
                // libyang compares by type (a string "01" equals a uint8 1):
                // only values of the key's own type compare as strings do.
                let leaf = value.1.last().copied().unwrap_or(self.ctx_node);
                if same_plain_type(key, leaf) {
                    return Some(self.bind(list, key, value));
                }
            }
        }
        None
    }

    fn give_up(&mut self, why: impl Into<String>) {
        if self.opaque.is_none() {
            self.opaque = Some(why.into());
        }
    }

    /// The module of a name prefix (none: the current module).
    fn module_of(&self, prefix: Option<&str>) -> Option<*const ffi::lys_module> {
        let Some(p) = prefix else { return Some(self.cur_mod) };
        // SAFETY: the prefix array belongs to the compiled schema.
        unsafe {
            for i in 0..count(self.prefixes) {
                let e = self.prefixes.add(i);
                if !(*e).prefix.is_null() && CStr::from_ptr((*e).prefix).to_bytes() == p.as_bytes() {
                    return Some((*e).mod_);
                }
            }
        }
        None
    }

    fn expr(&mut self, e: &Expr, ctx: &Route, value: bool) -> Option<Route> {
        match e {
            Expr::Binary(op, l, r) => {
                let v = !op.is_logical();
                self.expr(l, ctx, v);
                self.expr(r, ctx, v);
                None
            }
            Expr::Neg(x) => {
                self.expr(x, ctx, true);
                None
            }
            Expr::Union(a, b) => {
                let ra = self.expr(a, ctx, value);
                let rb = self.expr(b, ctx, value);
                match (ra, rb) {
                    (Some(mut a), Some(b)) => {
                        a.pos.extend(b.pos);
                        a.global |= b.global;
                        a.at_ctx = false;
                        if a.bindings != b.bindings {
                            a.bindings.clear();
                        }
                        Some(a)
                    }
                    _ => None,
                }
            }
            Expr::Literal(_) | Expr::Number(_) => None,
            Expr::Var(v) => {
                self.give_up(format!("variable ${v}"));
                None
            }
            Expr::Call(name, args) => {
                let r = self.call(name, args, ctx);
                if value {
                    if let Some(r) = &r {
                        self.value_of(r);
                    }
                }
                r
            }
            Expr::Path(p) => self.path(p, ctx, value),
        }
    }

    fn call(&mut self, name: &str, args: &[Expr], ctx: &Route) -> Option<Route> {
        match name {
            "current" => Some(self.start()),
            "deref" => {
                let value = self.local_path(args.first()?, ctx);
                let arg = self.expr(args.first()?, ctx, true)?;
                let mut targets = Vec::new();
                for p in &arg.pos {
                    let t = if p.is_root() { Vec::new() } else { lref_targets(*p) };
                    if t.is_empty() {
                        self.give_up("deref of a node that is not a leafref");
                        return None;
                    }
                    targets.extend(t);
                }
                // The targets are the nodes whose value is the argument's:
                // for a list key, that one entry.
                let mut bindings = Vec::new();
                if let ([t], Some(value)) = (&targets[..], value) {
                    if let Some(list) = key_of(*t) {
                        bindings.push(self.bind(list, *t, value));
                    }
                }
                let r = Route::global(targets, bindings);
                for t in &r.pos {
                    self.atom(*t, true, &r);
                }
                Some(r)
            }
            "count" | "not" | "boolean" | "local-name" | "name" | "namespace-uri" => {
                for a in args {
                    self.expr(a, ctx, false);
                }
                None
            }
            "position" | "last" | "true" | "false" => None,
            "string"
            | "number"
            | "sum"
            | "concat"
            | "contains"
            | "starts-with"
            | "substring"
            | "substring-before"
            | "substring-after"
            | "string-length"
            | "normalize-space"
            | "translate"
            | "floor"
            | "ceiling"
            | "round"
            | "derived-from"
            | "derived-from-or-self"
            | "enum-value"
            | "bit-is-set"
            | "re-match" => {
                if args.is_empty()
                    && matches!(name, "string" | "number" | "string-length" | "normalize-space")
                {
                    // The context node's value.
                    self.value_of(ctx);
                }
                for a in args {
                    self.expr(a, ctx, true);
                }
                None
            }
            other => {
                self.give_up(format!("function {other}()"));
                None
            }
        }
    }

    /// Records that the value of the route's nodes is read.
    fn value_of(&mut self, r: &Route) {
        for p in &r.pos {
            self.atom(*p, true, r);
        }
    }

    fn path(&mut self, p: &Path, ctx: &Route, value: bool) -> Option<Route> {
        let mut r = match &p.start {
            Start::Root => Route::global(vec![Sch::ROOT], Vec::new()),
            Start::Context => ctx.clone(),
            Start::Filter(prim, preds) => {
                let Some(r) = self.expr(prim, ctx, value || !p.steps.is_empty()) else {
                    self.give_up("a filter on a value that is not a node set");
                    return None;
                };
                self.in_pred += 1;
                for pred in preds {
                    self.expr(pred, &r, false);
                }
                self.in_pred -= 1;
                r
            }
        };
        for step in &p.steps {
            r = self.step(r, step)?;
        }
        if value && p.steps.last().is_some() {
            self.value_of(&r);
        }
        Some(r)
    }

    fn step(&mut self, r: Route, step: &Step) -> Option<Route> {
        let mut out: Vec<Sch> = Vec::new();
        let mut passed: Vec<Sch> = Vec::new();
        for &p in &r.pos {
            match step.axis {
                Axis::Child => out.extend(self.children(p, &step.test)?),
                Axis::Parent => {
                    if !p.is_root() {
                        out.push(p.parent());
                    }
                }
                Axis::SelfAxis => out.push(p),
                Axis::Descendant | Axis::DescendantOrSelf => {
                    if p.is_root() {
                        self.give_up("descendants of the root");
                        return None;
                    }
                    if step.axis == Axis::DescendantOrSelf {
                        out.push(p);
                    }
                    let mut stack = p.data_children();
                    while let Some(c) = stack.pop() {
                        out.push(c);
                        stack.extend(c.data_children());
                    }
                }
                Axis::Ancestor | Axis::AncestorOrSelf => {
                    if step.axis == Axis::AncestorOrSelf {
                        out.push(p);
                    }
                    let mut a = p;
                    while !a.is_root() {
                        a = a.parent();
                        out.push(a);
                    }
                }
                Axis::FollowingSibling | Axis::PrecedingSibling => {
                    if p.is_root() {
                        continue;
                    }
                    let parent = p.parent();
                    passed.push(parent);
                    if parent.is_root() {
                        self.give_up("siblings of a top-level node");
                        return None;
                    }
                    out.extend(parent.data_children());
                }
                _ => {
                    self.give_up(format!("axis {:?}", step.axis));
                    return None;
                }
            }
        }
        // The node test (the child axis applied it already).
        if step.axis != Axis::Child {
            let mut kept = Vec::new();
            for p in out {
                if self.matches(p, &step.test)? {
                    kept.push(p);
                }
            }
            out = kept;
        }
        out.sort_by_key(|s| s.0 as usize);
        out.dedup();
        if out.is_empty() && !r.pos.is_empty() && matches!(step.test, Test::Name(..)) {
            self.give_up(format!("a step that selects no schema node ({:?})", step.test));
            return None;
        }
        // Bindings hold while the route stays in the entries it selected:
        // not along siblings, not above the list.
        let sideways = matches!(step.axis, Axis::FollowingSibling | Axis::PrecedingSibling);
        let mut bindings: Vec<usize> = r
            .bindings
            .iter()
            .copied()
            .filter(|&b| !sideways && out.iter().all(|s| self.bindings[b].0.is_ancestor_or_self_of(*s)))
            .collect();
        if let [list] = out[..] {
            if list.nodetype() & ffi::LYS_LIST != 0 {
                if let Some(b) = step.preds.first().and_then(|p| self.key_binding(list, p)) {
                    bindings.push(b);
                }
                match self.lref {
                    Some((l, b)) if l == list && self.in_pred == 0 && !bindings.contains(&b) => {
                        bindings.push(b)
                    }
                    _ => {}
                }
            }
        }
        let mut next = Route {
            global: r.global || out.iter().any(|s| s.is_root()),
            scope: r.scope,
            pos: Vec::new(),
            at_ctx: false,
            bindings,
        };
        if !next.global {
            for s in out.iter().chain(passed.iter()) {
                next.scope = next.scope.min(s.depth());
            }
            next.global = next.scope == 0;
        }
        // Nodes reached going down are read; ancestors reached by climbing
        // exist as long as the context node does (a global route records
        // every node).
        let down =
            !matches!(step.axis, Axis::Parent | Axis::Ancestor | Axis::AncestorOrSelf | Axis::SelfAxis);
        if next.global || down {
            for s in out.iter().chain(passed.iter().filter(|_| next.global)) {
                self.atom(*s, false, &next);
            }
        }
        next.pos = out;
        self.in_pred += 1;
        for pred in &step.preds {
            self.expr(pred, &next, false);
        }
        self.in_pred -= 1;
        Some(next)
    }

    /// The data children of `p` (top-level nodes for the root) that match.
    fn children(&mut self, p: Sch, test: &Test) -> Option<Vec<Sch>> {
        let candidates = if p.is_root() {
            let module = match test {
                Test::Name(prefix, _) | Test::Any(prefix @ Some(_)) => {
                    match self.module_of(prefix.as_deref()) {
                        Some(m) => m,
                        None => {
                            self.give_up("unknown prefix");
                            return None;
                        }
                    }
                }
                _ => {
                    self.give_up("every top-level node");
                    return None;
                }
            };
            let mut v = Vec::new();
            // SAFETY: live compiled module.
            unsafe {
                if !module.is_null() && !(*module).compiled.is_null() {
                    push_data_nodes((*(*module).compiled).data, &mut v);
                }
            }
            v
        } else if *test == Test::Text {
            // `leaf/text()`: the leaf's own value.
            return Some(if p.nodetype() & (ffi::LYS_LEAF | ffi::LYS_LEAFLIST) != 0 {
                vec![p]
            } else {
                vec![]
            });
        } else {
            p.data_children()
        };
        let mut out = Vec::new();
        for c in candidates {
            if self.matches(c, test)? {
                out.push(c);
            }
        }
        Some(out)
    }

    fn matches(&mut self, s: Sch, test: &Test) -> Option<bool> {
        if s.is_root() {
            return Some(*test == Test::Node);
        }
        Some(match test {
            Test::Node => true,
            Test::Text => s.nodetype() & (ffi::LYS_LEAF | ffi::LYS_LEAFLIST) != 0,
            Test::Other => false,
            Test::Any(None) => true,
            Test::Any(Some(p)) => match self.module_of(Some(p)) {
                Some(m) => s.module() == m,
                None => {
                    self.give_up("unknown prefix");
                    return None;
                }
            },
            Test::Name(prefix, name) => match self.module_of(prefix.as_deref()) {
                Some(m) => s.module() == m && s.name() == *name,
                None => {
                    self.give_up("unknown prefix");
                    return None;
                }
            },
        })
    }
}
