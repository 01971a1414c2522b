//! The RESTCONF resources onto the datastore layer: the API root, the
//! `data` resource (RFC 8040's unified view: running's configuration with
//! the state providers' data), the NMDA datastores `/restconf/ds/...`
//! (RFC 8527), and `operations` (RPCs; actions are POSTed on data).
//!
//! Reads find the target in a snapshot and print it; a top-level target
//! is printed in place (no copy), anything else is copied first (its
//! subtree only). Edits build a libyang edit tree (the URI's ancestors,
//! the body parsed under them, `ietf-netconf:operation` on the target) and
//! hand it to [`Datastores::edit`], the same path as `<edit-config>`.

use std::sync::Arc;
use std::time::SystemTime;

use bytes::Bytes;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Response, StatusCode};
use yang3::context::Context;
use yang3::data::{Data, DataPrinterFlags, DataTree};
use yang3::schema::{SchemaNode, SchemaNodeKind};

use super::fields;
use super::media::{self, BodyType, Enc};
use super::path::{self, Kind, Target};
use super::uri::{self, Content, Insert, Query, WithDefaults};
use super::{response, Body, Restconf};
use crate::datastore::edit::DefaultOperation;
use crate::datastore::store::{merge_into, tree_of};
use crate::datastore::{Datastore, EditFailure, Precondition, Snapshot, TestOption};
use crate::error::{Error, ErrorTag, ErrorType, Errors, Stage};
use crate::nacm::{Op, Subject};
use crate::netconf::ops::OpKind;
use crate::schema::ffi::{self, RawNode};

pub const YANG_LIBRARY_VERSION: &str = "2019-01-04";
const RESTCONF_NS: &str = crate::error::RESTCONF_NS;

/// A request with its body read.
pub struct Req {
    pub parts: hyper::http::request::Parts,
    pub body: Bytes,
    pub user: String,
    /// The session id the request's edits carry.
    pub session: crate::datastore::confirmed::SessionId,
}

pub(super) type Reply = Result<Response<Body>, Errors>;

/// Which datastore a data resource reads and writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    /// `/restconf/data`: running + state on read, running on write.
    Unified,
    Ds(Datastore),
}

impl View {
    /// The datastore an edit of a writable view changes.
    fn edited(self) -> Datastore {
        match self {
            View::Ds(Datastore::Candidate) => Datastore::Candidate,
            _ => Datastore::Running,
        }
    }
}

fn status_error(tag: ErrorTag, status: u16, message: impl Into<String>) -> Errors {
    Errors::from(Error::new(ErrorType::Protocol, tag).with_message(message).with_http_status(status))
}

pub(super) fn not_found(message: impl Into<String>) -> Errors {
    status_error(ErrorTag::InvalidValue, 404, message)
}

fn method_not_allowed(method: &Method) -> Errors {
    status_error(
        ErrorTag::OperationNotSupported,
        405,
        format!("method {method} is not allowed on this resource"),
    )
}

fn header(h: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Serves one authenticated request (on a blocking thread).
pub fn handle(rc: &Restconf, req: &Req) -> Response<Body> {
    let h = &req.parts.headers;
    let body_type = header(h, header::CONTENT_TYPE).map(media::body_type);
    let default = match body_type {
        Some(Some(BodyType::Data(e) | BodyType::Patch(e))) => e,
        _ => Enc::Json,
    };
    let Some(enc) = media::negotiate(header(h, header::ACCEPT), default) else {
        let errs = status_error(
            ErrorTag::InvalidValue,
            406,
            "the Accept header names no media type this server produces \
             (application/yang-data+json, application/yang-data+xml)",
        );
        return rc.error_response(&errs, Enc::Json);
    };
    match route(rc, req, enc) {
        Ok(r) => r,
        Err(errs) => rc.error_response(&errs, enc),
    }
}

fn route(rc: &Restconf, req: &Req, enc: Enc) -> Reply {
    let path = req.parts.uri.path();
    let method = &req.parts.method;
    if let Some(rest) = path.strip_prefix("/restconf/data") {
        if rest.is_empty() || rest.starts_with('/') {
            return data_resource(rc, req, enc, View::Unified, rest);
        }
    }
    if let Some(rest) = path.strip_prefix("/restconf/ds/") {
        let (name, rest) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        let name = uri::percent_decode(name, |b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))?;
        let Some(ds) = Datastore::from_identity(&name).filter(|d| rc.ds.has(*d)) else {
            return Err(not_found(format!(
                "no datastore '{name}' (ietf-datastores:running, candidate, startup, operational)"
            )));
        };
        return data_resource(rc, req, enc, View::Ds(ds), rest);
    }
    if path == "/restconf/operations" || path.starts_with("/restconf/operations/") {
        return operations(rc, req, enc, &path["/restconf/operations".len()..]);
    }
    match path {
        "/restconf" | "/restconf/" => {
            read_only(method, req)?;
            uri::parse_query(req.parts.uri.query())?.only(&[], "the API root")?;
            let body = match enc {
                Enc::Json => format!(
                    "{{\"ietf-restconf:restconf\":{{\"data\":{{}},\"operations\":{{}},\"yang-library-version\":\"{YANG_LIBRARY_VERSION}\"}}}}"
                ),
                Enc::Xml => format!(
                    "<restconf xmlns=\"{RESTCONF_NS}\"><data/><operations/><yang-library-version>{YANG_LIBRARY_VERSION}</yang-library-version></restconf>"
                ),
            };
            Ok(ok_body(method, enc, body, "GET, HEAD, OPTIONS"))
        }
        "/restconf/yang-library-version" => {
            read_only(method, req)?;
            uri::parse_query(req.parts.uri.query())?.only(&[], "yang-library-version")?;
            let body = match enc {
                Enc::Json => format!("{{\"ietf-restconf:yang-library-version\":\"{YANG_LIBRARY_VERSION}\"}}"),
                Enc::Xml => format!(
                    "<yang-library-version xmlns=\"{RESTCONF_NS}\">{YANG_LIBRARY_VERSION}</yang-library-version>"
                ),
            };
            Ok(ok_body(method, enc, body, "GET, HEAD, OPTIONS"))
        }
        _ => Err(not_found(format!("no RESTCONF resource at {path}"))),
    }
}

/// GET, HEAD and OPTIONS only, with no body.
fn read_only(method: &Method, req: &Req) -> Result<(), Errors> {
    if ![Method::GET, Method::HEAD, Method::OPTIONS].contains(method) {
        return Err(method_not_allowed(method));
    }
    no_body(req)
}

fn no_body(req: &Req) -> Result<(), Errors> {
    if req.body.is_empty() {
        Ok(())
    } else {
        Err(super::bad_request(format!("a {} request takes no body", req.parts.method)))
    }
}

fn ok_body(method: &Method, enc: Enc, body: String, allow: &'static str) -> Response<Body> {
    if method == Method::OPTIONS {
        let mut r = response(StatusCode::OK, None);
        r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
        return r;
    }
    response(StatusCode::OK, Some((enc.data_type(), body)))
}

