//! The transaction manager (`occd::datastore::store`): commits, snapshots,
//! the second tree kept in step, recovery, candidate, locks, confirmed
//! commit, hooks, operational state, startup, and a SIGKILL crash test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use occd::datastore::confirmed::CommitParams;
use occd::datastore::edit::{parse_edit, DefaultOperation};
use occd::datastore::{CommitView, Datastore, Datastores, Hook, Options, StateProvider, TestOption};
use occd::error::{ErrorTag, Errors};
use occd::schema::Schema;
use yang3::context::Context;
use yang3::data::{DataFormat, DataParserFlags, DataPrinterFlags, DataTree, DataValidationFlags};

const MODULE: &str = r#"
module ds {
  yang-version 1.1;
  namespace "urn:example:ds";
  prefix ds;
  container top {
    list item {
      key name;
      leaf name { type string; }
      leaf counter { type uint32; default 0; }
      leaf mode { type enumeration { enum a; enum b; } default a; }
      leaf extra { when "../mode = 'b'"; type string; }
      leaf ref { type leafref { path "/ds:top/ds:item/ds:name"; } }
      must "not(counter > 1000)" {
        error-app-tag "counter-too-big";
        error-message "counter above 1000";
      }
    }
    list ordered {
      key k;
      ordered-by user;
      leaf k { type string; }
      leaf v { type string; }
    }
    leaf-list tags { type string; ordered-by user; }
    container opts { leaf level { type uint8; default 3; } }
  }
  container state {
    config false;
    leaf uptime { type uint32; }
  }
}
"#;

/// No constraints at all: its edits are validated incrementally.
const FLAT: &str = r#"
module flat {
  yang-version 1.1;
  namespace "urn:example:flat";
  prefix f;
  container f {
    list e {
      key k;
      leaf k { type string; }
      leaf a { type string; }
      leaf n { type int8; }
      leaf-list t { type string; }
      container sub { leaf x { type string; } container deeper { leaf y { type string; } } }
      list ue { key id; ordered-by user; leaf id { type string; } }
    }
  }
}
"#;

const NS: &str = "urn:example:ds";
const NC: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
const YANG: &str = "urn:ietf:params:xml:ns:yang:1";

fn schema() -> &'static Schema {
    let (schema, dir) = common::schema_with(&[("ds", MODULE), ("flat", FLAT)], true);
    std::mem::forget(dir);
    Box::leak(Box::new(schema))
}

