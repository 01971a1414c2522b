//! `<filter>` of `<get>`, `<get-config>` and `<get-data>`: subtree
//! filters (RFC 6241 §6) and XPath filters (`:xpath`, RFC 6241 §8.9).
//!
//! Both become XPath expressions in libyang's JSON form (module names as
//! prefixes) evaluated on the snapshot tree; the selected nodes are copied,
//! with their ancestors and list keys, into a result tree that is printed.
//! Nothing is fetched whole and pruned.
//!
//! Subtree filters: each filter element is a containment node (has element
//! children), a selection node (empty) or a content-match node (text). A
//! node whose children are only content matches selects its whole subtree
//! when they match; otherwise its content-match siblings, selection nodes
//! and what its containment nodes select. Attributes other than namespace
//! declarations match metadata. An element with no namespace (or in the
//! NETCONF base namespace, which it inherits from an `<rpc>` declaring it
//! as the default) matches every module's node of that name (RFC 6241
//! §6.2.1 leaves the case open; this is the lenient choice, and it can only
//! select more, never fail).
//! A filter naming nodes that do not exist selects nothing.
//!
//! XPath filters: prefixes are resolved through the filter element's
//! namespace declarations; an unprefixed first step is taken from the
//! one module that has a top-level node of that name (netconf-console2
//! `-x /interfaces`); otherwise it is an `invalid-value` error.

use std::collections::HashSet;

use yang3::context::Context;
use yang3::data::DataTree;

use super::xml::Element;
use super::BASE_NS;
use crate::datastore::store::tree_of;
use crate::error::{Error, ErrorType};
use crate::schema::ffi::{self, RawNode};

/// What a `<filter>` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// No filter: everything.
    All,
    /// The union of these XPath expressions; none selects nothing.
    Paths(Vec<String>),
    /// A user XPath expression (errors in it are reported).
    XPath(String),
}

/// Checks that an XPath expression (module names as prefixes) compiles
/// against the schema; filters applied later to each event cannot report
/// their errors.
pub fn check_xpath(ctx: &Context, xpath: &str) -> Result<(), Error> {
    if xpath.contains('\0') {
        return Err(
            Error::invalid_value("the XPath expression holds a NUL character").with_type(ErrorType::Protocol)
        );
    }
    match ctx.find_xpath(xpath) {
        Ok(_) => Ok(()),
        Err(e) => {
            let _ = ffi::take_errors(ctx);
            Err(Error::invalid_value(format!("XPath filter: {e}")).with_type(ErrorType::Protocol))
        }
    }
}

/// What the top level of a filter names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tops {
    /// Data nodes (get, get-config, get-data).
    Data,
    /// Notifications, top-level or inside data nodes (RFC 5277 filters).
    Notifications,
}

/// Reads a `<filter>` element (RFC 6241 §7.1 `type`, `select`).
pub fn parse(ctx: &Context, filter: Option<&Element>) -> Result<Filter, Error> {
    parse_for(ctx, filter, Tops::Data)
}

/// Reads the `<filter>` of `<create-subscription>`: the same forms,
/// applied to event content, so a top-level element may also name a
/// notification.
pub fn parse_notification_filter(ctx: &Context, filter: Option<&Element>) -> Result<Filter, Error> {
    parse_for(ctx, filter, Tops::Notifications)
}

fn parse_for(ctx: &Context, filter: Option<&Element>, tops: Tops) -> Result<Filter, Error> {
    let Some(f) = filter else {
        return Ok(Filter::All);
    };
    match f.attr(BASE_NS, "type").unwrap_or("subtree") {
        "subtree" => {
            let mut out = Vec::new();
            for top in &f.children {
                subtree_top(ctx, top, tops, &mut out);
            }
            Ok(Filter::Paths(out))
        }
        "xpath" => {
            let select = f.attr(BASE_NS, "select").ok_or_else(|| {
                Error::missing_attribute("select", "filter")
                    .with_message("an xpath filter needs a select attribute")
            })?;
            Ok(Filter::XPath(rewrite_xpath(ctx, f, select, tops)?))
        }
        other => Err(Error::bad_attribute("type", "filter")
            .with_message(format!("filter type {other:?} is not supported (subtree, xpath)"))),
    }
}

/// The modules implementing a top-level data node `name`.
fn modules_with_top(ctx: &Context, name: &str, tops: Tops) -> Vec<String> {
    let mut out = Vec::new();
    for m in ctx.modules(true).filter(|m| m.is_implemented()) {
        let notif = tops == Tops::Notifications && m.notifications().any(|n| n.name() == name);
        if notif || m.data().any(|n| n.name() == name) {
            out.push(m.name().to_string());
        }
    }
    out
}

