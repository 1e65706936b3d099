//! Interceptions: one incident reported by a country, as counts and categories only.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::country;
use super::text::{self, MAX_FREE_TEXT, MAX_NAME};
use crate::error::{Error, FieldError, Result};

/// Largest count accepted in any person or arrest field: a guard against typing errors.
pub const MAX_COUNT: i64 = 1_000_000;
/// Longest `external_ref`.
pub const MAX_EXTERNAL_REF: usize = 128;

/// What kind of incident it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InterceptionKind {
    /// A departure by sea stopped.
    SeaDeparture,
    /// A land border check.
    LandBorder,
    /// An airport check.
    AirBorder,
    /// A raid on premises.
    Premises,
    /// A road checkpoint.
    Checkpoint,
    /// An online investigation.
    Online,
    /// Anything else.
    Other,
}

impl InterceptionKind {
    /// Every kind.
    pub const ALL: [InterceptionKind; 7] = [
        InterceptionKind::SeaDeparture,
        InterceptionKind::LandBorder,
        InterceptionKind::AirBorder,
        InterceptionKind::Premises,
        InterceptionKind::Checkpoint,
        InterceptionKind::Online,
        InterceptionKind::Other,
    ];

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            InterceptionKind::SeaDeparture => "sea_departure",
            InterceptionKind::LandBorder => "land_border",
            InterceptionKind::AirBorder => "air_border",
            InterceptionKind::Premises => "premises",
            InterceptionKind::Checkpoint => "checkpoint",
            InterceptionKind::Online => "online",
            InterceptionKind::Other => "other",
        }
    }
}

/// Forms of exploitation a victim was subjected to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Exploitation {
    /// Sexual exploitation.
    SexualExploitation,
    /// Forced labour.
    ForcedLabour,
    /// Forced criminality.
    ForcedCriminality,
    /// Forced begging.
    ForcedBegging,
    /// Forced marriage.
    ForcedMarriage,
    /// Organ removal.
    OrganRemoval,
    /// Child labour.
    ChildLabour,
    /// Other exploitation.
    Other,
}

/// What was seized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeizureCategory {
    /// Firearms and other weapons (items).
    Weapons,
    /// Ammunition (items).
    Ammunition,
    /// Explosives (items).
    Explosives,
    /// Military equipment (items).
    MilitaryEquipment,
    /// Cash; `unit` is an ISO 4217 currency.
    Cash,
    /// Drugs; `unit` is kg, g or doses.
    Drugs,
    /// Vehicles (items).
    Vehicles,
    /// Vessels (items).
    Vessels,
    /// Identity or travel documents (items).
    Documents,
    /// Bank cards (items).
    BankCards,
    /// Electronics (items).
    Electronics,
    /// Anything else (items).
    Other,
}

impl Exploitation {
    /// Every form.
    pub const ALL: [Exploitation; 8] = [
        Exploitation::SexualExploitation,
        Exploitation::ForcedLabour,
        Exploitation::ForcedCriminality,
        Exploitation::ForcedBegging,
        Exploitation::ForcedMarriage,
        Exploitation::OrganRemoval,
        Exploitation::ChildLabour,
        Exploitation::Other,
    ];

    /// The stored spelling (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            Exploitation::SexualExploitation => "sexual_exploitation",
            Exploitation::ForcedLabour => "forced_labour",
            Exploitation::ForcedCriminality => "forced_criminality",
            Exploitation::ForcedBegging => "forced_begging",
            Exploitation::ForcedMarriage => "forced_marriage",
            Exploitation::OrganRemoval => "organ_removal",
            Exploitation::ChildLabour => "child_labour",
            Exploitation::Other => "other",
        }
    }
}

