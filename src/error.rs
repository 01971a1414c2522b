//! The one internal error type (DESIGN decision 7: errors are data) and its
//! explicit tables: what each RFC 6241 error-tag is called, which
//! error-types it may carry, which RFC 8040 HTTP status it maps to, and how
//! libyang's parse and validation records become errors (RFC 7950 §8.3.1
//! and §15). Renders an error as a NETCONF `<rpc-error>` and as RESTCONF
//! `ietf-restconf:errors` in JSON and XML.
//!
//! This module owns no protocol state and parses no XML: the NETCONF and
//! RESTCONF layers decide which errors to send and wrap them in their
//! replies. Nothing here panics on any input.
//!
//! # libyang record → error
//!
//! Decided by the stage (parse or validation), libyang's `vecode` and
//! error-app-tag first; libyang's message formats (cited from libyang 3
//! `ly_common.h`, `validation.c`, `parser_xml.c`, `parser_json.c`) are read
//! only where nothing else tells cases apart, or to extract a name.
//!
//! | libyang record | error-tag | error-app-tag | error-info | source |
//! |---|---|---|---|---|
//! | parse, `LYVE_SYNTAX*` | malformed-message (type rpc) | – | – | RFC 6241 App. A (rpc is the only type allowed) |
//! | parse, `LYVE_REFERENCE` "No module with namespace/named…", "Unknown XML prefix", "Missing XML namespace" | unknown-namespace | – | bad-namespace | RFC 6241 App. A |
//! | parse, `LYVE_REFERENCE` "Node "X" not found…" (and other references) | unknown-element | – | bad-element X | RFC 6241 App. A |
//! | parse, `LYVE_DATA` `LY_VCODE_NOKEY` | missing-element | – | bad-element (key) | RFC 7950 §8.3.1 |
//! | parse, `LYVE_DATA` `LY_VCODE_UNEXPNODE` (state node in config) | unknown-element | – | bad-element | **choice**: not part of the configuration schema |
//! | parse, other `LYVE_DATA` (type, range, length, pattern) | invalid-value | the restriction's error-app-tag | – | RFC 7950 §8.3.1 (error-message too, when the module sets one) |
//! | validation, app tag `data-not-unique` | operation-failed | data-not-unique | non-unique (instance-identifiers) | RFC 7950 §15.1 |
//! | validation, app tag `too-many-elements` | operation-failed | too-many-elements | – | RFC 7950 §15.2 |
//! | validation, app tag `too-few-elements` | operation-failed | too-few-elements | – | RFC 7950 §15.3 |
//! | validation, app tag `instance-required` | data-missing | instance-required | – | RFC 7950 §15.5 |
//! | validation, app tag `missing-choice` | data-missing | missing-choice | missing-choice (choice name) | RFC 7950 §15.6 |
//! | validation, `LY_VCODE_NOMAND` (mandatory node missing) | data-missing | – | – | **choice**, see below |
//! | validation, `LY_VCODE_NOWHEN` (when false) | unknown-element | – | bad-element | RFC 7950 §8.3.1 |
//! | validation, `LY_VCODE_DUPCASE` (two cases) | bad-element | – | bad-element (second case) | RFC 7950 §8.3.1 |
//! | validation, `LY_VCODE_DUP` (duplicate instance) | data-exists | – | – | **choice**, see below |
//! | validation, any other `LYVE_DATA` with an app tag (a must) | operation-failed | the must's error-app-tag or must-violation | – | RFC 7950 §15.4 |
//! | `LY_EMEM` | resource-denied | – | – | RFC 6241 App. A |
//! | anything else | operation-failed | – | – | RFC 6241 App. A |
//!
//! Choices the RFCs leave open:
//! - **error-type**: errors about data-model content are `application`
//!   (RFC 6241 §4.3: "server application layer"; data-missing and
//!   data-exists allow nothing else); malformed-message is `rpc`.
//! - **mandatory node missing**: data-missing, by analogy with RFC 7950
//!   §15.6 (a missing mandatory choice): the content the data model
//!   requires does not exist. RFC 6241's missing-element describes an
//!   element missing from a *message*, which is not the case in datastore
//!   validation. The error-path is the parent (libyang's), as in §15.6.
//! - **duplicate list entry or leaf-list value** in a document:
//!   data-exists ("the relevant data model content already exists").
//! - **non-unique**: RFC 7950 §15.1 wants one instance-identifier per
//!   non-unique *leaf*. libyang names the two list entries and the unique
//!   leaves; the info lists every unique leaf of both entries, the entry
//!   at the error-path last. Unique leaves under a choice/case would carry
//!   the choice and case names (libyang's log path form) and are not
//!   corrected here.
//! - **unknown-namespace**: libyang does not name the element, so only
//!   bad-namespace is given.
//! - **malformed-message** carries no error-path (libyang's partial path of
//!   an unparsable document means nothing to the client).
//!
//! # Rendering
//!
//! - NETCONF: `<rpc-error>` in the base:1.0 namespace, children in RFC 6241
//!   §4.3 order, `error-message` with `xml:lang="en"`. libyang data paths use
//!   module names as prefixes (RFC 7951 form); in XML every node name is
//!   qualified with the module name used as an XML prefix declared on the
//!   element (`xmlns:occ-actors="urn:..."`), identityref values in
//!   predicates (`'occ-types:layer-3'`) included. A path naming a module
//!   whose namespace is unknown is left out rather than sent unbound.
//! - RESTCONF (RFC 8040 §7.1): `{"ietf-restconf:errors":{"error":[...]}}`,
//!   error-path in RFC 7951 form (libyang's own). The errors list has no
//!   severity, so warnings are not rendered. error-info members are
//!   unqualified (`bad-element`, `non-unique`...): their elements are not
//!   YANG data nodes of any module.
//! - XML text is escaped (`&`, `<`, `>`; quotes in attributes); characters
//!   XML 1.0 cannot carry (C0 controls other than tab, LF, CR) become
//!   U+FFFD.

use std::fmt;
use std::fmt::Write as _;

use yang3::context::Context;

use crate::check::{parse_then_validate, DocFormat, DocKind};
use crate::schema::ffi::LyError;
use crate::schema::{is_identifier, Schema};

/// NETCONF base namespace (RFC 6241 §3.1).
pub const NETCONF_BASE_NS: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
/// Namespace of RFC 7950 §15 error-info elements.
pub const YANG_NS: &str = "urn:ietf:params:xml:ns:yang:1";
/// Namespace of the RESTCONF errors container (RFC 8040 §8).
pub const RESTCONF_NS: &str = "urn:ietf:params:xml:ns:yang:ietf-restconf";

