//! OCC domain behaviour on the generated types (`crate::model`): the
//! service lifecycle RPCs, service orders (`orders`), the operational
//! status of interfaces, cSCs and services (`network`), OAM actions, PM
//! measurements and SLA reports (`oam`), and the notifications they raise.
//! Everything reads and writes typed values; libyang builds and checks the
//! trees.
//!
//! [`install`] registers the RPC handlers with the NETCONF server (RESTCONF
//! shares them), a commit hook and a state provider with the datastores, on
//! a network [`backend::Backend`] (the built-in simulator by default).

pub mod backend;
mod elastic;
mod fault;
pub mod lifecycle;
mod network;
mod nfv;
mod oam;
mod orders;
mod sat;
mod serviceability;

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, SystemTime};

use yang3::context::Context;
use yang3::data::DataTree;

use crate::datastore::{Datastores, Snapshot, StateProvider};
use crate::error::{Error, Errors};
use crate::model::occ_services::service_state_change::Cause;
use crate::model::occ_services::{self, activate_cloud_service, cloud_services, deactivate_cloud_service};
use crate::model::rt::{self, Document as _, Operation as _, Value as _};
use crate::model::typedefs::{DateAndTime, OccId, OperStatus, ServiceLifecycleState as State};
use crate::model::{occ_actors, occ_connections, occ_interfaces, occ_lso, occ_nfv, occ_oam, AllData};
use crate::netconf::{RpcCall, RpcHandler, Server};
use crate::notify::Bus;
use backend::Backend;
use lifecycle::Request;

/// Knobs of the domain layer (`[occ]` in the config).
#[derive(Debug, Clone)]
pub struct Options {
    /// When non-zero, PM sessions close an interval every this many
    /// seconds instead of every `measurement-interval` minutes.
    pub pm_interval_seconds: u32,
    /// Simulated fulfilment time of one order item.
    pub order_step: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { pm_interval_seconds: 0, order_step: Duration::from_millis(200) }
    }
}

/// What the domain keeps about a service beyond its configuration.
#[derive(Debug, Clone)]
struct Record {
    state: State,
    activated_at: Option<DateAndTime>,
    history: Vec<cloud_services::service::state::History>,
}

impl Default for Record {
    fn default() -> Self {
        Record { state: lifecycle::INITIAL, activated_at: None, history: Vec::new() }
    }
}

/// The domain layer of one server.
pub struct Domain {
    ctx: &'static Context,
    ds: Datastores,
    bus: Arc<Bus>,
    backend: Arc<dyn Backend>,
    opts: Options,
    services: Mutex<HashMap<String, Record>>,
    net: Mutex<network::Observed>,
    pm: Mutex<oam::PmState>,
    orders: Mutex<HashMap<String, orders::Order>>,
    order_cv: Condvar,
    vnfs: Mutex<HashMap<String, nfv::VnfRecord>>,
    /// When each actor created while the server runs was created.
    actors_created: Mutex<HashMap<String, DateAndTime>>,
    /// Jobs waiting for their time (scheduled activations, rate changes).
    pending: std::sync::atomic::AtomicUsize,
}

/// Scheduled jobs one server keeps waiting at most.
const MAX_PENDING: usize = 1024;

/// Whether the schema has the OCC modules the domain layer serves.
pub fn available(ctx: &Context) -> bool {
    ["occ-interfaces", "occ-services", "occ-connections", "occ-oam", "occ-lso"]
        .iter()
        .all(|m| ctx.get_module_implemented(m).is_some())
}

/// Registers the OCC RPCs, actions and state with `server`, with the
/// default [`Options`].
pub fn install(server: &Arc<Server>, backend: Arc<dyn Backend>) -> Arc<Domain> {
    install_with(server, backend, Options::default())
}

