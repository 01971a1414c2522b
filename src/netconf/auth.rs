//! Users and their credentials: password hashes in the crypt formats of
//! iana-crypt-hash (`$0$` clear text, `$1$` MD5, `$5$` SHA-256, `$6$`
//! SHA-512) and OpenSSH public keys. Shared by NETCONF and RESTCONF.

use std::collections::HashMap;

use russh::keys::PublicKey;
use sha_crypt::{PasswordVerifier, ShaCrypt};

use crate::config::UserConfig;

/// One user who may log in.
#[derive(Debug, Clone)]
pub struct User {
    pub name: String,
    password_hash: Option<String>,
    keys: Vec<PublicKey>,
    pub groups: Vec<String>,
}

/// The users of the server.
#[derive(Debug, Clone, Default)]
pub struct Users {
    by_name: HashMap<String, User>,
}

impl Users {
    /// From the config; with no users configured, one `admin` user with
    /// `default_admin_password` (the generated one), in group `admin`.
    pub fn from_config(users: &[UserConfig], default_admin_password: Option<&str>) -> Result<Users, String> {
        let mut by_name = HashMap::new();
        for u in users {
            let mut keys = Vec::new();
            for (i, line) in u.authorized_keys.iter().enumerate() {
                let key = PublicKey::from_openssh(line.trim())
                    .map_err(|e| format!("users.{}: authorized-keys[{i}]: {e}", u.name))?;
                keys.push(key);
            }
            by_name.insert(
                u.name.clone(),
                User {
                    name: u.name.clone(),
                    password_hash: u.password_hash.clone(),
                    keys,
                    groups: u.groups.clone(),
                },
            );
        }
        if users.is_empty() {
            if let Some(pw) = default_admin_password {
                by_name.insert(
                    "admin".into(),
                    User {
                        name: "admin".into(),
                        password_hash: Some(format!("$0${pw}")),
                        keys: Vec::new(),
                        groups: vec!["admin".into()],
                    },
                );
            }
        }
        Ok(Users { by_name })
    }

    /// Each user's access-control groups (NACM external groups).
    pub fn groups(&self) -> HashMap<String, Vec<String>> {
        self.by_name.values().map(|u| (u.name.clone(), u.groups.clone())).collect()
    }

    pub fn get(&self, name: &str) -> Option<&User> {
        self.by_name.get(name)
    }

    /// Whether `password` is `user`'s password.
    pub fn check_password(&self, user: &str, password: &str) -> bool {
        self.get(user).and_then(|u| u.password_hash.as_deref()).is_some_and(|h| verify_crypt(password, h))
    }

    /// Whether `key` is one of `user`'s authorized keys.
    pub fn check_key(&self, user: &str, key: &PublicKey) -> bool {
        self.get(user).is_some_and(|u| u.keys.iter().any(|k| k.key_data() == key.key_data()))
    }
}

/// Checks `password` against a crypt hash.
pub fn verify_crypt(password: &str, hash: &str) -> bool {
    if let Some(clear) = hash.strip_prefix("$0$") {
        return constant_time_eq(password.as_bytes(), clear.as_bytes());
    }
    if hash.starts_with("$1$") {
        return md5_crypt_matches(password, hash);
    }
    if hash.starts_with("$5$") || hash.starts_with("$6$") {
        return ShaCrypt::default().verify_password(password.as_bytes(), hash).is_ok();
    }
    false
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

const CRYPT_B64: &[u8] = b"./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// MD5-crypt (`$1$salt$hash`, the FreeBSD/glibc scheme).
fn md5_crypt_matches(password: &str, hash: &str) -> bool {
    let rest = &hash[3..];
    let Some((salt, _)) = rest.split_once('$') else {
        return false;
    };
    let salt = &salt.as_bytes()[..salt.len().min(8)];
    constant_time_eq(md5_crypt(password.as_bytes(), salt).as_bytes(), hash.as_bytes())
}

fn md5_crypt(pw: &[u8], salt: &[u8]) -> String {
    let mut alt = md5::Context::new();
    alt.consume(pw);
    alt.consume(salt);
    alt.consume(pw);
    let alt = alt.finalize().0;
    let mut ctx = md5::Context::new();
    ctx.consume(pw);
    ctx.consume(b"$1$");
    ctx.consume(salt);
    let mut left = pw.len();
    while left > 0 {
        let n = left.min(16);
        ctx.consume(&alt[..n]);
        left -= n;
    }
    let mut i = pw.len();
    while i > 0 {
        if i & 1 == 1 {
            ctx.consume([0u8]);
        } else {
            ctx.consume(&pw[..pw.len().min(1)]);
        }
        i >>= 1;
    }
    let mut digest = ctx.finalize().0;
    for round in 0..1000 {
        let mut c = md5::Context::new();
        if round & 1 == 1 {
            c.consume(pw);
        } else {
            c.consume(digest);
        }
        if round % 3 != 0 {
            c.consume(salt);
        }
        if round % 7 != 0 {
            c.consume(pw);
        }
        if round & 1 == 1 {
            c.consume(digest);
        } else {
            c.consume(pw);
        }
        digest = c.finalize().0;
    }
    let mut out = String::from("$1$");
    out.push_str(&String::from_utf8_lossy(salt));
    out.push('$');
    let groups = [(0, 6, 12), (1, 7, 13), (2, 8, 14), (3, 9, 15), (4, 10, 5)];
    let mut push = |v: u32, n: usize| {
        let mut v = v;
        for _ in 0..n {
            out.push(CRYPT_B64[(v & 0x3f) as usize] as char);
            v >>= 6;
        }
    };
    for (a, b, c) in groups {
        push((u32::from(digest[a]) << 16) | (u32::from(digest[b]) << 8) | u32::from(digest[c]), 4);
    }
    push(u32::from(digest[11]), 2);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crypt_formats() {
        // Vectors from `openssl passwd -1/-5/-6 -salt saltsalt secret`.
        for h in [
            "$0$secret",
            "$1$saltsalt$9xy1btjgzLYfb7hivXtC//",
            "$5$saltsalt$0IyaXrmV7.sGNS6tirgqHLqX/G.FBvgkYA.lpPdS5sA",
            "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",
        ] {
            assert!(verify_crypt("secret", h), "{h}");
            assert!(!verify_crypt("Secret", h), "{h}");
        }
        assert!(!verify_crypt("secret", "secret"));
        assert!(!verify_crypt("secret", "$1$nodollar"));
    }
}
