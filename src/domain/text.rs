//! Checks shared by every free-text and identifier field.

use crate::error::FieldError;

/// Longest free text (`notes`, `description`): counts and categories belong in fields, and free
/// text is not for personal data.
pub const MAX_FREE_TEXT: usize = 2000;
/// Longest name or short label.
pub const MAX_NAME: usize = 200;

/// Requires `value` to hold something visible (not only spaces and control characters) and to
/// be at most `max` characters.
pub fn required(value: &str, max: usize, pointer: &str, errors: &mut Vec<FieldError>) {
    if !value.chars().any(|c| !c.is_whitespace() && !c.is_control()) {
        errors.push(FieldError::at(pointer, "must not be empty"));
    }
    bounded(value, max, pointer, errors);
}

/// Requires a name: [`required`] and [`line`].
pub fn name(value: &str, max: usize, pointer: &str, errors: &mut Vec<FieldError>) {
    required(value, max, pointer, errors);
    line(value, pointer, errors);
}

/// Requires `value` to be one line with no control character: a line break in a name or a place
/// could forge a line of a text the service writes (a reminder meant for mail, a log line). The
/// NUL character is left to [`bounded`], which says so precisely.
pub fn line(value: &str, pointer: &str, errors: &mut Vec<FieldError>) {
    if value
        .chars()
        .any(|c| c != '\0' && (c.is_control() || matches!(c, '\u{2028}' | '\u{2029}')))
    {
        errors.push(FieldError::at(pointer, "must be one line, without control characters"));
    }
}

/// `value` with every control character and line separator turned into a space: for a text
/// the service writes line by line from stored names that predate [`name`].
pub fn one_line(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// Requires `value` to be at most `max` characters, without the NUL character (PostgreSQL
/// cannot store it in text, and no name or note needs it: refused on both backends alike).
pub fn bounded(value: &str, max: usize, pointer: &str, errors: &mut Vec<FieldError>) {
    if value.contains('\0') {
        errors.push(FieldError::at(pointer, "must not contain the NUL character (U+0000)"));
    }
    let chars = value.chars().count();
    if chars > max {
        errors.push(FieldError::at(
            pointer,
            format!("must be at most {max} characters (got {chars})"),
        ));
    }
}

/// Whether `id` is a slug: lower-case letters and digits in words joined by single hyphens,
/// 3 to 64 characters (`liberterra-iii`).
pub fn is_slug(id: &str) -> bool {
    (3..=64).contains(&id.len())
        && id
            .split('-')
            .all(|word| !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::{bounded, is_slug, name, one_line, required};

    #[test]
    fn names_are_one_line_and_required_text_is_visible() {
        let mut errors = Vec::new();
        name("DGPN Dakar", 20, "/name", &mut errors);
        assert!(errors.is_empty());
        for bad in ["GM desk\nTo: x", "x\r\nBcc: y", "a\tb", "a\u{2028}b", "\u{7}"] {
            let mut errors = Vec::new();
            name(bad, 50, "/name", &mut errors);
            assert!(!errors.is_empty(), "{bad:?}");
        }
        let mut errors = Vec::new();
        required("\u{7}\u{1b} ", 20, "/reason", &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(one_line("a\r\nBcc: b\u{2028}c"), "a  Bcc: b c");
    }

    #[test]
    fn text_without_nul() {
        let mut errors = Vec::new();
        bounded("Mbour", 10, "/place", &mut errors);
        required("DGPN\tDakar", 20, "/name", &mut errors);
        assert!(errors.is_empty());
        bounded("a\0b", 10, "/place", &mut errors);
        required("a\0", 10, "/name", &mut errors);
        let pointers: Vec<_> = errors.iter().map(|e| e.pointer.clone()).collect();
        assert_eq!(pointers, vec![Some("/place".to_string()), Some("/name".to_string())]);
    }

    #[test]
    fn slugs() {
        assert!(is_slug("liberterra-iii"));
        assert!(is_slug("op-2025"));
        assert!(!is_slug("Liberterra"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug("-abc"));
        assert!(!is_slug("ab"));
        assert!(!is_slug("op_1"));
    }
}
