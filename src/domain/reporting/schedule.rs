//! An operation's reporting schedule: the IANA time zone its days are counted in, and the time of
//! the next day by which a day's report is due.

use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Tz;

use crate::error::{Error, FieldError, Result};

/// Time zone of an operation that states none.
pub const DEFAULT_TIME_ZONE: &str = "UTC";
/// Deadline of an operation that states none: 09:00 the next day.
pub const DEFAULT_DEADLINE: &str = "09:00";

/// When a day's report is due, and how instants fall into days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The time zone the operation's days are counted in.
    pub zone: Tz,
    /// Local time, on the day after, by which a day's report is due.
    pub deadline: NaiveTime,
}

/// Reads `HH:MM` (00:00 to 23:59).
fn parse_deadline(text: &str) -> Option<NaiveTime> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveTime::from_hms_opt(h.parse().ok()?, m.parse().ok()?, 0)
}

/// Adds a 422 at `/time_zone` unless it names an IANA time zone, and at `/report_deadline`
/// unless it is `HH:MM`.
pub fn check_schedule(time_zone: &str, deadline: &str, errors: &mut Vec<FieldError>) {
    if time_zone.parse::<Tz>().is_err() {
        errors.push(FieldError::at(
            "/time_zone",
            format!("`{time_zone}` is not an IANA time zone (such as Europe/Paris or UTC)"),
        ));
    }
    if parse_deadline(deadline).is_none() {
        errors.push(FieldError::at(
            "/report_deadline",
            format!("`{deadline}` is not a time of day as HH:MM (00:00 to 23:59)"),
        ));
    }
}

impl Schedule {
    /// The schedule of stored values (checked when they were written).
    pub fn of(time_zone: &str, deadline: &str) -> Result<Schedule> {
        let zone = time_zone
            .parse::<Tz>()
            .map_err(|_| Error::internal(format!("stored time zone `{time_zone}` is not valid")))?;
        let deadline = parse_deadline(deadline)
            .ok_or_else(|| Error::internal(format!("stored deadline `{deadline}` is not valid")))?;
        Ok(Schedule { zone, deadline })
    }

    /// The operation's day an instant falls on: its date in the operation's time zone.
    pub fn day_of(&self, at: DateTime<Utc>) -> NaiveDate {
        at.with_timezone(&self.zone).date_naive()
    }

    /// When the report for `day` is due: the day after at the deadline, local time. A local time
    /// that occurs twice (clocks going back) is its first occurrence; one that does not occur
    /// (clocks going forward) is the first instant after the gap.
    pub fn deadline_of(&self, day: NaiveDate) -> DateTime<Utc> {
        let next = day.succ_opt().unwrap_or(day);
        let local = NaiveDateTime::new(next, self.deadline);
        resolve(&self.zone, local)
    }
}

/// The instant of a local time in `zone`, never panicking (see [`Schedule::deadline_of`]).
fn resolve(zone: &Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    // A gap lasts at most a few hours (two in practice): step forward a minute at a time.
    for _ in 0..=24 * 60 {
        match zone.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(first, _) => return first.with_timezone(&Utc),
            LocalResult::None => {}
        }
        match probe.checked_add_signed(TimeDelta::minutes(1)) {
            Some(next) => probe = next,
            None => break,
        }
    }
    local.and_utc()
}

#[cfg(test)]
pub(in crate::domain::reporting) mod tests {
    use super::*;

    /// A date from `YYYY-MM-DD`.
    pub fn date(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    /// An instant from RFC 3339.
    pub fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    #[test]
    fn deadlines_follow_the_zone_and_its_summer_time() {
        let paris = Schedule::of("Europe/Paris", "09:00").expect("schedule");
        // Summer (UTC+2) and winter (UTC+1).
        assert_eq!(paris.deadline_of(date("2026-07-14")), at("2026-07-15T07:00:00Z"));
        assert_eq!(paris.deadline_of(date("2026-12-01")), at("2026-12-02T08:00:00Z"));
        let auckland = Schedule::of("Pacific/Auckland", "09:00").expect("schedule");
        assert_eq!(auckland.deadline_of(date("2026-01-10")), at("2026-01-10T20:00:00Z"));
        let utc = Schedule::of("UTC", "00:00").expect("schedule");
        assert_eq!(utc.deadline_of(date("2026-03-31")), at("2026-04-01T00:00:00Z"));
    }

    #[test]
    fn a_deadline_in_a_gap_or_an_overlap_does_not_panic() {
        // Paris: 2026-03-29 02:00 → 03:00; 2026-10-25 03:00 → 02:00.
        let gap = Schedule::of("Europe/Paris", "02:30").expect("schedule");
        assert_eq!(gap.deadline_of(date("2026-03-28")), at("2026-03-29T01:00:00Z"));
        let overlap = Schedule::of("Europe/Paris", "02:30").expect("schedule");
        assert_eq!(overlap.deadline_of(date("2026-10-24")), at("2026-10-25T00:30:00Z"));
        // The last date chrono knows has no next day: no panic either.
        let _ = gap.deadline_of(NaiveDate::MAX);
    }

    #[test]
    fn an_instant_falls_on_the_operation_day_of_its_zone() {
        let paris = Schedule::of("Europe/Paris", "09:00").expect("schedule");
        // 23:30 in New York on 30 September is 05:30 in Paris on 1 October.
        assert_eq!(paris.day_of(at("2026-09-30T23:30:00-04:00")), date("2026-10-01"));
        // 23:30 in Paris is still that day.
        assert_eq!(paris.day_of(at("2026-09-30T23:30:00+02:00")), date("2026-09-30"));
        // A report sent at 23:30 local time in Lima on the last day is before Paris's deadline.
        assert!(at("2026-09-30T23:30:00-05:00") < paris.deadline_of(date("2026-09-30")));
    }

    #[test]
    fn schedules_are_checked() {
        let mut errors = Vec::new();
        check_schedule("Europe/Lyon", "9:00", &mut errors);
        check_schedule("UTC", "24:00", &mut errors);
        check_schedule("America/Argentina/Buenos_Aires", "23:59", &mut errors);
        let pointers: Vec<_> = errors.iter().filter_map(|e| e.pointer.as_deref()).collect();
        assert_eq!(pointers, vec!["/time_zone", "/report_deadline", "/report_deadline"]);
    }
}
