//! Elastic bandwidth (MEF 47): the `modify-bandwidth` action of a cSC
//! changes the committed rate of one endpoint's cSCTP in running, now or
//! at a later time, within the cSCTP's `elastic` limits.
//!
//! The change is a commit of running like any other, made on behalf of the
//! session that invoked the action (its locks apply), so every rule of the
//! modules is checked; a change the modules or the elastic limits refuse
//! answers `accepted false` with the reason, and changes nothing.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use crate::datastore::edit::DefaultOperation;
use crate::datastore::store::SessionId;
use crate::datastore::{Datastore, TestOption};
use crate::error::{ErrorTag, Errors};
use crate::model::occ_connections::connections::csc::modify_bandwidth::{Input, Output, Parents};
use crate::model::occ_interfaces::interfaces::interface::occ_connections_csctps::csctp::{
    ingress_bwp_granularity::{per_tp::IngressBwp, PerTp},
    IngressBwpGranularity,
};
use crate::model::occ_interfaces::interfaces::interface::occ_connections_csctps::Csctp;
use crate::model::occ_interfaces::interfaces::Interface;
use crate::model::occ_interfaces::{self, interfaces};
use crate::model::rt::{Document as _, Operation as _};
use crate::model::typedefs::{BitRate, OccId, TimeOrNow};
use crate::netconf::RpcCall;

use super::{internal, Domain};

/// A requested rate change: the endpoint and the new CIR.
#[derive(Debug, Clone)]
struct Change {
    interface: OccId,
    csctp: OccId,
    cir: BitRate,
}

/// A cSCTP's single ingress bandwidth profile (none when it has one per
/// class of service, or none at all).
pub(super) fn ingress_bwp(tp: &Csctp) -> Option<&IngressBwp> {
    match &tp.ingress_bwp_granularity {
        Some(IngressBwpGranularity::PerTp(PerTp { ingress_bwp: Some(b) })) => Some(b),
        _ => None,
    }
}

/// The committed rate of a cSCTP's single ingress profile, if set.
pub(super) fn ingress_cir(tp: &Csctp) -> Option<u64> {
    ingress_bwp(tp)?.cir.as_ref().map(|c| c.0)
}

fn refused(reason: impl Into<String>) -> Output {
    Output { accepted: Some(false), reason: Some(reason.into()) }
}

impl Domain {
    /// `modify-bandwidth` on a cSC.
    pub(super) fn modify_bandwidth(self: &Arc<Self>, call: &RpcCall<'_>) -> Result<String, Errors> {
        let mut input = Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        let at = Parents::from_tree(call.input).map_err(internal)?;
        let out = self.try_modify_bandwidth(call.session, &at.csc, input)?;
        out.reply_xml(self.ctx, call.input, Some(self.ds.running().tree())).map_err(internal)
    }

    fn try_modify_bandwidth(
        self: &Arc<Self>,
        session: SessionId,
        csc: &OccId,
        input: Input,
    ) -> Result<Output, Errors> {
        let (Some(interface), Some(csctp), Some(cir)) = (input.interface, input.csctp, input.new_cir) else {
            return Ok(refused("interface, csctp and new-cir are required"));
        };
        let running = self.ds.running();
        // The endpoint must be one of this cSC's, with an elastic profile.
        let path = interfaces().interface(interface.clone()).occ_connections_csctps().csctp(csctp.clone()).0;
        let data = occ_interfaces::Data::from_tree_at(running.tree(), &path).map_err(internal)?;
        let tp = data
            .interfaces
            .interface
            .get(&interface)
            .and_then(|i| i.occ_connections_csctps.csctp.get(&csctp))
            .filter(|tp| tp.csc.as_ref() == Some(csc));
        let Some(tp) = tp else {
            return Ok(refused(format!("{}/{} is not an endpoint of cSC {}", interface.0, csctp.0, csc.0)));
        };
        let Some(bwp) = ingress_bwp(tp) else {
            return Ok(refused("the cSCTP has no single ingress bandwidth profile to change"));
        };
        let Some(elastic) = &bwp.elastic else {
            return Ok(refused("the cSCTP's ingress bandwidth profile is not elastic"));
        };
        if elastic.cir_ceiling.as_ref().is_some_and(|c| cir.0 > c.0) {
            return Ok(refused(format!(
                "new-cir {} is above the cir-ceiling {}",
                cir.0,
                elastic.cir_ceiling.as_ref().map_or(0, |c| c.0)
            )));
        }
        let lead = Duration::from_secs(u64::from(elastic.min_change_lead_time.unwrap_or(0)));
        let asked = SystemTime::now();
        let when = match &input.effective_at {
            Some(TimeOrNow::DateAndTime(t)) => {
                crate::notify::parse_date_time(&t.0).unwrap_or(asked).max(asked)
            }
            _ => asked,
        };
        if when < asked + lead {
            return Ok(refused(format!(
                "the change needs {} s notice (min-change-lead-time)",
                lead.as_secs()
            )));
        }
        let change = Change { interface, csctp, cir };
        if when <= asked + Duration::from_millis(500) {
            return self.commit_rate(session, &change, TestOption::TestThenSet);
        }
        // Checked now against today's configuration, applied later.
        let checked = self.commit_rate(session, &change, TestOption::TestOnly)?;
        if checked.accepted == Some(false) {
            return Ok(checked);
        }
        self.schedule(when, move |d| {
            if let Ok(Output { accepted: Some(false), reason, .. }) =
                d.commit_rate(session, &change, TestOption::TestThenSet)
            {
                tracing::warn!(
                    "scheduled modify-bandwidth of {}/{}: {reason:?}",
                    change.interface.0,
                    change.csctp.0
                );
            }
        })?;
        Ok(Output { accepted: Some(true), reason: None })
    }

    /// The edit that sets the cSCTP's committed rate.
    fn rate_edit(&self, c: &Change) -> Result<yang3::data::DataTree<'static>, Errors> {
        let mut tp = Csctp::new(c.csctp.clone());
        tp.ingress_bwp_granularity = Some(IngressBwpGranularity::PerTp(PerTp {
            ingress_bwp: Some(IngressBwp { cir: Some(c.cir.clone()), ..IngressBwp::default() }),
        }));
        let mut iface = Interface::new(c.interface.clone());
        iface.occ_connections_csctps.csctp.insert(c.csctp.clone(), tp);
        let mut data = occ_interfaces::Data::default();
        data.interfaces.interface.insert(c.interface.clone(), iface);
        data.to_tree(self.ctx).map_err(internal)
    }

    /// Commits the change (or only checks it, `TestOnly`): `accepted
    /// false` with the first error's message when the modules refuse it;
    /// protocol errors (a lock held by another session, say) as errors.
    fn commit_rate(&self, session: SessionId, c: &Change, test: TestOption) -> Result<Output, Errors> {
        let edit = self.rate_edit(c)?;
        match self.ds.edit(session, Datastore::Running, edit, DefaultOperation::Merge, test) {
            Ok(_) => Ok(Output { accepted: Some(true), reason: None }),
            Err(e) if e.0.iter().any(|e| matches!(e.tag, ErrorTag::LockDenied | ErrorTag::InUse)) => Err(e),
            Err(e) => {
                let why = e.0.first().and_then(|e| e.message.clone()).unwrap_or_else(|| "refused".into());
                Ok(refused(why))
            }
        }
    }
}
