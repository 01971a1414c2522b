//! The NETCONF operations: one `<rpc>` in, one `<rpc-reply>` out.
//!
//! The envelope and the operation parameters are read from the message's
//! element tree (matched by namespace); data content (`<config>`) goes to
//! libyang as text. Unknown parameters are `unknown-element`, missing ones
//! `missing-element`, bad values `invalid-value` or `bad-element`, each
//! with the RFC 6241 Appendix A error-info.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use yang3::data::{DataFormat, DataPrinterFlags, DataTree};

use super::filter::{self, Filter};
use super::monitoring;
use super::xml::{self, Element};
use super::{RpcCall, Server, BASE_NS, DATASTORES_NS, MONITORING_NS, NMDA_NS, WITH_DEFAULTS_NS, YANG_NS};
use crate::datastore::confirmed::{CommitParams, SessionId};
use crate::datastore::edit::{self, DefaultOperation};
use crate::datastore::store::{merge_into, tree_of};
use crate::datastore::{print_tree, Datastore, Snapshot, TestOption};
use crate::error::{xml_attr, xml_text, Error, ErrorInfo, ErrorTag, ErrorType, Errors};
use crate::schema::ffi;

/// What the session does after sending the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Continue,
    /// `<close-session>` was answered: end the session.
    Close,
    /// The message was not a well-formed `<rpc>` (counted as in-bad-rpcs).
    BadRpc,
}

/// The reply to one message.
pub struct Handled {
    pub reply: Reply,
    pub outcome: Outcome,
    /// Number of `<rpc-error>` elements in the reply.
    pub errors: u32,
    /// A subscription `<create-subscription>` started: the session
    /// delivers its events after the reply.
    pub subscription: Option<crate::notify::Subscription>,
}

/// A reply: whole, or a data tree to be printed straight into the
/// transport between a head and a tail (the print overlaps the sending,
/// and the reply is never held twice in memory).
pub enum Reply {
    Text(String),
    /// A tree printed while it is sent; with `cache`, the printed text is
    /// kept for the next reply of the same running content.
    Tree {
        head: String,
        tree: TreeRef,
        flags: DataPrinterFlags,
        tail: String,
        cache: Option<PrintKey>,
    },
    /// Text printed for an earlier reply of the same content.
    Cached {
        head: String,
        body: Arc<Vec<u8>>,
        tail: String,
    },
}

/// What a printed running datastore is kept under: its transaction id (a
/// running content has exactly one) and the printer flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrintKey {
    pub txid: u64,
    pub flags: u32,
    /// 0: the whole datastore; else the NACM view (a restricted user's
    /// [`crate::nacm::Subject::fingerprint`]).
    pub view: u64,
}

/// A tree a reply prints: a published snapshot, or a copy made for it.
pub enum TreeRef {
    Snapshot(Arc<Snapshot>),
    Owned(DataTree<'static>),
    /// Some top-level subtrees of a snapshot (addresses of its nodes),
    /// printed in place one after another: a restricted user's view that
    /// leaves out whole top-level subtrees needs no copy.
    Parts(Arc<Snapshot>, Vec<usize>),
}

impl TreeRef {
    pub fn tree(&self) -> &DataTree<'static> {
        match self {
            TreeRef::Snapshot(s) | TreeRef::Parts(s, _) => s.tree(),
            TreeRef::Owned(t) => t,
        }
    }
}

