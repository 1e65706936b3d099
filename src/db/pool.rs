//! The r2d2 pool over [`DbConn`], with SQLite pragmas on every connection and real connection
//! errors kept (not the generic message of a multi-backend `establish`).

use std::path::Path;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::Connection;

use super::{Backend, DbConn};
use crate::config::Settings;
use crate::error::{Error, Result};

/// A pooled connection, marked broken when a query found the database gone so the pool drops it.
pub struct Pooled {
    conn: DbConn,
    broken: bool,
}

/// Opens connections for the pool.
#[derive(Debug, Clone)]
struct Manager {
    url: String,
    backend: Backend,
    busy_timeout_ms: u32,
}

/// Why a connection could not be opened, with the server's own words.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct ConnectError(String);

impl Manager {
    fn open(&self) -> Result<DbConn, ConnectError> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url)
                .map(DbConn::Postgres)
                .map_err(|e| ConnectError(e.to_string())),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url)
                    .map_err(|e| ConnectError(format!("cannot open SQLite database: {e}")))?;
                // busy_timeout first: switching to WAL may itself have to wait for the lock.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    self.busy_timeout_ms
                ))
                .map_err(|e| ConnectError(format!("cannot configure SQLite database: {e}")))?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }
}

impl ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ConnectError;

    fn connect(&self) -> Result<Pooled, ConnectError> {
        self.open().map(|conn| Pooled { conn, broken: false })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), ConnectError> {
        crate::on_backend!(&mut pooled.conn, c => c.batch_execute("SELECT 1")).map_err(|e| ConnectError(e.to_string()))
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.broken
    }
}

/// The database of one instance: a pool of connections to one backend.
#[derive(Clone)]
pub struct Database {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
}

impl Database {
    /// Opens the database named in the settings. One connection is made at once so that a wrong
    /// host, port, password or path stops the start with the server's own message.
    pub fn open(settings: &Settings) -> Result<Database> {
        let url = settings.database_url.trim().to_string();
        let backend = Backend::of(&url);
        if backend == Backend::Sqlite {
            create_parent_folder(&url)?;
        }
        let manager = Manager {
            url,
            backend,
            busy_timeout_ms: settings.sqlite_busy_timeout_ms,
        };
        let first = manager
            .open()
            .map_err(|e| Error::Unavailable(format!("cannot connect to the {backend:?} database: {e}")))?;
        drop(first);
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(0))
            .test_on_check_out(false)
            .connection_timeout(Duration::from_secs(settings.db_timeout_secs))
            .build_unchecked(manager);
        Ok(Database { pool, backend })
    }

    /// The backend this database runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Takes a connection, waiting at most the configured timeout; synchronous. A connection
    /// that `f` leaves in doubt (the database gone, or a panic, perhaps in the middle of a
    /// transaction) is dropped from the pool instead of serving the next request.
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        let mut pooled = self.pool.get()?;
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut pooled.conn)))
            .unwrap_or_else(|_| Err(Error::Internal("a database task panicked".to_string())));
        if let Err(Error::Unavailable(_) | Error::Internal(_)) = &result {
            pooled.broken = true;
        }
        result
    }

    /// Runs `f` with a connection on the blocking thread pool, off the async workers.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let db = self.clone();
        actix_web::web::block(move || db.with_conn(f)).await?
    }

    /// Connections in use and idle, for readiness and metrics.
    pub fn pool_state(&self) -> (u32, u32) {
        let state = self.pool.state();
        (state.connections - state.idle_connections, state.idle_connections)
    }
}

/// Creates the folder of a SQLite file path (not of a `file:` URI or `:memory:`).
fn create_parent_folder(url: &str) -> Result<()> {
    if url.starts_with("file:") || url == ":memory:" {
        return Ok(());
    }
    match Path::new(url).parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)
            .map_err(|e| Error::Config(format!("cannot create the folder {}: {e}", parent.display()))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A task that panics halfway through a transaction gets a 500, and its connection is
    /// dropped: the next request does not find a transaction still open (or the file locked).
    #[test]
    fn a_panic_in_a_transaction_leaves_no_connection_behind() {
        let dir = tempfile::tempdir().expect("temporary folder");
        let mut settings = Settings::defaults().expect("settings");
        settings.database_url = dir.path().join("test.db").to_string_lossy().into_owned();
        settings.pool_size = 1;
        let db = Database::open(&settings).expect("open");
        let panicked = db.with_conn(|conn| conn.write(|_| -> Result<()> { panic!("halfway through") }));
        assert!(matches!(panicked, Err(Error::Internal(_))), "{panicked:?}");
        db.with_conn(|conn| conn.write(|_| Ok(())))
            .expect("a transaction on the next connection");
    }
}
