//! A publication as CSV: one line per published figure, the headline first.

use super::publication::{Publication, PublishedFigure};

/// The header line.
pub const HEADER: &str = "release,metric,table,key,figure,exact,note";

/// A CSV field: quoted when it holds a comma, a quote or a line break, and with a leading `'`
/// when it starts with `=`, `+`, `-`, `@`, a tab or a carriage return, so that a spreadsheet
/// never reads it as a formula (OWASP, "CSV injection").
pub fn field(text: &str) -> String {
    let mut text = text.to_string();
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        text.insert(0, '\'');
    }
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// One line of the CSV, before writing.
struct Line<'a> {
    metric: &'a str,
    table: &'a str,
    key: &'a str,
    value: Option<i64>,
    exact: bool,
    /// The earlier release whose figures these are, if the metric kept them.
    carried_from: Option<i64>,
}

/// The publication as CSV. An empty `figure` is fewer than the rounding base; `exact` says
/// whether the figure is the exact count; `note` says the same in words, and names the earlier
/// release whose figures a metric kept.
pub fn to_csv(publication: &Publication) -> String {
    let h = &publication.headline;
    let mut lines: Vec<Line> = [
        ("victims_safeguarded", h.victims_safeguarded),
        ("migrants_detected", h.migrants_detected),
        ("investigations_opened", h.investigations_opened),
        ("participating_countries", h.participating_countries),
        ("officers_deployed", h.officers_deployed),
    ]
    .into_iter()
    .map(|(metric, figure)| Line {
        metric,
        table: "headline",
        key: "",
        value: figure.value,
        exact: figure.exact,
        carried_from: None,
    })
    .collect();
    for metric in &publication.metrics {
        let name = metric.metric.as_str();
        lines.push(Line {
            metric: name,
            table: "total",
            key: "",
            value: metric.total,
            exact: metric.total_exact,
            carried_from: metric.carried_from,
        });
        let tables = std::iter::once(("country", &metric.countries))
            .chain(metric.breakdowns.iter().map(|b| (b.dimension.as_str(), &b.figures)));
        for (table, figures) in tables {
            lines.extend(figures.iter().map(|figure: &PublishedFigure| Line {
                metric: name,
                table,
                key: &figure.key,
                value: figure.value,
                exact: false,
                carried_from: metric.carried_from,
            }));
        }
    }
    let base = publication.method.rounding_base;
    let mut out = String::from(HEADER);
    out.push('\n');
    for line in lines {
        let mut note = match (line.value, line.exact) {
            (_, true) => "exact".to_string(),
            (None, false) => format!("fewer than {base}"),
            (Some(_), false) => format!("rounded to a multiple of {base}"),
        };
        if let Some(n) = line.carried_from {
            note.push_str(&format!("; figures of release {n}"));
        }
        let cells = [
            publication.number.to_string(),
            field(line.metric),
            field(line.table),
            field(line.key),
            line.value.map(|v| v.to_string()).unwrap_or_default(),
            line.exact.to_string(),
            field(&note),
        ];
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn formulas_are_neutralised_and_separators_quoted() {
        assert_eq!(field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(field("+1"), "'+1");
        assert_eq!(field("-2"), "'-2");
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("forced_labour"), "forced_labour");
    }
}
