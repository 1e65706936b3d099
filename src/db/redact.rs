//! Credentials never leave the process: every message that may quote a database URL (libpq
//! quotes a URL it cannot parse whole) goes through [`scrub`] before it is logged or printed.

/// What a credential is replaced with.
const HIDDEN: &str = "***";

/// Shortest password replaced wherever it appears; a shorter one is still hidden where it
/// stands in a URL or a `password=` parameter, but not in free text (it would mangle words).
const MIN_FREE_SECRET: usize = 4;

/// Hides credentials in `text`: the password of every `scheme://user:password@` URL and the
/// value of every `password=` parameter.
pub fn scrub(text: &str) -> String {
    hide_password_parameters(&hide_userinfo_passwords(text))
}

/// [`scrub`], and also the password of `url` wherever it appears, as written or decoded.
pub fn scrub_with(text: &str, url: &str) -> String {
    let mut text = scrub(text);
    for secret in secrets_of(url) {
        if secret.len() >= MIN_FREE_SECRET {
            text = text.replace(&secret, HIDDEN);
        }
    }
    text
}

/// The passwords a URL carries (in its userinfo or a `password=` parameter), as written and
/// percent-decoded.
fn secrets_of(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    if let Some((_, rest)) = url.split_once("://") {
        if let Some(userinfo) = userinfo(rest) {
            if let Some((_, password)) = userinfo.split_once(':') {
                found.push(password.to_string());
            }
        }
    }
    let lower = url.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("password=") {
        let start = from + at + "password=".len();
        let end = value_end(url, start);
        found.push(url[start..end].to_string());
        from = end;
    }
    let decoded: Vec<String> = found.iter().map(|s| percent_decode(s)).collect();
    found.extend(decoded);
    found.retain(|s| !s.is_empty());
    found
}

/// The userinfo of what follows `scheme://`, as libpq reads it: up to the first `@` that comes
/// before any `/` (or the end of the URL in the text).
fn userinfo(rest: &str) -> Option<&str> {
    let end = rest
        .find(|c: char| c == '/' || c == '@' || c.is_whitespace() || c == '"' || c == '\'')
        .unwrap_or(rest.len());
    rest[end..].starts_with('@').then(|| &rest[..end])
}

fn hide_userinfo_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        match userinfo(tail).and_then(|info| info.find(':').map(|colon| (info.len(), colon))) {
            Some((len, colon)) => {
                out.push_str(&tail[..=colon]);
                out.push_str(HIDDEN);
                rest = &tail[len..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

fn hide_password_parameters(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(at) = lower[from..].find("password=") {
        let start = from + at + "password=".len();
        out.push_str(&text[from..start]);
        out.push_str(HIDDEN);
        from = value_end(text, start);
    }
    out.push_str(&text[from..]);
    out
}

/// Where a parameter value that starts at `start` ends.
fn value_end(text: &str, start: usize) -> usize {
    text[start..]
        .find(|c: char| c == '&' || c == ';' || c == '"' || c == '\'' || c.is_whitespace())
        .map_or(text.len(), |end| start + end)
}

fn percent_decode(value: &str) -> String {
    form_urlencoded::parse(format!("x={}", value.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden_in_every_spelling() {
        let libpq = r#"end of string reached when looking for matching "]" in IPv6 host address in URI: "postgres://user:secret@[bad""#;
        let out = scrub(libpq);
        assert!(
            !out.contains("secret") && out.contains("postgres://user:***@[bad"),
            "{out}"
        );
        let out = scrub("invalid URI query parameter: \"bogus\" in postgresql://u@h/db?password=s3cret&sslmode=x");
        assert!(!out.contains("s3cret") && out.contains("password=***&sslmode"), "{out}");
        let out = scrub_with("could not connect: se/cret", "postgres://u:se%2Fcret@h/db");
        assert!(!out.contains("se/cret"), "{out}");
        let out = scrub("host=db user=u password=hunter22 dbname=x");
        assert!(!out.contains("hunter22"), "{out}");
        assert_eq!(
            scrub("no credentials in http://example.org/a@b"),
            "no credentials in http://example.org/a@b"
        );
        assert_eq!(scrub("postgres://user@host/db"), "postgres://user@host/db");
        assert_eq!(scrub("tail ://"), "tail ://");
        assert_eq!(
            scrub_with("a word", "postgres://u:a@h"),
            "a word",
            "a one-letter password is not hunted in text"
        );
    }
}
