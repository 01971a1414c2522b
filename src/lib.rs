//! occd: a YANG-model-driven NETCONF and RESTCONF server for Open Cloud
//! Connect services. See ARCHITECTURE.md for the layout.

pub mod check;
pub mod config;
pub mod datastore;
pub mod diag;
pub mod error;
pub mod logging;
pub mod model;
pub mod nacm;
pub mod netconf;
pub mod notify;
pub mod occ;
pub mod restconf;
pub mod schema;
pub mod serve;
