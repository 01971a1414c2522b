//! The one place where occd calls libyang through raw `libyang3-sys`, for what
//! the `yang3` wrapper does not offer: explicit compilation of the context,
//! the full error list (not only the last error), multi-error validation and
//! the list of enabled features.
//!
//! Safety argument, shared by every function here:
//! - The `ly_ctx` pointer is always taken from a live `yang3::Context` borrowed
//!   for the duration of the call (through one of its modules, whose `ctx`
//!   field libyang sets at creation and never changes), so it is valid and is
//!   not freed while we use it.
//! - libyang's error items are read, copied into owned Rust strings and freed
//!   with `ly_err_clean` before the borrow ends; no pointer into them escapes.
//! - libyang is used from one thread per context at a time: `Context` is not
//!   `Sync`, and error items are stored per thread by libyang itself.

use std::ffi::CStr;
use std::os::raw::c_char;

use libyang3_sys as ffi;
use yang3::context::{Context, ContextFlags};
use yang3::data::DataValidationFlags;
use yang3::schema::SchemaModule;

/// Context options occd always uses: modules are only parsed by
/// `load_module` and compiled once by [`compile`]; the current working
/// directory is never searched implicitly.
pub fn context_flags(prefer_search_dirs: bool) -> ContextFlags {
    let mut bits = ffi::LY_CTX_EXPLICIT_COMPILE | ffi::LY_CTX_DISABLE_SEARCHDIR_CWD;
    if prefer_search_dirs {
        bits |= ffi::LY_CTX_PREFER_SEARCHDIRS;
    }
    ContextFlags::from_bits_retain(bits as u16)
}

/// Validation flag asking libyang to report every error it finds rather than
/// stopping at the first one.
pub fn multi_error() -> DataValidationFlags {
    DataValidationFlags::from_bits_retain(ffi::LYD_VALIDATE_MULTI_ERROR)
}

/// Asks libyang to keep every error of an operation, not only the last.
/// Global to the process; callers clear the list with [`take_errors`].
pub fn store_all_errors() {
    // SAFETY: sets a process-wide option word; no pointers involved.
    unsafe { ffi::ly_log_options(ffi::LY_LOSTORE) };
}

/// The raw `ly_ctx` of a context (for the schema analysis of `deps`).
pub(crate) fn raw_context(ctx: &Context) -> Option<*mut ffi::ly_ctx> {
    raw_ctx(ctx)
}

fn raw_ctx(ctx: &Context) -> Option<*mut ffi::ly_ctx> {
    // Every context holds libyang's internal modules, so there is always one.
    let module = ctx.modules(false).next()?;
    // SAFETY: `as_raw` points at a module owned by `ctx`, alive while `ctx` is.
    Some(unsafe { (*module.as_raw()).ctx })
}

/// One libyang log record, copied out of libyang.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LyError {
    pub warning: bool,
    /// libyang's `LY_ERR` code (`LY_EVALID`, `LY_EMEM`...).
    pub err: u32,
    /// libyang's `LY_VECODE` when `err` is `LY_EVALID` (`LYVE_DATA`,
    /// `LYVE_SYNTAX_XML`...), else `LYVE_SUCCESS`.
    pub vecode: u32,
    pub message: String,
    pub data_path: Option<String>,
    pub schema_path: Option<String>,
    pub line: u64,
    pub app_tag: Option<String>,
}

fn opt_string(p: *const c_char) -> Option<String> {
    if p.is_null() {
        None
    } else {
        // SAFETY: libyang strings are NUL-terminated and live until the item
        // is cleaned, which happens after this copy.
        Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    }
}

/// Copies and clears every error and warning libyang stored for `ctx` on
/// this thread, oldest first.
pub fn take_errors(ctx: &Context) -> Vec<LyError> {
    let Some(raw) = raw_ctx(ctx) else { return Vec::new() };
    let mut out = Vec::new();
    // SAFETY: see the module comment; the list is walked through `next`
    // until NULL and then freed in one call.
    unsafe {
        let mut item = ffi::ly_err_first(raw);
        while !item.is_null() {
            let e = &*item;
            out.push(LyError {
                warning: e.level == ffi::LY_LOG_LEVEL::LY_LLWRN,
                err: e.err,
                vecode: e.vecode,
                message: opt_string(e.msg).unwrap_or_else(|| format!("libyang error {}", e.err)),
                data_path: opt_string(e.data_path),
                schema_path: opt_string(e.schema_path),
                line: e.line,
                app_tag: opt_string(e.apptag),
            });
            item = e.next;
        }
        ffi::ly_err_clean(raw, std::ptr::null_mut());
    }
    out
}

/// Compiles every module parsed so far, once (libyang's explicit-compile
/// mode). On failure, returns libyang's errors.
pub fn compile(ctx: &Context) -> Result<(), Vec<LyError>> {
    let Some(raw) = raw_ctx(ctx) else { return Ok(()) };
    // SAFETY: see the module comment.
    let ret = unsafe { ffi::ly_ctx_compile(raw) };
    if ret == ffi::LY_ERR::LY_SUCCESS {
        Ok(())
    } else {
        Err(take_errors(ctx))
    }
}

/// Names of the features enabled in a module, in definition order
/// (submodule features included).
pub fn enabled_features(module: &SchemaModule<'_>) -> Vec<String> {
    let mut out = Vec::new();
    // SAFETY: the parsed module and its feature array belong to the live
    // context; `lysp_feature_next` iterates them with its own index.
    unsafe {
        let pmod = (*module.as_raw()).parsed;
        if pmod.is_null() {
            return out;
        }
        let mut idx: u32 = 0;
        let mut feature = ffi::lysp_feature_next(std::ptr::null(), pmod, &mut idx);
        while !feature.is_null() {
            if u32::from((*feature).flags) & ffi::LYS_FENABLED != 0 {
                if let Some(name) = opt_string((*feature).name) {
                    out.push(name);
                }
            }
            feature = ffi::lysp_feature_next(feature, pmod, &mut idx);
        }
    }
    out
}

// --- Edit primitives (RFC 6241 §7.2, used by `datastore::edit`) -----------
//
// Thin wrappers over libyang's data-tree calls. They take raw node pointers,
// so they are `unsafe fn`s with one shared contract:
//
// # Safety
//
// Every `RawNode` passed in is either NULL where the function says so, or a
// node of a live data tree (or a live unlinked subtree) of a context that
// outlives the call, and no other thread uses that tree during the call
// (libyang's rule: one writer or many readers per tree). Schema pointers come
// from such nodes or from their schema, which the context owns. Strings
// returned by libyang are copied before the call returns; `lyd_path` output
// is freed with `free` as libyang documents.

/// A libyang data node (`struct lyd_node *`).
pub type RawNode = *mut ffi::lyd_node;
/// A compiled schema node (`const struct lysc_node *`).
pub type RawSchema = *const ffi::lysc_node;

/// libyang node type bits (`LYS_CONTAINER`...), re-exported for callers.
pub const LYS_CONTAINER: u16 = ffi::LYS_CONTAINER as u16;
pub const LYS_CHOICE: u16 = ffi::LYS_CHOICE as u16;
pub const LYS_LEAF: u16 = ffi::LYS_LEAF as u16;
pub const LYS_LEAFLIST: u16 = ffi::LYS_LEAFLIST as u16;
pub const LYS_LIST: u16 = ffi::LYS_LIST as u16;
pub const LYS_CASE: u16 = ffi::LYS_CASE as u16;
pub const LYS_ACTION: u16 = ffi::LYS_ACTION as u16;
pub const LYS_RPC: u16 = ffi::LYS_RPC as u16;
pub const LYS_NOTIF: u16 = ffi::LYS_NOTIF as u16;
/// Schema flags.
pub const LYS_PRESENCE: u16 = ffi::LYS_PRESENCE as u16;
pub const LYS_KEY: u16 = ffi::LYS_KEY as u16;
pub const LYS_ORDBY_USER: u16 = ffi::LYS_ORDBY_USER as u16;
/// Data flag of an implicit default node.
pub const LYD_DEFAULT: u32 = ffi::LYD_DEFAULT;

