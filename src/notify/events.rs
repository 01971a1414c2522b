//! The notifications the server sends about itself (RFC 6470,
//! ietf-netconf-notifications), built from the datastore's change and
//! confirmed-commit events and from the NETCONF session life cycle.
//!
//! - `netconf-config-change`: one per commit to running (and per write of
//!   startup). `changed-by` is the session's user, id (0 for RESTCONF) and
//!   address, or `server` for the server's own changes (a confirmed-commit
//!   timeout). The edit list comes from the commit's diff: each created,
//!   deleted, changed or moved node once, topmost, with the operation that
//!   has that effect: `create`, `delete`, `replace` (a changed leaf, a moved
//!   entry). The requested operation (merge, remove) is not what is
//!   reported; the effect is. A startup write lists no edits.
//! - `netconf-confirmed-commit`: start, extend, complete, cancel (also
//!   when the issuing session ends), timeout.
//! - `netconf-session-start` / `-end`: from the NETCONF server.
//! - `netconf-capability-change`: at start, when the capabilities differ
//!   from those of the previous run in the same data directory (a module
//!   set or a feature changed); `changed-by` is `server`.
//!
//! The config-change text is built on the producer task, off the commit
//! path; a commit never waits for it.

use std::path::Path;
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tracing::warn;

use super::Bus;
use crate::datastore::edit::Change;
use crate::datastore::{ChangeEvent, ConfirmEvent, ConfirmStep, Datastore, Datastores, Principal};
use crate::error::{xml_instance_identifier, xml_text};
use crate::schema::Schema;

pub const MODULE: &str = "ietf-netconf-notifications";
pub const NS: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications";

/// Why a NETCONF session ended (RFC 6470 `termination-reason`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    Closed,
    /// By `<kill-session>` from this session.
    Killed(u32),
    Dropped,
    Timeout,
    BadHello,
    Other,
}

impl Termination {
    pub fn name(self) -> &'static str {
        match self {
            Termination::Closed => "closed",
            Termination::Killed(_) => "killed",
            Termination::Dropped => "dropped",
            Termination::Timeout => "timeout",
            Termination::BadHello => "bad-hello",
            Termination::Other => "other",
        }
    }
}

/// `common-session-parms`.
fn session_parms(p: &Principal) -> String {
    let mut s =
        format!("<username>{}</username><session-id>{}</session-id>", xml_text(&p.user), p.session_id);
    if let Some(h) = p.source_host {
        s.push_str(&format!("<source-host>{h}</source-host>"));
    }
    s
}

fn changed_by(p: Option<&Principal>) -> String {
    match p {
        Some(p) => format!("<changed-by>{}</changed-by>", session_parms(p)),
        None => "<changed-by><server/></changed-by>".into(),
    }
}

pub fn session_start(p: &Principal) -> String {
    format!("<netconf-session-start xmlns=\"{NS}\">{}</netconf-session-start>", session_parms(p))
}

pub fn session_end(p: &Principal, why: Termination) -> String {
    let killed_by = match why {
        Termination::Killed(by) => format!("<killed-by>{by}</killed-by>"),
        _ => String::new(),
    };
    format!(
        "<netconf-session-end xmlns=\"{NS}\">{}{killed_by}<termination-reason>{}</termination-reason></netconf-session-end>",
        session_parms(p),
        why.name()
    )
}

/// `netconf-config-change` for a commit to running or a write of startup;
/// `None` for the candidate.
pub fn config_change(schema: &Schema, ev: &ChangeEvent) -> Option<String> {
    let datastore = match ev.datastore {
        Datastore::Running => "running",
        Datastore::Startup => "startup",
        _ => return None,
    };
    let mut s = String::with_capacity(128 + ev.changes.len() * 160);
    s.push_str(&format!("<netconf-config-change xmlns=\"{NS}\">"));
    s.push_str(&changed_by(ev.by.as_deref()));
    s.push_str(&format!("<datastore>{datastore}</datastore>"));
    for c in ev.changes.iter() {
        let op = match c {
            Change::Created { .. } => "create",
            Change::Deleted { .. } => "delete",
            Change::Modified { .. } | Change::Moved { .. } => "replace",
        };
        s.push_str("<edit>");
        match xml_instance_identifier(c.path(), schema) {
            Some((path, decls)) => s.push_str(&format!("<target{decls}>{}</target>", xml_text(&path))),
            // A path that cannot be written as an instance-identifier is
            // left out (RFC 6470 allows omitting the target).
            None => warn!(path = c.path(), "config-change: no XML form for the path"),
        }
        s.push_str(&format!("<operation>{op}</operation></edit>"));
    }
    s.push_str("</netconf-config-change>");
    Some(s)
}