/// The content of a successful reply.
enum Content {
    Ok,
    /// A data tree printed inside `<data>` (namespace `ns`).
    Data {
        ns: &'static str,
        tree: TreeRef,
        flags: DataPrinterFlags,
        cache: Option<PrintKey>,
    },
    /// Running's printed text, from the print cache.
    Cached {
        body: Arc<Vec<u8>>,
    },
    /// `<data>` with no content.
    Empty(&'static str),
    /// Any other reply content (already namespaced).
    Raw(String),
    /// `<ok/>`, then the session ends.
    Close,
    /// `<ok/>`, then the session delivers this subscription's events.
    Subscribed(crate::notify::Subscription),
}

/// Handles one message of session `session` (any bytes).
pub fn handle(server: &Server, session: SessionId, user: &str, msg: &[u8]) -> Handled {
    let bad = |e: Error| Handled {
        reply: Reply::Text(error_reply(server, "", &Errors::from(e))),
        outcome: Outcome::BadRpc,
        errors: 1,
        subscription: None,
    };
    let Ok(text) = std::str::from_utf8(msg) else {
        return bad(Error::malformed_message("the message is not UTF-8"));
    };
    // NUL is never valid XML, and libyang's wrapper cannot take it.
    if msg.contains(&0) {
        return bad(Error::malformed_message("NUL byte in the message"));
    }
    let root = match xml::parse(text) {
        Ok(r) => r,
        Err(e) => return bad(Error::malformed_message(e.0)),
    };
    if !root.is(BASE_NS, "rpc") {
        let e = match root.ns.as_deref() {
            Some(BASE_NS) if root.local == "hello" => {
                Error::malformed_message("a second <hello>: the session is already established")
            }
            Some(BASE_NS) | None => Error::unknown_element(&root.local),
            Some(ns) => Error::unknown_namespace(&root.local, ns),
        };
        return bad(e.with_type(ErrorType::Protocol));
    }
    let attrs = echoed_attributes(&root);
    let bad_envelope = |e: Error| Handled {
        reply: Reply::Text(error_reply(server, &attrs, &Errors::from(e.with_type(ErrorType::Rpc)))),
        outcome: Outcome::BadRpc,
        errors: 1,
        subscription: None,
    };
    if root.attr(BASE_NS, "message-id").is_none() {
        return bad_envelope(Error::missing_attribute("message-id", "rpc"));
    }
    let ops: Vec<&Element> = root.children.iter().collect();
    let op = match ops.as_slice() {
        [op] => *op,
        [] => {
            return bad_envelope(
                Error::missing_element("operation").with_message("the rpc element holds no operation"),
            )
        }
        [_, second, ..] => {
            return bad_envelope(
                Error::unknown_element(&second.local)
                    .with_message("the rpc element holds more than one operation"),
            )
        }
    };
    let subject = server.nacm.subject(user);
    let ctx = Ctx { server, session, user, source: text, subject };
    let adopted;
    let op = if op.ns.is_none() {
        adopted = adopt_base_namespace(op);
        &adopted
    } else {
        op
    };
    match dispatch(&ctx, op) {
        Ok(content) => {
            let mut out = String::with_capacity(256);
            let _ = write!(out, "<rpc-reply xmlns=\"{BASE_NS}\"{attrs}>");
            let data_open = |ns: &str| {
                if ns == BASE_NS {
                    "<data>".to_string()
                } else {
                    format!("<data xmlns=\"{ns}\">")
                }
            };
            let mut subscription = None;
            let (reply, outcome) = match content {
                Content::Ok => (Reply::Text(out + "<ok/></rpc-reply>"), Outcome::Continue),
                Content::Subscribed(sub) => {
                    subscription = Some(sub);
                    (Reply::Text(out + "<ok/></rpc-reply>"), Outcome::Continue)
                }
                Content::Close => (Reply::Text(out + "<ok/></rpc-reply>"), Outcome::Close),
                Content::Raw(r) => (Reply::Text(out + &r + "</rpc-reply>"), Outcome::Continue),
                Content::Empty(ns) => {
                    let open = data_open(ns);
                    let empty = format!("{}/>", &open[..open.len() - 1]);
                    (Reply::Text(out + &empty + "</rpc-reply>"), Outcome::Continue)
                }
                Content::Data { ns, tree, flags, cache } => {
                    out.push_str(&data_open(ns));
                    let tail = "</data></rpc-reply>".to_string();
                    match tree {
                        // A filtered selection is usually small: printed here,
                        // sent whole (streaming costs a thread hand-off).
                        TreeRef::Owned(t) if cache.is_none() => {
                            match print_tree(&t, DataFormat::XML, flags) {
                                Ok(body) => (Reply::Text(out + &body + &tail), Outcome::Continue),
                                Err(e) => {
                                    let errs = Errors::from(e);
                                    (Reply::Text(error_reply(server, &attrs, &errs)), Outcome::Continue)
                                }
                            }
                        }
                        tree => (Reply::Tree { head: out, tree, flags, tail, cache }, Outcome::Continue),
                    }
                }
                Content::Cached { body } => {
                    out.push_str("<data>");
                    let tail = "</data></rpc-reply>".to_string();
                    (Reply::Cached { head: out, body, tail }, Outcome::Continue)
                }
            };
            Handled { reply, outcome, errors: 0, subscription }
        }
        Err(errs) => {
            let n = errs.iter().filter(|e| e.is_error()).count() as u32;
            Handled {
                reply: Reply::Text(error_reply(server, &attrs, &errs)),
                outcome: Outcome::Continue,
                errors: n,
                subscription: None,
            }
        }
    }
}

/// An operation sent with no namespace (netconf-console2 `--rpc` with an
/// unqualified `<get-config>`) is read as a base operation: the operation
/// and its parameters, but not data content (`config`, `filter`), take
/// the base namespace. yuma123 accepts these too; strict data content
/// keeps edits unambiguous.
fn adopt_base_namespace(op: &Element) -> Element {
    fn adopt(e: &mut Element, depth: usize) {
        if e.ns.is_none() {
            e.ns = Some(BASE_NS.to_string());
        }
        if depth == 0 || matches!(e.local.as_str(), "config" | "filter") {
            return;
        }
        for c in &mut e.children {
            adopt(c, depth - 1);
        }
    }
    let mut op = op.clone();
    adopt(&mut op, 2);
    op
}

/// `<rpc-reply>` with these errors; `attrs` are the echoed attributes.
pub fn error_reply(server: &Server, attrs: &str, errs: &Errors) -> String {
    let ns = server.schema().context();
    format!("<rpc-reply xmlns=\"{BASE_NS}\"{attrs}>{}</rpc-reply>", errs.to_rpc_errors_xml(ns))
}

/// The `<rpc>` attributes, to be repeated on `<rpc-reply>` (RFC 6241 §4.2):
/// all but the default namespace declaration, which the reply sets itself.
fn echoed_attributes(rpc: &Element) -> String {
    let mut s = String::new();
    for a in &rpc.attrs {
        if a.raw_name == "xmlns" {
            continue;
        }
        let _ = write!(s, " {}=\"{}\"", a.raw_name, xml_attr(&a.value));
    }
    s
}

struct Ctx<'a> {
    server: &'a Server,
    session: SessionId,
    user: &'a str,
    /// The whole message (element spans point into it).
    source: &'a str,
    /// What the user may do (NACM).
    subject: Arc<crate::nacm::Subject>,
}

type OpResult = Result<Content, Errors>;

/// The module of a built-in operation (the ones dispatched here rather
/// than by [`run_operation`]), for its exec check.
fn builtin_module(op: &Element) -> Option<&'static str> {
    match (op.ns.as_deref()?, op.local.as_str()) {
        (BASE_NS, _) => Some("ietf-netconf"),
        (MONITORING_NS, "get-schema") => Some("ietf-netconf-monitoring"),
        (NMDA_NS, "get-data" | "edit-data") => Some("ietf-netconf-nmda"),
        (crate::notify::NOTIFICATION_NS, "create-subscription") => Some("notifications"),
        _ => None,
    }
}

fn dispatch(c: &Ctx<'_>, op: &Element) -> OpResult {
    if let Some(module) = builtin_module(op) {
        if !c.subject.may_exec(module, &op.local, None) {
            return Err(Errors::from(
                c.subject.refuse_operation(&format!("/{module}:{}", op.local), &op.local),
            ));
        }
    }
    match op.ns.as_deref() {
        Some(BASE_NS) => match op.local.as_str() {
            "get" => readable(c, get(c, op)),
            "get-config" => readable(c, get_config(c, op)),
            "edit-config" => edit_config(c, op),
            "copy-config" => copy_config(c, op),
            "delete-config" => delete_config(c, op),
            "lock" => lock(c, op, true),
            "unlock" => lock(c, op, false),
            "close-session" => {
                params(op, &[])?;
                Ok(Content::Close)
            }
            "kill-session" => kill_session(c, op),
            "validate" => validate(c, op),
            "commit" => commit(c, op),
            "discard-changes" => {
                params(op, &[])?;
                c.server.ds.discard_changes(c.session)?;
                Ok(Content::Ok)
            }
            "cancel-commit" => cancel_commit(c, op),
            _ => Err(unknown_operation(op)),
        },
        Some(MONITORING_NS) if op.local == "get-schema" => get_schema(c, op),
        Some(NMDA_NS) if op.local == "get-data" => readable(c, get_data(c, op)),
        Some(NMDA_NS) if op.local == "edit-data" => edit_data(c, op),
        Some(YANG_NS) if op.local == "action" => action(c, op),
        Some(crate::notify::NOTIFICATION_NS) if op.local == "create-subscription" => {
            create_subscription(c, op)
        }
        _ => module_rpc(c, op),
    }
}

