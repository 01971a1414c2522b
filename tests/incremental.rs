//! Incremental validation (`occd::datastore::incremental`) against libyang's
//! full validation: with `verify_incremental`, every commit the incremental
//! check accepts is validated in full as well, and any disagreement is
//! counted. Random edits of the OCC reference scenario (values moved between
//! instances of a leaf, deletions, re-creations) must never disagree, and
//! the check must decide most of them itself.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use occd::datastore::edit::{parse_edit, DefaultOperation};
use occd::datastore::{Datastore, Datastores, Options, TestOption};
use occd::schema::ffi;
use occd::schema::Schema;
use yang3::data::{Data, DataTree};

fn open(schema: &'static Schema, dir: &std::path::Path) -> Datastores {
    let opts = Options { verify_incremental: true, ..Options::default() };
    Datastores::open(schema, dir, opts).unwrap()
}

/// xorshift64*: reproducible without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Node {
    path: String,
    schema: String,
    value: Option<String>,
    key: bool,
}

fn nodes(ds: &Datastores) -> Vec<Node> {
    let running = ds.running();
    running
        .tree()
        .traverse()
        .filter(|n| !n.is_default())
        .map(|n| Node {
            path: n.path(),
            schema: n.schema().path(yang3::schema::SchemaPathFormat::DATA),
            value: n.value_canonical(),
            key: n.schema().is_list_key(),
        })
        .collect()
}

/// An edit of one node: set `value`, or apply `operation` to it.
fn edit_of(
    schema: &'static Schema,
    path: &str,
    value: Option<&str>,
    operation: Option<&str>,
) -> DataTree<'static> {
    let ctx = schema.context();
    let mut tree = DataTree::new(ctx);
    let node = tree.new_path(path, value, false).unwrap().map(|n| n.as_raw());
    if let (Some(op), Some(node)) = (operation, node) {
        // SAFETY: our own new tree.
        unsafe { ffi::add_meta(ctx, node, "ietf-netconf", "operation", op).unwrap() };
    }
    tree
}

/// Extra random seeds from `OCCD_RANDOM_EDIT_SEEDS` (for long runs by hand).
fn seeds(base: &[u64]) -> Vec<u64> {
    let extra: u64 = std::env::var("OCCD_RANDOM_EDIT_SEEDS").ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    base.iter().copied().chain((1..=extra).map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))).collect()
}

#[test]
fn random_edits_of_the_scenario_agree_with_full_validation() {
    let schema: &'static Schema = Box::leak(Box::new(common::default_schema()));
    let scenario = std::fs::read_to_string(common::root().join("yang/occ/examples/scenario.xml")).unwrap();
    for seed in seeds(&[0x000c_cd15_ea5e, 0x5eed_0001, 0xdead_beef_1234]) {
        random_edits(schema, &scenario, seed, 800);
    }
}

/// The same on a generated fixture with many cSCTPs, cSCs and segments,
/// where the rules that find a cSCTP by key (OCC-R-27) are narrowed through
/// the index of key values, which must follow every commit.
#[test]
fn random_edits_of_a_scale_fixture_agree_with_full_validation() {
    let schema: &'static Schema = Box::leak(Box::new(common::default_schema()));
    let out = std::process::Command::new("python3")
        .args(["yang/occ/examples/gen-scale.py", "200", "--format", "xml"])
        .current_dir(common::root())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fixture = String::from_utf8(out.stdout).unwrap();
    for seed in seeds(&[0x0123_4567_89ab]) {
        let stats = random_edits(schema, &fixture, seed, 400);
        assert!(stats.keyed_lookups > 0, "{stats:?}");
    }
}

