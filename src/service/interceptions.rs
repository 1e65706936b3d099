//! The write use case of interceptions. Every way a record comes in — a `PUT`, a batch item, a
//! `DELETE`, the demo loader, a spreadsheet row — goes through [`push`] or [`retract`]:
//!
//! 1. *check*, before any transaction: each item against the contract and the operation's days,
//!    and its country against the caller;
//! 2. *write*, in one transaction: lock the batch's countries, re-check the operation, read what
//!    is stored under the batch's keys, let [`decide`] rule on each item in order, read the tally
//!    cells the changes touch and refuse an item that would take one out of range, then store
//!    the records, add the cell differences, mark who reported and for which days, and close
//!    with the journal (feed positions and one audit entry per country). A country whose figures
//!    are final is refused (409 `country-final`) under its lock, before anything is read.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};

use crate::db::interceptions::{Key, NewState};
use crate::db::journal::Journal;
use crate::db::reporting::DayChange;
use crate::db::tallies::Range;
use crate::db::{self, DbConn};
use crate::domain::audit::{AuditItem, NewAudit, Writer};
use crate::domain::country;
use crate::domain::interception::{
    decide, window, Canonical, CheckedInterception, Current, Interception, InterceptionInput, Request, WriteResult,
};
use crate::domain::operation::Operation;
use crate::domain::reporting::Schedule;
use crate::domain::tally::{self, Cells, Deltas, MAX_CELL};
use crate::domain::version::IfMatch;
use crate::error::{Error, FieldError, Result};
use crate::observe::{PhaseClock, WritePhase, METRICS};

/// One item of a push, as the caller read it.
#[derive(Debug)]
pub struct Item {
    /// Its position in the request.
    pub index: usize,
    /// The key from the path of a `PUT`; `None` for a batch item or a row, which carry their own.
    pub key: Option<Key>,
    /// The item read from its JSON (or a spreadsheet row), or why it could not be read.
    pub input: Result<InterceptionInput>,
    /// Its reference as sent, for the answer when it is refused before its key is known.
    pub external_ref: Option<String>,
    /// The version the caller expects.
    pub if_match: IfMatch,
}

/// What became of one item.
#[derive(Debug)]
pub struct ItemOutcome {
    /// Its position in the request.
    pub index: usize,
    /// Its reference, when known.
    pub external_ref: Option<String>,
    /// What it did, or why it was refused.
    pub outcome: Result<Written>,
}

/// What a stored item did.
#[derive(Debug)]
pub struct Written {
    /// Created, updated or unchanged.
    pub result: WriteResult,
    /// The record's version after it.
    pub version: i64,
    /// The record after it, for a one-record write (a batch answers without it).
    pub record: Option<Interception>,
}

/// What became of a push.
#[derive(Debug)]
pub struct PushReport {
    /// Whether anything was stored: `false` when an atomic push had a refused item.
    pub stored: bool,
    /// One outcome per item, in request order.
    pub items: Vec<ItemOutcome>,
}

/// Says whether the caller may act for a country (403 if not).
pub type MayActFor<'a> = &'a (dyn Fn(&str) -> Result<()> + Sync);

/// One checked item, ready to be decided.
struct Submission {
    index: usize,
    key: Key,
    request: Request,
    if_match: IfMatch,
    /// What its content counts in the tallies (nothing for a retraction), worked out before the
    /// transaction.
    counted: Deltas,
}

/// A write found a tally cell out of range on the fast path (which adds the differences without
/// reading the cells first): the transaction is rolled back and the write done again carefully.
#[derive(Debug)]
struct CellOutOfRange;

impl std::fmt::Display for CellOutOfRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a tally cell would leave its range")
    }
}

impl std::error::Error for CellOutOfRange {}

