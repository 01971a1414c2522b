//! The cost of NACM (RFC 8341) on a NETCONF get-config of 10k list entries
//! and on a single-entry edit, against the same server with NACM off. The
//! rules are RFC 8341 Appendix A (tests/fixtures/nacm/appendix-a.xml) on
//! the test modules beside them; 10k `acme-itf` interfaces (one is
//! `dummy`, which the key-predicate rule permit-dummy-interface names).
//!
//! Users: `admin` (the recovery user: no checks), `andy` (admin group,
//! permit-all), `guest` (/nacm denied by a rule),
//! `wilma` (limited: the key-predicate rule), `nobody` (no group: the
//! defaults, /nacm hidden by default-deny-all).
//!
//! cargo run --release --example nacm_bench [-- ROUNDS]
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../tests/common/nc.rs"]
mod nc;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use nc::Client;
use occd::config::Config;
use occd::datastore::{Datastores, Options};
use occd::nacm;
use occd::netconf::{Limits, Server};
use occd::notify::{self, Bus};
use occd::schema::{ModuleSpec, Schema};

const N: usize = 10_000;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn edit(config: &str) -> String {
    format!("<edit-config><target><running/></target><config>{config}</config></edit-config>")
}

async fn server(schema: &'static Schema, dir: &std::path::Path, on: bool) -> Arc<Server> {
    let ds = Datastores::open(schema, dir, Options::default()).unwrap();
    let bus = Bus::open(schema, Some(dir), notify::Limits::default()).unwrap();
    let settings =
        nacm::Settings { recovery_user: Some("admin".into()), user_groups: HashMap::new(), off: !on };
    let s = Server::with_access(ds, Limits::default(), bus, settings);
    let mut admin = Client::connect_as(&s, "admin").await;
    let mut xml = String::from("<interfaces xmlns=\"http://example.com/ns/itf\">");
    xml.push_str("<interface><name>dummy</name><mtu>1500</mtu></interface>");
    for i in 1..N {
        xml.push_str(&format!("<interface><name>eth{i:05}</name><mtu>1500</mtu></interface>"));
    }
    xml.push_str("</interfaces>");
    admin.ok(&edit(&xml)).await;
    let rules =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nacm/appendix-a.xml"))
            .unwrap();
    admin.ok(&edit(&rules)).await;
    s
}

/// Median ms of `rounds` get-config replies (after one warm-up), and the
/// reply size.
async fn get_config(c: &mut Client, rounds: usize) -> (f64, usize) {
    let op = "<get-config><source><running/></source></get-config>";
    let size = c.rpc(op).await.len();
    let mut t = Vec::new();
    for _ in 0..rounds {
        let start = Instant::now();
        let r = c.rpc(op).await;
        t.push(start.elapsed().as_secs_f64() * 1e3);
        assert!(r.len() > 100_000);
    }
    (median(t), size)
}

/// Median ms of get-config replies each right after a commit (by
/// `writer`, untimed): nothing printed before for that transaction.
async fn get_config_cold(c: &mut Client, writer: &mut Client, rounds: usize) -> f64 {
    let op = "<get-config><source><running/></source></get-config>";
    let mut t = Vec::new();
    for i in 0..rounds {
        writer
            .ok(&edit(&format!(
                "<interfaces xmlns=\"http://example.com/ns/itf\"><interface><name>eth00001</name><mtu>{}</mtu></interface></interfaces>",
                2000 + i
            )))
            .await;
        let start = Instant::now();
        let r = c.rpc(op).await;
        t.push(start.elapsed().as_secs_f64() * 1e3);
        assert!(r.len() > 100_000);
    }
    median(t)
}

/// Median ms of single-entry edits (the dummy entry's mtu).
async fn one_edit(c: &mut Client, rounds: usize) -> f64 {
    let mut t = Vec::new();
    for i in 0..rounds {
        let op = edit(&format!(
            "<interfaces xmlns=\"http://example.com/ns/itf\"><interface><name>dummy</name><mtu>{}</mtu></interface></interfaces>",
            1000 + i
        ));
        let start = Instant::now();
        c.ok(&op).await;
        t.push(start.elapsed().as_secs_f64() * 1e3);
    }
    median(t)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let rounds: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/nacm"));
    let extra: Vec<ModuleSpec> =
        ["acme-netconf", "acme-itf", "acme-system"].iter().map(|m| ModuleSpec::parse(m).unwrap()).collect();
    let schema: &'static Schema =
        Box::leak(Box::new(Schema::load(&Config::default().load_options(&[dir], &extra)).unwrap()));
    let d_off = tempfile::tempdir().unwrap();
    let d_on = tempfile::tempdir().unwrap();
    let off = server(schema, d_off.path(), false).await;
    let on = server(schema, d_on.path(), true).await;
    println!("NACM cost, {N} list entries, RFC 8341 Appendix A rules, medians of {rounds} (ms)");
    println!("get-config, repeated (running unchanged: printed once per view):");
    let (base, size) = get_config(&mut Client::connect_as(&off, "andy").await, rounds).await;
    println!("get-config   NACM off          {base:8.2}   ({size} bytes)");
    for (user, what) in [
        ("admin", "recovery user"),
        ("andy", "permit-all"),
        ("guest", "/nacm denied"),
        ("wilma", "key-predicate rule"),
        ("nobody", "no group: defaults"),
    ] {
        let (ms, size) = get_config(&mut Client::connect_as(&on, user).await, rounds).await;
        println!("get-config   {user:6} {what:18} {ms:8.2}   ratio {:.2}   ({size} bytes)", ms / base);
    }
    let base = get_config_cold(
        &mut Client::connect_as(&off, "andy").await,
        &mut Client::connect_as(&off, "admin").await,
        rounds,
    )
    .await;
    println!("get-config, each after a commit (no cached print):");
    println!("get-config   NACM off          {base:8.2}");
    for (user, what) in [
        ("andy", "permit-all"),
        ("guest", "/nacm denied"),
        ("wilma", "key-predicate rule"),
        ("nobody", "no group: defaults"),
    ] {
        let mut w = Client::connect_as(&on, "admin").await;
        let ms = get_config_cold(&mut Client::connect_as(&on, user).await, &mut w, rounds).await;
        println!("get-config   {user:6} {what:18} {ms:8.2}   ratio {:.2}", ms / base);
    }
    let base = one_edit(&mut Client::connect_as(&off, "andy").await, rounds).await;
    println!("edit         NACM off          {base:8.2}");
    for (user, what) in [("admin", "recovery user"), ("andy", "permit-all"), ("guest", "key-predicate rule")]
    {
        let ms = one_edit(&mut Client::connect_as(&on, user).await, rounds).await;
        println!("edit         {user:6} {what:18} {ms:8.2}   ratio {:.2}", ms / base);
    }
}
