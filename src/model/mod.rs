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

pub mod rt;

include!(concat!(env!("OUT_DIR"), "/model/mod.rs"));

#[cfg(test)]
mod tests;