/// The layer an error occurred in (RFC 6241 §4.3 error-type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorType {
    Transport,
    Rpc,
    Protocol,
    Application,
}

impl ErrorType {
    pub const ALL: [ErrorType; 4] =
        [ErrorType::Transport, ErrorType::Rpc, ErrorType::Protocol, ErrorType::Application];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Transport => "transport",
            ErrorType::Rpc => "rpc",
            ErrorType::Protocol => "protocol",
            ErrorType::Application => "application",
        }
    }
}

impl fmt::Display for ErrorType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 6241 Appendix A error-tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorTag {
    InUse,
    InvalidValue,
    TooBig,
    MissingAttribute,
    BadAttribute,
    UnknownAttribute,
    MissingElement,
    BadElement,
    UnknownElement,
    UnknownNamespace,
    AccessDenied,
    LockDenied,
    ResourceDenied,
    RollbackFailed,
    DataExists,
    DataMissing,
    OperationNotSupported,
    OperationFailed,
    PartialOperation,
    MalformedMessage,
}

use ErrorType::{Application as A, Protocol as P, Rpc as R, Transport as T};

impl ErrorTag {
    pub const ALL: [ErrorTag; 20] = [
        ErrorTag::InUse,
        ErrorTag::InvalidValue,
        ErrorTag::TooBig,
        ErrorTag::MissingAttribute,
        ErrorTag::BadAttribute,
        ErrorTag::UnknownAttribute,
        ErrorTag::MissingElement,
        ErrorTag::BadElement,
        ErrorTag::UnknownElement,
        ErrorTag::UnknownNamespace,
        ErrorTag::AccessDenied,
        ErrorTag::LockDenied,
        ErrorTag::ResourceDenied,
        ErrorTag::RollbackFailed,
        ErrorTag::DataExists,
        ErrorTag::DataMissing,
        ErrorTag::OperationNotSupported,
        ErrorTag::OperationFailed,
        ErrorTag::PartialOperation,
        ErrorTag::MalformedMessage,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorTag::InUse => "in-use",
            ErrorTag::InvalidValue => "invalid-value",
            ErrorTag::TooBig => "too-big",
            ErrorTag::MissingAttribute => "missing-attribute",
            ErrorTag::BadAttribute => "bad-attribute",
            ErrorTag::UnknownAttribute => "unknown-attribute",
            ErrorTag::MissingElement => "missing-element",
            ErrorTag::BadElement => "bad-element",
            ErrorTag::UnknownElement => "unknown-element",
            ErrorTag::UnknownNamespace => "unknown-namespace",
            ErrorTag::AccessDenied => "access-denied",
            ErrorTag::LockDenied => "lock-denied",
            ErrorTag::ResourceDenied => "resource-denied",
            ErrorTag::RollbackFailed => "rollback-failed",
            ErrorTag::DataExists => "data-exists",
            ErrorTag::DataMissing => "data-missing",
            ErrorTag::OperationNotSupported => "operation-not-supported",
            ErrorTag::OperationFailed => "operation-failed",
            ErrorTag::PartialOperation => "partial-operation",
            ErrorTag::MalformedMessage => "malformed-message",
        }
    }

    pub fn from_name(s: &str) -> Option<ErrorTag> {
        ErrorTag::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// The error-types RFC 6241 Appendix A allows with this tag; the first
    /// is the one used when a caller asks for a type not allowed.
    pub fn allowed_types(self) -> &'static [ErrorType] {
        match self {
            ErrorTag::InUse => &[P, A],
            ErrorTag::InvalidValue => &[P, A],
            ErrorTag::TooBig => &[T, R, P, A],
            ErrorTag::MissingAttribute => &[R, P, A],
            ErrorTag::BadAttribute => &[R, P, A],
            ErrorTag::UnknownAttribute => &[R, P, A],
            ErrorTag::MissingElement => &[P, A],
            ErrorTag::BadElement => &[P, A],
            ErrorTag::UnknownElement => &[P, A],
            ErrorTag::UnknownNamespace => &[P, A],
            ErrorTag::AccessDenied => &[P, A],
            ErrorTag::LockDenied => &[P],
            ErrorTag::ResourceDenied => &[T, R, P, A],
            ErrorTag::RollbackFailed => &[P, A],
            ErrorTag::DataExists => &[A],
            ErrorTag::DataMissing => &[A],
            ErrorTag::OperationNotSupported => &[P, A],
            ErrorTag::OperationFailed => &[R, P, A],
            ErrorTag::PartialOperation => &[A],
            ErrorTag::MalformedMessage => &[R],
        }
    }

    /// The RFC 8040 §7 HTTP status codes for this tag, the default first.
    /// The alternatives:
    /// - invalid-value: 404 when the request URI names no resource
    ///   (RFC 8040 §3.5.3, §4), 406 when no acceptable media type can be
    ///   returned (§4.3), 415 when the request body's media type is not
    ///   one the resource takes (§5.2, RFC 9110 §15.5.16);
    /// - too-big: 413 for a request, 400 for a response that would be too
    ///   big;
    /// - access-denied: 401 when the client is not authenticated, 403 when
    ///   it is but is not authorized (RFC 8040 §2.5, RFC 8341);
    /// - operation-not-supported: 405 for a method the resource does not
    ///   allow, 501 for one the server does not implement;
    /// - operation-failed: 412 when a precondition (If-Match,
    ///   If-Unmodified-Since...) fails, 500 otherwise.
    pub fn http_statuses(self) -> &'static [u16] {
        match self {
            ErrorTag::InUse => &[409],
            ErrorTag::InvalidValue => &[400, 404, 406, 415],
            ErrorTag::TooBig => &[413, 400],
            ErrorTag::MissingAttribute => &[400],
            ErrorTag::BadAttribute => &[400],
            ErrorTag::UnknownAttribute => &[400],
            ErrorTag::MissingElement => &[400],
            ErrorTag::BadElement => &[400],
            ErrorTag::UnknownElement => &[400],
            ErrorTag::UnknownNamespace => &[400],
            ErrorTag::AccessDenied => &[403, 401],
            ErrorTag::LockDenied => &[409],
            ErrorTag::ResourceDenied => &[409],
            ErrorTag::RollbackFailed => &[500],
            ErrorTag::DataExists => &[409],
            // 404: a YANG Patch delete or move of a missing node (RFC 8072
            // erratum 5131).
            ErrorTag::DataMissing => &[409, 404],
            ErrorTag::OperationNotSupported => &[501, 405],
            ErrorTag::OperationFailed => &[500, 412],
            ErrorTag::PartialOperation => &[500],
            ErrorTag::MalformedMessage => &[400],
        }
    }

    /// The default RFC 8040 §7 status (first of [`ErrorTag::http_statuses`]).
    pub fn http_status(self) -> u16 {
        self.http_statuses()[0]
    }
}

