//! Mechanical, collision-safe Rust names for YANG identifiers.

use std::collections::HashSet;

use proc_macro2::{Ident, Span};

const KEYWORDS: &[&str] = &[
    "as", "async", "await", "break", "const", "continue", "dyn", "else", "enum", "false", "fn", "for", "if",
    "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return", "static", "struct",
    "trait", "true", "type", "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final",
    "gen", "macro", "override", "priv", "try", "typeof", "unsized", "virtual", "yield", "extern",
];
/// Keywords that cannot be raw identifiers: these get a trailing `_`.
const RESERVED: &[&str] = &["self", "Self", "super", "crate", "_"];

/// `ipv4-address` → `ipv4_address`.
pub fn snake(name: &str) -> String {
    let mut s: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '_' }).collect();
    if s.starts_with(|c: char| c.is_ascii_digit()) || s.is_empty() {
        s.insert(0, '_');
    }
    s
}

/// `ipv4-address` → `Ipv4Address`; `10GE` → `V10GE`.
pub fn camel(name: &str) -> String {
    let mut s = String::new();
    for part in name.split(|c: char| !c.is_ascii_alphanumeric()).filter(|p| !p.is_empty()) {
        let mut chars = part.chars();
        if let Some(first) = chars.next() {
            s.push(first.to_ascii_uppercase());
            s.extend(chars);
        }
    }
    if s.is_empty() || s.starts_with(|c: char| c.is_ascii_digit()) {
        s.insert(0, 'V');
    }
    s
}

/// `SHOUTING_CASE` for constants.
pub fn shout(name: &str) -> String {
    snake(name).trim_start_matches('_').to_ascii_uppercase()
}

/// An identifier token, raw where it is a keyword.
pub fn ident(name: &str) -> Ident {
    if RESERVED.contains(&name) {
        Ident::new(&format!("{name}_"), Span::call_site())
    } else if KEYWORDS.contains(&name) {
        Ident::new_raw(name, Span::call_site())
    } else {
        Ident::new(name, Span::call_site())
    }
}

/// Names taken in one Rust scope; a second claim of a name gets `_2`, `_3`…
#[derive(Default)]
pub struct Scope {
    taken: HashSet<String>,
}

impl Scope {
    pub fn with(reserved: &[&str]) -> Scope {
        Scope { taken: reserved.iter().map(|s| s.to_string()).collect() }
    }

    /// A scope for type names: the std names generated code uses are
    /// taken, so a YANG `result` container never shadows `Result`.
    pub fn types() -> Scope {
        Scope::with(&["Option", "Result", "String", "Vec", "Default", "From", "Into", "Self"])
    }

    pub fn claim(&mut self, want: String) -> String {
        if self.taken.insert(want.clone()) {
            return want;
        }
        let mut i = 2;
        loop {
            let candidate = if want.ends_with(|c: char| c.is_ascii_digit()) {
                format!("{want}_{i}")
            } else {
                format!("{want}{i}")
            };
            if self.taken.insert(candidate.clone()) {
                return candidate;
            }
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(snake("ipv4-address"), "ipv4_address");
        assert_eq!(camel("ipv4-address"), "Ipv4Address");
        assert_eq!(camel("10GE"), "V10GE");
        assert_eq!(camel("a.b_c"), "ABC");
        assert_eq!(ident("type").to_string(), "r#type");
        assert_eq!(ident("self").to_string(), "self_");
        let mut s = Scope::default();
        assert_eq!(s.claim("Foo".into()), "Foo");
        assert_eq!(s.claim("Foo".into()), "Foo2");
        assert_eq!(s.claim("V1".into()), "V1");
        assert_eq!(s.claim("V1".into()), "V1_2");
    }
}
