//! Finds the file a module comes from and the line a schema node is defined
//! on, for error messages. libyang names the module and gives a line for
//! parse errors, but not the file; compile errors carry a schema path only.

use std::fs;
use std::path::{Path, PathBuf};

use super::embedded;

/// Where a module's text was found.
#[derive(Debug, Clone)]
pub enum Source {
    File(PathBuf),
    Embedded(&'static embedded::EmbeddedYang),
}

impl Source {
    pub fn display(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Embedded(e) => format!("{} (embedded)", e.path),
        }
    }

    pub fn text(&self) -> Option<String> {
        match self {
            Source::File(p) => fs::read_to_string(p).ok(),
            Source::Embedded(e) => Some(e.text.to_string()),
        }
    }
}

/// Depth limit for the recursive directory scan (libyang also searches the
/// subdirectories of a search directory).
const MAX_DEPTH: usize = 8;

/// Looks a (sub)module up the way libyang does: search directories first
/// (occd prefers them), then the embedded set. Without a revision the newest
/// `name@rev.yang` wins over a plain `name.yang`.
pub fn find_module(dirs: &[PathBuf], embedded: bool, name: &str, revision: Option<&str>) -> Option<Source> {
    for dir in dirs {
        let mut found = Vec::new();
        scan(dir, name, 0, &mut found);
        if found.is_empty() {
            continue;
        }
        let pick = match revision {
            Some(rev) => found
                .iter()
                .find(|(r, _)| r.as_deref() == Some(rev))
                .or_else(|| found.iter().find(|(r, _)| r.is_none())),
            None => found.iter().max_by(|a, b| a.0.cmp(&b.0)),
        };
        if let Some((_, path)) = pick {
            return Some(Source::File(path.clone()));
        }
    }
    if embedded {
        return embedded::find(name).map(Source::Embedded);
    }
    None
}

fn scan(dir: &Path, name: &str, depth: usize, found: &mut Vec<(Option<String>, PathBuf)>) {
    let Ok(rd) = fs::read_dir(dir) else { return };
    for entry in rd.flatten() {
        let path = entry.path();
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            if depth < MAX_DEPTH {
                scan(&path, name, depth + 1, found);
            }
            continue;
        }
        let file = entry.file_name();
        let file = file.to_string_lossy();
        let Some(stem) = file.strip_suffix(".yang").or_else(|| file.strip_suffix(".yin")) else {
            continue;
        };
        match stem.split_once('@') {
            None if stem == name => found.push((None, path)),
            Some((n, rev)) if n == name => found.push((Some(rev.to_string()), path)),
            _ => {}
        }
    }
}

const NODE_KEYWORDS: &[&str] = &[
    "container",
    "leaf",
    "leaf-list",
    "list",
    "choice",
    "case",
    "anydata",
    "anyxml",
    "rpc",
    "action",
    "notification",
];

/// The line (1-based) defining the node at a libyang schema path such as
/// `/mod:top/list/leaf`, found by looking for each node's defining statement
/// in order. `None` when the path does not map onto the text (nodes from a
/// grouping or an augment defined elsewhere, for instance).
pub fn line_of_schema_path(text: &str, schema_path: &str) -> Option<u64> {
    let mut pos = 0;
    let mut last = None;
    for seg in schema_path.split('/').filter(|s| !s.is_empty()) {
        let name = seg.rsplit(':').next().unwrap_or(seg);
        if name.contains(['{', '=', '[', '\'']) {
            return None;
        }
        let (at, _) = find_statement(text, pos, name)?;
        pos = at + 1;
        last = Some(at);
    }
    last.map(|at| text[..at].matches('\n').count() as u64 + 1)
}

fn find_statement(text: &str, from: usize, name: &str) -> Option<(usize, &'static str)> {
    let mut best: Option<(usize, &'static str)> = None;
    let keywords: &[&str] = if name == "input" || name == "output" { &[] } else { NODE_KEYWORDS };
    if keywords.is_empty() {
        let at = find_word(text, from, name)?;
        return Some((at, "io"));
    }
    for kw in keywords {
        let mut start = from;
        while let Some(at) = find_word(text, start, kw) {
            let rest = text[at + kw.len()..].trim_start();
            let arg = rest.trim_start_matches(['"', '\'']);
            let matches = arg.starts_with(name)
                && arg[name.len()..].starts_with(|c: char| c.is_whitespace() || "\"';{".contains(c));
            if matches {
                if best.is_none_or(|(b, _)| at < b) {
                    best = Some((at, kw));
                }
                break;
            }
            start = at + kw.len();
        }
    }
    best
}

/// Next occurrence of `word` at or after `from` standing as a whole word.
fn find_word(text: &str, from: usize, word: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut start = from;
    while let Some(rel) = text.get(start..)?.find(word) {
        let at = start + rel;
        let before_ok = at == 0 || is_boundary(bytes[at - 1]);
        let end = at + word.len();
        let after_ok = end >= bytes.len() || bytes[end].is_ascii_whitespace();
        if before_ok && after_ok {
            return Some(at);
        }
        start = at + word.len();
    }
    None
}

fn is_boundary(b: u8) -> bool {
    b.is_ascii_whitespace() || b == b'{' || b == b';' || b == b'}'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nested_node_line() {
        let text =
            "module m {\n  container c {\n    leaf y { type int8; }\n    leaf x { type strin; }\n  }\n}\n";
        assert_eq!(line_of_schema_path(text, "/m:c/x"), Some(4));
        assert_eq!(line_of_schema_path(text, "/m:c"), Some(2));
        assert_eq!(line_of_schema_path(text, "/m:nope"), None);
    }

    #[test]
    fn prefers_the_earliest_defining_statement() {
        let text = "module m {\n  list x { key k; leaf k { type string; } }\n  leaf x2 { type string; }\n}\n";
        assert_eq!(line_of_schema_path(text, "/m:x/k"), Some(2));
        assert_eq!(line_of_schema_path(text, "/m:x2"), Some(3));
    }
}
