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
//! In the journal ([`encode`], [`Delta::decode`], [`apply_from_journal`])
//! each subtree is kept twice: as LYB, which gives back the exact subtree
//! (default nodes and libyang's flags included) under the same module set,
//! and as XML of its explicit nodes, readable under any module set. Recovery
//! under the module set the journal was written with replays the LYB and
//! validates nothing; otherwise it replays the XML and validates once, in
//! full, which also restores the flags.
//!
//! Ordering: a `Put` of a user-ordered entry names the entry it follows in
//! the new state; ops are emitted so that this anchor is in place first.
//! Cost follows the number of copy points, never the size of the tree.

use std::borrow::Cow;
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
//
// Version 1 (still read): the JSON of `RecordV1`, subtrees as XML of
// their explicit nodes. Version 2: `MAGIC`, a little-endian u32 header
// length, the JSON `Header`, then the blobs the header sizes, back to
// back. Each subtree is there twice: as XML (explicit nodes, readable under
// any module set) and as LYB (every node with libyang's flags, readable
// only under the module set named by `Header::schema`), so recovery under
// an unchanged module set rebuilds the exact tree without validating it.
// A snapshot is a version-2 record of the whole content (version 1: the
// XML alone).

const MAGIC: &[u8; 4] = b"OCJ2";

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum RecordV1 {
    Ops(Vec<RecordOpV1>),
    All(String),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RecordOpV1 {
    path: String,
    /// XML of the subtree with its ancestors; absent for a removal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    xml: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    first: bool,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct Header {
    /// The fingerprint of the module set the LYB blobs were printed under.
    schema: String,
    /// `None`: the whole content, one fragment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ops: Option<Vec<HeaderOp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    all: Option<Sizes>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
struct HeaderOp {
    path: String,
    /// Absent for a removal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    put: Option<Sizes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    after: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    first: bool,
}

/// Byte lengths of one fragment's two blobs.
#[derive(Serialize, Deserialize, Clone, Copy)]
struct Sizes {
    xml: u64,
    lyb: u64,
}

/// One subtree (with its ancestors) or the whole content, as read back
/// (borrowed from the payload when it is version 2).
pub struct Fragment<'a> {
    /// Explicit nodes, XML.
    pub xml: Cow<'a, str>,
    /// Every node with its flags, LYB (absent in version-1 records).
    pub lyb: Option<&'a [u8]>,
}

/// A delta read back from the journal.
pub enum Decoded<'a> {
    Ops(Vec<(DeltaOp, Option<Fragment<'a>>)>),
    All(Fragment<'a>),
}

/// A journal record or snapshot read back.
pub struct Recorded<'a> {
    /// The module-set fingerprint its LYB blobs need (`None`: version 1).
    pub schema: Option<String>,
    pub delta: Decoded<'a>,
}

impl Recorded<'_> {
    /// Whether its LYB blobs can be trusted under the module set `schema`.
    pub fn exact_under(&self, schema: &str) -> bool {
        self.schema.as_deref() == Some(schema)
    }
}

/// Appends the XML and LYB of `node` (with its following siblings when
/// `whole`) to `blobs`.
///
/// # Safety
/// `node` is NULL or a live node nothing modifies during the call.
unsafe fn push_fragment(blobs: &mut Vec<u8>, node: RawNode, whole: bool) -> Result<Sizes, String> {
    // The two printers only read the tree (readers print published trees
    // concurrently the same way): a large content is printed in both
    // forms at once, a small one on this thread (a thread costs more).
    struct Shared(RawNode);
    // SAFETY: the tree is not modified while both printers read it (contract).
    unsafe impl Send for Shared {}
    // SAFETY: contract.
    let large = whole || unsafe { ffi::subtree_larger_than(node, PRINT_ON_TWO_THREADS) };
    let shared = Shared(node);
    let (xml, lyb) = if large {
        std::thread::scope(|scope| {
            let lyb = scope.spawn(move || {
                let shared = shared;
                // SAFETY: contract.
                unsafe { ffi::print_lyb(shared.0, whole) }
            });
            // SAFETY: contract.
            let xml = unsafe { ffi::print_xml(node, whole) };
            (xml, lyb.join().unwrap_or(Err(0)))
        })
    } else {
        // SAFETY: contract.
        unsafe { (ffi::print_xml(node, false), ffi::print_lyb(node, false)) }
    };
    let xml = xml.map_err(|e| format!("print: {e}"))?;
    let lyb = lyb.map_err(|e| format!("print LYB: {e}"))?;
    blobs.extend_from_slice(xml.as_bytes());
    blobs.extend_from_slice(&lyb);
    Ok(Sizes { xml: xml.len() as u64, lyb: lyb.len() as u64 })
}

/// Above this many nodes a fragment's XML and LYB are printed on two
/// threads.
const PRINT_ON_TWO_THREADS: usize = 2_000;

/// The journal payload of `delta`, with subtrees printed from `new`, the
/// LYB blobs marked as printed under the module set `schema`.
///
/// # Safety
/// `new` is a live tree nothing modifies during the call.
pub unsafe fn encode(delta: &Delta, new: RawNode, schema: &str) -> Result<Vec<u8>, String> {
    let mut blobs = Vec::new();
    let mut header = Header { schema: schema.to_string(), ops: None, all: None };
    match delta {
        // SAFETY: contract.
        Delta::All => header.all = Some(unsafe { push_fragment(&mut blobs, new, true) }?),
        Delta::Ops(ops) => {
            let mut out = Vec::with_capacity(ops.len());
            for op in ops {
                let mut h = HeaderOp { path: op.path.clone(), put: None, after: None, first: false };
                if let OpKind::Put { position } = &op.kind {
                    // SAFETY: contract; the copy is ours and freed here.
                    unsafe {
                        let n =
                            ffi::find_path(new, &op.path).ok_or_else(|| format!("{} missing", op.path))?;
                        // A nested node is printed with its ancestors (and
                        // their keys), from a copy; a top-level one as it is.
                        h.put = Some(if ffi::node_parent(n).is_null() {
                            push_fragment(&mut blobs, n, false)?
                        } else {
                            let top = ffi::dup_with_parents(n).map_err(|e| format!("copy: {e}"))?;
                            let sizes = push_fragment(&mut blobs, top, false);
                            ffi::free_siblings(top);
                            sizes?
                        });
                    }
                    match position {
                        Some(Position::First) => h.first = true,
                        Some(Position::After(a)) => h.after = Some(a.clone()),
                        None => {}
                    }
                }
                out.push(h);
            }
            header.ops = Some(out);
        }
    }
    let head = serde_json::to_vec(&header).map_err(|e| e.to_string())?;
    let head_len = u32::try_from(head.len()).map_err(|_| "record header too long".to_string())?;
    let mut payload = Vec::with_capacity(MAGIC.len() + 4 + head.len() + blobs.len());
    payload.extend_from_slice(MAGIC);
    payload.extend_from_slice(&head_len.to_le_bytes());
    payload.extend_from_slice(&head);
    payload.extend_from_slice(&blobs);
    Ok(payload)
}

/// The snapshot payload of the whole tree `root` (see [`encode`]).
///
/// # Safety
/// As for [`encode`].
pub unsafe fn encode_snapshot(root: RawNode, schema: &str) -> Result<Vec<u8>, String> {
    // SAFETY: contract.
    unsafe { encode(&Delta::All, root, schema) }
}

/// Reads blobs off the front of a record's body.
struct Blobs<'a>(&'a [u8]);

