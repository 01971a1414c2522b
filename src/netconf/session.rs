//! One NETCONF session over any byte stream (the SSH channel in service;
//! an in-memory pipe in tests): the hello exchange (RFC 6241 §8.1), then
//! one `<rpc>` at a time, each answered in order.
//!
//! The session ends on `<close-session>`, on end of input, on a framing
//! error (after a `malformed-message` or `too-big` reply, since the next
//! message boundary is unknown), on a bad client hello, when killed, or
//! after the idle timeout. Whatever ends it, [`Server::close_session`]
//! releases its locks and its non-persistent confirmed commit.
//!
//! After `<create-subscription>` the session also writes `<notification>`
//! messages between replies (`:interleave`): never inside a reply, each
//! within the bus's write timeout. A subscriber that falls further behind
//! than the bus's queue, or whose transport takes nothing for the write
//! timeout, has its session closed (termination reason `other`, logged
//! with the reason): RFC 5277 has no message to end only the subscription.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tracing::{debug, info};

use super::framing::{encode, Decoder, Framing, FramingError};
use super::ops::{self, Outcome, Reply};
use super::xml;
use super::{Server, BASE_1_0, BASE_1_1, BASE_NS};
use crate::error::{xml_text, Error, ErrorType};
use crate::notify::events::Termination;
use crate::notify::subscription::Encoding;
use crate::notify::{Item, Subscription};

/// The server hello for session `id`.
pub fn server_hello(server: &Server, id: u32) -> String {
    let mut s = String::with_capacity(8192);
    s.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    s.push_str(&format!("<hello xmlns=\"{BASE_NS}\"><capabilities>"));
    for c in server.capabilities() {
        s.push_str(&format!("<capability>{}</capability>", xml_text(c)));
    }
    s.push_str(&format!("</capabilities><session-id>{id}</session-id></hello>"));
    s
}

/// Why a client hello is refused (the session is closed, RFC 6241 §8.1).
fn check_client_hello(msg: &[u8]) -> Result<bool, String> {
    let text = std::str::from_utf8(msg).map_err(|_| "hello is not UTF-8".to_string())?;
    let root = xml::parse(text).map_err(|e| e.0)?;
    if !root.is(BASE_NS, "hello") {
        return Err(format!("expected <hello> in {BASE_NS}, got <{}>", root.qname()));
    }
    if root.child(BASE_NS, "session-id").is_some() {
        return Err("a client hello must not carry a session-id".into());
    }
    let caps = root.child(BASE_NS, "capabilities").ok_or("hello without capabilities")?;
    let uris: Vec<&str> =
        caps.children.iter().filter(|c| c.is(BASE_NS, "capability")).map(|c| c.text_trimmed()).collect();
    let has = |base: &str| uris.contains(&base);
    if !has(BASE_1_0) && !has(BASE_1_1) {
        return Err("the client hello offers no base version this server speaks (1.0, 1.1)".into());
    }
    Ok(has(BASE_1_1))
}

/// Runs a session to its end. `user` is the authenticated user.
pub async fn run<S>(server: Arc<Server>, mut stream: S, user: String, peer: Option<SocketAddr>)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let Some(opened) = server.open_session(&user, peer) else {
        info!(%user, "NETCONF session refused: max-sessions reached");
        let _ = stream.shutdown().await;
        return;
    };
    let id = opened.id;
    info!(session = id, %user, peer = ?peer, "NETCONF session started");
    let (reason, why) = serve(&server, &mut stream, &opened, &user).await;
    // Locks and the session's slot are released before the client sees the
    // end of the stream.
    let srv = server.clone();
    let _ = tokio::task::spawn_blocking(move || srv.close_session(&opened.who, why)).await;
    let _ = stream.flush().await;
    let _ = stream.shutdown().await;
    info!(session = id, "NETCONF session ended: {reason}");
}

