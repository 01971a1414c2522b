//! Helpers shared by the integration tests: run the `occd` binary with a
//! time limit, or start `occd serve` and stop it with a signal.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod nc;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use occd::config::Config;
use occd::schema::{LoadOptions, ModuleSpec, Schema};

pub const TIMEOUT: Duration = Duration::from_secs(120);

pub fn occd() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_occd"));
    cmd.current_dir(root()).env_remove("RUST_LOG").stdin(Stdio::null());
    cmd
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(rel: &str) -> String {
    root().join("tests/fixtures").join(rel).display().to_string()
}

pub struct Output {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs occd to completion, killing it after [`TIMEOUT`].
pub fn run(args: &[&str]) -> Output {
    let mut child = occd().args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let status = wait(&mut child, TIMEOUT).unwrap_or_else(|| panic!("occd {args:?} did not finish"));
    Output { status, stdout: out.recv().unwrap(), stderr: err.recv().unwrap() }
}

fn drain(mut r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = r.read_to_string(&mut s);
        let _ = tx.send(s);
    });
    rx
}

pub fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    None
}

/// A running `occd serve`, killed on drop if still alive.
pub struct Server {
    pub child: Child,
    pub stdout: String,
    /// Every stderr (log) line read so far.
    pub log: Vec<String>,
    lines: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `occd serve ARGS` and waits for its "occd ready" log line.
    /// Returns the server or, if it exited first, its output.
    pub fn start(args: &[&str]) -> Result<Server, Output> {
        let mut child =
            occd().arg("serve").args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        let out = drain(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server { child, stdout: String::new(), log: Vec::new(), lines };
        let start = Instant::now();
        while start.elapsed() < TIMEOUT {
            match server.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => {
                    let ready = line.contains("occd ready");
                    server.log.push(line);
                    if ready {
                        return Ok(server);
                    }
                }
                Err(e) => {
                    if let Some(status) = server.child.try_wait().unwrap() {
                        server.collect(Duration::from_millis(500));
                        return Err(Output {
                            status,
                            stdout: out.recv_timeout(TIMEOUT).unwrap_or_default(),
                            stderr: server.log.join("\n"),
                        });
                    }
                    if e == mpsc::RecvTimeoutError::Disconnected {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
        }
        panic!("occd serve not ready in time: {:?}", server.log);
    }

    fn collect(&mut self, limit: Duration) {
        let start = Instant::now();
        while start.elapsed() < limit {
            match self.lines.recv_timeout(Duration::from_millis(20)) {
                Ok(l) => self.log.push(l),
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
        }
    }

    /// Sends `signal` (e.g. "TERM") and waits for the exit.
    pub fn stop(mut self, signal: &str) -> (ExitStatus, Vec<String>) {
        let pid = self.child.id().to_string();
        let ok = Command::new("kill").args([&format!("-{signal}"), &pid]).status().unwrap();
        assert!(ok.success());
        let status = wait(&mut self.child, TIMEOUT).expect("occd serve did not stop");
        self.collect(Duration::from_millis(500));
        (status, std::mem::take(&mut self.log))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

/// The default module set (protocol and OCC modules), as `occd` loads it.
pub fn default_schema() -> Schema {
    Schema::load(&Config::default().load_options(&[], &[])).unwrap()
}

/// Writes each `(name, text)` as `name.yang` into a temporary directory and
/// implements them all (with the protocol modules if asked). Keep the
/// directory alive as long as the schema.
pub fn schema_with(modules: &[(&str, &str)], protocol_modules: bool) -> (Schema, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in modules {
        std::fs::write(dir.path().join(format!("{name}.yang")), text).unwrap();
    }
    let opts = LoadOptions {
        search_dirs: vec![dir.path().to_path_buf()],
        embedded: true,
        protocol_modules,
        modules: modules.iter().map(|(name, _)| ModuleSpec::parse(name).unwrap()).collect(),
    };
    (Schema::load(&opts).unwrap(), dir)
}

/// [`schema_with`] (protocol modules included) made once per test process
/// in `cell` and leaked: data trees borrow it for `'static`.
pub fn leaked_schema(cell: &'static std::sync::OnceLock<usize>, modules: &[(&str, &str)]) -> &'static Schema {
    let addr = *cell.get_or_init(|| {
        let (s, dir) = schema_with(modules, true);
        std::mem::forget(dir);
        Box::leak(Box::new(s)) as *const Schema as usize
    });
    // SAFETY: leaked above, lives for the whole test process.
    unsafe { &*(addr as *const Schema) }
}

/// [`default_schema`] made once per test process and leaked: data trees
/// borrow it for `'static`.
pub fn leaked_default_schema() -> &'static Schema {
    static CELL: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let addr = *CELL.get_or_init(|| Box::leak(Box::new(default_schema())) as *const Schema as usize);
    // SAFETY: leaked above, lives for the whole test process.
    unsafe { &*(addr as *const Schema) }
}

/// splitmix64: enough randomness for test delays and random edits.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Starts a crash-test child (this test binary running only the test
/// `child_test`, with `env` set to `dir`) and a thread reading its `ACK
/// <txid>` lines; the thread returns the last txid acknowledged.
pub fn spawn_acking_child(
    child_test: &str,
    env: &str,
    dir: &Path,
    stderr: &Path,
) -> (Child, std::thread::JoinHandle<Option<u64>>) {
    let exe = std::env::current_exe().unwrap();
    let mut child = Command::new(exe)
        .args(["--exact", child_test, "--nocapture", "--test-threads=1"])
        .env(env, dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(stderr).unwrap())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut last = None;
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            // libtest may print "test NAME ... " before the child's first
            // line, on the same line: look for the ACK anywhere in it.
            if let Some(pos) = line.rfind("ACK ") {
                if let Ok(t) = line[pos + 4..].trim().parse::<u64>() {
                    last = Some(t);
                }
            }
        }
        last
    });
    (child, reader)
}

/// An HTTP/1.1 response read to the end: status, headers (names as sent),
/// body.
pub fn split_http(raw: &[u8]) -> (u16, Vec<(String, String)>, String) {
    let text = String::from_utf8_lossy(raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default().split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
        .collect();
    (status, headers, body.to_string())
}

/// Serves RESTCONF (plain HTTP) for `server` on a free 127.0.0.1 port, each
/// of `users` logging in with password `pw`; returns the port.
pub async fn restconf_on_free_port(server: &std::sync::Arc<occd::netconf::Server>, users: &[&str]) -> u16 {
    let users: Vec<occd::config::UserConfig> = users
        .iter()
        .map(|u| occd::config::UserConfig {
            name: u.to_string(),
            password_hash: Some("$0$pw".into()),
            authorized_keys: Vec::new(),
            groups: Vec::new(),
        })
        .collect();
    let users = std::sync::Arc::new(occd::netconf::auth::Users::from_config(&users, None).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let settings = occd::restconf::Settings {
        max_body: 1 << 20,
        auth_delay: Duration::ZERO,
        anonymous: None,
        public_url: format!("http://127.0.0.1:{port}"),
    };
    tokio::spawn(occd::restconf::serve(
        listener,
        None,
        occd::restconf::Restconf::new(server.clone(), users, settings),
    ));
    port
}

/// A NETCONF server object (what RESTCONF shares too) on datastores and a
/// notification bus in `dir`, with these access settings.
pub fn server_in(
    schema: &'static Schema,
    dir: &Path,
    settings: occd::nacm::Settings,
) -> std::sync::Arc<occd::netconf::Server> {
    let ds = occd::datastore::Datastores::open(schema, dir, occd::datastore::Options::default()).unwrap();
    let bus = occd::notify::Bus::open(schema, Some(dir), occd::notify::Limits::default()).unwrap();
    occd::netconf::Server::with_access(ds, occd::netconf::Limits::default(), bus, settings)
}

/// [`server_in`] on the default module set with access control off.
pub fn open_server_in(dir: &Path) -> std::sync::Arc<occd::netconf::Server> {
    let settings = occd::nacm::Settings {
        recovery_user: None,
        user_groups: std::collections::HashMap::new(),
        off: true,
    };
    server_in(leaked_default_schema(), dir, settings)
}

/// One HTTP/1.1 request to 127.0.0.1:`port` as `user` (password `pw`),
/// JSON body if any: (status, headers with lower-case names, body).
pub async fn http_as(
    port: u16,
    user: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    use base64::Engine as _;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{user}:pw"));
    let mut r = format!(
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: Basic {auth}\r\n"
    );
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() {
        r.push_str("Content-Type: application/yang-data+json\r\n");
    }
    r.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    s.write_all(r.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut out)).await.unwrap().unwrap();
    let (status, headers, body) = split_http(&out);
    (status, headers.into_iter().map(|(n, v)| (n.to_ascii_lowercase(), v)).collect(), body)
}
