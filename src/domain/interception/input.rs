//! What a national system sends for one interception, and the rules it is checked against:
//! every failing field reported at once, with its JSON pointer.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use serde::Deserialize;
use utoipa::ToSchema;

use super::{
    Canonical, CheckedInterception, InterceptionContent, InterceptionKind, Location, MigrantCount, Seizure,
    SeizureCategory, VictimCount, MAX_COUNT, MAX_EXTERNAL_REF,
};
use crate::domain::text::{self, MAX_FREE_TEXT, MAX_NAME};
use crate::domain::{country, dates};
use crate::error::{Error, FieldError, Result};

/// An interception as a national system sends it (`PUT` body or one batch item). `country` and
/// `external_ref` are required in a batch item and, in a `PUT`, must match the path if given.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterceptionInput {
    /// ISO 3166-1 alpha-2 code of the reporting country.
    #[schema(example = "SN")]
    pub country: Option<String>,
    /// The national system's own reference, unique within its country and operation.
    #[schema(example = "DGPN-2025-0912-01")]
    pub external_ref: Option<String>,
    /// What kind of incident.
    pub kind: InterceptionKind,
    /// When it happened (RFC 3339); within the operation's days.
    pub occurred_at: DateTime<Utc>,
    /// Where.
    #[serde(default)]
    pub location: Option<Location>,
    /// Migrants detected.
    #[serde(default)]
    pub migrants: Option<MigrantCount>,
    /// Victims safeguarded.
    #[serde(default)]
    pub victims: Option<VictimCount>,
    /// People arrested.
    #[serde(default)]
    pub arrests: i64,
    /// Investigations opened.
    #[serde(default)]
    pub investigations_opened: i64,
    /// What was seized.
    #[serde(default)]
    pub seizures: Vec<Seizure>,
    /// Free text, at most 2,000 characters. Not for personal data: no names, document numbers
    /// or birth dates of victims or suspects.
    #[serde(default)]
    pub notes: Option<String>,
}

/// The instants an interception of an operation may fall in: its first day as it starts at
/// UTC+14 to its last day as it ends at UTC−12, so every time zone's local days count.
/// Saturates at chrono's limits, so even a date stored before dates were bounded cannot panic.
pub fn window(starts_on: NaiveDate, ends_on: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = dates::midnight_plus(starts_on, TimeDelta::hours(-14));
    let end = dates::midnight_plus(ends_on, TimeDelta::hours(36));
    (start, end)
}

/// Checks an external reference (from a path or a body).
pub fn check_external_ref(value: &str, pointer: &str, errors: &mut Vec<FieldError>) {
    let ok = !value.is_empty()
        && value.len() <= MAX_EXTERNAL_REF
        && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    if !ok {
        errors.push(FieldError::at(
            pointer,
            format!("must be 1 to {MAX_EXTERNAL_REF} characters of letters, digits and - _ . :"),
        ));
    }
}

/// A count within `0..=MAX_COUNT`; the pointer is only made when the count is wrong (this runs
/// for every field of every item of every push).
fn count(value: i64, pointer: impl FnOnce() -> String, errors: &mut Vec<FieldError>) {
    if !(0..=MAX_COUNT).contains(&value) {
        errors.push(FieldError::at(pointer(), format!("must be between 0 and {MAX_COUNT}")));
    }
}

fn part(value: Option<i64>, total: i64, pointer: impl Fn() -> String, errors: &mut Vec<FieldError>) {
    if let Some(value) = value {
        count(value, &pointer, errors);
        if value > total {
            errors.push(FieldError::at(
                pointer(),
                format!("{value} is more than the total ({total})"),
            ));
        }
    }
}

/// Rules shared by migrants and victims: each part within the total, nationalities real.
fn check_people(
    base: &str,
    total: i64,
    children: Option<i64>,
    female: Option<i64>,
    male: Option<i64>,
    by_nationality: &BTreeMap<String, i64>,
    errors: &mut Vec<FieldError>,
) -> BTreeMap<String, i64> {
    count(total, || format!("{base}/total"), errors);
    part(children, total, || format!("{base}/children"), errors);
    part(female, total, || format!("{base}/female"), errors);
    part(male, total, || format!("{base}/male"), errors);
    // Saturating: the parts are range-checked above, but reported together with their sum.
    let sexes = female.unwrap_or(0).saturating_add(male.unwrap_or(0));
    if female.is_some() && male.is_some() && sexes > total {
        errors.push(FieldError::at(
            format!("{base}/male"),
            format!("female + male ({sexes}) is more than the total ({total})"),
        ));
    }
    let mut normalised = BTreeMap::new();
    let mut sum = 0;
    for (code, n) in by_nationality {
        let pointer = || format!("{base}/by_nationality/{code}");
        count(*n, pointer, errors);
        sum = n.saturating_add(sum);
        match country::normalise(code) {
            Some(code) => {
                let entry = normalised.entry(code).or_insert(0_i64);
                *entry = entry.saturating_add(*n);
            }
            None => errors.push(FieldError::at(
                pointer(),
                format!("`{code}` is not an ISO 3166-1 alpha-2 country code"),
            )),
        }
    }
    if sum > total {
        errors.push(FieldError::at(
            format!("{base}/by_nationality"),
            format!("the sum ({sum}) is more than the total ({total})"),
        ));
    }
    normalised
}