/// Checks and stores a push. Each item stands alone unless `atomic`: then one refused item
/// stores nothing, and every item's outcome says why (the refused ones with their problem).
/// `answer_in_full`: the outcomes carry each record's content (a `PUT` answers with it).
pub fn push(
    conn: &mut DbConn,
    operation_id: &str,
    items: Vec<Item>,
    atomic: bool,
    writer: &Writer,
    may_act_for: MayActFor,
) -> Result<PushReport> {
    let operation = db::operations::get_bare(conn, operation_id)?;
    operation.require_active()?;
    let answer_in_full = items.iter().any(|item| item.key.is_some());
    let mut clock = PhaseClock::start();
    let (submissions, refused) = check(&operation, items, may_act_for);
    clock.lap(WritePhase::Check);
    if atomic && !refused.is_empty() {
        return Ok(PushReport {
            stored: false,
            items: refused,
        });
    }
    write(conn, &operation, submissions, refused, atomic, answer_in_full, writer)
}

/// Retracts one interception (a tombstone: out of every total, in the feed); the caller has
/// checked its country.
pub fn retract(
    conn: &mut DbConn,
    operation_id: &str,
    key: Key,
    if_match: IfMatch,
    writer: &Writer,
) -> Result<(WriteResult, Interception)> {
    let operation = db::operations::get_bare(conn, operation_id)?;
    operation.require_active()?;
    let submission = Submission {
        index: 0,
        key,
        request: Request::Retract,
        if_match,
        counted: Deltas::new(),
    };
    let report = write(conn, &operation, vec![submission], Vec::new(), true, true, writer)?;
    single(report)
}

/// The outcome of a one-record push (a `PUT`, a `DELETE`), as a result with the record.
pub fn single(report: PushReport) -> Result<(WriteResult, Interception)> {
    let written = report
        .items
        .into_iter()
        .next()
        .ok_or_else(|| Error::internal("a one-item push has no outcome"))?
        .outcome?;
    let record = written
        .record
        .ok_or_else(|| Error::internal("a one-record write answered without its record"))?;
    Ok((written.result, record))
}

/// Step 1: each item against the contract, the operation's days and the caller's countries.
fn check(operation: &Operation, items: Vec<Item>, may_act_for: MayActFor) -> (Vec<Submission>, Vec<ItemOutcome>) {
    let days = window(operation.starts_on, operation.ends_on);
    let mut submissions = Vec::with_capacity(items.len());
    let mut refused = Vec::new();
    for item in items {
        let key = item.key.as_ref().map(|(c, r)| (c.as_str(), r.as_str()));
        // The caller's reach over the item's country is checked before its content is judged.
        let checked = item
            .input
            .and_then(|input| {
                if let Some(code) = input.country.as_deref().and_then(country::normalise) {
                    may_act_for(&code)?;
                }
                input.check(key, days)
            })
            .and_then(|checked| may_act_for(&checked.country).map(|()| checked));
        match checked {
            Ok(CheckedInterception {
                country,
                external_ref,
                content,
            }) => {
                let mut counted = Deltas::with_capacity(48);
                tally::add_interception(&mut counted, &country, &content.content, 1);
                submissions.push(Submission {
                    index: item.index,
                    key: (country, external_ref),
                    request: Request::Put(Arc::new(content)),
                    if_match: item.if_match,
                    counted,
                })
            }
            Err(error) => refused.push(ItemOutcome {
                index: item.index,
                external_ref: item.key.map(|k| k.1).or(item.external_ref),
                outcome: Err(error),
            }),
        }
    }
    (submissions, refused)
}

/// One decided item on its way to storage.
struct Decided {
    index: usize,
    key: Key,
    /// The id and version stored when the write read its record (`None`: not stored).
    read: Option<(i64, i64)>,
    result: WriteResult,
    action: Option<crate::domain::audit::AuditAction>,
    next: Current,
    deltas: Deltas,
    /// Live records it adds to (or takes from) each operation day.
    days: Vec<(NaiveDate, i64)>,
}

