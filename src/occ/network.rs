//! Operational status of interfaces and cSCs: derived from their
//! admin-state and from the backend, recomputed for what each commit or
//! lifecycle request touched, announced when it changes
//! (`interface-oper-status-change`, `csc-oper-status-change`), and kept as
//! a timeline the PM measurements read.

use std::collections::{HashMap, HashSet};
use std::time::SystemTime;

use crate::datastore::edit::Change;
use crate::datastore::{CommitView, Hook, Snapshot};
use crate::model::identities::InterfaceKind;
use crate::model::occ_connections::connections;
use crate::model::occ_connections::connections::{csc, Csc};
use crate::model::occ_interfaces::interfaces;
use crate::model::occ_interfaces::interfaces::{interface, Interface};
use crate::model::occ_interfaces::{self, InterfaceOperStatusChange};
use crate::model::rt::{self, Document as _, Operation as _};
use crate::model::typedefs::{AdminState, Counter64, DateAndTime, OccId, OperStatus};
use crate::model::{occ_connections, occ_oam};

use super::backend::Event;
use super::{now, Domain};

/// What one cSC looked like when last computed.
#[derive(Debug, Clone)]
struct CscSeen {
    oper: OperStatus,
    since: DateAndTime,
    set_up: bool,
    /// Set up in the network at some time.
    ever_set_up: bool,
    /// (interface, csctp) of every endpoint.
    endpoints: Vec<(String, String)>,
    up_endpoints: u32,
}

/// How a monitored object spent a stretch of time, for PM intervals.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// Not set up (a cSC of no active service): excluded from SLAs.
    OutOfService,
    Up,
    Down,
}

/// The domain's view of the network.
#[derive(Debug, Default)]
pub(super) struct Observed {
    ifaces: HashMap<String, (OperStatus, DateAndTime)>,
    cscs: HashMap<String, CscSeen>,
    /// The cSCs with an endpoint on each interface.
    by_iface: HashMap<String, HashSet<String>>,
    /// Phase changes per object (`csc:ID`, `if:NAME`), oldest first.
    timeline: HashMap<String, Vec<(SystemTime, Phase)>>,
    /// MEP status.
    pub faults: super::fault::Faults,
}

/// The objects a refresh recomputes.
#[derive(Debug, Default)]
pub(super) struct Scope {
    pub all: bool,
    pub ifaces: HashSet<String>,
    pub cscs: HashSet<String>,
    pub megs: HashSet<String>,
}

impl Scope {
    pub fn cscs<'a>(ids: impl IntoIterator<Item = &'a OccId>) -> Scope {
        Scope { cscs: ids.into_iter().map(|c| c.0.clone()).collect(), ..Scope::default() }
    }
}

/// The key of the first list entry below `prefix` (`prefix[k='v']…`), or
/// `None` when `path` does not name one.
pub(super) fn entry_key(path: &str, prefix: &str) -> Option<String> {
    let rest = path.strip_prefix(prefix)?.strip_prefix('[')?;
    let (_, value) = rest.split_once('=')?;
    let quote = value.chars().next().filter(|q| *q == '\'' || *q == '"')?;
    let value = &value[1..];
    Some(value[..value.find(quote)?].to_string())
}

/// Whether `path` names a whole entry of the list at `prefix` (its key
/// predicates and nothing below them).
pub(super) fn is_entry(path: &str, prefix: &str) -> bool {
    let Some(rest) = path.strip_prefix(prefix) else { return false };
    let mut quote = None;
    for c in rest.chars() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '/') => return false,
            _ => {}
        }
    }
    rest.starts_with('[')
}

/// The key of the entry of the list at `list` a change creates (`true`)
/// or deletes (`false`) whole; `None` for any other change.
fn whole_entry(ch: &Change, list: &str) -> Option<(String, bool)> {
    let created = match ch {
        Change::Created { .. } => true,
        Change::Deleted { .. } => false,
        _ => return None,
    };
    let path = ch.path();
    entry_key(path, list).filter(|_| is_entry(path, list)).map(|k| (k, created))
}