impl SeizureCategory {
    /// The stored spelling (as in JSON).
    pub fn as_str(self) -> &'static str {
        match self {
            SeizureCategory::Weapons => "weapons",
            SeizureCategory::Ammunition => "ammunition",
            SeizureCategory::Explosives => "explosives",
            SeizureCategory::MilitaryEquipment => "military_equipment",
            SeizureCategory::Cash => "cash",
            SeizureCategory::Drugs => "drugs",
            SeizureCategory::Vehicles => "vehicles",
            SeizureCategory::Vessels => "vessels",
            SeizureCategory::Documents => "documents",
            SeizureCategory::BankCards => "bank_cards",
            SeizureCategory::Electronics => "electronics",
            SeizureCategory::Other => "other",
        }
    }
}

/// Where it happened: a place name and optional coordinates, never an address of a person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Place name (town, port, border crossing), at most 200 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// Latitude, -90 to 90.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lat: Option<f64>,
    /// Longitude, -180 to 180.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lon: Option<f64>,
}

/// Migrants detected: counts only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrantCount {
    /// How many people in all.
    pub total: i64,
    /// How many of them children (at most `total`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<i64>,
    /// How many women and girls (`female + male` at most `total`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub female: Option<i64>,
    /// How many men and boys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub male: Option<i64>,
    /// Count per nationality (ISO 3166-1 alpha-2); the sum is at most `total`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_nationality: BTreeMap<String, i64>,
}

/// Victims safeguarded: counts only.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VictimCount {
    /// How many people in all.
    pub total: i64,
    /// How many of them children (at most `total`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub children: Option<i64>,
    /// How many women and girls (`female + male` at most `total`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub female: Option<i64>,
    /// How many men and boys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub male: Option<i64>,
    /// Count per nationality (ISO 3166-1 alpha-2); the sum is at most `total`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_nationality: BTreeMap<String, i64>,
    /// Count per form of exploitation; the sum is at most `total`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub by_exploitation: BTreeMap<Exploitation, i64>,
}

/// One kind of thing seized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Seizure {
    /// What was seized.
    pub category: SeizureCategory,
    /// How much: items, or an amount in `unit`; more than 0.
    pub quantity: f64,
    /// For cash an ISO 4217 currency (`EUR`), for drugs `kg`, `g` or `doses`; absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
}

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

/// The checked content of an interception: what is stored and compared for "unchanged".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct InterceptionContent {
    /// What kind of incident.
    pub kind: InterceptionKind,
    /// When it happened.
    pub occurred_at: DateTime<Utc>,
    /// Where.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    /// Migrants detected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrants: Option<MigrantCount>,
    /// Victims safeguarded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub victims: Option<VictimCount>,
    /// People arrested.
    pub arrests: i64,
    /// Investigations opened.
    pub investigations_opened: i64,
    /// What was seized.
    pub seizures: Vec<Seizure>,
    /// Free text, never personal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

/// A checked interception with its key.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedInterception {
    /// Reporting country (upper case).
    pub country: String,
    /// The national reference.
    pub external_ref: String,
    /// The content.
    pub content: InterceptionContent,
}

impl InterceptionContent {
    /// The canonical JSON stored and hashed: fixed member order, maps sorted.
    pub fn canonical_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// SHA-256 (hex) of the canonical JSON: equal content, equal hash.
    pub fn content_hash(&self) -> String {
        hex::encode(Sha256::digest(self.canonical_json().as_bytes()))
    }
}

