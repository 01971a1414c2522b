//! The YANG module set: one libyang context built from the config (search
//! directories, modules with optional revision, enabled features), parsed
//! module by module and compiled once at the end.
//!
//! This module owns the context and the description of what was loaded; it
//! must not know any protocol. Errors come back as [`Diagnostic`]s naming the
//! module file and, where libyang or the source text gives one, the line.

pub mod deps;
pub mod embedded;
pub mod ffi;
pub mod locate;
pub mod xpath;

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Deserialize;
use yang3::context::Context;

use crate::diag::{Diagnostic, Diagnostics, Severity};
use locate::Source;

/// A module to load: name, optional revision, features to enable (`*` for
/// all of them).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ModuleSpec {
    pub name: String,
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default = "all_features")]
    pub features: Vec<String>,
}

fn all_features() -> Vec<String> {
    vec!["*".to_string()]
}

impl ModuleSpec {
    /// Parses `NAME` or `NAME@REVISION` (the `--module` argument); all the
    /// module's features are enabled.
    pub fn parse(arg: &str) -> Result<ModuleSpec, String> {
        let (name, revision) = match arg.split_once('@') {
            Some((n, r)) => (n, Some(r.to_string())),
            None => (arg, None),
        };
        let spec = ModuleSpec { name: name.to_string(), revision, features: all_features() };
        spec.check()?;
        Ok(spec)
    }

    /// Rejects names, revisions and features that are not YANG identifiers
    /// or dates, before any of them reaches libyang.
    pub fn check(&self) -> Result<(), String> {
        if !is_identifier(&self.name) {
            return Err(format!("invalid module name {:?}: not a YANG identifier", self.name));
        }
        if let Some(rev) = &self.revision {
            if !is_revision(rev) {
                return Err(format!(
                    "invalid revision {rev:?} for module {}: expected YYYY-MM-DD",
                    self.name
                ));
            }
        }
        for f in &self.features {
            if f != "*" && !is_identifier(f) {
                return Err(format!("invalid feature name {f:?} for module {}", self.name));
            }
        }
        Ok(())
    }
}

impl fmt::Display for ModuleSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.revision {
            Some(r) => write!(f, "{}@{r}", self.name),
            None => write!(f, "{}", self.name),
        }
    }
}

/// RFC 7950 §6.2: identifier = (ALPHA / "_") *(ALPHA / DIGIT / "_" / "-" / ".")
pub fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

fn is_revision(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

/// The standard modules occd itself implements; always loaded, whatever the
/// configured module set. Features are those of the protocol operations occd
/// serves (the NETCONF `:url` capability is not among them).
pub const PROTOCOL_MODULES: &[(&str, &[&str])] = &[
    ("ietf-yang-library", &["*"]),
    ("ietf-datastores", &["*"]),
    ("ietf-origin", &["*"]),
    (
        "ietf-netconf",
        &[
            "writable-running",
            "candidate",
            "confirmed-commit",
            "rollback-on-error",
            "validate",
            "startup",
            "xpath",
        ],
    ),
    ("ietf-netconf-with-defaults", &["*"]),
    ("ietf-netconf-monitoring", &["*"]),
    ("ietf-netconf-notifications", &["*"]),
    ("notifications", &["*"]),
    ("nc-notifications", &["*"]),
    ("ietf-netconf-acm", &["*"]),
    ("ietf-netconf-nmda", &["origin", "with-defaults"]),
    ("ietf-restconf", &["*"]),
    ("ietf-restconf-monitoring", &["*"]),
    ("ietf-yang-patch", &["*"]),
];

/// What to load: the sources and the application module set.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    pub search_dirs: Vec<PathBuf>,
    /// Offer the modules built into the binary when the search directories
    /// do not have a module.
    pub embedded: bool,
    /// Load [`PROTOCOL_MODULES`] before the application modules.
    pub protocol_modules: bool,
    pub modules: Vec<ModuleSpec>,
}

/// One module present in the context.
#[derive(Debug, Clone)]
pub struct ModuleInfo {
    pub name: String,
    pub revision: Option<String>,
    pub namespace: String,
    pub implemented: bool,
    pub features: Vec<String>,
    /// Where its text came from: a file path, or `yang/...` for an embedded
    /// module, `libyang` for the modules built into libyang itself.
    pub source: String,
}

/// The compiled module set.
pub struct Schema {
    ctx: Context,
    modules: Vec<ModuleInfo>,
    warnings: Vec<Diagnostic>,
    load_time: Duration,
    /// Computed on first use (only the datastore needs it).
    fingerprint: std::sync::OnceLock<String>,
}

impl fmt::Debug for Schema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Schema").field("modules", &self.modules.len()).finish()
    }
}

