//! The datastore layer end to end (`Datastores`: edit → validation →
//! journal fdatasync → publish) on the flat bench list of
//! ../shared/bench/yang (container `bench`, list `item` keyed by `name`,
//! 5 leaves), for N = 1k, 10k, 100k entries:
//! - bulk create of N entries in one edit-config (empty running);
//! - cold start: reopening the data dir (journal recovery + validation);
//! - single-entry create, modify and delete commits (p50, p90);
//! - full read: the running snapshot printed in XML and in JSON;
//! - RSS of the process after the cold start (both trees).
//!
//! cargo run --release --example ds_bench [-- BENCH_YANG_DIR [N...]]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{commit, ms, rss_mb, stats};

use std::time::Instant;

use occd::datastore::edit::{parse_edit, DefaultOperation};
use occd::datastore::{Datastore, Datastores, Options, TestOption};
use occd::schema::{LoadOptions, ModuleSpec, Schema};
use yang3::data::{DataFormat, DataPrinterFlags};

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().unwrap_or_else(|| "../shared/bench/yang".into());
    let sizes: Vec<usize> = args.filter_map(|a| a.parse().ok()).collect();
    let sizes = if sizes.is_empty() { vec![1_000, 10_000, 100_000] } else { sizes };
    let opts = LoadOptions {
        search_dirs: vec![dir.into()],
        embedded: true,
        protocol_modules: true,
        modules: vec![ModuleSpec { name: "bench".into(), revision: None, features: vec!["*".into()] }],
    };
    let schema: &'static Schema = Box::leak(Box::new(Schema::load(&opts).expect("load the bench module")));
    const NC: &str = "urn:ietf:params:xml:ns:netconf:base:1.0";
    let entry = |i: usize, c: usize| {
        format!(
            "<item><name>item-{i:06}</name><counter>{c}</counter><enabled>true</enabled><mode>auto</mode>\
             <ratio>1.5</ratio><descr>benchmark entry</descr></item>"
        )
    };
    for n in sizes {
        let data = tempfile::tempdir().unwrap();
        let bulk_ms;
        {
            let ds = Datastores::open(schema, data.path(), Options::default()).unwrap();
            let mut xml = String::from("<bench xmlns=\"urn:example:bench\">");
            for i in 0..n {
                xml.push_str(&entry(i, i));
            }
            xml.push_str("</bench>");
            let start = Instant::now();
            let edit = parse_edit(ds.schema().context(), &xml).unwrap();
            let parse_ms = ms(start);
            let start = Instant::now();
            ds.edit(1, Datastore::Running, edit, DefaultOperation::Merge, TestOption::TestThenSet).unwrap();
            bulk_ms = (parse_ms, ms(start));
        }
        if std::env::var_os("DS_BENCH_BULK_ONLY").is_some() {
            println!("bulk {bulk_ms:?}");
            continue;
        }
        let rss_before = 0.0;
        let start = Instant::now();
        let ds = Datastores::open(schema, data.path(), Options::default()).unwrap();
        let cold_ms = ms(start);
        // The first commit after start makes the second tree (one copy).
        let first_ms = commit(&ds, &format!("<bench xmlns=\"urn:example:bench\">{}</bench>", entry(n, 0)));
        let rss = rss_mb();
        let _ = rss_before;

        let rounds = if n >= 100_000 { 101 } else { 201 };
        let (mut create, mut modify, mut delete) = (Vec::new(), Vec::new(), Vec::new());
        for k in 0..rounds {
            let new = n + 1 + k;
            create
                .push(commit(&ds, &format!("<bench xmlns=\"urn:example:bench\">{}</bench>", entry(new, k))));
            modify.push(commit(
                &ds,
                &format!(
                    "<bench xmlns=\"urn:example:bench\"><item><name>item-{:06}</name><counter>{}</counter></item></bench>",
                    (k * 7919) % n,
                    k + 1_000_000
                ),
            ));
            delete.push(commit(
                &ds,
                &format!(
                    "<bench xmlns=\"urn:example:bench\" xmlns:nc=\"{NC}\"><item nc:operation=\"delete\">\
                     <name>item-{new:06}</name></item></bench>"
                ),
            ));
        }
        let snap = ds.running();
        let mut xml_ms = Vec::new();
        let mut json_ms = Vec::new();
        for _ in 0..5 {
            let start = Instant::now();
            let x = snap.print(DataFormat::XML, DataPrinterFlags::SHRINK).unwrap();
            xml_ms.push(ms(start));
            assert!(x.len() > n * 50);
            let start = Instant::now();
            let j = snap.print(DataFormat::JSON, DataPrinterFlags::SHRINK).unwrap();
            json_ms.push(ms(start));
            assert!(j.len() > n * 50);
        }
        drop(snap);
        let s = ds.stats();
        println!("N={n}");
        println!(
            "  bulk create of N in one edit: {:.0} ms (parse {:.0} ms, commit {:.0} ms)",
            bulk_ms.0 + bulk_ms.1,
            bulk_ms.0,
            bulk_ms.1
        );
        println!("  cold start (recovery + validation): {cold_ms:.0} ms; first commit after start {first_ms:.0} ms");
        println!("  single-entry create: {}", stats(create));
        println!("  single-entry modify: {}", stats(modify));
        println!("  single-entry delete: {}", stats(delete));
        println!("  full read XML: {}; JSON: {}", stats(xml_ms), stats(json_ms));
        println!("  process RSS after start and first commit: {rss:.0} MB (working trees: {} caught up, {} copied; {} incremental validations)", s.caught_up, s.copied, s.incremental);
    }
}
