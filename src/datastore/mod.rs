//! The datastores (RFC 8342): transactions, edit semantics, persistence.
//!
//! Today this holds only the durable journal that commits are persisted to
//! (`journal`); the transaction manager and the NMDA datastores land on top of
//! it. Nothing here knows a protocol.

pub mod journal;