/// Registers the OCC RPCs, actions, commit hook and state with `server`,
/// and starts the PM clock.
pub fn install_with(server: &Arc<Server>, backend: Arc<dyn Backend>, opts: Options) -> Arc<Domain> {
    let d = Arc::new(Domain {
        ctx: server.schema().context(),
        ds: server.ds.clone(),
        bus: server.bus.clone(),
        backend,
        opts,
        services: Mutex::default(),
        net: Mutex::default(),
        pm: Mutex::default(),
        orders: Mutex::default(),
        order_cv: Condvar::new(),
        pending: Default::default(),
        vnfs: Mutex::default(),
        actors_created: Mutex::default(),
    });
    let ops = [
        (occ_services::NAMESPACE, "activate-cloud-service", Op::Activate),
        (occ_services::NAMESPACE, "deactivate-cloud-service", Op::Deactivate),
        (occ_oam::NAMESPACE, "loopback", Op::Loopback),
        (occ_oam::NAMESPACE, "linktrace", Op::Linktrace),
        (occ_oam::NAMESPACE, "compute-sla-report", Op::SlaReport),
        (occ_lso::NAMESPACE, "submit-service-order", Op::Submit),
        (occ_lso::NAMESPACE, "cancel-service-order", Op::Cancel),
        (occ_lso::NAMESPACE, "hold", Op::Hold),
        (occ_lso::NAMESPACE, "resume", Op::Resume),
        (occ_interfaces::NAMESPACE, "reset-counters", Op::ResetCounters),
        (occ_connections::NAMESPACE, "modify-bandwidth", Op::ModifyBandwidth),
        (occ_oam::NAMESPACE, "run-activation-test", Op::ActivationTest),
        (occ_lso::NAMESPACE, "check-serviceability", Op::Serviceability),
        (occ_nfv::NAMESPACE, "scale", Op::Scale),
        (occ_nfv::NAMESPACE, "heal", Op::Heal),
    ];
    for (ns, name, op) in ops {
        server.register_rpc(ns, name, Arc::new(Handler { d: d.clone(), op }));
    }
    server.ds.add_state_provider(d.clone());
    server.ds.add_hook(Arc::new(network::Commits(d.clone())));
    d.restore_records();
    d.refresh(&d.ds.running(), network::Scope { all: true, ..Default::default() });
    if let Err(e) = d.vnfs_at_start(d.ds.running().tree()) {
        tracing::warn!("OCC VNFs: {e}");
    }
    start_clock(Arc::downgrade(&d));
    listen(&d);
    d
}

/// Hands the backend a channel for its [`backend::Event`]s and handles
/// them on a thread while the domain lives.
fn listen(d: &Arc<Domain>) {
    let (tx, rx) = std::sync::mpsc::channel();
    d.backend.listen(tx);
    let weak = Arc::downgrade(d);
    let spawned = std::thread::Builder::new().name("occ-events".into()).spawn(move || loop {
        match rx.recv_timeout(Duration::from_secs(1)) {
            Ok(event) => match weak.upgrade() {
                Some(d) => d.on_event(event),
                None => return,
            },
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) if weak.strong_count() > 0 => {}
            Err(_) => return,
        }
    });
    if let Err(e) = spawned {
        tracing::warn!("OCC backend events not handled: {e}");
    }
}

/// Checks closed PM intervals once a second (or each interval, when
/// shorter) while the domain lives.
fn start_clock(d: Weak<Domain>) {
    let tick = match d.upgrade().map(|d| d.opts.pm_interval_seconds) {
        Some(s) if s > 0 => Duration::from_millis(u64::from(s) * 500).min(Duration::from_secs(1)),
        _ => Duration::from_secs(1),
    };
    let spawned = std::thread::Builder::new().name("occ-pm".into()).spawn(move || loop {
        std::thread::sleep(tick);
        let Some(d) = d.upgrade() else { return };
        d.pm_tick();
    });
    if let Err(e) = spawned {
        tracing::warn!("OCC PM clock not started: {e}");
    }
}

#[derive(Clone, Copy)]
enum Op {
    Activate,
    Deactivate,
    Loopback,
    Linktrace,
    SlaReport,
    Submit,
    Cancel,
    Hold,
    Resume,
    ResetCounters,
    ModifyBandwidth,
    ActivationTest,
    Serviceability,
    Scale,
    Heal,
}

struct Handler {
    d: Arc<Domain>,
    op: Op,
}

impl RpcHandler for Handler {
    fn call(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        match self.op {
            Op::Activate => self.d.activate(call),
            Op::Deactivate => self.d.deactivate(call),
            Op::Loopback => self.d.loopback(call),
            Op::Linktrace => self.d.linktrace(call),
            Op::SlaReport => self.d.sla_report(call),
            Op::Submit => self.d.submit_order(call),
            Op::Cancel => self.d.cancel_order(call),
            Op::Hold => self.d.hold_order(call, true),
            Op::Resume => self.d.hold_order(call, false),
            Op::ResetCounters => self.d.reset_counters(call),
            Op::ModifyBandwidth => self.d.modify_bandwidth(call),
            Op::ActivationTest => self.d.activation_test(call),
            Op::Serviceability => self.d.check_serviceability(call),
            Op::Scale => self.d.scale_vnf(call),
            Op::Heal => self.d.heal_vnf(call),
        }
    }
}

