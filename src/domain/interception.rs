//! Interceptions: one incident reported by a country, as counts and categories only.

mod decide;
mod input;

pub use decide::{decide, Current, Decision, Request};
pub use input::{check_external_ref, window, InterceptionInput};

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Largest count accepted in any person or arrest field: a guard against typing errors.
pub const MAX_COUNT: i64 = 1_000_000;
/// Longest `external_ref`.
pub const MAX_EXTERNAL_REF: usize = 128;

/// What kind of incident it was.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// Every variant, in declaration order (derived, so a new variant cannot be left out).
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

/// Forms of exploitation a victim was subjected to.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    ToSchema,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
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
    /// Every variant, in declaration order (derived, so a new variant cannot be left out).
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// The stored spelling (as in JSON).
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl SeizureCategory {
    /// Every variant, in declaration order (derived, so a new variant cannot be left out).
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// The stored spelling (as in JSON).
    pub fn as_str(self) -> &'static str {
        self.into()
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
    /// The content, with its canonical JSON and hash.
    pub content: Canonical,
}

/// Checked content with the canonical JSON that is stored and the hash that tells an unchanged
/// push from a new version; made once, outside the write transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Canonical {
    /// The content.
    pub content: InterceptionContent,
    /// Its canonical JSON (fixed member order, maps sorted).
    pub json: String,
    /// SHA-256 (hex) of `json`.
    pub hash: String,
}

impl Canonical {
    /// Seals checked content.
    pub fn new(content: InterceptionContent) -> Canonical {
        let json = content.canonical_json();
        let hash = hex::encode(Sha256::digest(json.as_bytes()));
        Canonical { content, json, hash }
    }

    /// Content read back from storage, with the hash stored beside it.
    pub fn stored(json: String, hash: String) -> std::result::Result<Canonical, serde_json::Error> {
        Ok(Canonical {
            content: serde_json::from_str(&json)?,
            json,
            hash,
        })
    }
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
        for category in SeizureCategory::ALL {
            assert_eq!(category.as_str(), json(serde_json::json!(category)));
        }
    }
}
