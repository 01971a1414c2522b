//! What the domain layer asks of the network: a [`Backend`] is what a
//! deployment connects to devices or an SDN controller. occd embeds one,
//! the [`Simulator`], as its default: a simulation, not a network.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::Sender;
use std::sync::{Mutex, MutexGuard};

use crate::model::identities::{PmMetric, VnfLcmOperation};
use crate::model::occ_connections::connections::Csc;
use crate::model::occ_interfaces::interfaces::interface::physical::LinkAggregation;
use crate::model::occ_interfaces::interfaces::Interface;
use crate::model::occ_oam::oam::meg::mep::{linktrace, loopback};
use crate::model::occ_oam::oam::pm_session::results::Interval;
use crate::model::rt::Decimal64;
use crate::model::typedefs::{AdminState, LossRatio, Percent};

/// One point on the path an OAM message takes: a MEP or MIP and the
/// interface it sits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub responder: String,
    pub interface: String,
}

/// Traffic counters (of an interface or a cSCTP), in frames and octets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub in_octets: u64,
    pub out_octets: u64,
    pub in_frames: u64,
    pub out_frames: u64,
    pub in_discards: u64,
    pub out_discards: u64,
    pub green_frames: u64,
    pub yellow_frames: u64,
    pub red_frames: u64,
}

impl Traffic {
    fn add(&mut self, o: &Traffic) {
        self.zip(o, u64::wrapping_add);
    }

    fn sub(&mut self, o: &Traffic) {
        self.zip(o, u64::wrapping_sub);
    }

    fn zip(&mut self, o: &Traffic, f: fn(u64, u64) -> u64) {
        for (a, b) in self.fields_mut().into_iter().zip(o.fields()) {
            *a = f(*a, b);
        }
    }

    fn fields(&self) -> [u64; 9] {
        let t = self;
        [
            t.in_octets,
            t.out_octets,
            t.in_frames,
            t.out_frames,
            t.in_discards,
            t.out_discards,
            t.green_frames,
            t.yellow_frames,
            t.red_frames,
        ]
    }

    fn fields_mut(&mut self) -> [&mut u64; 9] {
        let t = self;
        [
            &mut t.in_octets,
            &mut t.out_octets,
            &mut t.in_frames,
            &mut t.out_frames,
            &mut t.in_discards,
            &mut t.out_discards,
            &mut t.green_frames,
            &mut t.yellow_frames,
            &mut t.red_frames,
        ]
    }
}

/// Something the network reports on its own; the domain layer recomputes
/// and announces what depends on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// An interface's link may have changed (read [`Backend::interface_up`]).
    Link { interface: String },
    /// A member port of an interface's link aggregation went down or came
    /// back.
    LagMember { interface: String, port: String, up: bool },
}

