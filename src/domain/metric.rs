//! Metrics and breakdown dimensions of the tallies.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A metric of the tallies.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Metric {
    /// Interceptions reported.
    Interceptions,
    /// Migrants detected.
    MigrantsDetected,
    /// Victims safeguarded.
    VictimsSafeguarded,
    /// People arrested.
    Arrests,
    /// Investigations opened.
    InvestigationsOpened,
    /// Seizure entries; quantities per category and unit in the `category` breakdown.
    Seizures,
    /// Officers deployed by active units.
    OfficersDeployed,
}

impl Metric {
    /// Every variant, in declaration order (derived, so a new variant cannot be left out).
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Reads the stored spelling.
    pub fn parse(value: &str) -> Option<Metric> {
        value.parse().ok()
    }

    /// The breakdowns this metric has.
    pub fn dimensions(self) -> &'static [Dimension] {
        use Dimension::{AgeGroup, Category, Day, Exploitation, Kind, Nationality, Sex};
        match self {
            Metric::Interceptions | Metric::Arrests | Metric::InvestigationsOpened => &[Kind, Day],
            Metric::MigrantsDetected => &[Nationality, AgeGroup, Sex, Kind, Day],
            Metric::VictimsSafeguarded => &[Exploitation, Nationality, AgeGroup, Sex, Kind, Day],
            Metric::Seizures => &[Category],
            Metric::OfficersDeployed => &[],
        }
    }
}

/// A breakdown dimension.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    ToSchema,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum Dimension {
    /// Form of exploitation (victims).
    Exploitation,
    /// Nationality (ISO 3166-1 alpha-2, or `unknown`).
    Nationality,
    /// `child`, `adult` or `unknown`.
    AgeGroup,
    /// `female`, `male` or `unknown`.
    Sex,
    /// Interception kind.
    Kind,
    /// Day of the incident (UTC, `YYYY-MM-DD`).
    Day,
    /// Seizure `category[:unit]`.
    Category,
}

impl Dimension {
    /// Every variant, in declaration order (derived, so a new variant cannot be left out).
    pub const ALL: &'static [Self] = <Self as strum::VariantArray>::VARIANTS;

    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl Dimension {
    /// Reads the stored spelling.
    pub fn parse(value: &str) -> Option<Dimension> {
        value.parse().ok()
    }

    /// The dimension column of a stored cell as a static name: a dimension's spelling, or `""`
    /// for a metric's total.
    pub fn cell_name(value: &str) -> Option<&'static str> {
        match value {
            "" => Some(""),
            other => Dimension::parse(other).map(Dimension::as_str),
        }
    }
}
