//! Runtime of the generated model types (`occd-codegen`): the RFC 7951 JSON
//! encoding of members, the leaf value types libyang has no Rust twin for,
//! and the conversions to and from libyang data trees.
//!
//! Generated code only calls the functions here, one call per member; it
//! holds no validation of its own: [`Document::validate`] asks libyang.

use std::borrow::Cow;
use std::hash::Hash;

use base64::Engine as _;
use yang3::context::Context;
use yang3::data::{Data as _, DataFormat, DataParserFlags, DataPrinterFlags, DataValidationFlags};

pub use yang3::data::DataTree;

use crate::schema::ffi::{self, RawNode};

pub use indexmap::IndexMap;
pub type Json = serde_json::Value;
pub type Object = serde_json::Map<String, Json>;

/// A value that does not fit the generated types, or an error libyang
/// reported: where (instance path) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub path: String,
    pub message: String,
    /// libyang's error-app-tag (the `must`'s), for validation errors.
    pub app_tag: Option<String>,
}

impl Error {
    fn at(path: &str, message: impl Into<String>) -> Error {
        Error {
            path: if path.is_empty() { "/".into() } else { path.into() },
            message: message.into(),
            app_tag: None,
        }
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.message)?;
        if let Some(t) = &self.app_tag {
            write!(f, " ({t})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// A leaf value: its RFC 7951 JSON form and its canonical text (the XML
/// form, identities qualified by module name), used in key predicates and
/// for defaults.
pub trait Value: Sized {
    fn to_text(&self) -> String;
    fn from_text(s: &str) -> Result<Self, String>;
    /// JSON form; a string by default (RFC 7951 §6).
    fn to_json(&self) -> Json {
        Json::String(self.to_text())
    }
    fn from_json(v: &Json) -> Result<Self, String> {
        match v {
            Json::String(s) => Self::from_text(s),
            other => Err(format!("expected a string, found {other}")),
        }
    }
}

/// A data node with members: container, list entry, choice case, RPC
/// input/output, notification, or a module's top level.
pub trait Node: Sized {
    /// Every member (module, name), through choices.
    const MEMBERS: &'static [(&'static str, &'static str)];
    /// Writes the members into `obj`, names qualified against module `pm`
    /// (the enclosing data node's; `""` qualifies every name).
    fn write(&self, obj: &mut Object, pm: &str);
    fn read(obj: &Object, pm: &str, path: &str) -> Result<Self, Error>;
}

/// A choice: which case's members are present.
pub trait Choice: Sized {
    fn write(&self, obj: &mut Object, pm: &str);
    fn read(obj: &Object, pm: &str, path: &str) -> Result<Option<Self>, Error>;
}

/// RPC/action input or output, or a notification: the operation's module
/// and name wrap the members (`{"module:name": {...}}`).
pub trait Operation: Node {
    const OPERATION: (&'static str, &'static str);
    /// `input`, `output` or `notification`.
    const KIND: &'static str;

    /// `{"module:name": {members}}`.
    fn to_json(&self) -> Json {
        let (m, n) = Self::OPERATION;
        let mut inner = Object::new();
        self.write(&mut inner, m);
        let mut obj = Object::new();
        obj.insert(format!("{m}:{n}"), Json::Object(inner));
        Json::Object(obj)
    }

    /// Reads `{"module:name": {members}}` (or, for RESTCONF forms,
    /// `{"module:input"|"module:output": {members}}`).
    fn from_json(v: &Json) -> Result<Self, Error> {
        let (m, n) = Self::OPERATION;
        let obj = object(v, "")?;
        let inner = obj
            .get(&format!("{m}:{n}"))
            .or_else(|| obj.get(&format!("{m}:{}", Self::KIND)))
            .ok_or_else(|| Error::at("/", format!("no {m}:{n} member")))?;
        Self::read(object(inner, n)?, m, &format!("/{m}:{n}"))
    }

    /// Reads the operation from a tree holding it: RPC or action input (as
    /// a handler is given it: an action below its parents), a reply, or a
    /// notification (a nested one below its parents).
    fn from_tree(tree: &DataTree<'_>) -> Result<Self, Error> {
        let (m, n) = Self::OPERATION;
        let op = op_node(tree, (m, n)).ok_or_else(|| Error::at("/", format!("no {m}:{n} in the tree")))?;
        // SAFETY: `op` is a node of `tree`, borrowed for the call.
        let obj = unsafe { op_members(op, m)? };
        Self::read(&obj, m, &format!("/{m}:{n}"))
    }

    /// The operation as a libyang tree (top-level RPCs and notifications).
    fn to_tree<'a>(&self, ctx: &'a Context) -> Result<DataTree<'a>, Error> {
        self.to_tree_at(ctx, "")
    }

    /// The operation as a libyang tree below `parent`, the instance path
    /// of the node an action or nested notification belongs to (from the
    /// generated path builders or a `Parents`); `""` for top-level ones.
    fn to_tree_at<'a>(&self, ctx: &'a Context, parent: &str) -> Result<DataTree<'a>, Error> {
        let kind = match Self::KIND {
            "input" => ffi::OpType::Rpc,
            "output" => ffi::OpType::Reply,
            _ => ffi::OpType::Notification,
        };
        let text = Operation::to_json(self).to_string();
        let _ = ffi::take_errors(ctx);
        let tree_of = crate::datastore::store::tree_of;
        // SAFETY: the parents (if any) are a new tree owned by `tree` from
        // here on; the operation is parsed into it, or is the new tree.
        unsafe {
            if parent.is_empty() {
                let root = ffi::parse_op_under(ctx, std::ptr::null_mut(), &text, true, kind)
                    .map_err(|_| ly_failed(ctx, "invalid operation"))?;
                return Ok(tree_of(ctx, root));
            }
            let p = ffi::new_path(ctx, std::ptr::null_mut(), parent, None)
                .map_err(|_| ly_failed(ctx, &format!("cannot create {parent}")))?;
            let tree = tree_of(ctx, ffi::first_root(p));
            ffi::parse_op_under(ctx, p, &text, true, kind)
                .map_err(|_| ly_failed(ctx, "invalid operation"))?;
            Ok(tree)
        }
    }

    /// The operation printed as XML with its parents (`parent` as in
    /// [`Operation::to_tree_at`]): a notification as the notification bus
    /// takes it, say.
    fn to_xml(&self, ctx: &Context, parent: &str) -> Result<String, Error> {
        let tree = self.to_tree_at(ctx, parent)?;
        let root = tree.reference().map_or(std::ptr::null_mut(), |n| n.as_raw());
        // SAFETY: `root` is the first node of `tree`, alive for the call.
        unsafe { ffi::print_xml(root, true) }.map_err(|_| ly_failed(ctx, "cannot print the operation"))
    }

    /// An RPC's or action's output as the content of the `<rpc-reply>`
    /// answering `input` (the tree the handler was given; an action's
    /// reply is built below the same parents), validated by libyang as a
    /// reply against `data` (the datastore its references point into, a
    /// snapshot's `tree()`; `None`: empty). Empty output is `""` (`<ok/>`).
    fn reply_xml(
        &self,
        ctx: &Context,
        input: &DataTree<'_>,
        data: Option<&DataTree<'_>>,
    ) -> Result<String, Error> {
        let (m, n) = Self::OPERATION;
        let input_root = input.reference().map_or(std::ptr::null_mut(), |r| r.as_raw());
        // SAFETY: `input_root` is `input`'s, borrowed for the call.
        let parent = unsafe { ffi::action_parent_path(input_root) }.unwrap_or_default();
        let tree = self.to_tree_at(ctx, &parent)?;
        let op = op_node(&tree, (m, n)).ok_or_else(|| Error::at("/", format!("no {m}:{n} in the reply")))?;
        let dep = data.and_then(|d| d.reference()).map_or(std::ptr::null_mut(), |r| r.as_raw());
        // SAFETY: `op` is a node of `tree` and `dep` of `data`, both alive
        // for the call.
        unsafe {
            ffi::validate_op(ffi::first_root(op), dep, ffi::OpType::Reply)
                .map_err(|_| ly_failed(ctx, &format!("invalid output of {n}")))?;
            ffi::print_xml(ffi::node_first_child(op), true)
                .map_err(|_| ly_failed(ctx, "cannot print the reply"))
        }
    }
}