fn now() -> DateAndTime {
    DateAndTime(crate::notify::event_time(SystemTime::now()))
}

/// A typed value the server could not convert: the input was checked by
/// libyang already, so this is the server's fault.
fn internal(e: rt::Error) -> Errors {
    Errors::from(Error::operation_failed(format!("{}: {}", e.path, e.message)))
}

/// The file beside the datastores that keeps the services' lifecycle.
const RECORDS_FILE: &str = "occ-services-state.json";

impl Domain {
    /// Writes every service's lifecycle state, activation time and history
    /// (as the `state` of occ-services, RFC 7951 JSON) beside the
    /// datastores: written to a temporary file, synced, renamed.
    fn save_records(&self, records: &HashMap<String, Record>) {
        let mut data = occ_services::Data::default();
        for (id, r) in records {
            let mut entry = cloud_services::Service::new(OccId(id.clone()));
            entry.state.lifecycle_state = Some(r.state);
            entry.state.activated_at = r.activated_at.clone();
            entry.state.history = r.history.clone();
            data.cloud_services.service.insert(OccId(id.clone()), entry);
        }
        let path = self.ds.data_dir().join(RECORDS_FILE);
        let tmp = path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            use std::io::Write as _;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(data.to_json().to_string().as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &path)
        };
        if let Err(e) = write() {
            tracing::warn!("OCC: cannot save the services' lifecycle to {}: {e}", path.display());
        }
    }

    /// Reads the saved lifecycle of the services still configured, and
    /// sets up again in the backend the cSCs of the active ones.
    fn restore_records(&self) {
        let path = self.ds.data_dir().join(RECORDS_FILE);
        let Ok(text) = std::fs::read_to_string(&path) else { return };
        let saved = match serde_json::from_str(&text)
            .map_err(|e| e.to_string())
            .and_then(|v| occ_services::Data::from_json(&v).map_err(|e| e.to_string()))
        {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!("OCC: {} is unreadable ({e}); services start designed", path.display());
                return;
            }
        };
        let running = self.ds.running();
        let mut records = self.records();
        for (id, s) in saved.cloud_services.service {
            let Ok(svc) = Self::service(&running, &id) else { continue };
            let state = s.state.lifecycle_state.unwrap_or(lifecycle::INITIAL);
            if state == State::Active {
                for c in &svc.csc {
                    let path = occ_connections::connections().csc(c.clone());
                    let csc = occ_connections::Data::from_tree_at(running.tree(), &path.0)
                        .ok()
                        .and_then(|d| d.connections.csc.get(c).cloned());
                    if let Some(Err(why)) = csc.map(|csc| self.backend.activate_csc(&csc)) {
                        tracing::warn!("OCC: cSC {} of active service {} not set up again: {why}", c.0, id.0);
                    }
                }
            }
            records
                .insert(id.0, Record { state, activated_at: s.state.activated_at, history: s.state.history });
        }
    }

    /// Runs `job` at `when` on a thread of its own (while the domain
    /// lives); refused with `resource-denied` when too many wait.
    fn schedule(
        self: &Arc<Self>,
        when: SystemTime,
        job: impl FnOnce(&Domain) + Send + 'static,
    ) -> Result<(), Errors> {
        use std::sync::atomic::Ordering::SeqCst;
        if self.pending.fetch_add(1, SeqCst) >= MAX_PENDING {
            self.pending.fetch_sub(1, SeqCst);
            return Err(Errors::from(Error::resource_denied(format!(
                "{MAX_PENDING} scheduled changes are waiting already"
            ))));
        }
        let weak = Arc::downgrade(self);
        let spawned = std::thread::Builder::new().name("occ-scheduled".into()).spawn(move || loop {
            let left = when.duration_since(SystemTime::now()).unwrap_or_default();
            std::thread::sleep(left.min(Duration::from_secs(1)));
            let Some(d) = weak.upgrade() else { return };
            if left <= Duration::from_secs(1) {
                d.pending.fetch_sub(1, SeqCst);
                job(&d);
                return;
            }
        });
        spawned.map(|_| ()).map_err(|e| {
            self.pending.fetch_sub(1, SeqCst);
            Errors::from(Error::resource_denied(format!("cannot schedule: {e}")))
        })
    }

    fn records(&self) -> MutexGuard<'_, HashMap<String, Record>> {
        self.services.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn observed(&self) -> MutexGuard<'_, network::Observed> {
        self.net.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A service's lifecycle state.
    fn lifecycle(&self, id: &OccId) -> State {
        self.records().get(&id.0).map_or(lifecycle::INITIAL, |r| r.state)
    }

    /// Sends a notification built by the generated types.
    fn announce(&self, what: &str, xml: Result<String, rt::Error>) {
        match xml {
            Ok(xml) => {
                if let Err(e) = self.bus.send(&xml) {
                    tracing::warn!("{what}: {e}");
                }
            }
            Err(e) => tracing::warn!("{what}: {e}"),
        }
    }

    /// A service's configuration in `running`.
    fn service(running: &Snapshot, id: &OccId) -> Result<cloud_services::Service, Errors> {
        let path = occ_services::cloud_services().service(id.clone());
        let data = occ_services::Data::from_tree_at(running.tree(), &path.0).map_err(internal)?;
        data.cloud_services.service.get(id).cloned().ok_or_else(|| {
            Errors::from(
                Error::operation_failed(format!("service {} does not exist", id.0))
                    .with_app_tag("service-not-found")
                    .with_path(path.0),
            )
        })
    }

    /// The services on cSC `csc` (an XPath lookup, not a scan) and the SLA
    /// profiles.
    fn services_on(running: &Snapshot, csc: &OccId) -> Result<occ_services::Data, rt::Error> {
        use cloud_services::{Service, SlaProfiles};
        let xpath = format!("{}[csc='{}'] | {}", Service::SCHEMA_PATH, csc.0, SlaProfiles::SCHEMA_PATH);
        occ_services::Data::from_tree_at(running.tree(), &xpath)
    }

    fn refused(id: &OccId, from: State, what: &str) -> Errors {
        Errors::from(
            Error::operation_failed(format!("service {} is {}: it cannot be {what}", id.0, from.to_text()))
                .with_app_tag("invalid-state-transition")
                .with_path(occ_services::cloud_services().service(id.clone()).0),
        )
    }

    /// Records a transition and announces it (`service-state-change`).
    fn transition(
        &self,
        records: &mut HashMap<String, Record>,
        id: &OccId,
        from: State,
        to: State,
        cause: Cause,
    ) {
        let at = now();
        let r = records.entry(id.0.clone()).or_default();
        r.state = to;
        if to == State::Active {
            r.activated_at = Some(at.clone());
        }
        r.history.push(cloud_services::service::state::History {
            at: Some(at.clone()),
            from: Some(from),
            to: Some(to),
        });
        self.save_records(records);
        let n = occ_services::ServiceStateChange {
            service_id: Some(id.clone()),
            from: Some(from),
            to: Some(to),
            cause: Some(cause),
            at: Some(at),
        };
        self.announce("service-state-change", n.to_xml(self.ctx, ""));
    }

    /// Activates service `id` (or only checks that it could be, `dry_run`):
    /// its lifecycle state afterwards.
    fn activate_service(&self, id: &OccId, dry_run: bool, cause: Cause) -> Result<State, Errors> {
        let running = self.ds.running();
        let svc = Self::service(&running, id)?;
        let mut records = self.records();
        let from = records.get(&id.0).map_or(lifecycle::INITIAL, |r| r.state);
        let to =
            lifecycle::next(from, Request::Activate).ok_or_else(|| Self::refused(id, from, "activated"))?;
        if to == from || dry_run {
            return Ok(from);
        }
        // Every cSC of the service must be carried by the network; a
        // refusal releases the ones this request set up.
        let mut done: Vec<&OccId> = Vec::new();
        for c in &svc.csc {
            let path = occ_connections::connections().csc(c.clone());
            let data = occ_connections::Data::from_tree_at(running.tree(), &path.0).map_err(internal)?;
            let Some(csc) = data.connections.csc.get(c) else { continue };
            let was_up = self.backend.csc_set_up(&c.0);
            if let Err(why) = self.backend.activate_csc(csc) {
                for d in done {
                    self.backend.deactivate_csc(&d.0);
                }
                return Err(Errors::from(
                    Error::operation_failed(format!("cSC {} cannot be activated: {why}", c.0))
                        .with_app_tag("csc-not-operational")
                        .with_path(path.0),
                ));
            }
            if !was_up {
                done.push(c);
            }
        }
        self.transition(&mut records, id, from, to, cause);
        drop(records);
        self.refresh(&running, network::Scope::cscs(&svc.csc));
        Ok(to)
    }

    /// Suspends or terminates service `id`: its lifecycle state afterwards.
    fn deactivate_service(&self, id: &OccId, req: Request, cause: Cause) -> Result<State, Errors> {
        let running = self.ds.running();
        let svc = Self::service(&running, id)?;
        let what = if req == Request::Terminate { "terminated" } else { "suspended" };
        let mut records = self.records();
        let from = records.get(&id.0).map_or(lifecycle::INITIAL, |r| r.state);
        let to = lifecycle::next(from, req).ok_or_else(|| Self::refused(id, from, what))?;
        if to == from {
            return Ok(to);
        }
        if from == State::Active {
            // A cSC shared with another active service stays up.
            let mut release = Vec::new();
            for c in &svc.csc {
                let on = Self::services_on(&running, c).map_err(internal)?;
                let shared = on.cloud_services.service.keys().any(|other| {
                    other != id && records.get(&other.0).is_some_and(|r| r.state == State::Active)
                });
                if !shared {
                    release.push(c);
                }
            }
            for c in release {
                self.backend.deactivate_csc(&c.0);
            }
        }
        self.transition(&mut records, id, from, to, cause);
        drop(records);
        self.refresh(&running, network::Scope::cscs(&svc.csc));
        Ok(to)
    }

    fn activate(self: &Arc<Self>, call: &RpcCall<'_>) -> Result<String, Errors> {
        use crate::model::typedefs::TimeOrNow;
        let mut input = activate_cloud_service::Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        let id = input.service_id.ok_or_else(|| Errors::from(Error::missing_element("service-id")))?;
        let when = match &input.at {
            Some(TimeOrNow::DateAndTime(t)) => crate::notify::parse_date_time(&t.0),
            _ => None,
        };
        let dry_run = input.dry_run.is_some();
        let mut out = activate_cloud_service::Output::default();
        match when.filter(|w| *w > SystemTime::now() + Duration::from_secs(1)) {
            // A later activation: checked now, done at its time (cause
            // `schedule`); the job id names it in logs.
            Some(when) if !dry_run => {
                out.lifecycle_state = Some(self.activate_service(&id, true, Cause::Schedule)?);
                let job = format!(
                    "activate-{}-{}",
                    id.0,
                    input.at.as_ref().map(|a| a.to_text()).unwrap_or_default()
                );
                let (sid, name) = (id.clone(), job.clone());
                self.schedule(when, move |d| {
                    if let Err(e) = d.activate_service(&sid, false, Cause::Schedule) {
                        tracing::warn!("scheduled activation {name} failed: {e:?}");
                    }
                })?;
                out.job_id = Some(job);
            }
            _ => out.lifecycle_state = Some(self.activate_service(&id, dry_run, Cause::OperatorRequest)?),
        }
        out.reply_xml(self.ctx, call.input, Some(self.ds.running().tree())).map_err(internal)
    }

    fn deactivate(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        use deactivate_cloud_service::input::Mode;
        let mut input = deactivate_cloud_service::Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        let id = input.service_id.ok_or_else(|| Errors::from(Error::missing_element("service-id")))?;
        let req = match input.mode {
            Some(Mode::Terminate) => Request::Terminate,
            _ => Request::Suspend,
        };
        let state = self.deactivate_service(&id, req, Cause::OperatorRequest)?;
        let out = deactivate_cloud_service::Output { lifecycle_state: Some(state) };
        out.reply_xml(self.ctx, call.input, Some(self.ds.running().tree())).map_err(internal)
    }

    /// The `state` of every configured service.
    fn services_state(&self, running: &Snapshot) -> Result<occ_services::Data, rt::Error> {
        use cloud_services::Service;
        let xpath = format!("{} | {}", Service::PATH_SERVICE_ID, Service::PATH_CSC);
        let config = occ_services::Data::from_tree_at(running.tree(), &xpath)?;
        let records = self.records();
        let mut out = occ_services::Data::default();
        for (id, svc) in &config.cloud_services.service {
            let r = records.get(&id.0).cloned().unwrap_or_default();
            let cscs: Vec<OperStatus> = svc.csc.iter().map(|c| self.csc_oper(&c.0)).collect();
            let oper = if r.state != State::Active || cscs.contains(&OperStatus::Down) {
                OperStatus::Down
            } else if cscs.iter().all(|s| *s == OperStatus::Up) {
                OperStatus::Up
            } else {
                OperStatus::Degraded
            };
            let mut entry = Service::new(id.clone());
            entry.state = cloud_services::service::State {
                lifecycle_state: Some(r.state),
                oper_status: Some(oper),
                activated_at: r.activated_at,
                history: r.history,
            };
            out.cloud_services.service.insert(id.clone(), entry);
        }
        Ok(out)
    }
}

