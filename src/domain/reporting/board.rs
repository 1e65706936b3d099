//! The reporting board: per country and per day what arrived and when, against the schedule; for
//! the operation completeness, timeliness, who is late and who is not yet final. Assembled from
//! the stored days (kept by the writes), never from the records.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{CountryStatus, Finality, Schedule};

/// What a country reported for one day, as stored (a day outside the operation's days is folded
/// into its first or last day when the board is made).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredDay {
    /// The country.
    pub country: String,
    /// The day, in the operation's time zone.
    pub day: NaiveDate,
    /// Live records of that day.
    pub records: i64,
    /// Current stated figures as of that day.
    pub stated: i64,
    /// First write for the day.
    pub first_at: DateTime<Utc>,
    /// Last write for the day.
    pub last_at: DateTime<Utc>,
    /// When the standing nil return was filed, if one stands.
    pub nil_at: Option<DateTime<Utc>>,
}

/// The state of one country's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::IntoStaticStr)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum DayState {
    /// Records or stated figures for the day.
    Received,
    /// A nil return ("nothing to report") and no records or stated figures.
    ReceivedNil,
    /// Past its deadline with neither.
    Late,
    /// Not yet due, and nothing yet.
    NotDue,
}

/// One country's day on the board.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DayReport {
    /// The country.
    pub country: String,
    /// The day, in the operation's time zone.
    pub day: NaiveDate,
    /// When its report is due.
    pub deadline: DateTime<Utc>,
    /// Its state.
    pub state: DayState,
    /// Live records of the day.
    pub records: i64,
    /// Current stated figures as of the day.
    pub stated_figures: i64,
    /// Whether a nil return stands for the day.
    pub nil_return: bool,
    /// A nil return stands, but records or stated figures came for the day too: it counts as received.
    pub nil_return_superseded: bool,
    /// First report (or nil return) for the day.
    pub first_report_at: Option<DateTime<Utc>>,
    /// Last report for the day.
    pub last_report_at: Option<DateTime<Utc>>,
    /// Whether the first report came before the deadline (absent while nothing is received).
    pub on_time: Option<bool>,
}

/// One country on the board.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CountryReporting {
    /// The country.
    pub country: String,
    /// Whether it has an active unit in the operation (only those are expected to report).
    pub participating: bool,
    /// Where its figures stand.
    pub status: Finality,
    /// The reason of its last reopening, if any.
    pub reopen_reason: Option<String>,
    /// When its status last moved.
    pub status_changed_at: Option<DateTime<Utc>>,
    /// When it last sent anything (a record, a stated figure).
    pub last_reported_at: Option<DateTime<Utc>>,
    /// `sub` of the token it last sent with.
    pub last_reported_by: Option<String>,
    /// What it last sent.
    pub last_reported: Option<String>,
    /// Late for the latest day whose deadline has passed.
    pub late: bool,
    /// Days past their deadline with nothing received.
    pub days_late: i64,
}

/// The figures of the board over the countries and days shown.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoardSummary {
    /// Reports expected: participating countries × days whose deadline has passed.
    pub expected: i64,
    /// Of those, days with records or stated figures.
    pub received: i64,
    /// Of those, days with a nil return only.
    pub received_nil: i64,
    /// Of those, days with nothing.
    pub late: i64,
    /// Of those, days whose first report or nil return came before the deadline.
    pub on_time: i64,
    /// (received + received_nil) ÷ expected, in percent with one decimal; absent while nothing is expected.
    pub completeness_pct: Option<f64>,
    /// on_time ÷ expected, in percent with one decimal; absent while nothing is expected.
    pub timeliness_pct: Option<f64>,
    /// The latest day whose deadline has passed.
    pub latest_due_day: Option<NaiveDate>,
    /// Participating countries late for that day, or for the day asked for when the board is
    /// filtered by `day`.
    pub countries_late_today: Vec<String>,
    /// Participating countries whose figures are provisional or reopened.
    pub countries_not_final: Vec<String>,
    /// Participating countries whose figures are final (not yet approved).
    pub countries_final: Vec<String>,
    /// Participating countries whose figures are approved.
    pub countries_approved: Vec<String>,
}

/// Answer of `GET /v1/operations/{op}/reporting`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportingBoard {
    /// The operation.
    pub operation_id: String,
    /// When the board was made: states and deadlines are as of then.
    pub as_at: DateTime<Utc>,
    /// The time zone the operation's days are counted in.
    pub time_zone: String,
    /// Local time, on the day after, by which a day's report is due.
    pub report_deadline: String,
    /// Figures over the countries and days shown (every state).
    pub summary: BoardSummary,
    /// Countries late for the latest due day (as `summary.countries_late_today`).
    pub late: Vec<String>,
    /// One row per country shown.
    pub countries: Vec<CountryReporting>,
    /// One row per country and day shown: for participating countries every day up to the
    /// first one not yet due, and later days they already sent something for; for other
    /// countries the days they sent something for.
    pub days: Vec<DayReport>,
}