/// The keys of the list entries above operation `op` in `tree`, outermost
/// first, each entry's canonical key values in key order; `expect` levels
/// (what the generated `Parents` knows).
pub fn parent_keys(tree: &DataTree<'_>, op: (&str, &str), expect: usize) -> Result<Vec<Vec<String>>, Error> {
    let (m, n) = op;
    let node = op_node(tree, op).ok_or_else(|| Error::at("/", format!("no {m}:{n} in the tree")))?;
    let mut levels = Vec::new();
    // SAFETY: walks the parents of a node of `tree`, borrowed for the call.
    unsafe {
        let mut p = ffi::node_parent(node);
        while !p.is_null() {
            let s = ffi::node_schema(p);
            if !s.is_null() && ffi::schema_kind(s).0 == ffi::LYS_LIST {
                let keys = ffi::children(p)
                    .into_iter()
                    .filter(|c| {
                        let cs = ffi::node_schema(*c);
                        !cs.is_null() && ffi::schema_kind(cs).1 & ffi::LYS_KEY != 0
                    })
                    .filter_map(|c| ffi::node_value(c))
                    .collect();
                levels.push(keys);
            }
            p = ffi::node_parent(p);
        }
    }
    levels.reverse();
    if levels.len() != expect {
        return Err(Error::at(
            "/",
            format!("{m}:{n} is below {} list entries, {expect} expected", levels.len()),
        ));
    }
    Ok(levels)
}

