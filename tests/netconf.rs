//! NETCONF protocol tests: raw bytes through a session (`occd::netconf::
//! session::run` over an in-memory pipe, the SSH layer aside), every
//! operation and its error paths, framing and hello cases, and the
//! session rules (locks, kill-session, close-session).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::nc::{Client, BASE, HELLO_11};

use std::sync::Arc;
use std::time::Duration;

use occd::datastore::{Datastores, Options};
use occd::error::Errors;
use occd::netconf::framing::{encode, Framing};
use occd::netconf::{session, Limits, RpcCall, RpcHandler, Server};
use occd::schema::Schema;
use tokio::io::AsyncReadExt;

const NC_TEST: &str = r#"module nc-test {
  yang-version 1.1;
  namespace "urn:test:nc";
  prefix t;
  container top {
    list item {
      key name;
      leaf name { type string; }
      leaf value { type string; }
      leaf counter { type uint32; default 7; }
      leaf-list tags { type string; }
      action reset {
        input { leaf to { type uint32; } }
        output { leaf was { type string; } }
      }
    }
    container opts { leaf level { type uint8; default 3; } leaf label { type string; } }
    leaf-list order { type string; ordered-by user; }
  }
  container other { leaf x { type string; } }
  container state {
    config false;
    leaf uptime { type uint32; }
  }
  rpc ping {
    input { leaf msg { type string; mandatory true; } }
    output { leaf echo { type string; } }
  }
  rpc unimplemented { }
}
"#;

fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    common::leaked_schema(&SCHEMA, &[("nc-test", NC_TEST)])
}

struct Ping;
impl RpcHandler for Ping {
    fn call(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        let msg = call.input_xml.split("<msg>").nth(1).and_then(|s| s.split("</msg>").next()).unwrap_or("");
        Ok(format!("<echo xmlns=\"urn:test:nc\">{msg}</echo>"))
    }
}

struct Reset;
impl RpcHandler for Reset {
    fn call(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        let name =
            call.input_xml.split("<name>").nth(1).and_then(|s| s.split("</name>").next()).unwrap_or("");
        Ok(format!("<was xmlns=\"urn:test:nc\">{name}</was>"))
    }
}

struct Env {
    server: Arc<Server>,
    _dir: tempfile::TempDir,
}

fn env_with(limits: Limits) -> Env {
    let dir = tempfile::tempdir().unwrap();
    let ds = Datastores::open(schema(), dir.path(), Options::default()).unwrap();
    let server = Server::new(ds, limits);
    server.register_rpc("urn:test:nc", "ping", Arc::new(Ping));
    server.register_rpc("urn:test:nc", "reset", Arc::new(Reset));
    Env { server, _dir: dir }
}

fn env() -> Env {
    env_with(Limits::default())
}

fn edit(target: &str, config: &str) -> String {
    format!("<edit-config><target><{target}/></target><config>{config}</config></edit-config>")
}

fn get_config(source: &str, filter: &str) -> String {
    format!("<get-config><source><{source}/></source>{filter}</get-config>")
}

