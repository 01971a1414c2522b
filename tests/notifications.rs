//! Notifications: RFC 5277 subscriptions over NETCONF sessions (raw bytes
//! through `session::run`), RFC 6470 content checked against the edits
//! and sessions that caused it, filters, streams, replay, the replay log
//! file, notifications of a loaded module sent through the bus, and a
//! subscriber that stops reading.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use common::nc::Client;
use occd::datastore::{Datastores, Options};
use occd::netconf::{Limits, Server};
use occd::notify::{self, events, Bus};
use occd::schema::Schema;

const NTF_TEST: &str = r#"module ntf-test {
  yang-version 1.1;
  namespace "urn:test:ntf";
  prefix t;
  container top {
    list item {
      key name;
      leaf name { type string; }
      leaf value { type string; }
      notification item-event { leaf what { type string; } }
    }
  }
  notification alarm {
    leaf severity { type enumeration { enum minor; enum major; } mandatory true; }
    leaf text { type string; }
  }
}
"#;

const EVENTS: &str = "urn:ietf:params:xml:ns:netconf:notification:1.0";

fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    common::leaked_schema(&SCHEMA, &[("ntf-test", NTF_TEST)])
}

struct Env {
    server: Arc<Server>,
    _dir: tempfile::TempDir,
}

fn env_with(limits: notify::Limits) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let ds = Datastores::open(schema(), dir.path(), Options::default()).unwrap();
    let bus = Bus::open(schema(), Some(dir.path()), limits).unwrap();
    Env { server: Server::with_bus(ds, Limits::default(), bus), _dir: dir }
}

fn env() -> Env {
    env_with(notify::Limits::default())
}

fn subscribe(params: &str) -> String {
    format!("<create-subscription xmlns=\"{EVENTS}\">{params}</create-subscription>")
}

fn edit(target: &str, config: &str) -> String {
    format!("<edit-config><target><{target}/></target><config>{config}</config></edit-config>")
}

/// The next `<notification>`, skipping nothing; panics on anything else.
async fn notification(c: &mut Client) -> String {
    let m = c.recv_within(Duration::from_secs(20)).await.expect("a notification within 20 s").expect("open");
    assert!(m.starts_with(&format!("<notification xmlns=\"{EVENTS}\"><eventTime>")), "{m}");
    m
}

/// The next notification whose content contains `marker`, skipping others.
async fn notification_with(c: &mut Client, marker: &str) -> String {
    for _ in 0..50 {
        let n = notification(c).await;
        if n.contains(marker) {
            return n;
        }
    }
    panic!("no notification with {marker}");
}

/// The instance-identifier of item `name`.
fn item(name: &str) -> String {
    format!("/ntf-test:top/ntf-test:item[ntf-test:name='{name}']")
}

