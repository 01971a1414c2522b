//! The server's own state: ietf-netconf-monitoring (RFC 6022) and
//! ietf-yang-library (RFC 8525, with the RFC 7895 `modules-state` view
//! libyang builds beside it), supplied to the operational datastore; the
//! module capabilities of the hello; and `<get-schema>`.

use std::fmt::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::SystemTime;

use yang3::context::Context;
use yang3::data::{DataFormat, DataParserFlags, DataTree, DataValidationFlags};
use yang3::schema::{SchemaOutputFormat, SchemaPrinterFlags};

use super::{Server, MONITORING_NS};
use crate::datastore::store::tree_of;
use crate::datastore::{Datastore, StateProvider};
use crate::error::{xml_text, Error, ErrorType};
use crate::schema::{embedded, ffi, Schema};

/// The yang-library content-id: libyang's module-set id, which changes
/// whenever the module set does.
pub fn content_id(schema: &Schema) -> String {
    schema.context().get_module_set_id().to_string()
}

/// RFC 7950 §5.6.4 module capabilities of every implemented module.
pub fn module_capabilities(schema: &Schema) -> Vec<String> {
    let mut out = Vec::new();
    for m in schema.context().modules(false).filter(|m| m.is_implemented()) {
        let mut uri = format!("{}?module={}", m.namespace(), m.name());
        if let Some(r) = m.revision() {
            let _ = write!(uri, "&revision={r}");
        }
        let features = ffi::enabled_features(&m);
        if !features.is_empty() {
            let _ = write!(uri, "&features={}", features.join(","));
        }
        let devs = ffi::deviated_by(&m);
        if !devs.is_empty() {
            let _ = write!(uri, "&deviations={}", devs.join(","));
        }
        out.push(uri);
    }
    out
}

/// One entry of `netconf-state/schemas`: a module or a submodule.
#[derive(Debug, Clone)]
pub struct SchemaEntry {
    pub identifier: String,
    pub version: String,
    /// The namespace of the module (of the parent module for a submodule).
    pub namespace: String,
    /// For a submodule: its module.
    pub module: Option<String>,
}

/// Every module and submodule of the context.
pub fn schema_entries(schema: &Schema) -> Vec<SchemaEntry> {
    let mut out: Vec<SchemaEntry> = Vec::new();
    for m in schema.context().modules(false) {
        out.push(SchemaEntry {
            identifier: m.name().to_string(),
            version: m.revision().unwrap_or("").to_string(),
            namespace: m.namespace().to_string(),
            module: None,
        });
        for (sub, rev) in ffi::submodules(&m) {
            let e = SchemaEntry {
                identifier: sub,
                version: rev.unwrap_or_default(),
                namespace: m.namespace().to_string(),
                module: Some(m.name().to_string()),
            };
            if !out.iter().any(|o| o.identifier == e.identifier && o.version == e.version) {
                out.push(e);
            }
        }
    }
    out
}

/// `<get-schema>` (RFC 6022 §3.1): the text of a module or submodule as
/// it was loaded (its file or the embedded copy); libyang's own built-in
/// modules, which have no file, are printed by libyang.
pub fn get_schema(
    schema: &Schema,
    identifier: &str,
    version: Option<&str>,
    format: &str,
) -> Result<String, Error> {
    let not_found = || {
        Error::invalid_value(format!(
            "no schema {identifier}{}",
            version.map(|v| format!(" revision {v:?}")).unwrap_or_default()
        ))
        .with_type(ErrorType::Application)
    };
    if format != "yang" && format != "yin" {
        return Err(Error::invalid_value(format!("schema format {format} is not supported (yang, yin)"))
            .with_type(ErrorType::Application));
    }
    let entries = schema_entries(schema);
    let matches: Vec<&SchemaEntry> = entries
        .iter()
        .filter(|e| e.identifier == identifier && version.is_none_or(|v| v.is_empty() || e.version == v))
        .collect();
    let entry = match matches.as_slice() {
        [] => return Err(not_found()),
        [one] => *one,
        _ => {
            return Err(Error::operation_failed(format!(
                "several revisions of {identifier} are loaded: give a version"
            ))
            .with_type(ErrorType::Application)
            .with_app_tag("data-not-unique"))
        }
    };
    let ctx = schema.context();
    if format == "yin" {
        // libyang prints YIN from the parsed module.
        let module_name = entry.module.as_deref().unwrap_or(&entry.identifier);
        if entry.module.is_some() {
            return Err(Error::invalid_value("submodules are served in yang format only")
                .with_type(ErrorType::Application));
        }
        let m =
            ctx.get_module(module_name, Some(&entry.version).filter(|v| !v.is_empty()).map(|v| v.as_str()));
        let m = m.ok_or_else(not_found)?;
        return m
            .print_string(SchemaOutputFormat::YIN, SchemaPrinterFlags::empty())
            .map_err(|e| Error::operation_failed(format!("cannot print {identifier}: {e}")));
    }
    if let Some(text) = source_text(schema, entry) {
        return Ok(text);
    }
    let m = ctx
        .get_module(&entry.identifier, Some(&entry.version).filter(|v| !v.is_empty()).map(|v| v.as_str()))
        .ok_or_else(not_found)?;
    m.print_string(SchemaOutputFormat::YANG, SchemaPrinterFlags::empty())
        .map_err(|e| Error::operation_failed(format!("cannot print {identifier}: {e}")))
}