fn unknown_operation(op: &Element) -> Errors {
    Errors::from(Error::operation_not_supported(format!("operation {} is not supported", op.local)))
}

// ---- parameters ----

/// Checks that every child of `op` is one of `allowed` (base namespace,
/// or the namespace given with the name as `ns name`).
fn params(op: &Element, allowed: &[&str]) -> Result<(), Errors> {
    let op_ns = op.ns.as_deref().unwrap_or(BASE_NS);
    for child in &op.children {
        let ok = allowed.iter().any(|a| match a.split_once(' ') {
            Some((ns, name)) => child.is(ns, name),
            None => child.is(op_ns, a),
        });
        if !ok {
            let e = match child.ns.as_deref() {
                Some(ns) if ns != op_ns && !allowed.iter().any(|a| a.starts_with(ns)) => {
                    Error::unknown_namespace(&child.local, ns)
                }
                _ => Error::unknown_element(&child.local),
            };
            return Err(Errors::from(
                e.with_type(ErrorType::Protocol)
                    .with_message(format!("{} is not a parameter of {}", child.local, op.local)),
            ));
        }
    }
    Ok(())
}

fn required<'e>(op: &'e Element, name: &str) -> Result<&'e Element, Errors> {
    let ns = op.ns.as_deref().unwrap_or(BASE_NS);
    op.child(ns, name).ok_or_else(|| {
        Errors::from(
            Error::missing_element(name)
                .with_type(ErrorType::Protocol)
                .with_message(format!("{} needs a {name} parameter", op.local)),
        )
    })
}

/// A datastore named by the one child of `<source>` / `<target>`.
enum Source<'e> {
    Datastore(Datastore),
    Config(&'e Element),
}

fn datastore_param<'e>(
    op: &Element,
    holder: &'e Element,
    allowed: &[Datastore],
    config_ok: bool,
) -> Result<Source<'e>, Errors> {
    let inner: Vec<&Element> = holder.children.iter().collect();
    let [one] = inner.as_slice() else {
        return Err(Errors::from(
            Error::missing_element(&holder.local)
                .with_type(ErrorType::Protocol)
                .with_message(format!("{} of {} names exactly one datastore", holder.local, op.local)),
        ));
    };
    if one.ns.as_deref() == Some(BASE_NS) {
        if one.local == "config" && config_ok {
            return Ok(Source::Config(one));
        }
        if one.local == "url" {
            return Err(url_not_supported());
        }
        let ds = match one.local.as_str() {
            "running" => Some(Datastore::Running),
            "candidate" => Some(Datastore::Candidate),
            "startup" => Some(Datastore::Startup),
            _ => None,
        };
        if let Some(ds) = ds.filter(|d| allowed.contains(d)) {
            return Ok(Source::Datastore(ds));
        }
    }
    Err(Errors::from(
        Error::bad_element(&holder.local)
            .with_type(ErrorType::Protocol)
            .with_message(format!("{} is not a valid {} of {}", one.local, holder.local, op.local)),
    ))
}

fn datastore_of(op: &Element, name: &str, allowed: &[Datastore]) -> Result<Datastore, Errors> {
    let holder = required(op, name)?;
    match datastore_param(op, holder, allowed, false)? {
        Source::Datastore(d) => Ok(d),
        Source::Config(_) => Err(Errors::from(Error::bad_element(name).with_type(ErrorType::Protocol))),
    }
}

/// `with-defaults` (RFC 6243) as printer flags; basic mode is explicit.
fn with_defaults(op: &Element) -> Result<DataPrinterFlags, Errors> {
    let Some(wd) = op.child(WITH_DEFAULTS_NS, "with-defaults") else {
        return Ok(DataPrinterFlags::WD_EXPLICIT);
    };
    Ok(match wd.text_trimmed() {
        "explicit" => DataPrinterFlags::WD_EXPLICIT,
        "report-all" => DataPrinterFlags::WD_ALL,
        "report-all-tagged" => DataPrinterFlags::from_bits_retain(libyang3_sys::LYD_PRINT_WD_ALL_TAG),
        "trim" => DataPrinterFlags::WD_TRIM,
        other => {
            return Err(Errors::from(
                Error::invalid_value(format!("with-defaults mode {other:?} is not supported"))
                    .with_type(ErrorType::Protocol)
                    .with_info(ErrorInfo::BadElement("with-defaults".into())),
            ))
        }
    })
}

const WD_PARAM: &str = concat!("urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults", " with-defaults");

const PRINT: DataPrinterFlags = DataPrinterFlags::WITH_SIBLINGS.union(DataPrinterFlags::SHRINK);

/// The `<data>` content of `snap` through `filter`: the snapshot itself
/// when unfiltered, else the selection copied out of it.
fn filtered(
    c: &Ctx<'_>,
    snap: Arc<Snapshot>,
    filter: &Filter,
    wd: DataPrinterFlags,
    ns: &'static str,
) -> Result<Content, Errors> {
    let ctx = c.server.schema().context();
    let tree = match filter::select(ctx, snap.tree(), filter)? {
        None => TreeRef::Snapshot(snap),
        Some(sel) => TreeRef::Owned(sel),
    };
    Ok(data_content(ns, tree, PRINT | wd))
}

/// What the user may read of a retrieval's content (RFC 8341 §3.4.5:
/// denied nodes are silently left out). A snapshot readable whole is kept
/// as is (printed in place); otherwise its readable part is copied.
fn readable(c: &Ctx<'_>, content: OpResult) -> OpResult {
    let content = content?;
    if c.subject.unrestricted() {
        return Ok(content);
    }
    let ctx = c.server.schema().context();
    let Content::Data { ns, tree, flags, cache } = content else { return Ok(content) };
    if cache.is_some() {
        // Made for this user's view already (get-config of running).
        return Ok(Content::Data { ns, tree, flags, cache });
    }
    let tree = match tree {
        // SAFETY: a snapshot is never modified; the copy is ours.
        TreeRef::Snapshot(snap) => {
            return Ok(match readable_view(c, snap)? {
                Some(tree) => Content::Data { ns, tree, flags, cache },
                None => Content::Empty(ns),
            })
        }
        parts @ TreeRef::Parts(..) => return Ok(Content::Data { ns, tree: parts, flags, cache }),
        // SAFETY: the selection is ours.
        TreeRef::Owned(t) => tree_of(ctx, unsafe { c.subject.prune(t.into_raw()) }),
    };
    Ok(data_content(ns, TreeRef::Owned(tree), flags))
}