/// The network under the OCC model.
pub trait Backend: Send + Sync + 'static {
    /// Shown in logs and in `occd serve`'s start-up line.
    fn name(&self) -> &str;
    /// Where to send [`Event`]s; a backend that never reports any ignores
    /// it.
    fn listen(&self, _events: Sender<Event>) {}
    /// Applies an interface's configuration (admin-state, member ports).
    fn apply_interface(&self, cfg: &Interface);
    /// Whether an interface's link is up (admin-state and faults; with
    /// link aggregation, while one member port is up).
    fn interface_up(&self, name: &str) -> bool;
    /// Traffic counters of an interface since its last reset.
    fn counters(&self, interface: &str) -> Traffic;
    /// Traffic counters of one cSCTP of an interface.
    fn csctp_counters(&self, interface: &str, csctp: &str) -> Traffic;
    /// Zeroes an interface's counters.
    fn reset_counters(&self, interface: &str);
    /// Sets up a cSC (its configuration as in running); `Err` says why the
    /// network cannot carry it.
    fn activate_csc(&self, csc: &Csc) -> Result<(), String>;
    /// Releases a cSC set up by [`Backend::activate_csc`].
    fn deactivate_csc(&self, csc: &str);
    /// Whether a cSC is set up in the network (whatever its links do).
    fn csc_set_up(&self, csc: &str) -> bool;
    /// Runs a loopback (ITU-T Y.1731 LBM/LBR) from MEP `mep` of MEG `meg`
    /// over `path` (source first, target last).
    fn loopback(&self, meg: &str, mep: u16, path: &[Hop], input: &loopback::Input) -> loopback::Output;
    /// Runs a linktrace (Y.1731 LTM/LTR) along `path` (source first).
    fn linktrace(&self, meg: &str, mep: u16, path: &[Hop], input: &linktrace::Input) -> linktrace::Output;
    /// Runs a VNF lifecycle operation (instantiate, scale, heal,
    /// terminate; `detail`: the scale aspect and level, or the heal cause)
    /// through the NFV orchestrator; `Err` says why it failed.
    fn vnf_operation(&self, vnf: &str, op: &VnfLcmOperation, detail: &str) -> Result<(), String>;
    /// One step of a service activation test (ITU-T Y.1564) on cSC `csc`:
    /// `offered` bit/s for `seconds`; the frame loss ratio and average
    /// frame delay (µs) measured, or `None` when the cSC is not set up or
    /// a link of it is down (the test cannot run).
    fn activation_step(&self, csc: &str, step: u8, offered: u64, seconds: u32) -> Option<(f64, u32)>;
    /// The measurement of interval `number` (`seconds` long, `unavailable_s`
    /// of them with the monitored object down) of PM session `session`, for
    /// `metrics`. Called again for the same interval, it answers the same.
    fn pm_interval(
        &self,
        session: &str,
        number: u32,
        seconds: u32,
        unavailable_s: u32,
        metrics: &[PmMetric],
    ) -> Interval;
}

