//! Media types (RFC 8040 §5.2, RFC 8072 §2.3): what a request body is and
//! which encoding the reply takes (`Accept`, 406; `Content-Type`, 415).

/// The encodings RESTCONF data takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enc {
    Json,
    Xml,
}

impl Enc {
    pub fn data_type(self) -> &'static str {
        match self {
            Enc::Json => "application/yang-data+json",
            Enc::Xml => "application/yang-data+xml",
        }
    }

    pub fn is_json(self) -> bool {
        self == Enc::Json
    }
}

/// What a request body declares itself to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyType {
    Data(Enc),
    Patch(Enc),
}

fn essence(v: &str) -> String {
    v.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// The body type of a `Content-Type` value; `None` is 415. Plain
/// `application/json` and `application/xml` are taken as YANG data too
/// (curl users send them).
pub fn body_type(content_type: &str) -> Option<BodyType> {
    match essence(content_type).as_str() {
        "application/yang-data+json" | "application/json" => Some(BodyType::Data(Enc::Json)),
        "application/yang-data+xml" | "application/xml" | "text/xml" => Some(BodyType::Data(Enc::Xml)),
        // `yang.patch` / `yang.data`: the media types of the RESTCONF drafts,
        // still sent by older OpenDaylight clients.
        "application/yang.data+json" => Some(BodyType::Data(Enc::Json)),
        "application/yang.data+xml" => Some(BodyType::Data(Enc::Xml)),
        "application/yang-patch+json" | "application/yang.patch+json" => Some(BodyType::Patch(Enc::Json)),
        "application/yang-patch+xml" | "application/yang.patch+xml" => Some(BodyType::Patch(Enc::Xml)),
        _ => None,
    }
}

/// The reply encoding for an `Accept` header: `Ok(None)` when it names
/// nothing we produce (406), `default` when absent or `*/*`.
pub fn negotiate(accept: Option<&str>, default: Enc) -> Option<Enc> {
    let Some(accept) = accept.map(str::trim).filter(|a| !a.is_empty()) else { return Some(default) };
    let mut best: Option<(f32, u8, Enc)> = None;
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let ty = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let mut q = 1.0f32;
        for p in parts {
            if let Some(v) = p.trim().strip_prefix("q=") {
                q = v.trim().parse().unwrap_or(0.0);
            }
        }
        if q <= 0.0 {
            continue;
        }
        // Specificity breaks ties between equal q values.
        let (spec, enc) = match ty.as_str() {
            // A YANG Patch client may ask for its own type: the status
            // reply is YANG data in that encoding.
            "application/yang-data+json"
            | "application/json"
            | "application/yang.data+json"
            | "application/yang-patch+json" => (3, Enc::Json),
            "application/yang-data+xml"
            | "application/xml"
            | "text/xml"
            | "application/yang.data+xml"
            | "application/yang-patch+xml" => (3, Enc::Xml),
            "application/*" | "*/*" => (1, default),
            _ => continue,
        };
        if best.is_none_or(|(bq, bs, _)| q > bq || (q == bq && spec > bs)) {
            best = Some((q, spec, enc));
        }
    }
    best.map(|(_, _, e)| e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept() {
        assert_eq!(negotiate(None, Enc::Json), Some(Enc::Json));
        assert_eq!(negotiate(Some("application/yang-data+xml"), Enc::Json), Some(Enc::Xml));
        assert_eq!(negotiate(Some("*/*"), Enc::Xml), Some(Enc::Xml));
        assert_eq!(negotiate(Some("text/html"), Enc::Json), None);
        assert_eq!(
            negotiate(Some("application/yang-data+xml;q=0.5, application/yang-data+json"), Enc::Xml),
            Some(Enc::Json)
        );
        assert_eq!(negotiate(Some("application/yang-data+json;q=0"), Enc::Json), None);
        assert_eq!(negotiate(Some("text/html, */*;q=0.1"), Enc::Json), Some(Enc::Json));
        assert_eq!(negotiate(Some("application/yang-patch+xml"), Enc::Json), Some(Enc::Xml));
    }

    #[test]
    fn content_type() {
        assert_eq!(body_type("application/yang-data+json; charset=utf-8"), Some(BodyType::Data(Enc::Json)));
        assert_eq!(body_type("Application/YANG-Data+XML"), Some(BodyType::Data(Enc::Xml)));
        assert_eq!(body_type("application/yang-patch+xml"), Some(BodyType::Patch(Enc::Xml)));
        assert_eq!(body_type("text/plain"), None);
        assert_eq!(body_type("application/yang.patch+json"), Some(BodyType::Patch(Enc::Json)));
    }
}
