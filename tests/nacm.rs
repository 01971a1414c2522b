//! NACM (RFC 8341) over NETCONF, RESTCONF and notifications: the Appendix A
//! example rules (tests/fixtures/nacm/appendix-a.xml, with test modules for
//! its acme paths), one check per rule over both protocols, the default
//! read-only operator group, counters and view ETags.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use common::nc::Client;
use occd::config::Config;
use occd::nacm;
use occd::netconf::Server;
use occd::schema::{ModuleSpec, Schema};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ACME_NC: &str = "http://example.com/ns/netconf";
const ACME_ITF: &str = "http://example.com/ns/itf";
const ACME_SYS: &str = "http://example.com/ns/system";
const NACM_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-acm";
const MON_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-monitoring";
const USERS: &[&str] = &["admin", "andy", "wilma", "bam-bam", "guest", "olivia", "nobody"];

fn schema() -> &'static Schema {
    static CELL: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let addr = *CELL.get_or_init(|| {
        let dir = common::root().join("tests/fixtures/nacm");
        let extra: Vec<ModuleSpec> = ["acme-netconf", "acme-itf", "acme-system"]
            .iter()
            .map(|m| ModuleSpec::parse(m).unwrap())
            .collect();
        let s = Schema::load(&Config::default().load_options(&[dir], &extra)).unwrap();
        Box::leak(Box::new(s)) as *const Schema as usize
    });
    // SAFETY: leaked above, lives for the whole test process.
    unsafe { &*(addr as *const Schema) }
}

struct Env {
    server: Arc<Server>,
    port: u16,
    _dir: tempfile::TempDir,
}

/// A server with NACM on (recovery user admin; olivia in the config group
/// operator), RESTCONF on a free port.
async fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let settings = nacm::Settings {
        recovery_user: Some("admin".into()),
        user_groups: HashMap::from([("olivia".to_string(), vec!["operator".to_string()])]),
        off: false,
    };
    let server = common::server_in(schema(), dir.path(), settings);
    let port = common::restconf_on_free_port(&server, USERS).await;
    Env { server, port, _dir: dir }
}

struct Reply {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

impl Reply {
    fn tag(&self) -> String {
        let v: serde_json::Value = serde_json::from_str(&self.body).unwrap_or_default();
        v["ietf-restconf:errors"]["error"][0]["error-tag"].as_str().unwrap_or_default().to_string()
    }
}

impl Env {
    async fn http(
        &self,
        user: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        let (status, headers, body) = common::http_as(self.port, user, method, path, headers, body).await;
        let headers = headers.into_iter().collect();
        Reply { status, headers, body }
    }

    async fn get(&self, user: &str, path: &str) -> Reply {
        self.http(user, "GET", path, &[], "").await
    }

    async fn nc(&self, user: &str) -> Client {
        Client::connect_as(&self.server, user).await
    }

    /// The admin (recovery user) installs the Appendix A rules and data.
    async fn appendix_a(&self) {
        let rules =
            std::fs::read_to_string(common::root().join("tests/fixtures/nacm/appendix-a.xml")).unwrap();
        let mut admin = self.nc("admin").await;
        admin.ok(&edit(&rules)).await;
        admin
            .ok(&edit(&format!(
                "<acme-netconf xmlns=\"{ACME_NC}\"><config-parameters><max-sessions>5</max-sessions>\
                 </config-parameters><other><x>1</x></other></acme-netconf>\
                 <interfaces xmlns=\"{ACME_ITF}\"><interface><name>dummy</name><mtu>1500</mtu></interface>\
                 <interface><name>eth0</name><mtu>1500</mtu></interface></interfaces>"
            )))
            .await;
    }

