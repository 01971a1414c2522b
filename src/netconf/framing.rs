//! RFC 6242 message framing as a sans-IO state machine (DESIGN.md
//! decision 8): bytes go in with [`Decoder::push`], whole messages come
//! out of [`Decoder::next_message`]; [`encode`] frames a reply.
//!
//! Until both hellos carry `base:1.1` messages end with `]]>]]>` (§4.3);
//! afterwards they are chunked (§4.2): `\n#<size>\n<data>` repeated, ended
//! by `\n##\n`. The decoder never allocates more than it has received and
//! never holds a message larger than its limit.

use std::fmt;

/// The end-of-message marker of NETCONF 1.0 framing.
pub const EOM: &[u8] = b"]]>]]>";

/// Largest chunk size allowed by RFC 6242 §4.2.
const MAX_CHUNK: u64 = 4_294_967_295;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `]]>]]>`-terminated (hello, and base:1.0 sessions).
    Eom,
    /// Chunked framing (base:1.1).
    Chunked,
}

/// Why the byte stream cannot be read as messages any more. The session
/// answers with `malformed-message` (or `too-big`) and closes: after a
/// framing error the next message boundary is unknown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FramingError {
    /// The bytes do not follow the chunked framing grammar.
    BadChunk(String),
    /// The message grew past the limit.
    TooBig { limit: usize },
}

impl fmt::Display for FramingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FramingError::BadChunk(m) => write!(f, "chunked framing error: {m}"),
            FramingError::TooBig { limit } => write!(f, "message larger than {limit} bytes"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    /// Expecting `\n#` and a size, or `\n##\n`.
    Header,
    /// Inside a chunk with this many bytes still to come.
    Data(u64),
}

/// Splits a byte stream into NETCONF messages.
#[derive(Debug)]
pub struct Decoder {
    framing: Framing,
    limit: usize,
    /// Received and not yet consumed.
    input: Vec<u8>,
    /// Chunked: the message assembled so far.
    message: Vec<u8>,
    state: ChunkState,
    /// Chunked: at least one chunk seen in the current message.
    had_chunk: bool,
    failed: Option<FramingError>,
}

impl Decoder {
    /// A decoder in EOM framing accepting messages up to `limit` bytes.
    pub fn new(limit: usize) -> Decoder {
        Decoder {
            framing: Framing::Eom,
            limit,
            input: Vec::new(),
            message: Vec::new(),
            state: ChunkState::Header,
            had_chunk: false,
            failed: None,
        }
    }

    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Switches to chunked framing for every message after the ones
    /// already returned (bytes already pushed are re-read in the new mode).
    pub fn set_chunked(&mut self) {
        self.framing = Framing::Chunked;
        self.state = ChunkState::Header;
        self.message.clear();
        self.had_chunk = false;
    }

    /// Bytes received from the transport.
    pub fn push(&mut self, data: &[u8]) {
        if self.failed.is_none() {
            self.input.extend_from_slice(data);
        }
    }

    /// Bytes received and not yet part of a returned message.
    pub fn buffered(&self) -> usize {
        self.input.len() + self.message.len()
    }

    /// The next complete message, `Ok(None)` when more bytes are needed.
    /// After an error every later call returns the same error.
    pub fn next_message(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = match self.framing {
            Framing::Eom => self.next_eom(),
            Framing::Chunked => self.next_chunked(),
        };
        if let Err(e) = &r {
            self.failed = Some(e.clone());
            self.input = Vec::new();
            self.message = Vec::new();
        }
        r
    }

    fn next_eom(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        match find(&self.input, EOM) {
            Some(end) => {
                if end > self.limit {
                    return Err(FramingError::TooBig { limit: self.limit });
                }
                let msg = self.input[..end].to_vec();
                self.input.drain(..end + EOM.len());
                Ok(Some(msg))
            }
            None if self.input.len() > self.limit + EOM.len() => {
                Err(FramingError::TooBig { limit: self.limit })
            }
            None => Ok(None),
        }
    }

    fn next_chunked(&mut self) -> Result<Option<Vec<u8>>, FramingError> {
        let mut pos = 0;
        let result = loop {
            match self.state {
                ChunkState::Data(remaining) => {
                    let available = self.input.len() - pos;
                    let take = usize::try_from(remaining).unwrap_or(usize::MAX).min(available);
                    if self.message.len() + take > self.limit {
                        break Err(FramingError::TooBig { limit: self.limit });
                    }
                    self.message.extend_from_slice(&self.input[pos..pos + take]);
                    pos += take;
                    let left = remaining - take as u64;
                    if left > 0 {
                        self.state = ChunkState::Data(left);
                        break Ok(None);
                    }
                    self.state = ChunkState::Header;
                }
                ChunkState::Header => match parse_header(&self.input[pos..]) {
                    Ok(None) => break Ok(None),
                    Ok(Some((Header::End, used))) => {
                        pos += used;
                        if !self.had_chunk {
                            break Err(FramingError::BadChunk("end-of-chunks marker with no chunk".into()));
                        }
                        self.had_chunk = false;
                        break Ok(Some(std::mem::take(&mut self.message)));
                    }
                    Ok(Some((Header::Chunk(size), used))) => {
                        pos += used;
                        self.had_chunk = true;
                        if self.message.len() as u64 + size > self.limit as u64 {
                            break Err(FramingError::TooBig { limit: self.limit });
                        }
                        self.state = ChunkState::Data(size);
                    }
                    Err(e) => break Err(e),
                },
            }
        };
        self.input.drain(..pos);
        result
    }
}

enum Header {
    Chunk(u64),
    End,
}

