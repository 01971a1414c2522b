//! `occd check`: validate instance documents (XML or RFC 7951 JSON) against
//! the loaded module set, as a complete datastore, reporting every error.

use std::fs;
use std::path::Path;

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

/// Validates one document; an empty result means it is valid.
pub fn check_document(
    schema: &Schema,
    path: &Path,
    kind: DocKind,
    format: Option<DocFormat>,
) -> Vec<Diagnostic> {
    let file = path.display().to_string();
    let text = match fs::read(path) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(e) => {
                return vec![Diagnostic::error(format!(
                    "not UTF-8 text (byte {})",
                    e.utf8_error().valid_up_to()
                ))
                .in_file(file)]
            }
        },
        Err(e) => return vec![Diagnostic::error(format!("cannot read: {e}")).in_file(file)],
    };
    check_text(schema, &text, kind, format.unwrap_or_else(|| detect_format(path, &text)))
        .into_iter()
        .map(|d| d.in_file(file.clone()))
        .collect()
}

/// Validates document text as the full content of a datastore.
pub fn check_text(schema: &Schema, text: &str, kind: DocKind, format: DocFormat) -> Vec<Diagnostic> {
    if let Some(at) = text.find('\0') {
        return vec![Diagnostic::error(format!("NUL character at byte {at}"))];
    }
    let mut parse = DataParserFlags::STRICT;
    // PRESENT: modules the document has no data for are not checked, so a
    // document about one module is not failed for another module's
    // mandatory nodes (the yang-library state, for instance).
    let mut validate = ffi::multi_error() | DataValidationFlags::PRESENT;
    if kind == DocKind::Config {
        parse |= DataParserFlags::NO_STATE;
        validate |= DataValidationFlags::NO_STATE;
    }
    let format = match format {
        DocFormat::Xml => DataFormat::XML,
        DocFormat::Json => DataFormat::JSON,
    };
    let ctx = schema.context();
    ffi::take_errors(ctx);
    let result = DataTree::parse_string(ctx, text, format, parse, validate).map(drop);
    let found = ffi::take_errors(ctx);
    let mut out: Vec<Diagnostic> = found
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
    if let Err(e) = result {
        if !out.iter().any(Diagnostic::is_error) {
            out.push(Diagnostic::error(e.to_string()));
        }
    }
    out
}
