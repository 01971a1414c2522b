//! The `fields` query parameter (RFC 8040 §4.8.3): which descendants of
//! the target a GET returns.
//!
//! ```text
//! fields-expr = path "(" fields-expr ")" / path ";" fields-expr / path
//! path        = api-identifier [ "/" path ]
//! ```
//!
//! Each path is resolved against the schema below the target (400
//! `unknown-element` for a name that is not there); a name without a module
//! is in its parent's module, and at the datastore root it must carry one.
//! The reply keeps the selected nodes with their subtrees, their ancestors,
//! and the keys of every list entry on the way (a list entry is not
//! addressable without them). With `depth`, a selected node and its
//! ancestors count as depth 1 (§4.8.2).

use yang3::context::Context;
use yang3::schema::{SchemaNode, SchemaNodeKind};

use super::path::{self, Target};
use crate::error::{Error, ErrorType};
use crate::schema::ffi::{self, RawNode, RawSchema};
use crate::schema::is_identifier;

/// One `path` of the expression with what its parentheses hold.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Expr {
    /// `(module, name)` steps.
    steps: Vec<(Option<String>, String)>,
    sub: Vec<Expr>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid_value(message).with_type(ErrorType::Protocol)
}

struct Parser<'s> {
    s: &'s [u8],
    pos: usize,
    text: &'s str,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    /// `path (";" path)*`, each path with optional `( ... )`.
    fn list(&mut self, depth: usize) -> Result<Vec<Expr>, Error> {
        if depth > 32 {
            return Err(bad("fields: parentheses nested too deeply"));
        }
        let mut out = Vec::new();
        loop {
            let mut e = Expr { steps: vec![self.step()?], sub: Vec::new() };
            while self.peek() == Some(b'/') {
                self.pos += 1;
                e.steps.push(self.step()?);
            }
            if self.peek() == Some(b'(') {
                self.pos += 1;
                e.sub = self.list(depth + 1)?;
                if self.peek() != Some(b')') {
                    return Err(self.error("')'"));
                }
                self.pos += 1;
            }
            out.push(e);
            if self.peek() == Some(b';') {
                self.pos += 1;
            } else {
                return Ok(out);
            }
        }
    }

    fn step(&mut self) -> Result<(Option<String>, String), Error> {
        let start = self.pos;
        while self.peek().is_some_and(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b)) {
            self.pos += 1;
        }
        let ident = &self.text[start..self.pos];
        let (module, name) = match ident.split_once(':') {
            Some((m, n)) => (Some(m), n),
            None => (None, ident),
        };
        if ident.is_empty() {
            return Err(self.error("a node name"));
        }
        if !is_identifier(name) || module.is_some_and(|m| !is_identifier(m)) {
            return Err(bad(format!("fields: '{ident}' is not a node name ([module:]identifier)")));
        }
        Ok((module.map(str::to_string), name.to_string()))
    }

    fn error(&self, wanted: &str) -> Error {
        match self.text[self.pos..].chars().next() {
            Some(c) => bad(format!("fields: expected {wanted} at offset {}, found '{c}'", self.pos)),
            None => bad(format!("fields: expected {wanted} at the end")),
        }
    }
}

fn parse(text: &str) -> Result<Vec<Expr>, Error> {
    let mut p = Parser { s: text.as_bytes(), pos: 0, text };
    let out = p.list(0)?;
    if p.pos != text.len() {
        return Err(p.error("';', '/', '(' or the end"));
    }
    Ok(out)
}

/// The resolved selection below one node: the children selected, and
/// whether the node is selected whole.
#[derive(Debug, Default)]
pub struct Selection {
    children: Vec<(RawSchema, Selection)>,
    whole: bool,
}

/// Parses `fields` and resolves it below `target`.
pub fn resolve(ctx: &Context, target: &Target<'_>, text: &str) -> Result<Selection, Error> {
    let mut sel = Selection::default();
    let module = target.nodes.last().map(|n| n.module().name().to_string()).unwrap_or_default();
    for e in parse(text)? {
        add(ctx, &mut sel, target.nodes.last().cloned(), &module, &target.data_path, &e)?;
    }
    Ok(sel)
}

