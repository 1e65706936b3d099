//! The template's columns: one per field of an interception a person fills in, named after the
//! contract's fields (`migrants_children` is `migrants.children`; a breakdown such as
//! `migrants_nationality` is written `SN:40; GM:18`; each form of exploitation and each seizure
//! category has a column of its own).

use crate::domain::interception::{Exploitation, InterceptionKind, SeizureCategory};

/// Whose counts a person-count column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `migrants`.
    Migrants,
    /// `victims`.
    Victims,
}

impl Group {
    /// The contract's member name.
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Migrants => "migrants",
            Group::Victims => "victims",
        }
    }
}

/// A part of a person count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// `total`.
    Total,
    /// `children`.
    Children,
    /// `female`.
    Female,
    /// `male`.
    Male,
    /// `by_nationality`, written `SN:40; GM:18`.
    Nationality,
}

/// One column of the template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// The reporting country; optional, must be the import's country.
    Country,
    /// `external_ref`.
    ExternalRef,
    /// `kind`.
    Kind,
    /// `occurred_at`.
    OccurredAt,
    /// `location.place`.
    Place,
    /// `location.lat`.
    Lat,
    /// `location.lon`.
    Lon,
    /// A part of `migrants` or `victims`.
    People(Group, Part),
    /// `victims.by_exploitation.<form>`.
    Exploited(Exploitation),
    /// `arrests`.
    Arrests,
    /// `investigations_opened`.
    Investigations,
    /// The seizures of one category.
    Seized(SeizureCategory),
    /// `notes`.
    Notes,
}

const PARTS: [Part; 5] = [Part::Total, Part::Children, Part::Female, Part::Male, Part::Nationality];

impl Column {
    /// Every column of the template, in its order (the optional `country` is not in it).
    pub fn template() -> Vec<Column> {
        let mut columns = vec![
            Column::ExternalRef,
            Column::Kind,
            Column::OccurredAt,
            Column::Place,
            Column::Lat,
            Column::Lon,
        ];
        columns.extend(PARTS.map(|p| Column::People(Group::Migrants, p)));
        columns.extend(PARTS.map(|p| Column::People(Group::Victims, p)));
        columns.extend(Exploitation::ALL.iter().copied().map(Column::Exploited));
        columns.extend([Column::Arrests, Column::Investigations]);
        columns.extend(SeizureCategory::ALL.iter().copied().map(Column::Seized));
        columns.push(Column::Notes);
        columns
    }

    /// The column's name, as in the header row.
    pub fn name(self) -> String {
        match self {
            Column::Country => "country".into(),
            Column::ExternalRef => "external_ref".into(),
            Column::Kind => "kind".into(),
            Column::OccurredAt => "occurred_at".into(),
            Column::Place => "place".into(),
            Column::Lat => "lat".into(),
            Column::Lon => "lon".into(),
            Column::People(group, part) => format!(
                "{}_{}",
                group.as_str(),
                match part {
                    Part::Total => "total",
                    Part::Children => "children",
                    Part::Female => "female",
                    Part::Male => "male",
                    Part::Nationality => "nationality",
                }
            ),
            Column::Exploited(Exploitation::Other) => "victims_other_exploitation".into(),
            Column::Exploited(form) => format!("victims_{}", form.as_str()),
            Column::Arrests => "arrests".into(),
            Column::Investigations => "investigations_opened".into(),
            Column::Seized(category) => format!("seizures_{}", category.as_str()),
            Column::Notes => "notes".into(),
        }
    }

    /// The column a header names (any case, spaces taken for `_`), if any.
    pub fn parse(name: &str) -> Option<Column> {
        let wanted = name.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        std::iter::once(Column::Country)
            .chain(Column::template())
            .find(|c| c.name() == wanted)
    }

    /// Whether every row must fill this column.
    pub fn required(self) -> bool {
        matches!(self, Column::ExternalRef | Column::Kind | Column::OccurredAt)
    }

    /// What to write in the column, for the template's notes and the docs.
    pub fn help(self) -> String {
        match self {
            Column::Country => "Optional: the reporting country (ISO 3166-1 alpha-2); must be the country of the import.".into(),
            Column::ExternalRef => "Required. Your own reference for the incident, unique in your country and this operation: 1 to 128 letters, digits and - _ . : (kept as text: leading zeros stay). Sending the same reference again updates the record.".into(),
            Column::Kind => format!("Required. One of: {}.", InterceptionKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", ")),
            Column::OccurredAt => "Required. When it happened: 2025-09-12 05:40 or 2025-09-12T05:40:00+01:00 (a date alone is midnight). Without an offset the time is read as UTC; an Excel date cell is read as UTC too.".into(),
            Column::Place => "Place name (town, port, border crossing), at most 200 characters. Never a person's address.".into(),
            Column::Lat => "Latitude, -90 to 90 (decimal degrees).".into(),
            Column::Lon => "Longitude, -180 to 180 (decimal degrees).".into(),
            Column::People(group, Part::Total) => format!("How many {} in all (a whole number). Fill it whenever you fill another {} column.", group.as_str(), group.as_str()),
            Column::People(_, Part::Children) => "How many of them children (at most the total).".into(),
            Column::People(_, Part::Female) => "How many women and girls (female + male at most the total).".into(),
            Column::People(_, Part::Male) => "How many men and boys.".into(),
            Column::People(_, Part::Nationality) => "Counts per nationality, ISO 3166-1 alpha-2 code and count, separated by ; — for example SN:40; GM:18. The sum is at most the total.".into(),
            Column::Exploited(form) => format!("How many victims of {}; all forms together at most victims_total.", form.as_str().replace('_', " ")),
            Column::Arrests => "People arrested (a whole number).".into(),
            Column::Investigations => "Investigations opened (a whole number).".into(),
            Column::Seized(SeizureCategory::Cash) => "Cash seized, amount and ISO 4217 currency, several separated by ; — for example 6000 EUR; 250 USD.".into(),
            Column::Seized(SeizureCategory::Drugs) => "Drugs seized, amount and unit (kg, g or doses), several separated by ; — for example 2.5 kg; 300 doses.".into(),
            Column::Seized(category) => format!("How many {} were seized (items).", category.as_str().replace('_', " ")),
            Column::Notes => "Free text, at most 2,000 characters. Not for personal data: no names, document numbers or birth dates.".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_reads_back_and_names_are_unique() {
        let columns = Column::template();
        let mut names: Vec<String> = columns.iter().map(|c| c.name()).collect();
        for column in &columns {
            assert_eq!(Column::parse(&column.name()), Some(*column));
        }
        assert_eq!(
            Column::parse(" Migrants Total "),
            Some(Column::People(Group::Migrants, Part::Total))
        );
        names.sort();
        names.dedup();
        assert_eq!(names.len(), columns.len());
        assert!(names.contains(&"victims_forced_labour".to_string()));
        assert!(names.contains(&"migrants_nationality".to_string()));
    }
}