/// The next item of the session's subscription; pending forever without one.
async fn next_event(sub: &mut Option<Subscription>) -> Option<Item> {
    match sub {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

async fn serve<S>(
    server: &Arc<Server>,
    stream: &mut S,
    opened: &super::Opened,
    user: &str,
) -> (String, Termination)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (id, counters, kill) = (opened.id, &*opened.handles.counters, &*opened.handles.kill);
    let mut sub: Option<Subscription> = None;
    let hello = encode(Framing::Eom, server_hello(server, id).as_bytes());
    if let Err(e) = stream.write_all(&hello).await {
        return (format!("write failed: {e}"), Termination::Dropped);
    }
    let _ = stream.flush().await;
    let mut decoder = Decoder::new(server.limits.max_message_bytes);
    let mut hello_done = false;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // Every complete message first, then read more.
        loop {
            let msg = match decoder.next_message() {
                Ok(Some(m)) => m,
                Ok(None) => break,
                Err(e) => {
                    if hello_done {
                        let reply = framing_error_reply(server, &e);
                        let _ = stream.write_all(&encode(decoder.framing(), reply.as_bytes())).await;
                    } else {
                        server.in_bad_hellos.fetch_add(1, Ordering::Relaxed);
                        return (format!("{e}"), Termination::BadHello);
                    }
                    return (format!("{e}"), Termination::Other);
                }
            };
            if !hello_done {
                match check_client_hello(&msg) {
                    Ok(chunked) => {
                        if chunked {
                            decoder.set_chunked();
                        }
                        hello_done = true;
                        debug!(session = id, chunked, "hello exchanged");
                        continue;
                    }
                    Err(why) => {
                        server.in_bad_hellos.fetch_add(1, Ordering::Relaxed);
                        return (format!("bad client hello: {why}"), Termination::BadHello);
                    }
                }
            }
            let framing = decoder.framing();
            let srv = server.clone();
            let user = user.to_string();
            let handled = tokio::task::spawn_blocking(move || ops::handle(&srv, id, &user, &msg)).await;
            let ops::Handled { reply, outcome, errors, subscription } = match handled {
                Ok(r) => r,
                Err(e) => {
                    let err = Error::operation_failed(format!("internal error: {e}"));
                    let reply = ops::error_reply(server, "", &crate::error::Errors::from(err));
                    ops::Handled {
                        reply: Reply::Text(reply),
                        outcome: Outcome::Continue,
                        errors: 1,
                        subscription: None,
                    }
                }
            };
            counters.in_rpcs.fetch_add(1, Ordering::Relaxed);
            server.stats.in_rpcs.fetch_add(1, Ordering::Relaxed);
            if errors > 0 {
                counters.out_rpc_errors.fetch_add(errors, Ordering::Relaxed);
                server.stats.out_rpc_errors.fetch_add(errors, Ordering::Relaxed);
            }
            if matches!(outcome, Outcome::BadRpc) {
                counters.in_bad_rpcs.fetch_add(1, Ordering::Relaxed);
                server.stats.in_bad_rpcs.fetch_add(1, Ordering::Relaxed);
            }
            if let Err(e) = send_reply(server, stream, framing, reply).await {
                return (format!("write failed: {e}"), Termination::Dropped);
            }
            if subscription.is_some() {
                sub = subscription;
            }
            if matches!(outcome, Outcome::Close) {
                return ("close-session".into(), Termination::Closed);
            }
        }
        let read = async {
            match server.limits.idle_timeout {
                Some(t) => tokio::time::timeout(t, stream.read(&mut buf)).await.ok(),
                None => Some(stream.read(&mut buf).await),
            }
        };
        tokio::select! {
            r = read => match r {
                None => return ("idle timeout".into(), Termination::Timeout),
                Some(Ok(0)) => return ("end of input".into(), Termination::Dropped),
                Some(Ok(n)) => decoder.push(&buf[..n]),
                Some(Err(e)) => return (format!("read failed: {e}"), Termination::Dropped),
            },
            _ = kill.notified() => {
                let by = opened.handles.killed_by.load(Ordering::SeqCst);
                return ("killed by kill-session".into(), Termination::Killed(by));
            }
            item = next_event(&mut sub) => {
                let framing = decoder.framing();
                if let Err(why) = deliver(server, stream, framing, item, &mut sub, counters, &opened.handles.subscribed).await {
                    return (why, Termination::Other);
                }
            }
        }
    }
}

/// Writes one subscription item as a `<notification>`; the end of the
/// subscription clears it. An error ends the session (the reason).
async fn deliver<S: AsyncWrite + Unpin>(
    server: &Server,
    stream: &mut S,
    framing: Framing,
    item: Option<Item>,
    sub: &mut Option<Subscription>,
    counters: &super::Counters,
    subscribed: &AtomicBool,
) -> Result<(), String> {
    // The end of the subscription (its stop time passed): the session may
    // subscribe again.
    if matches!(item, None | Some(Item::Complete)) {
        *sub = None;
        subscribed.store(false, Ordering::SeqCst);
    }
    let msg = match item {
        Some(Item::Ended(why)) => return Err(format!("notification subscriber too slow: {why}")),
        Some(item) => item.message(Encoding::Xml).unwrap_or_default(),
        None => return Ok(()),
    };
    let limit = server.bus.limits().write_timeout;
    let write = async {
        stream.write_all(&encode(framing, msg.as_bytes())).await?;
        stream.flush().await
    };
    match tokio::time::timeout(limit, write).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(format!("write failed: {e}")),
        Err(_) => {
            return Err(format!(
                "notification subscriber too slow: nothing could be written for {} s",
                limit.as_secs_f64()
            ))
        }
    }
    counters.out_notifications.fetch_add(1, Ordering::Relaxed);
    server.stats.out_notifications.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Pieces of a streamed reply: one chunk of chunked framing each.
