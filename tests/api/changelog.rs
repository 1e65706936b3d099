//! CHANGELOG.md records every change of the committed OpenAPI document: its newest section
//! names the SHA-256 of the document as committed (the rule is in the changelog's header).

use sha2::{Digest, Sha256};

const CHANGELOG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/CHANGELOG.md");
const DOCUMENT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
/// The line of a section that names the document it describes.
const MARK: &str = "OpenAPI document: `sha256:";

/// The newest section of the changelog: its heading and its lines up to the next heading.
fn newest_section(changelog: &str) -> Option<(&str, Vec<&str>)> {
    let mut lines = changelog.lines().skip_while(|line| !line.starts_with("## ["));
    let heading = lines.next()?;
    Some((heading, lines.take_while(|line| !line.starts_with("## ")).collect()))
}

#[test]
fn the_newest_changelog_section_names_the_committed_document() {
    let document = std::fs::read(DOCUMENT).expect("openapi/openapi.json");
    let digest = hex::encode(Sha256::digest(&document));
    let changelog = std::fs::read_to_string(CHANGELOG).expect("CHANGELOG.md");
    let (heading, body) = newest_section(&changelog).expect("CHANGELOG.md has no `## [...]` section");
    let wanted = format!("{MARK}{digest}`");
    let recorded = body.iter().find(|line| line.starts_with(MARK));
    assert!(
        recorded == Some(&wanted.as_str()),
        "openapi/openapi.json changed (or is new) and CHANGELOG.md does not record it.\n\
         In CHANGELOG.md, under `## [Unreleased]` (add that heading above the newest section if it \
         is not there), describe the API change in a list under `### Added`, `### Changed`, \
         `### Deprecated`, `### Removed`, `### Fixed` or `### Security`, and make the section's \
         document line read exactly:\n\n{wanted}\n\n(now: {}; the header of CHANGELOG.md explains \
         the rule)",
        recorded.copied().unwrap_or("no such line")
    );
    assert!(
        body.iter().any(|line| line.starts_with("- ")),
        "the newest CHANGELOG.md section ({heading}) names the document but lists no change"
    );
    let version = heading.trim_start_matches("## [").split(']').next().unwrap_or_default();
    assert!(
        version == "Unreleased" || version == env!("CARGO_PKG_VERSION"),
        "the newest CHANGELOG.md section is {version}, but the crate (and the document's info.version) \
         is {}: a release section names the version it releases",
        env!("CARGO_PKG_VERSION")
    );
}

#[test]
fn newest_section_stops_at_the_next_heading() {
    let changelog = "# Changelog\nintro\n## [Unreleased]\nOpenAPI document: `sha256:ab`\n- one\n\
                     ## [0.1.0] - 2025-01-01\n- two\n";
    let (heading, body) = newest_section(changelog).expect("a section");
    assert_eq!(heading, "## [Unreleased]");
    assert_eq!(body, vec!["OpenAPI document: `sha256:ab`", "- one"]);
    assert!(newest_section("# Changelog\nno sections\n").is_none());
}
