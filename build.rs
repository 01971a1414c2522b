//! Embeds the YANG modules below `yang/ietf` and `yang/occ` into the binary, so
//! `occd serve` runs its default module set from any working directory.
//!
//! For every `.yang` file it records the (sub)module name, the parent module
//! of a submodule, and the newest revision, and emits a table of
//! `include_str!` entries into `$OUT_DIR/embedded_yang.rs`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs};

const DIRS: &[&str] = &["yang/ietf", "yang/notifications", "yang/occ"];

struct Entry {
    module: String,
    submodule: Option<String>,
    revision: Option<String>,
    rel_path: String,
    abs_path: PathBuf,
}

fn main() {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into()));
    let mut entries = Vec::new();
    for dir in DIRS {
        println!("cargo:rerun-if-changed={dir}");
        let mut files = Vec::new();
        collect(&root.join(dir), &mut files);
        files.sort();
        for path in files {
            println!("cargo:rerun-if-changed={}", path.display());
            let text = match fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) => panic!("cannot read {}: {e}", path.display()),
            };
            let rel = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
            entries.push(describe(&text, rel, path));
        }
    }
    let mut out = String::from("pub static EMBEDDED_YANG: &[EmbeddedYang] = &[\n");
    for e in &entries {
        let _ = writeln!(
            out,
            "    EmbeddedYang {{ module: {:?}, submodule: {:?}, revision: {:?}, path: {:?}, text: include_str!({:?}) }},",
            e.module, e.submodule, e.revision, e.rel_path, e.abs_path
        );
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap_or_else(|_| ".".into()));
    if let Err(e) = fs::write(out_dir.join("embedded_yang.rs"), out) {
        panic!("cannot write embedded_yang.rs: {e}");
    }
}

/// Every `.yang` file below `dir`, subdirectories included (submodules and
/// deviation modules may live in their own folders).
fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for path in rd.filter_map(|e| e.ok().map(|e| e.path())) {
        if path.is_dir() {
            println!("cargo:rerun-if-changed={}", path.display());
            collect(&path, out);
        } else if path.extension().is_some_and(|x| x == "yang") {
            out.push(path);
        }
    }
}

/// Reads the header statements of a module. The files are the project's own
/// (checked by the test suite), so a light scan of statement starts suffices.
fn describe(text: &str, rel_path: String, abs_path: PathBuf) -> Entry {
    let mut kind_and_name: Option<(String, String)> = None;
    let mut belongs_to = None;
    let mut revision: Option<String> = None;
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(kw), Some(arg)) = (words.next(), words.next()) else { continue };
        let arg = arg.trim_matches(|c| c == '"' || c == '\'' || c == '{' || c == ';');
        match kw {
            "module" | "submodule" if kind_and_name.is_none() => {
                kind_and_name = Some((kw.to_string(), arg.to_string()))
            }
            "belongs-to" if belongs_to.is_none() => belongs_to = Some(arg.to_string()),
            "revision" if is_date(arg) && revision.as_deref().is_none_or(|r| r < arg) => {
                revision = Some(arg.to_string())
            }
            _ => {}
        }
    }
    let Some((kind, name)) = kind_and_name else {
        panic!("{rel_path}: no module or submodule statement found");
    };
    let (module, submodule) = if kind == "submodule" {
        let Some(parent) = belongs_to else { panic!("{rel_path}: submodule without belongs-to") };
        (parent, Some(name))
    } else {
        (name, None)
    };
    Entry { module, submodule, revision, rel_path, abs_path }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}
