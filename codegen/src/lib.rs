//! occd-codegen: turns a compiled YANG module set into Rust types.
//!
//! [`generate`] walks libyang's compiled schema of the modules asked for
//! (through `yang3`, and [`raw`] where `yang3` has no wrapper) into an
//! intermediate representation ([`ir`]), then emits one Rust module per
//! YANG module with `quote` and formats it with `prettyplease` ([`emit`]).
//! The generated code leans on a small runtime the host crate provides
//! (`Options::rt`; occd's is `src/model/rt.rs`).

pub mod emit;
pub mod ir;
pub mod names;
pub mod raw;

pub use emit::{Generated, Options};

use yang3::context::Context;

/// Generates Rust for `modules` (implemented modules of `ctx`).
pub fn generate(ctx: &Context, modules: &[String], opts: &Options) -> Result<Generated, String> {
    let set = ir::build(ctx, modules)?;
    emit::generate(&set, opts)
}

/// The generated set as one file, for review (the `occd-codegen` binary):
/// the shared types, then one `pub mod` per module.
pub fn render_single(g: &Generated) -> String {
    let mut out = String::new();
    out.push_str(&g.shared);
    out.push_str(&g.set);
    for (yang, rust, src) in &g.modules {
        out.push_str(&format!("\n/// Module `{yang}`.\npub mod {rust} {{\n{src}}}\n"));
    }
    out
}

/// A context with `modules` loaded from `dirs` (subdirectories included),
/// every feature enabled, compiled.
pub fn load(dirs: &[impl AsRef<std::path::Path>], modules: &[String]) -> Result<Context, String> {
    let all: Vec<(&str, &[&str])> = modules.iter().map(|m| (m.as_str(), &["*"][..])).collect();
    load_with_features(dirs, &all)
}

/// Like [`load`], each module with the features given beside it (`"*"`: all).
pub fn load_with_features(
    dirs: &[impl AsRef<std::path::Path>],
    modules: &[(&str, &[&str])],
) -> Result<Context, String> {
    use yang3::context::ContextFlags;
    let flags = ContextFlags::from_bits_retain(
        (libyang3_sys::LY_CTX_DISABLE_SEARCHDIR_CWD | libyang3_sys::LY_CTX_PREFER_SEARCHDIRS) as u16,
    );
    let mut ctx = Context::new(flags).map_err(|e| format!("libyang: {e}"))?;
    for d in dirs {
        ctx.set_searchdir(d.as_ref()).map_err(|e| format!("search dir {}: {e}", d.as_ref().display()))?;
    }
    for (m, features) in modules {
        ctx.load_module(m, None, features).map_err(|e| format!("cannot load {m}: {e}"))?;
    }
    Ok(ctx)
}