impl<'a> Blobs<'a> {
    fn fragment(&mut self, sizes: Sizes) -> Result<Fragment<'a>, String> {
        let short = || "record shorter than its header says".to_string();
        let xml_len = usize::try_from(sizes.xml).map_err(|_| short())?;
        let lyb_len = usize::try_from(sizes.lyb).map_err(|_| short())?;
        let end = xml_len.checked_add(lyb_len).filter(|&e| e <= self.0.len()).ok_or_else(short)?;
        let xml = std::str::from_utf8(&self.0[..xml_len]).map_err(|e| format!("XML blob: {e}"))?;
        let fragment = Fragment { xml: Cow::Borrowed(xml), lyb: Some(&self.0[xml_len..end]) };
        self.0 = &self.0[end..];
        Ok(fragment)
    }
}

fn op_of(path: String, put: bool, first: bool, after: Option<String>) -> DeltaOp {
    let kind = match (put, first, after) {
        (false, _, _) => OpKind::Remove,
        (true, true, _) => OpKind::Put { position: Some(Position::First) },
        (true, false, Some(a)) => OpKind::Put { position: Some(Position::After(a)) },
        (true, false, None) => OpKind::Put { position: None },
    };
    DeltaOp { path, kind }
}

impl Delta {
    /// Reads a journal payload (either version).
    pub fn decode(payload: &[u8]) -> Result<Recorded<'_>, String> {
        let Some(rest) = payload.strip_prefix(MAGIC) else {
            let record: RecordV1 = serde_json::from_slice(payload).map_err(|e| e.to_string())?;
            let delta = match record {
                RecordV1::All(xml) => Decoded::All(Fragment { xml: Cow::Owned(xml), lyb: None }),
                RecordV1::Ops(ops) => Decoded::Ops(
                    ops.into_iter()
                        .map(|r| {
                            let op = op_of(r.path, r.xml.is_some(), r.first, r.after);
                            (op, r.xml.map(|xml| Fragment { xml: Cow::Owned(xml), lyb: None }))
                        })
                        .collect(),
                ),
            };
            return Ok(Recorded { schema: None, delta });
        };
        let (len, rest) = rest.split_first_chunk::<4>().ok_or("record header truncated")?;
        let len = u32::from_le_bytes(*len) as usize;
        if len > rest.len() {
            return Err("record header truncated".into());
        }
        let header: Header =
            serde_json::from_slice(&rest[..len]).map_err(|e| format!("record header: {e}"))?;
        let mut blobs = Blobs(&rest[len..]);
        let delta = match (header.ops, header.all) {
            (None, Some(sizes)) => Decoded::All(blobs.fragment(sizes)?),
            (Some(ops), None) => Decoded::Ops(
                ops.into_iter()
                    .map(|h| {
                        let fragment = h.put.map(|s| blobs.fragment(s)).transpose()?;
                        Ok((op_of(h.path, h.put.is_some(), h.first, h.after), fragment))
                    })
                    .collect::<Result<_, String>>()?,
            ),
            _ => return Err("record header has neither ops nor a whole content".into()),
        };
        if !blobs.0.is_empty() {
            return Err("record longer than its header says".into());
        }
        Ok(Recorded { schema: Some(header.schema), delta })
    }

    /// Reads a snapshot payload: a version-2 whole-content record, or (as
    /// written before) the XML alone.
    pub fn decode_snapshot(payload: &[u8]) -> Result<Recorded<'_>, String> {
        if payload.starts_with(MAGIC) {
            return match Delta::decode(payload)? {
                r @ Recorded { delta: Decoded::All(_), .. } => Ok(r),
                _ => Err("a snapshot holds the whole content, not changes".into()),
            };
        }
        let xml = std::str::from_utf8(payload).map_err(|e| format!("snapshot is not UTF-8: {e}"))?;
        Ok(Recorded { schema: None, delta: Decoded::All(Fragment { xml: Cow::Borrowed(xml), lyb: None }) })
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