impl Domain {
    /// Each actor's `service-summary` (the services it consumes as cSU and
    /// provides as cSP) and, for actors created while the server ran, when.
    fn actors_state(&self, running: &Snapshot) -> Result<occ_actors::Data, rt::Error> {
        use cloud_services::Service;
        use occ_actors::actors::Actor;
        let actors = occ_actors::Data::from_tree_at(running.tree(), Actor::PATH_ACTOR_ID)?;
        if actors.actors.actor.is_empty() {
            return Ok(occ_actors::Data::default());
        }
        let xpath = format!("{} | {} | {}", Service::PATH_SERVICE_ID, Service::PATH_CSU, Service::PATH_CSP);
        let services = occ_services::Data::from_tree_at(running.tree(), &xpath)?;
        let mut counts: HashMap<&str, (u32, u32)> = HashMap::new();
        for s in services.cloud_services.service.values() {
            if let Some(c) = &s.csu {
                counts.entry(c.0.as_str()).or_default().0 += 1;
            }
            if let Some(p) = &s.csp {
                counts.entry(p.0.as_str()).or_default().1 += 1;
            }
        }
        let created = self.actors_created.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = occ_actors::Data::default();
        for id in actors.actors.actor.keys() {
            let (consumed, provided) = counts.get(id.0.as_str()).copied().unwrap_or_default();
            let mut a = Actor::new(id.clone());
            a.occ_services_service_summary.services_consumed = Some(consumed);
            a.occ_services_service_summary.services_provided = Some(provided);
            a.state.created = created.get(&id.0).cloned();
            out.actors.actor.insert(id.clone(), a);
        }
        Ok(out)
    }

