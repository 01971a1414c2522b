//! A small namespace-aware element tree for NETCONF messages, read with
//! quick-xml. It keeps what the protocol layer needs: resolved namespaces
//! (elements are matched by namespace, never by prefix), attributes with
//! their raw names (to echo them), text, and each element's byte span in
//! the message, so data content (`<config>`) goes to libyang as text.
//!
//! Refused outright: DOCTYPE (no entity expansion of any kind), entity
//! references other than the five predefined ones and character
//! references, undeclared prefixes, nesting deeper than [`MAX_DEPTH`],
//! mismatched end tags, a second root element, text outside the root.

use std::borrow::Cow;
use std::sync::Arc;

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

/// Deepest element nesting accepted in a message.
pub const MAX_DEPTH: usize = 512;

pub const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";
pub const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attr {
    /// The name as written (`nc:message-id`, `xmlns:nc`).
    pub raw_name: String,
    /// Namespace of a prefixed attribute; unprefixed attributes have none.
    pub ns: Option<String>,
    pub local: String,
    pub value: String,
}

impl Attr {
    pub fn is_namespace_declaration(&self) -> bool {
        self.raw_name == "xmlns" || self.raw_name.starts_with("xmlns:")
    }
}

/// The namespace bindings in scope at an element: its own declarations,
/// then its parent's scope, shared. An element without declarations shares
/// its parent's scope as it is, so the memory is the declarations', not
/// declarations × elements.
#[derive(Debug, Clone, Default)]
pub struct Scope(Option<Arc<ScopeNode>>);

#[derive(Debug)]
struct ScopeNode {
    bindings: Vec<(String, String)>,
    parent: Scope,
}

impl Scope {
    /// This scope with `bindings` declared on top (in document order).
    fn with(&self, bindings: Vec<(String, String)>) -> Scope {
        if bindings.is_empty() {
            return self.clone();
        }
        Scope(Some(Arc::new(ScopeNode { bindings, parent: self.clone() })))
    }

    /// Every binding, innermost first (a prefix may appear again further
    /// out, shadowed).
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut node = self.0.as_deref();
        let mut inner: std::iter::Rev<std::slice::Iter<'_, (String, String)>> = [].iter().rev();
        std::iter::from_fn(move || loop {
            if let Some((p, ns)) = inner.next() {
                return Some((p.as_str(), ns.as_str()));
            }
            let n = node?;
            inner = n.bindings.iter().rev();
            node = n.parent.0.as_deref();
        })
    }

    /// The namespace bound to `prefix` ("" = default).
    pub fn resolve(&self, prefix: &str) -> Option<&str> {
        self.iter().find(|(p, _)| *p == prefix).map(|(_, ns)| ns)
    }
}

#[derive(Debug, Clone, Default)]
pub struct Element {
    pub ns: Option<String>,
    pub local: String,
    pub prefix: Option<String>,
    pub attrs: Vec<Attr>,
    pub children: Vec<Element>,
    /// Text content (concatenated, entity references resolved).
    pub text: String,
    /// Namespace bindings in scope at this element (prefix "" = default),
    /// own declarations included; shared with the ancestors (see [`Scope`]).
    pub scope: Scope,
    /// Byte offsets of the whole element in the source, and of its content
    /// (between the start and the end tag; empty for `<x/>`).
    pub span: (usize, usize),
    pub content: (usize, usize),
}

impl Element {
    pub fn is(&self, ns: &str, local: &str) -> bool {
        self.local == local && self.ns.as_deref() == Some(ns)
    }

    /// The first child with this namespace and name.
    pub fn child(&self, ns: &str, local: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.is(ns, local))
    }

    /// An unqualified attribute, or one qualified with `ns` (some clients
    /// qualify `message-id` and `select` with the base namespace).
    pub fn attr(&self, ns: &str, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|a| a.local == local && (a.ns.is_none() || a.ns.as_deref() == Some(ns)))
            .map(|a| a.value.as_str())
    }

    pub fn text_trimmed(&self) -> &str {
        self.text.trim()
    }

    /// The namespace bound to `prefix` ("" = default) at this element.
    pub fn resolve_prefix(&self, prefix: &str) -> Option<&str> {
        self.scope.resolve(prefix)
    }

    /// The qualified name as written.
    pub fn qname(&self) -> String {
        match &self.prefix {
            Some(p) => format!("{p}:{}", self.local),
            None => self.local.clone(),
        }
    }
}

/// Why a message is not well-formed XML (or uses a refused feature).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError(pub String);

impl std::fmt::Display for XmlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn err<T>(m: impl Into<String>) -> Result<T, XmlError> {
    Err(XmlError(m.into()))
}

