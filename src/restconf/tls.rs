//! The RESTCONF server's TLS set-up: the certificate and key from the
//! config, or a self-signed pair generated on first start and kept in the
//! data dir (`restconf-cert.pem`, `restconf-key.pem`, mode 0600), so
//! clients can pin it across restarts. ALPN offers h2 and http/1.1.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

pub const CERT_FILE: &str = "restconf-cert.pem";
pub const KEY_FILE: &str = "restconf-key.pem";

/// The certificate and key files to use: the configured pair, or the data
/// dir's, generated when missing.
pub fn cert_files(
    data_dir: &Path,
    cert: Option<&Path>,
    key: Option<&Path>,
) -> Result<(PathBuf, PathBuf), String> {
    if let (Some(c), Some(k)) = (cert, key) {
        return Ok((c.to_path_buf(), k.to_path_buf()));
    }
    let c = data_dir.join(CERT_FILE);
    let k = data_dir.join(KEY_FILE);
    if !c.exists() || !k.exists() {
        generate(&c, &k)?;
    }
    Ok((c, k))
}

fn generate(cert_path: &Path, key_path: &Path) -> Result<(), String> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    let pair =
        rcgen::generate_simple_self_signed(names).map_err(|e| format!("self-signed certificate: {e}"))?;
    write_private(key_path, pair.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(cert_path, pair.cert.pem()).map_err(|e| format!("{}: {e}", cert_path.display()))?;
    tracing::info!("generated a self-signed RESTCONF certificate in {}", cert_path.display());
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The rustls server config for the certificate chain and key in PEM files.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, String> {
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| format!("{}: {e}", cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in the file", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: {e}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("TLS certificate: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