fn random_edits(schema: &'static Schema, start: &str, seed: u64, steps: usize) -> occd::datastore::Stats {
    let dir = tempfile::tempdir().unwrap();
    let ds = open(schema, dir.path());
    let edit = parse_edit(schema.context(), start).unwrap();
    ds.edit(1, Datastore::Running, edit, DefaultOperation::Merge, TestOption::TestThenSet).unwrap();

    // Values of every leaf, by schema node: moving them between instances
    // keeps types valid and breaks references, sums and uniqueness.
    let mut pool: HashMap<String, Vec<String>> = HashMap::new();
    for n in nodes(&ds) {
        if let Some(v) = n.value {
            pool.entry(n.schema).or_default().push(v);
        }
    }
    let mut rng = Rng(seed);
    let mut deleted: Vec<String> = Vec::new();
    let (mut accepted, mut refused) = (0, 0);
    let before = ds.stats();
    for _ in 0..steps {
        let all = nodes(&ds);
        let candidates: Vec<&Node> = all.iter().filter(|n| !n.key).collect();
        let n = candidates[rng.below(candidates.len())];
        let tree = match rng.below(4) {
            0 | 1 => match (&n.value, pool.get(&n.schema)) {
                (Some(_), Some(values)) => {
                    let v = &values[rng.below(values.len())];
                    edit_of(schema, &n.path, Some(v), None)
                }
                _ => continue,
            },
            2 => {
                // Keep a copy to create it again later.
                let running = ds.running();
                let node = running.tree().find_path(&n.path).unwrap();
                // SAFETY: the snapshot is immutable; the copy is ours.
                unsafe {
                    let top = ffi::dup_with_parents(node.as_raw()).unwrap();
                    deleted.push(ffi::print_xml(top, true).unwrap());
                    ffi::free_siblings(top);
                }
                edit_of(schema, &n.path, n.value.as_deref(), Some("delete"))
            }
            _ => {
                if deleted.is_empty() {
                    continue;
                }
                let xml = deleted.swap_remove(rng.below(deleted.len()));
                match parse_edit(schema.context(), &xml) {
                    Ok(t) => t,
                    Err(_) => continue,
                }
            }
        };
        let txid = ds.running().txid();
        match ds.edit(1, Datastore::Running, tree, DefaultOperation::Merge, TestOption::TestThenSet) {
            // A commit that changed something (not a no-op).
            Ok(info) if info.txid != txid => accepted += 1,
            Ok(_) => {}
            Err(e) => {
                assert!(!format!("{e:?}").contains("disagreed"), "{e:?}");
                refused += 1;
            }
        }
    }
    let stats = ds.stats();
    assert_eq!(stats.disagreements, 0);
    let incremental = stats.incremental - before.incremental;
    eprintln!("accepted {accepted}, refused {refused}, decided incrementally {incremental}");
    assert!(
        accepted > steps as u64 / 16 && refused > steps as u64 / 16,
        "accepted {accepted}, refused {refused}"
    );
    // Most commits that changed something did not need full validation.
    assert!(incremental * 3 > accepted * 2, "incremental {incremental} of {accepted}");
    stats
}

/// Every non-key leaf of the scenario set, one at a time, to values no
/// other node holds (dangling references, out-of-range numbers): whatever
/// the verdict, full validation must agree with it. This caught a leafref
/// whose own new value was not checked.
#[test]
fn every_leaf_set_to_a_foreign_value_agrees_with_full_validation() {
    let schema: &'static Schema = Box::leak(Box::new(common::default_schema()));
    let dir = tempfile::tempdir().unwrap();
    let ds = open(schema, dir.path());
    let scenario = std::fs::read_to_string(common::root().join("yang/occ/examples/scenario.xml")).unwrap();
    let edit = parse_edit(schema.context(), &scenario).unwrap();
    ds.edit(1, Datastore::Running, edit, DefaultOperation::Merge, TestOption::TestThenSet).unwrap();
    let leaves: Vec<String> =
        nodes(&ds).into_iter().filter(|n| !n.key && n.value.is_some()).map(|n| n.path).collect();
    let (mut tried, mut refused) = (0, 0);
    for path in &leaves {
        for value in ["nope-zzz", "0", "4095"] {
            let mut tree = DataTree::new(schema.context());
            if tree.new_path(path, Some(value), false).is_err() {
                continue; // not a value of the leaf's type
            }
            tried += 1;
            if let Err(e) =
                ds.edit(1, Datastore::Running, tree, DefaultOperation::Merge, TestOption::TestThenSet)
            {
                assert!(!format!("{e:?}").contains("disagreed"), "{path} = {value}: {e:?}");
                refused += 1;
            }
        }
    }
    assert_eq!(ds.stats().disagreements, 0);
    assert!(tried > 100 && refused > 20, "tried {tried}, refused {refused}");
}

