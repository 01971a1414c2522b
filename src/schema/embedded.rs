//! The YANG modules built into the binary (`yang/ietf`, `yang/notifications` and `yang/occ`, see
//! `build.rs`), offered to libyang through its import callback so the default
//! module set loads from any working directory.

use std::collections::HashMap;
use std::sync::LazyLock;

use yang3::context::{EmbeddedModuleKey, EmbeddedModules};

/// One embedded module or submodule file.
#[derive(Debug)]
pub struct EmbeddedYang {
    /// The module name; for a submodule, the module it belongs to.
    pub module: &'static str,
    pub submodule: Option<&'static str>,
    pub revision: Option<&'static str>,
    /// Path of the source file relative to the repository root.
    pub path: &'static str,
    pub text: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/embedded_yang.rs"));

/// The table libyang's import callback reads. It must outlive every context
/// it is given to, hence a static.
pub fn modules() -> &'static EmbeddedModules {
    static MODULES: LazyLock<EmbeddedModules> = LazyLock::new(|| {
        let mut map = HashMap::new();
        for e in EMBEDDED_YANG {
            let (sub, sub_rev, rev) = match e.submodule {
                Some(s) => (Some(s), e.revision, None),
                None => (None, None, e.revision),
            };
            map.insert(EmbeddedModuleKey::new(e.module, rev, sub, sub_rev), e.text);
        }
        map
    });
    &MODULES
}

/// The embedded file of a module or submodule, by its own name.
pub fn find(name: &str) -> Option<&'static EmbeddedYang> {
    EMBEDDED_YANG.iter().find(|e| e.submodule.unwrap_or(e.module) == name)
}
