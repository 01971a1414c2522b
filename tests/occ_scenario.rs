//! Golden-file scenario tests of the OCC domain layer: each directory below
//! `tests/scenarios/` is a case, each `NN-name.step` file in it one step,
//! run in order over NETCONF and, on a fresh server, over RESTCONF.
//!
//! A step file has sections:
//!
//! ```text
//! # comment
//! netconf:
//! <the content of an <rpc>; {{file:PATH}} inserts a file of the repository>
//! restconf: METHOD /restconf/…
//! <a JSON body, or @PATH for a file of the repository; may be empty>
//! expect:
//! reply ok                      the request succeeded (<ok/>, or HTTP 2xx)
//! reply error TAG [APP-TAG]     it failed with this error-tag (and app tag)
//! reply PATH OP VALUE           on the reply (output or errors)
//! state PATH OP VALUE           on everything <get>/GET /restconf/data returns
//! wait PATH OP VALUE            as state, polled until it holds (30 s)
//! notify NAME [PATH OP VALUE]   a notification NAME came (within 10 s),
//!                               with a value; each one satisfies one line
//! ```
//!
//! PATH is `name[key]/name/…` (no module prefixes; `[key]` picks the list
//! entry with a child of that value), matched anywhere in the XML or JSON
//! tree; OP is `=`, `>` (numbers), `~` (contains), `present` or `absent`;
//! a line holds when any match satisfies it. Identity values compare
//! without their prefix. Notifications come from a NETCONF subscription in
//! the NETCONF run and from the RESTCONF JSON event stream in the RESTCONF
//! run. A case's `options` file may set `order-step-ms N`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::nc::Client;
use occd::netconf::Server;
use occd::occ::backend::Simulator;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

/// A protocol-neutral tree of an XML or JSON document.
#[derive(Debug, Clone, Default)]
struct Node {
    name: String,
    text: Option<String>,
    kids: Vec<Node>,
}

fn local(name: &str) -> String {
    name.rsplit(':').next().unwrap_or(name).to_string()
}

fn from_xml(xml: &str) -> Node {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Node::default()];
    loop {
        match r.read_event() {
            Ok(Event::Start(e)) => stack
                .push(Node { name: local(&String::from_utf8_lossy(e.name().as_ref())), ..Node::default() }),
            Ok(Event::Empty(e)) => {
                let n = Node { name: local(&String::from_utf8_lossy(e.name().as_ref())), ..Node::default() };
                stack.last_mut().unwrap().kids.push(n);
            }
            Ok(Event::Text(t)) => {
                let s = t.decode().map(|c| c.into_owned()).unwrap_or_default();
                let s = s.trim();
                if !s.is_empty() {
                    let top = stack.last_mut().unwrap();
                    top.text = Some(top.text.take().unwrap_or_default() + s);
                }
            }
            Ok(Event::End(_)) => {
                let n = stack.pop().unwrap();
                stack.last_mut().unwrap().kids.push(n);
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    stack.swap_remove(0)
}

fn from_json(name: &str, v: &serde_json::Value, out: &mut Vec<Node>) {
    use serde_json::Value;
    match v {
        Value::Array(items) => items.iter().for_each(|i| from_json(name, i, out)),
        Value::Object(m) => {
            let mut n = Node { name: local(name), ..Node::default() };
            for (k, v) in m {
                from_json(k, v, &mut n.kids);
            }
            out.push(n);
        }
        Value::Null => out.push(Node { name: local(name), text: Some(String::new()), ..Node::default() }),
        Value::String(s) => out.push(Node { name: local(name), text: Some(s.clone()), ..Node::default() }),
        other => out.push(Node { name: local(name), text: Some(other.to_string()), ..Node::default() }),
    }
}

fn json_tree(text: &str) -> Node {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let mut kids = Vec::new();
    from_json("", &v, &mut kids);
    Node { kids, ..Node::default() }
}

/// An identity value without its prefix; anything else as is.
fn norm(v: &str) -> &str {
    match v.split_once(':') {
        Some((p, n))
            if p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && !n.is_empty()
                && !v.contains(' ')
                && n.chars().next().is_some_and(|c| c.is_ascii_alphabetic()) =>
        {
            n
        }
        _ => v,
    }
}

struct Seg {
    name: String,
    key: Option<String>,
}

fn segs(path: &str) -> Vec<Seg> {
    path.split('/')
        .map(|s| match s.split_once('[') {
            Some((n, k)) => Seg { name: n.into(), key: Some(k.trim_end_matches(']').into()) },
            None => Seg { name: s.into(), key: None },
        })
        .collect()
}

fn seg_matches(n: &Node, s: &Seg) -> bool {
    n.name == s.name
        && s.key.as_ref().is_none_or(|k| n.kids.iter().any(|c| c.text.as_deref().map(norm) == Some(norm(k))))
}

/// Every node at the end of `path`, starting anywhere in `n`.
fn find<'a>(n: &'a Node, path: &[Seg], out: &mut Vec<&'a Node>) {
    fn chain<'a>(n: &'a Node, rest: &[Seg], out: &mut Vec<&'a Node>) {
        match rest.split_first() {
            None => out.push(n),
            Some((s, more)) => n.kids.iter().filter(|c| seg_matches(c, s)).for_each(|c| chain(c, more, out)),
        }
    }
    if seg_matches(n, &path[0]) {
        chain(n, &path[1..], out);
    }
    n.kids.iter().for_each(|c| find(c, path, out));
}

