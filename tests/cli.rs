//! The command line as a user meets it: `occd check` on modules and
//! documents, `occd serve` start-up and shutdown, and every bad input of the
//! foundation issue giving one clear message and a non-zero exit.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{fixture, run, write, Server};

const LIB: &[&str] = &["--yang-dir", "tests/fixtures/yang/good", "--module", "occd-test-library"];

fn with_lib<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["check"];
    v.extend_from_slice(LIB);
    v.extend_from_slice(args);
    v
}

/// A config file implementing the test module, with extra keys for its
/// `[[schema.modules]]` entry.
fn lib_config(dir: &std::path::Path, module_keys: &str) -> String {
    let yang = fixture("yang/good");
    let text =
        format!("[schema]\nsearch-dirs = [{yang:?}]\n[[schema.modules]]\nname = \"occd-test-library\"\n{module_keys}\n");
    write(dir, "occd.toml", &text)
}

#[test]
fn default_module_set_loads() {
    let out = run(&["check"]);
    assert!(out.status.success(), "{}", out.all());
    for m in [
        "ietf-netconf@2011-06-01 [writable-running candidate confirmed-commit rollback-on-error validate startup xpath]",
        "ietf-netconf-with-defaults@2011-06-01",
        "ietf-netconf-monitoring@2010-10-04",
        "ietf-netconf-nmda@2019-01-07 [origin with-defaults]",
        "ietf-yang-library@2019-01-04",
        "ietf-restconf@2017-01-26",
        "ietf-yang-patch@2017-02-22",
    ] {
        assert!(out.stdout.contains(m), "missing {m} in:\n{}", out.stdout);
    }
    for (m, _) in occd::config::DEFAULT_MODULES {
        assert!(out.stdout.contains(&format!("  {m}@")), "missing {m} in:\n{}", out.stdout);
    }
    assert!(!out.stderr.contains("warning"), "{}", out.stderr);
}

#[test]
fn extra_module_from_command_line() {
    let out = run(&with_lib(&[]));
    assert!(out.status.success(), "{}", out.all());
    assert!(out.stdout.contains("occd-test-library@2026-11-24 [ratings]"), "{}", out.stdout);
}

#[test]
fn extra_module_with_revision_and_from_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = lib_config(dir.path(), "revision = \"2026-11-24\"\nfeatures = []");
    let out = run(&["check", "-c", &cfg]);
    assert!(out.status.success(), "{}", out.all());
    // Features listed explicitly: none enabled.
    assert!(out.stdout.contains("occd-test-library@2026-11-24\n"), "{}", out.stdout);
    let out =
        run(&["check", "--yang-dir", "tests/fixtures/yang/good", "--module", "occd-test-library@2020-01-01"]);
    assert!(!out.status.success());
    assert!(out.stderr.contains("occd-test-library"), "{}", out.stderr);
}

#[test]
fn valid_documents_in_xml_and_json() {
    let xml = fixture("data/library-valid.xml");
    let json = fixture("data/library-valid.json");
    let out = run(&with_lib(&[&xml, &json]));
    assert!(out.status.success(), "{}", out.all());
    assert!(out.stdout.contains("library-valid.xml: valid"), "{}", out.stdout);
    assert!(out.stdout.contains("library-valid.json: valid"), "{}", out.stdout);
}

#[test]
fn invalid_document_reports_every_error_with_its_path() {
    let doc = fixture("data/library-invalid.xml");
    let out = run(&with_lib(&[&doc]));
    assert!(!out.status.success());
    let e = &out.stderr;
    assert!(e.contains("library-invalid.xml:3: error: Unsatisfied range"), "{e}");
    assert!(e.contains("[data path /occd-test-library:library/album[title='Wasting Light']/year]"), "{e}");
    assert!(e.contains("The shelf is full."), "{e}");
    assert!(e.contains("[error-app-tag shelf-full]"), "{e}");
    assert!(out.stdout.contains("library-invalid.xml: 3 errors"), "{}", out.stdout);
}

#[test]
fn state_data_only_in_full_data_mode() {
    let doc = fixture("data/library-state.xml");
    let out = run(&with_lib(&[&doc]));
    assert!(!out.status.success());
    assert!(out.stderr.contains("state node \"play-count\""), "{}", out.stderr);
    assert!(out.stderr.contains("library-state.xml:2:"), "line number expected: {}", out.stderr);
    let out = run(&with_lib(&["--type", "data", &doc]));
    assert!(out.status.success(), "{}", out.all());
}