/// Key `key` of level `level` of [`parent_keys`], as its type.
pub fn parent_key<T: Value>(levels: &[Vec<String>], level: usize, key: usize) -> Result<T, Error> {
    let text = levels
        .get(level)
        .and_then(|l| l.get(key))
        .ok_or_else(|| Error::at("/", format!("no key {key} at level {level}")))?;
    T::from_text(text).map_err(|e| Error::at("/", e))
}

/// The node of operation `(module, name)` (an RPC, action or
/// notification) in `tree`: a top-level node, or below parents.
fn op_node(tree: &DataTree<'_>, op: (&str, &str)) -> Option<RawNode> {
    let root = tree.reference()?.as_raw();
    // SAFETY: walks `tree`, borrowed for the call.
    unsafe { find_op(ffi::first_sibling(root), op) }
}

/// # Safety
/// `first` is NULL or a live node.
unsafe fn find_op(first: RawNode, (m, n): (&str, &str)) -> Option<RawNode> {
    let ops = ffi::LYS_RPC | ffi::LYS_ACTION | ffi::LYS_NOTIF;
    // SAFETY: contract; siblings and children of live nodes.
    unsafe {
        for node in ffi::siblings(first) {
            let s = ffi::node_schema(node);
            if s.is_null() {
                continue;
            }
            let kind = ffi::schema_kind(s).0;
            if kind & ops != 0 && ffi::schema_name(s) == n && ffi::schema_module_name(s) == m {
                return Some(node);
            }
            if kind & (ffi::LYS_CONTAINER | ffi::LYS_LIST) != 0 {
                if let Some(found) = find_op(ffi::node_first_child(node), (m, n)) {
                    return Some(found);
                }
            }
        }
    }
    None
}

/// The members of operation node `op` as an RFC 7951 object, names of the
/// operation's module `m` unqualified.
///
/// # Safety
/// `op` is a live node.
pub(crate) unsafe fn op_members(op: RawNode, m: &str) -> Result<Object, Error> {
    let opts = (DataPrinterFlags::WITH_SIBLINGS | DataPrinterFlags::SHRINK).bits();
    // SAFETY: contract.
    let text = unsafe { ffi::print_mem(ffi::node_first_child(op), true, opts) }
        .map_err(|_| Error::at("/", "cannot print the operation"))?;
    if text.trim().is_empty() {
        return Ok(Object::new());
    }
    match serde_json::from_str(&text) {
        Ok(Json::Object(obj)) => Ok(obj
            .into_iter()
            .map(|(k, v)| match k.split_once(':') {
                Some((km, local)) if km == m => (local.to_string(), v),
                _ => (k, v),
            })
            .collect()),
        _ => Err(Error::at("/", "libyang printed no JSON object")),
    }
}

impl From<ffi::LyError> for Error {
    fn from(e: ffi::LyError) -> Error {
        Error {
            path: e.data_path.or(e.schema_path).unwrap_or_else(|| "/".into()),
            message: e.message,
            app_tag: e.app_tag,
        }
    }
}

/// libyang's first error since the last `take_errors`, or `what`.
fn ly_failed(ctx: &Context, what: &str) -> Error {
    let errs = ffi::take_errors(ctx);
    errs.into_iter().find(|e| !e.warning).map_or_else(|| Error::at("/", what), Error::from)
}

/// A whole data document: a module's top level ([`Document`] of each
/// module's `Data`) or the set of all of them.
pub trait Document: Sized {
    fn to_json(&self) -> Json;
    fn from_json(v: &Json) -> Result<Self, Error>;

