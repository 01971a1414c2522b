//! Fault management of MEPs (IEEE 802.1Q CFM / ITU-T Y.1731 continuity
//! checks, as the domain derives them): each MEP's remote MEPs and defect
//! set, recomputed for the MEGs a refresh touches and announced with
//! `mep-defect` when the set changes.
//!
//! A MEP of a MEG on a cSC that is not set up checks nothing (its remote
//! MEPs are `idle`); otherwise a remote MEP is `ok` while the interfaces of
//! both MEPs and of every MIP between them are up, else `failed`
//! (`remote-cc-loss`). A MEP whose own interface is down has `mac-status`.
//! RDI, error-CC and cross-connect need CCM contents the domain does not
//! model; they are never raised.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::model::occ_oam::oam::meg::mep::state::{remote_mep::Status, RemoteMep};
use crate::model::occ_oam::oam::meg::Mep;
use crate::model::occ_oam::oam::Meg;
use crate::model::occ_oam::{self, MepDefect};
use crate::model::rt::{self, Document as _, Operation as _};
use crate::model::typedefs::{AdminState, DateAndTime, DefectKind, FaultDefects, MepId, OccId, OperStatus};

use super::network::Observed;
use super::{now, Domain};

/// One MEP as last computed.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct MepSeen {
    defects: FaultDefects,
    /// Remote MEPs: status, and when CCMs last arrived (`None` while they
    /// do, or never did).
    remote: BTreeMap<u16, (Status, Option<DateAndTime>)>,
}

/// The MEPs of every MEG, and which MEGs depend on what.
#[derive(Debug, Default)]
pub(super) struct Faults {
    meps: HashMap<String, BTreeMap<u16, MepSeen>>,
    /// MEGs by the objects they depend on (`csc:ID`, `if:NAME`).
    by: HashMap<String, HashSet<String>>,
    /// The keys each MEG is indexed under.
    keys: HashMap<String, Vec<String>>,
}

impl Faults {
    /// The MEGs that depend on object `key` (`csc:ID`, `if:NAME`).
    pub fn megs_on(&self, key: &str) -> impl Iterator<Item = &String> {
        self.by.get(key).into_iter().flatten()
    }

    fn unindex(&mut self, meg: &str) {
        for k in self.keys.remove(meg).unwrap_or_default() {
            if let Some(set) = self.by.get_mut(&k) {
                set.remove(meg);
                if set.is_empty() {
                    self.by.remove(&k);
                }
            }
        }
    }

    fn index(&mut self, meg: &str, keys: Vec<String>) {
        for k in &keys {
            self.by.entry(k.clone()).or_default().insert(meg.to_string());
        }
        self.keys.insert(meg.to_string(), keys);
    }
}

/// The highest-priority defect of a set (802.1Q order).
fn highest(d: &FaultDefects) -> DefectKind {
    if d.cross_connect {
        DefectKind::CrossConnect
    } else if d.error_cc {
        DefectKind::ErrorCc
    } else if d.remote_cc_loss {
        DefectKind::RemoteCcLoss
    } else if d.mac_status {
        DefectKind::MacStatus
    } else if d.rdi {
        DefectKind::Rdi
    } else {
        DefectKind::None
    }
}

fn checks(p: &Mep) -> bool {
    p.cc_enabled != Some(false) && p.admin_state != Some(AdminState::Locked)
}

fn interface(p: &Mep) -> &str {
    p.interface.as_ref().map_or("", |i| i.0.as_str())
}