#[test]
fn malformed_documents_fail_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let bad_xml = write(
        dir.path(),
        "a.xml",
        "<library xmlns=\"urn:occd:params:xml:ns:yang:occd-test-library\"><capacity>",
    );
    let bad_json = write(dir.path(), "b.json", "{\"occd-test-library:library\": {\"capacity\": \"many\"}}");
    let nul = write(dir.path(), "c.xml", "<a>\0</a>");
    let unknown = write(dir.path(), "d.xml", "<nothing xmlns=\"urn:nowhere\"/>");
    let out = run(&with_lib(&[&bad_xml, &bad_json, &nul, &unknown, "/nonexistent/doc.xml"]));
    assert!(!out.status.success());
    for f in ["a.xml", "b.json", "c.xml", "d.xml", "/nonexistent/doc.xml"] {
        assert!(
            out.stdout.contains(&format!("{f}: 1 error")) || out.stdout.contains(&format!("{f}: 2 errors")),
            "{f}: {}",
            out.all()
        );
    }
    assert!(out.stderr.contains("NUL character"), "{}", out.stderr);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
}

#[test]
fn missing_module_names_where_it_looked() {
    let out = run(&["check", "--yang-dir", "tests/fixtures/yang/good", "--module", "no-such-module"]);
    assert!(!out.status.success());
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("\"no-such-module\""), "{}", out.stderr);
    assert!(out.stderr.contains("tests/fixtures/yang/good"), "{}", out.stderr);
}

#[test]
fn syntax_error_names_file_and_line() {
    let out = run(&["check", "--yang-dir", "tests/fixtures/yang/syntax", "--module", "occd-test-syntax"]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("tests/fixtures/yang/syntax/occd-test-syntax.yang:8: error: Invalid keyword"),
        "{}",
        out.stderr
    );
    assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
}

#[test]
fn syntax_error_in_an_import_names_the_imported_file() {
    let out =
        run(&["check", "--yang-dir", "tests/fixtures/yang/broken-import", "--module", "occd-test-importer"]);
    assert!(!out.status.success());
    assert!(out.stderr.contains("broken-import/occd-test-syntax.yang:8: error"), "{}", out.stderr);
}

#[test]
fn compile_error_names_file_and_line() {
    let out = run(&["check", "--yang-dir", "tests/fixtures/yang/semantic", "--module", "occd-test-semantic"]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains(
            "semantic/occd-test-semantic.yang:11: error: Referenced type \"no-such-type\" not found."
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn circular_import_is_reported() {
    let out = run(&["check", "--yang-dir", "tests/fixtures/yang/circular", "--module", "occd-test-circ-a"]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("occd-test-circ-a.yang: error: A circular dependency (import)"),
        "{}",
        out.stderr
    );
}

#[test]
fn unknown_feature_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = lib_config(dir.path(), "features = [\"ratingz\"]");
    let out = run(&["check", "-c", &cfg]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains(
            "occd-test-library.yang: error: Feature \"ratingz\" not found in module \"occd-test-library\""
        ),
        "{}",
        out.stderr
    );
}

#[test]
fn missing_search_dir_is_reported() {
    let out = run(&["check", "--yang-dir", "/nonexistent/yang"]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("/nonexistent/yang: error: YANG search directory does not exist"),
        "{}",
        out.stderr
    );
}

#[test]
fn bad_module_argument_is_a_usage_error() {
    let out = run(&["check", "--module", "bad name"]);
    assert_eq!(out.status.code(), Some(2), "{}", out.all());
    assert!(out.stderr.contains("not a YANG identifier"), "{}", out.stderr);
}

#[test]
fn unknown_config_key_names_file_line_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let cfg =
        write(dir.path(), "occd.toml", "data-dir = \"d\"\n\n[netconf]\nlisten-adress = \"127.0.0.1:830\"\n");
    let out = run(&["check", "-c", &cfg]);
    assert!(!out.status.success());
    let e = &out.stderr;
    assert!(e.contains(&cfg) && e.contains("line 4") && e.contains("unknown field `listen-adress`"), "{e}");
    assert!(e.contains("expected one of") && e.contains("`listen`"), "{e}");
    let cfg = write(dir.path(), "top.toml", "datadir = \"d\"\n");
    let out = run(&["check", "-c", &cfg]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("unknown field `datadir`") && out.stderr.contains("`data-dir`"),
        "{}",
        out.stderr
    );
}

#[test]
fn mistyped_config_value_names_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "occd.toml", "[netconf]\nlisten = \"localhost\"\n");
    let out = run(&["check", "-c", &cfg]);
    assert!(!out.status.success());
    assert!(out.stderr.contains(&cfg) && out.stderr.contains("line 2"), "{}", out.stderr);
    let cfg = write(dir.path(), "b.toml", "[log]\nlevel = \"loud\"\n");
    let out = run(&["check", "-c", &cfg]);
    assert!(!out.status.success());
    assert!(out.stderr.contains("line 2") && out.stderr.contains("loud"), "{}", out.stderr);
    let out = run(&["check", "-c", "/nonexistent/occd.toml"]);
    assert!(!out.status.success());
    assert!(out.stderr.contains("/nonexistent/occd.toml: cannot read config"), "{}", out.stderr);
}

/// A data dir beside the config and NETCONF on a free port.
const SERVE_CONFIG: &str =
    "data-dir = \"data\"\n[netconf]\nlisten = \"127.0.0.1:0\"\n[restconf]\nlisten = \"127.0.0.1:0\"\n";