// ---- data resources ----

fn data_resource(rc: &Restconf, req: &Req, enc: Enc, view: View, raw: &str) -> Reply {
    let method = req.parts.method.clone();
    let segs = uri::parse_path(raw)?;
    let q = uri::parse_query(req.parts.uri.query())?;
    let ctx = rc.ds.schema().context();
    let target = path::resolve(ctx, &segs, method == Method::POST)?;
    let writable = match view {
        View::Unified | View::Ds(Datastore::Running) | View::Ds(Datastore::Candidate) => true,
        View::Ds(_) => false,
    };
    let allow = if !writable {
        "GET, HEAD, OPTIONS"
    } else if target.kind == Kind::Root {
        "GET, HEAD, OPTIONS, POST, PUT, PATCH"
    } else {
        "GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"
    };
    let patch_enc = patch_body(req);
    match method {
        Method::GET | Method::HEAD => {
            no_body(req)?;
            let mut allowed = vec!["content", "depth", "fields", "with-defaults"];
            if view == View::Ds(Datastore::Operational) {
                allowed.push("with-origin");
            }
            q.only(&allowed, "GET on a data resource")?;
            get(rc, req, enc, view, &target, &q)
        }
        Method::OPTIONS => {
            no_body(req)?;
            let mut r = response(StatusCode::OK, None);
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static(allow));
            if writable {
                r.headers_mut().insert(
                    header::HeaderName::from_static("accept-patch"),
                    HeaderValue::from_static(
                        "application/yang-data+json, application/yang-data+xml, \
                         application/yang-patch+json, application/yang-patch+xml",
                    ),
                );
            }
            Ok(r)
        }
        Method::POST if target.kind == Kind::Action => {
            q.only(&[], "an action")?;
            if view == View::Ds(Datastore::Operational)
                || view == View::Unified
                || view == View::Ds(Datastore::Running)
            {
                invoke(rc, req, enc, Invocation::Action(&target))
            } else {
                Err(method_not_allowed(&method))
            }
        }
        Method::PATCH if writable && patch_enc.is_some() => {
            let body_enc = patch_enc.unwrap_or(Enc::Json);
            super::patch::apply(rc, req, enc, body_enc, view.edited(), &segs, &target, &q)
        }
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE if writable => {
            if method == Method::DELETE && target.kind == Kind::Root {
                return Err(method_not_allowed(&method));
            }
            edit(rc, req, view.edited(), &target, &q)
        }
        _ => Err(method_not_allowed(&method)),
    }
}

/// The encoding of a YANG Patch body (RFC 8072 media types), if the
/// request has one.
fn patch_body(req: &Req) -> Option<Enc> {
    match header(&req.parts.headers, header::CONTENT_TYPE).map(media::body_type) {
        Some(Some(BodyType::Patch(e))) => Some(e),
        _ => None,
    }
}

/// The validator headers of a snapshot: ETag from the transaction id and
/// the snapshot's time, Last-Modified from the time.
fn validators(snap: &Snapshot) -> (String, SystemTime) {
    let micros = snap.time().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_micros());
    (format!("\"{}-{micros:x}\"", snap.txid()), snap.time())
}

fn set_validators(r: &mut Response<Body>, v: &(String, SystemTime)) {
    if let Ok(e) = HeaderValue::from_str(&v.0) {
        r.headers_mut().insert(header::ETAG, e);
    }
    if let Ok(l) = HeaderValue::from_str(&httpdate::fmt_http_date(v.1)) {
        r.headers_mut().insert(header::LAST_MODIFIED, l);
    }
}

/// Whether an If-Match / If-None-Match list names `etag`. A view ETag (a
/// restricted user's, `"txid-time-view"`) also matches its datastore ETag
/// (`"txid-time"`): an edit's precondition is about the transaction.
fn etag_matches(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|t| {
        let t = t.trim_start_matches("W/");
        t == "*" || t == etag || datastore_etag(t) == etag
    })
}

/// Whether a conditional GET's list names exactly this representation.
fn etag_names(list: &str, etag: &str) -> bool {
    list.split(',').map(str::trim).any(|t| t == "*" || t.trim_start_matches("W/") == etag)
}

/// The datastore part of a view ETag.
fn datastore_etag(t: &str) -> String {
    let inner = t.trim_matches('"');
    let parts: Vec<&str> = inner.splitn(3, '-').collect();
    match parts.as_slice() {
        [a, b, _] => format!("\"{a}-{b}\""),
        _ => t.to_string(),
    }
}

/// Whole seconds: HTTP dates carry no more.
fn secs(t: SystemTime) -> u64 {
    t.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// RFC 9110 §13 preconditions of an edit: 412 when one fails.
fn check_preconditions(h: &HeaderMap, v: &(String, SystemTime), exists: bool) -> Result<(), Errors> {
    let failed = |what: &str| {
        Err(status_error(ErrorTag::OperationFailed, 412, format!("precondition failed: {what}")))
    };
    if let Some(m) = header(h, header::IF_MATCH) {
        if !exists || !etag_matches(m, &v.0) {
            return failed("If-Match");
        }
    }
    if let Some(m) = header(h, header::IF_NONE_MATCH) {
        if exists && etag_matches(m, &v.0) {
            return failed("If-None-Match");
        }
    }
    if let Some(s) = header(h, header::IF_UNMODIFIED_SINCE).and_then(|s| httpdate::parse_http_date(s).ok()) {
        if secs(v.1) > secs(s) {
            return failed("If-Unmodified-Since");
        }
    }
    Ok(())
}

/// The request's preconditions as a check the datastore runs under its
/// writer lock (the early check in the handler answers most requests; this
/// one closes the gap between it and the edit). `None` without any.
fn atomic_preconditions<'a>(
    ctx: &'a Context,
    h: &'a HeaderMap,
    target: &'a Target<'_>,
) -> Option<impl Fn(&Snapshot) -> Result<(), Errors> + 'a> {
    let any = [header::IF_MATCH, header::IF_NONE_MATCH, header::IF_UNMODIFIED_SINCE]
        .into_iter()
        .any(|n| h.contains_key(n));
    any.then_some(move |snap: &Snapshot| {
        let exists =
            target.kind == Kind::Root || !find(ctx, snap.tree().raw(), &target.data_path)?.is_empty();
        check_preconditions(h, &validators(snap), exists)
    })
}

fn print_flags(q: &Query) -> DataPrinterFlags {
    match q.with_defaults {
        Some(WithDefaults::ReportAll) => DataPrinterFlags::WD_ALL,
        Some(WithDefaults::ReportAllTagged) => {
            DataPrinterFlags::from_bits_retain(libyang3_sys::LYD_PRINT_WD_ALL_TAG)
        }
        Some(WithDefaults::Trim) => DataPrinterFlags::WD_TRIM,
        Some(WithDefaults::Explicit) | None => DataPrinterFlags::WD_EXPLICIT,
    }
}

