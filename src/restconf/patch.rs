//! YANG Patch (RFC 8072): a PATCH whose body is
//! `application/yang-patch+json` or `+xml`, an ordered list of edits below
//! the request's target resource, applied all or nothing.
//!
//! Each edit becomes one libyang edit tree, built as a plain RESTCONF
//! edit would be (the edit's target resolved below the patch target, its
//! value parsed under the target's parent, `ietf-netconf:operation` on the
//! node, `yang:insert` for `where`/`point`); the trees go to
//! [`crate::datastore::Datastores::edit_sequence`], which applies them in
//! order to one working tree and validates once at the end.
//!
//! The reply is a `yang-patch-status`: `ok` with 200, or the errors with
//! the status of the first (RFC 8040 §7), in `edit-status` under the
//! edit that failed, or as global errors (validation of the result, or a
//! failure not tied to one edit). A body that is not a YANG Patch at all
//! gets plain `ietf-restconf:errors`.
//!
//! Mapping onto NETCONF operations: create, delete, merge, replace and
//! remove are theirs; `insert` is a create with `yang:insert`; `move` is
//! the entry (its keys only) with `yang:insert` and no operation under
//! default-operation `none`, so it must exist when it is applied (404
//! data-missing otherwise, as for `delete`: RFC 8072 erratum 5131). A
//! leaf's delete names the leaf with its value as the patch's start or an
//! earlier edit has it; a `remove` of a leaf neither has is a no-op.

use std::collections::HashSet;

use hyper::{Response, StatusCode};
use yang3::context::Context;
use yang3::data::{Data, DataTree};

use super::data::{self, Reply, Req};
use super::media::Enc;
use super::path::{self, Kind, Target};
use super::uri::{self, Insert, Query, Segment};
use super::{response, Body, Restconf};
use crate::datastore::edit::DefaultOperation;
use crate::datastore::{Datastore, Snapshot};
use crate::error::{xml_text, Error, ErrorTag, ErrorType, Errors};
use crate::netconf::xml::{self, Element};
use crate::schema::ffi;

pub const YANG_PATCH_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-yang-patch";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Create,
    Delete,
    Insert,
    Merge,
    Move,
    Replace,
    Remove,
}

impl Op {
    fn parse(s: &str) -> Option<Op> {
        Some(match s {
            "create" => Op::Create,
            "delete" => Op::Delete,
            "insert" => Op::Insert,
            "merge" => Op::Merge,
            "move" => Op::Move,
            "replace" => Op::Replace,
            "remove" => Op::Remove,
            _ => return None,
        })
    }

    fn takes_value(self) -> bool {
        matches!(self, Op::Create | Op::Insert | Op::Merge | Op::Replace)
    }
}

/// One edit as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub id: String,
    pub op: Op,
    pub target: String,
    pub point: Option<String>,
    pub place: Option<Insert>,
    /// The `value` content, in the body's encoding: a JSON object or the
    /// XML elements (namespaces made self-contained).
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub id: String,
    pub comment: Option<String>,
    pub edits: Vec<Edit>,
}

fn bad(message: impl Into<String>) -> Errors {
    Errors::from(Error::invalid_value(message).with_type(ErrorType::Protocol))
}

fn unknown(name: &str, within: &str) -> Errors {
    Errors::from(Error::unknown_element(name).with_message(format!("unknown element '{name}' in {within}")))
}

fn missing(name: &str, within: &str) -> Errors {
    Errors::from(Error::missing_element(name).with_message(format!("{within} has no '{name}'")))
}

fn place(s: &str) -> Result<Insert, Errors> {
    Ok(match s {
        "before" => Insert::Before,
        "after" => Insert::After,
        "first" => Insert::First,
        "last" => Insert::Last,
        _ => return Err(bad(format!("where '{s}': expected before, after, first or last"))),
    })
}

/// Parses and checks a YANG Patch document (not yet against the schema).
pub fn parse(text: &str, enc: Enc) -> Result<Patch, Errors> {
    let patch = match enc {
        Enc::Json => parse_json(text)?,
        Enc::Xml => parse_xml(text)?,
    };
    let mut seen = HashSet::new();
    for e in &patch.edits {
        if !seen.insert(e.id.as_str()) {
            return Err(bad(format!("edit-id '{}' is used twice", e.id)));
        }
        let what = format!("edit '{}'", e.id);
        match (e.op.takes_value(), &e.value) {
            (true, None) => return Err(missing("value", &what)),
            (false, Some(_)) => return Err(bad(format!("{what}: a {:?} takes no value", e.op))),
            _ => {}
        }
        let ordering = matches!(e.op, Op::Insert | Op::Move);
        if !ordering && (e.place.is_some() || e.point.is_some()) {
            return Err(bad(format!("{what}: where and point are only for insert and move")));
        }
        match (e.place, &e.point) {
            (Some(Insert::Before | Insert::After), None) => {
                return Err(missing("point", &format!("{what} (where before/after)")))
            }
            (Some(Insert::First | Insert::Last) | None, Some(_)) => {
                return Err(bad(format!("{what}: point is only allowed with where before or after")))
            }
            _ => {}
        }
    }
    Ok(patch)
}

