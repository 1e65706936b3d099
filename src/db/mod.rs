//! Storage: the backend chosen by URL, the connection pool, migrations and one file of queries
//! per resource. Nothing here knows HTTP; everything here is synchronous and runs off the async
//! workers through [`Database::run`].

pub mod audit;
pub mod changes;
pub mod idempotency;
pub mod imports;
pub mod interceptions;
pub mod journal;
pub mod migrate;
pub mod operations;
mod pool;
pub mod redact;
pub mod releases;
pub mod reporting;
pub mod revocations;
pub mod schema;
pub mod stated;
pub mod tallies;
pub mod tally_log;
pub mod tokens;
pub mod units;

use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::RunQueryDsl;
use sha2::Digest;

use crate::error::{Error, Result};

pub use pool::Database;

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A `postgres://` or `postgresql://` URL.
    Postgres,
    /// Anything else: a file path or a `file:` URI.
    Sqlite,
}

impl Backend {
    /// The backend a database URL names.
    pub fn of(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// One open connection to either backend. Queries match on it and run the same diesel code on
/// the inner connection (see [`on_backend!`](crate::on_backend)).
pub enum DbConn {
    /// A PostgreSQL connection.
    Postgres(PgConnection),
    /// A SQLite connection.
    Sqlite(SqliteConnection),
}

/// Runs `$body` with `$c` bound to the inner connection of a [`DbConn`], whichever backend it is.
/// The body is compiled once per backend, so it must be valid diesel for both.
#[macro_export]
macro_rules! on_backend {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgres($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

impl DbConn {
    /// The backend of this connection.
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Postgres(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }

    /// Serialises concurrent writers of the same logical keys until the end of the current
    /// write transaction, even for rows that do not exist yet: on PostgreSQL one transaction
    /// advisory lock per key (a 64-bit digest of its name), taken in sorted order so two batches
    /// sharing keys cannot deadlock. Without it two instances creating the same record at once
    /// would both see it missing and both count it. On SQLite `BEGIN IMMEDIATE` already lets
    /// one writer in at a time, so this does nothing.
    pub fn lock_keys<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) -> Result<()> {
        self.advisory_locks(names, Lock::Exclusive)
    }

    /// Takes the write lock of each (operation, country) pair until the end of the write
    /// transaction, excluding every other writer of those countries: the writes of stated
    /// figures, units, nil returns and finality hold it, and an interception write that met a
    /// concurrent change of one of its records does its second attempt under it.
    pub fn lock_countries<'a>(
        &mut self,
        operation_id: &str,
        countries: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        self.country_locks(operation_id, countries, Lock::Exclusive)
    }

    /// Takes the shared write lock of each (operation, country) pair: interception writes of the
    /// same countries run side by side (each record guarded by its stored version, the tally
    /// cells by their row locks), but none runs while a country's exclusive lock is held, so a
    /// declaration of finality, a stated figure or a unit is wholly before or after them.
    pub fn lock_countries_shared<'a>(
        &mut self,
        operation_id: &str,
        countries: impl IntoIterator<Item = &'a str>,
    ) -> Result<()> {
        self.country_locks(operation_id, countries, Lock::Shared)
    }

    fn country_locks<'a>(
        &mut self,
        operation_id: &str,
        countries: impl IntoIterator<Item = &'a str>,
        lock: Lock,
    ) -> Result<()> {
        let names: std::collections::BTreeSet<String> = countries
            .into_iter()
            .map(|country| format!("country\u{0}{operation_id}\u{0}{country}"))
            .collect();
        self.advisory_locks(names.iter().map(String::as_str), lock)
    }

    fn advisory_locks<'a>(&mut self, names: impl IntoIterator<Item = &'a str>, lock: Lock) -> Result<()> {
        let DbConn::Postgres(c) = self else { return Ok(()) };
        let mut keys: Vec<i64> = names
            .into_iter()
            .map(|name| {
                let digest = sha2::Sha256::digest(name.as_bytes());
                i64::from_be_bytes(digest[..8].try_into().unwrap_or_default())
            })
            .collect();
        keys.sort_unstable();
        keys.dedup();
        if keys.is_empty() {
            return Ok(());
        }
        let function = match lock {
            Lock::Exclusive => "pg_advisory_xact_lock",
            Lock::Shared => "pg_advisory_xact_lock_shared",
        };
        // Locks taken in sorted order, so two writers sharing keys cannot deadlock.
        diesel::sql_query(format!(
            "SELECT {function}(k) FROM (SELECT unnest($1::bigint[]) AS k ORDER BY 1) AS s"
        ))
        .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(keys)
        .execute(c)?;
        Ok(())
    }

    /// Runs `f` in a write transaction: committed when it returns `Ok`, rolled back otherwise.
    /// On SQLite the transaction is `BEGIN IMMEDIATE`, so a writer takes the file lock at once
    /// (waiting up to the busy timeout) instead of failing when it upgrades a read lock.
    ///
    /// On PostgreSQL no statement of a write may run longer than 5 s (a lock wait included): a
    /// stalled write ends in 503 well before its idempotency key may be taken over
    /// ([`idempotency::STALE_SECS`]). On SQLite the busy timeout bounds the wait for the lock.
    pub fn write<T>(&mut self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        self.transaction("BEGIN; SET LOCAL statement_timeout = 5000", "BEGIN IMMEDIATE", f)
    }

    /// Runs `f` in a read-only transaction that sees one snapshot of the database, so several
    /// reads (the tally cells and the feed position they are current as of) agree.
    pub fn snapshot<T>(&mut self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        self.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", "BEGIN", f)
    }

    /// Whether this connection is inside a transaction, or in a transaction state diesel no
    /// longer knows: either way it must not serve another request.
    pub fn transaction_left_open(&mut self) -> bool {
        let depth =
            on_backend!(self, c => AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth());
        !matches!(depth, Ok(None))
    }

    fn transaction<T>(&mut self, postgres: &str, sqlite: &str, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        match self {
            DbConn::Postgres(c) => AnsiTransactionManager::begin_transaction_sql(c, postgres)?,
            DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction_sql(c, sqlite)?,
        }
        match f(self) {
            Ok(value) => {
                on_backend!(self, c => AnsiTransactionManager::commit_transaction(c))?;
                Ok(value)
            }
            Err(error) => {
                if let Err(rollback) = on_backend!(self, c => AnsiTransactionManager::rollback_transaction(c)) {
                    log::warn!("rollback failed after {error}: {rollback}");
                    return Err(Error::from(rollback));
                }
                Err(error)
            }
        }
    }
}

/// How an advisory lock is held: alone, or alongside other shared holders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lock {
    Exclusive,
    Shared,
}

pub use crate::domain::audit::Writer;

/// The current time in UTC, cut to microseconds (what both backends store).
pub fn now() -> chrono::NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

/// A stored value that does not parse is a bug or a hand-edited row, never the client's fault.
fn corrupt(what: &str, value: &str) -> Error {
    Error::internal(format!("stored {what} `{value}` is not valid"))
}