/// Whether any descendant of `node` (or the node) is state data.
fn has_state(node: &SchemaNode<'_>) -> bool {
    node.traverse().any(|n| {
        !n.is_config()
            && !matches!(
                n.kind(),
                SchemaNodeKind::Rpc | SchemaNodeKind::Action | SchemaNodeKind::Notification
            )
            && !n.is_within_input()
            && !n.is_within_output()
            && !n.is_within_notification()
    })
}

/// What a read prints.
enum Printable {
    /// One node of a snapshot, printed where it is (a top-level node), or
    /// the snapshot's whole tree.
    InPlace {
        _hold: Arc<Snapshot>,
        node: RawNode,
        siblings: bool,
    },
    Owned(DataTree<'static>),
}

fn get(rc: &Restconf, req: &Req, enc: Enc, view: View, target: &Target<'_>, q: &Query) -> Reply {
    let ctx = rc.ds.schema().context();
    let content = q.content.unwrap_or_default();
    // The sources to read and whether content= must prune them.
    let mut sources: Vec<Arc<Snapshot>> = Vec::new();
    let mut state: Option<DataTree<'static>> = None;
    let mut prune_config: Option<bool> = None;
    let config_view = |ds: Datastore| -> Result<Option<Arc<Snapshot>>, Errors> {
        if content == Content::Nonconfig {
            return Ok(None);
        }
        Ok(rc.ds.snapshot(ds))
    };
    let running = rc.ds.running();
    let v = match view {
        View::Unified => {
            if let Some(s) = config_view(Datastore::Running)? {
                sources.push(s);
            }
            let wants_state = content != Content::Config
                && (target.kind == Kind::Root || target.schema().is_some_and(has_state));
            if wants_state {
                state = Some(rc.ds.state()?);
                if content == Content::Nonconfig {
                    prune_config = Some(false);
                }
            }
            validators(&running)
        }
        View::Ds(Datastore::Operational) => {
            let snap = rc.ds.operational(q.with_origin)?;
            prune_config = match content {
                Content::Config => Some(true),
                Content::Nonconfig => Some(false),
                Content::All => None,
            };
            let v = validators(&snap);
            sources.push(snap);
            v
        }
        View::Ds(ds) => {
            let snap = config_view(ds)?;
            let v = snap.as_deref().map_or_else(|| validators(&running), validators);
            sources.extend(snap);
            v
        }
    };
    // A restricted user sees its own view of the datastore: its ETag names
    // that view too (two views of one transaction are two representations).
    let subject = rc.netconf.nacm.subject(&req.user);
    let v = if subject.unrestricted() {
        v
    } else {
        (format!("\"{}-{:x}\"", v.0.trim_matches('"'), subject.fingerprint()), v.1)
    };
    let h = &req.parts.headers;
    let not_modified = header(h, header::IF_NONE_MATCH).is_some_and(|m| etag_names(m, &v.0))
        || (header(h, header::IF_NONE_MATCH).is_none()
            && header(h, header::IF_MODIFIED_SINCE)
                .and_then(|s| httpdate::parse_http_date(s).ok())
                .is_some_and(|s| secs(v.1) <= secs(s)));
    if not_modified && state.is_none() && view != View::Ds(Datastore::Operational) {
        let mut r = response(StatusCode::NOT_MODIFIED, None);
        set_validators(&mut r, &v);
        return Ok(r);
    }
    // State data has no transaction id: a reply holding some carries no
    // validators.
    let validated = state.is_none() && view != View::Ds(Datastore::Operational);
    let fields = q.fields.as_deref().map(|f| fields::resolve(ctx, target, f)).transpose()?;
    let shape = Shape { prune_config, depth: q.depth, fields: fields.as_ref(), with_origin: q.with_origin };
    let printable = select(ctx, target, &sources, state, &shape, &subject)?;
    let mut flags = print_flags(q);
    let (node, siblings) = match &printable {
        Printable::InPlace { node, siblings, .. } => (*node, *siblings),
        Printable::Owned(t) => (t.raw(), true),
    };
    if siblings {
        flags |= DataPrinterFlags::WITH_SIBLINGS;
    }
    // Under depth, a container whose children were cut shows as empty.
    if q.depth.is_some() {
        flags |= DataPrinterFlags::KEEP_EMPTY_CONT;
    }
    // SAFETY: `node` belongs to a snapshot or tree `printable` holds.
    let text = unsafe { ffi::print_mem(node, enc.is_json(), flags.bits()) }.map_err(|e| {
        let _ = ffi::take_errors(ctx);
        Errors::from(Error::operation_failed(format!("printing the reply failed (libyang {e})")))
    })?;
    drop(printable);
    // An empty container is printed by hand: libyang's flag for that would
    // also print every empty non-presence container below the target.
    let blank = text.bytes().all(|b| b.is_ascii_whitespace() || b == b'{' || b == b'}');
    let text = match (target.schema(), blank) {
        (Some(c), true) if target.kind == Kind::Container => match enc {
            Enc::Json => format!("{{\n  \"{}:{}\": {{}}\n}}\n", c.module().name(), c.name()),
            Enc::Xml => format!("<{} xmlns=\"{}\"/>\n", c.name(), c.module().namespace()),
        },
        (_, true) if target.kind != Kind::Root => {
            return Err(not_found(format!("{} has no data", target.data_path)));
        }
        _ => text,
    };
    let text = match (target.kind, enc) {
        // The datastore resource is the ietf-restconf:data container.
        (Kind::Root, Enc::Json) => {
            let inner =
                if text.trim().is_empty() { "{}".to_string() } else { text.trim_end().replace('\n', "\n  ") };
            format!("{{\n  \"ietf-restconf:data\": {inner}\n}}\n")
        }
        (Kind::Root, Enc::Xml) => format!("<data xmlns=\"{RESTCONF_NS}\">\n{text}</data>\n"),
        _ => text,
    };
    let mut r = response(StatusCode::OK, Some((enc.data_type(), text)));
    if validated {
        set_validators(&mut r, &v);
    }
    Ok(r)
}

/// How a read shapes what it found: content=, depth=, fields=,
/// with-origin.
struct Shape<'s> {
    prune_config: Option<bool>,
    depth: Option<u16>,
    fields: Option<&'s fields::Selection>,
    with_origin: bool,
}

impl Shape<'_> {
    fn is_plain(&self) -> bool {
        self.prune_config.is_none() && self.depth.is_none() && self.fields.is_none()
    }

    /// Applies content= and depth= (the latter counted from the selected
    /// nodes when fields= is given) and fields= to `out`, whose top-level
    /// nodes are the target's instances (or the datastore's top level).
    fn apply(&self, ctx: &'static Context, out: DataTree<'static>, root: bool) -> DataTree<'static> {
        if self.is_plain() {
            return out;
        }
        let depth = if self.fields.is_some() { None } else { self.depth };
        let out = crate::netconf::ops::prune(ctx, out, self.prune_config, depth, &None);
        let Some(sel) = self.fields else { return out };
        // SAFETY: the tree is ours (taken out of its owner here).
        unsafe {
            let tops = ffi::siblings(out.into_raw());
            let kept = if root {
                fields::apply(tops, sel, self.depth)
            } else {
                for &t in &tops {
                    fields::apply_below(t, sel, self.depth);
                }
                tops
            };
            tree_of(ctx, kept.first().copied().unwrap_or(std::ptr::null_mut()))
        }
    }
}