impl Observed {
    /// Whether cSC `id` was set up in the network when last computed.
    pub fn csc_set_up(&self, id: &str) -> bool {
        self.cscs.get(id).is_some_and(|s| s.set_up)
    }

    /// Seconds of `key`'s time in `[from, to)` spent out of service and
    /// down. Before its first recorded change an object is `before`.
    pub fn phases(&self, key: &str, before: Phase, from: SystemTime, to: SystemTime) -> (u32, u32) {
        let changes = self.timeline.get(key).map(Vec::as_slice).unwrap_or_default();
        let (mut out, mut down) = (0f64, 0f64);
        let mut phase = before;
        let mut at = from;
        let mut tally = |phase: Phase, a: SystemTime, b: SystemTime| {
            let secs = b.duration_since(a).map(|d| d.as_secs_f64()).unwrap_or(0.0);
            match phase {
                Phase::OutOfService => out += secs,
                Phase::Down => down += secs,
                Phase::Up => {}
            }
        };
        for &(t, p) in changes {
            if t <= from {
                phase = p;
                continue;
            }
            if t >= to {
                break;
            }
            tally(phase, at, t);
            phase = p;
            at = t;
        }
        tally(phase, at, to);
        (out.round() as u32, down.round() as u32)
    }

    fn record(&mut self, key: String, phase: Phase) {
        let line = self.timeline.entry(key).or_default();
        if line.last().map(|(_, p)| *p) != Some(phase) {
            line.push((SystemTime::now(), phase));
            // Bounded: a day of changes every second is more than PM reads.
            if line.len() > 100_000 {
                line.drain(..50_000);
            }
        }
    }
}

/// Entries of one list keyed by an occ-id, each with its configuration
/// (`None`: no longer configured): every entry when `all` (the list's
/// path), else those `named`, each read through `path`.
pub(super) fn entries<D: rt::Document, T: Clone>(
    tree: &yang3::data::DataTree<'_>,
    all: Option<&str>,
    named: &HashSet<String>,
    path: impl Fn(OccId) -> String,
    list: impl Fn(D) -> rt::IndexMap<OccId, T>,
) -> Result<Vec<(String, Option<T>)>, rt::Error> {
    if let Some(all) = all {
        return Ok(list(D::from_tree_at(tree, all)?).into_iter().map(|(k, v)| (k.0, Some(v))).collect());
    }
    let mut out = Vec::new();
    for name in named {
        let key = OccId(name.clone());
        let found = list(D::from_tree_at(tree, &path(key.clone()))?).get(&key).cloned();
        out.push((name.clone(), found));
    }
    Ok(out)
}

/// A backend [`Traffic`] reading as one of the generated `counters`
/// containers (interface or cSCTP).
macro_rules! counters {
    ($ty:path, $t:expr) => {{
        let t = $t;
        let c = |v: u64| Some(Counter64(v));
        $ty {
            in_octets: c(t.in_octets),
            out_octets: c(t.out_octets),
            in_frames: c(t.in_frames),
            out_frames: c(t.out_frames),
            in_discards: c(t.in_discards),
            out_discards: c(t.out_discards),
            green_frames: c(t.green_frames),
            yellow_frames: c(t.yellow_frames),
            red_frames: c(t.red_frames),
        }
    }};
}

fn user_network(kind: Option<&InterfaceKind>) -> bool {
    matches!(kind, Some(InterfaceKind::Csui | InterfaceKind::UserNetworkKind))
}

impl Domain {
    /// An interface's oper-status now, applying its configuration to the
    /// backend first.
    fn interface_status(&self, cfg: &Interface) -> OperStatus {
        self.backend.apply_interface(cfg);
        if self.backend.interface_up(&cfg.name.0) {
            OperStatus::Up
        } else {
            OperStatus::Down
        }
    }

