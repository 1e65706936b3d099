//! Queries for interceptions: what a write needs of the stored records, the multi-row store,
//! reads, and the reconciliation digest. Nothing here decides: see `service::interceptions`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Text, Timestamp};
use diesel::upsert::excluded;
use sha2::{Digest, Sha256};

use super::schema::{interception_versions, interceptions};
use super::{corrupt, DbConn};
use crate::domain::interception::{Canonical, Current, Interception, InterceptionKind};
use crate::error::{Error, Result};
use crate::on_backend;

/// An interception's key within its operation: country and national reference.
pub type Key = (String, String);

/// A whole stored interception, for reads.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = interceptions)]
pub struct Row {
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
    feed_txn: i64,
    feed_index: i32,
}

/// What a write needs of a stored interception: everything but its content.
#[derive(Debug, Clone, Queryable, QueryableByName, Selectable)]
#[diesel(table_name = interceptions)]
struct StateRow {
    id: i64,
    country: String,
    external_ref: String,
    content_hash: String,
    version: i64,
    deleted: bool,
    reported_by_sub: String,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

impl StateRow {
    fn into_current(self) -> (Key, Current) {
        (
            (self.country, self.external_ref),
            Current {
                id: Some(self.id),
                content: None,
                hash: self.content_hash,
                version: self.version,
                deleted: self.deleted,
                reported_by: self.reported_by_sub,
                created_at: self.created_at.and_utc(),
                updated_at: self.updated_at.and_utc(),
            },
        )
    }
}

impl Row {
    /// The interception as the API serves it.
    pub fn into_interception(self) -> Result<Interception> {
        let content = Canonical::stored(self.body, self.content_hash)
            .map_err(|e| Error::internal(format!("stored interception {} does not parse: {e}", self.id)))?;
        Ok(Interception {
            id: self.id,
            operation_id: self.operation_id,
            country: self.country,
            external_ref: self.external_ref,
            content: content.content,
            version: self.version,
            deleted: self.deleted,
            reported_by: self.reported_by_sub,
            created_at: self.created_at.and_utc(),
            updated_at: self.updated_at.and_utc(),
            result: None,
        })
    }

    /// The record's place in the change feed: its transaction and its index there.
    pub fn feed_place(&self) -> (i64, i32) {
        (self.feed_txn, self.feed_index)
    }

