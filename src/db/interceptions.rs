//! Queries for interceptions: the batch write that every push goes through, reads, and the
//! reconciliation digest.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::upsert::excluded;
use sha2::{Digest, Sha256};

use super::schema::interceptions;
use super::{journal, now, DbConn};
use crate::domain::change::{Action, Entity, NewChange};
use crate::domain::interception::{Interception, InterceptionContent, InterceptionKind, WriteResult};
use crate::domain::version::IfMatch;
use crate::error::{Error, Result};
use crate::on_backend;

pub use super::Writer;

/// What one submission asks for.
#[derive(Debug, Clone)]
pub enum Request {
    /// Store this content (create, change, or revive a retracted one).
    Put(Box<InterceptionContent>),
    /// Retract: keep a tombstone, take it out of the totals.
    Retract,
}

/// One interception write, as a `PUT`, a `DELETE` or one item of a batch.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Position in the request.
    pub index: usize,
    /// Reporting country.
    pub country: String,
    /// National reference.
    pub external_ref: String,
    /// What to do.
    pub request: Request,
    /// The version the client expects.
    pub if_match: IfMatch,
}

/// How one submission went: what it did and the interception after it, or why it failed.
pub type Outcome = Result<(WriteResult, Interception)>;

/// A change of one interception's counted content, for the tallies: what it counted before
/// (`None`: nothing, being new or retracted) and what it counts after.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The country.
    pub country: String,
    /// Counted before.
    pub before: Option<InterceptionContent>,
    /// Counted after.
    pub after: Option<InterceptionContent>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = interceptions)]
