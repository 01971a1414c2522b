//! Real NETCONF clients against `occd serve` over SSH: ncclient (every
//! operation it offers, filters, with-defaults, error attributes, password
//! and public-key login, all schemas fetched as OpenDaylight does) and
//! netconf-console2. Both come from the `.venv` that `make test` sets up
//! (scripts/setup.sh --test).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{root, write, Server};

fn venv_bin(name: &str) -> PathBuf {
    let p = root().join(".venv/bin").join(name);
    assert!(
        p.exists(),
        "{} is missing: run `make test` (scripts/setup.sh --test creates the venv with ncclient and netconf-console2)",
        p.display()
    );
    p
}

/// Runs a command with a time limit (coreutils `timeout`), returning
/// (success, stdout + stderr).
fn run(program: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("timeout")
        .arg("180")
        .arg(program)
        .args(args)
        .current_dir(root())
        .output()
        .expect("cannot run timeout");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

fn client_key(dir: &Path) -> (String, String) {
    use russh::keys::{Algorithm, PrivateKey};
    let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519).unwrap();
    let path = dir.join("id_ed25519");
    std::fs::write(&path, key.to_openssh(russh::keys::ssh_key::LineEnding::LF).unwrap().as_bytes()).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    (path.display().to_string(), key.public_key().to_openssh().unwrap())
}

fn netconf_port(server: &Server) -> String {
    let line = server.log.iter().find(|l| l.contains("NETCONF over SSH listening on")).expect("listen line");
    line.rsplit(':').next().unwrap().trim().to_string()
}

#[test]
fn ncclient_and_netconf_console2_against_occd() {
    let python = venv_bin("python");
    let ncc = venv_bin("netconf-console2");
    let dir = tempfile::tempdir().unwrap();
    let (keyfile, public) = client_key(dir.path());
    let password = "interop-pw";
    let cfg = write(
        dir.path(),
        "occd.toml",
        &format!(
            "data-dir = \"data\"\n[netconf]\nlisten = \"127.0.0.1:0\"\nauth-failure-delay-ms = 200\n[restconf]\nenabled = false\n\
             [[users]]\nname = \"admin\"\npassword-hash = \"$0${password}\"\nauthorized-keys = [{public:?}]\n"
        ),
    );
    let server = Server::start(&["-c", &cfg]).unwrap_or_else(|o| panic!("serve failed: {}", o.all()));
    let port = netconf_port(&server);
    let scenario = root().join("yang/occ/examples/scenario.xml").display().to_string();

    let script = root().join("tests/interop/ncclient_session.py").display().to_string();
    let (ok, out) = run(&python, &[&script, "127.0.0.1", &port, password, &keyfile, &scenario]);
    assert!(ok, "ncclient session failed:\n{out}");
    for step in [
        "connect and capabilities",
        "error attributes",
        "create_subscription",
        "get-schema of all",
        "public-key authentication",
    ] {
        assert!(out.contains(&format!("OK {step}")), "missing step {step}:\n{out}");
    }

    let base = ["--host", "127.0.0.1", "--port", &port, "-u", "admin", "-p", password];
    let nc = |extra: &[&str]| {
        let mut args: Vec<&str> = base.to_vec();
        args.extend_from_slice(extra);
        run(&ncc, &args)
    };
    let (ok, out) = nc(&["--hello"]);
    assert!(ok && out.contains("urn:ietf:params:netconf:base:1.1"), "{out}");
    let (ok, out) = nc(&["--get-config", "-x", "/actors/actor[actor-id='acme']/name"]);
    assert!(ok && out.contains("ACME Corporation") && !out.contains("nimbus"), "{out}");
    let edit = write(
        dir.path(),
        "rename.xml",
        "<actors xmlns=\"urn:occd:params:xml:ns:yang:occ-actors\"><actor><actor-id>acme</actor-id><name>ACME by console</name></actor></actors>",
    );
    let (ok, out) = nc(&["--db", "candidate", "--edit-config", &edit, "--commit"]);
    assert!(ok && !out.contains("rpc-error"), "{out}");
    let (ok, out) = nc(&["--get-config", "--filter", "/actors/actor/name"]);
    assert!(ok && out.contains("ACME by console"), "{out}");
    let rpc = write(dir.path(), "rpc.xml", "<get-config><source><running/></source></get-config>");
    let (ok, out) = nc(&["--rpc", &rpc]);
    assert!(ok && out.contains("<actor-id>nimbus</actor-id>"), "{out}");
    let (ok, out) = nc(&["--get", "-x", "/netconf-state/sessions"]);
    assert!(ok && out.contains("<username>admin</username>"), "{out}");

    let (status, log) = server.stop("TERM");
    assert!(status.success(), "{log:?}");
}