impl Schema {
    /// Builds the context: every module parsed (imports resolved from the
    /// search directories, then the embedded set), then one compilation.
    pub fn load(opts: &LoadOptions) -> Result<Schema, Diagnostics> {
        let start = Instant::now();
        let mut errors = Vec::new();
        for dir in &opts.search_dirs {
            if !dir.is_dir() {
                errors.push(
                    Diagnostic::error("YANG search directory does not exist or is not a directory")
                        .in_file(dir.display().to_string()),
                );
            }
        }
        let mut specs: Vec<ModuleSpec> = Vec::new();
        if opts.protocol_modules {
            for (name, features) in PROTOCOL_MODULES {
                specs.push(ModuleSpec {
                    name: (*name).to_string(),
                    revision: None,
                    features: features.iter().map(|f| f.to_string()).collect(),
                });
            }
        }
        specs.extend(opts.modules.iter().cloned());
        for (i, spec) in specs.iter().enumerate() {
            if let Err(e) = spec.check() {
                errors.push(Diagnostic::error(e));
            }
            // libyang would silently merge a second request's features into
            // the first (and change what a protocol module advertises).
            if let Some(first) = specs[..i].iter().find(|s| s.name == spec.name) {
                let what = if opts.protocol_modules && PROTOCOL_MODULES.iter().any(|(n, _)| *n == spec.name) {
                    "is a protocol module occd loads itself, with fixed features"
                } else {
                    "is listed twice"
                };
                errors.push(Diagnostic::error(format!(
                    "module {} {what}: remove {spec} from the module list (first: {first})",
                    spec.name
                )));
            }
        }
        if !errors.is_empty() {
            return Err(Diagnostics(errors));
        }

        let mut ctx = Context::new(ffi::context_flags(true))
            .map_err(|e| Diagnostics(vec![Diagnostic::error(format!("libyang: {e}"))]))?;
        ffi::store_all_errors();
        for dir in &opts.search_dirs {
            if let Err(e) = ctx.set_searchdir(dir) {
                errors.push(
                    Diagnostic::error(format!("cannot use search directory: {e}"))
                        .in_file(dir.display().to_string()),
                );
            }
        }
        if opts.embedded {
            ctx.set_embedded_modules(embedded::modules());
        }
        let locator = Locator { opts };
        let mut warnings = Vec::new();
        for spec in &specs {
            let features: Vec<&str> = spec.features.iter().map(String::as_str).collect();
            let result = ctx.load_module(&spec.name, spec.revision.as_deref(), &features).map(|_| ());
            let found = ffi::take_errors(&ctx);
            let diags = locator.diagnose(&ctx, found, Some(spec));
            let (w, e): (Vec<_>, Vec<_>) = diags.into_iter().partition(|d| !d.is_error());
            warnings.extend(w);
            if result.is_err() && e.is_empty() {
                errors.push(Diagnostic::error(format!("cannot load module {spec}")));
            }
            errors.extend(e);
        }
        if !errors.is_empty() {
            return Err(Diagnostics(errors));
        }
        if let Err(found) = ffi::compile(&ctx) {
            let mut diags = locator.diagnose(&ctx, found, None);
            if !diags.iter().any(Diagnostic::is_error) {
                diags.push(Diagnostic::error("compiling the module set failed"));
            }
            return Err(Diagnostics(diags));
        }
        warnings.extend(locator.diagnose(&ctx, ffi::take_errors(&ctx), None));

        let modules =
            ctx.modules(false)
                .map(|m| ModuleInfo {
                    name: m.name().to_string(),
                    revision: m.revision().map(str::to_string),
                    namespace: m.namespace().to_string(),
                    implemented: m.is_implemented(),
                    features: ffi::enabled_features(&m),
                    source: match m.filepath() {
                        Some(p) => p.to_string(),
                        None => embedded::find(m.name())
                            .map_or_else(|| "libyang".to_string(), |e| e.path.to_string()),
                    },
                })
                .collect();
        Ok(Schema { ctx, modules, warnings, load_time: start.elapsed(), fingerprint: Default::default() })
    }

    pub fn context(&self) -> &Context {
        &self.ctx
    }

    /// Every module in the context, libyang's built-in ones included.
    pub fn modules(&self) -> &[ModuleInfo] {
        &self.modules
    }

    pub fn implemented(&self) -> impl Iterator<Item = &ModuleInfo> {
        self.modules.iter().filter(|m| m.implemented)
    }

    pub fn warnings(&self) -> &[Diagnostic] {
        &self.warnings
    }

    /// A digest of everything that decides how data is validated: the
    /// modules (compiled), their features, libyang's module-set hash and
    /// occd's version. Data validated under one fingerprint is valid under
    /// another load with the same fingerprint (the datastore trusts its
    /// recovered snapshot on that basis).
    pub fn fingerprint(&self) -> &str {
        self.fingerprint.get_or_init(|| fingerprint_of(&self.ctx))
    }

    /// Time from the start of [`Schema::load`] to the compiled context.
    pub fn load_time(&self) -> Duration {
        self.load_time
    }
}

fn fingerprint_of(ctx: &Context) -> String {
    let text = format!("occd {}\n{}", env!("CARGO_PKG_VERSION"), ffi::schema_description(ctx));
    format!("{:x}", md5::compute(text.as_bytes()))
}