/// The data path of `node` (`LYD_PATH_STD`, or without the last predicate),
/// of any length (unlike `DataNodeRef::path`, which truncates at 4096 bytes).
///
/// # Safety
/// See the section comment.
pub unsafe fn node_path(node: RawNode, no_last_pred: bool) -> String {
    let kind = if no_last_pred {
        ffi::LYD_PATH_TYPE::LYD_PATH_STD_NO_LAST_PRED
    } else {
        ffi::LYD_PATH_TYPE::LYD_PATH_STD
    };
    // SAFETY: NULL buffer asks libyang to allocate; we copy then free it.
    unsafe {
        let p = ffi::lyd_path(node, kind, std::ptr::null_mut(), 0);
        let s = opt_string(p).unwrap_or_default();
        if !p.is_null() {
            libc_free(p.cast());
        }
        s
    }
}

unsafe extern "C" {
    #[link_name = "free"]
    fn libc_free(p: *mut std::ffi::c_void);
}

/// The schema node of `node`.
///
/// # Safety
/// See the section comment.
pub unsafe fn node_schema(node: RawNode) -> RawSchema {
    // SAFETY: `node` is a live node (contract).
    unsafe { (*node).schema }
}

/// `(nodetype, flags)` of a schema node.
///
/// # Safety
/// See the section comment.
pub unsafe fn schema_kind(s: RawSchema) -> (u16, u16) {
    // SAFETY: `s` is a live compiled schema node.
    unsafe { ((*s).nodetype, (*s).flags) }
}

/// The schema parent (choice and case included), or NULL.
///
/// # Safety
/// See the section comment.
pub unsafe fn schema_parent(s: RawSchema) -> RawSchema {
    // SAFETY: `s` is a live compiled schema node.
    unsafe { (*s).parent }
}

/// The schema children of a choice, case or other inner node, in order.
///
/// # Safety
/// See the section comment.
pub unsafe fn schema_children(s: RawSchema) -> Vec<RawSchema> {
    let mut out = Vec::new();
    // SAFETY: children are linked by `next`, NULL-terminated.
    unsafe {
        let mut c = ffi::lysc_node_child(s);
        while !c.is_null() {
            out.push(c);
            c = (*c).next;
        }
    }
    out
}

/// The schema node's name.
///
/// # Safety
/// See the section comment.
pub unsafe fn schema_name(s: RawSchema) -> String {
    // SAFETY: names are NUL-terminated dictionary strings.
    unsafe { opt_string((*s).name).unwrap_or_default() }
}

/// The name of the module defining the schema node (the augmenting
/// module for an augment).
///
/// # Safety
/// See the section comment.
pub unsafe fn schema_module_name(s: RawSchema) -> String {
    // SAFETY: a compiled node always has its module.
    unsafe { opt_string((*(*s).module).name).unwrap_or_default() }
}

/// The extension instances of a schema node: (defining module, extension
/// name), e.g. `("ietf-netconf-acm", "default-deny-all")`.
///
/// # Safety
/// See the section comment.
pub unsafe fn schema_extensions(s: RawSchema) -> Vec<(String, String)> {
    let mut out = Vec::new();
    // SAFETY: `exts` is a libyang sized array (its count is the u64 right
    // before the first item) of compiled instances, each with its definition.
    unsafe {
        let exts = (*s).exts;
        if exts.is_null() {
            return out;
        }
        let n = *exts.cast::<u64>().sub(1);
        for i in 0..n as usize {
            let def = (*exts.add(i)).def;
            if def.is_null() || (*def).module.is_null() {
                continue;
            }
            let module = opt_string((*(*def).module).name).unwrap_or_default();
            out.push((module, opt_string((*def).name).unwrap_or_default()));
        }
    }
    out
}

/// The data flags (`LYD_DEFAULT`...).
///
/// # Safety
/// See the section comment.
pub unsafe fn node_flags(node: RawNode) -> u32 {
    // SAFETY: `node` is live.
    unsafe { (*node).flags }
}

/// Sets the data flags (to restore them on undo).
///
/// # Safety
/// See the section comment; `flags` must come from [`node_flags`] of the
/// same node.
pub unsafe fn set_node_flags(node: RawNode, flags: u32) {
    // SAFETY: `node` is live and exclusively ours.
    unsafe { (*node).flags = flags }
}

/// The parent data node, or NULL at the top level.
///
/// # Safety
/// See the section comment.
pub unsafe fn node_parent(node: RawNode) -> RawNode {
    // SAFETY: `lyd_node_inner` starts with a `lyd_node`.
    unsafe { (*node).parent.cast() }
}

/// The next sibling, or NULL.
///
/// # Safety
/// See the section comment.
pub unsafe fn node_next(node: RawNode) -> RawNode {
    // SAFETY: `node` is live.
    unsafe { (*node).next }
}

/// The previous sibling, or NULL when `node` is the first one (libyang
/// links the first sibling's `prev` to the last).
///
/// # Safety
/// See the section comment.
pub unsafe fn node_prev(node: RawNode) -> RawNode {
    // SAFETY: `node` is live; `prev` is never NULL in libyang.
    unsafe {
        let p = (*node).prev;
        if p.is_null() || (*p).next.is_null() {
            std::ptr::null_mut()
        } else {
            p
        }
    }
}

/// The first child (list keys included) of an inner node, NULL for terms.
///
/// # Safety
/// See the section comment.
pub unsafe fn node_first_child(node: RawNode) -> RawNode {
    // SAFETY: only containers, lists, RPCs, actions and notifications are
    // `lyd_node_inner`; for them `child` is valid.
    unsafe {
        let s = (*node).schema;
        if s.is_null() {
            return std::ptr::null_mut();
        }
        let inner = u32::from((*s).nodetype)
            & (ffi::LYS_CONTAINER | ffi::LYS_LIST | ffi::LYS_RPC | ffi::LYS_ACTION | ffi::LYS_NOTIF);
        if inner == 0 {
            return std::ptr::null_mut();
        }
        (*node.cast::<ffi::lyd_node_inner>()).child
    }
}

/// Visits the subtree of `node` (itself first) depth first, in document
/// order, while `visit` returns true; returns whether every node was
/// visited.
///
/// # Safety
/// See the section comment; `visit` must not change the subtree's links.
pub unsafe fn visit_subtree(node: RawNode, mut visit: impl FnMut(RawNode) -> bool) -> bool {
    let mut n = node;
    // SAFETY: walks the live subtree, never above `node`.
    unsafe {
        while !n.is_null() {
            if !visit(n) {
                return false;
            }
            let child = node_first_child(n);
            if !child.is_null() {
                n = child;
                continue;
            }
            while n != node && node_next(n).is_null() {
                n = node_parent(n);
            }
            if n == node {
                break;
            }
            n = node_next(n);
        }
    }
    true
}

/// Whether the subtree of `node` (itself included) has more than `limit`
/// nodes; visits at most `limit + 1` of them.
///
/// # Safety
/// See the section comment.
pub unsafe fn subtree_larger_than(node: RawNode, limit: usize) -> bool {
    let mut seen = 0usize;
    // SAFETY: contract.
    !unsafe {
        visit_subtree(node, |_| {
            seen += 1;
            seen <= limit
        })
    }
}

/// [`visit_subtree`] over `first` and each sibling after it in turn (a
/// whole tree when `first` is its first top-level node), while `visit`
/// returns true; returns whether every node was visited.
///
/// # Safety
/// See the section comment; `visit` must not change the tree's links.
pub unsafe fn visit_tree(first: RawNode, mut visit: impl FnMut(RawNode) -> bool) -> bool {
    let mut n = first;
    // SAFETY: walks live siblings and their subtrees.
    unsafe {
        while !n.is_null() {
            if !visit_subtree(n, &mut visit) {
                return false;
            }
            n = node_next(n);
        }
    }
    true
}

/// The nodes of the tree of `first` (top-level siblings and all below),
/// counted up to `limit` (the count stops past it).
///
/// # Safety
/// See the section comment.
pub unsafe fn count_nodes(first: RawNode, limit: usize) -> usize {
    let mut count = 0usize;
    // SAFETY: contract.
    unsafe {
        visit_tree(first, |_| {
            count += 1;
            count <= limit
        })
    };
    count
}