const STREAM_PIECE: usize = 256 * 1024;

/// Writes one reply. A tree reply is printed by libyang on a blocking
/// thread into pieces that are framed and written as they come, so the
/// print and the transport overlap and the reply is never whole in memory.
async fn send_reply<S: AsyncWrite + Unpin>(
    server: &Arc<Server>,
    stream: &mut S,
    framing: Framing,
    reply: Reply,
) -> std::io::Result<()> {
    let (head, tree, flags, tail, cache) = match reply {
        Reply::Text(t) => {
            stream.write_all(&encode(framing, t.as_bytes())).await?;
            return stream.flush().await;
        }
        Reply::Cached { head, body, tail } => {
            write_piece(stream, framing, head.as_bytes()).await?;
            for piece in body.chunks(STREAM_PIECE) {
                write_piece(stream, framing, piece).await?;
            }
            return finish(stream, framing, &tail).await;
        }
        Reply::Tree { head, tree, flags, tail, cache } => (head, tree, flags, tail, cache),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let srv = server.clone();
    let printer = tokio::task::spawn_blocking(move || {
        // What to print: the tree with its siblings, or chosen top-level
        // subtrees one by one.
        let roots: Vec<(crate::schema::ffi::RawNode, u32)> = match &tree {
            super::ops::TreeRef::Parts(_, nodes) => {
                let one = flags.bits() & !yang3::data::DataPrinterFlags::WITH_SIBLINGS.bits();
                nodes.iter().map(|n| (*n as crate::schema::ffi::RawNode, one)).collect()
            }
            t => vec![(t.tree().reference().map_or(std::ptr::null_mut(), |n| n.as_raw()), flags.bits())],
        };
        let mut kept: Option<Vec<u8>> = cache.map(|_| Vec::new());
        let mut sink = |b: &[u8]| {
            if let Some(k) = kept.as_mut() {
                k.extend_from_slice(b);
            }
            tx.blocking_send(b.to_vec()).is_ok()
        };
        // SAFETY: `tree` (a snapshot or our own copy) lives to the end of
        // this closure; printing only reads it.
        let r = roots.iter().try_for_each(|(root, opts)| unsafe {
            crate::schema::ffi::print_streaming(*root, false, *opts, STREAM_PIECE, &mut sink)
        });
        if let (Ok(()), Some(key), Some(body)) = (&r, cache, kept) {
            srv.keep_print(key, body);
        }
        drop(tree);
        r
    });
    write_piece(stream, framing, head.as_bytes()).await?;
    while let Some(chunk) = rx.recv().await {
        write_piece(stream, framing, &chunk).await?;
    }
    match printer.await {
        Ok(Ok(())) => {}
        // Half a reply is out: the session cannot go on.
        _ => return Err(std::io::Error::other("printing the reply failed")),
    }
    finish(stream, framing, &tail).await
}

/// One piece of a reply: a chunk in chunked framing, raw bytes in EOM.
async fn write_piece<S: AsyncWrite + Unpin>(
    stream: &mut S,
    framing: Framing,
    bytes: &[u8],
) -> std::io::Result<()> {
    if bytes.is_empty() {
        return Ok(());
    }
    if framing == Framing::Chunked {
        stream.write_all(format!("\n#{}\n", bytes.len()).as_bytes()).await?;
    }
    stream.write_all(bytes).await
}

/// The last piece and the end of the message.
async fn finish<S: AsyncWrite + Unpin>(stream: &mut S, framing: Framing, tail: &str) -> std::io::Result<()> {
    write_piece(stream, framing, tail.as_bytes()).await?;
    let end: &[u8] = match framing {
        Framing::Eom => super::framing::EOM,
        Framing::Chunked => b"\n##\n",
    };
    stream.write_all(end).await?;
    stream.flush().await
}

/// The reply to a broken byte stream: `too-big` for an oversized message,
/// else `malformed-message` (RFC 6241 §4.3: no message-id can be known).
fn framing_error_reply(server: &Server, e: &FramingError) -> String {
    let err = match e {
        FramingError::TooBig { .. } => {
            Error::too_big(format!("{e}; the session is closed")).with_type(ErrorType::Transport)
        }
        FramingError::BadChunk(_) => Error::malformed_message(format!("{e}; the session is closed")),
    };
    ops::error_reply(server, "", &crate::error::Errors::from(err))
}