    /// The country of the record.
    pub fn country(&self) -> &str {
        &self.country
    }
}

/// The stored state of the interceptions under `keys` (their content is not read).
pub fn load_current(conn: &mut DbConn, operation_id: &str, keys: &[Key]) -> Result<HashMap<Key, Current>> {
    let mut found = HashMap::with_capacity(keys.len());
    match conn {
        DbConn::Postgres(c) => {
            // One probe of the unique index per key.
            for chunk in keys.chunks(1000) {
                let countries: Vec<&str> = chunk.iter().map(|k| k.0.as_str()).collect();
                let refs: Vec<&str> = chunk.iter().map(|k| k.1.as_str()).collect();
                let rows: Vec<StateRow> = diesel::sql_query(
                    // One probe of the unique index per key, whatever the planner thinks of the
                    // table's size: `LIMIT 1` keeps the LATERAL subquery from being flattened
                    // into a join, which with stale statistics (a young table) became a hash
                    // join over every record of the operation, for each batch.
                    "SELECT i.id, i.country, i.external_ref, i.content_hash, i.version, i.deleted, \
                            i.reported_by_sub, i.created_at, i.updated_at \
                     FROM unnest($2::text[], $3::text[]) AS k(country, external_ref) \
                     CROSS JOIN LATERAL (SELECT * FROM interceptions x WHERE x.operation_id = $1 \
                          AND x.country = k.country AND x.external_ref = k.external_ref LIMIT 1) AS i",
                )
                .bind::<Text, _>(operation_id)
                .bind::<Array<Text>, _>(countries)
                .bind::<Array<Text>, _>(refs)
                .load(c)?;
                found.extend(rows.into_iter().map(StateRow::into_current));
            }
        }
        DbConn::Sqlite(c) => {
            let mut by_country: std::collections::BTreeMap<&str, Vec<&str>> = std::collections::BTreeMap::new();
            for (country, external_ref) in keys {
                by_country.entry(country).or_default().push(external_ref);
            }
            for (country, refs) in by_country {
                for chunk in refs.chunks(500) {
                    let rows: Vec<StateRow> = interceptions::table
                        .filter(interceptions::operation_id.eq(operation_id))
                        .filter(interceptions::country.eq(country))
                        .filter(interceptions::external_ref.eq_any(chunk))
                        .select(StateRow::as_select())
                        .load(c)?;
                    found.extend(rows.into_iter().map(StateRow::into_current));
                }
            }
        }
    }
    Ok(found)
}

/// The stored content of the interceptions with these ids.
pub fn load_content(conn: &mut DbConn, ids: &[i64]) -> Result<HashMap<i64, Arc<Canonical>>> {
    let mut found = HashMap::with_capacity(ids.len());
    for chunk in ids.chunks(1000) {
        let rows: Vec<(i64, String, String)> = on_backend!(conn, c => interceptions::table
            .filter(interceptions::id.eq_any(chunk))
            .select((interceptions::id, interceptions::body, interceptions::content_hash))
            .load(c))?;
        for (id, body, hash) in rows {
            let content = Canonical::stored(body, hash).map_err(|_| corrupt("interception body", &id.to_string()))?;
            found.insert(id, Arc::new(content));
        }
    }
    Ok(found)
}

/// One interception to store: its new state, and its place in the transaction's feed entries.
#[derive(Debug)]
pub struct NewState<'a> {
    /// Reporting country.
    pub country: &'a str,
    /// National reference.
    pub external_ref: &'a str,
    /// The state to store.
    pub state: &'a Current,
    /// The id and version stored when the write read the record (`None`: it was not stored).
    /// On PostgreSQL the record is written only if it is still so; see [`Contended`].
    pub read: Option<(i64, i64)>,
    /// Its index among the transaction's feed entries.
    pub feed_index: i32,
}

/// A record changed (or was created) by another writer between the moment a write read it and
/// the moment it stored it. Writers of the same country run side by side on PostgreSQL; the one
/// that meets this rolls back and writes again under the countries' exclusive locks.
#[derive(Debug)]
pub struct Contended;

impl std::fmt::Display for Contended {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a record changed while the write was deciding on it")
    }
}

impl std::error::Error for Contended {}

#[derive(Insertable)]
#[diesel(table_name = interceptions)]
struct StoredRow<'a> {
    operation_id: &'a str,
    country: &'a str,
    external_ref: &'a str,
    kind: &'static str,
    occurred_at: NaiveDateTime,
    body: &'a str,
    content_hash: &'a str,
    version: i64,
    deleted: bool,
    reported_by_sub: &'a str,
    reported_by_jti: &'a str,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    feed_txn: i64,
    feed_index: i32,
}

#[derive(QueryableByName)]
struct StoredId {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    country: String,
    #[diesel(sql_type = Text)]
    external_ref: String,
}