/// Whether `node` carries metadata other than libyang's internal
/// bookkeeping (the `yang:lyds_tree` of sorted instances).
///
/// # Safety
/// See the section comment.
pub unsafe fn has_metadata(node: RawNode) -> bool {
    // SAFETY: the metadata list is NULL-terminated; each has its annotation.
    unsafe {
        let mut m = (*node).meta;
        while !m.is_null() {
            if (*m).annotation.is_null() || ffi::lyd_meta_is_internal(m) == 0 {
                return true;
            }
            m = (*m).next;
        }
    }
    false
}

/// `first` and the siblings after it, in order (none for NULL).
///
/// # Safety
/// See the section comment.
pub unsafe fn siblings(first: RawNode) -> Vec<RawNode> {
    let mut out = Vec::new();
    let mut n = first;
    // SAFETY: walks live siblings.
    unsafe {
        while !n.is_null() {
            out.push(n);
            n = node_next(n);
        }
    }
    out
}

/// The children of `node` (list keys included), in order.
///
/// # Safety
/// See the section comment.
pub unsafe fn children(node: RawNode) -> Vec<RawNode> {
    // SAFETY: contract.
    unsafe { siblings(node_first_child(node)) }
}

/// The first sibling of `node` (NULL for NULL: libyang checks).
///
/// # Safety
/// See the section comment.
pub unsafe fn first_sibling(node: RawNode) -> RawNode {
    // SAFETY: `node` is NULL or live.
    unsafe { ffi::lyd_first_sibling(node) }
}

/// Canonical value of a leaf or leaf-list node.
///
/// # Safety
/// See the section comment.
pub unsafe fn node_value(node: RawNode) -> Option<String> {
    // SAFETY: contract.
    unsafe { opt_string(canonical(term_of(node)?)) }
}

/// `node` as a leaf or leaf-list instance (`lyd_node_term`); `None` for
/// other nodes and opaque ones.
///
/// # Safety
/// See the section comment.
pub unsafe fn term_of(node: RawNode) -> Option<*mut ffi::lyd_node_term> {
    // SAFETY: `node` live (contract); leaves and leaf-lists are
    // `lyd_node_term`.
    unsafe {
        let s = (*node).schema;
        (!s.is_null() && u32::from((*s).nodetype) & (ffi::LYS_LEAF | ffi::LYS_LEAFLIST) != 0)
            .then(|| node.cast::<ffi::lyd_node_term>())
    }
}

/// The canonical string of a term's value: libyang computes it on first
/// demand for some types and then stores it in the node.
///
/// # Safety
/// `term` from [`term_of`] of a live node.
unsafe fn canonical(term: *mut ffi::lyd_node_term) -> *const c_char {
    // SAFETY: contract; a term node has a schema, its module a context.
    unsafe {
        let v = (*term).value._canonical;
        if v.is_null() {
            let schema = (*term.cast::<ffi::lyd_node>()).schema;
            ffi::lyd_value_get_canonical((*(*schema).module).ctx, &(*term).value)
        } else {
            v
        }
    }
}

/// Every metadata instance of `node`: (module name, name, canonical value).
///
/// # Safety
/// See the section comment.
pub unsafe fn node_metadata(node: RawNode) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    // SAFETY: the metadata list is NULL-terminated through `next`; each has
    // its annotation (with a module) and a stored value.
    unsafe {
        let mut m = (*node).meta;
        while !m.is_null() {
            let module = if (*m).annotation.is_null() {
                String::new()
            } else {
                opt_string((*(*(*m).annotation).module).name).unwrap_or_default()
            };
            let mut v = (*m).value._canonical;
            if v.is_null() && !(*m).annotation.is_null() {
                v = ffi::lyd_value_get_canonical((*(*(*m).annotation).module).ctx, &(*m).value);
            }
            out.push((module, opt_string((*m).name).unwrap_or_default(), opt_string(v).unwrap_or_default()));
            m = (*m).next;
        }
    }
    out
}

/// The sibling of `siblings` (any node of the sibling list, or NULL) that
/// is the same instance as `target`, a node of another tree of the same
/// context (same schema; same keys for a list entry, same value for a
/// leaf-list entry). Hashed lookup.
///
/// # Safety
/// See the section comment.
pub unsafe fn find_sibling_first(siblings: RawNode, target: RawNode) -> Option<RawNode> {
    if siblings.is_null() {
        return None;
    }
    let mut m = std::ptr::null_mut();
    // SAFETY: both nodes live; `m` is an out pointer.
    let ret = unsafe { ffi::lyd_find_sibling_first(siblings, target, &mut m) };
    (ret == ffi::LY_ERR::LY_SUCCESS && !m.is_null()).then_some(m)
}

/// The sibling instance of `schema` whose keys (predicate `[k='v']...`, JSON
/// form) or leaf-list value is `key_or_value`, or the first instance when
/// it is `None`. Hashed lookup.
///
/// # Safety
/// See the section comment.
pub unsafe fn find_sibling_val(
    siblings: RawNode,
    schema: RawSchema,
    key_or_value: Option<&str>,
) -> Option<RawNode> {
    if siblings.is_null() {
        return None;
    }
    let c = match key_or_value {
        Some(v) => Some(std::ffi::CString::new(v).ok()?),
        None => None,
    };
    let mut m = std::ptr::null_mut();
    // SAFETY: pointers live; the C string outlives the call.
    let ret = unsafe {
        ffi::lyd_find_sibling_val(
            siblings,
            schema,
            c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            0,
            &mut m,
        )
    };
    (ret == ffi::LY_ERR::LY_SUCCESS && !m.is_null()).then_some(m)
}

fn ok(ret: ffi::LY_ERR::Type) -> Result<(), u32> {
    if ret == ffi::LY_ERR::LY_SUCCESS {
        Ok(())
    } else {
        Err(ret)
    }
}

/// Copy of `node` alone (a list entry keeps its keys), without metadata,
/// unlinked; or the whole subtree when `recursive`.
///
/// # Safety
/// See the section comment.
pub unsafe fn dup_node(node: RawNode, recursive: bool) -> Result<RawNode, u32> {
    let mut opts = ffi::LYD_DUP_NO_META;
    if recursive {
        opts |= ffi::LYD_DUP_RECURSIVE;
    }
    let mut out = std::ptr::null_mut();
    // SAFETY: `node` live; `out` receives a new unlinked tree we own.
    ok(unsafe { ffi::lyd_dup_single(node, std::ptr::null_mut(), opts, &mut out) })?;
    Ok(out)
}

/// Inserts the unlinked `node` as a child of `parent`, where libyang's
/// ordering rules put it (after the last instance for ordered-by user).
///
/// # Safety
/// See the section comment.
pub unsafe fn insert_child(parent: RawNode, node: RawNode) -> Result<(), u32> {
    // SAFETY: both live, `node` unlinked and owned by us.
    ok(unsafe { ffi::lyd_insert_child(parent, node) })
}

/// Inserts the unlinked `node` at the top level next to `sibling` (NULL:
/// `node` alone); returns the new first top-level sibling.
///
/// # Safety
/// See the section comment.
pub unsafe fn insert_sibling(sibling: RawNode, node: RawNode) -> Result<RawNode, u32> {
    let mut first = std::ptr::null_mut();
    // SAFETY: both live (or `sibling` NULL), `node` owned by us.
    ok(unsafe { ffi::lyd_insert_sibling(sibling, node, &mut first) })?;
    Ok(first)
}

/// Moves or inserts `node` right before `sibling` (ordered-by user only).
///
/// # Safety
/// See the section comment.
pub unsafe fn insert_before(sibling: RawNode, node: RawNode) -> Result<(), u32> {
    // SAFETY: both live instances of the same user-ordered schema node.
    ok(unsafe { ffi::lyd_insert_before(sibling, node) })
}

/// Moves or inserts `node` right after `sibling` (ordered-by user only).
///
/// # Safety
/// See the section comment.
pub unsafe fn insert_after(sibling: RawNode, node: RawNode) -> Result<(), u32> {
    // SAFETY: both live instances of the same user-ordered schema node.
    ok(unsafe { ffi::lyd_insert_after(sibling, node) })
}

