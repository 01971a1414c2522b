//! OAM and SLA: the loopback and linktrace actions, PM sessions measured by
//! the backend interval by interval, `sla-violation` and
//! `pm-threshold-crossed` when an interval closes, and the
//! `compute-sla-report` RPC.
//!
//! A PM session measures from its schedule's start (never before it was
//! configured) in intervals of its `measurement-interval` minutes, or of
//! `[occ] pm-interval-seconds` when that is set (demos and tests). An
//! interval is suspect, and left out of SLA figures, when the monitored cSC
//! was not set up for part of it (its service was not active).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, SystemTime};

use crate::datastore::Snapshot;
use crate::error::{Error, Errors};
use crate::model::identities::PmMetric;
use crate::model::occ_connections::connections::csc::occ_oam_assurance::LastSlaVerdict;
use crate::model::occ_oam::oam::meg::{self, mep, Mep};
use crate::model::occ_oam::oam::pm_session::{results::Interval, schedule};
use crate::model::occ_oam::oam::{Meg, PmSession};
use crate::model::occ_oam::{self, compute_sla_report as report, PmThresholdCrossed, SlaViolation};
use crate::model::occ_services;
use crate::model::occ_services::cloud_services::sla_profiles::sla_profile::{objective, Objective};
use crate::model::occ_services::cloud_services::sla_profiles::SlaProfile;
use crate::model::occ_services::cloud_services::SlaProfiles;
use crate::model::rt::{self, Decimal64, Document as _, Operation as _};
use crate::model::typedefs::{DateAndTime, MepId, OccId, Percent, PmMetricSet, ServiceLifecycleState};
use crate::netconf::RpcCall;
use crate::notify::{event_time, parse_date_time};

use super::backend::Hop;
use super::network::Phase;
use super::{internal, Domain};

/// Intervals a session's `results` shows, newest last.
const HISTORY: u32 = 96;
/// Intervals one report reads per session at most.
const REPORT_LIMIT: u32 = 100_000;

/// What the domain keeps about PM sessions.
#[derive(Debug, Default)]
pub(super) struct PmState {
    /// When each session was first seen configured.
    created: HashMap<String, SystemTime>,
    /// The last interval checked against the SLA and thresholds.
    evaluated: HashMap<String, u32>,
    /// (session, metric) pairs above their rising threshold.
    above: HashSet<(String, String)>,
    /// Per cSC: the verdict of the last interval checked against an SLA,
    /// and the lowest availability of an interval in service.
    verdicts: HashMap<String, (LastSlaVerdict, Option<Percent>)>,
}

/// When a session measures.
struct Timing {
    start: SystemTime,
    stop: Option<SystemTime>,
    len: u32,
}

impl Timing {
    /// Intervals closed by `now`.
    fn closed(&self, now: SystemTime) -> u32 {
        let end = self.stop.map_or(now, |s| s.min(now));
        let secs = end.duration_since(self.start).map_or(0, |d| d.as_secs());
        u32::try_from(secs / u64::from(self.len)).unwrap_or(u32::MAX)
    }

    fn bounds(&self, k: u32) -> (SystemTime, SystemTime) {
        let t0 = self.start + Duration::from_secs(u64::from(k - 1) * u64::from(self.len));
        (t0, t0 + Duration::from_secs(u64::from(self.len)))
    }
}

/// The configuration the PM code reads, from one snapshot.
struct PmConfig {
    megs: HashMap<OccId, Meg>,
    sessions: Vec<PmSession>,
}

fn dec6(x: f64) -> Decimal64<6> {
    Decimal64((x * 1e6).round() as i64)
}

fn float<const D: u8>(d: Decimal64<D>) -> f64 {
    d.0 as f64 / 10f64.powi(i32::from(D))
}

fn ms(us: Option<u32>) -> Option<f64> {
    us.map(|u| f64::from(u) / 1000.0)
}