    /// The document as a libyang tree, parsed without validation (types
    /// are checked by libyang's parser).
    fn to_tree<'a>(&self, ctx: &'a Context) -> Result<DataTree<'a>, Error> {
        let text = self.to_json().to_string();
        DataTree::parse_string(
            ctx,
            text,
            DataFormat::JSON,
            DataParserFlags::STRICT | DataParserFlags::NO_VALIDATION,
            DataValidationFlags::empty(),
        )
        .map_err(|e| ly_error(&e))
    }

    /// Reads every member of a libyang tree this document knows (a
    /// datastore snapshot's `tree()`, say).
    fn from_tree(tree: &DataTree<'_>) -> Result<Self, Error> {
        Self::from_json(&tree_json(tree)?)
    }

    /// Reads the nodes of `tree` that `xpath` selects (with their parents
    /// and list keys, subtrees whole), not the whole tree: one service of
    /// a datastore snapshot, say, from a generated path builder.
    fn from_tree_at(tree: &DataTree<'_>, xpath: &str) -> Result<Self, Error> {
        let Some(root) = tree.reference().map(|n| n.as_raw()) else {
            return Self::from_json(&Json::Object(Object::new()));
        };
        // SAFETY: `root` is `tree`'s; the copies form a new tree owned by
        // `part` below.
        unsafe {
            let nodes = ffi::find_xpath(ffi::first_sibling(root), xpath)
                .map_err(|_| Error::at(xpath, "not a valid XPath for this tree"))?;
            let mut out: RawNode = std::ptr::null_mut();
            let mut failed = false;
            for n in nodes {
                failed |= ffi::copy_into(&mut out, n).is_err();
            }
            let part = crate::datastore::store::tree_of(tree.context(), out);
            if failed {
                return Err(Error::at(xpath, "cannot copy the selected nodes"));
            }
            Self::from_tree(&part)
        }
    }

    /// Validates the document with libyang (the modules that have data in
    /// it); every error libyang finds, with its path and app tag.
    fn validate(&self, ctx: &Context) -> Result<(), Vec<Error>> {
        let text = self.to_json().to_string();
        let _ = crate::schema::ffi::take_errors(ctx);
        let flags = DataValidationFlags::PRESENT | crate::schema::ffi::multi_error();
        match DataTree::parse_string(ctx, text, DataFormat::JSON, DataParserFlags::STRICT, flags) {
            Ok(_) => Ok(()),
            Err(e) => {
                let found = crate::schema::ffi::take_errors(ctx);
                let errs: Vec<Error> = found.into_iter().filter(|f| !f.warning).map(Error::from).collect();
                Err(if errs.is_empty() { vec![ly_error(&e)] } else { errs })
            }
        }
    }

    /// The document printed by libyang as XML.
    fn to_xml(&self, ctx: &Context) -> Result<String, Error> {
        self.to_tree(ctx)?
            .print_string(DataFormat::XML, DataPrinterFlags::WITH_SIBLINGS)
            .map_err(|e| ly_error(&e))
    }
}

/// A tree printed as JSON and parsed (an empty tree is `{}`).
fn tree_json(tree: &DataTree<'_>) -> Result<Json, Error> {
    let text = tree
        .print_string(DataFormat::JSON, DataPrinterFlags::WITH_SIBLINGS | DataPrinterFlags::SHRINK)
        .map_err(|e| ly_error(&e))?;
    if text.trim().is_empty() {
        return Ok(Json::Object(Object::new()));
    }
    serde_json::from_str(&text).map_err(|e| Error::at("/", e.to_string()))
}

/// serde: a generated document or operation serialises as its RFC 7951
/// JSON value.
pub fn serialize_json<S: serde::Serializer>(v: &Json, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(v, s)
}

pub fn deserialize_document<'de, T: Document, D: serde::Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let v = <Json as serde::Deserialize>::deserialize(d)?;
    T::from_json(&v).map_err(serde::de::Error::custom)
}

pub fn deserialize_operation<'de, T: Operation, D: serde::Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    let v = <Json as serde::Deserialize>::deserialize(d)?;
    <T as Operation>::from_json(&v).map_err(serde::de::Error::custom)
}

fn ly_error(e: &yang3::Error) -> Error {
    Error {
        path: e.path.clone().unwrap_or_else(|| "/".into()),
        message: e.msg.clone().unwrap_or_else(|| "libyang error".into()),
        app_tag: e.apptag.clone(),
    }
}

/// `v` as an object, or an error at `path`.
pub fn object<'a>(v: &'a Json, path: &str) -> Result<&'a Object, Error> {
    v.as_object().ok_or_else(|| Error::at(path, format!("expected an object, found {}", kind(v))))
}

fn kind(v: &Json) -> &'static str {
    match v {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

/// The member name of `module:name` inside a node of module `pm`.
fn qualify<'a>(pm: &str, module: &str, name: &'a str) -> Cow<'a, str> {
    if pm == module {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(format!("{module}:{name}"))
    }
}

fn member<'a>(obj: &'a Object, pm: &str, module: &str, name: &str) -> Option<&'a Json> {
    if pm == module {
        obj.get(name).or_else(|| obj.get(&format!("{module}:{name}")))
    } else {
        obj.get(&format!("{module}:{name}"))
    }
}