/// The filters of the board.
#[derive(Debug, Clone, Default)]
pub struct BoardFilter {
    /// Only this day.
    pub day: Option<NaiveDate>,
    /// Only rows in this state (the summary is not narrowed by it).
    pub state: Option<DayState>,
    /// Only these countries (the token's, or one asked for).
    pub countries: Option<BTreeSet<String>>,
}

/// What the board is made of.
#[derive(Debug, Clone)]
pub struct BoardInput<'a> {
    /// The operation.
    pub operation_id: &'a str,
    /// Its days.
    pub days: (NaiveDate, NaiveDate),
    /// Its schedule, with the spellings it was stated in.
    pub schedule: Schedule,
    /// The stated time zone.
    pub time_zone: &'a str,
    /// The stated deadline.
    pub report_deadline: &'a str,
    /// Countries with an active unit.
    pub participating: &'a [String],
    /// Stored days.
    pub stored: &'a [StoredDay],
    /// Stored statuses (countries without one are provisional).
    pub statuses: &'a [CountryStatus],
    /// Last report of each country: (country, at, sub, what).
    pub last_reports: &'a [(String, DateTime<Utc>, String, String)],
    /// Now.
    pub now: DateTime<Utc>,
}

/// Folds stored days into the operation's days: a day before the first counts on the first,
/// after the last on the last.
fn fold(stored: &[StoredDay], (first, last): (NaiveDate, NaiveDate)) -> BTreeMap<(String, NaiveDate), StoredDay> {
    let mut folded: BTreeMap<(String, NaiveDate), StoredDay> = BTreeMap::new();
    for s in stored {
        let day = s.day.clamp(first, last);
        match folded.get_mut(&(s.country.clone(), day)) {
            None => {
                folded.insert((s.country.clone(), day), StoredDay { day, ..s.clone() });
            }
            Some(f) => {
                f.records += s.records;
                f.stated += s.stated;
                f.first_at = f.first_at.min(s.first_at);
                f.last_at = f.last_at.max(s.last_at);
                f.nil_at = f.nil_at.max(s.nil_at);
            }
        }
    }
    folded
}

