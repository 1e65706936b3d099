//! Typed settings: `config/default.toml` (built in), then an optional file, then the environment.

use std::path::Path;

use figment::providers::{Env, Format, Toml};
use figment::Figment;
use serde::Deserialize;

use crate::error::Error;

/// The defaults, with a comment on every key; the same file is in the repository.
pub const DEFAULTS_TOML: &str = include_str!("../config/default.toml");

/// Every setting of the service. Unknown keys are refused so a typo cannot pass unnoticed.
/// Not `Debug`: it holds the database URL and the shared secret, which must never be logged.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Address and port the HTTP server listens on.
    pub bind: String,
    /// HTTP worker threads; 0 means one per core.
    pub workers: usize,
    /// Largest request body accepted, in bytes.
    pub body_limit_bytes: usize,
    /// Milliseconds a client has to send the request line and headers (0: no limit).
    pub header_timeout_ms: u64,
    /// Seconds a client has to send the whole request body.
    pub body_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open (0: closed after each response).
    pub keep_alive_secs: u64,
    /// SQLite path or `file:` URI, or a `postgres://` URL.
    pub database_url: String,
    /// Seconds requests in flight may take to finish after SIGTERM.
    pub shutdown_grace_secs: u64,
    /// Connections kept in the pool of each instance.
    pub pool_size: u32,
    /// Seconds to wait for a connection before answering 503.
    pub db_timeout_secs: u64,
    /// SQLite busy timeout in milliseconds.
    pub sqlite_busy_timeout_ms: u32,
    /// Default log level when `RUST_LOG` is not set.
    pub log_level: String,
    /// Folder for the key pair an instance makes itself.
    pub data_dir: String,
    /// Exact `iss` of accepted and issued tokens.
    pub token_issuer: String,
    /// Exact `aud` of accepted and issued tokens.
    pub token_audience: String,
    /// Private key file that signs issued tokens; empty for the key pair in `data_dir/keys`.
    pub signing_key: String,
    /// Public key files that verify tokens, besides the signing key's own.
    pub verify_keys: Vec<String>,
    /// HS256 shared secret; empty turns HS256 off.
    pub hs256_secret: String,
    /// `kid` of tokens signed with the shared secret.
    pub hs256_kid: String,
    /// Clock leeway in seconds (at most 60).
    pub token_leeway_secs: u64,
    /// Longest lifetime of a token issued through the API, in days.
    pub token_max_ttl_days: u32,
    /// Milliseconds between reloads of the revocation list.
    pub revocation_refresh_ms: u64,
    /// Milliseconds a tally answer may be served again from memory (0: never).
    pub tally_cache_ms: u64,
    /// Milliseconds between two folds of the tally delta log into the cells (PostgreSQL).
    pub tally_fold_ms: u64,
    /// Largest spreadsheet accepted by an import, in bytes.
    pub import_max_bytes: usize,
    /// Most rows (under the header) an imported spreadsheet may hold.
    pub import_max_rows: usize,
    /// Most bytes the parts of an imported XLSX or ODS file may expand to.
    pub import_max_unpacked_bytes: u64,
}

impl Settings {
    /// Loads the defaults, then `file` if given, then `OPCOORD_*` and `DATABASE_URL`.
    pub fn load(file: Option<&Path>) -> Result<Settings, Error> {
        let mut figment = Figment::from(Toml::string(DEFAULTS_TOML));
        if let Some(path) = file {
            if !path.is_file() {
                return Err(Error::Config(format!(
                    "configuration file {} does not exist",
                    path.display()
                )));
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        figment = figment
            .merge(Env::raw().only(&["DATABASE_URL"]))
            .merge(Env::prefixed("OPCOORD_").ignore(&["CONFIG"]));
        let settings: Settings = figment.extract().map_err(|e| Error::Config(e.to_string()))?;
        settings.check()?;
        Ok(settings)
    }

    /// The built-in defaults alone, as tests and tools start from.
    pub fn defaults() -> Result<Settings, Error> {
        Figment::from(Toml::string(DEFAULTS_TOML))
            .extract()
            .map_err(|e| Error::Config(e.to_string()))
    }

    fn check(&self) -> Result<(), Error> {
        let refuse = |key: &str, why: &str| Err(Error::Config(format!("setting `{key}`: {why}")));
        if self.pool_size == 0 {
            return refuse("pool_size", "must be at least 1");
        }
        if self.body_limit_bytes < 1024 {
            return refuse("body_limit_bytes", "must be at least 1024");
        }
        if self.body_timeout_secs == 0 {
            return refuse("body_timeout_secs", "must be at least 1");
        }
        if self.db_timeout_secs == 0 {
            return refuse("db_timeout_secs", "must be at least 1");
        }
        if self.import_max_bytes < 1024 || self.import_max_rows == 0 || self.import_max_unpacked_bytes < 1024 {
            return refuse(
                "import_max_*",
                "the import limits must be at least 1024 bytes and 1 row",
            );
        }
        if !(10..=60_000).contains(&self.tally_fold_ms) {
            return refuse("tally_fold_ms", "must be between 10 and 60000");
        }
        if self.database_url.trim().is_empty() {
            return refuse("database_url", "must not be empty");
        }
        Ok(())
    }
}