fn child_path(path: &str, pm: &str, module: &str, name: &str) -> String {
    format!("{path}/{}", qualify(pm, module, name))
}

/// Refuses members a node does not have. At the top level (`top` names the
/// document's module), members of other modules belong to other documents
/// and are skipped.
pub fn check_members(
    obj: &Object,
    pm: &str,
    members: &[(&str, &str)],
    path: &str,
    top: Option<&str>,
) -> Result<(), Error> {
    for key in obj.keys() {
        if key.starts_with('@') {
            continue; // metadata (RFC 7952)
        }
        let (module, name) = match key.split_once(':') {
            Some((m, n)) => (m, n),
            None if top.is_some() => {
                return Err(Error::at(path, format!("top-level member {key:?} is not module-qualified")))
            }
            None => (pm, key.as_str()),
        };
        if top.is_some_and(|o| o != module) {
            continue;
        }
        if !members.iter().any(|(m, n)| *m == module && *n == name) {
            return Err(Error::at(path, format!("unknown member {key:?}")));
        }
    }
    Ok(())
}

/// Whether any of `members` is present (which case of a choice is).
pub fn present(obj: &Object, pm: &str, members: &[(&str, &str)]) -> bool {
    members.iter().any(|(m, n)| member(obj, pm, m, n).is_some())
}

pub fn put_leaf<T: Value>(obj: &mut Object, pm: &str, module: &str, name: &str, v: &Option<T>) {
    if let Some(v) = v {
        put_key(obj, pm, module, name, v);
    }
}

pub fn put_key<T: Value>(obj: &mut Object, pm: &str, module: &str, name: &str, v: &T) {
    obj.insert(qualify(pm, module, name).into_owned(), v.to_json());
}

pub fn put_leaf_list<T: Value>(obj: &mut Object, pm: &str, module: &str, name: &str, v: &[T]) {
    if !v.is_empty() {
        obj.insert(
            qualify(pm, module, name).into_owned(),
            Json::Array(v.iter().map(Value::to_json).collect()),
        );
    }
}

pub fn put_any(obj: &mut Object, pm: &str, module: &str, name: &str, v: &Option<Json>) {
    if let Some(v) = v {
        obj.insert(qualify(pm, module, name).into_owned(), v.clone());
    }
}

/// A non-presence container: written only when it has members.
pub fn put_container<T: Node>(obj: &mut Object, pm: &str, module: &str, name: &str, v: &T) {
    let mut inner = Object::new();
    v.write(&mut inner, module);
    if !inner.is_empty() {
        obj.insert(qualify(pm, module, name).into_owned(), Json::Object(inner));
    }
}

pub fn put_presence<T: Node>(obj: &mut Object, pm: &str, module: &str, name: &str, v: &Option<T>) {
    if let Some(v) = v {
        let mut inner = Object::new();
        v.write(&mut inner, module);
        obj.insert(qualify(pm, module, name).into_owned(), Json::Object(inner));
    }
}

pub fn put_list<'a, T: Node + 'a>(
    obj: &mut Object,
    pm: &str,
    module: &str,
    name: &str,
    entries: impl Iterator<Item = &'a T>,
) {
    let list: Vec<Json> = entries
        .map(|e| {
            let mut inner = Object::new();
            e.write(&mut inner, module);
            Json::Object(inner)
        })
        .collect();
    if !list.is_empty() {
        obj.insert(qualify(pm, module, name).into_owned(), Json::Array(list));
    }
}

pub fn put_choice<C: Choice>(obj: &mut Object, pm: &str, v: &Option<C>) {
    if let Some(c) = v {
        c.write(obj, pm);
    }
}

pub fn get_leaf<T: Value>(
    obj: &Object,
    pm: &str,
    module: &str,
    name: &str,
    path: &str,
) -> Result<Option<T>, Error> {
    match member(obj, pm, module, name) {
        None => Ok(None),
        Some(v) => T::from_json(v).map(Some).map_err(|e| Error::at(&child_path(path, pm, module, name), e)),
    }
}

pub fn get_key<T: Value>(obj: &Object, pm: &str, module: &str, name: &str, path: &str) -> Result<T, Error> {
    get_leaf(obj, pm, module, name, path)?
        .ok_or_else(|| Error::at(&child_path(path, pm, module, name), "list key missing"))
}

