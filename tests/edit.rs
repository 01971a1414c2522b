//! RFC 6241 §7.2 edit semantics (`occd::datastore::edit`): every operation
//! on every kind of node, present and absent, insert positions, default
//! operations, attribute errors, and atomicity. Every edit is applied both
//! ways the datastore does it, copying from the edit and moving out of it
//! (`apply_edits_consuming`), and both must agree node for node.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use occd::datastore::edit::{self, parse_edit, Change, DefaultOperation, Position};
use occd::error::{Error, ErrorTag, ErrorType};
use occd::schema::Schema;
use yang3::data::{Data, DataFormat, DataParserFlags, DataPrinterFlags, DataTree, DataValidationFlags};

const MODULE: &str = r#"
module ed {
  yang-version 1.1;
  namespace "urn:example:ed";
  prefix ed;
  container c {
    leaf a { type string; }
    leaf b { type string; }
    leaf d { type string; default "dflt"; }
    container inner { leaf x { type string; } }
    container p {
      presence "on";
      leaf y { type string; }
      choice pc { leaf pa { type string; } leaf pb { type string; } }
      list pl { key "k"; ordered-by user; leaf k { type string; } leaf-list s { type string; } }
    }
    list l {
      key "k";
      leaf k { type string; }
      leaf v { type string; }
    }
    list m {
      key "k1 k2";
      leaf k1 { type string; }
      leaf k2 { type uint8; }
      leaf v { type string; }
    }
    leaf-list ll { type string; }
    list ul {
      key "k";
      ordered-by user;
      leaf k { type string; }
      leaf v { type string; }
    }
    leaf-list ull { type string; ordered-by user; }
    choice ch {
      case one { leaf one-a { type string; } leaf one-b { type string; } }
      case two { leaf two-a { type string; } }
      case three { container np3 { leaf z { type string; } } }
    }
  }
  leaf top { type string; }
  container t {
    leaf n { type uint32; }
    leaf en { type enumeration { enum x; enum y; } }
    leaf flag { type empty; }
    leaf-list nl { type uint8; }
  }
  leaf tn { type int8; }
}
"#;

const NC: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
const YANG: &str = "urn:ietf:params:xml:ns:yang:1";

fn schema() -> (Schema, tempfile::TempDir) {
    common::schema_with(&[("ed", MODULE)], true)
}

/// The start datastore: every kind of node present once.
const BASE: &str = r#"{"ed:c":{"a":"A","inner":{"x":"X"},"p":{"y":"Y"},
  "l":[{"k":"k1","v":"v1"},{"k":"k2","v":"v2"}],
  "m":[{"k1":"a","k2":1,"v":"m1"}],
  "ll":["x","y"],
  "ul":[{"k":"u1"},{"k":"u2"},{"k":"u3"}],
  "ull":["p","q","r"],"one-a":"1"}}"#;

fn load<'a>(s: &'a Schema, json: &str) -> DataTree<'a> {
    DataTree::parse_string(
        s.context(),
        json,
        DataFormat::JSON,
        DataParserFlags::NO_VALIDATION | DataParserFlags::STRICT,
        DataValidationFlags::empty(),
    )
    .unwrap()
}

/// `edit::apply_edit`, checked against the consuming form: a copy of
/// `target` edited with a copy of `edit` by `apply_edits_consuming` must
/// give the same result and the same tree (LYB: values, order and flags).
fn apply_edit(
    target: &mut DataTree<'_>,
    e: &DataTree<'_>,
    dflt: DefaultOperation,
) -> Result<Vec<Change>, Error> {
    let mut other = target.duplicate().unwrap();
    let mut owned = vec![(e.duplicate().unwrap(), dflt)];
    let r = edit::apply_edit(target, e, dflt);
    let r2 = edit::apply_edits_consuming(&mut other, &mut owned, &|_, _| Ok(())).map_err(|(_, e)| e);
    assert_eq!(format!("{r:?}"), format!("{r2:?}"), "copying and moving edits disagree");
    assert_eq!(json(target), json(&other), "copying and moving edits made different trees");
    assert!(lyb(target) == lyb(&other), "copying and moving edits made different flags");
    r
}

fn lyb(t: &DataTree<'_>) -> Vec<u8> {
    t.print_bytes(DataFormat::LYB, DataPrinterFlags::WITH_SIBLINGS).unwrap()
}

fn json(t: &DataTree<'_>) -> String {
    let s =
        t.print_string(DataFormat::JSON, DataPrinterFlags::WITH_SIBLINGS | DataPrinterFlags::SHRINK).unwrap();
    s.trim().to_string()
}

/// Canonical print of a JSON document (through libyang).
fn canon(s: &Schema, doc: &str) -> String {
    json(&load(s, doc))
}

/// `<c xmlns=...>` wrapper with nc/yang prefixes declared.
fn c(body: &str) -> String {
    format!(
        r#"<c xmlns="urn:example:ed" xmlns:nc="{NC}" xmlns:yang="{YANG}" xmlns:ed="urn:example:ed">{body}</c>"#
    )
}