/// `PATH OP [VALUE]` holds in `tree`.
fn holds(tree: &Node, assertion: &str) -> bool {
    let mut words = assertion.splitn(3, ' ');
    let (path, op, value) = (words.next().unwrap(), words.next().unwrap_or(""), words.next().unwrap_or(""));
    let mut found = Vec::new();
    find(tree, &segs(path), &mut found);
    let texts: Vec<&str> = found.iter().map(|n| n.text.as_deref().unwrap_or("")).collect();
    match op {
        "present" => !found.is_empty(),
        "absent" => found.is_empty(),
        "=" => texts.iter().any(|t| {
            norm(t) == norm(value)
                || matches!((t.parse::<f64>(), value.parse::<f64>()), (Ok(a), Ok(b)) if a == b)
        }),
        "~" => texts.iter().any(|t| t.contains(value)),
        ">" => {
            let v: f64 = value.parse().unwrap();
            texts.iter().any(|t| t.parse::<f64>().is_ok_and(|t| t > v))
        }
        _ => panic!("unknown operator in `{assertion}`"),
    }
}

/// One step of a case.
#[derive(Debug, Default)]
struct Step {
    name: String,
    netconf: String,
    restconf: (String, String, String),
    /// Faults injected into the simulated network before the request.
    faults: Vec<String>,
    expect: Vec<String>,
}

/// The start of a long text, for failure messages.
fn head(text: &str) -> &str {
    &text[..text.char_indices().nth(4000).map_or(text.len(), |(i, _)| i)]
}

/// `{{file:PATH}}` → the file's text; `{{in:Ns}}` → the date-time N
/// seconds from now.
fn insert_files(text: &str) -> String {
    let mut out = text.to_string();
    while let Some(i) = out.find("{{in:") {
        let end = out[i..].find("s}}").unwrap() + i;
        let secs: u64 = out[i + 5..end].parse().unwrap();
        let at = std::time::SystemTime::now() + Duration::from_secs(secs);
        out.replace_range(i..end + 3, &occd::notify::event_time(at));
    }
    while let Some(i) = out.find("{{file:") {
        let end = out[i..].find("}}").unwrap() + i;
        let body = std::fs::read_to_string(common::root().join(&out[i + 7..end])).unwrap();
        out.replace_range(i..end + 2, &body);
    }
    out
}

fn parse_step(path: &Path) -> Step {
    let text = std::fs::read_to_string(path).unwrap();
    let mut step = Step { name: path.file_name().unwrap().to_string_lossy().into(), ..Step::default() };
    let mut section = "";
    let (mut nc, mut rc_body) = (String::new(), String::new());
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        if line == "netconf:" || line == "expect:" || line == "fault:" {
            section = line;
        } else if let Some(req) = line.strip_prefix("restconf: ") {
            section = "restconf:";
            let (m, p) = req.split_once(' ').unwrap();
            step.restconf.0 = m.into();
            step.restconf.1 = p.into();
        } else {
            match section {
                "netconf:" => nc.push_str(line),
                "restconf:" => rc_body.push_str(line),
                "expect:" if !line.trim().is_empty() => step.expect.push(line.trim().into()),
                "fault:" if !line.trim().is_empty() => step.faults.push(line.trim().into()),
                _ => {}
            }
        }
    }
    step.netconf = insert_files(&nc);
    let rc_body = rc_body.trim();
    step.restconf.2 = match rc_body.strip_prefix('@') {
        Some(file) => std::fs::read_to_string(common::root().join(file)).unwrap(),
        None => insert_files(rc_body),
    };
    step
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Proto {
    Netconf,
    Restconf,
}