/// An edit's members as they are read, before the mandatory ones are
/// checked.
struct Parts {
    id: Option<String>,
    op: Option<Op>,
    target: Option<String>,
    point: Option<String>,
    place: Option<Insert>,
    value: Option<String>,
}

impl Parts {
    fn finish(self, within: &str) -> Result<Edit, Errors> {
        Ok(Edit {
            id: self.id.ok_or_else(|| missing("edit-id", within))?,
            op: self.op.ok_or_else(|| missing("operation", within))?,
            target: self.target.ok_or_else(|| missing("target", within))?,
            point: self.point,
            place: self.place,
            value: self.value,
        })
    }
}

fn json_string(v: &serde_json::Value, name: &str, within: &str) -> Result<String, Errors> {
    v.as_str().map(str::to_string).ok_or_else(|| bad(format!("{within}: '{name}' must be a string")))
}

fn parse_json(text: &str) -> Result<Patch, Errors> {
    data::check_json(text)?;
    let v: serde_json::Value = serde_json::from_str(text)
        .map_err(|e| super::bad_request(format!("the request body is not valid JSON: {e}")))?;
    let top = match v {
        serde_json::Value::Object(m) if m.len() == 1 => m,
        _ => return Err(bad("a YANG Patch body is {\"ietf-yang-patch:yang-patch\": {...}}")),
    };
    let Some(serde_json::Value::Object(p)) = top.get("ietf-yang-patch:yang-patch") else {
        return Err(bad("a YANG Patch body is {\"ietf-yang-patch:yang-patch\": {...}}"));
    };
    let mut patch = Patch { id: String::new(), comment: None, edits: Vec::new() };
    let mut has_id = false;
    for (k, v) in p {
        match k.as_str() {
            "patch-id" => {
                patch.id = json_string(v, k, "yang-patch")?;
                has_id = true;
            }
            "comment" => patch.comment = Some(json_string(v, k, "yang-patch")?),
            "edit" => {
                let Some(list) = v.as_array() else {
                    return Err(bad("yang-patch: 'edit' must be an array"));
                };
                for e in list {
                    patch.edits.push(json_edit(e)?);
                }
            }
            _ => return Err(unknown(k, "yang-patch")),
        }
    }
    if !has_id {
        return Err(missing("patch-id", "yang-patch"));
    }
    Ok(patch)
}

fn json_edit(e: &serde_json::Value) -> Result<Edit, Errors> {
    let Some(m) = e.as_object() else {
        return Err(bad("yang-patch: each edit must be an object"));
    };
    let within = match m.get("edit-id").and_then(|v| v.as_str()) {
        Some(id) => format!("edit '{id}'"),
        None => "an edit".to_string(),
    };
    let (mut id, mut op, mut target, mut point, mut place_, mut value) = (None, None, None, None, None, None);
    for (k, v) in m {
        match k.as_str() {
            "edit-id" => id = Some(json_string(v, k, &within)?),
            "operation" => {
                let s = json_string(v, k, &within)?;
                op = Some(Op::parse(&s).ok_or_else(|| bad(format!("{within}: unknown operation '{s}'")))?);
            }
            "target" => target = Some(json_string(v, k, &within)?),
            "point" => point = Some(json_string(v, k, &within)?),
            "where" => place_ = Some(place(&json_string(v, k, &within)?)?),
            "value" => {
                if !v.is_object() {
                    return Err(bad(format!("{within}: 'value' must be an object holding the target node")));
                }
                value = Some(v.to_string());
            }
            _ => return Err(unknown(k, &within)),
        }
    }
    Parts { id, op, target, point, place: place_, value }.finish(&within)
}