fn pct(part: i64, whole: i64) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// One day's row.
fn day_report(
    country: &str,
    day: NaiveDate,
    stored: Option<&StoredDay>,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> DayReport {
    let deadline = schedule.deadline_of(day);
    let records = stored.map_or(0, |s| s.records);
    let stated = stored.map_or(0, |s| s.stated);
    let nil = stored.is_some_and(|s| s.nil_at.is_some());
    let state = if records > 0 || stated > 0 {
        DayState::Received
    } else if nil {
        DayState::ReceivedNil
    } else if now >= deadline {
        DayState::Late
    } else {
        DayState::NotDue
    };
    let received = matches!(state, DayState::Received | DayState::ReceivedNil);
    DayReport {
        country: country.to_string(),
        day,
        deadline,
        state,
        records,
        stated_figures: stated,
        nil_return: nil,
        nil_return_superseded: nil && state == DayState::Received,
        first_report_at: stored.map(|s| s.first_at),
        last_report_at: stored.map(|s| s.last_at),
        // On time: records or figures by the first report of the day; a nil return by when it
        // was filed (a nil return filed late is late, whatever came and went before it).
        on_time: received.then(|| match state {
            DayState::ReceivedNil => stored.and_then(|s| s.nil_at).is_some_and(|at| at < deadline),
            _ => stored.is_some_and(|s| s.first_at < deadline),
        }),
    }
}

/// Makes the board.
pub fn assemble(input: &BoardInput, filter: &BoardFilter) -> ReportingBoard {
    let (first, last) = input.days;
    let shown = |country: &str| filter.countries.as_ref().is_none_or(|only| only.contains(country));
    let folded = fold(input.stored, input.days);
    let participating: BTreeSet<&str> = input.participating.iter().map(String::as_str).collect();
    let statuses: BTreeMap<&str, &CountryStatus> = input.statuses.iter().map(|s| (s.country.as_str(), s)).collect();
    let last_reports: BTreeMap<&str, &(String, DateTime<Utc>, String, String)> =
        input.last_reports.iter().map(|r| (r.0.as_str(), r)).collect();
    let mut countries: BTreeSet<&str> = participating.clone();
    countries.extend(folded.keys().map(|(c, _)| c.as_str()));
    countries.extend(statuses.keys());
    countries.extend(last_reports.keys());
    countries.retain(|c| shown(c));

    let latest_due_day = first
        .iter_days()
        .take_while(|d| *d <= last)
        .take_while(|d| input.schedule.deadline_of(*d) <= input.now)
        .last();
    // Days after the first one not yet due are listed only where something came for them.
    let listed_until = latest_due_day.map_or(first, |d| d.succ_opt().unwrap_or(d).min(last));
    // The day the summary's list of late countries is about: the one asked for, else the
    // latest due day.
    let late_list_day = filter.day.or(latest_due_day);
    let mut summary = BoardSummary {
        expected: 0,
        received: 0,
        received_nil: 0,
        late: 0,
        on_time: 0,
        completeness_pct: None,
        timeliness_pct: None,
        latest_due_day,
        countries_late_today: Vec::new(),
        countries_not_final: Vec::new(),
        countries_final: Vec::new(),
        countries_approved: Vec::new(),
    };
    let mut rows = Vec::new();
    let mut country_rows = Vec::new();
    for country in countries {
        let expected = participating.contains(country);
        let mut days_late = 0;
        let mut late_today = false;
        for day in first.iter_days().take_while(|d| *d <= last) {
            let stored = folded.get(&(country.to_string(), day));
            if (!expected || day > listed_until) && stored.is_none() {
                continue;
            }
            let row = day_report(country, day, stored, &input.schedule, input.now);
            let due = row.deadline <= input.now;
            if expected && due {
                days_late += i64::from(row.state == DayState::Late);
                late_today |= Some(day) == late_list_day && row.state == DayState::Late;
            }
            if filter.day.is_some_and(|d| d != day) {
                continue;
            }
            if expected && due {
                summary.expected += 1;
                match row.state {
                    DayState::Received => summary.received += 1,
                    DayState::ReceivedNil => summary.received_nil += 1,
                    DayState::Late => summary.late += 1,
                    DayState::NotDue => {}
                }
                summary.on_time += i64::from(row.on_time == Some(true));
            }
            if !expected && row.state == DayState::Late {
                continue;
            }
            if filter.state.is_none_or(|s| s == row.state) {
                rows.push(row);
            }
        }
        let status = statuses.get(country);
        let finality = status.map_or(Finality::Provisional, |s| s.status);
        if expected {
            if late_today {
                summary.countries_late_today.push(country.to_string());
            }
            match finality {
                Finality::Provisional | Finality::Reopened => summary.countries_not_final.push(country.to_string()),
                Finality::Final => summary.countries_final.push(country.to_string()),
                Finality::Approved => summary.countries_approved.push(country.to_string()),
            }
        }
        let last = last_reports.get(country);
        country_rows.push(CountryReporting {
            country: country.to_string(),
            participating: expected,
            status: finality,
            reopen_reason: status.and_then(|s| s.reason.clone()),
            status_changed_at: status.and_then(|s| s.changed_at),
            last_reported_at: last.map(|r| r.1),
            last_reported_by: last.map(|r| r.2.clone()),
            last_reported: last.map(|r| r.3.clone()),
            late: late_today,
            days_late,
        });
    }
    summary.completeness_pct = pct(summary.received + summary.received_nil, summary.expected);
    summary.timeliness_pct = pct(summary.on_time, summary.expected);
    ReportingBoard {
        operation_id: input.operation_id.to_string(),
        as_at: input.now,
        time_zone: input.time_zone.to_string(),
        report_deadline: input.report_deadline.to_string(),
        late: summary.countries_late_today.clone(),
        summary,
        countries: country_rows,
        days: rows,
    }
}

/// The board's day rows as CSV, one line per country and day, with the country's status.
pub fn to_csv(board: &ReportingBoard) -> String {
    let status: BTreeMap<&str, Finality> = board.countries.iter().map(|c| (c.country.as_str(), c.status)).collect();
    let stamp = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
    let time = |t: Option<DateTime<Utc>>| t.map(stamp).unwrap_or_default();
    let mut out = String::from(
        "country,day,state,records,stated_figures,nil_return,first_report_at,last_report_at,deadline,on_time,status\n",
    );
    for row in &board.days {
        let state: &'static str = row.state.into();
        let on_time = row.on_time.map(|b| b.to_string()).unwrap_or_default();
        let finality = status.get(row.country.as_str()).copied().unwrap_or_default();
        out.push_str(&format!(
            "{},{},{state},{},{},{},{},{},{},{on_time},{}\n",
            row.country,
            row.day,
            row.records,
            row.stated_figures,
            row.nil_return,
            time(row.first_report_at),
            time(row.last_report_at),
            stamp(row.deadline),
            finality.as_str(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    fn stored(country: &str, day: &str, records: i64, first: &str, nil: bool) -> StoredDay {
        StoredDay {
            country: country.into(),
            day: date(day),
            records,
            stated: 0,
            first_at: at(first),
            last_at: at(first),
            nil_at: nil.then(|| at(first)),
        }
    }

    #[test]
    fn states_rates_and_folding() {
        let schedule = Schedule::of("Europe/Paris", "09:00").expect("schedule");
        let participating = vec!["DE".to_string(), "FR".to_string(), "SN".to_string()];
        let stored = vec![
            // On time (08:00 Paris the day after), and a record of the day before the first folded in.
            stored("DE", "2026-09-01", 2, "2026-09-02T06:00:00Z", false),
            stored("DE", "2026-08-31", 1, "2026-09-02T06:30:00Z", false),
            // Late (10:00 Paris).
            stored("FR", "2026-09-01", 1, "2026-09-02T08:00:00Z", false),
            // A nil return, on time; then records after it: received, superseded.
            stored("SN", "2026-09-01", 0, "2026-09-01T20:00:00Z", true),
            stored("SN", "2026-09-02", 3, "2026-09-02T20:00:00Z", true),
            // A country without units: shown, not expected.
            stored("ES", "2026-09-02", 1, "2026-09-02T20:00:00Z", false),
        ];
        let input = BoardInput {
            operation_id: "op",
            days: (date("2026-09-01"), date("2026-09-03")),
            schedule,
            time_zone: "Europe/Paris",
            report_deadline: "09:00",
            participating: &participating,
            stored: &stored,
            statuses: &[],
            last_reports: &[],
            // After the deadline of 2 September, before that of the 3rd.
            now: at("2026-09-03T12:00:00Z"),
        };
        let board = assemble(&input, &BoardFilter::default());
        let s = &board.summary;
        assert_eq!(
            (s.expected, s.received, s.received_nil, s.late, s.on_time),
            (6, 3, 1, 2, 3)
        );
        assert_eq!((s.completeness_pct, s.timeliness_pct), (Some(66.7), Some(50.0)));
        assert_eq!(s.latest_due_day, Some(date("2026-09-02")));
        assert_eq!(s.countries_late_today, vec!["DE", "FR"]);
        // Filtered by a day, the list of late countries is that day's (nobody was late on the 1st).
        let first_day = assemble(
            &input,
            &BoardFilter {
                day: Some(date("2026-09-01")),
                ..BoardFilter::default()
            },
        );
        assert_eq!(first_day.summary.latest_due_day, Some(date("2026-09-02")));
        assert!(
            first_day.summary.countries_late_today.is_empty(),
            "{:?}",
            first_day.summary.countries_late_today
        );
        let row = |c: &str, d: &str| board.days.iter().find(|r| r.country == c && r.day == date(d)).cloned();
        assert_eq!(
            row("DE", "2026-09-01").map(|r| (r.records, r.on_time)),
            Some((3, Some(true)))
        );
        assert_eq!(row("FR", "2026-09-01").map(|r| r.on_time), Some(Some(false)));
        assert_eq!(
            row("SN", "2026-09-02").map(|r| (r.state, r.nil_return_superseded)),
            Some((DayState::Received, true))
        );
        assert_eq!(row("DE", "2026-09-03").map(|r| r.state), Some(DayState::NotDue));
        assert!(row("ES", "2026-09-01").is_none() && row("ES", "2026-09-02").is_some());
        let es = board.countries.iter().find(|c| c.country == "ES").expect("ES");
        assert!(!es.participating && !es.late);

        let late = assemble(
            &input,
            &BoardFilter {
                state: Some(DayState::Late),
                countries: Some(["DE".to_string()].into()),
                ..BoardFilter::default()
            },
        );
        assert_eq!(late.days.len(), 1);
        assert_eq!(
            late.summary.expected, 2,
            "the summary covers every state of the countries shown"
        );
        let csv = to_csv(&late);
        assert_eq!(csv.lines().count(), 2);
        assert!(
            csv.lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("DE,2026-09-02,late,0,0,false,,,")),
            "{csv}"
        );
    }

    #[test]
    fn a_nil_return_filed_late_is_late_whatever_came_before() {
        let schedule = Schedule::of("UTC", "09:00").expect("schedule");
        let participating = vec!["AL".to_string()];
        // A record came on time and was retracted (first report before the deadline); the nil
        // return was filed days after the deadline.
        let mut day = stored("AL", "2026-09-01", 0, "2026-09-01T15:00:00Z", true);
        day.nil_at = Some(at("2026-09-05T10:00:00Z"));
        let input = BoardInput {
            operation_id: "op",
            days: (date("2026-09-01"), date("2026-09-01")),
            schedule,
            time_zone: "UTC",
            report_deadline: "09:00",
            participating: &participating,
            stored: &[day],
            statuses: &[],
            last_reports: &[],
            now: at("2026-09-06T00:00:00Z"),
        };
        let board = assemble(&input, &BoardFilter::default());
        let row = &board.days[0];
        assert_eq!((row.state, row.on_time), (DayState::ReceivedNil, Some(false)));
        assert_eq!(board.summary.on_time, 0);
    }
}