/// Unlinks `node` (with its subtree) from its tree; the caller owns it then.
///
/// # Safety
/// See the section comment.
pub unsafe fn unlink(node: RawNode) -> Result<(), u32> {
    // SAFETY: `node` live.
    ok(unsafe { ffi::lyd_unlink_tree(node) })
}

/// Frees an unlinked subtree.
///
/// # Safety
/// See the section comment; `node` must not be used afterwards.
pub unsafe fn free_tree(node: RawNode) {
    // SAFETY: `node` is ours and unlinked (or freed with its tree).
    unsafe { ffi::lyd_free_tree(node) }
}

/// Changes a leaf's value (`lyd_change_term`); `Ok(false)` when the value
/// was already equal.
///
/// # Safety
/// See the section comment.
pub unsafe fn change_term(node: RawNode, value: &str) -> Result<bool, u32> {
    let c = std::ffi::CString::new(value).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    // SAFETY: `node` is a live term node; the string outlives the call.
    match unsafe { ffi::lyd_change_term(node, c.as_ptr()) } {
        ffi::LY_ERR::LY_SUCCESS => Ok(true),
        ffi::LY_ERR::LY_EEXIST | ffi::LY_ERR::LY_ENOT => Ok(false),
        e => Err(e),
    }
}

// ---- whole-tree operations for the datastore (transactions, sync, journal) ----

/// `lyd_validate_all` on the tree whose first top-level node is `*root`
/// (libyang may add or delete top-level nodes, so `root` is updated).
/// Returns the result and, when `with_diff`, libyang's diff of what
/// validation changed (defaults added, nodes auto-deleted by a false
/// `when`), NULL if none or not asked for; the caller frees the diff with
/// [`free_siblings`]. Making the diff costs a copy of every node added.
///
/// # Safety
/// See the section comment; `*root` is NULL or the first top-level node of
/// a tree of `ctx` that nothing else is using.
pub unsafe fn validate_all(
    root: &mut RawNode,
    ctx: &Context,
    flags: u32,
    with_diff: bool,
) -> (Result<(), u32>, RawNode) {
    let Some(c) = raw_ctx(ctx) else { return (Err(ffi::LY_ERR::LY_EINT), std::ptr::null_mut()) };
    let mut diff = std::ptr::null_mut();
    let out: *mut RawNode = if with_diff { &mut diff } else { std::ptr::null_mut() };
    // SAFETY: contract; `out` is NULL or an out pointer.
    let r = ok(unsafe { ffi::lyd_validate_all(root, c, flags, out) });
    (r, diff)
}

/// Flag values for [`validate_all`].
pub const LYD_VALIDATE_NO_STATE: u32 = ffi::LYD_VALIDATE_NO_STATE;
pub const LYD_VALIDATE_MULTI_ERROR: u32 = ffi::LYD_VALIDATE_MULTI_ERROR;
pub const LYD_VALIDATE_PRESENT: u32 = ffi::LYD_VALIDATE_PRESENT;

/// The node at the absolute data path `path` in the tree of `root` (any
/// node of it), or `None` (also for an empty tree or a path libyang
/// rejects). Hashed lookups for list keys.
///
/// # Safety
/// See the section comment.
pub unsafe fn find_path(root: RawNode, path: &str) -> Option<RawNode> {
    if root.is_null() {
        return None;
    }
    let c = std::ffi::CString::new(path).ok()?;
    let mut m = std::ptr::null_mut();
    // SAFETY: `root` live, the C string outlives the call.
    let ret = unsafe { ffi::lyd_find_path(root, c.as_ptr(), 0, &mut m) };
    (ret == ffi::LY_ERR::LY_SUCCESS && !m.is_null()).then_some(m)
}

/// An exact copy of `node`'s subtree (values, metadata and libyang's
/// internal flags such as `LYD_DEFAULT` and `LYD_WHEN_TRUE`), unlinked.
///
/// # Safety
/// See the section comment.
pub unsafe fn dup_exact(node: RawNode) -> Result<RawNode, u32> {
    let mut out = std::ptr::null_mut();
    let opts = ffi::LYD_DUP_RECURSIVE | ffi::LYD_DUP_WITH_FLAGS;
    // SAFETY: `node` live; `out` receives a new unlinked tree we own.
    ok(unsafe { ffi::lyd_dup_single(node, std::ptr::null_mut(), opts, &mut out) })?;
    Ok(out)
}

/// A copy of `node`'s subtree with its ancestors (each alone, with its
/// keys) and libyang's flags, without metadata; returns the copy's
/// top-level node, which the caller owns.
///
/// # Safety
/// See the section comment.
pub unsafe fn dup_with_parents(node: RawNode) -> Result<RawNode, u32> {
    let mut out = std::ptr::null_mut();
    let opts =
        ffi::LYD_DUP_RECURSIVE | ffi::LYD_DUP_WITH_PARENTS | ffi::LYD_DUP_NO_META | ffi::LYD_DUP_WITH_FLAGS;
    // SAFETY: `node` live; `out` receives a new tree we own.
    ok(unsafe { ffi::lyd_dup_single(node, std::ptr::null_mut(), opts, &mut out) })?;
    // SAFETY: `out` is a node of the new tree; walk up to its top.
    unsafe {
        let mut top = out;
        while !node_parent(top).is_null() {
            top = node_parent(top);
        }
        Ok(top)
    }
}

/// Frees `node` and all its siblings (a whole tree when `node` is a
/// top-level node). NULL is allowed.
///
/// # Safety
/// See the section comment; nothing may use the nodes afterwards.
pub unsafe fn free_siblings(node: RawNode) {
    if !node.is_null() {
        // SAFETY: contract.
        unsafe { ffi::lyd_free_siblings(node) }
    }
}

/// Prints `node` (with its following siblings when `with_siblings`) as
/// XML without indentation, only explicit nodes and every default node
/// kept as is (`LYD_PRINT_WD_EXPLICIT`).
///
/// # Safety
/// See the section comment.
pub unsafe fn print_xml(node: RawNode, with_siblings: bool) -> Result<String, u32> {
    let mut opts = ffi::LYD_PRINT_SHRINK | ffi::LYD_PRINT_WD_EXPLICIT;
    if with_siblings {
        opts |= ffi::LYD_PRINT_WITHSIBLINGS;
    }
    // SAFETY: contract.
    unsafe { print_mem(node, false, opts) }
}

/// Prints `node` (with its following siblings when `with_siblings`) in
/// libyang's binary LYB format: every node, default ones included, with
/// its internal flags (`LYD_DEFAULT`, `LYD_WHEN_TRUE`), so that
/// [`parse_lyb`] gives back the same tree without validation. The data is
/// readable only by a context with the same modules (libyang checks a
/// hash of them).
///
/// # Safety
/// See the section comment.
pub unsafe fn print_lyb(node: RawNode, with_siblings: bool) -> Result<Vec<u8>, u32> {
    if node.is_null() {
        return Ok(Vec::new());
    }
    let opts = if with_siblings { ffi::LYD_PRINT_WITHSIBLINGS } else { 0 };
    let mut out: *mut c_char = std::ptr::null_mut();
    // SAFETY: `node` live; libyang allocates `out` (LYB data, which knows
    // its own length), which we copy and free.
    unsafe {
        ok(ffi::lyd_print_mem(&mut out, node, ffi::LYD_FORMAT::LYD_LYB, opts))?;
        if out.is_null() {
            return Ok(Vec::new());
        }
        let len = ffi::lyd_lyb_data_length(out);
        let bytes = usize::try_from(len).map(|n| std::slice::from_raw_parts(out.cast::<u8>(), n).to_vec());
        libc_free(out.cast());
        bytes.map_err(|_| ffi::LY_ERR::LY_EINT)
    }
}