/// Writes the new state of interceptions in the writer's transaction, stamped with its
/// transaction id and written by token `jti`; returns the id of each if `want_ids`. Rows go in
/// key order, so concurrent writers lock shared rows in the same order.
///
/// The version a record had when read is kept in `interception_versions` before it is replaced.
/// On PostgreSQL a record is inserted only if it is still missing and replaced only if it still
/// has the version the write read ([`NewState::read`]); otherwise nothing more is written and
/// the answer is [`Contended`] (the caller rolls back). On SQLite one writer runs at a time.
pub fn store(
    conn: &mut DbConn,
    operation_id: &str,
    txn: i64,
    jti: &str,
    states: &mut [NewState],
    want_ids: bool,
) -> Result<HashMap<Key, i64>> {
    states.sort_by(|a, b| (a.country, a.external_ref).cmp(&(b.country, b.external_ref)));
    let mut rows = Vec::with_capacity(states.len());
    for s in states.iter() {
        let content = s
            .state
            .content
            .as_ref()
            .ok_or_else(|| Error::internal("an interception to store has no content"))?;
        rows.push(StoredRow {
            operation_id,
            country: s.country,
            external_ref: s.external_ref,
            kind: content.content.kind.as_str(),
            occurred_at: content.content.occurred_at.naive_utc(),
            body: &content.json,
            content_hash: &content.hash,
            version: s.state.version,
            deleted: s.state.deleted,
            reported_by_sub: &s.state.reported_by,
            reported_by_jti: jti,
            created_at: s.state.created_at.naive_utc(),
            updated_at: s.state.updated_at.naive_utc(),
            feed_txn: txn,
            feed_index: s.feed_index,
        });
    }
    let mut ids = HashMap::with_capacity(rows.len());
    match conn {
        DbConn::Postgres(c) => {
            let (fresh, known): (Vec<_>, Vec<_>) = rows.iter().zip(states.iter()).partition(|(_, s)| s.read.is_none());
            let fresh: Vec<&StoredRow> = fresh.into_iter().map(|(row, _)| row).collect();
            let known: Vec<(&StoredRow, (i64, i64))> = known
                .into_iter()
                .filter_map(|(row, s)| s.read.map(|read| (row, read)))
                .collect();
            for chunk in fresh.chunks(1000) {
                let (written, stored) = insert_unnest(c, chunk, want_ids)?;
                if written != chunk.len() {
                    return Err(Error::internal(Contended));
                }
                ids.extend(stored.into_iter().map(|s| ((s.country, s.external_ref), s.id)));
            }
            for chunk in known.chunks(1000) {
                let (written, stored) = replace_unnest(c, chunk, want_ids)?;
                if written != chunk.len() {
                    return Err(Error::internal(Contended));
                }
                ids.extend(stored.into_iter().map(|s| ((s.country, s.external_ref), s.id)));
            }
        }
        DbConn::Sqlite(c) => {
            // diesel's SQLite backend has no multi-row upsert, and SQLite runs in-process (no
            // round trip per statement): one prepared statement per row, in the same transaction.
            for (id, version) in states.iter().filter_map(|s| s.read) {
                diesel::sql_query(
                    "INSERT INTO interception_versions (interception_id, version, body, content_hash, deleted, \
                         reported_by_sub, updated_at) \
                     SELECT id, version, body, content_hash, deleted, reported_by_sub, updated_at \
                     FROM interceptions WHERE id = ?1 AND version = ?2",
                )
                .bind::<BigInt, _>(id)
                .bind::<BigInt, _>(version)
                .execute(c)?;
            }
            for row in &rows {
                let upsert = diesel::insert_into(interceptions::table)
                    .values(row)
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
                        interceptions::feed_txn.eq(excluded(interceptions::feed_txn)),
                        interceptions::feed_index.eq(excluded(interceptions::feed_index)),
                    ));
                if want_ids {
                    let (id, country, external_ref): (i64, String, String) = upsert
                        .returning((interceptions::id, interceptions::country, interceptions::external_ref))
                        .get_result(c)?;
                    ids.insert((country, external_ref), id);
                } else {
                    upsert.execute(c)?;
                }
            }
        }
    }
    Ok(ids)
}

/// The columns of stored rows as one array each (`$4` to `$15`, after the statement's operation,
/// token and transaction), and their names in the rows `unnest` makes of them. The rows travel
/// as one array per column (binary), so a statement is parsed and planned once whatever the
/// chunk's size, where a multi-row `VALUES` carries 15 parameters per row.
const ARRAYS: &str = "$4::text[], $5::text[], $6::text[], $7::timestamp[], $8::text[], $9::text[], \
     $10::bigint[], $11::boolean[], $12::text[], $13::timestamp[], $14::timestamp[], $15::integer[]";