    /// An interface's oper-status as last computed, else as the backend
    /// sees it.
    pub(super) fn interface_oper(&self, obs: &Observed, name: &str) -> OperStatus {
        match obs.ifaces.get(name) {
            Some((s, _)) => *s,
            None if self.backend.interface_up(name) => OperStatus::Up,
            None => OperStatus::Down,
        }
    }

    /// A cSC's status from its configuration and the interfaces' status.
    fn csc_status(&self, obs: &Observed, old: Option<&CscSeen>, c: &Csc) -> CscSeen {
        let set_up = self.backend.csc_set_up(&c.csc_id.0);
        let endpoints: Vec<(String, String)> =
            c.endpoint.values().map(|e| (e.interface.0.clone(), e.csctp.0.clone())).collect();
        let up = endpoints.iter().filter(|(i, _)| self.interface_oper(obs, i) == OperStatus::Up).count();
        let n = endpoints.len();
        let oper = if !set_up || c.admin_state == Some(AdminState::Locked) {
            OperStatus::Down
        } else if up == n {
            OperStatus::Up
        } else if n > 2 && up >= 2 {
            OperStatus::Degraded
        } else {
            OperStatus::Down
        };
        let ever = old.is_some_and(|s| s.ever_set_up);
        CscSeen {
            oper,
            since: now(),
            set_up,
            ever_set_up: ever || set_up,
            endpoints,
            up_endpoints: u32::try_from(up).unwrap_or(u32::MAX),
        }
    }

    /// Recomputes the objects of `scope` (and the cSCs on recomputed
    /// interfaces) against `running`, announcing every change.
    pub(super) fn refresh(&self, running: &Snapshot, scope: Scope) {
        if let Err(e) = self.try_refresh(running, scope) {
            tracing::warn!("OCC operational state: {e}");
        }
    }

    fn try_refresh(&self, running: &Snapshot, mut scope: Scope) -> Result<(), rt::Error> {
        let tree = running.tree();
        let ifaces = entries(
            tree,
            scope.all.then_some(Interface::SCHEMA_PATH),
            &scope.ifaces,
            |k| interfaces().interface(k).0,
            |d: occ_interfaces::Data| d.interfaces.interface,
        )?;
        let mut obs = self.observed();
        let mut changed_ifaces = HashSet::new();
        for (name, cfg) in ifaces {
            let Some(cfg) = cfg else {
                obs.ifaces.remove(&name);
                changed_ifaces.insert(name);
                continue;
            };
            let admin = cfg.admin_state;
            let oper = self.interface_status(&cfg);
            let old = obs.ifaces.get(&name).map(|(s, _)| *s);
            if old != Some(oper) {
                obs.ifaces.insert(name.clone(), (oper, now()));
                obs.record(
                    format!("if:{name}"),
                    if oper == OperStatus::Up { Phase::Up } else { Phase::Down },
                );
                changed_ifaces.insert(name.clone());
            }
            if let Some(old) = old.filter(|o| *o != oper) {
                let reason = if admin == Some(AdminState::Locked) {
                    "admin-state locked"
                } else if oper == OperStatus::Up {
                    "link up"
                } else {
                    "link down"
                };
                let n = InterfaceOperStatusChange {
                    name: Some(OccId(name.clone())),
                    old_status: Some(old),
                    new_status: Some(oper),
                    reason: Some(reason.into()),
                };
                self.announce("interface-oper-status-change", n.to_xml(self.ctx, ""));
            }
        }
        // cSCs: the ones named, and the ones with an endpoint on an
        // interface that changed.
        for i in &changed_ifaces {
            scope.cscs.extend(obs.by_iface.get(i).into_iter().flatten().cloned());
        }
        let cscs =
            entries(tree, scope.all.then_some(Csc::SCHEMA_PATH), &scope.cscs, |k| connections().csc(k).0, {
                |d: occ_connections::Data| d.connections.csc
            })?;
        let mut recomputed = HashSet::new();
        for (id, cfg) in cscs {
            recomputed.insert(id.clone());
            let old = obs.cscs.remove(&id);
            if let Some(old) = &old {
                for (i, _) in &old.endpoints {
                    if let Some(set) = obs.by_iface.get_mut(i) {
                        set.remove(&id);
                    }
                }
            }
            let Some(cfg) = cfg else {
                self.backend.deactivate_csc(&id);
                continue;
            };
            let mut new = self.csc_status(&obs, old.as_ref(), &cfg);
            let phase = match (new.set_up, new.oper) {
                (false, _) => Phase::OutOfService,
                (true, OperStatus::Up | OperStatus::Degraded) => Phase::Up,
                (true, _) => Phase::Down,
            };
            obs.record(format!("csc:{id}"), phase);
            match &old {
                Some(old) if old.oper == new.oper => new.since = old.since.clone(),
                Some(old) => {
                    let n = occ_connections::CscOperStatusChange {
                        csc_id: Some(OccId(id.clone())),
                        old_status: Some(old.oper),
                        new_status: Some(new.oper),
                        affected_endpoint: cfg
                            .endpoint
                            .values()
                            .filter(|e| self.interface_oper(&obs, &e.interface.0) != OperStatus::Up)
                            .map(|e| format!("{}/{}", e.interface.0, e.csctp.0))
                            .collect(),
                    };
                    self.announce("csc-oper-status-change", n.to_xml(self.ctx, ""));
                }
                None => {}
            }
            for (i, _) in &new.endpoints {
                obs.by_iface.entry(i.clone()).or_default().insert(id.clone());
            }
            obs.cscs.insert(id, new);
        }
        let megs = std::mem::take(&mut scope.megs);
        self.refresh_megs(&mut obs, tree, scope.all, megs, &changed_ifaces, &recomputed)
    }

