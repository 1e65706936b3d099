//! Stated figures: counts a country states outright for a metric, for what it keeps no incident
//! records of. Each is versioned and kept with its history; where one exists it stands in the totals.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use super::country;
use super::interception::{WriteResult, MAX_COUNT};
use super::metric::{Dimension, Metric};
use super::version::IfMatch;
use crate::error::{Error, FieldError, Result};

/// Body of `PUT /v1/operations/{op}/tallies/{country}/{metric}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportedTallyInput {
    /// The figure.
    #[schema(example = 4414)]
    pub value: i64,
    /// Optional breakdowns by dimension, each summing to at most `value` (the rest counts as
    /// `unknown`), such as `{"nationality": {"NG": 47}}`.
    #[serde(default)]
    pub breakdown: BTreeMap<Dimension, BTreeMap<String, i64>>,
    /// The date the figure holds for.
    pub as_of: NaiveDate,
}

/// A reported tally as stored and served.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportedTally {
    /// The operation.
    pub operation_id: String,
    /// The country.
    pub country: String,
    /// The metric.
    pub metric: Metric,
    /// The figure.
    pub value: i64,
    /// Its breakdowns.
    pub breakdown: BTreeMap<Dimension, BTreeMap<String, i64>>,
    /// The date it holds for.
    pub as_of: NaiveDate,
    /// Version, raised by every change; also the `ETag`.
    pub version: i64,
    /// `sub` of the token that stated it.
    pub reported_by: String,
    /// When this version was stored.
    pub reported_at: DateTime<Utc>,
    /// What this request did (write answers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<WriteResult>,
}

impl ReportedTallyInput {
    /// Checks the figure for `metric`, normalising nationality codes.
    pub fn check(self, metric: Metric, today: NaiveDate) -> Result<ReportedTallyInput> {
        let mut errors = Vec::new();
        if metric == Metric::Seizures {
            return Err(Error::bad_parameter(
                "metric",
                "seizures are reported as interceptions, with category and unit",
            ));
        }
        if !(0..=MAX_COUNT * 100).contains(&self.value) {
            errors.push(FieldError::at(
                "/value",
                format!("must be between 0 and {}", MAX_COUNT * 100),
            ));
        }
        super::dates::check_date(self.as_of, "/as_of", &mut errors);
        if self.as_of > today + chrono::Duration::days(1) {
            errors.push(FieldError::at("/as_of", "must not be in the future"));
        }
        let mut breakdown = BTreeMap::new();
        for (dimension, buckets) in self.breakdown {
            let base = format!("/breakdown/{}", dimension.as_str());
            if !metric.dimensions().contains(&dimension) {
                errors.push(FieldError::at(
                    &base,
                    format!("{} has no {} breakdown", metric.as_str(), dimension.as_str()),
                ));
                continue;
            }
            let mut checked = BTreeMap::new();
            let mut sum = 0;
            for (bucket, n) in buckets {
                let pointer = format!("{base}/{bucket}");
                if (0..=MAX_COUNT * 100).contains(&n) {
                    sum += n;
                } else {
                    errors.push(FieldError::at(&pointer, "must be 0 or more"));
                }
                match normalise_bucket(dimension, &bucket) {
                    Some(bucket) => {
                        let entry = checked.entry(bucket).or_insert(0_i64);
                        *entry = entry.saturating_add(n);
                    }
                    None => errors.push(FieldError::at(
                        &pointer,
                        format!("`{bucket}` is not a {} value", dimension.as_str()),
                    )),
                }
            }
            if sum > self.value {
                errors.push(FieldError::at(
                    &base,
                    format!("the sum ({sum}) is more than the value ({})", self.value),
                ));
            }
            breakdown.insert(dimension, checked);
        }
        if !errors.is_empty() {
            return Err(Error::Validation(errors));
        }
        Ok(ReportedTallyInput {
            value: self.value,
            breakdown,
            as_of: self.as_of,
        })
    }

    /// SHA-256 of the figure, its breakdown and date: equal content, equal hash.
    pub fn content_hash(&self) -> String {
        let text = format!(
            "{}|{}|{}",
            self.value,
            serde_json::to_string(&self.breakdown).unwrap_or_default(),
            self.as_of
        );
        hex::encode(Sha256::digest(text.as_bytes()))
    }
}

/// What a statement does to the current version of its figure (`(version, content hash)`, or
/// `None` if the country stated none): `None` when it is the same figure (unchanged), else the
/// new version. `If-Match` must name the current version (a missing figure has version 0).
pub fn decide(current: Option<(i64, &str)>, hash: &str, if_match: &IfMatch) -> Result<Option<i64>> {
    match (current, if_match) {
        (_, IfMatch::Absent) => {}
        (Some((version, _)), check) => check.check(version)?,
        (None, _) => return Err(Error::PreconditionFailed { current: 0 }),
    }
    Ok(match current {
        Some((_, stored)) if stored == hash => None,
        Some((version, _)) => Some(version + 1),
        None => Some(1),
    })
}

/// A breakdown value in its stored spelling, or `None` if the dimension has no such value.
fn normalise_bucket(dimension: Dimension, bucket: &str) -> Option<String> {
    let one_of = |values: &[&str]| values.contains(&bucket).then(|| bucket.to_string());
    match dimension {
        Dimension::Nationality if bucket == "unknown" => Some(bucket.to_string()),
        Dimension::Nationality => country::normalise(bucket),
        Dimension::AgeGroup => one_of(&["child", "adult", "unknown"]),
        Dimension::Sex => one_of(&["female", "male", "unknown"]),
        Dimension::Kind => one_of(&[
            "sea_departure",
            "land_border",
            "air_border",
            "premises",
            "checkpoint",
            "online",
            "other",
        ]),
        Dimension::Exploitation => one_of(&[
            "sexual_exploitation",
            "forced_labour",
            "forced_criminality",
            "forced_begging",
            "forced_marriage",
            "organ_removal",
            "child_labour",
            "other",
            "unknown",
        ]),
        Dimension::Day => NaiveDate::parse_from_str(bucket, "%Y-%m-%d")
            .ok()
            .map(|d| d.to_string()),
        Dimension::Category => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_is_new_changed_or_unchanged() {
        assert_eq!(decide(None, "a", &IfMatch::Absent).ok(), Some(Some(1)));
        assert_eq!(decide(Some((1, "a")), "a", &IfMatch::Absent).ok(), Some(None));
        assert_eq!(decide(Some((1, "a")), "b", &IfMatch::Absent).ok(), Some(Some(2)));
        assert!(decide(Some((2, "a")), "b", &IfMatch::Versions(vec![1])).is_err());
        assert!(decide(None, "b", &IfMatch::Any).is_err());
    }
}