fn module_of_ns(ctx: &Context, ns: &str) -> Option<String> {
    ctx.get_module_implemented_ns(ns).map(|m| m.name().to_string())
}

fn subtree_top(ctx: &Context, top: &Element, tops: Tops, out: &mut Vec<String>) {
    let modules = match top.ns.as_deref() {
        Some(ns) if ns != BASE_NS => module_of_ns(ctx, ns).into_iter().collect(),
        _ => modules_with_top(ctx, &top.local, tops),
    };
    for m in modules {
        if !is_name(&top.local) {
            continue;
        }
        subtree_node(ctx, format!("/{m}:{}", top.local), &m, top, out);
    }
}

fn is_name(s: &str) -> bool {
    crate::schema::is_identifier(s)
}

/// `path` selects `e`'s nodes (before predicates); `module` is the module
/// of that step.
fn subtree_node(ctx: &Context, path: String, module: &str, e: &Element, out: &mut Vec<String>) {
    let mut preds = String::new();
    for a in &e.attrs {
        if a.is_namespace_declaration() || a.ns.is_none() {
            continue;
        }
        let Some(m) = a.ns.as_deref().and_then(|ns| module_of_ns(ctx, ns)) else {
            continue;
        };
        preds.push_str(&format!("[@{m}:{}={}]", a.local, literal(&a.value)));
    }
    let mut selections = Vec::new();
    let mut containments = Vec::new();
    let mut content = Vec::new();
    for c in &e.children {
        let Some(step) = child_step(ctx, module, c) else {
            // A child in an unknown namespace matches nothing, and so
            // neither does this node's content match.
            if c.children.is_empty() && !c.text_trimmed().is_empty() {
                return;
            }
            continue;
        };
        if !c.children.is_empty() {
            containments.push((step, c));
        } else if c.text_trimmed().is_empty() {
            selections.push(step);
        } else {
            preds.push_str(&format!("[{}={}]", step.0, literal(c.text_trimmed())));
            content.push(step);
        }
    }
    let here = format!("{path}{preds}");
    if selections.is_empty() && containments.is_empty() {
        out.push(here);
        return;
    }
    for step in content.iter().chain(&selections) {
        out.push(format!("{here}/{}", step.0));
    }
    for ((step, m), c) in containments {
        subtree_node(ctx, format!("{here}/{step}"), &m, c, out);
    }
}

/// The XPath step of a filter child and its module; `None` when its
/// namespace is no implemented module.
fn child_step(ctx: &Context, parent_module: &str, c: &Element) -> Option<(String, String)> {
    if !is_name(&c.local) {
        return None;
    }
    let module = match c.ns.as_deref() {
        Some(ns) if ns != BASE_NS => module_of_ns(ctx, ns)?,
        _ => parent_module.to_string(),
    };
    if module == parent_module {
        Some((c.local.clone(), module))
    } else {
        Some((format!("{module}:{}", c.local), module))
    }
}

/// An XPath string literal for `v`.
fn literal(v: &str) -> String {
    if !v.contains('\'') {
        format!("'{v}'")
    } else if !v.contains('"') {
        format!("\"{v}\"")
    } else {
        let parts: Vec<String> = v.split('\'').map(|p| format!("'{p}'")).collect();
        format!("concat({})", parts.join(", \"'\", "))
    }
}

