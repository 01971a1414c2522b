//! occd-codegen: turns a compiled YANG module set into Rust types.
//!
//! This crate is a workspace member from the start so that the layout fixed in
//! `ARCHITECTURE.md` holds; the generator itself (libyang schema walk → IR →
//! `quote`/`prettyplease` emission) is the subject of the code-generator issue
//! and is not implemented yet. Nothing in the server depends on it today.