/// Step 2: decides and stores in one transaction. The tally differences are first added without
/// reading the cells; if that cannot be shown to keep every cell in its range, the transaction
/// is rolled back and done again reading the cells first, so that only the items at fault are
/// refused.
fn write(
    conn: &mut DbConn,
    checked_against: &Operation,
    submissions: Vec<Submission>,
    outcomes: Vec<ItemOutcome>,
    atomic: bool,
    answer_in_full: bool,
    writer: &Writer,
) -> Result<PushReport> {
    let run = Run {
        checked_against,
        atomic,
        answer_in_full,
        writer,
    };
    // Side by side with other writers of the same countries first; if a record changed under
    // it, or a cell would leave its range, once more under the countries' exclusive locks.
    let mut mode = Mode::Shared;
    loop {
        let outcome = run.attempt(conn, &submissions, mode);
        if let Err(Error::Internal(cause)) = &outcome {
            if let Some(reason) = retry_alone(cause.as_ref()).filter(|_| mode == Mode::Shared) {
                METRICS.write_retried(reason);
                mode = Mode::Alone;
                continue;
            }
            if mode != Mode::Careful && cause.is::<CellOutOfRange>() {
                METRICS.write_retried("cell_range");
                mode = Mode::Careful;
                continue;
            }
        }
        break outcome;
    }
    .map(|(stored, mut items)| {
        items.extend(outcomes);
        items.sort_by_key(|o| o.index);
        PushReport { stored, items }
    })
}

/// How an attempt at a write runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Under the countries' shared locks, side by side with other interception writes of the
    /// same countries: each record is stored only if it is still as read.
    Shared,
    /// Under the countries' exclusive locks, after a shared attempt met a concurrent change.
    Alone,
    /// Under the exclusive locks, reading the tally cells first so that only the items that
    /// would take one out of range are refused.
    Careful,
}

/// Why a failed shared attempt should be done again alone, if it should: a record changed under
/// it (`contended`), the database broke a lock cycle between it and another writer (`deadlock`),
/// or any other error the database raised (`database_error`). The last also covers a deadlock
/// reported in another language than English (diesel does not hand over the SQLSTATE): under the
/// exclusive locks nothing runs beside the write, so an error that comes back is its own.
fn retry_alone(cause: &(dyn std::error::Error + Send + Sync + 'static)) -> Option<&'static str> {
    if cause.is::<db::interceptions::Contended>() {
        return Some("contended");
    }
    match cause.downcast_ref::<diesel::result::Error>() {
        Some(diesel::result::Error::DatabaseError(_, info)) if info.message().starts_with("deadlock detected") => {
            Some("deadlock")
        }
        Some(diesel::result::Error::DatabaseError(..)) => Some("database_error"),
        _ => None,
    }
}

/// What does not change between the attempts of one write.
struct Run<'a> {
    checked_against: &'a Operation,
    atomic: bool,
    answer_in_full: bool,
    writer: &'a Writer,
}

impl Run<'_> {
    /// One transaction: returns whether it stored anything and the outcome of each submission.
    fn attempt(&self, conn: &mut DbConn, submissions: &[Submission], mode: Mode) -> Result<(bool, Vec<ItemOutcome>)> {
        let op = self.checked_against.id.as_str();
        let mut rolled_back: Option<Vec<ItemOutcome>> = None;
        let mut clock = PhaseClock::start();
        let written = conn.write(|conn| {
            let countries: BTreeSet<&str> = submissions.iter().map(|s| s.key.0.as_str()).collect();
            match mode {
                Mode::Shared => conn.lock_countries_shared(op, countries.iter().copied())?,
                Mode::Alone | Mode::Careful => conn.lock_countries(op, countries.iter().copied())?,
            }
            clock.lap(WritePhase::Lock);
            let operation = db::operations::get_bare(conn, op)?;
            operation.require_active()?;
            let days = |o: &Operation| (o.starts_on, o.ends_on);
            if days(&operation) != days(self.checked_against) {
                return Err(Error::Conflict(format!(
                    "the days of operation `{op}` changed while the request was being checked; send it again"
                )));
            }
            // Under the countries' locks: a declaration of finality is wholly before or after.
            let listed: Vec<&str> = countries.iter().copied().collect();
            crate::service::reporting::require_open(conn, op, &listed)?;
            let schedule = operation.schedule()?;
            let keys: Vec<Key> = submissions.iter().map(|s| s.key.clone()).collect();
            let mut state = db::interceptions::load_current(conn, op, &keys)?;
            let read: HashMap<Key, (i64, i64)> = state
                .iter()
                .filter_map(|(key, current)| current.id.map(|id| (key.clone(), (id, current.version))))
                .collect();
            load_contents(conn, &mut state, submissions, self.answer_in_full)?;
            clock.lap(WritePhase::Load);
            let at = db::now().and_utc();
            let mut refused: Vec<ItemOutcome> = Vec::new();
            let mut decided = decide_all(submissions, &mut state, self.writer, at, &schedule, &mut refused)?;
            for d in &mut decided {
                d.read = read.get(&d.key).copied();
            }
            clock.lap(WritePhase::Decide);
            if mode == Mode::Careful {
                refuse_out_of_range(conn, op, &mut decided, &mut refused)?;
                clock.lap(WritePhase::Cells);
            }
            if self.atomic && !refused.is_empty() {
                rolled_back = Some(refused);
                return Err(Error::Conflict("an atomic push had a refused item".into()));
            }
            let range = match mode {
                Mode::Careful => Range::Checked,
                Mode::Shared | Mode::Alone => Range::Unread,
            };
            let ids = self.store(conn, &decided, range, at, &mut clock)?;
            refused.extend(answers(op, decided, &ids, self.answer_in_full));
            Ok(refused)
        });
        clock.lap(WritePhase::Tail);
        match (written, rolled_back) {
            (_, Some(refused)) => Ok((false, refused)),
            (Ok(items), None) => Ok((true, items)),
            (Err(error), None) => Err(error),
        }
    }
}