/// Whether a session measuring `metrics` yields `m` (one-way delays are
/// estimated as half the two-way delay of a DMM session).
fn measures(metrics: &[PmMetric], m: &PmMetric) -> bool {
    metrics.contains(m)
        || (matches!(m, PmMetric::OneWayFrameDelay | PmMetric::MeanFrameDelay | PmMetric::FrameDelayRange)
            && metrics.contains(&PmMetric::TwoWayFrameDelay))
}

/// `m` in an interval, in SLA units: milliseconds, a ratio, a percentage.
pub(super) fn metric_value(iv: &Interval, m: &PmMetric) -> Option<f64> {
    match m {
        PmMetric::TwoWayFrameDelay => ms(iv.fd_avg_us),
        PmMetric::OneWayFrameDelay | PmMetric::MeanFrameDelay => ms(iv.fd_avg_us).map(|v| v / 2.0),
        PmMetric::FrameDelayRange => Some((ms(iv.fd_max_us)? - ms(iv.fd_min_us)?) / 2.0),
        PmMetric::InterFrameDelayVariation => ms(iv.ifdv_avg_us),
        PmMetric::FrameLossRatio => iv.flr.as_ref().map(|r| float(r.0)),
        PmMetric::Availability => iv.availability.as_ref().map(|a| float(a.0)),
        _ => None,
    }
}

/// An objective's target and whether higher values are better.
pub(super) fn target(o: &Objective) -> Option<(f64, bool)> {
    use objective::Target;
    match o.target.as_ref()? {
        Target::Delay(d) => Some((float(d.delay.as_ref()?.0), false)),
        Target::Ratio(r) => Some((float(r.ratio.as_ref()?.0), false)),
        Target::Availability(a) => Some((float(a.availability.as_ref()?.0), true)),
        Target::Rate(_) => None,
    }
}

pub(super) fn met(value: f64, (goal, higher_better): (f64, bool)) -> bool {
    if higher_better {
        value >= goal
    } else {
        value <= goal
    }
}

fn in_family(set: &PmMetricSet, m: &PmMetric) -> bool {
    match m {
        PmMetric::OneWayFrameDelay
        | PmMetric::TwoWayFrameDelay
        | PmMetric::MeanFrameDelay
        | PmMetric::FrameDelayRange => set.frame_delay,
        PmMetric::InterFrameDelayVariation => set.delay_variation,
        PmMetric::FrameLossRatio | PmMetric::HighLossIntervals | PmMetric::ConsecutiveHighLossIntervals => {
            set.frame_loss
        }
        PmMetric::Availability | PmMetric::GroupAvailability => set.availability,
        PmMetric::Throughput => set.throughput,
        PmMetric::AppResponseTime => set.response_time,
        _ => false,
    }
}

/// Nearest-rank percentile of `v` (sorted in place).
fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

pub(super) fn failed(msg: String, tag: &str, path: String) -> Errors {
    Errors::from(Error::operation_failed(msg).with_app_tag(tag).with_path(path))
}

impl Domain {
    fn pm_state(&self) -> std::sync::MutexGuard<'_, PmState> {
        self.pm.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Per cSC: last SLA verdict and worst availability in service.
    pub(super) fn sla_verdicts(&self) -> HashMap<String, (LastSlaVerdict, Option<Percent>)> {
        self.pm_state().verdicts.clone()
    }

    pub(super) fn pm_session_created(&self, id: &str) {
        let mut pm = self.pm_state();
        pm.created.insert(id.to_string(), SystemTime::now());
        pm.evaluated.insert(id.to_string(), 0);
    }

    pub(super) fn pm_session_deleted(&self, id: &str) {
        let mut pm = self.pm_state();
        pm.created.remove(id);
        pm.evaluated.remove(id);
        pm.above.retain(|(s, _)| s != id);
    }