fn add<'a>(
    ctx: &'a Context,
    sel: &mut Selection,
    mut parent: Option<SchemaNode<'a>>,
    module: &str,
    at: &str,
    e: &Expr,
) -> Result<(), Error> {
    let mut module = module.to_string();
    let mut at = at.to_string();
    let mut cur = sel;
    for (m, name) in &e.steps {
        if let Some(m) = m {
            module = m.clone();
        }
        if module.is_empty() {
            return Err(bad(format!("fields: '{name}' must be module-qualified at the top level")));
        }
        if parent.as_ref().is_some_and(|p| {
            matches!(p.kind(), SchemaNodeKind::Leaf | SchemaNodeKind::LeafList | SchemaNodeKind::AnyData)
        }) {
            return Err(bad(format!("fields: {at} has no child nodes")));
        }
        let node = path::child(ctx, parent.as_ref(), &module, name, &at)?;
        if matches!(node.kind(), SchemaNodeKind::Action | SchemaNodeKind::Rpc | SchemaNodeKind::Notification)
        {
            return Err(bad(format!("fields: {name} is not a data node")));
        }
        at.push_str(&format!("/{module}:{name}"));
        let raw = node.as_raw().cast_const();
        let i = match cur.children.iter().position(|(s, _)| *s == raw) {
            Some(i) => i,
            None => {
                cur.children.push((raw, Selection::default()));
                cur.children.len() - 1
            }
        };
        cur = &mut cur.children[i].1;
        parent = Some(node);
    }
    if e.sub.is_empty() {
        cur.whole = true;
        return Ok(());
    }
    for s in &e.sub {
        add(ctx, cur, parent.clone(), &module, &at, s)?;
    }
    Ok(())
}

/// Keeps, among `nodes` (siblings, unlinked or not), those `sel` selects,
/// pruned below; frees the others. Returns the kept ones in order.
///
/// # Safety
/// The nodes are live nodes of a tree the caller owns.
pub unsafe fn apply(nodes: Vec<RawNode>, sel: &Selection, depth: Option<u16>) -> Vec<RawNode> {
    let mut kept = Vec::new();
    // SAFETY: contract; a node is freed only after we are done with it.
    unsafe {
        for n in nodes {
            let s = ffi::node_schema(n);
            let is_key = !s.is_null() && ffi::schema_kind(s).1 & ffi::LYS_KEY != 0;
            if is_key {
                kept.push(n);
                continue;
            }
            match sel.children.iter().find(|(c, _)| *c == s) {
                Some((_, sub)) if sub.whole => {
                    if let Some(d) = depth {
                        crate::netconf::ops::limit_depth(n, d);
                    }
                    kept.push(n);
                }
                Some((_, sub)) => {
                    apply_below(n, sub, depth);
                    kept.push(n);
                }
                None => {
                    let _ = ffi::unlink(n);
                    ffi::free_tree(n);
                }
            }
        }
    }
    kept
}

/// Applies `sel` to the children of `node`.
///
/// # Safety
/// As [`apply`].
pub unsafe fn apply_below(node: RawNode, sel: &Selection, depth: Option<u16>) {
    // SAFETY: contract.
    unsafe {
        apply(ffi::children(node), sel, depth);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(steps: &[&str], sub: Vec<Expr>) -> Expr {
        Expr {
            steps: steps
                .iter()
                .map(|s| match s.split_once(':') {
                    Some((m, n)) => (Some(m.to_string()), n.to_string()),
                    None => (None, s.to_string()),
                })
                .collect(),
            sub,
        }
    }

    #[test]
    fn grammar() {
        assert_eq!(parse("a").unwrap(), vec![e(&["a"], vec![])]);
        assert_eq!(
            parse("m:a/b(c;d/e);f").unwrap(),
            vec![e(&["m:a", "b"], vec![e(&["c"], vec![]), e(&["d", "e"], vec![])]), e(&["f"], vec![])]
        );
        assert_eq!(parse("a(b(c))").unwrap(), vec![e(&["a"], vec![e(&["b"], vec![e(&["c"], vec![])])])]);
        for bad in [
            "", ";", "a;", "a/", "/a", "a(", "a()", "a(b", "a)b", "a b", "a(b))", "1a", "m:", ":a", "a::b",
            "a,b",
        ] {
            let err = parse(bad).expect_err(bad);
            assert_eq!(err.http_status(), 400, "{bad}");
        }
        let deep = format!("{}x{}", "a(".repeat(40), ")".repeat(40));
        assert!(parse(&deep).is_err());
    }
}
