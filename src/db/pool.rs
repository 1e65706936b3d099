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
    /// Why a connection failed, in the driver's words with every credential hidden (libpq
    /// quotes a URL it cannot parse, password included).
    fn failure(&self, message: String) -> ConnectError {
        ConnectError(super::redact::scrub_with(&message, &self.url))
    }

    fn open(&self) -> Result<DbConn, ConnectError> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url)
                .map(DbConn::Postgres)
                .map_err(|e| self.failure(e.to_string())),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url)
                    .map_err(|e| self.failure(format!("cannot open SQLite database: {e}")))?;
                // busy_timeout first: switching to WAL may itself have to wait for the lock.
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;",
                    self.busy_timeout_ms
                ))
                .map_err(|e| self.failure(format!("cannot configure SQLite database: {e}")))?;
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
        crate::on_backend!(&mut pooled.conn, c => c.batch_execute("SELECT 1")).map_err(|e| self.failure(e.to_string()))
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
            prepare_sqlite_file(&url)?;
        }
        let manager = Manager {
            url,
            backend,
            busy_timeout_ms: settings.sqlite_busy_timeout_ms,
        };
        let first = manager
            .open()
            .map_err(|e| Error::unavailable(format!("cannot connect to the {backend:?} database: {e}")))?;
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

    /// Takes a connection, waiting at most the configured timeout; synchronous.
    ///
    /// A connection goes back to the pool only when `f` returned and left no transaction open.
    /// Whatever else ends `f` — a panic unwinding through it, a commit or rollback that failed,
    /// a lost database — the connection is marked broken and the pool closes it, which rolls
    /// back anything left open (and, on SQLite, releases the write lock) instead of handing an
    /// open transaction to the next request.
    pub fn with_conn<T>(&self, f: impl FnOnce(&mut DbConn) -> Result<T>) -> Result<T> {
        let mut pooled = self.pool.get()?;
        // Broken until proven otherwise: if `f` panics, the guard drops the connection as it is.
        pooled.broken = true;
        let result = f(&mut pooled.conn);
        let left_open = pooled.conn.transaction_left_open();
        if left_open {
            log::error!("a connection was left inside a transaction; it is closed, not reused");
        }
        pooled.broken = left_open || matches!(result, Err(Error::Unavailable(_)));
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

/// Makes the SQLite file owner-only before SQLite opens it: its missing folders are created
/// 0700, a new file 0600; an existing one (and its `-wal`, `-shm` and `-journal` files) is
/// narrowed to 0600 where this user may, with a warning where it may not (a file another user
/// keeps for this one stays usable). SQLite gives the files it creates later the database
/// file's own mode.
fn prepare_sqlite_file(url: &str) -> Result<()> {
    let Some(path) = crate::files::sqlite_file(url) else {
        return Ok(());
    };
    let failed = |what: &str, e: std::io::Error| Error::Config(format!("cannot {what} {}: {e}", path.display()));
    if let Some(parent) = path.parent() {
        crate::files::create_private_dir(parent).map_err(|e| failed("create the folder of", e))?;
    }
    crate::files::create_private_file(path).map_err(|e| failed("create", e))?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        if let Err(e) = crate::files::narrow(Path::new(&file), crate::files::PRIVATE_FILE) {
            log::warn!("{} stays readable by others: {e}", Path::new(&file).display());
        }
    }
    Ok(())
}