#[test]
fn serve_starts_reports_modules_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let cfg = write(dir.path(), "occd.toml", SERVE_CONFIG);
    let mut args = vec!["-c", cfg.as_str()];
    args.extend_from_slice(LIB);
    let server = Server::start(&args).unwrap_or_else(|o| panic!("serve failed: {}", o.all()));
    let log = server.log.join("\n");
    assert!(log.contains("module set compiled"), "{log}");
    assert!(log.contains("module occd-test-library@2026-11-24 features: ratings"), "{log}");
    assert!(log.contains("module ietf-netconf@2011-06-01"), "{log}");

    // A second server on the same data dir is refused.
    let second = Server::start(&["-c", &cfg]).err().expect("second server must not start");
    assert!(!second.status.success());
    assert!(second.stderr.contains("in use by another occd process"), "{}", second.stderr);

    let (status, log) = server.stop("TERM");
    assert!(status.success(), "{status:?}");
    assert!(log.iter().any(|l| l.contains("SIGTERM received, shutting down")), "{log:?}");

    // The generated admin password was written with mode 0600, once.
    let pw_file = data.join("admin-password");
    let meta = std::fs::metadata(&pw_file).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let first = std::fs::read_to_string(&pw_file).unwrap();
    // So was the self-signed RESTCONF key; the certificate is kept too.
    let key = data.join("restconf-key.pem");
    assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    let cert = std::fs::read_to_string(data.join("restconf-cert.pem")).unwrap();
    assert!(cert.starts_with("-----BEGIN CERTIFICATE-----"));
    let server = Server::start(&["-c", &cfg]).unwrap_or_else(|o| panic!("restart failed: {}", o.all()));
    assert_eq!(std::fs::read_to_string(&pw_file).unwrap(), first);
    assert_eq!(std::fs::read_to_string(data.join("restconf-cert.pem")).unwrap(), cert);
    assert!(
        server.log.iter().any(|l| l.contains("RESTCONF listening on https://127.0.0.1:")),
        "{:?}",
        server.log
    );
    let (status, log) = server.stop("INT");
    assert!(status.success(), "{status:?}");
    assert!(log.iter().any(|l| l.contains("SIGINT received")), "{log:?}");
}

#[test]
fn serve_prints_the_generated_password_once() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = write(dir.path(), "occd.toml", SERVE_CONFIG);
    let server = Server::start(&["-c", &cfg]).unwrap_or_else(|o| panic!("serve failed: {}", o.all()));
    let (status, _) = server.stop("TERM");
    assert!(status.success());
    let pw = std::fs::read_to_string(dir.path().join("data/admin-password")).unwrap();
    assert!(pw.trim().len() >= 16, "{pw}");
}

#[test]
fn serve_rejects_an_unusable_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "plain-file", "x");
    let cfg = write(dir.path(), "a.toml", &format!("data-dir = {file:?}\n"));
    let out = Server::start(&["-c", &cfg]).err().expect("must not start");
    assert!(!out.status.success());
    assert!(out.stdout.is_empty() || !out.stdout.contains("password"));
    assert!(out.stderr.contains(&format!("data dir {file}: not a directory")), "{}", out.stderr);
    let under = format!("{file}/sub");
    let cfg = write(dir.path(), "b.toml", &format!("data-dir = {under:?}\n"));
    let out = Server::start(&["-c", &cfg]).err().expect("must not start");
    assert!(out.stderr.contains(&format!("data dir {under}: cannot create")), "{}", out.stderr);
}

#[test]
fn serve_rejects_a_bad_module_before_starting() {
    let out = Server::start(&["--yang-dir", "tests/fixtures/yang/syntax", "--module", "occd-test-syntax"])
        .err()
        .expect("must not start");
    assert!(!out.status.success());
    assert!(out.stderr.contains("occd-test-syntax.yang:8: error"), "{}", out.stderr);
}

#[test]
fn a_module_listed_twice_or_a_protocol_module_is_refused() {
    let out = run(&["check", "--module", "ietf-netconf"]);
    assert!(!out.status.success());
    assert!(
        out.stderr.contains("module ietf-netconf is a protocol module occd loads itself"),
        "{}",
        out.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let cfg = lib_config(dir.path(), "features = []");
    let out = run(&["check", "-c", &cfg, "--module", "occd-test-library"]);
    assert!(!out.status.success());
    assert!(out.stderr.contains("module occd-test-library is listed twice"), "{}", out.stderr);
}

#[test]
fn xpath_warning_names_file_and_line() {
    let out = run(&["check", "--yang-dir", "tests/fixtures/yang/warning", "--module", "occd-test-warning"]);
    assert!(out.status.success(), "warnings do not fail the check: {}", out.all());
    assert!(
        out.stderr.contains("warning/occd-test-warning.yang:7: warning: Schema node \"nonexistent\""),
        "{}",
        out.stderr
    );
}