struct Run {
    proto: Proto,
    server: Arc<Server>,
    sim: Arc<Simulator>,
    port: u16,
    nc: Client,
    events: mpsc::UnboundedReceiver<Node>,
    backlog: Vec<Node>,
    _dir: tempfile::TempDir,
}

/// Reads the RESTCONF JSON event stream into `tx`, one tree per event.
async fn sse(port: u16, tx: mpsc::UnboundedSender<Node>) {
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode("admin:pw");
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    // HTTP/1.0: the body is not chunked, it ends with the connection.
    let req = format!(
        "GET /streams/NETCONF/json HTTP/1.0\r\nHost: localhost\r\nAccept: text/event-stream\r\nAuthorization: Basic {auth}\r\n\r\n"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut lines = tokio::io::BufReader::new(s).lines();
    let mut data = String::new();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Some(d) = line.strip_prefix("data:") {
            data.push_str(d.trim_start());
        } else if line.is_empty() && !data.is_empty() {
            if tx.send(json_tree(&data)).is_err() {
                return;
            }
            data.clear();
        }
    }
}

impl Run {
    async fn start(proto: Proto, options: &HashMap<String, String>) -> Run {
        let dir = tempfile::tempdir().unwrap();
        let server = common::open_server_in(dir.path());
        let opts = occd::occ::Options {
            pm_interval_seconds: 1,
            order_step: Duration::from_millis(
                options.get("order-step-ms").map_or(200, |v| v.parse().unwrap()),
            ),
        };
        let sim = Arc::new(Simulator::new(7));
        occd::occ::install_with(&server, sim.clone(), opts);
        let port = common::restconf_on_free_port(&server, &["admin"]).await;
        let nc = Client::connect_as(&server, "admin").await;
        let (tx, events) = mpsc::unbounded_channel();
        let mut listener = None;
        match proto {
            Proto::Netconf => {
                let mut l = Client::connect_as(&server, "admin").await;
                l.ok("<create-subscription xmlns=\"urn:ietf:params:xml:ns:netconf:notification:1.0\"/>")
                    .await;
                listener = Some(l);
            }
            Proto::Restconf => {
                tokio::spawn(sse(port, tx.clone()));
                // The stream is open once a notification of ours comes through.
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
        if let Some(mut l) = listener {
            tokio::spawn(async move {
                while let Some(m) = l.recv().await {
                    if tx.send(from_xml(&m)).is_err() {
                        return;
                    }
                }
            });
        }
        Run { proto, server, sim, port, nc, events, backlog: Vec::new(), _dir: dir }
    }

    /// Sends the step's request; the reply as a tree and whether it
    /// succeeded, with its text for messages.
    async fn send(&mut self, step: &Step) -> (Node, bool, String) {
        for f in &step.faults {
            match f.split(' ').collect::<Vec<_>>()[..] {
                ["interface", name, state] => self.sim.set_interface_down(name, state == "down"),
                ["port", name, port, state] => self.sim.set_port_down(name, port, state == "down"),
                _ => panic!("{}: cannot read fault `{f}`", step.name),
            }
        }
        if step.netconf.is_empty() {
            return (Node::default(), true, String::new());
        }
        match self.proto {
            Proto::Netconf => {
                let reply = self.nc.rpc(&step.netconf).await;
                let ok = !reply.contains("<rpc-error");
                (from_xml(&reply), ok, reply)
            }
            Proto::Restconf => {
                let (method, path, body) = &step.restconf;
                let accept = [("Accept", "application/yang-data+json")];
                let (status, _, text) =
                    common::http_as(self.port, "admin", method, path, &accept, body).await;
                ((json_tree(&text)), (200..300).contains(&status), format!("HTTP {status}\n{text}"))
            }
        }
    }

    async fn state(&mut self) -> (Node, String) {
        match self.proto {
            Proto::Netconf => {
                let reply = self.nc.rpc("<get/>").await;
                (from_xml(&reply), reply)
            }
            Proto::Restconf => {
                let accept = [("Accept", "application/yang-data+json")];
                let (_, _, text) =
                    common::http_as(self.port, "admin", "GET", "/restconf/data", &accept, "").await;
                (json_tree(&text), text)
            }
        }
    }

    /// Takes the first notification `name` satisfying `assertion`.
    async fn notification(&mut self, name: &str, assertion: Option<&str>) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let hit = self.backlog.iter().position(|n| {
                let mut events = Vec::new();
                find(n, &segs(name), &mut events);
                events.iter().any(|e| assertion.is_none_or(|a| holds(e, a)))
            });
            if let Some(i) = hit {
                self.backlog.remove(i);
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, self.events.recv()).await {
                Ok(Some(n)) => self.backlog.push(n),
                _ => return false,
            }
        }
    }
}