/// The analysis binds the OCC-R-27 lookups (`deref(../interface)/../csctps/
/// csctp[csctp-id = current()]`) to the interface's name and the cSCTP's
/// id, and a leafref to its target's key: a cSCTP or interface created or
/// deleted then reaches only the rule instances naming it.
#[test]
fn key_lookups_are_bound() {
    use occd::schema::deps;
    let schema = common::default_schema();
    let d = deps::analyse(schema.context());
    let find = |host: &str, text: &str| {
        d.constraints
            .iter()
            .position(|c| c.host.path() == host && c.describe().contains(text))
            .unwrap_or_else(|| panic!("no rule {text} on {host}"))
    };
    let lists =
        |a: &deps::Atom| -> Vec<String> { a.bindings.iter().map(|&b| d.bindings[b].list.name()).collect() };
    let r27 = find("/occ-oam:oam/meg/mep/csctp", "deref(../interface)/../occc:csctps/occc:csctp[");
    let mut seen = 0;
    for a in d.atoms.iter().filter(|a| a.constraint == r27 && a.scope.is_none()) {
        let path = a.schema.path();
        let want: &[&str] = if path.contains("csctps/csctp") {
            &["csctp", "interface"]
        } else if path.starts_with("/occ-interfaces:interfaces/interface") {
            &["interface"]
        } else {
            &[]
        };
        let mut got = lists(a);
        got.sort();
        assert_eq!(got, want, "{path}");
        seen += 1;
    }
    assert!(seen >= 5, "{seen} global atoms");
    let lref = find("/occ-oam:oam/meg/mep/interface", "leafref");
    for a in d.atoms.iter().filter(|a| a.constraint == lref && a.scope.is_none()) {
        let bound = a.schema.path().starts_with("/occ-interfaces:interfaces/interface");
        assert_eq!(
            lists(a),
            if bound { vec!["interface".to_string()] } else { vec![] },
            "{}",
            a.schema.path()
        );
    }
    // The value compared with the cSCTP id is the rule's own leaf.
    let e = d
        .atoms
        .iter()
        .filter(|a| a.constraint == r27)
        .flat_map(|a| &a.bindings)
        .map(|&b| &d.bindings[b])
        .find(|b| b.list.name() == "csctp")
        .unwrap();
    let x = &d.key_exprs[e.expr];
    assert_eq!((x.up, x.down.len(), x.host.path()), (0, 0, "/occ-oam:oam/meg/mep/csctp".to_string()));
}