/// What the user may read of a snapshot: all of it, whole top-level
/// subtrees of it in place, or a pruned copy; `None` when nothing.
fn readable_view(c: &Ctx<'_>, snap: Arc<Snapshot>) -> Result<Option<TreeRef>, Errors> {
    let ctx = c.server.schema().context();
    // SAFETY: a snapshot is never modified; the copy is ours.
    unsafe {
        if c.subject.reads_all(snap.root()) {
            return Ok(Some(TreeRef::Snapshot(snap)));
        }
        if let Some(parts) = c.subject.readable_parts(snap.root()) {
            return Ok((!parts.is_empty())
                .then(|| TreeRef::Parts(snap.clone(), parts.into_iter().map(|n| n as usize).collect())));
        }
        let copy = c.subject.readable_copy(snap.root()).map_err(|e| {
            let _ = ffi::take_errors(ctx);
            Errors::from(Error::operation_failed(format!("copying the readable data failed (libyang {e})")))
        })?;
        Ok((!copy.is_null()).then(|| TreeRef::Owned(tree_of(ctx, copy))))
    }
}

fn data_content(ns: &'static str, tree: TreeRef, flags: DataPrinterFlags) -> Content {
    if tree.tree().reference().is_none() {
        Content::Empty(ns)
    } else {
        Content::Data { ns, tree, flags, cache: None }
    }
}

// ---- retrieval ----

fn get_config(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["source", "filter", WD_PARAM])?;
    let ds = datastore_of(op, "source", &[Datastore::Running, Datastore::Candidate, Datastore::Startup])?;
    let wd = with_defaults(op)?;
    let filter = filter::parse(c.server.schema().context(), op.child(BASE_NS, "filter"))?;
    match c.server.ds.snapshot(ds) {
        // The whole of running: printed once per transaction and view (a
        // restricted user's readable part is its own view).
        Some(snap) if ds == Datastore::Running && filter == Filter::All => {
            let flags = PRINT | wd;
            // SAFETY: a snapshot is never modified.
            let whole = unsafe { c.subject.reads_all(snap.root()) };
            let view = if whole { 0 } else { c.subject.fingerprint() | 1 };
            let key = PrintKey { txid: snap.txid(), flags: flags.bits(), view };
            if let Some(body) = c.server.cached_print(key) {
                return Ok(Content::Cached { body });
            }
            let Some(tree) = readable_view(c, snap)? else { return Ok(Content::Empty(BASE_NS)) };
            Ok(match data_content(BASE_NS, tree, flags) {
                Content::Data { ns, tree, flags, .. } => Content::Data { ns, tree, flags, cache: Some(key) },
                other => other,
            })
        }
        Some(snap) => filtered(c, snap, &filter, wd, BASE_NS),
        // No startup yet, or deleted by delete-config: empty.
        None if ds == Datastore::Startup => Ok(Content::Empty(BASE_NS)),
        None => Err(not_available(ds)),
    }
}

fn not_available(ds: Datastore) -> Errors {
    Errors::from(Error::operation_not_supported(format!("the {} datastore is not available", ds.name())))
}

fn get(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["filter", WD_PARAM])?;
    let wd = with_defaults(op)?;
    let filter = filter::parse(c.server.schema().context(), op.child(BASE_NS, "filter"))?;
    if filter == Filter::All {
        let snap = c.server.ds.operational(false)?;
        return filtered(c, snap, &filter, wd, BASE_NS);
    }
    // Select from running and from the state data apart: running is not
    // copied whole for a filtered read.
    let ctx = c.server.schema().context();
    let running = c.server.ds.running();
    let config = filter::select(ctx, running.tree(), &filter)?;
    let state = filter::select(ctx, &c.server.ds.state()?, &filter)?;
    let tree = match (config, state) {
        (Some(a), Some(b)) => merge_into(ctx, a, b)?,
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => return Ok(Content::Empty(BASE_NS)),
    };
    Ok(data_content(BASE_NS, TreeRef::Owned(tree), PRINT | wd))
}

/// `<get-data>` (RFC 8526 §3.1.1).
fn get_data(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(
        op,
        &[
            "datastore",
            "subtree-filter",
            "xpath-filter",
            "config-filter",
            "origin-filter",
            "negated-origin-filter",
            "max-depth",
            "with-origin",
            WD_PARAM,
        ],
    )?;
    let ds_elem = required(op, "datastore")?;
    let ds = identity_value(ds_elem, DATASTORES_NS).and_then(Datastore::from_identity).ok_or_else(|| {
        Errors::from(invalid(&format!("datastore {:?} is not known", ds_elem.text_trimmed()), "datastore"))
    })?;
    let wd = with_defaults(op)?;
    let with_origin = op.child(NMDA_NS, "with-origin").is_some();
    if with_origin && ds != Datastore::Operational {
        return Err(Errors::from(invalid(
            "with-origin applies to the operational datastore only",
            "with-origin",
        )));
    }
    if origin_filter_present(op) && ds != Datastore::Operational {
        return Err(Errors::from(invalid(
            "origin filters apply to the operational datastore only",
            "origin-filter",
        )));
    }
    let ctx = c.server.schema().context();
    let filter = match (op.child(NMDA_NS, "subtree-filter"), op.child(NMDA_NS, "xpath-filter")) {
        (Some(_), Some(_)) => {
            return Err(Errors::from(invalid(
                "subtree-filter and xpath-filter exclude each other",
                "xpath-filter",
            )))
        }
        (Some(st), None) => {
            // The same grammar as <filter type="subtree">.
            let mut f = st.clone();
            f.attrs.clear();
            filter::parse(ctx, Some(&f))?
        }
        (None, Some(xp)) => {
            let mut f = xp.clone();
            f.attrs.retain(|a| a.is_namespace_declaration());
            f.attrs.push(xml::Attr {
                raw_name: "type".into(),
                ns: None,
                local: "type".into(),
                value: "xpath".into(),
            });
            f.attrs.push(xml::Attr {
                raw_name: "select".into(),
                ns: None,
                local: "select".into(),
                value: xp.text_trimmed().to_string(),
            });
            filter::parse(ctx, Some(&f))?
        }
        (None, None) => Filter::All,
    };
    let config_filter = match op.child(NMDA_NS, "config-filter").map(|e| e.text_trimmed()) {
        None => None,
        Some("true") => Some(true),
        Some("false") => Some(false),
        Some(other) => {
            return Err(Errors::from(invalid(
                &format!("config-filter {other:?} is not a boolean"),
                "config-filter",
            )))
        }
    };
    let max_depth = match op.child(NMDA_NS, "max-depth").map(|e| e.text_trimmed()) {
        None | Some("unbounded") => None,
        Some(v) => match v.parse::<u16>() {
            Ok(n) if n >= 1 => Some(n),
            _ => {
                return Err(Errors::from(invalid(
                    &format!("max-depth {v:?} is not 1..65535 or unbounded"),
                    "max-depth",
                )))
            }
        },
    };
    let snap = match ds {
        Datastore::Operational => c.server.ds.operational(with_origin)?,
        other => match c.server.ds.snapshot(other) {
            Some(s) => s,
            None if other == Datastore::Startup => return Ok(Content::Empty(NMDA_NS)),
            None => return Err(not_available(other)),
        },
    };
    let mut selected = filter::select(ctx, snap.tree(), &filter)?;
    if config_filter.is_some() || max_depth.is_some() || origin_filter_present(op) {
        let tree = match selected.take() {
            Some(t) => t,
            None => snap
                .tree()
                .duplicate()
                .map_err(|e| Errors::from(Error::operation_failed(format!("copy: {e}"))))?,
        };
        selected = Some(prune(ctx, tree, config_filter, max_depth, &origin_filter(op)?));
    }
    let mut flags = PRINT | wd;
    if max_depth.is_some() {
        // A container cut at max-depth is shown, empty.
        flags |= DataPrinterFlags::KEEP_EMPTY_CONT;
    }
    let tree = match selected {
        Some(t) => TreeRef::Owned(t),
        None => TreeRef::Snapshot(snap),
    };
    Ok(data_content(NMDA_NS, tree, flags))
}