    fn counter(&self, which: &str) -> u64 {
        let c = self.server.nacm.counters();
        let a = match which {
            "operations" => &c.denied_operations,
            "writes" => &c.denied_data_writes,
            _ => &c.denied_notifications,
        };
        a.load(std::sync::atomic::Ordering::Relaxed)
    }
}

fn edit(config: &str) -> String {
    format!("<edit-config><target><running/></target><config>{config}</config></edit-config>")
}

const GET_CONFIG: &str = "<get-config><source><running/></source></get-config>";

fn get_filter(inner: &str) -> String {
    format!("<get><filter type=\"subtree\">{inner}</filter></get>")
}

fn assert_denied(reply: &str, path_part: &str) {
    assert!(reply.contains("<error-tag>access-denied</error-tag>"), "{reply}");
    assert!(reply.contains("<error-path") && reply.contains(path_part), "error-path {path_part}: {reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appendix_a_module_rules() {
    let e = env().await;
    e.appendix_a().await;
    let state = format!("<netconf-state xmlns=\"{MON_NS}\"><sessions/></netconf-state>");
    // deny-ncm: guest may not read ietf-netconf-monitoring (silently left
    // out over NETCONF; a denied RESTCONF target is 403)...
    let mut guest = e.nc("guest").await;
    let r = guest.rpc(&get_filter(&state)).await;
    assert!(r.contains("<data") && !r.contains("<session>"), "{r}");
    let r = e.get("guest", "/restconf/data/ietf-netconf-monitoring:netconf-state").await;
    assert_eq!((r.status, r.tag().as_str()), (403, "access-denied"), "{}", r.body);
    // ... nor invoke its get-schema (the rule covers every access).
    let ops = e.counter("operations");
    let r = guest
        .rpc(&format!("<get-schema xmlns=\"{MON_NS}\"><identifier>acme-itf</identifier></get-schema>"))
        .await;
    assert_denied(&r, "get-schema");
    assert_eq!(e.counter("operations"), ops + 1);
    // permit-ncm: limited reads it, both protocols.
    let mut wilma = e.nc("wilma").await;
    let r = wilma.rpc(&get_filter(&state)).await;
    assert!(r.contains("<session>"), "{r}");
    let r = e.get("wilma", "/restconf/data/ietf-netconf-monitoring:netconf-state/sessions").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("session-id"), "{}", r.body);
    // permit-exec: limited may invoke any operation, an OCC RPC included
    // (it then fails on its input, not on access).
    let rpc = "<cancel-service-order xmlns=\"urn:occd:params:xml:ns:yang:occ-lso\"><order-id>o-1</order-id></cancel-service-order>";
    let r = wilma.rpc(rpc).await;
    assert!(r.contains("rpc-error") && !r.contains("access-denied"), "{r}");
    let r = e
        .http(
            "wilma",
            "POST",
            "/restconf/operations/occ-lso:cancel-service-order",
            &[],
            r#"{"occ-lso:input":{"order-id":"o-1"}}"#,
        )
        .await;
    assert_ne!(r.status, 403, "{}", r.body);
    // permit-all: andy (admin group, not the recovery user) reads /nacm,
    // which is default-deny-all, and writes where write-default denies.
    let mut andy = e.nc("andy").await;
    let r = andy.rpc(GET_CONFIG).await;
    assert!(r.contains("<rule-list>") && r.contains("<other>"), "{r}");
    andy.ok(&edit(&format!("<acme-netconf xmlns=\"{ACME_NC}\"><other><x>2</x></other></acme-netconf>")))
        .await;
    let r = e.get("andy", "/restconf/data/ietf-netconf-acm:nacm/groups").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = e
        .http(
            "andy",
            "PUT",
            "/restconf/data/acme-netconf:acme-netconf/other/x",
            &[],
            r#"{"acme-netconf:x":"3"}"#,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    // A user in no group gets the defaults: reads yes (not /nacm), writes no.
    let mut nobody = e.nc("nobody").await;
    let r = nobody.rpc(GET_CONFIG).await;
    assert!(!r.contains("rule-list") && r.contains("<other>"), "{r}");
    let r = nobody
        .rpc(&edit(&format!("<acme-netconf xmlns=\"{ACME_NC}\"><other><x>4</x></other></acme-netconf>")))
        .await;
    assert_denied(&r, "acme-netconf:other/acme-netconf:x");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appendix_a_operation_rules() {
    let e = env().await;
    e.appendix_a().await;
    let mut wilma = e.nc("wilma").await;
    let mut guest = e.nc("guest").await;
    let mut andy = e.nc("andy").await;
    let ops = e.counter("operations");
    // deny-kill-session (limited and guest).
    let kill = format!("<kill-session><session-id>{}</session-id></kill-session>", andy.session_id);
    assert_denied(&wilma.rpc(&kill).await, "kill-session");
    assert_denied(&guest.rpc(&kill).await, "kill-session");
    // deny-delete-config.
    let del = "<delete-config><target><startup/></target></delete-config>";
    assert_denied(&wilma.rpc(del).await, "delete-config");
    assert_eq!(e.counter("operations"), ops + 3);
    // kill-session and delete-config are denied by default (RFC 8341
    // §3.4.4) unless a rule permits them: andy's permit-all does.
    andy.ok(del).await;
    // RESTCONF does not carry these NETCONF operations at all.
    let r = e.http("wilma", "POST", "/restconf/operations/ietf-netconf:kill-session", &[], "").await;
    assert_eq!(r.status, 404, "{}", r.body);
    // permit-edit-config: wilma's edit-config runs (and its data rules
    // decide, see the data-node test); close-session is always allowed.
    wilma
        .ok(&edit(&format!(
            "<acme-netconf xmlns=\"{ACME_NC}\"><config-parameters><banner>hi</banner></config-parameters></acme-netconf>"
        )))
        .await;
    wilma.ok("<close-session/>").await;
    // Denials left the sessions working.
    assert!(andy.rpc("<get/>").await.contains("<data"));
    assert!(guest.rpc(GET_CONFIG).await.contains("<data"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appendix_a_data_node_rules() {
    let e = env().await;
    e.appendix_a().await;
    let mut wilma = e.nc("wilma").await;
    let mut guest = e.nc("guest").await;
    let mut andy = e.nc("andy").await;
    let writes = e.counter("writes");
    // deny-nacm: guest never sees /nacm (NETCONF: left out; RESTCONF: 403).
    let r = guest.rpc(GET_CONFIG).await;
    assert!(!r.contains("nacm") && r.contains("<interfaces"), "{r}");
    let r = e.get("guest", "/restconf/data/ietf-netconf-acm:nacm").await;
    assert_eq!((r.status, r.tag().as_str()), (403, "access-denied"));
    let r = e.get("guest", "/restconf/data").await;
    assert!(
        r.status == 200 && !r.body.contains("ietf-netconf-acm:nacm") && r.body.contains("acme-itf"),
        "{}",
        r.body
    );

    // permit-acme-config: limited may create, update and delete below
    // config-parameters, and nothing else of acme-netconf (write-default).
    let cp = |inner: &str| {
        format!(
            "<acme-netconf xmlns=\"{ACME_NC}\"><config-parameters>{inner}</config-parameters></acme-netconf>"
        )
    };
    wilma.ok(&edit(&cp("<banner>hello</banner>"))).await;
    wilma.ok(&edit(&cp("<max-sessions>9</max-sessions>"))).await;
    wilma
        .ok(&edit(&cp(
            "<banner xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"delete\"/>",
        )))
        .await;
    let r = wilma
        .rpc(&edit(&format!(
            "<acme-netconf xmlns=\"{ACME_NC}\"><config-parameters><banner>b</banner></config-parameters><other><x>9</x></other></acme-netconf>"
        )))
        .await;
    assert_denied(&r, "acme-netconf:other");
    assert_eq!(e.counter("writes"), writes + 1);
    // Nothing of the refused edit was kept (the banner neither).
    let r = andy.rpc(GET_CONFIG).await;
    assert!(r.contains("<x>1</x>") && !r.contains("<banner>") && r.contains("<max-sessions>9<"), "{r}");
    let base = "/restconf/data/acme-netconf:acme-netconf";
    let r = e
        .http(
            "wilma",
            "PUT",
            &format!("{base}/config-parameters/banner"),
            &[],
            r#"{"acme-netconf:banner":"rc"}"#,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = e.http("wilma", "DELETE", &format!("{base}/config-parameters/banner"), &[], "").await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = e.http("wilma", "PUT", &format!("{base}/other/x"), &[], r#"{"acme-netconf:x":"7"}"#).await;
    assert_eq!((r.status, r.tag().as_str()), (403, "access-denied"), "{}", r.body);
    assert!(r.body.contains("error-path"), "{}", r.body);
    assert_eq!(e.counter("writes"), writes + 2);

    // permit-dummy-interface: limited and guest may read and update the
    // dummy entry (key predicate), not create or delete one, and not touch
    // eth0.
    let itf = |inner: &str| format!("<interfaces xmlns=\"{ACME_ITF}\">{inner}</interfaces>");
    guest.ok(&edit(&itf("<interface><name>dummy</name><mtu>9000</mtu></interface>"))).await;
    let r = guest.rpc(&edit(&itf("<interface><name>eth0</name><mtu>9000</mtu></interface>"))).await;
    assert_denied(&r, "eth0");
    let r = wilma.rpc(&edit(&itf("<interface><name>dummy2</name></interface>"))).await;
    assert_denied(&r, "dummy2");
    let r = wilma
        .rpc(&edit(&itf(
            "<interface xmlns:nc=\"urn:ietf:params:xml:ns:netconf:base:1.0\" nc:operation=\"delete\"><name>dummy</name></interface>",
        )))
        .await;
    assert_denied(&r, "dummy");
    let ifs = "/restconf/data/acme-itf:interfaces/interface";
    let r = e
        .http(
            "guest",
            "PATCH",
            &format!("{ifs}=dummy"),
            &[],
            r#"{"acme-itf:interface":[{"name":"dummy","mtu":1400}]}"#,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = e
        .http(
            "guest",
            "PATCH",
            &format!("{ifs}=eth0"),
            &[],
            r#"{"acme-itf:interface":[{"name":"eth0","mtu":1400}]}"#,
        )
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    let r = e.http("wilma", "DELETE", &format!("{ifs}=dummy"), &[], "").await;
    assert_eq!(r.status, 403, "{}", r.body);
    // permit-interface: admin group members have full access to interfaces.
    andy.ok(&edit(&itf("<interface><name>eth1</name></interface>"))).await;
    let r = e.http("andy", "DELETE", &format!("{ifs}=eth1"), &[], "").await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = andy.rpc(GET_CONFIG).await;
    assert!(r.contains("<mtu>1400</mtu>") && r.contains("<name>eth0</name>") && !r.contains("eth1"), "{r}");
}

/// Reads an SSE response until `want` shows up (or 10 s pass).
async fn sse_until(s: &mut tokio::net::TcpStream, buf: &mut String, want: &str) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let mut chunk = vec![0u8; 8192];
    while !buf.contains(want) {
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(n)) if n > 0 => buf.push_str(&String::from_utf8_lossy(&chunk[..n])),
            _ => return false,
        }
    }
    true
}

/// The next notification of acme-system (session and config events pass
/// by too).
async fn next_acme(c: &mut Client) -> String {
    c.next_containing(ACME_SYS).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appendix_a_notification_rule() {
    let e = env().await;
    e.appendix_a().await;
    // Subscribers: wilma over NETCONF, guest over RESTCONF SSE, andy
    // (admin group) over NETCONF.
    let mut wilma = e.nc("wilma").await;
    wilma.ok("<create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"/>").await;
    let mut andy = e.nc("andy").await;
    andy.ok("<create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"/>").await;
    let auth = base64::engine::general_purpose::STANDARD.encode("guest:pw");
    let mut sse = tokio::net::TcpStream::connect(("127.0.0.1", e.port)).await.unwrap();
    sse.write_all(
        format!("GET /streams/NETCONF/json HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\nAuthorization: Basic {auth}\r\n\r\n")
            .as_bytes(),
    )
    .await
    .unwrap();
    let mut sse_buf = String::new();
    assert!(sse_until(&mut sse, &mut sse_buf, "200 OK").await, "{sse_buf}");
    // Beyond Appendix A: a notification-name rule on a notification nested
    // in a list entry (found below the entry's key; eth0: the dummy entry
    // is readable by permit-dummy-interface, which comes first).
    let mut admin = e.nc("admin").await;
    admin
        .ok(&edit(&format!(
            "<nacm xmlns=\"{NACM_NS}\"><rule-list><name>nested-acl</name><group>limited</group><rule>\
             <name>deny-link-flap</name><module-name>acme-itf</module-name><notification-name>link-flap</notification-name>\
             <access-operations>read</access-operations><action>deny</action></rule></rule-list></nacm>"
        )))
        .await;
    let denied = e.counter("notifications");
    // deny-config-change: limited and guest do not get sys-config-change;
    // sys-alarm (no rule, read-default permit) reaches everyone.
    e.server
        .bus
        .send(&format!("<sys-config-change xmlns=\"{ACME_SYS}\"><what>a</what></sys-config-change>"))
        .unwrap();
    e.server
        .bus
        .send_against(
            &format!(
                "<interfaces xmlns=\"{ACME_ITF}\"><interface><name>eth0</name><link-flap><count>3</count></link-flap></interface></interfaces>"
            ),
            Some(e.server.ds.running().tree()),
        )
        .unwrap();
    e.server.bus.send(&format!("<sys-alarm xmlns=\"{ACME_SYS}\"><text>b</text></sys-alarm>")).unwrap();
    let first = next_acme(&mut wilma).await;
    assert!(first.contains("sys-alarm"), "{first}");
    assert!(sse_until(&mut sse, &mut sse_buf, "sys-alarm").await, "{sse_buf}");
    assert!(!sse_buf.contains("sys-config-change"), "{sse_buf}");
    let a = next_acme(&mut andy).await;
    assert!(a.contains("sys-config-change"), "{a}");
    let b = next_acme(&mut andy).await;
    assert!(b.contains("sys-alarm"), "{b}");
    assert!(sse_buf.contains("link-flap"), "guest is not in limited: {sse_buf}");
    // wilma missed sys-config-change and link-flap, guest sys-config-change.
    assert_eq!(e.counter("notifications"), denied + 3);
    // The counters are state data of /nacm, readable with a rule (andy).
    let r = andy.rpc(&get_filter(&format!("<nacm xmlns=\"{NACM_NS}\"><denied-notifications/></nacm>"))).await;
    assert!(r.contains(&format!("<denied-notifications>{}</denied-notifications>", denied + 3)), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_operator_from_the_default_rules() {
    let e = env().await;
    let ds = e.server.ds.clone();
    tokio::task::spawn_blocking(move || nacm::install_default_rules(&ds)).await.unwrap().unwrap();
    let mut admin = e.nc("admin").await;
    admin
        .ok(&edit(&format!(
            "<interfaces xmlns=\"{ACME_ITF}\"><interface><name>eth0</name><mtu>1500</mtu></interface></interfaces>"
        )))
        .await;
    // olivia is in group operator through the server config.
    let mut olivia = e.nc("olivia").await;
    for read in [
        GET_CONFIG.to_string(),
        "<get/>".to_string(),
        "<get-data xmlns=\"urn:ietf:params:xml:ns:yang:ietf-netconf-nmda\" xmlns:ds=\"urn:ietf:params:xml:ns:yang:ietf-datastores\"><datastore>ds:running</datastore></get-data>".to_string(),
    ] {
        let r = olivia.rpc(&read).await;
        assert!(r.contains("<name>eth0</name>") && !r.contains("rule-list") && !r.contains("denied-"), "{read}: {r}");
    }
    // The operator rules allow no operation but reads: edit-config is
    // refused before any data is looked at.
    let r = olivia.rpc(&edit(&format!("<interfaces xmlns=\"{ACME_ITF}\"><interface><name>eth0</name><mtu>1</mtu></interface></interfaces>"))).await;
    assert_denied(&r, "edit-config");
    let r = olivia.rpc("<cancel-service-order xmlns=\"urn:occd:params:xml:ns:yang:occ-lso\"><order-id>o-1</order-id></cancel-service-order>").await;
    assert_denied(&r, "cancel-service-order");
    let r = olivia.rpc("<lock><target><running/></target></lock>").await;
    assert_denied(&r, "lock");
    // An action inside a list entry is found below the entry's keys.
    let action = "<action xmlns=\"urn:ietf:params:xml:ns:yang:1\"><interfaces xmlns=\"urn:occd:params:xml:ns:yang:occ-interfaces\">\
                  <interface><name>if-1</name><reset-counters/></interface></interfaces></action>";
    let r = olivia.rpc(action).await;
    assert_denied(&r, "reset-counters");
    // Over RESTCONF: reads filtered, writes and operations 403.
    let r = e.get("olivia", "/restconf/data").await;
    assert!(
        r.status == 200 && r.body.contains("eth0") && !r.body.contains("ietf-netconf-acm:nacm"),
        "{}",
        r.body
    );
    let r = e
        .http(
            "olivia",
            "PUT",
            "/restconf/data/acme-itf:interfaces/interface=eth0/mtu",
            &[],
            r#"{"acme-itf:mtu":1}"#,
        )
        .await;
    assert_eq!((r.status, r.tag().as_str()), (403, "access-denied"), "{}", r.body);
    let r = e
        .http(
            "olivia",
            "POST",
            "/restconf/operations/occ-lso:cancel-service-order",
            &[],
            r#"{"occ-lso:input":{"order-id":"o-1"}}"#,
        )
        .await;
    assert_eq!((r.status, r.tag().as_str()), (403, "access-denied"), "{}", r.body);
    // Nothing changed.
    let r = admin.rpc(GET_CONFIG).await;
    assert!(r.contains("<mtu>1500</mtu>"), "{r}");
    // The counters moved: edit-config, the OCC RPC, lock and the action over
    // NETCONF, the RPC over RESTCONF; the RESTCONF write (a data write:
    // RESTCONF has no edit operation to refuse).
    assert_eq!(e.counter("operations"), 5);
    assert_eq!(e.counter("writes"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restricted_view_has_its_own_etag() {
    let e = env().await;
    e.appendix_a().await;
    let running = "/restconf/ds/ietf-datastores:running";
    let admin = e.get("admin", running).await;
    let guest = e.get("guest", running).await;
    let (ae, ge) = (admin.headers["etag"].clone(), guest.headers["etag"].clone());
    assert_ne!(ae, ge);
    assert!(admin.body.contains("ietf-netconf-acm:nacm") && !guest.body.contains("ietf-netconf-acm:nacm"));
    // A conditional GET names one view; an edit's If-Match is about the
    // transaction, so the view ETag works there.
    let r = e.http("guest", "GET", running, &[("If-None-Match", &ge)], "").await;
    assert_eq!(r.status, 304);
    let r = e.http("admin", "GET", running, &[("If-None-Match", &ge)], "").await;
    assert_eq!(r.status, 200);
    let r = e
        .http(
            "guest",
            "PATCH",
            "/restconf/data/acme-itf:interfaces/interface=dummy",
            &[("If-Match", &ge)],
            r#"{"acme-itf:interface":[{"name":"dummy","mtu":1300}]}"#,
        )
        .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let r = e.http("guest", "GET", running, &[("If-None-Match", &ge)], "").await;
    assert_eq!(r.status, 200);
}
