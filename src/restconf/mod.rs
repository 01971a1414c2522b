//! RESTCONF (RFC 8040, RFC 8527 NMDA) over HTTP/1.1 and HTTP/2 (hyper),
//! over TLS (rustls) unless the config asks for plain HTTP.
//!
//! - [`uri`]: the strict request-target and query parser;
//! - [`path`]: an api-path resolved against the schema;
//! - [`media`]: Accept / Content-Type;
//! - [`data`]: the resources (data, datastores, operations) onto
//!   [`crate::datastore::Datastores`], sharing the RPC handlers of
//!   [`crate::netconf::Server`];
//! - [`streams`]: event streams (Server-Sent Events);
//! - [`tls`]: certificate set-up.
//!
//! Every request is authenticated with HTTP Basic against the NETCONF
//! users; a verified `Authorization` value is remembered (in memory, 1024
//! at most) so the crypt hash is not recomputed per request.

pub mod data;
pub mod fields;
pub mod media;
pub mod patch;
pub mod path;
pub mod streams;
pub mod tls;
pub mod uri;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Frame, Incoming, SizeHint};
use hyper::header::{HeaderValue, CONTENT_TYPE, WWW_AUTHENTICATE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tracing::{debug, warn};

use crate::datastore::confirmed::SessionId;
use crate::datastore::{Datastores, Principal};
use crate::error::{Error, ErrorTag, ErrorType, Errors};
use crate::netconf::auth::Users;
use media::Enc;

/// The session id of RESTCONF requests made in process (tests). Requests
/// from the network get their own ids from [`RESTCONF_SESSIONS`] upwards:
/// no NETCONF session has one, so a NETCONF lock makes RESTCONF edits
/// `in-use` (409).
pub const RESTCONF_SESSION: SessionId = u32::MAX;
/// The first id of the RESTCONF request range (NETCONF ids stay below).
pub const RESTCONF_SESSIONS: SessionId = 0x8000_0000;

/// What the RESTCONF server is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Largest accepted request body, in bytes.
    pub max_body: usize,
    /// Delay before answering a failed authentication.
    pub auth_delay: Duration,
    /// The user of requests without credentials, if any.
    pub anonymous: Option<String>,
    /// `scheme://host:port` clients reach the server at (stream locations).
    pub public_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body: 64 << 20,
            auth_delay: Duration::ZERO,
            anonymous: None,
            public_url: "https://127.0.0.1:8443".into(),
        }
    }
}

/// What every request shares.
pub struct Restconf {
    pub ds: Datastores,
    pub netconf: Arc<crate::netconf::Server>,
    users: Arc<Users>,
    max_body: usize,
    auth_delay: Duration,
    anonymous: Option<String>,
    verified: Mutex<HashMap<String, String>>,
    next_session: AtomicU32,
}

/// A response body: whole, or a stream of pieces (event streams).
pub enum Body {
    Full(Full<Bytes>),
    Stream(tokio::sync::mpsc::Receiver<Bytes>),
}

impl Body {
    pub fn full(b: impl Into<Bytes>) -> Body {
        Body::Full(Full::new(b.into()))
    }

    pub fn stream(rx: tokio::sync::mpsc::Receiver<Bytes>) -> Body {
        Body::Stream(rx)
    }
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(f) => Pin::new(f).poll_frame(cx),
            Body::Stream(rx) => rx.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(f) => f.is_end_stream(),
            Body::Stream(_) => false,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            Body::Full(f) => f.size_hint(),
            Body::Stream(_) => SizeHint::default(),
        }
    }
}

impl Restconf {
    pub fn new(netconf: Arc<crate::netconf::Server>, users: Arc<Users>, settings: Settings) -> Arc<Restconf> {
        netconf.ds.add_state_provider(Arc::new(MonitoringProvider {
            bus: netconf.bus.clone(),
            base: settings.public_url,
        }));
        Arc::new(Restconf {
            ds: netconf.ds.clone(),
            netconf,
            users,
            max_body: settings.max_body,
            auth_delay: settings.auth_delay,
            anonymous: settings.anonymous,
            verified: Mutex::new(HashMap::new()),
            next_session: AtomicU32::new(0),
        })
    }

    /// A fresh session id for one request (from [`RESTCONF_SESSIONS`] up).
    fn request_session(&self) -> SessionId {
        RESTCONF_SESSIONS | (self.next_session.fetch_add(1, Ordering::Relaxed) & 0x7fff_ffff)
    }

