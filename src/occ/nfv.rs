//! VNF lifecycle (ETSI NFV-SOL style, as occ-nfv declares it): a VNF
//! configured in running is instantiated and started by the backend
//! (`vnf-lifecycle-change` with operation `instantiate`); the `scale` and
//! `heal` actions go to the backend and report their outcome the same way.
//!
//! Scale levels are kept per VNF and aspect, from 0 (as instantiated) to
//! [`MAX_SCALE_LEVEL`]; scaling outside that range is refused
//! (`accepted false`) and changes nothing.

use std::collections::HashMap;

use crate::error::Errors;
use crate::model::identities::VnfLcmOperation;
use crate::model::occ_nfv::nfv::vnf::{self, heal, scale, VnfLifecycleChange};
use crate::model::occ_nfv::{self, nfv::Vnf};
use crate::model::rt::{self, Document as _, Operation as _};
use crate::model::typedefs::OccId;
use crate::netconf::RpcCall;

use super::{internal, now, Domain};

/// Highest scale level of an aspect.
pub(super) const MAX_SCALE_LEVEL: i32 = 10;

/// What the domain keeps about an instantiated VNF.
#[derive(Debug, Clone, Default)]
pub(super) struct VnfRecord {
    started: bool,
    levels: HashMap<String, i32>,
}

impl Domain {
    fn vnf_records(&self) -> std::sync::MutexGuard<'_, HashMap<String, VnfRecord>> {
        self.vnfs.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn vnf_changed(&self, id: &str, op: VnfLcmOperation, ok: bool) {
        use vnf::vnf_lifecycle_change::Result2;
        let n = VnfLifecycleChange {
            operation: Some(op),
            result: Some(if ok { Result2::Success } else { Result2::Failure }),
            at: Some(now()),
        };
        self.announce("vnf-lifecycle-change", n.to_xml(self.ctx, &occ_nfv::nfv().vnf(OccId(id.into())).0));
    }

    /// A VNF entry was created in running (`announce`: tell subscribers;
    /// not for the VNFs found at start).
    pub(super) fn vnf_created(&self, id: &str, announce: bool) {
        let ok = self.backend.vnf_operation(id, &VnfLcmOperation::Instantiate, "").is_ok();
        if ok {
            self.vnf_records().insert(id.to_string(), VnfRecord { started: true, ..VnfRecord::default() });
        }
        if announce {
            self.vnf_changed(id, VnfLcmOperation::Instantiate, ok);
        }
    }

    /// A VNF entry was deleted from running: the backend terminates it.
    pub(super) fn vnf_deleted(&self, id: &str) {
        if self.vnf_records().remove(id).is_some() {
            let _ = self.backend.vnf_operation(id, &VnfLcmOperation::Terminate, "");
        }
    }

    /// Instantiates the VNFs configured at start.
    pub(super) fn vnfs_at_start(&self, tree: &yang3::data::DataTree<'_>) -> Result<(), rt::Error> {
        let data = occ_nfv::Data::from_tree_at(tree, Vnf::PATH_VNF_ID)?;
        for id in data.nfv.vnf.keys() {
            self.vnf_created(&id.0, false);
        }
        Ok(())
    }

    /// `scale` on a VNF.
    pub(super) fn scale_vnf(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        let mut input = scale::Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        let at = scale::Parents::from_tree(call.input).map_err(internal)?;
        let aspect = input.aspect.clone().unwrap_or_default();
        let steps = i32::from(input.steps.unwrap_or(1));
        let delta = if input.direction == Some(scale::input::Direction::In) { -steps } else { steps };
        let accepted = {
            let mut records = self.vnf_records();
            match records.get_mut(&at.vnf.0) {
                Some(r) => {
                    let level = r.levels.get(&aspect).copied().unwrap_or(0) + delta;
                    let detail = format!("{aspect} to level {level}");
                    let ok = (0..=MAX_SCALE_LEVEL).contains(&level)
                        && self.backend.vnf_operation(&at.vnf.0, &VnfLcmOperation::Scale, &detail).is_ok();
                    if ok {
                        r.levels.insert(aspect, level);
                    }
                    Some(ok)
                }
                None => None,
            }
        };
        if let Some(ok) = accepted {
            self.vnf_changed(&at.vnf.0, VnfLcmOperation::Scale, ok);
        }
        let out = scale::Output { accepted: Some(accepted == Some(true)) };
        out.reply_xml(self.ctx, call.input, Some(self.ds.running().tree())).map_err(internal)
    }

    /// `heal` on a VNF: the backend restarts it.
    pub(super) fn heal_vnf(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        let input = heal::Input::from_tree(call.input).map_err(internal)?;
        let at = heal::Parents::from_tree(call.input).map_err(internal)?;
        let known = self.vnf_records().contains_key(&at.vnf.0);
        let cause = input.cause.unwrap_or_default();
        let ok = known && self.backend.vnf_operation(&at.vnf.0, &VnfLcmOperation::Heal, &cause).is_ok();
        if ok {
            if let Some(r) = self.vnf_records().get_mut(&at.vnf.0) {
                r.started = true;
            }
        }
        if known {
            self.vnf_changed(&at.vnf.0, VnfLcmOperation::Heal, ok);
        }
        let out = heal::Output { accepted: Some(ok) };
        out.reply_xml(self.ctx, call.input, Some(self.ds.running().tree())).map_err(internal)
    }

    /// The `state` of every configured VNF.
    pub(super) fn vnfs_state(&self, tree: &yang3::data::DataTree<'_>) -> Result<occ_nfv::Data, rt::Error> {
        use vnf::state::{InstantiationState, VnfState};
        let config = occ_nfv::Data::from_tree_at(tree, Vnf::PATH_VNF_ID)?;
        let records = self.vnf_records();
        let mut out = occ_nfv::Data::default();
        for id in config.nfv.vnf.keys() {
            let mut v = Vnf::new(id.clone());
            let r = records.get(&id.0);
            v.state.instantiation_state = Some(if r.is_some() {
                InstantiationState::Instantiated
            } else {
                InstantiationState::NotInstantiated
            });
            v.state.vnf_state = r.map(|r| if r.started { VnfState::Started } else { VnfState::Stopped });
            out.nfv.vnf.insert(id.clone(), v);
        }
        Ok(out)
    }
}