/// Reads the stored content of the records whose content the write needs: those it changes or
/// retracts (their old figures leave the totals), and every record of a one-record write (its
/// answer carries the record).
fn load_contents(
    conn: &mut DbConn,
    state: &mut HashMap<Key, Current>,
    submissions: &[Submission],
    answer_in_full: bool,
) -> Result<()> {
    let mut wanted = BTreeSet::new();
    for s in submissions {
        if let Some(current) = state.get(&s.key) {
            if current.content.is_none() && (answer_in_full || current.needs_content(&s.request)) {
                wanted.extend(current.id);
            }
        }
    }
    let ids: Vec<i64> = wanted.into_iter().collect();
    if ids.is_empty() {
        return Ok(());
    }
    let contents = db::interceptions::load_content(conn, &ids)?;
    for current in state.values_mut() {
        if let Some(content) = current.id.and_then(|id| contents.get(&id)) {
            current.content = Some(content.clone());
        }
    }
    Ok(())
}

/// Rules on each submission in request order, against the state the ones before it left.
fn decide_all(
    submissions: &[Submission],
    state: &mut HashMap<Key, Current>,
    writer: &Writer,
    at: DateTime<Utc>,
    schedule: &Schedule,
    refused: &mut Vec<ItemOutcome>,
) -> Result<Vec<Decided>> {
    let mut decided = Vec::with_capacity(submissions.len());
    for s in submissions {
        let current = state.get(&s.key);
        let label = || format!("{}/{}", s.key.0, s.key.1);
        match decide(current, &s.request, &s.if_match, &writer.sub, at, &label()) {
            Ok(d) => {
                let mut days = Vec::new();
                if d.result != WriteResult::Unchanged {
                    if let Some(before) = current.map(Current::counted).transpose()?.flatten() {
                        days.push((schedule.day_of(before.content.occurred_at), -1));
                    }
                    if let (false, Request::Put(after)) = (d.next.deleted, &s.request) {
                        days.push((schedule.day_of(after.content.occurred_at), 1));
                    }
                }
                let deltas = match d.result {
                    WriteResult::Unchanged => Deltas::new(),
                    _ => {
                        // What it counts after (worked out before the transaction), less what
                        // it counted before.
                        let mut deltas = if d.next.deleted {
                            Deltas::new()
                        } else {
                            s.counted.clone()
                        };
                        if let Some(before) = current.map(Current::counted).transpose()?.flatten() {
                            tally::add_interception(&mut deltas, &s.key.0, &before.content, -1);
                        }
                        deltas
                    }
                };
                state.insert(s.key.clone(), d.next.clone());
                decided.push(Decided {
                    index: s.index,
                    key: s.key.clone(),
                    read: None,
                    result: d.result,
                    action: d.action,
                    next: d.next,
                    deltas,
                    days,
                });
            }
            Err(error) => refused.push(ItemOutcome {
                index: s.index,
                external_ref: Some(s.key.1.clone()),
                outcome: Err(error),
            }),
        }
    }
    Ok(decided)
}

