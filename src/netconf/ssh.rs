//! NETCONF over SSH (RFC 6242) with russh: the `netconf` subsystem of a
//! session channel carries one NETCONF session.
//!
//! Host keys (ed25519 and ECDSA P-256, which yangcli's libssh2 accepts)
//! are generated on first start and kept in the data dir in OpenSSH
//! format, mode 0600. Password and public-key authentication against
//! [`Users`]; a failed attempt is answered after the configured delay.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::{Algorithm, EcdsaCurve, PrivateKey, PublicKey};
use russh::server::{Auth, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use tokio::net::TcpListener;
use tracing::{debug, info, warn};

use super::auth::Users;
use super::{session, Server};

/// The host key files in the data dir, created when missing.
pub fn host_keys(data_dir: &Path) -> Result<Vec<PrivateKey>, String> {
    let mut keys = Vec::new();
    for (file, alg) in [
        ("ssh_host_ed25519_key", Algorithm::Ed25519),
        ("ssh_host_ecdsa_key", Algorithm::Ecdsa { curve: EcdsaCurve::NistP256 }),
    ] {
        let path = data_dir.join(file);
        let key = if path.exists() {
            PrivateKey::read_openssh_file(&path).map_err(|e| format!("{}: {e}", path.display()))?
        } else {
            let key = PrivateKey::random(&mut rand::rng(), alg.clone())
                .map_err(|e| format!("cannot generate a {alg} host key: {e}"))?;
            write_private(&path, &key)?;
            info!(path = %path.display(), "generated SSH host key {}", key.public_key().fingerprint(Default::default()));
            key
        };
        keys.push(key);
    }
    Ok(keys)
}

fn write_private(path: &Path, key: &PrivateKey) -> Result<(), String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let pem = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("{}: cannot create: {e}", path.display()))?;
    f.write_all(pem.as_bytes()).and_then(|_| f.sync_all()).map_err(|e| format!("{}: {e}", path.display()))
}

/// The russh server configuration.
pub fn config(
    keys: Vec<PrivateKey>,
    auth_failure_delay: Duration,
    idle: Option<Duration>,
) -> russh::server::Config {
    let mut methods = MethodSet::empty();
    methods.push(MethodKind::Password);
    methods.push(MethodKind::PublicKey);
    // russh leaves aes128-gcm out of its defaults; OpenSSH and paramiko
    // clients pinned to it (the bench harness is) could not connect.
    let preferred = russh::Preferred {
        cipher: std::borrow::Cow::Borrowed(&[
            russh::cipher::CHACHA20_POLY1305,
            russh::cipher::AES_256_GCM,
            russh::cipher::AES_128_GCM,
            russh::cipher::AES_256_CTR,
            russh::cipher::AES_192_CTR,
            russh::cipher::AES_128_CTR,
        ]),
        ..russh::Preferred::default()
    };
    russh::server::Config {
        methods,
        preferred,
        auth_rejection_time: auth_failure_delay,
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys,
        inactivity_timeout: idle,
        nodelay: true,
        max_auth_attempts: 6,
        ..Default::default()
    }
}

/// Accepts connections until the listener fails or the task is dropped.
pub async fn serve(
    listener: TcpListener,
    config: Arc<russh::server::Config>,
    server: Arc<Server>,
    users: Arc<Users>,
) {
    loop {
        let (sock, peer) = match listener.accept().await {
            Ok(x) => x,
            Err(e) => {
                warn!("NETCONF accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = sock.set_nodelay(true);
        let handler = Connection {
            server: server.clone(),
            users: users.clone(),
            peer: Some(peer),
            user: None,
            channels: HashMap::new(),
        };
        let config = config.clone();
        tokio::spawn(async move {
            match russh::server::run_stream(config, sock, handler).await {
                Ok(running) => {
                    if let Err(e) = running.await {
                        debug!(%peer, "SSH connection ended: {e}");
                    }
                }
                Err(e) => debug!(%peer, "SSH handshake failed: {e}"),
            }
        });
    }
}

/// One SSH connection.
struct Connection {
    server: Arc<Server>,
    users: Arc<Users>,
    peer: Option<SocketAddr>,
    user: Option<String>,
    channels: HashMap<ChannelId, Channel<Msg>>,
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        if self.users.check_password(user, password) {
            self.user = Some(user.to_string());
            return Ok(Auth::Accept);
        }
        info!(user, peer = ?self.peer, "NETCONF password authentication failed");
        Ok(Auth::reject())
    }

    async fn auth_publickey_offered(&mut self, user: &str, key: &PublicKey) -> Result<Auth, Self::Error> {
        Ok(if self.users.check_key(user, key) { Auth::Accept } else { Auth::reject() })
    }

    async fn auth_publickey(&mut self, user: &str, key: &PublicKey) -> Result<Auth, Self::Error> {
        if self.users.check_key(user, key) {
            self.user = Some(user.to_string());
            return Ok(Auth::Accept);
        }
        info!(user, peer = ?self.peer, "NETCONF public-key authentication failed");
        Ok(Auth::reject())
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.channels.insert(channel.id(), channel);
        reply.accept().await;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        id: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (Some(user), true) = (self.user.clone(), name == "netconf") else {
            return session.channel_failure(id);
        };
        let Some(channel) = self.channels.remove(&id) else {
            return session.channel_failure(id);
        };
        session.channel_success(id)?;
        let server = self.server.clone();
        let peer = self.peer;
        let handle = session.handle();
        tokio::spawn(async move {
            session::run(server, channel.into_stream(), user, peer).await;
            let _ = handle.close(id).await;
        });
        Ok(())
    }

    async fn channel_eof(&mut self, id: ChannelId, session: &mut Session) -> Result<(), Self::Error> {
        // A channel that never started a subsystem: nothing to finish.
        if self.channels.remove(&id).is_some() {
            session.close(id)?;
        }
        Ok(())
    }
}