/// Parses LYB data printed by [`print_lyb`] under the same module set,
/// without validation: the nodes keep the flags they were printed with.
/// Returns the first top-level node (NULL for no data), owned by the caller.
///
/// The data are what libyang printed from a validated tree, so libyang is
/// told so: values are stored without checking their type's restrictions
/// again (patterns, lengths, ranges: `LYD_PARSE_STORE_ONLY`) and nodes are
/// appended in the order read instead of each being placed by schema
/// order (`LYD_PARSE_ORDERED`, exact for printed data). Together they take
/// 40 % off the 100k-cSCTP cold start (1.6 s to 1.0 s in a new process).
///
/// # Safety
/// `bytes` must be complete LYB data printed by [`print_lyb`] (libyang
/// reads it by its own framing, and trusts its order; the caller checks
/// integrity, e.g. by a checksum, first).
pub unsafe fn parse_lyb(ctx: &Context, bytes: &[u8]) -> Result<RawNode, u32> {
    if bytes.is_empty() {
        return Ok(std::ptr::null_mut());
    }
    let opts = ffi::LYD_PARSE_STORE_ONLY | ffi::LYD_PARSE_ORDERED | ffi::LYD_PARSE_STRICT;
    // SAFETY: `bytes` outlives the call (contract: complete LYB data).
    unsafe { parse_tree(ctx, std::ptr::null_mut(), bytes.as_ptr().cast(), ffi::LYD_FORMAT::LYD_LYB, opts) }
}

/// Parses `data` (NUL-terminated text, or LYB with its own framing)
/// without validation, as children of `parent` or, when `parent` is NULL,
/// as a new tree whose first node is returned (NULL for no data; NULL too
/// with a parent). On failure libyang frees whatever it parsed.
///
/// # Safety
/// `data` is live for the call and holds complete input of `format`;
/// `parent` is NULL or a live node of a tree of `ctx` the caller owns.
unsafe fn parse_tree(
    ctx: &Context,
    parent: RawNode,
    data: *const c_char,
    format: ffi::LYD_FORMAT::Type,
    opts: u32,
) -> Result<RawNode, u32> {
    let Some(c) = raw_ctx(ctx) else { return Err(ffi::LY_ERR::LY_EINT) };
    // SAFETY: `input` reads `data`, which outlives it (contract); freed below.
    unsafe {
        let mut input: *mut ffi::ly_in = std::ptr::null_mut();
        ok(ffi::ly_in_new_memory(data, &mut input))?;
        let mut tree: RawNode = std::ptr::null_mut();
        let r = ffi::lyd_parse_data(c, parent, input, format, opts, 0, &mut tree);
        ffi::ly_in_free(input, 0);
        ok(r)?;
        Ok(if parent.is_null() { tree } else { std::ptr::null_mut() })
    }
}

/// Computes the canonical string of every leaf and leaf-list value in the
/// trees of `first` and its siblings that lacks one. Values read from LYB
/// (binary, bits, union, date-and-time, inet addresses and prefixes) have
/// none until libyang first prints them, and it then stores it in the node:
/// a write. A tree that concurrent readers will print or read values from
/// must have them all first.
///
/// # Safety
/// `first` is NULL or a live node of a tree nobody else uses yet.
pub unsafe fn fill_canonical(first: RawNode) {
    // SAFETY: contract; storing a canonical string changes no link.
    unsafe {
        visit_tree(first, |n| {
            if let Some(term) = term_of(n) {
                canonical(term);
            }
            true
        })
    };
}

/// What determines how data is validated under `ctx`, as text: every
/// module's name, revision, implemented state and enabled features,
/// the compiled form of each implemented module (its submodules,
/// augments and deviations applied) and the parsed form of the others,
/// and libyang's own hash of the module set.
pub fn schema_description(ctx: &Context) -> String {
    let mut out = String::new();
    // SAFETY: the modules belong to the live context; libyang allocates
    // each printed text, which we copy and free.
    unsafe {
        if let Some(c) = raw_ctx(ctx) {
            out.push_str(&format!("libyang-modules-hash {}\n", ffi::ly_ctx_get_modules_hash(c)));
        }
        for m in ctx.modules(false) {
            let raw = m.as_raw();
            let implemented = m.is_implemented();
            out.push_str(&format!(
                "module {} {} {implemented} {}\n",
                m.name(),
                m.revision().unwrap_or("-"),
                enabled_features(&m).join(",")
            ));
            let format = if implemented {
                ffi::LYS_OUTFORMAT::LYS_OUT_YANG_COMPILED
            } else {
                ffi::LYS_OUTFORMAT::LYS_OUT_YANG
            };
            let mut text: *mut c_char = std::ptr::null_mut();
            if ok(ffi::lys_print_mem(&mut text, raw, format, 0)).is_ok() {
                out.push_str(&opt_string(text).unwrap_or_default());
            } else {
                out.push_str("(not printable)\n");
            }
            if !text.is_null() {
                libc_free(text.cast());
            }
        }
    }
    let _ = take_errors(ctx);
    out
}

/// Prints `node` in XML or JSON with libyang's `LYD_PRINT_*` options.
/// Unlike `yang3`'s `print_string`, an empty result (a tree with only
/// default nodes printed in explicit mode) is an empty string, not a crash.
///
/// # Safety
/// See the section comment.
pub unsafe fn print_mem(node: RawNode, json: bool, opts: u32) -> Result<String, u32> {
    if node.is_null() {
        return Ok(String::new());
    }
    let format = if json { ffi::LYD_FORMAT::LYD_JSON } else { ffi::LYD_FORMAT::LYD_XML };
    let mut out: *mut c_char = std::ptr::null_mut();
    // SAFETY: `node` live; libyang allocates `out`, which we copy and free.
    unsafe {
        ok(ffi::lyd_print_mem(&mut out, node, format, opts))?;
        let s = opt_string(out).unwrap_or_default();
        if !out.is_null() {
            libc_free(out.cast());
        }
        Ok(s)
    }
}

/// libyang's diff from the tree of `first` to the tree of `second`
/// (top-level nodes or NULL for empty); NULL when they are equal. The
/// caller frees it with [`free_siblings`].
///
/// # Safety
/// See the section comment.
pub unsafe fn diff_siblings(first: RawNode, second: RawNode) -> Result<RawNode, u32> {
    let mut diff = std::ptr::null_mut();
    // SAFETY: both trees live and of one context.
    ok(unsafe { ffi::lyd_diff_siblings(first, second, 0, &mut diff) })?;
    Ok(diff)
}

/// Merges the tree of `source` into the tree whose first top-level node is
/// `*target` (updated), moving the source's nodes (`LYD_MERGE_DESTRUCT`):
/// the caller must not use `source` afterwards.
///
/// # Safety
/// See the section comment.
pub unsafe fn merge_destruct(target: &mut RawNode, source: RawNode) -> Result<(), u32> {
    // SAFETY: both trees live and of one context; `source` is consumed.
    ok(unsafe { ffi::lyd_merge_siblings(target, source, ffi::LYD_MERGE_DESTRUCT as u16) })
}

/// Whether instances of `node`'s schema sit at the top level of a data
/// tree (no data-node ancestor in the schema; choice and case do not
/// count). Opaque nodes count as top-level.
///
/// # Safety
/// See the section comment.
pub unsafe fn top_level_schema(node: RawNode) -> bool {
    // SAFETY: `node` is live; its schema (if any) is compiled.
    unsafe {
        let s = (*node).schema;
        s.is_null() || ffi::lysc_data_node((*s).parent).is_null()
    }
}

/// Moves the unlinked chain `source` into the unlinked chain starting at
/// `*first`, at any depth (libyang's merge takes top-level trees only): an
/// instance `*first` lacks moves over; one it has gets `source`'s children
/// merged the same way. `source` is consumed; `*first` is updated.
///
/// # Safety
/// See the section comment; both chains are owned by the caller, of one
/// context, and siblings of the same schema parent.
pub unsafe fn merge_instances(first: &mut RawNode, source: RawNode) -> Result<(), u32> {
    // SAFETY: contract; every node moved is unlinked first.
    unsafe {
        for s in siblings(source) {
            unlink(s)?;
            match find_in(*first, s) {
                Some(c) => {
                    merge_children(c, s)?;
                    free_tree(s);
                }
                None => *first = insert_sibling(*first, s)?,
            }
        }
        Ok(())
    }
}