/// The target's instances from the sources (config snapshots and the
/// state tree), merged, shaped by the query.
fn select(
    ctx: &'static Context,
    target: &Target<'_>,
    sources: &[Arc<Snapshot>],
    state: Option<DataTree<'static>>,
    shape: &Shape<'_>,
    subject: &Subject,
) -> Result<Printable, Errors> {
    let plain = shape.is_plain();
    if target.kind == Kind::Root {
        return match (sources.first(), state) {
            // SAFETY: a snapshot is never modified.
            (Some(s), None)
                if plain && sources.len() == 1 && unsafe { subject.reads_all(s.tree().raw()) } =>
            {
                Ok(Printable::InPlace { _hold: s.clone(), node: s.tree().raw(), siblings: true })
            }
            (s, st) => {
                // What the user may read of the configuration and the state.
                let mut out = match s {
                    // SAFETY: as above; the copy is ours.
                    Some(s) => tree_of(
                        ctx,
                        unsafe { subject.readable_copy(s.tree().raw()) }
                            .map_err(|e| copy_failed(&e.to_string()))?,
                    ),
                    None => tree_of(ctx, std::ptr::null_mut()),
                };
                if let Some(st) = st {
                    // SAFETY: the state tree is ours.
                    let st = tree_of(ctx, unsafe { subject.prune(st.into_raw()) });
                    out = if out.reference().is_none() { st } else { merge_into(ctx, out, st)? };
                }
                Ok(Printable::Owned(shape.apply(ctx, out, true)))
            }
        };
    }
    let mut found: Vec<(Option<Arc<Snapshot>>, RawNode)> = Vec::new();
    for s in sources {
        for n in find(ctx, s.tree().raw(), &target.data_path)? {
            found.push((Some(s.clone()), n));
        }
    }
    let state_root = state.as_ref().map_or(std::ptr::null_mut(), |t| t.raw());
    let from_config = found.len();
    for n in find(ctx, state_root, &target.data_path)? {
        found.push((None, n));
    }
    if found.is_empty() {
        return Err(not_found(format!("no data at {}", target.data_path)));
    }
    // RFC 8040 §4.3 / RFC 8341 §3.4.5: a target the user may not read is
    // refused (403); what it may not read below the target is left out.
    // SAFETY: live nodes of held snapshots or of `state`.
    found.retain(|(_, n)| unsafe { subject.may_node(*n, Op::Read) });
    if found.is_empty() {
        return Err(Errors::from(
            crate::nacm::denied(
                &target.data_path,
                &format!("{} may not read {}", subject.user, target.data_path),
            )
            .with_type(ErrorType::Protocol),
        ));
    }
    if plain && found.len() == 1 {
        if let (Some(s), n) = &found[0] {
            // SAFETY: `n` is a node of the snapshot `s`.
            if unsafe { ffi::node_parent(*n).is_null() && subject.whole_readable(*n) } {
                return Ok(Printable::InPlace { _hold: s.clone(), node: *n, siblings: false });
            }
        }
    }
    // Copy the instances: config ones as siblings, state ones merged in.
    let mut config: RawNode = std::ptr::null_mut();
    let mut st: RawNode = std::ptr::null_mut();
    for (i, (_, n)) in found.iter().enumerate() {
        // SAFETY: `n` is a live node of a held snapshot or of `state`; the
        // copies are ours.
        unsafe {
            let copy = ffi::dup_exact(*n).map_err(|e| copy_failed(&e.to_string()))?;
            let copy = if subject.whole_readable(*n) {
                copy
            } else {
                subject.prune_under(copy, &Subject::ancestors(*n))
            };
            if shape.with_origin {
                inherit_origin(ctx, *n, copy);
            }
            let chain = if i < from_config { &mut config } else { &mut st };
            if chain.is_null() {
                *chain = copy;
            } else {
                ffi::insert_sibling(*chain, copy).map_err(|e| copy_failed(&e.to_string()))?;
            }
        }
    }
    drop(state);
    let mut out = match (config.is_null(), st.is_null()) {
        (false, false) => merge_into(ctx, tree_of(ctx, config), tree_of(ctx, st))?,
        (true, _) => tree_of(ctx, st),
        (false, true) => tree_of(ctx, config),
    };
    out = shape.apply(ctx, out, false);
    Ok(Printable::Owned(out))
}

/// RFC 8342 §5.3.4: a node without its own `origin` has its parent's. A
/// copied subtree root gets the value it inherited in the source.
///
/// # Safety
/// `source` is a live node; `copy` is the caller's own copy of it.
unsafe fn inherit_origin(ctx: &Context, source: RawNode, copy: RawNode) {
    let origin = |n: RawNode| {
        // SAFETY: live nodes of the source tree.
        unsafe { ffi::node_metadata(n) }
            .into_iter()
            .find(|(m, name, _)| m == "ietf-origin" && name == "origin")
            .map(|(_, _, v)| v)
    };
    if origin(copy).is_some() {
        return;
    }
    // SAFETY: walks the live ancestors of `source`.
    unsafe {
        let mut a = ffi::node_parent(source);
        while !a.is_null() {
            if let Some(v) = origin(a) {
                let _ = ffi::add_meta(ctx, copy, "ietf-origin", "origin", &v);
                return;
            }
            a = ffi::node_parent(a);
        }
    }
}

fn copy_failed(e: &str) -> Errors {
    Errors::from(Error::operation_failed(format!("copying the reply failed (libyang {e})")))
}

/// The instances at `path` in the tree of `root` (NULL: none).
fn find(ctx: &Context, root: RawNode, path: &str) -> Result<Vec<RawNode>, Errors> {
    if root.is_null() {
        return Ok(Vec::new());
    }
    // SAFETY: `root` is a live tree the caller holds.
    match unsafe { ffi::find_xpath(root, path) } {
        Ok(v) => Ok(v),
        Err(_) => {
            let records = ffi::take_errors(ctx);
            let why = records.first().map(|e| e.message.clone()).unwrap_or_default();
            Err(Errors::from(Error::invalid_value(format!("{path}: {why}")).with_type(ErrorType::Protocol)))
        }
    }
}

// ---- edits ----

/// The libyang records of a failed parse as errors (400 by the table).
fn parse_errors(ctx: &Context, what: &str) -> Errors {
    let records = ffi::take_errors(ctx);
    let errs = Errors::from_libyang(&records, Stage::Parse);
    if errs.is_empty() {
        Errors::from(
            Error::malformed_message(format!("cannot parse {what}")).with_type(ErrorType::Application),
        )
    } else {
        errs
    }
}