const NAMES: &str = "country, external_ref, kind, occurred_at, body, content_hash, version, deleted, sub, \
     created_at, updated_at, feed_index";

/// Binds the parameters `$1` to `$15` of a statement over [`ARRAYS`] (and any more after them) and runs it: the number of
/// rows written, and their ids if `want_ids` (the statement then returns them).
macro_rules! run_over_columns {
    ($c:expr, $sql:expr, $rows:expr, $want_ids:expr $(, $extra_type:ty => $extra:expr)*) => {{
        let rows = $rows;
        let first = rows[0];
        macro_rules! column {
            ($field:ident) => {
                rows.iter().map(|r| r.$field).collect::<Vec<_>>()
            };
        }
        let query = diesel::sql_query($sql)
            .bind::<Text, _>(first.operation_id)
            .bind::<Text, _>(first.reported_by_jti)
            .bind::<BigInt, _>(first.feed_txn)
            .bind::<Array<Text>, _>(column!(country))
            .bind::<Array<Text>, _>(column!(external_ref))
            .bind::<Array<Text>, _>(column!(kind))
            .bind::<Array<Timestamp>, _>(column!(occurred_at))
            .bind::<Array<Text>, _>(column!(body))
            .bind::<Array<Text>, _>(column!(content_hash))
            .bind::<Array<BigInt>, _>(column!(version))
            .bind::<Array<Bool>, _>(column!(deleted))
            .bind::<Array<Text>, _>(column!(reported_by_sub))
            .bind::<Array<Timestamp>, _>(column!(created_at))
            .bind::<Array<Timestamp>, _>(column!(updated_at))
            .bind::<Array<Integer>, _>(column!(feed_index))
            $(.bind::<$extra_type, _>($extra))*;
        if $want_ids {
            let stored: Vec<StoredId> = query.load($c)?;
            Ok((stored.len(), stored))
        } else {
            Ok((query.execute($c)?, Vec::new()))
        }
    }};
}

/// PostgreSQL: inserts records the write found missing, skipping any another writer created
/// since (the count tells).
fn insert_unnest(
    c: &mut diesel::pg::PgConnection,
    rows: &[&StoredRow],
    want_ids: bool,
) -> Result<(usize, Vec<StoredId>)> {
    if rows.is_empty() {
        return Ok((0, Vec::new()));
    }
    let returning = if want_ids {
        " RETURNING id, country, external_ref"
    } else {
        ""
    };
    let sql = format!(
        "INSERT INTO interceptions (operation_id, country, external_ref, kind, occurred_at, body, \
             content_hash, version, deleted, reported_by_sub, reported_by_jti, created_at, updated_at, \
             feed_txn, feed_index) \
         SELECT $1, t.country, t.external_ref, t.kind, t.occurred_at, t.body, t.content_hash, t.version, \
             t.deleted, t.sub, $2, t.created_at, t.updated_at, $3, t.feed_index \
         FROM unnest({ARRAYS}) AS t({NAMES}) \
         ON CONFLICT (operation_id, country, external_ref) DO NOTHING{returning}"
    );
    run_over_columns!(c, sql, rows, want_ids)
}