impl fmt::Display for ErrorTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// RFC 6241 §4.3 error-severity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One child of error-info.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorInfo {
    /// RFC 6241: name of the missing, bad or unknown attribute.
    BadAttribute(String),
    /// RFC 6241: name of the element the error is about.
    BadElement(String),
    /// RFC 6241: the unexpected namespace.
    BadNamespace(String),
    /// RFC 6241: session holding the lock or resource (0: not a NETCONF
    /// session).
    SessionId(u32),
    /// RFC 6241 partial-operation: an element that was applied...
    OkElement(String),
    /// ...one that failed...
    ErrElement(String),
    /// ...one that was not attempted.
    NoopElement(String),
    /// RFC 7950 §15.1: instance-identifier of a leaf that breaks a unique
    /// constraint (RFC 7951 form, module names as prefixes).
    NonUnique(String),
    /// RFC 7950 §15.6: name of the missing mandatory choice.
    MissingChoice(String),
}

impl ErrorInfo {
    /// The element (and JSON member) name.
    pub fn name(&self) -> &'static str {
        match self {
            ErrorInfo::BadAttribute(_) => "bad-attribute",
            ErrorInfo::BadElement(_) => "bad-element",
            ErrorInfo::BadNamespace(_) => "bad-namespace",
            ErrorInfo::SessionId(_) => "session-id",
            ErrorInfo::OkElement(_) => "ok-element",
            ErrorInfo::ErrElement(_) => "err-element",
            ErrorInfo::NoopElement(_) => "noop-element",
            ErrorInfo::NonUnique(_) => "non-unique",
            ErrorInfo::MissingChoice(_) => "missing-choice",
        }
    }

    /// RFC 7950 §15 elements are in the YANG namespace; the others in the
    /// NETCONF base namespace.
    fn namespace(&self) -> &'static str {
        match self {
            ErrorInfo::NonUnique(_) | ErrorInfo::MissingChoice(_) => YANG_NS,
            _ => NETCONF_BASE_NS,
        }
    }

    fn text(&self) -> String {
        match self {
            ErrorInfo::SessionId(id) => id.to_string(),
            ErrorInfo::BadAttribute(s)
            | ErrorInfo::BadElement(s)
            | ErrorInfo::BadNamespace(s)
            | ErrorInfo::OkElement(s)
            | ErrorInfo::ErrElement(s)
            | ErrorInfo::NoopElement(s)
            | ErrorInfo::NonUnique(s)
            | ErrorInfo::MissingChoice(s) => s.clone(),
        }
    }
}

/// Where namespaces of module names come from when a path is written in
/// XML: a libyang [`Context`], a [`Schema`], or any
/// `Fn(&str) -> Option<String>`.
pub trait Namespaces {
    fn namespace(&self, module: &str) -> Option<String>;
}

impl Namespaces for Context {
    fn namespace(&self, module: &str) -> Option<String> {
        // Only identifiers reach libyang (no NUL can).
        if !is_identifier(module) {
            return None;
        }
        self.get_module_latest(module).map(|m| m.namespace().to_string())
    }
}

impl Namespaces for Schema {
    fn namespace(&self, module: &str) -> Option<String> {
        self.modules().iter().find(|m| m.name == module).map(|m| m.namespace.clone())
    }
}

impl<F: Fn(&str) -> Option<String>> Namespaces for F {
    fn namespace(&self, module: &str) -> Option<String> {
        self(module)
    }
}

/// One error (or warning) as NETCONF and RESTCONF report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub error_type: ErrorType,
    pub tag: ErrorTag,
    pub severity: Severity,
    pub app_tag: Option<String>,
    /// A data path in RFC 7951 instance-identifier form (libyang's data
    /// path: module names as prefixes where the module changes).
    pub path: Option<String>,
    /// Human-readable text, language "en".
    pub message: Option<String>,
    pub info: Vec<ErrorInfo>,
    /// An RFC 8040 status other than the tag's default, chosen among the
    /// tag's alternatives (see [`ErrorTag::http_statuses`]).
    pub http_status: Option<u16>,
}

impl Error {
    /// A bare error. A type RFC 6241 does not allow with `tag` is replaced
    /// by the tag's first allowed type, so every rendered error conforms.
    pub fn new(error_type: ErrorType, tag: ErrorTag) -> Error {
        let allowed = tag.allowed_types();
        let error_type = if allowed.contains(&error_type) { error_type } else { allowed[0] };
        Error {
            error_type,
            tag,
            severity: Severity::Error,
            app_tag: None,
            path: None,
            message: None,
            info: Vec::new(),
            http_status: None,
        }
    }

    pub fn with_type(self, error_type: ErrorType) -> Error {
        let mut e = Error::new(error_type, self.tag);
        e.severity = self.severity;
        e.app_tag = self.app_tag;
        e.path = self.path;
        e.message = self.message;
        e.info = self.info;
        e.http_status = self.http_status;
        e
    }

    pub fn with_app_tag(mut self, app_tag: impl Into<String>) -> Error {
        self.app_tag = Some(app_tag.into());
        self
    }

    pub fn with_path(mut self, path: impl Into<String>) -> Error {
        self.path = Some(path.into());
        self
    }

    pub fn with_message(mut self, message: impl Into<String>) -> Error {
        self.message = Some(message.into());
        self
    }

    pub fn with_info(mut self, info: ErrorInfo) -> Error {
        self.info.push(info);
        self
    }

    pub fn warning(mut self) -> Error {
        self.severity = Severity::Warning;
        self
    }

    /// Picks one of the tag's RFC 8040 alternatives; another code is
    /// ignored (the tag's default stays).
    pub fn with_http_status(mut self, status: u16) -> Error {
        if self.tag.http_statuses().contains(&status) {
            self.http_status = Some(status);
        }
        self
    }