/// The request body as text: UTF-8 without NUL.
pub(super) fn body_str(req: &Req) -> Result<&str, Errors> {
    let text =
        std::str::from_utf8(&req.body).map_err(|_| super::bad_request("the request body is not UTF-8"))?;
    if text.contains('\0') {
        return Err(super::bad_request("NUL character in the request body"));
    }
    Ok(text)
}

/// A JSON value walked only to refuse a member name given twice in one
/// object (RFC 7951 §4 requires unique names; serde_json would keep the
/// last silently).
struct UniqueNames;

impl<'de> serde::Deserialize<'de> for UniqueNames {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(UniqueNamesVisitor)
    }
}

struct UniqueNamesVisitor;

impl<'de> serde::de::Visitor<'de> for UniqueNamesVisitor {
    type Value = UniqueNames;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<UniqueNames, E> {
        Ok(UniqueNames)
    }
    fn visit_i64<E>(self, _: i64) -> Result<UniqueNames, E> {
        Ok(UniqueNames)
    }
    fn visit_u64<E>(self, _: u64) -> Result<UniqueNames, E> {
        Ok(UniqueNames)
    }
    fn visit_f64<E>(self, _: f64) -> Result<UniqueNames, E> {
        Ok(UniqueNames)
    }
    fn visit_str<E>(self, _: &str) -> Result<UniqueNames, E> {
        Ok(UniqueNames)
    }
    fn visit_unit<E>(self) -> Result<UniqueNames, E> {
        Ok(UniqueNames)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut a: A) -> Result<UniqueNames, A::Error> {
        while a.next_element::<UniqueNames>()?.is_some() {}
        Ok(UniqueNames)
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<UniqueNames, A::Error> {
        let mut seen = std::collections::HashSet::new();
        while let Some(k) = m.next_key::<String>()? {
            if !seen.insert(k.clone()) {
                return Err(serde::de::Error::custom(format!("member \"{k}\" appears twice in one object")));
            }
            m.next_value::<UniqueNames>()?;
        }
        Ok(UniqueNames)
    }
}

/// A JSON body is one well-formed value with unique member names (400
/// otherwise).
pub(super) fn check_json(text: &str) -> Result<(), Errors> {
    serde_json::from_str::<UniqueNames>(text)
        .map(|_| ())
        .map_err(|e| super::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// NETCONF edit attributes inside a body (`ietf-netconf:operation`,
/// `yang:insert`/`key`/`value` as RFC 7952 metadata) are refused: the
/// method (or the YANG Patch edit) says what is done, and query
/// parameters where.
fn refuse_edit_metadata(root: RawNode) -> Result<(), Errors> {
    let mut stack = vec![root];
    while let Some(n) = stack.pop() {
        // SAFETY: `n` walks a live tree the caller owns.
        unsafe {
            for (module, name, _) in ffi::node_metadata(n) {
                let edit = (module == "ietf-netconf" && name == "operation")
                    || (module == "yang" && matches!(name.as_str(), "insert" | "key" | "value"));
                if edit {
                    let path = ffi::node_path(n, false);
                    return Err(Errors::from(
                        Error::unknown_attribute(
                            &format!("{module}:{name}"),
                            &ffi::schema_name(ffi::node_schema(n)),
                        )
                        .with_message(format!(
                            "{module}:{name} is not allowed in a RESTCONF body: the method says what is done"
                        ))
                        .with_path(path),
                    ));
                }
            }
            stack.extend(ffi::children(n));
        }
    }
    Ok(())
}

/// The body of an edit, checked against the Content-Type.
fn body_text(req: &Req) -> Result<(&str, Enc), Errors> {
    let ct = header(&req.parts.headers, header::CONTENT_TYPE);
    let enc = match ct.map(media::body_type) {
        Some(Some(BodyType::Data(e))) => e,
        None if req.body.is_empty() => Enc::Json,
        _ => {
            return Err(status_error(
                ErrorTag::InvalidValue,
                415,
                format!(
                    "unsupported Content-Type {}: expected application/yang-data+json or application/yang-data+xml",
                    ct.unwrap_or("(none)")
                ),
            ))
        }
    };
    let text = body_str(req)?;
    // libyang stops at the end of the first JSON value; anything after it,
    // or broken JSON, is refused here first.
    if enc == Enc::Json && !text.trim().is_empty() {
        check_json(text)?;
    }
    Ok((text, enc))
}

/// The nodes after `before` among `parent`'s children (or the tree's top
/// level from `first` when there is no parent).
unsafe fn new_children(parent: RawNode, first: RawNode, before: usize) -> Vec<RawNode> {
    // SAFETY: live siblings of a tree the caller owns.
    let mut all = unsafe {
        if parent.is_null() {
            ffi::siblings(first)
        } else {
            ffi::children(parent)
        }
    };
    all.drain(..before.min(all.len()));
    all
}

/// The edit tree for a body placed at `parent_path` (empty: top level):
/// the tree and the one node the body held. Parse errors get paths from
/// the datastore root: libyang's are relative to the body, or absent for
/// a bad value of the body's top node (`at`: the target's path, then).
pub(super) fn body_tree(
    ctx: &'static Context,
    parent_path: &str,
    at: &str,
    text: &str,
    enc: Enc,
) -> Result<(DataTree<'static>, RawNode), Errors> {
    let _ = ffi::take_errors(ctx);
    if text.trim().is_empty() {
        return Err(super::bad_request("the request needs a body"));
    }
    // SAFETY: every node created here belongs to the tree returned (or
    // freed on error).
    unsafe {
        let parent = if parent_path.is_empty() {
            std::ptr::null_mut()
        } else {
            ffi::new_path(ctx, std::ptr::null_mut(), parent_path, None)
                .map_err(|_| parse_errors(ctx, parent_path))?
        };
        let before = if parent.is_null() { 0 } else { ffi::children(parent).len() };
        let parsed = ffi::parse_data_under(ctx, parent, text, enc.is_json());
        let root = if parent.is_null() {
            parsed.as_ref().copied().unwrap_or(std::ptr::null_mut())
        } else {
            ffi::first_root(parent)
        };
        let tree = tree_of(ctx, root);
        if parsed.is_err() {
            let errs = parse_errors(ctx, "the request body");
            return Err(errs
                .into_iter()
                .map(|mut e| {
                    e.path = match e.path.take() {
                        Some(p) if !parent_path.is_empty() && !p.starts_with(parent_path) => {
                            Some(format!("{parent_path}{p}"))
                        }
                        None if !at.is_empty() => Some(at.to_string()),
                        other => other,
                    };
                    e
                })
                .collect());
        }
        let nodes = new_children(parent, root, before);
        match nodes.as_slice() {
            [one] => {
                refuse_edit_metadata(*one)?;
                Ok((tree, *one))
            }
            [] => Err(super::bad_request("the request body holds no data node")),
            _ => Err(Errors::from(
                Error::invalid_value(
                    "the request body must hold exactly one data node (the target resource)",
                )
                .with_type(ErrorType::Protocol),
            )),
        }
    }
}

/// The api-path segment that names `node` (a child of a node of module
/// `parent_module`), keys percent-encoded.
fn segment_of(node: RawNode, parent_module: Option<&str>) -> String {
    // SAFETY: `node` is a live node of a tree the caller owns.
    unsafe {
        let s = ffi::node_schema(node);
        let name = ffi::schema_name(s);
        let module = ffi::schema_module_name(s);
        let mut out = if parent_module == Some(module.as_str()) { name } else { format!("{module}:{name}") };
        let (kind, _) = ffi::schema_kind(s);
        if kind == ffi::LYS_LIST {
            let mut keys = Vec::new();
            let mut c = ffi::node_first_child(node);
            while !c.is_null() {
                let cs = ffi::node_schema(c);
                if !cs.is_null() && ffi::schema_kind(cs).1 & ffi::LYS_KEY != 0 {
                    keys.push(encode_key(&ffi::node_value(c).unwrap_or_default()));
                }
                c = ffi::node_next(c);
            }
            if !keys.is_empty() {
                out.push('=');
                out.push_str(&keys.join(","));
            }
        } else if kind == ffi::LYS_LEAFLIST {
            out.push('=');
            out.push_str(&encode_key(&ffi::node_value(node).unwrap_or_default()));
        }
        out
    }
}

/// Percent-encodes a key value: everything but unreserved characters.
pub fn encode_key(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn edit(rc: &Restconf, req: &Req, ds: Datastore, target: &Target<'_>, q: &Query) -> Reply {
    let ctx = rc.ds.schema().context();
    let method = &req.parts.method;
    check_config(target)?;
    match *method {
        Method::PUT | Method::POST => q.only(&["insert", "point"], "an edit")?,
        _ => q.only(&[], "an edit")?,
    }
    let (snap, found) = edit_start(rc, req, ds, target)?;
    let exists = target.kind == Kind::Root || !found.is_empty();
    // DELETE names a leaf by its current value.
    let leaf_value = match (target.kind, found.first()) {
        // SAFETY: a node of the held snapshot.
        (Kind::Leaf, Some(n)) => unsafe { ffi::node_value(*n) },
        _ => None,
    };
    drop(snap);
    let (tree, default_op, status, location) = match *method {
        Method::DELETE => {
            no_body(req)?;
            if !exists {
                return Err(Errors::from(
                    Error::data_missing(target.data_path.clone())
                        .with_message(format!("{} does not exist", target.data_path)),
                ));
            }
            let (tree, node) = target_tree(ctx, target, leaf_value.as_deref())?;
            set_operation(ctx, node, "delete")?;
            (tree, DefaultOperation::None, StatusCode::NO_CONTENT, None)
        }
        Method::PUT | Method::PATCH => {
            if *method == Method::PATCH && !exists {
                return Err(not_found(format!(
                    "{} does not exist (PATCH does not create it)",
                    target.data_path
                )));
            }
            let (text, benc) = body_text(req)?;
            if target.kind == Kind::Root {
                let tree = root_tree(ctx, text, benc)?;
                let op =
                    if *method == Method::PUT { DefaultOperation::Replace } else { DefaultOperation::Merge };
                (tree, op, StatusCode::NO_CONTENT, None)
            } else {
                let (tree, node) = body_tree(ctx, &target.parent_path, &target.data_path, text, benc)?;
                check_is_target(ctx, &tree, node, target)?;
                let op = if *method == Method::PUT { "replace" } else { "merge" };
                set_operation(ctx, node, op)?;
                if *method == Method::PUT {
                    set_insert(ctx, node, target, q.insert, query_point(ctx, q)?.as_ref())?;
                }
                let status = if exists || *method == Method::PATCH {
                    StatusCode::NO_CONTENT
                } else {
                    StatusCode::CREATED
                };
                (tree, DefaultOperation::Merge, status, None)
            }
        }
        Method::POST => {
            if !exists {
                return Err(not_found(format!("{} does not exist", target.data_path)));
            }
            if matches!(target.kind, Kind::Leaf | Kind::LeafList | Kind::LeafListEntry | Kind::Any) {
                return Err(method_not_allowed(method));
            }
            let (text, benc) = body_text(req)?;
            let (tree, node) = body_tree(ctx, &target.data_path, &target.data_path, text, benc)?;
            set_operation(ctx, node, "create")?;
            // POST's insert/point place the new entry among its siblings.
            // SAFETY: `node` is in `tree`, ours.
            let child_schema = unsafe { ffi::node_schema(node) };
            let child_target = child_target(target, child_schema);
            set_insert(ctx, node, &child_target, q.insert, query_point(ctx, q)?.as_ref())?;
            let parent_module = target.nodes.last().map(|n| n.module().name().to_string());
            let seg = segment_of(node, parent_module.as_deref());
            let base = req.parts.uri.path().trim_end_matches('/');
            (tree, DefaultOperation::Merge, StatusCode::CREATED, Some(format!("{base}/{seg}")))
        }
        _ => return Err(method_not_allowed(method)),
    };
    let mut r = response(status, None);
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        r.headers_mut().insert(header::LOCATION, loc);
    }
    commit(rc, req, ds, target, vec![(tree, default_op)], r).map_err(|f| f.errors)
}

/// 400 for an edit of state data.
pub(super) fn check_config(target: &Target<'_>) -> Result<(), Errors> {
    if target.is_config() {
        return Ok(());
    }
    Err(Errors::from(
        Error::invalid_value(format!("{} is state data: it cannot be edited", target.data_path))
            .with_type(ErrorType::Protocol)
            .with_http_status(400),
    ))
}

/// The content an edit of `ds` starts from and the target's instances in
/// it (none listed for the datastore root), the request's preconditions
/// checked against it (412).
pub(super) fn edit_start(
    rc: &Restconf,
    req: &Req,
    ds: Datastore,
    target: &Target<'_>,
) -> Result<(Arc<Snapshot>, Vec<RawNode>), Errors> {
    let ctx = rc.ds.schema().context();
    let snap = rc.ds.snapshot(ds).unwrap_or_else(|| rc.ds.running());
    let found =
        if target.kind == Kind::Root { Vec::new() } else { find(ctx, snap.tree().raw(), &target.data_path)? };
    let exists = target.kind == Kind::Root || !found.is_empty();
    check_preconditions(&req.parts.headers, &validators(&snap), exists)?;
    Ok((snap, found))
}

/// Applies `edits` to `ds` as one transaction, the request's preconditions
/// checked again under the datastore's writer lock, and gives `r` the
/// validators of the result.
pub(super) fn commit(
    rc: &Restconf,
    req: &Req,
    ds: Datastore,
    target: &Target<'_>,
    edits: Vec<(DataTree<'static>, DefaultOperation)>,
    mut r: Response<Body>,
) -> Result<Response<Body>, EditFailure> {
    let ctx = rc.ds.schema().context();
    let check = atomic_preconditions(ctx, &req.parts.headers, target);
    let pre: Option<Precondition<'_>> = check.as_ref().map(|c| c as Precondition<'_>);
    rc.ds.edit_sequence(req.session, ds, edits, TestOption::TestThenSet, pre)?;
    let after = rc.ds.snapshot(ds).unwrap_or_else(|| rc.ds.running());
    set_validators(&mut r, &validators(&after));
    Ok(r)
}

/// A target-like description of the child a POST creates (for insert).
fn child_target<'a>(parent: &Target<'a>, child: ffi::RawSchema) -> Target<'a> {
    let mut t = parent.clone();
    // SAFETY: `child` is a compiled schema node of the context.
    let kind = unsafe { ffi::schema_kind(child).0 };
    t.kind = if kind == ffi::LYS_LIST {
        Kind::ListEntry
    } else if kind == ffi::LYS_LEAFLIST {
        Kind::LeafListEntry
    } else {
        Kind::Container
    };
    t.parent_path = parent.data_path.clone();
    t
}

/// A whole-datastore body (PUT/PATCH on the datastore root): the content
/// of `ietf-restconf:data` (RFC 8040 §3.3.1), or its top-level nodes bare.
fn root_tree(ctx: &'static Context, text: &str, enc: Enc) -> Result<DataTree<'static>, Errors> {
    let _ = ffi::take_errors(ctx);
    let unwrapped;
    let text = match enc {
        Enc::Json if text.contains("\"ietf-restconf:data\"") => {
            let v: serde_json::Value = serde_json::from_str(text)
                .map_err(|e| super::bad_request(format!("the request body is not JSON: {e}")))?;
            match v {
                serde_json::Value::Object(mut m) if m.len() == 1 && m.contains_key("ietf-restconf:data") => {
                    unwrapped = m.remove("ietf-restconf:data").unwrap_or_default().to_string();
                    unwrapped.as_str()
                }
                _ => text,
            }
        }
        Enc::Xml if text.contains(RESTCONF_NS) => match crate::netconf::xml::parse(text) {
            Ok(root) if root.local == "data" && root.ns.as_deref() == Some(RESTCONF_NS) => {
                unwrapped = crate::netconf::xml::inner_xml(text, &root);
                unwrapped.as_str()
            }
            _ => text,
        },
        _ => text,
    };
    // SAFETY: the parsed tree is handed to tree_of, which owns it.
    let root = unsafe { ffi::parse_data_under(ctx, std::ptr::null_mut(), text, enc.is_json()) }
        .map_err(|_| parse_errors(ctx, "the request body"))?;
    let tree = tree_of(ctx, root);
    let mut n = root;
    while !n.is_null() {
        refuse_edit_metadata(n)?;
        // SAFETY: top-level siblings of the tree we hold.
        n = unsafe { ffi::node_next(n) };
    }
    Ok(tree)
}

/// The body's node must be the URI's target: same node, same keys.
pub(super) fn check_is_target(
    ctx: &Context,
    tree: &DataTree<'static>,
    node: RawNode,
    target: &Target<'_>,
) -> Result<(), Errors> {
    // SAFETY: `node` is in `tree`, which we hold.
    let at = unsafe { ffi::find_path(tree.raw(), &target.data_path) };
    if at == Some(node) {
        return Ok(());
    }
    let _ = ffi::take_errors(ctx);
    // SAFETY: `node` is in `tree`.
    let same_node =
        target.nodes.last().map(|n| n.as_raw().cast_const()) == Some(unsafe { ffi::node_schema(node) });
    let what = match target.kind {
        Kind::ListEntry | Kind::LeafListEntry if same_node => "the body's key values differ from the URI's",
        _ => "the body's node is not the target resource",
    };
    Err(Errors::from(
        Error::invalid_value(what).with_type(ErrorType::Protocol).with_path(target.data_path.clone()),
    ))
}

/// The target node alone in a new tree (its ancestors with their keys):
/// what DELETE marks.
pub(super) fn target_tree(
    ctx: &'static Context,
    target: &Target<'_>,
    value: Option<&str>,
) -> Result<(DataTree<'static>, RawNode), Errors> {
    let _ = ffi::take_errors(ctx);
    // SAFETY: the new tree is owned by the DataTree returned.
    unsafe {
        let node = ffi::new_path(ctx, std::ptr::null_mut(), &target.data_path, value)
            .map_err(|_| parse_errors(ctx, &target.data_path))?;
        Ok((tree_of(ctx, ffi::first_root(node)), node))
    }
}

pub(super) fn set_operation(ctx: &Context, node: RawNode, op: &str) -> Result<(), Errors> {
    // SAFETY: `node` is in an edit tree the caller owns.
    unsafe { ffi::add_meta(ctx, node, "ietf-netconf", "operation", op) }.map_err(|e| {
        let _ = ffi::take_errors(ctx);
        Errors::from(Error::operation_failed(format!("marking the edit failed (libyang {e})")))
    })
}

/// The `point` query parameter resolved (an api-path from the root).
fn query_point<'a>(ctx: &'a Context, q: &Query) -> Result<Option<Target<'a>>, Errors> {
    match &q.point {
        Some(p) => Ok(Some(path::resolve(ctx, &uri::parse_path(p)?, false)?)),
        None => Ok(None),
    }
}