/// The file or embedded text a module or submodule was loaded from.
fn source_text(schema: &Schema, entry: &SchemaEntry) -> Option<String> {
    let file = match &entry.module {
        None => schema.modules().iter().find(|m| m.name == entry.identifier).map(|m| m.source.clone()),
        Some(parent) => {
            // A submodule sits beside its module (libyang finds it there or
            // in the same search directories).
            let parent_src = schema.modules().iter().find(|m| &m.name == parent).map(|m| m.source.clone())?;
            let dir = std::path::Path::new(&parent_src).parent()?.to_path_buf();
            let with_rev = dir.join(format!("{}@{}.yang", entry.identifier, entry.version));
            let plain = dir.join(format!("{}.yang", entry.identifier));
            Some(if with_rev.exists() { with_rev } else { plain }.display().to_string())
        }
    };
    if let Some(f) = &file {
        let path = std::path::Path::new(f);
        if path.is_absolute() || path.exists() {
            if let Ok(text) = std::fs::read_to_string(path) {
                return Some(text);
            }
        }
    }
    embedded::find(&entry.identifier).map(|e| e.text.to_string())
}

/// RFC 3339 `date-and-time` in UTC.
pub fn date_time(t: SystemTime) -> String {
    let secs = t.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) as i64;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Supplies netconf-state and the yang-library to the operational
/// datastore. Holds the server weakly (the server holds the datastores,
/// which hold this).
pub struct Provider {
    server: Weak<Server>,
}

impl Provider {
    pub fn new(server: Weak<Server>) -> Provider {
        Provider { server }
    }
}

impl StateProvider for Provider {
    fn name(&self) -> &str {
        "netconf-monitoring"
    }

