//! Notifications: the bus and its replay log, RFC 5277 subscriptions over
//! NETCONF sessions (raw bytes through `session::run`), RFC 6470 content
//! checked against the edits that caused it, filters, slow consumers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use occd::netconf::filter;
use occd::notify::subscription::Encoding;
use occd::notify::{Bus, Item, Request};
use occd::schema::Schema;

fn schema() -> &'static Schema {
    static SCHEMA: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let addr =
        *SCHEMA.get_or_init(|| Box::leak(Box::new(common::default_schema())) as *const Schema as usize);
    // SAFETY: leaked above, lives for the whole test process.
    unsafe { &*(addr as *const Schema) }
}

const NCN: &str = "urn:ietf:params:xml:ns:yang:ietf-netconf-notifications";

fn config_change(user: &str) -> String {
    format!(
        "<netconf-config-change xmlns=\"{NCN}\"><changed-by><username>{user}</username><session-id>3</session-id></changed-by><datastore>running</datastore><edit><target xmlns:a=\"urn:occd:params:xml:ns:yang:occ-actors\">/a:actors/a:actor[a:actor-id='x']</target><operation>create</operation></edit></netconf-config-change>"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_select_event_content() {
    let bus = Bus::in_memory(schema());
    let ctx = schema().context();
    let el = occd::netconf::xml::parse(&format!(
        "<filter type=\"subtree\"><netconf-config-change xmlns=\"{NCN}\"/></filter>"
    ))
    .unwrap();
    let f = filter::parse_notification_filter(ctx, Some(&el)).unwrap();
    let req = Request { stream: "NETCONF".into(), filter: f, start: None, stop: None };
    let mut sub = bus.subscribe(req, Encoding::Xml).unwrap();
    bus.publish(
        "ietf-netconf-notifications",
        occd::notify::events::session_start(&occd::datastore::Principal {
            user: "u".into(),
            session_id: 4,
            source_host: None,
        }),
    );
    bus.publish("ietf-netconf-notifications", config_change("alice"));
    match sub.next().await {
        Some(Item::Event { content, .. }) => assert!(content.contains("alice"), "{content}"),
        other => panic!("{other:?}"),
    }
    let _ = Arc::clone(&bus);
}