fn origin_filter_present(op: &Element) -> bool {
    op.child(NMDA_NS, "origin-filter").is_some() || op.child(NMDA_NS, "negated-origin-filter").is_some()
}

/// (negated, origin identities in JSON form `ietf-origin:intended`).
fn origin_filter(op: &Element) -> Result<Option<(bool, Vec<String>)>, Errors> {
    let negated = op.children.iter().any(|e| e.is(NMDA_NS, "negated-origin-filter"));
    let mut ids = Vec::new();
    for e in op
        .children
        .iter()
        .filter(|e| e.is(NMDA_NS, "origin-filter") || e.is(NMDA_NS, "negated-origin-filter"))
    {
        let v = identity_value(e, "urn:ietf:params:xml:ns:yang:ietf-origin").ok_or_else(|| {
            Errors::from(invalid(&format!("origin {:?} is not known", e.text_trimmed()), &e.local))
        })?;
        ids.push(format!("ietf-origin:{v}"));
    }
    Ok((!ids.is_empty()).then_some((negated, ids)))
}

/// An identityref value whose prefix maps to `ns`: its local name.
fn identity_value<'e>(e: &'e Element, ns: &str) -> Option<&'e str> {
    let v = e.text_trimmed();
    let (prefix, name) = v.split_once(':').unwrap_or(("", v));
    (e.resolve_prefix(prefix) == Some(ns)).then_some(name)
}

fn invalid(msg: &str, element: &str) -> Error {
    Error::invalid_value(msg).with_type(ErrorType::Protocol).with_info(ErrorInfo::BadElement(element.into()))
}

/// get-data's node filters beyond the XPath/subtree selection.
struct Prune<'a> {
    config: Option<bool>,
    max_depth: Option<u16>,
    /// (negated, origin identities as `ietf-origin:name`).
    origin: &'a Option<(bool, Vec<String>)>,
}

/// Applies get-data's config-filter, origin filter and max-depth to `tree`
/// (a copy the caller owns) and returns what is left.
pub(crate) fn prune(
    ctx: &'static yang3::context::Context,
    tree: DataTree<'static>,
    config: Option<bool>,
    max_depth: Option<u16>,
    origin: &Option<(bool, Vec<String>)>,
) -> DataTree<'static> {
    let p = Prune { config, max_depth, origin };
    let first = tree.into_raw();
    let mut kept: Vec<ffi::RawNode> = Vec::new();
    // SAFETY: the tree is ours (taken out of its owner above); a node is
    // unlinked and freed only after the walk has left it.
    unsafe {
        for n in ffi::siblings(first) {
            if prune_node(&p, n, 1, None) {
                kept.push(n);
            } else {
                let _ = ffi::unlink(n);
                ffi::free_tree(n);
            }
        }
    }
    let _ = ffi::take_errors(ctx);
    tree_of(ctx, kept.first().copied().unwrap_or(std::ptr::null_mut()))
}

/// Cuts the subtree of `node` (depth 1) below `max_depth`; list keys stay.
///
/// # Safety
/// `node` is a live node of a tree the caller owns.
pub(crate) unsafe fn limit_depth(node: ffi::RawNode, max_depth: u16) {
    let p = Prune { config: None, max_depth: Some(max_depth), origin: &None };
    // SAFETY: contract.
    unsafe { prune_node(&p, node, 1, None) };
}

