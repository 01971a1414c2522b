//! The NACM policy (RFC 8341 §3.2, §3.4.4–§3.4.6) as read from the
//! `/ietf-netconf-acm:nacm` container of running: global switches and
//! defaults, groups, and rule lists in order. Pure data and matching; no
//! schema access (see `mod.rs` for that).

use std::collections::{HashMap, HashSet};

use crate::schema::ffi::{self, RawNode};

/// An access operation (the bits of `access-operations-type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Create,
    Read,
    Update,
    Delete,
    Exec,
}

impl Op {
    pub fn bit(self) -> u8 {
        match self {
            Op::Create => 1,
            Op::Read => 2,
            Op::Update => 4,
            Op::Delete => 8,
            Op::Exec => 16,
        }
    }

    pub fn is_write(self) -> bool {
        matches!(self, Op::Create | Op::Update | Op::Delete)
    }

    pub fn name(self) -> &'static str {
        match self {
            Op::Create => "create",
            Op::Read => "read",
            Op::Update => "update",
            Op::Delete => "delete",
            Op::Exec => "exec",
        }
    }
}

const ALL_OPS: u8 = 31;

/// One step of a data path: the node's module (always set: a step without
/// a prefix takes its parent's), its name, and key predicates (`.` for a
/// leaf-list value).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Step {
    pub module: String,
    pub name: String,
    pub keys: Vec<(String, String)>,
}

/// Parses an instance-identifier-like path in JSON prefix form
/// (`/mod:a/b[k='v'][mod:k2="w"]/c`), as libyang prints data paths and
/// NACM `path` values. `/` alone is the empty path (every node). `None`
/// when it is not such a path.
pub fn parse_path(path: &str) -> Option<Vec<Step>> {
    let p = path.trim();
    if p == "/" {
        return Some(Vec::new());
    }
    let b = p.as_bytes();
    let mut i = 0;
    let mut steps: Vec<Step> = Vec::new();
    while i < b.len() {
        if b[i] != b'/' {
            return None;
        }
        i += 1;
        let start = i;
        while i < b.len() && b[i] != b'/' && b[i] != b'[' {
            i += 1;
        }
        let qname = p[start..i].trim();
        let (module, name) = match qname.split_once(':') {
            Some((m, n)) => (m.to_string(), n.to_string()),
            None => (steps.last()?.module.clone(), qname.to_string()),
        };
        if name.is_empty() || module.is_empty() {
            return None;
        }
        let mut keys = Vec::new();
        while i < b.len() && b[i] == b'[' {
            let close_name = p[i..].find('=').map(|k| i + k)?;
            let key = p[i + 1..close_name].trim();
            let key = key.split_once(':').map_or(key, |(_, k)| k).to_string();
            let mut j = close_name + 1;
            while j < b.len() && b[j] == b' ' {
                j += 1;
            }
            let quote = *b.get(j)?;
            if quote != b'\'' && quote != b'"' {
                return None;
            }
            let end = p[j + 1..].find(quote as char).map(|k| j + 1 + k)?;
            let value = p[j + 1..end].to_string();
            let mut k = end + 1;
            while k < b.len() && b[k] == b' ' {
                k += 1;
            }
            if b.get(k) != Some(&b']') {
                return None;
            }
            keys.push((key, value));
            i = k + 1;
        }
        steps.push(Step { module, name, keys });
    }
    Some(steps)
}

/// What a rule applies to (the `rule-type` choice).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Kind {
    /// No rule-type: every request of the matching modules and operations.
    Any,
    /// `rpc-name` (`None`: `*`).
    Rpc(Option<String>),
    /// `notification-name` (`None`: `*`).
    Notification(Option<String>),
    /// `path`: the node it names and its descendants. `None` when the
    /// path could not be read; such a rule matches nothing.
    Data(Option<Vec<Step>>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    pub list: String,
    pub name: String,
    /// `None`: `*`.
    pub module: Option<String>,
    pub kind: Kind,
    pub ops: u8,
    pub permit: bool,
}

impl Rule {
    pub fn applies(&self, op: Op, module: &str) -> bool {
        self.ops & op.bit() != 0 && self.module.as_deref().is_none_or(|m| m == module)
    }
}

