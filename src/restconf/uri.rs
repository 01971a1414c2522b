//! RESTCONF request targets (RFC 8040 §3.5.3) and query parameters
//! (§4.8), parsed strictly and without the schema: the schema step is
//! [`super::path`].
//!
//! Choices beyond the RFC's grammar, all answered 400 `invalid-value`
//! (malformed-message for bad percent escapes):
//! - a key value may hold the characters RFC 3986 allows raw in a path
//!   segment (`:`, `@`, sub-delims) except `,` and `=`: those, `/`, `%` and
//!   anything outside `pchar` must be percent-encoded;
//! - a decoded key value must be UTF-8 (so overlong forms like `%C0%AF` fail)
//!   and must not hold NUL or other characters XML cannot carry;
//! - an empty segment (`//`, a trailing `/`) and `.`/`..` are refused;
//! - `%2F` and `%2C` inside a key are data, and `%252F` is the three
//!   characters `%2F`: values are decoded once.

use crate::error::{Error, ErrorType};

/// One step of an api-path: `[module:]name[=key,key...]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub module: Option<String>,
    pub name: String,
    /// `None` without `=`; otherwise the decoded key values (or the one
    /// leaf-list value), empty strings allowed.
    pub keys: Option<Vec<String>>,
}

fn bad(message: impl Into<String>) -> Error {
    Error::invalid_value(message).with_type(ErrorType::Protocol)
}

use crate::schema::is_identifier;

/// Parses the api-path after `/restconf/data` (or a datastore's root):
/// `""` or `"/"` is the datastore itself.
pub fn parse_path(raw: &str) -> Result<Vec<Segment>, Error> {
    parse_segments(raw, true)
}

/// Parses a path relative to a resource (a YANG Patch edit's `target` or
/// `point`, RFC 8072 §2.4): its first segment may omit the module when it
/// is the resource's; `"/"` is the resource itself.
pub fn parse_relative_path(raw: &str) -> Result<Vec<Segment>, Error> {
    if raw.is_empty() {
        return Err(bad("the edit's path is empty (\"/\" names the patch target itself)"));
    }
    parse_segments(raw, false)
}

fn parse_segments(raw: &str, first_qualified: bool) -> Result<Vec<Segment>, Error> {
    if raw.is_empty() || raw == "/" {
        return Ok(Vec::new());
    }
    let Some(rest) = raw.strip_prefix('/') else {
        return Err(bad(format!("the resource path must start with '/': {raw}")));
    };
    let mut out = Vec::new();
    for (i, seg) in rest.split('/').enumerate() {
        if seg.is_empty() {
            return Err(bad("empty path segment (a doubled or trailing '/')"));
        }
        let (ident, keys) = match seg.split_once('=') {
            Some((ident, keys)) => (ident, Some(keys)),
            None => (seg, None),
        };
        let (module, name) = match ident.split_once(':') {
            Some((m, n)) => (Some(m), n),
            None => (None, ident),
        };
        if let Some(m) = module {
            if !is_identifier(m) {
                return Err(bad(format!("'{ident}' is not a module-qualified name")));
            }
        }
        if !is_identifier(name) {
            return Err(bad(format!("'{ident}' is not a YANG identifier")));
        }
        if i == 0 && first_qualified && module.is_none() {
            return Err(bad(format!(
                "the first path segment '{ident}' must be module-qualified (module:name)"
            )));
        }
        let keys = match keys {
            None => None,
            Some(k) => Some(k.split(',').map(decode_key).collect::<Result<Vec<_>, _>>()?),
        };
        out.push(Segment { module: module.map(str::to_string), name: name.to_string(), keys });
    }
    Ok(out)
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Characters RFC 3986 allows raw in a path segment, less `,` and `=`
/// (RESTCONF's separators).
fn raw_ok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+;:@".contains(&b)
}

/// Strict percent-decoding of one key value.
fn decode_key(s: &str) -> Result<String, Error> {
    percent_decode(s, raw_ok)
}

