//! The TOML configuration and its embedded defaults (DESIGN.md decision 10).
//!
//! Every key is optional; a missing file means all defaults. Unknown keys are
//! errors (a misspelt key silently ignored is a setting silently lost), and
//! every error names the file and the line. README.md documents each key.

use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::schema::{LoadOptions, ModuleSpec};

/// The application modules loaded when the config names none: the OCC set,
/// with the features each is loaded with.
pub const DEFAULT_MODULES: &[(&str, &[&str])] = include!("default-modules.in");

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct Config {
    /// Where occd keeps its state: journal, snapshots, host keys, the
    /// generated admin password.
    pub data_dir: PathBuf,
    pub log: LogConfig,
    pub schema: SchemaConfig,
    pub netconf: NetconfConfig,
    pub restconf: RestconfConfig,
    pub notifications: NotificationsConfig,
    pub nacm: NacmConfig,
    pub occ: OccConfig,
    /// Users allowed to log in. Empty: one `admin` user whose password is
    /// generated on first start and kept in `<data-dir>/admin-password`.
    pub users: Vec<UserConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./occd-data"),
            log: LogConfig::default(),
            schema: SchemaConfig::default(),
            netconf: NetconfConfig::default(),
            restconf: RestconfConfig::default(),
            notifications: NotificationsConfig::default(),
            nacm: NacmConfig::default(),
            occ: OccConfig::default(),
            users: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
            LogLevel::Trace => "trace",
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct LogConfig {
    /// Log level when `RUST_LOG` is not set.
    pub level: LogLevel,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig { level: LogLevel::Info }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct SchemaConfig {
    /// Directories searched for modules and their imports, in order, before
    /// the modules built into the binary. Relative paths are taken from the
    /// config file's directory.
    pub search_dirs: Vec<PathBuf>,
    /// Use the modules built into the binary (yang/ietf, yang/notifications, yang/occ) when the
    /// search directories lack one.
    pub embedded: bool,
    /// The application modules to implement. Default: the OCC modules.
    /// The standard modules of the protocols are always loaded as well.
    pub modules: Vec<ModuleSpec>,
}

impl Default for SchemaConfig {
    fn default() -> Self {
        SchemaConfig {
            search_dirs: Vec::new(),
            embedded: true,
            modules: DEFAULT_MODULES
                .iter()
                .map(|(name, features)| ModuleSpec {
                    name: (*name).to_string(),
                    revision: None,
                    features: features.iter().map(|f| (*f).to_string()).collect(),
                })
                .collect(),
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct NetconfConfig {
    pub enabled: bool,
    /// Address of the NETCONF-over-SSH listener (subsystem "netconf").
    pub listen: SocketAddr,
    pub max_sessions: u32,
    /// Seconds a session may stay silent before it is closed; 0 = never.
    pub idle_timeout_secs: u64,
    /// Largest accepted NETCONF message, in bytes.
    pub max_message_bytes: u64,
    /// Delay before answering a failed authentication, in milliseconds.
    pub auth_failure_delay_ms: u64,
}

impl Default for NetconfConfig {
    fn default() -> Self {
        NetconfConfig {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 8830)),
            max_sessions: 64,
            idle_timeout_secs: 3600,
            max_message_bytes: 64 * 1024 * 1024,
            auth_failure_delay_ms: 1000,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct RestconfConfig {
    pub enabled: bool,
    pub listen: SocketAddr,
    /// Serve HTTPS. Plain HTTP only when this is explicitly false.
    pub tls: bool,
    /// PEM certificate chain and private key. When both are absent a
    /// self-signed certificate is generated on first start in the data dir.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// Largest accepted request body, in bytes.
    pub max_body_bytes: u64,
    /// A request without an `Authorization` header runs as this user
    /// (load harnesses that cannot authenticate). Absent by default: every
    /// request must authenticate.
    pub anonymous_user: Option<String>,
    /// The scheme, host and port clients reach RESTCONF at, for the event
    /// stream locations in restconf-state (e.g. `https://occd.example:8443`).
    /// Default: from the listener's address.
    pub public_url: Option<String>,
}

impl Default for RestconfConfig {
    fn default() -> Self {
        RestconfConfig {
            enabled: true,
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            tls: true,
            cert_file: None,
            key_file: None,
            max_body_bytes: 64 * 1024 * 1024,
            anonymous_user: None,
            public_url: None,
        }
    }
}

/// The notification bus: replay log limits and slow subscribers.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct NotificationsConfig {
    /// Events kept in the replay log (`<data-dir>/notifications.log`).
    pub replay_max_events: u64,
    /// Bytes of event content kept in the replay log.
    pub replay_max_bytes: u64,
    /// Events older than this many seconds are dropped from the log; 0 = no limit.
    pub replay_max_age_secs: u64,
    /// Events a subscriber may fall behind before it is ended.
    pub subscriber_queue: u64,
    /// Seconds a subscriber's transport may take nothing before it is ended.
    pub write_timeout_secs: u64,
}

impl Default for NotificationsConfig {
    fn default() -> Self {
        let d = crate::notify::Limits::default();
        NotificationsConfig {
            replay_max_events: d.max_events as u64,
            replay_max_bytes: d.max_bytes as u64,
            replay_max_age_secs: d.max_age.map_or(0, |a| a.as_secs()),
            subscriber_queue: d.queue as u64,
            write_timeout_secs: d.write_timeout.as_secs(),
        }
    }
}

impl NotificationsConfig {
    pub fn limits(&self) -> crate::notify::Limits {
        let size = |v: u64| usize::try_from(v).unwrap_or(usize::MAX);
        crate::notify::Limits {
            max_events: size(self.replay_max_events),
            max_bytes: size(self.replay_max_bytes),
            max_age: (self.replay_max_age_secs > 0)
                .then(|| std::time::Duration::from_secs(self.replay_max_age_secs)),
            queue: size(self.subscriber_queue).max(1),
            write_timeout: std::time::Duration::from_secs(self.write_timeout_secs.max(1)),
        }
    }
}

/// The network under the OCC domain layer (`src/occ`).
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum OccBackend {
    /// The built-in simulation: deterministic for a seed.
    Simulator,
    /// No domain behaviour: the OCC RPCs and actions answer
    /// operation-not-supported and services have no state.
    None,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct OccConfig {
    pub backend: OccBackend,
    /// Seed of the simulator's pseudo-random answers.
    pub seed: u64,
    /// When non-zero, PM sessions close a measurement interval every this
    /// many seconds instead of every `measurement-interval` minutes (demos
    /// and tests).
    pub pm_interval_seconds: u32,
    /// Simulated fulfilment time of one service order item, in ms.
    pub order_step_ms: u64,
}

impl Default for OccConfig {
    fn default() -> Self {
        OccConfig { backend: OccBackend::Simulator, seed: 1, pm_interval_seconds: 0, order_step_ms: 200 }
    }
}

impl OccConfig {
    /// The domain layer's options.
    pub fn options(&self) -> crate::occ::Options {
        crate::occ::Options {
            pm_interval_seconds: self.pm_interval_seconds,
            order_step: std::time::Duration::from_millis(self.order_step_ms),
        }
    }
}

/// Access control (RFC 8341). The rules themselves are data in running
/// (`/ietf-netconf-acm:nacm`); these settings are what cannot be.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct NacmConfig {
    /// The user whose sessions bypass access control (RFC 8341 §3.3.3
    /// recovery session). Empty: no recovery user.
    pub recovery_user: String,
    /// On first start (an empty running datastore), install the default
    /// rules: group `admin` (user admin) with full access and a read-only
    /// example group `operator`.
    pub default_rules: bool,
}

impl Default for NacmConfig {
    fn default() -> Self {
        NacmConfig { recovery_user: "admin".into(), default_rules: true }
    }
}

impl Config {
    /// The NACM settings: the recovery user, and each user's groups.
    pub fn nacm_settings(&self, users: &crate::netconf::auth::Users) -> crate::nacm::Settings {
        let r = self.nacm.recovery_user.trim();
        crate::nacm::Settings {
            recovery_user: (!r.is_empty()).then(|| r.to_string()),
            user_groups: users.groups(),
            off: false,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct UserConfig {
    pub name: String,
    /// Password hash in a crypt format of iana-crypt-hash: `$1$` (MD5),
    /// `$5$` (SHA-256), `$6$` (SHA-512), or `$0$<clear text>`. None: no
    /// password login.
    #[serde(default)]
    pub password_hash: Option<String>,
    /// SSH public keys in OpenSSH `authorized_keys` line format.
    #[serde(default)]
    pub authorized_keys: Vec<String>,
    /// Access-control groups (NACM) the user belongs to.
    #[serde(default)]
    pub groups: Vec<String>,
}

/// A config error: what is wrong and where.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct ConfigError {
    pub file: String,
    pub message: String,
}

impl Config {
    /// Reads a config file. Relative paths inside it are resolved against
    /// the file's directory, so a config means the same from any cwd.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let err = |message: String| ConfigError { file: path.display().to_string(), message };
        let text = fs::read_to_string(path).map_err(|e| err(format!("cannot read config: {e}")))?;
        let mut config = Config::from_toml(&text).map_err(err)?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        config.resolve_relative(&base);
        config.check().map_err(err)?;
        Ok(config)
    }

    /// Parses TOML text; the message carries the line and column.
    pub fn from_toml(text: &str) -> Result<Config, String> {
        toml::from_str::<Config>(text).map_err(|e| e.to_string().trim_end().to_string())
    }

    fn resolve_relative(&mut self, base: &Path) {
        let fix = |p: &mut PathBuf| {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        };
        fix(&mut self.data_dir);
        self.schema.search_dirs.iter_mut().for_each(fix);
        if let Some(p) = self.restconf.cert_file.as_mut() {
            fix(p)
        }
        if let Some(p) = self.restconf.key_file.as_mut() {
            fix(p)
        }
    }

    /// Checks what the types alone cannot.
    pub fn check(&self) -> Result<(), String> {
        for m in &self.schema.modules {
            m.check()?;
        }
        if self.restconf.cert_file.is_some() != self.restconf.key_file.is_some() {
            return Err("restconf: cert-file and key-file must be given together".into());
        }
        let mut names = std::collections::HashSet::new();
        for u in &self.users {
            if u.name.is_empty() || u.name.chars().any(|c| c.is_control() || c == ':') {
                return Err(format!("users: invalid user name {:?}", u.name));
            }
            if !names.insert(u.name.as_str()) {
                return Err(format!("users: user {:?} is defined twice", u.name));
            }
            if let Some(h) = &u.password_hash {
                check_crypt_hash(h).map_err(|e| format!("users.{}: password-hash: {e}", u.name))?;
            }
        }
        if self.netconf.enabled
            && self.restconf.enabled
            && self.netconf.listen == self.restconf.listen
            && self.netconf.listen.port() != 0
        {
            return Err("netconf.listen and restconf.listen are the same address".into());
        }
        if let Some(a) = &self.restconf.anonymous_user {
            let known =
                if self.users.is_empty() { a == "admin" } else { self.users.iter().any(|u| &u.name == a) };
            if !known {
                return Err(format!("restconf: anonymous-user {a:?} is not a configured user"));
            }
        }
        Ok(())
    }

    /// The schema load options, with command-line additions.
    pub fn load_options(&self, extra_dirs: &[PathBuf], extra_modules: &[ModuleSpec]) -> LoadOptions {
        let mut search_dirs = extra_dirs.to_vec();
        search_dirs.extend(self.schema.search_dirs.iter().cloned());
        let mut modules = self.schema.modules.clone();
        modules.extend(extra_modules.iter().cloned());
        LoadOptions { search_dirs, embedded: self.schema.embedded, protocol_modules: true, modules }
    }
}

/// iana-crypt-hash `crypt-hash` formats: `$0$` clear text, `$1$` MD5,
/// `$5$` SHA-256, `$6$` SHA-512 (RFC 7317 §4 and the module's pattern).
fn check_crypt_hash(h: &str) -> Result<(), String> {
    if h.starts_with("$0$") {
        return Ok(());
    }
    let id = ["$1$", "$5$", "$6$"].iter().find(|p| h.starts_with(*p));
    let Some(id) = id else {
        return Err("expected a crypt hash starting with $0$, $1$, $5$ or $6$".into());
    };
    let rest = &h[id.len()..];
    let parts: Vec<&str> = rest.split('$').collect();
    let ok = matches!(parts.len(), 2 | 3)
        && parts.iter().all(|p| !p.is_empty())
        && parts.iter().all(|p| p.chars().all(|c| c.is_ascii_alphanumeric() || "./=".contains(c)));
    if ok {
        Ok(())
    } else {
        Err(format!("malformed {id} hash"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_defaults() {
        assert_eq!(Config::from_toml("").unwrap(), Config::default());
    }

    #[test]
    fn occ_backend_and_seed() {
        let c = Config::from_toml("[occ]\nbackend = \"none\"\nseed = 42\npm-interval-seconds = 2\n").unwrap();
        assert_eq!(
            c.occ,
            OccConfig { backend: OccBackend::None, seed: 42, pm_interval_seconds: 2, order_step_ms: 200 }
        );
        assert_eq!(c.occ.options().pm_interval_seconds, 2);
        assert!(Config::from_toml("[occ]\nbackend = \"odl\"\n").is_err());
    }

    #[test]
    fn unknown_key_names_line_and_key() {
        let e =
            Config::from_toml("data-dir = \"x\"\n[netconf]\nlisten-adress = \"127.0.0.1:1\"\n").unwrap_err();
        assert!(e.contains("line 3"), "{e}");
        assert!(e.contains("listen-adress"), "{e}");
        assert!(e.contains("`listen`"), "{e}");
    }

    #[test]
    fn crypt_hashes() {
        assert!(check_crypt_hash("$0$admin").is_ok());
        assert!(check_crypt_hash("$6$saltsalt$abcdefghijklmnopqrstuvwxyz./0123456789").is_ok());
        assert!(check_crypt_hash("$5$rounds=5000$salt$hash").is_ok());
        assert!(check_crypt_hash("plain").is_err());
        assert!(check_crypt_hash("$6$").is_err());
    }
}
