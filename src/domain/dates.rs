//! The range of dates and instants the service accepts, and date arithmetic that cannot panic.
//!
//! chrono represents years up to ±262,143, and adding hours to a date near that edge panics.
//! Every date and instant a client sends (operation days, `occurred_at`, stated figures'
//! `as_of`, the `from`/`to` of a query) is checked against a plausible range where it enters,
//! and the few computations on dates saturate instead of panicking, so a value stored before
//! the bound existed cannot break a request either.

use chrono::{DateTime, NaiveDate, NaiveTime, TimeDelta, Utc};

use crate::error::{Error, FieldError};

/// First year accepted in any date or instant.
pub const FIRST_YEAR: i32 = 1970;
/// Last year accepted in any date or instant.
pub const LAST_YEAR: i32 = 2199;

fn range_message() -> String {
    format!("must be between {FIRST_YEAR}-01-01 and {LAST_YEAR}-12-31")
}

/// Whether a date falls in the accepted range.
pub fn is_plausible(date: NaiveDate) -> bool {
    use chrono::Datelike;
    (FIRST_YEAR..=LAST_YEAR).contains(&date.year())
}

/// Adds a 422 at `pointer` unless `date` is in the accepted range.
pub fn check_date(date: NaiveDate, pointer: &str, errors: &mut Vec<FieldError>) {
    if !is_plausible(date) {
        errors.push(FieldError::at(pointer, range_message()));
    }
}

/// Adds a 422 at `pointer` unless `instant` is in the accepted range.
pub fn check_instant(instant: DateTime<Utc>, pointer: &str, errors: &mut Vec<FieldError>) {
    check_date(instant.date_naive(), pointer, errors);
}

/// A 400 naming the query parameter `name` unless `instant` is in the accepted range.
pub fn instant_parameter(name: &str, instant: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    if is_plausible(instant.date_naive()) {
        Ok(instant)
    } else {
        Err(Error::bad_parameter(name, range_message()))
    }
}

/// A day written exactly `YYYY-MM-DD` (four, two and two ASCII digits; no sign, space or
/// shorter field, which chrono's own parser lets through) and in the accepted range.
pub fn strict_day(text: &str) -> Option<NaiveDate> {
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    shaped
        .then(|| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok())
        .flatten()
        .filter(|d| is_plausible(*d))
}

/// Midnight UTC at the start of `date`, moved by `delta`; saturates at chrono's limits.
pub fn midnight_plus(date: NaiveDate, delta: TimeDelta) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN).and_utc();
    midnight
        .checked_add_signed(delta)
        .unwrap_or(if delta < TimeDelta::zero() {
            DateTime::<Utc>::MIN_UTC
        } else {
            DateTime::<Utc>::MAX_UTC
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edges_of_chrono_do_not_panic() {
        assert_eq!(
            midnight_plus(NaiveDate::MAX, TimeDelta::hours(36)),
            DateTime::<Utc>::MAX_UTC
        );
        assert_eq!(
            midnight_plus(NaiveDate::MIN, TimeDelta::hours(-14)),
            DateTime::<Utc>::MIN_UTC
        );
        let day = NaiveDate::from_ymd_opt(2025, 9, 1).unwrap_or_default();
        assert_eq!(
            midnight_plus(day, TimeDelta::hours(-14)).to_rfc3339(),
            "2025-08-31T10:00:00+00:00"
        );
    }

    #[test]
    fn plausible_range() {
        let date = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        assert!(is_plausible(date(1970, 1, 1)) && is_plausible(date(2199, 12, 31)));
        assert!(!is_plausible(date(1969, 12, 31)) && !is_plausible(date(2200, 1, 1)));
        assert!(!is_plausible(NaiveDate::MAX) && !is_plausible(NaiveDate::MIN));
    }

    #[test]
    fn strict_days() {
        assert_eq!(super::strict_day("2026-11-21"), NaiveDate::from_ymd_opt(2026, 11, 21));
        for bad in [
            " 2026-11-21",
            "2026-11-21 ",
            "2026-1-21",
            "-2026-11-21",
            "+2026-11-2",
            "2026-02-30",
            "1900-01-01",
            "２０２６-11-21",
        ] {
            assert_eq!(super::strict_day(bad), None, "{bad:?}");
        }
    }
}