/// Decodes `%XX` escapes; bytes for which `allowed` is false must be
/// escaped. The result must be UTF-8 text XML can carry.
pub fn percent_decode(s: &str, allowed: fn(u8) -> bool) -> Result<String, Error> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let (Some(h), Some(l)) =
                    (b.get(i + 1).and_then(|c| hex(*c)), b.get(i + 2).and_then(|c| hex(*c)))
                else {
                    let end = (i + 3).min(b.len());
                    return Err(Error::malformed_message(format!(
                        "bad percent escape '{}'",
                        String::from_utf8_lossy(&b[i..end])
                    ))
                    .with_type(ErrorType::Protocol));
                };
                out.push(h << 4 | l);
                i += 3;
            }
            c if allowed(c) => {
                out.push(c);
                i += 1;
            }
            c => {
                return Err(bad(format!(
                    "character '{}' must be percent-encoded in '{s}'",
                    char::from(c).escape_default()
                )))
            }
        }
    }
    let text = String::from_utf8(out).map_err(|_| bad(format!("'{s}' does not decode to UTF-8 text")))?;
    if let Some(c) = text.chars().find(|c| !xml_char(*c)) {
        return Err(bad(format!("'{s}' decodes to a character XML cannot carry (U+{:04X})", u32::from(c))));
    }
    Ok(text)
}

fn xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..='\u{10FFFF}')
}

/// `content` (RFC 8040 §4.8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Content {
    Config,
    Nonconfig,
    #[default]
    All,
}

/// `insert` (§4.8.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    First,
    Last,
    Before,
    After,
}

impl Insert {
    pub fn as_str(self) -> &'static str {
        match self {
            Insert::First => "first",
            Insert::Last => "last",
            Insert::Before => "before",
            Insert::After => "after",
        }
    }
}

/// `with-defaults` (§4.8.9, RFC 6243 modes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WithDefaults {
    ReportAll,
    ReportAllTagged,
    Trim,
    Explicit,
}

/// The query parameters of one request, each at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pub content: Option<Content>,
    /// `None` = unbounded.
    pub depth: Option<u16>,
    pub fields: Option<String>,
    pub filter: Option<String>,
    pub insert: Option<Insert>,
    pub point: Option<String>,
    pub start_time: Option<String>,
    pub stop_time: Option<String>,
    pub with_defaults: Option<WithDefaults>,
    pub with_origin: bool,
    /// The names given, in order (for the per-method check).
    pub names: Vec<&'static str>,
}

const NAMES: [&str; 10] = [
    "content",
    "depth",
    "fields",
    "filter",
    "insert",
    "point",
    "start-time",
    "stop-time",
    "with-defaults",
    "with-origin",
];

/// Characters allowed raw in a query component (RFC 3986 §3.4), less the
/// separators `&` and `=`.
fn query_ok(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$'()*+,;:@/?".contains(&b)
}