/// Moves the children of `from` under `target`, merging the instances
/// `target` has already; those (list keys among them) stay under `from`.
///
/// # Safety
/// As [`merge_instances`].
unsafe fn merge_children(target: RawNode, from: RawNode) -> Result<(), u32> {
    // SAFETY: contract.
    unsafe {
        for k in children(from) {
            match find_in(node_first_child(target), k) {
                Some(c) => merge_children(c, k)?,
                None => {
                    unlink(k)?;
                    insert_child(target, k)?;
                }
            }
        }
        Ok(())
    }
}

/// [`find_sibling_first`] in a chain that may be empty (NULL).
///
/// # Safety
/// See the section comment.
unsafe fn find_in(first: RawNode, target: RawNode) -> Option<RawNode> {
    // SAFETY: contract.
    (!first.is_null()).then(|| unsafe { find_sibling_first(first, target) }).flatten()
}

/// libyang's internal data flags: a node created and not validated yet,
/// and a node whose `when` was found true.
pub const LYD_NEW: u32 = ffi::LYD_NEW;
/// Data flag of a node of an extension instance's data.
pub const LYD_EXT: u32 = ffi::LYD_EXT;
pub const LYD_WHEN_TRUE: u32 = ffi::LYD_WHEN_TRUE;

/// Adds the metadata `module:name = value` (value in JSON form, e.g.
/// `ietf-origin:intended`) to `node`.
///
/// # Safety
/// See the section comment; `node` is a node of a tree of `ctx` that
/// nothing else is using.
pub unsafe fn add_meta(
    ctx: &Context,
    node: RawNode,
    module: &str,
    name: &str,
    value: &str,
) -> Result<(), u32> {
    let Some(c) = raw_ctx(ctx) else { return Err(ffi::LY_ERR::LY_EINT) };
    let m = std::ffi::CString::new(module).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    let n = std::ffi::CString::new(name).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    let v = std::ffi::CString::new(value).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    // SAFETY: `c` is the live context; the strings outlive the calls.
    unsafe {
        let module = ffi::ly_ctx_get_module_implemented(c, m.as_ptr());
        if module.is_null() {
            return Err(ffi::LY_ERR::LY_ENOTFOUND);
        }
        ok(ffi::lyd_new_meta(c, node, module, n.as_ptr(), v.as_ptr(), 0, std::ptr::null_mut()))
    }
}

// ---- incremental validation (the analysis is in `deps`) ----

/// Adds the missing default nodes below `node` (`lyd_new_implicit_tree`,
/// config only); returns libyang's diff of what it added (NULL if none),
/// which the caller frees with [`free_siblings`].
///
/// # Safety
/// See the section comment; `node` is in a tree nothing else is using.
pub unsafe fn new_implicit_tree(node: RawNode) -> Result<RawNode, u32> {
    let mut diff = std::ptr::null_mut();
    // SAFETY: contract.
    ok(unsafe { ffi::lyd_new_implicit_tree(node, ffi::LYD_IMPLICIT_NO_STATE, &mut diff) })?;
    Ok(diff)
}

// ---- protocol reads: XPath selection, filtered copies, yang-library ----

/// The nodes `xpath` selects in the tree of `root` (JSON-prefixed XPath:
/// module names as prefixes), in document order. An empty tree selects
/// nothing.
///
/// # Safety
/// See the section comment.
pub unsafe fn find_xpath(root: RawNode, xpath: &str) -> Result<Vec<RawNode>, u32> {
    if root.is_null() {
        return Ok(Vec::new());
    }
    let c = std::ffi::CString::new(xpath).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    let mut set: *mut ffi::ly_set = std::ptr::null_mut();
    // SAFETY: `root` live; the set is read then freed.
    unsafe {
        let root = first_sibling(root);
        ok(ffi::lyd_find_xpath(root, c.as_ptr(), &mut set))?;
        let count = (*set).count as usize;
        let mut out = Vec::with_capacity(count);
        for i in 0..count {
            out.push(*(*set).__bindgen_anon_1.dnodes.add(i));
        }
        ffi::ly_set_free(set, None);
        Ok(out)
    }
}

/// Copies `node` (its whole subtree, with libyang's flags so default nodes
/// stay default) into the result tree whose first top-level node is
/// `*result`, creating the ancestors that the result lacks (list entries
/// with their keys). `*result` may be NULL (empty result).
///
/// # Safety
/// See the section comment; `node` and `*result` belong to one context.
pub unsafe fn copy_into(result: &mut RawNode, node: RawNode) -> Result<(), u32> {
    // SAFETY: contract; every pointer walked is a live node of the source
    // tree or of the result tree, which we own.
    unsafe {
        // The deepest ancestor of `node` already present in the result.
        let mut anc = node_parent(node);
        let mut target: RawNode = std::ptr::null_mut();
        while !anc.is_null() && !result.is_null() {
            if let Some(found) = find_path(*result, &node_path(anc, false)) {
                target = found;
                break;
            }
            anc = node_parent(anc);
        }
        if !target.is_null() && anc == node_parent(node) {
            // The parent exists: a plain copy under it, unless there is one
            // (a list key, created with its entry by an earlier copy).
            if find_path(*result, &node_path(node, false)).is_some() {
                return Ok(());
            }
        }
        let opts = ffi::LYD_DUP_RECURSIVE | ffi::LYD_DUP_WITH_PARENTS | ffi::LYD_DUP_WITH_FLAGS;
        let mut out = std::ptr::null_mut();
        ok(ffi::lyd_dup_single(node, target.cast(), opts, &mut out))?;
        if target.is_null() {
            let mut top = out;
            while !node_parent(top).is_null() {
                top = node_parent(top);
            }
            if result.is_null() {
                *result = top;
            } else {
                let mut first = std::ptr::null_mut();
                ok(ffi::lyd_insert_sibling(*result, top, &mut first))?;
                *result = first;
            }
        }
        Ok(())
    }
}

/// libyang's ietf-yang-library data of `ctx` (both the RFC 8525
/// `yang-library` and the RFC 7895 `modules-state`), with `content_id` as
/// content-id and module-set-id. The caller owns the returned tree.
pub fn yanglib_data(ctx: &Context, content_id: &str) -> Result<RawNode, u32> {
    let Some(raw) = raw_ctx(ctx) else {
        return Err(ffi::LY_ERR::LY_EINVAL);
    };
    // libyang formats the id with printf: escape '%'.
    let fmt = std::ffi::CString::new(content_id.replace('%', "%%")).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    let mut root = std::ptr::null_mut();
    // SAFETY: the context is alive (see `raw_ctx`); the format has no
    // conversions left, so no variadic argument is read.
    ok(unsafe { ffi::ly_ctx_get_yanglib_data(raw, &mut root, fmt.as_ptr()) })?;
    Ok(root)
}

/// The submodules (name, revision) included by an implemented or imported
/// module, from its parsed form.
pub fn submodules(module: &SchemaModule<'_>) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    // SAFETY: `as_raw` points at a module owned by a live context; the
    // parsed module and its include array live as long as the context.
    unsafe {
        let m = module.as_raw();
        let parsed = (*m).parsed;
        if parsed.is_null() {
            return out;
        }
        let includes = (*parsed).includes;
        for i in 0..array_count(includes.cast()) {
            let inc = includes.add(i);
            let sub = (*inc).submodule;
            if sub.is_null() {
                continue;
            }
            let name = opt_string((*sub).name).unwrap_or_default();
            let revs = (*sub).revs;
            let rev = if array_count(revs.cast()) > 0 { opt_string((*revs).date.as_ptr()) } else { None };
            out.push((name, rev));
        }
    }
    out
}

/// Names of the modules deviating `module`.
pub fn deviated_by(module: &SchemaModule<'_>) -> Vec<String> {
    let mut out = Vec::new();
    // SAFETY: as in `submodules`.
    unsafe {
        let m = module.as_raw();
        let devs = (*m).deviated_by;
        for i in 0..array_count(devs.cast()) {
            let d = *devs.add(i);
            if !d.is_null() {
                out.push(opt_string((*d).name).unwrap_or_default());
            }
        }
    }
    out
}

