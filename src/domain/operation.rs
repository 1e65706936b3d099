//! Operations: what they hold, how they are checked, and how their status may move.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dates;
use super::reporting::{check_schedule, Schedule, DEFAULT_DEADLINE, DEFAULT_TIME_ZONE};
use super::text::{self, MAX_FREE_TEXT, MAX_NAME};
use crate::error::{Error, FieldError, Result};

/// Suppression threshold of a new operation when none is given.
pub const DEFAULT_SUPPRESSION_THRESHOLD: i32 = 5;
/// Largest suppression threshold accepted.
pub const MAX_SUPPRESSION_THRESHOLD: i32 = 1000;

/// Where an operation stands: results may be written only while it is `active`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "lowercase")]
#[strum(serialize_all = "lowercase")]
pub enum OperationStatus {
    /// Announced; units may be registered, results not yet.
    Planned,
    /// Running; national systems push results.
    Active,
    /// Over; read only, unless reopened explicitly.
    Closed,
}

impl OperationStatus {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads the stored spelling.
    pub fn parse(value: &str) -> Option<OperationStatus> {
        value.parse().ok()
    }

    /// Whether a PATCH may move an operation from `self` to `to`: planned → active → closed,
    /// and closed → active to reopen. Nothing goes back to planned; planned cannot close unopened.
    pub fn may_become(self, to: OperationStatus) -> bool {
        use OperationStatus::{Active, Closed, Planned};
        self == to || matches!((self, to), (Planned, Active) | (Active, Closed) | (Closed, Active))
    }
}

/// Body of `POST /v1/operations`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewOperation {
    /// Slug naming the operation for ever, such as `liberterra-iii` (3 to 64 characters).
    #[schema(example = "liberterra-iii")]
    pub id: String,
    /// Display name.
    #[schema(example = "Operation Liberterra III")]
    pub name: String,
    /// What the operation is about; at most 2,000 characters, never personal data.
    #[serde(default)]
    pub description: String,
    /// Who coordinates it, such as `INTERPOL`.
    #[serde(default)]
    pub coordinator: String,
    /// Starting status, `planned` (the default) or `active`.
    #[serde(default)]
    pub status: Option<OperationStatus>,
    /// First day of the operation.
    pub starts_on: NaiveDate,
    /// Last day of the operation; not before `starts_on`, and the operation spans at most 366 days.
    pub ends_on: NaiveDate,
    /// Whether suppressed totals may be read without a token.
    #[serde(default)]
    pub public: bool,
    /// Smallest count shown in public totals; 1 to 1,000, default 5.
    #[serde(default)]
    pub suppression_threshold: Option<i32>,
    /// IANA time zone the operation's days and deadlines are counted in; default `UTC`.
    #[serde(default)]
    #[schema(example = "Europe/Paris")]
    pub time_zone: Option<String>,
    /// Local time (`HH:MM`), on the day after, by which a day's report is due; default `09:00`.
    #[serde(default)]
    #[schema(example = "09:00")]
    pub report_deadline: Option<String>,
}

/// Body of `PATCH /v1/operations/{op}`: the members given replace the stored ones.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OperationPatch {
    /// New display name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New coordinator.
    pub coordinator: Option<String>,
    /// New status; see the allowed moves in the API docs.
    pub status: Option<OperationStatus>,
    /// New first day.
    pub starts_on: Option<NaiveDate>,
    /// New last day.
    pub ends_on: Option<NaiveDate>,
    /// New public flag.
    pub public: Option<bool>,
    /// New suppression threshold.
    pub suppression_threshold: Option<i32>,
    /// New time zone; only while nothing has been reported in the operation (409 otherwise).
    pub time_zone: Option<String>,
    /// New daily deadline (`HH:MM`).
    pub report_deadline: Option<String>,
}

/// An operation as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Operation {
    /// The slug.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Coordinator.
    pub coordinator: String,
    /// Current status.
    pub status: OperationStatus,
    /// First day.
    pub starts_on: NaiveDate,
    /// Last day.
    pub ends_on: NaiveDate,
    /// Whether suppressed totals are public.
    pub public: bool,
    /// Smallest count shown in public totals.
    pub suppression_threshold: i32,
    /// IANA time zone the operation's days and reporting deadlines are counted in.
    pub time_zone: String,
    /// Local time (`HH:MM`), on the day after, by which a day's report is due.
    pub report_deadline: String,
    /// Version, raised by every change; also the `ETag`.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Countries with at least one active unit, sorted.
    pub participating_countries: Vec<String>,
    /// Officers deployed by the active units.
    pub officers_deployed: i64,
}

impl Operation {
    /// Whether results (interceptions, tallies) may be written now.
    pub fn require_active(&self) -> Result<()> {
        match self.status {
            OperationStatus::Active => Ok(()),
            other => Err(Error::Conflict(format!(
                "operation `{}` is {}; results can be written only while it is active",
                self.id,
                other.as_str()
            ))),
        }
    }

    /// Its reporting schedule (time zone and daily deadline).
    pub fn schedule(&self) -> Result<Schedule> {
        Schedule::of(&self.time_zone, &self.report_deadline)
    }

    /// Whether units may be registered or changed now: not once the operation is closed.
    pub fn require_open(&self) -> Result<()> {
        match self.status {
            OperationStatus::Closed => Err(Error::Conflict(format!(
                "operation `{}` is closed; reopen it before changing its units",
                self.id
            ))),
            _ => Ok(()),
        }
    }