async fn run_case(dir: &Path, proto: Proto) {
    let case = dir.file_name().unwrap().to_string_lossy().to_string();
    let options: HashMap<String, String> = std::fs::read_to_string(dir.join("options"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(k, v)| (k.to_string(), v.trim().to_string())))
        .collect();
    let mut steps: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "step"))
        .collect();
    steps.sort();
    assert!(!steps.is_empty(), "case {case} has no steps");
    let mut run = Run::start(proto, &options).await;
    for path in steps {
        let step = parse_step(&path);
        let at = format!("{case}/{} over {proto:?}", step.name);
        let (reply, ok, text) = run.send(&step).await;
        let mut state: Option<(Node, String)> = None;
        for line in &step.expect {
            let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
            match kind {
                "reply" if rest == "ok" => assert!(ok, "{at}: `{line}` failed; reply:\n{}", head(&text)),
                "reply" if rest.starts_with("error ") => {
                    let mut w = rest.split(' ').skip(1);
                    let tag = w.next().unwrap();
                    assert!(!ok, "{at}: `{line}`: the request succeeded; reply:\n{text}");
                    assert!(holds(&reply, &format!("error-tag = {tag}")), "{at}: `{line}`; reply:\n{text}");
                    if let Some(app) = w.next() {
                        assert!(
                            holds(&reply, &format!("error-app-tag = {app}")),
                            "{at}: `{line}`; reply:\n{text}"
                        );
                    }
                }
                "reply" => assert!(holds(&reply, rest), "{at}: `{line}` does not hold; reply:\n{text}"),
                "state" => {
                    if state.is_none() {
                        state = Some(run.state().await);
                    }
                    let (tree, text) = state.as_ref().unwrap();
                    assert!(holds(tree, rest), "{at}: `{line}` does not hold; state:\n{}", head(text));
                }
                "wait" => {
                    let deadline = Instant::now() + Duration::from_secs(30);
                    loop {
                        let (tree, text) = run.state().await;
                        if holds(&tree, rest) {
                            break;
                        }
                        assert!(
                            Instant::now() < deadline,
                            "{at}: `{line}` did not hold in 30 s; state:\n{}",
                            head(&text)
                        );
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                    state = None;
                }
                "notify" => {
                    let (name, assertion) = match rest.split_once(' ') {
                        Some((n, a)) => (n, Some(a)),
                        None => (rest, None),
                    };
                    assert!(
                        run.notification(name, assertion).await,
                        "{at}: no notification `{rest}` within 10 s; got:\n{:#?}",
                        run.backlog
                    );
                }
                _ => panic!("{at}: cannot read `{line}`"),
            }
        }
    }
    drop(run.server);
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(common::root().join("tests/scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_over_netconf() {
    for case in cases() {
        run_case(&case, Proto::Netconf).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenarios_over_restconf() {
    for case in cases() {
        run_case(&case, Proto::Restconf).await;
    }
}

#[test]
fn assertions_read_xml_and_json_alike() {
    let xml = from_xml(
        "<data><services xmlns:x='u'><service><id>s1</id><kind>x:iaas</kind><n>3</n></service>\
         <service><id>s2</id><kind>x:saas</kind></service></services></data>",
    );
    let json = json_tree(
        r#"{"m:services":{"service":[{"id":"s1","kind":"m:iaas","n":3},{"id":"s2","kind":"m:saas"}]}}"#,
    );
    for t in [&xml, &json] {
        assert!(holds(t, "service[s1]/kind = iaas"));
        assert!(holds(t, "service[s2]/kind = saas"));
        assert!(!holds(t, "service[s2]/kind = iaas"));
        assert!(holds(t, "n > 2"));
        assert!(holds(t, "service[s2]/n absent"));
        assert!(holds(t, "services/service present"));
    }
}