/// Parses the query string (without `?`). Unknown and repeated parameters
/// and bad values are 400 `invalid-value`.
pub fn parse_query(raw: Option<&str>) -> Result<Query, Error> {
    let mut q = Query::default();
    let Some(raw) = raw.filter(|r| !r.is_empty()) else { return Ok(q) };
    for part in raw.split('&') {
        let (name, value) = match part.split_once('=') {
            Some((n, v)) => (n, Some(percent_decode(v, query_ok)?)),
            None => (part, None),
        };
        let Some(name) = NAMES.iter().copied().find(|n| *n == name) else {
            return Err(bad(format!("unknown query parameter '{name}'")));
        };
        if q.names.contains(&name) {
            return Err(bad(format!("query parameter '{name}' given more than once")));
        }
        q.names.push(name);
        let need =
            |v: Option<String>| v.ok_or_else(|| bad(format!("query parameter '{name}' needs a value")));
        match name {
            "content" => {
                q.content = Some(match need(value)?.as_str() {
                    "config" => Content::Config,
                    "nonconfig" => Content::Nonconfig,
                    "all" => Content::All,
                    v => return Err(bad(format!("content={v}: expected config, nonconfig or all"))),
                })
            }
            "depth" => {
                let v = need(value)?;
                q.depth = match v.as_str() {
                    "unbounded" => None,
                    s => match s.parse::<u16>() {
                        Ok(d) if d >= 1 && s.bytes().all(|b| b.is_ascii_digit()) => Some(d),
                        _ => return Err(bad(format!("depth={s}: expected 1..65535 or unbounded"))),
                    },
                }
            }
            "fields" => {
                let v = need(value)?;
                if v.is_empty() {
                    return Err(bad("fields is empty"));
                }
                q.fields = Some(v);
            }
            "filter" => q.filter = Some(need(value)?),
            "insert" => {
                q.insert = Some(match need(value)?.as_str() {
                    "first" => Insert::First,
                    "last" => Insert::Last,
                    "before" => Insert::Before,
                    "after" => Insert::After,
                    v => return Err(bad(format!("insert={v}: expected first, last, before or after"))),
                })
            }
            "point" => q.point = Some(need(value)?),
            "start-time" => q.start_time = Some(need(value)?),
            "stop-time" => q.stop_time = Some(need(value)?),
            "with-defaults" => {
                q.with_defaults = Some(match need(value)?.as_str() {
                    "report-all" => WithDefaults::ReportAll,
                    "report-all-tagged" => WithDefaults::ReportAllTagged,
                    "trim" => WithDefaults::Trim,
                    "explicit" => WithDefaults::Explicit,
                    v => {
                        return Err(bad(format!(
                            "with-defaults={v}: expected report-all, report-all-tagged, trim or explicit"
                        )))
                    }
                })
            }
            "with-origin" => {
                if value.is_some() {
                    return Err(bad("with-origin takes no value"));
                }
                q.with_origin = true;
            }
            _ => {}
        }
    }
    match (q.insert, &q.point) {
        (Some(Insert::Before | Insert::After), None) => {
            return Err(bad("insert=before and insert=after need a point parameter"))
        }
        (Some(Insert::First | Insert::Last) | None, Some(_)) => {
            return Err(bad("point is only allowed with insert=before or insert=after"))
        }
        _ => {}
    }
    Ok(q)
}