    /// The RFC 8040 §7 status for this error.
    pub fn http_status(&self) -> u16 {
        self.http_status.unwrap_or_else(|| self.tag.http_status())
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    // --- Constructors for the common cases --------------------------------

    /// RFC 6241 §7.2 `create` of existing data.
    pub fn data_exists(path: impl Into<String>) -> Error {
        Error::new(A, ErrorTag::DataExists).with_path(path).with_message("data already exists")
    }

    /// RFC 6241 §7.2 `delete` of missing data (or any reference to it).
    pub fn data_missing(path: impl Into<String>) -> Error {
        Error::new(A, ErrorTag::DataMissing).with_path(path).with_message("data does not exist")
    }

    /// A required attribute is missing from `element`.
    pub fn missing_attribute(attribute: &str, element: &str) -> Error {
        Error::new(R, ErrorTag::MissingAttribute)
            .with_message(format!("missing attribute \"{attribute}\" on element \"{element}\""))
            .with_info(ErrorInfo::BadAttribute(attribute.to_string()))
            .with_info(ErrorInfo::BadElement(element.to_string()))
    }

    /// An attribute value of `element` is not correct.
    pub fn bad_attribute(attribute: &str, element: &str) -> Error {
        Error::new(R, ErrorTag::BadAttribute)
            .with_message(format!("bad value of attribute \"{attribute}\" on element \"{element}\""))
            .with_info(ErrorInfo::BadAttribute(attribute.to_string()))
            .with_info(ErrorInfo::BadElement(element.to_string()))
    }

    pub fn unknown_attribute(attribute: &str, element: &str) -> Error {
        Error::new(R, ErrorTag::UnknownAttribute)
            .with_message(format!("unknown attribute \"{attribute}\" on element \"{element}\""))
            .with_info(ErrorInfo::BadAttribute(attribute.to_string()))
            .with_info(ErrorInfo::BadElement(element.to_string()))
    }

    /// An expected element of a protocol message is missing.
    pub fn missing_element(element: &str) -> Error {
        Error::new(P, ErrorTag::MissingElement)
            .with_message(format!("missing element \"{element}\""))
            .with_info(ErrorInfo::BadElement(element.to_string()))
    }

    pub fn bad_element(element: &str) -> Error {
        Error::new(P, ErrorTag::BadElement)
            .with_message(format!("bad element \"{element}\""))
            .with_info(ErrorInfo::BadElement(element.to_string()))
    }

    pub fn unknown_element(element: &str) -> Error {
        Error::new(P, ErrorTag::UnknownElement)
            .with_message(format!("unknown element \"{element}\""))
            .with_info(ErrorInfo::BadElement(element.to_string()))
    }

    pub fn unknown_namespace(element: &str, namespace: &str) -> Error {
        Error::new(P, ErrorTag::UnknownNamespace)
            .with_message(format!("unknown namespace \"{namespace}\" of element \"{element}\""))
            .with_info(ErrorInfo::BadElement(element.to_string()))
            .with_info(ErrorInfo::BadNamespace(namespace.to_string()))
    }

    pub fn invalid_value(message: impl Into<String>) -> Error {
        Error::new(A, ErrorTag::InvalidValue).with_message(message)
    }

    /// A message that could not be parsed (RFC 6241: error-type rpc only).
    pub fn malformed_message(message: impl Into<String>) -> Error {
        Error::new(R, ErrorTag::MalformedMessage).with_message(message)
    }

    /// An operation the server does not implement (HTTP 501 by default;
    /// `.with_http_status(405)` for a method the resource does not allow).
    pub fn operation_not_supported(message: impl Into<String>) -> Error {
        Error::new(P, ErrorTag::OperationNotSupported).with_message(message)
    }

    pub fn operation_failed(message: impl Into<String>) -> Error {
        Error::new(A, ErrorTag::OperationFailed).with_message(message)
    }

    /// RFC 6241 §7.5: the lock is held by `session_id` (0: not by a
    /// NETCONF session).
    pub fn lock_denied(session_id: u32) -> Error {
        Error::new(P, ErrorTag::LockDenied)
            .with_message(format!("lock is already held by session {session_id}"))
            .with_info(ErrorInfo::SessionId(session_id))
    }

    /// The resource is in use (a datastore with uncommitted changes, a
    /// lock on part of it...).
    pub fn in_use(message: impl Into<String>) -> Error {
        Error::new(P, ErrorTag::InUse).with_message(message)
    }

    /// RFC 8341 §3.4.5: access to data at `path` denied.
    pub fn access_denied(path: impl Into<String>) -> Error {
        Error::new(A, ErrorTag::AccessDenied).with_path(path).with_message("access denied")
    }

    pub fn resource_denied(message: impl Into<String>) -> Error {
        Error::new(A, ErrorTag::ResourceDenied).with_message(message)
    }

    /// A request too big to handle (HTTP 413).
    pub fn too_big(message: impl Into<String>) -> Error {
        Error::new(R, ErrorTag::TooBig).with_message(message)
    }

    pub fn rollback_failed(message: impl Into<String>) -> Error {
        Error::new(A, ErrorTag::RollbackFailed).with_message(message)
    }

    pub fn partial_operation(message: impl Into<String>) -> Error {
        Error::new(A, ErrorTag::PartialOperation).with_message(message)
    }

    // --- From libyang -----------------------------------------------------

    /// Maps one libyang record (see the table in the module comment).
    pub fn from_libyang(e: &LyError, stage: Stage) -> Error {
        let mut err = map_libyang(e, stage);
        if e.warning {
            err.severity = Severity::Warning;
        }
        err
    }

    // --- Rendering ----------------------------------------------------------

    /// The `<rpc-error>` element (RFC 6241 §4.3), namespaces of the modules
    /// in error-path and non-unique taken from `ns`.
    pub fn to_rpc_error_xml(&self, ns: &dyn Namespaces) -> String {
        let mut out = String::new();
        let _ = write!(out, "<rpc-error xmlns=\"{NETCONF_BASE_NS}\">");
        self.write_xml_body(&mut out, ns, true);
        out.push_str("</rpc-error>");
        out
    }

    /// One `error` entry of RESTCONF `errors` in JSON (RFC 8040 §7.1).
    pub fn to_restconf_json_value(&self) -> serde_json::Value {
        let mut entry = serde_json::Map::new();
        entry.insert("error-type".into(), self.error_type.as_str().into());
        entry.insert("error-tag".into(), self.tag.as_str().into());
        if let Some(t) = &self.app_tag {
            entry.insert("error-app-tag".into(), t.as_str().into());
        }
        if let Some(p) = &self.path {
            entry.insert("error-path".into(), json_instance_path(p).into());
        }
        if let Some(m) = &self.message {
            entry.insert("error-message".into(), m.as_str().into());
        }
        if !self.info.is_empty() {
            let mut info = serde_json::Map::new();
            for i in &self.info {
                let value: serde_json::Value = match i {
                    ErrorInfo::SessionId(id) => (*id).into(),
                    other => other.text().into(),
                };
                // A repeated element becomes an array (RFC 7951 §5.3 style).
                match info.get_mut(i.name()) {
                    None => {
                        info.insert(i.name().into(), value);
                    }
                    Some(serde_json::Value::Array(a)) => a.push(value),
                    Some(prev) => {
                        let first = prev.take();
                        *prev = serde_json::Value::Array(vec![first, value]);
                    }
                }
            }
            entry.insert("error-info".into(), serde_json::Value::Object(info));
        }
        serde_json::Value::Object(entry)
    }

    /// This error alone as a RESTCONF JSON errors document.
    pub fn to_restconf_json(&self) -> String {
        Errors::from(self.clone()).to_restconf_json()
    }

    /// This error alone as a RESTCONF XML errors document.
    pub fn to_restconf_xml(&self, ns: &dyn Namespaces) -> String {
        Errors::from(self.clone()).to_restconf_xml(ns)
    }

    fn write_restconf_xml(&self, out: &mut String, ns: &dyn Namespaces) {
        out.push_str("<error>");
        self.write_xml_body(out, ns, false);
        out.push_str("</error>");
    }

    /// The children shared by `<rpc-error>` and RESTCONF `<error>` (the
    /// latter has no severity, and its error-info children from RFC 6241
    /// name their namespace).
    fn write_xml_body(&self, out: &mut String, ns: &dyn Namespaces, netconf: bool) {
        let _ = write!(out, "<error-type>{}</error-type>", self.error_type.as_str());
        let _ = write!(out, "<error-tag>{}</error-tag>", self.tag.as_str());
        if netconf {
            let _ = write!(out, "<error-severity>{}</error-severity>", self.severity.as_str());
        }
        if let Some(t) = &self.app_tag {
            let _ = write!(out, "<error-app-tag>{}</error-app-tag>", xml_text(t));
        }
        if let Some(p) = &self.path {
            if let Some(x) = XmlPath::convert(p, ns) {
                let _ = write!(out, "<error-path{}>{}</error-path>", x.declarations(), xml_text(&x.path));
            }
        }
        if let Some(m) = &self.message {
            let _ = write!(out, "<error-message xml:lang=\"en\">{}</error-message>", xml_text(m));
        }
        if self.info.is_empty() {
            return;
        }
        out.push_str("<error-info>");
        for i in &self.info {
            let name = i.name();
            let mut attrs = String::new();
            if i.namespace() != NETCONF_BASE_NS || !netconf {
                let _ = write!(attrs, " xmlns=\"{}\"", i.namespace());
            }
            let text = match i {
                ErrorInfo::NonUnique(p) => match XmlPath::convert(p, ns) {
                    Some(x) => {
                        attrs.push_str(&x.declarations());
                        x.path
                    }
                    None => continue,
                },
                other => other.text(),
            };
            let _ = write!(out, "<{name}{attrs}>{}</{name}>", xml_text(&text));
        }
        out.push_str("</error-info>");
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.tag)?;
        if let Some(t) = &self.app_tag {
            write!(f, " ({t})")?;
        }
        if let Some(m) = &self.message {
            write!(f, ": {m}")?;
        }
        if let Some(p) = &self.path {
            write!(f, " at {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// Several errors of one reply (NETCONF may send several `<rpc-error>`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Errors(pub Vec<Error>);

impl Errors {
    pub fn new() -> Errors {
        Errors(Vec::new())
    }

    pub fn push(&mut self, e: Error) {
        self.0.push(e);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Error> {
        self.0.iter()
    }

    /// True when at least one entry is an error (not only warnings).
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Error::is_error)
    }

    /// Maps libyang's records of one stage, in order.
    pub fn from_libyang(records: &[LyError], stage: Stage) -> Errors {
        records.iter().map(|e| Error::from_libyang(e, stage)).collect()
    }

    /// Every `<rpc-error>`, concatenated, for an `<rpc-reply>`.
    pub fn to_rpc_errors_xml(&self, ns: &dyn Namespaces) -> String {
        self.0.iter().map(|e| e.to_rpc_error_xml(ns)).collect()
    }

    /// The RFC 8040 status of the reply: the first error's.
    pub fn http_status(&self) -> u16 {
        self.0.iter().find(|e| e.is_error()).map_or(500, Error::http_status)
    }

    /// `{"ietf-restconf:errors":{"error":[...]}}` (RFC 8040 §7.1); warnings
    /// are left out (the RESTCONF error has no severity).
    pub fn to_restconf_json(&self) -> String {
        serde_json::json!({ "ietf-restconf:errors": self.restconf_errors_json() }).to_string()
    }

    /// The content of a RESTCONF `errors` container in JSON,
    /// `{"error":[...]}` (also YANG Patch status's, RFC 8072).
    pub fn restconf_errors_json(&self) -> serde_json::Value {
        let list: Vec<serde_json::Value> =
            self.0.iter().filter(|e| e.is_error()).map(Error::to_restconf_json_value).collect();
        serde_json::json!({ "error": list })
    }

    /// `<errors xmlns="urn:ietf:params:xml:ns:yang:ietf-restconf">...`.
    pub fn to_restconf_xml(&self, ns: &dyn Namespaces) -> String {
        format!("<errors xmlns=\"{RESTCONF_NS}\">{}</errors>", self.restconf_error_elements_xml(ns))
    }

    /// The `<error>` elements of a RESTCONF `errors` container (in the
    /// namespace in scope).
    pub fn restconf_error_elements_xml(&self, ns: &dyn Namespaces) -> String {
        let mut out = String::new();
        for e in self.0.iter().filter(|e| e.is_error()) {
            e.write_restconf_xml(&mut out, ns);
        }
        out
    }
}

/// A data path in RFC 7951 §6.11 form: a node name carries its module
/// only at the top and where the module changes (paths built here qualify
/// every step; libyang's already follow the rule). Predicates and quoted
/// values are left as they are.
pub fn json_instance_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut prev_module: Option<&str> = None;
    let (mut depth, mut quote) = (0usize, None::<char>);
    let mut i = 0;
    while i < path.len() {
        let c = path[i..].chars().next().unwrap_or('/');
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, '/') if depth == 0 => {
                out.push('/');
                i += 1;
                // A step: [module:]name, then predicates.
                let end = path[i..].find(['/', '[']).map_or(path.len(), |e| i + e);
                let step = &path[i..end];
                match step.split_once(':') {
                    Some((m, name)) if prev_module == Some(m) => out.push_str(name),
                    Some((m, _)) => {
                        prev_module = Some(m);
                        out.push_str(step);
                    }
                    None => out.push_str(step),
                }
                i = end;
                continue;
            }
            _ => {}
        }
        out.push(c);
        i += c.len_utf8();
    }
    out
}

