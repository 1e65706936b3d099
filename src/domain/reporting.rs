//! The reporting cycle: an operation's daily deadline in its time zone, the state of each
//! country's day, and the finality of a country's figures (provisional → final → approved,
//! reopened as the way back).

mod board;
mod reminder;
mod schedule;

pub use board::{
    assemble, to_csv, BoardFilter, BoardInput, BoardSummary, CountryReporting, DayReport, DayState, ReportingBoard,
    StoredDay,
};
pub use reminder::{reminders, to_text, Addressee, Reminder, ReminderBook};
pub use schedule::{check_schedule, Schedule, DEFAULT_DEADLINE, DEFAULT_TIME_ZONE};

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::text;
use crate::error::{Error, Result};

/// Longest reason a reopening may give.
pub const MAX_REASON: usize = 2000;

/// Where a country's figures for an operation stand.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Default,
    Serialize,
    Deserialize,
    ToSchema,
    strum::IntoStaticStr,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Finality {
    /// Still being reported; the country may write.
    #[default]
    Provisional,
    /// Declared final by the country; its writes are refused until the secretariat reopens them.
    Final,
    /// Final figures approved by the secretariat.
    Approved,
    /// Reopened by the secretariat with a reason; the country may write again, then declare final.
    Reopened,
}

impl Finality {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Whether the country may write to the operation (records, stated figures, nil returns).
    pub fn accepts_writes(self) -> bool {
        matches!(self, Finality::Provisional | Finality::Reopened)
    }

    /// Whether the figures are final or approved.
    pub fn is_final(self) -> bool {
        !self.accepts_writes()
    }
}

/// A move of a country's finality.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    /// The country declares its figures final.
    DeclareFinal,
    /// The secretariat approves final figures.
    Approve,
    /// The secretariat reopens final or approved figures (a reason is required).
    Reopen,
}

impl Transition {
    /// Where `from` goes: `Ok(None)` when it is already there (a replay changes nothing), 409
    /// when the move is not allowed.
    pub fn apply(self, country: &str, from: Finality) -> Result<Option<Finality>> {
        use Finality::{Approved, Final, Provisional, Reopened};
        let refuse = |why: &str| Err(Error::Conflict(format!("{country}: {why}")));
        match (self, from) {
            (Transition::DeclareFinal, Provisional | Reopened) => Ok(Some(Final)),
            (Transition::DeclareFinal, Final) => Ok(None),
            (Transition::DeclareFinal, Approved) => refuse("the figures are already approved"),
            (Transition::Approve, Final) => Ok(Some(Approved)),
            (Transition::Approve, Approved) => Ok(None),
            (Transition::Approve, Provisional | Reopened) => {
                refuse("only figures declared final can be approved; the country has not declared them final")
            }
            (Transition::Reopen, Final | Approved) => Ok(Some(Reopened)),
            (Transition::Reopen, Provisional | Reopened) => {
                refuse("the figures are not final; there is nothing to reopen")
            }
        }
    }
}

/// Body of `POST .../reporting/{country}/reopen`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReopenInput {
    /// Why the figures are reopened (1 to 2,000 characters, never personal data); kept in the
    /// audit trail and shown on the board.
    #[schema(example = "Two interceptions of 14 September were entered twice; DE will retract them")]
    pub reason: String,
}

impl ReopenInput {
    /// The reason, trimmed; 422 at `/reason` when it has nothing visible, is too long or holds
    /// the NUL character (the rules of every free text: `domain::text`).
    pub fn checked(self) -> Result<String> {
        let reason = self.reason.trim().to_string();
        let mut errors = Vec::new();
        text::required(&reason, MAX_REASON, "/reason", &mut errors);
        match errors.is_empty() {
            true => Ok(reason),
            false => Err(Error::Validation(errors)),
        }
    }
}

/// A country's finality as stored and served.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountryStatus {
    /// The operation.
    pub operation_id: String,
    /// The country.
    pub country: String,
    /// Where its figures stand.
    pub status: Finality,
    /// Raised by every transition (0: never moved from provisional); also the `ETag`.
    pub version: i64,
    /// The reason of the last reopening, if the figures were ever reopened.
    pub reason: Option<String>,
    /// When it last moved.
    pub changed_at: Option<DateTime<Utc>>,
    /// `sub` of the token that moved it last.
    pub changed_by: Option<String>,
}

impl CountryStatus {
    /// A country whose figures never moved: provisional, version 0.
    pub fn provisional(operation_id: &str, country: &str) -> CountryStatus {
        CountryStatus {
            operation_id: operation_id.to_string(),
            country: country.to_string(),
            status: Finality::Provisional,
            version: 0,
            reason: None,
            changed_at: None,
            changed_by: None,
        }
    }
}

/// A nil return: a country says it has nothing to report for a day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NilReturn {
    /// The operation.
    pub operation_id: String,
    /// The country.
    pub country: String,
    /// The day (in the operation's time zone).
    pub day: NaiveDate,
    /// Whether it stands (`false` once retracted).
    pub filed: bool,
    /// Raised by every filing and retraction; also the `ETag`.
    pub version: i64,
    /// When it was filed (absent once retracted).
    pub filed_at: Option<DateTime<Utc>>,
    /// `sub` of the token that filed it.
    pub filed_by: Option<String>,
    /// Records or stated figures for the day exist as well: the day counts as received.
    pub superseded: bool,
}

/// 409 `country-final`: the country's figures are final or approved, so its writes are refused.
pub fn refuse_final(operation_id: &str, country: &str, status: Finality) -> Error {
    Error::CountryFinal(format!(
        "the figures of {country} in operation `{operation_id}` are {}; writes are refused until the secretariat reopens them",
        status.as_str()
    ))
}

#[cfg(test)]
mod tests {
    use super::Finality::{Approved, Final, Provisional, Reopened};
    use super::*;

    #[test]
    fn the_state_table_of_finality() {
        let table = [
            (Transition::DeclareFinal, Provisional, Some(Some(Final))),
            (Transition::DeclareFinal, Reopened, Some(Some(Final))),
            (Transition::DeclareFinal, Final, Some(None)),
            (Transition::DeclareFinal, Approved, None),
            (Transition::Approve, Final, Some(Some(Approved))),
            (Transition::Approve, Approved, Some(None)),
            (Transition::Approve, Provisional, None),
            (Transition::Approve, Reopened, None),
            (Transition::Reopen, Final, Some(Some(Reopened))),
            (Transition::Reopen, Approved, Some(Some(Reopened))),
            (Transition::Reopen, Provisional, None),
            (Transition::Reopen, Reopened, None),
        ];
        for (transition, from, expected) in table {
            let got = transition.apply("DE", from).ok();
            assert_eq!(got, expected, "{transition:?} from {from:?}");
        }
        assert!(Provisional.accepts_writes() && Reopened.accepts_writes());
        assert!(!Final.accepts_writes() && !Approved.accepts_writes());
    }

    #[test]
    fn a_reopening_needs_a_reason() {
        assert!(ReopenInput { reason: "  ".into() }.checked().is_err());
        assert!(ReopenInput {
            reason: "x".repeat(MAX_REASON + 1)
        }
        .checked()
        .is_err());
        assert_eq!(
            ReopenInput {
                reason: " late fix ".into()
            }
            .checked()
            .ok()
            .as_deref(),
            Some("late fix")
        );
    }
}