/// Length of a libyang sized array (`LY_ARRAY_COUNT`): the count is stored
/// as a 64-bit integer just before the first item; NULL is empty.
///
/// # Safety
/// `array` is NULL or a libyang sized array.
unsafe fn array_count(array: *const std::ffi::c_void) -> usize {
    if array.is_null() {
        return 0;
    }
    // SAFETY: contract (LY_ARRAY_COUNT_TYPE is uint64_t).
    unsafe { *(array as *const u64).sub(1) as usize }
}

/// `LYS_CONFIG_W`: the schema node is configuration.
pub const LYS_CONFIG_W: u16 = ffi::LYS_CONFIG_W as u16;

/// Validates an operation tree (`op_tree`: the operation or any of its
/// parents): RPC or action input, reply or notification, against
/// `dep_tree`, the datastore its references point into (NULL: empty).
/// libyang may add default nodes to `op_tree`.
///
/// # Safety
/// See the section comment; both trees belong to one context.
pub unsafe fn validate_op(op_tree: RawNode, dep_tree: RawNode, kind: OpType) -> Result<(), u32> {
    // SAFETY: contract.
    ok(unsafe { ffi::lyd_validate_op(op_tree, dep_tree, kind.lyd_type(), std::ptr::null_mut()) })
}

/// Prints the whole tree of `node` (all its siblings, from the first) in
/// XML or JSON with `LYD_PRINT_*` options, handing the text to `sink` in
/// pieces of about `piece` bytes as libyang produces it. `sink` returns
/// false to stop the print (the reader went away); the result is then an
/// error.
///
/// libyang formats through stdio here: its callback output would allocate
/// per token, so the output is a glibc `fopencookie` stream whose buffer
/// (`piece` bytes) is flushed to `sink`.
///
/// # Safety
/// See the section comment; `node` is NULL or a live node.
pub unsafe fn print_streaming(
    node: RawNode,
    json: bool,
    opts: u32,
    piece: usize,
    sink: &mut dyn FnMut(&[u8]) -> bool,
) -> Result<(), u32> {
    #[repr(C)]
    struct CookieIo {
        read: Option<unsafe extern "C" fn(*mut std::ffi::c_void, *mut c_char, usize) -> isize>,
        write: Option<unsafe extern "C" fn(*mut std::ffi::c_void, *const c_char, usize) -> isize>,
        seek: Option<unsafe extern "C" fn(*mut std::ffi::c_void, *mut i64, i32) -> i32>,
        close: Option<unsafe extern "C" fn(*mut std::ffi::c_void) -> i32>,
    }
    unsafe extern "C" {
        fn fopencookie(cookie: *mut std::ffi::c_void, mode: *const c_char, io: CookieIo) -> *mut ffi::FILE;
        fn setvbuf(f: *mut ffi::FILE, buf: *mut c_char, mode: i32, size: usize) -> i32;
        fn fclose(f: *mut ffi::FILE) -> i32;
    }
    const IOFBF: i32 = 0; // glibc _IOFBF
    unsafe extern "C" fn write_cookie(
        user: *mut std::ffi::c_void,
        buf: *const c_char,
        count: usize,
    ) -> isize {
        // SAFETY: `user` is the `&mut &mut dyn FnMut` below, alive until
        // fclose; stdio hands `count` readable bytes at `buf`.
        unsafe {
            let sink = &mut *(user as *mut &mut dyn FnMut(&[u8]) -> bool);
            let bytes =
                if count == 0 { &[][..] } else { std::slice::from_raw_parts(buf as *const u8, count) };
            if sink(bytes) {
                count as isize
            } else {
                -1
            }
        }
    }
    if node.is_null() {
        return Ok(());
    }
    let format = if json { ffi::LYD_FORMAT::LYD_JSON } else { ffi::LYD_FORMAT::LYD_XML };
    let mut sink_ref: &mut dyn FnMut(&[u8]) -> bool = sink;
    let user = (&mut sink_ref) as *mut &mut dyn FnMut(&[u8]) -> bool as *mut std::ffi::c_void;
    let io = CookieIo { read: None, write: Some(write_cookie), seek: None, close: None };
    // SAFETY: the cookie (`user`) outlives the stream, closed below; the
    // stream is fully buffered with stdio's own buffer; `node` is live.
    unsafe {
        let f = fopencookie(user, c"w".as_ptr(), io);
        if f.is_null() {
            return Err(ffi::LY_ERR::LY_EMEM);
        }
        setvbuf(f, std::ptr::null_mut(), IOFBF, piece);
        let mut out: *mut ffi::ly_out = std::ptr::null_mut();
        let r = ok(ffi::ly_out_new_file(f, &mut out)).and_then(|_| {
            // With the siblings flag: lyd_print_all (which prints every
            // sibling and refuses the flag itself); without: this subtree.
            let r = if opts & ffi::LYD_PRINT_WITHSIBLINGS != 0 {
                ok(ffi::lyd_print_all(out, node, format, opts & !ffi::LYD_PRINT_WITHSIBLINGS))
            } else {
                ok(ffi::lyd_print_tree(out, node, format, opts))
            };
            ffi::ly_out_free(out, None, 0);
            r
        });
        // fclose flushes the rest through the cookie.
        let closed = fclose(f);
        r?;
        if closed != 0 {
            return Err(ffi::LY_ERR::LY_ESYS);
        }
        Ok(())
    }
}

/// The data path of the parent of the action in the operation tree of
/// `root` (`None` for an RPC or when no action is found): where the
/// action's target must exist in the datastore.
///
/// # Safety
/// See the section comment; `root` is NULL or a live operation tree.
pub unsafe fn action_parent_path(root: RawNode) -> Option<String> {
    // SAFETY: contract.
    unsafe {
        let n = operation_node(root, LYS_ACTION)?;
        let p = node_parent(n);
        (!p.is_null()).then(|| node_path(p, false))
    }
}

/// The action or nested notification node (`kind`: [`LYS_ACTION`] or
/// [`LYS_NOTIF`]) of an operation tree: each level's one inner child is
/// followed down (a list entry's keys come first and are skipped).
///
/// # Safety
/// See the section comment; `root` is NULL or a live operation tree.
pub unsafe fn operation_node(root: RawNode, kind: u16) -> Option<RawNode> {
    let inner = u32::from(kind) | ffi::LYS_CONTAINER | ffi::LYS_LIST;
    // SAFETY: walks the live tree of `root` downwards.
    unsafe {
        let mut n = root;
        while !n.is_null() {
            let s = node_schema(n);
            if s.is_null() {
                return None;
            }
            if schema_kind(s).0 == kind {
                return Some(n);
            }
            let mut c = node_first_child(n);
            let mut next = std::ptr::null_mut();
            while !c.is_null() {
                let cs = node_schema(c);
                if !cs.is_null() && u32::from(schema_kind(cs).0) & inner != 0 {
                    next = c;
                    break;
                }
                c = node_next(c);
            }
            n = next;
        }
        None
    }
}

// ---- RESTCONF: bodies parsed in place, operation nodes ----

/// Creates the nodes of `path` (a libyang data path with key predicates)
/// under `parent`, or as a new tree when `parent` is NULL; returns the last
/// node created or found. `value` for a leaf or leaf-list target.
///
/// # Safety
/// `parent` is NULL or a live node of a tree of `ctx` the caller owns.
pub unsafe fn new_path(
    ctx: &Context,
    parent: RawNode,
    path: &str,
    value: Option<&str>,
) -> Result<RawNode, u32> {
    let Some(c) = raw_ctx(ctx) else { return Err(ffi::LY_ERR::LY_EINT) };
    let p = std::ffi::CString::new(path).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    let v = match value {
        Some(v) => Some(std::ffi::CString::new(v).map_err(|_| ffi::LY_ERR::LY_EINVAL)?),
        None => None,
    };
    let mut node: RawNode = std::ptr::null_mut();
    // SAFETY: strings outlive the call; `node` receives the created node.
    unsafe {
        ok(ffi::lyd_new_path(
            parent,
            c,
            p.as_ptr(),
            v.as_ref().map_or(std::ptr::null(), |v| v.as_ptr()),
            0,
            &mut node,
        ))?;
        // lyd_new_path returns the first node it created; the caller wants
        // the path's last node.
        let last = if parent.is_null() { find_path(first_root(node), path) } else { find_path(parent, path) };
        Ok(last.unwrap_or(node))
    }
}