fn ctx(s: &'static Schema) -> &'static Context {
    s.context()
}

fn open(s: &'static Schema, dir: &Path) -> Datastores {
    Datastores::open(s, dir, Options::default()).unwrap()
}

fn edit_xml(s: &'static Schema, body: &str) -> DataTree<'static> {
    let xml = format!(r#"<top xmlns="{NS}" xmlns:nc="{NC}" xmlns:yang="{YANG}">{body}</top>"#);
    parse_edit(ctx(s), &xml).unwrap()
}

fn edit(ds: &Datastores, session: u32, target: Datastore, body: &str) -> Result<u64, Errors> {
    let tree = edit_xml(ds.schema(), body);
    ds.edit(session, target, tree, DefaultOperation::Merge, TestOption::TestThenSet).map(|i| i.txid)
}

fn print(t: &DataTree<'_>, all: bool) -> String {
    let wd = if all { DataPrinterFlags::WD_ALL } else { DataPrinterFlags::WD_EXPLICIT };
    occd::datastore::print_tree(t, DataFormat::XML, DataPrinterFlags::SHRINK | wd).unwrap()
}

fn running(ds: &Datastores) -> String {
    print(ds.running().tree(), false)
}

fn item(name: &str, extra: &str) -> String {
    format!("<item><name>{name}</name>{extra}</item>")
}

fn tags(e: &Errors) -> Vec<String> {
    e.iter().map(|e| e.tag.as_str().to_string()).collect()
}

#[test]
fn commits_publish_snapshots_with_increasing_txids_and_events() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(s, dir.path());
    assert_eq!(ds.running().txid(), 0);
    assert_eq!(running(&ds), "");
    let mut events = ds.subscribe();
    let before = ds.running();
    assert_eq!(edit(&ds, 1, Datastore::Running, &item("a", "<counter>5</counter>")).unwrap(), 1);
    assert_eq!(edit(&ds, 1, Datastore::Running, &item("b", "")).unwrap(), 2);
    // An old snapshot is unchanged: readers are isolated from commits.
    assert_eq!(print(before.tree(), false), "");
    assert!(running(&ds).contains("<name>a</name><counter>5</counter>"), "{}", running(&ds));
    // Defaults are in the tree (added by validation), not printed as explicit.
    assert!(print(ds.running().tree(), true).contains("<level>3</level>"));
    let ev = events.try_recv().unwrap();
    assert_eq!((ev.txid, ev.datastore, ev.session), (1, Datastore::Running, 1));
    assert!(ev.changes.iter().any(|c| c.path() == "/ds:top/item[name='a']"), "{:?}", ev.changes);
    assert_eq!(events.try_recv().unwrap().txid, 2);
}

#[test]
fn validation_errors_have_app_tag_and_path_and_change_nothing() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(s, dir.path());
    edit(&ds, 1, Datastore::Running, &item("a", "")).unwrap();
    let before = running(&ds);
    let e = edit(&ds, 1, Datastore::Running, &item("a", "<counter>2000</counter>")).unwrap_err();
    let first = e.iter().next().unwrap();
    assert_eq!(first.tag, ErrorTag::OperationFailed);
    assert_eq!(first.app_tag.as_deref(), Some("counter-too-big"));
    assert_eq!(first.path.as_deref(), Some("/ds:top/item[name='a']"));
    assert_eq!(running(&ds), before);
    assert_eq!(ds.running().txid(), 1);
    // A leafref to nothing: instance-required on the leaf.
    let e = edit(&ds, 1, Datastore::Running, &item("b", "<ref>nope</ref>")).unwrap_err();
    let first = e.iter().next().unwrap();
    assert_eq!(first.tag, ErrorTag::DataMissing);
    assert_eq!(first.app_tag.as_deref(), Some("instance-required"));
    assert_eq!(first.path.as_deref(), Some("/ds:top/item[name='b']/ref"));
    // Edit-semantics errors (data-exists) also leave running as it was.
    let e =
        edit(&ds, 1, Datastore::Running, r#"<item nc:operation="create"><name>a</name></item>"#).unwrap_err();
    assert_eq!(tags(&e), ["data-exists"]);
    assert_eq!(running(&ds), before);
    // And the next commit works, from the right state.
    edit(&ds, 1, Datastore::Running, &item("c", "")).unwrap();
    assert!(running(&ds).contains("<name>c</name>"));
    assert!(!running(&ds).contains("<name>b</name>"));
}

#[test]
fn test_only_validates_and_changes_nothing() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(s, dir.path());
    let t = edit_xml(s, &item("a", ""));
    let info = ds.edit(1, Datastore::Running, t, DefaultOperation::Merge, TestOption::TestOnly).unwrap();
    assert_eq!(info.txid, 0);
    assert_eq!(running(&ds), "");
    let t = edit_xml(s, &item("a", "<counter>2000</counter>"));
    let e = ds.edit(1, Datastore::Running, t, DefaultOperation::Merge, TestOption::TestOnly).unwrap_err();
    assert_eq!(e.iter().next().unwrap().app_tag.as_deref(), Some("counter-too-big"));
    edit(&ds, 1, Datastore::Running, &item("b", "")).unwrap();
    assert_eq!(ds.running().txid(), 1);
}

use common::Rng;

fn random_flat_edit(rng: &mut Rng) -> String {
    let k = rng.below(10);
    let body = match rng.below(8) {
        0 | 1 => format!("<e><k>e{k}</k><a>{}</a><n>{}</n></e>", rng.below(5), rng.below(200)),
        2 => format!(r#"<e nc:operation="delete"><k>e{k}</k></e>"#),
        3 => format!(r#"<e><k>e{k}</k><sub><deeper><y>{}</y></deeper></sub></e>"#, rng.below(3)),
        4 => format!(r#"<e><k>e{k}</k><sub nc:operation="remove"/></e>"#),
        5 => format!(r#"<e><k>e{k}</k><a nc:operation="remove"/><t>{}</t></e>"#, rng.below(4)),
        6 => format!(r#"<e><k>e{k}</k><ue yang:insert="first"><id>u{}</id></ue></e>"#, rng.below(4)),
        _ => format!(r#"<e nc:operation="create"><k>e{k}</k></e>"#),
    };
    format!(r#"<f xmlns="urn:example:flat" xmlns:nc="{NC}" xmlns:yang="{YANG}">{body}</f>"#)
}

fn random_edit(rng: &mut Rng) -> (String, DefaultOperation) {
    let name = |r: &mut Rng| format!("i{}", r.below(12));
    let body = match rng.below(11) {
        0 | 1 => item(&name(rng), &format!("<counter>{}</counter>", rng.below(1100))),
        2 => item(&name(rng), "<mode>b</mode><extra>x</extra>"),
        3 => item(&name(rng), "<mode>a</mode>"),
        4 => format!(r#"<item nc:operation="delete"><name>{}</name></item>"#, name(rng)),
        5 => format!(r#"<item nc:operation="remove"><name>{}</name></item>"#, name(rng)),
        6 => item(&name(rng), &format!("<ref>{}</ref>", name(rng))),
        7 => {
            let k = rng.below(8);
            match rng.below(4) {
                0 => format!(r#"<ordered yang:insert="first"><k>o{k}</k></ordered>"#),
                1 => format!(
                    r#"<ordered yang:insert="after" yang:key="[k='o{}']"><k>o{k}</k></ordered>"#,
                    rng.below(8)
                ),
                2 => format!(r#"<ordered nc:operation="delete"><k>o{k}</k></ordered>"#),
                _ => format!(r#"<ordered><k>o{k}</k><v>{}</v></ordered>"#, rng.below(9)),
            }
        }
        8 => {
            let t = rng.below(6);
            match rng.below(3) {
                0 => format!(r#"<tags yang:insert="first">t{t}</tags>"#),
                1 => format!(r#"<tags nc:operation="remove">t{t}</tags>"#),
                _ => format!(r#"<tags yang:insert="before" yang:value="t{}">t{t}</tags>"#, rng.below(6)),
            }
        }
        9 => format!("<opts><level>{}</level></opts>", rng.below(5)),
        _ => {
            return (
                format!("{}{}", item(&name(rng), "<counter>1</counter>"), item(&name(rng), "<mode>b</mode>")),
                DefaultOperation::Replace,
            )
        }
    };
    (body, DefaultOperation::Merge)
}

/// The core property: after every commit, running (both of its trees, as
/// they alternate) equals a reference tree that gets the same edit and a
/// full libyang validation, with defaults and `when` flags included; and a
/// reopened datastore (journal recovery) equals it too.
#[test]
fn running_matches_a_fully_validated_reference_over_random_edits() {
    let s = schema();
    let c = ctx(s);
    let dir = tempfile::tempdir().unwrap();
    let mut ds = open(s, dir.path());
    let mut reference = DataTree::new(c);
    reference.validate(DataValidationFlags::NO_STATE).unwrap();
    let mut rng = Rng(0x5eed);
    let mut held = None;
    let (mut ok, mut failed) = (0, 0);
    for step in 0..600 {
        let (body, dop) = if rng.below(3) == 0 {
            (random_flat_edit(&mut rng), DefaultOperation::Merge)
        } else {
            let (b, d) = random_edit(&mut rng);
            (format!(r#"<top xmlns="{NS}" xmlns:nc="{NC}" xmlns:yang="{YANG}">{b}</top>"#), d)
        };
        // Values out of their type are refused when the edit is parsed.
        let Ok(tree) = parse_edit(c, &body) else { continue };
        // Sometimes a reader holds the snapshot across the next commits, so
        // the working tree must be a copy instead of the spare.
        if rng.below(10) == 0 {
            held = Some(ds.running());
        } else if rng.below(3) == 0 {
            held = None;
        }
        let got = ds.edit(1, Datastore::Running, tree, dop, TestOption::TestThenSet);

        let mut candidate = reference.duplicate().unwrap();
        let etree = parse_edit(c, &body).unwrap();
        let expected = occd::datastore::edit::apply_edit(&mut candidate, &etree, dop)
            .map_err(|_| ())
            .and_then(|_| candidate.validate(DataValidationFlags::NO_STATE).map_err(|_| ()));
        assert_eq!(got.is_ok(), expected.is_ok(), "step {step}: {body}: {:?}", got.err());
        if expected.is_ok() {
            reference = candidate;
            ok += 1;
        } else {
            failed += 1;
        }
        let snap = ds.running();
        assert_eq!(print(snap.tree(), true), print(&reference, true), "step {step} (all): {body}");
        assert_eq!(print(snap.tree(), false), print(&reference, false), "step {step} (explicit): {body}");
        if step % 97 == 96 {
            held = None;
            drop(snap);
            let stats = ds.stats();
            assert!(stats.caught_up > stats.copied && stats.copied > 0, "{stats:?}: both paths taken");
            assert!(stats.incremental > 10, "{stats:?}: flat edits are validated incrementally");
            drop(ds);
            ds = open(s, dir.path());
            assert_eq!(print(ds.running().tree(), true), print(&reference, true), "recovered at {step}");
            assert_eq!(print(ds.running().tree(), false), print(&reference, false), "recovered at {step}");
        }
    }
    drop(held);
    assert!(ok > 200 && failed > 20, "ok {ok}, failed {failed}: the edits should mix");
}

#[test]
fn recovery_restores_the_last_commit_and_compaction_keeps_it() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let expected;
    {
        let ds = open(s, dir.path());
        for i in 0..20 {
            edit(&ds, 1, Datastore::Running, &item(&format!("n{i}"), &format!("<counter>{i}</counter>")))
                .unwrap();
        }
        ds.compact_now();
        edit(&ds, 1, Datastore::Running, r#"<ordered yang:insert="first"><k>z</k></ordered>"#).unwrap();
        edit(&ds, 1, Datastore::Running, r#"<ordered yang:insert="first"><k>y</k></ordered>"#).unwrap();
        ds.copy_config_inline(
            1,
            Datastore::Running,
            &format!(r#"<top xmlns="{NS}"><tags>q</tags><tags>p</tags></top>"#),
        )
        .unwrap();
        edit(&ds, 1, Datastore::Running, r#"<tags yang:insert="first">o</tags>"#).unwrap();
        expected = (running(&ds), ds.running().txid());
    }
    let ds = open(s, dir.path());
    assert_eq!((running(&ds), ds.running().txid()), expected);
    assert!(expected.0.contains("<tags>o</tags><tags>q</tags><tags>p</tags>"), "{}", expected.0);
}

#[test]
fn candidate_edit_commit_discard_and_validate() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(s, dir.path());
    edit(&ds, 1, Datastore::Running, &item("a", "")).unwrap();
    assert!(!ds.candidate_modified());
    // Candidate edits are not semantically validated until commit.
    edit(&ds, 1, Datastore::Candidate, &item("b", "<ref>missing</ref>")).unwrap();
    assert!(ds.candidate_modified());
    assert!(print(ds.candidate().tree(), false).contains("<name>b</name>"));
    assert!(!running(&ds).contains("<name>b</name>"));
    let e = ds.validate(Datastore::Candidate).unwrap_err();
    assert_eq!(e.iter().next().unwrap().app_tag.as_deref(), Some("instance-required"));
    let e = ds.commit(1, &CommitParams::default()).unwrap_err();
    assert_eq!(e.iter().next().unwrap().app_tag.as_deref(), Some("instance-required"));
    assert!(!running(&ds).contains("<name>b</name>"));
    assert!(ds.candidate_modified(), "a failed commit keeps the candidate");
    // Fix it and commit: the edits are replayed on running.
    edit(&ds, 1, Datastore::Candidate, &item("missing", "")).unwrap();
    let info = ds.commit(1, &CommitParams::default()).unwrap();
    assert_eq!(info.txid, 2);
    assert!(running(&ds).contains("<name>b</name>"));
    assert!(!ds.candidate_modified());
    assert_eq!(print(ds.candidate().tree(), false), running(&ds));
    // discard-changes.
    edit(&ds, 1, Datastore::Candidate, &item("c", "")).unwrap();
    ds.discard_changes(1).unwrap();
    assert_eq!(print(ds.candidate().tree(), false), running(&ds));
    // test-only on the candidate validates and changes nothing.
    let t = edit_xml(s, &item("d", "<ref>nothing</ref>"));
    let e = ds.edit(1, Datastore::Candidate, t, DefaultOperation::Merge, TestOption::TestOnly).unwrap_err();
    assert_eq!(tags(&e), ["data-missing"]);
    assert!(!ds.candidate_modified());
}

#[test]
fn candidate_commit_after_running_changed_makes_running_equal_the_candidate() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(s, dir.path());
    edit(&ds, 1, Datastore::Running, &item("a", "")).unwrap();
    edit(&ds, 1, Datastore::Candidate, &item("b", "")).unwrap();
    edit(&ds, 2, Datastore::Running, &item("x", "")).unwrap();
    let mut events = ds.subscribe();
    ds.commit(1, &CommitParams::default()).unwrap();
    let r = running(&ds);
    assert!(r.contains("<name>b</name>") && !r.contains("<name>x</name>"), "{r}");
    let ev = events.try_recv().unwrap();
    assert!(ev.changes.iter().any(|c| c.path() == "/ds:top/item[name='x']"), "{:?}", ev.changes);
    // The second tree caught up through a full copy: later commits still work.
    edit(&ds, 1, Datastore::Running, &item("y", "")).unwrap();
    drop(ds);
    let ds = open(s, dir.path());
    assert!(running(&ds).contains("<name>y</name>") && running(&ds).contains("<name>b</name>"));
}

#[test]
fn locks_guard_writes_and_go_with_the_session() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(s, dir.path());
    ds.lock(1, Datastore::Running).unwrap();
    let e = edit(&ds, 2, Datastore::Running, &item("a", "")).unwrap_err();
    assert_eq!(tags(&e), ["in-use"]);
    let e = ds.lock(2, Datastore::Running).unwrap_err();
    assert_eq!(tags(&e), ["lock-denied"]);
    edit(&ds, 1, Datastore::Running, &item("a", "")).unwrap();
    assert_eq!(ds.lock_holder(Datastore::Running), Some(1));
    ds.session_ended(1);
    assert_eq!(ds.lock_holder(Datastore::Running), None);
    edit(&ds, 2, Datastore::Running, &item("b", "")).unwrap();
    // The candidate cannot be locked with uncommitted changes; a session
    // that ends holding its lock takes its changes with it.
    edit(&ds, 3, Datastore::Candidate, &item("c", "")).unwrap();
    assert_eq!(tags(&ds.lock(3, Datastore::Candidate).unwrap_err()), ["lock-denied"]);
    ds.discard_changes(3).unwrap();
    ds.lock(3, Datastore::Candidate).unwrap();
    edit(&ds, 3, Datastore::Candidate, &item("c", "")).unwrap();
    assert_eq!(tags(&edit(&ds, 4, Datastore::Candidate, &item("d", "")).unwrap_err()), ["in-use"]);
    ds.session_ended(3);
    assert!(!ds.candidate_modified());
    assert_eq!(tags(&ds.unlock(4, Datastore::Candidate).unwrap_err()), ["operation-failed"]);
}

fn confirmed(timeout_s: u64, persist: Option<&str>) -> CommitParams {
    CommitParams {
        confirmed: true,
        timeout: Some(Duration::from_secs(timeout_s)),
        persist: persist.map(str::to_string),
        persist_id: None,
    }
}

#[test]
fn confirmed_commit_reverts_on_timeout_cancel_and_session_end() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(s, dir.path());
    edit(&ds, 1, Datastore::Running, &item("a", "")).unwrap();
    let base = running(&ds);
    // Timeout.
    edit(&ds, 1, Datastore::Candidate, &item("b", "")).unwrap();
    ds.commit(1, &confirmed(60, None)).unwrap();
    assert!(running(&ds).contains("<name>b</name>"));
    // Another session cannot edit running while it is pending.
    assert_eq!(tags(&edit(&ds, 2, Datastore::Running, &item("z", "")).unwrap_err()), ["in-use"]);
    let deadline = ds.confirmed_deadline().unwrap();
    assert!(ds.expire_confirmed_commit(deadline - Duration::from_secs(1)).is_none());
    ds.expire_confirmed_commit(deadline).unwrap().unwrap();
    assert_eq!(running(&ds), base);
    // Confirming commit.
    edit(&ds, 1, Datastore::Candidate, &item("c", "")).unwrap();
    ds.commit(1, &confirmed(60, None)).unwrap();
    ds.commit(1, &CommitParams::default()).unwrap();
    assert!(ds.confirmed_deadline().is_none());
    let confirmed_state = running(&ds);
    // cancel-commit.
    edit(&ds, 1, Datastore::Candidate, &item("d", "")).unwrap();
    ds.commit(1, &confirmed(60, None)).unwrap();
    assert_eq!(tags(&ds.cancel_commit(2, None).unwrap_err()), ["in-use"]);
    ds.cancel_commit(1, None).unwrap();
    assert_eq!(running(&ds), confirmed_state);
    // Session end.
    edit(&ds, 1, Datastore::Candidate, &item("e", "")).unwrap();
    ds.commit(1, &confirmed(60, None)).unwrap();
    ds.session_ended(1);
    assert_eq!(running(&ds), confirmed_state);
}

#[test]
fn confirmed_commit_across_restart_persistent_resumes_plain_reverts() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    {
        let ds = open(s, dir.path());
        edit(&ds, 1, Datastore::Running, &item("a", "")).unwrap();
        edit(&ds, 1, Datastore::Candidate, &item("b", "")).unwrap();
        ds.commit(1, &confirmed(600, Some("tok"))).unwrap();
    }
    {
        let ds = open(s, dir.path());
        assert!(ds.confirmed_deadline().is_some(), "persistent confirmed commit resumed");
        assert!(running(&ds).contains("<name>b</name>"));
        let e = ds.cancel_commit(5, Some("wrong")).unwrap_err();
        assert_eq!(tags(&e), ["invalid-value"]);
        let p = CommitParams { persist_id: Some("tok".into()), ..CommitParams::default() };
        ds.commit(5, &p).unwrap();
        edit(&ds, 1, Datastore::Candidate, &item("c", "")).unwrap();
        ds.commit(1, &confirmed(600, None)).unwrap();
        assert!(running(&ds).contains("<name>c</name>"));
    }
    let ds = open(s, dir.path());
    assert!(ds.confirmed_deadline().is_none());
    let r = running(&ds);
    assert!(r.contains("<name>b</name>") && !r.contains("<name>c</name>"), "plain reverted at restart: {r}");
}

struct Veto;
impl Hook for Veto {
    fn name(&self) -> &str {
        "veto"
    }
    fn validate(&self, view: &CommitView) -> Result<(), Errors> {
        if view.changes.iter().any(|c| c.path().contains("forbidden")) {
            return Err(occd::error::Error::operation_failed("forbidden by the domain").into());
        }
        Ok(())
    }
}

struct Slow(AtomicUsize);
impl Hook for Slow {
    fn name(&self) -> &str {
        "slow"
    }
    fn validate(&self, view: &CommitView) -> Result<(), Errors> {
        if view.changes.iter().any(|c| c.path().contains("slow")) {
            std::thread::sleep(Duration::from_secs(3));
        }
        Ok(())
    }
    fn apply(&self, view: &CommitView) {
        assert!(view.config.txid() == view.txid);
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn hooks_can_veto_and_a_slow_hook_times_out() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let options = Options { hook_timeout: Duration::from_millis(300), ..Options::default() };
    let ds = Datastores::open(s, dir.path(), options).unwrap();
    let slow = Arc::new(Slow(AtomicUsize::new(0)));
    ds.add_hook(Arc::new(Veto));
    ds.add_hook(slow.clone());
    edit(&ds, 1, Datastore::Running, &item("a", "")).unwrap();
    assert_eq!(slow.0.load(Ordering::SeqCst), 1);
    let e = edit(&ds, 1, Datastore::Running, &item("forbidden", "")).unwrap_err();
    assert_eq!(e.iter().next().unwrap().message.as_deref(), Some("forbidden by the domain"));
    let t0 = std::time::Instant::now();
    let e = edit(&ds, 1, Datastore::Running, &item("slow", "")).unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(3), "the commit did not wait for the hook");
    assert!(e.iter().next().unwrap().message.as_deref().unwrap_or("").contains("did not answer"));
    assert!(!running(&ds).contains("slow"));
    edit(&ds, 1, Datastore::Running, &item("b", "")).unwrap();
    assert_eq!(ds.running().txid(), 2);
    assert_eq!(slow.0.load(Ordering::SeqCst), 2);
}

struct Uptime;
impl StateProvider for Uptime {
    fn name(&self) -> &str {
        "uptime"
    }
    fn state(&self, ctx: &'static Context) -> Result<Option<DataTree<'static>>, occd::error::Error> {
        let xml = format!(r#"<state xmlns="{NS}"><uptime>42</uptime></state>"#);
        let t = DataTree::parse_string(
            ctx,
            &xml,
            DataFormat::XML,
            DataParserFlags::NO_VALIDATION,
            DataValidationFlags::empty(),
        )
        .map_err(|e| occd::error::Error::operation_failed(e.to_string()))?;
        Ok(Some(t))
    }
}

#[test]
fn operational_merges_state_and_marks_origin() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(s, dir.path());
    edit(&ds, 1, Datastore::Running, &item("a", "")).unwrap();
    ds.add_state_provider(Arc::new(Uptime));
    let op = ds.operational(true).unwrap();
    let xml = print(op.tree(), false);
    assert!(xml.contains("<uptime>42</uptime>"), "{xml}");
    assert!(xml.contains("<name>a</name>"), "{xml}");
    assert!(xml.contains(r#"or:origin="or:intended""#), "{xml}");
    assert!(!print(ds.running().tree(), false).contains("uptime"));
    assert!(!print(ds.operational(false).unwrap().tree(), false).contains("origin"));
}

#[test]
fn startup_copy_delete_and_load_at_boot() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    {
        let ds = open(s, dir.path());
        assert!(ds.snapshot(Datastore::Startup).is_none());
        edit(&ds, 1, Datastore::Running, &item("boot", "")).unwrap();
        ds.copy_config(1, Datastore::Startup, Datastore::Running).unwrap();
        assert_eq!(print(ds.snapshot(Datastore::Startup).unwrap().tree(), false), running(&ds));
        assert_eq!(
            tags(&ds.copy_config(1, Datastore::Running, Datastore::Running).unwrap_err()),
            ["invalid-value"]
        );
        assert!(ds.delete_config(1, Datastore::Running).is_err());
        edit(&ds, 1, Datastore::Running, r#"<item nc:operation="delete"><name>boot</name></item>"#).unwrap();
    }
    let options = Options { load_startup: true, ..Options::default() };
    let ds = Datastores::open(s, dir.path(), options).unwrap();
    assert!(running(&ds).contains("<name>boot</name>"));
    ds.delete_config(1, Datastore::Startup).unwrap();
    assert!(ds.snapshot(Datastore::Startup).is_none());
    assert!(!dir.path().join("startup.xml").exists());
}

#[test]
fn copy_config_inline_rejects_bad_documents_unchanged() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(s, dir.path());
    edit(&ds, 1, Datastore::Running, &item("a", "")).unwrap();
    let before = running(&ds);
    let e = ds
        .copy_config_inline(1, Datastore::Running, "<top xmlns='urn:example:ds'><bogus/></top>")
        .unwrap_err();
    assert!(!e.is_empty());
    let e = ds.copy_config_inline(1, Datastore::Running, "<top xmlns='urn:example:ds'><item>").unwrap_err();
    assert!(!e.is_empty());
    let e = ds.copy_config_inline(1, Datastore::Running, "a\0b").unwrap_err();
    assert_eq!(tags(&e), ["malformed-message"]);
    assert_eq!(running(&ds), before);
}

// ---- crash safety ----

const CHILD_ENV: &str = "OCCD_DATASTORE_CHILD";

fn crash_state(txid: u64) -> String {
    format!("<mode>b</mode><extra>{txid}</extra>")
}

/// The crash-test child: commits forever (item `n<txid>` and the `extra` of
/// item `last`), printing `ACK <txid>` after each. Idle in a normal run.
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let ds = Datastores::open(
        schema(),
        Path::new(&dir),
        Options { compact_bytes: 64 << 10, ..Options::default() },
    )
    .unwrap();
    let mut out = std::io::stdout().lock();
    loop {
        let next = ds.running().txid() + 1;
        let body = format!("{}{}", item(&format!("n{next}"), ""), item("last", &crash_state(next)));
        let txid = edit(&ds, 1, Datastore::Running, &body).unwrap();
        writeln!(out, "ACK {txid}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn sigkill_during_commits_recovers_the_last_acknowledged_commit_50_rounds() {
    let s = schema();
    let work = tempfile::tempdir().unwrap();
    let dir = work.path().join("data");
    std::fs::create_dir_all(&dir).unwrap();
    let mut rng = Rng(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(7, |d| d.as_nanos() as u64));
    let (mut last, mut rounds_with_acks) = (0u64, 0);
    for round in 0..50 {
        let (mut child, reader) =
            common::spawn_acking_child("crash_child", CHILD_ENV, &dir, &work.path().join("child.stderr"));
        std::thread::sleep(Duration::from_millis(30 + rng.below(200)));
        if child.try_wait().unwrap().is_some() {
            let err = std::fs::read_to_string(work.path().join("child.stderr")).unwrap_or_default();
            panic!("round {round}: the child exited by itself: {err}");
        }
        child.kill().unwrap();
        child.wait().unwrap();
        let acked = reader.join().unwrap();
        if acked.is_some() {
            rounds_with_acks += 1;
        }
        let acked = acked.unwrap_or(last);
        let ds = open(s, &dir);
        let txid = ds.running().txid();
        assert!(txid == acked || txid == acked + 1, "round {round}: recovered {txid}, acknowledged {acked}");
        let r = running(&ds);
        assert!(r.contains(&crash_state(txid)), "round {round}: state of {txid} in {r}");
        assert_eq!(r.matches("<name>n").count() as u64, txid, "round {round}: one item per commit");
        last = txid;
    }
    assert!(rounds_with_acks >= 25, "the child rarely got to commit: {rounds_with_acks}");
}

#[test]
fn an_edit_sequence_is_all_or_nothing_and_names_the_failed_edit() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let ds = open(s, dir.path());
    edit(&ds, 1, Datastore::Running, &item("a", "")).unwrap();
    let before = running(&ds);
    let seq = |bodies: &[&str]| -> Vec<(DataTree<'static>, DefaultOperation)> {
        bodies.iter().map(|b| (edit_xml(s, b), DefaultOperation::Merge)).collect()
    };
    let ordered = |k: &str, op: &str| format!("<ordered nc:operation=\"{op}\"><k>{k}</k></ordered>");
    for target in [Datastore::Running, Datastore::Candidate] {
        // The third edit fails (the second created what it creates): none
        // of them stays.
        let edits = seq(&[&item("b", ""), &ordered("x", "create"), &ordered("x", "create")]);
        let f = ds.edit_sequence(1, target, edits, TestOption::TestThenSet, None).unwrap_err();
        assert_eq!(f.edit, Some(2));
        assert_eq!(tags(&f.errors), ["data-exists"]);
        assert_eq!(running(&ds), before);
        // Validation of the result fails: no edit is named.
        let edits = seq(&[&item("c", "<counter>5000</counter>")]);
        let f = ds.edit_sequence(1, target, edits, TestOption::TestThenSet, None);
        if target == Datastore::Running {
            let f = f.unwrap_err();
            assert_eq!((f.edit, tags(&f.errors)), (None, vec!["operation-failed".to_string()]));
        } else {
            // The candidate is validated at commit; start it afresh.
            ds.discard_changes(1).unwrap();
        }
        // A failing precondition stops it before any edit.
        let refuse = |_: &occd::datastore::Snapshot| -> Result<(), Errors> {
            Err(Errors::from(occd::error::Error::operation_failed("precondition")))
        };
        let edits = seq(&[&item("d", "")]);
        let f = ds.edit_sequence(1, target, edits, TestOption::TestThenSet, Some(&refuse)).unwrap_err();
        assert_eq!(f.edit, None);
        // Later edits see earlier ones: create then delete, and a move of
        // an entry created in the same sequence.
        let edits = seq(&[
            &ordered("p", "create"),
            &ordered("q", "create"),
            &ordered("z", "create"),
            &ordered("z", "delete"),
            "<ordered nc:operation=\"merge\" yang:insert=\"first\"><k>q</k></ordered>",
        ]);
        ds.edit_sequence(1, target, edits, TestOption::TestThenSet, None).unwrap();
        let snap = ds.snapshot(target).unwrap_or_else(|| ds.running());
        let text = print(snap.tree(), false);
        assert!(text.contains("<ordered><k>q</k></ordered><ordered><k>p</k></ordered>"), "{text}");
        assert!(!text.contains("<k>z</k>"), "{text}");
        let undo = seq(&[&ordered("p", "delete"), &ordered("q", "delete")]);
        ds.edit_sequence(1, target, undo, TestOption::TestThenSet, None).unwrap();
    }
    assert_eq!(running(&ds), before);
}

/// The `ds` module with its must replaced: another module set.
fn ds_variant(must: &str) -> &'static Schema {
    let text = MODULE.replace("not(counter > 1000)", must);
    let (schema, dir) = common::schema_with(&[("ds", text.as_str()), ("flat", FLAT)], true);
    std::mem::forget(dir);
    Box::leak(Box::new(schema))
}

fn with_options(f: impl FnOnce(&mut Options)) -> Options {
    let mut o = Options::default();
    f(&mut o);
    o
}

#[test]
fn recovery_is_exact_under_the_same_modules_and_validated_under_others() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let expected;
    {
        let ds = open(s, dir.path());
        edit(&ds, 1, Datastore::Running, &item("a", "<mode>b</mode><extra>e</extra><counter>5</counter>"))
            .unwrap();
        edit(&ds, 1, Datastore::Running, &item("b", "<ref>a</ref>")).unwrap();
        ds.compact_now();
        edit(&ds, 1, Datastore::Running, r#"<ordered yang:insert="first"><k>z</k></ordered>"#).unwrap();
        edit(&ds, 1, Datastore::Running, r#"<ordered yang:insert="first"><k>y</k></ordered>"#).unwrap();
        // A removed explicit value brings its default back; a when that
        // turns false takes its node away (both from validation).
        edit(
            &ds,
            1,
            Datastore::Running,
            r#"<item><name>a</name><counter nc:operation="remove">5</counter></item>"#,
        )
        .unwrap();
        edit(&ds, 1, Datastore::Running, &item("c", "<mode>b</mode><extra>x</extra>")).unwrap();
        edit(&ds, 1, Datastore::Running, &item("c", "<mode>a</mode>")).unwrap();
        // A whole-content record, then more.
        let whole = format!(
            r#"<top xmlns="{NS}"><item><name>a</name><mode>b</mode><extra>e</extra></item><item><name>c</name></item><tags>q</tags></top>"#
        );
        ds.copy_config_inline(1, Datastore::Running, &whole).unwrap();
        edit(&ds, 1, Datastore::Running, r#"<tags yang:insert="first">o</tags>"#).unwrap();
        edit(&ds, 1, Datastore::Running, "<opts><level>4</level></opts>").unwrap();
        // User-ordered entries out of sorted order, in a snapshot (its LYB
        // is read back in the order printed) and in records after it.
        edit(&ds, 1, Datastore::Running, r#"<tags yang:insert="last">b</tags>"#).unwrap();
        edit(&ds, 1, Datastore::Running, r#"<ordered><k>z</k></ordered><ordered><k>a</k></ordered>"#)
            .unwrap();
        ds.compact_now();
        edit(&ds, 1, Datastore::Running, r#"<ordered yang:insert="last"><k>m</k></ordered>"#).unwrap();
        let now = running(&ds);
        let order = |v: &[&str]| v.iter().map(|x| now.find(x).unwrap()).collect::<Vec<_>>();
        assert!(order(&["<tags>o<", "<tags>q<", "<tags>b<"]).is_sorted(), "{now}");
        assert!(order(&["<k>z<", "<k>a<", "<k>m<"]).is_sorted(), "{now}");
        expected = (print(ds.running().tree(), true), running(&ds), ds.running().txid());
    }
    let reopened = |s: &'static Schema, o: Options| {
        let ds = Datastores::open(s, dir.path(), o).unwrap();
        let got = (print(ds.running().tree(), true), running(&ds), ds.running().txid());
        (ds.recovered_exactly(), got)
    };
    // Exact, and equal to libyang's full validation of it, flags included
    // (verify mode checks that and refuses to start otherwise).
    let verify = with_options(|o| o.verify_incremental = true);
    assert_eq!(reopened(s, verify.clone()), (true, expected.clone()));
    // The same modules loaded again give the same fingerprint.
    let again = ds_variant("not(counter > 1000)");
    assert_eq!(again.fingerprint(), s.fingerprint());
    assert_eq!(reopened(again, verify.clone()), (true, expected.clone()));
    // Asked for, or under another module set: validated in full.
    assert_eq!(reopened(s, with_options(|o| o.revalidate_at_start = true)), (false, expected.clone()));
    let relaxed = ds_variant("not(counter > 2000)");
    assert_ne!(relaxed.fingerprint(), s.fingerprint());
    assert_eq!(reopened(relaxed, Options::default()), (false, expected.clone()));
    // ... so a rule the data breaks under the new set stops the start.
    let strict = ds_variant("not(mode = 'b')");
    let err = Datastores::open(strict, dir.path(), Options::default()).err().unwrap();
    assert!(err.contains("not valid") && err.contains("counter above 1000"), "{err}");
    // The journal was not rewritten: exact again under the first set, and
    // commits go on from it.
    let ds = Datastores::open(s, dir.path(), verify).unwrap();
    assert!(ds.recovered_exactly());
    edit(&ds, 1, Datastore::Running, &item("d", "<mode>b</mode><extra>y</extra><ref>c</ref>")).unwrap();
    assert!(running(&ds).contains("<name>d</name>"));
}

#[test]
fn a_journal_written_before_the_exact_form_is_read_and_validated() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    {
        use occd::datastore::journal::Journal;
        let (mut j, _) = Journal::open(&dir.path().join("journal")).unwrap();
        let all =
            format!(r#"<top xmlns="{NS}"><item><name>a</name><mode>b</mode><extra>e</extra></item></top>"#);
        j.append(1, &serde_json::to_vec(&serde_json::json!({ "all": all })).unwrap()).unwrap();
        j.snapshot(1, all.as_bytes()).unwrap();
        let b = format!(r#"<top xmlns="{NS}"><item><name>b</name><counter>7</counter></item></top>"#);
        let ops = serde_json::json!({ "ops": [{ "path": "/ds:top/item[name='b']", "xml": b }] });
        j.append(2, &serde_json::to_vec(&ops).unwrap()).unwrap();
    }
    let ds = open(s, dir.path());
    assert!(!ds.recovered_exactly());
    assert_eq!(ds.running().txid(), 2);
    let all = print(ds.running().tree(), true);
    // Validation restored the defaults the old format left out.
    assert!(all.contains("<name>a</name><counter>0</counter><mode>b</mode><extra>e</extra>"), "{all}");
    assert!(all.contains("<name>b</name><counter>7</counter><mode>a</mode>"), "{all}");
    // The next compaction writes the exact form.
    ds.compact_now();
    drop(ds);
    let ds = Datastores::open(s, dir.path(), with_options(|o| o.verify_incremental = true)).unwrap();
    assert!(ds.recovered_exactly());
    assert_eq!(print(ds.running().tree(), true), all);
}

#[test]
fn an_unreadable_exact_form_falls_back_to_validation() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    {
        use occd::datastore::journal::Journal;
        let (mut j, _) = Journal::open(&dir.path().join("journal")).unwrap();
        // A version-2 snapshot under the right fingerprint whose LYB is not
        // LYB (a bug, or a libyang that reads LYB differently).
        let xml = format!(r#"<top xmlns="{NS}"><item><name>a</name></item></top>"#);
        let lyb = b"not lyb!";
        let header =
            serde_json::json!({ "schema": s.fingerprint(), "all": { "xml": xml.len(), "lyb": lyb.len() } });
        let header = serde_json::to_vec(&header).unwrap();
        let mut payload = b"OCJ2".to_vec();
        payload.extend_from_slice(&(header.len() as u32).to_le_bytes());
        payload.extend_from_slice(&header);
        payload.extend_from_slice(xml.as_bytes());
        payload.extend_from_slice(lyb);
        j.append(1, &payload).unwrap();
        j.snapshot(1, &payload).unwrap();
    }
    let ds = open(s, dir.path());
    assert!(!ds.recovered_exactly());
    assert!(print(ds.running().tree(), true).contains("<name>a</name><counter>0</counter><mode>a</mode>"));
    // A payload cut short is refused with its reason, not read past its end.
    let dir2 = tempfile::tempdir().unwrap();
    {
        use occd::datastore::journal::Journal;
        let (mut j, _) = Journal::open(&dir2.path().join("journal")).unwrap();
        let header =
            serde_json::to_vec(&serde_json::json!({ "schema": "x", "all": { "xml": 100, "lyb": 100 } }))
                .unwrap();
        let mut payload = b"OCJ2".to_vec();
        payload.extend_from_slice(&(header.len() as u32).to_le_bytes());
        payload.extend_from_slice(&header);
        payload.extend_from_slice(b"<top/>");
        j.append(1, &payload).unwrap();
    }
    let err = Datastores::open(s, dir2.path(), Options::default()).err().unwrap();
    assert!(err.contains("journal record 1") && err.contains("shorter than its header"), "{err}");
}

#[test]
fn startup_is_read_exactly_unless_its_file_was_edited() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let expected;
    {
        let ds = open(s, dir.path());
        edit(&ds, 1, Datastore::Running, &item("a", "<mode>b</mode><extra>e</extra>")).unwrap();
        ds.copy_config(1, Datastore::Startup, Datastore::Running).unwrap();
        expected = print(ds.snapshot(Datastore::Startup).unwrap().tree(), true);
    }
    let verify = with_options(|o| o.verify_incremental = true);
    let ds = Datastores::open(s, dir.path(), verify.clone()).unwrap();
    assert!(ds.recovered_exactly());
    assert_eq!(print(ds.snapshot(Datastore::Startup).unwrap().tree(), true), expected);
    drop(ds);
    // Someone edits startup.xml by hand: its exact form no longer matches.
    let file = dir.path().join("startup.xml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("<name>a</name>", "<name>a2</name>")).unwrap();
    let ds = Datastores::open(s, dir.path(), verify.clone()).unwrap();
    assert!(!ds.recovered_exactly());
    let got = print(ds.snapshot(Datastore::Startup).unwrap().tree(), true);
    assert_eq!(got, expected.replace("<name>a</name>", "<name>a2</name>"));
    // A damaged exact form is ignored too; delete-config removes both files.
    std::fs::write(&file, text).unwrap();
    let exact = dir.path().join("startup.exact");
    let mut bytes = std::fs::read(&exact).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&exact, &bytes).unwrap();
    drop(ds);
    let ds = Datastores::open(s, dir.path(), verify).unwrap();
    assert!(!ds.recovered_exactly());
    assert_eq!(print(ds.snapshot(Datastore::Startup).unwrap().tree(), true), expected);
    ds.delete_config(1, Datastore::Startup).unwrap();
    assert!(!file.exists() && !exact.exists());
}

/// A commit recorded as the whole content (the first commit, which makes
/// the whole tree; a copy-config) is, when compaction is due, stored as the
/// snapshot as it is: the snapshot equals what compaction prints from
/// running, and the journal recovers exactly from it.
#[test]
fn a_whole_content_record_is_the_snapshot_as_it_is() {
    let s = schema();
    let dir = tempfile::tempdir().unwrap();
    let every_commit = with_options(|o| {
        o.compact_bytes = 1;
        o.verify_incremental = true;
    });
    let snapshot_payload = || {
        let bytes = std::fs::read(dir.path().join("journal").join("snapshot")).unwrap();
        bytes[32..].to_vec()
    };
    let as_compaction_prints = |ds: &Datastores| {
        // SAFETY: the published tree is read only.
        unsafe { occd::datastore::delta::encode_snapshot(ds.running().root(), s.fingerprint()) }.unwrap()
    };
    let expected;
    {
        let ds = Datastores::open(s, dir.path(), every_commit.clone()).unwrap();
        edit(&ds, 1, Datastore::Running, &item("a", "<mode>b</mode><extra>e</extra><counter>5</counter>"))
            .unwrap();
        assert_eq!(snapshot_payload(), as_compaction_prints(&ds), "first commit");
        edit(&ds, 1, Datastore::Running, &item("b", "<ref>a</ref>")).unwrap();
        assert_eq!(snapshot_payload(), as_compaction_prints(&ds), "an edit, compacted by printing");
        let whole = format!(
            r#"<top xmlns="{NS}"><item><name>c</name><mode>b</mode><extra>x</extra></item><tags>q</tags></top>"#
        );
        ds.copy_config_inline(1, Datastore::Running, &whole).unwrap();
        assert_eq!(snapshot_payload(), as_compaction_prints(&ds), "copy-config");
        expected = (print(ds.running().tree(), true), ds.running().txid());
    }
    let ds = Datastores::open(s, dir.path(), every_commit).unwrap();
    assert!(ds.recovered_exactly());
    assert_eq!((print(ds.running().tree(), true), ds.running().txid()), expected);
}
