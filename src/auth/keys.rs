//! Signing and verification keys: Ed25519 key files, the optional HS256 secret, the key set by
//! `kid`, and the public keys as a JWKS.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::spki::der::zeroize::Zeroizing;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, KeypairBytes};
use ed25519_dalek::{SigningKey, VerifyingKey};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Settings;
use crate::error::{Error, Result};

/// Suffix of a private key file written by `opcoord keys generate`.
pub const PRIVATE_SUFFIX: &str = ".key.pem";
/// Suffix of a public key file written by `opcoord keys generate`.
pub const PUBLIC_SUFFIX: &str = ".pub.pem";

/// A key that verifies tokens: exactly one algorithm per key.
pub struct VerifyKey {
    /// The only algorithm this key accepts.
    pub algorithm: Algorithm,
    /// The key material for jsonwebtoken.
    pub decoding: DecodingKey,
    /// The raw Ed25519 public key, for the JWKS (absent for a shared secret).
    pub public: Option<[u8; 32]>,
}

/// The key that signs the tokens this instance issues.
pub struct SignKey {
    /// Its `kid`.
    pub kid: String,
    /// Its algorithm.
    pub algorithm: Algorithm,
    /// The key material for jsonwebtoken.
    pub encoding: EncodingKey,
}

/// Every key of an instance: the verification set by `kid`, and the signing key if it issues.
pub struct Keyring {
    /// Verification keys by `kid`; a token's `kid` is looked up here and nowhere else.
    pub verify: BTreeMap<String, VerifyKey>,
    /// The signing key, when this instance issues tokens.
    pub signing: Option<SignKey>,
}

/// A new Ed25519 key pair written to `dir` as `<kid>.key.pem` (mode 0600) and `<kid>.pub.pem`.
pub fn generate(dir: &Path) -> Result<String> {
    let key_error = |e: String| Error::Command(format!("cannot write a key pair in {}: {e}", dir.display()));
    crate::files::create_private_dir(dir).map_err(|e| key_error(e.to_string()))?;
    let kid = format!(
        "ed-{}-{}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S"),
        &uuid::Uuid::new_v4().simple().to_string()[..6]
    );
    let signing = SigningKey::generate(&mut rand_core::OsRng);
    let private = private_pem(&signing).map_err(|e| key_error(e.to_string()))?;
    let public = signing
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .map_err(|e| key_error(e.to_string()))?;
    write_private(&dir.join(format!("{kid}{PRIVATE_SUFFIX}")), private.as_bytes())
        .map_err(|e| key_error(e.to_string()))?;
    let public_path = dir.join(format!("{kid}{PUBLIC_SUFFIX}"));
    std::fs::write(&public_path, public).map_err(|e| key_error(e.to_string()))?;
    // Whatever the umask: a public key others could rewrite would let them sign tokens.
    crate::files::set_mode(&public_path, crate::files::PUBLIC_FILE).map_err(|e| key_error(e.to_string()))?;
    Ok(kid)
}

/// The private key as RFC 8410 PKCS#8 v1 PEM: the 32-byte seed alone, no public key attached.
/// ed25519-dalek writes v2 (RFC 5958, with the public key), which OpenSSL 3.0 and Python's
/// `cryptography` refuse; v1 is what every tool reads. Both versions are read back.
fn private_pem(key: &SigningKey) -> ed25519_dalek::pkcs8::Result<Zeroizing<String>> {
    KeypairBytes {
        secret_key: key.to_bytes(),
        public_key: None,
    }
    .to_pkcs8_pem(LineEnding::LF)
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(crate::files::PRIVATE_FILE)
        .open(path)?;
    crate::files::set_mode(path, crate::files::PRIVATE_FILE)?;
    file.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

/// The `kid` of a key file: its name without the suffix.
fn kid_of(path: &Path, suffix: &str) -> Result<String> {
    path.file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_suffix(suffix))
        .filter(|kid| !kid.is_empty())
        .map(str::to_string)
        .ok_or_else(|| Error::Config(format!("key file {} must be named <kid>{suffix}", path.display())))
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::Config(format!("cannot read key file {}: {e}", path.display())))
}

fn load_signing(path: &Path) -> Result<(SignKey, String, VerifyKey)> {
    let kid = kid_of(path, PRIVATE_SUFFIX)?;
    let pem = read(path)?;
    let key = SigningKey::from_pkcs8_pem(&pem)
        .map_err(|e| Error::Config(format!("{} is not an Ed25519 PKCS#8 private key: {e}", path.display())))?;
    let encoding =
        EncodingKey::from_ed_pem(pem.as_bytes()).map_err(|e| Error::Config(format!("{}: {e}", path.display())))?;
    let verify = ed25519_verify_key(key.verifying_key());
    Ok((
        SignKey {
            kid: kid.clone(),
            algorithm: Algorithm::EdDSA,
            encoding,
        },
        kid,
        verify,
    ))
}

fn load_public(path: &Path) -> Result<(String, VerifyKey)> {
    let kid = kid_of(path, PUBLIC_SUFFIX)?;
    let key = VerifyingKey::from_public_key_pem(&read(path)?)
        .map_err(|e| Error::Config(format!("{} is not an Ed25519 public key: {e}", path.display())))?;
    Ok((kid, ed25519_verify_key(key)))
}

fn ed25519_verify_key(key: VerifyingKey) -> VerifyKey {
    let raw = key.to_bytes();
    VerifyKey {
        algorithm: Algorithm::EdDSA,
        decoding: DecodingKey::from_ed_der(&raw),
        public: Some(raw),
    }
}