enum Expect<'e> {
    /// The resulting tree, as a JSON document with BASE's content edited
    /// (written out in full).
    Tree(&'e str),
    /// No change at all.
    Same,
    Err(ErrorTag, &'e str),
}

fn check(s: &Schema, name: &str, base: &str, xml: &str, dflt: DefaultOperation, expect: Expect<'_>) {
    let mut target = load(s, base);
    let before = json(&target);
    let edit = parse_edit(s.context(), xml).unwrap_or_else(|e| panic!("{name}: parse: {e:?}"));
    let r = apply_edit(&mut target, &edit, dflt);
    let after = json(&target);
    match expect {
        Expect::Tree(want) => {
            assert!(r.is_ok(), "{name}: {r:?}");
            assert_eq!(after, canon(s, want), "{name}");
        }
        Expect::Same => {
            assert!(r.is_ok(), "{name}: {r:?}");
            assert_eq!(after, before, "{name}");
        }
        Expect::Err(tag, path) => {
            let e = r.expect_err(name);
            assert_eq!(e.tag, tag, "{name}: {e:?}");
            assert_eq!(e.path.as_deref(), Some(path), "{name}: {e:?}");
            assert_eq!(after, before, "{name}: target changed on error");
        }
    }
}

const ALL_OPS: [&str; 5] = ["merge", "replace", "create", "delete", "remove"];

/// Every operation × (exists, missing) × kind of node.
#[test]
fn operation_matrix() {
    let (s, _d) = schema();
    let base = BASE;
    // (kind, element present in BASE, element missing from BASE,
    //  path present, path missing,
    //  BASE with the present one deleted, BASE with the missing one added,
    //  BASE with the present one merged / replaced)
    struct Case<'a> {
        kind: &'a str,
        present: &'a str,
        missing: &'a str,
        p_path: &'a str,
        m_path: &'a str,
        deleted: &'a str,
        added: &'a str,
        merged: &'a str,
        replaced: &'a str,
    }
    let b = |from: &str, to: &str| -> String {
        assert!(BASE.contains(from), "{from}");
        BASE.replacen(from, to, 1)
    };
    let leaf_del = b(r#""a":"A","#, "");
    let leaf_add = b(r#""a":"A","#, r#""a":"A","b":"B","#);
    let leaf_set = b(r#""a":"A","#, r#""a":"Z","#);
    let inner_del = b(r#""inner":{"x":"X"},"#, "");
    let p_del = b(r#""p":{"y":"Y"},"#, "");
    let inner_merge = b(r#""inner":{"x":"X"},"#, r#""inner":{"x":"X2"},"#);
    let l_del = b(r#"{"k":"k1","v":"v1"},"#, "");
    let l_add = b(r#"{"k":"k2","v":"v2"}"#, r#"{"k":"k2","v":"v2"},{"k":"k3","v":"v3"}"#);
    let l_merge = b(r#"{"k":"k1","v":"v1"}"#, r#"{"k":"k1","v":"n"}"#);
    let m_del = b(r#""m":[{"k1":"a","k2":1,"v":"m1"}],"#, "");
    let m_add = b(r#"{"k1":"a","k2":1,"v":"m1"}"#, r#"{"k1":"a","k2":1,"v":"m1"},{"k1":"a","k2":2}"#);
    let m_merge = b(r#"{"k1":"a","k2":1,"v":"m1"}"#, r#"{"k1":"a","k2":1,"v":"n"}"#);
    let m_repl = b(r#"{"k1":"a","k2":1,"v":"m1"}"#, r#"{"k1":"a","k2":1}"#);
    let ll_del = b(r#""ll":["x","y"]"#, r#""ll":["y"]"#);
    let ll_add = b(r#""ll":["x","y"]"#, r#""ll":["x","y","z"]"#);
    let ch_del = b(r#","one-a":"1""#, "");
    let ch_add = b(r#","one-a":"1""#, r#","two-a":"2""#);
    let ch_set = b(r#","one-a":"1""#, r#","one-a":"9""#);
    let cases = [
        Case {
            kind: "leaf",
            present: "<a>Z</a>",
            missing: "<b>B</b>",
            p_path: "/ed:c/a",
            m_path: "/ed:c/b",
            deleted: &leaf_del,
            added: &leaf_add,
            merged: &leaf_set,
            replaced: &leaf_set,
        },
        Case {
            kind: "container",
            present: "<inner><x>X2</x></inner>",
            missing: "",
            p_path: "/ed:c/inner",
            m_path: "",
            deleted: &inner_del,
            added: "",
            merged: &inner_merge,
            replaced: &inner_merge,
        },
        Case {
            kind: "presence container",
            present: "<p/>",
            missing: "",
            p_path: "/ed:c/p",
            m_path: "",
            deleted: &p_del,
            added: "",
            merged: BASE,
            replaced: &b(r#""p":{"y":"Y"}"#, r#""p":{}"#),
        },
        Case {
            kind: "list entry",
            present: "<l><k>k1</k><v>n</v></l>",
            missing: "<l><k>k3</k><v>v3</v></l>",
            p_path: "/ed:c/l[k='k1']",
            m_path: "/ed:c/l[k='k3']",
            deleted: &l_del,
            added: &l_add,
            merged: &l_merge,
            replaced: &l_merge,
        },
        Case {
            kind: "multi-key list entry",
            present: "<m><k1>a</k1><k2>1</k2><v>n</v></m>",
            missing: "<m><k1>a</k1><k2>2</k2></m>",
            p_path: "/ed:c/m[k1='a'][k2='1']",
            m_path: "/ed:c/m[k1='a'][k2='2']",
            deleted: &m_del,
            added: &m_add,
            merged: &m_merge,
            replaced: &m_merge,
        },
        Case {
            kind: "leaf-list entry",
            present: "<ll>x</ll>",
            missing: "<ll>z</ll>",
            p_path: "/ed:c/ll[.='x']",
            m_path: "/ed:c/ll[.='z']",
            deleted: &ll_del,
            added: &ll_add,
            merged: BASE,
            replaced: BASE,
        },
        Case {
            kind: "choice case",
            present: "<one-a>9</one-a>",
            missing: "<two-a>2</two-a>",
            p_path: "/ed:c/one-a",
            m_path: "/ed:c/two-a",
            deleted: &ch_del,
            added: &ch_add,
            merged: &ch_set,
            replaced: &ch_set,
        },
    ];
    let _ = m_repl;
    let with_op = |elem: &str, op: &str| -> String {
        // put the attribute on the element's start tag
        let close = elem.find(['>', '/']).unwrap();
        format!(r#"{} nc:operation="{op}"{}"#, &elem[..close], &elem[close..])
    };
    for case in &cases {
        for op in ALL_OPS {
            let name = format!("{} {op} present", case.kind);
            let xml = c(&with_op(case.present, op));
            let expect = match op {
                "merge" => Expect::Tree(case.merged),
                "replace" => Expect::Tree(case.replaced),
                "create" => Expect::Err(ErrorTag::DataExists, case.p_path),
                _ => Expect::Tree(case.deleted),
            };
            check(&s, &name, base, &xml, DefaultOperation::Merge, expect);
            if case.missing.is_empty() {
                continue;
            }
            let name = format!("{} {op} missing", case.kind);
            let xml = c(&with_op(case.missing, op));
            let expect = match op {
                "delete" => Expect::Err(ErrorTag::DataMissing, case.m_path),
                "remove" => Expect::Same,
                _ => Expect::Tree(case.added),
            };
            check(&s, &name, base, &xml, DefaultOperation::Merge, expect);
        }
    }
    // Containers missing: from a tree without them.
    let no_inner = b(r#""inner":{"x":"X"},"p":{"y":"Y"},"#, "");
    for (elem, path, added) in [
        ("<inner><x>N</x></inner>", "/ed:c/inner", b(r#""inner":{"x":"X"}"#, r#""inner":{"x":"N"}"#)),
        ("<p><y>N</y></p>", "/ed:c/p", b(r#""p":{"y":"Y"}"#, r#""p":{"y":"N"}"#)),
    ] {
        let added = added.replacen(r#""inner":{"x":"X"},"#, "", if elem.starts_with("<p") { 1 } else { 0 });
        let added = added.replacen(r#""p":{"y":"Y"},"#, "", if elem.starts_with("<inner") { 1 } else { 0 });
        for op in ALL_OPS {
            let name = format!("{elem} {op} missing");
            let xml = c(&with_op(elem, op));
            let expect = match op {
                "delete" => Expect::Err(ErrorTag::DataMissing, path),
                "remove" => Expect::Same,
                _ => Expect::Tree(&added),
            };
            check(&s, &name, &no_inner, &xml, DefaultOperation::Merge, expect);
        }
    }
}

#[test]
fn replace_container_deletes_what_it_does_not_name() {
    let (s, _d) = schema();
    check(
        &s,
        "replace c",
        BASE,
        &format!(
            r#"<c xmlns="urn:example:ed" xmlns:nc="{NC}" nc:operation="replace"><a>A</a><ll>y</ll></c>"#
        ),
        DefaultOperation::Merge,
        Expect::Tree(r#"{"ed:c":{"a":"A","ll":["y"]}}"#),
    );
    check(
        &s,
        "default-operation replace",
        BASE,
        &c("<l><k>k1</k></l>"),
        DefaultOperation::Replace,
        Expect::Tree(r#"{"ed:c":{"l":[{"k":"k1"}]}}"#),
    );
}

#[test]
fn default_operation_none() {
    let (s, _d) = schema();
    let none = DefaultOperation::None;
    check(&s, "none leaf ignored", BASE, &c("<a>Z</a>"), none, Expect::Same);
    check(&s, "none missing leaf", BASE, &c("<b>Z</b>"), none, Expect::Err(ErrorTag::DataMissing, "/ed:c/b"));
    check(
        &s,
        "none missing entry",
        BASE,
        &c("<l><k>k9</k><v>z</v></l>"),
        none,
        Expect::Err(ErrorTag::DataMissing, "/ed:c/l[k='k9']"),
    );
    check(
        &s,
        "none walk to entry, merge below",
        BASE,
        &c(r#"<l><k>k1</k><v nc:operation="merge">z</v></l>"#),
        none,
        Expect::Tree(&BASE.replacen(r#""v":"v1""#, r#""v":"z""#, 1)),
    );
    check(
        &s,
        "none, delete below",
        BASE,
        &c(r#"<l nc:operation="delete"><k>k2</k></l>"#),
        none,
        Expect::Tree(&BASE.replacen(r#",{"k":"k2","v":"v2"}"#, "", 1)),
    );
    // Non-presence container missing: walked into; empty: created.
    check(
        &s,
        "none into absent NP container",
        "{}",
        &c(r#"<a nc:operation="create">N</a>"#),
        none,
        Expect::Tree(r#"{"ed:c":{"a":"N"}}"#),
    );
    check(
        &s,
        "none into absent NP container, nothing",
        "{}",
        &c("<inner><x>1</x></inner>"),
        none,
        Expect::Err(ErrorTag::DataMissing, "/ed:c/inner/x"),
    );
    check(
        &s,
        "none presence container missing",
        "{}",
        &c("<p/>"),
        none,
        Expect::Err(ErrorTag::DataMissing, "/ed:c/p"),
    );
}

#[test]
fn inheritance_and_nesting() {
    let (s, _d) = schema();
    // delete inherited by nothing (not walked), create inherited: children
    check(
        &s,
        "create subtree",
        "{}",
        &format!(
            r#"<c xmlns="urn:example:ed" xmlns:nc="{NC}" nc:operation="create"><a>1</a><l><k>x</k></l></c>"#
        ),
        DefaultOperation::Merge,
        Expect::Tree(r#"{"ed:c":{"a":"1","l":[{"k":"x"}]}}"#),
    );
    check(
        &s,
        "create with delete below",
        "{}",
        &format!(
            r#"<c xmlns="urn:example:ed" xmlns:nc="{NC}" nc:operation="create"><a nc:operation="delete">1</a></c>"#
        ),
        DefaultOperation::Merge,
        Expect::Err(ErrorTag::DataMissing, "/ed:c/a"),
    );
    check(
        &s,
        "merge overridden by create on existing",
        BASE,
        &c(r#"<b>1</b><a nc:operation="create">2</a>"#),
        DefaultOperation::Merge,
        Expect::Err(ErrorTag::DataExists, "/ed:c/a"),
    );
}

/// What the datastore moves out of an edit instead of copying it (a created
/// subtree of nothing but data) and what it must not (repeats, choices,
/// attributes inside): the same results as copying, checked by
/// `apply_edit` for each, and the expected trees here.
#[test]
fn created_subtrees_moved_or_walked() {
    let (s, _d) = schema();
    let no_p = r#"{"ed:c":{"a":"A","l":[{"k":"k1","v":"v1"}]}}"#;
    let cases: [(&str, String, DefaultOperation, &str); 8] = [
        (
            "plain entries and a presence container with a user-ordered list",
            c("<l><k>k2</k><v>v2</v></l><l><k>k3</k></l>\
               <p><y>Y</y><pl><k>z</k><s>2</s><s>1</s></pl><pl><k>a</k></pl></p>"),
            DefaultOperation::Merge,
            r#"{"ed:c":{"a":"A","l":[{"k":"k1","v":"v1"},{"k":"k2","v":"v2"},{"k":"k3"}],
               "p":{"y":"Y","pl":[{"k":"z","s":["2","1"]},{"k":"a"}]}}}"#,
        ),
        (
            "a leaf repeated in a created entry is merged",
            c("<l><k>k2</k><v>1</v><v>2</v></l>"),
            DefaultOperation::Merge,
            r#"{"ed:c":{"a":"A","l":[{"k":"k1","v":"v1"},{"k":"k2","v":"2"}]}}"#,
        ),
        (
            "an entry repeated in a created container is merged",
            c("<p><pl><k>x</k><s>1</s></pl><pl><k>x</k><s>2</s></pl></p>"),
            DefaultOperation::Merge,
            r#"{"ed:c":{"a":"A","l":[{"k":"k1","v":"v1"}],"p":{"pl":[{"k":"x","s":["1","2"]}]}}}"#,
        ),
        (
            "a repeated entry on the created level is merged into the moved one",
            c("<l><k>k2</k><v>1</v></l><l><k>k2</k><v>2</v></l>"),
            DefaultOperation::Merge,
            r#"{"ed:c":{"a":"A","l":[{"k":"k1","v":"v1"},{"k":"k2","v":"2"}]}}"#,
        ),
        (
            "two cases in a created container: the last one wins",
            c("<p><pa>1</pa><pb>2</pb></p>"),
            DefaultOperation::Merge,
            r#"{"ed:c":{"a":"A","l":[{"k":"k1","v":"v1"}],"p":{"pb":"2"}}}"#,
        ),
        (
            "an operation inside a created subtree",
            c(r#"<p><y nc:operation="remove"/><pl><k>x</k><s nc:operation="create">1</s></pl></p>"#),
            DefaultOperation::Merge,
            r#"{"ed:c":{"a":"A","l":[{"k":"k1","v":"v1"}],"p":{"pl":[{"k":"x","s":["1"]}]}}}"#,
        ),
        (
            "replace of an existing container keeps what it created",
            c(r#"<l nc:operation="replace"><k>k1</k><v>v1</v></l><p nc:operation="replace"><y>1</y></p>"#)
                .replacen("<c ", r#"<c nc:operation="replace" "#, 1),
            DefaultOperation::Merge,
            r#"{"ed:c":{"l":[{"k":"k1","v":"v1"}],"p":{"y":"1"}}}"#,
        ),
        (
            "default-operation replace",
            c("<a>A</a><l><k>k9</k><v>9</v></l><p><pl><k>q</k></pl></p>"),
            DefaultOperation::Replace,
            r#"{"ed:c":{"a":"A","l":[{"k":"k9","v":"9"}],"p":{"pl":[{"k":"q"}]}}}"#,
        ),
    ];
    for (name, xml, dflt, want) in cases {
        check(&s, name, no_p, &xml, dflt, Expect::Tree(want));
    }
    // A failed edit after a move leaves the target as it was.
    check(
        &s,
        "moved then failed",
        no_p,
        &c(r#"<p><y>Y</y></p><l><k>k9</k></l><a nc:operation="create">B</a>"#),
        DefaultOperation::Merge,
        Expect::Err(ErrorTag::DataExists, "/ed:c/a"),
    );
}

#[test]
fn choice_case_switch() {
    let (s, _d) = schema();
    let base = r#"{"ed:c":{"one-a":"1","one-b":"2"}}"#;
    let mut t = load(&s, base);
    let edit = parse_edit(s.context(), &c("<two-a>x</two-a>")).unwrap();
    let ch = apply_edit(&mut t, &edit, DefaultOperation::Merge).unwrap();
    assert_eq!(json(&t), canon(&s, r#"{"ed:c":{"two-a":"x"}}"#));
    assert_eq!(
        ch,
        vec![
            Change::Deleted { path: "/ed:c/one-a".into(), value: Some("1".into()) },
            Change::Deleted { path: "/ed:c/one-b".into(), value: Some("2".into()) },
            Change::Created { path: "/ed:c/two-a".into(), value: Some("x".into()), position: None },
        ]
    );
    check(
        &s,
        "same case kept",
        base,
        &c("<one-b>3</one-b>"),
        DefaultOperation::Merge,
        Expect::Tree(r#"{"ed:c":{"one-a":"1","one-b":"3"}}"#),
    );
}

#[test]
fn insert_positions() {
    let (s, _d) = schema();
    let m = DefaultOperation::Merge;
    let ul = |keys: &[&str]| {
        let entries: Vec<String> = keys.iter().map(|k| format!(r#"{{"k":"{k}"}}"#)).collect();
        BASE.replacen(r#"{"k":"u1"},{"k":"u2"},{"k":"u3"}"#, &entries.join(","), 1)
    };
    let ull = |vals: &[&str]| {
        let v: Vec<String> = vals.iter().map(|v| format!("\"{v}\"")).collect();
        BASE.replacen(r#"["p","q","r"]"#, &format!("[{}]", v.join(",")), 1)
    };
    type Row = (String, String, Result<String, (ErrorTag, &'static str)>);
    let table: Vec<Row> = vec![
        ("list new default".into(), c("<ul><k>n</k></ul>"), Ok(ul(&["u1", "u2", "u3", "n"]))),
        (
            "list new first".into(),
            c(r#"<ul yang:insert="first"><k>n</k></ul>"#),
            Ok(ul(&["n", "u1", "u2", "u3"])),
        ),
        (
            "list new last".into(),
            c(r#"<ul yang:insert="last"><k>n</k></ul>"#),
            Ok(ul(&["u1", "u2", "u3", "n"])),
        ),
        (
            "list new before".into(),
            c(r#"<ul yang:insert="before" yang:key="[k='u2']"><k>n</k></ul>"#),
            Ok(ul(&["u1", "n", "u2", "u3"])),
        ),
        (
            "list new after".into(),
            c(r#"<ul yang:insert="after" yang:key="[ed:k='u2']"><k>n</k></ul>"#),
            Ok(ul(&["u1", "u2", "n", "u3"])),
        ),
        (
            "list move first".into(),
            c(r#"<ul yang:insert="first"><k>u3</k></ul>"#),
            Ok(ul(&["u3", "u1", "u2"])),
        ),
        ("list move last".into(), c(r#"<ul yang:insert="last"><k>u1</k></ul>"#), Ok(ul(&["u2", "u3", "u1"]))),
        (
            "list move before".into(),
            c(r#"<ul yang:insert="before" yang:key="[k='u1']"><k>u3</k></ul>"#),
            Ok(ul(&["u3", "u1", "u2"])),
        ),
        (
            "list move after".into(),
            c(r#"<ul yang:insert="after" yang:key="[k='u3']"><k>u1</k></ul>"#),
            Ok(ul(&["u2", "u3", "u1"])),
        ),
        (
            "list before missing anchor".into(),
            c(r#"<ul yang:insert="before" yang:key="[k='zz']"><k>n</k></ul>"#),
            Err((ErrorTag::BadAttribute, "/ed:c/ul[k='n']")),
        ),
        (
            "list after missing anchor".into(),
            c(r#"<ul yang:insert="after" yang:key="[k='zz']"><k>u1</k></ul>"#),
            Err((ErrorTag::BadAttribute, "/ed:c/ul[k='u1']")),
        ),
        (
            "list after without key".into(),
            c(r#"<ul yang:insert="after"><k>n</k></ul>"#),
            Err((ErrorTag::MissingAttribute, "/ed:c/ul[k='n']")),
        ),
        ("leaf-list new default".into(), c("<ull>n</ull>"), Ok(ull(&["p", "q", "r", "n"]))),
        (
            "leaf-list new first".into(),
            c(r#"<ull yang:insert="first">n</ull>"#),
            Ok(ull(&["n", "p", "q", "r"])),
        ),
        (
            "leaf-list new last".into(),
            c(r#"<ull yang:insert="last">n</ull>"#),
            Ok(ull(&["p", "q", "r", "n"])),
        ),
        (
            "leaf-list new before".into(),
            c(r#"<ull yang:insert="before" yang:value="q">n</ull>"#),
            Ok(ull(&["p", "n", "q", "r"])),
        ),
        (
            "leaf-list new after".into(),
            c(r#"<ull yang:insert="after" yang:value="q">n</ull>"#),
            Ok(ull(&["p", "q", "n", "r"])),
        ),
        ("leaf-list move first".into(), c(r#"<ull yang:insert="first">r</ull>"#), Ok(ull(&["r", "p", "q"]))),
        ("leaf-list move last".into(), c(r#"<ull yang:insert="last">p</ull>"#), Ok(ull(&["q", "r", "p"]))),
        (
            "leaf-list move before".into(),
            c(r#"<ull yang:insert="before" yang:value="p">r</ull>"#),
            Ok(ull(&["r", "p", "q"])),
        ),
        (
            "leaf-list move after".into(),
            c(r#"<ull yang:insert="after" yang:value="r">p</ull>"#),
            Ok(ull(&["q", "r", "p"])),
        ),
        (
            "leaf-list before missing anchor".into(),
            c(r#"<ull yang:insert="before" yang:value="zz">n</ull>"#),
            Err((ErrorTag::BadAttribute, "/ed:c/ull[.='n']")),
        ),
        (
            "leaf-list after missing anchor".into(),
            c(r#"<ull yang:insert="after" yang:value="zz">n</ull>"#),
            Err((ErrorTag::BadAttribute, "/ed:c/ull[.='n']")),
        ),
        (
            "insert on ordered-by system".into(),
            c(r#"<ll yang:insert="first">n</ll>"#),
            Err((ErrorTag::BadAttribute, "/ed:c/ll[.='n']")),
        ),
    ];
    for (name, xml, want) in table {
        let exp = match &want {
            Ok(tree) => Expect::Tree(tree),
            Err((tag, path)) => Expect::Err(*tag, path),
        };
        check(&s, &name, BASE, &xml, m, exp);
    }
    // missing-instance app tag
    let mut t = load(&s, BASE);
    let e =
        parse_edit(s.context(), &c(r#"<ul yang:insert="before" yang:key="[k='zz']"><k>n</k></ul>"#)).unwrap();
    let err = apply_edit(&mut t, &e, m).unwrap_err();
    assert_eq!(err.app_tag.as_deref(), Some("missing-instance"));
    // moves and positions reported
    let mut t = load(&s, BASE);
    let e = parse_edit(
        s.context(),
        &c(r#"<ul yang:insert="after" yang:key="[k='u3']"><k>u1</k></ul><ull yang:insert="first">n</ull>"#),
    )
    .unwrap();
    let ch = apply_edit(&mut t, &e, m).unwrap();
    assert_eq!(
        ch,
        vec![
            Change::Moved {
                path: "/ed:c/ul[k='u1']".into(),
                position: Position::After("/ed:c/ul[k='u3']".into())
            },
            Change::Created {
                path: "/ed:c/ull[.='n']".into(),
                value: Some("n".into()),
                position: Some(Position::First)
            },
        ]
    );
}

#[test]
fn error_in_the_middle_leaves_target_unchanged() {
    let (s, _d) = schema();
    // Many kinds of change first, then an error.
    let xml = c(r#"<a>Z</a><b>new</b><inner nc:operation="delete"/><l nc:operation="delete"><k>k1</k></l>
        <ul yang:insert="first"><k>u3</k></ul><ull yang:insert="before" yang:value="p">n</ull>
        <two-a>2</two-a><ll nc:operation="create">x</ll>"#);
    check(
        &s,
        "rollback",
        BASE,
        &xml,
        DefaultOperation::Merge,
        Expect::Err(ErrorTag::DataExists, "/ed:c/ll[.='x']"),
    );
    // top-level nodes too
    let base = r#"{"ed:c":{"a":"A"},"ed:top":"T"}"#;
    let xml = format!(
        r#"<c xmlns="urn:example:ed" xmlns:nc="{NC}" nc:operation="delete"/><top xmlns="urn:example:ed" xmlns:nc="{NC}" nc:operation="create">T</top>"#
    );
    check(
        &s,
        "rollback top",
        base,
        &xml,
        DefaultOperation::Merge,
        Expect::Err(ErrorTag::DataExists, "/ed:top"),
    );
    let xml = format!(
        r#"<c xmlns="urn:example:ed" xmlns:nc="{NC}" nc:operation="delete"/><top xmlns="urn:example:ed">U</top>"#
    );
    check(
        &s,
        "delete first top-level",
        base,
        &xml,
        DefaultOperation::Merge,
        Expect::Tree(r#"{"ed:top":"U"}"#),
    );
    let xml = format!(
        r#"<c xmlns="urn:example:ed" xmlns:nc="{NC}" nc:operation="delete"/><top xmlns="urn:example:ed" xmlns:nc="{NC}" nc:operation="delete"/>"#
    );
    check(&s, "delete everything", base, &xml, DefaultOperation::Merge, Expect::Tree("{}"));
    check(
        &s,
        "create into empty",
        "{}",
        r#"<top xmlns="urn:example:ed">U</top>"#,
        DefaultOperation::Merge,
        Expect::Tree(r#"{"ed:top":"U"}"#),
    );
}

#[test]
fn changes_are_reported_in_edit_order() {
    let (s, _d) = schema();
    let mut t = load(&s, BASE);
    let e = parse_edit(s.context(), &c(r#"<a>Z</a><l nc:operation="delete"><k>k1</k></l><l><k>k9</k><v>w</v></l><a2/>"#.replace("<a2/>", "").as_str())).unwrap();
    let ch = apply_edit(&mut t, &e, DefaultOperation::Merge).unwrap();
    assert_eq!(
        ch,
        vec![
            Change::Modified { path: "/ed:c/a".into(), old: "A".into(), new: "Z".into() },
            Change::Deleted { path: "/ed:c/l[k='k1']".into(), value: None },
            Change::Created { path: "/ed:c/l[k='k9']".into(), value: None, position: None },
        ]
    );
}

#[test]
fn parse_errors() {
    let (s, _d) = schema();
    let ctx = s.context();
    let bad = |xml: &str| parse_edit(ctx, xml).unwrap_err();
    let e = bad(&c(r#"<a nc:operation="frobnicate">1</a>"#));
    assert_eq!(e.tag, ErrorTag::BadAttribute, "{e:?}");
    assert_eq!(e.path.as_deref(), Some("/ed:c/a"), "{e:?}");
    let e = bad(&c(r#"<a nc:bogus="x">1</a>"#));
    assert_eq!(e.tag, ErrorTag::UnknownAttribute, "{e:?}");
    let e = bad(&c(r#"<a xmlns:zz="urn:zz" zz:op="x">1</a>"#));
    assert_eq!(e.tag, ErrorTag::UnknownAttribute, "{e:?}");
    let e = bad(&c(r#"<a op="x">1</a>"#));
    assert_eq!(e.tag, ErrorTag::UnknownAttribute, "{e:?}");
    let e = bad(&c(r#"<ul yang:insert="middle"><k>n</k></ul>"#));
    assert_eq!(e.tag, ErrorTag::BadAttribute, "{e:?}");
    let e = bad("<c xmlns=\"urn:example:ed\">\0</c>");
    assert_eq!(e.tag, ErrorTag::MalformedMessage);
    assert_eq!(e.error_type, ErrorType::Rpc);
    let e = bad(&c(r#"<a nc:operation="frobnicate">1</a>"#));
    assert_eq!(
        e.info,
        vec![
            occd::error::ErrorInfo::BadAttribute("operation".into()),
            occd::error::ErrorInfo::BadElement("a".into())
        ]
    );
    let e = bad(&c(r#"<ul yang:key="nonsense"><k>n</k></ul>"#));
    assert_eq!((e.tag, e.path.as_deref()), (ErrorTag::BadAttribute, Some("/ed:c/ul")), "{e:?}");
    let e = bad(&c("<nosuch/>"));
    assert_eq!(e.tag, ErrorTag::UnknownElement, "{e:?}");
    // An invalid value names its node, on the top level too (libyang
    // gives no data path there).
    let e = bad(r#"<tn xmlns="urn:example:ed">300</tn>"#);
    assert_eq!((e.tag, e.path.as_deref()), (ErrorTag::InvalidValue, Some("/ed:tn")), "{e:?}");
    let e = bad(r#"<t xmlns="urn:example:ed"><n>-1</n></t>"#);
    assert_eq!((e.tag, e.path.as_deref()), (ErrorTag::InvalidValue, Some("/ed:t/n")), "{e:?}");
}

/// RFC 6241 §7.2 names a leaf to delete or remove by its element alone:
/// `<n nc:operation="delete"/>` works whatever the leaf's type (ncclient
/// users write it so), and the content of such an element is not looked at.
/// Everywhere else an invalid value is still `invalid-value`.
#[test]
fn leaves_are_deleted_by_name_whatever_their_type() {
    let (s, _d) = schema();
    let m = DefaultOperation::Merge;
    let base = r#"{"ed:t":{"n":7,"en":"x","flag":[null],"nl":[1,2]},"ed:tn":5}"#;
    let t = |body: &str| format!(r#"<t xmlns="urn:example:ed" xmlns:nc="{NC}">{body}</t>"#);
    let tn = |op: &str| format!(r#"<tn xmlns="urn:example:ed" xmlns:nc="{NC}" nc:operation="{op}"/>"#);
    let without = |cut: &str| {
        assert!(base.contains(cut), "{cut}");
        base.replacen(cut, "", 1)
    };
    let (no_n, no_en, no_flag) =
        (without(r#""n":7,"#), without(r#""en":"x","#), without(r#""flag":[null],"#));
    let cases = [
        ("delete uint32", t(r#"<n nc:operation="delete"/>"#), Expect::Tree(&no_n)),
        ("remove uint32", t(r#"<n nc:operation="remove"/>"#), Expect::Tree(&no_n)),
        ("delete enum", t(r#"<en nc:operation="delete"></en>"#), Expect::Tree(&no_en)),
        ("delete empty type", t(r#"<flag nc:operation="delete"/>"#), Expect::Tree(&no_flag)),
        ("content ignored", t(r#"<n nc:operation="delete">not a number</n>"#), Expect::Tree(&no_n)),
        ("valid content too", t(r#"<n nc:operation="delete">8</n>"#), Expect::Tree(&no_n)),
        (
            "top-level leaf",
            format!("{}{}", t("<en>y</en>"), tn("delete")),
            Expect::Tree(r#"{"ed:t":{"n":7,"en":"y","flag":[null],"nl":[1,2]}}"#),
        ),
        (
            "inherited delete",
            format!(r#"<t xmlns="urn:example:ed" xmlns:nc="{NC}" nc:operation="delete"><n/></t>"#),
            Expect::Tree(r#"{"ed:tn":5}"#),
        ),
    ];
    for (name, xml, expect) in cases {
        check(&s, name, base, &xml, m, expect);
    }
    let empty = r#"{"ed:t":{"en":"x"}}"#;
    check(
        &s,
        "delete missing",
        empty,
        &t(r#"<n nc:operation="delete"/>"#),
        m,
        Expect::Err(ErrorTag::DataMissing, "/ed:t/n"),
    );
    check(&s, "remove missing", empty, &t(r#"<n nc:operation="remove"/>"#), m, Expect::Same);
    check(
        &s,
        "top-level missing",
        empty,
        &format!("{}{}", t("<en>y</en>"), tn("delete")),
        m,
        Expect::Err(ErrorTag::DataMissing, "/ed:tn"),
    );
    // Beside other edits, in order, all or nothing.
    check(
        &s,
        "with others",
        base,
        &t(r#"<n nc:operation="delete"/><en>y</en><nl nc:operation="delete">1</nl>"#),
        m,
        Expect::Tree(r#"{"ed:t":{"en":"y","flag":[null],"nl":[2]},"ed:tn":5}"#),
    );
    check(
        &s,
        "atomic",
        base,
        &t(r#"<en>y</en><n nc:operation="delete"/><nl nc:operation="delete">9</nl>"#),
        m,
        Expect::Err(ErrorTag::DataMissing, "/ed:t/nl[.='9']"),
    );
    // Everything else still needs a valid value.
    let ctx = s.context();
    for body in [
        "<n/>",
        r#"<n nc:operation="merge"/>"#,
        r#"<n nc:operation="create">x</n>"#,
        r#"<n nc:operation="replace"></n>"#,
        r#"<nl nc:operation="delete"/>"#,
        r#"<nl nc:operation="remove">300</nl>"#,
    ] {
        let e = parse_edit(ctx, &t(body)).unwrap_err();
        assert_eq!(e.tag, ErrorTag::InvalidValue, "{body}: {e:?}");
        assert!(e.path.as_deref().is_some_and(|p| p.starts_with("/ed:t/n")), "{body}: {e:?}");
    }
    // Known limit: an edit of nothing but top-level leaves, none with a
    // valid value, keeps libyang's error (its tree needs a node with a
    // schema first).
    let e = parse_edit(ctx, &tn("delete")).unwrap_err();
    assert_eq!(e.tag, ErrorTag::InvalidValue, "{e:?}");
    // Unknown elements stay unknown, deleted or not.
    let e = parse_edit(ctx, &t(r#"<nosuch nc:operation="delete"/>"#)).unwrap_err();
    assert_eq!(e.tag, ErrorTag::UnknownElement, "{e:?}");
    // Beside an unknown element the edit is refused with libyang's first
    // error, as before.
    let e = parse_edit(ctx, &t(r#"<nosuch/><n nc:operation="delete"/>"#)).unwrap_err();
    assert_eq!(e.tag, ErrorTag::UnknownElement, "{e:?}");
    assert!(parse_edit(ctx, &t(r#"<n nc:operation="delete"/><nosuch/>"#)).is_err());
    // A delete with a bad attribute beside it is still refused.
    let e = parse_edit(ctx, &t(r#"<n nc:operation="delete" nc:bogus="1"/>"#)).unwrap_err();
    assert_eq!(e.tag, ErrorTag::UnknownAttribute, "{e:?}");
}

#[test]
fn implicit_defaults_count_as_missing() {
    let (s, _d) = schema();
    let m = DefaultOperation::Merge;
    let with_defaults =
        |t: &mut DataTree<'_>| t.add_implicit(yang3::data::DataImplicitFlags::NO_STATE).unwrap();
    for (name, body, want) in [
        (
            "create default leaf",
            r#"<d nc:operation="create">mine</d>"#,
            Ok(r#"{"ed:c":{"a":"A","d":"mine"}}"#),
        ),
        ("merge default leaf same value", "<d>dflt</d>", Ok(r#"{"ed:c":{"a":"A","d":"dflt"}}"#)),
        ("delete default leaf", r#"<d nc:operation="delete"/>"#, Err("/ed:c/d")),
        ("remove default leaf", r#"<d nc:operation="remove"/>"#, Ok(r#"{"ed:c":{"a":"A"}}"#)),
    ] {
        let mut t = load(&s, r#"{"ed:c":{"a":"A"}}"#);
        with_defaults(&mut t);
        let before = json(&t);
        let e = parse_edit(s.context(), &c(body)).unwrap();
        let r = apply_edit(&mut t, &e, m);
        match want {
            Ok(tree) => {
                assert!(r.is_ok(), "{name}: {r:?}");
                let got = t
                    .print_string(
                        DataFormat::JSON,
                        DataPrinterFlags::WITH_SIBLINGS
                            | DataPrinterFlags::SHRINK
                            | DataPrinterFlags::WD_EXPLICIT,
                    )
                    .unwrap();
                assert_eq!(got.trim(), canon(&s, tree), "{name}");
            }
            Err(path) => {
                let e = r.unwrap_err();
                assert_eq!((e.tag, e.path.as_deref()), (ErrorTag::DataMissing, Some(path)), "{name}");
                assert_eq!(json(&t), before, "{name}");
            }
        }
    }
    // A default made explicit is reported as created.
    let mut t = load(&s, r#"{"ed:c":{"a":"A"}}"#);
    with_defaults(&mut t);
    let e = parse_edit(s.context(), &c("<d>dflt</d>")).unwrap();
    let ch = apply_edit(&mut t, &e, m).unwrap();
    assert_eq!(
        ch,
        vec![Change::Created { path: "/ed:c/d".into(), value: Some("dflt".into()), position: None }]
    );
    // ...and back to implicit when a later error undoes the edit.
    let mut t = load(&s, r#"{"ed:c":{"a":"A"}}"#);
    with_defaults(&mut t);
    let before = json(&t);
    let e = parse_edit(s.context(), &c(r#"<d>other</d><a nc:operation="create">x</a>"#)).unwrap();
    let err = apply_edit(&mut t, &e, m).unwrap_err();
    assert_eq!(err.tag, ErrorTag::DataExists);
    assert_eq!(json(&t), before);
    assert!(t.find_path("/ed:c/d").unwrap().is_default());
}

#[test]
fn anchors_with_quotes() {
    let (s, _d) = schema();
    // Anchor value with a quote; list anchor with double quotes.
    let base = r#"{"ed:c":{"ul":[{"k":"it's"},{"k":"b"}],"ull":["it's","b"]}}"#;
    check(
        &s,
        "list anchor with quote",
        base,
        &c(r#"<ul yang:insert="after" yang:key="[k=&quot;it's&quot;]"><k>n</k></ul>"#),
        DefaultOperation::Merge,
        Expect::Tree(r#"{"ed:c":{"ul":[{"k":"it's"},{"k":"n"},{"k":"b"}],"ull":["it's","b"]}}"#),
    );
    check(
        &s,
        "leaf-list anchor with quote",
        base,
        &c(r#"<ull yang:insert="before" yang:value="it's">n</ull>"#),
        DefaultOperation::Merge,
        Expect::Tree(r#"{"ed:c":{"ul":[{"k":"it's"},{"k":"b"}],"ull":["n","it's","b"]}}"#),
    );
    check(
        &s,
        "key attribute without insert",
        base,
        &c(r#"<ul yang:key="[k='b']"><k>n</k></ul>"#),
        DefaultOperation::Merge,
        Expect::Err(ErrorTag::BadAttribute, "/ed:c/ul[k='n']"),
    );
}