/// Parses a fragment: its LYB when `exact` (the tree as it was printed,
/// flags and default nodes included, not validated), else its XML
/// (explicit nodes, to be validated).
pub fn parse_fragment<'a>(
    ctx: &'a Context,
    fragment: &Fragment<'_>,
    exact: bool,
) -> Result<DataTree<'a>, String> {
    if !exact {
        return parse_config(ctx, &fragment.xml);
    }
    let lyb = fragment.lyb.ok_or("no LYB form")?;
    // SAFETY: the journal checked the payload's checksum; the result is
    // a new tree we own.
    let r = unsafe { ffi::parse_lyb(ctx, lyb) };
    let errors = ffi::take_errors(ctx);
    match r {
        Ok(root) => {
            // Readers will share it: no lazy canonical values left.
            // SAFETY: the new tree, not shared yet.
            unsafe { ffi::fill_canonical(root) };
            Ok(super::store::tree_of(ctx, root))
        }
        Err(e) => Err(format!(
            "LYB: {}",
            errors.first().map_or_else(|| format!("libyang error {e}"), |r| r.message.clone())
        )),
    }
}

/// The data path of the first place where the trees of `a` and `b` (first
/// top-level nodes, or NULL) differ: a node, a value, or one of the flags
/// `LYD_DEFAULT` and `LYD_WHEN_TRUE`, in document order; `None` when equal.
///
/// # Safety
/// Both trees live and not modified during the call.
pub unsafe fn first_difference(a: RawNode, b: RawNode) -> Option<String> {
    const FLAGS: u32 = ffi::LYD_DEFAULT | ffi::LYD_WHEN_TRUE;
    let mut stack = vec![(a, b)];
    // SAFETY: contract; walks live siblings and children.
    unsafe {
        while let Some((mut x, mut y)) = stack.pop() {
            while !x.is_null() || !y.is_null() {
                if x.is_null() || y.is_null() {
                    let n = if x.is_null() { y } else { x };
                    return Some(format!("{} (only in one)", ffi::node_path(n, false)));
                }
                if ffi::node_schema(x) != ffi::node_schema(y)
                    || ffi::node_value(x) != ffi::node_value(y)
                    || ffi::node_flags(x) & FLAGS != ffi::node_flags(y) & FLAGS
                {
                    return Some(format!(
                        "{} (flags {:#x} and {:#x})",
                        ffi::node_path(x, false),
                        ffi::node_flags(x),
                        ffi::node_flags(y)
                    ));
                }
                stack.push((ffi::node_first_child(x), ffi::node_first_child(y)));
                (x, y) = (ffi::node_next(x), ffi::node_next(y));
            }
        }
    }
    None
}