impl From<Error> for Errors {
    fn from(e: Error) -> Errors {
        Errors(vec![e])
    }
}

impl FromIterator<Error> for Errors {
    fn from_iter<I: IntoIterator<Item = Error>>(iter: I) -> Errors {
        Errors(iter.into_iter().collect())
    }
}

impl IntoIterator for Errors {
    type Item = Error;
    type IntoIter = std::vec::IntoIter<Error>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Errors {
    type Item = &'a Error;
    type IntoIter = std::slice::Iter<'a, Error>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl fmt::Display for Errors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Errors {}

// --- libyang → Error --------------------------------------------------------

/// Which libyang pass produced a record: the same `LYVE_DATA` code with a
/// module's error-app-tag is a type restriction (invalid-value) when
/// parsing and a `must` (operation-failed) when validating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Parsing a document into a tree (libyang's `LYD_PARSE_ONLY`).
    Parse,
    /// Validating a parsed tree.
    Validate,
}

// libyang 3 codes (log.h); u32 so this module does not depend on the
// binding's type aliases.
const LY_EMEM: u32 = 1;
const LYVE_SYNTAX: u32 = 1;
const LYVE_REFERENCE: u32 = 4;
const LYVE_SYNTAX_XML: u32 = 7;
const LYVE_SYNTAX_JSON: u32 = 8;
const LYVE_DATA: u32 = 9;

// libyang 3 message formats (ly_common.h, parser_xml.c, parser_json.c):
// only their fixed prefixes are matched.
/// `LY_VCODE_NOUNIQ`: Unique data leaf(s) "%s" not satisfied in "%s" and "%s".
const NOUNIQ: &str = "Unique data leaf(s) \"";
/// `LY_VCODE_NOMAND_CHOIC`: Mandatory choice "%s" data do not exist.
const NOMAND_CHOICE: &str = "Mandatory choice \"";
/// `LY_VCODE_NOMAND`: Mandatory node "%s" instance does not exist.
const NOMAND: &str = "Mandatory node \"";
/// `LY_VCODE_NOWHEN`: When condition "%s" not satisfied.
const NOWHEN: &str = "When condition \"";
/// `LY_VCODE_DUPCASE`: Data for both cases "%s" and "%s" exist.
const DUPCASE: &str = "Data for both cases \"";
/// `LY_VCODE_DUP`: Duplicate instance of "%s".
const DUP: &str = "Duplicate instance of \"";
/// `LY_VCODE_NOKEY`: List instance is missing its key "%s".
const NOKEY: &str = "List instance is missing its key \"";
/// `LY_VCODE_UNEXPNODE`: Unexpected data %s node "%s" found.
const UNEXPNODE: &str = "Unexpected data ";
/// parser_xml.c / parser_json.c / tree_data_common.c: unknown modules.
const NO_MODULE: [&str; 6] = [
    "No module with namespace \"",
    "No module named \"",
    "No (implemented) module",
    "Unknown XML prefix \"",
    "Missing XML namespace",
    "No default namespace",
];
/// parser_xml.c / parser_json.c: Node "%.*s" not found ...
const NODE_NOT_FOUND: &str = "Node \"";

fn map_libyang(e: &LyError, stage: Stage) -> Error {
    let msg = e.message.as_str();
    let path = e.data_path.clone();
    let base = |tag: ErrorTag| {
        let mut err = Error::new(A, tag).with_message(msg);
        err.path = path.clone();
        err
    };
    if e.err == LY_EMEM {
        return Error::resource_denied(msg);
    }
    if matches!(e.vecode, LYVE_SYNTAX | LYVE_SYNTAX_XML | LYVE_SYNTAX_JSON) {
        return Error::malformed_message(msg);
    }
    match (stage, e.vecode) {
        (Stage::Parse, LYVE_REFERENCE) => {
            if NO_MODULE.iter().any(|p| msg.starts_with(p)) {
                let mut err = base(ErrorTag::UnknownNamespace);
                if let Some(ns) = first_quoted(msg) {
                    err.info.push(ErrorInfo::BadNamespace(ns.to_string()));
                }
                err
            } else {
                let mut err = base(ErrorTag::UnknownElement);
                if let Some(name) = msg.strip_prefix(NODE_NOT_FOUND).and_then(|r| r.split_once('"')) {
                    err.info.push(ErrorInfo::BadElement(name.0.to_string()));
                }
                err
            }
        }
        (Stage::Parse, LYVE_DATA) => {
            if let Some(rest) = msg.strip_prefix(NOKEY) {
                let mut err = base(ErrorTag::MissingElement);
                if let Some((key, _)) = rest.split_once('"') {
                    err.info.push(ErrorInfo::BadElement(key.to_string()));
                }
                err
            } else if msg.starts_with(UNEXPNODE) {
                let mut err = base(ErrorTag::UnknownElement);
                if let Some(name) = last_quoted(msg) {
                    err.info.push(ErrorInfo::BadElement(name.to_string()));
                }
                err
            } else {
                // RFC 7950 §8.3.1: type, range, length, pattern; libyang
                // already put the restriction's error-message in `msg`.
                let mut err = base(ErrorTag::InvalidValue);
                err.app_tag = e.app_tag.clone();
                if err.path.is_none() {
                    // libyang gives a top-level leaf's value error only
                    // its schema path, which is then the data path.
                    err.path = e.schema_path.clone().filter(|p| is_top_level_path(p));
                }
                err
            }
        }
        (Stage::Validate, LYVE_DATA) => map_validation(e, base),
        _ => base(ErrorTag::OperationFailed),
    }
}

/// `/module:name`: one node, no predicate.
fn is_top_level_path(p: &str) -> bool {
    let Some((module, name)) = p.strip_prefix('/').and_then(|r| r.split_once(':')) else { return false };
    let plain = |s: &str| !s.is_empty() && !s.contains(['/', '[', ':']);
    plain(module) && plain(name)
}

fn map_validation(e: &LyError, base: impl Fn(ErrorTag) -> Error) -> Error {
    let msg = e.message.as_str();
    match e.app_tag.as_deref() {
        Some(tag @ "data-not-unique") => {
            let mut err = base(ErrorTag::OperationFailed).with_app_tag(tag);
            err.info.extend(non_unique(msg, e.data_path.as_deref()).into_iter().map(ErrorInfo::NonUnique));
            err
        }
        Some(tag @ ("too-many-elements" | "too-few-elements")) => {
            base(ErrorTag::OperationFailed).with_app_tag(tag)
        }
        Some(tag @ "instance-required") => base(ErrorTag::DataMissing).with_app_tag(tag),
        Some(tag @ "missing-choice") if msg.starts_with(NOMAND_CHOICE) => {
            let mut err = base(ErrorTag::DataMissing).with_app_tag(tag);
            if let Some(choice) = first_quoted(msg) {
                err.info.push(ErrorInfo::MissingChoice(choice.to_string()));
            }
            err
        }
        // RFC 7950 §15.4: a must, with its own app tag or must-violation
        // (libyang supplies the latter and the must's error-message).
        Some(tag) => base(ErrorTag::OperationFailed).with_app_tag(tag),
        None if msg.starts_with(NOMAND) => base(ErrorTag::DataMissing),
        None if msg.starts_with(NOWHEN) => {
            let mut err = base(ErrorTag::UnknownElement);
            if let Some(name) = e.data_path.as_deref().and_then(last_node_name) {
                err.info.push(ErrorInfo::BadElement(name));
            }
            err
        }
        None if msg.starts_with(DUPCASE) => {
            let mut err = base(ErrorTag::BadElement);
            if let Some(case) = last_quoted(msg) {
                err.info.push(ErrorInfo::BadElement(case.to_string()));
            }
            err
        }
        None if msg.starts_with(DUP) => base(ErrorTag::DataExists),
        None => base(ErrorTag::OperationFailed),
    }
}

/// The instance-identifiers of the unique leaves of both list entries
/// named in libyang's `LY_VCODE_NOUNIQ` message, the entry at `data_path`
/// (libyang's second) last. Empty when the message does not parse.
fn non_unique(msg: &str, data_path: Option<&str>) -> Vec<String> {
    let Some(rest) = msg.strip_prefix(NOUNIQ) else { return Vec::new() };
    let Some((leaves, rest)) = rest.split_once("\" not satisfied in \"") else { return Vec::new() };
    let Some(pair) = rest.strip_suffix("\".") else { return Vec::new() };
    // Paths may hold `"` in key values; the second one is the data path,
    // which settles where the first ends.
    let (first, second) = match data_path.and_then(|dp| {
        pair.strip_suffix(dp).and_then(|head| head.strip_suffix("\" and \"")).map(|head| (head, dp))
    }) {
        Some(p) => p,
        None => match pair.split_once("\" and \"") {
            Some(p) => p,
            None => return Vec::new(),
        },
    };
    let mut out = Vec::new();
    for entry in [first, second] {
        for leaf in leaves.split(' ').filter(|l| !l.is_empty()) {
            out.push(format!("{entry}/{}", leaf.trim_start_matches('/')));
        }
    }
    out
}

fn first_quoted(msg: &str) -> Option<&str> {
    let (_, rest) = msg.split_once('"')?;
    Some(rest.split_once('"')?.0)
}

fn last_quoted(msg: &str) -> Option<&str> {
    let (head, _) = msg.rsplit_once('"')?;
    Some(head.rsplit_once('"')?.1)
}

fn last_node_name(path: &str) -> Option<String> {
    let segments = parse_path(path)?;
    segments.last().map(|s| s.name.to_string())
}

// --- Validation of a document, for callers that have only text ----------------

/// Parses and validates `text` as the full content of a datastore (as
/// [`crate::check::check_text`] does) and returns the errors as NETCONF
/// and RESTCONF report them. A document that does not parse is not
/// validated: its parse errors are returned.
pub fn check_text(schema: &Schema, text: &str, kind: DocKind, format: DocFormat) -> Errors {
    if let Some(at) = text.find('\0') {
        return Error::malformed_message(format!("NUL character at byte {at}")).into();
    }
    let staged = parse_then_validate(schema, text, kind, format);
    let mut errors = Errors::from_libyang(&staged.parse, Stage::Parse);
    errors.0.extend(Errors::from_libyang(&staged.validate, Stage::Validate).0);
    if let Some(e) = staged.failure {
        if !errors.has_errors() {
            errors.push(Error::operation_failed(e));
        }
    }
    errors
}

// --- Paths ---------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq)]
struct Segment<'a> {
    module: Option<&'a str>,
    name: &'a str,
    predicates: Vec<Predicate<'a>>,
}

