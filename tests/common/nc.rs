//! A NETCONF client speaking raw bytes to `session::run` over an
//! in-memory pipe (the SSH layer aside).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use occd::netconf::framing::{encode, Decoder, Framing};
use occd::netconf::{session, Server};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

pub const BASE: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";

/// A client speaking raw bytes.
pub struct Client {
    pub io: DuplexStream,
    pub dec: Decoder,
    pub framing: Framing,
    pub next_id: u32,
    pub session_id: u32,
    pub hello: String,
    /// Notifications that arrived while `rpc` waited for its reply
    /// (event notifications are sent asynchronously and may interleave
    /// with replies); `recv` hands them out first.
    pub queued: std::collections::VecDeque<String>,
}

pub const HELLO_11: &str = r#"<?xml version="1.0" encoding="UTF-8"?><hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability><capability>urn:ietf:params:netconf:base:1.1</capability></capabilities></hello>"#;
pub const HELLO_10: &str = r#"<hello xmlns="urn:ietf:params:xml:ns:netconf:base:1.0"><capabilities><capability>urn:ietf:params:netconf:base:1.0</capability></capabilities></hello>"#;

impl Client {
    /// Opens a session and reads the server hello; sends nothing.
    pub async fn open(server: &Arc<Server>) -> Client {
        Client::open_with_buffer(server, 1 << 20).await
    }

    /// Opens a session over a pipe holding `buffer` bytes each way.
    pub async fn open_with_buffer(server: &Arc<Server>, buffer: usize) -> Client {
        Client::open_full(server, buffer, "tester").await
    }

    /// Opens a session of `user` (hello exchanged, chunked framing).
    pub async fn connect_as(server: &Arc<Server>, user: &str) -> Client {
        let mut c = Client::open_full(server, 1 << 20, user).await;
        c.send_raw(&encode(Framing::Eom, HELLO_11.as_bytes())).await;
        c.set_chunked();
        c
    }

    async fn open_full(server: &Arc<Server>, buffer: usize, user: &str) -> Client {
        let (a, b) = tokio::io::duplex(buffer);
        let server = server.clone();
        tokio::spawn(session::run(server, b, user.into(), None));
        let mut c = Client {
            io: a,
            dec: Decoder::new(1 << 30),
            framing: Framing::Eom,
            next_id: 1,
            session_id: 0,
            hello: String::new(),
            queued: Default::default(),
        };
        c.hello = c.recv().await.expect("server hello");
        let sid = c.hello.split("<session-id>").nth(1).unwrap().split('<').next().unwrap();
        c.session_id = sid.parse().unwrap();
        c
    }

    pub async fn connect(server: &Arc<Server>, v11: bool) -> Client {
        let mut c = Client::open(server).await;
        c.send_raw(&encode(Framing::Eom, if v11 { HELLO_11 } else { HELLO_10 }.as_bytes())).await;
        if v11 {
            c.set_chunked();
        }
        c
    }

    pub fn set_chunked(&mut self) {
        self.framing = Framing::Chunked;
        self.dec.set_chunked();
    }

    pub async fn send_raw(&mut self, bytes: &[u8]) {
        self.io.write_all(bytes).await.unwrap();
    }

    pub async fn send(&mut self, msg: &str) {
        let framed = encode(self.framing, msg.as_bytes());
        self.send_raw(&framed).await;
    }

    /// The next message within `limit`: `None` if none came in time,
    /// `Some(None)` when the server closed the session.
    pub async fn recv_within(&mut self, limit: Duration) -> Option<Option<String>> {
        tokio::time::timeout(limit, self.recv()).await.ok()
    }

    /// The next message, or `None` when the server closed the session.
    pub async fn recv(&mut self) -> Option<String> {
        if let Some(m) = self.queued.pop_front() {
            return Some(m);
        }
        self.recv_wire().await
    }

    async fn recv_wire(&mut self) -> Option<String> {
        let mut buf = vec![0u8; 65536];
        loop {
            if let Some(m) = self.dec.next_message().unwrap() {
                return Some(String::from_utf8(m).unwrap());
            }
            let n = tokio::time::timeout(Duration::from_secs(20), self.io.read(&mut buf))
                .await
                .expect("no reply within 20 s")
                .unwrap();
            if n == 0 {
                return None;
            }
            self.dec.push(&buf[..n]);
        }
    }

    /// Sends `<rpc>` around `op` and returns the reply.
    pub async fn rpc(&mut self, op: &str) -> String {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&format!("<rpc message-id=\"{id}\" xmlns=\"{BASE}\">{op}</rpc>")).await;
        loop {
            let r = self.recv_wire().await.expect("reply");
            if r.starts_with("<notification") {
                self.queued.push_back(r);
                continue;
            }
            assert!(r.contains(&format!("message-id=\"{id}\"")), "{r}");
            return r;
        }
    }

    pub async fn ok(&mut self, op: &str) {
        let r = self.rpc(op).await;
        assert!(r.contains("<ok/>"), "{op}\n=> {r}");
    }

    /// Asserts an error reply with this tag and returns the reply.
    pub async fn err(&mut self, op: &str, tag: &str) -> String {
        let r = self.rpc(op).await;
        assert!(r.contains(&format!("<error-tag>{tag}</error-tag>")), "{op}\nexpected {tag}, got {r}");
        r
    }

    /// The next message containing `what`, skipping up to 20 others
    /// (notifications of other kinds, say).
    pub async fn next_containing(&mut self, what: &str) -> String {
        for _ in 0..20 {
            let m = self.recv().await.expect("session open");
            if m.contains(what) {
                return m;
            }
        }
        panic!("no message containing {what}");
    }

    pub async fn closed(&mut self) -> bool {
        self.recv().await.is_none()
    }
}
