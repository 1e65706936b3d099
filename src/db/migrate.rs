//! Embedded migrations, one set per backend with the same names, run at start and by `migrate`.

use diesel::connection::SimpleConnection;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use super::DbConn;
use crate::error::{Error, Result};

/// SQLite migrations, from `migrations/sqlite`.
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// PostgreSQL migrations, from `migrations/postgres`.
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Advisory lock key that serialises migrations when several instances start at once.
const MIGRATION_LOCK: i64 = 0x6f70_636f_6f72;

fn failed(action: &str) -> impl Fn(Box<dyn std::error::Error + Send + Sync>) -> Error + '_ {
    move |e| Error::internal(format!("{action} migrations: {e}"))
}

/// Applies every pending migration and returns how many ran.
pub fn run_pending(conn: &mut DbConn) -> Result<usize> {
    match conn {
        DbConn::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let applied = c.run_pending_migrations(POSTGRES).map(|v| v.len());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            applied.map_err(failed("running"))
        }
        DbConn::Sqlite(c) => c
            .run_pending_migrations(SQLITE)
            .map(|v| v.len())
            .map_err(failed("running")),
    }
}

/// How many migrations are not yet applied.
pub fn pending(conn: &mut DbConn) -> Result<usize> {
    match conn {
        DbConn::Postgres(c) => c.pending_migrations(POSTGRES).map(|v| v.len()),
        DbConn::Sqlite(c) => c.pending_migrations(SQLITE).map(|v| v.len()),
    }
    .map_err(failed("reading"))
}

/// Reverts every applied migration (for tests of the down migrations).
pub fn revert_all(conn: &mut DbConn) -> Result<usize> {
    match conn {
        DbConn::Postgres(c) => c.revert_all_migrations(POSTGRES).map(|v| v.len()),
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|v| v.len()),
    }
    .map_err(failed("reverting"))
}

/// Reverts the latest applied migration (for tests of what a migration does to existing data).
pub fn revert_last(conn: &mut DbConn) -> Result<()> {
    match conn {
        DbConn::Postgres(c) => c.revert_last_migration(POSTGRES).map(|_| ()),
        DbConn::Sqlite(c) => c.revert_last_migration(SQLITE).map(|_| ()),
    }
    .map_err(failed("reverting"))
}