pub fn confirmed_commit(ev: &ConfirmEvent) -> String {
    let parms = match (&ev.by, ev.step) {
        (_, ConfirmStep::Timeout) => String::new(),
        (Some(p), _) => session_parms(p),
        // A step with no known session (the server's own): session 0.
        (None, _) => "<username>occd</username><session-id>0</session-id>".into(),
    };
    let timeout = ev.timeout.map(|t| format!("<timeout>{t}</timeout>")).unwrap_or_default();
    format!(
        "<netconf-confirmed-commit xmlns=\"{NS}\">{parms}<confirm-event>{}</confirm-event>{timeout}</netconf-confirmed-commit>",
        ev.step.name()
    )
}

/// `netconf-capability-change` from the capabilities before and now;
/// `None` when they are the same. A capability whose URI before `?` is in
/// both lists but whose parameters differ is `modified`.
pub fn capability_change(before: &[String], now: &[String]) -> Option<String> {
    let base = |c: &str| c.split('?').next().unwrap_or(c).to_string();
    let before_bases: Vec<String> = before.iter().map(|c| base(c)).collect();
    let now_bases: Vec<String> = now.iter().map(|c| base(c)).collect();
    let mut added = Vec::new();
    let mut modified = Vec::new();
    for c in now {
        if before.contains(c) {
            continue;
        }
        if before_bases.contains(&base(c)) {
            modified.push(c);
        } else {
            added.push(c);
        }
    }
    let deleted: Vec<&String> =
        before.iter().filter(|c| !now.contains(c) && !now_bases.contains(&base(c))).collect();
    if added.is_empty() && deleted.is_empty() && modified.is_empty() {
        return None;
    }
    let list = |name: &str, v: &[&String]| -> String {
        v.iter().map(|c| format!("<{name}>{}</{name}>", xml_text(c))).collect()
    };
    Some(format!(
        "<netconf-capability-change xmlns=\"{NS}\">{}{}{}{}</netconf-capability-change>",
        changed_by(None),
        list("added-capability", &added),
        list("deleted-capability", &deleted),
        list("modified-capability", &modified)
    ))
}

const CAPABILITIES_FILE: &str = "capabilities";

/// Compares `caps` with the capabilities the previous run in `dir` saved,
/// publishes a capability change when they differ, and saves `caps`.
pub fn note_capabilities(bus: &Bus, dir: &Path, caps: &[String]) -> Result<(), String> {
    let path = dir.join(CAPABILITIES_FILE);
    let before: Option<Vec<String>> = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t.lines().filter(|l| !l.is_empty()).map(str::to_string).collect()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    if let Some(xml) = before.as_deref().and_then(|b| capability_change(b, caps)) {
        bus.publish(MODULE, xml);
    }
    if before.as_deref() != Some(caps) {
        let tmp = path.with_extension("tmp");
        let text: String = caps.iter().map(|c| format!("{c}\n")).collect();
        std::fs::write(&tmp, text)
            .and_then(|_| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

/// Starts the task that turns the datastore's events into RFC 6470
/// notifications on `bus`. Needs a tokio runtime; `None` outside one.
pub fn spawn(bus: Arc<Bus>, ds: &Datastores) -> Option<tokio::task::JoinHandle<()>> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    let mut changes = ds.subscribe();
    let mut confirms = ds.subscribe_confirmed();
    Some(handle.spawn(async move {
        loop {
            // Changes first: a commit's config-change is queued before the
            // confirmed-commit step it belongs to, so the two go out in
            // that order.
            tokio::select! {
                biased;
                r = changes.recv() => match r {
                    Ok(ev) => {
                        let schema = bus.schema();
                        // A big diff is rendered on a blocking thread.
                        let xml = if ev.changes.len() > 256 {
                            tokio::task::spawn_blocking(move || config_change(schema, &ev)).await.ok().flatten()
                        } else {
                            config_change(schema, &ev)
                        };
                        if let Some(xml) = xml {
                            bus.publish(MODULE, xml);
                        }
                    }
                    Err(RecvError::Lagged(n)) => {
                        warn!("{n} commits happened faster than their config-change notifications could be built; those were not sent")
                    }
                    Err(RecvError::Closed) => break,
                },
                r = confirms.recv() => match r {
                    Ok(ev) => {
                        bus.publish(MODULE, confirmed_commit(&ev));
                    }
                    Err(RecvError::Lagged(n)) => warn!("{n} confirmed-commit notifications were not sent"),
                    Err(RecvError::Closed) => break,
                },
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_changes_are_added_deleted_or_modified() {
        let s = |v: &[&str]| v.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        let before = s(&["a:1", "urn:m?module=m&revision=1", "gone"]);
        let now = s(&["a:1", "urn:m?module=m&revision=2", "new"]);
        let x = capability_change(&before, &now).unwrap();
        assert!(x.contains("<changed-by><server/></changed-by>"), "{x}");
        assert!(x.contains("<added-capability>new</added-capability>"), "{x}");
        assert!(x.contains("<deleted-capability>gone</deleted-capability>"), "{x}");
        assert!(
            x.contains("<modified-capability>urn:m?module=m&amp;revision=2</modified-capability>"),
            "{x}"
        );
        assert_eq!(capability_change(&now, &now), None);
    }
}
