//! `occd serve`: the long-running server. It prepares the data directory
//! and the users, loads and reports the module set, opens the datastores,
//! serves NETCONF over SSH and RESTCONF over HTTPS, and stops cleanly on SIGINT or SIGTERM.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use std::sync::Arc;
use std::time::Duration;

use fs4::fs_std::FileExt as _;
use tokio::net::TcpListener;
use tracing::{info, warn};

use crate::config::Config;
use crate::datastore::{Datastores, Options as DsOptions};
use crate::netconf::{self, auth::Users, ssh, Limits};
use crate::restconf;
use crate::schema::Schema;

/// The data directory, locked for this process for as long as it lives.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    _lock: File,
}

impl DataDir {
    /// Creates the directory if needed, checks it can be read and written,
    /// and takes an exclusive lock so two servers never share one.
    pub fn open(path: &Path) -> Result<DataDir, String> {
        let shown = path.display();
        if !path.exists() {
            fs::create_dir_all(path).map_err(|e| format!("data dir {shown}: cannot create: {e}"))?;
        }
        if !path.is_dir() {
            return Err(format!("data dir {shown}: not a directory"));
        }
        fs::read_dir(path).map_err(|e| format!("data dir {shown}: cannot read: {e}"))?;
        let lock_path = path.join("occd.lock");
        let mut lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| format!("data dir {shown}: cannot write {}: {e}", lock_path.display()))?;
        match lock.try_lock_exclusive() {
            Ok(true) => {}
            Ok(false) => return Err(format!("data dir {shown}: in use by another occd process")),
            Err(e) => return Err(format!("data dir {shown}: cannot lock: {e}")),
        }
        lock.set_len(0)
            .and_then(|_| writeln!(lock, "{}", std::process::id()))
            .map_err(|e| format!("data dir {shown}: cannot write {}: {e}", lock_path.display()))?;
        Ok(DataDir { path: path.to_path_buf(), _lock: lock })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The password of the default `admin` user: read from
/// `<data-dir>/admin-password`, or generated and written there (mode 0600)
/// on first start. Returns the password and whether it was just generated.
pub fn admin_password(dir: &DataDir) -> Result<(String, bool), String> {
    let path = dir.path().join("admin-password");
    match fs::read_to_string(&path) {
        Ok(text) => {
            let pw = text.trim().to_string();
            if pw.is_empty() {
                return Err(format!("{}: empty password file", path.display()));
            }
            Ok((pw, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let pw = generate_password().map_err(|e| format!("cannot generate a password: {e}"))?;
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
                .map_err(|e| format!("{}: cannot create: {e}", path.display()))?;
            writeln!(f, "{pw}").and_then(|_| f.sync_all()).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok((pw, true))
        }
        Err(e) => Err(format!("{}: cannot read: {e}", path.display())),
    }
}

fn generate_password() -> Result<String, getrandom::Error> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)?;
    Ok(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
}

/// Logs what was loaded, one line for the set and one per implemented module.
pub fn report_schema(schema: &Schema) {
    let implemented: Vec<_> = schema.implemented().collect();
    info!(
        modules = schema.modules().len(),
        implemented = implemented.len(),
        "module set compiled in {:.1} ms",
        schema.load_time().as_secs_f64() * 1000.0
    );
    for m in implemented {
        let features = if m.features.is_empty() {
            String::new()
        } else {
            format!(" features: {}", m.features.join(","))
        };
        info!("module {}@{}{features}", m.name, m.revision.as_deref().unwrap_or("-"));
    }
    for w in schema.warnings() {
        warn!("{w}");
    }
}

/// Runs until SIGINT or SIGTERM: opens the datastores, then starts the
/// listeners the config enables.
pub async fn run(config: &Config, schema: Schema, data_dir: &DataDir) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).map_err(|e| format!("signals: {e}"))?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| format!("signals: {e}"))?;
    report_schema(&schema);
    // The schema lives as long as the process: every tree borrows it.
    let schema: &'static Schema = Box::leak(Box::new(schema));
    let ds = tokio::task::spawn_blocking({
        let dir = data_dir.path().to_path_buf();
        move || Datastores::open(schema, &dir, DsOptions::default())
    })
    .await
    .map_err(|e| format!("datastore: {e}"))??;
    let admin_pw = if config.users.is_empty() { Some(admin_password(data_dir)?.0) } else { None };
    let users = Arc::new(Users::from_config(&config.users, admin_pw.as_deref())?);
    let mut tasks = Vec::new();
    tasks.push(tokio::spawn(confirmed_commit_timer(ds.clone())));
    let nc = &config.netconf;
    let idle = (nc.idle_timeout_secs > 0).then(|| Duration::from_secs(nc.idle_timeout_secs));
    let limits = Limits {
        max_message_bytes: usize::try_from(nc.max_message_bytes).unwrap_or(usize::MAX),
        max_sessions: nc.max_sessions,
        idle_timeout: idle,
    };
    // The NETCONF server object also holds what RESTCONF shares with it
    // (RPC handlers, monitoring), so it exists even when NETCONF does not
    // listen.
    let bus = crate::notify::Bus::open(schema, Some(data_dir.path()), config.notifications.limits())?;
    if config.nacm.default_rules {
        let ds2 = ds.clone();
        tokio::task::spawn_blocking(move || crate::nacm::install_default_rules(&ds2))
            .await
            .map_err(|e| format!("nacm: {e}"))??;
    }
    let server = netconf::Server::with_access(ds.clone(), limits, bus.clone(), config.nacm_settings(&users));
    crate::notify::events::note_capabilities(&bus, data_dir.path(), server.capabilities())?;
    if config.occ.backend == crate::config::OccBackend::Simulator && crate::occ::available(schema.context()) {
        let sim = Arc::new(crate::occ::backend::Simulator::new(config.occ.seed));
        crate::occ::install_with(&server, sim, config.occ.options());
        info!("OCC domain layer on the built-in network simulator (seed {})", config.occ.seed);
    }
    let auth_delay = Duration::from_millis(nc.auth_failure_delay_ms);
    if nc.enabled {
        let keys = ssh::host_keys(data_dir.path())?;
        let ssh_config = Arc::new(ssh::config(keys, auth_delay, idle));
        let listener = TcpListener::bind(nc.listen)
            .await
            .map_err(|e| format!("NETCONF listener {}: cannot bind: {e}", nc.listen))?;
        let addr = listener.local_addr().map_err(|e| format!("NETCONF listener: {e}"))?;
        info!("NETCONF over SSH listening on {addr}");
        println!("occd: NETCONF listening on {addr}");
        tasks.push(tokio::spawn(ssh::serve(listener, ssh_config, server.clone(), users.clone())));
    }
    let rc = &config.restconf;
    if rc.enabled {
        let tls = if rc.tls {
            let (cert, key) =
                restconf::tls::cert_files(data_dir.path(), rc.cert_file.as_deref(), rc.key_file.as_deref())?;
            Some(tokio_rustls::TlsAcceptor::from(restconf::tls::server_config(&cert, &key)?))
        } else {
            None
        };
        let listener = TcpListener::bind(rc.listen)
            .await
            .map_err(|e| format!("RESTCONF listener {}: cannot bind: {e}", rc.listen))?;
        let addr = listener.local_addr().map_err(|e| format!("RESTCONF listener: {e}"))?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        info!("RESTCONF listening on {scheme}://{addr}/restconf");
        println!("occd: RESTCONF listening on {scheme}://{addr}/restconf");
        let max_body = usize::try_from(rc.max_body_bytes).unwrap_or(usize::MAX);
        let public_url = rc.public_url.clone().unwrap_or_else(|| format!("{scheme}://{addr}"));
        let server = restconf::Restconf::new(
            server.clone(),
            users.clone(),
            restconf::Settings { max_body, auth_delay, anonymous: rc.anonymous_user.clone(), public_url },
        );
        tasks.push(tokio::spawn(restconf::serve(listener, tls, server)));
    }
    let user_names: Vec<&str> = if config.users.is_empty() {
        vec!["admin"]
    } else {
        config.users.iter().map(|u| u.name.as_str()).collect()
    };
    info!(data_dir = %data_dir.path().display(), users = ?user_names, "occd ready");
    let which = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    info!("{which} received, shutting down");
    for t in tasks {
        t.abort();
    }
    Ok(())
}

/// Reverts running when a confirmed commit is not confirmed in time.
async fn confirmed_commit_timer(ds: Datastores) {
    loop {
        let now = tokio::time::Instant::now();
        let wake = match ds.confirmed_deadline() {
            Some(d) if d <= now => {
                let ds2 = ds.clone();
                let r = tokio::task::spawn_blocking(move || {
                    ds2.expire_confirmed_commit(tokio::time::Instant::now())
                })
                .await;
                match r {
                    Ok(Some(Ok(info))) => {
                        info!(txid = info.txid, "confirmed commit timed out: running reverted")
                    }
                    Ok(Some(Err(e))) => warn!("confirmed commit timed out; reverting failed: {e:?}"),
                    _ => {}
                }
                continue;
            }
            Some(d) => d.min(now + Duration::from_millis(500)),
            None => now + Duration::from_millis(500),
        };
        tokio::time::sleep_until(wake).await;
    }
}