#[derive(Debug, PartialEq, Eq)]
enum Predicate<'a> {
    /// `[mod:key='v']`, `[.='v']` (key None), the value with its quotes.
    Eq { module: Option<&'a str>, key: Option<&'a str>, value: &'a str },
    /// `[3]`
    Position(&'a str),
}

/// Splits an absolute libyang data path into segments. None when it is not
/// in that form.
fn parse_path(path: &str) -> Option<Vec<Segment<'_>>> {
    let mut out = Vec::new();
    let mut rest = path.strip_prefix('/')?;
    loop {
        let end = rest.find(['/', '[']).unwrap_or(rest.len());
        let (module, name) = split_qname(&rest[..end])?;
        rest = &rest[end..];
        let mut predicates = Vec::new();
        while let Some(r) = rest.strip_prefix('[') {
            let close;
            if r.starts_with(|c: char| c.is_ascii_digit()) {
                close = r.find(']')?;
                if !r[..close].bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                predicates.push(Predicate::Position(&r[..close]));
            } else {
                let eq = r.find('=')?;
                let lhs = r[..eq].trim();
                let (module, key) =
                    if lhs == "." { (None, None) } else { split_qname(lhs).map(|(m, k)| (m, Some(k)))? };
                let v = r[eq + 1..].trim_start();
                let quote = v.chars().next().filter(|c| *c == '\'' || *c == '"')?;
                let len = v[1..].find(quote)? + 2;
                let value = &v[..len];
                let after = v[len..].trim_start();
                let skipped = r.len() - after.len();
                if !after.starts_with(']') {
                    return None;
                }
                close = skipped;
                predicates.push(Predicate::Eq { module, key, value });
            }
            rest = &r[close + 1..];
        }
        out.push(Segment { module, name, predicates });
        if rest.is_empty() {
            return Some(out);
        }
        rest = rest.strip_prefix('/')?;
    }
}