pub fn get_leaf_list<T: Value>(
    obj: &Object,
    pm: &str,
    module: &str,
    name: &str,
    path: &str,
) -> Result<Vec<T>, Error> {
    let Some(v) = member(obj, pm, module, name) else { return Ok(Vec::new()) };
    let at = child_path(path, pm, module, name);
    let items =
        v.as_array().ok_or_else(|| Error::at(&at, format!("expected an array, found {}", kind(v))))?;
    items.iter().map(|i| T::from_json(i).map_err(|e| Error::at(&at, e))).collect()
}

pub fn get_any(obj: &Object, pm: &str, module: &str, name: &str, _path: &str) -> Result<Option<Json>, Error> {
    Ok(member(obj, pm, module, name).cloned())
}

pub fn get_container<T: Node + Default>(
    obj: &Object,
    pm: &str,
    module: &str,
    name: &str,
    path: &str,
) -> Result<T, Error> {
    Ok(get_presence(obj, pm, module, name, path)?.unwrap_or_default())
}

pub fn get_presence<T: Node>(
    obj: &Object,
    pm: &str,
    module: &str,
    name: &str,
    path: &str,
) -> Result<Option<T>, Error> {
    let Some(v) = member(obj, pm, module, name) else { return Ok(None) };
    let at = child_path(path, pm, module, name);
    T::read(object(v, &at)?, module, &at).map(Some)
}

fn entries<'a>(
    obj: &'a Object,
    pm: &str,
    module: &str,
    name: &str,
    path: &str,
) -> Result<(&'a [Json], String), Error> {
    let at = child_path(path, pm, module, name);
    match member(obj, pm, module, name) {
        None => Ok((&[], at)),
        Some(Json::Array(a)) => Ok((a.as_slice(), at)),
        Some(v) => Err(Error::at(&at, format!("expected an array, found {}", kind(v)))),
    }
}

pub fn get_list<T: Node>(
    obj: &Object,
    pm: &str,
    module: &str,
    name: &str,
    path: &str,
) -> Result<Vec<T>, Error> {
    let (items, at) = entries(obj, pm, module, name, path)?;
    items
        .iter()
        .enumerate()
        .map(|(i, e)| T::read(object(e, &at)?, module, &format!("{at}[{}]", i + 1)))
        .collect()
}

pub fn get_map<K: Hash + Eq, T: Node>(
    obj: &Object,
    pm: &str,
    module: &str,
    name: &str,
    path: &str,
    key: fn(&T) -> K,
) -> Result<IndexMap<K, T>, Error> {
    let (items, at) = entries(obj, pm, module, name, path)?;
    let mut map = IndexMap::with_capacity(items.len());
    for (i, e) in items.iter().enumerate() {
        let entry = T::read(object(e, &at)?, module, &format!("{at}[{}]", i + 1))?;
        if map.insert(key(&entry), entry).is_some() {
            return Err(Error::at(&format!("{at}[{}]", i + 1), "duplicate list key"));
        }
    }
    Ok(map)
}

pub fn get_choice<C: Choice>(obj: &Object, pm: &str, path: &str) -> Result<Option<C>, Error> {
    C::read(obj, pm, path)
}

/// A key predicate `[name='value']` (double quotes when the value holds a
/// single quote).
pub fn pred<T: Value>(name: &str, v: &T) -> String {
    let text = v.to_text();
    if text.contains('\'') {
        format!("[{name}=\"{text}\"]")
    } else {
        format!("[{name}='{text}']")
    }
}

pub fn bad_value(v: &str, what: &str) -> String {
    format!("{v:?} is not a valid {what}")
}

/// Refuses top-level members of modules the document does not know.
pub fn check_known(obj: &Object, modules: &[&str]) -> Result<(), Error> {
    for key in obj.keys().filter(|k| !k.starts_with('@')) {
        let module = key.split_once(':').map_or(key.as_str(), |(m, _)| m);
        if !modules.contains(&module) {
            return Err(Error::at("/", format!("member {key:?} is of a module without generated types")));
        }
    }
    Ok(())
}

// ----- value types -------------------------------------------------------

impl Value for bool {
    fn to_text(&self) -> String {
        self.to_string()
    }
    fn from_text(s: &str) -> Result<Self, String> {
        match s {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(bad_value(s, "boolean")),
        }
    }
    fn to_json(&self) -> Json {
        Json::Bool(*self)
    }
    fn from_json(v: &Json) -> Result<Self, String> {
        v.as_bool().ok_or_else(|| format!("expected a boolean, found {}", kind(v)))
    }
}