    /// The user an `Authorization: Basic` value names, when its password
    /// checks.
    fn authenticate(&self, header: Option<&HeaderValue>) -> Option<String> {
        use base64::Engine;
        let Some(header) = header else { return self.anonymous.clone() };
        let value = header.to_str().ok()?;
        if let Some(user) = self.verified.lock().ok()?.get(value) {
            return Some(user.clone());
        }
        let (scheme, b64) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let raw = base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
        let text = String::from_utf8(raw).ok()?;
        let (user, password) = text.split_once(':')?;
        if !self.users.check_password(user, password) {
            return None;
        }
        if let Ok(mut v) = self.verified.lock() {
            if v.len() >= 1024 {
                v.clear();
            }
            v.insert(value.to_string(), user.to_string());
        }
        Some(user.to_string())
    }

    /// Serves one request from `peer`.
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>, peer: Option<SocketAddr>) -> Response<Body> {
        let path = req.uri().path().to_string();
        if path == "/.well-known/host-meta" {
            return host_meta(req.method());
        }
        let accept =
            req.headers().get(hyper::header::ACCEPT).and_then(|v| v.to_str().ok()).map(str::to_string);
        let err_enc = media::negotiate(accept.as_deref(), Enc::Json).unwrap_or(Enc::Json);
        let Some(user) = self.authenticate(req.headers().get(hyper::header::AUTHORIZATION)) else {
            if req.headers().contains_key(hyper::header::AUTHORIZATION) {
                tokio::time::sleep(self.auth_delay).await;
            }
            let e = Error::new(ErrorType::Protocol, ErrorTag::AccessDenied)
                .with_message("authentication required");
            let mut r = self.error_response(&Errors::from(e), err_enc);
            *r.status_mut() = StatusCode::UNAUTHORIZED;
            r.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"occd\""));
            return r;
        };
        let declared = req
            .headers()
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > self.max_body as u64) {
            let err = Error::too_big(format!("the request body exceeds {} bytes", self.max_body))
                .with_type(ErrorType::Transport);
            return self.error_response(&Errors::from(err), err_enc);
        }
        if path.starts_with(streams::PREFIX) {
            let accept = req.headers().get(hyper::header::ACCEPT).and_then(|v| v.to_str().ok());
            return streams::open(&self, &user, req.method(), &path, req.uri().query(), accept)
                .unwrap_or_else(|errs| self.error_response(&errs, err_enc));
        }
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, self.max_body).collect().await {
            Ok(b) => b.to_bytes(),
            Err(e) => {
                let err = if e.downcast_ref::<http_body_util::LengthLimitError>().is_some() {
                    Error::too_big(format!("the request body exceeds {} bytes", self.max_body))
                        .with_type(ErrorType::Transport)
                } else {
                    Error::malformed_message(format!("cannot read the request body: {e}"))
                        .with_type(ErrorType::Transport)
                };
                return self.error_response(&Errors::from(err), err_enc);
            }
        };
        let me = self.clone();
        // A request that may write gets its own session id, registered
        // with who made it (netconf-config-change reports the user).
        let writes =
            ![hyper::Method::GET, hyper::Method::HEAD, hyper::Method::OPTIONS].contains(&parts.method);
        let session = if writes { self.request_session() } else { RESTCONF_SESSION };
        if writes {
            let who = Principal { user: user.clone(), session_id: 0, source_host: peer.map(|p| p.ip()) };
            self.ds.set_principal(session, Some(who));
        }
        let req = data::Req { parts, body, user, session };
        let result = tokio::task::spawn_blocking(move || data::handle(&me, &req)).await;
        if writes {
            self.ds.set_principal(session, None);
        }
        match result {
            Ok(r) => r,
            Err(e) => {
                warn!("RESTCONF handler failed: {e}");
                self.error_response(&Errors::from(Error::operation_failed("internal error")), err_enc)
            }
        }
    }

    /// An `ietf-restconf:errors` reply in `enc`, with the first error's status.
    pub fn error_response(&self, errs: &Errors, enc: Enc) -> Response<Body> {
        let body = match enc {
            Enc::Json => errs.to_restconf_json(),
            Enc::Xml => errs.to_restconf_xml(self.ds.schema()),
        };
        let status = StatusCode::from_u16(errs.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response(status, Some((enc.data_type(), body)))
    }
}

/// The RESTCONF capabilities (RFC 8040 §9.1.1) this server implements.
pub const CAPABILITIES: [&str; 5] = [
    "urn:ietf:params:restconf:capability:defaults:1.0?basic-mode=explicit",
    "urn:ietf:params:restconf:capability:depth:1.0",
    "urn:ietf:params:restconf:capability:fields:1.0",
    "urn:ietf:params:restconf:capability:with-defaults:1.0",
    "urn:ietf:params:restconf:capability:yang-patch:1.0",
];