/// Prunes below `node`; whether `node` itself stays.
///
/// # Safety
/// `node` is a live node of a tree the caller owns.
unsafe fn prune_node(p: &Prune<'_>, node: ffi::RawNode, depth: u16, inherited: Option<&str>) -> bool {
    // SAFETY: contract; children are unlinked only after their own walk.
    unsafe {
        let schema = ffi::node_schema(node);
        let (kind, flags) = if schema.is_null() { (0, 0) } else { ffi::schema_kind(schema) };
        let is_config = flags & ffi::LYS_CONFIG_W != 0;
        let is_key = flags & ffi::LYS_KEY != 0;
        if is_key {
            return true;
        }
        if p.max_depth.is_some_and(|m| depth > m) {
            return false;
        }
        let own = ffi::node_metadata(node)
            .into_iter()
            .find(|(m, name, _)| m == "ietf-origin" && name == "origin")
            .map(|(_, _, v)| v);
        let origin = own.as_deref().or(inherited);
        let origin_ok = match (p.origin, origin) {
            (Some((negated, ids)), Some(o)) => ids.iter().any(|i| i == o) != *negated,
            (Some((negated, _)), None) => *negated,
            (None, _) => true,
        };
        let is_term = kind == ffi::LYS_LEAF || kind == ffi::LYS_LEAFLIST;
        if is_term {
            return origin_ok && p.config.is_none_or(|want| want == is_config);
        }
        if p.config == Some(true) && !is_config {
            return false;
        }
        let children = ffi::children(node);
        let selective = p.config.is_some() || p.origin.is_some();
        if children.is_empty() {
            return origin_ok && p.config.is_none_or(|want| want == is_config);
        }
        let mut kept_any = false;
        for c in children {
            let child_key = {
                let s = ffi::node_schema(c);
                !s.is_null() && ffi::schema_kind(s).1 & ffi::LYS_KEY != 0
            };
            if prune_node(p, c, depth + 1, origin) {
                kept_any |= !child_key;
            } else {
                let _ = ffi::unlink(c);
                ffi::free_tree(c);
            }
        }
        !selective || kept_any
    }
}

fn get_schema(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["identifier", "version", "format"])?;
    let id = required(op, "identifier")?.text_trimmed();
    let version = op.child(MONITORING_NS, "version").map(|e| e.text_trimmed());
    let format = match op.child(MONITORING_NS, "format") {
        None => "yang",
        Some(f) => {
            let v = f.text_trimmed();
            v.rsplit_once(':').map_or(v, |(_, n)| n)
        }
    };
    let text = monitoring::get_schema(c.server.schema(), id, version, format)?;
    Ok(Content::Raw(format!("<data xmlns=\"{MONITORING_NS}\">{}</data>", xml_text(&text))))
}

// ---- edits ----

fn edit_config(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["target", "default-operation", "test-option", "error-option", "config", "url"])?;
    let target = datastore_of(op, "target", &[Datastore::Running, Datastore::Candidate])?;
    let default_operation = default_operation(op.child(BASE_NS, "default-operation"))?;
    let test_option = match op.child(BASE_NS, "test-option").map(|e| e.text_trimmed()) {
        None | Some("test-then-set") => TestOption::TestThenSet,
        Some("set") => TestOption::Set,
        Some("test-only") => TestOption::TestOnly,
        Some(other) => return Err(Errors::from(invalid(&format!("test-option {other:?}"), "test-option"))),
    };
    // Every error-option behaves as rollback-on-error (DESIGN.md decision 4).
    match op.child(BASE_NS, "error-option").map(|e| e.text_trimmed()) {
        None | Some("stop-on-error") | Some("continue-on-error") | Some("rollback-on-error") => {}
        Some(other) => return Err(Errors::from(invalid(&format!("error-option {other:?}"), "error-option"))),
    }
    apply_config(c, op, target, default_operation, test_option)
}

/// The `<config>` (or refused `<url>`) of edit-config and edit-data, applied.
fn apply_config(
    c: &Ctx<'_>,
    op: &Element,
    target: Datastore,
    default_operation: DefaultOperation,
    test_option: TestOption,
) -> OpResult {
    let ns = op.ns.as_deref().unwrap_or(BASE_NS);
    if op.child(ns, "url").is_some() {
        return Err(url_not_supported());
    }
    let config = required(op, "config")?;
    let tree = parse_config_edit(c, config)?;
    c.server.ds.edit(c.session, target, tree, default_operation, test_option)?;
    Ok(Content::Ok)
}

fn url_not_supported() -> Errors {
    Errors::from(Error::operation_not_supported("the :url capability is not supported"))
}

fn default_operation(e: Option<&Element>) -> Result<DefaultOperation, Errors> {
    Ok(match e.map(|e| e.text_trimmed()) {
        None | Some("merge") => DefaultOperation::Merge,
        Some("replace") => DefaultOperation::Replace,
        Some("none") => DefaultOperation::None,
        Some(other) => {
            return Err(Errors::from(invalid(&format!("default-operation {other:?}"), "default-operation")))
        }
    })
}

fn parse_config_edit(c: &Ctx<'_>, config: &Element) -> Result<DataTree<'static>, Errors> {
    let text = xml::inner_xml(c.source, config);
    edit::parse_edit(c.server.schema().context(), &text).map_err(Errors::from)
}

/// `<edit-data>` (RFC 8526 §3.1.2): edit-config on running or candidate
/// named by identity.
fn edit_data(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["datastore", "default-operation", "config", "url"])?;
    let ds_elem = required(op, "datastore")?;
    let target = match identity_value(ds_elem, DATASTORES_NS).and_then(Datastore::from_identity) {
        Some(d @ (Datastore::Running | Datastore::Candidate)) => d,
        _ => {
            return Err(Errors::from(invalid(
                &format!("datastore {:?} cannot be edited", ds_elem.text_trimmed()),
                "datastore",
            )))
        }
    };
    let default_operation = default_operation(op.child(NMDA_NS, "default-operation"))?;
    apply_config(c, op, target, default_operation, TestOption::TestThenSet)
}

fn copy_config(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["target", "source"])?;
    let target = datastore_of(op, "target", &[Datastore::Running, Datastore::Candidate, Datastore::Startup])?;
    let holder = required(op, "source")?;
    match datastore_param(op, holder, &[Datastore::Running, Datastore::Candidate, Datastore::Startup], true)?
    {
        Source::Datastore(src) => {
            c.server.ds.copy_config(c.session, target, src)?;
        }
        Source::Config(cfg) => {
            let text = xml::inner_xml(c.source, cfg);
            c.server.ds.copy_config_inline(c.session, target, &text)?;
        }
    }
    Ok(Content::Ok)
}

fn delete_config(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["target"])?;
    let target = datastore_of(op, "target", &[Datastore::Running, Datastore::Candidate, Datastore::Startup])?;
    c.server.ds.delete_config(c.session, target)?;
    Ok(Content::Ok)
}

fn lock(c: &Ctx<'_>, op: &Element, take: bool) -> OpResult {
    params(op, &["target"])?;
    let target = datastore_of(op, "target", &[Datastore::Running, Datastore::Candidate, Datastore::Startup])?;
    if take {
        c.server.ds.lock(c.session, target)?;
        c.server.note_lock(target, c.session);
    } else {
        c.server.ds.unlock(c.session, target)?;
    }
    Ok(Content::Ok)
}

