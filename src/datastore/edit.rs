//! RFC 6241 §7.2 edit semantics over libyang trees: the `<config>` of an
//! `<edit-config>` applied to a datastore tree, as one pure function.
//!
//! No validation, persistence or locking here: the transaction layer
//! validates the result with libyang afterwards.
//!
//! # Parsing the edit ([`parse_edit`])
//!
//! libyang 3 parses the edit's XML with `LYD_PARSE_ONLY | LYD_PARSE_STRICT |
//! LYD_PARSE_NO_STATE` (no `LYD_PARSE_OPAQ`). NETCONF and YANG attributes
//! become metadata, because libyang adds internal annotations when it loads
//! the modules (`tree_schema.c`: `lysp_add_internal_ietf_netconf`, and the
//! built-in `yang` module's `md:annotation`s):
//! - `nc:operation` (urn:ietf:params:xml:ns:netconf:base:1.0) → metadata
//!   `ietf-netconf:operation`, an enumeration (merge, replace, create,
//!   delete, remove); needs `ietf-netconf` implemented (a protocol module);
//! - `yang:insert` (urn:ietf:params:xml:ns:yang:1) → `yang:insert`, an
//!   enumeration (first, last, before, after); `yang:key` and `yang:value`
//!   → `yang:key`, `yang:value`, strings.
//!
//! With `STRICT`, an attribute of an unknown namespace, an unknown name in a
//! known one, or an unprefixed one is a parse error (unknown-attribute
//! here); a value outside an enumeration is bad-attribute.
//!
//! # Semantics ([`apply_edit`])
//!
//! | operation | node exists | node missing |
//! |---|---|---|
//! | merge | leaf: value set; inner node: children merged | created |
//! | replace | leaf: value set; inner node: children replaced, the others deleted | created |
//! | create | data-exists | created |
//! | delete | deleted | data-missing |
//! | remove | deleted | nothing |
//! | none (default-operation) | children walked; a leaf value is ignored | data-missing, except a non-presence container, which is walked into (created if something below creates) |
//!
//! - Operations are inherited by descendants until overridden. Below a
//!   deleted/removed node nothing is looked at.
//! - A list entry is identified by its keys, a leaf-list entry by its value
//!   (libyang's hashed `lyd_find_sibling_first`); operations on key leaves
//!   are ignored (the entry's operation applies).
//! - A node with the `LYD_DEFAULT` flag (an implicit default) counts as
//!   missing for create, delete and remove (RFC 6243 §4.5.1 / §4.5.2 in
//!   spirit); create of such a leaf sets its value.
//! - Choice (RFC 7950 §7.9.6): creating a node of one case deletes the nodes
//!   of the choice's other cases (nested choices included), and those
//!   deletions are reported. libyang would only do it in validation.
//! - `yang:insert` (RFC 7950 §7.8.6, §7.7.9) on ordered-by user lists and
//!   leaf-lists, for new entries and for moving existing ones (merge,
//!   replace, create). `before`/`after` need `yang:key` (lists, `[k='v']`
//!   predicates, prefixes ignored) or `yang:value` (leaf-lists), else
//!   missing-attribute; an anchor that does not exist is bad-attribute with
//!   app-tag missing-instance (RFC 7950 §15.7). `insert` on any other node
//!   is bad-attribute. Without `insert`, a new entry goes last.
//! - Every error's path is the data path of the offending node of the edit.
//!   Exception: an invalid attribute value on a list entry is reported by
//!   libyang's parser before the keys are read, so its path has no key
//!   predicate (`/m:c/ul`).
//! - Changes: a `Created` node carries only its own value; the subtree the
//!   edit gave it is the one at `path` in the resulting target. Nodes
//!   created only to walk through (non-presence containers under `none`)
//!   are not reported; their created descendants are. An implicit default
//!   made explicit is `Created`. Choice cases cleared are `Deleted`, before
//!   the `Created` that cleared them.
//! - Not checked here (libyang validation does it afterwards): duplicate
//!   instances inside one edit (`LYD_PARSE_ONLY` does not look), which are
//!   applied one after the other.
//!
//! # Atomicity
//!
//! The edit is applied in place, with an undo log: deleted subtrees are only
//! unlinked (freed when the edit succeeds), created ones are freed on undo,
//! values and positions are put back. On error the log is replayed
//! backwards, so `target` is exactly as before (same content and order).
//! The caller does not need to pass a copy. Cost follows the edit: every
//! lookup is a hashed sibling lookup; only `replace` of an existing inner
//! node reads that node's children (which it replaces).

use std::collections::HashSet;

use yang3::context::Context;
use yang3::data::{Data, DataFormat, DataParserFlags, DataTree, DataTreeOwningRef, DataValidationFlags};

use crate::error::{Error, Stage};
use crate::schema::ffi::{self, RawNode, RawSchema};

/// `default-operation` of `<edit-config>` (RFC 6241 §7.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DefaultOperation {
    #[default]
    Merge,
    Replace,
    None,
}

/// The `operation` attribute values, plus `none`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Merge,
    Replace,
    Create,
    Delete,
    Remove,
    None,
}

/// Where a user-ordered entry now sits: first, or right after the entry at
/// this data path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Position {
    First,
    After(String),
}

/// One change made by an edit, in edit order. Paths are libyang data paths
/// of the target (`/module:a/b[k='v']`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A node (with the subtree the edit gave it) was created. `value` for
    /// leaves and leaf-list entries; `position` for user-ordered entries.
    Created { path: String, value: Option<String>, position: Option<Position> },
    /// A node and its subtree were deleted.
    Deleted { path: String, value: Option<String> },
    /// A leaf's value changed.
    Modified { path: String, old: String, new: String },
    /// A user-ordered entry moved.
    Moved { path: String, position: Position },
}