/// Files in `dir` ending in `suffix`, sorted by name (kids made here sort by time).
fn files_with(dir: &Path, suffix: &str) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                path.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(suffix))
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(Error::Config(format!("cannot read {}: {e}", dir.display()))),
    };
    files.sort();
    Ok(files)
}

impl Keyring {
    /// The folder of the key pair an instance makes for itself when no key is configured.
    pub fn auto_dir(settings: &Settings) -> PathBuf {
        Path::new(&settings.data_dir).join("keys")
    }

    /// Loads the keys the settings name. With no signing key and no verification key configured,
    /// the key pairs in `data_dir/keys` are used (the newest signs), and one is made there when
    /// there is none and `create` is set.
    pub fn load(settings: &Settings, create: bool) -> Result<Keyring> {
        let mut keyring = Keyring {
            verify: BTreeMap::new(),
            signing: None,
        };
        let configured = !settings.signing_key.is_empty() || !settings.verify_keys.is_empty();
        if configured {
            if !settings.signing_key.is_empty() {
                let (sign, kid, verify) = load_signing(Path::new(&settings.signing_key))?;
                keyring.verify.insert(kid, verify);
                keyring.signing = Some(sign);
            }
            for path in &settings.verify_keys {
                let (kid, verify) = load_public(Path::new(path))?;
                keyring.verify.insert(kid, verify);
            }
        } else {
            let dir = Keyring::auto_dir(settings);
            if files_with(&dir, PRIVATE_SUFFIX)?.is_empty() && create {
                let kid = generate(&dir)?;
                log::info!("made a signing key pair `{kid}` in {}", dir.display());
            }
            for path in files_with(&dir, PUBLIC_SUFFIX)? {
                let (kid, verify) = load_public(&path)?;
                keyring.verify.insert(kid, verify);
            }
            if let Some(newest) = files_with(&dir, PRIVATE_SUFFIX)?.pop() {
                let (sign, kid, verify) = load_signing(&newest)?;
                keyring.verify.insert(kid, verify);
                keyring.signing = Some(sign);
            }
        }
        if !settings.hs256_secret.is_empty() {
            if settings.hs256_secret.len() < 32 {
                return Err(Error::Config(
                    "setting `hs256_secret`: must be at least 32 bytes".into(),
                ));
            }
            let secret = settings.hs256_secret.as_bytes();
            keyring.verify.insert(
                settings.hs256_kid.clone(),
                VerifyKey {
                    algorithm: Algorithm::HS256,
                    decoding: DecodingKey::from_secret(secret),
                    public: None,
                },
            );
        }
        if keyring.verify.is_empty() {
            return Err(Error::Config(
                "no key verifies tokens: configure `signing_key` or `verify_keys`".into(),
            ));
        }
        Ok(keyring)
    }

    /// The public keys as a JSON Web Key Set (shared secrets are never published).
    pub fn jwks(&self) -> Jwks {
        Jwks {
            keys: self
                .verify
                .iter()
                .filter_map(|(kid, key)| {
                    key.public.map(|raw| Jwk {
                        kty: "OKP".into(),
                        crv: "Ed25519".into(),
                        x: URL_SAFE_NO_PAD.encode(raw),
                        kid: kid.clone(),
                        alg: "EdDSA".into(),
                        key_use: "sig".into(),
                    })
                })
                .collect(),
        }
    }
}

/// A JSON Web Key Set (RFC 7517).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwks {
    /// The public keys that verify tokens.
    pub keys: Vec<Jwk>,
}

/// One Ed25519 public key (RFC 8037).
#[derive(Debug, Serialize, ToSchema)]
pub struct Jwk {
    /// Key type: `OKP`.
    pub kty: String,
    /// Curve: `Ed25519`.
    pub crv: String,
    /// The public key, base64url.
    pub x: String,
    /// Key id, as in the tokens' header.
    pub kid: String,
    /// Algorithm: `EdDSA`.
    pub alg: String,
    /// Use: `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8410 section 10.3: SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 },
    /// OCTET STRING { OCTET STRING (32 bytes) } } and nothing after it (no attributes, no
    /// public key).
    const V1_PREFIX: [u8; 16] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    ];

    #[test]
    fn written_keys_are_pkcs8_v1_and_both_versions_are_read() {
        let dir = tempfile::tempdir().expect("dir");
        let kid = generate(dir.path()).expect("generate");
        let path = dir.path().join(format!("{kid}{PRIVATE_SUFFIX}"));
        let pem = std::fs::read_to_string(&path).expect("read");
        let (label, der) = ed25519_dalek::pkcs8::spki::der::pem::decode_vec(pem.as_bytes()).expect("pem");
        assert_eq!(label, "PRIVATE KEY");
        assert_eq!(der.len(), 48, "v1 DER of an Ed25519 key is 48 bytes");
        assert_eq!(der[..16], V1_PREFIX);
        let (sign, _, verify) = load_signing(&path).expect("v1 is read");
        assert_eq!(sign.kid, kid);

        // A v2 file (as this service wrote before) is still read, and is the same key.
        let key = SigningKey::from_pkcs8_pem(&pem).expect("key");
        let v2 = key.to_pkcs8_pem(LineEnding::LF).expect("v2");
        let (_, v2_der) = ed25519_dalek::pkcs8::spki::der::pem::decode_vec(v2.as_bytes()).expect("pem");
        assert_eq!(v2_der[4], 0x01, "dalek writes version 1 (v2)");
        let v2_path = dir.path().join(format!("old{PRIVATE_SUFFIX}"));
        std::fs::write(&v2_path, v2.as_bytes()).expect("write");
        let (_, _, v2_verify) = load_signing(&v2_path).expect("v2 is read");
        assert_eq!(v2_verify.public, verify.public);
    }
}
