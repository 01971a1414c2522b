//! RESTCONF against `occd serve` (plain HTTP on a free port): every method
//! and its statuses, query parameters, media types, validators, the strict
//! URI parser's 400s, NMDA datastores, operations, and an encoding round
//! trip of the OCC reference scenario. curl drives the same CRUD cycle over
//! TLS and HTTP/2 (tests/restconf_curl).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{root, write, Server};

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The first error's tag.
    fn tag(&self) -> String {
        let v = self.json();
        v["ietf-restconf:errors"]["error"][0]["error-tag"].as_str().unwrap_or_default().to_string()
    }
}

struct Rc {
    server: Server,
    port: u16,
}

const AUTH: &str = "Basic YWRtaW46cmMtcHc="; // admin:rc-pw

impl Rc {
    fn start(dir: &std::path::Path) -> Rc {
        let cfg = write(
            dir,
            "occd.toml",
            "data-dir = \"data\"\n[netconf]\nenabled = false\n[restconf]\nlisten = \"127.0.0.1:0\"\ntls = false\n\
             [[users]]\nname = \"admin\"\npassword-hash = \"$0$rc-pw\"\n",
        );
        let server = Server::start(&["-c", &cfg]).unwrap_or_else(|o| panic!("serve failed: {}", o.all()));
        let line = server.log.iter().find(|l| l.contains("RESTCONF listening on")).expect("listen line");
        let port = line.rsplit(':').next().unwrap().trim_end_matches("/restconf").trim().parse().unwrap();
        Rc { server, port }
    }

    /// Sends raw bytes and reads the reply to EOF (`Connection: close`).
    fn raw(&self, request: &[u8]) -> Reply {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(request).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let (status, headers, body) = common::split_http(&out);
        Reply { status, headers, body }
    }

    fn req(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut r = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("authorization")) {
            r.push_str(&format!("Authorization: {AUTH}\r\n"));
        }
        for (n, v) in headers {
            if !v.is_empty() {
                r.push_str(&format!("{n}: {v}\r\n"));
            }
        }
        if !body.is_empty() || ["PUT", "POST", "PATCH"].contains(&method) {
            r.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        r.push_str("\r\n");
        r.push_str(body);
        self.raw(r.as_bytes())
    }

    fn get(&self, path: &str) -> Reply {
        self.req("GET", path, &[], "")
    }

    fn send_json(&self, method: &str, path: &str, body: &str) -> Reply {
        self.req(method, path, &[("Content-Type", "application/yang-data+json")], body)
    }

    fn send_xml(&self, method: &str, path: &str, body: &str) -> Reply {
        self.req(
            method,
            path,
            &[("Content-Type", "application/yang-data+xml"), ("Accept", "application/yang-data+xml")],
            body,
        )
    }
}

fn scenario_json() -> String {
    std::fs::read_to_string(root().join("yang/occ/examples/scenario.json")).unwrap()
}

const ACTORS: &str = "/restconf/data/occ-actors:actors";

fn actor(id: &str, name: &str) -> String {
    format!(
        "{{\"occ-actors:actor\":[{{\"actor-id\":\"{id}\",\"name\":\"{name}\",\"role\":[\"occ-types:cloud-service-user\"],\"kind\":\"enterprise\"}}]}}"
    )
}

/// libyang's RFC 7951 print of a JSON document, as occd loads the modules.
fn libyang_json(text: &str) -> serde_json::Value {
    use yang3::data::{Data, DataFormat, DataParserFlags, DataPrinterFlags, DataTree, DataValidationFlags};
    let schema = common::default_schema();
    let tree = DataTree::parse_string(
        schema.context(),
        text,
        DataFormat::JSON,
        DataParserFlags::STRICT,
        DataValidationFlags::NO_STATE,
    )
    .unwrap();
    serde_json::from_str(&tree.print_string(DataFormat::JSON, DataPrinterFlags::WITH_SIBLINGS).unwrap())
        .unwrap()
}

fn sorted(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Array(a) => {
            let mut a: Vec<Value> = a.into_iter().map(sorted).collect();
            a.sort_by_key(|x| x.to_string());
            Value::Array(a)
        }
        Value::Object(m) => Value::Object(m.into_iter().map(|(k, v)| (k, sorted(v))).collect()),
        other => other,
    }
}

#[test]
fn discovery_auth_and_media_types() {
    let dir = tempfile::tempdir().unwrap();
    let rc = Rc::start(dir.path());
    let r = rc.req("GET", "/.well-known/host-meta", &[("Authorization", "")], "");
    assert_eq!(r.status, 200);
    assert!(r.body.contains("<Link rel=\"restconf\" href=\"/restconf\"/>"), "{}", r.body);
    let r = rc.get("/restconf");
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["ietf-restconf:restconf"]["yang-library-version"], "2019-01-04");
    let r = rc.req("GET", "/restconf", &[("Accept", "application/yang-data+xml")], "");
    assert!(
        r.body.starts_with("<restconf xmlns=\"urn:ietf:params:xml:ns:yang:ietf-restconf\">"),
        "{}",
        r.body
    );
    let r = rc.get("/restconf/yang-library-version");
    assert_eq!(r.json()["ietf-restconf:yang-library-version"], "2019-01-04");
    // Authentication.
    let r = rc.req("GET", "/restconf/data", &[("Authorization", "Basic YWRtaW46d3Jvbmc=")], "");
    assert_eq!(r.status, 401);
    assert!(r.header("www-authenticate").unwrap().starts_with("Basic"));
    assert_eq!(r.tag(), "access-denied");
    let r = rc.raw(b"GET /restconf/data HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(r.status, 401);
    // Media types.
    let r = rc.req("GET", ACTORS, &[("Accept", "text/html")], "");
    assert_eq!(r.status, 406);
    assert_eq!(r.header("content-type"), Some("application/yang-data+json"));
    let r = rc.req("PUT", ACTORS, &[("Content-Type", "text/plain")], "x");
    assert_eq!(r.status, 415);
    let r = rc.req(
        "GET",
        ACTORS,
        &[("Accept", "application/yang-data+xml;q=0.5, application/yang-data+json")],
        "",
    );
    assert_eq!(r.header("content-type"), Some("application/yang-data+json"));
    // Errors come in the requested encoding; in JSON the list is an array.
    let r = rc.req("GET", "/restconf/data/occ-actors:nope", &[("Accept", "application/yang-data+xml")], "");
    assert_eq!(r.status, 400);
    assert!(r.body.starts_with("<errors xmlns=\"urn:ietf:params:xml:ns:yang:ietf-restconf\">"), "{}", r.body);
    let r = rc.get("/restconf/data/occ-actors:nope");
    assert!(r.json()["ietf-restconf:errors"]["error"].is_array());
    // Monitoring.
    let r = rc.get("/restconf/data/ietf-restconf-monitoring:restconf-state/capabilities");
    assert!(r.body.contains("urn:ietf:params:restconf:capability:depth:1.0"), "{}", r.body);
    // Not RESTCONF, or a body where none belongs, or a non-HTTP byte stream.
    assert_eq!(rc.get("/restconf/nothing").status, 404);
    assert_eq!(rc.req("GET", ACTORS, &[("Content-Type", "application/yang-data+json")], "{}").status, 400);
    let r = rc.raw(b"\x16\x03\x01garbage\r\n\r\n");
    assert!(r.status == 400 || r.status == 0, "{} {:?} {}", r.status, r.headers, r.body);
    assert_eq!(rc.get("/restconf").status, 200, "the server still answers");
    let (status, log) = rc.server.stop("TERM");
    assert!(status.success(), "{log:?}");
}

