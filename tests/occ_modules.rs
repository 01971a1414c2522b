//! The OCC modules and their examples (yang/occ): the reference scenario is
//! valid in XML and in JSON (and both say the same), the operational example
//! is valid full data, every invalid example is rejected with the
//! error-app-tag and error-path written beside it, and a generated scale
//! fixture is valid.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{root, run};
use occd::check::{check_text, DocFormat, DocKind};
use yang3::data::{Data as _, DataFormat, DataParserFlags, DataPrinterFlags, DataTree, DataValidationFlags};

fn examples() -> PathBuf {
    root().join("yang/occ/examples")
}

fn path_str(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn scenario_is_valid_in_xml_and_json() {
    let xml = path_str(&examples().join("scenario.xml"));
    let json = path_str(&examples().join("scenario.json"));
    let out = run(&["check", &xml, &json]);
    assert!(out.status.success(), "{}", out.all());
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn scenario_xml_and_json_carry_the_same_data() {
    let schema = common::default_schema();
    let ctx = schema.context();
    let print = |file: &str, format: DataFormat| {
        let text = std::fs::read_to_string(examples().join(file)).unwrap();
        let tree = DataTree::parse_string(
            ctx,
            text,
            format,
            DataParserFlags::STRICT | DataParserFlags::NO_STATE,
            DataValidationFlags::NO_STATE,
        )
        .unwrap();
        tree.print_string(DataFormat::JSON, DataPrinterFlags::WITH_SIBLINGS).unwrap()
    };
    assert_eq!(print("scenario.xml", DataFormat::XML), print("scenario.json", DataFormat::JSON));
}

#[test]
fn operational_example_is_valid_full_data() {
    let doc = path_str(&examples().join("scenario-operational.xml"));
    let out = run(&["check", "--type", "data", &doc]);
    assert!(out.status.success(), "{}", out.all());
    // It does carry state: as configuration it is rejected.
    let out = run(&["check", "--type", "config", &doc]);
    assert!(!out.status.success(), "{}", out.all());
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct Expect {
    /// Empty when the rule has no app tag (a `when` or `mandatory`).
    error_app_tag: String,
    error_path: String,
    rule: String,
}

#[test]
fn every_invalid_example_is_rejected_with_its_app_tag_and_path() {
    let schema = common::default_schema();
    let dir = examples().join("invalid");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml" || x == "json"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 10, "too few invalid examples in {}", dir.display());
    let mut failures = Vec::new();
    for case in &cases {
        let expect_file = case.with_extension("expect");
        let expect: Expect = toml::from_str(&std::fs::read_to_string(&expect_file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", expect_file.display()));
        let text = std::fs::read_to_string(case).unwrap();
        let format =
            if case.extension().is_some_and(|x| x == "json") { DocFormat::Json } else { DocFormat::Xml };
        let report = check_text(&schema, &text, DocKind::Config, format);
        // An empty expected app tag: the rule is a `when` or `mandatory`,
        // for which RFC 7950 §15 defines no error-app-tag.
        let want_tag = Some(expect.error_app_tag.as_str()).filter(|t| !t.is_empty());
        let hit = report.diagnostics.iter().any(|d| {
            d.is_error()
                && d.app_tag.as_deref() == want_tag
                && d.data_path.as_deref() == Some(expect.error_path.as_str())
        });
        if !hit {
            failures.push(format!(
                "{} ({}): expected app-tag {} at {}, got:\n  {}",
                case.display(),
                expect.rule,
                expect.error_app_tag,
                expect.error_path,
                report.diagnostics.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n  ")
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn invalid_examples_fail_through_the_command_line_too() {
    let dir = examples().join("invalid");
    let first = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "xml"))
        .min()
        .unwrap();
    let expect = std::fs::read_to_string(first.with_extension("expect")).unwrap();
    let expect: Expect = toml::from_str(&expect).unwrap();
    let out = run(&["check", &path_str(&first)]);
    assert!(!out.status.success());
    assert!(out.stderr.contains(&format!("[error-app-tag {}]", expect.error_app_tag)), "{}", out.stderr);
    assert!(out.stderr.contains(&format!("[data path {}]", expect.error_path)), "{}", out.stderr);
}

#[test]
fn generated_scale_fixture_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    for format in ["xml", "json"] {
        let out = std::process::Command::new("python3")
            .arg(examples().join("gen-scale.py"))
            .args(["1000", "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        let file = dir.path().join(format!("scale-1k.{format}"));
        std::fs::write(&file, out.stdout).unwrap();
        let out = run(&["check", &path_str(&file)]);
        assert!(out.status.success(), "{}", out.all());
    }
}

/// The statement block (`{ ... }`) that follows `from`, skipping quoted
/// strings; `None` when the statement ends with `;` instead.
fn block_after(text: &str, from: usize) -> Option<&str> {
    let bytes = text.as_bytes();
    let mut i = from;
    let mut quote = None;
    let mut depth = 0usize;
    let mut start = None;
    while i < bytes.len() {
        let c = bytes[i];
        match quote {
            Some(q) => {
                if c == b'\\' && q == b'"' {
                    i += 1;
                } else if c == q {
                    quote = None;
                }
            }
            None => match c {
                b'"' | b'\'' => quote = Some(c),
                b';' if depth == 0 => return None,
                b'{' => {
                    depth += 1;
                    start.get_or_insert(i);
                }
                b'}' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(&text[start.unwrap_or(from)..=i]);
                    }
                }
                _ => {}
            },
        }
        i += 1;
    }
    None
}

#[test]
fn every_must_carries_app_tag_message_and_rule_reference() {
    // The deviation module is left out: its musts are a server profile's
    // (or name a must to delete, which must match it exactly), not OCC rules.
    let mut files = vec![];
    for dir in ["yang/occ", "yang/occ/submodules"] {
        for e in std::fs::read_dir(root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "yang") {
                files.push(p);
            }
        }
    }
    let mut musts = 0;
    let mut missing = vec![];
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for (at, _) in text.match_indices("must ") {
            let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            if !text[line_start..at].trim().is_empty() {
                continue; // "must" inside a description or expression
            }
            musts += 1;
            let line = text[..at].matches('\n').count() + 1;
            let ok = block_after(&text, at + 5).is_some_and(|b| {
                b.contains("error-app-tag") && b.contains("error-message") && b.contains("OCC-R-")
            });
            if !ok {
                missing.push(format!("{}:{line}", file.display()));
            }
        }
    }
    assert!(musts >= 40, "only {musts} must statements found");
    assert!(
        missing.is_empty(),
        "must without error-app-tag, error-message or OCC-R reference:\n{}",
        missing.join("\n")
    );
}

#[test]
fn deviation_module_loads_cleanly_and_the_scenario_stays_valid() {
    let scenario = path_str(&examples().join("scenario.xml"));
    let out = run(&["check", "--module", "occ-example-deviations", &scenario]);
    assert!(out.status.success(), "{}", out.all());
    assert!(out.stdout.contains("  occ-example-deviations@"), "{}", out.stdout);
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}