    fn state(&self, ctx: &'static Context) -> Result<Option<DataTree<'static>>, Error> {
        let Some(server) = self.server.upgrade() else {
            return Ok(None);
        };
        let xml = netconf_state_xml(&server);
        let mut tree = state_tree(ctx, &xml, "netconf-state")?;
        let lib = ffi::yanglib_data(ctx, &content_id(server.schema()))
            .map_err(|e| Error::operation_failed(format!("yang-library data (libyang {e})")))?;
        let lib = tree_of(ctx, lib);
        tree.merge(&lib).map_err(|e| Error::operation_failed(format!("yang-library: {e}")))?;
        Ok(Some(tree))
    }
}

/// State data given as XML, parsed into a tree (not validated: the
/// operational datastore is validated as a whole).
pub fn state_tree(ctx: &'static Context, xml: &str, what: &str) -> Result<DataTree<'static>, Error> {
    let flags = DataParserFlags::NO_VALIDATION | DataParserFlags::STRICT;
    DataTree::parse_string(ctx, xml, DataFormat::XML, flags, DataValidationFlags::empty())
        .map_err(|e| Error::operation_failed(format!("{what}: {e}")))
}

/// nc-notifications `netconf/streams` (RFC 5277 §3.2.5.1): the streams of
/// the notification bus, each with replay.
pub struct StreamsProvider {
    bus: std::sync::Arc<crate::notify::Bus>,
}

impl StreamsProvider {
    pub fn new(bus: std::sync::Arc<crate::notify::Bus>) -> StreamsProvider {
        StreamsProvider { bus }
    }
}

impl StateProvider for StreamsProvider {
    fn name(&self) -> &str {
        "nc-notifications"
    }

    fn state(&self, ctx: &'static Context) -> Result<Option<DataTree<'static>>, Error> {
        use crate::notify::{event_time, NC_NOTIFICATIONS_NS};
        if ctx.get_module_implemented("nc-notifications").is_none() {
            return Ok(None);
        }
        let created = event_time(self.bus.log_created());
        let mut s = format!("<netconf xmlns=\"{NC_NOTIFICATIONS_NS}\"><streams>");
        for st in self.bus.streams() {
            let _ = write!(
                s,
                "<stream><name>{}</name><description>{}</description><replaySupport>true</replaySupport>\
                 <replayLogCreationTime>{created}</replayLogCreationTime></stream>",
                xml_text(&st.name),
                xml_text(&st.description)
            );
        }
        s.push_str("</streams></netconf>");
        state_tree(ctx, &s, "nc-notifications streams").map(Some)
    }
}

fn netconf_state_xml(server: &Server) -> String {
    let mut s = String::with_capacity(64 * 1024);
    let _ =
        write!(s, "<netconf-state xmlns=\"{MONITORING_NS}\" xmlns:ncm=\"{MONITORING_NS}\"><capabilities>");
    for c in server.capabilities() {
        let _ = write!(s, "<capability>{}</capability>", xml_text(c));
    }
    s.push_str("</capabilities><datastores>");
    for ds in [Datastore::Running, Datastore::Candidate, Datastore::Startup] {
        let _ = write!(s, "<datastore><name>{}</name>", ds.name());
        if let Some((holder, since)) = server.lock_info(ds) {
            let _ = write!(
                s,
                "<locks><global-lock><locked-by-session>{holder}</locked-by-session><locked-time>{}</locked-time></global-lock></locks>",
                date_time(since)
            );
        }
        s.push_str("</datastore>");
    }
    s.push_str("</datastores><schemas>");
    for e in schema_entries(server.schema()) {
        for format in ["yang", "yin"] {
            if format == "yin" && e.module.is_some() {
                continue;
            }
            let _ = write!(
                s,
                "<schema><identifier>{}</identifier><version>{}</version><format>ncm:{format}</format><namespace>{}</namespace><location>NETCONF</location></schema>",
                xml_text(&e.identifier),
                xml_text(&e.version),
                xml_text(&e.namespace)
            );
        }
    }
    s.push_str("</schemas><sessions>");
    for v in server.session_list() {
        let _ = write!(
            s,
            "<session><session-id>{}</session-id><transport>ncm:{}</transport><username>{}</username>",
            v.id,
            v.transport,
            xml_text(&v.user)
        );
        if let Some(h) = v.source_host {
            let _ = write!(s, "<source-host>{}</source-host>", h.ip());
        }
        let _ = write!(
            s,
            "<login-time>{}</login-time><in-rpcs>{}</in-rpcs><in-bad-rpcs>{}</in-bad-rpcs><out-rpc-errors>{}</out-rpc-errors><out-notifications>{}</out-notifications></session>",
            date_time(v.login_time),
            v.in_rpcs,
            v.in_bad_rpcs,
            v.out_rpc_errors,
            v.out_notifications
        );
    }
    let st = &server.stats;
    let _ = write!(
        s,
        "</sessions><statistics><netconf-start-time>{}</netconf-start-time><in-bad-hellos>{}</in-bad-hellos><in-sessions>{}</in-sessions><dropped-sessions>{}</dropped-sessions><in-rpcs>{}</in-rpcs><in-bad-rpcs>{}</in-bad-rpcs><out-rpc-errors>{}</out-rpc-errors><out-notifications>{}</out-notifications></statistics></netconf-state>",
        date_time(server.start_time),
        server.in_bad_hellos.load(Ordering::Relaxed),
        server.in_sessions.load(Ordering::Relaxed),
        server.dropped_sessions.load(Ordering::Relaxed),
        st.in_rpcs.load(Ordering::Relaxed),
        st.in_bad_rpcs.load(Ordering::Relaxed),
        st.out_rpc_errors.load(Ordering::Relaxed),
        st.out_notifications.load(Ordering::Relaxed),
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn date_times() {
        assert_eq!(date_time(SystemTime::UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000);
        assert_eq!(date_time(t), "2026-11-18T11:06:40Z");
        let leap = SystemTime::UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(date_time(leap), "2000-02-29T00:00:00Z");
    }
}