/// Rewrites XML prefixes (bound at `scope`) into module names.
fn rewrite_xpath(ctx: &Context, scope: &Element, xpath: &str, tops: Tops) -> Result<String, Error> {
    let bad = |m: String| Error::invalid_value(m).with_type(ErrorType::Protocol);
    let chars: Vec<char> = xpath.chars().collect();
    let mut out = String::with_capacity(xpath.len() + 32);
    let mut i = 0;
    // The last significant token, to tell a leading step from the rest.
    let mut prev: Option<char> = None;
    let mut prev_was_root_slash = false;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' || c == '"' {
            let end = chars[i + 1..]
                .iter()
                .position(|x| *x == c)
                .ok_or_else(|| bad("unterminated string".into()))?;
            out.extend(&chars[i..i + end + 2]);
            i += end + 2;
            prev = Some('x');
            prev_was_root_slash = false;
            continue;
        }
        if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || "_-.".contains(chars[i])) {
                i += 1;
            }
            let name: String = chars[start..i].iter().collect();
            let colon = i < chars.len() && chars[i] == ':';
            let axis = colon && i + 1 < chars.len() && chars[i + 1] == ':';
            if colon && !axis {
                let ns = if name == "xml" { None } else { scope.resolve_prefix(&name) };
                let ns = ns.ok_or_else(|| bad(format!("prefix {name} is not declared on the filter")))?;
                let module = module_of_ns(ctx, ns)
                    .ok_or_else(|| bad(format!("namespace {ns} is no implemented module")))?;
                out.push_str(&module);
                out.push(':');
                i += 1;
            } else {
                let is_function = chars[i..].iter().find(|c| !c.is_whitespace()) == Some(&'(');
                if prev_was_root_slash && !axis && !is_function {
                    let found = modules_with_top(ctx, &name, tops);
                    match found.as_slice() {
                        [m] => {
                            out.push_str(m);
                            out.push(':');
                        }
                        [] => return Err(bad(format!("no module has a top-level node {name}"))),
                        _ => {
                            return Err(bad(format!(
                                "top-level node {name} is in several modules ({}): add a prefix",
                                found.join(", ")
                            )))
                        }
                    }
                }
                out.push_str(&name);
            }
            prev = Some('x');
            prev_was_root_slash = false;
            continue;
        }
        if c == '/' {
            // A slash that starts a location path: at the start, or after
            // an operator or an opening bracket.
            prev_was_root_slash =
                matches!(prev, None | Some('|') | Some('(') | Some('[') | Some(',') | Some('='))
                    && !(i + 1 < chars.len() && chars[i + 1] == '/');
            out.push(c);
            prev = Some('/');
            i += 1;
            continue;
        }
        if !c.is_whitespace() {
            prev = Some(c);
            prev_was_root_slash = false;
        }
        out.push(c);
        i += 1;
    }
    Ok(out)
}

/// The part of `tree` that `filter` selects, as a new tree; `None` for
/// [`Filter::All`] (print the tree itself).
pub fn select(
    ctx: &'static Context,
    tree: &DataTree<'_>,
    filter: &Filter,
) -> Result<Option<DataTree<'static>>, Error> {
    let root = tree.reference().map_or(std::ptr::null_mut(), |n| n.as_raw());
    let paths: Vec<(&str, bool)> = match filter {
        Filter::All => return Ok(None),
        Filter::Paths(p) => p.iter().map(|s| (s.as_str(), false)).collect(),
        Filter::XPath(x) => vec![(x.as_str(), true)],
    };
    let mut nodes: Vec<RawNode> = Vec::new();
    for (path, report) in paths {
        // SAFETY: `root` is a live tree the caller holds for this call.
        match unsafe { ffi::find_xpath(root, path) } {
            Ok(found) => nodes.extend(found),
            Err(_) if !report => {
                let _ = ffi::take_errors(ctx);
            }
            Err(_) => {
                let records = ffi::take_errors(ctx);
                let why =
                    records.first().map(|e| e.message.clone()).unwrap_or_else(|| "invalid XPath".into());
                return Err(
                    Error::invalid_value(format!("XPath filter: {why}")).with_type(ErrorType::Protocol)
                );
            }
        }
    }
    let chosen: HashSet<RawNode> = nodes.iter().copied().collect();
    let mut result: RawNode = std::ptr::null_mut();
    let mut done: HashSet<RawNode> = HashSet::new();
    for n in nodes {
        if !done.insert(n) {
            continue;
        }
        // SAFETY: `n` is a node of the live source tree.
        let covered = unsafe {
            let mut a = ffi::node_parent(n);
            let mut hit = false;
            while !a.is_null() {
                if chosen.contains(&a) {
                    hit = true;
                    break;
                }
                a = ffi::node_parent(a);
            }
            hit
        };
        if covered {
            continue;
        }
        // SAFETY: `n` live; `result` is our own tree of the same context.
        if let Err(e) = unsafe { ffi::copy_into(&mut result, n) } {
            let _ = ffi::take_errors(ctx);
            // SAFETY: our own partial result.
            unsafe { ffi::free_siblings(result) };
            return Err(Error::operation_failed(format!("filter: copy failed (libyang {e})")));
        }
    }
    Ok(Some(tree_of(ctx, result)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals() {
        assert_eq!(literal("a"), "'a'");
        assert_eq!(literal("a'b"), "\"a'b\"");
        assert_eq!(literal("a'b\"c"), "concat('a', \"'\", 'b\"c')");
    }
}