#[test]
fn crud_statuses_and_validators() {
    let dir = tempfile::tempdir().unwrap();
    let rc = Rc::start(dir.path());
    let r = rc.send_json("PUT", "/restconf/data", &scenario_json());
    assert_eq!(r.status, 204, "{}", r.body);
    // The datastore resource is ietf-restconf:data; JSON equals the
    // document loaded (libyang's RFC 7951 print of it).
    let r = rc.get("/restconf/data?content=config");
    assert_eq!(r.status, 200);
    // System-ordered lists and leaf-lists come back in libyang's order:
    // compare them as sets.
    let want = sorted(libyang_json(&scenario_json()));
    let got = sorted(r.json());
    for (k, v) in want.as_object().unwrap() {
        assert_eq!(&got["ietf-restconf:data"][k], v, "{k}");
    }
    // POST creates a child: 201 + Location; again: 409 data-exists.
    let r = rc.send_json("POST", ACTORS, &actor("x-1", "X one"));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("location"), Some("/restconf/data/occ-actors:actors/actor=x-1"));
    let etag = r.header("etag").unwrap().to_string();
    let r = rc.send_json("POST", ACTORS, &actor("x-1", "X one"));
    assert_eq!((r.status, r.tag().as_str()), (409, "data-exists"));
    // POST under a missing parent: 404.
    let r =
        rc.send_json("POST", "/restconf/data/occ-actors:actors/actor=nope", "{\"occ-actors:name\":\"n\"}");
    assert_eq!(r.status, 404);
    // GET a leaf, in both encodings; HEAD has the headers and no body.
    let r = rc.get("/restconf/data/occ-actors:actors/actor=x-1/name");
    assert_eq!(r.json(), serde_json::json!({"occ-actors:name": "X one"}));
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert!(r.header("last-modified").is_some());
    let r = rc.req("HEAD", "/restconf/data/occ-actors:actors/actor=x-1/name", &[], "");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
    let r = rc.send_xml("GET", "/restconf/data/occ-actors:actors/actor=x-1/name", "");
    assert_eq!(r.body.trim(), "<name xmlns=\"urn:occd:params:xml:ns:yang:occ-actors\">X one</name>");
    // Conditional GET.
    let r = rc.req(
        "GET",
        "/restconf/data/occ-actors:actors/actor=x-1?content=config",
        &[("If-None-Match", &etag)],
        "",
    );
    assert_eq!(r.status, 304);
    let r = rc.req(
        "GET",
        "/restconf/data/occ-actors:actors/actor=x-1?content=config",
        &[("If-None-Match", "\"0-0\"")],
        "",
    );
    assert_eq!(r.status, 200);
    // PUT replaces (204) or creates (201); the body must be the target.
    let r = rc.send_xml(
        "PUT",
        "/restconf/data/occ-actors:actors/actor=x-1/name",
        "<name xmlns=\"urn:occd:params:xml:ns:yang:occ-actors\">X renamed</name>",
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let r = rc.send_json("PUT", "/restconf/data/occ-actors:actors/actor=x-2", &actor("x-2", "X two"));
    assert_eq!(r.status, 201, "{}", r.body);
    let r = rc.send_json("PUT", "/restconf/data/occ-actors:actors/actor=x-3", &actor("x-2", "X two"));
    assert_eq!((r.status, r.tag().as_str()), (400, "invalid-value"));
    let r = rc.send_json(
        "PUT",
        "/restconf/data/occ-actors:actors/actor=x-3",
        &format!("{},{}", actor("x-3", "a"), "{}"),
    );
    assert_eq!(r.status, 400);
    // Preconditions: a stale If-Match fails with 412 and changes nothing.
    let r = rc.req(
        "PUT",
        "/restconf/data/occ-actors:actors/actor=x-2/name",
        &[("Content-Type", "application/yang-data+json"), ("If-Match", &etag)],
        "{\"occ-actors:name\":\"late\"}",
    );
    assert_eq!(r.status, 412);
    let r = rc.req(
        "PUT",
        "/restconf/data/occ-actors:actors/actor=x-2/name",
        &[
            ("Content-Type", "application/yang-data+json"),
            ("If-Unmodified-Since", "Mon, 01 Jan 2001 00:00:00 GMT"),
        ],
        "{\"occ-actors:name\":\"late\"}",
    );
    assert_eq!(r.status, 412);
    assert_eq!(rc.get("/restconf/data/occ-actors:actors/actor=x-2/name").json()["occ-actors:name"], "X two");
    // PATCH merges into an existing target; a missing one is 404.
    let r = rc.send_json("PATCH", "/restconf/data/occ-actors:actors/actor=x-2", &actor("x-2", "X patched"));
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        rc.get("/restconf/data/occ-actors:actors/actor=x-2/name").json()["occ-actors:name"],
        "X patched"
    );
    assert_eq!(
        rc.send_json("PATCH", "/restconf/data/occ-actors:actors/actor=x-9", &actor("x-9", "n")).status,
        404
    );
    // A YANG Patch body is for PATCH only.
    let r = rc.req("PATCH", ACTORS, &[("Content-Type", "application/yang-patch+json")], "{}");
    assert_eq!(r.status, 400, "{}", r.body);
    let r = rc.req("PUT", ACTORS, &[("Content-Type", "application/yang-patch+json")], "{}");
    assert_eq!(r.status, 415, "{}", r.body);
    // Invalid data: libyang's error through the table (pattern → 400 with
    // the must/pattern's app tag), nothing changed.
    let r = rc.send_json("POST", ACTORS, &actor("bad id", "n"));
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["ietf-restconf:errors"]["error"][0]["error-app-tag"], "occ-id-syntax");
    // State data cannot be edited; unknown nodes in a body are 400.
    let r = rc.send_json("POST", ACTORS, "{\"occ-actors:actor\":[{\"actor-id\":\"q\",\"bogus\":1}]}");
    assert_eq!(r.status, 400, "{}", r.body);
    // A body's parse errors have paths from the datastore root.
    let r = rc.send_json("PUT", &format!("{ACTORS}/actor=x-1/kind"), "{\"occ-actors:kind\":\"bogus\"}");
    let e = &r.json()["ietf-restconf:errors"]["error"][0];
    assert_eq!(
        (r.status, e["error-path"].as_str()),
        (400, Some("/occ-actors:actors/actor[actor-id='x-1']/kind")),
        "{}",
        r.body
    );
    let r = rc.send_json(
        "PUT",
        &format!("{ACTORS}/actor=x-1"),
        "{\"occ-actors:actor\":[{\"actor-id\":\"x-1\",\"name\":\"n\",\"kind\":\"bogus\"}]}",
    );
    let path =
        r.json()["ietf-restconf:errors"]["error"][0]["error-path"].as_str().unwrap_or_default().to_string();
    assert!(path.starts_with("/occ-actors:actors/actor[actor-id='x-1']/"), "{}", r.body);
    // DELETE: 204, then 409 data-missing.
    assert_eq!(rc.req("DELETE", "/restconf/data/occ-actors:actors/actor=x-1", &[], "").status, 204);
    let r = rc.req("DELETE", "/restconf/data/occ-actors:actors/actor=x-1", &[], "");
    assert_eq!((r.status, r.tag().as_str()), (409, "data-missing"));
    assert_eq!(rc.get("/restconf/data/occ-actors:actors/actor=x-1").status, 404);
    assert_eq!(rc.req("DELETE", "/restconf/data", &[], "").status, 405);
    // OPTIONS lists the methods.
    let r = rc.req("OPTIONS", ACTORS, &[], "");
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE"));
    assert!(r.header("accept-patch").is_some());
    let (status, log) = rc.server.stop("TERM");
    assert!(status.success(), "{log:?}");
}