macro_rules! small_int {
    ($($t:ty),*) => {$(
        impl Value for $t {
            fn to_text(&self) -> String { self.to_string() }
            fn from_text(s: &str) -> Result<Self, String> { s.parse().map_err(|_| bad_value(s, stringify!($t))) }
            /// A JSON number (RFC 7951 §6.1).
            fn to_json(&self) -> Json { Json::from(*self) }
            fn from_json(v: &Json) -> Result<Self, String> {
                match v {
                    Json::Number(n) => Self::from_text(&n.to_string()),
                    other => Err(format!("expected a number, found {}", kind(other))),
                }
            }
        }
    )*};
}
small_int!(i8, i16, i32, u8, u16, u32);

// int64 and uint64 are JSON strings (RFC 7951 §6.1): the defaults apply.
impl Value for i64 {
    fn to_text(&self) -> String {
        self.to_string()
    }
    fn from_text(s: &str) -> Result<Self, String> {
        s.parse().map_err(|_| bad_value(s, "int64"))
    }
}

impl Value for u64 {
    fn to_text(&self) -> String {
        self.to_string()
    }
    fn from_text(s: &str) -> Result<Self, String> {
        s.parse().map_err(|_| bad_value(s, "uint64"))
    }
}

impl Value for String {
    fn to_text(&self) -> String {
        self.clone()
    }
    fn from_text(s: &str) -> Result<Self, String> {
        Ok(s.to_string())
    }
}

/// decimal64 with `D` fraction digits, kept as the scaled integer (never a
/// float): `Decimal64::<2>(1250)` is 12.50.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Decimal64<const D: u8>(pub i64);

impl<const D: u8> Decimal64<D> {
    const SCALE: i64 = 10i64.pow(D as u32);
    /// From an integer and a fraction already scaled to `D` digits.
    pub fn new(units: i64, fraction: i64) -> Self {
        Decimal64(units * Self::SCALE + if units < 0 { -fraction } else { fraction })
    }
}

impl<const D: u8> Value for Decimal64<D> {
    /// Canonical form (RFC 7950 §9.3.2): no trailing zeros but one digit
    /// after the point.
    fn to_text(&self) -> String {
        let neg = self.0 < 0;
        let abs = self.0.unsigned_abs();
        let scale = Self::SCALE as u64;
        let (int, frac) = (abs / scale, abs % scale);
        let mut f = format!("{:0width$}", frac, width = D as usize);
        while f.len() > 1 && f.ends_with('0') {
            f.pop();
        }
        if f.is_empty() {
            f.push('0');
        }
        format!("{}{int}.{f}", if neg { "-" } else { "" })
    }
    fn from_text(s: &str) -> Result<Self, String> {
        let bad = || bad_value(s, "decimal64");
        let (neg, body) = match s.strip_prefix('-') {
            Some(b) => (true, b),
            None => (false, s.strip_prefix('+').unwrap_or(s)),
        };
        let (int, frac) = body.split_once('.').unwrap_or((body, ""));
        if int.is_empty()
            || frac.len() > D as usize
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let int: i64 = int.parse().map_err(|_| bad())?;
        let mut f: i64 = if frac.is_empty() { 0 } else { frac.parse().map_err(|_| bad())? };
        for _ in frac.len()..D as usize {
            f *= 10;
        }
        let v = int.checked_mul(Self::SCALE).and_then(|v| v.checked_add(f)).ok_or_else(bad)?;
        Ok(Decimal64(if neg { -v } else { v }))
    }
}

/// binary: the bytes, base64 on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Binary(pub Vec<u8>);

impl Value for Binary {
    fn to_text(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(&self.0)
    }
    fn from_text(s: &str) -> Result<Self, String> {
        let clean: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        base64::engine::general_purpose::STANDARD
            .decode(clean)
            .map(Binary)
            .map_err(|_| bad_value(s, "binary"))
    }
}

/// The `empty` type: present or not (the leaf's `Option`); `[null]` in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Empty;

impl Value for Empty {
    fn to_text(&self) -> String {
        String::new()
    }
    fn from_text(s: &str) -> Result<Self, String> {
        if s.is_empty() {
            Ok(Empty)
        } else {
            Err(bad_value(s, "empty"))
        }
    }
    fn to_json(&self) -> Json {
        Json::Array(vec![Json::Null])
    }
    fn from_json(v: &Json) -> Result<Self, String> {
        match v.as_array().map(Vec::as_slice) {
            Some([Json::Null]) => Ok(Empty),
            _ => Err(format!("expected [null], found {}", kind(v))),
        }
    }
}

/// instance-identifier, in its JSON form (module-qualified names).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct InstanceId(pub String);

impl Value for InstanceId {
    fn to_text(&self) -> String {
        self.0.clone()
    }
    fn from_text(s: &str) -> Result<Self, String> {
        Ok(InstanceId(s.to_string()))
    }
}

// ----- random values for property tests ----------------------------------