impl Query {
    /// 400 when a parameter is given that `allowed` does not list.
    pub fn only(&self, allowed: &[&str], what: &str) -> Result<(), Error> {
        match self.names.iter().find(|n| !allowed.contains(n)) {
            Some(n) => Err(bad(format!("query parameter '{n}' is not allowed for {what}"))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorTag;

    fn seg(module: Option<&str>, name: &str, keys: Option<&[&str]>) -> Segment {
        Segment {
            module: module.map(str::to_string),
            name: name.to_string(),
            keys: keys.map(|k| k.iter().map(|s| s.to_string()).collect()),
        }
    }

    #[test]
    fn well_formed_paths() {
        assert_eq!(parse_path("").unwrap(), vec![]);
        assert_eq!(parse_path("/").unwrap(), vec![]);
        assert_eq!(parse_path("/m:top").unwrap(), vec![seg(Some("m"), "top", None)]);
        assert_eq!(
            parse_path("/m:top/list=a%2Cb,c%2Fd/x:aug").unwrap(),
            vec![
                seg(Some("m"), "top", None),
                seg(None, "list", Some(&["a,b", "c/d"])),
                seg(Some("x"), "aug", None)
            ]
        );
        assert_eq!(parse_path("/m:l=").unwrap(), vec![seg(Some("m"), "l", Some(&[""]))]);
        assert_eq!(parse_path("/m:l=,").unwrap(), vec![seg(Some("m"), "l", Some(&["", ""]))]);
        assert_eq!(parse_path("/m:l=%252F").unwrap(), vec![seg(Some("m"), "l", Some(&["%2F"]))]);
        assert_eq!(parse_path("/m:l=a:b@c").unwrap(), vec![seg(Some("m"), "l", Some(&["a:b@c"]))]);
        assert_eq!(parse_path("/m:l=caf%C3%A9%20x").unwrap(), vec![seg(Some("m"), "l", Some(&["café x"]))]);
        assert_eq!(parse_path("/m:l=a%3Db").unwrap(), vec![seg(Some("m"), "l", Some(&["a=b"]))]);
    }

    #[test]
    fn malformed_paths() {
        let cases = [
            ("m:top", ErrorTag::InvalidValue),
            ("/top", ErrorTag::InvalidValue),
            ("/:top", ErrorTag::InvalidValue),
            ("/:", ErrorTag::InvalidValue),
            ("/m:", ErrorTag::InvalidValue),
            ("/m:1abc", ErrorTag::InvalidValue),
            ("/1m:abc", ErrorTag::InvalidValue),
            ("/m:top//x", ErrorTag::InvalidValue),
            ("/m:top/", ErrorTag::InvalidValue),
            ("/m:top/..", ErrorTag::InvalidValue),
            ("/m:top/.", ErrorTag::InvalidValue),
            ("/m:l==x", ErrorTag::InvalidValue),
            ("/m:l=a=b", ErrorTag::InvalidValue),
            ("/m:l=%xy", ErrorTag::MalformedMessage),
            ("/m:l=%0z", ErrorTag::MalformedMessage),
            ("/m:l=%%", ErrorTag::MalformedMessage),
            ("/m:l=%2", ErrorTag::MalformedMessage),
            ("/m:l=%", ErrorTag::MalformedMessage),
            ("/m:l=%C0%AF", ErrorTag::InvalidValue),
            ("/m:l=%FF", ErrorTag::InvalidValue),
            ("/m:l=%00", ErrorTag::InvalidValue),
            ("/m:l=a%01", ErrorTag::InvalidValue),
            ("/m:l=a b", ErrorTag::InvalidValue),
            ("/m:l=a\"b", ErrorTag::InvalidValue),
            ("/m:to%70", ErrorTag::InvalidValue),
            ("/m:a:b", ErrorTag::InvalidValue),
            ("/m-:top x", ErrorTag::InvalidValue),
        ];
        for (raw, tag) in cases {
            match parse_path(raw) {
                Ok(p) => panic!("{raw} parsed as {p:?}"),
                Err(e) => {
                    assert_eq!(e.tag, tag, "{raw}: {e}");
                    assert_eq!(e.http_status(), 400, "{raw}");
                }
            }
        }
    }

    #[test]
    fn queries() {
        let q = parse_query(Some("depth=3&content=config&with-defaults=report-all-tagged")).unwrap();
        assert_eq!(q.depth, Some(3));
        assert_eq!(q.content, Some(Content::Config));
        assert_eq!(q.with_defaults, Some(WithDefaults::ReportAllTagged));
        assert_eq!(parse_query(Some("depth=unbounded")).unwrap().depth, None);
        let q = parse_query(Some("insert=before&point=%2Fm%3Al%3Dx")).unwrap();
        assert_eq!(q.point.as_deref(), Some("/m:l=x"));
        assert!(parse_query(Some("with-origin")).unwrap().with_origin);
        assert!(parse_query(None).unwrap().names.is_empty());
        for bad in [
            "depth=0",
            "depth=65536",
            "depth=-1",
            "depth=+1",
            "depth=",
            "depth",
            "content=foo",
            "content=config&content=all",
            "foo=bar",
            "insert=before",
            "insert=middle",
            "point=%2Fm%3Ax",
            "insert=first&point=%2Fm%3Ax",
            "with-defaults=none",
            "with-origin=yes",
            "fields=",
            "depth=%zz",
        ] {
            let e = parse_query(Some(bad)).expect_err(bad);
            assert_eq!(e.http_status(), 400, "{bad}");
        }
        let q = parse_query(Some("depth=1&insert=first")).unwrap();
        assert!(q.only(&["depth"], "GET").is_err());
        assert!(q.only(&["depth", "insert"], "GET").is_ok());
    }
}