#[test]
fn query_parameters_uris_datastores_and_operations() {
    let dir = tempfile::tempdir().unwrap();
    let rc = Rc::start(dir.path());
    assert_eq!(rc.send_json("PUT", "/restconf/data", &scenario_json()).status, 204);
    // depth
    let r = rc.get("/restconf/data/occ-actors:actors/actor=acme?depth=1");
    assert_eq!(r.json(), serde_json::json!({"occ-actors:actor": [{"actor-id": "acme"}]}));
    let r = rc.get("/restconf/data/occ-actors:actors/actor=acme?depth=unbounded");
    assert!(r.json()["occ-actors:actor"][0]["contact"].is_object());
    // content
    let r = rc.get("/restconf/data/ietf-netconf-monitoring:netconf-state?content=config");
    assert_eq!(r.status, 404, "{}", r.body);
    let r = rc.get("/restconf/data/ietf-restconf-monitoring:restconf-state?content=nonconfig");
    assert_eq!(r.status, 200);
    // with-defaults: report-all shows a default explicit mode hides.
    let explicit = rc.get("/restconf/data/occ-actors:actors/actor=acme").body;
    let all = rc.get("/restconf/data/occ-actors:actors/actor=acme?with-defaults=report-all").body;
    let tagged = rc.get("/restconf/data/occ-actors:actors/actor=acme?with-defaults=report-all-tagged").body;
    assert!(all.len() >= explicit.len());
    if all.len() > explicit.len() {
        assert!(tagged.contains("ietf-netconf-with-defaults:default"), "{tagged}");
    }
    // insert / point on an ordered-by user leaf-list.
    let contact = "/restconf/data/occ-actors:actors/actor=acme/contact";
    let r = rc.send_json(
        "POST",
        &format!("{contact}?insert=first"),
        "{\"occ-actors:email\":[\"first@acme.example\"]}",
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.header("location"),
        Some("/restconf/data/occ-actors:actors/actor=acme/contact/email=first%40acme.example")
    );
    let point = "/occ-actors:actors/actor%3Dacme/contact/email%3Dnoc@acme.example";
    let r = rc.send_json(
        "POST",
        &format!("{contact}?insert=after&point={point}"),
        "{\"occ-actors:email\":[\"mid@acme.example\"]}",
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let r = rc.get(&format!("{contact}/email"));
    assert_eq!(
        r.json()["occ-actors:email"],
        serde_json::json!(["first@acme.example", "noc@acme.example", "mid@acme.example", "it@acme.example"])
    );
    let r = rc.send_json("POST", &format!("{ACTORS}?insert=first"), &actor("x-5", "n"));
    assert_eq!(r.status, 400, "insert on a system-ordered list: {}", r.body);
    // Bad query parameters: 400 each.
    for q in [
        "depth=0",
        "depth=65536",
        "depth=x",
        "content=foo",
        "content=all&content=all",
        "foo=1",
        "with-defaults=none",
        "insert=first",
        "with-origin",
        "fields=",
    ] {
        let r = rc.get(&format!("{ACTORS}?{q}"));
        assert_eq!(r.status, 400, "{q}: {}", r.body);
    }
    // Bad URIs: 400 each, the server unharmed.
    for p in [
        "/restconf/data/actors",
        "/restconf/data/:actors",
        "/restconf/data/occ-actors:",
        "/restconf/data/occ-actors:actors//actor=acme",
        "/restconf/data/occ-actors:actors/",
        "/restconf/data/occ-actors:actors/..",
        "/restconf/data/occ-actors:actors/actor",
        "/restconf/data/occ-actors:actors/actor=acme,x",
        "/restconf/data/occ-actors:actors/actor==acme",
        "/restconf/data/occ-actors:actors/actor=%zz",
        "/restconf/data/occ-actors:actors/actor=%2",
        "/restconf/data/occ-actors:actors/actor=%C0%AF",
        "/restconf/data/occ-actors:actors/actor=a%00",
        "/restconf/data/occ-actors:actors/1actor=x",
        "/restconf/data/occ-actors:actors=x",
        "/restconf/data/occ-actors:nope",
        "/restconf/data/nope:actors",
        "/restconf/data/occ-actors:actors/actor=acme/name/x",
    ] {
        let r = rc.get(p);
        assert_eq!(r.status, 400, "{p}: {}", r.body);
    }
    // %2F and %2C are data inside a key: not found, not a parse error.
    assert_eq!(rc.get("/restconf/data/occ-actors:actors/actor=a%2Fb%2Cc").status, 404);
    // NMDA datastores.
    let r = rc.get("/restconf/ds/ietf-datastores:running/occ-actors:actors/actor=acme/name");
    assert_eq!(r.json()["occ-actors:name"], "ACME Corporation");
    let r = rc.send_json(
        "PUT",
        "/restconf/ds/ietf-datastores:candidate/occ-actors:actors/actor=acme/name",
        "{\"occ-actors:name\":\"In candidate\"}",
    );
    assert_eq!(r.status, 204, "{}", r.body);
    let r = rc.get("/restconf/ds/ietf-datastores:candidate/occ-actors:actors/actor=acme/name");
    assert_eq!(r.json()["occ-actors:name"], "In candidate");
    let r = rc.get("/restconf/ds/ietf-datastores:running/occ-actors:actors/actor=acme/name");
    assert_eq!(r.json()["occ-actors:name"], "ACME Corporation");
    let r = rc.get("/restconf/ds/ietf-datastores:operational/occ-actors:actors/actor=acme/name?with-origin");
    assert!(r.body.contains("ietf-origin:origin"), "{}", r.body);
    let r = rc.send_json(
        "PUT",
        "/restconf/ds/ietf-datastores:operational/occ-actors:actors/actor=acme/name",
        "{}",
    );
    assert_eq!(r.status, 405);
    assert_eq!(rc.get("/restconf/ds/ietf-datastores:nope").status, 404);
    assert_eq!(rc.get("/restconf/data/occ-actors:actors?with-origin").status, 400);
    // Operations: listed; input validated by libyang; no handler → 501.
    let r = rc.get("/restconf/operations");
    assert_eq!(
        r.json()["ietf-restconf:operations"]["occ-lso:cancel-service-order"],
        serde_json::json!([null])
    );
    let op = "/restconf/operations/occ-lso:cancel-service-order";
    let r = rc.req("POST", op, &[], "");
    assert_eq!((r.status, r.tag().as_str()), (400, "missing-element"));
    let r = rc.send_json("POST", op, "{\"occ-lso:input\":{\"bogus\":1}}");
    assert_eq!((r.status, r.tag().as_str()), (400, "unknown-element"));
    let r = rc.get(op);
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), Some("POST, OPTIONS"));
    let r = rc.send_json("POST", "/restconf/operations/ietf-netconf:get-config", "{}");
    assert_eq!(r.status, 404);
    // An oversized body is refused and the server goes on.
    let big = format!("Content-Length: {}\r\n", 200 * 1024 * 1024);
    let r = rc.raw(format!("PUT {ACTORS} HTTP/1.1\r\nHost: x\r\nAuthorization: {AUTH}\r\nContent-Type: application/yang-data+json\r\n{big}Connection: close\r\n\r\n{{").as_bytes());
    assert_eq!(r.status, 413, "{}", r.body);
    assert_eq!(rc.get("/restconf").status, 200);
    let (status, log) = rc.server.stop("TERM");
    assert!(status.success(), "{log:?}");
}

