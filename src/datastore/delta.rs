//! What one commit changed, as a short list of subtree copies: the form in
//! which a commit is replayed onto the datastore's second tree, written to
//! the journal, and recovered at start.
//!
//! A [`Delta`] is computed from the old and the new state of a commit and
//! the data paths the commit touched (the edit's changes plus what libyang's
//! validation changed: defaults added, nodes auto-deleted). Each path is
//! turned into a *copy point*: the node itself, or its nearest ancestor
//! whose parent exists in the old state (a node created inside containers
//! that did not exist before is copied from the top-most new one). Copy
//! points below another copy point are dropped. Each becomes one
//! [`DeltaOp`]: `Remove` (the node is gone) or `Put` (the new subtree
//! replaces the old one, at a position for user-ordered entries).
//!
//! Applying the ops in order to a tree equal to the old state gives a tree
//! equal to the new state, flags included when the subtrees are copied from
//! the new tree ([`apply_from_tree`], used for the second in-memory tree).
//! From the journal ([`Delta::decode`] then [`apply_from_journal`]) the
//! subtrees are parsed back from XML; recovery validates the result once, in
//! full, which restores libyang's flags.
//!
//! Ordering: a `Put` of a user-ordered entry names the entry it follows in
//! the new state; ops are emitted so that this anchor is in place first.
//! Cost follows the number of copy points, never the size of the tree.

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};
use yang3::context::Context;
use yang3::data::{DataFormat, DataParserFlags, DataTree, DataValidationFlags};

use super::edit::{self, Change, Position};
use crate::schema::ffi::{self, RawNode};

/// One copy point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeltaOp {
    pub path: String,
    pub kind: OpKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpKind {
    /// The node at `path` no longer exists.
    Remove,
    /// The subtree at `path` is the new one. `position` for user-ordered
    /// entries: first among its instances, or right after this entry.
    Put { position: Option<Position> },
}

/// What a commit changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delta {
    /// A few subtrees changed.
    Ops(Vec<DeltaOp>),
    /// The whole content was replaced (copy-config, a large edit): the
    /// other tree is rebuilt by a copy, the journal holds the full state.
    All,
}

/// Past this many copy points a delta becomes [`Delta::All`]: one full copy
/// is then cheaper than many small ones.
pub const MAX_OPS: usize = 20_000;

/// The data paths a list of edit changes touched.
pub fn change_paths(changes: &[Change]) -> Vec<String> {
    changes.iter().map(|c| c.path().to_string()).collect()
}

/// The data paths of the nodes a libyang diff creates, deletes or replaces
/// (the top of each changed subtree).
///
/// # Safety
/// `diff` is NULL or a live diff tree.
pub unsafe fn diff_paths(diff: RawNode) -> Vec<String> {
    let mut out = Vec::new();
    // SAFETY: contract.
    unsafe { walk_diff(diff, |node, _| out.push(ffi::node_path(node, false))) };
    out
}

/// Calls `f` on each node of a libyang diff whose `yang:operation` is
/// create, delete or replace (the top of each changed subtree, in document
/// order), with that operation; nodes with operation none are walked into.
///
/// # Safety
/// `diff` is NULL or a live diff tree, not modified by `f`.
pub unsafe fn walk_diff(diff: RawNode, mut f: impl FnMut(RawNode, &str)) {
    let mut stack = Vec::new();
    let push_siblings = |stack: &mut Vec<RawNode>, first: RawNode| {
        let mut level = Vec::new();
        let mut n = first;
        while !n.is_null() {
            level.push(n);
            // SAFETY: walks live siblings.
            n = unsafe { ffi::node_next(n) };
        }
        stack.extend(level.into_iter().rev());
    };
    push_siblings(&mut stack, diff);
    while let Some(node) = stack.pop() {
        // SAFETY: a live node of the diff.
        let op = unsafe { ffi::node_metadata(node) }
            .into_iter()
            .find(|(m, name, _)| m == "yang" && name == "operation")
            .map(|(_, _, v)| v);
        match op.as_deref() {
            Some(op @ ("create" | "delete" | "replace")) => f(node, op),
            // SAFETY: as above.
            _ => push_siblings(&mut stack, unsafe { ffi::node_first_child(node) }),
        }
    }
}

