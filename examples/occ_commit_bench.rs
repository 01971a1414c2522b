//! One-entry commits on the OCC scale fixtures (`gen-scale.py N`: 350
//! interfaces, N cSCTPs, N/4 cSCs and services), through `Datastores` with
//! the OCC modules and every constraint: the fixture is loaded in one edit,
//! then single commits are timed (p50, p90), with how many the incremental
//! check decided (the others ran libyang's full validation):
//! - modify: a cSCTP's ingress `cbs` (rules read by the cSCTP and its
//!   interface);
//! - create / delete: a cSCTP with its CE-VLAN map entry (no cSC).
//!
//! cargo run --release --example occ_commit_bench [-- N...]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{commit, ms, rss_mb, stats};

use occd::config::Config;
use occd::datastore::{Datastores, Options};
use occd::schema::Schema;
use yang3::data::{Data, DataFormat, DataPrinterFlags};

const IF: &str = "urn:occd:params:xml:ns:yang:occ-interfaces";
const CONN: &str = "urn:occd:params:xml:ns:yang:occ-connections";
const NC: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";

fn main() {
    let sizes: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1_000, 10_000, 100_000] } else { sizes };
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(51);
    let schema: &'static Schema =
        Box::leak(Box::new(Schema::load(&Config::default().load_options(&[], &[])).unwrap()));
    for n in sizes {
        let fixture = common::occ_fixture(n);
        let data = tempfile::tempdir().unwrap();
        let ds = Datastores::open(schema, data.path(), Options::default()).unwrap();
        let load = commit(&ds, &fixture);
        // The first interface with cSCTPs, and one of its cSCTPs.
        let running = ds.running();
        let tp = running.tree().find_xpath("/occ-interfaces:interfaces/interface/occ-connections:csctps/csctp[occ-connections:ingress-bwp/occ-connections:cir]").unwrap().next().unwrap();
        let tp_path = tp.path();
        let name = |p: &str, key: &str| {
            let i = p.find(&format!("[{key}='")).unwrap() + key.len() + 3;
            p[i..i + p[i..].find('\'').unwrap()].to_string()
        };
        let (ifname, tpid) = (name(&tp_path, "name"), name(&tp_path, "csctp-id"));
        drop(running);
        let wrap = |inner: &str| {
            format!("<interfaces xmlns=\"{IF}\"><interface><name>{ifname}</name><csctps xmlns=\"{CONN}\">{inner}</csctps></interface></interfaces>")
        };
        let before = ds.stats().incremental;
        let modify: Vec<f64> = (0..rounds)
            .map(|i| {
                let cbs = 12000 + (i % 2) * 1000;
                commit(&ds, &wrap(&format!("<csctp><csctp-id>{tpid}</csctp-id><ingress-bwp><cbs>{cbs}</cbs></ingress-bwp></csctp>")))
            })
            .collect();
        let inc_modify = ds.stats().incremental - before;
        let before = ds.stats().incremental;
        let (mut create, mut delete) = (Vec::new(), Vec::new());
        for i in 0..rounds {
            let id = format!("bench-tp-{i}");
            create.push(commit(
                &ds,
                &wrap(&format!(
                    "<csctp><csctp-id>{id}</csctp-id><layer xmlns:occt=\"urn:occd:params:xml:ns:yang:occ-types\">occt:ethernet-mac</layer>\
                     <ce-vlan>4000</ce-vlan><ingress-bwp><cir>0</cir><cbs>0</cbs></ingress-bwp></csctp>\
                     <ce-vlan-map><vlan-id>4000</vlan-id><csctp>{id}</csctp></ce-vlan-map>"
                )),
            ));
            delete.push(commit(
                &ds,
                &wrap(&format!(
                    "<csctp xmlns:nc=\"{NC}\" nc:operation=\"delete\"><csctp-id>{id}</csctp-id></csctp>\
                     <ce-vlan-map xmlns:nc=\"{NC}\" nc:operation=\"delete\"><vlan-id>4000</vlan-id></ce-vlan-map>"
                )),
            ));
        }
        let inc_cd = ds.stats().incremental - before;
        let keyed = ds.stats().keyed_lookups;
        println!(
            "N={n}: load {load:.0} ms; modify {} ({inc_modify}/{rounds} incremental); create {}; delete {} ({inc_cd}/{} incremental, {keyed} keyed lookups)",
            stats(modify),
            stats(create),
            stats(delete),
            2 * rounds
        );
        // Full reads, then a cold start from the journal and the RSS after it.
        let snap = ds.running();
        let (mut xml, mut json) = (Vec::new(), Vec::new());
        for _ in 0..5 {
            let start = std::time::Instant::now();
            snap.print(DataFormat::XML, DataPrinterFlags::SHRINK).unwrap();
            xml.push(ms(start));
            let start = std::time::Instant::now();
            snap.print(DataFormat::JSON, DataPrinterFlags::SHRINK).unwrap();
            json.push(ms(start));
        }
        drop(snap);
        drop(ds);
        let start = std::time::Instant::now();
        let ds = Datastores::open(schema, data.path(), Options::default()).unwrap();
        let cold = ms(start);
        println!(
            "  read XML {}; JSON {}; cold start {cold:.0} ms; RSS after it {:.0} MB",
            stats(xml),
            stats(json),
            rss_mb()
        );
        drop(ds);
    }
}