/// The whole configured policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub enabled: bool,
    pub read_permit: bool,
    pub write_permit: bool,
    pub exec_permit: bool,
    pub external_groups: bool,
    /// NACM groups: user → groups.
    pub groups: HashMap<String, Vec<String>>,
    /// (groups it applies to, its rules) in order.
    pub lists: Vec<(Vec<String>, Vec<Rule>)>,
}

impl Default for Policy {
    /// RFC 8341's defaults with no configuration at all.
    fn default() -> Self {
        Policy {
            enabled: true,
            read_permit: true,
            write_permit: false,
            exec_permit: true,
            external_groups: true,
            groups: HashMap::new(),
            lists: Vec::new(),
        }
    }
}

/// Leaf children of `node` by name: (name, canonical value).
unsafe fn leaves(node: RawNode) -> Vec<(String, String, RawNode)> {
    let mut out = Vec::new();
    // SAFETY: contract of the caller: `node` is a live node.
    unsafe {
        for c in ffi::children(node) {
            let s = ffi::node_schema(c);
            if s.is_null() {
                continue;
            }
            let name = ffi::schema_name(s);
            let value = ffi::node_value(c).unwrap_or_default();
            out.push((name, value, c));
        }
    }
    out
}

fn parse_ops(v: &str) -> u8 {
    if v.trim() == "*" {
        return ALL_OPS;
    }
    v.split_whitespace()
        .map(|b| match b {
            "create" => Op::Create.bit(),
            "read" => Op::Read.bit(),
            "update" => Op::Update.bit(),
            "delete" => Op::Delete.bit(),
            "exec" => Op::Exec.bit(),
            _ => 0,
        })
        .fold(0, |a, b| a | b)
}

fn star(v: &str) -> Option<String> {
    (v != "*").then(|| v.to_string())
}

impl Policy {
    /// Reads the policy from `nacm` (the `/ietf-netconf-acm:nacm` node of
    /// a running tree), or the defaults when there is none.
    ///
    /// # Safety
    /// `nacm` is NULL or a live node of a tree nobody modifies meanwhile.
    pub unsafe fn from_node(nacm: RawNode) -> Policy {
        let mut p = Policy::default();
        if nacm.is_null() {
            return p;
        }
        // SAFETY: contract; every node visited is below `nacm`.
        unsafe {
            for (name, value, node) in leaves(nacm) {
                match name.as_str() {
                    "enable-nacm" => p.enabled = value == "true",
                    "read-default" => p.read_permit = value == "permit",
                    "write-default" => p.write_permit = value == "permit",
                    "exec-default" => p.exec_permit = value == "permit",
                    "enable-external-groups" => p.external_groups = value == "true",
                    "groups" => {
                        for (_, _, group) in leaves(node) {
                            let fields = leaves(group);
                            let Some(gname) = fields.iter().find(|f| f.0 == "name").map(|f| f.1.clone())
                            else {
                                continue;
                            };
                            for (f, user, _) in &fields {
                                if f == "user-name" {
                                    p.groups.entry(user.clone()).or_default().push(gname.clone());
                                }
                            }
                        }
                    }
                    "rule-list" => p.lists.push(rule_list(node)),
                    _ => {}
                }
            }
        }
        p
    }

    /// The groups `user` is in: NACM's, plus `external` (from the server's
    /// own user config) when enable-external-groups is true.
    pub fn groups_of(&self, user: &str, external: &[String]) -> Vec<String> {
        let mut out: Vec<String> = self.groups.get(user).cloned().unwrap_or_default();
        if self.external_groups {
            out.extend(external.iter().cloned());
        }
        let mut seen = HashSet::new();
        out.retain(|g| seen.insert(g.clone()));
        out
    }

    /// The rules that apply to a member of `groups`, in order (RFC 8341
    /// §3.4.4 steps 6–7: rule lists in order, a list applies when one of its
    /// groups is the user's or `*`).
    /// A user in no group gets no rules, not even those of `*` lists
    /// (§3.4.4 step 5).
    pub fn rules_for(&self, groups: &[String]) -> Vec<Rule> {
        if groups.is_empty() {
            return Vec::new();
        }
        self.lists
            .iter()
            .filter(|(gs, _)| gs.iter().any(|g| g == "*" || groups.contains(g)))
            .flat_map(|(_, rules)| rules.iter().cloned())
            .collect()
    }
}