/// PostgreSQL: replaces records that still have the version the write read, by id.
fn replace_unnest(
    c: &mut diesel::pg::PgConnection,
    rows: &[(&StoredRow, (i64, i64))],
    want_ids: bool,
) -> Result<(usize, Vec<StoredId>)> {
    if rows.is_empty() {
        return Ok((0, Vec::new()));
    }
    let returning = if want_ids {
        " RETURNING i.id, i.country, i.external_ref"
    } else {
        ""
    };
    // The versions replaced are kept whole first (the statement's snapshot: as read; if one has
    // changed since, the update falls short and the transaction is rolled back with them). The
    // rows are found by id alone: the ids were read under this operation's keys in this
    // transaction, and a condition on `operation_id` let the planner, with the statistics of a
    // young table, scan every record of the operation for each batch instead of probing the
    // primary key.
    let sql = format!(
        "WITH kept AS (INSERT INTO interception_versions (interception_id, version, body, content_hash, \
             deleted, reported_by_sub, updated_at) \
         SELECT o.id, o.version, o.body, o.content_hash, o.deleted, o.reported_by_sub, o.updated_at \
         FROM unnest($16::bigint[], $17::bigint[]) AS r(id, version) \
         JOIN interceptions o ON o.id = r.id AND o.version = r.version \
         ON CONFLICT DO NOTHING) \
         UPDATE interceptions AS i SET kind = t.kind, occurred_at = t.occurred_at, body = t.body, \
             content_hash = t.content_hash, version = t.version, deleted = t.deleted, \
             reported_by_sub = t.sub, reported_by_jti = $2, updated_at = t.updated_at, feed_txn = $3, \
             feed_index = t.feed_index \
         FROM unnest({ARRAYS}, $16::bigint[], $17::bigint[]) AS t({NAMES}, read_id, read_version) \
         WHERE i.id = t.read_id AND i.version = t.read_version{returning}"
    );
    let stored: Vec<&StoredRow> = rows.iter().map(|(row, _)| *row).collect();
    let read_ids: Vec<i64> = rows.iter().map(|(_, (id, _))| *id).collect();
    let read_versions: Vec<i64> = rows.iter().map(|(_, (_, version))| *version).collect();
    run_over_columns!(c, sql, &stored[..], want_ids, Array<BigInt> => read_ids, Array<BigInt> => read_versions)
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

/// Every stored version of one interception, oldest first: the versions later writes
/// superseded, then the current one; 404 when there is none.
pub fn versions(conn: &mut DbConn, operation_id: &str, country: &str, external_ref: &str) -> Result<Vec<Interception>> {
    let current = get(conn, operation_id, country, external_ref)?;
    let past: Vec<PastRow> = on_backend!(conn, c => interception_versions::table
        .filter(interception_versions::interception_id.eq(current.id))
        .select(PastRow::as_select())
        .order(interception_versions::version)
        .load(c))?;
    let mut versions = Vec::with_capacity(past.len() + 1);
    for row in past {
        let content = Canonical::stored(row.body, row.content_hash).map_err(|e| {
            Error::internal(format!(
                "stored version {} of interception {} does not parse: {e}",
                row.version, current.id
            ))
        })?;
        versions.push(Interception {
            content: content.content,
            version: row.version,
            deleted: row.deleted,
            reported_by: row.reported_by_sub,
            updated_at: row.updated_at.and_utc(),
            ..current.clone()
        });
    }
    versions.push(current);
    Ok(versions)
}

/// A superseded version of an interception.
#[derive(Debug, Queryable, Selectable)]
#[diesel(table_name = interception_versions)]
struct PastRow {
    version: i64,
    body: String,
    content_hash: String,
    deleted: bool,
    reported_by_sub: String,
    updated_at: NaiveDateTime,
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

/// The records last written by these transactions (for the change feed), of the given countries
/// if any, tombstones included.
pub fn by_feed_txns(
    conn: &mut DbConn,
    operation_id: &str,
    txns: &[i64],
    countries: Option<&[String]>,
) -> Result<Vec<Row>> {
    Ok(on_backend!(conn, c => {
        let mut query = interceptions::table
            .filter(interceptions::operation_id.eq(operation_id))
            .filter(interceptions::feed_txn.eq_any(txns))
            .select(Row::as_select())
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(interceptions::country.eq_any(countries));
        }
        query.load(c)
    })?)
}