fn split_qname(s: &str) -> Option<(Option<&str>, &str)> {
    let (module, name) = match s.split_once(':') {
        Some((m, n)) => (Some(m), n),
        None => (None, s),
    };
    (module.is_none_or(is_identifier) && is_identifier(name)).then_some((module, name))
}

/// A libyang data path as an XML `instance-identifier` value: the path with
/// module names as prefixes, and the `xmlns:` declarations it needs (with a
/// leading space). `None` when the path does not parse or names an unknown
/// module.
pub fn xml_instance_identifier(path: &str, ns: &dyn Namespaces) -> Option<(String, String)> {
    XmlPath::convert(path, ns).map(|x| {
        let decls = x.declarations();
        (x.path, decls)
    })
}

/// A path in XML form: every node qualified, with the modules to declare.
struct XmlPath {
    path: String,
    /// (module, namespace), in order of first use.
    modules: Vec<(String, String)>,
}

impl XmlPath {
    /// None when the path does not parse or names a module `ns` does not
    /// know (an unbound prefix would make the XML invalid).
    fn convert(path: &str, ns: &dyn Namespaces) -> Option<XmlPath> {
        let segments = parse_path(path)?;
        let mut x = XmlPath { path: String::new(), modules: Vec::new() };
        let mut current: Option<&str> = None;
        for s in &segments {
            let module = s.module.or(current)?;
            current = Some(module);
            x.declare(module, ns)?;
            let _ = write!(x.path, "/{module}:{}", s.name);
            for p in &s.predicates {
                match p {
                    Predicate::Position(n) => {
                        let _ = write!(x.path, "[{n}]");
                    }
                    Predicate::Eq { module: m, key, value } => {
                        x.path.push('[');
                        match key {
                            Some(k) => {
                                let km = m.unwrap_or(module);
                                x.declare(km, ns)?;
                                let _ = write!(x.path, "{km}:{k}");
                            }
                            None => x.path.push('.'),
                        }
                        // An identityref value `module:identity` needs its
                        // module declared too; module names are the prefixes.
                        let inner = &value[1..value.len() - 1];
                        let identity =
                            inner.split_once(':').filter(|(m, id)| is_identifier(m) && is_identifier(id));
                        if let Some((m, _)) = identity {
                            if ns.namespace(m).is_some() {
                                x.declare(m, ns)?;
                            }
                        }
                        let _ = write!(x.path, "={value}]");
                    }
                }
            }
        }
        Some(x)
    }