/// `ietf-restconf-monitoring:restconf-state`: the capabilities and the
/// event streams with their locations, as state data.
struct MonitoringProvider {
    bus: Arc<crate::notify::Bus>,
    /// `scheme://host:port` of the stream locations.
    base: String,
}

impl crate::datastore::StateProvider for MonitoringProvider {
    fn name(&self) -> &str {
        "restconf-monitoring"
    }

    fn state(
        &self,
        ctx: &'static yang3::context::Context,
    ) -> Result<Option<yang3::data::DataTree<'static>>, Error> {
        if ctx.get_module_implemented("ietf-restconf-monitoring").is_none() {
            return Ok(None);
        }
        let mut xml = String::from(
            "<restconf-state xmlns=\"urn:ietf:params:xml:ns:yang:ietf-restconf-monitoring\"><capabilities>",
        );
        for c in CAPABILITIES {
            xml.push_str(&format!("<capability>{}</capability>", crate::error::xml_text(c)));
        }
        xml.push_str("</capabilities><streams>");
        let created = crate::notify::event_time(self.bus.log_created());
        for st in self.bus.streams() {
            xml.push_str(&format!(
                "<stream><name>{}</name><description>{}</description><replay-support>true</replay-support>\
                 <replay-log-creation-time>{created}</replay-log-creation-time>",
                crate::error::xml_text(&st.name),
                crate::error::xml_text(&st.description)
            ));
            for (enc, json) in [("xml", false), ("json", true)] {
                let loc = streams::location(&self.base, &st.name, json);
                xml.push_str(&format!(
                    "<access><encoding>{enc}</encoding><location>{}</location></access>",
                    crate::error::xml_text(&loc)
                ));
            }
            xml.push_str("</stream>");
        }
        xml.push_str("</streams></restconf-state>");
        crate::netconf::monitoring::state_tree(ctx, &xml, "restconf-state").map(Some)
    }
}

/// A response with an optional body of the given type.
pub fn response(status: StatusCode, body: Option<(&str, String)>) -> Response<Body> {
    let mut r = Response::new(Body::full(Bytes::new()));
    *r.status_mut() = status;
    if let Some((ty, text)) = body {
        if let Ok(v) = HeaderValue::from_str(ty) {
            r.headers_mut().insert(CONTENT_TYPE, v);
        }
        *r.body_mut() = Body::full(text);
    }
    r
}

/// RFC 8040 §3.1 / RFC 6415: where the API root is.
fn host_meta(method: &hyper::Method) -> Response<Body> {
    if method != hyper::Method::GET && method != hyper::Method::HEAD {
        let mut r = response(StatusCode::METHOD_NOT_ALLOWED, None);
        r.headers_mut().insert(hyper::header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return r;
    }
    let xrd = "<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
               <Link rel=\"restconf\" href=\"/restconf\"/>\n</XRD>\n";
    response(StatusCode::OK, Some(("application/xrd+xml", xrd.to_string())))
}

/// 400 for a request the HTTP layer could not take apart.
pub fn bad_request(message: impl Into<String>) -> Errors {
    Errors::from(Error::new(ErrorType::Protocol, ErrorTag::MalformedMessage).with_message(message))
}

/// Accepts connections until the task is aborted: TLS (when `tls` is
/// given) then HTTP/1.1 or HTTP/2 (ALPN, or the HTTP/2 preface in plain
/// HTTP). Headers must arrive within 10 s (slow clients are dropped) and
/// fit in 64 KiB.
pub async fn serve(listener: TcpListener, tls: Option<TlsAcceptor>, server: Arc<Restconf>) {
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                warn!("RESTCONF accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let server = server.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let svc = hyper::service::service_fn(move |req| {
                let s = server.clone();
                async move { Ok::<_, Infallible>(s.handle(req, Some(peer)).await) }
            });
            let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10))
                .max_buf_size(64 * 1024);
            builder.http2().timer(TokioTimer::new()).max_header_list_size(64 * 1024);
            let result = match tls {
                Some(acceptor) => {
                    match tokio::time::timeout(Duration::from_secs(10), acceptor.accept(stream)).await {
                        Ok(Ok(s)) => builder.serve_connection(TokioIo::new(s), svc).await,
                        Ok(Err(e)) => {
                            debug!("RESTCONF TLS handshake from {peer}: {e}");
                            return;
                        }
                        Err(_) => {
                            debug!("RESTCONF TLS handshake from {peer}: timed out");
                            return;
                        }
                    }
                }
                None => builder.serve_connection(TokioIo::new(stream), svc).await,
            };
            if let Err(e) = result {
                debug!("RESTCONF connection from {peer}: {e}");
            }
        });
    }
}
