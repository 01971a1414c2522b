//! One subscriber's view of the bus: a stream, an optional filter, an
//! optional replay window; the same for a NETCONF session (RFC 5277) and
//! a RESTCONF event stream (RFC 8040 §6).
//!
//! [`Subscription::next`] yields the replayed events (those logged from
//! the start time, up to the stop time), then `ReplayComplete` (only when a
//! replay was asked for), then live events until the stop time
//! (`Complete`) or until the subscriber fell too far behind (`Ended`). It
//! is cancel-safe: a caller may drop the future in a `select!` and call it
//! again without losing an event.
//!
//! A filter (RFC 6241 subtree or XPath) is applied to each event's
//! content; an event it selects nothing from is skipped, otherwise the
//! selection is sent (the same rule as for `<get>`).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::SystemTime;

use tokio::sync::broadcast::{self, error::RecvError};

use super::{parse_content, print, tree_json_members, Bus, Event};
use crate::error::{Error, ErrorType};
use crate::netconf::filter::{self, Filter};

/// What a subscriber asks for.
#[derive(Debug, Clone)]
pub struct Request {
    pub stream: String,
    pub filter: Filter,
    pub start: Option<SystemTime>,
    pub stop: Option<SystemTime>,
}

/// The encoding events are rendered in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Namespaced XML elements.
    Xml,
    /// RFC 7951 JSON object members (no braces).
    Json,
}

/// What a subscription yields.
#[derive(Debug, Clone)]
pub enum Item {
    /// An event's time and its (filtered) content in the encoding.
    Event { time: SystemTime, content: Arc<str> },
    /// Every replayed event has been sent (RFC 5277 §3.2.5).
    ReplayComplete,
    /// The stop time has passed; the subscription is over (RFC 5277 §3.4).
    Complete,
    /// The subscriber fell too far behind and was ended; the reason.
    Ended(String),
}

impl Item {
    /// The notification message of this item in `encoding`: a
    /// `<notification>` element or an `ietf-restconf:notification` object
    /// with its eventTime (the end markers get the current time); `None`
    /// for `Ended`, which has no message.
    pub fn message(&self, encoding: Encoding) -> Option<String> {
        let now = SystemTime::now();
        let (time, content) = match self {
            Item::Event { time, content } => (*time, content.to_string()),
            Item::ReplayComplete | Item::Complete => {
                let replay = matches!(self, Item::ReplayComplete);
                let c = match encoding {
                    Encoding::Xml => super::complete_xml(replay),
                    Encoding::Json => super::complete_json(replay),
                };
                (now, c)
            }
            Item::Ended(_) => return None,
        };
        Some(match encoding {
            Encoding::Xml => super::netconf_message(time, &content),
            Encoding::Json => super::json_message(time, &content),
        })
    }
}

/// Decides per event whether this subscriber may receive it (access
/// control); an event it refuses is skipped.
pub type Gate = Arc<dyn Fn(&Event) -> bool + Send + Sync>;

pub struct Subscription {
    bus: Arc<Bus>,
    gate: Option<Gate>,
    stream: String,
    filter: Filter,
    encoding: Encoding,
    replay: VecDeque<Arc<Event>>,
    replaying: bool,
    stop: Option<SystemTime>,
    rx: broadcast::Receiver<Arc<Event>>,
    /// An event taken but not yet rendered (cancel safety).
    pending: Option<Arc<Event>>,
    done: bool,
}