/// Reads the cells the decided changes touch and adds each item's differences in order; an
/// item that would take a cell below 0 or past [`MAX_CELL`] is refused (422 naming the member
/// whose figures would overflow), and so is any later item of the same record.
fn refuse_out_of_range(
    conn: &mut DbConn,
    op: &str,
    decided: &mut Vec<Decided>,
    refused: &mut Vec<ItemOutcome>,
) -> Result<()> {
    let keys: BTreeSet<&tally::CellKey> = decided
        .iter()
        .flat_map(|d| d.deltas.iter().map(|(key, _)| key))
        .collect();
    if keys.is_empty() {
        return Ok(());
    }
    let keys: Vec<&tally::CellKey> = keys.into_iter().collect();
    let mut values = db::tallies::values(conn, op, &keys)?;
    let mut poisoned: BTreeSet<Key> = BTreeSet::new();
    let mut kept = Vec::with_capacity(decided.len());
    for d in decided.drain(..) {
        let overflow = if poisoned.contains(&d.key) {
            Some(FieldError::at(
                "",
                "an earlier item of this push for the same record was refused",
            ))
        } else {
            tally::add_checked(&mut values, &d.deltas)
                .err()
                .map(|(country, metric, dimension, bucket)| {
                    let cell = match dimension {
                        "" => format!("{metric} of {country}"),
                        _ => format!("{metric} of {country} by {dimension} `{bucket}`"),
                    };
                    FieldError::at(
                        tally::pointer_of(metric),
                        format!("would take the total {cell} out of the range 0 to {MAX_CELL}"),
                    )
                })
        };
        match overflow {
            None => kept.push(d),
            Some(problem) => {
                poisoned.insert(d.key.clone());
                refused.push(ItemOutcome {
                    index: d.index,
                    external_ref: Some(d.key.1),
                    outcome: Err(Error::Validation(vec![problem])),
                });
            }
        }
    }
    *decided = kept;
    Ok(())
}

