//! Service activation testing (MEF 48, ITU-T Y.1564): the
//! `run-activation-test` RPC ramps the offered load on a cSC up to its
//! committed rate in `ramp-steps` steps, then runs the performance test at
//! that rate, each step measured by the backend and judged against the
//! SLA objectives of the services on the cSC.
//!
//! The committed rate is the smallest ingress CIR of the cSC's endpoints
//! (their interface speed where none is set). A step passes when every
//! delay and loss objective of the SLA profiles of the services on the cSC
//! (limited to `cos` when given) is met, or, with no such objective, when
//! loss stays at or below 1e-3 and delay at or below 10 ms. The test runs
//! in simulated time: the reply comes at once. A cSC that is not set up,
//! or with a link down, gives `inconclusive`.

use crate::error::{Error, Errors};
use crate::model::occ_connections::{self, connections::Csc};
use crate::model::occ_interfaces::{self, interfaces};
use crate::model::occ_oam::oam::pm_session::results::Interval;
use crate::model::occ_oam::run_activation_test::{output, Input, Output};
use crate::model::rt::{Decimal64, Document as _, Operation as _};
use crate::model::typedefs::{BitRate, LossRatio, OccId};
use crate::netconf::RpcCall;

use super::elastic::ingress_cir;
use super::oam::{failed, met, metric_value, target};
use super::{internal, Domain};

/// Loss and delay limits of a step when no SLA objective applies.
const DEFAULT_FLR: f64 = 1e-3;
const DEFAULT_FD_MS: f64 = 10.0;

impl Domain {
    /// The committed rate the test ramps to.
    fn committed_rate(running: &crate::datastore::Snapshot, c: &Csc) -> Result<u64, Errors> {
        let mut rate = u64::MAX;
        for ep in c.endpoint.values() {
            let path = interfaces().interface(ep.interface.clone()).0;
            let data = occ_interfaces::Data::from_tree_at(running.tree(), &path).map_err(internal)?;
            let Some(i) = data.interfaces.interface.get(&ep.interface) else { continue };
            let cir = i.occ_connections_csctps.csctp.get(&ep.csctp).and_then(ingress_cir);
            if let Some(r) = cir.filter(|r| *r > 0).or(i.speed.as_ref().map(|s| s.0)) {
                rate = rate.min(r);
            }
        }
        Ok(if rate == u64::MAX { 0 } else { rate })
    }

    /// `run-activation-test`.
    pub(super) fn activation_test(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        use output::Verdict;
        let mut input = Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        let id = input.csc_id.clone().ok_or_else(|| Errors::from(Error::missing_element("csc-id")))?;
        let running = self.ds.running();
        let path = occ_connections::connections().csc(id.clone()).0;
        let data = occ_connections::Data::from_tree_at(running.tree(), &path).map_err(internal)?;
        let Some(c) = data.connections.csc.get(&id) else {
            return Err(failed(format!("cSC {} does not exist", id.0), "csc-not-found", path));
        };
        let cir = Self::committed_rate(&running, c)?;
        let objectives = self.test_objectives(&running, &id, &input)?;
        let ramp = input.ramp_steps.unwrap_or(4).max(1);
        let perf_s = u32::from(input.performance_minutes.unwrap_or(15)) * 60;
        let mut out = Output { verdict: Some(Verdict::Pass), ..Output::default() };
        // Configuration test: 1/n .. n/n of the CIR, a minute each; then
        // the performance test at the CIR.
        for k in 1..=ramp.saturating_add(1) {
            let (offered, secs) =
                if k <= ramp { (cir / u64::from(ramp) * u64::from(k), 60) } else { (cir, perf_s) };
            let Some((flr, fd_us)) = self.backend.activation_step(&id.0, k, offered, secs) else {
                out.verdict = Some(Verdict::Inconclusive);
                break;
            };
            let iv = Interval {
                fd_avg_us: Some(fd_us),
                flr: Some(LossRatio(Decimal64((flr * 1e9).round() as i64))),
                ..Interval::new(0u32)
            };
            let pass = if objectives.is_empty() {
                flr <= DEFAULT_FLR && f64::from(fd_us) / 1000.0 <= DEFAULT_FD_MS
            } else {
                objectives
                    .iter()
                    .all(|o| metric_value(&iv, &o.metric).is_none_or(|v| target(o).is_none_or(|g| met(v, g))))
            };
            if !pass {
                out.verdict = Some(Verdict::Fail);
            }
            let mut step = output::Step::new(k);
            step.offered_rate = Some(BitRate(offered));
            step.flr = iv.flr.clone();
            step.fd_avg_us = Some(fd_us);
            step.pass = Some(pass);
            out.step.insert(k, step);
        }
        out.reply_xml(self.ctx, call.input, Some(running.tree())).map_err(internal)
    }

    /// The delay and loss objectives of the SLA profiles of the services
    /// on cSC `id`, for the classes of service tested.
    fn test_objectives(
        &self,
        running: &crate::datastore::Snapshot,
        id: &OccId,
        input: &Input,
    ) -> Result<Vec<crate::model::occ_services::cloud_services::sla_profiles::sla_profile::Objective>, Errors>
    {
        let on = Self::services_on(running, id).map_err(internal)?;
        let profiles = &on.cloud_services.sla_profiles.sla_profile;
        let mut out = Vec::new();
        for svc in on.cloud_services.service.values() {
            let Some(p) = svc.sla_profile.as_ref().and_then(|p| profiles.get(p)) else { continue };
            for o in p.objective.values() {
                if input.cos.is_empty() || input.cos.contains(&o.cos) {
                    out.push(o.clone());
                }
            }
        }
        Ok(out)
    }
}
