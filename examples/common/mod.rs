//! Timing helpers shared by the datastore benchmarks (`ds_bench`,
//! `occ_commit_bench`).
#![allow(dead_code)]

use std::time::Instant;

use occd::datastore::edit::{parse_edit, DefaultOperation};
use occd::datastore::{Datastore, Datastores, TestOption};

pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn ms(start: Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1e3
}

/// One `<edit-config>` merge into running, in milliseconds.
pub fn commit(ds: &Datastores, xml: &str) -> f64 {
    let start = Instant::now();
    let edit = parse_edit(ds.schema().context(), xml).unwrap();
    ds.edit(1, Datastore::Running, edit, DefaultOperation::Merge, TestOption::TestThenSet).unwrap();
    ms(start)
}

/// `p50 … ms, p90 … ms, max … ms`.
pub fn stats(mut v: Vec<f64>) -> String {
    v.sort_by(f64::total_cmp);
    let max = v.last().copied().unwrap_or(0.0);
    format!("p50 {:.2} ms, p90 {:.2} ms, max {max:.2} ms", percentile(&v, 0.5), percentile(&v, 0.9))
}

/// The process's resident set size, in MB.
pub fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kb / 1024.0
}

/// The OCC scale fixture of `n` cSCTPs (`gen-scale.py`), as XML.
pub fn occ_fixture(n: usize) -> String {
    let out = std::process::Command::new("python3")
        .args(["yang/occ/examples/gen-scale.py", &n.to_string(), "--format", "xml"])
        .output()
        .unwrap();
    assert!(out.status.success(), "gen-scale.py: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
