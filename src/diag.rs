//! Diagnostics printed by `occd check` and at start-up: one per problem, with
//! where it is (file, line, schema or data path) and what it is.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// One problem found in a module, a config file or an instance document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub message: String,
    /// The file the problem is in (a module file, or the document checked).
    pub file: Option<String>,
    pub line: Option<u64>,
    /// The module the problem belongs to, when it is a schema problem.
    pub module: Option<String>,
    pub schema_path: Option<String>,
    pub data_path: Option<String>,
    pub app_tag: Option<String>,
}

impl Diagnostic {
    pub fn error(message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            message: message.into(),
            file: None,
            line: None,
            module: None,
            schema_path: None,
            data_path: None,
            app_tag: None,
        }
    }

    pub fn in_file(mut self, file: impl Into<String>) -> Self {
        self.file = Some(file.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{file}:{line}: ")?,
            (Some(file), None) => write!(f, "{file}: ")?,
            (None, _) => {}
        }
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: {}", self.message)?;
        if let Some(p) = &self.data_path {
            write!(f, " [data path {p}]")?;
        }
        if let Some(p) = &self.schema_path {
            write!(f, " [schema path {p}]")?;
        }
        if let Some(t) = &self.app_tag {
            write!(f, " [error-app-tag {t}]")?;
        }
        Ok(())
    }
}

/// A list of diagnostics as one error value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