    /// What the backend reports on its own: a link change is recomputed
    /// like a commit touching the interface; a LAG member going down is
    /// announced (`lag-member-down`).
    pub(super) fn on_event(&self, event: Event) {
        match event {
            Event::Link { interface } => {
                let scope = Scope { ifaces: HashSet::from([interface]), ..Scope::default() };
                self.refresh(&self.ds.running(), scope);
            }
            Event::LagMember { interface, port, up: false } => {
                let n = interface::physical::LagMemberDown { port_id: Some(port) };
                let at = interfaces().interface(OccId(interface)).physical().0;
                self.announce("lag-member-down", n.to_xml(self.ctx, &at));
            }
            Event::LagMember { .. } => {}
        }
    }

    /// The oper-status of a cSC as last computed (down when never).
    pub(super) fn csc_oper(&self, id: &str) -> OperStatus {
        self.observed().cscs.get(id).map_or(OperStatus::Down, |s| s.oper)
    }

    /// The `state` of every configured interface.
    pub(super) fn interfaces_state(&self, running: &Snapshot) -> Result<occ_interfaces::Data, rt::Error> {
        use interface::occ_connections_csctps::Csctp;
        let xpath = format!("{} | {} | {}", Interface::PATH_NAME, Interface::PATH_KIND, Csctp::PATH_CSCTP_ID);
        let config = occ_interfaces::Data::from_tree_at(running.tree(), &xpath)?;
        let obs = self.observed();
        let mut out = occ_interfaces::Data::default();
        for (name, cfg) in &config.interfaces.interface {
            let mut entry = Interface::new(name.clone());
            entry.demarcation_model = Some(if user_network(cfg.kind.as_ref()) {
                interface::DemarcationModel::UniLike
            } else {
                interface::DemarcationModel::EnniLike
            });
            let (oper, since) = match obs.ifaces.get(&name.0) {
                Some((s, t)) => (*s, Some(t.clone())),
                None => (self.interface_oper(&obs, &name.0), None),
            };
            entry.state = interface::State {
                oper_status: Some(oper),
                last_change: since,
                counters: counters!(interface::state::Counters, self.backend.counters(&name.0)),
            };
            // A cSC termination point is as up as its interface.
            for id in cfg.occ_connections_csctps.csctp.keys() {
                let mut tp = Csctp::new(id.clone());
                tp.state.oper_status = Some(oper);
                tp.state.counters = counters!(
                    interface::occ_connections_csctps::csctp::state::Counters,
                    self.backend.csctp_counters(&name.0, &id.0)
                );
                entry.occ_connections_csctps.csctp.insert(id.clone(), tp);
            }
            out.interfaces.interface.insert(name.clone(), entry);
        }
        Ok(out)
    }

