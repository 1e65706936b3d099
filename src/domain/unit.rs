//! National units: the agencies of one country taking part in an operation.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::country;
use super::text::{self, MAX_NAME};
use crate::error::{Error, FieldError, Result};

/// Most officers one unit may declare; a guard against typing errors, not a policy.
pub const MAX_OFFICERS: i64 = 10_000_000;

/// What a unit is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, strum::IntoStaticStr, strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum UnitKind {
    /// The country's INTERPOL National Central Bureau.
    NationalCentralBureau,
    /// A special coordination unit set up for the operation.
    CoordinationUnit,
    /// A field unit (border police, coast guard, labour inspectorate, ...).
    FieldUnit,
}

impl UnitKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads the stored spelling.
    pub fn parse(value: &str) -> Option<UnitKind> {
        value.parse().ok()
    }
}

/// Body of `POST /v1/operations/{op}/units`. A unit is unique by country and name within an
/// operation, so a replayed create finds the unit it made the first time.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUnit {
    /// ISO 3166-1 alpha-2 code; lower case is accepted and stored in upper case.
    #[schema(example = "GB")]
    pub country: String,
    /// Name of the unit, unique within its country in this operation.
    #[schema(example = "NCB London")]
    pub name: String,
    /// What the unit is.
    pub kind: UnitKind,
    /// Officers the unit deploys, 0 or more.
    #[serde(default)]
    pub officers_deployed: i64,
    /// Whether the unit takes part; only active units make a country participate. Default true.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

/// Body of `PATCH /v1/operations/{op}/units/{id}`. The country of a unit cannot change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitPatch {
    /// New name.
    pub name: Option<String>,
    /// New kind.
    pub kind: Option<UnitKind>,
    /// New number of officers.
    pub officers_deployed: Option<i64>,
    /// Whether the unit takes part.
    pub active: Option<bool>,
}

/// A national unit as stored and served.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Unit {
    /// Server-assigned id.
    pub id: i64,
    /// The operation it belongs to.
    pub operation_id: String,
    /// Its country.
    pub country: String,
    /// Its name.
    pub name: String,
    /// What it is.
    pub kind: UnitKind,
    /// Officers it deploys.
    pub officers_deployed: i64,
    /// Whether it takes part.
    pub active: bool,
    /// Version, raised by every change; also the `ETag`.
    pub version: i64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl NewUnit {
    /// Checks every rule and normalises the country code.
    pub fn validate(mut self) -> Result<NewUnit> {
        let mut errors = Vec::new();
        self.country = country::check(&self.country, "/country", &mut errors);
        text::name(&self.name, MAX_NAME, "/name", &mut errors);
        check_officers(self.officers_deployed, &mut errors);
        if errors.is_empty() {
            Ok(self)
        } else {
            Err(Error::Validation(errors))
        }
    }

    /// Whether `stored` holds exactly what this request asks for (a replayed create).
    pub fn matches(&self, stored: &Unit) -> bool {
        self.country == stored.country
            && self.name == stored.name
            && self.kind == stored.kind
            && self.officers_deployed == stored.officers_deployed
            && self.active == stored.active
    }
}

impl Unit {
    /// Applies a patch and checks the result. Returns `None` when nothing would change.
    pub fn patched(&self, patch: &UnitPatch) -> Result<Option<Unit>> {
        let mut next = self.clone();
        if let Some(name) = &patch.name {
            next.name = name.clone();
        }
        if let Some(kind) = patch.kind {
            next.kind = kind;
        }
        if let Some(officers) = patch.officers_deployed {
            next.officers_deployed = officers;
        }
        if let Some(active) = patch.active {
            next.active = active;
        }
        let mut errors = Vec::new();
        text::name(&next.name, MAX_NAME, "/name", &mut errors);
        check_officers(next.officers_deployed, &mut errors);
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok((next != *self).then_some(next))
    }
}

fn check_officers(officers: i64, errors: &mut Vec<FieldError>) {
    if !(0..=MAX_OFFICERS).contains(&officers) {
        errors.push(FieldError::at(
            "/officers_deployed",
            format!("must be between 0 and {MAX_OFFICERS}"),
        ));
    }
}
