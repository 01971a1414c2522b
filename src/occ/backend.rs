//! What the domain layer asks of the network: a [`Backend`] is what a
//! deployment connects to devices or an SDN controller. occd embeds one,
//! the [`Simulator`], as its default: a simulation, not a network.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::model::occ_connections::connections::Csc;
use crate::model::occ_oam::oam::meg::mep::loopback;
use crate::model::rt::Decimal64;
use crate::model::typedefs::OperStatus;

/// The network under the OCC model.
pub trait Backend: Send + Sync + 'static {
    /// Shown in logs and in `occd serve`'s start-up line.
    fn name(&self) -> &str;
    /// Sets up a cSC (its configuration as in running); `Err` says why the
    /// network cannot carry it.
    fn activate_csc(&self, csc: &Csc) -> Result<(), String>;
    /// Releases a cSC set up by [`Backend::activate_csc`].
    fn deactivate_csc(&self, csc: &str);
    /// Whether a cSC passes traffic now.
    fn csc_oper_status(&self, csc: &str) -> OperStatus;
    /// Runs a loopback (ITU-T Y.1731 LBM/LBR) from MEP `mep` of MEG `meg`.
    fn loopback(&self, meg: &str, mep: u16, input: &loopback::Input) -> loopback::Output;
}

/// A simulated network: it carries every cSC whose interfaces are up,
/// answers loopbacks with replies, loss and round-trip times drawn from a
/// pseudo-random sequence. The same seed and the same requests in the same
/// order give the same answers.
pub struct Simulator {
    seed: u64,
    calls: AtomicU64,
    active: Mutex<HashSet<String>>,
    /// Interfaces the simulation has taken down.
    down: Mutex<HashSet<String>>,
}

impl Simulator {
    pub fn new(seed: u64) -> Simulator {
        Simulator { seed, calls: AtomicU64::new(0), active: Mutex::default(), down: Mutex::default() }
    }

    /// Takes an interface of the simulated network down (or up again).
    pub fn set_interface_down(&self, name: &str, down: bool) {
        let mut d = self.down.lock().unwrap_or_else(|e| e.into_inner());
        if down {
            d.insert(name.to_string());
        } else {
            d.remove(name);
        }
    }

    /// The next value of the call sequence, mixed with `salt`.
    fn draw(&self, salt: u64) -> u64 {
        let n = self.calls.fetch_add(1, Ordering::Relaxed);
        splitmix(self.seed ^ salt.rotate_left(17) ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15))
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

    fn activate_csc(&self, csc: &Csc) -> Result<(), String> {
        let down = self.down.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ep) = csc.endpoint.values().find(|ep| down.contains(&ep.interface.0)) {
            return Err(format!("interface {} is down", ep.interface.0));
        }
        drop(down);
        self.active.lock().unwrap_or_else(|e| e.into_inner()).insert(csc.csc_id.0.clone());
        Ok(())
    }

    fn deactivate_csc(&self, csc: &str) {
        self.active.lock().unwrap_or_else(|e| e.into_inner()).remove(csc);
    }

    fn csc_oper_status(&self, csc: &str) -> OperStatus {
        if self.active.lock().unwrap_or_else(|e| e.into_inner()).contains(csc) {
            OperStatus::Up
        } else {
            OperStatus::Down
        }
    }

    fn loopback(&self, meg: &str, mep: u16, input: &loopback::Input) -> loopback::Output {
        let sent = input.count.unwrap_or(3);
        let salt = fnv(meg) ^ u64::from(mep);
        let mut received = 0u16;
        let (mut min, mut max, mut sum) = (u32::MAX, 0u32, 0u64);
        for _ in 0..sent {
            let r = self.draw(salt);
            // About one message in 50 is lost.
            if r % 50 == 0 {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_for_a_seed() {
        let input = loopback::Input { count: Some(200), ..Default::default() };
        let run = |seed| {
            let s = Simulator::new(seed);
            (s.loopback("meg-1", 1, &input), s.loopback("meg-1", 2, &input))
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
        assert_eq!(s.csc_oper_status("csc-1"), OperStatus::Down);
        s.set_interface_down("if-a", false);
        assert_eq!(s.activate_csc(&csc), Ok(()));
        assert_eq!(s.csc_oper_status("csc-1"), OperStatus::Up);
        s.deactivate_csc("csc-1");
        assert_eq!(s.csc_oper_status("csc-1"), OperStatus::Down);
    }
}