fn parse_xml(text: &str) -> Result<Patch, Errors> {
    let root =
        xml::parse(text).map_err(|e| super::bad_request(format!("the request body is not XML: {}", e.0)))?;
    if !root.is(YANG_PATCH_NS, "yang-patch") {
        return Err(bad(format!("a YANG Patch body is <yang-patch xmlns=\"{YANG_PATCH_NS}\">")));
    }
    let mut patch = Patch { id: String::new(), comment: None, edits: Vec::new() };
    let mut has_id = false;
    for c in &root.children {
        if c.ns.as_deref() != Some(YANG_PATCH_NS) {
            return Err(unknown(&c.local, "yang-patch"));
        }
        match c.local.as_str() {
            "patch-id" if !has_id => {
                patch.id = c.text.clone();
                has_id = true;
            }
            "comment" if patch.comment.is_none() => patch.comment = Some(c.text.clone()),
            "edit" => patch.edits.push(xml_edit(text, c)?),
            "patch-id" | "comment" => return Err(bad(format!("yang-patch: '{}' given twice", c.local))),
            _ => return Err(unknown(&c.local, "yang-patch")),
        }
    }
    if !has_id {
        return Err(missing("patch-id", "yang-patch"));
    }
    Ok(patch)
}

fn xml_edit(text: &str, e: &Element) -> Result<Edit, Errors> {
    let id = e.child(YANG_PATCH_NS, "edit-id").map(|c| c.text.clone());
    let within = id.as_ref().map_or_else(|| "an edit".to_string(), |id| format!("edit '{id}'"));
    let mut seen: Vec<&str> = Vec::new();
    let (mut op, mut target, mut point, mut place_, mut value) = (None, None, None, None, None);
    for c in &e.children {
        if c.ns.as_deref() != Some(YANG_PATCH_NS) {
            return Err(unknown(&c.local, &within));
        }
        if seen.contains(&c.local.as_str()) {
            return Err(bad(format!("{within}: '{}' given twice", c.local)));
        }
        seen.push(&c.local);
        match c.local.as_str() {
            "edit-id" => {}
            "operation" => {
                let s = c.text_trimmed();
                op = Some(Op::parse(s).ok_or_else(|| bad(format!("{within}: unknown operation '{s}'")))?);
            }
            "target" => target = Some(c.text_trimmed().to_string()),
            "point" => point = Some(c.text_trimmed().to_string()),
            "where" => place_ = Some(place(c.text_trimmed())?),
            "value" => value = Some(xml::inner_xml(text, c)),
            _ => return Err(unknown(&c.local, &within)),
        }
    }
    Parts { id, op, target, point, place: place_, value }.finish(&within)
}