/// The proper ancestors of a data path, shortest first (`/a:x/l[k='1']/y`
/// gives `/a:x`, `/a:x/l[k='1']`). Slashes inside quoted key values are
/// not separators.
pub fn ancestors(path: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quote: Option<char> = None;
    for (i, ch) in path.char_indices() {
        match (quote, ch) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(ch),
            (None, '/') if i > 0 => out.push(&path[..i]),
            _ => {}
        }
    }
    out
}

/// Computes the delta from the tree `old` (first top-level node, or NULL)
/// to `new` for the touched `paths`.
///
/// # Safety
/// Both trees live, of one context, not modified during the call.
pub unsafe fn compute(old: RawNode, new: RawNode, paths: &[String]) -> Delta {
    if paths.len() > 4 * MAX_OPS {
        return Delta::All;
    }
    // Copy points, each once.
    let mut points: Vec<String> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for p in paths {
        // SAFETY: contract.
        let point = unsafe { copy_point(old, new, p) };
        if let Some(point) = point {
            if seen.insert(point.clone()) {
                points.push(point);
            }
        }
        if points.len() > MAX_OPS {
            return Delta::All;
        }
    }
    // Drop the points below another point.
    points.retain(|p| !ancestors(p).iter().any(|a| seen.contains(*a)));

    let mut ops: Vec<DeltaOp> = Vec::with_capacity(points.len());
    for path in points {
        // SAFETY: contract.
        let kind = match unsafe { ffi::find_path(new, &path) } {
            None => OpKind::Remove,
            Some(n) => OpKind::Put { position: unsafe { edit::position_of(n) } },
        };
        ops.push(DeltaOp { path, kind });
    }
    Delta::Ops(anchors_first(ops))
}

/// The node to copy for a touched path: the path itself when its parent
/// exists in `old` (or it is top-level), else its top-most ancestor that is
/// new. `None` when the node exists in neither tree.
unsafe fn copy_point(old: RawNode, new: RawNode, path: &str) -> Option<String> {
    // SAFETY: contract of `compute`.
    unsafe {
        let in_new = ffi::find_path(new, path);
        let in_old = ffi::find_path(old, path);
        match (in_new, in_old) {
            (None, None) => None,
            (None, Some(_)) | (Some(_), Some(_)) => Some(path.to_string()),
            (Some(n), None) => {
                let mut node = n;
                loop {
                    let parent = ffi::node_parent(node);
                    if parent.is_null() || ffi::find_path(old, &ffi::node_path(parent, false)).is_some() {
                        return Some(ffi::node_path(node, false));
                    }
                    node = parent;
                }
            }
        }
    }
}

/// Reorders ops so that the anchor of each positioned `Put`, when it is
/// itself a `Put` of this delta, comes before it.
fn anchors_first(ops: Vec<DeltaOp>) -> Vec<DeltaOp> {
    let index: HashMap<&str, usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, o)| matches!(o.kind, OpKind::Put { .. }))
        .map(|(i, o)| (o.path.as_str(), i))
        .collect();
    let anchor_of = |i: usize| match &ops[i].kind {
        OpKind::Put { position: Some(Position::After(a)) } => index.get(a.as_str()).copied(),
        _ => None,
    };
    let mut order = Vec::with_capacity(ops.len());
    let mut done = vec![false; ops.len()];
    for i in 0..ops.len() {
        let mut chain = Vec::new();
        let mut j = i;
        while !done[j] {
            done[j] = true;
            chain.push(j);
            match anchor_of(j) {
                Some(a) => j = a,
                None => break,
            }
        }
        order.extend(chain.into_iter().rev());
    }
    let mut slots: Vec<Option<DeltaOp>> = ops.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// A tree being changed through raw nodes, keeping its first top-level
/// node right.
pub struct RawTree {
    pub root: RawNode,
}