const ITEM_A: &str = r#"<top xmlns="urn:test:nc"><item><name>a</name><value>1</value></item></top>"#;
const ITEM_B: &str =
    r#"<top xmlns="urn:test:nc"><item><name>b</name><value>2</value><tags>x</tags></item></top>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hello_advertises_what_is_implemented() {
    let env = env();
    let c = Client::open(&env.server).await;
    let h = &c.hello;
    for cap in [
        "urn:ietf:params:netconf:base:1.0",
        "urn:ietf:params:netconf:base:1.1",
        "urn:ietf:params:netconf:capability:writable-running:1.0",
        "urn:ietf:params:netconf:capability:candidate:1.0",
        "urn:ietf:params:netconf:capability:confirmed-commit:1.1",
        "urn:ietf:params:netconf:capability:rollback-on-error:1.0",
        "urn:ietf:params:netconf:capability:validate:1.1",
        "urn:ietf:params:netconf:capability:startup:1.0",
        "urn:ietf:params:netconf:capability:xpath:1.0",
        "urn:ietf:params:netconf:capability:with-defaults:1.0?basic-mode=explicit&amp;also-supported=report-all,report-all-tagged,trim",
        "urn:ietf:params:netconf:capability:yang-library:1.1?revision=2019-01-04&amp;content-id=",
        "urn:test:nc?module=nc-test</capability>",
        "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring?module=ietf-netconf-monitoring&amp;revision=2010-10-04",
    ] {
        assert!(h.contains(cap), "missing {cap} in {h}");
    }
    assert!(h.contains("urn:ietf:params:netconf:capability:notification:1.0"), "{h}");
    assert!(h.contains("urn:ietf:params:netconf:capability:interleave:1.0"), "{h}");
    assert!(c.session_id >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framing_1_0_and_1_1_and_hello_plus_rpc_in_one_write() {
    let env = env();
    // base:1.0 only: EOM framing stays.
    let mut c = Client::connect(&env.server, false).await;
    c.ok("<lock><target><running/></target></lock>").await;
    c.ok("<unlock><target><running/></target></unlock>").await;

    // Hello and a chunked rpc in one write, the rpc split over two chunks.
    let mut c = Client::open(&env.server).await;
    let mut bytes = encode(Framing::Eom, HELLO_11.as_bytes());
    let rpc = format!(
        "<rpc message-id=\"7\" xmlns=\"{BASE}\"><get-config><source><running/></source></get-config></rpc>"
    );
    let (x, y) = rpc.split_at(20);
    bytes.extend_from_slice(format!("\n#{}\n{x}\n#{}\n{y}\n##\n", x.len(), y.len()).as_bytes());
    c.send_raw(&bytes).await;
    c.set_chunked();
    let r = c.recv().await.unwrap();
    assert!(r.contains("message-id=\"7\"") && r.contains("<data"), "{r}");

    // A chunk header split byte by byte.
    let rpc = format!(
        "<rpc message-id=\"8\" xmlns=\"{BASE}\"><get-config><source><running/></source></get-config></rpc>"
    );
    let framed = encode(Framing::Chunked, rpc.as_bytes());
    for b in framed.chunks(1) {
        c.send_raw(b).await;
    }
    assert!(c.recv().await.unwrap().contains("message-id=\"8\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framing_errors_answer_and_close() {
    let env = env();
    for bad in
        [&b"\n#0\n"[..], b"\n#01\nx", b"\n#99999999999999999999\n", b"<rpc/>]]>]]>", b"\n##\n", b"#5\nabcde"]
    {
        let mut c = Client::connect(&env.server, true).await;
        c.send_raw(bad).await;
        let r = c.recv().await.expect("an error reply");
        assert!(r.contains("<error-tag>malformed-message</error-tag>"), "{r}");
        assert!(!r.contains("message-id"), "{r}");
        assert!(c.closed().await, "session must end after {:?}", String::from_utf8_lossy(bad));
    }
    // Other sessions keep working.
    let mut c = Client::connect(&env.server, true).await;
    c.ok("<lock><target><candidate/></target></lock>").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_messages_get_too_big() {
    let env = env_with(Limits { max_message_bytes: 1000, ..Limits::default() });
    let mut c = Client::connect(&env.server, true).await;
    let big = format!("<rpc message-id=\"1\" xmlns=\"{BASE}\"><get-config><source><running/></source><filter>{}</filter></get-config></rpc>", " ".repeat(2000));
    c.send(&big).await;
    let r = c.recv().await.unwrap();
    assert!(r.contains("<error-tag>too-big</error-tag>"), "{r}");
    assert!(c.closed().await);
    let mut c = Client::connect(&env.server, false).await;
    c.send(&big).await;
    assert!(c.recv().await.unwrap().contains("too-big"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_hellos_close_the_session() {
    let env = env();
    for hello in [
        // An rpc before hello.
        format!("<rpc message-id=\"1\" xmlns=\"{BASE}\"><get/></rpc>"),
        // A client hello with a session-id.
        format!("<hello xmlns=\"{BASE}\"><capabilities><capability>urn:ietf:params:netconf:base:1.1</capability></capabilities><session-id>4</session-id></hello>"),
        // Only an unknown base version.
        format!("<hello xmlns=\"{BASE}\"><capabilities><capability>urn:ietf:params:netconf:base:2.0</capability></capabilities></hello>"),
        // Wrong namespace.
        "<hello xmlns=\"urn:wrong\"><capabilities><capability>urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>".to_string(),
        "not xml at all".to_string(),
    ] {
        let mut c = Client::open(&env.server).await;
        c.send_raw(&encode(Framing::Eom, hello.as_bytes())).await;
        assert!(c.closed().await, "session must end after {hello}");
    }
    // A prefixed hello with base:1.1 plus parameters is fine (1.0 kept).
    let mut c = Client::open(&env.server).await;
    c.send_raw(&encode(Framing::Eom, format!("<nc:hello xmlns:nc=\"{BASE}\"><nc:capabilities><nc:capability>urn:ietf:params:netconf:base:1.0</nc:capability></nc:capabilities></nc:hello>").as_bytes())).await;
    c.ok("<discard-changes/>").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpc_envelope_rules() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    // Every attribute echoed; prefixed base namespace.
    c.send(&format!("<nc:rpc xmlns:nc=\"{BASE}\" message-id=\"urn:uuid:42\" xmlns:ex=\"urn:ex\" ex:user-id=\"fred\"><nc:get-config><nc:source><nc:running/></nc:source></nc:get-config></nc:rpc>")).await;
    let r = c.recv().await.unwrap();
    assert!(r.starts_with(&format!("<rpc-reply xmlns=\"{BASE}\" xmlns:nc=\"{BASE}\" message-id=\"urn:uuid:42\" xmlns:ex=\"urn:ex\" ex:user-id=\"fred\">")), "{r}");
    // A qualified message-id (netconf-client 2.x) is accepted and echoed.
    c.send(&format!("<nc:rpc xmlns:nc=\"{BASE}\" nc:message-id=\"0\"><nc:discard-changes/></nc:rpc>")).await;
    let r = c.recv().await.unwrap();
    assert!(r.contains("nc:message-id=\"0\"") && r.contains("<ok/>"), "{r}");
    // An operation with no namespace is read as a base operation.
    c.send(&format!("<nc:rpc xmlns:nc=\"{BASE}\" message-id=\"5\"><get-config><source><running/></source></get-config></nc:rpc>")).await;
    let r = c.recv().await.unwrap();
    assert!(r.contains("<data"), "{r}");
    // Missing message-id.
    c.send(&format!("<rpc xmlns=\"{BASE}\"><get/></rpc>")).await;
    let r = c.recv().await.unwrap();
    assert!(r.contains("<error-tag>missing-attribute</error-tag>"), "{r}");
    assert!(
        r.contains("<bad-attribute>message-id</bad-attribute>")
            && r.contains("<bad-element>rpc</bad-element>"),
        "{r}"
    );
    // Malformed XML, DOCTYPE, entities: malformed-message, session lives.
    for bad in [
        "<rpc message-id=\"1\"".to_string(),
        format!("<!DOCTYPE rpc [<!ENTITY x \"y\">]><rpc message-id=\"1\" xmlns=\"{BASE}\"><get/></rpc>"),
        format!("<rpc message-id=\"1\" xmlns=\"{BASE}\"><get>&x;</get></rpc>"),
        format!("<rpc message-id=\"1\" xmlns=\"{BASE}\"><get></rpc>"),
        format!("<rpc message-id=\"1\" xmlns=\"{BASE}\"><edit-config><target><running/></target><config><!-- \0 --></config></edit-config></rpc>"),
        format!("<rpc message-id=\"1\" xmlns=\"{BASE}\"><get>{}</get></rpc>", '\u{1}'),
        format!("<rpc message-id=\"1\" xmlns=\"{BASE}\"><get-config><source><running/></source><filter>{}</filter></get-config></rpc>", '\u{fffe}'),
    ] {
        c.send(&bad).await;
        let r = c.recv().await.unwrap();
        assert!(r.contains("<error-tag>malformed-message</error-tag>"), "{bad} => {r}");
    }
    // Wrong root element, unknown namespace, unknown operation.
    c.send("<rpc message-id=\"1\"><get/></rpc>").await;
    assert!(c.recv().await.unwrap().contains("<error-tag>unknown-element</error-tag>"));
    c.send(&format!("<rpc message-id=\"1\" xmlns=\"{BASE}\"><get/><get/></rpc>")).await;
    assert!(c.recv().await.unwrap().contains("<error-tag>unknown-element</error-tag>"));
    c.err("<frobnicate/>", "operation-not-supported").await;
    c.err("<frob xmlns=\"urn:nowhere\"/>", "unknown-namespace").await;
    c.err("<get-config><source><running/></source><bogus/></get-config>", "unknown-element").await;
    c.err("<get-config/>", "missing-element").await;
    c.err("<get-config><source><nowhere/></source></get-config>", "bad-element").await;
    c.err("<get-config><source><url>file:///x</url></source></get-config>", "operation-not-supported").await;
    c.ok("<discard-changes/>").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edit_config_and_get_config() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    c.ok(&edit("running", ITEM_A)).await;
    c.ok(&edit("running", ITEM_B)).await;
    let r = c.rpc(&get_config("running", "")).await;
    assert!(r.contains("<item><name>a</name><value>1</value></item><item><name>b</name><value>2</value><tags>x</tags></item>"), "{r}");
    // create on an existing entry: data-exists with the path.
    let r = c
        .err(&edit("running", r#"<top xmlns="urn:test:nc" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><item nc:operation="create"><name>a</name></item></top>"#), "data-exists")
        .await;
    assert!(r.contains("/nc-test:top/nc-test:item[nc-test:name='a']</error-path>"), "{r}");
    // delete of a missing entry: data-missing.
    c.err(&edit("running", r#"<top xmlns="urn:test:nc" xmlns:nc="urn:ietf:params:xml:ns:netconf:base:1.0"><item nc:operation="delete"><name>zz</name></item></top>"#), "data-missing").await;
    // Invalid value, unknown element, no namespace: nothing changes.
    c.err(
        &edit("running", r#"<top xmlns="urn:test:nc"><opts><level>300</level></opts></top>"#),
        "invalid-value",
    )
    .await;
    c.err(&edit("running", r#"<top xmlns="urn:test:nc"><nonsense/></top>"#), "unknown-element").await;
    // No namespace: the element inherits the rpc's default (base) namespace
    // and is unknown there; with a prefixed rpc it has none at all.
    c.err(&edit("running", r#"<top><item><name>q</name></item></top>"#), "unknown-element").await;
    c.send(&format!("<nc:rpc xmlns:nc=\"{BASE}\" message-id=\"8\"><nc:edit-config><nc:target><nc:running/></nc:target><nc:config><top><item><name>q</name></item></top></nc:config></nc:edit-config></nc:rpc>")).await;
    let r = c.recv().await.unwrap();
    assert!(
        r.contains("<error-tag>unknown-namespace</error-tag>")
            || r.contains("<error-tag>unknown-element</error-tag>"),
        "{r}"
    );
    // ncclient's style: nc: prefix inherited from <rpc> into the config.
    c.send(&format!("<nc:rpc xmlns:nc=\"{BASE}\" message-id=\"9\"><nc:edit-config><nc:target><nc:running/></nc:target><nc:config><top xmlns=\"urn:test:nc\"><item nc:operation=\"delete\"><name>b</name></item></top></nc:config></nc:edit-config></nc:rpc>")).await;
    assert!(c.recv().await.unwrap().contains("<ok/>"));
    // test-only changes nothing; default-operation none with a merge below.
    c.ok(&format!("<edit-config><target><running/></target><test-option>test-only</test-option><config>{ITEM_B}</config></edit-config>")).await;
    let r = c.rpc(&get_config("running", "")).await;
    assert!(!r.contains("<name>b</name>"), "{r}");
    c.ok(&format!("<edit-config><target><running/></target><default-operation>replace</default-operation><config>{ITEM_B}</config></edit-config>")).await;
    let r = c.rpc(&get_config("running", "")).await;
    assert!(!r.contains("<name>a</name>") && r.contains("<name>b</name>"), "{r}");
    c.err(&format!("<edit-config><target><running/></target><default-operation>sideways</default-operation><config>{ITEM_B}</config></edit-config>"), "invalid-value").await;
    c.err(
        &format!("<edit-config><target><startup/></target><config>{ITEM_B}</config></edit-config>"),
        "bad-element",
    )
    .await;
    c.err("<edit-config><target><running/></target></edit-config>", "missing-element").await;
    c.err(
        "<edit-config><target><running/></target><url>file:///x</url></edit-config>",
        "operation-not-supported",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_subtree_and_xpath() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    c.ok(&edit("running", ITEM_A)).await;
    c.ok(&edit("running", ITEM_B)).await;
    c.ok(&edit("running", r#"<other xmlns="urn:test:nc"><x>1</x></other>"#)).await;
    let f = |inner: &str| format!("<filter type=\"subtree\">{inner}</filter>");
    // Containment: the whole top, not other.
    let r = c.rpc(&get_config("running", &f(r#"<top xmlns="urn:test:nc"/>"#))).await;
    assert!(r.contains("<name>a</name>") && !r.contains("<other"), "{r}");
    // Content match on the key: one entry, whole.
    let r = c
        .rpc(&get_config("running", &f(r#"<top xmlns="urn:test:nc"><item><name>b</name></item></top>"#)))
        .await;
    assert!(
        r.contains("<item><name>b</name><value>2</value><tags>x</tags></item>")
            && !r.contains("<name>a</name>"),
        "{r}"
    );
    // Content match plus a selection node: the key and the selected leaf.
    let r = c
        .rpc(&get_config(
            "running",
            &f(r#"<top xmlns="urn:test:nc"><item><name>b</name><value/></item></top>"#),
        ))
        .await;
    assert!(r.contains("<item><name>b</name><value>2</value></item>"), "{r}");
    // Selection of a leaf and of the key after it: the key comes with its
    // entry once.
    let r = c
        .rpc(&get_config("running", &f(r#"<top xmlns="urn:test:nc"><item><value/><name/></item></top>"#)))
        .await;
    assert!(
        r.contains("<item><name>a</name><value>1</value></item><item><name>b</name><value>2</value></item>"),
        "{r}"
    );
    // Selection of one leaf in every entry.
    let r =
        c.rpc(&get_config("running", &f(r#"<top xmlns="urn:test:nc"><item><value/></item></top>"#))).await;
    assert!(
        r.contains("<item><name>a</name><value>1</value></item><item><name>b</name><value>2</value></item>"),
        "{r}"
    );
    // A content match that matches nothing; an unknown namespace; empty filter.
    for none in [
        r#"<top xmlns="urn:test:nc"><item><name>zz</name></item></top>"#,
        r#"<top xmlns="urn:nowhere"/>"#,
        "",
    ] {
        let r = c.rpc(&get_config("running", &f(none))).await;
        assert!(r.contains("<data/>"), "{none} => {r}");
    }
    // No namespace: matched by name in any module (netopeer2 #1801 crashed here).
    let r = c.rpc(&get_config("running", &f("<other/>"))).await;
    assert!(r.contains("<other xmlns=\"urn:test:nc\"><x>1</x></other>"), "{r}");
    // XPath with a prefix, unprefixed first step, and errors.
    let r = c
        .rpc(&get_config(
            "running",
            r#"<filter type="xpath" xmlns:t="urn:test:nc" select="/t:top/t:item[t:name='a']"/>"#,
        ))
        .await;
    assert!(r.contains("<name>a</name>") && !r.contains("<name>b</name>"), "{r}");
    let r = c.rpc(&get_config("running", r#"<filter type="xpath" select="/other/x"/>"#)).await;
    assert!(r.contains("<x>1</x>") && !r.contains("<top"), "{r}");
    c.err(&get_config("running", r#"<filter type="xpath" select="/zz:top"/>"#), "invalid-value").await;
    c.err(
        &get_config("running", r#"<filter type="xpath" select="/t:top[" xmlns:t="urn:test:nc"/>"#),
        "invalid-value",
    )
    .await;
    c.err(&get_config("running", r#"<filter type="xpath"/>"#), "missing-attribute").await;
    c.err(&get_config("running", r#"<filter type="regex"/>"#), "bad-attribute").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_defaults_modes() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    c.ok(&edit("running", r#"<top xmlns="urn:test:nc"><item><name>a</name><counter>7</counter></item><opts><label>l</label></opts></top>"#)).await;
    let wd = |mode: &str| {
        get_config("running", &format!("<with-defaults xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults\">{mode}</with-defaults>"))
    };
    let explicit = c.rpc(&wd("explicit")).await;
    assert!(explicit.contains("<counter>7</counter>") && !explicit.contains("<level>"), "{explicit}");
    let all = c.rpc(&wd("report-all")).await;
    assert!(all.contains("<counter>7</counter>") && all.contains("<level>3</level>"), "{all}");
    let tagged = c.rpc(&wd("report-all-tagged")).await;
    assert!(tagged.contains(":default=\"true\">3</level>"), "{tagged}");
    let trim = c.rpc(&wd("trim")).await;
    assert!(!trim.contains("<counter>") && !trim.contains("<level>"), "{trim}");
    c.err(&wd("sometimes"), "invalid-value").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locks_kill_session_and_close_session() {
    let env = env();
    let mut a = Client::connect(&env.server, true).await;
    let mut b = Client::connect(&env.server, true).await;
    a.ok("<lock><target><running/></target></lock>").await;
    let r = b.err("<lock><target><running/></target></lock>", "lock-denied").await;
    assert!(r.contains(&format!("<session-id>{}</session-id>", a.session_id)), "{r}");
    b.err(&edit("running", ITEM_A), "in-use").await;
    b.err("<unlock><target><running/></target></unlock>", "operation-failed").await;
    // Monitoring shows the lock and both sessions.
    let r = b.rpc("<get><filter type=\"subtree\"><netconf-state xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring\"><datastores/><sessions/></netconf-state></filter></get>").await;
    assert!(r.contains(&format!("<locked-by-session>{}</locked-by-session>", a.session_id)), "{r}");
    assert!(r.contains(&format!("<session-id>{}</session-id>", b.session_id)), "{r}");
    // kill-session: self refused, unknown refused, the holder's lock released.
    b.err(
        &format!("<kill-session><session-id>{}</session-id></kill-session>", b.session_id),
        "invalid-value",
    )
    .await;
    b.err("<kill-session><session-id>99999</session-id></kill-session>", "invalid-value").await;
    b.ok(&format!("<kill-session><session-id>{}</session-id></kill-session>", a.session_id)).await;
    assert!(a.closed().await);
    b.ok("<lock><target><running/></target></lock>").await;
    // close-session ends the session and releases the lock.
    b.ok("<close-session/>").await;
    assert!(b.closed().await);
    let mut c = Client::connect(&env.server, false).await;
    c.ok("<lock><target><running/></target></lock>").await;
    // A dropped connection releases its lock too.
    drop(c);
    let mut d = Client::connect(&env.server, true).await;
    let mut locked = true;
    for _ in 0..100 {
        let r = d.rpc("<lock><target><running/></target></lock>").await;
        if r.contains("<ok/>") {
            locked = false;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!locked, "the lock of a dropped session must be released");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn candidate_validate_commit_confirmed_and_cancel() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    c.ok(&edit("candidate", ITEM_A)).await;
    assert!(!c.rpc(&get_config("running", "")).await.contains("<name>a</name>"));
    assert!(c.rpc(&get_config("candidate", "")).await.contains("<name>a</name>"));
    c.ok("<validate><source><candidate/></source></validate>").await;
    c.ok(&format!("<validate><source><config>{ITEM_B}</config></source></validate>")).await;
    c.err(r#"<validate><source><config><top xmlns="urn:test:nc"><opts><level>x</level></opts></top></config></source></validate>"#, "invalid-value").await;
    c.ok("<commit/>").await;
    assert!(c.rpc(&get_config("running", "")).await.contains("<name>a</name>"));
    // Confirmed commit, then cancel: running goes back.
    c.ok(&edit("candidate", ITEM_B)).await;
    c.ok("<commit><confirmed/><confirm-timeout>60</confirm-timeout></commit>").await;
    assert!(c.rpc(&get_config("running", "")).await.contains("<name>b</name>"));
    c.ok("<cancel-commit/>").await;
    let r = c.rpc(&get_config("running", "")).await;
    assert!(r.contains("<name>a</name>") && !r.contains("<name>b</name>"), "{r}");
    c.err("<cancel-commit/>", "operation-failed").await;
    c.err("<commit><confirm-timeout>10</confirm-timeout></commit>", "invalid-value").await;
    c.err("<commit><confirmed/><confirm-timeout>0</confirm-timeout></commit>", "invalid-value").await;
    // discard-changes.
    c.ok(&edit("candidate", ITEM_B)).await;
    c.ok("<discard-changes/>").await;
    assert!(!c.rpc(&get_config("candidate", "")).await.contains("<name>b</name>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn copy_and_delete_config() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    c.ok(&edit("running", ITEM_A)).await;
    c.ok("<copy-config><target><startup/></target><source><running/></source></copy-config>").await;
    assert!(c.rpc(&get_config("startup", "")).await.contains("<name>a</name>"));
    c.ok(&format!(
        "<copy-config><target><running/></target><source><config>{ITEM_B}</config></source></copy-config>"
    ))
    .await;
    let r = c.rpc(&get_config("running", "")).await;
    assert!(r.contains("<name>b</name>") && !r.contains("<name>a</name>"), "{r}");
    c.err(
        "<copy-config><target><running/></target><source><running/></source></copy-config>",
        "invalid-value",
    )
    .await;
    c.ok("<delete-config><target><startup/></target></delete-config>").await;
    assert!(!c.rpc(&get_config("startup", "")).await.contains("<name>a</name>"));
    let r = c.rpc("<delete-config><target><running/></target></delete-config>").await;
    assert!(r.contains("<rpc-error>") || r.contains("<rpc-error "), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_data_and_edit_data() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    let nmda = "urn:ietf:params:xml:ns:yang:ietf-netconf-nmda";
    let ds = "urn:ietf:params:xml:ns:yang:ietf-datastores";
    c.ok(&format!("<edit-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:running</datastore><config>{ITEM_A}</config></edit-data>")).await;
    let r = c.rpc(&format!("<get-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:running</datastore><subtree-filter><top xmlns=\"urn:test:nc\"/></subtree-filter></get-data>")).await;
    assert!(r.contains(&format!("<data xmlns=\"{nmda}\">")) && r.contains("<name>a</name>"), "{r}");
    let r = c.rpc(&format!("<get-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:running</datastore><xpath-filter xmlns:t=\"urn:test:nc\">/t:top</xpath-filter></get-data>")).await;
    assert!(r.contains("<name>a</name>"), "{r}");
    let r = c.rpc(&format!("<get-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:operational</datastore><with-origin/></get-data>")).await;
    assert!(r.contains("<name>a</name>"), "{r}");
    let r = c.rpc(&format!("<get-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:operational</datastore><xpath-filter xmlns:t=\"urn:test:nc\">/t:top</xpath-filter></get-data>")).await;
    assert!(r.contains("<name>a</name>"), "no origin: {r}");
    let r = c.rpc("<get><filter type=\"xpath\" xmlns:t=\"urn:test:nc\" select=\"/t:top\"/></get>").await;
    assert!(r.contains("<name>a</name>"), "get: {r}");
    let r = c.rpc(&format!("<get-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:operational</datastore><xpath-filter xmlns:t=\"urn:test:nc\">/t:top</xpath-filter><with-origin/></get-data>")).await;
    assert!(r.contains("origin") && r.contains("intended"), "{r}");
    // config-filter false on operational keeps state only; max-depth.
    let r = c.rpc(&format!("<get-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:operational</datastore><config-filter>false</config-filter></get-data>")).await;
    assert!(!r.contains("<name>a</name>") && r.contains("<netconf-state"), "{r}");
    let r = c.rpc(&format!("<get-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:running</datastore><max-depth>1</max-depth></get-data>")).await;
    assert!(
        r.contains("<top xmlns=\"urn:test:nc\"/>") || r.contains("<top xmlns=\"urn:test:nc\"></top>"),
        "{r}"
    );
    c.err(
        &format!("<get-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:nowhere</datastore></get-data>"),
        "invalid-value",
    )
    .await;
    c.err(&format!("<get-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:running</datastore><with-origin/></get-data>"), "invalid-value").await;
    c.err(&format!("<edit-data xmlns=\"{nmda}\" xmlns:ds=\"{ds}\"><datastore>ds:operational</datastore><config>{ITEM_A}</config></edit-data>"), "invalid-value").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitoring_get_schema_and_yang_library() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    let mon = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";
    let r =
        c.rpc(&format!("<get-schema xmlns=\"{mon}\"><identifier>nc-test</identifier></get-schema>")).await;
    assert!(r.contains(&format!("<data xmlns=\"{mon}\">module nc-test {{")), "{r}");
    assert!(r.contains("rpc unimplemented"), "{r}");
    let r = c.rpc(&format!("<get-schema xmlns=\"{mon}\"><identifier>ietf-netconf</identifier><version>2011-06-01</version><format>yang</format></get-schema>")).await;
    assert!(r.contains("module ietf-netconf {"), "{r}");
    // libyang's built-in modules are served too.
    let r = c
        .rpc(&format!("<get-schema xmlns=\"{mon}\"><identifier>ietf-yang-types</identifier></get-schema>"))
        .await;
    assert!(r.contains("module ietf-yang-types"), "{r}");
    c.err(
        &format!("<get-schema xmlns=\"{mon}\"><identifier>nope</identifier></get-schema>"),
        "invalid-value",
    )
    .await;
    c.err(&format!("<get-schema xmlns=\"{mon}\"><identifier>nc-test</identifier><version>1999-01-01</version></get-schema>"), "invalid-value").await;
    // Every schema listed can be fetched (what OpenDaylight does on mount).
    let r = c
        .rpc(&format!(
            "<get><filter><netconf-state xmlns=\"{mon}\"><schemas/></netconf-state></filter></get>"
        ))
        .await;
    let ids: Vec<(String, String)> = r
        .split("<schema>")
        .skip(1)
        .map(|s| {
            let id = s.split("<identifier>").nth(1).unwrap().split('<').next().unwrap().to_string();
            let v = s
                .split("<version>")
                .nth(1)
                .map(|v| v.split('<').next().unwrap().to_string())
                .unwrap_or_default();
            (id, v)
        })
        .collect();
    assert!(ids.len() > 20, "{r}");
    for (id, v) in ids {
        let r = c.rpc(&format!("<get-schema xmlns=\"{mon}\"><identifier>{id}</identifier><version>{v}</version></get-schema>")).await;
        assert!(r.contains("<data") && (r.contains("module ") || r.contains("submodule ")), "{id}@{v}: {r}");
    }
    // yang-library (RFC 8525) and modules-state (RFC 7895).
    let r = c.rpc("<get><filter><yang-library xmlns=\"urn:ietf:params:xml:ns:yang:ietf-yang-library\"/></filter></get>").await;
    assert!(r.contains("<content-id>") && r.contains("<name>nc-test</name>"), "{r}");
    let r = c.rpc("<get><filter><modules-state xmlns=\"urn:ietf:params:xml:ns:yang:ietf-yang-library\"/></filter></get>").await;
    assert!(r.contains("<module-set-id>") && r.contains("<name>nc-test</name>"), "{r}");
    // Statistics count this session's rpcs.
    let r = c
        .rpc(&format!(
            "<get><filter><netconf-state xmlns=\"{mon}\"><statistics/></netconf-state></filter></get>"
        ))
        .await;
    assert!(r.contains("<in-rpcs>") && r.contains("<in-sessions>"), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_rpcs_dispatch_to_handlers() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    let r = c.rpc(r#"<ping xmlns="urn:test:nc"><msg>hi</msg></ping>"#).await;
    assert!(r.contains("<echo xmlns=\"urn:test:nc\">hi</echo>"), "{r}");
    c.err(r#"<ping xmlns="urn:test:nc"/>"#, "missing-element").await;
    c.err(r#"<ping xmlns="urn:test:nc"><msg>hi</msg><bogus/></ping>"#, "unknown-element").await;
    c.err(r#"<unimplemented xmlns="urn:test:nc"/>"#, "operation-not-supported").await;
    c.err(r#"<nothing xmlns="urn:test:nc"/>"#, "operation-not-supported").await;
    // An action on a list entry that exists; input checked; a missing entry.
    c.ok(&edit("running", ITEM_A)).await;
    let action = |name: &str, input: &str| {
        format!("<action xmlns=\"urn:ietf:params:xml:ns:yang:1\"><top xmlns=\"urn:test:nc\"><item><name>{name}</name><reset>{input}</reset></item></top></action>")
    };
    let r = c.rpc(&action("a", "<to>5</to>")).await;
    assert!(r.contains("<was xmlns=\"urn:test:nc\">a</was>"), "{r}");
    c.err(&action("a", "<to>x</to>"), "invalid-value").await;
    let r = c.err(&action("zz", ""), "data-missing").await;
    assert!(r.contains("item[nc-test:name='zz']</error-path>"), "{r}");
    c.err(
        "<action xmlns=\"urn:ietf:params:xml:ns:yang:1\"><top xmlns=\"urn:test:nc\"/></action>",
        "operation-not-supported",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_sessions_and_idle_timeout() {
    let env = env_with(Limits {
        max_sessions: 1,
        idle_timeout: Some(Duration::from_millis(300)),
        ..Limits::default()
    });
    let mut first = Client::connect(&env.server, true).await;
    // A second session is refused before its hello.
    let (mut a, b) = tokio::io::duplex(1 << 16);
    tokio::spawn(session::run(env.server.clone(), b, "second".into(), None));
    let mut buf = [0u8; 64];
    let n = tokio::time::timeout(Duration::from_secs(10), a.read(&mut buf)).await.unwrap().unwrap();
    assert_eq!(n, 0, "a session past max-sessions must be closed at once");
    // The first one works, then is closed after its idle time.
    first.ok("<discard-changes/>").await;
    assert!(first.closed().await, "an idle session must be closed");
    // Its slot is free again.
    let mut again = Client::connect(&env.server, true).await;
    again.ok("<discard-changes/>").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_replies_stream_in_both_framings() {
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    let n = 6000;
    let items: String = (0..n)
        .map(|i| format!("<item><name>n{i:05}</name><value>{}</value></item>", "v".repeat(60)))
        .collect();
    c.ok(&edit("running", &format!("<top xmlns=\"urn:test:nc\">{items}</top>"))).await;
    for v11 in [true, false] {
        let mut c = Client::connect(&env.server, v11).await;
        let r = c.rpc(&get_config("running", "")).await;
        assert!(r.len() > 2 * 256 * 1024, "{}", r.len());
        assert_eq!(r.matches("<item>").count(), n, "v1.1 {v11}");
        assert!(r.ends_with("</top></data></rpc-reply>"), "{}", &r[r.len() - 80..]);
        // The session goes on after a streamed reply.
        c.ok("<discard-changes/>").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_reads_of_running_follow_every_commit() {
    // Running's printed text is kept per transaction: a read after a commit,
    // or with other with-defaults, must never see the kept text.
    let env = env();
    let mut c = Client::connect(&env.server, true).await;
    c.ok(&edit("running", ITEM_A)).await;
    let first = c.rpc(&get_config("running", "")).await;
    let again = c.rpc(&get_config("running", "")).await;
    assert_eq!(first.split_once('>').unwrap().1, again.split_once('>').unwrap().1);
    let all = c.rpc(&get_config("running", "<with-defaults xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-with-defaults\">report-all</with-defaults>")).await;
    assert!(all.contains("<counter>7</counter>") && !first.contains("<counter>"), "{all}");
    let mut other = Client::connect(&env.server, false).await;
    other.ok(&edit("running", ITEM_B)).await;
    let after = c.rpc(&get_config("running", "")).await;
    assert!(after.contains("<name>b</name>"), "{after}");
    let eom = other.rpc(&get_config("running", "")).await;
    assert!(eom.contains("<name>b</name>") && eom.ends_with("</data></rpc-reply>"), "{eom}");
}

/// RESTCONF reaches the same RPC and action handlers (in process, through
/// `restconf::data::handle`): input validated by libyang, output converted
/// to `{"module:output":{...}}` or `<output>`, an action's parent checked.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restconf_invokes_the_shared_rpc_and_action_handlers() {
    use http_body_util::BodyExt;
    use occd::restconf::{data, Restconf};
    let env = env();
    let users = Arc::new(occd::netconf::auth::Users::from_config(&[], Some("pw")).unwrap());
    let rc = Restconf::new(env.server.clone(), users, occd::restconf::Settings::default());
    let call = |method: &str, uri: &str, accept: &str, body: &str| {
        let parts = hyper::Request::builder()
            .method(method)
            .uri(uri)
            .header("Content-Type", "application/yang-data+json")
            .header("Accept", accept)
            .body(())
            .unwrap()
            .into_parts()
            .0;
        let req = data::Req {
            parts,
            body: body.to_string().into(),
            user: "admin".into(),
            session: occd::restconf::RESTCONF_SESSION,
        };
        data::handle(&rc, &req)
    };
    let text = |r: hyper::Response<occd::restconf::Body>| async move {
        let status = r.status().as_u16();
        (status, String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap())
    };
    let json = "application/yang-data+json";
    let (s, b) =
        text(call("POST", "/restconf/operations/nc-test:ping", json, r#"{"nc-test:input":{"msg":"hi"}}"#))
            .await;
    assert_eq!((s, b.as_str()), (200, r#"{"nc-test:output":{"echo":"hi"}}"#));
    let (s, b) = text(call(
        "POST",
        "/restconf/operations/nc-test:ping",
        "application/yang-data+xml",
        r#"{"nc-test:input":{"msg":"hi"}}"#,
    ))
    .await;
    assert_eq!(
        (s, b.as_str()),
        (200, r#"<output xmlns="urn:test:nc"><echo xmlns="urn:test:nc">hi</echo></output>"#)
    );
    let (s, b) = text(call("POST", "/restconf/operations/nc-test:ping", json, "")).await;
    assert!(s == 400 && b.contains("missing-element"), "{s} {b}");
    let (s, b) = text(call("POST", "/restconf/operations/nc-test:unimplemented", json, "")).await;
    assert!(s == 501 && b.contains("operation-not-supported"), "{s} {b}");
    // An action: its list entry must exist.
    let action = "/restconf/data/nc-test:top/item=a/reset";
    let (s, b) = text(call("POST", action, json, r#"{"nc-test:input":{"to":1}}"#)).await;
    assert!(s == 409 && b.contains("data-missing"), "{s} {b}");
    let (s, b) =
        text(call("POST", "/restconf/data/nc-test:top", json, r#"{"nc-test:item":[{"name":"a"}]}"#)).await;
    assert_eq!(s, 201, "{b}");
    let (s, b) = text(call("POST", action, json, r#"{"nc-test:input":{"to":1}}"#)).await;
    assert_eq!((s, b.as_str()), (200, r#"{"nc-test:output":{"was":"a"}}"#));
}
