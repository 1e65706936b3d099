//! The folder of the tally delta log (PostgreSQL): one thread per instance folds the pending
//! differences into the cells every `tally_fold_ms` (see [`crate::db::tally_log`]). Instances
//! sharing a database take turns: a fold that finds another one running skips its turn. Readers
//! add what is pending, so how late a fold runs changes how much they add, never what they see.

use std::sync::Weak;
use std::time::{Duration, Instant};

use crate::db::{tally_log, Database};
use crate::observe::METRICS;

/// Starts the folding thread; it ends by itself once `alive` can no longer be upgraded (the
/// instance's state is gone).
pub fn spawn<T: Send + Sync + 'static>(db: Database, every: Duration, alive: Weak<T>) {
    let started = std::thread::Builder::new()
        .name("opcoord-tally-folder".into())
        .spawn(move || run(&db, every, &alive));
    if let Err(e) = started {
        log::error!("cannot start the tally folder ({e}); tallies stay exact but reads slow down as the log grows");
    }
}

fn run<T>(db: &Database, every: Duration, alive: &Weak<T>) {
    let mut last_error: Option<String> = None;
    // Halved after a failed fold (a statement timeout, say), doubled back after each success.
    let mut budget = tally_log::FOLD_CELLS;
    while alive.strong_count() > 0 {
        std::thread::sleep(every);
        loop {
            let began = Instant::now();
            match db.with_conn(|conn| tally_log::fold(conn, budget)) {
                Ok(folded) => {
                    budget = (budget * 2).min(tally_log::FOLD_CELLS);
                    if last_error.take().is_some() {
                        log::info!("tally folder: folding again");
                    }
                    if folded.rows == 0 || alive.strong_count() == 0 {
                        break;
                    }
                    METRICS.tally_folded(folded.rows, folded.cells, began.elapsed().as_secs_f64());
                }
                Err(error) => {
                    budget = (budget / 2).max(1);
                    // Said once per kind of failure, not every second.
                    let said = error.to_string();
                    if last_error.as_deref() != Some(said.as_str()) {
                        log::warn!("tally folder: {said}; the differences stay pending and are read with the cells");
                        last_error = Some(said);
                    }
                    break;
                }
            }
        }
    }
}
