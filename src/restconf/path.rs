//! An api-path ([`super::uri::Segment`]s) resolved against the schema:
//! each step's schema node, the libyang data path with key predicates, and
//! what kind of resource it names.
//!
//! Schema errors (no such module or node, keys missing, given to a
//! non-list, wrong count) are 400: the request cannot name any data. A
//! resource that the schema allows but the datastore lacks is the caller's
//! 404.

use yang3::context::Context;
use yang3::schema::{SchemaNode, SchemaNodeKind};

use super::uri::Segment;
use crate::error::{Error, ErrorTag, ErrorType};

/// What the last step names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The datastore root (`/restconf/data`).
    Root,
    Container,
    /// A list entry (keys given) or, for a keyless list, all its entries.
    ListEntry,
    Leaf,
    LeafListEntry,
    /// A leaf-list as a whole (no value given): GET only.
    LeafList,
    Any,
    Action,
}

#[derive(Debug, Clone)]
pub struct Target<'a> {
    pub kind: Kind,
    /// The schema node of each step.
    pub nodes: Vec<SchemaNode<'a>>,
    /// libyang data path, every step module-qualified, keys as predicates;
    /// empty for the root.
    pub data_path: String,
    /// The path of the parent of the last step (empty for a top-level node
    /// or the root).
    pub parent_path: String,
    /// The key values of the last step, in schema order (leaf-list: the value).
    pub keys: Vec<(String, String)>,
}

impl Target<'_> {
    /// The last step's schema node.
    pub fn schema(&self) -> Option<&SchemaNode<'_>> {
        self.nodes.last()
    }

    /// Whether the target is configuration.
    pub fn is_config(&self) -> bool {
        self.nodes.last().is_none_or(|n| n.is_config())
    }
}

fn unknown(what: String) -> Error {
    Error::new(ErrorType::Protocol, ErrorTag::UnknownElement).with_message(what)
}

fn invalid(what: String) -> Error {
    Error::invalid_value(what).with_type(ErrorType::Protocol)
}

/// The data children of `node`, looking through choice and case.
fn data_children<'a>(node: &SchemaNode<'a>, out: &mut Vec<SchemaNode<'a>>) {
    for c in node.children() {
        match c.kind() {
            SchemaNodeKind::Choice | SchemaNodeKind::Case => data_children(&c, out),
            _ => out.push(c),
        }
    }
}

/// An XPath/libyang-path string literal.
pub fn quote(v: &str) -> Result<String, Error> {
    if !v.contains('\'') {
        Ok(format!("'{v}'"))
    } else if !v.contains('"') {
        Ok(format!("\"{v}\""))
    } else {
        Err(invalid("a key value holding both ' and \" cannot be addressed".into()))
    }
}

/// The schema node `module:name` (a data node or an action) under `parent`
/// (`None`: the top level), looking through choice and case; `at` is the
/// parent's path, for the error.
pub fn child<'a>(
    ctx: &'a Context,
    parent: Option<&SchemaNode<'a>>,
    module: &str,
    name: &str,
    at: &str,
) -> Result<SchemaNode<'a>, Error> {
    let found = match parent {
        None => {
            let Some(m) = ctx.get_module_implemented(module) else {
                return Err(unknown(format!("no implemented module '{module}'")));
            };
            let mut top = Vec::new();
            for n in m.data() {
                match n.kind() {
                    SchemaNodeKind::Choice | SchemaNodeKind::Case => data_children(&n, &mut top),
                    _ => top.push(n),
                }
            }
            top.into_iter().find(|n| n.name() == name)
        }
        Some(parent) => {
            let mut kids = Vec::new();
            data_children(parent, &mut kids);
            kids.extend(parent.actions());
            kids.into_iter().find(|n| n.name() == name && n.module().name() == module)
        }
    };
    found.ok_or_else(|| {
        unknown(format!(
            "no schema node '{module}:{name}' {}",
            if parent.is_none() { "at the top level".to_string() } else { format!("under {at}") }
        ))
    })
}