fn check_seizure(index: usize, seizure: &Seizure, errors: &mut Vec<FieldError>) -> Seizure {
    let base = format!("/seizures/{index}");
    if !(seizure.quantity > 0.0 && seizure.quantity <= 1e12) {
        errors.push(FieldError::at(
            format!("{base}/quantity"),
            "must be more than 0 (and at most 10^12)",
        ));
    }
    let unit = seizure.unit.as_deref().map(str::trim);
    let pointer = format!("{base}/unit");
    let unit = match (seizure.category, unit) {
        (SeizureCategory::Cash, Some(code)) => {
            let upper = code.to_ascii_uppercase();
            if iso_currency::Currency::from_code(&upper).is_none() {
                errors.push(FieldError::at(
                    pointer,
                    format!("`{code}` is not an ISO 4217 currency code"),
                ));
            }
            Some(upper)
        }
        (SeizureCategory::Cash, None) => {
            errors.push(FieldError::at(pointer, "cash needs its ISO 4217 currency, such as EUR"));
            None
        }
        (SeizureCategory::Drugs, Some(unit @ ("kg" | "g" | "doses"))) => Some(unit.to_string()),
        (SeizureCategory::Drugs, _) => {
            errors.push(FieldError::at(pointer, "drugs are counted in kg, g or doses"));
            None
        }
        (_, Some(unit)) => {
            errors.push(FieldError::at(
                pointer,
                format!("`{unit}`: this category counts items and takes no unit"),
            ));
            None
        }
        (_, None) => None,
    };
    Seizure {
        category: seizure.category,
        quantity: seizure.quantity,
        unit,
    }
}

impl InterceptionInput {
    /// Checks every rule of the contract, reporting each failing field with its pointer, and
    /// returns the normalised interception. `key` is the path's country and reference (a `PUT`),
    /// or `None` for a batch item, which must carry its own.
    pub fn check(
        self,
        key: Option<(&str, &str)>,
        window: (DateTime<Utc>, DateTime<Utc>),
    ) -> Result<CheckedInterception> {
        let mut errors = Vec::new();
        let (country, external_ref) = match key {
            Some((country, external_ref)) => {
                if let Some(given) = &self.country {
                    if country::normalise(given).as_deref() != Some(country) {
                        errors.push(FieldError::at(
                            "/country",
                            format!("`{given}` differs from the country in the path"),
                        ));
                    }
                }
                if let Some(given) = &self.external_ref {
                    if given != external_ref {
                        errors.push(FieldError::at(
                            "/external_ref",
                            "differs from the external_ref in the path",
                        ));
                    }
                }
                (country.to_string(), external_ref.to_string())
            }
            None => {
                let country = match &self.country {
                    Some(code) => country::check(code, "/country", &mut errors),
                    None => {
                        errors.push(FieldError::at("/country", "is required in a batch item"));
                        String::new()
                    }
                };
                let external_ref = match &self.external_ref {
                    Some(value) => {
                        check_external_ref(value, "/external_ref", &mut errors);
                        value.clone()
                    }
                    None => {
                        errors.push(FieldError::at("/external_ref", "is required in a batch item"));
                        String::new()
                    }
                };
                (country, external_ref)
            }
        };
        let (from, until) = window;
        dates::check_instant(self.occurred_at, "/occurred_at", &mut errors);
        if self.occurred_at < from || self.occurred_at >= until {
            errors.push(FieldError::at(
                "/occurred_at",
                format!(
                    "must fall within the operation's days ({} to {}, UTC)",
                    from.to_rfc3339(),
                    until.to_rfc3339()
                ),
            ));
        }
        let location = self.location.inspect(|location| {
            if let Some(place) = &location.place {
                text::bounded(place, MAX_NAME, "/location/place", &mut errors);
                text::line(place, "/location/place", &mut errors);
            }
            if location.lat.is_some_and(|lat| !(-90.0..=90.0).contains(&lat)) {
                errors.push(FieldError::at("/location/lat", "must be between -90 and 90"));
            }
            if location.lon.is_some_and(|lon| !(-180.0..=180.0).contains(&lon)) {
                errors.push(FieldError::at("/location/lon", "must be between -180 and 180"));
            }
        });
        let migrants = self.migrants.map(|m| {
            let by_nationality = check_people(
                "/migrants",
                m.total,
                m.children,
                m.female,
                m.male,
                &m.by_nationality,
                &mut errors,
            );
            MigrantCount { by_nationality, ..m }
        });
        let victims = self.victims.map(|v| {
            let by_nationality = check_people(
                "/victims",
                v.total,
                v.children,
                v.female,
                v.male,
                &v.by_nationality,
                &mut errors,
            );
            let mut exploited = 0;
            for (form, n) in &v.by_exploitation {
                count(
                    *n,
                    || format!("/victims/by_exploitation/{}", form.as_str()),
                    &mut errors,
                );
                exploited = n.saturating_add(exploited);
            }
            if exploited > v.total {
                errors.push(FieldError::at(
                    "/victims/by_exploitation",
                    format!("the sum ({exploited}) is more than the total ({})", v.total),
                ));
            }
            VictimCount { by_nationality, ..v }
        });
        count(self.arrests, || "/arrests".into(), &mut errors);
        count(
            self.investigations_opened,
            || "/investigations_opened".into(),
            &mut errors,
        );
        if self.seizures.len() > 100 {
            errors.push(FieldError::at("/seizures", "at most 100 entries"));
        }
        let seizures = self
            .seizures
            .iter()
            .enumerate()
            .map(|(i, s)| check_seizure(i, s, &mut errors))
            .collect();
        if let Some(notes) = &self.notes {
            text::bounded(notes, MAX_FREE_TEXT, "/notes", &mut errors);
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(CheckedInterception {
            country,
            external_ref,
            content: Canonical::new(InterceptionContent {
                kind: self.kind,
                occurred_at: self.occurred_at,
                location,
                migrants,
                victims,
                arrests: self.arrests,
                investigations_opened: self.investigations_opened,
                seizures,
                notes: self.notes.filter(|n| !n.is_empty()),
            }),
        })
    }
}
