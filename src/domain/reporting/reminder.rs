//! Reminders: who is late, for which days, and which of the country's units to address, as
//! text that can be mailed or posted as it is (no mail server is assumed).

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::board::{DayState, ReportingBoard};
use crate::domain::text;
use crate::domain::unit::{Unit, UnitKind};

/// A unit to address a reminder to (its name and kind; the hub keeps no personal contact).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Addressee {
    /// The unit's id.
    pub unit_id: i64,
    /// Its name, such as `NCB Dakar`.
    pub name: String,
    /// What it is.
    pub kind: UnitKind,
}

/// One late country.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Reminder {
    /// The country.
    pub country: String,
    /// Days past their deadline with nothing received, oldest first.
    pub days_late: Vec<NaiveDate>,
    /// When it last sent anything.
    pub last_reported_at: Option<DateTime<Utc>>,
    /// Its active units.
    pub addressees: Vec<Addressee>,
    /// The reminder as text, ready to be mailed or posted.
    pub message: String,
}

/// Answer of `GET /v1/operations/{op}/reporting/reminders`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReminderBook {
    /// The operation.
    pub operation_id: String,
    /// When they were made.
    pub as_at: DateTime<Utc>,
    /// The latest day whose deadline has passed.
    pub latest_due_day: Option<NaiveDate>,
    /// One per late participating country, by country.
    pub reminders: Vec<Reminder>,
}

/// The reminders of a board: every participating country with a late day, addressed to its
/// active units.
pub fn reminders(board: &ReportingBoard, operation_name: &str, units: &[Unit]) -> ReminderBook {
    let mut reminders = Vec::new();
    for country in board.countries.iter().filter(|c| c.participating && c.days_late > 0) {
        let days_late: Vec<NaiveDate> = board
            .days
            .iter()
            .filter(|d| d.country == country.country && d.state == DayState::Late)
            .map(|d| d.day)
            .collect();
        let addressees: Vec<Addressee> = units
            .iter()
            .filter(|u| u.active && u.country == country.country)
            .map(|u| Addressee {
                unit_id: u.id,
                name: u.name.clone(),
                kind: u.kind,
            })
            .collect();
        // Names go into header lines: one line each, whatever was stored before names were
        // held to one line.
        let to = addressees
            .iter()
            .map(|a| text::one_line(&a.name))
            .collect::<Vec<_>>()
            .join(", ");
        let operation_name = text::one_line(operation_name);
        let days = days_late.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", ");
        let message = format!(
            "To: {to} ({country})\nSubject: {operation_name}: report due for {n} day(s)\n\n\
             {operation_name} has received nothing from {country} for: {days}.\n\
             Each day's report was due by {deadline} ({zone}) the day after.\n\
             Please send your results, or file a nil return (\"nothing to report\") for each day.\n",
            country = country.country,
            n = days_late.len(),
            deadline = board.report_deadline,
            zone = board.time_zone,
        );
        reminders.push(Reminder {
            country: country.country.clone(),
            days_late,
            last_reported_at: country.last_reported_at,
            addressees,
            message,
        });
    }
    ReminderBook {
        operation_id: board.operation_id.clone(),
        as_at: board.as_at,
        latest_due_day: board.summary.latest_due_day,
        reminders,
    }
}

/// The reminders as one text, separated by a line of dashes: what `opcoord reporting remind` prints.
pub fn to_text(reminders: &ReminderBook) -> String {
    if reminders.reminders.is_empty() {
        return format!("{}: no country is late.\n", reminders.operation_id);
    }
    reminders
        .reminders
        .iter()
        .map(|r| r.message.as_str())
        .collect::<Vec<_>>()
        .join("\n----------------------------------------\n\n")
}
