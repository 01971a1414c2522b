//! Rust types of the YANG modules, generated at build time by
//! `occd-codegen` (see `build.rs` for the module list): one Rust module per
//! YANG module, shared `typedefs` and `identities`, and `AllData` for a
//! whole datastore. The RFC 7951 encoding, tree conversion and validation
//! through libyang are in [`rt`].
//!
//! ```text
//! occ_connections::Data            the module's top level
//!   .connections: Connections      container → struct
//!     .csc: IndexMap<OccId, Csc>   keyed list → map by key, order kept
//! occ_connections::connections().csc("csc-001")   instance-path builder
//! ```
//!
//! Building a cSC and printing it as RFC 7951 JSON and, through libyang, as
//! XML (the README's example; `cargo test --doc model` runs it):
//!
//! ```
//! use occd::config::Config;
//! use occd::model::identities::CscType;
//! use occd::model::occ_connections::{self, connections::csc::Endpoint, connections::Csc};
//! use occd::model::rt::Document;
//! use occd::schema::Schema;
//!
//! let mut csc = Csc::new("csc-001");
//! csc.csc_type = Some(CscType::PointToPoint);
//! csc.csp = Some("comcloud".into());
//! csc.max_endpoints = Some(2);
//! for (interface, tp) in [("csui-acme-hq", "tp-hq"), ("csui-acme-vm17", "tp-vm17")] {
//!     let ep = Endpoint::new(interface, tp);
//!     csc.endpoint.insert(ep.key(), ep);
//! }
//! let mut data = occ_connections::Data::default();
//! data.connections.csc.insert(csc.key(), csc);
//!
//! // RFC 7951 JSON.
//! let json = serde_json::to_string_pretty(&data.to_json())?;
//! assert!(json.contains("\"occ-connections:connections\""));
//! println!("{json}");
//!
//! // XML, printed by libyang from a tree of the same value.
//! let schema = Schema::load(&Config::default().load_options(&[], &[]))?;
//! let xml = data.to_xml(schema.context())?;
//! assert!(xml.contains("<csc-type xmlns:occt=\"urn:occd:params:xml:ns:yang:occ-types\">occt:point-to-point</csc-type>"));
//! println!("{xml}");
//!
//! // Its instance path, for a RESTCONF URI or an XPath filter.
//! let path = occ_connections::connections().csc("csc-001").endpoint("csui-acme-hq", "tp-hq");
//! assert_eq!(path.0, "/occ-connections:connections/csc[csc-id='csc-001']/endpoint[interface='csui-acme-hq'][csctp='tp-hq']");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod rt;

include!(concat!(env!("OUT_DIR"), "/model/mod.rs"));

/// The generator's golden file (codegen/tests/golden), compiled here so the
/// types of a module using every construct build and round-trip too.
#[cfg(test)]
#[allow(deprecated)]
pub mod example {
    include!("../../codegen/tests/golden/cg-example.rs");
}

#[cfg(test)]
mod tests;
