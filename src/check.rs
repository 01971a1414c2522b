//! `occd check`: validate instance documents (XML or RFC 7951 JSON) against
//! the loaded module set, as a complete datastore, reporting every error.

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use yang3::data::{DataFormat, DataParserFlags, DataTree, DataValidationFlags};

use crate::diag::{Diagnostic, Severity};
use crate::schema::{ffi, Schema};

/// What a document is checked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DocKind {
    /// Configuration only: config false nodes are errors.
    Config,
    /// Full data (configuration and state), as in the operational datastore.
    Data,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DocFormat {
    Xml,
    Json,
}

/// Format from the extension, else from the first non-blank byte.
fn detect_format(path: &Path, text: &str) -> DocFormat {
    match path.extension().and_then(|e| e.to_str()) {
        Some("xml") => DocFormat::Xml,
        Some("json") => DocFormat::Json,
        _ if text.trim_start().starts_with(['{', '[']) => DocFormat::Json,
        _ => DocFormat::Xml,
    }
}

/// The outcome of checking one document.
#[derive(Debug, Default)]
pub struct Report {
    /// Errors and warnings; no error means the document is valid.
    pub diagnostics: Vec<Diagnostic>,
    /// Time to parse the document into a tree (no validation).
    pub parse_time: Duration,
    /// Time of libyang's full validation of the parsed tree.
    pub validate_time: Duration,
}

impl Report {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    fn failed(d: Diagnostic) -> Report {
        Report { diagnostics: vec![d], ..Report::default() }
    }
}

/// Validates one document file.
pub fn check_document(schema: &Schema, path: &Path, kind: DocKind, format: Option<DocFormat>) -> Report {
    let file = path.display().to_string();
    let text = match fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                return Report::failed(
                    Diagnostic::error(format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()))
                        .in_file(file),
                )
            }
        },
        Err(e) => return Report::failed(Diagnostic::error(format!("cannot read: {e}")).in_file(file)),
    };
    let mut report = check_text(schema, &text, kind, format.unwrap_or_else(|| detect_format(path, &text)));
    for d in &mut report.diagnostics {
        d.file = Some(file.clone());
    }
    report
}

/// libyang's records of one [`parse_then_validate`], by stage.
#[derive(Debug, Default)]
pub struct Staged {
    /// Records of the strict parse (no validation).
    pub parse: Vec<ffi::LyError>,
    /// Records of the validation; empty when the parse failed.
    pub validate: Vec<ffi::LyError>,
    /// libyang's own error when either stage failed.
    pub failure: Option<String>,
    pub parsed: bool,
    pub parse_time: Duration,
    pub validate_time: Duration,
}

fn flags(kind: DocKind) -> (DataParserFlags, DataValidationFlags) {
    let mut parse = DataParserFlags::STRICT | DataParserFlags::NO_VALIDATION;
    // PRESENT: modules the document has no data for are not checked, so a
    // document about one module is not failed for another module's
    // mandatory nodes (the yang-library state, for instance).
    let mut validate = ffi::multi_error() | DataValidationFlags::PRESENT;
    if kind == DocKind::Config {
        parse |= DataParserFlags::NO_STATE;
        validate |= DataValidationFlags::NO_STATE;
    }
    (parse, validate)
}

fn data_format(format: DocFormat) -> DataFormat {
    match format {
        DocFormat::Xml => DataFormat::XML,
        DocFormat::Json => DataFormat::JSON,
    }
}

/// Parses document text strictly, then (if that worked) validates it as the
/// full content of a datastore, keeping libyang's records of each stage
/// apart. The caller has rejected NUL bytes (yang3 would panic on them).
pub fn parse_then_validate(schema: &Schema, text: &str, kind: DocKind, format: DocFormat) -> Staged {
    let (parse, validate) = flags(kind);
    let ctx = schema.context();
    ffi::take_errors(ctx);
    let mut out = Staged::default();
    let start = Instant::now();
    let parsed = DataTree::parse_string(ctx, text, data_format(format), parse, DataValidationFlags::empty());
    out.parse_time = start.elapsed();
    out.parse = ffi::take_errors(ctx);
    match parsed {
        Ok(mut tree) => {
            out.parsed = true;
            let start = Instant::now();
            let r = tree.validate(validate);
            out.validate_time = start.elapsed();
            out.validate = ffi::take_errors(ctx);
            out.failure = r.err().map(|e| e.to_string());
        }
        Err(e) => out.failure = Some(e.to_string()),
    }
    out
}

/// Validates document text as the full content of a datastore: parsed
/// strictly (unknown nodes are errors), then validated as a whole, every
/// error reported.
pub fn check_text(schema: &Schema, text: &str, kind: DocKind, format: DocFormat) -> Report {
    if let Some(at) = text.find('\0') {
        return Report::failed(Diagnostic::error(format!("NUL character at byte {at}")));
    }
    let staged = parse_then_validate(schema, text, kind, format);
    let mut report =
        Report { parse_time: staged.parse_time, validate_time: staged.validate_time, ..Report::default() };
    let (records, failure) = if staged.parsed {
        (staged.parse.into_iter().chain(staged.validate).collect(), staged.failure)
    } else {
        // A value that fails its type stops a parse-only pass; parsing
        // with validation in one pass reports every error instead.
        let (mut parse, validate) = flags(kind);
        parse.remove(DataParserFlags::NO_VALIDATION);
        let ctx = schema.context();
        let r = DataTree::parse_string(ctx, text, data_format(format), parse, validate).map(drop);
        (ffi::take_errors(ctx), r.err().map(|e| e.to_string()))
    };
    report.diagnostics = records
        .into_iter()
        .map(|e| Diagnostic {
            severity: if e.warning { Severity::Warning } else { Severity::Error },
            message: e.message,
            file: None,
            line: (e.line > 0).then_some(e.line),
            module: None,
            schema_path: if e.data_path.is_some() { None } else { e.schema_path },
            data_path: e.data_path,
            app_tag: e.app_tag,
        })
        .collect();
    if let Some(e) = failure {
        if report.errors() == 0 {
            report.diagnostics.push(Diagnostic::error(e));
        }
    }
    report
}