struct Row {
    id: i64,
    operation_id: String,
    country: String,
    external_ref: String,
    body: String,
    content_hash: String,
    version: i64,
    deleted: bool,
    reported_by_sub: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

#[derive(Insertable)]
#[diesel(table_name = interceptions)]
struct NewRow<'a> {
    operation_id: &'a str,
    country: &'a str,
    external_ref: &'a str,
    kind: &'a str,
    occurred_at: NaiveDateTime,
    body: String,
    content_hash: &'a str,
    version: i64,
    deleted: bool,
    reported_by_sub: &'a str,
    reported_by_jti: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

/// The state of one interception while a batch is applied.
#[derive(Debug, Clone)]
struct Current {
    id: Option<i64>,
    content: InterceptionContent,
    hash: String,
    version: i64,
    deleted: bool,
    sub: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

type Key = (String, String);

fn parse_body(body: &str, id: i64) -> Result<InterceptionContent> {
    serde_json::from_str(body).map_err(|e| Error::Internal(format!("stored interception {id} does not parse: {e}")))
}

impl Row {
    fn into_current(self) -> Result<(Key, Current)> {
        let content = parse_body(&self.body, self.id)?;
        Ok((
            (self.country, self.external_ref),
            Current {
                id: Some(self.id),
                content,
                hash: self.content_hash,
                version: self.version,
                deleted: self.deleted,
                sub: self.reported_by_sub,
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
        ))
    }

    fn into_interception(self) -> Result<Interception> {
        let operation_id = self.operation_id.clone();
        let ((country, external_ref), current) = self.into_current()?;
        Ok(view(
            &operation_id,
            &country,
            &external_ref,
            current.id.unwrap_or_default(),
            &current,
            None,
        ))
    }
}

fn view(
    operation_id: &str,
    country: &str,
    external_ref: &str,
    id: i64,
    c: &Current,
    result: Option<WriteResult>,
) -> Interception {
    Interception {
        id,
        operation_id: operation_id.to_string(),
        country: country.to_string(),
        external_ref: external_ref.to_string(),
        content: c.content.clone(),
        version: c.version,
        deleted: c.deleted,
        reported_by: c.sub.clone(),
        created_at: c.created_at.and_utc(),
        updated_at: c.updated_at.and_utc(),
        result,
    }
}

fn load(conn: &mut DbConn, operation_id: &str, keys: &[Key]) -> Result<HashMap<Key, Current>> {
    let mut found = HashMap::new();
    let mut refs: Vec<&str> = keys.iter().map(|(_, r)| r.as_str()).collect();
    refs.sort_unstable();
    refs.dedup();
    for chunk in refs.chunks(500) {
        let rows: Vec<Row> = on_backend!(conn, c => interceptions::table
            .filter(interceptions::operation_id.eq(operation_id))
            .filter(interceptions::external_ref.eq_any(chunk))
            .select(Row::as_select())
            .load(c))?;
        for row in rows {
            let (key, current) = row.into_current()?;
            found.insert(key, current);
        }
    }
    Ok(found)
}

/// What the batch did to one submission, before ids of new rows are known.
struct Pending {
    index: usize,
    key: Key,
    revived: bool,
    outcome: std::result::Result<(WriteResult, Current), Error>,
}

/// Applies submissions in order inside the caller's write transaction: one read of the
/// stored versions, one multi-row upsert, one multi-row append to the change feed. Returns
/// each submission's outcome; the tallies are updated from the changes of counted content.
pub fn write_many(
    conn: &mut DbConn,
    operation_id: &str,
    submissions: Vec<Submission>,
    writer: &Writer,
) -> Result<Vec<(usize, Outcome)>> {
    let keys: Vec<Key> = submissions
        .iter()
        .map(|s| (s.country.clone(), s.external_ref.clone()))
        .collect();
    // One lock per country of the batch, not per record: writers of the same record always share
    // its country, and two batches of one country would wait on each other's tally cells anyway.
    let names: std::collections::BTreeSet<String> = keys
        .iter()
        .map(|(country, _)| format!("interceptions\u{0}{operation_id}\u{0}{country}"))
        .collect();
    conn.lock_keys(names.iter().map(String::as_str))?;
    let mut state = load(conn, operation_id, &keys)?;
    let at = now();
    let mut pending = Vec::with_capacity(submissions.len());
    let mut transitions = Vec::new();
    let mut dirty: Vec<Key> = Vec::new();
    for submission in submissions {
        let key = (submission.country, submission.external_ref);
        let current = state.get(&key);
        let checked = match (&submission.if_match, current) {
            (IfMatch::Absent, _) => Ok(()),
            (_, Some(c)) => submission.if_match.check(c.version),
            (_, None) => Err(Error::PreconditionFailed { current: 0 }),
        };
        let was_deleted = current.is_some_and(|c| c.deleted);
        let next = checked.and_then(|()| apply(current, submission.request, writer, at, &key));
        let outcome = match next {
            Ok((result, next)) => {
                if result != WriteResult::Unchanged {
                    let counted = |c: &Current| (!c.deleted).then(|| c.content.clone());
                    transitions.push(Transition {
                        country: key.0.clone(),
                        before: current.and_then(counted),
                        after: counted(&next),
                    });
                    if !dirty.contains(&key) {
                        dirty.push(key.clone());
                    }
                    state.insert(key.clone(), next.clone());
                }
                Ok((result, next))
            }
            Err(error) => Err(error),
        };
        let revived = was_deleted && outcome.as_ref().is_ok_and(|(_, c)| !c.deleted);
        pending.push(Pending {
            index: submission.index,
            key,
            revived,
            outcome,
        });
    }
    // Ids of the rows written, new ones included.
    let ids = store(conn, operation_id, &dirty, &state, writer)?;
    let mut outcomes = Vec::with_capacity(pending.len());
    let mut feed = Vec::new();
    let mut audit = Vec::new();
    for p in pending {
        let outcome = match p.outcome {
            Ok((result, current)) => {
                let id = current.id.or_else(|| ids.get(&p.key).copied()).unwrap_or_default();
                let interception = view(operation_id, &p.key.0, &p.key.1, id, &current, None);
                if result != WriteResult::Unchanged {
                    let action = match (result, current.deleted, current.version) {
                        (_, true, _) => "retract",
                        (WriteResult::Created, _, _) => "create",
                        _ if p.revived => "revive",
                        _ => "update",
                    };
                    let data = serde_json::to_string(&interception).unwrap_or_default();
                    let key = format!("{}/{}", p.key.0, p.key.1);
                    audit.push(writer.audit(
                        operation_id,
                        &p.key.0,
                        action,
                        "interception",
                        &key,
                        current.version,
                        data.clone(),
                    ));
                    feed.push(NewChange {
                        operation_id: operation_id.to_string(),
                        entity: Entity::Interception,
                        action: if current.deleted {
                            Action::Delete
                        } else {
                            Action::Upsert
                        },
                        country: p.key.0.clone(),
                        key,
                        version: current.version,
                        data,
                    });
                }
                Ok((
                    result,
                    Interception {
                        result: Some(result),
                        ..interception
                    },
                ))
            }
            Err(error) => Err(error),
        };
        outcomes.push((p.index, outcome));
    }
    super::tallies::apply(conn, operation_id, &transitions)?;
    let reporters: Vec<String> = transitions.iter().map(|t| t.country.clone()).collect();
    super::reported::touch(conn, operation_id, &reporters, writer, "interceptions")?;
    // The feed goes last: it takes the sequence lock, held until commit.
    journal::append(conn, &feed, &audit)?;
    Ok(outcomes)
}

/// Decides what a request does to the current state of one interception.
fn apply(
    current: Option<&Current>,
    request: Request,
    writer: &Writer,
    at: NaiveDateTime,
    key: &Key,
) -> Result<(WriteResult, Current)> {
    match (request, current) {
        (Request::Put(content), None) => {
            let hash = content.content_hash();
            Ok((
                WriteResult::Created,
                Current {
                    id: None,
                    content: *content,
                    hash,
                    version: 1,
                    deleted: false,
                    sub: writer.sub.clone(),
                    created_at: at,
                    updated_at: at,
                },
            ))
        }
        (Request::Put(content), Some(c)) => {
            let hash = content.content_hash();
            if hash == c.hash && !c.deleted {
                return Ok((WriteResult::Unchanged, c.clone()));
            }
            let next = Current {
                content: *content,
                hash,
                version: c.version + 1,
                deleted: false,
                sub: writer.sub.clone(),
                updated_at: at,
                ..c.clone()
            };
            Ok((WriteResult::Updated, next))
        }
        (Request::Retract, None) => Err(Error::NotFound(format!("there is no interception {}/{}", key.0, key.1))),
        (Request::Retract, Some(c)) if c.deleted => Ok((WriteResult::Unchanged, c.clone())),
        (Request::Retract, Some(c)) => {
            let next = Current {
                version: c.version + 1,
                deleted: true,
                sub: writer.sub.clone(),
                updated_at: at,
                ..c.clone()
            };
            Ok((WriteResult::Updated, next))
        }
    }
}

/// Writes the final state of every changed interception in one multi-row upsert.
/// Rows go in key order so concurrent batches lock shared rows in the same order.
fn store(
    conn: &mut DbConn,
    operation_id: &str,
    dirty: &[Key],
    state: &HashMap<Key, Current>,
    writer: &Writer,
) -> Result<HashMap<Key, i64>> {
    let mut ordered: Vec<&Key> = dirty.iter().collect();
    ordered.sort();
    let rows: Vec<NewRow> = ordered
        .into_iter()
        .filter_map(|key| state.get(key).map(|c| (key, c)))
        .map(|((country, external_ref), c)| NewRow {
            operation_id,
            country,
            external_ref,
            kind: c.content.kind.as_str(),
            occurred_at: c.content.occurred_at.naive_utc(),
            body: c.content.canonical_json(),
            content_hash: &c.hash,
            version: c.version,
            deleted: c.deleted,
            reported_by_sub: &c.sub,
            reported_by_jti: &writer.jti,
            created_at: c.created_at,
            updated_at: c.updated_at,
        })
        .collect();
    // One statement per 1,000 rows on PostgreSQL. diesel's SQLite backend has no multi-row
    // upsert, and SQLite runs in-process (no round trip per statement), so there each row is
    // its own prepared statement inside the same transaction.
    macro_rules! upsert {
        ($c:expr, $values:expr) => {
            diesel::insert_into(interceptions::table)
                .values($values)
                .on_conflict((
                    interceptions::operation_id,
                    interceptions::country,
                    interceptions::external_ref,
                ))
                .do_update()
                .set((
                    interceptions::kind.eq(excluded(interceptions::kind)),
                    interceptions::occurred_at.eq(excluded(interceptions::occurred_at)),
                    interceptions::body.eq(excluded(interceptions::body)),
                    interceptions::content_hash.eq(excluded(interceptions::content_hash)),
                    interceptions::version.eq(excluded(interceptions::version)),
                    interceptions::deleted.eq(excluded(interceptions::deleted)),
                    interceptions::reported_by_sub.eq(excluded(interceptions::reported_by_sub)),
                    interceptions::reported_by_jti.eq(excluded(interceptions::reported_by_jti)),
                    interceptions::updated_at.eq(excluded(interceptions::updated_at)),
                ))
                .returning((
                    interceptions::id,
                    interceptions::country,
                    interceptions::external_ref,
                ))
                .get_results::<(i64, String, String)>($c)
        };
    }
    let mut ids = HashMap::with_capacity(rows.len());
    let mut keep = |stored: Vec<(i64, String, String)>| {
        for (id, country, external_ref) in stored {
            ids.insert((country, external_ref), id);
        }
    };
    match conn {
        DbConn::Postgres(c) => {
            for chunk in rows.chunks(1000) {
                keep(upsert!(c, chunk)?);
            }
        }
        DbConn::Sqlite(c) => {
            for row in &rows {
                keep(upsert!(c, row)?);
            }
        }
    }
    Ok(ids)
}

/// Reads one interception (a tombstone too); 404 when there is none.
pub fn get(conn: &mut DbConn, operation_id: &str, country: &str, external_ref: &str) -> Result<Interception> {
    let row: Option<Row> = on_backend!(conn, c => interceptions::table
        .filter(interceptions::operation_id.eq(operation_id))
        .filter(interceptions::country.eq(country))
        .filter(interceptions::external_ref.eq(external_ref))
        .select(Row::as_select())
        .first(c)
        .optional())?;
    row.ok_or_else(|| {
        Error::NotFound(format!(
            "there is no interception {country}/{external_ref} in `{operation_id}`"
        ))
    })?
    .into_interception()
}

/// Filters of an interception list.
#[derive(Debug, Default, Clone)]
pub struct InterceptionFilter {
    /// Only these countries (`None`: every one).
    pub countries: Option<Vec<String>>,
    /// Only this kind.
    pub kind: Option<InterceptionKind>,
    /// Only those at or after this instant.
    pub from: Option<NaiveDateTime>,
    /// Only those before this instant.
    pub to: Option<NaiveDateTime>,
    /// Tombstones too.
    pub include_deleted: bool,
    /// Only ids above this one.
    pub after: Option<i64>,
}

/// Lists interceptions by id, at most `limit` of them.
pub fn list(
    conn: &mut DbConn,
    operation_id: &str,
    filter: &InterceptionFilter,
    limit: i64,
) -> Result<Vec<Interception>> {
    let rows: Vec<Row> = on_backend!(conn, c => {
        let mut query = interceptions::table
            .filter(interceptions::operation_id.eq(operation_id))
            .select(Row::as_select())
            .order(interceptions::id)
            .limit(limit)
            .into_boxed();
        if let Some(countries) = &filter.countries {
            query = query.filter(interceptions::country.eq_any(countries));
        }
        if let Some(kind) = filter.kind {
            query = query.filter(interceptions::kind.eq(kind.as_str()));
        }
        if let Some(from) = filter.from {
            query = query.filter(interceptions::occurred_at.ge(from));
        }
        if let Some(to) = filter.to {
            query = query.filter(interceptions::occurred_at.lt(to));
        }
        if !filter.include_deleted {
            query = query.filter(interceptions::deleted.eq(false));
        }
        if let Some(after) = filter.after {
            query = query.filter(interceptions::id.gt(after));
        }
        query.load(c)
    })?;
    rows.into_iter().map(Row::into_interception).collect()
}

/// Count and SHA-256 of a country's live interceptions as lines `external_ref TAB version LF`,
/// sorted by `external_ref` (bytewise).
pub fn digest(conn: &mut DbConn, operation_id: &str, country: &str) -> Result<(i64, String)> {
    let mut pairs: Vec<(String, i64)> = on_backend!(conn, c => interceptions::table
        .filter(interceptions::operation_id.eq(operation_id))
        .filter(interceptions::country.eq(country))
        .filter(interceptions::deleted.eq(false))
        .select((interceptions::external_ref, interceptions::version))
        .load(c))?;
    pairs.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut hasher = Sha256::new();
    for (external_ref, version) in &pairs {
        hasher.update(format!("{external_ref}\t{version}\n").as_bytes());
    }
    Ok((pairs.len() as i64, hex::encode(hasher.finalize())))
}