/// The README's OCC walkthrough, as written: `examples/occ-walkthrough.py`
/// (ncclient) and `examples/occ-walkthrough.sh` (curl), each on a fresh
/// server configured like `examples/occ-demo.toml` (free ports, 1 s PM
/// intervals).
#[test]
fn occ_walkthrough_with_ncclient_and_curl() {
    let python = venv_bin("python");
    for script in ["py", "sh"] {
        let dir = tempfile::tempdir().unwrap();
        let demo = std::fs::read_to_string(root().join("examples/occ-demo.toml")).unwrap();
        let cfg = demo
            .replace("./occd-demo-data", "data")
            .replace("127.0.0.1:8830", "127.0.0.1:0")
            .replace("127.0.0.1:8443", "127.0.0.1:0")
            .replace("pm-interval-seconds = 5", "pm-interval-seconds = 1");
        assert!(
            cfg.contains("pm-interval-seconds = 1") && cfg.contains("password-hash = \"$0$demo\""),
            "{cfg}"
        );
        let cfg = write(dir.path(), "occd.toml", &cfg);
        let server = Server::start(&["-c", &cfg]).unwrap_or_else(|o| panic!("serve failed: {}", o.all()));
        let (ok, out) = if script == "py" {
            let port = netconf_port(&server);
            run(
                &python,
                &[&root().join("examples/occ-walkthrough.py").display().to_string(), "127.0.0.1", &port],
            )
        } else {
            let line = server.log.iter().find(|l| l.contains("RESTCONF listening on")).expect("listen line");
            let url = line.rsplit("listening on ").next().unwrap().trim().trim_end_matches("/restconf");
            run(&root().join("examples/occ-walkthrough.sh"), &[url])
        };
        assert!(ok, "walkthrough.{script} failed:\n{out}");
        let expected: &[&str] = if script == "py" {
            &[
                "lifecycle-state: active",
                "received 10",
                "notification: csc-oper-status-change",
                "csc-001 oper-status: down operational-endpoints: 1",
                "loopback now: sent 5 received 0",
                "notification: sla-violation",
                "compliant: false",
                "empty window refused: operation-failed no-measurements",
                "terminate: lifecycle-state terminated",
                "refused: operation-failed invalid-state-transition",
                "done",
            ]
        } else {
            &[
                "\"lifecycle-state\": \"designed\"",
                "{\"occ-services:output\":{\"lifecycle-state\":\"active\"}}",
                "\"occ-interfaces:oper-status\": \"down\"",
                "\"operational-endpoints\": 1",
                "{\"occ-oam:output\":{\"received\":0,\"sent\":5}}",
                "\"compliant\":false",
                "\"error-app-tag\":\"no-measurements\"",
                "{\"occ-services:output\":{\"lifecycle-state\":\"terminated\"}}",
                "\"error-app-tag\":\"invalid-state-transition\"",
            ]
        };
        for e in expected {
            assert!(out.contains(e), "walkthrough.{script}: missing `{e}` in:\n{out}");
        }
        let (status, log) = server.stop("TERM");
        assert!(status.success(), "{log:?}");
    }
}