impl Change {
    pub fn path(&self) -> &str {
        match self {
            Change::Created { path, .. }
            | Change::Deleted { path, .. }
            | Change::Modified { path, .. }
            | Change::Moved { path, .. } => path,
        }
    }
}

const NC_MODULE: &str = "ietf-netconf";
const NC_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
const YANG_MODULE: &str = "yang";

/// Parses the content of `<config>` (XML, NETCONF and YANG attributes
/// allowed) into an edit tree, without validation.
pub fn parse_edit<'a>(ctx: &'a Context, xml: &str) -> Result<DataTree<'a>, Error> {
    if xml.contains('\0') {
        return Err(Error::malformed_message("NUL character in the edit"));
    }
    let _ = ffi::take_errors(ctx);
    let flags = DataParserFlags::NO_VALIDATION | DataParserFlags::STRICT | DataParserFlags::NO_STATE;
    match DataTree::parse_string(ctx, xml, DataFormat::XML, flags, DataValidationFlags::empty()) {
        Ok(tree) => {
            let _ = ffi::take_errors(ctx);
            check_attributes(&tree)?;
            Ok(tree)
        }
        Err(_) => {
            let records = ffi::take_errors(ctx);
            let Some(e) = records.iter().find(|e| !e.warning).or(records.first()) else {
                return Err(Error::malformed_message("cannot parse the edit"));
            };
            let error = map_parse_error(e);
            // libyang stores a leaf only with a valid value, but RFC 6241
            // names a leaf to delete or remove by its element alone
            // (`<mtu nc:operation="delete"/>`, as ncclient users write it):
            // read again keeping what libyang cannot store as opaque nodes,
            // and take the edit when each one is such a leaf.
            parse_with_deleted_leaves(ctx, xml).ok_or(error)
        }
    }
}

/// [`parse_edit`]'s second reading: the edit with opaque nodes, when every
/// opaque node is a leaf being deleted or removed (see [`opaque_leaf`])
/// and every attribute is an edit attribute; `None` otherwise.
fn parse_with_deleted_leaves<'a>(ctx: &'a Context, xml: &str) -> Option<DataTree<'a>> {
    // SAFETY: a new tree we own, wrapped right away.
    let root = unsafe { ffi::parse_xml_opaque(ctx, xml) };
    let _ = ffi::take_errors(ctx);
    let root = root.ok().filter(|r| !r.is_null())?;
    // libyang puts opaque siblings last; a tree needs a first node with a
    // schema (an edit of nothing but top-level leaves without a valid value
    // keeps libyang's error).
    // SAFETY: `root` is ours and live.
    if unsafe { ffi::node_schema(root) }.is_null() {
        // SAFETY: as above; nothing else refers to it.
        unsafe { ffi::free_siblings(root) };
        return None;
    }
    let tree = super::store::tree_of(ctx, root);
    let mut opaque = 0;
    // SAFETY: walks the live tree we own, reading only.
    let all_deleted = unsafe {
        ffi::visit_tree(tree.raw(), |n| {
            if !ffi::node_schema(n).is_null() {
                return true;
            }
            let Some((_, op)) = opaque_leaf(n) else { return false };
            let mut effective = op;
            let mut a = ffi::node_parent(n);
            while effective.is_none() && !a.is_null() {
                let Ok(attrs) = read_attrs(a) else { return false };
                effective = attrs.op;
                a = ffi::node_parent(a);
            }
            opaque += 1;
            matches!(effective, Some(Op::Delete | Op::Remove))
        })
    };
    (all_deleted && opaque > 0 && check_attributes(&tree).is_ok()).then_some(tree)
}

/// The leaf an opaque edit node names, with the operation its own
/// attributes give it, when it is a leaf element with no child elements
/// and no attribute but `nc:operation` delete or remove (its content, valid
/// or not, is not looked at: a leaf is deleted whatever its value).
///
/// # Safety
/// `e` is a live node without schema, parsed from XML.
unsafe fn opaque_leaf(e: RawNode) -> Option<(RawSchema, Option<Op>)> {
    // SAFETY: contract.
    unsafe {
        if !ffi::node_first_child(e).is_null() {
            return None;
        }
        let schema = ffi::opaque_schema(e);
        if schema.is_null() {
            return None;
        }
        let (nodetype, flags) = ffi::schema_kind(schema);
        if nodetype != ffi::LYS_LEAF || flags & ffi::LYS_KEY != 0 {
            return None;
        }
        let mut op = None;
        for (ns, name, value) in ffi::opaque_attrs(e) {
            op = match (ns.as_str(), name.as_str(), value.as_str()) {
                (NC_NS, "operation", "delete") => Some(Op::Delete),
                (NC_NS, "operation", "remove") => Some(Op::Remove),
                _ => return None,
            };
        }
        Some((schema, op))
    }
}

/// Attribute errors get their own tags; the rest is the shared table.
fn map_parse_error(e: &ffi::LyError) -> Error {
    let msg = e.message.as_str();
    let (elem_path, attr) = split_meta_path(e.data_path.as_deref());
    let element = elem_path.as_deref().map(last_name).unwrap_or_default();
    let unknown = msg.starts_with("Annotation definition for attribute")
        || msg.starts_with("Missing mandatory prefix for XML metadata")
        || (msg.starts_with("Unknown (or not implemented) YANG module with namespace")
            && msg.contains("for metadata"));
    if unknown {
        let name = first_quoted_after(msg, "attribute").or_else(|| last_quoted(msg)).unwrap_or_default();
        let mut err = Error::unknown_attribute(&name, &element);
        err.path = elem_path;
        return err;
    }
    if let Some(attr) = attr {
        let mut err = Error::bad_attribute(&attr, &element);
        err.path = elem_path;
        return err.with_message(msg);
    }
    Error::from_libyang(e, Stage::Parse)
}