/// Applies journal ops to `target`, parsing each subtree (see
/// [`parse_fragment`] for `exact`).
///
/// # Safety
/// `target.root` is a live tree of `ctx` nothing else uses.
pub unsafe fn apply_from_journal(
    ctx: &Context,
    target: &mut RawTree,
    ops: &[(DeltaOp, Option<Fragment<'_>>)],
    exact: bool,
) -> Result<(), String> {
    for (op, fragment) in ops {
        // SAFETY: contract.
        unsafe {
            target.remove(&op.path);
            let (OpKind::Put { position }, Some(fragment)) = (&op.kind, fragment) else { continue };
            let fragment = parse_fragment(ctx, fragment, exact).map_err(|e| format!("{}: {e}", op.path))?;
            let top = fragment.into_raw();
            let found = ffi::find_path(top, &op.path);
            let Some(n) = found else {
                // Only default nodes below it (XML): nothing explicit to
                // restore; the validation after recovery adds the defaults.
                ffi::free_siblings(top);
                continue;
            };
            // Containers libyang only creates in validation (implicit
            // non-presence ones) may be missing here (XML): bring the
            // fragment's copy from the top-most missing ancestor.
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

#[cfg(test)]
mod tests {
    use super::*;
    use yang3::data::Data;

    fn v2(header: &str, body: &[u8]) -> Vec<u8> {
        let mut p = MAGIC.to_vec();
        p.extend_from_slice(&(header.len() as u32).to_le_bytes());
        p.extend_from_slice(header.as_bytes());
        p.extend_from_slice(body);
        p
    }

    fn err(payload: &[u8]) -> String {
        match Delta::decode(payload) {
            Ok(_) => panic!("decoded {payload:?}"),
            Err(e) => e,
        }
    }

    #[test]
    fn a_version_2_record_reads_back_its_blobs_and_fingerprint() {
        let h = r#"{"schema":"f","ops":[{"path":"/a:x","put":{"xml":3,"lyb":2},"after":"/a:y"},{"path":"/a:z"}]}"#;
        let payload = v2(h, b"<x>\x01\x02");
        let r = Delta::decode(&payload).unwrap();
        assert!(r.exact_under("f") && !r.exact_under("g"));
        let Decoded::Ops(ops) = r.delta else { panic!("not ops") };
        assert_eq!(ops.len(), 2);
        let f = ops[0].1.as_ref().unwrap();
        assert_eq!((f.xml.as_ref(), f.lyb), ("<x>", Some(&b"\x01\x02"[..])));
        assert_eq!(ops[0].0.kind, OpKind::Put { position: Some(Position::After("/a:y".into())) });
        assert!(ops[1].1.is_none() && ops[1].0.kind == OpKind::Remove);
    }

    /// Term nodes of the tree of `first` whose canonical string libyang has
    /// not stored yet.
    fn lacking_canonical(first: RawNode) -> usize {
        let mut count = 0;
        // SAFETY: a live tree of the test; terms are `lyd_node_term`.
        unsafe {
            ffi::visit_tree(first, |n| {
                if let Some(term) = ffi::term_of(n) {
                    count += usize::from((*term).value._canonical.is_null());
                }
                true
            })
        };
        count
    }

    #[test]
    fn a_tree_read_from_lyb_has_every_canonical_value_before_it_is_shared() {
        let dir = tempfile::tempdir().unwrap();
        let module = r#"module lz { yang-version 1.1; namespace "urn:lz"; prefix lz;
            container c { leaf b { type binary; } leaf u { type union { type int8; type string; } }
            leaf-list f { type bits { bit x; bit y; } } } }"#;
        std::fs::write(dir.path().join("lz.yang"), module).unwrap();
        let opts = crate::schema::LoadOptions {
            search_dirs: vec![dir.path().to_path_buf()],
            embedded: false,
            protocol_modules: false,
            modules: vec![crate::schema::ModuleSpec { name: "lz".into(), revision: None, features: vec![] }],
        };
        let schema = crate::schema::Schema::load(&opts).unwrap();
        let ctx = schema.context();
        let xml = r#"<c xmlns="urn:lz"><b>AAEC</b><u>7</u><f>x y</f><f>y</f></c>"#;
        let tree = parse_config(ctx, xml).unwrap();
        // SAFETY: our trees.
        unsafe {
            let lyb = ffi::print_lyb(tree.raw(), true).unwrap();
            let raw = ffi::parse_lyb(ctx, &lyb).unwrap();
            assert!(
                lacking_canonical(raw) > 0,
                "libyang now stores canonical values from LYB: drop fill_canonical"
            );
            ffi::free_siblings(raw);
            let fragment = Fragment { xml: Cow::Borrowed(xml), lyb: Some(&lyb) };
            let exact = parse_fragment(ctx, &fragment, true).unwrap();
            assert_eq!(lacking_canonical(exact.raw()), 0);
        }
    }

    #[test]
    fn broken_version_2_records_are_refused_with_a_reason() {
        assert!(err(b"OCJ2\x01").contains("header truncated"));
        assert!(err(&v2("{}", b"")[..8]).contains("header truncated"));
        assert!(err(&v2("{not json", b"")).contains("record header"));
        assert!(err(&v2(r#"{"schema":"f"}"#, b"")).contains("neither"));
        assert!(err(&v2(r#"{"schema":"f","all":{"xml":5,"lyb":0}}"#, b"<x/>")).contains("shorter"));
        assert!(
            err(&v2(r#"{"schema":"f","all":{"xml":18446744073709551615,"lyb":2}}"#, b"")).contains("shorter")
        );
        assert!(err(&v2(r#"{"schema":"f","all":{"xml":1,"lyb":0}}"#, b"<x")).contains("longer"));
        assert!(err(&v2(r#"{"schema":"f","all":{"xml":2,"lyb":0}}"#, b"\xff\xfe")).contains("XML blob"));
        // Version 1 is JSON.
        assert!(Delta::decode(br#"{"all":"<x/>"}"#).is_ok_and(|r| r.schema.is_none()));
        assert!(Delta::decode(b"garbage").is_err());
    }
}