/// A YANG Patch body (RFC 8072) in JSON.
fn patch_json(id: &str, edits: &[serde_json::Value]) -> String {
    serde_json::json!({"ietf-yang-patch:yang-patch": {"patch-id": id, "edit": edits}}).to_string()
}

fn yang_patch(rc: &Rc, path: &str, body: &str) -> Reply {
    rc.req("PATCH", path, &[("Content-Type", "application/yang-patch+json")], body)
}

/// The one failed edit's id and first error tag of a yang-patch-status.
fn patch_failure(r: &Reply) -> (String, String) {
    let v = r.json();
    let st = &v["ietf-yang-patch:yang-patch-status"];
    assert!(st["ok"].is_null(), "{}", r.body);
    let e = &st["edit-status"]["edit"][0];
    let errors = if e.is_null() { &st["errors"] } else { &e["errors"] };
    (
        e["edit-id"].as_str().unwrap_or("(global)").to_string(),
        errors["error"][0]["error-tag"].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn yang_patch_and_fields() {
    use serde_json::json;
    let dir = tempfile::tempdir().unwrap();
    let rc = Rc::start(dir.path());
    assert_eq!(rc.send_json("PUT", "/restconf/data", &scenario_json()).status, 204);
    let emails =
        |rc: &Rc| rc.get(&format!("{ACTORS}/actor=acme/contact/email")).json()["occ-actors:email"].clone();
    let before = rc.get(ACTORS).body;

    // Capabilities and Accept-Patch advertise both.
    let caps = rc.get("/restconf/data/ietf-restconf-monitoring:restconf-state/capabilities").body;
    assert!(caps.contains("urn:ietf:params:restconf:capability:yang-patch:1.0"), "{caps}");
    assert!(caps.contains("urn:ietf:params:restconf:capability:fields:1.0"), "{caps}");
    let r = rc.req("OPTIONS", ACTORS, &[], "");
    assert!(r.header("accept-patch").unwrap_or_default().contains("application/yang-patch+json"));

    // Every operation in one patch, each seeing the ones before it.
    let body = patch_json(
        "p-all",
        &[
            json!({"edit-id": "create", "operation": "create", "target": "/actor=yp-1",
                   "value": {"occ-actors:actor": [{"actor-id": "yp-1", "name": "YP", "role": ["occ-types:cloud-service-user"], "kind": "enterprise"}]}}),
            json!({"edit-id": "merge", "operation": "merge", "target": "/actor=yp-1/name", "value": {"occ-actors:name": "YP merged"}}),
            json!({"edit-id": "replace", "operation": "replace", "target": "/actor=acme/contact/phone", "value": {"occ-actors:phone": "+1 555 0199"}}),
            json!({"edit-id": "insert", "operation": "insert", "target": "/actor=acme/contact/email=first%40acme.example",
                   "where": "first", "value": {"occ-actors:email": ["first@acme.example"]}}),
            json!({"edit-id": "move", "operation": "move", "target": "/actor=acme/contact/email=it%40acme.example",
                   "where": "before", "point": "/actor=acme/contact/email=noc%40acme.example"}),
            json!({"edit-id": "create-2", "operation": "create", "target": "/actor=yp-2",
                   "value": {"occ-actors:actor": [{"actor-id": "yp-2", "name": "YP2", "role": ["occ-types:cloud-service-user"], "kind": "enterprise"}]}}),
            json!({"edit-id": "delete", "operation": "delete", "target": "/actor=yp-2"}),
            json!({"edit-id": "remove", "operation": "remove", "target": "/actor=nobody"}),
        ],
    );
    let r = yang_patch(&rc, ACTORS, &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"ietf-yang-patch:yang-patch-status": {"patch-id": "p-all", "ok": [null]}}));
    assert!(r.header("etag").is_some());
    assert_eq!(rc.get(&format!("{ACTORS}/actor=yp-1/name")).json()["occ-actors:name"], "YP merged");
    assert_eq!(rc.get(&format!("{ACTORS}/actor=yp-2")).status, 404);
    assert_eq!(emails(&rc), json!(["first@acme.example", "it@acme.example", "noc@acme.example"]));
    let after = rc.get(ACTORS).body;

    // A failing edit names itself and nothing of the patch is applied.
    let cases: Vec<(Vec<serde_json::Value>, u16, &str, &str)> = vec![
        (
            vec![
                json!({"edit-id": "ok-first", "operation": "merge", "target": "/actor=acme/name", "value": {"occ-actors:name": "changed"}}),
                json!({"edit-id": "dup", "operation": "create", "target": "/actor=acme",
                       "value": {"occ-actors:actor": [{"actor-id": "acme", "name": "x", "role": ["occ-types:cloud-service-user"], "kind": "enterprise"}]}}),
            ],
            409,
            "dup",
            "data-exists",
        ),
        (
            vec![json!({"edit-id": "gone", "operation": "delete", "target": "/actor=ghost"})],
            404,
            "gone",
            "data-missing",
        ),
        (
            vec![
                json!({"edit-id": "mv", "operation": "move", "target": "/actor=acme/contact/email=none%40x.example", "where": "first"}),
            ],
            404,
            "mv",
            "data-missing",
        ),
        // A move never creates: not after a delete in the same patch, nor
        // below an entry an earlier edit merged.
        (
            vec![
                json!({"edit-id": "del", "operation": "delete", "target": "/actor=acme/contact/email=it%40acme.example"}),
                json!({"edit-id": "mv-deleted", "operation": "move", "target": "/actor=acme/contact/email=it%40acme.example", "where": "first"}),
            ],
            404,
            "mv-deleted",
            "data-missing",
        ),
        (
            vec![
                json!({"edit-id": "merge", "operation": "merge", "target": "/actor=acme/name", "value": {"occ-actors:name": "ACME Corporation"}}),
                json!({"edit-id": "mv-ghost", "operation": "move", "target": "/actor=acme/contact/email=ghost%40x.example", "where": "first"}),
            ],
            404,
            "mv-ghost",
            "data-missing",
        ),
        (
            vec![
                json!({"edit-id": "unordered", "operation": "move", "target": "/actor=acme", "where": "first"}),
            ],
            400,
            "unordered",
            "invalid-value",
        ),
        (
            vec![
                json!({"edit-id": "unknown", "operation": "merge", "target": "/actor=acme/fax", "value": {"occ-actors:fax": "1"}}),
            ],
            400,
            "unknown",
            "unknown-element",
        ),
        (
            vec![json!({"edit-id": "keys", "operation": "replace", "target": "/actor=acme",
                        "value": {"occ-actors:actor": [{"actor-id": "other", "name": "x", "role": ["occ-types:cloud-service-user"], "kind": "enterprise"}]}})],
            400,
            "keys",
            "invalid-value",
        ),
        (
            vec![json!({"edit-id": "badpath", "operation": "delete", "target": "actor=acme"})],
            400,
            "badpath",
            "invalid-value",
        ),
        // Validation of the result: a global error (the relationships
        // still name acme).
        (
            vec![json!({"edit-id": "dangling", "operation": "delete", "target": "/actor=acme"})],
            409,
            "(global)",
            "data-missing",
        ),
    ];
    for (edits, status, edit, tag) in cases {
        let r = yang_patch(&rc, ACTORS, &patch_json("p-bad", &edits));
        assert_eq!(r.status, status, "{edit}: {}", r.body);
        assert_eq!(patch_failure(&r), (edit.to_string(), tag.to_string()), "{}", r.body);
        assert_eq!(rc.get(ACTORS).body, after, "{edit} changed the datastore");
    }
    assert_ne!(before, after);
    // A leaf created by an earlier edit can be deleted by a later one.
    let body = patch_json(
        "create-delete",
        &[
            json!({"edit-id": "c", "operation": "create", "target": "/actor=comcloud/contact/phone", "value": {"occ-actors:phone": "+1 555 0111"}}),
            json!({"edit-id": "d", "operation": "delete", "target": "/actor=comcloud/contact/phone"}),
            json!({"edit-id": "r", "operation": "remove", "target": "/actor=comcloud/contact/phone"}),
        ],
    );
    let r = yang_patch(&rc, ACTORS, &body);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(rc.get(ACTORS).body, after);

    // Not a YANG Patch at all: plain RESTCONF errors, 400.
    for bad in [
        "{",
        "{\"ietf-yang-patch:yang-patch\":{}}",
        "{\"ietf-yang-patch:yang-patch\":{\"patch-id\":\"p\",\"edit\":[{\"edit-id\":\"a\",\"operation\":\"create\",\"target\":\"/x\"}]}}",
    ] {
        let r = yang_patch(&rc, ACTORS, bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.json()["ietf-restconf:errors"]["error"].is_array(), "{}", r.body);
    }
    // NETCONF edit attributes inside a body are refused, in YANG Patch
    // values and in plain edits alike.
    let hidden = patch_json(
        "hidden",
        &[json!({"edit-id": "h", "operation": "merge", "target": "/actor=acme/contact",
                 "value": {"occ-actors:contact": {"phone": "+1 555 0100", "@phone": {"ietf-netconf:operation": "delete"}}}})],
    );
    let r = yang_patch(&rc, ACTORS, &hidden);
    assert_eq!((r.status, patch_failure(&r).1.as_str()), (400, "unknown-attribute"), "{}", r.body);
    let r = rc.send_json(
        "PATCH",
        &format!("{ACTORS}/actor=acme/contact"),
        "{\"occ-actors:contact\":{\"email\":[\"it@acme.example\"],\"@email\":[{\"yang:insert\":\"first\"}]}}",
    );
    assert_eq!((r.status, r.tag().as_str()), (400, "unknown-attribute"), "{}", r.body);
    let r = rc.send_json("PATCH", ACTORS, "{\"occ-actors:actors\":{},\"occ-actors:actors\":{}}");
    assert_eq!((r.status, r.tag().as_str()), (400, "malformed-message"), "{}", r.body);
    assert_eq!(rc.get(ACTORS).body, after);
    // The patch target must exist; preconditions apply.
    let r = yang_patch(&rc, &format!("{ACTORS}/actor=ghost"), &patch_json("p", &[]));
    assert_eq!(r.status, 404, "{}", r.body);
    let r = rc.req(
        "PATCH",
        ACTORS,
        &[("Content-Type", "application/yang-patch+json"), ("If-Match", "\"0-0\"")],
        &patch_json("p", &[]),
    );
    assert_eq!(r.status, 412, "{}", r.body);

    // XML, from the datastore root, on the candidate; the value's prefix
    // declared on the patch element.
    let xml = r#"<yang-patch xmlns="urn:ietf:params:xml:ns:yang:ietf-yang-patch" xmlns:a="urn:occd:params:xml:ns:yang:occ-actors">
        <patch-id>x-1</patch-id>
        <edit><edit-id>1</edit-id><operation>insert</operation><target>/occ-actors:actors/actor=acme/contact/email=z%40acme.example</target>
          <where>after</where><point>/occ-actors:actors/actor=acme/contact/email=first%40acme.example</point>
          <value><a:email>z@acme.example</a:email></value></edit>
        </yang-patch>"#;
    let cand = "/restconf/ds/ietf-datastores:candidate";
    let r = rc.req(
        "PATCH",
        cand,
        &[("Content-Type", "application/yang-patch+xml"), ("Accept", "application/yang-data+xml")],
        xml,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        "<yang-patch-status xmlns=\"urn:ietf:params:xml:ns:yang:ietf-yang-patch\"><patch-id>x-1</patch-id><ok/></yang-patch-status>"
    );
    let r = rc.get(&format!("{cand}/occ-actors:actors/actor=acme/contact/email"));
    assert_eq!(
        r.json()["occ-actors:email"],
        json!(["first@acme.example", "z@acme.example", "it@acme.example", "noc@acme.example"])
    );
    assert_eq!(emails(&rc).as_array().map(Vec::len), Some(3), "running is untouched");
    let r = rc.req(
        "PATCH",
        cand,
        &[("Content-Type", "application/yang-patch+xml"), ("Accept", "application/yang-data+xml")],
        &xml.replace("x-1", "x-2"),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(r.body.contains("<edit-status><edit><edit-id>1</edit-id><errors><error><error-type>application</error-type><error-tag>data-exists</error-tag>"), "{}", r.body);

    // fields: selected descendants, their ancestors and list keys.
    let r = rc.get(&format!("{ACTORS}?fields=actor(name;contact/email)"));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let acme = &v["occ-actors:actors"]["actor"][0];
    assert_eq!(acme["actor-id"], "acme");
    assert_eq!(acme["name"], "ACME Corporation");
    assert!(acme["contact"]["email"].is_array() && acme["contact"]["phone"].is_null(), "{acme}");
    assert!(acme["kind"].is_null() && acme["role"].is_null(), "{acme}");
    let r = rc.get("/restconf/data?fields=occ-actors:actors/actor/name");
    let v = r.json();
    let data = v["ietf-restconf:data"].as_object().unwrap();
    assert_eq!(data.keys().collect::<Vec<_>>(), ["occ-actors:actors"], "{}", r.body);
    assert_eq!(
        data["occ-actors:actors"]["actor"][1],
        json!({"actor-id": "comcloud", "name": "ComCloud Networks"})
    );
    // With depth, selected nodes count as depth 1.
    let r = rc.get(&format!("{ACTORS}/actor=acme?fields=contact&depth=1"));
    assert_eq!(r.json(), json!({"occ-actors:actor": [{"actor-id": "acme", "contact": {}}]}));
    let r = rc.get(&format!("{ACTORS}/actor=acme?fields=contact&depth=2"));
    assert!(r.json()["occ-actors:actor"][0]["contact"]["email"].is_array(), "{}", r.body);
    // XML likewise.
    let r = rc.req(
        "GET",
        &format!("{ACTORS}/actor=nimbus?fields=name"),
        &[("Accept", "application/yang-data+xml")],
        "",
    );
    assert_eq!(
        r.body.split_whitespace().collect::<String>(),
        "<actorxmlns=\"urn:occd:params:xml:ns:yang:occ-actors\"><actor-id>nimbus</actor-id><name>NimbusDataCentres</name></actor>"
    );
    for bad in ["nope", "actor/nope", "actor(name", "actor;", "name/x", "occ-nfv:vm", "actor/name/x"] {
        let r = rc.get(&format!("{ACTORS}?fields={bad}"));
        assert_eq!(r.status, 400, "fields={bad}: {}", r.body);
    }
    assert_eq!(rc.get("/restconf/data?fields=actors").status, 400, "unqualified at the root");
    // An empty container prints as {} (and nested empty ones not at all).
    let r = rc.get(&format!("{ACTORS}/actor=comcloud/contact"));
    assert_eq!(r.json(), json!({"occ-actors:contact": {}}));
    assert!(rc.get(&format!("{ACTORS}/actor=comcloud")).json()["occ-actors:actor"][0]["contact"].is_null());
    let (status, log) = rc.server.stop("TERM");
    assert!(status.success(), "{log:?}");
}

/// curl over TLS (the self-signed certificate, `-k`), HTTP/2 and
/// HTTP/1.1: a create/read/update/delete cycle on the OCC reference
/// scenario in JSON, then in XML.
#[test]
fn curl_crud_cycle_over_tls_and_http2() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(
        dir.path(),
        "occd.toml",
        "data-dir = \"data\"\n[netconf]\nenabled = false\n[restconf]\nlisten = \"127.0.0.1:0\"\n\
         [[users]]\nname = \"admin\"\npassword-hash = \"$0$rc-pw\"\n",
    );
    let server = Server::start(&["-c", &cfg]).unwrap_or_else(|o| panic!("serve failed: {}", o.all()));
    let line = server.log.iter().find(|l| l.contains("RESTCONF listening on https://")).expect("listen line");
    let base = line[line.find("https://").unwrap()..].trim_end_matches("/restconf").trim().to_string();
    let curl = |http: &str, args: &[&str]| -> (String, String) {
        let out = std::process::Command::new("timeout")
            .args(["60", "curl", "-sk", http, "-u", "admin:rc-pw", "-w", "\n%{http_version} %{http_code}"])
            .args(args)
            .output()
            .expect("curl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, tail) = text.rsplit_once('\n').unwrap_or(("", &text));
        (tail.to_string(), body.to_string())
    };
    let scenario_xml = root().join("yang/occ/examples/scenario.xml").display().to_string();
    let scenario_json = root().join("yang/occ/examples/scenario.json").display().to_string();
    let json = "Content-Type: application/yang-data+json";
    let xml = "Content-Type: application/yang-data+xml";
    let accept_xml = "Accept: application/yang-data+xml";
    let actors = format!("{base}/restconf/data/occ-actors:actors");
    let one = format!("{actors}/actor=x-1");
    for (http, version) in [("--http2", "2"), ("--http1.1", "1.1")] {
        // JSON
        let (s, b) = curl(
            http,
            &[
                "-X",
                "PUT",
                "-H",
                json,
                "--data-binary",
                &format!("@{scenario_json}"),
                &format!("{base}/restconf/data"),
            ],
        );
        assert_eq!(s, format!("{version} 204"), "{b}");
        let (s, b) = curl(http, &[&format!("{actors}/actor=acme/name")]);
        assert_eq!(s, format!("{version} 200"));
        assert!(b.contains("\"occ-actors:name\": \"ACME Corporation\""), "{b}");
        let (s, b) = curl(http, &["-X", "POST", "-H", json, "-d", &actor("x-1", "X one"), &actors]);
        assert_eq!(s, format!("{version} 201"), "{b}");
        let (s, b) = curl(http, &["-X", "PATCH", "-H", json, "-d", &actor("x-1", "X two"), &one]);
        assert_eq!(s, format!("{version} 204"), "{b}");
        let (_, b) = curl(http, &[&format!("{one}/name")]);
        assert!(b.contains("X two"), "{b}");
        let patch = patch_json(
            "curl",
            &[
                serde_json::json!({"edit-id": "1", "operation": "merge", "target": "/name", "value": {"occ-actors:name": "X patched"}}),
            ],
        );
        let yp = "Content-Type: application/yang-patch+json";
        let (s, b) = curl(http, &["-X", "PATCH", "-H", yp, "-d", &patch, &one]);
        assert_eq!(s, format!("{version} 200"), "{b}");
        assert!(b.contains("\"ok\":[null]"), "{b}");
        let (_, b) = curl(http, &[&format!("{one}/name?fields=")]);
        assert!(b.contains("\"error-tag\":\"invalid-value\""), "{b}");
        let (_, b) = curl(http, &[&format!("{actors}?fields=actor/name")]);
        assert!(b.contains("X patched") && !b.contains("\"kind\""), "{b}");
        let (s, _) = curl(http, &["-X", "DELETE", &one]);
        assert_eq!(s, format!("{version} 204"));
        let (s, _) = curl(http, &[&one]);
        assert_eq!(s, format!("{version} 404"));
        // XML
        let (s, b) = curl(
            http,
            &[
                "-X",
                "PUT",
                "-H",
                xml,
                "--data-binary",
                &format!("@{scenario_xml}"),
                &format!("{base}/restconf/data"),
            ],
        );
        assert_eq!(s, format!("{version} 204"), "{b}");
        let (s, b) = curl(http, &["-H", accept_xml, &format!("{actors}/actor=nimbus/name")]);
        assert_eq!(s, format!("{version} 200"));
        assert_eq!(
            b.trim(),
            "<name xmlns=\"urn:occd:params:xml:ns:yang:occ-actors\">Nimbus Data Centres</name>"
        );
        let body = "<actor xmlns=\"urn:occd:params:xml:ns:yang:occ-actors\" xmlns:t=\"urn:occd:params:xml:ns:yang:occ-types\">\
                    <actor-id>x-1</actor-id><name>X xml</name><role>t:cloud-service-user</role><kind>enterprise</kind></actor>";
        let (s, b) = curl(http, &["-X", "POST", "-H", xml, "-H", accept_xml, "-d", body, &actors]);
        assert_eq!(s, format!("{version} 201"), "{b}");
        let (s, b) = curl(
            http,
            &[
                "-X",
                "PUT",
                "-H",
                xml,
                "-H",
                accept_xml,
                "-d",
                "<name xmlns=\"urn:occd:params:xml:ns:yang:occ-actors\">X put</name>",
                &format!("{one}/name"),
            ],
        );
        assert_eq!(s, format!("{version} 204"), "{b}");
        let (_, b) = curl(http, &["-H", accept_xml, &one]);
        assert!(b.contains("<name>X put</name>"), "{b}");
        let (s, _) = curl(http, &["-X", "DELETE", &one]);
        assert_eq!(s, format!("{version} 204"));
        let (s, b) = curl(http, &["-H", accept_xml, &one]);
        assert_eq!(s, format!("{version} 404"));
        assert!(b.starts_with("<errors xmlns=\"urn:ietf:params:xml:ns:yang:ietf-restconf\">"), "{b}");
    }
    let (status, log) = server.stop("TERM");
    assert!(status.success(), "{log:?}");
}

/// Event streams (RFC 8040 §6) with curl: the streams and their locations
/// in restconf-state, a live config-change over SSE in JSON with an XPath
/// filter, a replay window in XML that ends by itself, and the errors.
#[test]
fn event_streams_over_sse_with_curl() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    let rc = Rc::start(dir.path());
    let base = format!("http://127.0.0.1:{}", rc.port);
    let r = rc.get("/restconf/data/ietf-restconf-monitoring:restconf-state/streams");
    assert_eq!(r.status, 200, "{}", r.body);
    let streams = r.json();
    let list = streams["ietf-restconf-monitoring:streams"]["stream"].as_array().unwrap().clone();
    let netconf = list.iter().find(|s| s["name"] == "NETCONF").expect("NETCONF stream");
    assert_eq!(netconf["replay-support"], true);
    assert_eq!(netconf["access"][0]["location"], format!("{base}/streams/NETCONF/xml"));
    assert_eq!(netconf["access"][1]["encoding"], "json");
    assert!(list.iter().any(|s| s["name"] == "occ-services"), "{streams}");

    // Live, JSON, filtered to config changes.
    let url = format!(
        "{base}/streams/ietf-netconf-notifications/json?filter=/ietf-netconf-notifications:netconf-config-change"
    );
    let mut curl = std::process::Command::new("timeout")
        .args(["30", "curl", "-sN", "-u", "admin:rc-pw", &url])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("curl");
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    let out = curl.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // The subscription is live once curl has its response headers; poll
    // with edits until one shows up.
    let mut seen = None;
    for i in 0..50 {
        let id = format!("sse-{i}");
        let r = rc.send_json("POST", "/restconf/data/occ-actors:actors", &actor(&id, "SSE"));
        assert_eq!(r.status, 201, "{}", r.body);
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(300)) {
            seen = Some(line);
            break;
        }
    }
    let line = seen.expect("a config-change on the SSE stream");
    let data = line.strip_prefix("data: ").unwrap_or_else(|| panic!("not an SSE data line: {line}"));
    let v: serde_json::Value = serde_json::from_str(data).unwrap();
    let n = &v["ietf-restconf:notification"];
    assert!(occd::notify::parse_date_time(n["eventTime"].as_str().unwrap()).is_some(), "{v}");
    let change = &n["ietf-netconf-notifications:netconf-config-change"];
    assert_eq!(change["changed-by"]["username"], "admin", "{v}");
    assert_eq!(change["changed-by"]["session-id"], 0, "RESTCONF is a non-NETCONF session: {v}");
    assert_eq!(change["changed-by"]["source-host"], "127.0.0.1", "{v}");
    assert_eq!(change["datastore"], "running");
    let target = change["edit"][0]["target"].as_str().unwrap();
    assert!(target.starts_with("/occ-actors:actors/actor[actor-id='sse-"), "{v}");
    assert_eq!(change["edit"][0]["operation"], "create");
    let _ = curl.kill();
    let _ = curl.wait();

    // A replay window in XML: the events, replayComplete,
    // notificationComplete, and the response ends.
    let stop = occd::notify::event_time(std::time::SystemTime::now());
    let out = std::process::Command::new("timeout")
        .args([
            "30",
            "curl",
            "-sN",
            "-u",
            "admin:rc-pw",
            "-H",
            "Accept: text/event-stream",
            &format!("{base}/streams/NETCONF/xml?start-time=2020-01-01T00:00:00Z&stop-time={stop}"),
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "the stream ends at stop-time: {out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let events: Vec<&str> = text.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert!(
        events.iter().all(|e| e.starts_with(
            "data: <notification xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"><eventTime>"
        )),
        "{text}"
    );
    assert!(events.iter().any(|e| e.contains("<operation>create</operation>")), "{text}");
    let n = events.len();
    assert!(events[n - 2].contains("<replayComplete"), "{text}");
    assert!(events[n - 1].contains("<notificationComplete"), "{text}");

    // Errors, as RESTCONF errors with the right statuses.
    let r = rc.get("/streams/NETCONF/json?start-time=2999-01-01T00:00:00Z");
    assert_eq!((r.status, r.tag()), (400, "bad-element".to_string()), "{}", r.body);
    let r = rc.get("/streams/NETCONF/json?stop-time=2020-01-01T00:00:00Z");
    assert_eq!((r.status, r.tag()), (400, "missing-element".to_string()), "{}", r.body);
    let r = rc.get("/streams/NETCONF/json?start-time=soon");
    assert_eq!((r.status, r.tag()), (400, "invalid-value".to_string()), "{}", r.body);
    let r = rc.get("/streams/NETCONF/json?filter=/nope:x");
    assert_eq!((r.status, r.tag()), (400, "invalid-value".to_string()), "{}", r.body);
    let r = rc.get("/streams/NETCONF/json?depth=1");
    assert_eq!(r.status, 400, "{}", r.body);
    let r = rc.get("/streams/NOPE/json");
    assert_eq!(r.status, 404, "{}", r.body);
    let r = rc.get("/streams/NETCONF/yaml");
    assert_eq!(r.status, 404, "{}", r.body);
    let r = rc.req("GET", "/streams/NETCONF/json", &[("Accept", "application/yang-data+json")], "");
    assert_eq!(r.status, 406, "{}", r.body);
    let r = rc.req("POST", "/streams/NETCONF/json", &[], "");
    assert_eq!(r.status, 405, "{}", r.body);
    let r = rc.req("GET", "/streams/NETCONF/json", &[("Authorization", "Basic eDp5")], "");
    assert_eq!(r.status, 401, "{}", r.body);
}