/// `insert` / `point` (RFC 8040 §4.8.5-6, RFC 8072 `where` / `point`) as
/// the yang:insert/key/value metadata of the edit of `node`.
pub(super) fn set_insert(
    ctx: &Context,
    node: RawNode,
    target: &Target<'_>,
    insert: Option<Insert>,
    point: Option<&Target<'_>>,
) -> Result<(), Errors> {
    let Some(insert) = insert else { return Ok(()) };
    // SAFETY: `node` is in the caller's edit tree.
    let s = unsafe { ffi::node_schema(node) };
    let user_ordered = unsafe { ffi::schema_kind(s).1 } & ffi::LYS_ORDBY_USER != 0;
    if !user_ordered {
        return Err(Errors::from(
            Error::invalid_value("insert is only allowed for an ordered-by user list or leaf-list")
                .with_type(ErrorType::Protocol)
                .with_path(target.data_path.clone()),
        ));
    }
    let meta = |name: &str, value: &str| -> Result<(), Errors> {
        // SAFETY: as above.
        unsafe { ffi::add_meta(ctx, node, "yang", name, value) }.map_err(|e| {
            let _ = ffi::take_errors(ctx);
            Errors::from(Error::operation_failed(format!("marking the insert failed (libyang {e})")))
        })
    };
    meta("insert", insert.as_str())?;
    if let Some(p) = point {
        let same = p.parent_path == target.parent_path
            && p.nodes.last().map(|n| n.as_raw().cast_const()) == Some(s)
            && matches!(p.kind, Kind::ListEntry | Kind::LeafListEntry);
        if !same {
            return Err(Errors::from(
                Error::invalid_value(format!(
                    "point {} is not an entry of the list being edited",
                    p.data_path
                ))
                .with_type(ErrorType::Protocol),
            ));
        }
        if p.kind == Kind::ListEntry {
            let mut pred = String::new();
            let module = p.nodes.last().map(|n| n.module().name().to_string()).unwrap_or_default();
            for (k, v) in &p.keys {
                pred.push_str(&format!("[{module}:{k}={}]", path::quote(v)?));
            }
            meta("key", &pred)?;
        } else if let Some((_, v)) = p.keys.first() {
            meta("value", v)?;
        }
    }
    Ok(())
}