impl Run<'_> {
    /// Stores what changed: the final state of each record (one feed entry each), the cell
    /// differences, who reported, and the journal. Returns the id of every record written if the
    /// write answers in full (a batch answers without them).
    fn store(
        &self,
        conn: &mut DbConn,
        decided: &[Decided],
        range: Range,
        at: DateTime<Utc>,
        clock: &mut PhaseClock,
    ) -> Result<HashMap<Key, i64>> {
        let (op, writer, want_ids) = (self.checked_against.id.as_str(), self.writer, self.answer_in_full);
        let changed: Vec<&Decided> = decided.iter().filter(|d| d.action.is_some()).collect();
        if changed.is_empty() {
            return Ok(HashMap::new());
        }
        let txn = db::journal::begin(conn)?;
        // The last state of each changed record, in key order: its feed index is its place here.
        let mut last: BTreeMap<&Key, &Decided> = BTreeMap::new();
        for d in &changed {
            last.insert(&d.key, d);
        }
        let mut states: Vec<NewState> = last
            .iter()
            .zip(0..)
            .map(|((key, d), feed_index)| NewState {
                country: &key.0,
                external_ref: &key.1,
                state: &d.next,
                read: d.read,
                feed_index,
            })
            .collect();
        let ids = db::interceptions::store(conn, op, txn, &writer.jti, &mut states, want_ids)?;
        clock.lap(WritePhase::Store);
        // Summed by hash, then put in key order once: a batch adds tens of thousands of
        // differences to a few thousand cells, and a tree walk per difference showed in profiles.
        let mut sums: HashMap<&tally::CellKey, i64> = HashMap::new();
        for d in &changed {
            for (key, delta) in &d.deltas {
                let sum = sums.entry(key).or_insert(0);
                *sum = sum
                    .checked_add(*delta)
                    .ok_or_else(|| Error::internal("cell differences overflow after the range check"))?;
            }
        }
        let cells: Cells = sums.into_iter().map(|(key, sum)| (key.clone(), sum)).collect();
        if !db::tallies::add(conn, op, &cells, range)? {
            return Err(Error::internal(CellOutOfRange));
        }
        clock.lap(WritePhase::Cells);
        let reporters: Vec<&str> = changed.iter().map(|d| d.key.0.as_str()).collect();
        let mut days: BTreeMap<(&str, NaiveDate), i64> = BTreeMap::new();
        for d in &changed {
            for (day, n) in &d.days {
                *days.entry((d.key.0.as_str(), *day)).or_insert(0) += n;
            }
        }
        let days: Vec<DayChange> = days
            .into_iter()
            .map(|((country, day), records)| DayChange {
                country: country.to_string(),
                day,
                records,
                stated: 0,
            })
            .collect();
        let mut by_country: BTreeMap<&str, Vec<AuditItem>> = BTreeMap::new();
        for d in &changed {
            let items = by_country.entry(d.key.0.as_str()).or_default();
            let action = d.action.ok_or_else(|| Error::internal("a change without an action"))?;
            let hash = d.next.hash.clone();
            items.push(AuditItem::new(
                items.len(),
                action,
                format!("{}/{}", d.key.0, d.key.1),
                d.next.version,
                hash,
            ));
        }
        let audit = by_country
            .into_iter()
            .map(|(country, items)| NewAudit::batch(writer, op, country, items))
            .collect();
        db::journal::commit(
            conn,
            Journal {
                operation_id: op.to_string(),
                txn,
                feed_count: last.len() as i64,
                audit,
            },
        )?;
        clock.lap(WritePhase::Tail);
        // Under the journal's lock, held to commit: the rows every writer of a country shares
        // are updated by one writer at a time, so none waits for another on them.
        db::reporting::touch(conn, op, &reporters, writer, "interceptions", at)?;
        db::reporting::add_days(conn, op, &days, at)?;
        clock.lap(WritePhase::Report);
        Ok(ids)
    }
}

/// The answer of each decided item: what it did, and the record after it if asked.
fn answers(op: &str, decided: Vec<Decided>, ids: &HashMap<Key, i64>, with_record: bool) -> Vec<ItemOutcome> {
    decided
        .into_iter()
        .map(|d| {
            let id = d.next.id.or_else(|| ids.get(&d.key).copied()).unwrap_or_default();
            let version = d.next.version;
            let record = if with_record {
                view(op, d.key.clone(), id, d.next, d.result)
            } else {
                None
            };
            ItemOutcome {
                index: d.index,
                external_ref: Some(d.key.1),
                outcome: Ok(Written {
                    result: d.result,
                    version,
                    record,
                }),
            }
        })
        .collect()
}

/// The record as the API serves it; `None` if its content was not read.
fn view(op: &str, key: Key, id: i64, state: Current, result: WriteResult) -> Option<Interception> {
    let content: Canonical = Arc::try_unwrap(state.content?).unwrap_or_else(|shared| (*shared).clone());
    Some(Interception {
        id,
        operation_id: op.to_string(),
        country: key.0,
        external_ref: key.1,
        content: content.content,
        version: state.version,
        deleted: state.deleted,
        reported_by: state.reported_by,
        created_at: state.created_at,
        updated_at: state.updated_at,
        result: Some(result),
    })
}