impl Domain {
    /// Recomputes the MEGs named, and those on the interfaces and cSCs
    /// given (all of them when `all`), announcing changed defect sets.
    pub(super) fn refresh_megs(
        &self,
        obs: &mut Observed,
        tree: &yang3::data::DataTree<'_>,
        all: bool,
        mut named: HashSet<String>,
        ifaces: &HashSet<String>,
        cscs: &HashSet<String>,
    ) -> Result<(), rt::Error> {
        for i in ifaces {
            named.extend(obs.faults.megs_on(&format!("if:{i}")).cloned());
        }
        for c in cscs {
            named.extend(obs.faults.megs_on(&format!("csc:{c}")).cloned());
        }
        let megs = super::network::entries(
            tree,
            all.then_some(Meg::SCHEMA_PATH),
            &named,
            |k| occ_oam::oam().meg(k).0,
            |d: occ_oam::Data| d.oam.meg,
        )?;
        for (id, cfg) in megs {
            obs.faults.unindex(&id);
            let old = obs.faults.meps.remove(&id).unwrap_or_default();
            let Some(m) = cfg else { continue };
            // The MIPs: where the segments of a monitored cSC meet.
            let mut mips = Vec::new();
            let mut keys: Vec<String> = m.mep.values().map(|p| format!("if:{}", interface(p))).collect();
            let mut set_up = true;
            if let Some((csc, key, _)) = Self::monitored(Some(&m)) {
                keys.push(key);
                if let Some(c) = csc {
                    set_up = obs.csc_set_up(&c.0);
                    mips = Self::mips(tree, &c)?;
                }
            }
            keys.extend(mips.iter().map(|i| format!("if:{i}")));
            keys.sort();
            keys.dedup();
            obs.faults.index(&id, keys);
            let up = |i: &str| self.interface_oper(obs, i) == OperStatus::Up;
            let mips_up = mips.iter().all(|i| up(i));
            let mut new = BTreeMap::new();
            for p in m.mep.values() {
                let was = old.get(&p.mep_id.0).cloned().unwrap_or_default();
                let mut seen = MepSeen::default();
                let cc = set_up && checks(p);
                seen.defects.mac_status = set_up && !up(interface(p));
                for r in m.mep.values().filter(|r| r.mep_id != p.mep_id) {
                    let last = was.remote.get(&r.mep_id.0);
                    let entry = if !cc {
                        (Status::Idle, last.and_then(|l| l.1.clone()))
                    } else if up(interface(p)) && mips_up && up(interface(r)) && checks(r) {
                        (Status::Ok, None)
                    } else {
                        // CCMs stopped now, or earlier.
                        let since = match last {
                            Some((Status::Ok, _)) => Some(now()),
                            Some((_, t)) => t.clone(),
                            None => None,
                        };
                        (Status::Failed, since)
                    };
                    seen.defects.remote_cc_loss |= entry.0 == Status::Failed;
                    seen.remote.insert(r.mep_id.0, entry);
                }
                if seen.defects != was.defects {
                    let n = MepDefect {
                        meg_id: Some(OccId(id.clone())),
                        mep_id: Some(p.mep_id.clone()),
                        defects: Some(seen.defects),
                        highest_defect: Some(highest(&seen.defects)),
                        at: Some(now()),
                    };
                    self.announce("mep-defect", n.to_xml(self.ctx, ""));
                }
                new.insert(p.mep_id.0, seen);
            }
            obs.faults.meps.insert(id, new);
        }
        Ok(())
    }

    /// The `state` of every MEP configured in `tree`, into `out`.
    pub(super) fn meps_state(
        &self,
        tree: &yang3::data::DataTree<'_>,
        out: &mut occ_oam::Data,
    ) -> Result<(), rt::Error> {
        let xpath = format!("{} | {}", Meg::PATH_MEG_ID, Mep::PATH_MEP_ID);
        let config = occ_oam::Data::from_tree_at(tree, &xpath)?;
        let obs = self.observed();
        let at = now();
        for (id, m) in &config.oam.meg {
            let Some(seen) = obs.faults.meps.get(&id.0) else { continue };
            let entry = out.oam.meg.entry(id.clone()).or_insert_with(|| Meg::new(id.clone()));
            for mep_id in m.mep.keys() {
                let Some(s) = seen.get(&mep_id.0) else { continue };
                let mut p = Mep::new(mep_id.clone());
                p.state.defects = Some(s.defects);
                p.state.highest_defect = Some(highest(&s.defects));
                for (r, (status, last)) in &s.remote {
                    let mut rm = RemoteMep::new(MepId(*r));
                    rm.status = Some(*status);
                    rm.last_cc_at = if *status == Status::Ok { Some(at.clone()) } else { last.clone() };
                    p.state.remote_mep.insert(MepId(*r), rm);
                }
                entry.mep.insert(mep_id.clone(), p);
            }
        }
        Ok(())
    }

    /// The number of MEGs on cSC `csc` (or its segments).
    pub(super) fn megs_on_csc(obs: &Observed, csc: &str) -> u32 {
        u32::try_from(obs.faults.megs_on(&format!("csc:{csc}")).count()).unwrap_or(u32::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highest_defect_follows_priority() {
        let mut d = FaultDefects::default();
        assert_eq!(highest(&d), DefectKind::None);
        d.mac_status = true;
        assert_eq!(highest(&d), DefectKind::MacStatus);
        d.remote_cc_loss = true;
        assert_eq!(highest(&d), DefectKind::RemoteCcLoss);
    }

    #[test]
    fn index_follows_megs() {
        let mut f = Faults::default();
        f.index("m1", vec!["csc:a".into(), "if:x".into()]);
        f.index("m2", vec!["if:x".into()]);
        assert_eq!(f.megs_on("if:x").count(), 2);
        f.unindex("m1");
        assert_eq!(f.megs_on("csc:a").count(), 0);
        assert_eq!(f.megs_on("if:x").collect::<Vec<_>>(), vec!["m2"]);
    }
}