struct Locator<'a> {
    opts: &'a LoadOptions,
}

impl Locator<'_> {
    fn source_of(&self, ctx: &Context, name: &str, revision: Option<&str>) -> Option<Source> {
        if let Some(path) = ctx.get_module_latest(name).and_then(|m| m.filepath().map(PathBuf::from)) {
            return Some(Source::File(path));
        }
        locate::find_module(&self.opts.search_dirs, self.opts.embedded, name, revision)
    }

    /// Turns libyang's log records into diagnostics that name the module
    /// file. A parse error's record is followed by "Parsing module "X"
    /// failed." records, innermost module first: the first one names the
    /// file the line belongs to.
    fn diagnose(
        &self,
        ctx: &Context,
        found: Vec<ffi::LyError>,
        spec: Option<&ModuleSpec>,
    ) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = Vec::new();
        let mut pending: Vec<usize> = Vec::new();
        let mut wrappers = Vec::new();
        for e in found {
            if let Some(module) = failed_module(&e.message) {
                for i in pending.drain(..) {
                    out[i].module = Some(module.clone());
                }
                wrappers.push(e.message);
                continue;
            }
            // XPath warnings carry no schema path but quote the context
            // node: `... with context node "/mod:a/b".`
            let schema_path = e
                .schema_path
                .or_else(|| quoted_after(&e.message, "context node \"").filter(|p| p.starts_with('/')));
            let module = schema_path
                .as_deref()
                .and_then(first_module)
                .or_else(|| quoted_after(&e.message, "in module \""))
                .or_else(|| quoted_after(&e.message, "for module \""));
            let mut message = e.message;
            if message.contains("module failed, not found") {
                message.push_str(&self.searched());
            }
            let d = Diagnostic {
                severity: if e.warning { Severity::Warning } else { Severity::Error },
                message,
                file: None,
                line: (e.line > 0).then_some(e.line),
                module,
                schema_path,
                data_path: e.data_path,
                app_tag: e.app_tag,
            };
            if d.module.is_none() && d.line.is_some() {
                pending.push(out.len());
            }
            out.push(d);
        }
        if out.is_empty() {
            // Only "Parsing module ... failed" records: keep them.
            out.extend(wrappers.into_iter().map(Diagnostic::error));
        }
        for d in &mut out {
            let Some(module) = d.module.clone() else { continue };
            let revision = spec.filter(|s| s.name == module).and_then(|s| s.revision.as_deref());
            let Some(source) = self.source_of(ctx, &module, revision) else { continue };
            d.file = Some(source.display());
            if d.line.is_none() {
                if let (Some(path), Some(text)) = (&d.schema_path, source.text()) {
                    d.line = locate::line_of_schema_path(&text, path);
                }
            }
        }
        out
    }

    fn searched(&self) -> String {
        let mut places: Vec<String> = self.opts.search_dirs.iter().map(|d| d.display().to_string()).collect();
        if self.opts.embedded {
            places.push("the embedded modules".into());
        }
        if places.is_empty() {
            " (no search directories configured)".into()
        } else {
            format!(" (searched {})", places.join(", "))
        }
    }
}

/// `Parsing module "X" failed.` / `Parsing submodule "X" failed.` → X.
fn failed_module(msg: &str) -> Option<String> {
    let rest = msg.strip_prefix("Parsing module \"").or_else(|| msg.strip_prefix("Parsing submodule \""))?;
    let (name, tail) = rest.split_once('"')?;
    tail.starts_with(" failed").then(|| name.to_string())
}

fn quoted_after(msg: &str, marker: &str) -> Option<String> {
    let rest = &msg[msg.find(marker)? + marker.len()..];
    Some(rest.split('"').next()?.to_string())
}

/// `/mod:a/b` → `mod`.
fn first_module(path: &str) -> Option<String> {
    let first = path.trim_start_matches('/').split('/').next()?;
    let (module, _) = first.split_once(':')?;
    is_identifier(module).then(|| module.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_module_arguments() {
        let m = ModuleSpec::parse("ietf-interfaces@2018-02-20").unwrap();
        assert_eq!(m.name, "ietf-interfaces");
        assert_eq!(m.revision.as_deref(), Some("2018-02-20"));
        assert_eq!(m.features, vec!["*"]);
        assert!(ModuleSpec::parse("bad name").is_err());
        assert!(ModuleSpec::parse("x@2018-2-20").is_err());
        assert!(ModuleSpec::parse("x\0y").is_err());
    }

    #[test]
    fn reads_libyang_messages() {
        assert_eq!(failed_module("Parsing module \"bad\" failed.").as_deref(), Some("bad"));
        assert_eq!(failed_module("Parsing submodule \"s\" failed.").as_deref(), Some("s"));
        assert_eq!(first_module("/sem:c/x").as_deref(), Some("sem"));
        assert_eq!(
            quoted_after("Feature \"nope\" not found in module \"good\".", "in module \"").as_deref(),
            Some("good")
        );
    }
}