/// Parses `\n#<size>\n` or `\n##\n` at the start of `b`; `Ok(None)` when
/// `b` is a prefix of a valid header.
fn parse_header(b: &[u8]) -> Result<Option<(Header, usize)>, FramingError> {
    let bad = |m: &str| Err(FramingError::BadChunk(m.to_string()));
    match b.first() {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return bad("expected a chunk header (LF '#')"),
    }
    match b.get(1) {
        None => return Ok(None),
        Some(b'#') => {}
        Some(_) => return bad("expected '#' after LF in a chunk header"),
    }
    match b.get(2) {
        None => return Ok(None),
        Some(b'#') => {
            return match b.get(3) {
                None => Ok(None),
                Some(b'\n') => Ok(Some((Header::End, 4))),
                Some(_) => bad("expected LF after end-of-chunks '##'"),
            }
        }
        Some(b'1'..=b'9') => {}
        Some(b'0') => return bad("chunk size starts with 0"),
        Some(_) => return bad("chunk size is not a number"),
    }
    let mut size: u64 = 0;
    for (i, c) in b[2..].iter().enumerate() {
        match c {
            b'0'..=b'9' => {
                size = size * 10 + u64::from(c - b'0');
                if size > MAX_CHUNK {
                    return bad("chunk size above 4294967295");
                }
            }
            b'\n' => return Ok(Some((Header::Chunk(size), 2 + i + 1))),
            _ => return bad("chunk size is not a number"),
        }
    }
    Ok(None)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Frames one message for sending.
pub fn encode(framing: Framing, message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 24);
    match framing {
        Framing::Eom => {
            out.extend_from_slice(message);
            out.extend_from_slice(EOM);
        }
        Framing::Chunked => {
            if !message.is_empty() {
                out.extend_from_slice(format!("\n#{}\n", message.len()).as_bytes());
                out.extend_from_slice(message);
            }
            out.extend_from_slice(b"\n##\n");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunked(limit: usize) -> Decoder {
        let mut d = Decoder::new(limit);
        d.set_chunked();
        d
    }

    fn all(d: &mut Decoder) -> Result<Vec<Vec<u8>>, FramingError> {
        let mut out = Vec::new();
        while let Some(m) = d.next_message()? {
            out.push(m);
        }
        Ok(out)
    }

    #[test]
    fn eom_messages_in_one_and_many_writes() {
        let mut d = Decoder::new(1000);
        d.push(b"<a/>]]>]]><b/>]]>");
        assert_eq!(all(&mut d).unwrap(), vec![b"<a/>".to_vec()]);
        d.push(b"]]>");
        assert_eq!(all(&mut d).unwrap(), vec![b"<b/>".to_vec()]);
    }

    #[test]
    fn hello_then_chunked_rpc_in_one_write() {
        let mut d = Decoder::new(1000);
        d.push(b"<hello/>]]>]]>\n#5\n<rpc/\n#1\n>\n##\n");
        assert_eq!(d.next_message().unwrap(), Some(b"<hello/>".to_vec()));
        d.set_chunked();
        assert_eq!(all(&mut d).unwrap(), vec![b"<rpc/>".to_vec()]);
    }

    #[test]
    fn header_split_byte_by_byte() {
        let mut d = chunked(1000);
        let bytes = b"\n#12\nhello world!\n#3\nabc\n##\n\n#1\nx\n##\n";
        let mut got = Vec::new();
        for b in bytes {
            d.push(&[*b]);
            got.extend(all(&mut d).unwrap());
        }
        assert_eq!(got, vec![b"hello world!abc".to_vec(), b"x".to_vec()]);
    }

    #[test]
    fn bad_headers() {
        for bad in [
            &b"\n#0\n"[..],
            b"\n#01\nx",
            b"\n#\n",
            b"\n#99999999999999999999\n",
            b"\n#4294967296\n",
            b"#3\nabc",
            b"\n##\n",
            b"\n#3x\n",
            b"\n#-1\n",
            b"<rpc/>]]>]]>",
            b"\n##x",
        ] {
            let mut d = chunked(1 << 20);
            d.push(bad);
            assert!(
                matches!(d.next_message(), Err(FramingError::BadChunk(_))),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
            // The error sticks.
            assert!(d.next_message().is_err());
        }
    }

    #[test]
    fn largest_chunk_size_accepted_without_allocating() {
        let mut d = chunked(usize::MAX);
        d.push(b"\n#4294967295\nabc");
        assert_eq!(d.next_message().unwrap(), None);
        assert_eq!(d.buffered(), 3);
    }

    #[test]
    fn limits() {
        let mut d = chunked(10);
        d.push(b"\n#11\n");
        assert_eq!(d.next_message(), Err(FramingError::TooBig { limit: 10 }));
        let mut d = chunked(10);
        d.push(b"\n#6\nabcdef\n#6\n");
        assert_eq!(d.next_message(), Err(FramingError::TooBig { limit: 10 }));
        let mut d = Decoder::new(10);
        d.push(&[b'x'; 17]);
        assert_eq!(d.next_message(), Err(FramingError::TooBig { limit: 10 }));
        let mut d = Decoder::new(10);
        d.push(b"0123456789]]>]]>");
        assert_eq!(d.next_message().unwrap(), Some(b"0123456789".to_vec()));
    }

    #[test]
    fn encode_round_trips() {
        for framing in [Framing::Eom, Framing::Chunked] {
            let mut d = Decoder::new(1000);
            if framing == Framing::Chunked {
                d.set_chunked();
            }
            d.push(&encode(framing, b"<rpc-reply/>"));
            assert_eq!(d.next_message().unwrap(), Some(b"<rpc-reply/>".to_vec()));
        }
    }
}
