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
