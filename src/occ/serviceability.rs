//! The `check-serviceability` RPC (a Sonata "POQ"-like feasibility check):
//! can a cSU get a service of a category, at its sites, at a committed
//! rate, and from which cSPs.
//!
//! Each site interface must be a cSUI of the cSU, up, with room for the
//! committed rate: its speed minus the ingress CIRs of its cSCTPs. Every
//! cloud service provider makes an offer whose `max-rate` is the smallest
//! room of the sites (its rate is at least the one asked for); lead time
//! is 0 days for a cSP the cSU already subscribes to, 10 for a new
//! relationship. `feasible` is true when the cSU is a cloud service user,
//! every site qualifies and some cSP offers.

use crate::error::{Error, Errors};
use crate::model::identities::{ActorRole, InterfaceKind};
use crate::model::occ_actors::{self, actors::relationship::Kind};
use crate::model::occ_interfaces::{self, interfaces};
use crate::model::occ_lso::check_serviceability::{output::Offer, Input, Output};
use crate::model::rt::{Document as _, Operation as _, Value as _};
use crate::model::typedefs::{BitRate, OperStatus};
use crate::netconf::RpcCall;

use super::elastic::ingress_cir;
use super::{internal, Domain};

/// Lead time of an offer from a cSP the cSU has no subscription with.
const NEW_RELATIONSHIP_DAYS: u16 = 10;

impl Domain {
    /// `check-serviceability`.
    pub(super) fn check_serviceability(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        let input = Input::from_tree(call.input).map_err(internal)?;
        let csu = input.csu.clone().ok_or_else(|| Errors::from(Error::missing_element("csu")))?;
        let category =
            input.category.clone().ok_or_else(|| Errors::from(Error::missing_element("category")))?;
        let running = self.ds.running();
        let actors = occ_actors::Data::from_tree_at(running.tree(), occ_actors::actors().0.as_str())
            .map_err(internal)?
            .actors;
        let is_csu = actors.actor.get(&csu).is_some_and(|a| a.role.contains(&ActorRole::CloudServiceUser));
        let wanted = input.committed_rate.as_ref().map_or(0, |r| r.0);
        // Room left on each site: speed minus the committed rates on it.
        let mut room = u64::MAX;
        let mut sites_ok = true;
        for site in &input.site_interface {
            let path = interfaces().interface(site.clone()).0;
            let data = occ_interfaces::Data::from_tree_at(running.tree(), &path).map_err(internal)?;
            let Some(i) = data.interfaces.interface.get(site) else {
                sites_ok = false;
                continue;
            };
            let committed: u64 = i.occ_connections_csctps.csctp.values().filter_map(ingress_cir).sum();
            let free = i.speed.as_ref().map_or(0, |s| s.0).saturating_sub(committed);
            let of_csu = i.kind == Some(InterfaceKind::Csui)
                && [&i.side_a.actor, &i.side_b.actor].iter().any(|a| a.as_ref() == Some(&csu));
            let up = self.interface_oper(&self.observed(), &site.0) == OperStatus::Up;
            sites_ok &= of_csu && up && free >= wanted;
            room = room.min(free);
        }
        let mut out = Output::default();
        if is_csu {
            for (id, a) in &actors.actor {
                if !a.role.contains(&ActorRole::CloudServiceProvider) || room < wanted {
                    continue;
                }
                let subscribed = actors.relationship.values().any(|r| {
                    r.kind == Some(Kind::Subscription)
                        && r.supplier.as_ref() == Some(id)
                        && r.customer.as_ref() == Some(&csu)
                });
                let offer_id =
                    format!("{}-{}", id.0, category.to_text().rsplit(':').next().unwrap_or_default());
                let offer = Offer {
                    offer_id: offer_id.clone(),
                    category: Some(category.clone()),
                    max_rate: (room != u64::MAX).then_some(BitRate(room)),
                    lead_time_days: Some(if subscribed { 0 } else { NEW_RELATIONSHIP_DAYS }),
                };
                out.offer.insert(offer_id, offer);
            }
        }
        out.feasible = Some(is_csu && sites_ok && !out.offer.is_empty());
        out.reply_xml(self.ctx, call.input, Some(running.tree())).map_err(internal)
    }
}