/// Parses one document with a single root element.
pub fn parse(text: &str) -> Result<Element, XmlError> {
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let start_pos = reader.buffer_position() as usize;
        let event = reader.read_event().map_err(|e| XmlError(format!("not well-formed XML: {e}")))?;
        let end_pos = reader.buffer_position() as usize;
        match event {
            Event::Start(s) | Event::Empty(s) if root.is_some() => {
                let _ = s;
                return err("content after the root element");
            }
            Event::Start(s) => {
                if stack.len() >= MAX_DEPTH {
                    return err(format!("elements nested deeper than {MAX_DEPTH}"));
                }
                let parent_scope = stack.last().map(|p| p.scope.clone()).unwrap_or_default();
                let mut e = start_element(&s, &parent_scope)?;
                e.span.0 = start_pos;
                e.content = (end_pos, end_pos);
                stack.push(e);
            }
            Event::Empty(s) => {
                let parent_scope = stack.last().map(|p| p.scope.clone()).unwrap_or_default();
                let mut e = start_element(&s, &parent_scope)?;
                e.span = (start_pos, end_pos);
                e.content = (end_pos, end_pos);
                match stack.last_mut() {
                    Some(p) => p.children.push(e),
                    None => root = Some(e),
                }
            }
            Event::End(_) => {
                let Some(mut e) = stack.pop() else {
                    return err("end tag without a start tag");
                };
                e.content.1 = start_pos;
                e.span.1 = end_pos;
                match stack.last_mut() {
                    Some(p) => p.children.push(e),
                    None => root = Some(e),
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content().map_err(|e| XmlError(format!("bad text: {e}")))?;
                push_text(&mut stack, &s)?;
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|e| XmlError(format!("bad CDATA: {e}")))?;
                push_text(&mut stack, &s)?;
            }
            Event::GeneralRef(r) => {
                let s = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => c.to_string(),
                        _ => return err("invalid character reference"),
                    }
                } else {
                    let name = r.decode().map_err(|e| XmlError(format!("bad reference: {e}")))?;
                    match predefined_entity(&name) {
                        Some(c) => c.to_string(),
                        None => return err(format!("undeclared entity &{name};")),
                    }
                };
                push_text(&mut stack, &s)?;
            }
            Event::DocType(_) => return err("DOCTYPE is not allowed in NETCONF messages"),
            Event::Decl(d) => {
                if let Some(Ok(enc)) = d.encoding() {
                    if !enc.eq_ignore_ascii_case(b"utf-8") {
                        return err("only UTF-8 encoded messages are accepted");
                    }
                }
            }
            Event::Comment(_) | Event::PI(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return err("document ends inside an element");
    }
    root.ok_or_else(|| XmlError("no root element".into()))
}

fn push_text(stack: &mut [Element], s: &str) -> Result<(), XmlError> {
    if let Some(c) = s.chars().find(|c| !is_xml_char(*c)) {
        return err(format!("character U+{:04X} is not allowed in XML", c as u32));
    }
    match stack.last_mut() {
        Some(e) => e.text.push_str(s),
        None if s.trim().is_empty() => {}
        None => return err("text outside the root element"),
    }
    Ok(())
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

fn predefined_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        _ => return None,
    })
}

fn start_element(s: &BytesStart<'_>, parent_scope: &Scope) -> Result<Element, XmlError> {
    let raw = std::str::from_utf8(s.name().as_ref())
        .map_err(|_| XmlError("element name is not UTF-8".into()))?
        .to_string();
    let mut attrs = Vec::new();
    let mut own: Vec<(String, String)> = Vec::new();
    for a in s.attributes() {
        let a = a.map_err(|e| XmlError(format!("bad attribute: {e}")))?;
        let name = std::str::from_utf8(a.key.as_ref())
            .map_err(|_| XmlError("attribute name is not UTF-8".into()))?
            .to_string();
        let value: Cow<'_, str> = a
            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
            .map_err(|e| XmlError(format!("bad attribute value: {e}")))?;
        if let Some(c) = value.chars().find(|c| !is_xml_char(*c)) {
            return err(format!("character U+{:04X} is not allowed in XML", c as u32));
        }
        if name == "xmlns" {
            own.push((String::new(), value.to_string()));
        } else if let Some(p) = name.strip_prefix("xmlns:") {
            if value.is_empty() {
                return err(format!("empty namespace for prefix {p}"));
            }
            own.push((p.to_string(), value.to_string()));
        }
        attrs.push(Attr { raw_name: name, ns: None, local: String::new(), value: value.into_owned() });
    }
    let scope = parent_scope.with(own);
    let resolve = |prefix: &str| -> Option<String> {
        if prefix == "xml" {
            return Some(XML_NS.to_string());
        }
        scope.resolve(prefix).filter(|ns| !ns.is_empty()).map(str::to_string)
    };
    for a in &mut attrs {
        if a.is_namespace_declaration() {
            a.ns = Some(XMLNS_NS.to_string());
            a.local = a.raw_name.strip_prefix("xmlns:").unwrap_or("").to_string();
            continue;
        }
        match a.raw_name.split_once(':') {
            Some((p, l)) => {
                a.ns = Some(
                    resolve(p).ok_or_else(|| XmlError(format!("undeclared prefix {p} on attribute {l}")))?,
                );
                a.local = l.to_string();
            }
            None => a.local = a.raw_name.clone(),
        }
    }
    let (prefix, local) = match raw.split_once(':') {
        Some((p, l)) => (Some(p.to_string()), l.to_string()),
        None => (None, raw.clone()),
    };
    let ns = match &prefix {
        Some(p) => {
            Some(resolve(p).ok_or_else(|| XmlError(format!("undeclared prefix {p} on element {local}")))?)
        }
        None => resolve(""),
    };
    Ok(Element { ns, local, prefix, attrs, scope, ..Element::default() })
}