/// Cases an independent review found where narrowing by key was unsound
/// (each once accepted an invalid commit): libyang compares `=` by type
/// (`"01"` equals the uint8 `1`), positions in the keyed predicate, a
/// leafref predicate that reads its own target list from the root, and
/// instance paths libyang cannot read back (a key with both quotes). The
/// last edit of each is invalid and must be refused, by full validation.
#[test]
fn narrowing_by_key_is_not_fooled() {
    const T: &str = r#"
module t {
  yang-version 1.1;
  namespace "urn:t"; prefix t;
  container a {
    list l { key id; leaf id { type uint8; } leaf en { type boolean; } }
    list s { key name; leaf name { type string; } leaf en { type boolean; } }
    list u { key name; ordered-by user; leaf name { type string; } leaf en { type boolean; } }
    list m { key k1; leaf k1 { type string; } leaf other { type string; } }
    list l2 { key k; leaf k { type string; } leaf en { type boolean; } }
  }
  container b {
    leaf ref { type string; must "/t:a/t:l[current() = t:id]/t:en = 'true'"; }
    leaf first { type string; must "/t:a/t:s[1][t:name = current()]"; }
    leaf ufirst { type string; must "/t:a/t:u[position() = 1 and t:name = current()]"; }
    leaf lr { type leafref { path "/t:a/t:m[t:k1 = current()/../../t:a/t:m/t:other]/t:k1"; } }
    list r { key name; leaf name { type string; }
      leaf ref { type string; must "/t:a/t:l2[t:k = current()]/t:en = 'true'"; } }
  }
}
"#;
    static CELL: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let schema = common::leaked_schema(&CELL, &[("t", T)]);
    let cases: [(&str, &[&str]); 5] = [
        (
            r#"<a xmlns="urn:t"><l><id>1</id><en>true</en></l><l><id>2</id><en>true</en></l></a><b xmlns="urn:t"><ref>01</ref></b>"#,
            &[
                r#"<a xmlns="urn:t"><l><id>2</id><en>false</en></l></a>"#,
                r#"<a xmlns="urn:t"><l><id>1</id><en>false</en></l></a>"#,
            ],
        ),
        (
            r#"<a xmlns="urn:t"><s><name>b</name></s><s><name>c</name></s></a><b xmlns="urn:t"><first>b</first></b>"#,
            &[
                r#"<a xmlns="urn:t"><s><name>c</name><en>true</en></s></a>"#,
                r#"<a xmlns="urn:t"><s><name>a</name></s></a>"#,
            ],
        ),
        (
            r#"<a xmlns="urn:t"><u><name>x</name></u><u><name>y</name></u><u><name>z</name></u></a><b xmlns="urn:t"><ufirst>x</ufirst></b>"#,
            &[
                r#"<a xmlns="urn:t"><u><name>z</name><en>true</en></u></a>"#,
                r#"<a xmlns="urn:t" xmlns:yang="urn:ietf:params:xml:ns:yang:1"><u yang:insert="first"><name>y</name></u></a>"#,
            ],
        ),
        (
            r#"<a xmlns="urn:t"><m><k1>V</k1><other>q</other></m><m><k1>W</k1><other>V</other></m><m><k1>Z</k1></m></a><b xmlns="urn:t"><lr>V</lr></b>"#,
            &[
                r#"<a xmlns="urn:t"><m><k1>Z</k1><other>n</other></m></a>"#,
                r#"<a xmlns="urn:t"><m><k1>W</k1><other>zzz</other></m></a>"#,
            ],
        ),
        (
            r#"<a xmlns="urn:t"><l2><k>K</k><en>true</en></l2><l2><k>J</k><en>true</en></l2></a><b xmlns="urn:t"><r><name>a'b"c</name><ref>K</ref></r></b>"#,
            &[
                r#"<a xmlns="urn:t"><l2><k>J</k><en>false</en></l2></a>"#,
                r#"<a xmlns="urn:t"><l2><k>K</k><en>false</en></l2></a>"#,
            ],
        ),
    ];
    for (init, steps) in cases {
        let dir = tempfile::tempdir().unwrap();
        let ds =
            Datastores::open(schema, dir.path(), Options { verify_incremental: true, ..Options::default() })
                .unwrap();
        let edit = |xml: &str| {
            let tree = parse_edit(schema.context(), xml).unwrap();
            ds.edit(1, Datastore::Running, tree, DefaultOperation::Merge, TestOption::TestThenSet)
        };
        edit(init).unwrap();
        let (last, before) = steps.split_last().unwrap();
        for s in before {
            edit(s).unwrap();
        }
        let e = edit(last).expect_err(last);
        assert!(!format!("{e:?}").contains("disagreed"), "{last}: {e:?}");
        assert_eq!(ds.stats().disagreements, 0, "{init}");
    }
}
