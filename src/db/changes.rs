//! Reading the change feed (appended by [`super::journal::append`]).

use diesel::prelude::*;

use super::schema::changes;
use super::DbConn;
use crate::domain::change::{Action, Change, ChangePage, Entity};
use crate::error::{Error, Result};
use crate::on_backend;

type Row = (i64, String, String, String, String, i64, String);

/// Reads up to `limit` changes of an operation after `after`, only of `countries` if given.
pub fn list(
    conn: &mut DbConn,
    operation_id: &str,
    countries: Option<&[String]>,
    after: i64,
    limit: i64,
) -> Result<ChangePage> {
    let rows: Vec<Row> = on_backend!(conn, c => {
        let mut query = changes::table
            .filter(changes::operation_id.eq(operation_id))
            .filter(changes::seq.gt(after))
            .order(changes::seq)
            .limit(limit + 1)
            .select((changes::seq, changes::entity, changes::action, changes::country, changes::entity_key, changes::version, changes::data))
            .into_boxed();
        if let Some(countries) = countries {
            query = query.filter(changes::country.eq_any(countries));
        }
        query.load(c)
    })?;
    let has_more = rows.len() as i64 > limit;
    let mut list = Vec::with_capacity(rows.len());
    for (seq, entity, action, country, key, version, data) in rows.into_iter().take(limit as usize) {
        list.push(Change {
            seq,
            entity: Entity::parse(&entity).ok_or_else(|| Error::Internal(format!("stored entity `{entity}`")))?,
            action: if action == "delete" {
                Action::Delete
            } else {
                Action::Upsert
            },
            country,
            key,
            version,
            data: serde_json::from_str(&data).map_err(|e| Error::Internal(format!("stored change {seq}: {e}")))?,
        });
    }
    let next = list.last().map_or(after, |change| change.seq);
    Ok(ChangePage {
        changes: list,
        next,
        has_more,
    })
}