/// Splits libyang's `/a/b/@mod:name` into the element path and `name`.
fn split_meta_path(path: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(p) = path else { return (None, None) };
    match p.rsplit_once("/@") {
        Some((elem, meta)) => {
            let name = meta.rsplit(':').next().unwrap_or(meta).to_string();
            (Some(elem.to_string()).filter(|s| !s.is_empty()), Some(name))
        }
        None => (Some(p.to_string()), None),
    }
}

fn last_name(path: &str) -> String {
    let seg = path.rsplit('/').next().unwrap_or(path);
    let seg = seg.split('[').next().unwrap_or(seg);
    seg.rsplit(':').next().unwrap_or(seg).to_string()
}

fn first_quoted_after(msg: &str, word: &str) -> Option<String> {
    let rest = &msg[msg.find(word)? + word.len()..];
    let start = rest.find('"')? + 1;
    let end = rest[start..].find('"')? + start;
    let q = &rest[start..end];
    Some(q.rsplit(':').next().unwrap_or(q).to_string())
}

fn last_quoted(msg: &str) -> Option<String> {
    let end = msg.rfind('"')?;
    let start = msg[..end].rfind('"')? + 1;
    let q = &msg[start..end];
    Some(q.rsplit(':').next().unwrap_or(q).to_string())
}

/// Rejects metadata that is not an edit attribute (libyang accepts any
/// annotation a loaded module defines).
fn check_attributes(tree: &DataTree<'_>) -> Result<(), Error> {
    for node in tree.traverse() {
        // SAFETY: `node` belongs to the live `tree`, borrowed here.
        let meta = unsafe { ffi::node_metadata(node.as_raw()) };
        for (module, name, _) in meta {
            // `yang:lyds_tree` is libyang's own (the red-black tree of an
            // ordered-by system list, added by the parser).
            let known = (module == NC_MODULE && name == "operation")
                || (module == YANG_MODULE
                    && matches!(name.as_str(), "insert" | "key" | "value" | "lyds_tree"));
            if !known {
                // SAFETY: as above.
                let path = unsafe { ffi::node_path(node.as_raw(), false) };
                let mut err = Error::unknown_attribute(&name, &last_name(&path));
                err.path = Some(path);
                return Err(err);
            }
        }
    }
    Ok(())
}

/// The attributes of one edit node.
struct Attrs {
    op: Option<Op>,
    insert: Option<String>,
    key: Option<String>,
    value: Option<String>,
}

/// Requested position of a user-ordered entry.
enum Insert {
    First,
    Last,
    Before(RawNode),
    After(RawNode),
}

/// What to do to undo one step.
enum Undo {
    /// A node linked in by the edit: unlink and free it.
    Inserted(RawNode),
    /// A subtree unlinked by the edit: link it back where it was.
    Unlinked { node: RawNode, parent: RawNode, prev: RawNode, next: RawNode },
    /// A leaf's value (and flags) before the edit.
    Value { node: RawNode, old: String, flags: u32 },
    /// Data flags before the edit (a default made explicit).
    Flags { node: RawNode, flags: u32 },
    /// A moved entry: put it back after `prev` / before `next`.
    Moved { node: RawNode, parent: RawNode, prev: RawNode, next: RawNode },
}

struct Editor {
    root: RawNode,
    undo: Vec<Undo>,
    changes: Vec<Change>,
    /// Created subtrees may be moved out of the edit (see
    /// [`apply_edits_consuming`]).
    consume: bool,
}

fn internal(what: &str, code: u32) -> Error {
    Error::operation_failed(format!("libyang failed to {what} (error {code})"))
}

/// Applies `edit` (from [`parse_edit`]) to `target` with RFC 6241 §7.2
/// semantics and returns the changes in edit order. On error `target` is
/// left exactly as it was. Both trees must belong to the same context.
pub fn apply_edit(
    target: &mut DataTree<'_>,
    edit: &DataTree<'_>,
    default_operation: DefaultOperation,
) -> Result<Vec<Change>, Error> {
    apply_edits(target, &[(edit, default_operation)]).map_err(|(_, e)| e)
}