    /// The PM sessions and the MEGs they use (only those: the clock reads
    /// this every tick).
    fn pm_config(running: &Snapshot) -> Result<PmConfig, rt::Error> {
        let data = occ_oam::Data::from_tree_at(running.tree(), PmSession::SCHEMA_PATH)?;
        let sessions: Vec<PmSession> = data.oam.pm_session.into_values().collect();
        let mut megs = HashMap::new();
        for id in sessions.iter().filter_map(|s| s.meg.as_ref()) {
            if !megs.contains_key(id) {
                let m = occ_oam::Data::from_tree_at(running.tree(), &occ_oam::oam().meg(id.clone()).0)?;
                megs.extend(m.oam.meg);
            }
        }
        Ok(PmConfig { megs, sessions })
    }

    fn timing(&self, pm: &mut PmState, s: &PmSession) -> Timing {
        let created = *pm.created.entry(s.session_id.0.clone()).or_insert_with(SystemTime::now);
        let start = match &s.schedule.start {
            Some(schedule::Start::Absolute(a)) => {
                a.start_at.as_ref().and_then(|t| parse_date_time(&t.0)).unwrap_or(created)
            }
            Some(schedule::Start::Relative(r)) => {
                created + Duration::from_secs(u64::from(r.start_after_s.unwrap_or(0)))
            }
            _ => created,
        }
        .max(created);
        let stop = match &s.schedule.stop {
            Some(schedule::Stop::Absolute(a)) => a.stop_at.as_ref().and_then(|t| parse_date_time(&t.0)),
            Some(schedule::Stop::Duration(d)) => {
                Some(start + Duration::from_secs(u64::from(d.duration_s.unwrap_or(0))))
            }
            _ => None,
        };
        let len = if self.opts.pm_interval_seconds > 0 {
            self.opts.pm_interval_seconds
        } else {
            u32::from(s.measurement_interval.unwrap_or(15)).max(1) * 60
        };
        Timing { start, stop, len }
    }

    /// The interfaces of the MIPs on cSC `csc`: where its segments meet
    /// (the z-end of every segment but the last), in order.
    pub(super) fn mips(tree: &yang3::data::DataTree<'_>, csc: &OccId) -> Result<Vec<String>, rt::Error> {
        let path = crate::model::occ_connections::connections().csc(csc.clone()).0;
        let data = crate::model::occ_connections::Data::from_tree_at(tree, &path)?;
        let Some(c) = data.connections.csc.get(csc) else { return Ok(Vec::new()) };
        let segs: Vec<_> = c.segment.values().collect();
        Ok(segs
            .iter()
            .take(segs.len().saturating_sub(1))
            .filter_map(|s| s.z_end.interface.as_ref().map(|i| i.0.clone()))
            .collect())
    }

    /// The cSC a MEG monitors, if any, and the timeline key of what it
    /// monitors (`csc:ID`, `if:NAME`) with its phase before any recorded
    /// change.
    pub(super) fn monitored(m: Option<&Meg>) -> Option<(Option<OccId>, String, Phase)> {
        match m?.monitored.as_ref()? {
            meg::Monitored::Csc(c) => {
                c.csc.clone().map(|c| (Some(c.clone()), format!("csc:{}", c.0), Phase::OutOfService))
            }
            meg::Monitored::Segment(s) => {
                s.seg_csc.clone().map(|c| (Some(c.clone()), format!("csc:{}", c.0), Phase::OutOfService))
            }
            meg::Monitored::Interface(i) => {
                i.interface.clone().map(|i| (None, format!("if:{}", i.0), Phase::Up))
            }
        }
    }

    /// Interval `k` of session `s`.
    fn measure(&self, s: &PmSession, t: &Timing, key: &str, before: Phase, k: u32) -> Interval {
        let (t0, t1) = t.bounds(k);
        let (out, down) = self.observed().phases(key, before, t0, t1);
        let mut iv = self.backend.pm_interval(&s.session_id.0, k, t.len, down, &s.metric);
        iv.start_time = Some(DateAndTime(event_time(t0)));
        iv.suspect = Some(out > 0);
        iv
    }