    /// The `state` of every configured cSC and of its endpoints.
    pub(super) fn cscs_state(&self, running: &Snapshot) -> Result<occ_connections::Data, rt::Error> {
        let xpath = format!("{} | {} | {}", Csc::PATH_CSC_ID, Csc::PATH_ENDPOINT, Csc::PATH_SEGMENT);
        let config = occ_connections::Data::from_tree_at(running.tree(), &xpath)?;
        let verdicts = self.sla_verdicts();
        let obs = self.observed();
        let mut out = occ_connections::Data::default();
        for (id, cfg) in &config.connections.csc {
            let mut entry = Csc::new(id.clone());
            for (k, ep) in &cfg.endpoint {
                let mut e = csc::Endpoint::new(ep.interface.clone(), ep.csctp.clone());
                e.state.oper_status = Some(self.interface_oper(&obs, &ep.interface.0));
                entry.endpoint.insert(k.clone(), e);
            }
            let seen = obs.cscs.get(&id.0);
            // A segment is up when the cSC is set up and both its ends'
            // interfaces are up.
            let set_up = seen.is_some_and(|s| s.set_up);
            for (k, seg) in &cfg.segment {
                let up = |i: &Option<OccId>| {
                    i.as_ref().is_some_and(|i| self.interface_oper(&obs, &i.0) == OperStatus::Up)
                };
                let mut sg = csc::Segment::new(k.clone());
                sg.state.oper_status =
                    Some(if set_up && up(&seg.a_end.interface) && up(&seg.z_end.interface) {
                        OperStatus::Up
                    } else {
                        OperStatus::Down
                    });
                entry.segment.insert(k.clone(), sg);
            }
            entry.state = csc::State {
                oper_status: Some(seen.map_or(OperStatus::Down, |s| s.oper)),
                service_state: Some(match seen {
                    Some(s) if s.set_up => csc::state::ServiceState::Active,
                    Some(s) if s.ever_set_up => csc::state::ServiceState::Inactive,
                    _ => csc::state::ServiceState::Pending,
                }),
                operational_endpoints: Some(seen.map_or(0, |s| s.up_endpoints)),
                last_change: seen.map(|s| s.since.clone()),
            };
            let a = &mut entry.occ_oam_assurance;
            a.meg_count = Some(Self::megs_on_csc(&obs, &id.0));
            let (verdict, worst) = verdicts
                .get(&id.0)
                .cloned()
                .unwrap_or((csc::occ_oam_assurance::LastSlaVerdict::NotEvaluated, None));
            a.last_sla_verdict = Some(verdict);
            a.worst_availability = worst;
            out.connections.csc.insert(id.clone(), entry);
        }
        Ok(out)
    }

    /// `reset-counters` on an interface.
    pub(super) fn reset_counters(
        &self,
        call: &crate::netconf::RpcCall<'_>,
    ) -> Result<String, crate::error::Errors> {
        use occ_interfaces::interfaces::interface::reset_counters;
        let at = reset_counters::Parents::from_tree(call.input).map_err(super::internal)?;
        self.backend.reset_counters(&at.interface.0);
        let out = reset_counters::Output { reset_at: Some(now()) };
        out.reply_xml(self.ctx, call.input, Some(self.ds.running().tree())).map_err(super::internal)
    }
}