/// A simulated network: it carries every cSC whose interfaces are up,
/// answers loopbacks and linktraces along the path it is given, and
/// measures PM intervals with delays, loss and counters drawn from a
/// pseudo-random sequence. The same seed and the same requests in the same
/// order give the same answers; a PM interval depends only on the seed, the
/// session, its number and the downtime in it.
pub struct Simulator {
    seed: u64,
    calls: AtomicU64,
    /// Active cSCs and the (interface, cSCTP) of their endpoints.
    active: Mutex<HashMap<String, Vec<(String, String)>>>,
    /// Interfaces locked by their admin-state.
    locked: Mutex<HashSet<String>>,
    /// Interfaces the simulation has failed.
    failed: Mutex<HashSet<String>>,
    /// Member ports of aggregated interfaces, and the failed ones.
    ports: Mutex<HashMap<String, Vec<String>>>,
    failed_ports: Mutex<HashSet<(String, String)>>,
    /// The cSCTPs of active cSCs, per interface (an index of `active`).
    carrying: Mutex<HashMap<String, HashSet<String>>>,
    /// Counters per interface and cSCTP since start, and each interface's
    /// sum at its last reset.
    counters: Mutex<HashMap<String, HashMap<String, Traffic>>>,
    reset_at: Mutex<HashMap<String, Traffic>>,
    events: Mutex<Option<Sender<Event>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Simulator {
    pub fn new(seed: u64) -> Simulator {
        Simulator {
            seed,
            calls: AtomicU64::new(0),
            active: Mutex::default(),
            locked: Mutex::default(),
            failed: Mutex::default(),
            ports: Mutex::default(),
            failed_ports: Mutex::default(),
            carrying: Mutex::default(),
            counters: Mutex::default(),
            reset_at: Mutex::default(),
            events: Mutex::default(),
        }
    }

    fn report(&self, e: Event) {
        if let Some(tx) = lock(&self.events).as_ref() {
            let _ = tx.send(e);
        }
    }

    /// Fails an interface of the simulated network (or repairs it).
    pub fn set_interface_down(&self, name: &str, down: bool) {
        let changed = {
            let mut d = lock(&self.failed);
            if down {
                d.insert(name.to_string())
            } else {
                d.remove(name)
            }
        };
        if changed {
            self.report(Event::Link { interface: name.to_string() });
        }
    }

    /// Fails one member port of an aggregated interface (or repairs it).
    pub fn set_port_down(&self, interface: &str, port: &str, down: bool) {
        let key = (interface.to_string(), port.to_string());
        let changed = {
            let mut d = lock(&self.failed_ports);
            if down {
                d.insert(key)
            } else {
                d.remove(&key)
            }
        };
        if changed {
            self.report(Event::LagMember { interface: interface.into(), port: port.into(), up: !down });
            self.report(Event::Link { interface: interface.into() });
        }
    }

    /// The counters of one cSCTP, with the traffic since the last reading
    /// when an active cSC runs over it.
    fn advance(
        &self,
        all: &mut HashMap<String, HashMap<String, Traffic>>,
        interface: &str,
        csctp: &str,
    ) -> Traffic {
        let carrying = lock(&self.carrying).get(interface).is_some_and(|tps| tps.contains(csctp));
        let c = all.entry(interface.to_string()).or_default().entry(csctp.to_string()).or_default();
        if carrying && self.interface_up(interface) {
            let r = self.draw(fnv(interface) ^ fnv(csctp).rotate_left(7));
            let (fin, fout) = (1000 + r % 1000, 1000 + (r >> 16) % 1000);
            c.add(&Traffic {
                in_frames: fin,
                out_frames: fout,
                in_octets: fin * 800,
                out_octets: fout * 800,
                green_frames: fin - fin / 20,
                yellow_frames: fin / 20,
                in_discards: u64::from((r >> 32) % 100 == 0),
                ..Traffic::default()
            });
        }
        *c
    }

    /// The sum of an interface's cSCTP counters since start.
    fn total(all: &HashMap<String, HashMap<String, Traffic>>, interface: &str) -> Traffic {
        let mut sum = Traffic::default();
        for c in all.get(interface).into_iter().flat_map(HashMap::values) {
            sum.add(c);
        }
        sum
    }

    /// Adds (`on`) or removes the endpoints of a cSC in the carrying index.
    fn index_endpoints(&self, eps: &[(String, String)], on: bool) {
        let mut carrying = lock(&self.carrying);
        for (i, tp) in eps {
            let set = carrying.entry(i.clone()).or_default();
            if on {
                set.insert(tp.clone());
            } else {
                set.remove(tp);
            }
        }
    }

    /// The next value of the call sequence, mixed with `salt`.
    fn draw(&self, salt: u64) -> u64 {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        splitmix(self.seed ^ salt.rotate_left(17) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
    }

    fn path_up(&self, path: &[Hop]) -> bool {
        path.iter().all(|h| self.interface_up(&h.interface))
    }
}

/// SplitMix64: one well-mixed 64-bit value from another.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

impl Backend for Simulator {
    fn name(&self) -> &str {
        "simulator"
    }

    fn listen(&self, events: Sender<Event>) {
        *lock(&self.events) = Some(events);
    }

    fn apply_interface(&self, cfg: &Interface) {
        let name = cfg.name.0.clone();
        {
            let mut l = lock(&self.locked);
            if cfg.admin_state == Some(AdminState::Locked) {
                l.insert(name.clone());
            } else {
                l.remove(&name);
            }
        }
        let lag = cfg.physical.link_aggregation.is_some_and(|m| m != LinkAggregation::None);
        let mut ports = lock(&self.ports);
        if lag {
            ports.insert(name, cfg.physical.port_id.clone());
        } else {
            ports.remove(&name);
        }
    }

    fn interface_up(&self, name: &str) -> bool {
        if lock(&self.locked).contains(name) || lock(&self.failed).contains(name) {
            return false;
        }
        // An aggregation carries traffic while one member port does.
        match lock(&self.ports).get(name) {
            Some(ports) if !ports.is_empty() => {
                let failed = lock(&self.failed_ports);
                ports.iter().any(|p| !failed.contains(&(name.to_string(), p.clone())))
            }
            _ => true,
        }
    }

    fn counters(&self, interface: &str) -> Traffic {
        let on: Vec<String> = lock(&self.carrying).get(interface).into_iter().flatten().cloned().collect();
        let mut all = lock(&self.counters);
        for tp in &on {
            self.advance(&mut all, interface, tp);
        }
        let mut sum = Self::total(&all, interface);
        if let Some(base) = lock(&self.reset_at).get(interface) {
            sum.sub(base);
        }
        sum
    }

    fn csctp_counters(&self, interface: &str, csctp: &str) -> Traffic {
        self.advance(&mut lock(&self.counters), interface, csctp)
    }

    fn reset_counters(&self, interface: &str) {
        let sum = Self::total(&lock(&self.counters), interface);
        lock(&self.reset_at).insert(interface.to_string(), sum);
    }

    fn activate_csc(&self, csc: &Csc) -> Result<(), String> {
        if let Some(ep) = csc.endpoint.values().find(|ep| !self.interface_up(&ep.interface.0)) {
            return Err(format!("interface {} is down", ep.interface.0));
        }
        let eps: Vec<(String, String)> =
            csc.endpoint.values().map(|ep| (ep.interface.0.clone(), ep.csctp.0.clone())).collect();
        self.index_endpoints(&eps, true);
        let old = lock(&self.active).insert(csc.csc_id.0.clone(), eps.clone());
        if let Some(old) = old {
            let gone: Vec<_> = old.into_iter().filter(|e| !eps.contains(e)).collect();
            self.index_endpoints(&gone, false);
        }
        Ok(())
    }

    fn deactivate_csc(&self, csc: &str) {
        let old = lock(&self.active).remove(csc);
        if let Some(old) = old {
            self.index_endpoints(&old, false);
        }
    }

    fn csc_set_up(&self, csc: &str) -> bool {
        lock(&self.active).contains_key(csc)
    }

    fn loopback(&self, meg: &str, mep: u16, path: &[Hop], input: &loopback::Input) -> loopback::Output {
        let sent = input.count.unwrap_or(3);
        let salt = fnv(meg) ^ u64::from(mep);
        let up = self.path_up(path);
        let mut received = 0u16;
        let (mut min, mut max, mut sum) = (u32::MAX, 0u32, 0u64);
        for _ in 0..sent {
            let r = self.draw(salt);
            // About one message in 50 is lost; all of them on a broken path.
            if !up || r % 50 == 0 {
                continue;
            }
            received += 1;
            // 800..1300 µs, more for bigger data TLVs.
            let rtt = 800 + ((r >> 8) % 500) as u32 + u32::from(input.data_size.unwrap_or(0)) / 10;
            min = min.min(rtt);
            max = max.max(rtt);
            sum += u64::from(rtt);
        }
        let mut out = loopback::Output { sent: Some(sent), received: Some(received), ..Default::default() };
        if received > 0 {
            out.rtt_min_us = Some(min);
            out.rtt_max_us = Some(max);
            // Average in µs with three fraction digits.
            out.rtt_avg_us = i64::try_from(sum * 1000 / u64::from(received)).ok().map(Decimal64);
        }
        out
    }

    fn linktrace(&self, _meg: &str, _mep: u16, path: &[Hop], input: &linktrace::Input) -> linktrace::Output {
        use linktrace::output::reply::Relay;
        let ttl = usize::from(input.ttl.unwrap_or(64));
        let mut out = linktrace::Output::default();
        // The source answers nothing; each later point replies until the
        // message meets a down interface or its TTL runs out.
        for (i, hop) in path.iter().enumerate().skip(1).take(ttl) {
            if !self.interface_up(&hop.interface) || !self.interface_up(&path[i - 1].interface) {
                break;
            }
            let Ok(n) = u8::try_from(i) else { break };
            let mut r = linktrace::output::Reply::new(n);
            r.responder = Some(hop.responder.clone());
            r.relay = Some(if i + 1 == path.len() { Relay::Hit } else { Relay::Fdb });
            out.reply.insert(n, r);
        }
        out
    }

    fn vnf_operation(&self, vnf: &str, op: &VnfLcmOperation, detail: &str) -> Result<(), String> {
        tracing::debug!("simulated VNF {vnf}: {op:?} {detail}");
        Ok(())
    }

    fn activation_step(&self, csc: &str, step: u8, offered: u64, seconds: u32) -> Option<(f64, u32)> {
        let eps = lock(&self.active).get(csc).cloned()?;
        if !eps.iter().all(|(i, _)| self.interface_up(i)) {
            return None;
        }
        let r = splitmix(
            self.seed ^ fnv(csc) ^ (u64::from(step) << 40) ^ offered.rotate_left(13) ^ u64::from(seconds),
        );
        // Up to 5 frames in a million lost; delay 1800..2600 µs, a little
        // more as the load grows.
        let flr = (r % 6) as f64 * 1e-6;
        let fd = 1800 + ((r >> 8) % 800) as u32 + u32::from(step) * 20;
        Some((flr, fd))
    }

    fn pm_interval(
        &self,
        session: &str,
        number: u32,
        seconds: u32,
        unavailable_s: u32,
        metrics: &[PmMetric],
    ) -> Interval {
        let r = splitmix(self.seed ^ fnv(session) ^ u64::from(number).rotate_left(32));
        let seconds = seconds.max(1);
        let down = unavailable_s.min(seconds);
        let mut iv = Interval::new(number);
        let delay = metrics.iter().any(|m| {
            matches!(
                m,
                PmMetric::OneWayFrameDelay
                    | PmMetric::TwoWayFrameDelay
                    | PmMetric::MeanFrameDelay
                    | PmMetric::FrameDelayRange
                    | PmMetric::InterFrameDelayVariation
            )
        });
        let loss = metrics.iter().any(|m| matches!(m, PmMetric::FrameLossRatio | PmMetric::Availability));
        if delay && down < seconds {
            // Two-way delay 1800..2600 µs, spread ±300/500 µs.
            let avg = 1800 + (r % 800) as u32;
            iv.fd_avg_us = Some(avg);
            iv.fd_min_us = Some(avg - 300 + ((r >> 12) % 100) as u32);
            iv.fd_max_us = Some(avg + 400 + ((r >> 20) % 100) as u32);
            iv.ifdv_avg_us = Some(40 + ((r >> 28) % 100) as u32);
        }
        if loss {
            // Background loss up to 20 frames in a million, plus the downtime.
            let background = ((r >> 36) % 21) as f64 * 1e-6;
            let down_part = f64::from(down) / f64::from(seconds);
            let flr = (down_part + background * (1.0 - down_part)).min(1.0);
            iv.flr = Some(LossRatio(Decimal64((flr * 1e9).round() as i64)));
            let avail = 100.0 * f64::from(seconds - down) / f64::from(seconds);
            iv.availability = Some(Percent(Decimal64((avail * 1e5).round() as i64)));
            iv.unavailable_s = Some(down);
        }
        iv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed() {
        let input = loopback::Input { count: Some(200), ..Default::default() };
        let run = |seed| {
            let s = Simulator::new(seed);
            (s.loopback("meg-1", 1, &[], &input), s.loopback("meg-1", 2, &[], &input))
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
        let (a, _) = run(7);
        assert_eq!(a.sent, Some(200));
        let got = a.received.unwrap_or(0);
        assert!((180..=200).contains(&got), "{got} of 200");
        assert!(a.rtt_min_us <= a.rtt_max_us);
    }

    #[test]
    fn a_down_interface_refuses_its_cscs() {
        use crate::model::occ_connections::connections::csc::Endpoint;
        let s = Simulator::new(1);
        let mut csc = Csc::new("csc-1");
        let ep = Endpoint::new("if-a", "tp-a");
        csc.endpoint.insert(ep.key(), ep);
        s.set_interface_down("if-a", true);
        assert!(s.activate_csc(&csc).is_err());
        assert!(!s.csc_set_up("csc-1"));
        s.set_interface_down("if-a", false);
        assert_eq!(s.activate_csc(&csc), Ok(()));
        assert!(s.csc_set_up("csc-1"));
        s.deactivate_csc("csc-1");
        assert!(!s.csc_set_up("csc-1"));
    }

    #[test]
    fn counters_sum_the_carrying_csctps_since_a_reset() {
        use crate::model::occ_connections::connections::csc::Endpoint;
        let s = Simulator::new(2);
        let mut csc = Csc::new("csc-1");
        for (i, tp) in [("if-a", "tp-1"), ("if-b", "tp-2")] {
            let ep = Endpoint::new(i, tp);
            csc.endpoint.insert(ep.key(), ep);
        }
        assert_eq!(s.counters("if-a"), Traffic::default(), "nothing flows before activation");
        assert_eq!(s.activate_csc(&csc), Ok(()));
        let tp = s.csctp_counters("if-a", "tp-1");
        assert!(tp.in_frames > 0);
        let total = s.counters("if-a");
        assert!(total.in_frames > tp.in_frames, "the interface reading moves its cSCTP on too");
        assert_eq!(s.csctp_counters("if-b", "tp-9"), Traffic::default());
        s.reset_counters("if-a");
        s.deactivate_csc("csc-1");
        assert_eq!(s.counters("if-a"), Traffic::default(), "zero after the reset, nothing flowing since");
        assert!(
            s.csctp_counters("if-a", "tp-1").in_frames >= total.in_frames,
            "cSCTP counters are not reset"
        );
    }

    fn path() -> Vec<Hop> {
        ["a", "b", "c"]
            .iter()
            .map(|i| Hop { responder: format!("mep@{i}"), interface: format!("if-{i}") })
            .collect()
    }

    #[test]
    fn oam_follows_the_path() {
        let s = Simulator::new(3);
        let lb = loopback::Input { count: Some(20), ..Default::default() };
        assert!(s.loopback("m", 1, &path(), &lb).received > Some(0));
        let lt = s.linktrace("m", 1, &path(), &linktrace::Input::default());
        assert_eq!(lt.reply.len(), 2);
        assert_eq!(lt.reply.get(&2).and_then(|r| r.relay), Some(linktrace::output::reply::Relay::Hit));
        s.set_interface_down("if-b", true);
        assert_eq!(s.loopback("m", 1, &path(), &lb).received, Some(0));
        let lt = s.linktrace("m", 1, &path(), &linktrace::Input::default());
        assert!(lt.reply.is_empty());
    }

    #[test]
    fn pm_intervals_are_deterministic_and_see_downtime() {
        let s = Simulator::new(5);
        let m = [PmMetric::TwoWayFrameDelay, PmMetric::FrameLossRatio, PmMetric::Availability];
        assert_eq!(s.pm_interval("pm", 3, 900, 0, &m), Simulator::new(5).pm_interval("pm", 3, 900, 0, &m));
        let ok = s.pm_interval("pm", 3, 900, 0, &m);
        assert!(ok.fd_avg_us.is_some());
        assert_eq!(ok.availability, Some(Percent(Decimal64(100 * 100_000))));
        let down = s.pm_interval("pm", 4, 900, 900, &m);
        assert_eq!(down.fd_avg_us, None);
        assert_eq!(down.availability, Some(Percent(Decimal64(0))));
        assert_eq!(down.flr, Some(LossRatio(Decimal64(1_000_000_000))));
    }
}