// ---- operations ----

enum Invocation<'t, 'a> {
    Rpc(SchemaNode<'a>),
    Action(&'t Target<'a>),
}

fn operations(rc: &Restconf, req: &Req, enc: Enc, raw: &str) -> Reply {
    let method = &req.parts.method;
    let q = uri::parse_query(req.parts.uri.query())?;
    let ctx = rc.ds.schema().context();
    if raw.is_empty() || raw == "/" {
        read_only(method, req)?;
        q.only(&[], "operations")?;
        let mut json = Vec::new();
        let mut xml = String::new();
        for m in ctx.modules(true).filter(|m| m.is_implemented()) {
            if is_netconf_module(m.name()) {
                continue;
            }
            for r in m.rpcs() {
                json.push(format!("\"{}:{}\":[null]", m.name(), r.name()));
                xml.push_str(&format!("<{} xmlns=\"{}\"/>", r.name(), m.namespace()));
            }
        }
        let body = match enc {
            Enc::Json => format!("{{\"ietf-restconf:operations\":{{{}}}}}", json.join(",")),
            Enc::Xml => format!("<operations xmlns=\"{RESTCONF_NS}\">{xml}</operations>"),
        };
        return Ok(ok_body(method, enc, body, "GET, HEAD, OPTIONS"));
    }
    let segs = uri::parse_path(raw)?;
    let rpc = path::resolve_rpc(ctx, &segs)?;
    if is_netconf_module(rpc.module().name()) {
        return Err(not_found(format!("{} is a NETCONF protocol operation", rpc.name())));
    }
    match *method {
        Method::POST => {
            q.only(&[], "an operation")?;
            invoke(rc, req, enc, Invocation::Rpc(rpc))
        }
        Method::OPTIONS => {
            let mut r = response(StatusCode::OK, None);
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
            Ok(r)
        }
        _ => {
            let mut r = rc.error_response(&method_not_allowed(method), enc);
            r.headers_mut().insert(header::ALLOW, HeaderValue::from_static("POST, OPTIONS"));
            Ok(r)
        }
    }
}

/// The NETCONF protocol modules, whose operations RESTCONF does not carry.
fn is_netconf_module(name: &str) -> bool {
    name.starts_with("ietf-netconf")
}

fn invoke(rc: &Restconf, req: &Req, enc: Enc, what: Invocation<'_, '_>) -> Reply {
    let ctx = rc.ds.schema().context();
    let (path, parent_path, node, kind) = match &what {
        Invocation::Rpc(r) => {
            (format!("/{}:{}", r.module().name(), r.name()), String::new(), r.clone(), OpKind::Rpc)
        }
        Invocation::Action(t) => match t.nodes.last() {
            Some(n) => (t.data_path.clone(), t.parent_path.clone(), n.clone(), OpKind::Action),
            None => return Err(method_not_allowed(&req.parts.method)),
        },
    };
    let ns = node.module().namespace().to_string();
    let name = node.name().to_string();
    let _ = ffi::take_errors(ctx);
    // SAFETY: the operation tree is ours (owned by `tree` below).
    let (tree, op) = unsafe {
        let op =
            ffi::new_path(ctx, std::ptr::null_mut(), &path, None).map_err(|_| parse_errors(ctx, &path))?;
        (tree_of(ctx, ffi::first_root(op)), op)
    };
    if !req.body.is_empty() {
        let (text, benc) = body_text(req)?;
        // SAFETY: `op` is in `tree`, ours.
        if unsafe { ffi::parse_restconf_input(ctx, op, text, benc.is_json()) }.is_err() {
            return Err(parse_errors(ctx, "the operation input"));
        }
    }
    // SAFETY: the tree is ours.
    let input_xml = unsafe { ffi::print_xml(tree.raw(), true) }.unwrap_or_default();
    let out = crate::netconf::ops::run_operation(
        &rc.netconf,
        req.session,
        &req.user,
        &ns,
        &name,
        kind,
        &tree,
        &input_xml,
    )?;
    if out.trim().is_empty() {
        return Ok(response(StatusCode::NO_CONTENT, None));
    }
    let body = output_body(ctx, &parent_path, &path, &node, &out, enc)?;
    Ok(response(StatusCode::OK, Some((enc.data_type(), body))))
}

/// The handler's output (XML of the output nodes) as RFC 8040 §3.6.2's
/// `{"module:output":{...}}` or `<output xmlns=...>`. For JSON the output
/// is parsed by libyang as the reply of the operation at `path` (an
/// action's reply under its parents, from `parent_path`) and printed.
fn output_body(
    ctx: &'static Context,
    parent_path: &str,
    path: &str,
    op: &SchemaNode<'_>,
    out: &str,
    enc: Enc,
) -> Result<String, Errors> {
    let m = op.module();
    let (name, ns, module) = (op.name(), m.namespace(), m.name());
    if enc == Enc::Xml {
        return Ok(format!("<output xmlns=\"{ns}\">{out}</output>"));
    }
    let _ = ffi::take_errors(ctx);
    let failed = || {
        let _ = ffi::take_errors(ctx);
        Errors::from(Error::operation_failed(format!("the output of {name} could not be converted")))
    };
    let wrapped = format!("<{name} xmlns=\"{ns}\">{out}</{name}>");
    // SAFETY: the reply tree is ours (owned by `reply`).
    unsafe {
        let parent = if parent_path.is_empty() {
            std::ptr::null_mut()
        } else {
            ffi::new_path(ctx, std::ptr::null_mut(), parent_path, None).map_err(|_| failed())?
        };
        let root = ffi::parse_op_under(ctx, parent, &wrapped, false, ffi::OpType::Reply);
        let reply = tree_of(
            ctx,
            if parent.is_null() { root.unwrap_or(std::ptr::null_mut()) } else { ffi::first_root(parent) },
        );
        root.map_err(|_| failed())?;
        let op_node = ffi::find_path(reply.raw(), path).ok_or_else(failed)?;
        let inner = crate::model::rt::op_members(op_node, module).map_err(|_| failed())?;
        Ok(serde_json::json!({ format!("{module}:output"): inner }).to_string())
    }
}