/// Resolves `segs` against the schema of `ctx`. `allow_action`: the last
/// step may be an action (POST).
pub fn resolve<'a>(ctx: &'a Context, segs: &[Segment], allow_action: bool) -> Result<Target<'a>, Error> {
    let mut t = Target {
        kind: Kind::Root,
        nodes: Vec::new(),
        data_path: String::new(),
        parent_path: String::new(),
        keys: Vec::new(),
    };
    let mut module = String::new();
    for (i, seg) in segs.iter().enumerate() {
        let last = i + 1 == segs.len();
        if let Some(m) = &seg.module {
            module = m.clone();
        }
        let node = child(ctx, t.nodes.last(), &module, &seg.name, &t.data_path)?;
        t.parent_path = t.data_path.clone();
        t.data_path.push_str(&format!("/{module}:{}", seg.name));
        t.keys.clear();
        let kind = node.kind();
        match (kind, &seg.keys) {
            (SchemaNodeKind::List, Some(values)) => {
                let keys: Vec<String> = node.list_keys().map(|k| k.name().to_string()).collect();
                if keys.is_empty() {
                    return Err(invalid(format!(
                        "list {} has no keys; its entries cannot be addressed",
                        seg.name
                    )));
                }
                if keys.len() != values.len() {
                    return Err(invalid(format!(
                        "list {} has {} key(s) ({}); {} value(s) given",
                        seg.name,
                        keys.len(),
                        keys.join(", "),
                        values.len()
                    )));
                }
                for (k, v) in keys.into_iter().zip(values) {
                    t.data_path.push_str(&format!("[{k}={}]", quote(v)?));
                    t.keys.push((k, v.clone()));
                }
                t.kind = Kind::ListEntry;
            }
            (SchemaNodeKind::List, None) => {
                if node.list_keys().next().is_some() {
                    return Err(invalid(format!(
                        "list {} needs its key values ({}=...)",
                        seg.name, seg.name
                    )));
                }
                t.kind = Kind::ListEntry;
            }
            (SchemaNodeKind::LeafList, Some(values)) => {
                if values.len() != 1 {
                    return Err(invalid(format!("leaf-list {} takes one value", seg.name)));
                }
                t.data_path.push_str(&format!("[.={}]", quote(&values[0])?));
                t.keys.push((seg.name.clone(), values[0].clone()));
                t.kind = Kind::LeafListEntry;
            }
            (_, Some(_)) => {
                return Err(invalid(format!("{} is not a list or leaf-list: it takes no '='", seg.name)));
            }
            (SchemaNodeKind::LeafList, None) => t.kind = Kind::LeafList,
            (SchemaNodeKind::Container, None) => t.kind = Kind::Container,
            (SchemaNodeKind::Leaf, None) => t.kind = Kind::Leaf,
            (SchemaNodeKind::AnyData | SchemaNodeKind::AnyXml, None) => t.kind = Kind::Any,
            (SchemaNodeKind::Action, None) if allow_action && last => t.kind = Kind::Action,
            (SchemaNodeKind::Action, None) => {
                return Err(invalid(format!("action {} can only be invoked with POST", seg.name)));
            }
            (_, None) => return Err(invalid(format!("{} is not a data resource", seg.name))),
        }
        if !last && matches!(t.kind, Kind::Leaf | Kind::LeafList | Kind::LeafListEntry | Kind::Any) {
            return Err(unknown(format!("{} has no child nodes", seg.name)));
        }
        t.nodes.push(node);
    }
    Ok(t)
}

/// The RPC named by `/restconf/operations/module:name`.
pub fn resolve_rpc<'a>(ctx: &'a Context, segs: &[Segment]) -> Result<SchemaNode<'a>, Error> {
    let [seg] = segs else {
        return Err(invalid("an operation resource is /restconf/operations/module:name".into()));
    };
    if seg.keys.is_some() {
        return Err(invalid("an operation resource takes no '='".into()));
    }
    let module = seg.module.as_deref().unwrap_or_default();
    let m = ctx
        .get_module_implemented(module)
        .ok_or_else(|| unknown(format!("no implemented module '{module}'")))?;
    m.rpcs()
        .find(|r| r.name() == seg.name)
        .ok_or_else(|| unknown(format!("module {module} has no rpc '{}'", seg.name)))
}