/// One `rule-list` entry.
unsafe fn rule_list(node: RawNode) -> (Vec<String>, Vec<Rule>) {
    let mut groups = Vec::new();
    let mut rules = Vec::new();
    let mut list_name = String::new();
    // SAFETY: contract of `Policy::from_node`.
    unsafe {
        for (name, value, child) in leaves(node) {
            match name.as_str() {
                "name" => list_name = value,
                "group" => groups.push(value),
                "rule" => rules.push(rule(child)),
                _ => {}
            }
        }
    }
    for r in &mut rules {
        r.list = list_name.clone();
    }
    (groups, rules)
}

unsafe fn rule(node: RawNode) -> Rule {
    let mut r = Rule {
        list: String::new(),
        name: String::new(),
        module: None,
        kind: Kind::Any,
        ops: ALL_OPS,
        permit: false,
    };
    // SAFETY: contract of `Policy::from_node`.
    for (name, value, _) in unsafe { leaves(node) } {
        match name.as_str() {
            "name" => r.name = value,
            "module-name" => r.module = star(&value),
            "rpc-name" => r.kind = Kind::Rpc(star(&value)),
            "notification-name" => r.kind = Kind::Notification(star(&value)),
            "path" => r.kind = Kind::Data(parse_path(&value)),
            "access-operations" => r.ops = parse_ops(&value),
            "action" => r.permit = value == "permit",
            _ => {}
        }
    }
    r
}

/// Whether a data rule's path covers a node with `steps` (the node named,
/// or a descendant of it). `keys` gives the node's key values per step when
/// known; `None` when the rule has predicates and no keys were given (the
/// answer depends on the instance).
pub fn path_covers(rule: &[Step], node: &[Step], keys_known: bool) -> Option<bool> {
    if rule.len() > node.len() {
        return Some(false);
    }
    let mut dynamic = false;
    for (r, n) in rule.iter().zip(node) {
        if r.name != n.name || r.module != n.module {
            return Some(false);
        }
        if !r.keys.is_empty() {
            if !keys_known {
                dynamic = true;
                continue;
            }
            for (k, v) in &r.keys {
                if !n.keys.iter().any(|(nk, nv)| nk == k && nv == v) {
                    return Some(false);
                }
            }
        }
    }
    if dynamic {
        None
    } else {
        Some(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let s = parse_path("/ietf-interfaces:interfaces/interface[name='eth0']/mtu").unwrap();
        assert_eq!(s.len(), 3);
        assert_eq!(s[1].module, "ietf-interfaces");
        assert_eq!(s[1].keys, vec![("name".to_string(), "eth0".to_string())]);
        let s = parse_path("/a:x[a:k=\"v'1\"][j = 'w']/b:y").unwrap();
        assert_eq!(s[0].keys, vec![("k".into(), "v'1".into()), ("j".into(), "w".into())]);
        assert_eq!(s[1].module, "b");
        assert_eq!(parse_path("/").unwrap(), Vec::new());
        assert!(parse_path("x").is_none());
        assert!(parse_path("/y").is_none());
        assert!(parse_path("/a:x[k=v]").is_none());
    }

    #[test]
    fn coverage() {
        let rule = parse_path("/m:a/b[k='1']").unwrap();
        let node = parse_path("/m:a/b[k='1']/c").unwrap();
        let other = parse_path("/m:a/b[k='2']/c").unwrap();
        assert_eq!(path_covers(&rule, &node, true), Some(true));
        assert_eq!(path_covers(&rule, &other, true), Some(false));
        assert_eq!(path_covers(&rule, &other, false), None);
        assert_eq!(path_covers(&rule, &parse_path("/m:a").unwrap(), true), Some(false));
        assert_eq!(path_covers(&[], &node, false), Some(true));
    }

    #[test]
    fn ops() {
        assert_eq!(parse_ops("*"), ALL_OPS);
        assert_eq!(parse_ops("read exec"), Op::Read.bit() | Op::Exec.bit());
    }
}