fn kill_session(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["session-id"])?;
    let raw = required(op, "session-id")?.text_trimmed();
    let id: SessionId = raw.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
        Errors::from(invalid(&format!("session-id {raw:?} is not a session number"), "session-id"))
    })?;
    if id == c.session {
        return Err(Errors::from(invalid("a session cannot kill itself (use close-session)", "session-id")));
    }
    if !c.server.kill_session(id, c.session) {
        return Err(Errors::from(invalid(&format!("no session {id}"), "session-id")));
    }
    Ok(Content::Ok)
}

/// `<create-subscription>` (RFC 5277 §2.1.1). With `:interleave` the
/// session keeps taking RPCs while subscribed; one subscription per
/// session at a time.
fn create_subscription(c: &Ctx<'_>, op: &Element) -> OpResult {
    use crate::notify::{parse_date_time, subscription::Encoding, Request, NOTIFICATION_NS as NS};
    // RFC 5277's schema puts <filter> in the notification namespace;
    // ncclient (and others) send the base namespace's: both are taken.
    let base_filter = format!("{BASE_NS} filter");
    params(op, &["stream", "filter", base_filter.as_str(), "startTime", "stopTime"])?;
    let stream = op.child(NS, "stream").map_or("NETCONF", |e| e.text_trimmed()).to_string();
    let f = op.child(NS, "filter").or_else(|| op.child(BASE_NS, "filter"));
    let filter = filter::parse_notification_filter(c.server.schema().context(), f)?;
    if let Filter::XPath(x) = &filter {
        filter::check_xpath(c.server.schema().context(), x)?;
    }
    let time = |name: &str| -> Result<Option<std::time::SystemTime>, Errors> {
        match op.child(NS, name) {
            None => Ok(None),
            Some(e) => parse_date_time(e.text_trimmed()).map(Some).ok_or_else(|| {
                Errors::from(
                    Error::bad_element(name)
                        .with_message(format!("{name} {:?} is not a date-and-time", e.text_trimmed())),
                )
            }),
        }
    };
    let req = Request { stream, filter, start: time("startTime")?, stop: time("stopTime")? };
    let sub = c.server.bus.subscribe(req, Encoding::Xml)?.with_gate(c.server.nacm.notification_gate(c.user));
    if !c.server.claim_subscription(c.session) {
        return Err(Errors::from(Error::in_use(
            "this session already has a notification subscription (RFC 5277: one per session)",
        )));
    }
    Ok(Content::Subscribed(sub))
}

fn validate(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["source"])?;
    let holder = required(op, "source")?;
    match datastore_param(op, holder, &[Datastore::Running, Datastore::Candidate, Datastore::Startup], true)?
    {
        Source::Datastore(ds) => c.server.ds.validate(ds)?,
        Source::Config(cfg) => c.server.ds.validate_config(&xml::inner_xml(c.source, cfg))?,
    }
    Ok(Content::Ok)
}

fn commit(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["confirmed", "confirm-timeout", "persist", "persist-id"])?;
    let confirmed = op.child(BASE_NS, "confirmed").is_some();
    let timeout = match op.child(BASE_NS, "confirm-timeout").map(|e| e.text_trimmed()) {
        None => None,
        Some(v) => match v.parse::<u32>() {
            Ok(n) if n >= 1 => Some(Duration::from_secs(u64::from(n))),
            _ => {
                return Err(Errors::from(invalid(
                    &format!("confirm-timeout {v:?} is not 1..4294967295"),
                    "confirm-timeout",
                )))
            }
        },
    };
    if timeout.is_some() && !confirmed {
        return Err(Errors::from(invalid("confirm-timeout needs confirmed", "confirm-timeout")));
    }
    let persist = op.child(BASE_NS, "persist").map(|e| e.text.clone());
    if persist.is_some() && !confirmed {
        return Err(Errors::from(invalid("persist needs confirmed", "persist")));
    }
    let params = CommitParams {
        confirmed,
        timeout,
        persist,
        persist_id: op.child(BASE_NS, "persist-id").map(|e| e.text.clone()),
    };
    c.server.ds.commit(c.session, &params)?;
    Ok(Content::Ok)
}

fn cancel_commit(c: &Ctx<'_>, op: &Element) -> OpResult {
    params(op, &["persist-id"])?;
    let persist_id = op.child(BASE_NS, "persist-id").map(|e| e.text.clone());
    c.server.ds.cancel_commit(c.session, persist_id.as_deref())?;
    Ok(Content::Ok)
}

// ---- RPCs and actions of loaded modules ----

/// An RPC of a loaded module: checked against its schema by libyang, then
/// given to its registered handler.
fn module_rpc(c: &Ctx<'_>, op: &Element) -> OpResult {
    let ctx = c.server.schema().context();
    let Some(ns) = op.ns.as_deref() else {
        return Err(Errors::from(
            Error::unknown_namespace(&op.local, "")
                .with_type(ErrorType::Protocol)
                .with_message(format!("operation {} has no namespace", op.local)),
        ));
    };
    let Some(module) = ctx.get_module_implemented_ns(ns) else {
        return Err(Errors::from(Error::unknown_namespace(&op.local, ns).with_type(ErrorType::Protocol)));
    };
    let is_rpc = module.rpcs().any(|r| r.name() == op.local);
    if !is_rpc {
        return Err(unknown_operation(op));
    }
    call_handler(c, op, ns, &op.local, OpKind::Rpc)
}

/// `<action>` (RFC 7950 §7.15.2): the handler is found by the action
/// node, the element of the data path that is an action in the schema.
fn action(c: &Ctx<'_>, op: &Element) -> OpResult {
    let ctx = c.server.schema().context();
    let found = op.children.first().and_then(|first| find_action(ctx, first));
    match found {
        Some(e) => {
            let ns = e.ns.clone().unwrap_or_default();
            call_handler(c, op, &ns, &e.local, OpKind::Action)
        }
        None => Err(Errors::from(Error::operation_not_supported(
            "the action element names no action of a loaded module",
        ))),
    }
}

fn find_action<'e>(ctx: &yang3::context::Context, e: &'e Element) -> Option<&'e Element> {
    fn walk<'e>(ctx: &yang3::context::Context, e: &'e Element, parent: &str) -> Option<&'e Element> {
        let module = ctx.get_module_implemented_ns(e.ns.as_deref()?)?;
        if !crate::schema::is_identifier(&e.local) {
            return None;
        }
        let path = format!("{parent}/{}:{}", module.name(), e.local);
        let node = ctx.find_path(&path).ok()?;
        match node.kind() {
            yang3::schema::SchemaNodeKind::Action => Some(e),
            yang3::schema::SchemaNodeKind::Container | yang3::schema::SchemaNodeKind::List => {
                e.children.iter().find_map(|c| walk(ctx, c, &path))
            }
            _ => None,
        }
    }
    let found = walk(ctx, e, "");
    let _ = ffi::take_errors(ctx);
    found
}