/// Applies `edits` in order, all or nothing: each sees what the ones
/// before it did; when one fails (its index is returned with the error)
/// `target` is left exactly as it was before the first. RFC 8072's YANG
/// Patch and the candidate's replayed log are such sequences.
pub fn apply_edits(
    target: &mut DataTree<'_>,
    edits: &[(&DataTree<'_>, DefaultOperation)],
) -> Result<Vec<Change>, (usize, Error)> {
    apply_edits_guarded(target, edits, &|_, _| Ok(()))
}

/// A check of an applied edit before it is kept: the edited tree (its
/// first top-level node) and the changes; a refusal names the change.
pub type Guard<'g> = &'g dyn Fn(RawNode, &[Change]) -> Verdict;

/// A guard's answer: a refusal names the change (its index) and the error.
pub type Verdict = Result<(), (usize, Error)>;

/// [`apply_edits`], with `guard` asked after the last edit: when it refuses
/// (access control), the edit that made the refused change is reported and
/// `target` is left exactly as it was.
pub fn apply_edits_guarded(
    target: &mut DataTree<'_>,
    edits: &[(&DataTree<'_>, DefaultOperation)],
    guard: Guard<'_>,
) -> Result<Vec<Change>, (usize, Error)> {
    apply(target, edits, guard, false)
}

/// [`apply_edits_guarded`] for edits the caller drops afterwards, whatever
/// the outcome: a subtree the edit creates is moved out of the edit into
/// `target` rather than copied, when it holds nothing but data (see
/// [`Editor::movable`]). A bulk create then costs an unlink and an insert
/// per entry instead of a copy of every node. The edits are left valid
/// trees, without what was moved.
pub fn apply_edits_consuming(
    target: &mut DataTree<'_>,
    edits: &mut [(DataTree<'_>, DefaultOperation)],
    guard: Guard<'_>,
) -> Result<Vec<Change>, (usize, Error)> {
    let refs: Vec<_> = edits.iter().map(|(t, d)| (t, *d)).collect();
    apply(target, &refs, guard, true)
}

fn apply(
    target: &mut DataTree<'_>,
    edits: &[(&DataTree<'_>, DefaultOperation)],
    guard: Guard<'_>,
    consume: bool,
) -> Result<Vec<Change>, (usize, Error)> {
    let ctx = target.context();
    let mut ends = Vec::with_capacity(edits.len());
    // Take the tree out of `target` so that top-level nodes can be added and
    // removed (`DataTree` keeps a pointer to its first node).
    let root = std::mem::replace(target, DataTree::new(ctx)).into_raw();
    let mut ed = Editor { root, undo: Vec::new(), changes: Vec::new(), consume };
    let mut result = Ok(());
    'edits: for (i, (edit, default_operation)) in edits.iter().enumerate() {
        let inherited = match default_operation {
            DefaultOperation::Merge => Op::Merge,
            DefaultOperation::Replace => Op::Replace,
            DefaultOperation::None => Op::None,
        };
        let mut e = edit.raw();
        while !e.is_null() {
            // SAFETY: `e` walks the live edit tree; target nodes are ours.
            if let Err(err) = unsafe { ed.apply_node(e, std::ptr::null_mut(), inherited, false) } {
                result = Err((i, err));
                break 'edits;
            }
            // SAFETY: as above.
            e = unsafe { ffi::node_next(e) };
        }
        ends.push(ed.changes.len());
    }
    if result.is_ok() {
        if let Err((change, err)) = guard(ed.root, &ed.changes) {
            let edit = ends.iter().position(|&end| change < end).unwrap_or(edits.len().saturating_sub(1));
            result = Err((edit, err));
        }
    }
    // SAFETY: the undo log holds nodes of the target (or unlinked from it).
    unsafe {
        match result {
            Ok(()) => ed.commit(),
            Err(_) => ed.rollback(),
        }
    }
    let _ = ffi::take_errors(ctx);
    if !ed.root.is_null() {
        // SAFETY: `root` is a node of a tree of `ctx` that nothing else owns.
        let owner = unsafe { DataTreeOwningRef::from_raw_node(ctx, ed.root) };
        *target = std::mem::ManuallyDrop::into_inner(owner).tree;
    }
    result.map(|()| ed.changes)
}

impl Editor {
    /// Frees what the edit deleted.
    unsafe fn commit(&mut self) {
        for u in self.undo.drain(..) {
            if let Undo::Unlinked { node, .. } = u {
                // SAFETY: unlinked by us and never linked again.
                unsafe { ffi::free_tree(node) };
            }
        }
    }

    /// Undoes every step, newest first.
    unsafe fn rollback(&mut self) {
        // SAFETY: see `rollback_to`.
        unsafe { self.rollback_to(0, 0) }
    }

    /// Undoes the steps after the first `mark` ones, newest first, and
    /// forgets the changes after the first `changes` ones.
    unsafe fn rollback_to(&mut self, mark: usize, changes: usize) {
        while self.undo.len() > mark {
            let Some(u) = self.undo.pop() else { break };
            // SAFETY: each step's nodes are live: later steps were undone
            // first, so every anchor recorded is back in place.
            unsafe {
                match u {
                    Undo::Inserted(node) => {
                        self.detach(node);
                        ffi::free_tree(node);
                    }
                    Undo::Unlinked { node, parent, prev, next }
                    | Undo::Moved { node, parent, prev, next } => {
                        if matches!(u, Undo::Moved { .. }) {
                            self.detach(node);
                        }
                        self.relink(node, parent, prev, next);
                    }
                    Undo::Value { node, old, flags } => {
                        let _ = ffi::change_term(node, &old);
                        ffi::set_node_flags(node, flags);
                    }
                    Undo::Flags { node, flags } => ffi::set_node_flags(node, flags),
                }
            }
        }
        self.changes.truncate(changes);
    }

    /// Unlinks `node`, keeping `root` right.
    unsafe fn detach(&mut self, node: RawNode) {
        // SAFETY: `node` is live in the target.
        unsafe {
            if node == self.root {
                self.root = ffi::node_next(node);
            }
            let _ = ffi::unlink(node);
        }
    }

    /// Links an unlinked `node` back: after `prev` or before `next` when
    /// those are instances of the same user-ordered schema node, else where
    /// libyang's ordering puts it.
    unsafe fn relink(&mut self, node: RawNode, parent: RawNode, prev: RawNode, next: RawNode) {
        // SAFETY: all live (see `rollback`).
        unsafe {
            let s = ffi::node_schema(node);
            let (_, flags) = ffi::schema_kind(s);
            if flags & ffi::LYS_ORDBY_USER != 0 {
                if !prev.is_null() && ffi::node_schema(prev) == s && ffi::insert_after(prev, node).is_ok() {
                    self.fix_root(node);
                    return;
                }
                if !next.is_null() && ffi::node_schema(next) == s && ffi::insert_before(next, node).is_ok() {
                    self.fix_root(node);
                    return;
                }
            }
            let _ = self.link(parent, node);
        }
    }

    unsafe fn fix_root(&mut self, node: RawNode) {
        // SAFETY: `node` live.
        unsafe {
            if ffi::node_parent(node).is_null() {
                self.root = ffi::first_sibling(node);
            }
        }
    }

    /// Links an unlinked `node` under `parent` (NULL: top level).
    unsafe fn link(&mut self, parent: RawNode, node: RawNode) -> Result<(), u32> {
        // SAFETY: `node` is ours and unlinked; `parent` live or NULL.
        unsafe {
            if parent.is_null() {
                self.root = ffi::insert_sibling(self.root, node)?;
                Ok(())
            } else {
                ffi::insert_child(parent, node)
            }
        }
    }

    unsafe fn first_of(&self, parent: RawNode) -> RawNode {
        if parent.is_null() {
            self.root
        } else {
            // SAFETY: `parent` live.
            unsafe { ffi::node_first_child(parent) }
        }
    }

    /// Records and performs the deletion of `t`.
    unsafe fn delete(&mut self, t: RawNode) -> Result<(), Error> {
        // SAFETY: `t` is a live target node.
        unsafe {
            let path = ffi::node_path(t, false);
            let value = ffi::node_value(t);
            let (parent, prev, next) = (ffi::node_parent(t), ffi::node_prev(t), ffi::node_next(t));
            self.detach(t);
            self.undo.push(Undo::Unlinked { node: t, parent, prev, next });
            self.changes.push(Change::Deleted { path, value });
        }
        Ok(())
    }

    unsafe fn apply_node(
        &mut self,
        e: RawNode,
        tparent: RawNode,
        inherited: Op,
        in_created: bool,
    ) -> Result<(), Error> {
        // SAFETY: `e` is a live edit node, `tparent` a live target node or
        // NULL; every target node used below is found under it.
        unsafe {
            let mut schema = ffi::node_schema(e);
            let attrs = if schema.is_null() {
                // Only a leaf to delete or remove is kept opaque
                // (`parse_edit`); it is found by its schema alone.
                let Some((s, op)) = opaque_leaf(e) else { return Ok(()) };
                if !matches!(op.unwrap_or(inherited), Op::Delete | Op::Remove) {
                    let path = ffi::node_path(e, false);
                    return Err(Error::invalid_value(format!("{path}: no valid value")).with_path(path));
                }
                schema = s;
                Attrs { op, insert: None, key: None, value: None }
            } else {
                read_attrs(e)?
            };
            let (nodetype, sflags) = ffi::schema_kind(schema);
            if sflags & ffi::LYS_KEY != 0 {
                return Ok(());
            }
            let op = attrs.op.unwrap_or(inherited);
            // List and leaf-list entries by keys / value (hashed); other
            // nodes by schema only (a leaf's value must not take part).
            let first = self.first_of(tparent);
            let t = if nodetype & (ffi::LYS_LIST | ffi::LYS_LEAFLIST) != 0 {
                ffi::find_sibling_first(first, e)
            } else {
                ffi::find_sibling_val(first, schema, None)
            };
            let is_default = t.is_some_and(|t| ffi::node_flags(t) & ffi::LYD_DEFAULT != 0);
            let explicit = t.filter(|_| !is_default);
            match op {
                Op::Delete | Op::Remove => match explicit {
                    Some(t) => self.delete(t),
                    None if op == Op::Delete => Err(Error::data_missing(ffi::node_path(e, false))),
                    None => Ok(()),
                },
                Op::Create if explicit.is_some() => Err(Error::data_exists(ffi::node_path(e, false))),
                Op::None => match t {
                    Some(t) => {
                        // An existing user-ordered entry named with a
                        // position and no operation moves (YANG Patch
                        // `move`): it must exist, nothing else changes.
                        if let Some(pos) = self.insert_position(e, schema, tparent, &attrs)? {
                            self.move_entry(t, pos)?;
                        }
                        self.walk_children(e, t, Op::None, in_created)
                    }
                    None if nodetype == ffi::LYS_CONTAINER && sflags & ffi::LYS_PRESENCE == 0 => {
                        // A non-presence container has no existence of its own:
                        // walk into it, creating it silently.
                        let (mark, changes) = (self.undo.len(), self.changes.len());
                        let new = self.create_node(e, tparent, None, false)?;
                        self.walk_children(e, new, Op::None, in_created)?;
                        // Nothing created below: undo it (and any other
                        // case it cleared).
                        if ffi::node_first_child(new).is_null() {
                            self.rollback_to(mark, changes);
                        }
                        Ok(())
                    }
                    None => Err(Error::data_missing(ffi::node_path(e, false))),
                },
                Op::Merge | Op::Replace | Op::Create => {
                    let insert = self.insert_position(e, schema, tparent, &attrs)?;
                    match t {
                        Some(t)
                            if nodetype == ffi::LYS_LEAF
                                || (nodetype & (ffi::LYS_LEAFLIST | ffi::LYS_LIST) != 0)
                                || nodetype == ffi::LYS_CONTAINER =>
                        {
                            if let Some(pos) = insert {
                                self.move_entry(t, pos)?;
                            }
                            if nodetype == ffi::LYS_LEAF {
                                self.set_leaf(e, t)
                            } else if nodetype == ffi::LYS_LEAFLIST {
                                if is_default {
                                    let flags = ffi::node_flags(t);
                                    ffi::set_node_flags(t, flags & !ffi::LYD_DEFAULT);
                                    self.undo.push(Undo::Flags { node: t, flags });
                                    self.changes.push(Change::Created {
                                        path: ffi::node_path(t, false),
                                        value: ffi::node_value(t),
                                        position: position_of(t),
                                    });
                                }
                                Ok(())
                            } else {
                                let mark = self.undo.len();
                                self.walk_children(e, t, op, in_created)?;
                                if op == Op::Replace {
                                    self.delete_unnamed_children(e, t, mark)?;
                                }
                                Ok(())
                            }
                        }
                        Some(t) => {
                            // anydata / anyxml: replaced as a whole.
                            self.delete(t)?;
                            self.create_subtree(e, tparent, insert, in_created)
                        }
                        None => {
                            let moved = self.consume && Self::movable(e);
                            let new = self.create_node(e, tparent, insert, moved)?;
                            if !in_created {
                                self.changes.push(Change::Created {
                                    path: ffi::node_path(new, false),
                                    value: ffi::node_value(new),
                                    position: position_of(new),
                                });
                            }
                            if moved {
                                return Ok(());
                            }
                            let child_op = if op == Op::Create { Op::Merge } else { op };
                            self.walk_children(e, new, child_op, true)
                        }
                    }
                }
            }
        }
    }

    /// Applies every child of `e` under `t`.
    unsafe fn walk_children(
        &mut self,
        e: RawNode,
        t: RawNode,
        op: Op,
        in_created: bool,
    ) -> Result<(), Error> {
        // SAFETY: live nodes, see `apply_node`.
        unsafe {
            let mut c = ffi::node_first_child(e);
            while !c.is_null() {
                // Read before `c` is applied: it may be moved into `t`.
                let next = ffi::node_next(c);
                self.apply_node(c, t, op, in_created)?;
                c = next;
            }
        }
        Ok(())
    }

    /// Whether the edit node `e`, not on the edit's top level, can be moved
    /// as it is into the target to create it: its subtree is nothing but
    /// data, so walking it would copy it node by node to the same result.
    /// That excludes any edit attribute (operation, insert) or other
    /// metadata, an opaque node, anydata/anyxml, a node in a choice below
    /// `e` (creating one case clears the others) and a repeated instance
    /// below `e` (walking merges repeats).
    unsafe fn movable(e: RawNode) -> bool {
        // SAFETY: `e` is a live edit node.
        unsafe {
            if ffi::node_parent(e).is_null() {
                // The edit's `DataTree` points at its first top-level node.
                return false;
            }
            ffi::visit_subtree(e, |n| {
                let s = ffi::node_schema(n);
                if s.is_null() || ffi::has_metadata(n) {
                    return false;
                }
                let kind = ffi::schema_kind(s).0;
                if kind & (ffi::LYS_CONTAINER | ffi::LYS_LIST | ffi::LYS_LEAF | ffi::LYS_LEAFLIST) == 0 {
                    return false;
                }
                if n == e {
                    return true;
                }
                let p = ffi::schema_parent(s);
                if !p.is_null() && ffi::schema_kind(p).0 == ffi::LYS_CASE {
                    return false;
                }
                if kind & (ffi::LYS_LIST | ffi::LYS_LEAFLIST) != 0 {
                    ffi::find_sibling_first(ffi::first_sibling(n), n) == Some(n)
                } else {
                    let prev = ffi::node_prev(n);
                    prev.is_null() || ffi::node_schema(prev) != s
                }
            })
        }
    }

    /// `replace`: deletes the children of `t` the edit `e` does not name,
    /// after `e`'s children were applied: what they created (undo steps
    /// after `mark`) is named even when it was moved out of `e`.
    unsafe fn delete_unnamed_children(&mut self, e: RawNode, t: RawNode, mark: usize) -> Result<(), Error> {
        let created: HashSet<RawNode> = (self.undo.get(mark..).unwrap_or(&[]).iter())
            .filter_map(|u| match u {
                Undo::Inserted(n) => Some(*n),
                _ => None,
            })
            .collect();
        // SAFETY: live nodes.
        unsafe {
            let efirst = ffi::node_first_child(e);
            let mut doomed = Vec::new();
            let mut c = ffi::node_first_child(t);
            while !c.is_null() {
                if created.contains(&c) {
                    c = ffi::node_next(c);
                    continue;
                }
                let default = ffi::node_flags(c) & ffi::LYD_DEFAULT != 0;
                let (kind, f) = ffi::schema_kind(ffi::node_schema(c));
                let named = if kind & (ffi::LYS_LIST | ffi::LYS_LEAFLIST) != 0 {
                    ffi::find_sibling_first(efirst, c)
                } else {
                    ffi::find_sibling_val(efirst, ffi::node_schema(c), None)
                };
                if f & ffi::LYS_KEY == 0 && !default && named.is_none() {
                    doomed.push(c);
                }
                c = ffi::node_next(c);
            }
            for c in doomed {
                self.delete(c)?;
            }
        }
        Ok(())
    }

    /// Sets the value of the existing leaf `t` to that of `e`.
    unsafe fn set_leaf(&mut self, e: RawNode, t: RawNode) -> Result<(), Error> {
        // SAFETY: live term nodes.
        unsafe {
            let new = ffi::node_value(e).unwrap_or_default();
            let old = ffi::node_value(t).unwrap_or_default();
            let flags = ffi::node_flags(t);
            let was_default = flags & ffi::LYD_DEFAULT != 0;
            if old == new && !was_default {
                return Ok(());
            }
            ffi::change_term(t, &new).map_err(|c| internal("change a value", c))?;
            ffi::set_node_flags(t, ffi::node_flags(t) & !ffi::LYD_DEFAULT);
            self.undo.push(Undo::Value { node: t, old: old.clone(), flags });
            let path = ffi::node_path(t, false);
            // An implicit default made explicit is a creation.
            self.changes.push(if was_default {
                Change::Created { path, value: Some(new), position: None }
            } else {
                Change::Modified { path, old, new }
            });
        }
        Ok(())
    }

    /// Creates `e` under `tparent`, clearing the choice's other cases
    /// first: a copy of `e` alone (a list entry with its keys), or, when
    /// `take` (see [`Self::movable`]), `e` with its subtree moved out of the
    /// edit, its nodes given the flags a copy would have.
    unsafe fn create_node(
        &mut self,
        e: RawNode,
        tparent: RawNode,
        insert: Option<Insert>,
        take: bool,
    ) -> Result<RawNode, Error> {
        // SAFETY: live nodes; the duplicate, or `e` once unlinked from an
        // edit the caller drops afterwards, is ours until linked.
        unsafe {
            self.clear_other_cases(tparent, ffi::node_schema(e))?;
            let new = if take {
                ffi::unlink(e).map_err(|c| internal("move a node", c))?;
                ffi::visit_subtree(e, |n| {
                    let f = ffi::node_flags(n);
                    ffi::set_node_flags(n, (f & (ffi::LYD_DEFAULT | ffi::LYD_EXT)) | ffi::LYD_NEW);
                    true
                });
                e
            } else {
                ffi::dup_node(e, false).map_err(|c| internal("copy a node", c))?
            };
            self.place(new, tparent, insert)?;
            Ok(new)
        }
    }

    /// Creates a copy of the whole subtree `e` (anydata/anyxml).
    unsafe fn create_subtree(
        &mut self,
        e: RawNode,
        tparent: RawNode,
        insert: Option<Insert>,
        in_created: bool,
    ) -> Result<(), Error> {
        // SAFETY: as `create_node`.
        unsafe {
            self.clear_other_cases(tparent, ffi::node_schema(e))?;
            let new = ffi::dup_node(e, true).map_err(|c| internal("copy a node", c))?;
            self.place(new, tparent, insert)?;
            if !in_created {
                self.changes.push(Change::Created {
                    path: ffi::node_path(new, false),
                    value: None,
                    position: None,
                });
            }
        }
        Ok(())
    }

    /// Links the unlinked `new` under `tparent` at `insert` and logs it.
    unsafe fn place(&mut self, new: RawNode, tparent: RawNode, insert: Option<Insert>) -> Result<(), Error> {
        // SAFETY: `new` is ours; anchors are live target siblings.
        unsafe {
            let r = match insert {
                Some(Insert::Before(a)) => ffi::insert_before(a, new),
                Some(Insert::After(a)) => ffi::insert_after(a, new),
                Some(Insert::First) => {
                    match ffi::find_sibling_val(self.first_of(tparent), ffi::node_schema(new), None) {
                        Some(first) => ffi::insert_before(first, new),
                        None => self.link(tparent, new),
                    }
                }
                Some(Insert::Last) | None => self.link(tparent, new),
            };
            if let Err(c) = r {
                ffi::free_tree(new);
                return Err(internal("insert a node", c));
            }
            self.fix_root(new);
            self.undo.push(Undo::Inserted(new));
        }
        Ok(())
    }

    /// Moves the existing user-ordered entry `t` to `pos`.
    unsafe fn move_entry(&mut self, t: RawNode, pos: Insert) -> Result<(), Error> {
        // SAFETY: live target nodes.
        unsafe {
            let s = ffi::node_schema(t);
            let (parent, prev, next) = (ffi::node_parent(t), ffi::node_prev(t), ffi::node_next(t));
            let r = match pos {
                Insert::Before(a) | Insert::After(a) if a == t => return Ok(()),
                Insert::Before(a) => ffi::insert_before(a, t),
                Insert::After(a) => ffi::insert_after(a, t),
                Insert::First => {
                    let first = ffi::find_sibling_val(self.first_of(parent), s, None);
                    match first {
                        Some(f) if f == t => return Ok(()),
                        Some(f) => ffi::insert_before(f, t),
                        None => return Ok(()),
                    }
                }
                Insert::Last => {
                    let n = ffi::node_next(t);
                    if n.is_null() || ffi::node_schema(n) != s {
                        return Ok(());
                    }
                    // libyang appends a user-ordered entry after the last
                    // instance.
                    self.detach(t);
                    let r = self.link(parent, t);
                    if r.is_err() {
                        self.relink(t, parent, prev, next);
                    }
                    r
                }
            };
            r.map_err(|c| internal("move an entry", c))?;
            self.fix_root(t);
            self.undo.push(Undo::Moved { node: t, parent, prev, next });
            if let Some(position) = position_of(t) {
                self.changes.push(Change::Moved { path: ffi::node_path(t, false), position });
            }
        }
        Ok(())
    }

    /// The position `e` asks for, checked: `None` without `yang:insert`.
    unsafe fn insert_position(
        &self,
        e: RawNode,
        schema: RawSchema,
        tparent: RawNode,
        a: &Attrs,
    ) -> Result<Option<Insert>, Error> {
        // SAFETY: live nodes.
        unsafe {
            let name = ffi::schema_name(schema);
            let path = || ffi::node_path(e, false);
            let (nodetype, flags) = ffi::schema_kind(schema);
            let user_ordered =
                nodetype & (ffi::LYS_LIST | ffi::LYS_LEAFLIST) != 0 && flags & ffi::LYS_ORDBY_USER != 0;
            let Some(insert) = a.insert.as_deref() else {
                if a.key.is_some() || a.value.is_some() {
                    let attr = if a.key.is_some() { "key" } else { "value" };
                    return Err(Error::bad_attribute(attr, &name).with_path(path()));
                }
                return Ok(None);
            };
            if !user_ordered {
                return Err(Error::bad_attribute("insert", &name).with_path(path()));
            }
            let (anchor_attr, anchor) = if nodetype == ffi::LYS_LIST {
                ("key", a.key.as_deref())
            } else {
                ("value", a.value.as_deref())
            };
            match insert {
                "first" => Ok(Some(Insert::First)),
                "last" => Ok(Some(Insert::Last)),
                "before" | "after" => {
                    let Some(anchor) = anchor else {
                        return Err(Error::missing_attribute(anchor_attr, &name).with_path(path()));
                    };
                    let lookup = if nodetype == ffi::LYS_LIST {
                        match strip_predicate_prefixes(anchor) {
                            Some(p) => p,
                            None => return Err(Error::bad_attribute(anchor_attr, &name).with_path(path())),
                        }
                    } else {
                        anchor.to_string()
                    };
                    match ffi::find_sibling_val(self.first_of(tparent), schema, Some(&lookup)) {
                        Some(n) if insert == "before" => Ok(Some(Insert::Before(n))),
                        Some(n) => Ok(Some(Insert::After(n))),
                        None => Err(Error::bad_attribute(anchor_attr, &name)
                            .with_app_tag("missing-instance")
                            .with_path(path())),
                    }
                }
                _ => Err(Error::bad_attribute("insert", &name).with_path(path())),
            }
        }
    }

    /// RFC 7950 §7.9.6: before creating an instance of `schema` under
    /// `tparent`, delete the data of the other cases of every choice
    /// `schema` sits in (up to the next data node).
    unsafe fn clear_other_cases(&mut self, tparent: RawNode, schema: RawSchema) -> Result<(), Error> {
        // SAFETY: schema nodes of the live context; target nodes live.
        unsafe {
            let mut s = schema;
            loop {
                let p = ffi::schema_parent(s);
                if p.is_null() || ffi::schema_kind(p).0 != ffi::LYS_CASE {
                    return Ok(());
                }
                let choice = ffi::schema_parent(p);
                for case in ffi::schema_children(choice) {
                    if case != p {
                        self.delete_schema_instances(tparent, case)?;
                    }
                }
                s = choice;
            }
        }
    }

    /// Deletes the instances (under `tparent`) of every data node in the
    /// case or choice `s`.
    unsafe fn delete_schema_instances(&mut self, tparent: RawNode, s: RawSchema) -> Result<(), Error> {
        // SAFETY: as `clear_other_cases`.
        unsafe {
            for c in ffi::schema_children(s) {
                let kind = ffi::schema_kind(c).0;
                if kind == ffi::LYS_CHOICE || kind == ffi::LYS_CASE {
                    self.delete_schema_instances(tparent, c)?;
                    continue;
                }
                while let Some(n) = ffi::find_sibling_val(self.first_of(tparent), c, None) {
                    if ffi::node_flags(n) & ffi::LYD_DEFAULT != 0 {
                        // Implicit nodes are not the user's: drop silently.
                        let (parent, prev, next) =
                            (ffi::node_parent(n), ffi::node_prev(n), ffi::node_next(n));
                        self.detach(n);
                        self.undo.push(Undo::Unlinked { node: n, parent, prev, next });
                    } else {
                        self.delete(n)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Where a user-ordered entry sits now; `None` for other nodes.
///
/// # Safety
/// `n` is a live data node.
pub(crate) unsafe fn position_of(n: RawNode) -> Option<Position> {
    // SAFETY: `n` live.
    unsafe {
        let s = ffi::node_schema(n);
        let (kind, flags) = ffi::schema_kind(s);
        if kind & (ffi::LYS_LIST | ffi::LYS_LEAFLIST) == 0 || flags & ffi::LYS_ORDBY_USER == 0 {
            return None;
        }
        let prev = ffi::node_prev(n);
        if !prev.is_null() && ffi::node_schema(prev) == s {
            Some(Position::After(ffi::node_path(prev, false)))
        } else {
            Some(Position::First)
        }
    }
}

/// Reads the edit attributes of `e`.
unsafe fn read_attrs(e: RawNode) -> Result<Attrs, Error> {
    let mut a = Attrs { op: None, insert: None, key: None, value: None };
    // SAFETY: `e` live.
    for (module, name, value) in unsafe { ffi::node_metadata(e) } {
        match (module.as_str(), name.as_str()) {
            (NC_MODULE, "operation") => {
                a.op = Some(match value.as_str() {
                    "merge" => Op::Merge,
                    "replace" => Op::Replace,
                    "create" => Op::Create,
                    "delete" => Op::Delete,
                    "remove" => Op::Remove,
                    _ => {
                        // SAFETY: as above.
                        let (n, p) =
                            unsafe { (ffi::schema_name(ffi::node_schema(e)), ffi::node_path(e, false)) };
                        return Err(Error::bad_attribute("operation", &n).with_path(p));
                    }
                })
            }
            (YANG_MODULE, "insert") => a.insert = Some(value),
            (YANG_MODULE, "key") => a.key = Some(value),
            (YANG_MODULE, "value") => a.value = Some(value),
            _ => {}
        }
    }
    Ok(a)
}

/// `[p:k='v'][k2="w"]` → `[k='v'][k2='w']` (JSON form, module prefixes of
/// the list's own module implied); `None` when it is not a key predicate.
fn strip_predicate_prefixes(s: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = s.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        rest = rest.strip_prefix('[')?.trim_start();
        let eq = rest.find('=')?;
        let name = rest[..eq].trim();
        let name = name.rsplit(':').next().unwrap_or(name);
        if name.is_empty() {
            return None;
        }
        rest = rest[eq + 1..].trim_start();
        let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
        rest = &rest[1..];
        let end = rest.find(quote)?;
        let value = &rest[..end];
        rest = rest[end + 1..].trim_start().strip_prefix(']')?.trim_start();
        if value.contains('\'') {
            out.push_str(&format!("[{name}=\"{value}\"]"));
        } else {
            out.push_str(&format!("[{name}='{value}']"));
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn predicates() {
        assert_eq!(strip_predicate_prefixes("[ex:name='a b']").as_deref(), Some("[name='a b']"));
        assert_eq!(strip_predicate_prefixes(" [a=\"x'y\"] [b='2']").as_deref(), Some("[a=\"x'y\"][b='2']"));
        assert_eq!(strip_predicate_prefixes("name='a'"), None);
        assert_eq!(strip_predicate_prefixes("[name='a'"), None);
    }

    #[test]
    fn meta_paths() {
        assert_eq!(
            split_meta_path(Some("/m:a/b/@ietf-netconf:operation")),
            (Some("/m:a/b".to_string()), Some("operation".to_string()))
        );
        assert_eq!(last_name("/m:a/l[k='v']"), "l");
    }
}
