//! The datastores (RFC 8342): transactions, edit semantics, persistence.
//!
//! Today this holds the durable journal that commits are persisted to
//! (`journal`), the confirmed-commit rules (`confirmed`) and the datastore
//! locks (`locks`); the transaction manager and the NMDA datastores land on
//! top of them. Nothing here knows a
//! protocol.

pub mod confirmed;
pub mod delta;
pub mod edit;
pub mod journal;
pub mod locks;
pub mod store;

pub use store::{
    print_tree, ChangeEvent, CommitInfo, CommitView, ConfirmEvent, ConfirmStep, Datastore, Datastores,
    EditFailure, Hook, Options, Precondition, Principal, Snapshot, StateProvider, TestOption, WriteGuard,
};