/// Whether an operation is an RPC or an action.
#[derive(Clone, Copy)]
pub(crate) enum OpKind {
    Rpc,
    Action,
}

fn call_handler(c: &Ctx<'_>, op: &Element, ns: &str, name: &str, kind: OpKind) -> OpResult {
    let ctx = c.server.schema().context();
    let op_xml = match kind {
        OpKind::Rpc => self_contained(c.source, op),
        OpKind::Action => {
            let Some(first) = op.children.first() else {
                return Err(Errors::from(
                    Error::missing_element("action data").with_type(ErrorType::Protocol),
                ));
            };
            self_contained(c.source, first)
        }
    };
    let _ = ffi::take_errors(ctx);
    let tree =
        match DataTree::parse_op_string(ctx, &op_xml, DataFormat::XML, yang3::data::DataOperation::RpcYang) {
            Ok(t) => t,
            Err(_) => {
                let records = ffi::take_errors(ctx);
                let errs = Errors::from_libyang(&records, crate::error::Stage::Parse);
                return Err(if errs.is_empty() {
                    Errors::from(Error::invalid_value(format!("input of {name} is not valid")))
                } else {
                    errs
                });
            }
        };
    let out = run_operation(c.server, c.session, c.user, ns, name, kind, &tree, &op_xml)?;
    Ok(if out.trim().is_empty() { Content::Ok } else { Content::Raw(out) })
}

/// What NETCONF and RESTCONF both do with a parsed RPC or action (`tree`,
/// its input as XML in `input_xml`): validate the input against running,
/// check that an action's node exists (RFC 7950 §7.15), then call the
/// registered handler (`operation-not-supported` when there is none).
/// Returns the handler's output XML.
#[allow(clippy::too_many_arguments)]
pub(crate) fn run_operation(
    server: &Server,
    session: SessionId,
    user: &str,
    ns: &str,
    name: &str,
    kind: OpKind,
    tree: &DataTree<'static>,
    input_xml: &str,
) -> Result<String, Errors> {
    let ctx = server.schema().context();
    let op_root = tree.reference().map_or(std::ptr::null_mut(), |n| n.as_raw());
    // RFC 8341 §3.4.4: exec access is checked before anything else.
    // SAFETY: `tree` is the caller's.
    unsafe { check_exec(server, user, name, kind, op_root)? };
    let running = server.ds.running();
    let dep = running.tree().reference().map_or(std::ptr::null_mut(), |n| n.as_raw());
    // SAFETY: `tree` is the caller's; the running snapshot is held for the call.
    if unsafe { ffi::validate_op(op_root, dep, ffi::OpType::Rpc) }.is_err() {
        let records = ffi::take_errors(ctx);
        let errs: Errors = Errors::from_libyang(&records, crate::error::Stage::Validate)
            .iter()
            .cloned()
            .map(missing_input_parameter)
            .collect();
        return Err(if errs.is_empty() {
            Errors::from(Error::invalid_value(format!("input of {name} is not valid")))
        } else {
            errs
        });
    }
    if let OpKind::Action = kind {
        // SAFETY: as above.
        let parent = unsafe { ffi::action_parent_path(op_root) };
        if let Some(path) = parent {
            if unsafe { ffi::find_path(dep, &path) }.is_none() {
                let _ = ffi::take_errors(ctx);
                return Err(Errors::from(
                    Error::data_missing(path)
                        .with_message(format!("the node of action {name} does not exist")),
                ));
            }
        }
    }
    drop(running);
    let Some(handler) = server.handler(ns, name) else {
        return Err(Errors::from(Error::operation_not_supported(format!(
            "{name} has no implementation in this server"
        ))));
    };
    handler.call(&RpcCall { session, user, input_xml, input: tree })
}

/// RFC 8341 §3.4.4 for an RPC of a loaded module (exec on the RPC) or an
/// action (exec on the action node, data rules matching its path).
///
/// # Safety
/// `op_root` is the top node of the caller's parsed operation tree.
unsafe fn check_exec(
    server: &Server,
    user: &str,
    name: &str,
    kind: OpKind,
    op_root: ffi::RawNode,
) -> Result<(), Errors> {
    let subject = server.nacm.subject(user);
    if subject.unrestricted() || op_root.is_null() {
        return Ok(());
    }
    // SAFETY: contract; the walk stays inside the operation tree.
    let (allowed, path) = unsafe {
        match kind {
            OpKind::Rpc => {
                let s = ffi::node_schema(op_root);
                let module = ffi::schema_module_name(s);
                (subject.may_exec(&module, name, Some(s)), format!("/{module}:{name}"))
            }
            OpKind::Action => {
                // (No action node: the parser would have refused the tree;
                // refused here too rather than let through unchecked.)
                match ffi::operation_node(op_root, ffi::LYS_ACTION) {
                    Some(n) => (subject.may_action(n), ffi::node_path(n, false)),
                    None => (false, "/".to_string()),
                }
            }
        }
    };
    if allowed {
        return Ok(());
    }
    Err(Errors::from(subject.refuse_operation(&path, name)))
}

/// A mandatory input leaf that is missing is a missing parameter of the
/// operation (RFC 6241 `missing-element`), not missing datastore content.
fn missing_input_parameter(e: Error) -> Error {
    let Some(name) = e
        .message
        .as_deref()
        .filter(|_| e.tag == ErrorTag::DataMissing)
        .and_then(|m| m.strip_prefix("Mandatory node \""))
        .and_then(|m| m.split('"').next())
        .map(str::to_string)
    else {
        return e;
    };
    let mut out = Error::missing_element(&name).with_type(ErrorType::Protocol);
    out.path = e.path;
    out.message = e.message;
    out
}

/// One element of the message as a standalone document (the namespace
/// declarations in scope copied onto it).
fn self_contained(source: &str, e: &Element) -> String {
    let wrapper =
        Element { children: vec![e.clone()], scope: e.scope.clone(), content: e.span, ..Element::default() };
    xml::inner_xml(source, &wrapper)
}