    /// An actor entry was created (`true`) or deleted in running.
    pub(super) fn actor_changed(&self, id: &str, created: bool) {
        let mut map = self.actors_created.lock().unwrap_or_else(|e| e.into_inner());
        if created {
            map.insert(id.to_string(), now());
        } else {
            map.remove(id);
        }
    }
}

impl StateProvider for Domain {
    fn name(&self) -> &str {
        "occ"
    }

    fn state(&self, ctx: &'static Context) -> Result<Option<DataTree<'static>>, Error> {
        let failed = |e: rt::Error| Error::operation_failed(format!("OCC state: {e}"));
        let running = self.ds.running();
        let mut oam = self.pm_state_data(&running).map_err(failed)?;
        self.meps_state(running.tree(), &mut oam).map_err(failed)?;
        let all = AllData {
            occ_services: self.services_state(&running).map_err(failed)?,
            occ_actors: self.actors_state(&running).map_err(failed)?,
            occ_interfaces: self.interfaces_state(&running).map_err(failed)?,
            occ_connections: self.cscs_state(&running).map_err(failed)?,
            occ_oam: oam,
            occ_lso: self.orders_state(&running).map_err(failed)?,
            occ_nfv: self.vnfs_state(running.tree()).map_err(failed)?,
            ..Default::default()
        };
        if all.occ_services.cloud_services.service.is_empty()
            && all.occ_interfaces.interfaces.interface.is_empty()
            && all.occ_connections.connections.csc.is_empty()
            && all.occ_oam.oam.pm_session.is_empty()
            && all.occ_oam.oam.meg.is_empty()
            && all.occ_lso.lso.service_order.is_empty()
            && all.occ_nfv.nfv.vnf.is_empty()
            && all.occ_actors.actors.actor.is_empty()
        {
            return Ok(None);
        }
        all.to_tree(ctx).map(Some).map_err(failed)
    }
}