    /// Applies a patch and checks the result. Returns `None` when nothing would change.
    pub fn patched(&self, patch: &OperationPatch) -> Result<Option<Operation>> {
        let mut next = self.clone();
        if let Some(name) = &patch.name {
            next.name = name.clone();
        }
        if let Some(description) = &patch.description {
            next.description = description.clone();
        }
        if let Some(coordinator) = &patch.coordinator {
            next.coordinator = coordinator.clone();
        }
        if let Some(starts_on) = patch.starts_on {
            next.starts_on = starts_on;
        }
        if let Some(ends_on) = patch.ends_on {
            next.ends_on = ends_on;
        }
        if let Some(public) = patch.public {
            next.public = public;
        }
        if let Some(threshold) = patch.suppression_threshold {
            next.suppression_threshold = threshold;
        }
        if let Some(zone) = &patch.time_zone {
            next.time_zone = zone.clone();
        }
        if let Some(deadline) = &patch.report_deadline {
            next.report_deadline = deadline.clone();
        }
        let mut errors = Vec::new();
        check_fields(&next.name, &next.description, &next.coordinator, &mut errors);
        check_schedule(&next.time_zone, &next.report_deadline, &mut errors);
        check_window(next.starts_on, next.ends_on, &mut errors);
        check_threshold(next.suppression_threshold, &mut errors);
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        if let Some(status) = patch.status {
            if !self.status.may_become(status) {
                return Err(Error::Conflict(format!(
                    "an operation cannot go from {} to {}",
                    self.status.as_str(),
                    status.as_str()
                )));
            }
            next.status = status;
        }
        Ok((next != *self).then_some(next))
    }
}

impl NewOperation {
    /// Checks every rule, reporting each failing field.
    pub fn validate(&self) -> Result<()> {
        let mut errors = Vec::new();
        if !text::is_slug(&self.id) {
            errors.push(FieldError::at(
                "/id",
                "must be a slug: 3 to 64 lower-case letters and digits in words joined by single hyphens",
            ));
        }
        check_fields(&self.name, &self.description, &self.coordinator, &mut errors);
        check_window(self.starts_on, self.ends_on, &mut errors);
        check_threshold(self.threshold(), &mut errors);
        check_schedule(self.time_zone(), self.report_deadline(), &mut errors);
        if self.status == Some(OperationStatus::Closed) {
            errors.push(FieldError::at("/status", "a new operation is planned or active"));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// The suppression threshold, with its default.
    pub fn threshold(&self) -> i32 {
        self.suppression_threshold.unwrap_or(DEFAULT_SUPPRESSION_THRESHOLD)
    }

    /// The time zone, with its default.
    pub fn time_zone(&self) -> &str {
        self.time_zone.as_deref().unwrap_or(DEFAULT_TIME_ZONE)
    }

    /// The daily deadline, with its default.
    pub fn report_deadline(&self) -> &str {
        self.report_deadline.as_deref().unwrap_or(DEFAULT_DEADLINE)
    }

    /// Whether `stored` holds exactly what this request asks for (a replayed create).
    pub fn matches(&self, stored: &Operation) -> bool {
        self.id == stored.id
            && self.name == stored.name
            && self.description == stored.description
            && self.coordinator == stored.coordinator
            && self.status.unwrap_or(OperationStatus::Planned) == stored.status
            && self.starts_on == stored.starts_on
            && self.ends_on == stored.ends_on
            && self.public == stored.public
            && self.threshold() == stored.suppression_threshold
            && self.time_zone() == stored.time_zone
            && self.report_deadline() == stored.report_deadline
    }
}

fn check_fields(name: &str, description: &str, coordinator: &str, errors: &mut Vec<FieldError>) {
    text::name(name, MAX_NAME, "/name", errors);
    text::bounded(description, MAX_FREE_TEXT, "/description", errors);
    text::bounded(coordinator, MAX_NAME, "/coordinator", errors);
    text::line(coordinator, "/coordinator", errors);
}

/// The most days an operation may span. A week of action lasts days or weeks; the bound keeps
/// every answer built per day (the reporting board: countries × days) of a bounded size.
pub const MAX_DAYS: i64 = 366;

fn check_window(starts_on: NaiveDate, ends_on: NaiveDate, errors: &mut Vec<FieldError>) {
    let before = errors.len();
    dates::check_date(starts_on, "/starts_on", errors);
    dates::check_date(ends_on, "/ends_on", errors);
    let days = (ends_on - starts_on).num_days() + 1;
    if errors.len() > before {
        // A date out of range says so; its length would only repeat it.
    } else if ends_on < starts_on {
        errors.push(FieldError::at(
            "/ends_on",
            format!("must not be before starts_on ({starts_on})"),
        ));
    } else if days > MAX_DAYS {
        errors.push(FieldError::at(
            "/ends_on",
            format!("an operation spans at most {MAX_DAYS} days (this one: {days})"),
        ));
    }
}

fn check_threshold(threshold: i32, errors: &mut Vec<FieldError>) {
    if !(1..=MAX_SUPPRESSION_THRESHOLD).contains(&threshold) {
        errors.push(FieldError::at(
            "/suppression_threshold",
            format!("must be between 1 and {MAX_SUPPRESSION_THRESHOLD}"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::OperationStatus::{Active, Closed, Planned};

    #[test]
    fn status_moves() {
        assert!(Planned.may_become(Active));
        assert!(Active.may_become(Closed));
        assert!(Closed.may_become(Active));
        assert!(!Planned.may_become(Closed));
        assert!(!Active.may_become(Planned));
        assert!(!Closed.may_become(Planned));
    }
}