/// The instants an interception of an operation may fall in: its first day as it starts at
/// UTC+14 to its last day as it ends at UTC−12, so every time zone's local days count.
pub fn window(starts_on: NaiveDate, ends_on: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = starts_on.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() - Duration::hours(14);
    let end = ends_on.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc() + Duration::hours(36);
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

fn count(value: i64, pointer: &str, errors: &mut Vec<FieldError>) {
    if !(0..=MAX_COUNT).contains(&value) {
        errors.push(FieldError::at(pointer, format!("must be between 0 and {MAX_COUNT}")));
    }
}

fn part(value: Option<i64>, total: i64, pointer: &str, errors: &mut Vec<FieldError>) {
    if let Some(value) = value {
        count(value, pointer, errors);
        if value > total {
            errors.push(FieldError::at(
                pointer,
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
    count(total, &format!("{base}/total"), errors);
    part(children, total, &format!("{base}/children"), errors);
    part(female, total, &format!("{base}/female"), errors);
    part(male, total, &format!("{base}/male"), errors);
    let sexes = female.unwrap_or(0) + male.unwrap_or(0);
    if female.is_some() && male.is_some() && sexes > total {
        errors.push(FieldError::at(
            format!("{base}/male"),
            format!("female + male ({sexes}) is more than the total ({total})"),
        ));
    }
    let mut normalised = BTreeMap::new();
    let mut sum = 0;
    for (code, n) in by_nationality {
        let pointer = format!("{base}/by_nationality/{code}");
        count(*n, &pointer, errors);
        sum += n;
        match country::normalise(code) {
            Some(code) => *normalised.entry(code).or_insert(0) += n,
            None => errors.push(FieldError::at(
                pointer,
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
                let name = serde_json::to_value(form)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                count(*n, &format!("/victims/by_exploitation/{name}"), &mut errors);
                exploited += n;
            }
            if exploited > v.total {
                errors.push(FieldError::at(
                    "/victims/by_exploitation",
                    format!("the sum ({exploited}) is more than the total ({})", v.total),
                ));
            }
            VictimCount { by_nationality, ..v }
        });
        count(self.arrests, "/arrests", &mut errors);
        count(self.investigations_opened, "/investigations_opened", &mut errors);
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
            content: InterceptionContent {
                kind: self.kind,
                occurred_at: self.occurred_at,
                location,
                migrants,
                victims,
                arrests: self.arrests,
                investigations_opened: self.investigations_opened,
                seizures,
                notes: self.notes.filter(|n| !n.is_empty()),
            },
        })
    }
}

/// What a write did to one interception.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WriteResult {
    /// Stored for the first time (201 for a `PUT`).
    Created,
    /// Stored as a new version (a change, a retraction, or a revival).
    Updated,
    /// The same content was already stored: no new version, no change in the feed.
    Unchanged,
    /// Refused; see `problem` (batch items only).
    Rejected,
}

/// An interception as stored and served.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Interception {
    /// Server-assigned id.
    pub id: i64,
    /// The operation.
    pub operation_id: String,
    /// Reporting country.
    pub country: String,
    /// The national reference.
    pub external_ref: String,
    /// The content.
    #[serde(flatten)]
    pub content: InterceptionContent,
    /// Version, raised by every change; also the `ETag`.
    pub version: i64,
    /// Whether it has been retracted (a tombstone: out of every total).
    pub deleted: bool,
    /// `sub` of the token that wrote this version.
    pub reported_by: String,
    /// When it was first stored.
    pub created_at: DateTime<Utc>,
    /// When this version was stored.
    pub updated_at: DateTime<Utc>,
    /// What this request did (write answers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<WriteResult>,
}

#[cfg(test)]
mod spelling {
    use super::*;

    /// The names the tally cells are keyed by are the JSON names.
    #[test]
    fn as_str_is_the_json_name() {
        let json = |v: serde_json::Value| v.as_str().unwrap_or_default().to_string();
        for form in Exploitation::ALL {
            assert_eq!(form.as_str(), json(serde_json::json!(form)));
        }
        for kind in InterceptionKind::ALL {
            assert_eq!(kind.as_str(), json(serde_json::json!(kind)));
        }
        for category in [
            SeizureCategory::Weapons,
            SeizureCategory::Ammunition,
            SeizureCategory::Explosives,
            SeizureCategory::MilitaryEquipment,
            SeizureCategory::Cash,
            SeizureCategory::Drugs,
            SeizureCategory::Vehicles,
            SeizureCategory::Vessels,
            SeizureCategory::Documents,
            SeizureCategory::BankCards,
            SeizureCategory::Electronics,
            SeizureCategory::Other,
        ] {
            assert_eq!(category.as_str(), json(serde_json::json!(category)));
        }
    }
}