    fn declare(&mut self, module: &str, ns: &dyn Namespaces) -> Option<()> {
        if !self.modules.iter().any(|(m, _)| m == module) {
            self.modules.push((module.to_string(), ns.namespace(module)?));
        }
        Some(())
    }

    fn declarations(&self) -> String {
        self.modules.iter().map(|(m, n)| format!(" xmlns:{m}=\"{}\"", xml_attr(n))).collect()
    }
}

// --- XML escaping ----------------------------------------------------------------

/// Characters XML 1.0 §2.2 allows; others become U+FFFD.
fn xml_char(c: char) -> char {
    match c {
        '\t' | '\n' | '\r' => c,
        '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => '\u{fffd}',
        _ => c,
    }
}

/// Escapes element content.
pub fn xml_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // A literal CR would be read back as LF (XML 1.0 §2.11).
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
    out
}

/// Escapes an attribute value delimited by `"`.
pub fn xml_attr(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().map(xml_char) {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Attribute-value normalisation would turn these into spaces.
            '\t' => out.push_str("&#x9;"),
            '\n' => out.push_str("&#xA;"),
            '\r' => out.push_str("&#xD;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_libyang_paths() {
        let p = parse_path("/a:x/y[k='v/]'][b:z=\"it's\"]/c:w[.='1'][3]").unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p[1].name, "y");
        assert_eq!(
            p[1].predicates,
            vec![
                Predicate::Eq { module: None, key: Some("k"), value: "'v/]'" },
                Predicate::Eq { module: Some("b"), key: Some("z"), value: "\"it's\"" },
            ]
        );
        assert_eq!(p[2].predicates[1], Predicate::Position("3"));
        for bad in ["", "a:x", "/a:x[", "/a:x[k='v]", "/a:x/", "/a b", "/a:x[k=v]"] {
            assert!(parse_path(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn escapes_xml() {
        assert_eq!(xml_text("a<b>&c\u{1}\r"), "a&lt;b&gt;&amp;c\u{fffd}&#xD;");
        assert_eq!(xml_attr("\"'<\n"), "&quot;&apos;&lt;&#xA;");
    }

    #[test]
    fn odd_input_never_panics() {
        let path = "/a:x/y[k='v/]'][b:z=\"é's\"]/c:w[.='1'][3]";
        let msg = "Unique data leaf(s) \"a\" not satisfied in \"/m:l[k='1']\" and \"/m:l[k='2']\".";
        let ns = |_: &str| Some("urn:x".to_string());
        for text in [path, msg] {
            for (i, _) in text.char_indices() {
                for piece in [&text[..i], &text[i..]] {
                    let _ = parse_path(piece);
                    let _ = non_unique(piece, Some(piece));
                    let _ = XmlPath::convert(piece, &ns);
                    for (vecode, stage) in [(LYVE_DATA, Stage::Validate), (LYVE_REFERENCE, Stage::Parse)] {
                        let e = LyError {
                            warning: false,
                            err: 7,
                            vecode,
                            message: piece.to_string(),
                            data_path: Some(piece.to_string()),
                            schema_path: None,
                            line: 0,
                            app_tag: Some("data-not-unique".into()),
                        };
                        let _ = Error::from_libyang(&e, stage).to_rpc_error_xml(&ns);
                    }
                }
            }
        }
    }

    #[test]
    fn reads_non_unique_messages() {
        let msg =
            "Unique data leaf(s) \"a b/c\" not satisfied in \"/m:l[k='x\" and \"y']\" and \"/m:l[k='2']\".";
        assert_eq!(
            non_unique(msg, Some("/m:l[k='2']")),
            vec!["/m:l[k='x\" and \"y']/a", "/m:l[k='x\" and \"y']/b/c", "/m:l[k='2']/a", "/m:l[k='2']/b/c"]
        );
        assert!(non_unique("garbage", None).is_empty());
    }
}
