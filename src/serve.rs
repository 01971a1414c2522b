//! `occd serve`: the long-running server. Today it prepares the data
//! directory and the users, loads and reports the module set, and stops
//! cleanly on SIGINT or SIGTERM; the NETCONF and RESTCONF listeners attach
//! here as they land.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use fs4::fs_std::FileExt as _;
use tracing::{info, warn};

use crate::config::Config;
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

/// Runs until SIGINT or SIGTERM.
pub async fn run(config: &Config, schema: &Schema, data_dir: &DataDir) -> std::io::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    report_schema(schema);
    let users: Vec<&str> = if config.users.is_empty() {
        vec!["admin"]
    } else {
        config.users.iter().map(|u| u.name.as_str()).collect()
    };
    info!(data_dir = %data_dir.path().display(), users = ?users, "occd ready");
    if config.netconf.enabled {
        info!(
            "NETCONF listener {} not started: the NETCONF server is not implemented yet",
            config.netconf.listen
        );
    }
    if config.restconf.enabled {
        info!(
            "RESTCONF listener {} not started: the RESTCONF server is not implemented yet",
            config.restconf.listen
        );
    }
    let which = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    };
    info!("{which} received, shutting down");
    Ok(())
}