/// The content of `e` (its children, as text) made self-contained for
/// libyang: each top-level child start tag gets the declarations of the
/// prefixes in scope it does not declare itself.
pub fn inner_xml(source: &str, e: &Element) -> String {
    let mut out = String::with_capacity(e.content.1 - e.content.0 + 64);
    let mut pos = e.content.0;
    for c in &e.children {
        // Text between children (whitespace) is kept as it is.
        out.push_str(&source[pos..c.span.0]);
        let tag_name_end = c.span.0 + 1 + c.qname().len();
        out.push_str(&source[c.span.0..tag_name_end]);
        for (p, ns) in inherited(e, c) {
            if p.is_empty() {
                out.push_str(&format!(" xmlns=\"{}\"", crate::error::xml_attr(ns)));
            } else {
                out.push_str(&format!(" xmlns:{p}=\"{}\"", crate::error::xml_attr(ns)));
            }
        }
        out.push_str(&source[tag_name_end..c.span.1]);
        pos = c.span.1;
    }
    out.push_str(&source[pos..e.content.1]);
    out
}

/// Bindings in scope at `parent` that `child` does not redeclare, last
/// binding of each prefix only.
fn inherited<'a>(parent: &'a Element, child: &Element) -> Vec<(&'a str, &'a str)> {
    let mut out: Vec<(&str, &str)> = Vec::new();
    for (p, ns) in parent.scope.iter() {
        if out.iter().any(|(q, _)| *q == p) {
            continue;
        }
        let own = child.attrs.iter().any(|a| {
            a.is_namespace_declaration() && (a.local == p) && (a.raw_name != "xmlns" || p.is_empty())
        });
        if !own {
            out.push((p, ns));
        }
    }
    out.retain(|(p, ns)| !(p.is_empty() && ns.is_empty()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_shared_and_shadowed() {
        // Many declarations on the root, many children: the children share
        // the root's scope instead of each copying it.
        let decls: String = (0..1000).map(|i| format!(" xmlns:p{i}=\"urn:p{i}\"")).collect();
        let doc =
            format!("<r xmlns=\"urn:d\"{decls}>{}<p7:x xmlns:p7=\"urn:other\"/></r>", "<a/>".repeat(3000));
        let root = parse(&doc).unwrap();
        let same = |a: &Scope, b: &Scope| match (&a.0, &b.0) {
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        assert!(root.children[..3000].iter().all(|c| same(&c.scope, &root.scope)));
        assert_eq!(root.children[0].resolve_prefix("p999"), Some("urn:p999"));
        assert_eq!(root.children[0].ns.as_deref(), Some("urn:d"));
        let last = &root.children[3000];
        assert_eq!((last.ns.as_deref(), last.resolve_prefix("p7")), (Some("urn:other"), Some("urn:other")));
        assert_eq!(root.resolve_prefix("p7"), Some("urn:p7"));
        assert_eq!(root.resolve_prefix("nope"), None);
    }

    const BASE: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";

    #[test]
    fn prefixed_rpc_resolves_namespaces() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?><nc:rpc xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0" message-id="urn:uuid:1"><nc:get-config><nc:source><nc:running/></nc:source></nc:get-config></nc:rpc>"#;
        let e = parse(doc).unwrap();
        assert!(e.is(BASE, "rpc"));
        assert_eq!(e.attr(BASE, "message-id"), Some("urn:uuid:1"));
        let op = &e.children[0];
        assert!(op.is(BASE, "get-config"));
        assert!(op.child(BASE, "source").unwrap().child(BASE, "running").is_some());
    }

    #[test]
    fn refusals() {
        for bad in [
            "<!DOCTYPE x [<!ENTITY a \"b\">]><x>&a;</x>",
            "<x>&foo;</x>",
            "<p:x/>",
            "<x><y></x>",
            "<x/><y/>",
            "text<x/>",
            "<x>&#0;</x>",
            "<?xml version=\"1.0\" encoding=\"UTF-16\"?><x/>",
            "<x",
            "",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn text_and_references() {
        let e = parse("<x>a &amp; b &#x41;<![CDATA[<c>]]></x>").unwrap();
        assert_eq!(e.text, "a & b A<c>");
    }

    #[test]
    fn inner_xml_carries_declarations() {
        let doc = r#"<nc:config xmlns:nc="urn:base" xmlns="urn:d"><top><leaf nc:operation="delete"/></top><other xmlns="urn:o"/></nc:config>"#;
        let e = parse(doc).unwrap();
        let inner = inner_xml(doc, &e);
        assert_eq!(
            inner,
            r#"<top xmlns="urn:d" xmlns:nc="urn:base"><leaf nc:operation="delete"/></top><other xmlns:nc="urn:base" xmlns="urn:o"/>"#
        );
        parse(&format!("<w>{inner}</w>")).unwrap();
    }
}