impl RawTree {
    /// Removes the node at `path` if there is one.
    ///
    /// # Safety
    /// `root` is a live tree nothing else uses.
    pub unsafe fn remove(&mut self, path: &str) {
        // SAFETY: contract.
        unsafe {
            if let Some(n) = ffi::find_path(self.root, path) {
                if n == self.root {
                    self.root = ffi::node_next(n);
                }
                let _ = ffi::unlink(n);
                ffi::free_tree(n);
            }
        }
    }

    /// Inserts the unlinked `node` (whose data path is `path`) under its
    /// parent, which must exist, at `position`.
    ///
    /// # Safety
    /// `root` is a live tree nothing else uses; `node` is unlinked, of the
    /// same context, and owned by the caller (it is consumed, also on error).
    pub unsafe fn insert(
        &mut self,
        path: &str,
        node: RawNode,
        position: Option<&Position>,
    ) -> Result<(), String> {
        // SAFETY: contract.
        unsafe {
            let parent = match ancestors(path).last() {
                None => std::ptr::null_mut(),
                Some(pp) => match ffi::find_path(self.root, pp) {
                    Some(p) => p,
                    None => {
                        ffi::free_tree(node);
                        return Err(format!("parent of {path} missing"));
                    }
                },
            };
            let placed = match position {
                Some(Position::After(anchor)) => match ffi::find_path(self.root, anchor) {
                    Some(a) => ffi::insert_after(a, node).is_ok(),
                    None => false,
                },
                Some(Position::First) => {
                    let siblings = if parent.is_null() { self.root } else { ffi::node_first_child(parent) };
                    match ffi::find_sibling_val(siblings, ffi::node_schema(node), None) {
                        Some(first) => ffi::insert_before(first, node).is_ok(),
                        None => false,
                    }
                }
                None => false,
            };
            let linked = if placed {
                Ok(())
            } else if parent.is_null() {
                ffi::insert_sibling(self.root, node).map(|_| ())
            } else {
                ffi::insert_child(parent, node)
            };
            if linked.is_err() {
                ffi::free_tree(node);
                return Err(format!("cannot insert {path}"));
            }
            if ffi::node_parent(node).is_null() {
                self.root = ffi::first_sibling(node);
            }
            Ok(())
        }
    }
}

/// Applies `ops` to `target` (equal to the old state), copying each new
/// subtree from `source` (the new state) with its flags.
///
/// # Safety
/// `target.root` is a live tree nothing else uses; `source` is a live tree
/// of the same context that nothing modifies during the call.
pub unsafe fn apply_from_tree(target: &mut RawTree, source: RawNode, ops: &[DeltaOp]) -> Result<(), String> {
    for op in ops {
        // SAFETY: contract.
        unsafe {
            target.remove(&op.path);
            if let OpKind::Put { position } = &op.kind {
                let n = ffi::find_path(source, &op.path)
                    .ok_or_else(|| format!("{} missing in source", op.path))?;
                let copy = ffi::dup_exact(n).map_err(|e| format!("cannot copy {} (libyang {e})", op.path))?;
                target.insert(&op.path, copy, position.as_ref())?;
            }
        }
    }
    Ok(())
}

