//! Cost of one single-entry edit (parse_edit + apply_edit) against a flat
//! list of N entries, and of libyang's full validation of that list, for
//! N = 1k, 10k, 100k. Uses the bench module of ../shared/bench/yang (list
//! `item` keyed by `name`, 5 leaves).
//!
//! cargo run --release --example edit_bench [-- BENCH_YANG_DIR]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use occd::datastore::edit::{apply_edit, parse_edit, DefaultOperation};
use occd::schema::{LoadOptions, ModuleSpec, Schema};
use yang3::data::{DataFormat, DataParserFlags, DataTree, DataValidationFlags};

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "../shared/bench/yang".into());
    let opts = LoadOptions {
        search_dirs: vec![dir.into()],
        embedded: true,
        protocol_modules: true,
        modules: vec![ModuleSpec { name: "bench".into(), revision: None, features: vec!["*".into()] }],
    };
    let schema = Schema::load(&opts).expect("load the bench module");
    let ctx = schema.context();
    for n in [1_000usize, 10_000, 100_000] {
        let mut xml = String::from("<bench xmlns=\"urn:example:bench\">");
        for i in 0..n {
            xml.push_str(&format!(
                "<item><name>item-{i:06}</name><counter>{i}</counter><enabled>true</enabled><descr>d</descr></item>"
            ));
        }
        xml.push_str("</bench>");
        let flags = DataParserFlags::STRICT | DataParserFlags::NO_STATE;
        let mut tree =
            DataTree::parse_string(ctx, &xml, DataFormat::XML, flags, DataValidationFlags::NO_STATE).unwrap();
        let mut times = Vec::new();
        for k in 0..1001 {
            let edit = format!(
                "<bench xmlns=\"urn:example:bench\"><item><name>item-{:06}</name><counter>{}</counter></item></bench>",
                (k * 7919) % n,
                k + 1_000_000
            );
            let start = Instant::now();
            let edit = parse_edit(ctx, &edit).unwrap();
            let changes = apply_edit(&mut tree, &edit, DefaultOperation::Merge).unwrap();
            times.push(start.elapsed().as_secs_f64() * 1e6);
            assert_eq!(changes.len(), 1);
        }
        times.sort_by(f64::total_cmp);
        let start = Instant::now();
        tree.validate(DataValidationFlags::NO_STATE).unwrap();
        let validate = start.elapsed().as_secs_f64() * 1e3;
        println!(
            "N={n}: one-entry merge (parse_edit + apply_edit) p50 {:.1} µs, p99 {:.1} µs; full validation {validate:.1} ms",
            percentile(&times, 0.5),
            percentile(&times, 0.99)
        );
    }
}
