//! Cold start on the OCC scale fixtures: the fixture (`gen-scale.py N`) is
//! committed in one edit and compacted into the journal's snapshot, then
//! `Datastores::open` is timed in new processes (a process that has
//! already freed a tree that size reuses its heap and starts faster; the
//! `occ_commit_bench` figure is that warm case).
//!
//! cargo run --release --example cold_start [-- N [RUNS]]
//!
//! With `COLD_START_DIR=D` the data directory is `D`, made once and kept
//! (then `cold_start --open D` is one start to profile).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use occd::config::Config;
use occd::datastore::{Datastores, Options};
use occd::schema::Schema;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let schema: &'static Schema =
        Box::leak(Box::new(Schema::load(&Config::default().load_options(&[], &[])).unwrap()));
    if let [flag, dir] = args.as_slice() {
        if flag == "--open" {
            let start = std::time::Instant::now();
            let ds = Datastores::open(schema, std::path::Path::new(dir), Options::default()).unwrap();
            println!("{:.1} {:.0}", common::ms(start), common::rss_mb());
            assert!(ds.recovered_exactly());
            return;
        }
    }
    let n: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(100_000);
    let runs: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(5);
    let temp = tempfile::tempdir().unwrap();
    let dir = std::env::var_os("COLD_START_DIR").map_or_else(|| temp.path().to_path_buf(), Into::into);
    if !dir.join("journal").exists() {
        let fixture = common::occ_fixture(n);
        let ds = Datastores::open(schema, &dir, Options::default()).unwrap();
        let load = common::commit(&ds, &fixture);
        println!("N={n}: fixture loaded in one edit in {load:.0} ms (parse included)");
        ds.compact_now();
    }
    let (mut times, mut rss) = (Vec::new(), 0.0);
    for _ in 0..runs {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--open", dir.to_str().unwrap()])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let line = String::from_utf8(out.stdout).unwrap();
        let mut f = line.split_whitespace().map(|v| v.parse::<f64>().unwrap());
        times.push(f.next().unwrap());
        rss = f.next().unwrap();
    }
    println!("N={n}: cold start in a new process {}; RSS after it {rss:.0} MB", common::stats(times));
}