// ---- journal form ----

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Record {
    Ops(Vec<RecordOp>),
    All(String),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RecordOp {
    path: String,
    /// XML of the subtree with its ancestors; absent for a removal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    xml: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    first: bool,
}

/// A delta read back from the journal.
pub enum Decoded {
    Ops(Vec<(DeltaOp, Option<String>)>),
    All(String),
}

/// The journal payload of `delta`, with subtrees printed from `new`.
///
/// # Safety
/// `new` is a live tree nothing modifies during the call.
pub unsafe fn encode(delta: &Delta, new: RawNode) -> Result<Vec<u8>, String> {
    let record = match delta {
        // SAFETY: contract.
        Delta::All => Record::All(unsafe { ffi::print_xml(new, true) }.map_err(|e| format!("print: {e}"))?),
        Delta::Ops(ops) => {
            let mut out = Vec::with_capacity(ops.len());
            for op in ops {
                let mut r = RecordOp { path: op.path.clone(), xml: None, after: None, first: false };
                if let OpKind::Put { position } = &op.kind {
                    // SAFETY: contract.
                    unsafe {
                        let n =
                            ffi::find_path(new, &op.path).ok_or_else(|| format!("{} missing", op.path))?;
                        let top = ffi::dup_with_parents(n).map_err(|e| format!("copy: {e}"))?;
                        let xml = ffi::print_xml(top, false);
                        ffi::free_siblings(top);
                        r.xml = Some(xml.map_err(|e| format!("print: {e}"))?);
                    }
                    match position {
                        Some(Position::First) => r.first = true,
                        Some(Position::After(a)) => r.after = Some(a.clone()),
                        None => {}
                    }
                }
                out.push(r);
            }
            Record::Ops(out)
        }
    };
    serde_json::to_vec(&record).map_err(|e| e.to_string())
}

impl Delta {
    /// Reads a journal payload.
    pub fn decode(payload: &[u8]) -> Result<Decoded, String> {
        let record: Record = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
        Ok(match record {
            Record::All(xml) => Decoded::All(xml),
            Record::Ops(ops) => Decoded::Ops(
                ops.into_iter()
                    .map(|r| {
                        let kind = match (&r.xml, r.first, r.after) {
                            (None, _, _) => OpKind::Remove,
                            (Some(_), true, _) => OpKind::Put { position: Some(Position::First) },
                            (Some(_), false, Some(a)) => OpKind::Put { position: Some(Position::After(a)) },
                            (Some(_), false, None) => OpKind::Put { position: None },
                        };
                        (DeltaOp { path: r.path, kind }, r.xml)
                    })
                    .collect(),
            ),
        })
    }
}

/// Parses a config document (XML) without validation, strictly.
pub fn parse_config<'a>(ctx: &'a Context, xml: &str) -> Result<DataTree<'a>, String> {
    if xml.contains('\0') {
        return Err("NUL character in the document".into());
    }
    let flags = DataParserFlags::NO_VALIDATION | DataParserFlags::STRICT | DataParserFlags::NO_STATE;
    let r = DataTree::parse_string(ctx, xml, DataFormat::XML, flags, DataValidationFlags::empty())
        .map_err(|e| e.to_string());
    let _ = ffi::take_errors(ctx);
    r
}

/// Applies journal ops to `target`, parsing each subtree.
///
/// # Safety
/// `target.root` is a live tree of `ctx` nothing else uses.
pub unsafe fn apply_from_journal(
    ctx: &Context,
    target: &mut RawTree,
    ops: Vec<(DeltaOp, Option<String>)>,
) -> Result<(), String> {
    for (op, xml) in ops {
        // SAFETY: contract.
        unsafe {
            target.remove(&op.path);
            let (OpKind::Put { position }, Some(xml)) = (&op.kind, xml) else { continue };
            let fragment = parse_config(ctx, &xml).map_err(|e| format!("{}: {e}", op.path))?;
            let top = fragment.into_raw();
            let found = ffi::find_path(top, &op.path);
            let Some(n) = found else {
                // Only default nodes below it: nothing explicit to restore;
                // the validation after recovery adds the defaults again.
                ffi::free_siblings(top);
                continue;
            };
            // Containers libyang only creates in validation (implicit
            // non-presence ones) may be missing here: bring the fragment's
            // copy from the top-most missing ancestor.
            let mut node = n;
            loop {
                let parent = ffi::node_parent(node);
                if parent.is_null() || ffi::find_path(target.root, &ffi::node_path(parent, false)).is_some() {
                    break;
                }
                node = parent;
            }
            let path = if node == n { op.path.clone() } else { ffi::node_path(node, false) };
            let _ = ffi::unlink(node);
            if node != top {
                ffi::free_siblings(top);
            }
            target.insert(&path, node, if node == n { position.as_ref() } else { None })?;
        }
    }
    Ok(())
}