    /// The `results` of every PM session.
    pub(super) fn pm_state_data(&self, running: &Snapshot) -> Result<occ_oam::Data, rt::Error> {
        let cfg = Self::pm_config(running)?;
        let now = SystemTime::now();
        let mut out = occ_oam::Data::default();
        for s in &cfg.sessions {
            let t = self.timing(&mut self.pm_state(), s);
            let Some((_, key, before)) = Self::monitored(s.meg.as_ref().and_then(|m| cfg.megs.get(m))) else {
                continue;
            };
            let n = t.closed(now);
            let mut entry = PmSession::new(s.session_id.clone());
            for k in n.saturating_sub(HISTORY) + 1..=n {
                entry.results.interval.insert(k, self.measure(s, &t, &key, before, k));
            }
            out.oam.pm_session.insert(s.session_id.clone(), entry);
        }
        Ok(out)
    }

    /// Checks the intervals closed since the last tick against thresholds
    /// and the SLA of the active services on the monitored cSC.
    pub(super) fn pm_tick(&self) {
        if let Err(e) = self.try_pm_tick() {
            tracing::warn!("OCC PM: {e}");
        }
    }

    fn try_pm_tick(&self) -> Result<(), rt::Error> {
        let running = self.ds.running();
        let cfg = Self::pm_config(&running)?;
        if cfg.sessions.is_empty() {
            return Ok(());
        }
        let mut on_csc: HashMap<OccId, occ_services::Data> = HashMap::new();
        let now = SystemTime::now();
        for s in &cfg.sessions {
            let Some((csc, key, before)) = Self::monitored(s.meg.as_ref().and_then(|m| cfg.megs.get(m)))
            else {
                continue;
            };
            let (t, from, n) = {
                let mut pm = self.pm_state();
                let t = self.timing(&mut pm, s);
                let n = t.closed(now);
                let last = *pm.evaluated.entry(s.session_id.0.clone()).or_insert(0);
                pm.evaluated.insert(s.session_id.0.clone(), n);
                (t, last.max(n.saturating_sub(HISTORY)) + 1, n)
            };
            for k in from..=n {
                let iv = self.measure(s, &t, &key, before, k);
                self.check_thresholds(s, &iv);
                if iv.suspect != Some(true) {
                    if let Some(csc) = &csc {
                        if !on_csc.contains_key(csc) {
                            on_csc.insert(csc.clone(), Self::services_on(&running, csc)?);
                        }
                        let verdict = on_csc.get(csc).and_then(|svc| self.check_sla(svc, s, csc, &iv));
                        let mut pm = self.pm_state();
                        let v =
                            pm.verdicts.entry(csc.0.clone()).or_insert((LastSlaVerdict::NotEvaluated, None));
                        match verdict {
                            Some(true) => v.0 = LastSlaVerdict::Met,
                            Some(false) => v.0 = LastSlaVerdict::Violated,
                            None => {}
                        }
                        if let Some(a) = &iv.availability {
                            if v.1.as_ref().is_none_or(|w| a.0 .0 < w.0 .0) {
                                v.1 = Some(a.clone());
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn check_thresholds(&self, s: &PmSession, iv: &Interval) {
        use occ_oam::pm_threshold_crossed::Direction;
        for th in s.threshold.values() {
            let Some(v) = metric_value(iv, &th.metric) else { continue };
            let id = (s.session_id.0.clone(), rt::Value::to_text(&th.metric));
            let was_above = self.pm_state().above.contains(&id);
            let dir = match (th.rising, th.falling) {
                (Some(r), _) if !was_above && v >= float(r) => Direction::Rising,
                (_, Some(f)) if was_above && v <= float(f) => Direction::Falling,
                _ => continue,
            };
            {
                let mut pm = self.pm_state();
                if dir == Direction::Rising {
                    pm.above.insert(id);
                } else {
                    pm.above.remove(&id);
                }
            }
            let n = PmThresholdCrossed {
                session_id: Some(s.session_id.clone()),
                metric: Some(th.metric.clone()),
                direction: Some(dir),
                value: Some(dec6(v)),
            };
            self.announce("pm-threshold-crossed", n.to_xml(self.ctx, ""));
        }
    }

    /// Checks an interval against the SLA of each active service on `csc`:
    /// whether every objective it measures was met (`None`: none measured).
    fn check_sla(&self, svc: &occ_services::Data, s: &PmSession, csc: &OccId, iv: &Interval) -> Option<bool> {
        let profiles = &svc.cloud_services.sla_profiles.sla_profile;
        let mut verdict = None;
        for service in svc.cloud_services.service.values() {
            if !service.csc.contains(csc)
                || self.lifecycle(&service.service_id) != ServiceLifecycleState::Active
            {
                continue;
            }
            let Some(profile) = service.sla_profile.as_ref().and_then(|p| profiles.get(p)) else { continue };
            for o in profile.objective.values() {
                if s.cos.as_ref().is_some_and(|c| *c != o.cos) || !measures(&s.metric, &o.metric) {
                    continue;
                }
                let (Some(v), Some(goal)) = (metric_value(iv, &o.metric), target(o)) else { continue };
                let ok = met(v, goal);
                verdict = Some(verdict.unwrap_or(true) && ok);
                if ok {
                    continue;
                }
                let n = SlaViolation {
                    service_id: Some(service.service_id.clone()),
                    csc_id: Some(csc.clone()),
                    cos: Some(o.cos),
                    metric: Some(o.metric.clone()),
                    objective: Some(dec6(goal.0)),
                    measured: Some(dec6(v)),
                    interval_start: iv.start_time.clone(),
                    affected_object: Some(rt::InstanceId(occ_oam::oam().pm_session(s.session_id.clone()).0)),
                };
                self.announce("sla-violation", n.to_xml(self.ctx, ""));
            }
        }
        verdict
    }

    /// `compute-sla-report`.
    pub(super) fn sla_report(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        let mut input = report::Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        let running = self.ds.running();
        let (svc_data, cscs, profile, subject_path) = match &input.subject {
            Some(report::input::Subject::Service(s)) => {
                let id =
                    s.service_id.clone().ok_or_else(|| Errors::from(Error::missing_element("service-id")))?;
                let path = occ_services::cloud_services().service(id.clone()).0;
                let xpath = format!("{path} | {}", SlaProfiles::SCHEMA_PATH);
                let data = occ_services::Data::from_tree_at(running.tree(), &xpath).map_err(internal)?;
                let svc = data.cloud_services.service.get(&id).ok_or_else(|| {
                    failed(format!("service {} does not exist", id.0), "service-not-found", path.clone())
                })?;
                let (cscs, profile) = (svc.csc.clone(), svc.sla_profile.clone());
                (data, cscs, profile, path)
            }
            Some(report::input::Subject::Csc(c)) => {
                let id = c.csc_id.clone().ok_or_else(|| Errors::from(Error::missing_element("csc-id")))?;
                let data = Self::services_on(&running, &id).map_err(internal)?;
                let profile = data.cloud_services.service.values().find_map(|s| s.sla_profile.clone());
                (data, vec![id.clone()], profile, crate::model::occ_connections::connections().csc(id).0)
            }
            None => return Err(Errors::from(Error::missing_element("service-id"))),
        };
        let profile: &SlaProfile = profile
            .as_ref()
            .and_then(|p| svc_data.cloud_services.sla_profiles.sla_profile.get(p))
            .ok_or_else(|| {
                failed("the subject has no SLA profile".into(), "no-sla-profile", subject_path.clone())
            })?;
        let window = |t: &Option<DateAndTime>| t.as_ref().and_then(|t| parse_date_time(&t.0));
        let (Some(from), Some(to)) = (window(&input.from), window(&input.to)) else {
            return Err(failed("from and to must be dates".into(), "invalid-period", subject_path));
        };
        if from >= to {
            return Err(Errors::from(
                Error::invalid_value("the window ends before it starts (from >= to)")
                    .with_app_tag("invalid-period"),
            ));
        }
        let cfg = Self::pm_config(&running).map_err(internal)?;
        let now = SystemTime::now();
        // Every closed interval of the window, per session on the subject.
        let mut measured: Vec<(&PmSession, Vec<Interval>)> = Vec::new();
        for s in &cfg.sessions {
            let Some((Some(csc), key, before)) =
                Self::monitored(s.meg.as_ref().and_then(|m| cfg.megs.get(m)))
            else {
                continue;
            };
            if !cscs.contains(&csc) {
                continue;
            }
            let t = self.timing(&mut self.pm_state(), s);
            let n = t.closed(now);
            let secs = |a: SystemTime| a.duration_since(t.start).map_or(0, |d| d.as_secs());
            // First interval starting at or after `from`; last ending by `to`.
            let first = u32::try_from(secs(from).div_ceil(u64::from(t.len)) + 1).unwrap_or(u32::MAX);
            let last = u32::try_from(secs(to) / u64::from(t.len)).unwrap_or(u32::MAX).min(n);
            let last = last.min(first.saturating_add(REPORT_LIMIT));
            let ivs = (first..=last).map(|k| self.measure(s, &t, &key, before, k)).collect();
            measured.push((s, ivs));
        }
        let mut out =
            report::Output { compliant: Some(true), generated_at: Some(super::now()), ..Default::default() };
        let mut evaluated_any = false;
        let metrics = input.metrics.unwrap_or_default();
        for o in profile.objective.values() {
            if !in_family(&metrics, &o.metric) || (!input.cos.is_empty() && !input.cos.contains(&o.cos)) {
                continue;
            }
            let Some(goal) = target(o) else { continue };
            let (mut values, mut excluded) = (Vec::new(), 0u32);
            for (s, ivs) in &measured {
                if s.cos.as_ref().is_some_and(|c| *c != o.cos) || !measures(&s.metric, &o.metric) {
                    continue;
                }
                for iv in ivs {
                    match metric_value(iv, &o.metric) {
                        _ if iv.suspect == Some(true) => excluded += 1,
                        Some(v) => values.push(v),
                        // Down for the whole interval: no delay to measure.
                        None => {}
                    }
                }
            }
            let mut r = report::output::Result2::new(o.cos, o.metric.clone());
            r.objective = Some(report::output::result::Objective::Decimal64(dec6(goal.0)));
            r.intervals_evaluated = Some(u32::try_from(values.len()).unwrap_or(u32::MAX));
            r.intervals_excluded = Some(excluded);
            if !values.is_empty() {
                evaluated_any = true;
                let achieved = match goal.1 {
                    // Delays: the objective's percentile of the intervals.
                    false if !matches!(o.metric, PmMetric::FrameLossRatio) => {
                        percentile(&mut values, o.percentile.as_ref().map_or(100.0, |p| float(p.0)))
                    }
                    _ => values.iter().sum::<f64>() / values.len() as f64,
                };
                let ok = met(achieved, goal);
                r.achieved = Some(dec6(achieved));
                r.met = Some(ok);
                if !ok {
                    out.compliant = Some(false);
                }
            }
            out.result.insert(r.key(), r);
        }
        if !evaluated_any {
            return Err(failed(
                "no PM measurements of the subject in the window".into(),
                "no-measurements",
                subject_path,
            ));
        }
        out.reply_xml(self.ctx, call.input, Some(running.tree())).map_err(internal)
    }

    /// The path of an OAM message from MEP `from` of `meg` to MEP `to` (or,
    /// without one, to every other MEP of the MEG): the MEPs, and a MIP at
    /// each segment boundary of a monitored multi-segment cSC.
    fn oam_path(
        &self,
        running: &Snapshot,
        meg_id: &OccId,
        from: MepId,
        to: Option<MepId>,
    ) -> Result<Vec<Hop>, Errors> {
        let path = occ_oam::oam().meg(meg_id.clone()).0;
        let data = occ_oam::Data::from_tree_at(running.tree(), &path).map_err(internal)?;
        let Some(m) = data.oam.meg.get(meg_id) else {
            return Err(failed(format!("MEG {} does not exist", meg_id.0), "meg-not-found", path));
        };
        let hop = |p: &Mep| Hop {
            responder: format!("{}/mep-{}", meg_id.0, p.mep_id.0),
            interface: p.interface.as_ref().map(|i| i.0.clone()).unwrap_or_default(),
        };
        let Some(source) = m.mep.get(&from) else {
            return Err(failed(format!("MEP {} is not in MEG {}", from.0, meg_id.0), "mep-not-found", path));
        };
        let mut hops = vec![hop(source)];
        if let Some(Some(csc)) = Self::monitored(Some(m)).map(|(c, _, _)| c) {
            for i in Self::mips(running.tree(), &csc).map_err(internal)? {
                hops.push(Hop { responder: format!("mip@{i}"), interface: i });
            }
        }
        match to {
            Some(t) => {
                let Some(target) = m.mep.get(&t) else {
                    return Err(failed(
                        format!("MEP {} is not in MEG {}", t.0, meg_id.0),
                        "remote-mep-not-found",
                        path,
                    ));
                };
                hops.push(hop(target));
            }
            None => hops.extend(m.mep.values().filter(|p| p.mep_id != from).map(hop)),
        }
        Ok(hops)
    }

    /// The `loopback` action.
    pub(super) fn loopback(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        use mep::loopback;
        let mut input = loopback::Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        let at = loopback::Parents::from_tree(call.input).map_err(internal)?;
        let running = self.ds.running();
        let to = match &input.target {
            Some(loopback::input::Target::RemoteMep(r)) => r.remote_mep_id.clone(),
            _ => None,
        };
        let path = self.oam_path(&running, &at.meg, at.mep.clone(), to)?;
        let out = self.backend.loopback(&at.meg.0, at.mep.0, &path, &input);
        out.reply_xml(self.ctx, call.input, Some(running.tree())).map_err(internal)
    }

    /// The `linktrace` action.
    pub(super) fn linktrace(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        use mep::linktrace;
        let mut input = linktrace::Input::from_tree(call.input).map_err(internal)?;
        input.apply_defaults();
        let at = linktrace::Parents::from_tree(call.input).map_err(internal)?;
        let running = self.ds.running();
        let path = self.oam_path(&running, &at.meg, at.mep.clone(), input.remote_mep_id.clone())?;
        let out = self.backend.linktrace(&at.meg.0, at.mep.0, &path, &input);
        out.reply_xml(self.ctx, call.input, Some(running.tree())).map_err(internal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_targets() {
        let mut v = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(percentile(&mut v, 100.0), 5.0);
        assert_eq!(percentile(&mut v, 50.0), 3.0);
        assert_eq!(percentile(&mut v, 0.0), 1.0);
        assert!(met(99.99, (99.95, true)));
        assert!(!met(0.002, (0.001, false)));
        assert!(measures(&[PmMetric::TwoWayFrameDelay], &PmMetric::OneWayFrameDelay));
        assert!(!measures(&[PmMetric::FrameLossRatio], &PmMetric::Availability));
    }

    #[test]
    fn interval_arithmetic() {
        let t = Timing { start: SystemTime::UNIX_EPOCH, stop: None, len: 60 };
        assert_eq!(t.closed(SystemTime::UNIX_EPOCH + Duration::from_secs(59)), 0);
        assert_eq!(t.closed(SystemTime::UNIX_EPOCH + Duration::from_secs(125)), 2);
        assert_eq!(t.bounds(2).0, SystemTime::UNIX_EPOCH + Duration::from_secs(60));
        let stopped = Timing { stop: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(90)), ..t };
        assert_eq!(stopped.closed(SystemTime::UNIX_EPOCH + Duration::from_secs(1000)), 1);
    }
}
