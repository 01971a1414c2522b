//! The datastores (RFC 8342): transactions, edit semantics, persistence.
//!
//! The datastores and their transactions (`store`), RFC 6241 edits
//! (`edit`), incremental validation (`incremental`), the commit deltas
//! between the two trees (`delta`), the durable journal (`journal`), the
//! confirmed-commit rules (`confirmed`) and the locks (`locks`). Nothing
//! here knows a protocol.

pub mod confirmed;
pub mod delta;
pub mod edit;
pub mod incremental;
pub mod journal;
pub mod locks;
pub mod store;

pub use store::{
    print_tree, ChangeEvent, CommitInfo, CommitView, ConfirmEvent, ConfirmStep, Datastore, Datastores,
    EditFailure, Hook, Options, Precondition, Principal, Snapshot, StateProvider, Stats, TestOption,
    WriteGuard,
};
