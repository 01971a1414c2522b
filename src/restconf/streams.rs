//! RESTCONF event streams (RFC 8040 §6): Server-Sent Events over a long
//! GET of a stream's location, `/streams/<name>/xml` or `/streams/<name>/json`
//! (the locations restconf-state lists).
//!
//! Each notification is one SSE event whose `data:` line holds a
//! `<notification>` element (XML) or an `ietf-restconf:notification`
//! object (JSON), with `eventTime` (RFC 8040 §6.4). Query parameters:
//! `start-time` (replay from the log, then `replayComplete`), `stop-time`
//! (with start-time; `notificationComplete` and the response ends), and
//! `filter`, an XPath expression on the event content with module names as
//! prefixes (RFC 8040 §4.8.4); events it selects nothing from are skipped.
//!
//! A subscriber that falls behind the bus's queue, or whose connection
//! accepts nothing for the write timeout, gets an SSE comment line with
//! the reason and the response ends.

use std::time::SystemTime;

use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Method, Response, StatusCode};
use tokio::sync::mpsc;

use super::{uri, Body, Restconf};
use crate::error::{Error, ErrorTag, ErrorType, Errors};
use crate::netconf::filter::Filter;
use crate::notify::subscription::Encoding;
use crate::notify::{self, Item, Request, Subscription};

/// The path prefix of stream locations.
pub const PREFIX: &str = "/streams/";

/// The location of `stream` in `encoding`, below `base` (scheme://host:port).
pub fn location(base: &str, stream: &str, json: bool) -> String {
    format!("{}{PREFIX}{stream}/{}", base.trim_end_matches('/'), if json { "json" } else { "xml" })
}

fn bad(message: impl Into<String>) -> Errors {
    Errors::from(Error::new(ErrorType::Protocol, ErrorTag::InvalidValue).with_message(message))
}

/// Whether an Accept header allows `text/event-stream`.
fn accepts_sse(accept: Option<&str>) -> bool {
    let Some(a) = accept else { return true };
    a.split(',').any(|m| {
        let t = m.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
        t == "text/event-stream" || t == "text/*" || t == "*/*"
    })
}

/// Serves a GET of a stream location: the SSE response, or the errors.
pub fn open(
    rc: &Restconf,
    user: &str,
    method: &Method,
    path: &str,
    query: Option<&str>,
    accept: Option<&str>,
) -> Result<Response<Body>, Errors> {
    let rest = &path[PREFIX.len()..];
    let (name, enc) = match rest.rsplit_once('/') {
        Some((n, "xml")) => (n, Encoding::Xml),
        Some((n, "json")) => (n, Encoding::Json),
        _ => return Err(not_found(path)),
    };
    let bus = &rc.netconf.bus;
    if !bus.has_stream(name) {
        return Err(not_found(path));
    }
    if method != Method::GET {
        let e = Error::operation_not_supported(format!("{method} is not allowed on an event stream (GET)"))
            .with_http_status(405);
        return Err(Errors::from(e));
    }
    if !accepts_sse(accept) {
        let e = Error::invalid_value(
            "an event stream is sent as text/event-stream; the Accept header excludes it",
        )
        .with_http_status(406);
        return Err(Errors::from(e));
    }
    let q = uri::parse_query(query)?;
    q.only(&["start-time", "stop-time", "filter"], "an event stream")?;
    let time = |name: &str, v: &Option<String>| -> Result<Option<SystemTime>, Errors> {
        match v {
            None => Ok(None),
            Some(s) => notify::parse_date_time(s)
                .map(Some)
                .ok_or_else(|| bad(format!("{name} {s:?} is not a date-and-time"))),
        }
    };
    let filter = match &q.filter {
        None => Filter::All,
        Some(x) => {
            crate::netconf::filter::check_xpath(rc.ds.schema().context(), x)?;
            Filter::XPath(x.clone())
        }
    };
    let req = Request {
        stream: name.to_string(),
        filter,
        start: time("start-time", &q.start_time)?,
        stop: time("stop-time", &q.stop_time)?,
    };
    let sub = bus.subscribe(req, enc).map_err(|mut e| {
        // RFC 8040 §4.8.7/§4.8.8: a bad start-time or stop-time is 400,
        // named as the query parameter.
        let rename = |t: &str| t.replace("startTime", "start-time").replace("stopTime", "stop-time");
        e.message = e.message.as_deref().map(rename);
        for i in &mut e.info {
            if let crate::error::ErrorInfo::BadElement(name) = i {
                *name = rename(name);
            }
        }
        Errors::from(e.with_type(ErrorType::Protocol).with_http_status(400))
    })?;
    let sub = sub.with_gate(rc.netconf.nacm.notification_gate(user));
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    let timeout = bus.limits().write_timeout;
    tokio::spawn(pump(sub, enc, tx, timeout));
    let mut r = Response::new(Body::stream(rx));
    *r.status_mut() = StatusCode::OK;
    r.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}

fn not_found(path: &str) -> Errors {
    Errors::from(
        Error::invalid_value(format!("no event stream at {path}"))
            .with_type(ErrorType::Protocol)
            .with_http_status(404),
    )
}

/// One SSE event: each line of `text` as a `data:` line.
fn sse_event(text: &str) -> Bytes {
    let mut s = String::with_capacity(text.len() + 16);
    for line in text.lines() {
        s.push_str("data: ");
        s.push_str(line);
        s.push('\n');
    }
    s.push('\n');
    Bytes::from(s)
}

/// Moves the subscription's items into the response body until it ends,
/// the client goes away, or the client stops reading.
async fn pump(mut sub: Subscription, enc: Encoding, tx: mpsc::Sender<Bytes>, timeout: std::time::Duration) {
    loop {
        let item = tokio::select! {
            item = sub.next() => item,
            _ = tx.closed() => return,
        };
        let Some(item) = item else { return };
        let last = matches!(item, Item::Complete | Item::Ended(_));
        let frame = match (&item, item.message(enc)) {
            (Item::Ended(why), _) => Bytes::from(format!(": occd: {why}\n\n")),
            (_, Some(m)) => sse_event(&m),
            (_, None) => return,
        };
        match tokio::time::timeout(timeout, tx.send(frame)).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return,
            Err(_) => {
                let why = format!(
                    ": occd: the client read nothing for {} s; subscription ended\n\n",
                    timeout.as_secs_f64()
                );
                let _ = tx.try_send(Bytes::from(why));
                return;
            }
        }
        if last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sse_framing_and_accept() {
        assert_eq!(&sse_event("a\nb")[..], b"data: a\ndata: b\n\n");
        assert!(accepts_sse(None));
        assert!(accepts_sse(Some("text/event-stream")));
        assert!(accepts_sse(Some("application/json, */*;q=0.1")));
        assert!(!accepts_sse(Some("application/yang-data+json")));
        assert_eq!(location("https://h:1/", "NETCONF", true), "https://h:1/streams/NETCONF/json");
    }
}