/// `(target, operation)` of each `<edit>` of a config-change.
fn edits(n: &str) -> Vec<(String, String)> {
    n.split("<edit>")
        .skip(1)
        .map(|e| {
            let target = e.split("</target>").next().unwrap().rsplit('>').next().unwrap().to_string();
            let op = e.split("<operation>").nth(1).unwrap().split('<').next().unwrap().to_string();
            (target, op)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_change_confirmed_commit_and_session_events() {
    let env = env();
    let mut sub = Client::connect(&env.server, true).await;
    assert!(sub.hello.contains("urn:ietf:params:netconf:capability:notification:1.0"));
    assert!(sub.hello.contains("urn:ietf:params:netconf:capability:interleave:1.0"));
    sub.ok(&subscribe("<stream>ietf-netconf-notifications</stream>")).await;
    let mut b = Client::connect(&env.server, true).await;
    let n = notification_with(&mut sub, "netconf-session-start").await;
    assert!(
        n.contains(&format!("<username>tester</username><session-id>{}</session-id>", b.session_id)),
        "{n}"
    );

    // Each commit's config-change lists what that edit did, topmost nodes.
    b.ok(&edit("running", r#"<top xmlns="urn:test:ntf"><item><name>a</name><value>1</value></item></top>"#))
        .await;
    let n = notification_with(&mut sub, "netconf-config-change").await;
    let who = format!(
        "<changed-by><username>tester</username><session-id>{}</session-id></changed-by>",
        b.session_id
    );
    assert!(n.contains(&who), "{n}");
    assert!(n.contains("<datastore>running</datastore>"), "{n}");
    // Targets are instance-identifiers with module names as prefixes.
    assert_eq!(edits(&n), [(item("a"), "create".to_string())], "{n}");
    assert!(n.contains("xmlns:ntf-test=\"urn:test:ntf\""), "{n}");
    b.ok(&edit(
        "running",
        r#"<top xmlns="urn:test:ntf"><item><name>a</name><value>2</value></item><item><name>b</name></item></top>"#,
    ))
    .await;
    let n = notification_with(&mut sub, "netconf-config-change").await;
    assert_eq!(
        edits(&n),
        [(format!("{}/ntf-test:value", item("a")), "replace".to_string()), (item("b"), "create".to_string()),],
        "{n}"
    );
    b.ok(&edit(
        "running",
        r#"<top xmlns="urn:test:ntf" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><item nc:operation="delete"><name>a</name></item></top>"#,
    ))
    .await;
    let n = notification_with(&mut sub, "netconf-config-change").await;
    assert_eq!(edits(&n), [(item("a"), "delete".to_string())], "{n}");
    // The candidate is not a datastore config-change reports.
    b.ok(&edit("candidate", r#"<top xmlns="urn:test:ntf"><item><name>c</name></item></top>"#)).await;
    // A confirmed commit: its config-change, then the step.
    b.ok("<commit><confirmed/><confirm-timeout>60</confirm-timeout></commit>").await;
    let n = notification(&mut sub).await;
    assert_eq!(edits(&n), [(item("c"), "create".to_string())], "{n}");
    let n = notification(&mut sub).await;
    assert!(n.contains("<confirm-event>start</confirm-event><timeout>60</timeout>"), "{n}");
    assert!(n.contains(&format!("<session-id>{}</session-id>", b.session_id)), "{n}");
    b.ok("<commit><confirmed/><confirm-timeout>90</confirm-timeout></commit>").await;
    let n = notification(&mut sub).await;
    assert!(n.contains("<confirm-event>extend</confirm-event><timeout>90</timeout>"), "{n}");
    b.ok("<cancel-commit/>").await;
    let n = notification(&mut sub).await;
    assert_eq!(edits(&n), [(item("c"), "delete".to_string())], "{n}");
    assert!(n.contains(&who), "the revert is the cancelling session's change: {n}");
    let n = notification(&mut sub).await;
    assert!(n.contains("<confirm-event>cancel</confirm-event>"), "{n}");
    b.ok(&edit("candidate", r#"<top xmlns="urn:test:ntf"><item><name>d</name></item></top>"#)).await;
    b.ok("<commit><confirmed/></commit>").await;
    let n = notification(&mut sub).await;
    assert_eq!(edits(&n), [(item("d"), "create".to_string())], "{n}");
    let n = notification(&mut sub).await;
    assert!(n.contains("<confirm-event>start</confirm-event><timeout>600</timeout>"), "{n}");
    b.ok("<commit/>").await;
    let n = notification(&mut sub).await;
    assert!(n.contains("<confirm-event>complete</confirm-event>"), "{n}");
    // A timeout: the server reverts (changed-by server), then the step,
    // which carries no session.
    b.ok(&edit("candidate", r#"<top xmlns="urn:test:ntf"><item><name>e</name></item></top>"#)).await;
    b.ok("<commit><confirmed/><confirm-timeout>30</confirm-timeout></commit>").await;
    let n = notification(&mut sub).await;
    assert_eq!(edits(&n), [(item("e"), "create".to_string())], "{n}");
    assert!(notification(&mut sub).await.contains("<confirm-event>start</confirm-event>"));
    let later = tokio::time::Instant::now() + Duration::from_secs(31);
    env.server.ds.expire_confirmed_commit(later).expect("a pending commit").unwrap();
    let n = notification(&mut sub).await;
    assert_eq!(edits(&n), [(item("e"), "delete".to_string())], "{n}");
    assert!(n.contains("<changed-by><server/></changed-by>"), "{n}");
    let n = notification(&mut sub).await;
    assert!(n.contains("<netconf-confirmed-commit xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-notifications\"><confirm-event>timeout</confirm-event></netconf-confirmed-commit>"), "{n}");

    // Session ends: closed, and killed by another session.
    let mut c = Client::connect(&env.server, true).await;
    b.ok(&format!("<kill-session><session-id>{}</session-id></kill-session>", c.session_id)).await;
    assert!(c.closed().await);
    let n = notification_with(&mut sub, "netconf-session-end").await;
    assert!(n.contains(&format!("<session-id>{}</session-id>", c.session_id)), "{n}");
    assert!(
        n.contains(&format!(
            "<killed-by>{}</killed-by><termination-reason>killed</termination-reason>",
            b.session_id
        )),
        "{n}"
    );
    b.ok("<close-session/>").await;
    let n = notification_with(&mut sub, "netconf-session-end").await;
    assert!(n.contains("<termination-reason>closed</termination-reason>"), "{n}");
    // Interleave: the subscribed session still takes RPCs.
    let r = sub.rpc("<get><filter type=\"subtree\"><netconf xmlns=\"urn:ietf:params:xml:ns:netmod:notification\"/></filter></get>").await;
    for stream in ["NETCONF", "ietf-netconf-notifications", "ntf-test"] {
        assert!(r.contains(&format!("<name>{stream}</name>")), "{r}");
    }
    assert!(r.contains("<replaySupport>true</replaySupport>"), "{r}");
    assert!(!r.contains("<name>nc-notifications</name>"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_subscription_errors() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    let r = c.err(&subscribe("<stream>nope</stream>"), "invalid-value").await;
    assert!(r.contains("no event stream"), "{r}");
    let r = c.err(&subscribe("<startTime>2999-01-01T00:00:00Z</startTime>"), "bad-element").await;
    assert!(r.contains("<bad-element>startTime</bad-element>"), "{r}");
    let r = c.err(&subscribe("<stopTime>2020-01-01T00:00:00Z</stopTime>"), "missing-element").await;
    assert!(r.contains("<bad-element>startTime</bad-element>"), "{r}");
    let r = c
        .err(
            &subscribe(
                "<startTime>2020-01-02T00:00:00Z</startTime><stopTime>2020-01-01T00:00:00Z</stopTime>",
            ),
            "bad-element",
        )
        .await;
    assert!(r.contains("<bad-element>stopTime</bad-element>"), "{r}");
    c.err(&subscribe("<startTime>yesterday</startTime>"), "bad-element").await;
    c.err(&subscribe("<colour>red</colour>"), "unknown-element").await;
    c.err(&subscribe("<filter type=\"regex\">.*</filter>"), "bad-attribute").await;
    c.err(
        &subscribe("<filter type=\"xpath\" select=\"/t:alarm[\" xmlns:t=\"urn:test:ntf\"/>"),
        "invalid-value",
    )
    .await;
    // None of those subscribed; this one does, and a second is refused.
    c.ok(&subscribe("")).await;
    let r = c.err(&subscribe(""), "in-use").await;
    assert!(r.contains("one per session"), "{r}");
}

fn alarm(severity: &str, text: &str) -> String {
    format!("<alarm xmlns=\"urn:test:ntf\"><severity>{severity}</severity><text>{text}</text></alarm>")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_notifications_filters_streams_and_replay() {
    let env = env();
    let bus = env.server.bus.clone();
    let before = SystemTime::now() - Duration::from_secs(1);
    // The domain layer's entry point checks notifications against the schema.
    assert!(bus.send("<alarm xmlns=\"urn:test:ntf\"><text>no severity</text></alarm>").is_err());
    assert!(bus.send("<top xmlns=\"urn:test:ntf\"/>").is_err());
    assert!(bus.send("<nope xmlns=\"urn:test:nope\"/>").is_err());
    let ev = bus.send(&alarm("major", "fan")).unwrap();
    assert_eq!(&*ev.stream, "ntf-test");
    assert_eq!(
        ev.json(schema()).as_deref(),
        Some("\"ntf-test:alarm\":{\"severity\":\"major\",\"text\":\"fan\"}")
    );

    // Live: the module's stream, a subtree content match, an XPath filter.
    let mut by_stream = Client::connect(&env.server, true).await;
    by_stream.ok(&subscribe("<stream>ntf-test</stream>")).await;
    let mut subtree = Client::connect(&env.server, false).await;
    subtree
        .ok(&subscribe(
            "<filter type=\"subtree\"><alarm xmlns=\"urn:test:ntf\"><severity>minor</severity></alarm></filter>",
        ))
        .await;
    let mut xpath = Client::connect(&env.server, true).await;
    xpath
        .ok(&subscribe(
            "<filter xmlns:x=\"urn:test:ntf\" type=\"xpath\" select=\"/x:top/x:item[x:name='k']/x:item-event\"/>",
        ))
        .await;
    bus.send(&alarm("minor", "disk")).unwrap();
    bus.send("<top xmlns=\"urn:test:ntf\"><item><name>j</name><item-event><what>ignored</what></item-event></item></top>")
        .unwrap();
    bus.send("<top xmlns=\"urn:test:ntf\"><item><name>k</name><item-event><what>up</what></item-event></item></top>")
        .unwrap();
    bus.send(&alarm("major", "psu")).unwrap();
    // The stream has the module's events only (no session events).
    for want in ["disk", "ignored", "<what>up</what>", "psu"] {
        let n = notification(&mut by_stream).await;
        assert!(n.contains(want), "{want}: {n}");
    }
    let n = notification(&mut subtree).await;
    assert!(n.contains("<severity>minor</severity><text>disk</text>"), "{n}");
    let n = notification(&mut xpath).await;
    assert!(n.contains("<name>k</name><item-event><what>up</what></item-event>"), "{n}");
    assert!(by_stream.recv_within(Duration::from_millis(300)).await.is_none());
    assert!(subtree.recv_within(Duration::from_millis(300)).await.is_none());
    assert!(xpath.recv_within(Duration::from_millis(300)).await.is_none());

    // Replay: from before the first alarm to now; then replayComplete,
    // notificationComplete, nothing more, and a new subscription allowed.
    let mut r = Client::connect(&env.server, true).await;
    let start = notify::event_time(before);
    let stop = notify::event_time(SystemTime::now());
    r.ok(&subscribe(&format!(
        "<stream>ntf-test</stream><startTime>{start}</startTime><stopTime>{stop}</stopTime>"
    )))
    .await;
    for want in ["fan", "disk", "ignored", "<what>up</what>", "psu"] {
        let n = notification(&mut r).await;
        assert!(n.contains(want), "{want}: {n}");
    }
    assert!(notification(&mut r)
        .await
        .contains("<replayComplete xmlns=\"urn:ietf:params:xml:ns:netmod:notification\"/>"));
    assert!(notification(&mut r).await.contains("<notificationComplete"));
    bus.send(&alarm("minor", "after")).unwrap();
    assert!(r.recv_within(Duration::from_millis(300)).await.is_none());
    // Replay without a stop time continues live.
    r.ok(&subscribe(&format!(
        "<stream>ntf-test</stream><startTime>{}</startTime>",
        notify::event_time(ev.time)
    )))
    .await;
    for want in ["fan", "disk", "ignored", "up", "psu", "after", "replayComplete"] {
        assert!(notification(&mut r).await.contains(want), "{want}");
    }
    bus.send(&alarm("minor", "live")).unwrap();
    assert!(notification(&mut r).await.contains("live"));
}

/// A subscriber that stops reading is ended (its session closed, reason
/// `other`) while commits and the other subscribers go on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_is_ended() {
    let limits =
        notify::Limits { queue: 16, write_timeout: Duration::from_secs(1), ..notify::Limits::default() };
    let env = env_with(limits);
    let mut good = Client::connect(&env.server, true).await;
    good.ok(&subscribe("")).await;
    let mut slow = Client::open_with_buffer(&env.server, 4096).await;
    slow.send(common::nc::HELLO_11).await;
    slow.set_chunked();
    slow.ok(&subscribe("")).await;
    let mut editor = Client::connect(&env.server, true).await;
    let text = "x".repeat(2000);
    let started = std::time::Instant::now();
    // Batches of 10 alarms and a commit; the good subscriber reads each
    // batch; the slow one reads nothing (its pipe holds 4 KiB).
    let mut next = 0;
    for batch in 0..20 {
        for i in batch * 10..batch * 10 + 10 {
            env.server.bus.send(&alarm("minor", &format!("{i} {text}"))).unwrap();
        }
        editor
            .ok(&edit(
                "running",
                &format!("<top xmlns=\"urn:test:ntf\"><item><name>e{batch}</name></item></top>"),
            ))
            .await;
        while next < batch * 10 + 10 {
            let n = notification(&mut good).await;
            if n.contains("<alarm") {
                assert!(n.contains(&format!("<text>{next} ")), "expected alarm {next}: {}", &n[..200]);
                next += 1;
            }
        }
    }
    // Publishing and commits never waited for the stalled reader.
    eprintln!("200 events and 20 commits with a stalled subscriber: {:?}", started.elapsed());
    let n = notification_with(&mut good, "netconf-session-end").await;
    assert!(n.contains(&format!("<session-id>{}</session-id>", slow.session_id)), "{n}");
    assert!(n.contains("<termination-reason>other</termination-reason>"), "{n}");
}

#[test]
fn replay_log_survives_a_restart_and_capability_changes_are_noted() {
    let dir = tempfile::tempdir().unwrap();
    let bus = Bus::open(schema(), Some(dir.path()), notify::Limits::default()).unwrap();
    let caps = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    events::note_capabilities(&bus, dir.path(), &caps(&["a", "m?revision=1"])).unwrap();
    assert!(bus.logged().is_empty(), "the first run has nothing to compare with");
    bus.send(&alarm("minor", "one")).unwrap();
    bus.send(&alarm("major", "two")).unwrap();
    let created = bus.log_created();
    drop(bus);
    let bus = Bus::open(schema(), Some(dir.path()), notify::Limits::default()).unwrap();
    let logged = bus.logged();
    assert_eq!(logged.len(), 2);
    assert!(logged[1].xml.contains("two"));
    assert_eq!(notify::event_time(bus.log_created()), notify::event_time(created));
    events::note_capabilities(&bus, dir.path(), &caps(&["m?revision=2", "b"])).unwrap();
    let ev = bus.logged().pop().unwrap();
    assert_eq!(ev.seq, 3);
    assert!(ev.xml.contains("<netconf-capability-change"), "{}", ev.xml);
    assert!(ev.xml.contains("<added-capability>b</added-capability>"), "{}", ev.xml);
    assert!(ev.xml.contains("<deleted-capability>a</deleted-capability>"), "{}", ev.xml);
    assert!(ev.xml.contains("<modified-capability>m?revision=2</modified-capability>"), "{}", ev.xml);
    // The RFC 6470 content is valid against ietf-netconf-notifications.
    notify::parse_content(schema(), &ev.xml).unwrap();
    // Limits: only the newest events are kept.
    let small = notify::Limits { max_events: 2, ..notify::Limits::default() };
    drop(bus);
    let bus = Bus::open(schema(), Some(dir.path()), small).unwrap();
    assert_eq!(bus.logged().iter().map(|e| e.seq).collect::<Vec<_>>(), [2, 3]);
}

/// An OCC notification (occ-services service-state-change) through the bus
/// with the default module set: validated, on its module's stream, in JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_occ_notification_goes_through_the_bus() {
    let schema = common::leaked_default_schema();
    let bus = Bus::in_memory(schema);
    assert!(bus.streams().iter().any(|s| s.name == "occ-services"));
    let req = notify::Request {
        stream: "occ-services".into(),
        filter: occd::netconf::filter::Filter::All,
        start: None,
        stop: None,
    };
    let mut sub = bus.subscribe(req, notify::subscription::Encoding::Json).unwrap();
    let ns = "urn:occd:params:xml:ns:yang:occ-services";
    let bad = format!("<service-state-change xmlns=\"{ns}\"><service-id>svc-1</service-id><to>nonsense</to></service-state-change>");
    assert!(bus.send(&bad).is_err());
    let good = format!(
        "<service-state-change xmlns=\"{ns}\"><service-id>svc-1</service-id><from>designed</from><to>feasibility-checked</to><cause>operator-request</cause><at>2026-11-24T00:00:00Z</at></service-state-change>"
    );
    bus.send(&good).unwrap();
    match sub.next().await {
        Some(notify::Item::Event { content, .. }) => {
            let v: serde_json::Value = serde_json::from_str(&format!("{{{content}}}")).unwrap();
            let n = &v["occ-services:service-state-change"];
            assert_eq!(n["service-id"], "svc-1", "{v}");
            assert_eq!(n["to"], "feasibility-checked", "{v}");
        }
        other => panic!("{other:?}"),
    }
}