/// The first top-level sibling of the tree holding `node`.
///
/// # Safety
/// `node` is a live node.
pub unsafe fn first_root(mut node: RawNode) -> RawNode {
    // SAFETY: parents up to the top, then the first sibling.
    unsafe {
        if node.is_null() {
            return node;
        }
        while !node_parent(node).is_null() {
            node = node_parent(node);
        }
        first_sibling(node)
    }
}

/// Parses `text` (RFC 7951 JSON or XML instance data) as children of
/// `parent`, or as a new tree when `parent` is NULL, without validation,
/// refusing state data. Returns the new tree's first node when there is no
/// parent (NULL when the text held no data).
///
/// # Safety
/// `parent` is NULL or a live node of a tree of `ctx` the caller owns.
pub unsafe fn parse_data_under(
    ctx: &Context,
    parent: RawNode,
    text: &str,
    json: bool,
) -> Result<RawNode, u32> {
    let t = std::ffi::CString::new(text).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    let format = if json { ffi::LYD_FORMAT::LYD_JSON } else { ffi::LYD_FORMAT::LYD_XML };
    let opts = ffi::LYD_PARSE_ONLY | ffi::LYD_PARSE_STRICT | ffi::LYD_PARSE_NO_STATE;
    // SAFETY: `t` is NUL-terminated and outlives the call; `parent` per contract.
    unsafe { parse_tree(ctx, parent, t.as_ptr(), format, opts) }
}

/// Parses an XML edit like [`parse_data_under`] with no parent, except that
/// elements libyang cannot store (unknown ones, invalid values) become
/// opaque nodes (no schema; see [`opaque_schema`] and [`opaque_attrs`])
/// instead of failing.
///
/// # Safety
/// None beyond the section comment; the result is a new tree the caller owns.
pub unsafe fn parse_xml_opaque(ctx: &Context, text: &str) -> Result<RawNode, u32> {
    let t = std::ffi::CString::new(text).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    let opts = ffi::LYD_PARSE_ONLY | ffi::LYD_PARSE_OPAQ | ffi::LYD_PARSE_NO_STATE;
    // SAFETY: `t` is NUL-terminated and outlives the call.
    unsafe { parse_tree(ctx, std::ptr::null_mut(), t.as_ptr(), ffi::LYD_FORMAT::LYD_XML, opts) }
}

/// The XML attributes of an opaque node: namespace, name, value.
///
/// # Safety
/// `node` is a live node without schema (opaque), parsed from XML.
pub unsafe fn opaque_attrs(node: RawNode) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    // SAFETY: the attribute list is NULL-terminated through `next`.
    unsafe {
        let mut a = (*node.cast::<ffi::lyd_node_opaq>()).attr;
        while !a.is_null() {
            out.push((
                opt_string((*a).name.__bindgen_anon_1.module_ns).unwrap_or_default(),
                opt_string((*a).name.name).unwrap_or_default(),
                opt_string((*a).value).unwrap_or_default(),
            ));
            a = (*a).next;
        }
    }
    out
}

/// The data node schema an opaque node parsed from XML names: its element
/// name in its namespace's module, a child of its parent's schema (top
/// level without a parent), looking through choices and cases; NULL when
/// there is none (or its parent is opaque too).
///
/// # Safety
/// `node` is a live node without schema (opaque), parsed from XML.
pub unsafe fn opaque_schema(node: RawNode) -> RawSchema {
    // SAFETY: an opaque node is a `lyd_node_opaq` with its context; the
    // strings outlive the calls.
    unsafe {
        let o = node.cast::<ffi::lyd_node_opaq>();
        let (parent, ns) = (node_parent(node), (*o).name.__bindgen_anon_1.module_ns);
        let pschema = if parent.is_null() { std::ptr::null_mut() } else { node_schema(parent) };
        if (!parent.is_null() && pschema.is_null()) || ns.is_null() || (*o).name.name.is_null() {
            return std::ptr::null_mut();
        }
        let module = ffi::ly_ctx_get_module_implemented_ns((*o).ctx, ns);
        if module.is_null() {
            return std::ptr::null_mut();
        }
        let name = std::ffi::CStr::from_ptr((*o).name.name);
        ffi::lys_find_child(pschema, module, name.as_ptr(), name.to_bytes().len(), 0, 0).cast_mut()
    }
}

/// Parses a RESTCONF operation body (`{"mod:input":{...}}` or
/// `<input xmlns=...>`) into the input of `op`, an RPC or action node
/// the caller created with [`new_path`].
///
/// # Safety
/// `op` is a live operation node of a tree of `ctx` the caller owns.
pub unsafe fn parse_restconf_input(ctx: &Context, op: RawNode, text: &str, json: bool) -> Result<(), u32> {
    let Some(c) = raw_ctx(ctx) else { return Err(ffi::LY_ERR::LY_EINT) };
    let t = std::ffi::CString::new(text).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    let format = if json { ffi::LYD_FORMAT::LYD_JSON } else { ffi::LYD_FORMAT::LYD_XML };
    // SAFETY: as in parse_data_under.
    unsafe {
        let mut input: *mut ffi::ly_in = std::ptr::null_mut();
        ok(ffi::ly_in_new_memory(t.as_ptr(), &mut input))?;
        // libyang wants somewhere to report the tree (`op`'s own) and no
        // operation pointer for the RESTCONF types.
        let mut tree: RawNode = std::ptr::null_mut();
        let r = ffi::lyd_parse_op(
            c,
            op,
            input,
            format,
            ffi::lyd_type::LYD_TYPE_RPC_RESTCONF,
            &mut tree,
            std::ptr::null_mut(),
        );
        ffi::ly_in_free(input, 0);
        ok(r)
    }
}

/// What [`parse_op_under`] parses: YANG-defined RPC or action input,
/// reply, or notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpType {
    Rpc,
    Reply,
    Notification,
}

impl OpType {
    fn lyd_type(self) -> ffi::lyd_type::Type {
        match self {
            OpType::Rpc => ffi::lyd_type::LYD_TYPE_RPC_YANG,
            OpType::Reply => ffi::lyd_type::LYD_TYPE_REPLY_YANG,
            OpType::Notification => ffi::lyd_type::LYD_TYPE_NOTIF_YANG,
        }
    }
}

/// Parses an operation (`<op xmlns=...>nodes</op>` in XML or
/// `{"module:op":{...}}` in JSON: RPC or action input, reply or
/// notification) under `parent` (the parents of an action or nested
/// notification, created by [`new_path`]) or as a new tree when `parent`
/// is NULL; returns the new tree's first node (NULL with a parent).
///
/// # Safety
/// `parent` is NULL or a live node of a tree of `ctx` the caller owns.
pub unsafe fn parse_op_under(
    ctx: &Context,
    parent: RawNode,
    text: &str,
    json: bool,
    kind: OpType,
) -> Result<RawNode, u32> {
    let Some(c) = raw_ctx(ctx) else { return Err(ffi::LY_ERR::LY_EINT) };
    let t = std::ffi::CString::new(text).map_err(|_| ffi::LY_ERR::LY_EINVAL)?;
    let format = if json { ffi::LYD_FORMAT::LYD_JSON } else { ffi::LYD_FORMAT::LYD_XML };
    // SAFETY: as in parse_data_under.
    unsafe {
        let mut input: *mut ffi::ly_in = std::ptr::null_mut();
        ok(ffi::ly_in_new_memory(t.as_ptr(), &mut input))?;
        let mut tree: RawNode = std::ptr::null_mut();
        let r = ffi::lyd_parse_op(c, parent, input, format, kind.lyd_type(), &mut tree, std::ptr::null_mut());
        ffi::ly_in_free(input, 0);
        ok(r)?;
        Ok(if parent.is_null() { tree } else { std::ptr::null_mut() })
    }
}