/// The domain's part in commits: recompute what a commit of running
/// touched.
pub(super) struct Commits(pub std::sync::Arc<Domain>);

impl Hook for Commits {
    fn name(&self) -> &str {
        "occ"
    }

    fn apply(&self, view: &CommitView) {
        const IFACES: &str = "/occ-interfaces:interfaces";
        const CSCS: &str = "/occ-connections:connections";
        let oam = occ_oam::oam().0;
        let if_list = format!("{IFACES}/interface");
        let csc_list = format!("{CSCS}/csc");
        let pm_list = format!("{oam}/pm-session");
        let meg_list = format!("{oam}/meg");
        let vnf_list = format!("{}/vnf", crate::model::occ_nfv::nfv().0);
        let actor_list = format!("{}/actor", crate::model::occ_actors::actors().0);
        let mut scope = Scope::default();
        for ch in view.changes.iter() {
            let path = ch.path();
            if [IFACES, CSCS, oam.as_str(), &if_list, &csc_list, &meg_list].contains(&path) {
                scope.all = true;
            } else if let Some(k) = entry_key(path, &if_list) {
                scope.ifaces.insert(k);
            } else if let Some(k) = entry_key(path, &csc_list) {
                scope.cscs.insert(k);
            } else if let Some(k) = entry_key(path, &meg_list) {
                scope.megs.insert(k);
            }
            if let Some((k, created)) = whole_entry(ch, &vnf_list) {
                if created {
                    self.0.vnf_created(&k, true);
                } else {
                    self.0.vnf_deleted(&k);
                }
            } else if let Some((k, created)) = whole_entry(ch, &actor_list) {
                self.0.actor_changed(&k, created);
            } else if let Some((k, created)) = whole_entry(ch, &pm_list) {
                if created {
                    self.0.pm_session_created(&k);
                } else {
                    self.0.pm_session_deleted(&k);
                }
            }
        }
        if scope.all || !scope.ifaces.is_empty() || !scope.cscs.is_empty() || !scope.megs.is_empty() {
            self.0.refresh(&view.config, scope);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keys_of_change_paths() {
        let p = "/occ-interfaces:interfaces/interface";
        assert_eq!(
            entry_key("/occ-interfaces:interfaces/interface[name='a-1']/admin-state", p),
            Some("a-1".into())
        );
        assert_eq!(entry_key("/occ-interfaces:interfaces/interface[name=\"x\"]", p), Some("x".into()));
        assert_eq!(entry_key("/occ-interfaces:interfaces", p), None);
        assert_eq!(entry_key("/occ-connections:connections/csc[csc-id='c']", p), None);
        assert!(is_entry("/occ-interfaces:interfaces/interface[name='a/b']", p));
        assert!(!is_entry("/occ-interfaces:interfaces/interface[name='a']/port-id[.='x']", p));
        assert!(!is_entry("/occ-interfaces:interfaces", p));
    }

    #[test]
    fn phases_add_up() {
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1000);
        let s = |n| t0 + Duration::from_secs(n);
        let mut o = Observed::default();
        o.timeline.insert("csc:a".into(), vec![(s(10), Phase::Up), (s(40), Phase::Down), (s(70), Phase::Up)]);
        // 0..10 out of service, 40..70 down.
        assert_eq!(o.phases("csc:a", Phase::OutOfService, s(0), s(100)), (10, 30));
        assert_eq!(o.phases("csc:a", Phase::OutOfService, s(50), s(60)), (0, 10));
        assert_eq!(o.phases("csc:a", Phase::OutOfService, s(80), s(90)), (0, 0));
        assert_eq!(o.phases("if:b", Phase::Up, s(0), s(90)), (0, 0));
    }
}