/// A deterministic generator of values (splitmix64 over a seed the
/// property test draws).
#[cfg(test)]
pub struct Gen {
    state: u64,
    depth: u32,
}

#[cfg(test)]
impl Gen {
    pub fn new(seed: u64) -> Gen {
        Gen { state: seed, depth: 0 }
    }
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
    pub fn flip(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
    /// How many entries of a list or leaf-list: fewer deeper down.
    fn count(&mut self) -> usize {
        if self.depth > 6 {
            0
        } else {
            self.below(3)
        }
    }
}

/// Random values of a type (generated code implements it for every type).
#[cfg(test)]
pub trait Arb: Sized {
    fn arb(g: &mut Gen) -> Self;
}

#[cfg(test)]
impl<T: Arb> Arb for Option<T> {
    fn arb(g: &mut Gen) -> Self {
        if g.depth < 8 && g.flip() {
            g.depth += 1;
            let v = T::arb(g);
            g.depth -= 1;
            Some(v)
        } else {
            None
        }
    }
}

#[cfg(test)]
impl<T: Arb> Arb for Vec<T> {
    fn arb(g: &mut Gen) -> Self {
        let n = g.count();
        g.depth += 1;
        let v = (0..n).map(|_| T::arb(g)).collect();
        g.depth -= 1;
        v
    }
}

/// A keyed list of random entries (duplicate keys collapse).
#[cfg(test)]
pub fn arb_map<K: Hash + Eq, T: Arb>(g: &mut Gen, key: fn(&T) -> K) -> IndexMap<K, T> {
    let entries: Vec<T> = Arb::arb(g);
    entries.into_iter().map(|e| (key(&e), e)).collect()
}

#[cfg(test)]
mod arb_impls {
    use super::*;

    impl Arb for bool {
        fn arb(g: &mut Gen) -> Self {
            g.flip()
        }
    }
    macro_rules! arb_int {
        ($($t:ty),*) => {$(
            impl Arb for $t {
                #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
                fn arb(g: &mut Gen) -> Self { g.next_u64() as $t }
            }
        )*};
    }
    arb_int!(i8, i16, i32, i64, u8, u16, u32, u64);
    impl Arb for String {
        fn arb(g: &mut Gen) -> Self {
            const CHARS: &[u8] = b"abcxyz019-_. '\"<&>";
            let n = 1 + g.below(8);
            (0..n).map(|_| CHARS[g.below(CHARS.len())] as char).collect::<String>()
        }
    }
    impl<const D: u8> Arb for Decimal64<D> {
        fn arb(g: &mut Gen) -> Self {
            Decimal64((g.next_u64() % 2_000_000) as i64 - 1_000_000)
        }
    }
    impl Arb for Binary {
        fn arb(g: &mut Gen) -> Self {
            let n = g.below(6);
            Binary((0..n).map(|_| g.next_u64() as u8).collect())
        }
    }
    impl Arb for Empty {
        fn arb(_: &mut Gen) -> Self {
            Empty
        }
    }
    impl Arb for InstanceId {
        fn arb(g: &mut Gen) -> Self {
            InstanceId(format!("/occ-interfaces:interfaces/interface[name='if{}']", g.below(100)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal64_text() {
        assert_eq!(Decimal64::<2>(1250).to_text(), "12.5");
        assert_eq!(Decimal64::<2>(-5).to_text(), "-0.05");
        assert_eq!(Decimal64::<3>(0).to_text(), "0.0");
        assert_eq!(Decimal64::<2>::from_text("12.5"), Ok(Decimal64(1250)));
        assert_eq!(Decimal64::<2>::from_text("-0.05"), Ok(Decimal64(-5)));
        assert_eq!(Decimal64::<2>::from_text("7"), Ok(Decimal64(700)));
        assert!(Decimal64::<2>::from_text("1.234").is_err());
        assert!(Decimal64::<2>::from_text("1e3").is_err());
        assert!(Decimal64::<18>::from_text("99").is_err());
        assert_eq!(Decimal64::<2>::new(3, 5), Decimal64(305));
    }

    #[test]
    fn json_forms() {
        assert_eq!(Value::to_json(&5u64), Json::String("5".into()));
        assert_eq!(<u64 as Value>::from_json(&Json::String("5".into())), Ok(5));
        assert!(<u32 as Value>::from_json(&Json::String("5".into())).is_err());
        assert_eq!(Empty.to_json(), serde_json::json!([null]));
        assert_eq!(Binary(vec![1, 2, 3]).to_text(), "AQID");
        assert_eq!(pred("name", &"it's".to_string()), "[name=\"it's\"]");
    }
}
