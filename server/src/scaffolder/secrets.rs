//! Task secrets at rest: sealed with ChaCha20-Poly1305 before they reach the
//! database, opened only by the worker that runs the task, and cleared when
//! the task ends. Replicas that must resume each other's tasks share the key
//! (`scaffolder.secretsKey`); without one a process seals with a random key of
//! its own, and a task with secrets can then only run in that process.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use serde_json::{Map, Value};

pub struct SecretSealer {
    cipher: ChaCha20Poly1305,
}

impl SecretSealer {
    /// From a configured key (base64 of 32 bytes), else a random one.
    pub fn new(configured: Option<&str>) -> Result<Self, String> {
        let key = match configured {
            Some(k) => {
                let bytes = STANDARD
                    .decode(k.trim())
                    .map_err(|e| format!("scaffolder.secretsKey is not base64: {e}"))?;
                if bytes.len() != 32 {
                    return Err(format!(
                        "scaffolder.secretsKey must be 32 bytes (base64), not {}",
                        bytes.len()
                    ));
                }
                *Key::from_slice(&bytes)
            }
            None => ChaCha20Poly1305::generate_key(&mut OsRng),
        };
        Ok(SecretSealer {
            cipher: ChaCha20Poly1305::new(&key),
        })
    }

    pub fn seal(&self, secrets: &Map<String, Value>) -> String {
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        let plain = serde_json::to_vec(secrets).expect("JSON map serialises");
        let sealed = self
            .cipher
            .encrypt(&nonce, plain.as_ref())
            .expect("encryption of a small buffer cannot fail");
        let mut out = nonce.to_vec();
        out.extend(sealed);
        STANDARD.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Result<Map<String, Value>, String> {
        let bytes = STANDARD
            .decode(sealed)
            .map_err(|_| "the task's sealed secrets are corrupt".to_string())?;
        if bytes.len() < 12 {
            return Err("the task's sealed secrets are corrupt".into());
        }
        let (nonce, data) = bytes.split_at(12);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), data)
            .map_err(|_| {
                "the task's secrets were sealed with another key; give every replica the same scaffolder.secretsKey"
                    .to_string()
            })?;
        serde_json::from_slice(&plain).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn seal_and_open() {
        let key = STANDARD.encode([7u8; 32]);
        let a = SecretSealer::new(Some(&key)).unwrap();
        let b = SecretSealer::new(Some(&key)).unwrap();
        let secrets = json!({"token": "s3cr3t-value"})
            .as_object()
            .unwrap()
            .clone();
        let sealed = a.seal(&secrets);
        assert!(!sealed.contains("s3cr3t"));
        assert_eq!(b.open(&sealed).unwrap(), secrets);
        let other = SecretSealer::new(None).unwrap();
        assert!(other.open(&sealed).unwrap_err().contains("another key"));
        assert!(SecretSealer::new(Some("c2hvcnQ=")).is_err());
    }
}
