//! Revocations pushed to every instance on PostgreSQL: each instance keeps one connection that
//! `LISTEN`s on [`REVOKED_CHANNEL`] in a thread of its own, so a token revoked through any
//! instance is refused by all of them within milliseconds. The periodic reload of the whole
//! list (`revocation_refresh_ms`) stays as the fallback for anything missed, and on SQLite
//! (one file, no notifications) it is the only way.

use std::collections::HashSet;
use std::sync::Weak;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

use super::tokens::{revoked_jtis, REVOKED_CHANNEL};
use super::DbConn;
use crate::error::{Error, Result};

/// How often the listening thread looks for notifications already received. Looking costs one
/// non-blocking read of the socket and no round trip (diesel gives no socket to wait on).
const LOOK_EVERY: Duration = Duration::from_millis(5);
/// How often the listening connection is checked with a query, to notice a dead link.
const PING_EVERY: Duration = Duration::from_secs(30);
/// Longest wait between two attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Who hears of revocations: the instance's revocation list.
pub trait RevocationSink: Send + Sync + 'static {
    /// A token was revoked.
    fn revoked(&self, jti: &str);
    /// The whole list as stored now (after a (re)connection, to catch up on what was missed).
    fn caught_up(&self, jtis: HashSet<String>);
}

/// Starts the listening thread for `url`; it ends by itself once `sink` is dropped.
pub fn spawn<S: RevocationSink>(url: String, sink: Weak<S>) {
    let started = std::thread::Builder::new()
        .name("opcoord-revocations".into())
        .spawn(move || listen(&url, &sink));
    if let Err(e) = started {
        log::warn!("cannot start the revocation listener ({e}); revocations reach this instance by polling only");
    }
}

fn listen<S: RevocationSink>(url: &str, sink: &Weak<S>) {
    let mut backoff = Duration::from_millis(100);
    while sink.strong_count() > 0 {
        let started = Instant::now();
        match listen_once(url, sink) {
            Ok(()) => return,
            Err(error) => {
                log::warn!(
                    "revocation listener: {}; reconnecting (revocations still arrive by polling)",
                    super::redact::scrub_with(&error.to_string(), url)
                );
                if started.elapsed() > MAX_BACKOFF {
                    backoff = Duration::from_millis(100);
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

/// Listens until the sink is gone (`Ok`) or the connection fails (`Err`).
fn listen_once<S: RevocationSink>(url: &str, sink: &Weak<S>) -> Result<()> {
    let mut pg = PgConnection::establish(url).map_err(Error::unavailable)?;
    pg.batch_execute(&format!("LISTEN {REVOKED_CHANNEL}"))?;
    // Listening from now on; what was revoked before is read once.
    let mut conn = DbConn::Postgres(pg);
    let all = revoked_jtis(&mut conn)?;
    let DbConn::Postgres(mut pg) = conn else {
        return Err(Error::internal("the listener's connection changed backend"));
    };
    match sink.upgrade() {
        Some(sink) => sink.caught_up(all),
        None => return Ok(()),
    }
    let mut pinged = Instant::now();
    loop {
        {
            let Some(sink) = sink.upgrade() else { return Ok(()) };
            for notification in pg.notifications_iter() {
                sink.revoked(&notification?.payload);
            }
        }
        if pinged.elapsed() >= PING_EVERY {
            pg.batch_execute("SELECT 1")?;
            pinged = Instant::now();
        }
        std::thread::sleep(LOOK_EVERY);
    }
}