impl Bus {
    /// Starts a subscription, after checking the request the way RFC 5277
    /// §2.1.1 asks: a known stream, a start time not in the future, a stop
    /// time only with a start time and not before it.
    pub fn subscribe(self: &Arc<Self>, req: Request, encoding: Encoding) -> Result<Subscription, Error> {
        if !self.has_stream(&req.stream) {
            let names: Vec<&str> = self.streams().iter().map(|s| s.name.as_str()).collect();
            return Err(Error::invalid_value(format!(
                "no event stream {:?} (streams: {})",
                req.stream,
                names.join(", ")
            ))
            .with_type(ErrorType::Protocol));
        }
        let now = SystemTime::now();
        if req.start.is_some_and(|s| s > now) {
            return Err(
                Error::bad_element("startTime").with_message("startTime is later than the current time")
            );
        }
        match (req.start, req.stop) {
            (None, Some(_)) => {
                return Err(Error::missing_element("startTime").with_message("stopTime requires startTime"))
            }
            (Some(a), Some(b)) if b < a => {
                return Err(Error::bad_element("stopTime").with_message("stopTime is earlier than startTime"))
            }
            _ => {}
        }
        let (replay, rx) = self.replay_and_receiver(&req.stream, req.start, req.stop);
        Ok(Subscription {
            bus: self.clone(),
            gate: None,
            stream: req.stream,
            filter: req.filter,
            encoding,
            replay,
            replaying: req.start.is_some(),
            stop: req.stop,
            rx,
            pending: None,
            done: false,
        })
    }
}

impl Subscription {
    /// Only events `gate` lets through are delivered.
    pub fn with_gate(mut self, gate: Option<Gate>) -> Subscription {
        self.gate = gate;
        self
    }

    /// The next item; `None` once the subscription is over.
    pub async fn next(&mut self) -> Option<Item> {
        loop {
            if self.done {
                return None;
            }
            if let Some(ev) = self.pending.clone() {
                if self.gate.as_ref().is_some_and(|g| !g(&ev)) {
                    self.pending = None;
                    continue;
                }
                let content = self.render(ev.clone()).await;
                self.pending = None;
                match content {
                    Some(content) => return Some(Item::Event { time: ev.time, content }),
                    None => continue,
                }
            }
            if let Some(ev) = self.replay.pop_front() {
                self.pending = Some(ev);
                continue;
            }
            if self.replaying {
                self.replaying = false;
                return Some(Item::ReplayComplete);
            }
            let received = match self.stop {
                Some(stop) => {
                    let left = match stop.duration_since(SystemTime::now()) {
                        Ok(d) if !d.is_zero() => d,
                        _ => {
                            self.done = true;
                            return Some(Item::Complete);
                        }
                    };
                    tokio::select! {
                        r = self.rx.recv() => r,
                        _ = tokio::time::sleep(left) => continue,
                    }
                }
                None => self.rx.recv().await,
            };
            match received {
                Ok(ev) => {
                    if ev.on(&self.stream) && self.stop.is_none_or(|s| ev.time <= s) {
                        self.pending = Some(ev);
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    self.done = true;
                    return Some(Item::Ended(format!(
                        "the subscriber fell {n} events behind (the limit is {}); subscription ended",
                        self.bus.limits().queue
                    )));
                }
                Err(RecvError::Closed) => {
                    self.done = true;
                    return None;
                }
            }
        }
    }

    /// The event's content through the filter, in the encoding; `None`
    /// when the filter selects nothing.
    async fn render(&self, ev: Arc<Event>) -> Option<Arc<str>> {
        let schema = self.bus.schema();
        if self.filter == Filter::All {
            match self.encoding {
                Encoding::Xml => return Some(ev.xml.clone()),
                Encoding::Json => {
                    return tokio::task::spawn_blocking(move || ev.json(schema)).await.ok().flatten();
                }
            }
        }
        let filter = self.filter.clone();
        let encoding = self.encoding;
        tokio::task::spawn_blocking(move || {
            let tree = parse_content(schema, &ev.xml).ok()?;
            let selected = filter::select(schema.context(), &tree, &filter).ok()??;
            selected.reference()?;
            let text = match encoding {
                Encoding::Xml => print(&selected, false),
                Encoding::Json => tree_json_members(&selected),
            };
            text.ok().map(Arc::from)
        })
        .await
        .ok()
        .flatten()
    }
}
