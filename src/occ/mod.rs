//! OCC domain behaviour on the generated types (`crate::model`): the
//! service lifecycle RPCs, the OAM loopback action, the services'
//! operational state, and the notifications they raise. Everything reads
//! and writes typed values; libyang builds and checks the trees.
//!
//! [`install`] registers the RPC handlers with the NETCONF server (RESTCONF
//! shares them) and a state provider with the datastores, on a network
//! [`backend::Backend`] (the built-in simulator by default).

pub mod backend;
pub mod lifecycle;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use yang3::context::Context;
use yang3::data::DataTree;

use crate::datastore::{Datastores, Snapshot, StateProvider};
use crate::error::{Error, Errors};
use crate::model::occ_oam::oam::meg::mep::loopback;
use crate::model::occ_services::{self, activate_cloud_service, cloud_services, deactivate_cloud_service};
use crate::model::rt::{self, Document as _, Operation as _, Value as _};
use crate::model::typedefs::{DateAndTime, OccId, OperStatus, ServiceLifecycleState as State};
use crate::model::{occ_connections, occ_oam, AllData};
use crate::netconf::{RpcCall, RpcHandler, Server};
use crate::notify::Bus;
use backend::Backend;
use lifecycle::Request;

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
    services: Mutex<HashMap<String, Record>>,
}

/// Whether the schema has the OCC modules the domain layer serves.
pub fn available(ctx: &Context) -> bool {
    ["occ-services", "occ-connections", "occ-oam"].iter().all(|m| ctx.get_module_implemented(m).is_some())
}

/// Registers the OCC RPCs, actions and state with `server`.
pub fn install(server: &Arc<Server>, backend: Arc<dyn Backend>) -> Arc<Domain> {
    let d = Arc::new(Domain {
        ctx: server.schema().context(),
        ds: server.ds.clone(),
        bus: server.bus.clone(),
        backend,
        services: Mutex::default(),
    });
    let services_ns = occ_services::NAMESPACE;
    for (name, op) in [("activate-cloud-service", Op::Activate), ("deactivate-cloud-service", Op::Deactivate)]
    {
        server.register_rpc(services_ns, name, Arc::new(Handler { d: d.clone(), op }));
    }
    server.register_rpc(occ_oam::NAMESPACE, "loopback", Arc::new(Handler { d: d.clone(), op: Op::Loopback }));
    server.ds.add_state_provider(d.clone());
    d
}

#[derive(Clone, Copy)]
enum Op {
    Activate,
    Deactivate,
    Loopback,
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

impl Domain {
    fn records(&self) -> MutexGuard<'_, HashMap<String, Record>> {
        self.services.lock().unwrap_or_else(|e| e.into_inner())
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

    fn refused(id: &OccId, from: State, what: &str) -> Errors {
        Errors::from(
            Error::operation_failed(format!("service {} is {}: it cannot be {what}", id.0, from.to_text()))
                .with_app_tag("invalid-state-transition")
                .with_path(occ_services::cloud_services().service(id.clone()).0),
        )
    }

    /// Records a transition and announces it (`service-state-change`).
    fn transition(&self, records: &mut HashMap<String, Record>, id: &OccId, from: State, to: State) {
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
        let n = occ_services::ServiceStateChange {
            service_id: Some(id.clone()),
            from: Some(from),
            to: Some(to),
            cause: Some(occ_services::service_state_change::Cause::OperatorRequest),
            at: Some(at),
        };
        match n.to_xml(self.ctx, "") {
            Ok(xml) => {
                if let Err(e) = self.bus.send(&xml) {
                    tracing::warn!("service-state-change of {}: {e}", id.0);
                }
            }
            Err(e) => tracing::warn!("service-state-change of {}: {e}", id.0),
        }
    }

    fn activate(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        let mut input = activate_cloud_service::Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        if input.at.as_ref().is_some_and(|at| at.to_text() != "now") {
            return Err(Errors::from(Error::operation_not_supported(
                "activation at a later time (scheduled-activation) is not implemented; use at=now",
            )));
        }
        let id = input.service_id.ok_or_else(|| Errors::from(Error::missing_element("service-id")))?;
        let running = self.ds.running();
        let svc = Self::service(&running, &id)?;
        let mut records = self.records();
        let from = records.get(&id.0).map_or(lifecycle::INITIAL, |r| r.state);
        let to =
            lifecycle::next(from, Request::Activate).ok_or_else(|| Self::refused(&id, from, "activated"))?;
        let state = if to == from || input.dry_run.is_some() {
            from
        } else {
            // Every cSC of the service must be carried by the network; a
            // refusal releases the ones this request set up.
            let mut done: Vec<&OccId> = Vec::new();
            for c in &svc.csc {
                let path = occ_connections::connections().csc(c.clone());
                let data = occ_connections::Data::from_tree_at(running.tree(), &path.0).map_err(internal)?;
                let Some(csc) = data.connections.csc.get(c) else { continue };
                let was_up = self.backend.csc_oper_status(&c.0) == OperStatus::Up;
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
            self.transition(&mut records, &id, from, to);
            to
        };
        let out = activate_cloud_service::Output { lifecycle_state: Some(state), job_id: None };
        out.reply_xml(self.ctx, call.input, Some(running.tree())).map_err(internal)
    }

    fn deactivate(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        use deactivate_cloud_service::input::Mode;
        let mut input = deactivate_cloud_service::Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        let id = input.service_id.ok_or_else(|| Errors::from(Error::missing_element("service-id")))?;
        let running = self.ds.running();
        let svc = Self::service(&running, &id)?;
        let (req, what) = match input.mode {
            Some(Mode::Terminate) => (Request::Terminate, "terminated"),
            _ => (Request::Suspend, "suspended"),
        };
        let mut records = self.records();
        let from = records.get(&id.0).map_or(lifecycle::INITIAL, |r| r.state);
        let to = lifecycle::next(from, req).ok_or_else(|| Self::refused(&id, from, what))?;
        if to != from {
            if from == State::Active {
                for c in &svc.csc {
                    self.backend.deactivate_csc(&c.0);
                }
            }
            self.transition(&mut records, &id, from, to);
        }
        let out = deactivate_cloud_service::Output { lifecycle_state: Some(to) };
        out.reply_xml(self.ctx, call.input, Some(running.tree())).map_err(internal)
    }

    fn loopback(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        let mut input = loopback::Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        let at = loopback::Parents::from_tree(call.input).map_err(internal)?;
        let out = self.backend.loopback(&at.meg.0, at.mep.0, &input);
        let running = self.ds.running();
        out.reply_xml(self.ctx, call.input, Some(running.tree())).map_err(internal)
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
            let carried = svc.csc.iter().all(|c| self.backend.csc_oper_status(&c.0) == OperStatus::Up);
            let oper = if r.state == State::Active && carried { OperStatus::Up } else { OperStatus::Down };
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

impl StateProvider for Domain {
    fn name(&self) -> &str {
        "occ"
    }

    fn state(&self, ctx: &'static Context) -> Result<Option<DataTree<'static>>, Error> {
        let failed = |e: rt::Error| Error::operation_failed(format!("OCC state: {e}"));
        let running = self.ds.running();
        let data = self.services_state(&running).map_err(failed)?;
        if data.cloud_services.service.is_empty() {
            return Ok(None);
        }
        let all = AllData { occ_services: data, ..Default::default() };
        all.to_tree(ctx).map(Some).map_err(failed)
    }
}