/// A PATCH with a YANG Patch body on the data resource `target` (named by
/// `segs`) of datastore `ds`; the reply in `enc`.
#[allow(clippy::too_many_arguments)]
pub(super) fn apply(
    rc: &Restconf,
    req: &Req,
    enc: Enc,
    body_enc: Enc,
    ds: Datastore,
    segs: &[Segment],
    target: &Target<'_>,
    q: &Query,
) -> Reply {
    let ctx = rc.ds.schema().context();
    q.only(&[], "a YANG Patch")?;
    data::check_config(target)?;
    let text = data::body_str(req)?;
    if text.trim().is_empty() {
        return Err(super::bad_request("the request needs a body"));
    }
    let patch = parse(text, body_enc)?;
    let (snap, found) = data::edit_start(rc, req, ds, target)?;
    if target.kind != Kind::Root && found.is_empty() {
        return Err(data::not_found(format!("{} does not exist", target.data_path)));
    }
    let fail = |edit: Option<&Edit>, errs: Errors| Ok(status_reply(rc, enc, &patch.id, edit, errs));
    let mut trees: Vec<(DataTree<'static>, DefaultOperation)> = Vec::new();
    let mut built: Vec<usize> = Vec::new();
    for (i, e) in patch.edits.iter().enumerate() {
        match build(ctx, segs, &snap, &trees, e, body_enc) {
            Ok(Some(t)) => {
                trees.push(t);
                built.push(i);
            }
            Ok(None) => {}
            Err(errs) => return fail(Some(e), errs),
        }
    }
    drop(snap);
    let ok = status_reply(rc, enc, &patch.id, None, Errors::new());
    data::commit(rc, req, ds, target, trees, ok).or_else(|f| {
        let edit = f.edit.and_then(|i| built.get(i)).and_then(|i| patch.edits.get(*i));
        fail(edit, f.errors)
    })
}

/// The edit tree of one edit (`None`: nothing to do). What must exist is
/// checked when the edits are applied, in order; only a leaf's delete
/// looks for the leaf's value, in the snapshot the patch started from or in
/// the edits before it (`earlier`).
fn build(
    ctx: &'static Context,
    segs: &[Segment],
    snap: &Snapshot,
    earlier: &[(DataTree<'static>, DefaultOperation)],
    e: &Edit,
    enc: Enc,
) -> Result<Option<(DataTree<'static>, DefaultOperation)>, Errors> {
    let resolve = |p: &str| -> Result<Target<'static>, Errors> {
        let mut all = segs.to_vec();
        all.extend(uri::parse_relative_path(p)?);
        if all.is_empty() {
            return Err(bad("an edit's target must be a data node, not the datastore"));
        }
        Ok(path::resolve(ctx, &all, false)?)
    };
    let t = resolve(&e.target)?;
    if !t.is_config() {
        return Err(bad(format!("{} is state data: it cannot be edited", t.data_path)));
    }
    let point = e.point.as_deref().map(resolve).transpose()?;
    let mut default_op = DefaultOperation::Merge;
    let tree = match e.op {
        Op::Create | Op::Insert | Op::Merge | Op::Replace => {
            let value = e.value.as_deref().unwrap_or_default();
            let (tree, node) = data::body_tree(ctx, &t.parent_path, &t.data_path, value, enc)?;
            data::check_is_target(ctx, &tree, node, &t)?;
            let op = match e.op {
                Op::Merge => "merge",
                Op::Replace => "replace",
                _ => "create",
            };
            data::set_operation(ctx, node, op)?;
            if e.op == Op::Insert {
                data::set_insert(ctx, node, &t, Some(e.place.unwrap_or(Insert::Last)), point.as_ref())?;
            }
            tree
        }
        Op::Delete | Op::Remove => {
            // A leaf's edit node needs a value of its type (the edit
            // matches leaves by name only): the current one, or the one an
            // earlier edit of the patch gives it.
            let value = if t.kind == Kind::Leaf {
                // SAFETY: nodes of the held snapshot and of the earlier
                // edit trees, read only.
                let found = std::iter::once(snap.tree().raw())
                    .chain(earlier.iter().rev().map(|(tree, _)| tree.raw()))
                    .find_map(|root| unsafe { ffi::find_path(root, &t.data_path) });
                let _ = ffi::take_errors(ctx);
                match found {
                    // SAFETY: as above.
                    Some(n) => unsafe { ffi::node_value(n) },
                    None if e.op == Op::Remove => return Ok(None),
                    None => return Err(missing_data(&t)),
                }
            } else {
                None
            };
            let (tree, node) = data::target_tree(ctx, &t, value.as_deref())?;
            data::set_operation(ctx, node, if e.op == Op::Delete { "delete" } else { "remove" })?;
            tree
        }
        Op::Move => {
            if !matches!(t.kind, Kind::ListEntry | Kind::LeafListEntry) || t.keys.is_empty() {
                return Err(bad(format!("{}: move needs a list or leaf-list entry", t.data_path)));
            }
            // No operation: the entry must exist when the move is applied
            // (data-missing otherwise); only its position changes.
            let (tree, node) = data::target_tree(ctx, &t, None)?;
            data::set_insert(ctx, node, &t, Some(e.place.unwrap_or(Insert::Last)), point.as_ref())?;
            default_op = DefaultOperation::None;
            tree
        }
    };
    Ok(Some((tree, default_op)))
}

fn missing_data(t: &Target<'_>) -> Errors {
    Errors::from(
        Error::data_missing(t.data_path.clone())
            .with_message(format!("{} does not exist", t.data_path))
            .with_http_status(404),
    )
}

/// The `yang-patch-status` reply: `ok` when `errs` is empty, else the
/// errors under `edit` (or global), with the first error's status.
fn status_reply(
    rc: &Restconf,
    enc: Enc,
    patch_id: &str,
    edit: Option<&Edit>,
    errs: Errors,
) -> Response<Body> {
    let errs = match edit {
        // RFC 8072 erratum 5131: a delete or move of a missing node is 404.
        Some(e) if matches!(e.op, Op::Delete | Op::Move) => errs
            .into_iter()
            .map(|x| if x.tag == ErrorTag::DataMissing { x.with_http_status(404) } else { x })
            .collect(),
        _ => errs,
    };
    let ok = !errs.has_errors();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::from_u16(errs.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    };
    let body = match enc {
        Enc::Json => {
            let status = match (ok, edit) {
                (true, _) => "\"ok\":[null]".to_string(),
                (false, None) => format!("\"errors\":{}", errs.restconf_errors_json()),
                (false, Some(e)) => format!(
                    "\"edit-status\":{}",
                    serde_json::json!({ "edit": [{ "edit-id": e.id, "errors": errs.restconf_errors_json() }] })
                ),
            };
            format!(
                "{{\"ietf-yang-patch:yang-patch-status\":{{\"patch-id\":{},{status}}}}}",
                serde_json::Value::from(patch_id)
            )
        }
        Enc::Xml => {
            let ns = rc.ds.schema();
            let inner = match (ok, edit) {
                (true, _) => "<ok/>".to_string(),
                (false, None) => format!("<errors>{}</errors>", errs.restconf_error_elements_xml(ns)),
                (false, Some(e)) => format!(
                    "<edit-status><edit><edit-id>{}</edit-id><errors>{}</errors></edit></edit-status>",
                    xml_text(&e.id),
                    errs.restconf_error_elements_xml(ns)
                ),
            };
            format!(
                "<yang-patch-status xmlns=\"{YANG_PATCH_NS}\"><patch-id>{}</patch-id>{inner}</yang-patch-status>",
                xml_text(patch_id)
            )
        }
    };
    response(status, Some((enc.data_type(), body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_xml_agree() {
        let json = r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p1","comment":"c","edit":[
            {"edit-id":"e1","operation":"insert","target":"/l=a","where":"before","point":"/l=b","value":{"m:l":[{"k":"a"}]}},
            {"edit-id":"e2","operation":"delete","target":"/x"}]}}"#;
        let xml = r#"<yang-patch xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-patch"><patch-id>p1</patch-id><comment>c</comment>
            <edit><edit-id>e1</edit-id><operation>insert</operation><target>/l=a</target><where>before</where><point>/l=b</point><value><l xmlns="urn:m"><k>a</k></l></value></edit>
            <edit><edit-id>e2</edit-id><operation>delete</operation><target>/x</target></edit></yang-patch>"#;
        let j = parse(json, Enc::Json).unwrap();
        let x = parse(xml, Enc::Xml).unwrap();
        assert_eq!(j.id, "p1");
        assert_eq!(j.edits.len(), 2);
        assert_eq!(j.edits[0].place, Some(Insert::Before));
        assert_eq!(x.edits[0].point.as_deref(), Some("/l=b"));
        assert_eq!(x.edits[0].value.as_deref(), Some(r#"<l xmlns="urn:m"><k>a</k></l>"#));
        assert_eq!(
            (j.edits[1].op, &j.edits[1].target, j.comment.as_deref()),
            (x.edits[1].op, &x.edits[1].target, x.comment.as_deref())
        );
    }

    #[test]
    fn malformed_patches() {
        let cases = [
            r#"{"yang-patch":{"patch-id":"p"}}"#,
            r#"{"ietf-yang-patch:yang-patch":{}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":1}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":{}}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","bogus":1}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"operation":"delete","target":"/x"}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"a","operation":"zap","target":"/x"}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"a","operation":"create","target":"/x"}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"a","operation":"delete","target":"/x","value":{}}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"a","operation":"delete"}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"a","operation":"delete","target":"/x"},{"edit-id":"a","operation":"delete","target":"/y"}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"a","operation":"move","target":"/x=1","where":"after"}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"a","operation":"move","target":"/x=1","where":"first","point":"/x=2"}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"a","operation":"merge","target":"/x","where":"first","value":{}}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"a","operation":"move","target":"/x=1","where":"middle"}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p"}} trailing"#,
            r#"not json"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[{"edit-id":"d","operation":"delete","target":"/x","operation":"merge"}]}}"#,
            r#"{"ietf-yang-patch:yang-patch":{"patch-id":"p","edit":[],"edit":[]}}"#,
        ];
        for c in cases {
            let e = parse(c, Enc::Json).expect_err(c);
            assert_eq!(e.http_status(), 400, "{c}");
        }
        let xml_cases = [
            "<yang-patch/>",
            r#"<yang-patch xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-patch"/>"#,
            r#"<yang-patch xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-patch"><patch-id>p</patch-id><edit><edit-id>a</edit-id><operation>delete</operation><target>/x</target><target>/y</target></edit></yang-patch>"#,
            r#"<yang-patch xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-patch"><patch-id>p</patch-id><foo/></yang-patch>"#,
            r#"<yang-patch xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-patch"><patch-id>p</patch-id>"#,
        ];
        for c in xml_cases {
            let e = parse(c, Enc::Xml).expect_err(c);
            assert_eq!(e.http_status(), 400, "{c}");
        }
    }
}
