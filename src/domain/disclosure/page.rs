//! A publication as a plain HTML page a press office can link to: no script, inline style only,
//! every piece of text escaped.

use std::fmt::Write;

use super::publication::{HeadlineFigure, Publication, PublishedFigure};
use super::release::ReleaseKind;
use crate::domain::metric::{Dimension, Metric};

/// Escapes text for HTML element content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// 4414 as "4,414".
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        out.insert(0, '-');
    }
    out
}

fn shown(value: Option<i64>, base: i32) -> String {
    value.map_or_else(|| format!("fewer than {base}"), grouped)
}

fn metric_label(metric: Metric) -> &'static str {
    match metric {
        Metric::Interceptions => "Interceptions",
        Metric::MigrantsDetected => "Irregular migrants detected",
        Metric::VictimsSafeguarded => "Victims safeguarded",
        Metric::Arrests => "Arrests",
        Metric::InvestigationsOpened => "Investigations opened",
        Metric::Seizures => "Seizures (entries)",
        Metric::OfficersDeployed => "Officers deployed",
    }
}

fn dimension_label(dimension: Dimension) -> &'static str {
    match dimension {
        Dimension::Exploitation => "By form of exploitation",
        Dimension::Nationality => "By nationality",
        Dimension::AgeGroup => "By age group",
        Dimension::Sex => "By sex",
        Dimension::Kind => "By kind of interception",
        Dimension::Day => "By day",
        Dimension::Category => "By category",
    }
}

fn country_label(code: &str) -> String {
    match rust_iso3166::from_alpha2(code) {
        Some(country) => format!("{} ({code})", country.name),
        None => code.to_string(),
    }
}

fn rows(out: &mut String, figures: &[PublishedFigure], base: i32, label: impl Fn(&str) -> String) {
    for figure in figures {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            escape(&label(&figure.key)),
            escape(&shown(figure.value, base))
        );
    }
}

/// The page of a publication; `numbers` are the operation's published releases, linked at the
/// foot of the page.
pub fn to_html(publication: &Publication, numbers: &[i64]) -> String {
    let base = publication.method.rounding_base;
    let name = escape(&publication.operation_name);
    let kind = match publication.kind {
        ReleaseKind::Interim => "interim figures",
        ReleaseKind::Final => "final figures",
    };
    let when = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map_or_else(
            || "not yet published".to_string(),
            |t| t.format("%-d %B %Y, %H:%M UTC").to_string(),
        )
    };
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{name}: release {number}</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.45}}\
         table{{border-collapse:collapse;margin:.5rem 0 1rem}}td,th{{padding:.15rem .8rem;border-bottom:1px solid #ddd;text-align:left}}\
         .n{{text-align:right}}.headline dd{{font-size:1.6rem;margin:0 0 .6rem}}.method{{color:#444}}</style></head>\n\
         <body><main><h1>{name}</h1><p>Release {number}, {kind}. Published {published}; figures as of {as_of}.</p>",
        number = publication.number,
        published = escape(&when(publication.published_at)),
        as_of = escape(&when(Some(publication.figures_as_of))),
    );
    let h = &publication.headline;
    out.push_str("<section class=\"headline\"><h2>Headline figures</h2><dl>");
    let headline = |out: &mut String, label: &str, figure: HeadlineFigure| {
        let _ = write!(
            out,
            "<dt>{}</dt><dd>{}{}</dd>",
            escape(label),
            escape(&shown(figure.value, base)),
            if figure.exact { "" } else { " (rounded)" }
        );
    };
    headline(&mut out, "Victims safeguarded", h.victims_safeguarded);
    headline(&mut out, "Irregular migrants detected", h.migrants_detected);
    headline(&mut out, "Investigations opened", h.investigations_opened);
    headline(&mut out, "Participating countries", h.participating_countries);
    headline(&mut out, "Officers deployed", h.officers_deployed);
    let _ = write!(out, "</dl><p class=\"method\">{}</p></section>", escape(&h.method));
    for metric in &publication.metrics {
        let _ = write!(
            out,
            "<section><h2>{}</h2><p>Total: <strong>{}</strong> ({})</p>",
            escape(metric_label(metric.metric)),
            escape(&shown(metric.total, base)),
            if metric.total_exact { "exact" } else { "rounded" }
        );
        if let Some(n) = metric.carried_from {
            let _ = write!(
                out,
                "<p class=\"method\">These are the figures of release {n}: the new ones could not yet be \
                 rounded consistently with the earlier releases.</p>"
            );
        }
        out.push_str("<table><thead><tr><th>Country</th><th class=\"n\">Figure</th></tr></thead><tbody>");
        rows(&mut out, &metric.countries, base, country_label);
        out.push_str("</tbody></table>");
        for breakdown in &metric.breakdowns {
            let _ = write!(
                out,
                "<table><thead><tr><th>{}</th><th class=\"n\">Figure</th></tr></thead><tbody>",
                escape(dimension_label(breakdown.dimension))
            );
            let label = |key: &str| match breakdown.dimension {
                Dimension::Nationality => country_label(key),
                _ => key.replace('_', " "),
            };
            rows(&mut out, &breakdown.figures, base, label);
            out.push_str("</tbody></table>");
            if breakdown.dimension == Dimension::Nationality {
                let _ = write!(
                    out,
                    "<p class=\"method\">Nationalities not listed: fewer than {base} each.</p>"
                );
            }
        }
        out.push_str("</section>");
    }
    let _ = write!(
        out,
        "<section><h2>Method</h2><p class=\"method\">{}</p></section><p>This release as <a href=\"{n}.json\">JSON</a> \
         and <a href=\"{n}.csv\">CSV</a>; the <a href=\"latest\">latest release</a>.",
        escape(&publication.method.statement),
        n = publication.number,
    );
    if !numbers.is_empty() {
        out.push_str(" All releases:");
        for n in numbers {
            let _ = write!(out, " <a href=\"{n}\">{n}</a>");
        }
    }
    out.push_str("</p></main></body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::{escape, grouped};

    #[test]
    fn text_is_escaped_and_numbers_grouped() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
        assert_eq!(grouped(4414), "4,414");
        assert_eq!(grouped(12992), "12,992");
        assert_eq!(grouped(14000), "14,000");
        assert_eq!(grouped(995), "995");
        assert_eq!(grouped(1_000_000), "1,000,000");
    }
}
